/* test_workload.c: unit tests of models/workload: common random numbers, Poisson counts, the diurnal
 * profile, class shares, and the diagnostics of workload_parse.
 *
 * Statistical checks use a fixed seed and a tolerance of 4 standard deviations of the exact count
 * distribution (Poisson for arrival counts, binomial for shares), never a hand-tuned one. The common
 * random numbers contract is checked bit for bit: two "designs" that do different things with the
 * requests, and create other random streams and events around the workload, must receive exactly the
 * same arrival times, classes and demands.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>

#include "conf.h"
#include "dist.h"
#include "server.h"
#include "sim.h"
#include "testutil.h"
#include "workload.h"

static const double PI = 3.14159265358979323846;

/* ---- a recording sink ------------------------------------------------------------------------ */

struct rec {
    uint64_t id;
    sim_time arrival;
    sim_time seen_at; /* sim_now() when the sink was called */
    double demand;
    uint16_t cls;
};

struct recorder {
    sim *s;
    size_t n, cap;
    struct rec *r;
    /* optional "design" behaviour */
    struct server *server;   /* submit every request here */
    gsl_rng *noise;          /* draw from this stream on every request */
    double noise_sum;
};

static void recorder_init(struct recorder *rc, sim *s)
{
    memset(rc, 0, sizeof *rc);
    rc->s = s;
}

static void record(void *ctx, const struct request *r)
{
    struct recorder *rc = ctx;
    if (rc->n == rc->cap) {
        rc->cap = rc->cap ? 2 * rc->cap : 4096;
        rc->r = realloc(rc->r, rc->cap * sizeof *rc->r);
        assert_non_null(rc->r);
    }
    rc->r[rc->n++] = (struct rec){r->id, r->arrival, sim_now(rc->s), r->demand, r->cls};
    if (rc->noise) rc->noise_sum += gsl_rng_uniform(rc->noise);
    if (rc->server) server_submit(rc->server, r);
}

static void recorder_free(struct recorder *rc)
{
    free(rc->r);
    rc->r = NULL;
    rc->n = rc->cap = 0;
}

static void ignore_done(void *ctx, const struct request *r)
{
    (void)r;
    (*(uint64_t *)ctx)++;
}

/* A model that keeps the engine busy with its own random events, as other models of a design would. */
struct noisy {
    sim *s;
    uint16_t id;
    gsl_rng *rng;
    uint64_t fired;
};

static void on_noise(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct noisy *n = self;
    n->fired++;
    sim_schedule(s, sim_from_seconds(gsl_ran_exponential(n->rng, 0.01)), n->id, 0, NULL, 0);
}
static sim_handler_fn *const noisy_handlers[] = {on_noise};
static const char *const noisy_kinds[] = {"noise"};
static const sim_model_ops noisy_ops = {"noisy", 1, noisy_handlers, noisy_kinds, NULL};

/* ---- workload parameters built in code ------------------------------------------------------- */

static struct workload_params three_classes(enum workload_profile profile)
{
    struct workload_params p;
    memset(&p, 0, sizeof p);
    p.profile = profile;
    p.mean_rps = 50.0;
    p.peak_to_mean = profile == WORKLOAD_DIURNAL ? 1.8 : 1.0;
    p.peak_hour = 1.0;
    p.n_classes = 3;
    p.classes[0] = (struct workload_class){.name = "browse", .share = 0.6, .cpu = dist_lognormal(0.02, 1.0)};
    p.classes[1] = (struct workload_class){.name = "search", .share = 0.3, .cpu = dist_exponential(0.05)};
    p.classes[2] = (struct workload_class){.name = "checkout", .share = 0.1, .cpu = dist_uniform(0.1, 0.3)};
    p.slo_availability = NAN;
    return p;
}

/* Runs the workload alone (design "plain") and records what it generates. */
static void run_plain(const struct workload_params *p, uint64_t seed, uint32_t rep, sim_time horizon,
                      struct recorder *rc)
{
    sim *s = sim_create(seed, rep, horizon);
    recorder_init(rc, s);
    struct workload *w = workload_create(s, p, record, rc);
    sim_run(s);
    assert_int_equal(workload_arrivals(w), rc->n);
    workload_destroy(w);
    sim_destroy(s);
    rc->s = NULL;
}

