/* asg.c: the auto scaling group (cloudwatch -> asg -> ec2 -> elb) against what its rules predict.
 *
 * Each case runs R independent replications (seeds (20261201, r), r = 0..R-1) of the real models: a
 * cloud design whose only instances belong to a group with one target tracking policy on CPU (target
 * 50%, the default alarms: 3 of 3 datapoints above, 15 of 15 below 35%; 60 s periods published 60 s
 * late; 300 s warm-up; boot lognormal mean 40 s cv 0.3; ALB health checks every 30 s). A check on a
 * mean passes when the predicted value lies inside the Student-t interval over the replications; a
 * check on a rule passes when every replication obeys it. There are N_CHECKS checks, so each interval
 * is at level 1 - 0.05/N_CHECKS (Bonferroni): a correct simulator fails any check with probability at
 * most 5%, and the seeds are fixed, so the outcome is reproducible.
 *
 * The group: c6i.large (2 vCPU, speed 1.13 as in configs/catalog/us-east-1.cfg), requests of
 * exponential CPU demand d = 40 ms. CPU utilization of n instances under lambda requests/s is
 * U = lambda d / (n vcpu speed); the capacity target tracking needs is ceil(lambda d / (vcpu speed
 * target)). Loads are chosen so that every datapoint lies many standard deviations (per-period CV
 * sqrt(2 / (lambda P)) for exponential demands) from every threshold and from every rounding edge of
 * ceil(n U / target), so the rules' outcomes are deterministic and the checks can be exact.
 *
 * Cases:
 *  (a) step up then down: 5 in service at lambda0 = 107/s (U = 37.9%, inside (35, 50): no action);
 *      the rate doubles at t0 = 600 s (U = 75.8%) and returns to lambda0 at t1 = 2400 s.
 *      Scale-out decision: the periods ending t0+60, t0+120, t0+180 are the first three above 50%,
 *      published 60 s later: exactly t0 + 3P + delay = t0 + 240 s, to ceil(5 U / 50) = 8.
 *      First new instance in service: the one launched first runs after its boot B and each of the
 *      3 balancer nodes sends its first check at a uniform phase in [0, I) (one passing check makes a
 *      new target healthy), so it takes traffic at t0 + 240 + B + min(U1, U2, U3) + check time, mean
 *      240 + 40 + I/4 + 0.001/1.13; the earliest of the three new instances to take traffic: the
 *      minimum of three such delays, E = int P(X > x)^3 dx with X = B + min(U1..U3), by quadrature.
 *      Every replication must fall within the stated rule +- one period.
 *      Capacity before t1: ceil(2 lambda0 d / (2 x 1.13 x 0.5)) = 8, within one.
 *      Scale-in decision: 15 datapoints below 35% (U = 37.9% x 5/8 = 23.7%): t1 + 15P + delay = t1 +
 *      960 s; scale-in (960 s) is slower than scale-out (240 s). Capacity at the end: 4, within one,
 *      and after the step down it must never fall more than one below those 4 (a scale-in that
 *      overshoots leaves the load on too few instances until a scale-out repairs it).
 *  (b) the same step with t0 uniform within a period (a low-discrepancy sequence over replications):
 *      the period that straddles t0 may or may not be above target, so the decision comes 2 or 3
 *      periods after the first period end past t0, plus the delay: within 3P + delay +- P of t0.
 *  (c) steady load: 40/s of 200 ms (8.0 cores: U = 44.4% at the capacity target tracking settles on,
 *      ceil(2 x 8.0 / 2.26) = 8), from 2 in service (saturated at first) and from 20 (U = 17.8%).
 *      After a 2 h settling, scaling actions over the next 24 h: the high alarm needs 3 consecutive
 *      datapoints above 50% (4.4 sd away: about 1e-16 per minute), the low one 15 below 35% (7 sd):
 *      the expectation is 0 per day; the check allows 2 (one spurious scale-out and the scale-in
 *      that undoes it) in every replication, and reports the mean.
 *
 * Usage: validate_asg [scale]   (scale multiplies the steady-state horizon; default 1)
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

#define N_CHECKS 16
#define MAX_REPS 64
#define MAX_INST 512
#define MAX_SCALINGS 256
static const double level = 1.0 - 0.05 / N_CHECKS;
static double scale = 1.0;

/* c6i.large as listed in configs/catalog/us-east-1.cfg (vCPU 2, speed 1.13). */
static const char catalog_text[] =
    "ec2_catalog: { region = \"us-east-1\"; prices_date = \"2026-11\"; source = \"validation\";\n"
    "  types = ( { name = \"c6i.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.13; } ); };\n";

