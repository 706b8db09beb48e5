/* dist.c: parsing, validation, moments and sampling of the distributions in dist.h.
 *
 * Parsing reads only the settings of the chosen kind and checks each one against its own constraint,
 * continuing after an error so that one run reports every mistake. Construction converts the
 * configured parameters (mean and cv) into the samplers' ones once, so sampling is a switch and one
 * GSL call. The empirical kind uses GSL's Walker alias table: O(n) to build, O(1) per draw.
 *
 * Leaves out: fitting distributions to data, quantile functions.
 * Invariant: every constructor validates, so every struct dist reachable by dist_sample is valid.
 * Scale: a handful of distributions per model; millions of draws per run.
 */
#include "dist.h"
#include "sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by enum dist_kind; the config's names start at DIST_EXPONENTIAL. */
static const char *const kind_names[] = {
    [DIST_NONE] = "none",
    [DIST_EXPONENTIAL] = "exponential",
    [DIST_LOGNORMAL] = "lognormal",
    [DIST_GAMMA] = "gamma",
    [DIST_WEIBULL] = "weibull",
    [DIST_PARETO] = "pareto",
    [DIST_UNIFORM] = "uniform",
    [DIST_DETERMINISTIC] = "deterministic",
    [DIST_EMPIRICAL] = "empirical",
    NULL,
};

static _Noreturn void bug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static _Noreturn void bug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("strato: bug: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}


static bool positive(double x)
{
    return isfinite(x) && x > 0;
}

/* ---- Constructors ----------------------------------------------------------------------------- */

struct dist dist_exponential(double mean)
{
    if (!positive(mean))
        bug("dist_exponential: mean must be finite and > 0, got %g", mean);
    return (struct dist){.kind = DIST_EXPONENTIAL, .exponential = {mean}};
}

struct dist dist_lognormal(double mean, double cv)
{
    if (!positive(mean) || !positive(cv))
        bug("dist_lognormal: mean and cv must be finite and > 0, got %g and %g", mean, cv);
    double sigma2 = log1p(cv * cv);
    return (struct dist){.kind = DIST_LOGNORMAL,
                         .lognormal = {mean, cv, log(mean) - sigma2 / 2, sqrt(sigma2)}};
}

struct dist dist_gamma(double mean, double cv)
{
    if (!positive(mean) || !positive(cv))
        bug("dist_gamma: mean and cv must be finite and > 0, got %g and %g", mean, cv);
    return (struct dist){.kind = DIST_GAMMA, .gamma = {mean, cv, 1 / (cv * cv), mean * cv * cv}};
}

struct dist dist_weibull(double shape, double scale)
{
    if (!positive(shape) || !positive(scale))
        bug("dist_weibull: shape and scale must be finite and > 0, got %g and %g", shape, scale);
    return (struct dist){.kind = DIST_WEIBULL, .weibull = {shape, scale}};
}

struct dist dist_pareto(double shape, double scale)
{
    if (!positive(shape) || !positive(scale))
        bug("dist_pareto: shape and scale must be finite and > 0, got %g and %g", shape, scale);
    return (struct dist){.kind = DIST_PARETO, .pareto = {shape, scale}};
}

struct dist dist_uniform(double min, double max)
{
    if (!isfinite(min) || !isfinite(max) || !(min < max))
        bug("dist_uniform: need finite min < max, got %g and %g", min, max);
    return (struct dist){.kind = DIST_UNIFORM, .uniform = {min, max}};
}

struct dist dist_deterministic(double value)
{
    if (!isfinite(value))
        bug("dist_deterministic: value must be finite, got %g", value);
    return (struct dist){.kind = DIST_DETERMINISTIC, .deterministic = {value}};
}

struct dist dist_empirical(const double *values, const double *weights, size_t n)
{
    if (n == 0)
        bug("dist_empirical: no values");
    double *copy = sim_xmalloc(n * sizeof *copy);
    double *p = sim_xmalloc(n * sizeof *p);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        p[i] = weights != NULL ? weights[i] : 1.0;
        if (!isfinite(values[i]) || !positive(p[i]))
            bug("dist_empirical: value %zu is %g with weight %g", i, values[i], p[i]);
        copy[i] = values[i];
        total += p[i];
    }
    if (!isfinite(total))
        bug("dist_empirical: the weights sum to %g", total);
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += p[i] / total * values[i];
    for (size_t i = 0; i < n; i++)
        var += p[i] / total * (values[i] - mean) * (values[i] - mean);
    struct dist d = {.kind = DIST_EMPIRICAL,
                     .empirical = {n, copy, gsl_ran_discrete_preproc(n, p), mean, sqrt(var) / mean}};
    free(p);
    return d;
}

/* ---- Parsing ---------------------------------------------------------------------------------- */

/* Reads a two-parameter kind, reporting both parameters before giving up on either. */
static bool read_pair(conf *c, const config_setting_t *g, const char *name_a, enum conf_unit unit_a,
                      struct conf_range range_a, const char *name_b, enum conf_unit unit_b,
                      struct conf_range range_b, double *a, double *b)
{
    bool ok = conf_get_quantity(c, g, name_a, unit_a, true, range_a, a);
    return conf_get_quantity(c, g, name_b, unit_b, true, range_b, b) && ok;
}

