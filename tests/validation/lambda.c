/* lambda.c: the serverless design kind (workload -> lambda -> metrics) against theory and a published
 * simulation.
 *
 * Every case builds its study from a config text (with the prices group of
 * configs/catalog/us-east-1.cfg, tests/prices.h) with study_parse, then runs the real models
 * replication by replication on engines seeded (20261130, r), r = 0..R-1, collecting the metrics rows
 * through a row callback and the function's counters (lambda_stats) at the warm-up instant (a driver
 * event) and at the horizon. Checks of a random quantity use Student-t intervals over the replications
 * at the level 1 - 0.05/N_CHECKS (Bonferroni over all checks, also the exact ones): a correct simulator
 * fails any of them with probability at most 5%, and the seeds are fixed, so the outcome is
 * reproducible. An interval is never widened.
 *
 * Cases:
 *  (a) SimFaaS (Mahmoudi & Khazaei, ICPE 2021; pacslab/simfaas README, aws-facts.md section 5.6):
 *      Poisson arrivals at 0.9/s, warm service exponential with mean 1.991 s, cold service mean 2.244 s,
 *      an instance expires after 600 s idle, at most 1000 at once. One run of 10^6 s published:
 *      1213 cold starts in 898,469 requests (P(cold) = 0.00135, printed as 0.0014), on average 7.6612
 *      instances, of which 1.7879 running and 5.8733 idle. Here: memory 2048 MB (speed 1), CPU
 *      exponential mean 1.991 s, a cold start of 0.253 s fixed (so a cold request takes 2.244 s on
 *      average, as in SimFaaS; SimFaaS draws the whole cold service from one exponential of mean 2.244
 *      s: same mean, other shape), keep-alive 600 s fixed, no lifetime limit (1e9 s), timeout 900 s.
 *      Per replication, after a 2-hour warm-up: P(cold) = cold starts / invocations and the mean
 *      environment count = environment-seconds / measured seconds. Checks, as the issue asks:
 *      |mean - published| <= the interval's half-width, for P(cold) and the mean instances. The
 *      published figures are themselves one run with its own sampling error (about 3% for P(cold):
 *      ~1200 cold starts), so the replications here add up to the same amount of simulated time,
 *      10^6 s after warm-up: an interval from a study of that size is as wide as the published
 *      figure's own error times t/sqrt(2), not a far narrower one that a correct model would fail
 *      against the published noise (this case ignores `scale` for that reason). Measured while writing
 *      this: ten runs of 10^6 s each give 7.703 instances, interval +-0.021, which excludes 7.6612; a
 *      separate reimplementation of SimFaaS' own rules (newest instance first, exponential cold
 *      service; a throw-away C program, not part of strato) gives 7.711 +- 0.007 (standard error, ten
 *      runs of 10^6 s; one run's standard deviation 0.022), and with strato's rules 7.701 +- 0.009. So
 *      the published 7.6612 is a low draw, about two standard deviations of one run below SimFaaS' own
 *      long-run mean, not a difference of model; P(cold) agrees at any length (0.001343 +- 0.000038
 *      over 10^7 s). A third check uses exact theory instead of the published figure:
 *      by Little's law the mean of executions in progress (initialising or running) is
 *      lambda x E[duration] = 0.9 x (1.991 + 0.253 P(cold)) with the measured P(cold), whose error moves
 *      it by less than 1e-5 (SimFaaS' "running" count, printed).
 *      SimFaaS routes a warm request to the idle instance created last, strato to the one used last
 *      (as AWS does); both keep the youngest instances busy and let the others expire.
 *  (b) Erlang B. Account concurrency L = 10 (so at most 10 executions), keep-alive and lifetime 1e9 s
 *      (environments never go), a cold start of 1 ms (only while the first 10 environments appear),
 *      exponential service of mean 1 s, Poisson arrivals, synchronous invocation: a request that finds
 *      10 executions in progress is throttled (429) and lost, so the function is an M/M/L/L loss system
 *      and the throttled fraction is Erlang B(L, a), a = lambda x 1 s, at a = 5, 8 and 12 erlangs.
 *      Measured from the rows after a 100-s warm-up: throttled errors / arrivals.
 *  (c) The keep-alive rule. One function, Poisson arrivals at 1/600 per s, service 10 ms fixed, keep-
 *      alive T = 600 s fixed, cold start 1 ms. An environment goes idle when its request completes and is
 *      reclaimed T later, so an arrival is warm iff the previous request completed before it (gap >
 *      s) and at most T before it (gap <= s + T); gaps are exponential and independent, so the cold
 *      indicators are independent Bernoulli trials with
 *          P(cold) = 1 - exp(-lambda s) + exp(-lambda (s + T)) = 0.36789...
 *      (first term: arrivals during the previous service). Neglected: a second environment left by such
 *      an overlap (probability lambda s = 1.7e-5, and then only a second-order change) and the 1 ms
 *      longer duration after a cold start (lambda x 1 ms = 1.7e-6): both far below the interval.
 *  (d) Provisioned concurrency N = 20 removes cold starts while the executions in progress stay <= N.
 *      Provisioned environments initialise at t = 0 with a cold start of 1 s fixed; the workload sends
 *      nothing before 1.5 s (a rate change to 0 at 0 s and back at 1.5 s), so every request finds them
 *      ready. A request is served by an idle provisioned environment first, then an idle on-demand one,
 *      and starts a new environment (a cold start) only when none is idle, that is when N + (on-demand
 *      environments alive) executions are in progress counting its own, so more than N. Two loads of
 *      exponential 1-s requests, 10 runs of 2 h each: 7/s (mean concurrency 7, above 20 about 1e-4 of
 *      the time: about half the runs never exceed N and several of those reach exactly N) and 16/s
 *      (mean 16, above 20 about 13% of the time). Checks: every run whose most executions at once never
 *      exceeded N has no cold start (and some run reached exactly N, so that an off-by-one would show);
 *      every 1-s report interval with a cold start has lambda_concurrency_max > N (and there are such
 *      intervals, and intervals whose maximum is exactly N).
 *  (e) The scaling rule: at most 1000 new environments per function in each 10-s window aligned on
 *      multiples of 10 s. From zero: no arrivals before 5 s, 400/s from 5 s to 35 s, 20/s after, requests
 *      of 100 s CPU fixed (memory 2048 MB: 100 s each, so no environment comes free before the horizon,
 *      100 s), cold start 0.2 s, account concurrency 100,000, synchronous. Every arrival needs a new
 *      environment, so in each 5-s report interval (two per window, starting on a window boundary)
 *      cold starts = min(left in the window, arrivals), throttles = the rest, where each window starts
 *      with 1000 left. The program works this series out from each row's arrivals and compares every
 *      row: cold starts, invocations, throttled attempts and throttled errors, exactly. The burst
 *      starting mid-window (5 s) tells windows aligned on multiples of 10 s from windows that start
 *      with the first new environment.
 *
 * Usage: validate_lambda [scale]   (scale multiplies the horizons of (b)-(d); default 1)
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "lambda.h"
#include "metrics.h"
#include "prices.h"
#include "stats.h"
#include "study.h"
#include "theory.h"
#include "workload.h"

#define N_CHECKS 10
#define MAX_REPS 32
static const double level = 1.0 - 0.05 / N_CHECKS;
static double scale = 1.0;

/* ---- a study from text, and one run of it -------------------------------------------------- */

