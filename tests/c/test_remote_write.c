/*
 * Tests of the remote-write part of the promlite C API: config setters,
 * senders delivering to a scripted receiver (a tiny HTTP server on a free
 * loopback port in a thread of this program), retries, drops, stats, names,
 * removal, last error and backfill. tests/c/run.sh builds this file against
 * libpromlite.a and libpromlite.so and runs both, also under valgrind.
 *
 * Usage: test_remote_write DIR   (DIR: an empty directory for database files)
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

/* ---- the scripted receiver ---- */

#define MAX_SCRIPT 16

typedef struct {
    int listen_fd;
    int port;
    thrd_t thread;
    mtx_t lock;
    /* Statuses for the next requests, then 204. */
    int script[MAX_SCRIPT];
    int script_len, script_pos;
    int requests;
    /* Whether every request so far carried the expected headers. */
    int headers_ok;
    const char *want_header; /* a header line every request must carry */
    volatile int stop;
} receiver;

static int has_header(const char *head, const char *line) {
    /* Header names are case-insensitive; our senders write them as given here. */
    return strstr(head, line) != NULL;
}

static void serve_connection(receiver *rx, int fd) {
    char buf[1 << 16];
    size_t have = 0;
    buf[0] = '\0';
    for (;;) {
        char *end = NULL;
        while ((end = strstr(buf, "\r\n\r\n")) == NULL) {
            ssize_t n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (n <= 0) {
                return;
            }
            have += (size_t)n;
            buf[have] = '\0';
        }
        size_t head_len = (size_t)(end - buf) + 4;
        long body_len = 0;
        for (char *p = buf; p < end; p++) {
            if (strncasecmp(p, "\r\ncontent-length:", 17) == 0) {
                body_len = strtol(p + 17, NULL, 10);
            }
        }
        mtx_lock(&rx->lock);
        int ok = has_header(buf, "Content-Encoding: snappy") && has_header(buf, "Content-Type: application/x-protobuf") &&
                 has_header(buf, "X-Prometheus-Remote-Write-Version: 0.1.0") &&
                 (rx->want_header == NULL || has_header(buf, rx->want_header));
        rx->headers_ok = rx->headers_ok && ok;
        int status = rx->script_pos < rx->script_len ? rx->script[rx->script_pos++] : 204;
        rx->requests++;
        mtx_unlock(&rx->lock);
        /* Drop the request (head and body) from the buffer, reading the rest of the body. */
        size_t need = head_len + (size_t)body_len;
        while (have < need) {
            char sink[4096];
            size_t want = need - have < sizeof sink ? need - have : sizeof sink;
            ssize_t n = recv(fd, sink, want, 0);
            if (n <= 0) {
                return;
            }
            have += (size_t)n;
        }
        size_t extra = have - need;
        memmove(buf, buf + need, extra);
        have = extra;
        buf[have] = '\0';
        /* Errors carry a body; 2xx answers (204 above all) must not. */
        const char *body = status >= 300 ? "scripted" : "";
        char reply[256];
        int len = snprintf(reply, sizeof reply, "HTTP/1.1 %d Scripted\r\nContent-Length: %zu\r\n\r\n%s", status,
                           strlen(body), body);
        if (send(fd, reply, (size_t)len, 0) != len) {
            return;
        }
    }
}

static int receiver_main(void *arg) {
    receiver *rx = arg;
    while (!rx->stop) {
        int fd = accept(rx->listen_fd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        if (!rx->stop) {
            serve_connection(rx, fd);
        }
        close(fd);
    }
    return 0;
}

static void receiver_start(receiver *rx, const int *script, int n) {
    memset(rx, 0, sizeof *rx);
    mtx_init(&rx->lock, mtx_plain);
    rx->headers_ok = 1;
    for (int i = 0; i < n && i < MAX_SCRIPT; i++) {
        rx->script[rx->script_len++] = script[i];
    }
    rx->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    CHECK(bind(rx->listen_fd, (struct sockaddr *)&addr, len) == 0);
    CHECK(listen(rx->listen_fd, 8) == 0);
    CHECK(getsockname(rx->listen_fd, (struct sockaddr *)&addr, &len) == 0);
    rx->port = ntohs(addr.sin_port);
    thrd_create(&rx->thread, receiver_main, rx);
}

/* Stops the receiver: call after closing the databases that send to it. */
static void receiver_stop(receiver *rx) {
    rx->stop = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {0};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)rx->port);
    (void)connect(fd, (struct sockaddr *)&addr, sizeof addr); /* wakes accept() */
    close(fd);
    thrd_join(rx->thread, NULL);
    close(rx->listen_fd);
    mtx_destroy(&rx->lock);
}

static int receiver_requests(receiver *rx) {
    mtx_lock(&rx->lock);
    int n = rx->requests;
    mtx_unlock(&rx->lock);
    return n;
}

static const char *receiver_url(receiver *rx) {
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v1/write", rx->port);
    return url;
}