/* Design "busy": other streams created and drawn from before the workload exists, a model registered
 * first that schedules its own random events all run long, and a sink that serves every request on a
 * slow server (so completion events interleave with arrivals) and draws from another stream. */
static void run_busy(const struct workload_params *p, uint64_t seed, uint32_t rep, sim_time horizon,
                     struct recorder *rc)
{
    sim *s = sim_create(seed, rep, horizon);
    gsl_rng *boot = sim_rng(s, "ec2/boot");
    gsl_rng *outage = sim_rng(s, "az/2/outage");
    for (int i = 0; i < 1000; i++) {
        (void)gsl_rng_uniform(boot);
        (void)gsl_rng_get(outage);
    }
    struct noisy nz = {s, 0, sim_rng(s, "spot/c6i.xlarge/az1"), 0};
    nz.id = sim_register(s, &noisy_ops, &nz);
    sim_schedule(s, 0, nz.id, 0, NULL, 0);
    uint64_t completed = 0;
    struct server *sv = server_create(s, &(struct server_params){1, 0.5, SERVER_UNLIMITED}, ignore_done,
                                      &completed);
    recorder_init(rc, s);
    rc->server = sv;
    rc->noise = sim_rng(s, "lambda/checkout/keepalive");
    struct workload *w = workload_create(s, p, record, rc);
    sim_run(s);
    assert_true(nz.fired > 1000);
    assert_true(completed > 0);
    assert_int_equal(workload_arrivals(w), rc->n);
    workload_destroy(w);
    server_destroy(sv);
    sim_destroy(s);
    rc->s = NULL;
}

static void assert_same_requests(const struct recorder *a, const struct recorder *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        assert_int_equal(a->r[i].id, b->r[i].id);
        assert_int_equal(a->r[i].arrival, b->r[i].arrival);
        assert_int_equal(a->r[i].cls, b->r[i].cls);
        assert_memory_equal(&a->r[i].demand, &b->r[i].demand, sizeof(double)); /* bit-identical */
    }
}

/* ---- common random numbers ------------------------------------------------------------------ */

static void test_same_seed_and_replication_give_bit_identical_requests_in_every_design(void **state)
{
    (void)state;
    for (int profile = WORKLOAD_CONSTANT; profile <= WORKLOAD_DIURNAL; profile++) {
        struct workload_params p = three_classes((enum workload_profile)profile);
        struct recorder a, b;
        run_plain(&p, 42, 3, 300 * SIM_SEC, &a);
        run_busy(&p, 42, 3, 300 * SIM_SEC, &b);
        assert_true(a.n > 10000); /* about 15000 */
        assert_same_requests(&a, &b);
        recorder_free(&a);
        recorder_free(&b);
        workload_params_free(&p);
    }
}

static void test_every_arrival_reaches_the_sink_once_in_time_order_with_consecutive_ids(void **state)
{
    (void)state;
    struct workload_params p = three_classes(WORKLOAD_DIURNAL);
    struct recorder rc;
    sim_time horizon = 600 * SIM_SEC;
    run_plain(&p, 5, 0, horizon, &rc);
    assert_true(rc.n > 0);
    for (size_t i = 0; i < rc.n; i++) {
        assert_int_equal(rc.r[i].id, i);
        assert_int_equal(rc.r[i].arrival, rc.r[i].seen_at); /* synchronous, at its arrival time */
        assert_true(rc.r[i].arrival > 0 && rc.r[i].arrival <= horizon);
        if (i > 0) assert_true(rc.r[i].arrival >= rc.r[i - 1].arrival);
        assert_true(rc.r[i].cls < 3);
        assert_true(rc.r[i].demand >= 0);
    }
    recorder_free(&rc);
    workload_params_free(&p);
}

static void test_different_replication_or_seed_gives_different_requests(void **state)
{
    (void)state;
    struct workload_params p = three_classes(WORKLOAD_CONSTANT);
    struct recorder base, rep, seed;
    run_plain(&p, 42, 3, 60 * SIM_SEC, &base);
    run_plain(&p, 42, 4, 60 * SIM_SEC, &rep);
    run_plain(&p, 43, 3, 60 * SIM_SEC, &seed);
    const struct recorder *other[] = {&rep, &seed};
    for (int k = 0; k < 2; k++) {
        size_t n = base.n < other[k]->n ? base.n : other[k]->n;
        assert_true(n > 2000);
        size_t same_time = 0, same_demand = 0;
        for (size_t i = 0; i < n; i++) {
            same_time += base.r[i].arrival == other[k]->r[i].arrival;
            same_demand += memcmp(&base.r[i].demand, &other[k]->r[i].demand, sizeof(double)) == 0;
        }
        /* independent continuous draws at ns resolution essentially never coincide */
        assert_true(same_time < 3);
        assert_true(same_demand < 3);
    }
    recorder_free(&base);
    recorder_free(&rep);
    recorder_free(&seed);
    workload_params_free(&p);
}

