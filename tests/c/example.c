/* example.c: store a few samples in metrics.db and query them with PromQL. */
#include <stdio.h>
#include <promlite.h>

int main(void) {
    promlite_db *db;
    if (promlite_open("metrics.db", &db) != PROMLITE_OK) {
        fprintf(stderr, "open: %s\n", promlite_errmsg(db));
        promlite_close(db);
        return 1;
    }

    /* One sample at a time (timestamps are milliseconds since the epoch)... */
    promlite_append(db, "http_requests_total{job=\"api\",code=\"200\"}", 1700000000000, 41);
    /* ...or many in one commit. */
    promlite_batch *batch;
    promlite_batch_new(&batch);
    promlite_batch_add(batch, "http_requests_total{job=\"api\",code=\"500\"}", 1700000000000, 1);
    promlite_batch_add(batch, "http_requests_total{job=\"web\",code=\"200\"}", 1700000000000, 7);
    if (promlite_write(db, batch) != PROMLITE_OK) {
        fprintf(stderr, "write: %s\n", promlite_errmsg(db));
    }
    promlite_batch_free(batch);

    promlite_result *result;
    if (promlite_query(db, "sum by (job) (http_requests_total)", 1700000000000, &result) == PROMLITE_OK) {
        size_t n;
        promlite_result_series_count(result, &n);
        for (size_t i = 0; i < n; i++) {
            const char *metric;
            size_t len, count;
            const int64_t *ts;
            const double *values;
            promlite_result_metric(result, i, &metric, &len);
            promlite_result_samples(result, i, &ts, &values, &count);
            printf("%s %g\n", metric, values[0]);
        }
        promlite_result_free(result);
    } else {
        fprintf(stderr, "query: %s (at byte %lld)\n", promlite_errmsg(db), (long long)promlite_error_offset(db));
    }
    return promlite_close(db);
}
