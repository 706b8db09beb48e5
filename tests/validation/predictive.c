/* predictive.c: predictive scaling against target tracking alone, through a recurring morning ramp.
 *
 * Each replication r (seeds (20261202, r), r = 0..R-1) runs the real models (workload -> cloud: elb,
 * ec2, asg, cloudwatch -> metrics) twice with the same seed, so both designs see the same arrivals and
 * demands (common random numbers), and the comparison is paired:
 *   "tt":      one target tracking policy on CPU at 50% (default alarms: 3 of 3 datapoints above 50%,
 *              15 of 15 below 35%; 60 s periods published 60 s late; 300 s warm-up);
 *   "tt+pred": the same, plus a predictive policy on CPU at 50% (default 300 s buffer).
 * The group: c6i.large (2 vCPU, speed 1.13: 1.13 cores of work at 50%), min 1, max 40, 3 in service at
 * the start. The load: lambda0 = 6 requests/s of exponential CPU demand d = 0.45 s (2.7 cores, U = 39.8%
 * on 3 instances), tripled from 09:00 to 12:00 on each of the 3 days (6 rate changes): 8.1 cores, which
 * 3 instances cannot serve (120%); target tracking needs ceil(8.1 / 1.13) = 8 (U = 44.8%). The rate is
 * low and the demand high so that three simulated days of two designs fit the run-time budget; the
 * per-period CV of the CPU datapoint is sqrt(2 / (lambda P)) (7.5% at base: 3.4 sd below 50%, 1.6 sd
 * above 35%; 4.3% at peak), so neither design scales spuriously outside the ramps.
 *
 * Prediction: target tracking alone reacts only after the ramp starts: 3 periods above 50% plus the
 * publication delay (240 s), then the boot and the first health check, so the first minutes of 09:00
 * queue work on 3 instances and the per-minute p99 latency rises well above its base value. Predictive
 * scaling has seen the 09:00 hour on days 1 and 2 (load = CPU x instances, by hour of day), so at 08:55
 * on day 3 (300 s buffer) it raises desired capacity to ceil(forecast / 50) (about 7-8), and the new
 * instances are in service when the ramp begins.
 *
 * Checks (the outcome is reproducible: the seeds are fixed):
 *  1. p99_latency_lower_with_predictive: per replication, the mean over the 30 one-minute rows of
 *     09:00-09:30 on day 3 of the per-interval p99 latency, x_tt and x_pred; the paired difference
 *     x_tt - x_pred has a Student-t interval (level 0.95, the only interval check) that lies above 0.
 *  2. predictive_raised_capacity_before_the_ramp: in every replication, the desired capacity sampled at
 *     the end of the 08:58-08:59 row of day 3 (after the 08:55 buffer, before the ramp) is higher with
 *     predictive scaling than without; the 08:54 row (before the buffer) is reported alongside.
 *
 * Usage: validate_predictive [reps]   (default 16, at most MAX_REPS)
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asg.h"
#include "checks.h"
#include "cloud.h"
#include "metrics.h"
#include "stats.h"
#include "workload.h"

#define N_CHECKS 2
#define MAX_REPS 64
static const double level = 0.95; /* one interval check */

static const char catalog_text[] =
    "ec2_catalog: { region = \"us-east-1\"; prices_date = \"2026-11\"; source = \"validation\";\n"
    "  types = ( { name = \"c6i.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.13; } ); };\n";

static const double TARGET = 50, VCPU = 2, SPEED = 1.13;
static const double LAMBDA0 = 6, DEMAND = 0.45, FACTOR = 3;
static const unsigned N0 = 3;
static const double DAY = 86400, RAMP_START = 9 * 3600.0, RAMP_END = 12 * 3600.0;
static const double MEASURED_DAY = 2; /* day 3, counting from 0 */
static const double WINDOW = 1800;    /* 09:00-09:30 */

/* ---- one run ------------------------------------------------------------------------------- */

