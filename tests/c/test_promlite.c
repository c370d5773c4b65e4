/*
 * Tests of the promlite C API through include/promlite.h, as a C program
 * uses it. tests/c/run.sh builds this file against libpromlite.a and
 * libpromlite.so and runs both, also under valgrind.
 *
 * Usage: test_promlite DIR   (DIR: an empty directory for database files)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "check.h"

/* Whether `text` contains `part`. */
static int contains(const char *text, const char *part) {
    return text != NULL && strstr(text, part) != NULL;
}

/* ---- no database needed ---- */

static void version_matches_header(void) {
    CHECK(strcmp(promlite_libversion(), PROMLITE_VERSION) == 0);
    CHECK(promlite_libversion_number() == PROMLITE_VERSION_NUMBER);
}

static void errstr_describes_every_code(void) {
    CHECK(strcmp(promlite_errstr(PROMLITE_OK), "not an error") == 0);
    for (int rc = PROMLITE_OK; rc <= PROMLITE_INTERNAL; rc++) {
        const char *s = promlite_errstr(rc);
        CHECK(s != NULL && strlen(s) > 0 && strcmp(s, "unknown error code") != 0);
        for (int other = PROMLITE_OK; other < rc; other++) {
            CHECK(strcmp(s, promlite_errstr(other)) != 0);
        }
    }
    CHECK(strcmp(promlite_errstr(-1), "unknown error code") == 0);
    CHECK(strcmp(promlite_errstr(PROMLITE_INTERNAL + 1), "unknown error code") == 0);
    /* Stable numbers: part of the ABI. */
    CHECK(PROMLITE_MISUSE == 1 && PROMLITE_PANIC == 2 && PROMLITE_PARSE == 4 && PROMLITE_NOT_A_DATABASE == 10);
}