static const double P = 60, DELAY = 60, TARGET = 50, LOW_RATIO = 0.7, HIGH_N = 3, LOW_N = 15;
static const double VCPU = 2, SPEED = 1.13;

/* ---- one run ------------------------------------------------------------------------------- */

struct outcome {
    unsigned n_scalings;
    double scaling_t[MAX_SCALINGS], scaling_to[MAX_SCALINGS], scaling_cpu[MAX_SCALINGS];
    double pending[MAX_INST], running[MAX_INST], healthy[MAX_INST], terminated[MAX_INST]; /* s, -1 none */
    unsigned n_inst;
    unsigned final_desired, final_pending, final_in_service;
    uint64_t errors;
};

struct run_ctx {
    struct outcome *o;
    struct cloud *c;
};

static int on_row(void *ctx, const struct metrics_row *row)
{
    ((struct run_ctx *)ctx)->o->errors += row->errors;
    return 0;
}

static int on_event(void *ctx, const struct metrics_event *ev)
{
    struct run_ctx *rc = ctx;
    struct outcome *o = rc->o;
    int64_t id = ev->id;
    switch (ev->kind) {
    case METRICS_EV_SCALING:
        if (o->n_scalings < MAX_SCALINGS) {
            o->scaling_t[o->n_scalings] = ev->t_s;
            o->scaling_to[o->n_scalings] = ev->value;
            o->scaling_cpu[o->n_scalings] = rc->c ? asg_metric_value(cloud_asg(rc->c), ASG_CPU) : NAN;
            o->n_scalings++;
        }
        break;
    case METRICS_EV_INSTANCE_PENDING:
        if (id >= 0 && id < MAX_INST) {
            o->pending[id] = ev->t_s;
            if ((unsigned)id + 1 > o->n_inst) o->n_inst = (unsigned)id + 1;
        }
        break;
    case METRICS_EV_INSTANCE_RUNNING:
        if (id >= 0 && id < MAX_INST && o->running[id] < 0) o->running[id] = ev->t_s;
        break;
    case METRICS_EV_TARGET_HEALTHY:
        if (id >= 0 && id < MAX_INST && o->healthy[id] < 0) o->healthy[id] = ev->t_s;
        break;
    case METRICS_EV_INSTANCE_TERMINATED:
        if (id >= 0 && id < MAX_INST) o->terminated[id] = ev->t_s;
        break;
    default: break;
    }
    return 0;
}

struct scenario {
    const struct cloud_params *cp;
    double lambda0, demand;
    unsigned n_changes;
    struct workload_change changes[4];
    double horizon_s;
};

static void replicate(const struct scenario *sc, uint32_t rep, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    for (unsigned i = 0; i < MAX_INST; i++) o->pending[i] = o->running[i] = o->healthy[i] = o->terminated[i] = -1;
    struct workload_params w = {.profile = WORKLOAD_CONSTANT, .mean_rps = sc->lambda0, .n_classes = 1,
                                .n_changes = sc->n_changes};
    for (unsigned i = 0; i < sc->n_changes; i++) w.changes[i] = sc->changes[i];
    w.classes[0] = (struct workload_class){.name = "api", .share = 1.0, .cpu = dist_exponential(sc->demand)};
    struct run_ctx rc = {o, NULL};
    sim *s = sim_create(20261201, rep, sim_from_seconds(sc->horizon_s));
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = 60 * SIM_SEC, .warmup = 0}, on_row, &rc);
    metrics_set_event_sink(m, on_event, &rc);
    struct cloud *c = cloud_create(s, sc->cp, m, NULL);
    rc.c = c;
    struct workload *wl = workload_create(s, &w, cloud_submit, c);
    sim_run(s);
    const struct asg *g = cloud_asg(c);
    unsigned terminating;
    o->final_desired = asg_desired(g);
    asg_counts(g, &o->final_pending, &o->final_in_service, &terminating);
    workload_destroy(wl);
    cloud_destroy(c);
    metrics_destroy(m);
    sim_destroy(s);
}

