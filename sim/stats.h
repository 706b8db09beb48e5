/* stats.h: strato's statistics toolbox.
 *
 * Provides four things a simulation report needs, all streaming (memory does not grow with the number
 * of observations, so peak memory does not grow with the simulated horizon):
 *   - stats_acc:  count, mean, variance (Welford), min, max, sum of a stream of numbers, mergeable
 *                 with the parallel formula of Chan, Golub and LeVeque;
 *   - stats_tw:   the time-weighted mean of a piecewise-constant signal (requests in flight, busy
 *                 cores), restartable at each report interval;
 *   - stats_hist: a mergeable log-bucket histogram of non-negative values (latencies in seconds, sizes
 *                 in bytes) whose quantiles have a proven relative error of at most 1/128;
 *   - stats_ci:   Student-t confidence intervals for a mean, from an array or an accumulator.
 *
 * Leaves out: weighted observations (other than stats_hist_add_n), exact quantiles, negative values in
 * the histogram, confidence intervals other than t intervals for a mean (no batch means, no bootstrap).
 * Invalid input that can only come from a bug (NaN, a negative latency, time running backwards, a
 * quantile outside [0, 1]) aborts with a message naming the function and the value.
 *
 * The histogram.
 * A value x in [2^-30, 2^30) is written x = 2^e * (1 + f), 0 <= f < 1. Its bucket is (e, k) with
 * k = floor(128 f), the top 7 bits of the IEEE-754 mantissa: the bucket index is read straight from the
 * bits of the double (exponent and top mantissa bits), with no log() call, so adding is O(1) and takes
 * a few nanoseconds. Bucket (e, k) covers [L, L + w) with L = 2^e (1 + k/128) and width w = 2^e / 128.
 *
 * The quantile of level q is defined as the order statistic x_(r) of rank r = ceil(q n) (1-based,
 * sorted ascending, q n rounded to double first, r clamped to [1, n]). Counts are exact, so the bucket
 * holding the r-th smallest count is the bucket holding x_(r). If that bucket holds c observations and
 * x_(r) is the j-th smallest of them (1 <= j <= c), the histogram interpolates linearly by rank,
 *     v = L + w (j - 1/2) / c,
 * i.e. it spreads the bucket's c observations evenly over [L, L + w) and returns the j-th, then clamps
 * v to [min, max]. Ranks 1 and n return the exact min and max.
 *
 * Bound: 0 < (j - 1/2)/c < 1, and rounding can not leave a closed interval whose ends are doubles, so
 * the computed v lies in [L, L + w]; x_(r) lies in [L, L + w) and x_(r) >= L >= 2^e. Hence
 *     |v - x_(r)| <= w = 2^e / 128 <= x_(r) / 128 < 0.79 %.
 * x_(r) lies in [min, max], and clamping to an interval containing x_(r) never moves a point away from
 * it, so the returned value meets the same bound whenever x_(r) is in the resolved range.
 *
 * Why interpolate rather than report the bucket's midpoint (which has the same worst case with buckets
 * of twice the width): a midpoint is constant while x_(r) stays in its bucket and then jumps by a whole
 * bucket, so any change in the data smaller than a bucket (up to 1/128 of the value) usually does not
 * show at all. The p99 of five replications then comes out bit-identical, their t interval has zero
 * width, and a paired difference between two designs reads "0 [0, 0]" when the truth is a fraction of
 * a percent: the report claims a precision it does not have. With interpolation the estimate moves with
 * the data: each observation that crosses x_(r) or enters the bucket moves it by about w/c, roughly the
 * gap between neighbouring order statistics, so replications differ as their data do and differences
 * smaller than a bucket register with the right sign and about the right size. The worst-case bound
 * above is unchanged; the typical error is far smaller where the density is smooth across a bucket.
 *
 * Outside the resolved range: exact zeros (and -0.0) have their own bucket, which reports 0 exactly.
 * Positive values below 2^-30 (about 0.93e-9) share an underflow bucket that reports the smallest such
 * value seen (exact). Values at or above 2^30 (about 1.07e9) share an overflow bucket that reports the
 * exact max. The 1/128 bound holds for those buckets only when they hold one distinct value. The range
 * covers latencies in seconds from a nanosecond to 34 years, and sizes in bytes up to 1 GiB.
 *
 * Invariant: count = zeros + under + over + the sum of bucket[], always; min <= every value <= max.
 * Scale: 60 octaves of 128 buckets of 8 bytes (7680 buckets), 61504 bytes per histogram in all (under
 * the 64 KiB that stats.c asserts), fixed size, no allocation ever; a quantile scans the buckets once
 * (a few microseconds), which suits a handful per report interval.
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------- */
/* Streaming accumulator. */

