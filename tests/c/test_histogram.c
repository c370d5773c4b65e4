/*
 * Native histograms through the C API: writing them with promlite_histogram,
 * reading query results with promlite_result_histogram, the JSON form, and
 * refused histograms. tests/c/run.sh builds and runs it like test_promlite.c.
 *
 * Usage: test_histogram DIR   (DIR: an empty directory for database files)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

/* {{schema:0 count:<count> sum:<sum> z_bucket:1 z_bucket_w:0.5 buckets:[b0 b1]}} */
static promlite_histogram exponential(double count, double sum, const double buckets[2]) {
    static const promlite_bucket_span span = {0, 2};
    promlite_histogram h = {0};
    h.schema = 0;
    h.counter_reset_hint = PROMLITE_HISTOGRAM_HINT_NOT_RESET;
    h.zero_threshold = 0.5;
    h.zero_count = 1;
    h.count = count;
    h.sum = sum;
    h.positive_spans = &span;
    h.n_positive_spans = 1;
    h.positive_buckets = buckets;
    h.n_positive_buckets = 2;
    return h;
}

static int bucket_is(const promlite_histogram_bucket *b, int rule, double lower, double upper, double count) {
    return b->boundary_rule == rule && b->lower == lower && b->upper == upper && b->count == count;
}

static void write_and_query_histograms(void) {
    promlite_db *db = open_fresh("hist.db");
    if (db == NULL) {
        return;
    }
    const double first[2] = {1, 2};
    const double second[2] = {3, 5};
    promlite_histogram h1 = exponential(4, 6.5, first);
    promlite_histogram h2 = exponential(9, 20, second);
    CHECK_RC(db, promlite_append_histogram(db, "rpc_seconds{job=\"api\"}", 1000, &h1), PROMLITE_OK);
    promlite_batch *b = NULL;
    CHECK_RC(NULL, promlite_batch_new(&b), PROMLITE_OK);
    CHECK_RC(NULL, promlite_batch_add_histogram(b, "rpc_seconds{job=\"api\"}", 61000, &h2), PROMLITE_OK);
    CHECK_RC(NULL, promlite_batch_add(b, "rpc_seconds{job=\"api\"}", 121000, 7.5), PROMLITE_OK);
    size_t len = 0;
    CHECK_RC(NULL, promlite_batch_len(b, &len), PROMLITE_OK);
    CHECK(len == 2);
    CHECK_RC(db, promlite_write(db, b), PROMLITE_OK);
    promlite_batch_free(b);

    /* An instant vector whose sample is a histogram. */
    promlite_result *res = NULL;
    if (CHECK_RC(db, promlite_query(db, "rpc_seconds", 61000, &res), PROMLITE_OK)) {
        size_t n = 9;
        const int64_t *ts = NULL;
        const double *vs = NULL;
        CHECK_RC(NULL, promlite_result_samples(res, 0, &ts, &vs, &n), PROMLITE_OK);
        CHECK(n == 0);
        CHECK_RC(NULL, promlite_result_histogram_count(res, 0, &n), PROMLITE_OK);
        CHECK(n == 1);
        int64_t t = 0;
        double count = 0, sum = 0;
        const promlite_histogram_bucket *buckets = NULL;
        if (CHECK_RC(NULL, promlite_result_histogram(res, 0, 0, &t, &count, &sum, &buckets, &n), PROMLITE_OK)) {
            CHECK(t == 61000 && count == 9 && sum == 20);
            CHECK(n == 3);
            CHECK(n == 3 && bucket_is(&buckets[0], 3, -0.5, 0.5, 1));
            CHECK(n == 3 && bucket_is(&buckets[1], 0, 0.5, 1, 3));
            CHECK(n == 3 && bucket_is(&buckets[2], 0, 1, 2, 5));
        }
        CHECK_RC(NULL, promlite_result_histogram(res, 0, 1, &t, &count, &sum, &buckets, &n), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_histogram(res, 1, 0, &t, &count, &sum, &buckets, &n), PROMLITE_RANGE);
        CHECK_RC(NULL, promlite_result_histogram(res, 0, 0, NULL, &count, &sum, &buckets, &n), PROMLITE_MISUSE);
        promlite_result_free(res);
    }
    /* promlite_select: floats and histograms of one series, each in time order. */
    if (CHECK_RC(db, promlite_select(db, "rpc_seconds", INT64_MIN, INT64_MAX, &res), PROMLITE_OK)) {
        size_t n = 0;
        const int64_t *ts = NULL;
        const double *vs = NULL;
        CHECK_RC(NULL, promlite_result_samples(res, 0, &ts, &vs, &n), PROMLITE_OK);
        CHECK(n == 1 && ts[0] == 121000 && vs[0] == 7.5);
        CHECK_RC(NULL, promlite_result_histogram_count(res, 0, &n), PROMLITE_OK);
        CHECK(n == 2);
        int64_t t = 0;
        double count = 0, sum = 0;
        const promlite_histogram_bucket *buckets = NULL;
        CHECK_RC(NULL, promlite_result_histogram(res, 0, 0, &t, &count, &sum, &buckets, &n), PROMLITE_OK);
        CHECK(t == 1000 && count == 4 && sum == 6.5 && n == 3);
        promlite_result_free(res);
    }
    /* Float results have no histogram samples. */
    if (CHECK_RC(db, promlite_query(db, "histogram_count(rpc_seconds)", 61000, &res), PROMLITE_OK)) {
        size_t n = 9;
        CHECK_RC(NULL, promlite_result_histogram_count(res, 0, &n), PROMLITE_OK);
        CHECK(n == 0);
        promlite_result_free(res);
    }
    /* The JSON form is the Prometheus API's. */
    char *json = NULL;
    if (CHECK_RC(db, promlite_query_json(db, "rpc_seconds", 61000, &json), PROMLITE_OK)) {
        const char *want = "{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"__name__\":\"rpc_seconds\",\"job\":\"api\"},"
                           "\"histogram\":[61,{\"count\":\"9\",\"sum\":\"20\",\"buckets\":[[3,\"-0.5\",\"0.5\",\"1\"],"
                           "[0,\"0.5\",\"1\",\"3\"],[0,\"1\",\"2\",\"5\"]]}]}]}";
        CHECK(json != NULL && strcmp(json, want) == 0);
        if (json != NULL && strcmp(json, want) != 0) {
            fprintf(stderr, "  got %s\n", json);
        }
        promlite_string_free(json);
    }
    promlite_close(db);
}