/* Desired capacity just before t (the initial value if no scaling came before). */
static double desired_before(const struct outcome *o, double initial, double t)
{
    double d = initial;
    for (unsigned i = 0; i < o->n_scalings && o->scaling_t[i] < t; i++) d = o->scaling_to[i];
    return d;
}

/* ---- the design ------------------------------------------------------------------------------ */

static struct ec2_catalog catalog;

/* A group of c6i.large, min..max, `desired` in service at the start, one target tracking policy on
 * CPU at TARGET with the default alarms; everything else at its default. */
static conf *design_conf;

static void make_design(conf *cf, unsigned min, unsigned max, unsigned desired, struct cloud_params *p)
{
    memset(p, 0, sizeof *p);
    char text[1024];
    snprintf(text, sizeof text,
             "asg: { instance_type = \"c6i.large\"; min = %u; max = %u; desired = %u;\n"
             "  policies = ( { type = \"target_tracking\"; metric = \"cpu\"; target = %g; } ); };\n",
             min, max, desired, TARGET);
    conf *gc = conf_load_string(text, "validate_asg", stderr);
    bool ok = gc && az_parse(cf, NULL, &p->region) && ec2_parse(cf, NULL, &p->instances) && elb_parse(cf, NULL, &p->lb) &&
              asg_parse(gc, conf_group(gc, conf_root(gc), "asg", true), &catalog, p->region.n, &p->asg);
    if (!ok) {
        fprintf(stderr, "validate_asg: the design does not parse\n");
        exit(1);
    }
    p->has_asg = true;
    design_conf = gc; /* kept until free_design: the params may borrow from it */
}

static void free_design(struct cloud_params *p)
{
    asg_params_free(&p->asg);
    cloud_params_free(p);
    conf_free(design_conf);
    design_conf = NULL;
}

/* ---- checks -------------------------------------------------------------------------------- */


static void check_ci(const char *name, double exact, const double *x, unsigned n, const char *extra)
{
    struct stats_ci ci = stats_ci(x, n, level);
    bool pass = exact >= ci.lo && exact <= ci.hi;
    failures += !pass;
    checks++;
    printf("check=%s predicted=%.6g mean=%.6g ci_lo=%.6g ci_hi=%.6g reps=%u%s%s pass=%d\n", name, exact, ci.mean, ci.lo,
           ci.hi, n, extra ? " " : "", extra ? extra : "", pass);
}


static void minmax(const double *x, unsigned n, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (unsigned i = 0; i < n; i++) {
        *lo = fmin(*lo, x[i]);
        *hi = fmax(*hi, x[i]);
    }
}

/* ---- theory ---------------------------------------------------------------------------------- */

/* P(B > b) for B lognormal with mean m and coefficient of variation cv. */
static double lognormal_sf(double b, double m, double cv)
{
    if (b <= 0) return 1;
    double s2 = log(1 + cv * cv), mu = log(m) - s2 / 2;
    return 0.5 * erfc((log(b) - mu) / sqrt(2 * s2));
}

/* E[min of k iid X], X = B + M, B lognormal (m, cv), M the minimum of `nodes` uniforms on [0, I) (density
 * nodes (1 - u/I)^(nodes-1) / I): E = int_0^inf P(X > x)^k dx with P(X > x) = int_0^I f_M(u) P(B > x - u) du,
 * both by the midpoint rule (steps 0.05 s and I/400; the integrand is negligible beyond 400 s). */