/* ---- arrival counts ------------------------------------------------------------------------- */

static void test_constant_profile_count_is_within_four_poisson_sd_of_rate_times_horizon(void **state)
{
    (void)state;
    struct workload_params p = three_classes(WORKLOAD_CONSTANT);
    p.mean_rps = 40.0;
    const double T = 20000.0; /* s */
    struct recorder rc;
    run_plain(&p, 2024, 0, sim_from_seconds(T), &rc);
    double expect = p.mean_rps * T; /* 800000 */
    assert_close((double)rc.n, expect, 4.0 * sqrt(expect));

    /* Poisson: gaps are exponential, P(gap > 1/rate) = e^-1; within 4 binomial sd */
    size_t long_gaps = 0;
    sim_time mean_gap = sim_from_seconds(1.0 / p.mean_rps);
    for (size_t i = 1; i < rc.n; i++) long_gaps += rc.r[i].arrival - rc.r[i - 1].arrival > mean_gap;
    double n = (double)(rc.n - 1), q = exp(-1.0);
    assert_close((double)long_gaps, n * q, 4.0 * sqrt(n * q * (1 - q)));

    /* the two halves of the horizon each hold half of the arrivals (4 Poisson sd) */
    size_t first_half = 0;
    for (size_t i = 0; i < rc.n; i++) first_half += rc.r[i].arrival <= sim_from_seconds(T / 2);
    assert_close((double)first_half, expect / 2, 4.0 * sqrt(expect / 2));
    recorder_free(&rc);
    workload_params_free(&p);
}

static void test_rate_follows_the_constant_and_diurnal_formulas(void **state)
{
    (void)state;
    struct workload_params p = three_classes(WORKLOAD_CONSTANT);
    p.mean_rps = 7.5;
    assert_close(workload_rate(&p, 0), 7.5, 0);
    assert_close(workload_rate(&p, 13 * 3600 * SIM_SEC + 17), 7.5, 0);

    p.profile = WORKLOAD_DIURNAL;
    p.mean_rps = 30.0;
    p.peak_to_mean = 1.6;
    p.peak_hour = 20.5;
    sim_time h = 3600 * SIM_SEC;
    assert_close(workload_rate(&p, 20 * h + h / 2), 48.0, 1e-9);        /* peak: mean * 1.6 */
    assert_close(workload_rate(&p, 8 * h + h / 2), 12.0, 1e-9);         /* trough: mean * 0.4 */
    assert_close(workload_rate(&p, 14 * h + h / 2), 30.0, 1e-9);        /* a quarter day away: mean */
    assert_close(workload_rate(&p, 2 * h + h / 2), 30.0, 1e-9);
    assert_close(workload_rate(&p, 24 * h + 20 * h + h / 2), 48.0, 1e-9); /* the next day too */
    /* hour 0 = 24: cos(2 pi (0 - 20.5) / 24) */
    assert_close(workload_rate(&p, 0), 30.0 * (1.0 + 0.6 * cos(2 * PI * (-20.5) / 24.0)), 1e-9);
    /* its average over a day is mean_rps (midpoint rule, 1440 minutes) */
    double sum = 0;
    for (int i = 0; i < 1440; i++) sum += workload_rate(&p, (sim_time)i * 60 * SIM_SEC + 30 * SIM_SEC);
    assert_close(sum / 1440.0, 30.0, 1e-9);
    workload_params_free(&p);
}

/* Expected arrivals in [a, b) hours of the diurnal profile: the integral of the rate. */
static double diurnal_expected(const struct workload_params *p, double a, double b)
{
    double w = 2 * PI / 24.0;
    return p->mean_rps * 3600.0 *
           ((b - a) + (p->peak_to_mean - 1.0) / w * (sin(w * (b - p->peak_hour)) - sin(w * (a - p->peak_hour))));
}

