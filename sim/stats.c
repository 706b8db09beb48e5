/* stats.c: streaming accumulators, time-weighted averages, the log-bucket histogram and t intervals.
 *
 * Everything here is O(1) memory in the number of observations. The histogram's add path runs once per
 * simulated request, so it reads the bucket index from the bits of the double and keeps every
 * out-of-range case (zero, underflow, overflow, invalid input) on a separate slow path. A quantile
 * interpolates by rank inside the bucket that holds it. The geometry, the interpolation and the proof
 * of the 1/128 relative-error bound are in stats.h.
 *
 * Leaves out: thread safety (each run owns its own objects; merge them afterwards), compensated
 * summation of sums (relative error grows like n * 2^-53 at worst, far below what a report shows).
 * Invariant: see stats.h for each struct. Scale: per-request adds, per-interval quantiles and merges.
 */
#include "stats.h"

#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

_Static_assert(sizeof(struct stats_hist) <= 64 * 1024, "a histogram must stay within 64 KiB");

/* Invalid input here always means a bug upstream, so it stops the program where it happened. */
#define DIE(func, problem, value) die(__FILE__, __LINE__, func, problem, value)

_Noreturn static void die(const char *file, int line, const char *func, const char *problem,
                          double value)
{
    fprintf(stderr, "%s:%d: %s: %s (got %.17g)\n", file, line, func, problem, value);
    abort();
}

/* ---------------------------------------------------------------------------------------------- */

void stats_acc_add(struct stats_acc *a, double x)
{
    if (!isfinite(x))
        DIE(__func__, "observation must be finite", x);
    a->n++;
    /* Welford: updating the mean by a fraction of the deviation keeps precision when all values share
     * a large offset, where the sum-of-squares formula would cancel catastrophically. */
    double d = x - a->mean;
    a->mean += d / (double)a->n;
    a->m2 += d * (x - a->mean);
    a->sum += x;
    if (a->n == 1 || x < a->min)
        a->min = x;
    if (a->n == 1 || x > a->max)
        a->max = x;
}

void stats_acc_merge(struct stats_acc *dst, const struct stats_acc *src)
{
    if (src->n == 0)
        return;
    if (dst->n == 0) {
        *dst = *src;
        return;
    }
    double na = (double)dst->n, nb = (double)src->n, n = na + nb;
    double d = src->mean - dst->mean;
    /* Shifting the old mean by a weighted deviation, rather than averaging the two means, loses no
     * digits to a large common offset. */
    dst->mean += d * (nb / n);
    dst->m2 += src->m2 + d * d * (na * nb / n);
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

double stats_acc_mean(const struct stats_acc *a)
{
    return a->n > 0 ? a->mean : NAN;
}

double stats_acc_var(const struct stats_acc *a)
{
    return a->n > 1 ? a->m2 / (double)(a->n - 1) : NAN;
}

double stats_acc_sd(const struct stats_acc *a)
{
    return sqrt(stats_acc_var(a));
}

double stats_acc_min(const struct stats_acc *a)
{
    return a->n > 0 ? a->min : NAN;
}

double stats_acc_max(const struct stats_acc *a)
{
    return a->n > 0 ? a->max : NAN;
}

/* ---------------------------------------------------------------------------------------------- */

void stats_tw_init(struct stats_tw *tw, double t0, double value)
{
    tw->t_start = t0;
    tw->t_last = t0;
    tw->value = value;
    tw->integral = 0.0;
}

static void check_not_before_last(const struct stats_tw *tw, double t, const char *func)
{
    /* Written as !(>=) so that a NaN time is refused too. */
    if (!(t >= tw->t_last))
        DIE(func, "time is before the signal's last change", t);
}

void stats_tw_set(struct stats_tw *tw, double t, double new_value)
{
    check_not_before_last(tw, t, __func__);
    tw->integral += tw->value * (t - tw->t_last);
    tw->t_last = t;
    tw->value = new_value;
}

double stats_tw_mean(const struct stats_tw *tw, double t_end)
{
    check_not_before_last(tw, t_end, __func__);
    double elapsed = t_end - tw->t_start;
    if (!(elapsed > 0.0))
        return tw->value;
    return (tw->integral + tw->value * (t_end - tw->t_last)) / elapsed;
}

void stats_tw_reset(struct stats_tw *tw, double t)
{
    check_not_before_last(tw, t, __func__);
    stats_tw_init(tw, t, tw->value);
}

/* ---------------------------------------------------------------------------------------------- */

/* A double's bits shifted right by MANT_SHIFT are (biased exponent << SUB_BITS) | top mantissa bits,
 * for non-negative values: this "key" grows with the value, one step per bucket. */
#define MANT_SHIFT (52 - STATS_HIST_SUB_BITS)
#define FIRST_KEY ((uint64_t)(1023 + STATS_HIST_EXP_MIN) << STATS_HIST_SUB_BITS)
#define FIRST_RESOLVED_BITS (FIRST_KEY << MANT_SHIFT) /* bits of 2^EXP_MIN */
#define INFINITY_BITS UINT64_C(0x7ff0000000000000)
#define NEGATIVE_ZERO_BITS UINT64_C(0x8000000000000000)

static uint64_t bits_of(double x)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return bits;
}