struct study {
    conf *c;
    struct study_params p;
};

/* Parses body + the prices group; exits on a mistake (a bug in this program). */
static void study_load(struct study *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void study_load(struct study *st, const char *fmt, ...)
{
    char body[8192], text[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(text, sizeof text, "%s\n%s\n", body, TEST_PRICES);
    st->c = conf_load_string(text, "validate_lambda", stderr);
    if (!st->c || !study_parse(st->c, NULL, &st->p) || st->p.n_designs != 1 ||
        st->p.designs[0].kind != DESIGN_SERVERLESS) {
        fprintf(stderr, "validate_lambda: a case's study does not parse:\n%s\n", text);
        exit(1);
    }
}

static void study_free(struct study *st)
{
    study_params_free(&st->p);
    conf_free(st->c);
}

/* What a row says about Lambda. */
struct row {
    double t_s;
    uint64_t arrivals, throttled_errors, errors;
    double invocations, cold_starts, throttles, concurrency_max;
};

struct run {
    struct lambda_stats warm, end; /* function 0 at the warm-up instant (zeros without one) and at the horizon */
    double measured_s;             /* horizon - warm-up */
    struct row *rows;
    size_t n_rows, cap_rows;
    uint64_t arrivals_after, throttled_after; /* over the rows after the warm-up */
    double warmup_s;
};

static int on_row(void *ctx, const struct metrics_row *mr)
{
    struct run *r = ctx;
    if (r->n_rows == r->cap_rows) {
        r->cap_rows = r->cap_rows ? 2 * r->cap_rows : 64;
        r->rows = realloc(r->rows, r->cap_rows * sizeof *r->rows);
        if (!r->rows) return -1;
    }
    r->rows[r->n_rows++] = (struct row){mr->t_s,
                                        mr->arrivals,
                                        mr->errors_by[METRICS_ERR_THROTTLED],
                                        mr->errors,
                                        mr->lambda_invocations,
                                        mr->lambda_cold_starts,
                                        mr->lambda_throttles,
                                        mr->lambda_concurrency_max};
    if (mr->t_s > r->warmup_s + 1e-9) { /* intervals that begin at or after the warm-up */
        r->arrivals_after += mr->arrivals;
        r->throttled_after += mr->errors_by[METRICS_ERR_THROTTLED];
    }
    return 0;
}

/* The driver: one event at the warm-up instant, which takes the function's counters. */
struct driver {
    struct lambda *l;
    struct run *r;
};

static void on_snapshot(sim *s, void *self, const void *payload)
{
    (void)s;
    (void)payload;
    struct driver *d = self;
    lambda_stats(d->l, 0, &d->r->warm);
}

static sim_handler_fn *const driver_handlers[1] = {on_snapshot};
static const char *const driver_kinds[1] = {"snapshot_at_warmup"};
static const sim_model_ops driver_ops = {"validate_lambda_driver", 1, driver_handlers, driver_kinds, NULL};

/* Replication rep of the study's one design; the caller frees r->rows. */
static void replicate(const struct study *st, uint32_t rep, struct run *r)
{
    memset(r, 0, sizeof *r);
    r->warmup_s = sim_to_seconds(st->p.warmup);
    r->measured_s = sim_to_seconds(st->p.horizon - st->p.warmup);
    sim *s = sim_create(st->p.seed, rep, st->p.horizon);
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = st->p.interval, .warmup = st->p.warmup}, on_row, r);
    struct lambda *l = lambda_create(s, &st->p.designs[0].u.lambda, m, NULL);
    struct driver d = {l, r};
    if (st->p.warmup > 0) {
        uint16_t id = sim_register(s, &driver_ops, &d);
        sim_schedule_at(s, st->p.warmup, id, 0, NULL, 0);
    }
    struct workload *w = workload_create(s, &st->p.workload, lambda_submit, l);
    enum sim_end end = sim_run(s);
    /* SIM_END_EMPTY is fine when the last event (the last row) ran at the horizon */
    if (end == SIM_END_STOPPED || sim_now(s) != st->p.horizon || metrics_status(m) != 0) {
        fprintf(stderr, "validate_lambda: a run ended early (end %d at %g s, metrics status %d)\n", (int)end,
                sim_to_seconds(sim_now(s)), metrics_status(m));
        exit(1);
    }
    lambda_stats(l, 0, &r->end);
    workload_destroy(w);
    lambda_destroy(l);
    metrics_destroy(m);
    sim_destroy(s);
}