static void test_diurnal_counts_per_hour_follow_the_rate_within_four_poisson_sd(void **state)
{
    (void)state;
    struct workload_params p = three_classes(WORKLOAD_DIURNAL);
    p.mean_rps = 30.0;
    p.peak_to_mean = 1.6;
    p.peak_hour = 20.5; /* so that hour [20, 21) is centred on the peak and [8, 9) on the trough */
    struct recorder rc;
    run_plain(&p, 77, 0, 24 * 3600 * SIM_SEC, &rc);
    uint64_t per_hour[24] = {0};
    for (size_t i = 0; i < rc.n; i++) {
        sim_time t = rc.r[i].arrival == 24 * 3600 * SIM_SEC ? rc.r[i].arrival - 1 : rc.r[i].arrival;
        per_hour[t / (3600 * SIM_SEC)]++;
    }
    double peak = diurnal_expected(&p, 20, 21), trough = diurnal_expected(&p, 8, 9);
    assert_close(peak, 3600.0 * 30.0 * (1 + 0.6 * 24 / PI * sin(PI / 24)), 1e-6); /* ~172200 */
    assert_close((double)per_hour[20], peak, 4 * sqrt(peak));
    assert_close((double)per_hour[8], trough, 4 * sqrt(trough));
    /* the peak hour holds about four times as many as the trough hour, not the same */
    assert_true((double)per_hour[20] > 3.5 * (double)per_hour[8]);
    for (int hr = 0; hr < 24; hr++) {
        double e = diurnal_expected(&p, hr, hr + 1);
        assert_close((double)per_hour[hr], e, 4 * sqrt(e));
    }
    double day = 0;
    for (int hr = 0; hr < 24; hr++) day += (double)per_hour[hr];
    assert_close(day, 30.0 * 86400, 4 * sqrt(30.0 * 86400));
    recorder_free(&rc);
    workload_params_free(&p);
}

/* ---- classes --------------------------------------------------------------------------------- */

static void test_class_shares_are_respected_within_four_binomial_sd(void **state)
{
    (void)state;
    struct workload_params p;
    memset(&p, 0, sizeof p);
    p.profile = WORKLOAD_CONSTANT;
    p.mean_rps = 100.0;
    p.n_classes = 3;
    p.slo_availability = NAN;
    const double share[3] = {0.5, 0.3, 0.2}, cpu[3] = {0.001, 0.002, 0.003};
    for (int k = 0; k < 3; k++)
        p.classes[k] = (struct workload_class){.name = "c", .share = share[k], .cpu = dist_deterministic(cpu[k])};
    struct recorder rc;
    run_plain(&p, 9, 1, 2000 * SIM_SEC, &rc);
    uint64_t count[3] = {0};
    for (size_t i = 0; i < rc.n; i++) {
        assert_true(rc.r[i].cls < 3);
        count[rc.r[i].cls]++;
        assert_close(rc.r[i].demand, cpu[rc.r[i].cls], 0); /* the demand comes from its class */
    }
    double n = (double)rc.n;
    assert_true(n > 190000);
    for (int k = 0; k < 3; k++)
        assert_close((double)count[k], n * share[k], 4 * sqrt(n * share[k] * (1 - share[k])));
    recorder_free(&rc);
    workload_params_free(&p);
}

static void test_a_single_class_gets_every_request_and_its_demand_distribution(void **state)
{
    (void)state;
    struct workload_params p;
    memset(&p, 0, sizeof p);
    p.profile = WORKLOAD_CONSTANT;
    p.mean_rps = 100.0;
    p.n_classes = 1;
    p.slo_availability = NAN;
    p.classes[0] = (struct workload_class){.name = "all", .share = 1.0, .cpu = dist_exponential(0.01)};
    struct recorder rc;
    run_plain(&p, 9, 0, 1000 * SIM_SEC, &rc);
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < rc.n; i++) {
        assert_int_equal(rc.r[i].cls, 0);
        sum += rc.r[i].demand;
        sum2 += rc.r[i].demand * rc.r[i].demand;
    }
    double n = (double)rc.n, mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    assert_close(mean, 0.01, 4 * sd / sqrt(n));
    recorder_free(&rc);
    workload_params_free(&p);
}

/* ---- workload_parse ------------------------------------------------------------------------- */