static double expected_min_in_service(unsigned k, double m, double cv, unsigned nodes, double I)
{
    const unsigned NU = 400;
    const double dx = 0.05, xmax = 400;
    double e = 0;
    for (double x = dx / 2; x < xmax; x += dx) {
        double sf = 0;
        for (unsigned j = 0; j < NU; j++) {
            double u = (j + 0.5) * I / NU;
            double fm = nodes * pow(1 - u / I, nodes - 1) / I; /* density of the minimum */
            sf += fm * lognormal_sf(x - u, m, cv) * (I / NU);
        }
        e += pow(sf, k) * dx;
    }
    return e;
}

/* ---- (a) step up, step down ------------------------------------------------------------------ */

static void case_step(conf *cf)
{
    const unsigned reps = 30, n0 = 5;
    const double d = 0.040, lambda0 = 107, t0 = 600, t1 = 2400, horizon = 4200;
    const double u0 = lambda0 * d / (n0 * VCPU * SPEED) * 100, u1 = 2 * u0;
    const double need_high = ceil(2 * lambda0 * d / (VCPU * SPEED * TARGET / 100) - 1e-9);
    const double need_low = ceil(lambda0 * d / (VCPU * SPEED * TARGET / 100) - 1e-9);
    const double first_action = ceil(n0 * u1 / TARGET - 1e-9);
    struct cloud_params p;
    make_design(cf, 1, 40, n0, &p);
    const double I = sim_to_seconds(p.lb.interval), check_s = p.lb.check_cpu / SPEED;
    const double boot_mean = dist_mean(&p.instances.boot), boot_cv = 0.3;
    const double out_rule = HIGH_N * P + DELAY, in_rule = LOW_N * P + DELAY;
    struct scenario sc = {&p, lambda0, d, 2, {{sim_from_seconds(t0), 2.0}, {sim_from_seconds(t1), 1.0}}, horizon};

    double dec_out[MAX_REPS], dec_in[MAX_REPS], diff[MAX_REPS], run_first[MAX_REPS], healthy_first[MAX_REPS];
    double healthy_earliest[MAX_REPS], boot_first[MAX_REPS], cap_high[MAX_REPS], cap_end[MAX_REPS], cap_min_after[MAX_REPS];
    double actions_after_in[MAX_REPS];
    unsigned bad_action = 0, bad_window = 0, n_new_bad = 0, unsettled = 0;
    uint64_t errors = 0;
    struct outcome *o = malloc(sizeof *o);
    for (uint32_t r = 0; r < reps; r++) {
        replicate(&sc, r, o);
        errors += o->errors;
        double t_out = -1, to_out = 0, cpu_out = NAN, t_in = -1;
        for (unsigned i = 0; i < o->n_scalings; i++) {
            if (t_out < 0 && o->scaling_t[i] > t0 && o->scaling_to[i] > n0) {
                t_out = o->scaling_t[i];
                to_out = o->scaling_to[i];
                cpu_out = o->scaling_cpu[i];
            }
            if (t_in < 0 && o->scaling_t[i] > t1) t_in = o->scaling_t[i];
        }
        dec_out[r] = t_out - t0;
        dec_in[r] = t_in - t1;
        diff[r] = dec_in[r] - dec_out[r];
        bad_action += !(fabs(to_out - ceil(n0 * cpu_out / TARGET - 1e-9)) <= 0 && fabs(to_out - first_action) <= 0);
        /* the instances launched by that decision */
        unsigned first_new = n0, n_new = 0;
        double earliest = INFINITY;
        for (unsigned i = n0; i < o->n_inst; i++)
            if (fabs(o->pending[i] - t_out) <= 0) {
                n_new++;
                if (o->healthy[i] >= 0) earliest = fmin(earliest, o->healthy[i] - t0);
            }
        n_new_bad += n_new != (unsigned)(first_action - n0);
        run_first[r] = o->running[first_new] - t0;
        healthy_first[r] = o->healthy[first_new] - t0;
        boot_first[r] = o->running[first_new] - o->pending[first_new];
        healthy_earliest[r] = earliest;
        double in_service_after_boot = healthy_first[r] - boot_first[r];
        bad_window += !(in_service_after_boot >= out_rule - P && in_service_after_boot <= out_rule + I + P);
        cap_high[r] = desired_before(o, n0, t1);
        cap_end[r] = o->final_desired;
        unsettled += o->final_pending + o->final_in_service != o->final_desired;
        double lowest = cap_high[r], count = 0;
        for (unsigned i = 0; i < o->n_scalings; i++)
            if (o->scaling_t[i] > t1) {
                lowest = fmin(lowest, o->scaling_to[i]);
                count++;
            }
        cap_min_after[r] = lowest;
        actions_after_in[r] = count;
    }
    free(o);
    double lo, hi;
    printf("# (a) step: %u x c6i.large in service, d=%gs exponential, lambda0=%g/s (U=%.2f%%), x2 at t0=%gs "
           "(U=%.2f%% on %u), back at t1=%gs; target %g%%, low %g%%; boot mean %gs cv %g; health check interval %gs; "
           "errors=%llu\n",
           n0, d, lambda0, u0, t0, u1, n0, t1, TARGET, TARGET * LOW_RATIO, boot_mean, boot_cv, I,
           (unsigned long long)errors);
    minmax(dec_out, reps, &lo, &hi);
    check_true("scale_out_decision_s_after_step", lo >= out_rule && hi <= out_rule,
               "rule=%g (3 periods x %gs + %gs delay) measured_min=%.9g measured_max=%.9g", out_rule, P, DELAY, lo, hi);
    check_true("scale_out_first_action_is_ceil_n_cpu_over_target", bad_action == 0 && n_new_bad == 0,
               "expected=%g (ceil(%u x %.2f / %g)) reps_otherwise=%u reps_with_other_launch_count=%u", first_action, n0,
               u1, TARGET, bad_action, n_new_bad);
    check_ci("first_new_instance_running_s_after_step", out_rule + boot_mean, run_first, reps, "(rule + E[boot])");
    char note[200];
    snprintf(note, sizeof note, "(rule + E[boot] + E[min of 3 phases U(0,%g)] + check %.3gs)", I, check_s);
    check_ci("first_new_instance_in_service_s_after_step", out_rule + boot_mean + I / 4 + check_s, healthy_first, reps,
             note);
    double e_earliest = out_rule + expected_min_in_service((unsigned)(first_action - n0), boot_mean, boot_cv, 3, I) + check_s;
    check_ci("earliest_new_instance_in_service_s_after_step", e_earliest, healthy_earliest, reps,
             "(rule + E[min over the 3 new of boot + min phase], quadrature)");
    minmax(healthy_first, reps, &lo, &hi);
    double blo, bhi;
    minmax(boot_first, reps, &blo, &bhi);
    check_true("in_service_delay_minus_boot_within_rule_plus_minus_one_period", bad_window == 0,
               "window=[%g,%g] (rule - P, rule + I + P) in_service_delay_min=%.6g max=%.6g boot_min=%.4g max=%.4g "
               "reps_outside=%u",
               out_rule - P, out_rule + I + P, lo, hi, blo, bhi, bad_window);
    minmax(cap_high, reps, &lo, &hi);
    check_true("capacity_after_step_up_within_one_of_requirement", lo >= need_high - 1 && hi <= need_high + 1,
               "required=%g (ceil(%g x %g / (%g x %g x %g))) measured_min=%g measured_max=%g", need_high, 2 * lambda0, d,
               VCPU, SPEED, TARGET / 100, lo, hi);
    minmax(dec_in, reps, &lo, &hi);
    check_true("scale_in_decision_s_after_step_down", lo >= in_rule && hi <= in_rule,
               "rule=%g (15 periods x %gs + %gs delay) measured_min=%.9g measured_max=%.9g", in_rule, P, DELAY, lo, hi);
    struct stats_ci ci = stats_ci(diff, reps, level);
    bool slower = ci.lo > 0 || (fabs(ci.hi - ci.lo) <= 0 && ci.mean > 0);
    failures += !slower;
    checks++;
    printf("check=scale_in_slower_than_scale_out scale_out_s=%.6g scale_in_s=%.6g diff_mean=%.6g diff_ci_lo=%.6g "
           "diff_ci_hi=%.6g reps=%u (paired) pass=%d\n",
           stats_ci(dec_out, reps, level).mean, stats_ci(dec_in, reps, level).mean, ci.mean, ci.lo, ci.hi, reps, slower);
    minmax(cap_end, reps, &lo, &hi);
    check_true("capacity_after_step_down_within_one_of_requirement", lo >= need_low - 1 && hi <= need_low + 1 && unsettled == 0,
               "required=%g measured_min=%g measured_max=%g reps_unsettled=%u", need_low, lo, hi, unsettled);
    minmax(cap_min_after, reps, &lo, &hi);
    double alo, ahi;
    minmax(actions_after_in, reps, &alo, &ahi);
    check_true("scale_in_never_goes_below_requirement_minus_one", lo >= need_low - 1,
               "required=%g lowest_capacity_min=%g lowest_capacity_max=%g actions_after_step_down_min=%g max=%g "
               "mean=%.3g",
               need_low, lo, hi, alo, ahi, stats_ci(actions_after_in, reps, level).mean);
    free_design(&p);
}