/* ---- (a) SimFaaS --------------------------------------------------------------------------- */

static void case_simfaas(void)
{
    const unsigned reps = 10;
    const double warmup = 7200, measured = 1e5; /* 10 x 1e5 s: SimFaaS' 1e6 s, whatever the scale */
    const double lambda = 0.9, warm_s = 1.991, init_s = 0.253;
    const double pub_cold = 1213.0 / 898469.0, pub_instances = 7.6612, pub_running = 1.7879, pub_idle = 5.8733;
    struct study st;
    study_load(&st,
               "study: { horizon = \"%.17gs\"; report_interval = \"%.17gs\"; warmup = \"%gs\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = %g; };\n"
               "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"%gs\"; }; } ); };\n"
               "designs = ( { name = \"simfaas\"; kind = \"serverless\"; account_concurrency = 1000;\n"
               "  functions = ( { name = \"f\"; memory_mb = 2048; timeout = \"900s\";\n"
               "    cold_start = { dist = \"deterministic\"; value = \"%gs\"; };\n"
               "    keep_alive = { dist = \"deterministic\"; value = \"600s\"; };\n"
               "    lifetime = { dist = \"deterministic\"; value = \"1e9s\"; }; } ); } );\n",
               warmup + measured, (warmup + measured) / 10, warmup, lambda, warm_s, init_s);
    double pc[MAX_REPS], inst[MAX_REPS], run[MAX_REPS], idle[MAX_REPS];
    uint64_t cold = 0, inv = 0, throttles = 0;
    for (uint32_t k = 0; k < reps; k++) {
        struct run r;
        replicate(&st, k, &r);
        uint64_t c = r.end.cold_starts - r.warm.cold_starts, n = r.end.invocations - r.warm.invocations;
        cold += c;
        inv += n;
        throttles += r.end.throttles;
        pc[k] = (double)c / (double)n;
        inst[k] = (r.end.env_seconds - r.warm.env_seconds) / r.measured_s;
        run[k] = (r.end.busy_seconds - r.warm.busy_seconds) / r.measured_s;
        idle[k] = inst[k] - run[k];
        free(r.rows);
    }
    struct stats_ci cp = stats_ci(pc, reps, level), ci = stats_ci(inst, reps, level), cr = stats_ci(run, reps, level),
                    cl = stats_ci(idle, reps, level);
    printf("# (a) SimFaaS: 0.9/s, warm exp 1.991 s, cold +0.253 s fixed, keep-alive 600 s; %u runs of %g s after a "
           "%g-s warm-up: %llu cold starts in %llu invocations, %llu throttled\n",
           reps, measured, warmup, (unsigned long long)cold, (unsigned long long)inv, (unsigned long long)throttles);
    printf("#     idle environments: mean=%.6g ci=[%.6g,%.6g] published=%.6g\n", cl.mean, cl.lo, cl.hi, pub_idle);
    check_true("simfaas_p_cold_vs_published", fabs(cp.mean - pub_cold) <= cp.half_width,
               "published=%.6g mean=%.6g ci=[%.6g,%.6g] half_width=%.4g diff=%.4g", pub_cold, cp.mean, cp.lo, cp.hi,
               cp.half_width, cp.mean - pub_cold);
    check_true("simfaas_mean_instances_vs_published", fabs(ci.mean - pub_instances) <= ci.half_width,
               "published=%.6g mean=%.6g ci=[%.6g,%.6g] half_width=%.4g diff=%.4g", pub_instances, ci.mean, ci.lo,
               ci.hi, ci.half_width, ci.mean - pub_instances);
    double little = lambda * (warm_s + init_s * cp.mean);
    check_true("simfaas_running_littles_law", little >= cr.lo && little <= cr.hi,
               "exact=%.6g mean=%.6g ci=[%.6g,%.6g] published=%.6g", little, cr.mean, cr.lo, cr.hi, pub_running);
    study_free(&st);
}