static void null_arguments_are_misuse(void) {
    promlite_db *db = (promlite_db *)&db; /* a sentinel that must stay untouched */
    CHECK_RC(NULL, promlite_open(NULL, &db), PROMLITE_MISUSE);
    CHECK(db == (promlite_db *)&db);
    CHECK_RC(NULL, promlite_open(":memory:", NULL), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_open_v2(":memory:", 0x100, &db), PROMLITE_MISUSE);
    CHECK(db == (promlite_db *)&db);

    /* Every db call with a NULL handle. */
    promlite_result *res = NULL;
    promlite_strings *list = NULL;
    char *json = NULL;
    uint64_t n = 0;
    CHECK_RC(NULL, promlite_append(NULL, "up", 1, 1), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_write(NULL, NULL), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_query(NULL, "up", 1, &res), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_query_range(NULL, "up", 1, 2, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_query_json(NULL, "up", 1, &json), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_query_range_json(NULL, "up", 1, 2, 1, &json), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_series(NULL, "up", 0, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_select(NULL, "up", 0, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_label_names(NULL, "", 0, 1, &list), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_label_values(NULL, "job", "", 0, 1, &list), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_delete_series(NULL, "up", 0, 1, &n), PROMLITE_MISUSE);
    CHECK(res == NULL && list == NULL && json == NULL && n == 0);
    CHECK(contains(promlite_errmsg(NULL), "NULL"));
    CHECK(promlite_error_offset(NULL) == -1);

    /* Result and list accessors with a NULL handle. */
    size_t count = 7;
    int type = 7;
    const char *text = NULL;
    const int64_t *ts = NULL;
    const double *vs = NULL;
    CHECK_RC(NULL, promlite_result_type(NULL, &type), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_series_count(NULL, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_metric(NULL, 0, &text, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_label_count(NULL, 0, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_label(NULL, 0, 0, &text, &count, &text, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_samples(NULL, 0, &ts, &vs, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_string(NULL, &text, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_warning_count(NULL, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_warning(NULL, 0, &text, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_info_count(NULL, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_result_info(NULL, 0, &text, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_strings_count(NULL, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_strings_get(NULL, 0, &text, &count), PROMLITE_MISUSE);
    CHECK(count == 7 && type == 7 && text == NULL && ts == NULL && vs == NULL);

    /* Batch calls with a NULL handle or NULL arguments. */
    promlite_batch *b = NULL;
    CHECK_RC(NULL, promlite_batch_new(NULL), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_batch_add(NULL, "up", 1, 1), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_batch_add_labels(NULL, NULL, 0, 1, 1), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_batch_len(NULL, &count), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_batch_clear(NULL), PROMLITE_MISUSE);
    CHECK(contains(promlite_batch_errmsg(NULL), "NULL"));
    CHECK(promlite_batch_error_offset(NULL) == -1);
    if (CHECK_RC(NULL, promlite_batch_new(&b), PROMLITE_OK)) {
        promlite_label no_value[] = {{"__name__", NULL}};
        CHECK_RC(NULL, promlite_batch_add(b, NULL, 1, 1), PROMLITE_MISUSE);
        CHECK(contains(promlite_batch_errmsg(b), "series"));
        CHECK_RC(NULL, promlite_batch_add_labels(b, NULL, 1, 1, 1), PROMLITE_MISUSE);
        CHECK_RC(NULL, promlite_batch_add_labels(b, no_value, 1, 1, 1), PROMLITE_MISUSE);
        CHECK(contains(promlite_batch_errmsg(b), "labels[0].value"));
        CHECK_RC(NULL, promlite_batch_len(b, NULL), PROMLITE_MISUSE);
        CHECK_RC(NULL, promlite_batch_len(b, &count), PROMLITE_OK);
        CHECK(count == 0);
    }

    /* Destructors accept NULL. */
    CHECK(promlite_close(NULL) == PROMLITE_OK);
    promlite_batch_free(b);
    promlite_batch_free(NULL);
    promlite_result_free(NULL);
    promlite_strings_free(NULL);
    promlite_string_free(NULL);
}

static void batch_collects_samples_and_reports_errors(void) {
    promlite_batch *b = NULL;
    if (!CHECK_RC(NULL, promlite_batch_new(&b), PROMLITE_OK)) {
        return;
    }
    size_t len = 99;
    CHECK_RC(NULL, promlite_batch_len(b, &len), PROMLITE_OK);
    CHECK(len == 0);
    CHECK_RC(NULL, promlite_batch_add(b, "http_requests_total{job=\"api\",code=\"200\"}", 1000, 1), PROMLITE_OK);
    CHECK(strcmp(promlite_batch_errmsg(b), "not an error") == 0);

    /* A parse error names its byte offset; the batch is unchanged. */
    CHECK_RC(NULL, promlite_batch_add(b, "up{job=\"a\"} 1", 1000, 1), PROMLITE_PARSE);
    CHECK(promlite_batch_error_offset(b) == 12);
    CHECK(contains(promlite_batch_errmsg(b), "1:13: parse error"));
    /* Only = matchers make a series. */
    CHECK_RC(NULL, promlite_batch_add(b, "up{job=~\"a.*\"}", 1000, 1), PROMLITE_PARSE);
    /* A series needs a metric name. */
    CHECK_RC(NULL, promlite_batch_add(b, "{job=\"a\"}", 1000, 1), PROMLITE_INVALID_INPUT);
    CHECK(contains(promlite_batch_errmsg(b), "no metric name"));
    CHECK(promlite_batch_error_offset(b) == -1);
    /* Text must be UTF-8. */
    CHECK_RC(NULL, promlite_batch_add(b, "up{job=\"\xff\"}", 1000, 1), PROMLITE_INVALID_INPUT);
    CHECK(contains(promlite_batch_errmsg(b), "UTF-8"));

    promlite_label labels[] = {{"__name__", "temperature"}, {"room.name", "kitchen \"north\""}, {"unit", ""}};
    CHECK_RC(NULL, promlite_batch_add_labels(b, labels, 3, 2000, 21.5), PROMLITE_OK);
    CHECK_RC(NULL, promlite_batch_add_labels(b, labels + 1, 1, 2000, 1), PROMLITE_INVALID_INPUT);
    CHECK_RC(NULL, promlite_batch_len(b, &len), PROMLITE_OK);
    CHECK(len == 2);

    CHECK_RC(NULL, promlite_batch_clear(b), PROMLITE_OK);
    CHECK_RC(NULL, promlite_batch_len(b, &len), PROMLITE_OK);
    CHECK(len == 0);
    promlite_batch_free(b);
}

/* ---- opening ---- */

static void open_bad_path_returns_a_handle_with_the_error(void) {
    promlite_db *db = NULL;
    int rc = promlite_open(path_in_dir("no/such/dir/x.db"), &db);
    CHECK(rc != PROMLITE_OK && rc != PROMLITE_MISUSE && rc != PROMLITE_PANIC);
    CHECK(db != NULL);
    const char *msg = promlite_errmsg(db);
    CHECK(msg != NULL && strlen(msg) > 0 && strcmp(msg, "not an error") != 0);
    /* The failed handle refuses work but can still be closed. */
    CHECK_RC(db, promlite_append(db, "up", 1, 1), PROMLITE_MISUSE);
    CHECK(contains(promlite_errmsg(db), "failed to open"));
    CHECK(promlite_close(db) == PROMLITE_OK);
}

static void open_foreign_file_is_not_a_database_and_leaves_it_alone(void) {
    const char *path = path_in_dir("notes.txt");
    const char content[] = "these are my notes, not a database\n";
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        CHECK(!"cannot create the test file");
        return;
    }
    for (int i = 0; i < 64; i++) {
        fputs(content, f);
    }
    fclose(f);

    promlite_db *db = NULL;
    CHECK_RC(db, promlite_open(path, &db), PROMLITE_NOT_A_DATABASE);
    CHECK(contains(promlite_errmsg(db), "not a promlite database"));
    promlite_close(db);

    /* The file is byte-for-byte what it was. */
    char buf[sizeof content];
    f = fopen(path, "rb");
    long size = -1;
    if (f != NULL) {
        CHECK(fread(buf, 1, sizeof content - 1, f) == sizeof content - 1);
        buf[sizeof content - 1] = '\0';
        CHECK(strcmp(buf, content) == 0);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
    }
    CHECK(size == (long)(64 * (sizeof content - 1)));
}

static void open_flags(void) {
    promlite_db *db = NULL;
    CHECK_RC(db, promlite_open_v2(":memory:", PROMLITE_OPEN_READONLY, &db), PROMLITE_INVALID_INPUT);
    promlite_close(db);

    /* Create a file, then open it read-only: reads work, writes fail and change nothing. */
    db = open_fresh("readonly.db");
    if (db == NULL) {
        return;
    }
    CHECK_RC(db, promlite_append(db, "up{job=\"a\"}", 1000, 1), PROMLITE_OK);
    /* One writing handle per file: a second one is refused (share the first between threads). */
    promlite_db *second = NULL;
    CHECK_RC(second, promlite_open(path_in_dir("readonly.db"), &second), PROMLITE_INVALID_INPUT);
    CHECK(second != NULL && strcmp(promlite_errmsg(second), "not an error") != 0);
    promlite_close(second);
    CHECK_RC(db, promlite_close(db), PROMLITE_OK);
    db = NULL;
    if (!CHECK_RC(db, promlite_open_v2(path_in_dir("readonly.db"), PROMLITE_OPEN_READONLY, &db), PROMLITE_OK)) {
        promlite_close(db);
        return;
    }
    CHECK(promlite_append(db, "up{job=\"b\"}", 2000, 1) != PROMLITE_OK);
    promlite_strings *values = NULL;
    if (CHECK_RC(db, promlite_label_values(db, "job", "", INT64_MIN, INT64_MAX, &values), PROMLITE_OK)) {
        size_t n = 0;
        CHECK_RC(NULL, promlite_strings_count(values, &n), PROMLITE_OK);
        CHECK(n == 1);
        promlite_strings_free(values);
    }
    promlite_close(db);
}

/* ---- writing and reading ---- */

static void null_arguments_with_an_open_db_are_misuse(void) {
    promlite_db *db = open_fresh("nulls.db");
    if (db == NULL) {
        return;
    }
    promlite_result *res = NULL;
    promlite_strings *list = NULL;
    char *json = NULL;
    uint64_t n = 0;
    CHECK_RC(db, promlite_append(db, NULL, 1, 1), PROMLITE_MISUSE);
    CHECK(contains(promlite_errmsg(db), "`series` is NULL"));
    CHECK_RC(db, promlite_write(db, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query(db, NULL, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query(db, "up", 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query_range(db, NULL, 1, 2, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query_range(db, "up", 1, 2, 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query_json(db, NULL, 1, &json), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query_json(db, "up", 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_query_range_json(db, "up", 1, 2, 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_series(db, NULL, 0, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_series(db, "up", 0, 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_select(db, NULL, 0, 1, &res), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_select(db, "up", 0, 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_label_names(db, NULL, 0, 1, &list), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_label_names(db, "", 0, 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_label_values(db, NULL, "", 0, 1, &list), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_label_values(db, "job", NULL, 0, 1, &list), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_delete_series(db, NULL, 0, 1, &n), PROMLITE_MISUSE);
    CHECK_RC(db, promlite_delete_series(db, "up", 0, 1, NULL), PROMLITE_MISUSE);
    CHECK(res == NULL && list == NULL && json == NULL && n == 0);
    /* A success clears the error. */
    CHECK_RC(db, promlite_append(db, "up", 1, 1), PROMLITE_OK);
    CHECK(strcmp(promlite_errmsg(db), "not an error") == 0);
    CHECK(promlite_error_offset(db) == -1);
    promlite_close(db);
}

/* Checks that `res` is a vector/matrix with one series `want_metric` holding `n` samples. */
static void check_one_series(const promlite_result *res, int want_type, const char *want_metric, size_t n,
                             const int64_t *want_ts, const double *want_vs) {
    int type = 0;
    size_t count = 0, len = 0;
    const char *text = NULL;
    const int64_t *ts = NULL;
    const double *vs = NULL;
    CHECK_RC(NULL, promlite_result_type(res, &type), PROMLITE_OK);
    CHECK(type == want_type);
    CHECK_RC(NULL, promlite_result_series_count(res, &count), PROMLITE_OK);
    CHECK(count == 1);
    if (count != 1) {
        return;
    }
    CHECK_RC(NULL, promlite_result_metric(res, 0, &text, &len), PROMLITE_OK);
    CHECK_TEXT(text, len, want_metric);
    CHECK_RC(NULL, promlite_result_samples(res, 0, &ts, &vs, &count), PROMLITE_OK);
    CHECK(count == n);
    for (size_t i = 0; i < n && i < count; i++) {
        CHECK(ts[i] == want_ts[i]);
        CHECK(vs[i] == want_vs[i] || (isnan(vs[i]) && isnan(want_vs[i])));
    }
}

static void append_reopen_and_read(void) {
    promlite_db *db = open_fresh("append.db");
    if (db == NULL) {
        return;
    }
    CHECK_RC(db, promlite_append(db, "up{job=\"api\",instance=\"a:80\"}", 1000, 1), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "up{job=\"api\",instance=\"a:80\"}", 2000, 0), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "up{job=\"api\" 1", 2000, 0), PROMLITE_PARSE);
    CHECK(promlite_error_offset(db) >= 0);
    CHECK_RC(db, promlite_append(db, "{job=\"api\"}", 2000, 0), PROMLITE_INVALID_INPUT);
    CHECK_RC(db, promlite_close(db), PROMLITE_OK);

    /* The samples are in the file: reopen and read them. */
    db = NULL;
    if (!CHECK_RC(db, promlite_open(path_in_dir("append.db"), &db), PROMLITE_OK)) {
        promlite_close(db);
        return;
    }
    promlite_result *res = NULL;
    if (CHECK_RC(db, promlite_select(db, "up", INT64_MIN, INT64_MAX, &res), PROMLITE_OK)) {
        int64_t ts[] = {1000, 2000};
        double vs[] = {1, 0};
        check_one_series(res, PROMLITE_RESULT_MATRIX, "up{instance=\"a:80\", job=\"api\"}", 2, ts, vs);

        /* Labels one by one, sorted by name. */
        size_t count = 0, nlen = 0, vlen = 0;
        const char *name = NULL, *value = NULL;
        CHECK_RC(NULL, promlite_result_label_count(res, 0, &count), PROMLITE_OK);
        CHECK(count == 3);
        CHECK_RC(NULL, promlite_result_label(res, 0, 0, &name, &nlen, &value, &vlen), PROMLITE_OK);
        CHECK_TEXT(name, nlen, "__name__");
        CHECK_TEXT(value, vlen, "up");
        CHECK_RC(NULL, promlite_result_label(res, 0, 2, &name, &nlen, &value, &vlen), PROMLITE_OK);
        CHECK_TEXT(name, nlen, "job");
        CHECK_TEXT(value, vlen, "api");
        CHECK_RC(NULL, promlite_result_warning_count(res, &count), PROMLITE_OK);
        CHECK(count == 0);

        /* Indexes past the end are PROMLITE_RANGE and leave outputs alone. */
        name = NULL;
        CHECK_RC(NULL, promlite_result_label(res, 0, 3, &name, &nlen, &value, &vlen), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_label(res, 1, 0, &name, &nlen, &value, &vlen), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_metric(res, 1, &name, &nlen), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_warning(res, 0, &name, &nlen), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_info(res, 0, &name, &nlen), PROMLITE_RANGE);
        const int64_t *ts_out = NULL;
        const double *vs_out = NULL;
        CHECK_RC(NULL, promlite_result_samples(res, 1, &ts_out, &vs_out, &count), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_string(res, &name, &nlen), PROMLITE_MISUSE);
        CHECK(name == NULL && ts_out == NULL);
        promlite_result_free(res);
    }
    /* An instant query sees the latest sample within the lookback window. */
    if (CHECK_RC(db, promlite_query(db, "up", 2500, &res), PROMLITE_OK)) {
        int64_t ts[] = {2500};
        double vs[] = {0};
        check_one_series(res, PROMLITE_RESULT_VECTOR, "up{instance=\"a:80\", job=\"api\"}", 1, ts, vs);
        promlite_result_free(res);
    }
    promlite_close(db);
}

static void batch_write_commits_every_sample(void) {
    promlite_db *db = open_fresh("batch.db");
    promlite_batch *b = NULL;
    if (db == NULL || !CHECK_RC(NULL, promlite_batch_new(&b), PROMLITE_OK)) {
        promlite_close(db);
        return;
    }
    for (int i = 0; i < 100; i++) {
        CHECK_RC(NULL, promlite_batch_add(b, "requests_total{job=\"api\"}", 1000 * i, i), PROMLITE_OK);
        promlite_label labels[] = {{"__name__", "requests_total"}, {"job", "web"}};
        CHECK_RC(NULL, promlite_batch_add_labels(b, labels, 2, 1000 * i, 2 * i), PROMLITE_OK);
    }
    CHECK_RC(db, promlite_write(db, b), PROMLITE_OK);
    size_t len = 0;
    CHECK_RC(NULL, promlite_batch_len(b, &len), PROMLITE_OK);
    CHECK(len == 200);
    promlite_batch_free(b);

    promlite_result *res = NULL;
    if (CHECK_RC(db, promlite_select(db, "requests_total{job=\"web\"}", 97000, 99000, &res), PROMLITE_OK)) {
        int64_t ts[] = {97000, 98000, 99000};
        double vs[] = {194, 196, 198};
        check_one_series(res, PROMLITE_RESULT_MATRIX, "requests_total{job=\"web\"}", 3, ts, vs);
        promlite_result_free(res);
    }
    if (CHECK_RC(db, promlite_query_range(db, "requests_total{job=\"web\"}", 97000, 99000, 1000, &res), PROMLITE_OK)) {
        int64_t ts[] = {97000, 98000, 99000};
        double vs[] = {194, 196, 198};
        check_one_series(res, PROMLITE_RESULT_MATRIX, "requests_total{job=\"web\"}", 3, ts, vs);
        promlite_result_free(res);
    }
    char *json = NULL;
    if (CHECK_RC(db, promlite_query_json(db, "sum(requests_total)", 99000, &json), PROMLITE_OK)) {
        CHECK(json != NULL && strcmp(json, "{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[99,\"297\"]}]}") == 0);
        promlite_string_free(json);
    }
    promlite_close(db);
}

static void queries_of_every_type(void) {
    promlite_db *db = open_fresh("types.db");
    if (db == NULL) {
        return;
    }
    CHECK_RC(db, promlite_append(db, "temp{room=\"a\"}", 1000, 20.5), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "temp{room=\"a\"}", 61000, NAN), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "temp{room=\"b\"}", 61000, INFINITY), PROMLITE_OK);

    promlite_result *res = NULL;
    /* NaN and +Inf are stored as they are. */
    if (CHECK_RC(db, promlite_select(db, "temp", INT64_MIN, INT64_MAX, &res), PROMLITE_OK)) {
        size_t n = 0;
        const int64_t *ts = NULL;
        const double *vs = NULL;
        CHECK_RC(NULL, promlite_result_series_count(res, &n), PROMLITE_OK);
        CHECK(n == 2);
        CHECK_RC(NULL, promlite_result_samples(res, 0, &ts, &vs, &n), PROMLITE_OK);
        CHECK(n == 2 && vs[0] == 20.5 && isnan(vs[1]));
        CHECK_RC(NULL, promlite_result_samples(res, 1, &ts, &vs, &n), PROMLITE_OK);
        CHECK(n == 1 && ts[0] == 61000 && isinf(vs[0]) && vs[0] > 0);
        promlite_result_free(res);
    }
    /* Scalar: one series without labels. */
    if (CHECK_RC(db, promlite_query(db, "1 + 2", 5000, &res), PROMLITE_OK)) {
        int64_t ts[] = {5000};
        double vs[] = {3};
        check_one_series(res, PROMLITE_RESULT_SCALAR, "{}", 1, ts, vs);
        size_t n = 9;
        CHECK_RC(NULL, promlite_result_label_count(res, 0, &n), PROMLITE_OK);
        CHECK(n == 0);
        promlite_result_free(res);
    }
    /* String. */
    if (CHECK_RC(db, promlite_query(db, "\"hello\"", 5000, &res), PROMLITE_OK)) {
        int type = 0;
        size_t n = 9, len = 0;
        const char *text = NULL;
        CHECK_RC(NULL, promlite_result_type(res, &type), PROMLITE_OK);
        CHECK(type == PROMLITE_RESULT_STRING);
        CHECK_RC(NULL, promlite_result_series_count(res, &n), PROMLITE_OK);
        CHECK(n == 0);
        CHECK_RC(NULL, promlite_result_string(res, &text, &len), PROMLITE_OK);
        CHECK_TEXT(text, len, "hello");
        promlite_result_free(res);
    }
    /* Range vector from an instant query; NaN and +Inf come back unchanged. */
    if (CHECK_RC(db, promlite_query(db, "temp{room=\"a\"}[2m]", 61000, &res), PROMLITE_OK)) {
        int64_t ts[] = {1000, 61000};
        double vs[] = {20.5, NAN};
        check_one_series(res, PROMLITE_RESULT_MATRIX, "temp{room=\"a\"}", 2, ts, vs);
        promlite_result_free(res);
    }
    char *json = NULL;
    if (CHECK_RC(db, promlite_query_json(db, "temp{room=\"b\"}", 61000, &json), PROMLITE_OK)) {
        CHECK(json != NULL &&
              strcmp(json, "{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"temp\",\"room\":\"b\"},"
                           "\"value\":[61,\"+Inf\"]}]}") == 0);
        promlite_string_free(json);
    }
    if (CHECK_RC(db, promlite_query_range_json(db, "temp{room=\"a\"}", 1000, 1000, 1000, &json), PROMLITE_OK)) {
        CHECK(json != NULL && strcmp(json, "{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"temp\","
                                           "\"room\":\"a\"},\"values\":[[1,\"20.5\"]]}]}") == 0);
        promlite_string_free(json);
    }
    promlite_close(db);
}

static void query_errors_carry_position_and_kind(void) {
    promlite_db *db = open_fresh("errors.db");
    if (db == NULL) {
        return;
    }
    promlite_result *res = (promlite_result *)&db; /* sentinel: untouched on failure */
    char *json = (char *)&db;
    CHECK_RC(db, promlite_query(db, "sum(rate(x[5m])", 1000, &res), PROMLITE_PARSE);
    CHECK(promlite_error_offset(db) == 15);
    CHECK(contains(promlite_errmsg(db), "1:16: parse error"));
    CHECK_RC(db, promlite_query_json(db, "1 +* 2", 1000, &json), PROMLITE_PARSE);
    CHECK(promlite_error_offset(db) == 3);
    CHECK_RC(db, promlite_query_range(db, "up", 2000, 1000, 1000, &res), PROMLITE_INVALID_INPUT);
    CHECK_RC(db, promlite_query_range(db, "up", 1000, 2000, 0, &res), PROMLITE_INVALID_INPUT);
    CHECK(promlite_error_offset(db) == -1);
    CHECK_RC(db, promlite_query(db, "up{job=\"\xc3\x28\"}", 1000, &res), PROMLITE_INVALID_INPUT);
    CHECK(res == (promlite_result *)&db && json == (char *)&db);
    promlite_close(db);
}

static void series_and_label_listings(void) {
    promlite_db *db = open_fresh("labels.db");
    if (db == NULL) {
        return;
    }
    CHECK_RC(db, promlite_append(db, "up{job=\"api\",zone=\"eu\"}", 1000, 1), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "up{job=\"web\"}", 1000, 1), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "errors_total{job=\"web\"}", 5000, 3), PROMLITE_OK);

    promlite_strings *list = NULL;
    size_t n = 0, len = 0;
    const char *text = NULL;
    if (CHECK_RC(db, promlite_label_names(db, "", INT64_MIN, INT64_MAX, &list), PROMLITE_OK)) {
        const char *want[] = {"__name__", "job", "zone"};
        CHECK_RC(NULL, promlite_strings_count(list, &n), PROMLITE_OK);
        CHECK(n == 3);
        for (size_t i = 0; i < 3 && i < n; i++) {
            CHECK_RC(NULL, promlite_strings_get(list, i, &text, &len), PROMLITE_OK);
            CHECK_TEXT(text, len, want[i]);
        }
        CHECK_RC(NULL, promlite_strings_get(list, n, &text, &len), PROMLITE_RANGE);
        promlite_strings_free(list);
    }
    if (CHECK_RC(db, promlite_label_values(db, "job", "up", INT64_MIN, INT64_MAX, &list), PROMLITE_OK)) {
        CHECK_RC(NULL, promlite_strings_count(list, &n), PROMLITE_OK);
        CHECK(n == 2);
        CHECK_RC(NULL, promlite_strings_get(list, 1, &text, &len), PROMLITE_OK);
        CHECK_TEXT(text, len, "web");
        promlite_strings_free(list);
    }
    /* The time range restricts the listing. */
    if (CHECK_RC(db, promlite_label_values(db, "__name__", "", 4000, 6000, &list), PROMLITE_OK)) {
        CHECK_RC(NULL, promlite_strings_count(list, &n), PROMLITE_OK);
        CHECK(n == 1);
        promlite_strings_free(list);
    }
    promlite_result *res = NULL;
    if (CHECK_RC(db, promlite_series(db, "{job=~\"w.*\"}", INT64_MIN, INT64_MAX, &res), PROMLITE_OK)) {
        int type = 0;
        CHECK_RC(NULL, promlite_result_type(res, &type), PROMLITE_OK);
        CHECK(type == PROMLITE_RESULT_SERIES);
        CHECK_RC(NULL, promlite_result_series_count(res, &n), PROMLITE_OK);
        CHECK(n == 2);
        const int64_t *ts = NULL;
        const double *vs = NULL;
        CHECK_RC(NULL, promlite_result_samples(res, 0, &ts, &vs, &n), PROMLITE_OK);
        CHECK(n == 0);
        promlite_result_free(res);
    }
    /* Selectors must be plain selectors. */
    CHECK_RC(db, promlite_series(db, "rate(up[5m])", INT64_MIN, INT64_MAX, &res), PROMLITE_PARSE);
    CHECK_RC(db, promlite_label_names(db, "up{", INT64_MIN, INT64_MAX, &list), PROMLITE_PARSE);
    CHECK(promlite_error_offset(db) >= 0);

    /* Deletion. */
    uint64_t touched = 0;
    CHECK_RC(db, promlite_delete_series(db, "", INT64_MIN, INT64_MAX, &touched), PROMLITE_INVALID_INPUT);
    CHECK_RC(db, promlite_delete_series(db, "up{job=\"web\"}", INT64_MIN, INT64_MAX, &touched), PROMLITE_OK);
    CHECK(touched == 1);
    if (CHECK_RC(db, promlite_series(db, "up", INT64_MIN, INT64_MAX, &res), PROMLITE_OK)) {
        const char *metric = NULL;
        CHECK_RC(NULL, promlite_result_series_count(res, &n), PROMLITE_OK);
        CHECK(n == 1);
        CHECK_RC(NULL, promlite_result_metric(res, 0, &metric, &len), PROMLITE_OK);
        CHECK_TEXT(metric, len, "up{job=\"api\", zone=\"eu\"}");
        promlite_result_free(res);
    }
    promlite_close(db);
}

/* ---- threads ---- */

struct worker {
    promlite_db *db;
    int bad;         /* this worker's calls fail */
    char series[64]; /* each good worker appends to its own series, in time order */
    int mismatches;
};

/* Many threads share one handle; each must read the error of its own last call. */
static int worker_main(void *arg) {
    struct worker *w = arg;
    for (int i = 0; i < 50; i++) {
        if (w->bad) {
            int rc = promlite_append(w->db, "up{job=", i, 1);
            w->mismatches += rc != PROMLITE_PARSE || !contains(promlite_errmsg(w->db), "parse error") ||
                             promlite_error_offset(w->db) != 7;
        } else {
            int rc = promlite_append(w->db, w->series, i, 1);
            w->mismatches += rc != PROMLITE_OK || strcmp(promlite_errmsg(w->db), "not an error") != 0;
        }
    }
    return 0;
}

static void threads_share_a_handle_with_their_own_errors(void) {
    promlite_db *db = open_fresh("threads.db");
    if (db == NULL) {
        return;
    }
    struct worker workers[4];
    thrd_t threads[4];
    for (int i = 0; i < 4; i++) {
        workers[i] = (struct worker){.db = db, .bad = i % 2};
        snprintf(workers[i].series, sizeof workers[i].series, "up{job=\"ok\",worker=\"%d\"}", i);
        CHECK(thrd_create(&threads[i], worker_main, &workers[i]) == thrd_success);
    }
    for (int i = 0; i < 4; i++) {
        thrd_join(threads[i], NULL);
        CHECK(workers[i].mismatches == 0);
    }
    promlite_close(db);
}

int main(int argc, char **argv) {
    if (!check_args(argc, argv)) {
        return 2;
    }
    RUN(version_matches_header);
    RUN(errstr_describes_every_code);
    RUN(null_arguments_are_misuse);
    RUN(batch_collects_samples_and_reports_errors);
    RUN(open_bad_path_returns_a_handle_with_the_error);
    RUN(open_foreign_file_is_not_a_database_and_leaves_it_alone);
    RUN(open_flags);
    RUN(null_arguments_with_an_open_db_are_misuse);
    RUN(append_reopen_and_read);
    RUN(batch_write_commits_every_sample);
    RUN(queries_of_every_type);
    RUN(query_errors_carry_position_and_kind);
    RUN(series_and_label_listings);
    RUN(threads_share_a_handle_with_their_own_errors);
    return check_summary();
}
