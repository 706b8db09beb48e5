/* testutil.h: small helpers shared by the cmocka unit tests.
 * Debian 12's cmocka 1.1.5 has no assert_double_equal, so assert_close compares doubles with an
 * absolute tolerance and prints both values when they differ. Include after <cmocka.h>. */
#ifndef TESTUTIL_H
#define TESTUTIL_H
#include <math.h>
#include <stdio.h>

#define assert_close(actual, expected, tol)                                                   \
    do {                                                                                      \
        double a_ = (actual), e_ = (expected), t_ = (tol);                                    \
        if (!(fabs(a_ - e_) <= t_)) {                                                         \
            print_error("%s = %.17g, expected %.17g within %.3g\n", #actual, a_, e_, t_);     \
            fail();                                                                           \
        }                                                                                     \
    } while (0)

#endif