/* ---- (b) Erlang B -------------------------------------------------------------------------- */

static void case_erlang_b(double a)
{
    const unsigned reps = 20, L = 10;
    const double warmup = 100, measured = 3e4 * scale;
    struct study st;
    study_load(&st,
               "study: { horizon = \"%.17gs\"; report_interval = \"100s\"; warmup = \"%gs\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = %.17g; };\n"
               "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"1s\"; }; } ); };\n"
               "designs = ( { name = \"erlang\"; kind = \"serverless\"; account_concurrency = %u;\n"
               "  functions = ( { name = \"f\"; memory_mb = 2048; timeout = \"900s\";\n"
               "    cold_start = { dist = \"deterministic\"; value = \"1ms\"; };\n"
               "    keep_alive = { dist = \"deterministic\"; value = \"1e9s\"; };\n"
               "    lifetime = { dist = \"deterministic\"; value = \"1e9s\"; }; } ); } );\n",
               warmup + measured, warmup, a, L);
    double x[MAX_REPS];
    uint64_t arrivals = 0, throttled = 0, created = 0;
    for (uint32_t k = 0; k < reps; k++) {
        struct run r;
        replicate(&st, k, &r);
        x[k] = (double)r.throttled_after / (double)r.arrivals_after;
        arrivals += r.arrivals_after;
        throttled += r.throttled_after;
        if (r.end.environments_created > created) created = r.end.environments_created;
        free(r.rows);
    }
    struct stats_ci c = stats_ci(x, reps, level);
    double exact = erlang_b(L, a);
    char name[64];
    snprintf(name, sizeof name, "erlang_b_throttled_a%g", a);
    check_true(name, exact >= c.lo && exact <= c.hi,
               "L=%u a=%g exact=%.6g mean=%.6g ci=[%.6g,%.6g] rel_half_width=%.4f throttled=%llu arrivals=%llu "
               "max_environments=%llu",
               L, a, exact, c.mean, c.lo, c.hi, c.half_width / exact, (unsigned long long)throttled,
               (unsigned long long)arrivals, (unsigned long long)created);
    study_free(&st);
}