/* ---- (b) step at a random phase of the period ------------------------------------------------ */

static void case_step_phase(conf *cf)
{
    const unsigned reps = 30, n0 = 5;
    const double d = 0.040, lambda0 = 107, horizon = 1200;
    struct cloud_params p;
    make_design(cf, 1, 40, n0, &p);
    const double out_rule = HIGH_N * P + DELAY;
    double dec[MAX_REPS], phase[MAX_REPS];
    struct outcome *o = malloc(sizeof *o);
    for (uint32_t r = 0; r < reps; r++) {
        phase[r] = fmod(0.5 + r * 0.6180339887498949, 1.0); /* golden-ratio sequence: even cover of [0, 1) */
        double t0 = 600 + phase[r] * P;
        struct scenario sc = {&p, lambda0, d, 1, {{sim_from_seconds(t0), 2.0}}, horizon};
        replicate(&sc, r, o);
        dec[r] = -1;
        for (unsigned i = 0; i < o->n_scalings; i++)
            if (o->scaling_t[i] > t0 && o->scaling_to[i] > n0) {
                dec[r] = o->scaling_t[i] - t0;
                break;
            }
    }
    free(o);
    double lo, hi, predicted = 0;
    minmax(dec, reps, &lo, &hi);
    /* the straddling period is above target when the share s = 1 - phase of it at the doubled rate
     * makes U0 + s U0 > TARGET; then the decision comes 2 periods after its end, else 3 */
    const double u0 = lambda0 * d / (n0 * VCPU * SPEED) * 100, s_star = (TARGET - u0) / u0;
    for (unsigned r = 0; r < reps; r++) {
        double sh = 1 - phase[r];
        predicted += (sh * P + (HIGH_N - 1) * P + DELAY + (sh > s_star ? 0 : P)) / reps;
    }
    printf("# (b) the same step at t0 = 600 s + phase x %gs, phases spread over [0, 1); the straddling period is high "
           "when more than %.3f of it is at the doubled rate: predicted mean delay %.6g s, measured %.6g s\n",
           P, s_star, predicted, stats_ci(dec, reps, level).mean);
    check_true("scale_out_decision_within_rule_plus_minus_one_period", lo >= out_rule - P && hi <= out_rule + P,
               "window=[%g,%g] measured_min=%.6g measured_max=%.6g mean=%.6g", out_rule - P, out_rule + P, lo, hi,
               stats_ci(dec, reps, level).mean);
    free_design(&p);
}

