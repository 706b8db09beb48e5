/* dist.h: probability distributions of model inputs (service demand, boot time, sizes, lifetimes).
 *
 * A distribution is written in the config as a group naming its kind and parameters:
 *     cpu = { dist = "lognormal"; mean = "20ms"; cv = 1.0; };
 * dist_parse checks every parameter when the config is read, because GSL's samplers check nothing
 * (an exponential with mean -1 happily returns negative numbers). Quantities are read in the unit the
 * caller asks for, so "20ms" is 0.02 for a duration; in seconds, bytes and USD no value may be
 * negative. Parameters that belong to another kind are left unread, so conf_check_unused reports them.
 *
 * Kinds and their settings: exponential (mean), lognormal (mean, cv), gamma (mean, cv), weibull
 * (shape, scale), pareto (shape, scale = the minimum), uniform (min, max), deterministic (value),
 * empirical (values, optional weights). lognormal and gamma are given by mean and coefficient of
 * variation, as people measure them, and converted once to the samplers' parameters.
 *
 * Leaves out: truncation, mixtures, shifted distributions, correlation between draws.
 * Invariant: a parsed or constructed dist has valid parameters, so dist_sample never sees bad ones.
 * Scale: dist_sample is on the hot path: O(1), no allocation (empirical uses an alias table).
 */
#ifndef DIST_H
#define DIST_H

#include <stdbool.h>
#include <math.h>
#include <stddef.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "conf.h"

enum dist_kind {
    DIST_NONE, /* a zeroed struct dist: never set; sampling it is a bug */
    DIST_EXPONENTIAL,
    DIST_LOGNORMAL,
    DIST_GAMMA,
    DIST_WEIBULL,
    DIST_PARETO,
    DIST_UNIFORM,
    DIST_DETERMINISTIC,
    DIST_EMPIRICAL,
};

/* One distribution. Values and scales are in the caller's unit (seconds, bytes, USD, or none).
 * An empirical dist owns heap storage: copies share it, and exactly one of them is passed to dist_free. */
struct dist {
    enum dist_kind kind;
    union {
        struct {
            double mean; /* > 0 */
        } exponential;
        struct {
            double mean, cv;  /* > 0, > 0: as configured */
            double mu, sigma; /* of the underlying normal: sigma^2 = ln(1 + cv^2),
                                 mu = ln(mean) - sigma^2 / 2 */
        } lognormal;
        struct {
            double mean, cv;     /* > 0, > 0: as configured */
            double shape, scale; /* k = 1/cv^2, theta = mean * cv^2 */
        } gamma;
        struct {
            double shape, scale; /* k > 0, lambda > 0 */
        } weibull;
        struct {
            double shape, scale; /* alpha > 0, x_m > 0 (the smallest value) */
        } pareto;
        struct {
            double min, max; /* min < max */
        } uniform;
        struct {
            double value;
        } deterministic;
        struct {
            size_t n;                  /* number of values, >= 1 */
            double *values;            /* owned, n finite values */
            gsl_ran_discrete_t *table; /* owned alias table of the normalized weights */
            double mean, cv;           /* weighted, computed once */
        } empirical;
    };
};

/* Parse the distribution group `group` with quantities in `unit`. On success overwrite *out (the
 * caller frees what it held before) and return true; otherwise report every problem through c, leave
 * *out untouched and return false. A NULL group, like a NULL group in conf's getters, reads nothing
 * and returns true. */
bool dist_parse(conf *c, const config_setting_t *group, enum conf_unit unit, struct dist *out);

/* dist_parse on the member group `name` of parent. Absent and optional (or parent NULL): *out is left
 * as preset (the default) and true is returned; absent and required: reported, false. */
bool dist_get(conf *c, const config_setting_t *parent, const char *name, enum conf_unit unit,
              bool required, struct dist *out);

/* Constructors for code and tests. Invalid parameters are a bug in the caller: they print the
 * parameters and abort. Only dist_empirical allocates (copies values; weights NULL = all equal). */
struct dist dist_exponential(double mean);
struct dist dist_lognormal(double mean, double cv);
struct dist dist_gamma(double mean, double cv);
struct dist dist_weibull(double shape, double scale);
struct dist dist_pareto(double shape, double scale);
struct dist dist_uniform(double min, double max);
struct dist dist_deterministic(double value);
struct dist dist_empirical(const double *values, const double *weights, size_t n);

/* One exponential draw of the given mean (> 0) by inversion, -mean ln(U) with U uniform on (0, 1):
 * the hot path of arrival processes. Same distribution as gsl_ran_exponential, which computes
 * log1p(-U) and costs about 9 ns more per draw here. */
static inline double dist_exp(gsl_rng *r, double mean) { return -mean * log(gsl_rng_uniform_pos(r)); }

/* One draw from d using r, in d's unit. O(1), no allocation. Aborts on an unset (DIST_NONE) d. */
double dist_sample(const struct dist *d, gsl_rng *r);

/* The mean of d; INFINITY for a pareto with shape <= 1, NAN for DIST_NONE. */
double dist_mean(const struct dist *d);

/* The coefficient of variation (standard deviation / mean): 0 for deterministic, INFINITY when only
 * the variance is infinite (pareto 1 < shape <= 2), NAN when the mean is infinite or d is unset; a
 * zero mean (possible for unitless uniform and empirical) gives a non-finite ratio. */
double dist_cv(const struct dist *d);

/* Release an empirical dist's storage and zero *d. Safe on a zeroed or non-empirical dist. */
void dist_free(struct dist *d);

/* Write e.g. "lognormal(mean=0.02, cv=1)" to buf; snprintf's contract (returns the full length). */
int dist_describe(const struct dist *d, char *buf, size_t len);

#endif