/* ---- (c) the keep-alive rule --------------------------------------------------------------- */

static void case_keep_alive(void)
{
    const unsigned reps = 20;
    const double lambda = 1.0 / 600, s = 0.010, T = 600, warmup = 86400, measured = 3e7 * scale;
    struct study st;
    study_load(&st,
               "study: { horizon = \"%.17gs\"; report_interval = \"%.17gs\"; warmup = \"%gs\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = %.17g; };\n"
               "  classes = ( { name = \"a\"; cpu = { dist = \"deterministic\"; value = \"%gs\"; }; } ); };\n"
               "designs = ( { name = \"keepalive\"; kind = \"serverless\";\n"
               "  functions = ( { name = \"f\"; memory_mb = 2048; timeout = \"900s\";\n"
               "    cold_start = { dist = \"deterministic\"; value = \"1ms\"; };\n"
               "    keep_alive = { dist = \"deterministic\"; value = \"%gs\"; };\n"
               "    lifetime = { dist = \"deterministic\"; value = \"1e9s\"; }; } ); } );\n",
               warmup + measured, (warmup + measured) / 10, warmup, lambda, s, T);
    double x[MAX_REPS];
    uint64_t cold = 0, inv = 0;
    for (uint32_t k = 0; k < reps; k++) {
        struct run r;
        replicate(&st, k, &r);
        uint64_t c = r.end.cold_starts - r.warm.cold_starts, n = r.end.invocations - r.warm.invocations;
        x[k] = (double)c / (double)n;
        cold += c;
        inv += n;
        free(r.rows);
    }
    struct stats_ci c = stats_ci(x, reps, level);
    double exact = 1 - exp(-lambda * s) + exp(-lambda * (s + T));
    check_true("keep_alive_p_cold", exact >= c.lo && exact <= c.hi,
               "lambda=%.6g T=%g s=%g exact=%.6g mean=%.6g ci=[%.6g,%.6g] cold=%llu invocations=%llu", lambda, T, s,
               exact, c.mean, c.lo, c.hi, (unsigned long long)cold, (unsigned long long)inv);
    study_free(&st);
}