struct outcome {
    double p99_sum;      /* sum of per-interval p99 latencies over the window's rows, s */
    unsigned p99_rows;   /* rows in the window with a p99 */
    unsigned rows;       /* rows in the window */
    double p99_max;      /* largest per-interval p99 in the window, s */
    uint64_t errors;     /* requests failed in the window */
    uint64_t successes;  /* requests completed in the window */
    double desired_0854, desired_0859, desired_0930; /* desired capacity at those row ends of day 3 */
    double base_p99_sum; /* per-interval p99 over 08:00-08:50 of day 3, for reference */
    unsigned base_rows;
};

static int on_row(void *ctx, const struct metrics_row *row)
{
    struct outcome *o = ctx;
    const double t = row->t_s, day0 = MEASURED_DAY * DAY;
    if (fabs(t - (day0 + 8 * 3600 + 54 * 60)) < 1) o->desired_0854 = row->desired;
    if (fabs(t - (day0 + 8 * 3600 + 59 * 60)) < 1) o->desired_0859 = row->desired;
    if (fabs(t - (day0 + RAMP_START + WINDOW)) < 1) o->desired_0930 = row->desired;
    if (t > day0 + RAMP_START + 0.5 && t <= day0 + RAMP_START + WINDOW + 0.5) {
        o->rows++;
        o->errors += row->errors;
        o->successes += row->successes;
        if (!isnan(row->latency_p99_s)) {
            o->p99_sum += row->latency_p99_s;
            o->p99_rows++;
            o->p99_max = fmax(o->p99_max, row->latency_p99_s);
        }
    }
    if (t > day0 + 8 * 3600 + 0.5 && t <= day0 + 8 * 3600 + 50 * 60 + 0.5 && !isnan(row->latency_p99_s)) {
        o->base_p99_sum += row->latency_p99_s;
        o->base_rows++;
    }
    return 0;
}

static void replicate(const struct cloud_params *cp, uint32_t rep, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    o->desired_0854 = o->desired_0859 = o->desired_0930 = NAN;
    struct workload_params w = {.profile = WORKLOAD_CONSTANT, .mean_rps = LAMBDA0, .n_classes = 1};
    for (unsigned day = 0; day < 3; day++) {
        w.changes[w.n_changes++] = (struct workload_change){sim_from_seconds(day * DAY + RAMP_START), FACTOR};
        w.changes[w.n_changes++] = (struct workload_change){sim_from_seconds(day * DAY + RAMP_END), 1.0};
    }
    w.classes[0] = (struct workload_class){.name = "api", .share = 1.0, .cpu = dist_exponential(DEMAND)};
    const double horizon = MEASURED_DAY * DAY + RAMP_START + WINDOW;
    sim *s = sim_create(20261202, rep, sim_from_seconds(horizon));
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = 60 * SIM_SEC, .warmup = 0}, on_row, o);
    struct cloud *c = cloud_create(s, cp, m, NULL);
    struct workload *wl = workload_create(s, &w, cloud_submit, c);
    sim_run(s);
    workload_destroy(wl);
    cloud_destroy(c);
    metrics_destroy(m);
    sim_destroy(s);
}

/* ---- the designs ----------------------------------------------------------------------------- */

static struct ec2_catalog catalog;

struct design {
    struct cloud_params p;
    conf *gc; /* kept until free_design: the params may borrow from it */
};

static void make_design(conf *cf, bool predictive, struct design *d)
{
    memset(d, 0, sizeof *d);
    char text[1024];
    snprintf(text, sizeof text,
             "asg: { instance_type = \"c6i.large\"; min = 1; max = 40; desired = %u;\n"
             "  policies = ( { type = \"target_tracking\"; metric = \"cpu\"; target = %g; }%s ); };\n",
             N0, TARGET, predictive ? ",\n    { type = \"predictive\"; metric = \"cpu\"; target = 50.0; }" : "");
    d->gc = conf_load_string(text, "validate_predictive", stderr);
    struct cloud_params *p = &d->p;
    bool ok = d->gc && az_parse(cf, NULL, &p->region) && ec2_parse(cf, NULL, &p->instances) &&
              elb_parse(cf, NULL, &p->lb) &&
              asg_parse(d->gc, conf_group(d->gc, conf_root(d->gc), "asg", true), &catalog, p->region.n, &p->asg);
    if (!ok) {
        fprintf(stderr, "validate_predictive: the design does not parse\n");
        exit(1);
    }
    p->has_asg = true;
}