struct fixture {
    struct diag diag;
    conf *c;
    struct workload_params p;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    *state = fx;
    return diag_open(&fx->diag);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    workload_params_free(&fx->p);
    conf_free(fx->c);
    diag_close(&fx->diag);
    free(fx);
    return 0;
}

/* Loads text as "study.cfg" and runs workload_parse on its `workload` group. */
static bool parse(struct fixture *fx, const char *text)
{
    fx->c = load_or_fail(text, "study.cfg", &fx->diag);
    const config_setting_t *g = conf_group(fx->c, conf_root(fx->c), "workload", true);
    assert_non_null(g);
    return workload_parse(fx->c, g, &fx->p);
}

static void test_parse_reads_a_complete_workload(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, "workload: {\n"
                          "  arrivals: { process = \"poisson\"; profile = \"diurnal\"; mean_rps = 120.0;\n"
                          "              peak_to_mean = 1.8; peak_hour = 20.0; };\n"
                          "  classes = (\n"
                          "    { name = \"browse\"; share = 0.8; cpu = { dist = \"lognormal\"; mean = \"20ms\"; cv = 1.0; }; },\n"
                          "    { name = \"checkout\"; share = 0.2; cpu = { dist = \"deterministic\"; value = \"120ms\"; }; }\n"
                          "  );\n"
                          "  slo: { latency_p99 = \"300ms\"; availability = 0.999; };\n"
                          "};\n"));
    assert_string_equal(diag_text(&fx->diag), "");
    assert_int_equal(conf_check_unused(fx->c), 0);
    struct workload_params *p = &fx->p;
    assert_int_equal(p->profile, WORKLOAD_DIURNAL);
    assert_close(p->mean_rps, 120.0, 0);
    assert_close(p->peak_to_mean, 1.8, 0);
    assert_close(p->peak_hour, 20.0, 0);
    assert_int_equal(p->n_classes, 2);
    assert_string_equal(p->classes[0].name, "browse");
    assert_string_equal(p->classes[1].name, "checkout");
    assert_close(p->classes[0].share, 0.8, 0);
    assert_close(p->classes[1].share, 0.2, 0);
    assert_int_equal(p->classes[0].cpu.kind, DIST_LOGNORMAL);
    assert_close(dist_mean(&p->classes[0].cpu), 0.02, 1e-15);
    assert_int_equal(p->classes[1].cpu.kind, DIST_DETERMINISTIC);
    assert_close(dist_mean(&p->classes[1].cpu), 0.12, 0);
    assert_close(p->slo_quantile, 0.99, 0);
    assert_close(p->slo_latency, 0.3, 0);
    assert_close(p->slo_availability, 0.999, 0);
}

static void test_parse_defaults_constant_profile_one_class_and_no_slo(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, "workload: { arrivals: { mean_rps = 5; };\n"
                          "  classes = ( { name = \"all\"; cpu = { dist = \"exponential\"; mean = \"15ms\"; }; } ); };\n"));
    assert_string_equal(diag_text(&fx->diag), "");
    assert_int_equal(fx->p.profile, WORKLOAD_CONSTANT);
    assert_close(fx->p.mean_rps, 5.0, 0);
    assert_int_equal(fx->p.n_classes, 1);
    assert_close(fx->p.classes[0].share, 1.0, 0); /* the only class needs no share */
    assert_close(fx->p.slo_quantile, 0, 0);       /* no latency target */
    assert_true(isnan(fx->p.slo_availability));
}

static void test_parse_diurnal_peak_hour_defaults_to_noon(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, "workload: { arrivals: { profile = \"diurnal\"; mean_rps = 5; peak_to_mean = 2.0; };\n"
                          "  classes = ( { name = \"all\"; cpu = { dist = \"exponential\"; mean = \"15ms\"; }; } ); };\n"));
    assert_string_equal(diag_text(&fx->diag), "");
    assert_close(fx->p.peak_hour, 12.0, 0);
    assert_close(fx->p.peak_to_mean, 2.0, 0);
}

static void test_parse_rejects_shares_that_do_not_sum_to_one(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { mean_rps = 10.0; };\n"
                           "  classes = (\n"
                           "    { name = \"a\"; share = 0.5; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; },\n"
                           "    { name = \"b\"; share = 0.4; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; }\n"
                           "  );\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:3: workload.classes: class shares must sum to 1, they sum to 0.9\n");
    assert_int_equal(conf_errors(fx->c), 1);
}