static double double_of(uint64_t bits)
{
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static inline void note_extremes_and_sum(struct stats_hist *h, double x, uint64_t n)
{
    if (h->count == 0 || x < h->min)
        h->min = x;
    if (x > h->max)
        h->max = x;
    h->count += n;
    h->sum += x * (double)n;
}

/* Zero, underflow, overflow and invalid input: everything whose key is not a bucket index. */
static void add_outside_buckets(struct stats_hist *h, double x, uint64_t n)
{
    uint64_t bits = bits_of(x);
    if (bits == 0 || bits == NEGATIVE_ZERO_BITS) {
        h->zeros += n;
        x = 0.0;
    } else if (bits >= INFINITY_BITS) {
        /* As unsigned integers, infinity, NaNs and everything with the sign bit set lie here. */
        DIE("stats_hist_add", "value must be finite and >= 0", x);
    } else if (bits < FIRST_RESOLVED_BITS) {
        if (h->under == 0 || x < h->under_min)
            h->under_min = x;
        h->under += n;
    } else {
        h->over += n;
    }
    note_extremes_and_sum(h, x, n);
}

static inline void add(struct stats_hist *h, double x, uint64_t n)
{
    /* Unsigned wrap-around sends keys below the first bucket to huge indices, so one comparison
     * separates the resolved range from everything else. */
    uint64_t index = (bits_of(x) >> MANT_SHIFT) - FIRST_KEY;
    if (index < STATS_HIST_BUCKETS) {
        h->bucket[index] += n;
        note_extremes_and_sum(h, x, n);
    } else {
        add_outside_buckets(h, x, n);
    }
}

void stats_hist_reset(struct stats_hist *h)
{
    memset(h, 0, sizeof *h);
}

void stats_hist_add(struct stats_hist *h, double x)
{
    add(h, x, 1);
}

void stats_hist_add_n(struct stats_hist *h, double x, uint64_t count)
{
    if (count > 0)
        add(h, x, count);
}

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
    if (src->count == 0)
        return;
    if (dst->count == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    if (src->under > 0 && (dst->under == 0 || src->under_min < dst->under_min))
        dst->under_min = src->under_min;
    dst->count += src->count;
    dst->zeros += src->zeros;
    dst->under += src->under;
    dst->over += src->over;
    dst->sum += src->sum;
    for (size_t i = 0; i < STATS_HIST_BUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
}

uint64_t stats_hist_count(const struct stats_hist *h)
{
    return h->count;
}

double stats_hist_mean(const struct stats_hist *h)
{
    return h->count > 0 ? h->sum / (double)h->count : NAN;
}

double stats_hist_min(const struct stats_hist *h)
{
    return h->count > 0 ? h->min : NAN;
}

double stats_hist_max(const struct stats_hist *h)
{
    return h->count > 0 ? h->max : NAN;
}

/* The observation of rank j among the c in bucket `index`, spread evenly over the bucket:
 * L + w (j - 1/2) / c, which lies in [L, L + w] after rounding (see stats.h for the bound). */
static double interpolate_in_bucket(size_t index, uint64_t j, uint64_t c)
{
    uint64_t key = FIRST_KEY + index;
    double lower = double_of(key << MANT_SHIFT);
    /* The next key's bits are the next bucket's lower edge (or the next power of two); the two edges
     * are within a factor of two of each other, so the subtraction is exact (Sterbenz). */
    double width = double_of((key + 1) << MANT_SHIFT) - lower;
    return lower + width * (((double)j - 0.5) / (double)c);
}

/* The estimate of the observation of 1-based rank `rank`, before clamping. */
static double estimate_of_rank(const struct stats_hist *h, uint64_t rank)
{
    uint64_t seen = h->zeros;
    if (rank <= seen)
        return 0.0;
    seen += h->under;
    if (rank <= seen)
        return h->under_min;
    /* rank > seen on entry and after every bucket passed, so rank - seen >= 1 is x_(rank)'s rank
     * among the observations not yet passed, and an empty bucket (c = 0) is never chosen. */
    for (size_t i = 0; i < STATS_HIST_BUCKETS; i++) {
        uint64_t c = h->bucket[i];
        if (rank - seen <= c)
            return interpolate_in_bucket(i, rank - seen, c);
        seen += c;
    }
    return h->max; /* the overflow bucket holds every remaining rank */
}

double stats_hist_quantile(const struct stats_hist *h, double q)
{
    if (!(q >= 0.0 && q <= 1.0))
        DIE(__func__, "quantile level must be in [0, 1]", q);
    if (h->count == 0)
        return NAN;
    double product = ceil(q * (double)h->count);
    uint64_t rank = product < 1.0 ? 1 : (uint64_t)product;
    if (rank >= h->count)
        return h->max;
    if (rank == 1)
        return h->min;
    double v = estimate_of_rank(h, rank);
    return v < h->min ? h->min : v > h->max ? h->max : v;
}

/* ---------------------------------------------------------------------------------------------- */

struct stats_ci stats_ci_acc(const struct stats_acc *a, double level)
{
    if (!(level > 0.0 && level < 1.0))
        DIE(__func__, "confidence level must be in (0, 1)", level);
    struct stats_ci ci = {
        .mean = stats_acc_mean(a), .lo = NAN, .hi = NAN, .half_width = NAN, .n = (size_t)a->n};
    if (a->n < 2)
        return ci;
    double t = gsl_cdf_tdist_Pinv((1.0 + level) / 2.0, (double)(a->n - 1));
    ci.half_width = t * stats_acc_sd(a) / sqrt((double)a->n);
    ci.lo = ci.mean - ci.half_width;
    ci.hi = ci.mean + ci.half_width;
    return ci;
}

struct stats_ci stats_ci95_acc(const struct stats_acc *a)
{
    return stats_ci_acc(a, 0.95);
}

struct stats_ci stats_ci(const double *x, size_t n, double level)
{
    struct stats_acc a = {0};
    for (size_t i = 0; i < n; i++)
        stats_acc_add(&a, x[i]);
    return stats_ci_acc(&a, level);
}

struct stats_ci stats_ci95(const double *x, size_t n)
{
    return stats_ci(x, n, 0.95);
}

size_t stats_mser(const double *x, size_t n)
{
    if (n < 4) return 0;
    /* suffix sums, from the end, so each candidate costs O(1) */
    double sum = 0, sq = 0, best = INFINITY;
    size_t best_d = 0;
    double *score = sim_xmalloc(n * sizeof *score);
    for (size_t i = n; i-- > 0;) {
        sum += x[i];
        sq += x[i] * x[i];
        double m = (double)(n - i), ss = sq - sum * sum / m;
        score[i] = (ss < 0 ? 0 : ss) / (m * m);
    }
    for (size_t d = 0; d <= n / 2; d++)
        if (score[d] < best) {
            best = score[d];
            best_d = d;
        }
    free(score);
    return best_d;
}