static void free_design(struct design *d)
{
    asg_params_free(&d->p.asg);
    cloud_params_free(&d->p);
    conf_free(d->gc);
}

/* ---- checks -------------------------------------------------------------------------------- */



static void minmax(const double *x, unsigned n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (unsigned i = 0; i < n; i++) {
        *lo = fmin(*lo, x[i]);
        *hi = fmax(*hi, x[i]);
    }
}

int main(int argc, char **argv)
{
    unsigned reps = argc > 1 ? (unsigned)atoi(argv[1]) : 16;
    if (reps < 2 || reps > MAX_REPS) {
        fprintf(stderr, "usage: validate_predictive [reps in 2..%d]\n", MAX_REPS);
        return 2;
    }
    conf *cf = conf_load_string(catalog_text, "validate_predictive", stderr);
    if (!cf || !ec2_catalog_parse(cf, true, &catalog)) return 1;
    struct design tt, pred;
    make_design(cf, false, &tt);
    make_design(cf, true, &pred);

    const double load0 = LAMBDA0 * DEMAND, load1 = FACTOR * load0, per_inst = VCPU * SPEED * TARGET / 100;
    printf("# lambda0=%g/s d=%gs exponential (%.3g cores, U=%.2f%% on %u x c6i.large); x%g from 09:00 to 12:00 "
           "on days 1-3 (%.3g cores, %.3g%% on %u; target tracking needs ceil(%.3g/%.3g)=%g); measured: day 3 "
           "09:00-09:30, %u paired replications, interval level %g\n",
           LAMBDA0, DEMAND, load0, load0 / (N0 * VCPU * SPEED) * 100, N0, FACTOR, load1,
           load1 / (N0 * VCPU * SPEED) * 100, N0, load1, per_inst, ceil(load1 / per_inst - 1e-9), reps, level);

    double x_tt[MAX_REPS], x_pred[MAX_REPS], diff[MAX_REPS], max_tt[MAX_REPS], max_pred[MAX_REPS];
    double d_tt[MAX_REPS], d_pred[MAX_REPS], d54_tt[MAX_REPS], d54_pred[MAX_REPS], d930_tt[MAX_REPS],
        d930_pred[MAX_REPS], base_tt[MAX_REPS], base_pred[MAX_REPS];
    uint64_t err_tt = 0, err_pred = 0, ok_tt = 0, ok_pred = 0;
    unsigned not_raised = 0, bad_rows = 0;
    for (uint32_t r = 0; r < reps; r++) {
        struct outcome a, b;
        replicate(&tt.p, r, &a);
        replicate(&pred.p, r, &b);
        bad_rows += (a.rows != 30 || a.p99_rows != 30) + (b.rows != 30 || b.p99_rows != 30);
        x_tt[r] = a.p99_rows ? a.p99_sum / a.p99_rows : NAN;
        x_pred[r] = b.p99_rows ? b.p99_sum / b.p99_rows : NAN;
        diff[r] = x_tt[r] - x_pred[r];
        max_tt[r] = a.p99_max;
        max_pred[r] = b.p99_max;
        base_tt[r] = a.base_rows ? a.base_p99_sum / a.base_rows : NAN;
        base_pred[r] = b.base_rows ? b.base_p99_sum / b.base_rows : NAN;
        d_tt[r] = a.desired_0859;
        d_pred[r] = b.desired_0859;
        d54_tt[r] = a.desired_0854;
        d54_pred[r] = b.desired_0854;
        d930_tt[r] = a.desired_0930;
        d930_pred[r] = b.desired_0930;
        not_raised += !(b.desired_0859 > a.desired_0859); /* NaN counts as not raised */
        err_tt += a.errors;
        err_pred += b.errors;
        ok_tt += a.successes;
        ok_pred += b.successes;
        printf("rep=%u p99_mean_tt_s=%.4g p99_mean_pred_s=%.4g diff_s=%.4g p99_max_tt_s=%.4g p99_max_pred_s=%.4g "
               "desired_0854_tt=%g desired_0854_pred=%g desired_0859_tt=%g desired_0859_pred=%g desired_0930_tt=%g "
               "desired_0930_pred=%g errors_tt=%llu errors_pred=%llu\n",
               r, x_tt[r], x_pred[r], diff[r], max_tt[r], max_pred[r], a.desired_0854, b.desired_0854, a.desired_0859,
               b.desired_0859, a.desired_0930, b.desired_0930, (unsigned long long)a.errors,
               (unsigned long long)b.errors);
        fflush(stdout);
    }
    for (unsigned r = 0; r < reps; r++)
        if (!isfinite(diff[r])) {
            fprintf(stderr, "validate_predictive: replication %u has no p99 in the window\n", r);
            return 1;
        }

    struct stats_ci ct = stats_ci(x_tt, reps, level), cp = stats_ci(x_pred, reps, level), cd = stats_ci(diff, reps, level);
    struct stats_ci bt = stats_ci(base_tt, reps, level), bp = stats_ci(base_pred, reps, level);
    double lo, hi;
    printf("p99_window_mean_tt_s=%.4g ci=[%.4g,%.4g]\n", ct.mean, ct.lo, ct.hi);
    printf("p99_window_mean_pred_s=%.4g ci=[%.4g,%.4g]\n", cp.mean, cp.lo, cp.hi);
    minmax(max_tt, reps, &lo, &hi);
    printf("p99_window_max_tt_s_min=%.4g max=%.4g\n", lo, hi);
    minmax(max_pred, reps, &lo, &hi);
    printf("p99_window_max_pred_s_min=%.4g max=%.4g\n", lo, hi);
    printf("p99_base_0800_0850_tt_s=%.4g p99_base_0800_0850_pred_s=%.4g\n", bt.mean, bp.mean);
    printf("window_errors_tt=%llu window_successes_tt=%llu window_errors_pred=%llu window_successes_pred=%llu "
           "rows_not_30=%u\n",
           (unsigned long long)err_tt, (unsigned long long)ok_tt, (unsigned long long)err_pred,
           (unsigned long long)ok_pred, bad_rows);
    minmax(d54_tt, reps, &lo, &hi);
    printf("desired_0854_tt_min=%g max=%g", lo, hi);
    minmax(d54_pred, reps, &lo, &hi);
    printf(" desired_0854_pred_min=%g max=%g\n", lo, hi);
    minmax(d930_tt, reps, &lo, &hi);
    printf("desired_0930_tt_min=%g max=%g", lo, hi);
    minmax(d930_pred, reps, &lo, &hi);
    printf(" desired_0930_pred_min=%g max=%g\n", lo, hi);

    bool lower = cd.lo > 0;
    check_true("p99_latency_lower_with_predictive", lower,
               "diff_mean_s=%.4g diff_ci_lo=%.4g diff_ci_hi=%.4g tt_mean_s=%.4g pred_mean_s=%.4g reps=%u (paired, "
               "level %g)",
               cd.mean, cd.lo, cd.hi, ct.mean, cp.mean, reps, level);
    double tlo, thi, plo, phi;
    minmax(d_tt, reps, &tlo, &thi);
    minmax(d_pred, reps, &plo, &phi);
    check_true("predictive_raised_capacity_before_the_ramp", not_raised == 0,
               "desired_0859_tt_min=%g max=%g desired_0859_pred_min=%g max=%g reps_not_raised=%u", tlo, thi, plo, phi,
               not_raised);

    free_design(&tt);
    free_design(&pred);
    ec2_catalog_free(&catalog);
    conf_free(cf);
    if (checks != N_CHECKS) {
        fprintf(stderr, "validate_predictive: ran %d checks, N_CHECKS says %d\n", checks, N_CHECKS);
        failures++;
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