static void custom_buckets(void) {
    promlite_db *db = open_fresh("nhcb.db");
    if (db == NULL) {
        return;
    }
    const promlite_bucket_span span = {1, 2};
    const double buckets[2] = {1, 2};
    const double bounds[2] = {10, 100};
    promlite_histogram h = {0};
    h.schema = -53;
    h.counter_reset_hint = PROMLITE_HISTOGRAM_HINT_GAUGE;
    h.count = 3;
    h.sum = 250;
    h.positive_spans = &span;
    h.n_positive_spans = 1;
    h.positive_buckets = buckets;
    h.n_positive_buckets = 2;
    h.custom_values = bounds;
    h.n_custom_values = 2;
    CHECK_RC(db, promlite_append_histogram(db, "size_bytes", 5000, &h), PROMLITE_OK);
    promlite_result *res = NULL;
    if (CHECK_RC(db, promlite_query(db, "size_bytes", 5000, &res), PROMLITE_OK)) {
        int64_t t = 0;
        double count = 0, sum = 0;
        size_t n = 0;
        const promlite_histogram_bucket *b = NULL;
        CHECK_RC(NULL, promlite_result_histogram(res, 0, 0, &t, &count, &sum, &b, &n), PROMLITE_OK);
        CHECK(n == 2 && bucket_is(&b[0], 0, 10, 100, 1) && b[1].lower == 100 && isinf(b[1].upper) && b[1].count == 2);
        promlite_result_free(res);
    }
    promlite_close(db);
}

static void malformed_histograms_are_refused(void) {
    promlite_db *db = open_fresh("bad.db");
    if (db == NULL) {
        return;
    }
    const double three[3] = {1, 2, 3};
    promlite_histogram h = exponential(6, 1, three);
    h.n_positive_buckets = 3; /* the span holds 2 */
    CHECK_RC(db, promlite_append_histogram(db, "h", 1, &h), PROMLITE_INVALID_INPUT);
    CHECK(strstr(promlite_errmsg(db), "spans hold 2 buckets, but 3 bucket counts") != NULL);

    promlite_batch *b = NULL;
    CHECK_RC(NULL, promlite_batch_new(&b), PROMLITE_OK);
    const double negative[2] = {1, -1};
    h = exponential(6, 1, negative);
    CHECK_RC(NULL, promlite_batch_add_histogram(b, "h", 1, &h), PROMLITE_INVALID_INPUT);
    CHECK(strstr(promlite_batch_errmsg(b), "negative count -1") != NULL);
    h = exponential(6, 1, three);
    h.counter_reset_hint = 7;
    CHECK_RC(NULL, promlite_batch_add_histogram(b, "h", 1, &h), PROMLITE_INVALID_INPUT);
    h = exponential(6, 1, three);
    h.positive_buckets = NULL;
    CHECK_RC(NULL, promlite_batch_add_histogram(b, "h", 1, &h), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_batch_add_histogram(b, "h", 1, NULL), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_batch_add_histogram(b, "h{", 1, &h), PROMLITE_PARSE);
    size_t len = 9;
    CHECK_RC(NULL, promlite_batch_len(b, &len), PROMLITE_OK);
    CHECK(len == 0);
    promlite_batch_free(b);

    promlite_result *res = NULL;
    if (CHECK_RC(db, promlite_select(db, "", INT64_MIN, INT64_MAX, &res), PROMLITE_OK)) {
        size_t n = 9;
        CHECK_RC(NULL, promlite_result_series_count(res, &n), PROMLITE_OK);
        CHECK(n == 0);
        promlite_result_free(res);
    }
    promlite_close(db);
}

int main(int argc, char **argv) {
    if (!check_args(argc, argv)) {
        return 2;
    }
    RUN(write_and_query_histograms);
    RUN(custom_buckets);
    RUN(malformed_histograms_are_refused);
    return check_summary();
}