/* ---- (d) provisioned concurrency ----------------------------------------------------------- */

struct provisioned_tally {
    unsigned runs_within, runs_within_cold;     /* runs whose most executions at once were <= N; with cold starts */
    unsigned runs_at_n;                         /* runs whose most executions at once were exactly N */
    unsigned rows_at_n;                         /* intervals whose most executions at once were exactly N */
    unsigned rows_cold, rows_cold_within;       /* intervals with cold starts; of which with max <= N */
    uint64_t cold, throttled;
    double first_bad_t;                         /* s: first interval with a cold start and max <= N */
    double first_bad_rate;
};

static void case_provisioned(double rate, unsigned N, unsigned reps, struct provisioned_tally *t)
{
    const double horizon = 7200 * scale;
    struct study st;
    study_load(&st,
               "study: { horizon = \"%.17gs\"; report_interval = \"1s\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = %g;\n"
               "    changes = ( { at = \"0s\"; factor = 0.0; }, { at = \"1.5s\"; factor = 1.0; } ); };\n"
               "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"1s\"; }; } ); };\n"
               "designs = ( { name = \"provisioned\"; kind = \"serverless\";\n"
               "  functions = ( { name = \"f\"; memory_mb = 2048; timeout = \"900s\"; provisioned = %u;\n"
               "    cold_start = { dist = \"deterministic\"; value = \"1s\"; }; } ); } );\n",
               horizon, rate, N);
    unsigned within = 0, rows_cold = 0;
    uint64_t cold = 0;
    uint32_t most = 0;
    for (uint32_t k = 0; k < reps; k++) {
        struct run r;
        replicate(&st, k, &r);
        cold += r.end.cold_starts;
        t->cold += r.end.cold_starts;
        t->throttled += r.end.throttles;
        if (r.end.concurrency_max > most) most = r.end.concurrency_max;
        if (r.end.concurrency_max <= N) {
            within++;
            t->runs_within++;
            t->runs_within_cold += r.end.cold_starts > 0;
            t->runs_at_n += r.end.concurrency_max == N;
        }
        for (size_t i = 0; i < r.n_rows; i++) {
            const struct row *w = &r.rows[i];
            t->rows_at_n += fabs(w->concurrency_max - N) < 0.5;
            if (!(w->cold_starts > 0)) continue;
            rows_cold++;
            t->rows_cold++;
            if (w->concurrency_max <= N) {
                if (!t->rows_cold_within++) {
                    t->first_bad_t = w->t_s;
                    t->first_bad_rate = rate;
                }
            }
        }
        free(r.rows);
    }
    printf("# (d) provisioned=%u, %g/s of exp 1-s requests, %u runs of %g s: runs_never_above_N=%u cold_starts=%llu "
           "1-s_intervals_with_cold_starts=%u most_at_once=%u\n",
           N, rate, reps, horizon, within, (unsigned long long)cold, rows_cold, most);
    study_free(&st);
}

/* ---- (e) the scaling rule ------------------------------------------------------------------ */