/* ---- helpers ---- */

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls the stats of `name` until `done` holds (10 s at most); returns the last stats. */
static promlite_remote_write_stats wait_stats(promlite_db *db, const char *name,
                                              int (*done)(const promlite_remote_write_stats *)) {
    promlite_remote_write_stats s = {0};
    for (int i = 0; i < 1000; i++) {
        if (!CHECK_RC(db, promlite_remote_write_get_stats(db, name, &s), PROMLITE_OK) || done(&s)) {
            return s;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "  timed out: sent %llu, pending %llu, failed %llu\n", (unsigned long long)s.samples_sent,
            (unsigned long long)s.pending_samples, (unsigned long long)s.requests_failed);
    check_failed_now = 1;
    return s;
}

static int all_sent(const promlite_remote_write_stats *s) {
    return s->pending_samples == 0 && s->samples_sent + s->samples_dropped > 0;
}

static int one_delivered(const promlite_remote_write_stats *s) {
    return s->pending_samples == 0 && s->samples_sent == 1;
}

static promlite_remote_write_config *fast_config(const char *name, const char *url) {
    promlite_remote_write_config *c = NULL;
    CHECK_RC(NULL, promlite_remote_write_config_new(name, url, &c), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_flush_interval_ms(c, 20), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_backoff_ms(c, 5, 20), PROMLITE_OK);
    return c;
}

/* ---- tests ---- */

static void config_setters_check_their_arguments(void) {
    promlite_remote_write_config *c = NULL;
    CHECK_RC(NULL, promlite_remote_write_config_new(NULL, "http://x/w", &c), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_remote_write_config_new("n", "http://x/w", NULL), PROMLITE_MISUSE);
    CHECK(c == NULL);
    CHECK_RC(NULL, promlite_remote_write_config_new("n", "http://x/w", &c), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_bearer_token(NULL, "t"), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_remote_write_config_header(c, "X-A", NULL), PROMLITE_MISUSE);
    CHECK_RC(NULL, promlite_remote_write_config_timeout_ms(c, -1), PROMLITE_INVALID_INPUT);
    CHECK_RC(NULL, promlite_remote_write_config_keep(c, "\xff"), PROMLITE_INVALID_INPUT);
    promlite_remote_write_config_free(c);
    promlite_remote_write_config_free(NULL);
}

static void bad_settings_fail_on_add_with_a_message(void) {
    promlite_db *db = NULL;
    CHECK_RC(db, promlite_open(":memory:", &db), PROMLITE_OK);
    promlite_remote_write_config *c = fast_config("bad", "ftp://example/w");
    CHECK_RC(db, promlite_remote_write_add(db, c), PROMLITE_INVALID_INPUT);
    CHECK(strstr(promlite_errmsg(db), "must start with http") != NULL);
    promlite_remote_write_config_free(c);
    c = fast_config("bad", "http://127.0.0.1:1/w");
    CHECK_RC(NULL, promlite_remote_write_config_drop(c, "rate(x[5m])"), PROMLITE_OK);
    CHECK_RC(db, promlite_remote_write_add(db, c), PROMLITE_INVALID_INPUT);
    CHECK(strstr(promlite_errmsg(db), "drop selector") != NULL);
    CHECK_RC(db, promlite_remote_write_add(db, NULL), PROMLITE_MISUSE);
    promlite_remote_write_stats s;
    CHECK_RC(db, promlite_remote_write_get_stats(db, "nope", &s), PROMLITE_INVALID_INPUT);
    promlite_remote_write_config_free(c);
    CHECK_RC(NULL, promlite_close(db), PROMLITE_OK);
}

static void a_sender_delivers_retries_and_reports(void) {
    int script[] = {503, 500};
    receiver rx;
    receiver_start(&rx, script, 2);
    rx.want_header = "X-Scope-OrgID: team-c";
    promlite_db *db = open_in_dir("send.db", 0);
    if (db == NULL) {
        return;
    }
    promlite_remote_write_config *c = fast_config("main", receiver_url(&rx));
    CHECK_RC(NULL, promlite_remote_write_config_header(c, "X-Scope-OrgID", "team-c"), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_external_label(c, "replica", "c"), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_batch_size(c, 4), PROMLITE_OK);
    CHECK_RC(db, promlite_remote_write_add(db, c), PROMLITE_OK);
    promlite_remote_write_config_free(c); /* the database keeps its own copy */
    for (int t = 0; t < 10; t++) {
        CHECK_RC(db, promlite_append(db, "c_test_total{job=\"c\"}", t * 1000, t), PROMLITE_OK);
    }
    promlite_remote_write_stats s = wait_stats(db, "main", all_sent);
    CHECK(s.running == 1);
    CHECK(s.samples_sent == 10 && s.samples_dropped == 0);
    CHECK(s.retries == 2 && s.requests_failed == 2);
    CHECK(s.newest_sent_timestamp_ms == 9000);
    CHECK(receiver_requests(&rx) >= 5); /* batches of at most 4, plus the two failures */
    CHECK(rx.headers_ok);
    char *err = NULL;
    CHECK_RC(db, promlite_remote_write_last_error(db, "main", &err), PROMLITE_OK);
    CHECK(err != NULL && strstr(err, "HTTP 500") != NULL);
    promlite_string_free(err);

    promlite_strings *names = NULL;
    CHECK_RC(db, promlite_remote_write_names(db, &names), PROMLITE_OK);
    size_t n = 0;
    const char *name = NULL;
    size_t len = 0;
    CHECK_RC(NULL, promlite_strings_count(names, &n), PROMLITE_OK);
    CHECK(n == 1);
    CHECK_RC(NULL, promlite_strings_get(names, 0, &name, &len), PROMLITE_OK);
    CHECK_TEXT(name, len, "main");
    promlite_strings_free(names);
    CHECK_RC(NULL, promlite_close(db), PROMLITE_OK);

    /* Reopened without adding it: registered, not running, nothing pending. */
    db = open_in_dir("send.db", 0);
    CHECK_RC(db, promlite_remote_write_get_stats(db, "main", &s), PROMLITE_OK);
    CHECK(s.running == 0 && s.pending_samples == 0 && s.samples_sent == 0);
    CHECK(s.newest_sent_timestamp_ms == INT64_MIN);
    int existed = -1;
    CHECK_RC(db, promlite_remote_write_remove(db, "main", &existed), PROMLITE_OK);
    CHECK(existed == 1);
    CHECK_RC(db, promlite_remote_write_remove(db, "main", &existed), PROMLITE_OK);
    CHECK(existed == 0);
    CHECK_RC(NULL, promlite_close(db), PROMLITE_OK);
    receiver_stop(&rx);
}

static void a_refused_batch_is_dropped(void) {
    int script[] = {400};
    receiver rx;
    receiver_start(&rx, script, 1);
    promlite_db *db = NULL;
    CHECK_RC(db, promlite_open(":memory:", &db), PROMLITE_OK);
    promlite_remote_write_config *c = fast_config("strict", receiver_url(&rx));
    CHECK_RC(db, promlite_remote_write_add(db, c), PROMLITE_OK);
    CHECK_RC(db, promlite_append(db, "refused", 1, 1), PROMLITE_OK);
    promlite_remote_write_stats s = wait_stats(db, "strict", all_sent);
    CHECK(s.samples_dropped == 1 && s.requests_dropped == 1 && s.retries == 0);
    CHECK_RC(db, promlite_append(db, "accepted", 2, 2), PROMLITE_OK);
    s = wait_stats(db, "strict", one_delivered);
    CHECK(s.samples_sent == 1 && s.pending_samples == 0);
    promlite_remote_write_config_free(c);
    CHECK_RC(NULL, promlite_close(db), PROMLITE_OK);
    receiver_stop(&rx);
}

static void backfill_sends_a_range_from_a_read_only_handle(void) {
    receiver rx;
    receiver_start(&rx, NULL, 0);
    rx.want_header = "Authorization: Bearer c-token";
    promlite_db *db = open_in_dir("backfill.db", 0);
    if (db == NULL) {
        return;
    }
    for (int t = 0; t < 30; t++) {
        CHECK_RC(db, promlite_append(db, "history{job=\"a\"}", t * 1000, t), PROMLITE_OK);
        CHECK_RC(db, promlite_append(db, "history{job=\"b\"}", t * 1000, t), PROMLITE_OK);
    }
    CHECK_RC(NULL, promlite_close(db), PROMLITE_OK);
    db = open_in_dir("backfill.db", PROMLITE_OPEN_READONLY);
    promlite_remote_write_config *c = fast_config("history", receiver_url(&rx));
    CHECK_RC(NULL, promlite_remote_write_config_bearer_token(c, "c-token"), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_keep(c, "{job=\"a\"}"), PROMLITE_OK);
    CHECK_RC(NULL, promlite_remote_write_config_batch_size(c, 8), PROMLITE_OK);
    promlite_backfill_report r;
    CHECK_RC(db, promlite_remote_write_backfill(db, c, 5000, 24000, &r), PROMLITE_OK);
    CHECK(r.series == 1 && r.samples_sent == 20 && r.requests_sent == 3 && r.samples_dropped == 0);
    CHECK(receiver_requests(&rx) == 3 && rx.headers_ok);
    /* A read-only handle cannot run a durable sender. */
    CHECK_RC(db, promlite_remote_write_add(db, c), PROMLITE_INVALID_INPUT);
    CHECK(strstr(promlite_errmsg(db), "read-only") != NULL);
    promlite_remote_write_config_free(c);
    CHECK_RC(NULL, promlite_close(db), PROMLITE_OK);
    receiver_stop(&rx);
}

int main(int argc, char **argv) {
    if (!check_args(argc, argv)) {
        return 2;
    }
    RUN(config_setters_check_their_arguments);
    RUN(bad_settings_fail_on_add_with_a_message);
    RUN(a_sender_delivers_retries_and_reports);
    RUN(a_refused_batch_is_dropped);
    RUN(backfill_sends_a_range_from_a_read_only_handle);
    return check_summary();
}
