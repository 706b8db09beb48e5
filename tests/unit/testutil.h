/* testutil.h: small helpers shared by the cmocka unit tests.
 * Debian 12's cmocka 1.1.5 has no assert_double_equal, so assert_close compares doubles with an
 * absolute tolerance and prints both values when they differ. The tests that check diagnostics
 * capture them in a struct diag (an in-memory stream) and load configs with load_or_fail.
 * Include after <cmocka.h>. */
#ifndef TESTUTIL_H
#define TESTUTIL_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#define assert_close(actual, expected, tol)                                                   \
    do {                                                                                      \
        double a_ = (actual), e_ = (expected), t_ = (tol);                                    \
        if (!(fabs(a_ - e_) <= t_)) {                                                         \
            print_error("%s = %.17g, expected %.17g within %.3g\n", #actual, a_, e_, t_);     \
            fail();                                                                           \
        }                                                                                     \
    } while (0)

/* A diagnostics stream held in memory, so that a test can compare what a module wrote. */
struct diag {
    FILE *f;    /* pass this to the code under test */
    char *text; /* what was written to f, NULL before the first flush */
    size_t len;
};

/* Opens d on an empty buffer. Returns 0, or -1 (and d->f NULL) if open_memstream fails. */
static inline int diag_open(struct diag *d)
{
    d->text = NULL;
    d->len = 0;
    d->f = open_memstream(&d->text, &d->len);
    return d->f == NULL ? -1 : 0;
}

/* Everything written to d so far ("" if nothing); the text is d's, valid until the next write. */
static inline const char *diag_text(struct diag *d)
{
    fflush(d->f);
    return d->text != NULL ? d->text : "";
}

/* Closes the stream and frees its text; close any conf that writes to it first. */
static inline void diag_close(struct diag *d)
{
    fclose(d->f);
    free(d->text);
    d->f = NULL;
    d->text = NULL;
}

/* Fails the test, printing all of d's text, unless it contains expected. */
#define assert_diag_contains(d, expected)                                                         \
    do {                                                                                          \
        const char *d_ = diag_text(d);                                                            \
        if (strstr(d_, (expected)) == NULL) {                                                     \
            print_error("diagnostics:\n%s\ndo not contain:\n%s\n", d_, (expected));               \
            fail();                                                                               \
        }                                                                                         \
    } while (0)

/* Loads text as a config file called name, diagnostics to d. Never returns NULL: if the text does
 * not load, prints the diagnostics and fails the test. Free the result with conf_free. */
static inline conf *load_or_fail(const char *text, const char *name, struct diag *d)
{
    conf *c = conf_load_string(text, name, d->f);
    if (c == NULL) {
        print_error("load failed:\n%s\n", diag_text(d));
        fail();
    }
    return c;
}

/* Fails the test, printing both texts, unless the diagnostics are exactly `expected`. */
static inline void assert_diag_is(struct diag *d, const char *expected)
{
    const char *text = diag_text(d);
    if (strcmp(text, expected) != 0) {
        print_error("diagnostics:\n%s\nexpected exactly:\n%s\n", text, expected);
        fail();
    }
}

#endif