/* A zero-initialised struct (`= {0}`) is a valid empty accumulator. Fields are readable; change them
 * only through the functions below. Units of mean, min, max and sum are those of the observations. */
struct stats_acc {
    uint64_t n;  /* observations */
    double mean; /* running mean */
    double m2;   /* sum of squared deviations from the mean (units squared), >= 0 */
    double min;  /* smallest observation; meaningful only when n > 0 */
    double max;  /* largest observation; meaningful only when n > 0 */
    double sum;  /* plain sum of the observations */
};

/* Adds one observation. x must be finite (NaN or infinity aborts: it is a bug upstream). */
void stats_acc_add(struct stats_acc *a, double x);

/* Adds everything in src to dst, as if dst had seen src's observations too (Chan et al.). Either may
 * be empty. src is not modified. */
void stats_acc_merge(struct stats_acc *dst, const struct stats_acc *src);

/* Mean; NAN when empty. */
double stats_acc_mean(const struct stats_acc *a);
/* Sample variance (divisor n - 1), units squared; NAN when n < 2. */
double stats_acc_var(const struct stats_acc *a);
/* Sample standard deviation, sqrt of stats_acc_var; NAN when n < 2. */
double stats_acc_sd(const struct stats_acc *a);
/* Smallest and largest observation; NAN when empty. */
double stats_acc_min(const struct stats_acc *a);
double stats_acc_max(const struct stats_acc *a);

/* ---------------------------------------------------------------------------------------------- */
/* Time-weighted average of a piecewise-constant signal. */

/* The signal holds `value` from t_last on; integral covers [t_start, t_last]. */
struct stats_tw {
    double t_start;  /* s, start of the averaging window */
    double t_last;   /* s, time of the last change (or of init/reset), >= t_start */
    double value;    /* current level of the signal, in its own units */
    double integral; /* signal units times s, integral of the signal over [t_start, t_last] */
};

/* Starts a window at t0 (seconds) with the signal at `value`. */
void stats_tw_init(struct stats_tw *tw, double t0, double value);

/* The signal changes to new_value at time t (seconds). t must be >= the previous change; earlier
 * (or NaN) aborts. Changes at the same instant are fine: the earlier ones get zero weight. */
void stats_tw_set(struct stats_tw *tw, double t, double new_value);

/* Integral of the signal over [t_start, t_end] divided by (t_end - t_start). t_end must be >= the last
 * change (earlier aborts). For a zero-length window it returns the current value (the limit). Does not
 * modify the window. */
double stats_tw_mean(const struct stats_tw *tw, double t_end);

/* Starts a new window at t (seconds) keeping the current value: used at each report interval, after
 * reading stats_tw_mean(tw, t). t must be >= the last change (earlier aborts). */
void stats_tw_reset(struct stats_tw *tw, double t);

/* ---------------------------------------------------------------------------------------------- */
/* Log-bucket histogram (geometry and error bound: see the comment at the top of this file). */

#define STATS_HIST_SUB_BITS 7   /* 2^7 = 128 sub-buckets per power of two */
#define STATS_HIST_EXP_MIN (-30) /* smallest resolved value: 2^-30 ~ 0.93e-9 */
#define STATS_HIST_EXP_END 30    /* smallest overflowing value: 2^30 ~ 1.07e9 */
#define STATS_HIST_BUCKETS ((STATS_HIST_EXP_END - STATS_HIST_EXP_MIN) << STATS_HIST_SUB_BITS)

