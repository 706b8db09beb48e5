/* test_stats.c: unit tests of sim/stats (accumulators, time-weighted means, histogram, t intervals).
 *
 * Reference values come from first principles in the test itself: a two-pass variance on values whose
 * large offset is removed exactly, order statistics by sorting, hand-computed step integrals, and a
 * published Student-t quantile. Random inputs use GSL's mt19937 with fixed seeds, so every run sees the
 * same numbers. Invalid-input aborts are checked in a forked child.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "stats.h"

/* The histogram's proven bound (stats.h), with room for the rounding of the check itself. */
#define REL_BOUND (1.0 / 128.0 * (1.0 + 1e-12))

static const double report_levels[] = {0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0};
#define N_REPORT_LEVELS (sizeof report_levels / sizeof report_levels[0])

static gsl_rng *seeded_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    assert_non_null(r);
    gsl_rng_set(r, seed);
    return r;
}

/* True when fn() ends the process with SIGABRT. The child's stderr goes to /dev/null to keep the
 * test output readable. */
static int aborts(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDERR_FILENO);
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

/* ---------------------------------------------------------------------------------------------- */
/* stats_acc */

static void test_welford_matches_two_pass_with_large_offset(void **state)
{
    (void)state;
    enum { N = 100000 };
    const double offset = 1e9;
    gsl_rng *r = seeded_rng(11);
    double *x = malloc(N * sizeof *x);
    assert_non_null(x);
    struct stats_acc a = {0};
    for (size_t i = 0; i < N; i++) {
        x[i] = offset + gsl_ran_gaussian(r, 1.0);
        stats_acc_add(&a, x[i]);
    }

    /* x[i] and the offset are within a factor of two, so x[i] - offset is exact (Sterbenz): the
     * reference works on small numbers and loses nothing to the offset. */
    double dsum = 0.0, lo = x[0], hi = x[0];
    for (size_t i = 0; i < N; i++) {
        dsum += x[i] - offset;
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    double dmean = dsum / N, ss = 0.0;
    for (size_t i = 0; i < N; i++)
        ss += (x[i] - offset - dmean) * (x[i] - offset - dmean);
    double var = ss / (N - 1);

    assert_int_equal(a.n, N);
    /* Each update rounds the running mean to half an ulp of 1e9 (6e-8); over 1e5 updates those
     * roundings random-walk to about 1e-5, a relative 1e-14. 1e-4 is far beyond that walk yet far
     * below the noise (1). */
    assert_close(stats_acc_mean(&a), offset + dmean, 1e-4);
    /* The naive sum-of-squares formula would be off by orders of magnitude here; Welford keeps
     * about ten digits. */
    assert_close(stats_acc_var(&a), var, 1e-6 * var);
    assert_close(stats_acc_sd(&a), sqrt(var), 1e-6 * sqrt(var));
    assert_close(stats_acc_min(&a), lo, 0.0);
    assert_close(stats_acc_max(&a), hi, 0.0);
    /* The plain sum near 1e14 rounds to an ulp of 1/64 at each add: a random walk of about 1. */
    assert_close(a.sum, N * offset + dsum, 20.0);
    free(x);
    gsl_rng_free(r);
}

static void test_acc_merge_of_halves_matches_single_pass(void **state)
{
    (void)state;
    enum { N = 100000 };
    gsl_rng *r = seeded_rng(12);
    struct stats_acc whole = {0}, first = {0}, second = {0};
    for (size_t i = 0; i < N; i++) {
        /* Unequal parts with different distributions, so the merge has to weight the means and
         * account for the shift between them. */
        int in_first = i < 3 * N / 10;
        double x = in_first ? 1e6 + gsl_ran_gaussian(r, 3.0) : 1e6 + 50.0 + gsl_ran_exponential(r, 2.0);
        stats_acc_add(&whole, x);
        stats_acc_add(in_first ? &first : &second, x);
    }
    stats_acc_merge(&first, &second);
    assert_int_equal(first.n, whole.n);
    /* Both sides carry their own rounding (a random walk of about 1e-8 at 1e6; the sum's, near
     * 1e11, of about 1e-3). */
    assert_close(stats_acc_mean(&first), stats_acc_mean(&whole), 1e-6);
    assert_close(stats_acc_var(&first), stats_acc_var(&whole), 1e-9 * stats_acc_var(&whole));
    assert_close(first.min, whole.min, 0.0);
    assert_close(first.max, whole.max, 0.0);
    assert_close(first.sum, whole.sum, 1e-13 * whole.sum);
    gsl_rng_free(r);
}

static void test_acc_merge_with_an_empty_side_keeps_the_other(void **state)
{
    (void)state;
    struct stats_acc full = {0}, empty = {0}, target = {0};
    const double xs[] = {4.0, 7.0, 13.0};
    for (size_t i = 0; i < 3; i++)
        stats_acc_add(&full, xs[i]);

    stats_acc_merge(&target, &full);
    assert_int_equal(target.n, 3);
    assert_close(stats_acc_mean(&target), 8.0, 0.0);
    assert_close(stats_acc_var(&target), 21.0, 1e-12);
    assert_close(stats_acc_min(&target), 4.0, 0.0);

    stats_acc_merge(&full, &empty);
    assert_int_equal(full.n, 3);
    assert_close(stats_acc_var(&full), 21.0, 1e-12);
    assert_close(stats_acc_max(&full), 13.0, 0.0);
}

static void test_zero_initialised_acc_is_empty_and_tracks_negative_extremes(void **state)
{
    (void)state;
    struct stats_acc a = {0};
    assert_true(isnan(stats_acc_mean(&a)));
    assert_true(isnan(stats_acc_var(&a)));
    assert_true(isnan(stats_acc_min(&a)));
    assert_true(isnan(stats_acc_max(&a)));

    stats_acc_add(&a, -5.0);
    assert_close(stats_acc_mean(&a), -5.0, 0.0);
    assert_true(isnan(stats_acc_var(&a)));
    stats_acc_add(&a, -2.0);
    /* The zero-initialised max (0) must not survive the first observation. */
    assert_close(stats_acc_max(&a), -2.0, 0.0);
    assert_close(stats_acc_min(&a), -5.0, 0.0);
    assert_close(stats_acc_var(&a), 4.5, 1e-15);
    assert_close(a.sum, -7.0, 0.0);
}

static void add_nan_to_acc(void)
{
    struct stats_acc a = {0};
    stats_acc_add(&a, NAN);
}

static void test_acc_nan_observation_aborts(void **state)
{
    (void)state;
    assert_true(aborts(add_nan_to_acc));
}

/* ---------------------------------------------------------------------------------------------- */
/* stats_tw */

static void test_tw_mean_of_step_signal_is_exact(void **state)
{
    (void)state;
    struct stats_tw tw;
    /* 0 on [0, 2), 3 on [2, 5), 1 from 5 on: integral to 10 is 0 + 9 + 5 = 14. */
    stats_tw_init(&tw, 0.0, 0.0);
    stats_tw_set(&tw, 2.0, 3.0);
    stats_tw_set(&tw, 5.0, 1.0);
    assert_close(stats_tw_mean(&tw, 5.0), 9.0 / 5.0, 0.0);
    assert_close(stats_tw_mean(&tw, 10.0), 14.0 / 10.0, 0.0);

    /* A window that does not start at 0: 2 for 1 s, then 4 for 2 s. */
    stats_tw_init(&tw, 100.0, 2.0);
    stats_tw_set(&tw, 101.0, 4.0);
    assert_close(stats_tw_mean(&tw, 103.0), 10.0 / 3.0, 0.0);
}

static void test_tw_reset_keeps_value_and_restarts_integral(void **state)
{
    (void)state;
    struct stats_tw tw;
    stats_tw_init(&tw, 0.0, 8.0);
    stats_tw_set(&tw, 4.0, 1.0);
    assert_close(stats_tw_mean(&tw, 10.0), 38.0 / 10.0, 0.0);

    stats_tw_reset(&tw, 10.0);
    assert_close(stats_tw_mean(&tw, 12.0), 1.0, 0.0);
    stats_tw_set(&tw, 11.0, 5.0);
    assert_close(stats_tw_mean(&tw, 12.0), 3.0, 0.0);
    assert_close(tw.t_start, 10.0, 0.0);
}

static void test_tw_changes_at_one_instant_weigh_only_the_last(void **state)
{
    (void)state;
    struct stats_tw tw;
    stats_tw_init(&tw, 0.0, 0.0);
    stats_tw_set(&tw, 1.0, 7.0);
    stats_tw_set(&tw, 1.0, 2.0);
    assert_close(stats_tw_mean(&tw, 2.0), 1.0, 0.0);
}

static void test_tw_zero_length_window_reports_current_value(void **state)
{
    (void)state;
    struct stats_tw tw;
    stats_tw_init(&tw, 3.0, 4.0);
    assert_close(stats_tw_mean(&tw, 3.0), 4.0, 0.0);
}

static void set_tw_backwards(void)
{
    struct stats_tw tw;
    stats_tw_init(&tw, 0.0, 1.0);
    stats_tw_set(&tw, 5.0, 2.0);
    stats_tw_set(&tw, 4.0, 3.0);
}

static void test_tw_time_running_backwards_aborts(void **state)
{
    (void)state;
    assert_true(aborts(set_tw_backwards));
}

/* ---------------------------------------------------------------------------------------------- */
/* stats_hist */

static int compare_doubles(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The order statistic the histogram approximates: rank ceil(q n), clamped to [1, n]. */
static double exact_quantile(const double *sorted, size_t n, double q)
{
    double product = ceil(q * (double)n);
    size_t rank = product < 1.0 ? 1 : (size_t)product;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

static struct stats_hist *new_hist(void)
{
    struct stats_hist *h = calloc(1, sizeof *h);
    assert_non_null(h);
    return h;
}

/* Every quantile in levels[] must be within the proven relative bound of the exact order statistic;
 * q = 0 and q = 1 must be exact. */
static void check_quantiles(const char *label, const double *x, size_t n, const double *levels,
                            size_t n_levels)
{
    double *sorted = malloc(n * sizeof *sorted);
    assert_non_null(sorted);
    memcpy(sorted, x, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, compare_doubles);
    struct stats_hist *h = new_hist();
    for (size_t i = 0; i < n; i++)
        stats_hist_add(h, x[i]);
    assert_int_equal(stats_hist_count(h), n);

    assert_close(stats_hist_quantile(h, 0.0), sorted[0], 0.0);
    assert_close(stats_hist_quantile(h, 1.0), sorted[n - 1], 0.0);
    for (size_t i = 0; i < n_levels; i++) {
        double exact = exact_quantile(sorted, n, levels[i]);
        double got = stats_hist_quantile(h, levels[i]);
        if (!(fabs(got - exact) <= REL_BOUND * exact)) {
            print_error("%s: quantile %g = %.17g, exact %.17g, relative error %.3g > 1/128\n",
                        label, levels[i], got, exact, fabs(got - exact) / exact);
            fail();
        }
    }
    free(h);
    free(sorted);
}

enum { N_RANDOM = 100000 };

static void test_hist_quantiles_of_exponential_within_bound(void **state)
{
    (void)state;
    gsl_rng *r = seeded_rng(21);
    double *x = malloc(N_RANDOM * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < N_RANDOM; i++)
        x[i] = gsl_ran_exponential(r, 0.05);
    check_quantiles("exponential", x, N_RANDOM, report_levels, N_REPORT_LEVELS);
    free(x);
    gsl_rng_free(r);
}

static void test_hist_quantiles_of_lognormal_cv3_within_bound(void **state)
{
    (void)state;
    /* Lognormal with mean 0.1 s and coefficient of variation 3: sigma^2 = ln(1 + cv^2). */
    double sigma = sqrt(log(1.0 + 9.0)), mu = log(0.1) - sigma * sigma / 2.0;
    gsl_rng *r = seeded_rng(22);
    double *x = malloc(N_RANDOM * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < N_RANDOM; i++)
        x[i] = gsl_ran_lognormal(r, mu, sigma);
    check_quantiles("lognormal cv 3", x, N_RANDOM, report_levels, N_REPORT_LEVELS);
    free(x);
    gsl_rng_free(r);
}

static void test_hist_quantiles_of_uniform_and_log_uniform_within_bound(void **state)
{
    (void)state;
    gsl_rng *r = seeded_rng(23);
    double *x = malloc(N_RANDOM * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < N_RANDOM; i++)
        x[i] = gsl_ran_flat(r, 1e-6, 1e3);
    check_quantiles("uniform 1e-6..1e3", x, N_RANDOM, report_levels, N_REPORT_LEVELS);
    /* Uniform in the logarithm spreads the same range over 30 octaves, so the low quantiles land in
     * small buckets too. */
    for (size_t i = 0; i < N_RANDOM; i++)
        x[i] = exp(gsl_ran_flat(r, log(1e-6), log(1e3)));
    check_quantiles("log-uniform 1e-6..1e3", x, N_RANDOM, report_levels, N_REPORT_LEVELS);
    free(x);
    gsl_rng_free(r);
}

static void test_hist_quantiles_of_constant_values_are_exact(void **state)
{
    (void)state;
    struct stats_hist *h = new_hist();
    for (int i = 0; i < 1000; i++)
        stats_hist_add(h, 0.123);
    for (size_t i = 0; i < N_REPORT_LEVELS; i++)
        assert_close(stats_hist_quantile(h, report_levels[i]), 0.123, 0.0);
    assert_close(stats_hist_mean(h), 0.123, 1e-14);
    free(h);
}

static void test_hist_quantiles_at_bucket_edges_within_bound(void **state)
{
    (void)state;
    /* Every bucket's lower edge 2^e (1 + k/128) over the resolved range, and the double just below
     * each edge (the top of the previous bucket), checked at 1001 levels. */
    enum { SUBS = 1 << STATS_HIST_SUB_BITS };
    size_t n = 0, cap = 2 * (size_t)STATS_HIST_BUCKETS;
    double *x = malloc(cap * sizeof *x);
    assert_non_null(x);
    for (int e = STATS_HIST_EXP_MIN; e < STATS_HIST_EXP_END; e++) {
        for (int k = 0; k < SUBS; k++) {
            double edge = ldexp(1.0 + (double)k / SUBS, e);
            x[n++] = edge;
            x[n++] = nextafter(edge, 0.0);
        }
    }
    double levels[1001];
    for (size_t i = 0; i < 1001; i++)
        levels[i] = (double)i / 1000.0;
    check_quantiles("bucket edges", x, n, levels, 1001);
    free(x);
}

static void test_hist_quantile_interpolates_by_rank_clamped_to_range(void **state)
{
    (void)state;
    struct stats_hist *h = new_hist();
    const double xs[] = {1.0, 1.0, 1.0, 5.0};
    for (size_t i = 0; i < 4; i++)
        stats_hist_add(h, xs[i]);
    /* Ranks 2 and 3 are the 2nd and 3rd of the c = 3 observations in the bucket [1, 1 + 1/128):
     * 1 + (1/128)(j - 1/2)/3 for j = 2, 3. Both are within 1/128 of the true 1. */
    assert_close(stats_hist_quantile(h, 0.5), 1.0 + (1.0 / 128.0) * (1.5 / 3.0), 1e-15);
    assert_close(stats_hist_quantile(h, 0.75), 1.0 + (1.0 / 128.0) * (2.5 / 3.0), 1e-15);
    assert_true(stats_hist_quantile(h, 0.75) - 1.0 <= REL_BOUND);
    /* Rank 4 is the max; rank 1 the min. */
    assert_close(stats_hist_quantile(h, 0.76), 5.0, 0.0);
    assert_close(stats_hist_quantile(h, 0.0), 1.0, 0.0);

    /* An estimate above every observation reports the max instead: rank 2 of {2, 3, 3, 3} is the
     * first of three in [3, 3 + 1/64), estimated at 3 + (1/64)(1/6) > 3. */
    stats_hist_reset(h);
    for (int i = 0; i < 3; i++)
        stats_hist_add(h, 3.0);
    stats_hist_add(h, 2.0);
    assert_close(stats_hist_quantile(h, 0.5), 3.0, 0.0);
    free(h);
}

static void test_hist_interpolation_formula_on_hand_made_buckets(void **state)
{
    (void)state;
    struct stats_hist *h = new_hist();
    /* Bucket [1, 1 + 1/128) with c = 4 observations, between a smaller min and a larger max, so that
     * ranks 2..5 are its j = 1..4 and no clamping applies. L + w (j - 1/2)/4 = 1 + (2j - 1)/1024 is
     * a double, and so is every step of its computation: the answers are exact. */
    const double in_bucket[] = {1.0001, 1.0067, 1.0002, 1.0050};
    stats_hist_add(h, 0.5);
    for (size_t i = 0; i < 4; i++)
        stats_hist_add(h, in_bucket[i]);
    stats_hist_add(h, 8.0);
    for (int j = 1; j <= 4; j++) {
        double q = (j + 1 - 0.5) / 6.0; /* selects rank j + 1 */
        assert_close(stats_hist_quantile(h, q), 1.0 + (2.0 * j - 1.0) / 1024.0, 0.0);
    }

    /* A bucket away from 1: e = 3, k = 5, so L = 8 (1 + 5/128) = 8.3125 and w = 8/128 = 1/16, with
     * c = 3 observations (a count that does not divide the width), plus 70 observations added in one
     * go to the same bucket to check that add_n counts into the same c. */
    stats_hist_reset(h);
    stats_hist_add(h, 1.0);
    stats_hist_add(h, 8.3125);
    stats_hist_add(h, 8.33);
    stats_hist_add(h, 8.3740);
    stats_hist_add_n(h, 8.35, 70);
    stats_hist_add(h, 100.0);
    const double lower = ldexp(1.0 + 5.0 / 128.0, 3), width = ldexp(1.0, 3 - 7);
    assert_close(lower, 8.3125, 0.0);
    const uint64_t c = 73, n = 75;
    for (uint64_t j = 1; j <= c; j++) {
        double q = ((double)(j + 1) - 0.5) / (double)n;
        double expected = lower + width * ((double)j - 0.5) / (double)c;
        assert_close(stats_hist_quantile(h, q), expected, 1e-15 * expected);
        assert_true(stats_hist_quantile(h, q) >= lower && stats_hist_quantile(h, q) < lower + width);
    }
    free(h);
}

/* p99 of 10^5 lognormal samples in a histogram, each sample multiplied by `scale` first. */
static double p99_of_scaled(const double *x, size_t n, double scale)
{
    struct stats_hist *h = new_hist();
    for (size_t i = 0; i < n; i++)
        stats_hist_add(h, scale * x[i]);
    double p99 = stats_hist_quantile(h, 0.99);
    free(h);
    return p99;
}

static void test_hist_quantile_is_not_quantized_to_buckets(void **state)
{
    (void)state;
    /* Scaling every observation by 1.002 scales the exact p99 by 1.002, a quarter of a bucket (1/128).
     * A bucket's midpoint usually does not move at all (it did not for 430 of 500 seeds with the old
     * midpoint rule) and otherwise jumps by a whole bucket; the interpolated estimate must move, by
     * about the right amount. What is left is the interpolation's sampling noise (the p99 bucket holds
     * a few dozen observations): over 500 seeds the ratio had mean 1.00204 (no bias) and standard
     * deviation 0.00079, so [1.0, 1.004] is 1.002 +- 2.5 sd; this fixed seed gives 1.00103. */
    double sigma = sqrt(log(1.0 + 9.0)), mu = log(0.1) - sigma * sigma / 2.0;
    gsl_rng *r = seeded_rng(25);
    double *x = malloc(N_RANDOM * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < N_RANDOM; i++)
        x[i] = gsl_ran_lognormal(r, mu, sigma);
    double base = p99_of_scaled(x, N_RANDOM, 1.0), scaled = p99_of_scaled(x, N_RANDOM, 1.002);
    double ratio = scaled / base;
    print_message("p99 %.9g, of 1.002 x %.9g, ratio %.6f\n", base, scaled, ratio);
    assert_true(scaled > base);
    assert_true(ratio >= 1.0 && ratio <= 1.004);
    free(x);
    gsl_rng_free(r);
}

static void test_hist_merge_equals_adding_all_to_one(void **state)
{
    (void)state;
    gsl_rng *r = seeded_rng(24);
    struct stats_hist *whole = new_hist(), *a = new_hist(), *b = new_hist(), *empty = new_hist();
    double sigma = sqrt(log(10.0));
    for (size_t i = 0; i < N_RANDOM; i++) {
        double x = gsl_ran_lognormal(r, log(0.02), sigma);
        /* Some zeros, underflows and overflows, so that every special bucket is merged too. */
        if (i % 997 == 0)
            x = 0.0;
        else if (i % 991 == 0)
            x = 1e-11 * (1.0 + (double)i / N_RANDOM);
        else if (i % 983 == 0)
            x = 1e10 * (1.0 + (double)i / N_RANDOM);
        stats_hist_add(whole, x);
        stats_hist_add(gsl_rng_uniform(r) < 0.3 ? a : b, x);
    }
    stats_hist_merge(a, b);
    stats_hist_merge(a, empty);
    assert_int_equal(a->count, whole->count);
    assert_int_equal(a->zeros, whole->zeros);
    assert_int_equal(a->under, whole->under);
    assert_int_equal(a->over, whole->over);
    assert_true(a->zeros > 0 && a->under > 0 && a->over > 0);
    assert_memory_equal(a->bucket, whole->bucket, sizeof a->bucket);
    assert_close(a->min, whole->min, 0.0);
    assert_close(a->max, whole->max, 0.0);
    assert_close(a->under_min, whole->under_min, 0.0);
    assert_close(a->sum, whole->sum, 1e-12 * whole->sum);
    for (size_t i = 0; i < N_REPORT_LEVELS; i++)
        assert_close(stats_hist_quantile(a, report_levels[i]),
                     stats_hist_quantile(whole, report_levels[i]), 0.0);

    /* Merging into an empty histogram must take src's min, not the empty one's zero. */
    stats_hist_reset(b);
    for (int i = 0; i < 10; i++)
        stats_hist_add(b, 7.0 + i);
    stats_hist_merge(empty, b);
    assert_close(stats_hist_min(empty), 7.0, 0.0);
    assert_close(stats_hist_max(empty), 16.0, 0.0);
    assert_int_equal(stats_hist_count(empty), 10);

    free(whole);
    free(a);
    free(b);
    free(empty);
    gsl_rng_free(r);
}

static void test_hist_add_n_equals_repeated_add(void **state)
{
    (void)state;
    struct stats_hist *once = new_hist(), *repeated = new_hist();
    stats_hist_add_n(once, 0.37, 1000);
    stats_hist_add_n(once, 0.0, 5);
    stats_hist_add_n(once, 12.5, 0);
    for (int i = 0; i < 1000; i++)
        stats_hist_add(repeated, 0.37);
    for (int i = 0; i < 5; i++)
        stats_hist_add(repeated, 0.0);
    assert_int_equal(once->count, 1005);
    assert_int_equal(once->zeros, 5);
    assert_memory_equal(once->bucket, repeated->bucket, sizeof once->bucket);
    assert_close(stats_hist_max(once), 0.37, 0.0);
    assert_close(stats_hist_min(once), 0.0, 0.0);
    assert_close(once->sum, repeated->sum, 1e-9);
    assert_close(stats_hist_quantile(once, 0.5), stats_hist_quantile(repeated, 0.5), 0.0);
    free(once);
    free(repeated);
}

static void test_hist_zeros_are_counted_exactly(void **state)
{
    (void)state;
    struct stats_hist *h = new_hist();
    stats_hist_add(h, -0.0);
    for (int i = 1; i < 300; i++)
        stats_hist_add(h, 0.0);
    for (int i = 0; i < 700; i++)
        stats_hist_add(h, 2.0);
    assert_int_equal(h->zeros, 300);
    assert_int_equal(stats_hist_count(h), 1000);
    /* -0.0 is stored as +0.0, so the min prints as 0. */
    assert_close(stats_hist_min(h), 0.0, 0.0);
    assert_false(signbit(stats_hist_min(h)));
    assert_close(stats_hist_quantile(h, 0.1), 0.0, 0.0);
    assert_close(stats_hist_quantile(h, 0.3), 0.0, 0.0);
    assert_close(stats_hist_quantile(h, 0.301), 2.0, 0.0);
    assert_close(stats_hist_mean(h), 1.4, 1e-15);
    free(h);
}

static void test_hist_tiny_and_huge_values_go_to_underflow_and_overflow(void **state)
{
    (void)state;
    struct stats_hist *h = new_hist();
    const double xs[] = {0.0, 1e-15, 1e-12, 1e-9, 1.0, 1e9, 1e12, 1e15};
    enum { N = sizeof xs / sizeof xs[0] };
    for (size_t i = 0; i < N; i++)
        stats_hist_add(h, xs[i]);
    assert_int_equal(h->zeros, 1);
    assert_int_equal(h->under, 2);
    assert_int_equal(h->over, 2);
    assert_close(stats_hist_quantile(h, 0.0), 0.0, 0.0);
    assert_close(stats_hist_quantile(h, 1.0), 1e15, 0.0);
    /* Level (r - 0.5)/N selects rank r. Ranks 2 and 3 share the underflow bucket, which reports its
     * smallest value; ranks 4..6 are resolved and meet the bound; rank 7 shares the overflow bucket,
     * which reports the max (all as documented). */
    assert_close(stats_hist_quantile(h, 1.5 / N), 1e-15, 0.0);
    assert_close(stats_hist_quantile(h, 2.5 / N), 1e-15, 0.0);
    for (int rank = 4; rank <= 6; rank++) {
        double exact = xs[rank - 1];
        assert_close(stats_hist_quantile(h, (rank - 0.5) / N), exact, REL_BOUND * exact);
    }
    assert_close(stats_hist_quantile(h, 6.5 / N), 1e15, 0.0);

    /* The edges of the resolved range, and the extremes of double. */
    stats_hist_reset(h);
    stats_hist_add(h, ldexp(1.0, STATS_HIST_EXP_MIN));
    stats_hist_add(h, nextafter(ldexp(1.0, STATS_HIST_EXP_END), 0.0));
    assert_int_equal(h->under + h->over, 0);
    stats_hist_add(h, nextafter(ldexp(1.0, STATS_HIST_EXP_MIN), 0.0));
    stats_hist_add(h, DBL_TRUE_MIN);
    stats_hist_add(h, ldexp(1.0, STATS_HIST_EXP_END));
    stats_hist_add(h, DBL_MAX);
    assert_int_equal(h->under, 2);
    assert_int_equal(h->over, 2);
    assert_close(stats_hist_min(h), DBL_TRUE_MIN, 0.0);
    assert_close(stats_hist_max(h), DBL_MAX, 0.0);
    free(h);
}

static void test_hist_empty_reports_nan_and_reset_empties(void **state)
{
    (void)state;
    struct stats_hist h = {0};
    assert_int_equal(stats_hist_count(&h), 0);
    assert_true(isnan(stats_hist_quantile(&h, 0.5)));
    assert_true(isnan(stats_hist_mean(&h)));
    assert_true(isnan(stats_hist_min(&h)));
    assert_true(isnan(stats_hist_max(&h)));

    stats_hist_add(&h, 0.5);
    stats_hist_add(&h, 1.5);
    stats_hist_reset(&h);
    assert_int_equal(stats_hist_count(&h), 0);
    assert_true(isnan(stats_hist_quantile(&h, 0.99)));
    /* After a reset the first observation sets the min, whatever the old min was. */
    stats_hist_add(&h, 5.0);
    assert_close(stats_hist_min(&h), 5.0, 0.0);
    assert_close(stats_hist_quantile(&h, 0.5), 5.0, 0.0);
}

static void add_nan_to_hist(void)
{
    struct stats_hist h = {0};
    stats_hist_add(&h, NAN);
}

static void add_negative_to_hist(void)
{
    struct stats_hist h = {0};
    stats_hist_add(&h, -1e-3);
}

static void add_infinity_to_hist(void)
{
    struct stats_hist h = {0};
    stats_hist_add_n(&h, INFINITY, 3);
}

static void ask_hist_quantile_above_one(void)
{
    struct stats_hist h = {0};
    stats_hist_add(&h, 1.0);
    stats_hist_quantile(&h, 1.5);
}

static void test_hist_invalid_input_aborts(void **state)
{
    (void)state;
    assert_true(aborts(add_nan_to_hist));
    assert_true(aborts(add_negative_to_hist));
    assert_true(aborts(add_infinity_to_hist));
    assert_true(aborts(ask_hist_quantile_above_one));
}

/* ---------------------------------------------------------------------------------------------- */
/* Confidence intervals */

static void test_ci95_matches_hand_computed_t_interval(void **state)
{
    (void)state;
    const double x[] = {1.0, 2.0, 3.0, 4.0, 5.0};
    struct stats_ci ci = stats_ci95(x, 5);
    /* mean 3, sd sqrt(2.5) = 1.5811388, t(0.975, 4) = 2.776445 (tables), so the half-width is
     * 2.776445 * 1.5811388 / sqrt(5) = 2.776445 * sqrt(0.5) = 1.963243. */
    assert_int_equal(ci.n, 5);
    assert_close(ci.mean, 3.0, 1e-15);
    assert_close(ci.half_width, 1.963243, 1e-6);
    assert_close(ci.lo, 3.0 - 1.963243, 1e-6);
    assert_close(ci.hi, 3.0 + 1.963243, 1e-6);
}

static void test_ci_at_other_level_uses_matching_t_quantile(void **state)
{
    (void)state;
    const double x[] = {1.0, 2.0, 3.0, 4.0, 5.0};
    /* 90 %: t(0.95, 4) = 2.131847, half-width 2.131847 * sqrt(0.5) = 1.507443. */
    struct stats_ci ci = stats_ci(x, 5, 0.90);
    assert_close(ci.half_width, 1.507443, 1e-6);
}

static void test_ci95_acc_matches_array_version(void **state)
{
    (void)state;
    const double x[] = {0.21, 0.25, 0.19, 0.30, 0.24, 0.22};
    struct stats_acc a = {0};
    for (size_t i = 0; i < 6; i++)
        stats_acc_add(&a, x[i]);
    struct stats_ci from_array = stats_ci95(x, 6), from_acc = stats_ci95_acc(&a);
    assert_int_equal(from_acc.n, 6);
    assert_close(from_acc.mean, from_array.mean, 0.0);
    assert_close(from_acc.half_width, from_array.half_width, 0.0);
    assert_true(from_acc.half_width > 0.0);
    assert_close(from_acc.lo, from_array.lo, 0.0);
    assert_close(from_acc.hi, from_array.hi, 0.0);
}

static void test_ci95_of_one_value_has_nan_bounds_and_of_none_is_all_nan(void **state)
{
    (void)state;
    const double one = 42.0;
    struct stats_ci ci = stats_ci95(&one, 1);
    assert_int_equal(ci.n, 1);
    assert_close(ci.mean, 42.0, 0.0);
    assert_true(isnan(ci.lo) && isnan(ci.hi) && isnan(ci.half_width));

    ci = stats_ci95(NULL, 0);
    assert_int_equal(ci.n, 0);
    assert_true(isnan(ci.mean) && isnan(ci.lo) && isnan(ci.hi) && isnan(ci.half_width));
}

static void test_ci95_covers_true_mean_at_nominal_rate(void **state)
{
    (void)state;
    /* 2000 intervals from n = 10 normal samples. The fraction covering the true mean is binomial
     * with p = 0.95 and standard error sqrt(0.95 * 0.05 / 2000) = 0.0049, so [0.93, 0.97] is about
     * 4.1 standard errors either side: a correct interval fails this essentially never. A normal
     * (z = 1.96) interval in place of Student's t would cover only about 91.8 % and fail. */
    enum { INTERVALS = 2000, N = 10 };
    const double true_mean = 5.0;
    gsl_rng *r = seeded_rng(31);
    int covered = 0;
    for (int i = 0; i < INTERVALS; i++) {
        double x[N];
        for (int j = 0; j < N; j++)
            x[j] = true_mean + gsl_ran_gaussian(r, 2.0);
        struct stats_ci ci = stats_ci95(x, N);
        covered += ci.lo <= true_mean && true_mean <= ci.hi;
    }
    double coverage = (double)covered / INTERVALS;
    print_message("coverage of 2000 95%% t intervals: %.4f\n", coverage);
    assert_true(coverage >= 0.93 && coverage <= 0.97);
    gsl_rng_free(r);
}

/* MSER: a series that starts 10 below a flat level with alternating +-1 noise is cut exactly where the
 * start ends; a series with no start bias is not cut; a short one is never cut; the cut never passes
 * half the series, even for a series that keeps rising. */
static void test_mser_cuts_a_biased_start_and_nothing_else(void **state)
{
    (void)state;
    double x[40];
    for (int i = 0; i < 40; i++) x[i] = 50.0 + (i % 2 ? 1.0 : -1.0) - (i < 6 ? 10.0 : 0.0);
    assert_int_equal(stats_mser(x, 40), 6);
    for (int i = 0; i < 6; i++) x[i] += 10.0;
    assert_int_equal(stats_mser(x, 40), 0);
    assert_int_equal(stats_mser(x, 3), 0);
    for (int i = 0; i < 40; i++) x[i] = i;
    assert_true(stats_mser(x, 40) <= 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welford_matches_two_pass_with_large_offset),
        cmocka_unit_test(test_acc_merge_of_halves_matches_single_pass),
        cmocka_unit_test(test_acc_merge_with_an_empty_side_keeps_the_other),
        cmocka_unit_test(test_zero_initialised_acc_is_empty_and_tracks_negative_extremes),
        cmocka_unit_test(test_acc_nan_observation_aborts),
        cmocka_unit_test(test_tw_mean_of_step_signal_is_exact),
        cmocka_unit_test(test_tw_reset_keeps_value_and_restarts_integral),
        cmocka_unit_test(test_tw_changes_at_one_instant_weigh_only_the_last),
        cmocka_unit_test(test_tw_zero_length_window_reports_current_value),
        cmocka_unit_test(test_tw_time_running_backwards_aborts),
        cmocka_unit_test(test_hist_quantiles_of_exponential_within_bound),
        cmocka_unit_test(test_hist_quantiles_of_lognormal_cv3_within_bound),
        cmocka_unit_test(test_hist_quantiles_of_uniform_and_log_uniform_within_bound),
        cmocka_unit_test(test_hist_quantiles_of_constant_values_are_exact),
        cmocka_unit_test(test_hist_quantiles_at_bucket_edges_within_bound),
        cmocka_unit_test(test_hist_quantile_interpolates_by_rank_clamped_to_range),
        cmocka_unit_test(test_hist_interpolation_formula_on_hand_made_buckets),
        cmocka_unit_test(test_hist_quantile_is_not_quantized_to_buckets),
        cmocka_unit_test(test_hist_merge_equals_adding_all_to_one),
        cmocka_unit_test(test_hist_add_n_equals_repeated_add),
        cmocka_unit_test(test_hist_zeros_are_counted_exactly),
        cmocka_unit_test(test_hist_tiny_and_huge_values_go_to_underflow_and_overflow),
        cmocka_unit_test(test_hist_empty_reports_nan_and_reset_empties),
        cmocka_unit_test(test_hist_invalid_input_aborts),
        cmocka_unit_test(test_ci95_matches_hand_computed_t_interval),
        cmocka_unit_test(test_ci_at_other_level_uses_matching_t_quantile),
        cmocka_unit_test(test_ci95_acc_matches_array_version),
        cmocka_unit_test(test_ci95_of_one_value_has_nan_bounds_and_of_none_is_all_nan),
        cmocka_unit_test(test_ci95_covers_true_mean_at_nominal_rate),
        cmocka_unit_test(test_mser_cuts_a_biased_start_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