/* ---- (c) steady load ------------------------------------------------------------------------- */

static void case_steady(conf *cf, unsigned n0)
{
    const unsigned reps = 6;
    const double d = 0.200, lambda = 40, settle = 7200, day = 86400 * scale;
    const double u_star_n = ceil(lambda * d / (VCPU * SPEED * TARGET / 100) - 1e-9);
    const double u_star = lambda * d / (u_star_n * VCPU * SPEED) * 100;
    const double sd = u_star * sqrt(2 / (lambda * P));
    struct cloud_params p;
    make_design(cf, 1, 40, n0, &p);
    struct scenario sc = {&p, lambda, d, 0, {{0, 0}}, settle + day};
    double per_day[MAX_REPS], settle_actions[MAX_REPS], settled[MAX_REPS], lowest[MAX_REPS], end[MAX_REPS];
    struct outcome *o = malloc(sizeof *o);
    for (uint32_t r = 0; r < reps; r++) {
        replicate(&sc, r, o);
        unsigned k = 0, s = 0;
        double low = n0;
        for (unsigned i = 0; i < o->n_scalings; i++) {
            if (o->scaling_t[i] > settle) k++;
            else {
                s++;
                low = fmin(low, o->scaling_to[i]);
            }
        }
        per_day[r] = k / (day / 86400);
        settle_actions[r] = s;
        settled[r] = desired_before(o, n0, settle);
        lowest[r] = low;
        end[r] = o->final_desired;
    }
    free(o);
    double lo, hi, slo, shi, llo, lhi, elo, ehi, alo, ahi;
    minmax(settle_actions, reps, &alo, &ahi);
    minmax(per_day, reps, &lo, &hi);
    minmax(settled, reps, &slo, &shi);
    minmax(lowest, reps, &llo, &lhi);
    minmax(end, reps, &elo, &ehi);
    printf("# (c) steady load from %u in service: lambda=%g/s, d=%gs (%.4g cores); settles at %g (U=%.2f%%, per-period "
           "sd %.2f pp: %.1f sd below the target, %.1f sd above the low threshold); settling %gs, then %gs counted\n",
           n0, lambda, d, lambda * d, u_star_n, u_star, sd, (TARGET - u_star) / sd, (u_star - TARGET * LOW_RATIO) / sd,
           settle, day);
    printf("# (c) settling from %u: scaling actions min=%g mean=%.3g max=%g; lowest capacity while settling min=%g max=%g\n",
           n0, alo, stats_ci(settle_actions, reps, level).mean, ahi, llo, lhi);
    char name[80];
    snprintf(name, sizeof name, "steady_from_%u_settles_within_one_of_the_required_capacity", n0);
    check_true(name, slo >= u_star_n - 1 && shi <= u_star_n + 1 && elo >= u_star_n - 1 && ehi <= u_star_n + 1,
               "required=%g at_%gs_min=%g max=%g at_end_min=%g max=%g", u_star_n, settle, slo, shi, elo, ehi);
    snprintf(name, sizeof name, "steady_from_%u_scaling_actions_per_day", n0);
    check_true(name, hi <= 2, "bound=2 (expected 0: see the file comment) mean=%.4g min=%g max=%g reps=%u",
               stats_ci(per_day, reps, level).mean, lo, hi, reps);
    free_design(&p);
}

int main(int argc, char **argv)
{
    scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: validate_asg [scale > 0]\n");
        return 2;
    }
    conf *cf = conf_load_string(catalog_text, "validate_asg", stderr);
    if (!cf || !ec2_catalog_parse(cf, true, &catalog)) return 1;
    printf("# intervals at level %.5f (Bonferroni over %d checks)\n", level, N_CHECKS);
    case_step(cf);
    case_step_phase(cf);
    case_steady(cf, 2);
    case_steady(cf, 20);
    ec2_catalog_free(&catalog);
    conf_free(cf);
    if (checks != N_CHECKS) {
        fprintf(stderr, "validate_asg: ran %d checks, N_CHECKS says %d\n", checks, N_CHECKS);
        failures++;
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