static void test_parse_requires_a_share_for_each_of_several_classes(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { mean_rps = 10.0; };\n"
                           "  classes = (\n"
                           "    { name = \"a\"; share = 1.0; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; },\n"
                           "    { name = \"b\"; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; }\n"
                           "  );\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:5: workload.classes.[1].share: missing required setting\n");
}

static void test_parse_rejects_peak_to_mean_outside_one_to_two(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { profile = \"diurnal\"; mean_rps = 10.0;\n"
                           "              peak_to_mean = 2.5; };\n"
                           "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; } );\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:3: workload.arrivals.peak_to_mean: must be in [1, 2], got 2.5\n");
}

static void test_parse_rejects_peak_to_mean_below_one(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { profile = \"diurnal\"; mean_rps = 10.0; peak_to_mean = 0.5; };\n"
                           "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; } );\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:2: workload.arrivals.peak_to_mean: must be in [1, 2], got 0.5\n");
}

static void test_parse_requires_peak_to_mean_for_a_diurnal_profile(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { profile = \"diurnal\"; mean_rps = 10.0; };\n"
                           "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; } );\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:2: workload.arrivals.peak_to_mean: missing required setting\n");
}

static void test_parse_rejects_duplicate_class_names(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { mean_rps = 10.0; };\n"
                           "  classes = (\n"
                           "    { name = \"a\"; share = 0.5; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; },\n"
                           "    { name = \"a\"; share = 0.5; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; }\n"
                           "  );\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:5: workload.classes.[1].name: duplicate class name \"a\"\n");
}

static void test_parse_rejects_two_slo_latency_targets(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { mean_rps = 10.0; };\n"
                           "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; } );\n"
                           "  slo: { latency_p50 = \"50ms\";\n"
                           "         latency_p99 = \"300ms\"; };\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag),
                        "study.cfg:5: workload.slo.latency_p99: only one latency target allowed, latency_p50 is "
                        "already set\n");
}

static void test_parse_reports_every_mistake_in_one_pass(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "workload: {\n"
                           "  arrivals: { profile = \"diurnal\"; mean_rps = -3.0; peak_to_mean = 3.0; };\n"
                           "  classes = (\n"
                           "    { name = \"a\"; share = 0.5; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; },\n"
                           "    { name = \"a\"; share = 0.5; cpu = { dist = \"exponential\"; mean = \"10ms\"; }; }\n"
                           "  );\n"
                           "  slo: { latency_p90 = \"50ms\"; latency_p999 = \"1s\"; };\n"
                           "};\n"));
    assert_string_equal(diag_text(&fx->diag),
                        "study.cfg:2: workload.arrivals.mean_rps: must be > 0, got -3\n"
                        "study.cfg:2: workload.arrivals.peak_to_mean: must be in [1, 2], got 3\n"
                        "study.cfg:5: workload.classes.[1].name: duplicate class name \"a\"\n"
                        "study.cfg:7: workload.slo.latency_p999: only one latency target allowed, latency_p90 is "
                        "already set\n");
    assert_int_equal(conf_errors(fx->c), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_and_replication_give_bit_identical_requests_in_every_design),
        cmocka_unit_test(test_every_arrival_reaches_the_sink_once_in_time_order_with_consecutive_ids),
        cmocka_unit_test(test_different_replication_or_seed_gives_different_requests),
        cmocka_unit_test(test_constant_profile_count_is_within_four_poisson_sd_of_rate_times_horizon),
        cmocka_unit_test(test_rate_follows_the_constant_and_diurnal_formulas),
        cmocka_unit_test(test_diurnal_counts_per_hour_follow_the_rate_within_four_poisson_sd),
        cmocka_unit_test(test_class_shares_are_respected_within_four_binomial_sd),
        cmocka_unit_test(test_a_single_class_gets_every_request_and_its_demand_distribution),
        cmocka_unit_test_setup_teardown(test_parse_reads_a_complete_workload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_defaults_constant_profile_one_class_and_no_slo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_diurnal_peak_hour_defaults_to_noon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_shares_that_do_not_sum_to_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_requires_a_share_for_each_of_several_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_peak_to_mean_outside_one_to_two, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_peak_to_mean_below_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_requires_peak_to_mean_for_a_diurnal_profile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_duplicate_class_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_rejects_two_slo_latency_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_reports_every_mistake_in_one_pass, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