/* A zero-initialised struct (`= {0}`, or calloc) is a valid empty histogram; so is one passed to
 * stats_hist_reset. Fixed size (about 60 KiB), embed it or allocate it as you like. Fields are
 * readable; change them only through the functions below. */
struct stats_hist {
    uint64_t count;     /* observations, all buckets */
    uint64_t zeros;     /* observations equal to 0 */
    uint64_t under;     /* observations in (0, 2^-30) */
    uint64_t over;      /* observations in [2^30, infinity) */
    double sum;         /* sum of the observations, units of x */
    double min;         /* smallest observation; meaningful only when count > 0 */
    double max;         /* largest observation; 0 when empty */
    double under_min;   /* smallest observation in (0, 2^-30); meaningful only when under > 0 */
    uint64_t bucket[STATS_HIST_BUCKETS]; /* observations per bucket (e, k), index 128 (e + 30) + k */
};

/* Empties h (count 0). */
void stats_hist_reset(struct stats_hist *h);

/* Adds one observation x >= 0 (units of the caller: seconds, bytes). O(1), no allocation. NaN,
 * infinity or a negative value aborts with a message: it is a bug upstream. -0.0 counts as 0. */
void stats_hist_add(struct stats_hist *h, double x);

/* Adds `count` observations all equal to x; same rules as stats_hist_add. count 0 does nothing. */
void stats_hist_add_n(struct stats_hist *h, double x, uint64_t count);

/* Adds every observation of src to dst (bucket-wise sum; the result is what adding all of them to
 * dst would have given, up to the rounding of sum). src is not modified. */
void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src);

/* Number of observations. */
uint64_t stats_hist_count(const struct stats_hist *h);
/* Mean from the tracked sum (sum / count, not from the buckets); NAN when empty. */
double stats_hist_mean(const struct stats_hist *h);
/* Exact smallest and largest observation; NAN when empty. */
double stats_hist_min(const struct stats_hist *h);
double stats_hist_max(const struct stats_hist *h);

/* Approximation of the order statistic of rank ceil(q n), interpolated by rank within its bucket,
 * relative error <= 1/128 in the resolved range (see top of file). q = 0 gives the exact min, q = 1 the exact max; empty gives NAN. q outside
 * [0, 1] (or NaN) aborts. O(number of buckets). */
double stats_hist_quantile(const struct stats_hist *h, double q);

/* ---------------------------------------------------------------------------------------------- */
/* Confidence intervals for a mean: mean +- t(1 - (1 - level)/2, n - 1) * sd / sqrt(n). */

struct stats_ci {
    double mean;       /* sample mean, units of the data; NAN when n = 0 */
    double lo;         /* mean - half_width; NAN when n < 2 */
    double hi;         /* mean + half_width; NAN when n < 2 */
    double half_width; /* units of the data, >= 0; NAN when n < 2 */
    size_t n;          /* observations used */
};

/* Confidence interval at `level` (in (0, 1), e.g. 0.90; anything else aborts) for the mean of the n
 * values x[0..n-1], which must be finite. n = 1 gives the mean with NAN bounds (one value says nothing
 * about spread); n = 0 gives all NAN. x is only read; it may be NULL when n = 0. */
struct stats_ci stats_ci(const double *x, size_t n, double level);
/* stats_ci at level 0.95. */
struct stats_ci stats_ci95(const double *x, size_t n);

/* The same from an accumulator, typically of one metric's replication means. */
/* MSER truncation (White 1997; MSER-5 when x are means of batches of 5 observations): the d in
 * [0, n/2] that minimizes sum_{i>=d} (x_i - mean(x_d..x_{n-1}))^2 / (n - d)^2, the first one on ties;
 * 0 when n < 4. Observations before d are the warm-up to delete. */
size_t stats_mser(const double *x, size_t n);

struct stats_ci stats_ci_acc(const struct stats_acc *a, double level);
struct stats_ci stats_ci95_acc(const struct stats_acc *a);

#endif