static void case_scaling(void)
{
    const unsigned reps = 3, per_window = 1000;
    struct study st;
    study_load(&st,
               "study: { horizon = \"100s\"; report_interval = \"5s\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = 400.0;\n"
               "    changes = ( { at = \"0s\"; factor = 0.0; }, { at = \"5s\"; factor = 1.0; }, { at = \"35s\"; factor = 0.05; } ); };\n"
               "  classes = ( { name = \"a\"; cpu = { dist = \"deterministic\"; value = \"100s\"; }; } ); };\n"
               "designs = ( { name = \"burst\"; kind = \"serverless\"; account_concurrency = 100000;\n"
               "  functions = ( { name = \"f\"; memory_mb = 2048; timeout = \"900s\";\n"
               "    cold_start = { dist = \"deterministic\"; value = \"0.2s\"; }; } ); } );\n");
    unsigned rows = 0, bad = 0;
    char first[256] = "";
    uint64_t cold = 0, throttled = 0;
    for (uint32_t k = 0; k < reps; k++) {
        struct run r;
        replicate(&st, k, &r);
        int64_t window = -1;
        uint64_t left = 0;
        if (k == 0) printf("# (e) replication 0, per 5-s interval: t_s arrivals cold(predicted) throttled(predicted)\n");
        for (size_t i = 0; i < r.n_rows; i++) {
            const struct row *w = &r.rows[i];
            /* the interval (t - 5, t] lies inside the window [10 j, 10 j + 10), j = floor((t - 2.5) / 10) */
            int64_t j = (int64_t)floor((w->t_s - 2.5) / 10.0);
            if (j != window) {
                window = j;
                left = per_window;
            }
            uint64_t c = w->arrivals < left ? w->arrivals : left, th = w->arrivals - c;
            left -= c;
            bool ok = fabs(w->cold_starts - (double)c) < 0.5 && fabs(w->invocations - (double)c) < 0.5 &&
                      fabs(w->throttles - (double)th) < 0.5 && w->throttled_errors == th && w->errors == th;
            rows++;
            cold += c;
            throttled += th;
            if (!ok && !bad++)
                snprintf(first, sizeof first,
                         " first_mismatch: replication=%u t_s=%g arrivals=%llu cold=%g (rule %llu) invocations=%g "
                         "throttles=%g throttled_errors=%llu (rule %llu)",
                         k, w->t_s, (unsigned long long)w->arrivals, w->cold_starts, (unsigned long long)c,
                         w->invocations, w->throttles, (unsigned long long)w->throttled_errors, (unsigned long long)th);
            if (k == 0)
                printf("#     %5g %5llu %5g(%llu) %5g(%llu)\n", w->t_s, (unsigned long long)w->arrivals, w->cold_starts,
                       (unsigned long long)c, w->throttles, (unsigned long long)th);
        }
        free(r.rows);
    }
    check_true("scaling_rule_1000_per_aligned_10s_window", rows == reps * 20 && bad == 0 && throttled > 0,
               "rows=%u mismatches=%u cold_starts=%llu throttled=%llu%s", rows, bad, (unsigned long long)cold,
               (unsigned long long)throttled, first);
    study_free(&st);
}

int main(int argc, char **argv)
{
    scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: validate_lambda [scale > 0]\n");
        return 2;
    }
    printf("# intervals at level %.5f (Bonferroni over %d checks)\n", level, N_CHECKS);
    case_simfaas();
    case_erlang_b(5);
    case_erlang_b(8);
    case_erlang_b(12);
    case_keep_alive();

    const unsigned N = 20;
    struct provisioned_tally t = {.first_bad_t = NAN, .first_bad_rate = NAN};
    case_provisioned(7, N, 10, &t);
    case_provisioned(16, N, 10, &t);
    check_true("provisioned_no_cold_start_within_N", t.runs_at_n > 0 && t.runs_within_cold == 0,
               "N=%u runs_never_above_N=%u of_which_reached_N=%u of_which_with_cold_starts=%u", N, t.runs_within,
               t.runs_at_n, t.runs_within_cold);
    char where[128] = "";
    if (t.rows_cold_within)
        snprintf(where, sizeof where, " first_violation: rate=%g t_s=%g", t.first_bad_rate, t.first_bad_t);
    check_true("provisioned_cold_starts_only_above_N", t.rows_cold > 0 && t.rows_at_n > 0 && t.rows_cold_within == 0,
               "N=%u intervals_with_cold_starts=%u of_which_max_concurrency_within_N=%u intervals_reaching_N=%u "
               "cold_starts=%llu throttled=%llu%s",
               N, t.rows_cold, t.rows_cold_within, t.rows_at_n, (unsigned long long)t.cold,
               (unsigned long long)t.throttled, where);

    case_scaling();
    if (checks != N_CHECKS) {
        fprintf(stderr, "validate_lambda: ran %d checks, N_CHECKS says %d\n", checks, N_CHECKS);
        failures++;
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