/* Shape (unitless) and scale (in unit), both > 0: the parameters of weibull and pareto. */
static bool read_shape_scale(conf *c, const config_setting_t *g, enum conf_unit unit, double *shape,
                             double *scale)
{
    return read_pair(c, g, "shape", CONF_UNIT_NONE, CONF_ABOVE(0), "scale", unit, CONF_ABOVE(0), shape,
                     scale);
}

/* Mean (in unit) and coefficient of variation, both > 0: the parameters of lognormal and gamma. */
static bool read_mean_cv(conf *c, const config_setting_t *g, enum conf_unit unit, double *mean, double *cv)
{
    return read_pair(c, g, "mean", unit, CONF_ABOVE(0), "cv", CONF_UNIT_NONE, CONF_ABOVE(0), mean, cv);
}

static bool parse_empirical(conf *c, const config_setting_t *g, enum conf_unit unit,
                            struct conf_range amount, struct dist *out)
{
    config_setting_t *values = conf_list(c, g, "values", true);
    config_setting_t *weights = conf_list(c, g, "weights", false);
    if (values == NULL)
        return false;
    unsigned int n = (unsigned int)config_setting_length(values);
    if (n == 0) {
        conf_error(c, values, "must list at least one value");
        return false;
    }
    double *v = sim_xmalloc(n * sizeof *v);
    double *w = sim_xmalloc(n * sizeof *w);
    bool ok = true;
    for (unsigned int i = 0; i < n; i++) {
        v[i] = 0;
        w[i] = 1;
        ok = conf_elem_quantity(c, values, i, unit, amount, &v[i]) && ok;
    }
    if (weights != NULL && (unsigned int)config_setting_length(weights) != n) {
        conf_error(c, weights, "must have one weight per value (%u), got %d", n,
                   config_setting_length(weights));
        ok = false;
    } else if (weights != NULL) {
        double total = 0;
        for (unsigned int i = 0; i < n; i++) {
            ok = conf_elem_quantity(c, weights, i, CONF_UNIT_NONE, CONF_ABOVE(0), &w[i]) && ok;
            total += w[i];
        }
        if (ok && !isfinite(total)) {
            conf_error(c, weights, "must have a finite sum, got %g", total);
            ok = false;
        }
    }
    if (ok)
        *out = dist_empirical(v, w, n);
    free(v);
    free(w);
    return ok;
}

bool dist_parse(conf *c, const config_setting_t *group, enum conf_unit unit, struct dist *out)
{
    int choice = 0;
    if (group == NULL)
        return true;
    if (!conf_get_choice(c, group, "dist", true, kind_names + DIST_EXPONENTIAL, &choice))
        return false;
    /* Seconds, bytes and dollars are amounts of something: none can be negative. */
    struct conf_range amount = unit == CONF_UNIT_NONE ? CONF_ANY : CONF_AT_LEAST(0);
    double a = 1, b = 1;
    char a_text[64], b_text[64];
    switch ((enum dist_kind)(choice + DIST_EXPONENTIAL)) {
    case DIST_EXPONENTIAL:
        if (!conf_get_quantity(c, group, "mean", unit, true, CONF_ABOVE(0), &a))
            return false;
        *out = dist_exponential(a);
        return true;
    case DIST_LOGNORMAL:
        if (!read_mean_cv(c, group, unit, &a, &b))
            return false;
        *out = dist_lognormal(a, b);
        return true;
    case DIST_GAMMA:
        if (!read_mean_cv(c, group, unit, &a, &b))
            return false;
        *out = dist_gamma(a, b);
        return true;
    case DIST_WEIBULL:
        if (!read_shape_scale(c, group, unit, &a, &b))
            return false;
        *out = dist_weibull(a, b);
        return true;
    case DIST_PARETO:
        if (!read_shape_scale(c, group, unit, &a, &b))
            return false;
        *out = dist_pareto(a, b);
        return true;
    case DIST_UNIFORM:
        if (!read_pair(c, group, "min", unit, amount, "max", unit, amount, &a, &b))
            return false;
        if (!(a < b)) {
            conf_error_in(c, group, "max", "must be > min (%s), got %s",
                          conf_format_quantity(a, unit, a_text, sizeof a_text),
                          conf_format_quantity(b, unit, b_text, sizeof b_text));
            return false;
        }
        *out = dist_uniform(a, b);
        return true;
    case DIST_DETERMINISTIC:
        if (!conf_get_quantity(c, group, "value", unit, true, amount, &a))
            return false;
        *out = dist_deterministic(a);
        return true;
    case DIST_EMPIRICAL:
        return parse_empirical(c, group, unit, amount, out);
    case DIST_NONE:
        break;
    }
    bug("dist_parse: choice %d has no kind", choice);
}

bool dist_get(conf *c, const config_setting_t *parent, const char *name, enum conf_unit unit,
              bool required, struct dist *out)
{
    if (parent == NULL)
        return true;
    bool present = config_setting_get_member(parent, name) != NULL;
    config_setting_t *group = conf_group(c, parent, name, required);
    if (group == NULL) /* reported unless absent and optional */
        return !present && !required;
    return dist_parse(c, group, unit, out);
}

