/*
 * A tiny test harness for the C API tests: CHECK* macros record failures of
 * the running test, RUN runs one test function and prints ok/FAIL, and
 * check_summary() prints "N passed, N failed" and gives the exit code.
 */
#ifndef PROMLITE_TEST_CHECK_H
#define PROMLITE_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "promlite.h"

static int check_failed_now;
static int check_passed, check_failed;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failed_now = 1;                                                \
        }                                                                        \
    } while (0)

/* Checks that `call` returns `want`; on a mismatch prints both codes and the
 * handle's message (`db` may be NULL). Evaluates to whether it matched. */
#define CHECK_RC(db, call, want) check_rc(__FILE__, __LINE__, #call, (db), (call), (want))

static inline int check_rc(const char *file, int line, const char *what, const promlite_db *db, int got, int want) {
    if (got == want) {
        return 1;
    }
    fprintf(stderr, "  %s:%d: %s returned %d (%s), want %d (%s)", file, line, what, got, promlite_errstr(got), want,
            promlite_errstr(want));
    if (db != NULL) {
        fprintf(stderr, ": %s", promlite_errmsg(db));
    }
    fprintf(stderr, "\n");
    check_failed_now = 1;
    return 0;
}

/* Checks that a (pointer, length) pair holds exactly the text `want`. */
#define CHECK_TEXT(ptr, len, want) check_text(__FILE__, __LINE__, (ptr), (len), (want))

static inline void check_text(const char *file, int line, const char *got, size_t len, const char *want) {
    if (got == NULL || len != strlen(want) || memcmp(got, want, len) != 0 || got[len] != '\0') {
        fprintf(stderr, "  %s:%d: got \"%.*s\" (%zu bytes), want \"%s\"\n", file, line, got ? (int)len : 0,
                got ? got : "", len, want);
        check_failed_now = 1;
    }
}

#define RUN(test)                                                  \
    do {                                                           \
        check_failed_now = 0;                                      \
        test();                                                    \
        printf("%s %s\n", check_failed_now ? "FAIL" : "ok  ", #test); \
        if (check_failed_now) {                                    \
            check_failed++;                                        \
        } else {                                                   \
            check_passed++;                                        \
        }                                                          \
        fflush(stdout);                                            \
    } while (0)

/* The directory for database files: each test binary's one argument. */
static const char *check_dir;

/* Takes main's arguments: exactly one, an empty directory. 0 if they are wrong. */
static inline int check_args(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s EMPTY_DIR\n", argv[0]);
        return 0;
    }
    check_dir = argv[1];
    return 1;
}

/* A path for a database file named `name` inside the test directory. */
static inline const char *path_in_dir(const char *name) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", check_dir, name);
    return buf;
}

/* Opens database file `name` with `flags` (see promlite_open_v2); NULL, and a
 * failed check, if it can't. */
static inline promlite_db *open_in_dir(const char *name, int flags) {
    promlite_db *db = NULL;
    if (!CHECK_RC(db, promlite_open_v2(path_in_dir(name), flags, &db), PROMLITE_OK)) {
        promlite_close(db);
        return NULL;
    }
    return db;
}

/* Opens a fresh database file `name` (removing an old one). */
static inline promlite_db *open_fresh(const char *name) {
    remove(path_in_dir(name));
    return open_in_dir(name, 0);
}

static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