/* ---- Sampling and moments --------------------------------------------------------------------- */

double dist_sample(const struct dist *d, gsl_rng *r)
{
    switch (d->kind) {
    case DIST_EXPONENTIAL: return dist_exp(r, d->exponential.mean);
    case DIST_LOGNORMAL: return gsl_ran_lognormal(r, d->lognormal.mu, d->lognormal.sigma);
    case DIST_GAMMA: return gsl_ran_gamma(r, d->gamma.shape, d->gamma.scale);
    /* GSL's Weibull takes (scale, shape); its Pareto takes (shape, scale). */
    case DIST_WEIBULL: return gsl_ran_weibull(r, d->weibull.scale, d->weibull.shape);
    case DIST_PARETO: return gsl_ran_pareto(r, d->pareto.shape, d->pareto.scale);
    case DIST_UNIFORM: return gsl_ran_flat(r, d->uniform.min, d->uniform.max);
    case DIST_DETERMINISTIC: return d->deterministic.value;
    case DIST_EMPIRICAL: return d->empirical.values[gsl_ran_discrete(r, d->empirical.table)];
    case DIST_NONE: break;
    }
    bug("dist_sample: the distribution was never set");
}

double dist_mean(const struct dist *d)
{
    switch (d->kind) {
    case DIST_EXPONENTIAL: return d->exponential.mean;
    case DIST_LOGNORMAL: return d->lognormal.mean;
    case DIST_GAMMA: return d->gamma.mean;
    case DIST_WEIBULL: return d->weibull.scale * exp(lgamma(1 + 1 / d->weibull.shape));
    case DIST_PARETO:
        if (d->pareto.shape <= 1)
            return INFINITY;
        return d->pareto.shape * d->pareto.scale / (d->pareto.shape - 1);
    case DIST_UNIFORM: return (d->uniform.min + d->uniform.max) / 2;
    case DIST_DETERMINISTIC: return d->deterministic.value;
    case DIST_EMPIRICAL: return d->empirical.mean;
    case DIST_NONE: break;
    }
    return NAN;
}

double dist_cv(const struct dist *d)
{
    switch (d->kind) {
    case DIST_EXPONENTIAL: return 1;
    case DIST_LOGNORMAL: return d->lognormal.cv;
    case DIST_GAMMA: return d->gamma.cv;
    case DIST_WEIBULL: {
        double k = d->weibull.shape;
        /* Through log-gamma: a small shape makes Gamma(1 + 2/k) overflow long before the ratio does. */
        return sqrt(expm1(lgamma(1 + 2 / k) - 2 * lgamma(1 + 1 / k)));
    }
    case DIST_PARETO: {
        double alpha = d->pareto.shape;
        if (alpha <= 1)
            return NAN;
        if (alpha <= 2)
            return INFINITY;
        return 1 / sqrt(alpha * (alpha - 2));
    }
    case DIST_UNIFORM:
        return (d->uniform.max - d->uniform.min) / sqrt(12) / dist_mean(d);
    case DIST_DETERMINISTIC: return 0;
    case DIST_EMPIRICAL: return d->empirical.cv;
    case DIST_NONE: break;
    }
    return NAN;
}

void dist_free(struct dist *d)
{
    if (d->kind == DIST_EMPIRICAL) {
        free(d->empirical.values);
        gsl_ran_discrete_free(d->empirical.table);
    }
    *d = (struct dist){.kind = DIST_NONE};
}

int dist_describe(const struct dist *d, char *buf, size_t len)
{
    const char *name = kind_names[d->kind];
    switch (d->kind) {
    case DIST_EXPONENTIAL: return snprintf(buf, len, "%s(mean=%g)", name, d->exponential.mean);
    case DIST_LOGNORMAL:
        return snprintf(buf, len, "%s(mean=%g, cv=%g)", name, d->lognormal.mean, d->lognormal.cv);
    case DIST_GAMMA: return snprintf(buf, len, "%s(mean=%g, cv=%g)", name, d->gamma.mean, d->gamma.cv);
    case DIST_WEIBULL:
        return snprintf(buf, len, "%s(shape=%g, scale=%g)", name, d->weibull.shape, d->weibull.scale);
    case DIST_PARETO:
        return snprintf(buf, len, "%s(shape=%g, scale=%g)", name, d->pareto.shape, d->pareto.scale);
    case DIST_UNIFORM:
        return snprintf(buf, len, "%s(min=%g, max=%g)", name, d->uniform.min, d->uniform.max);
    case DIST_DETERMINISTIC: return snprintf(buf, len, "%s(value=%g)", name, d->deterministic.value);
    case DIST_EMPIRICAL:
        return snprintf(buf, len, "%s(n=%zu, mean=%g, cv=%g)", name, d->empirical.n, d->empirical.mean,
                        d->empirical.cv);
    case DIST_NONE: break;
    }
    return snprintf(buf, len, "%s", name);
}
