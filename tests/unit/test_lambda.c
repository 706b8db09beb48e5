/* test_lambda.c: unit tests of models/lambda, the `serverless` design kind.
 *
 * Reading a design: a full function group reads back, defaults by runtime (cold starts), and the exact
 * diagnostics of its mistakes. Running one: the model is driven directly, without a workload: a driver
 * model stops the engine at chosen instants and the test submits hand-made requests there (or the
 * driver submits batches on a period, for bills over a million requests). Checked with exact times
 * (deterministic cold starts, keep-alives and lifetimes; latencies are exact integers of ns): cold
 * starts exactly when no idle environment exists, keep-alive to the millisecond, reuse of the most
 * recently used environment (seen through which environments expire), retirement at the end of the
 * lifetime, execution time by memory, the timeout, throttling by account and reserved concurrency and
 * by the scaling rate, asynchronous retries after 1, 2, 4 ... s and their expiry, provisioned
 * concurrency and its schedule; and bills to a millionth of a cent from the catalog prices of
 * tests/prices.h (x86_64 and arm64 GB-seconds, requests, init, rounding up to 1 ms, provisioned
 * concurrency, the free tier).
 *
 * Catalog prices used below (tests/prices.h): 0.20 USD per million requests; on-demand duration
 * x86_64 0.0000166667 and arm64 0.0000133334 USD per GB-second (first tiers: 6e9 and 7.5e9 GB-s, never
 * crossed here); provisioned concurrency 0.0000041667 USD per GB-second allocated and 0.0000097222 per
 * GB-second executed on x86_64; free tier 1,000,000 requests and 400,000 GB-s a month. A GB is 1024 MB.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "cost.h"
#include "dist.h"
#include "lambda.h"
#include "metrics.h"
#include "prices.h"
#include "sim.h"
#include "workload.h"
#include "testheld.h"
#include "testutil.h"

#define SEC SIM_SEC
#define MS SIM_MS
#define USD_TOL 1e-10 /* bills are exact up to floating-point sums: far below a cent */

#define P_REQUEST (0.20 / 1e6)
#define P_X86 0.0000166667
#define P_ARM 0.0000133334
#define P_PROV 0.0000041667
#define P_PROV_X86 0.0000097222

/* Three classes, one line (so that a design written after it starts on line 2). */
#define WORKLOAD                                                                                              \
    "workload: { arrivals: { mean_rps = 1.0; }; classes = ("                                                   \
    " { name = \"a\"; share = 0.5; cpu = { dist = \"deterministic\"; value = \"1s\"; }; },"                    \
    " { name = \"b\"; share = 0.25; cpu = { dist = \"deterministic\"; value = \"1s\"; }; },"                   \
    " { name = \"c\"; share = 0.25; cpu = { dist = \"deterministic\"; value = \"1s\"; }; } ); };"

#define DET(v) "{ dist = \"deterministic\"; value = \"" v "\"; }"

/* ---- reading a design ------------------------------------------------------------------------ */

struct parsed {
    struct diag d;
    conf *c;
    struct workload_params w;
    struct lambda_params p;
    bool ok;
};

static void free_parsed(struct parsed *x)
{
    unhold(x);
    lambda_params_free(&x->p);
    workload_params_free(&x->w);
    conf_free(x->c);
    if (x->d.f) diag_close(&x->d);
    free(x);
}

/* Reads WORKLOAD (line 1) then `design` (from line 2) as file "l.cfg". */
static struct parsed *parse(const char *design)
{
    struct parsed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hold(x, (cleanup_fn *)free_parsed);
    assert_int_equal(diag_open(&x->d), 0);
    size_t len = strlen(WORKLOAD) + strlen(design) + 2;
    char *text = malloc(len);
    assert_non_null(text);
    snprintf(text, len, "%s\n%s", WORKLOAD, design);
    x->c = conf_load_string(text, "l.cfg", x->d.f);
    free(text);
    if (!x->c) {
        print_error("load failed:\n%s\n", diag_text(&x->d));
        fail();
    }
    assert_true(workload_parse(x->c, conf_group(x->c, conf_root(x->c), "workload", true), &x->w));
    x->ok = lambda_parse(x->c, conf_group(x->c, conf_root(x->c), "design", true), &x->w, &x->p);
    return x;
}

/* A design with mistakes: lambda_parse fails and says exactly `expected`. */
static void expect_diag(const char *design, const char *expected)
{
    struct parsed *x = parse(design);
    assert_false(x->ok);
    assert_diag_is(&x->d, expected);
    free_parsed(x);
}

static void test_parse_full_function_group(void **state)
{
    (void)state;
    struct parsed *x = parse(
        "design: { account_concurrency = 500; scale_per_window = 100; scale_window = \"5s\"; max_event_age = \"2h\";\n"
        "  front_door = { type = \"api_gateway\"; latency = " DET("12ms") "; };\n"
        "  billing = { free_tier = true; };\n"
        "  functions = (\n"
        "    { name = \"api\"; memory_mb = 2048; arch = \"arm64\"; runtime = \"nodejs20.x\"; speed = 1.2; timeout = \"30s\";\n"
        "      cold_start = " DET("300ms") "; overhead = " DET("2ms") ";\n"
        "      keep_alive = " DET("5m") "; lifetime = " DET("2h") ";\n"
        "      reserved = 50; provisioned = 10; invocation = \"sync\";\n"
        "      provisioned_schedule = ( { at = \"1h\"; count = 20; }, { at = \"8h\"; every = \"1d\"; count = 5; } );\n"
        "      classes = [ \"a\", \"c\" ]; },\n"
        "    { name = \"worker\"; invocation = \"async\"; classes = [ \"b\" ]; } ); };\n");
    if (!x->ok) print_error("%s", diag_text(&x->d));
    assert_true(x->ok);
    assert_int_equal(conf_check_unused(x->c), 0);
    const struct lambda_params *p = &x->p;
    assert_int_equal(p->account_limit, 500);
    assert_int_equal(p->scale_per_window, 100);
    assert_int_equal(p->scale_window, 5 * SEC);
    assert_int_equal(p->max_event_age, 7200 * SEC);
    assert_int_equal(p->front_door, LAMBDA_API_GATEWAY);
    assert_int_equal(p->front_latency.kind, DIST_DETERMINISTIC);
    assert_close(p->front_latency.deterministic.value, 0.012, 1e-15);
    assert_true(p->billing.free_tier);
    assert_true(p->billing.lambda_targets);
    assert_int_equal(p->n_functions, 2);

    const struct lambda_function *f = &p->functions[0];
    assert_string_equal(f->name, "api");
    assert_close(f->memory_mb, 2048, 0);
    assert_int_equal(f->arch, LAMBDA_ARM64);
    assert_string_equal(f->runtime, "nodejs20.x");
    assert_close(f->speed, 1.2, 0);
    assert_int_equal(f->timeout, 30 * SEC);
    assert_int_equal(f->cold_start.kind, DIST_DETERMINISTIC);
    assert_close(f->cold_start.deterministic.value, 0.3, 1e-15);
    assert_close(f->overhead.deterministic.value, 0.002, 1e-15);
    assert_close(f->keep_alive.deterministic.value, 300, 0);
    assert_close(f->lifetime.deterministic.value, 7200, 0);
    assert_int_equal(f->reserved, 50);
    assert_int_equal(f->provisioned, 10);
    assert_false(f->async);
    assert_int_equal(f->n_schedule, 2);
    assert_int_equal(f->schedule[0].at, 3600 * SEC);
    assert_int_equal(f->schedule[0].every, 0);
    assert_int_equal(f->schedule[0].count, 20);
    assert_int_equal(f->schedule[1].at, 8 * 3600 * SEC);
    assert_int_equal(f->schedule[1].every, 86400 * SEC);
    assert_int_equal(f->schedule[1].count, 5);
    assert_true(f->serves[0]);
    assert_false(f->serves[1]);
    assert_true(f->serves[2]);

    /* the defaults: 128 MB, x86_64, python3.12, 3 s, keep-alive 10 min, lifetime 4 h, no overhead, and
     * python's cold start at 128 MB: lognormal, mean 265.21 ms, sd 354.43 ms (Wang et al. 2018) */
    f = &p->functions[1];
    assert_string_equal(f->name, "worker");
    assert_close(f->memory_mb, 128, 0);
    assert_int_equal(f->arch, LAMBDA_X86_64);
    assert_string_equal(f->runtime, "python3.12");
    assert_close(f->speed, 1.0, 0);
    assert_int_equal(f->timeout, 3 * SEC);
    assert_int_equal(f->keep_alive.kind, DIST_DETERMINISTIC);
    assert_close(f->keep_alive.deterministic.value, 600, 0);
    assert_close(f->lifetime.deterministic.value, 4 * 3600, 0);
    assert_close(f->overhead.deterministic.value, 0, 0);
    assert_int_equal(f->cold_start.kind, DIST_LOGNORMAL);
    assert_close(f->cold_start.lognormal.mean, 0.26521, 1e-12);
    assert_close(f->cold_start.lognormal.cv, 354.43 / 265.21, 1e-12);
    assert_int_equal(f->reserved, 0);
    assert_int_equal(f->provisioned, 0);
    assert_int_equal(f->n_schedule, 0);
    assert_true(f->async);
    assert_false(f->serves[0]);
    assert_true(f->serves[1]);
    assert_false(f->serves[2]);
    free_parsed(x);

    /* design defaults: 1,000 concurrent, 1,000 new environments per 10 s, 6 h, an ALB adding nothing;
     * a lone function serves every class */
    x = parse("design: { functions = ( { name = \"f\"; } ); };\n");
    assert_true(x->ok);
    assert_int_equal(conf_check_unused(x->c), 0);
    assert_int_equal(x->p.account_limit, 1000);
    assert_int_equal(x->p.scale_per_window, 1000);
    assert_int_equal(x->p.scale_window, 10 * SEC);
    assert_int_equal(x->p.max_event_age, 6 * 3600 * SEC);
    assert_int_equal(x->p.front_door, LAMBDA_ALB);
    assert_close(x->p.front_latency.deterministic.value, 0, 0);
    assert_false(x->p.billing.free_tier);
    for (unsigned k = 0; k < 3; k++) assert_true(x->p.functions[0].serves[k]);
    free_parsed(x);
}

/* Known runtimes get a cold start: python at 512 MB is lognormal(257.71 ms, cv 314.03 / 257.71) (the
 * 512 MB row of Wang et al.); java is uniform over 0.8-2.5 s. */
static void test_parse_default_cold_starts(void **state)
{
    (void)state;
    struct parsed *x = parse("design: { functions = (\n"
                             "  { name = \"p\"; runtime = \"python3.12\"; memory_mb = 512; classes = [ \"a\" ]; },\n"
                             "  { name = \"j\"; runtime = \"java21\"; classes = [ \"b\", \"c\" ]; } ); };\n");
    if (!x->ok) print_error("%s", diag_text(&x->d));
    assert_true(x->ok);
    const struct dist *py = &x->p.functions[0].cold_start, *java = &x->p.functions[1].cold_start;
    assert_int_equal(py->kind, DIST_LOGNORMAL);
    assert_close(py->lognormal.mean, 0.25771, 1e-12);
    assert_close(py->lognormal.cv, 314.03 / 257.71, 1e-12);
    assert_int_equal(java->kind, DIST_UNIFORM);
    assert_close(java->uniform.min, 0.8, 0);
    assert_close(java->uniform.max, 2.5, 0);
    free_parsed(x);
}

static void test_parse_mistakes(void **state)
{
    (void)state;
    expect_diag("design: { functions = (\n"
                "  { name = \"f\"; memory_mb = 64; } ); };\n",
                "l.cfg:3: design.functions.[0].memory_mb: must be in [128, 10240], got 64\n");
    expect_diag("design: { functions = (\n"
                "  { name = \"f\"; memory_mb = 20000; } ); };\n",
                "l.cfg:3: design.functions.[0].memory_mb: must be in [128, 10240], got 20000\n");
    expect_diag("design: { functions = (\n"
                "  { name = \"f\";\n"
                "    timeout = \"901s\"; } ); };\n",
                "l.cfg:4: design.functions.[0].timeout: must be in [0.001s, 900s], got \"901s\"\n");
    expect_diag("design: { functions = (\n"
                "  { name = \"f\"; reserved = 5;\n"
                "    provisioned = 6; } ); };\n",
                "l.cfg:4: design.functions.[0].provisioned: must not exceed the reserved concurrency (5), got 6\n");
    expect_diag("design: { account_concurrency = 10;\n"
                "  functions = ( { name = \"f\"; reserved = 6; classes = [ \"a\" ]; },\n"
                "                { name = \"g\"; reserved = 5; classes = [ \"b\", \"c\" ]; } ); };\n",
                "l.cfg:2: design.account_concurrency: the functions reserve 11 executions, more than the account's 10\n");
    expect_diag("design: { functions = (\n"
                "  { name = \"f\";\n"
                "    runtime = \"cobol\"; } ); };\n",
                "l.cfg:4: design.functions.[0].runtime: strato has no cold-start figures for runtime \"cobol\" (it "
                "knows python*, nodejs*, go*, provided*, java*, dotnet*): give the function a cold_start distribution\n");
    /* with a cold start, an unknown runtime is fine */
    struct parsed *x = parse("design: { functions = ( { name = \"f\"; runtime = \"cobol\"; cold_start = " DET("1s") "; } ); };\n");
    assert_true(x->ok);
    free_parsed(x);
    expect_diag("design: { functions = (\n"
                "  { name = \"f\"; classes = [ \"a\" ]; },\n"
                "  { name = \"g\"; classes = [ \"b\" ]; } ); };\n",
                "l.cfg:2: design.functions: class \"c\" is served by 0 functions: each class needs exactly one\n");
    expect_diag("design: { functions = (\n"
                "  { name = \"f\"; classes = [ \"a\", \"c\" ]; },\n"
                "  { name = \"g\"; classes = [ \"b\", \"c\" ]; } ); };\n",
                "l.cfg:2: design.functions: class \"c\" is served by 2 functions: each class needs exactly one\n");
    expect_diag("design: { functions = (\n"
                "  { name = \"f\"; classes = [ \"a\",\n"
                "    \"zzz\" ]; },\n"
                "  { name = \"g\"; classes = [ \"b\", \"c\" ]; } ); };\n",
                "l.cfg:4: design.functions.[0].classes.[1]: the workload has no class \"zzz\"\n");
    expect_diag("design: { functions = ( { name = \"f\"; } );\n"
                "  front_door = { type = \"api_gateway\"; }; };\n",
                "l.cfg:3: design.front_door.latency: an API gateway adds latency that AWS does not publish: give it a "
                "distribution measured on your API (e.g. { dist = \"lognormal\"; mean = \"10ms\"; cv = 0.5; })\n");
}

/* ---- running a design: the fixture ----------------------------------------------------------- */

struct fx {
    struct diag d;
    conf *c;
    struct cost_prices prices;
    struct workload_params w;
    struct lambda_params p;
    sim *s;
    uint16_t driver;
    struct metrics *m;
    struct cost *cost;
    struct lambda *l;
    uint64_t next_id;
    /* sums over the rows emitted so far (one at each stop and at the horizon) */
    uint64_t rows, errors_by[METRICS_N_ERRORS];
    double row_cold, row_throttles, row_invocations;
};

static void free_fx(struct fx *f)
{
    unhold(f);
    lambda_destroy(f->l);
    cost_destroy(f->cost);
    metrics_destroy(f->m);
    if (f->s) sim_destroy(f->s);
    lambda_params_free(&f->p);
    workload_params_free(&f->w);
    conf_free(f->c);
    if (f->d.f) diag_close(&f->d);
    free(f);
}

static int on_row(void *ctx, const struct metrics_row *r)
{
    struct fx *f = ctx;
    f->rows++;
    for (int k = 0; k < METRICS_N_ERRORS; k++) f->errors_by[k] += r->errors_by[k];
    f->row_cold += r->lambda_cold_starts;
    f->row_throttles += r->lambda_throttles;
    f->row_invocations += r->lambda_invocations;
    return 0;
}

static void submit(struct fx *f, double demand, uint16_t cls)
{
    struct request r = {.id = f->next_id++, .arrival = sim_now(f->s), .demand = demand, .bytes = 0, .cls = cls};
    lambda_submit(f->l, &r);
}

/* The driver: kind 0 stops the engine; kind 1 submits `per_tick` requests, `ticks` times, `period` apart. */
struct batch {
    sim_time period;
    double demand;
    uint32_t per_tick, ticks;
    uint16_t cls;
};

static void on_stop(sim *s, void *self, const void *payload)
{
    (void)self;
    (void)payload;
    sim_stop(s);
}

static void on_batch(sim *s, void *self, const void *payload)
{
    struct fx *f = self;
    struct batch b;
    memcpy(&b, payload, sizeof b);
    for (uint32_t i = 0; i < b.per_tick; i++) submit(f, b.demand, b.cls);
    if (--b.ticks > 0) sim_schedule(s, b.period, f->driver, 1, &b, sizeof b);
}

static sim_handler_fn *const driver_handlers[2] = {on_stop, on_batch};
static const char *const driver_kinds[2] = {"stop", "batch"};
static const sim_model_ops driver_ops = {"test_driver", 2, driver_handlers, driver_kinds, NULL};

/* A serverless design run of `horizon` (one report interval) from the design group's body; the ledger
 * gets the design's own billing (cost_billing_parse of its `billing` group, lambda_targets set). */
static struct fx *new_fx(const char *design, sim_time horizon)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hold(f, (cleanup_fn *)free_fx);
    assert_int_equal(diag_open(&f->d), 0);
    size_t len = strlen(TEST_PRICES) + strlen(WORKLOAD) + strlen(design) + 32;
    char *text = malloc(len);
    assert_non_null(text);
    snprintf(text, len, "%s\n%s\ndesign: { %s };\n", TEST_PRICES, WORKLOAD, design);
    f->c = conf_load_string(text, "run.cfg", f->d.f);
    free(text);
    if (!f->c) {
        print_error("load failed:\n%s\n", diag_text(&f->d));
        fail();
    }
    bool ok = cost_prices_parse(f->c, true, &f->prices);
    ok = workload_parse(f->c, conf_group(f->c, conf_root(f->c), "workload", true), &f->w) && ok;
    ok = lambda_parse(f->c, conf_group(f->c, conf_root(f->c), "design", true), &f->w, &f->p) && ok;
    ok = conf_check_unused(f->c) == 0 && ok;
    if (!ok) {
        print_error("%s", diag_text(&f->d));
        fail();
    }
    f->s = sim_create(1, 0, horizon);
    f->driver = sim_register(f->s, &driver_ops, f);
    f->m = metrics_create(f->s, &(struct metrics_params){.interval = horizon, .warmup = 0}, on_row, f);
    f->cost = cost_create(f->s, &f->prices, &f->p.billing, f->p.front_door == LAMBDA_ALB);
    metrics_attach_cost(f->m, f->cost);
    f->l = lambda_create(f->s, &f->p, f->m, f->cost);
    return f;
}

/* Runs the engine up to instant t (>= now); the caller then acts at exactly t. Events due at t that
 * were scheduled before this call (completions, retries) have run. */
static void run_until(struct fx *f, sim_time t)
{
    sim_schedule_at(f->s, t, f->driver, 0, NULL, 0);
    sim_run(f->s);
    assert_int_equal(sim_now(f->s), t);
}

static void batch(struct fx *f, sim_time first, uint32_t per_tick, uint32_t ticks, sim_time period, double demand)
{
    struct batch b = {period, demand, per_tick, ticks, 0};
    sim_schedule_at(f->s, first, f->driver, 1, &b, sizeof b);
}

static struct lambda_stats stats(const struct fx *f, unsigned fn)
{
    struct lambda_stats st;
    lambda_stats(f->l, fn, &st);
    return st;
}

static double booked(struct fx *f, enum cost_category k)
{
    cost_update(f->cost);
    return cost_booked(f->cost, k);
}

static const struct metrics_totals *totals(const struct fx *f) { return metrics_totals(f->m); }

/* ---- cold starts, keep-alive, reuse, lifetime ------------------------------------------------ */

/* 1769 MB (one vCPU: 1 s of demand takes 1 s), cold start 250 ms, keep-alive 100 s.
 * t=0: no environment: cold, done at 1.25. t=10: the idle one: warm, done at 11. t=20: two at once:
 * the idle one takes the first (done 21.0), the second starts a new one (cold, done 21.25). So far 2
 * cold starts, 2 environments, latencies 1.25, 1, 1, 1.25.
 * Keep-alive: the first environment expires at 121.0, the second at 121.25. At 121.249 (1 ms before
 * the second's expiry) exactly one is idle and takes a request warm (done 122.249, now expiring at
 * 222.249); at 222.250 (1 ms after) none is left: cold. */
static void test_cold_start_only_without_an_idle_environment(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"60s\";"
                          " cold_start = " DET("250ms") "; keep_alive = " DET("100s") "; } );",
                          300 * SEC);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    assert_int_equal(stats(f, 0).busy, 1);
    run_until(f, 10 * SEC);
    assert_int_equal(stats(f, 0).idle, 1);
    assert_int_equal(stats(f, 0).busy, 0);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, 20 * SEC);
    submit(f, 1.0, 0);
    submit(f, 1.0, 0);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.cold_starts, 2);
    assert_int_equal(st.environments_created, 2);
    assert_int_equal(st.invocations, 4);
    assert_int_equal(st.busy, 2);
    assert_int_equal(st.concurrency_max, 2);
    run_until(f, 30 * SEC);
    assert_int_equal(totals(f)->successes, 4);
    assert_close(stats_hist_min(&totals(f)->latency), 1.0, 0);
    assert_close(stats_hist_max(&totals(f)->latency), 1.25, 0);
    assert_close(stats_hist_mean(&totals(f)->latency), (1.25 + 1 + 1 + 1.25) / 4, 1e-12);
    assert_int_equal(stats(f, 0).idle, 2);
    /* executions in progress integrate to the four latencies, 4.5 s; environments alive: the first
     * since 0, the second since 20: 30 + 10 = 40 s */
    assert_close(stats(f, 0).busy_seconds, 4.5, 1e-9);
    assert_close(stats(f, 0).env_seconds, 40, 1e-9);

    run_until(f, 121 * SEC + 249 * MS);
    assert_int_equal(stats(f, 0).idle, 1);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 2);
    run_until(f, 222 * SEC + 250 * MS);
    assert_int_equal(stats(f, 0).idle, 0);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 3);
    assert_int_equal(stats(f, 0).environments_created, 3);
    run_until(f, 300 * SEC);
    assert_int_equal(totals(f)->successes, 6);
    assert_close(f->row_cold, 3, 0);
    assert_close(f->row_invocations, 6, 0);
    free_fx(f);
}

/* Keep-alive 100 s, cold start 250 ms. t=0: three requests of 1, 2 and 3 s start environments e0, e1,
 * e2, idle from 1.25, 2.25 and 3.25, expiring at 101.25, 102.25 and 103.25. t=10: one request of 1 s.
 * Most recently used: e2 takes it and now expires at 111; at 103, e0 and e1 have expired, one idle
 * environment remains, and two requests make one cold start.
 * (Least recently used would have taken e0: e0 expiring at 111 and e2 at 103.25, two idle at 103 and
 * no cold start; e1 likewise leaves two.) */
static void test_most_recently_used_environment_is_reused(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"60s\";"
                          " cold_start = " DET("250ms") "; keep_alive = " DET("100s") "; } );",
                          200 * SEC);
    submit(f, 1.0, 0);
    submit(f, 2.0, 0);
    submit(f, 3.0, 0);
    run_until(f, 10 * SEC);
    assert_int_equal(stats(f, 0).idle, 3);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 3);
    run_until(f, 103 * SEC);
    assert_int_equal(stats(f, 0).idle, 1);
    submit(f, 1.0, 0);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 4);
    run_until(f, 200 * SEC);
    free_fx(f);
}

/* Lifetime 60 s, keep-alive 600 s, cold start 250 ms. An environment created at 0 serves requests at
 * 0 (cold), 30 and 59.5 (warm: still within its lifetime); the last ends at 60.5, past the lifetime, so
 * the environment is retired then, not kept: a request at 61 is cold. The new environment (created at
 * 61, retiring at 121) goes idle at 62.25 with a keep-alive to 662.25, but is reclaimed at 121. */
static void test_environment_retired_after_its_lifetime(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"60s\"; cold_start = " DET("250ms")
                          "; keep_alive = " DET("600s") "; lifetime = " DET("60s") "; } );",
                          200 * SEC);
    submit(f, 1.0, 0);
    run_until(f, 30 * SEC);
    submit(f, 1.0, 0);
    run_until(f, 59 * SEC + 500 * MS);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, 60 * SEC + 500 * MS - 1);
    assert_int_equal(stats(f, 0).busy, 1);
    run_until(f, 60 * SEC + 500 * MS + 1);
    assert_int_equal(stats(f, 0).busy, 0);
    assert_int_equal(stats(f, 0).idle, 0);
    run_until(f, 61 * SEC);
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 2);
    assert_int_equal(stats(f, 0).environments_created, 2);
    run_until(f, 121 * SEC - MS);
    assert_int_equal(stats(f, 0).idle, 1);
    run_until(f, 121 * SEC + MS);
    assert_int_equal(stats(f, 0).idle, 0);
    run_until(f, 200 * SEC);
    assert_int_equal(totals(f)->successes, 4);
    free_fx(f);
}

/* ---- execution time and timeout ---------------------------------------------------------------- */

/* Cold start 250 ms; 1 s of demand on each of three functions: 1769 MB (one vCPU) takes 1 s: latency
 * 1.25 s; 128 MB runs at 128/1769 of a vCPU: 1769/128 = 13.8203125 s, latency 14.0703125 s; 10,240 MB
 * (5.8 vCPUs) still takes 1 s, a request being single-threaded: 1.25 s.
 * Billed: 1769/1024 GB x 1.25 s; 0.125 GB x 14.071 s (14,070.3125 ms rounded up); 10 GB x 1.25 s. */
static void test_execution_time_scales_with_memory(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ("
                          " { name = \"one\"; memory_mb = 1769; timeout = \"20s\"; cold_start = " DET("250ms") "; classes = [ \"a\" ]; },"
                          " { name = \"small\"; memory_mb = 128; timeout = \"20s\"; cold_start = " DET("250ms") "; classes = [ \"b\" ]; },"
                          " { name = \"big\"; memory_mb = 10240; timeout = \"20s\"; cold_start = " DET("250ms") "; classes = [ \"c\" ]; } );",
                          30 * SEC);
    submit(f, 1.0, 0);
    submit(f, 1.0, 1);
    submit(f, 1.0, 2);
    run_until(f, 1250 * MS);
    assert_int_equal(totals(f)->successes, 2);
    run_until(f, 14070312500 - 1);
    assert_int_equal(totals(f)->successes, 2);
    run_until(f, 14070312500);
    assert_int_equal(totals(f)->successes, 3);
    assert_close(stats_hist_min(&totals(f)->latency), 1.25, 0);
    assert_close(stats_hist_max(&totals(f)->latency), 14.0703125, 0);
    assert_close(stats(f, 0).billed_gb_seconds, 1769.0 / 1024 * 1.25, 1e-12);
    assert_close(stats(f, 1).billed_gb_seconds, 0.125 * 14.071, 1e-12);
    assert_close(stats(f, 2).billed_gb_seconds, 10 * 1.25, 1e-12);
    run_until(f, 30 * SEC);
    free_fx(f);
}

/* Timeout 2 s, cold start 250 ms, 5 s of demand on one vCPU: fails (timeout) at 0.25 + 2 = 2.25 s,
 * billed 2.25 s x 1769/1024 GB = 3.886962890625 GB-s, x 0.0000166667 USD. */
static void test_timeout_fails_at_the_timeout_and_bills_it(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"2s\"; cold_start = " DET("250ms") "; } );",
                          10 * SEC);
    submit(f, 5.0, 0);
    run_until(f, 2250 * MS - 1);
    assert_int_equal(totals(f)->errors, 0);
    run_until(f, 2250 * MS);
    assert_int_equal(totals(f)->errors, 1);
    assert_int_equal(totals(f)->successes, 0);
    assert_int_equal(stats(f, 0).timeouts, 1);
    run_until(f, 2250 * MS + 1);
    assert_int_equal(f->errors_by[METRICS_ERR_TIMEOUT], 1);
    double gb_s = 1769.0 / 1024 * 2.25;
    assert_close(stats(f, 0).billed_gb_seconds, gb_s, 1e-12);
    assert_close(booked(f, COST_LAMBDA_DURATION), gb_s * P_X86, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_REQUESTS), P_REQUEST, USD_TOL);
    /* the environment survives a timeout: the next request is warm */
    submit(f, 1.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, 10 * SEC);
    free_fx(f);
}

/* ---- bills -------------------------------------------------------------------------------------- */

/* 512 MB (0.5 GB), cold start 250 ms; 1,000 requests at once every second for 1,000 s: 1,000,000
 * requests. A demand of 0.1 x 512/1769 s runs exactly 100 ms at 512/1769 of a vCPU. The first second
 * starts 1,000 environments (the account limit and the scaling window allow exactly that), each
 * billed 250 + 100 = 350 ms; the other 999,000 run warm, 100 ms each.
 * GB-s: 1,000 x 0.5 x 0.35 + 999,000 x 0.5 x 0.1 = 175 + 49,950 = 50,125.
 * x86_64: 50,125 x 0.0000166667 = 0.8354183375 USD; arm64: 50,125 x 0.0000133334 = 0.668336675 USD;
 * requests: 1,000,000 x 0.20 / 1e6 = 0.20 USD. */
static void bill_million(const char *arch, double price)
{
    char design[512];
    snprintf(design, sizeof design,
             "functions = ( { name = \"f\"; memory_mb = 512; arch = \"%s\"; cold_start = " DET("250ms") "; } );", arch);
    struct fx *f = new_fx(design, 1000 * SEC);
    batch(f, 0, 1000, 1000, SEC, 0.1 * 512 / 1769);
    run_until(f, 1000 * SEC);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.invocations, 1000000);
    assert_int_equal(st.cold_starts, 1000);
    assert_int_equal(st.throttles, 0);
    assert_close(st.billed_gb_seconds, 50125, 1e-6);
    assert_int_equal(totals(f)->successes, 1000000);
    assert_close(booked(f, COST_LAMBDA_REQUESTS), 0.20, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_DURATION), 50125 * price, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_PROVISIONED), 0, 0);
    assert_close(booked(f, COST_API_GATEWAY), 0, 0);
    free_fx(f);
}

static void test_bill_x86_million_requests(void **state)
{
    (void)state;
    bill_million("x86_64", P_X86);
}

static void test_bill_arm64_million_requests(void **state)
{
    (void)state;
    bill_million("arm64", P_ARM);
}

/* 10 provisioned environments of 1024 MB for exactly one hour: 10 GB x 3600 s x 0.0000041667 =
 * 0.1500012 USD. 1,000 requests (10 every second from 1 s to 100 s) of 200 ms each run on them (ready
 * at 0.25 s): no cold start, 1,000 x 1 GB x 0.2 s = 200 GB-s x 0.0000097222 = 0.00194444 USD; requests
 * 1,000 x 0.2e-6 = 0.0002 USD. Their init is not billed. */
static void test_bill_provisioned_hour(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1024; provisioned = 10; cold_start = " DET("250ms") "; } );",
                          3600 * SEC);
    batch(f, SEC, 10, 100, SEC, 0.2 * 1024 / 1769);
    run_until(f, 3600 * SEC);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.invocations, 1000);
    assert_int_equal(st.cold_starts, 0);
    assert_int_equal(st.provisioned, 10);
    assert_close(st.billed_gb_seconds, 200, 1e-9);
    assert_close(booked(f, COST_LAMBDA_PROVISIONED), 0.1500012, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_DURATION), 0.00194444, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_REQUESTS), 0.0002, USD_TOL);
    free_fx(f);
}

/* 2048 MB (2 GB, one vCPU), cold start 250 ms. A cold request of 100 ms is billed 350 ms: 0.7 GB-s.
 * Warm: 100.4 ms is billed 101 ms (0.202 GB-s) and 0.1 ms is billed 1 ms (0.002 GB-s).
 * 0.904 GB-s x 0.0000166667 = 0.0000150666968 USD; 3 requests 0.0000006 USD. */
static void test_bill_init_and_whole_milliseconds(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 2048; cold_start = " DET("250ms") "; } );", 60 * SEC);
    submit(f, 0.1, 0);
    assert_close(stats(f, 0).billed_gb_seconds, 0.7, 1e-12);
    assert_close(stats(f, 0).init_seconds, 0.25, 1e-12);
    run_until(f, 10 * SEC);
    submit(f, 0.1004, 0);
    assert_close(stats(f, 0).billed_gb_seconds, 0.902, 1e-12);
    run_until(f, 20 * SEC);
    submit(f, 0.0001, 0);
    assert_close(stats(f, 0).billed_gb_seconds, 0.904, 1e-12);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, 60 * SEC);
    assert_close(booked(f, COST_LAMBDA_DURATION), 0.904 * P_X86, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_REQUESTS), 3 * P_REQUEST, USD_TOL);
    free_fx(f);
}

/* A cold start of exactly 0 s adds nothing: 1024 MB (1 GB), a request of 100 ms (demand
 * 0.1 x 1024/1769) on a new environment is billed 100 ms, 0.1 GB-s, like a warm one, and answered in
 * 100 ms. */
static void test_bill_zero_cold_start_adds_nothing(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1024; cold_start = " DET("0s") "; } );", 10 * SEC);
    submit(f, 0.1 * 1024 / 1769, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, SEC);
    submit(f, 0.1 * 1024 / 1769, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, 10 * SEC);
    assert_close(stats_hist_max(&totals(f)->latency), 0.1, 1e-6);
    assert_close(stats(f, 0).billed_gb_seconds, 0.2, 1e-12);
    free_fx(f);
}

/* An API gateway in front: no balancer; each response takes the gateway's 12 ms more (latency 1.262 s
 * cold, 1.012 s warm on one vCPU with a 250 ms cold start), and each request costs 1.00 USD per
 * million (the first tier): 3 requests, 0.000003 USD. */
static void test_api_gateway_front_door(void **state)
{
    (void)state;
    struct fx *f = new_fx("front_door = { type = \"api_gateway\"; latency = " DET("12ms") "; };"
                          " functions = ( { name = \"f\"; memory_mb = 1769; cold_start = " DET("250ms") "; } );",
                          60 * SEC);
    submit(f, 1.0, 0);
    run_until(f, 10 * SEC);
    submit(f, 1.0, 0);
    submit(f, 1.0, 0);
    run_until(f, 60 * SEC);
    assert_int_equal(totals(f)->successes, 3);
    assert_close(stats_hist_max(&totals(f)->latency), 1.262, 1e-12);
    assert_close(stats_hist_min(&totals(f)->latency), 1.012, 1e-12);
    assert_close(booked(f, COST_API_GATEWAY), 3 * 1.00 / 1e6, USD_TOL);
    assert_close(booked(f, COST_ELB_HOURS), 0, 0);
    assert_close(booked(f, COST_ELB_LCU), 0, 0);
    free_fx(f);
}

/* Free tier: 2048 MB, cold start 250 ms, demand 250 ms: 1,000 requests at once every second for 1,001
 * s: 1,001,000 requests; 1,000 cold (2 GB x 0.5 s = 1 GB-s each), 1,000,000 warm (0.5 GB-s each):
 * 501,000 GB-s. The first 1,000,000 requests and 400,000 GB-s of the month are free: 1,000 requests
 * (0.0002 USD) and 101,000 GB-s (x 0.0000166667 = 1.68333670 USD) are billed. */
static void test_bill_free_tier(void **state)
{
    (void)state;
    struct fx *f = new_fx("billing = { free_tier = true; };"
                          " functions = ( { name = \"f\"; memory_mb = 2048; cold_start = " DET("250ms") "; } );",
                          1001 * SEC);
    assert_true(f->p.billing.free_tier);
    batch(f, 0, 1000, 1001, SEC, 0.25);
    run_until(f, 1001 * SEC);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.invocations, 1001000);
    assert_int_equal(st.cold_starts, 1000);
    assert_close(st.billed_gb_seconds, 501000, 1e-6);
    assert_close(booked(f, COST_LAMBDA_REQUESTS), 0.0002, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_DURATION), 101000 * P_X86, USD_TOL);
    free_fx(f);
}

/* ---- concurrency and throttling ---------------------------------------------------------------- */

/* Account limit 3: at 1 s, five requests of 10 s: three start, two fail at once with 429; at 5 s one
 * more fails (three still busy); at 12 s (all idle since 11.25) three start warm. */
static void test_sync_throttled_beyond_account_concurrency(void **state)
{
    (void)state;
    struct fx *f = new_fx("account_concurrency = 3;"
                          " functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"60s\"; cold_start = " DET("250ms") "; } );",
                          60 * SEC);
    run_until(f, SEC);
    for (int i = 0; i < 5; i++) submit(f, 10.0, 0);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.invocations, 3);
    assert_int_equal(st.throttles, 2);
    assert_int_equal(totals(f)->errors, 2); /* synchronously, at 1 s */
    run_until(f, SEC + 1);
    assert_int_equal(f->errors_by[METRICS_ERR_THROTTLED], 2);
    run_until(f, 5 * SEC);
    submit(f, 10.0, 0);
    assert_int_equal(stats(f, 0).throttles, 3);
    run_until(f, 12 * SEC);
    for (int i = 0; i < 3; i++) submit(f, 10.0, 0);
    st = stats(f, 0);
    assert_int_equal(st.throttles, 3);
    assert_int_equal(st.cold_starts, 3);
    assert_int_equal(st.invocations, 6);
    run_until(f, 60 * SEC);
    assert_int_equal(totals(f)->successes, 6);
    assert_int_equal(totals(f)->errors, 3);
    assert_int_equal(f->errors_by[METRICS_ERR_THROTTLED], 3);
    assert_close(f->row_throttles, 3, 0);
    free_fx(f);
}

/* Account limit 10, function A reserves 4: B (unreserved) may use 10 - 4 = 6 even while A is idle, and
 * A at most 4. Eight requests to B: 6 start, 2 throttled; five to A: 4 start, 1 throttled. */
static void test_reserved_concurrency_splits_the_account(void **state)
{
    (void)state;
    struct fx *f = new_fx("account_concurrency = 10; functions = ("
                          " { name = \"A\"; reserved = 4; memory_mb = 1769; timeout = \"60s\"; cold_start = " DET("250ms") "; classes = [ \"a\" ]; },"
                          " { name = \"B\"; memory_mb = 1769; timeout = \"60s\"; cold_start = " DET("250ms") "; classes = [ \"b\", \"c\" ]; } );",
                          60 * SEC);
    for (int i = 0; i < 8; i++) submit(f, 10.0, 1);
    assert_int_equal(stats(f, 1).invocations, 6);
    assert_int_equal(stats(f, 1).throttles, 2);
    for (int i = 0; i < 5; i++) submit(f, 10.0, 0);
    assert_int_equal(stats(f, 0).invocations, 4);
    assert_int_equal(stats(f, 0).throttles, 1);
    run_until(f, 60 * SEC);
    assert_int_equal(totals(f)->successes, 10);
    assert_int_equal(f->errors_by[METRICS_ERR_THROTTLED], 3);
    free_fx(f);
}

/* Asynchronous, account limit 1, maximum event age 60 s, cold start 250 ms.
 * X (10 s) starts at 0 and ends at 10.25; Y, arriving at 0, is throttled and retried at 1, 3, 7
 * (throttled each time: 1, 2, 4 s apart) and 15, where it starts warm on X's environment: done at 16,
 * latency 16 s. X2 (100 s, 20 to 120) and W (arriving at 20) : W is throttled at 20, 21, 23, 27, 35, 51,
 * and its next retry (51 + 32 = 83) would be past its age of 60 s: dropped (expired), by 83 s at the
 * latest. V arrives at 110 while X2 runs: throttled, retried at 111, waiting for 113 when the run ends
 * at 112. Conservation at the end: 5 arrivals = 2 successes + 1 error + 2 held (X2 running, V waiting). */
static void test_async_retries_and_conservation(void **state)
{
    (void)state;
    struct fx *f = new_fx("account_concurrency = 1; max_event_age = \"60s\";"
                          " functions = ( { name = \"f\"; invocation = \"async\"; memory_mb = 1769; timeout = \"900s\";"
                          " cold_start = " DET("250ms") "; } );",
                          112 * SEC);
    submit(f, 10.0, 0); /* X */
    submit(f, 1.0, 0);  /* Y */
    assert_int_equal(stats(f, 0).throttles, 1);
    assert_int_equal(totals(f)->errors, 0);
    const sim_time retry_at[3] = {1 * SEC, 3 * SEC, 7 * SEC};
    for (int i = 0; i < 3; i++) {
        run_until(f, retry_at[i] - 1);
        assert_int_equal(stats(f, 0).throttles, (uint64_t)(1 + i));
        run_until(f, retry_at[i]);
        assert_int_equal(stats(f, 0).throttles, (uint64_t)(2 + i));
    }
    run_until(f, 15 * SEC - 1);
    assert_int_equal(stats(f, 0).invocations, 1);
    run_until(f, 15 * SEC);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.invocations, 2);
    assert_int_equal(st.throttles, 4);
    assert_int_equal(st.retries, 4);
    assert_int_equal(st.cold_starts, 1);
    run_until(f, 16 * SEC);
    assert_int_equal(totals(f)->successes, 2);
    assert_close(stats_hist_max(&totals(f)->latency), 16.0, 0);

    run_until(f, 20 * SEC);
    submit(f, 100.0, 0); /* X2 */
    submit(f, 1.0, 0);   /* W */
    run_until(f, 51 * SEC + 1);
    assert_int_equal(stats(f, 0).throttles, 10); /* 4 + W at 20, 21, 23, 27, 35, 51 */
    run_until(f, 83 * SEC + 1);
    assert_int_equal(stats(f, 0).expired, 1);
    assert_int_equal(f->errors_by[METRICS_ERR_EXPIRED], 1);
    assert_int_equal(totals(f)->errors, 1);

    run_until(f, 110 * SEC);
    submit(f, 1.0, 0); /* V */
    run_until(f, 112 * SEC);
    const struct metrics_totals *t = totals(f);
    assert_int_equal(t->arrivals, 5);
    assert_int_equal(t->successes, 2);
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->in_flight_at_end, 2);
    assert_int_equal(t->arrivals, t->successes + t->errors + t->in_flight_at_end);
    assert_int_equal(stats(f, 0).busy, 1);
    free_fx(f);
}

/* The same W as above (throttled at 20, 21, 23, 27, 35, 51 behind a 100 s execution; the next retry
 * would be at 83): lambda.h says it is retried "until its age exceeds the maximum event age (60 s),
 * then is dropped", and AWS keeps an event in its queue for the maximum age. So at 79.999 s (age
 * 59.999 s) it is still held, not yet expired; by 83 s it is. */
static void test_async_expires_only_after_max_event_age(void **state)
{
    (void)state;
    struct fx *f = new_fx("account_concurrency = 1; max_event_age = \"60s\";"
                          " functions = ( { name = \"f\"; invocation = \"async\"; memory_mb = 1769; timeout = \"900s\";"
                          " cold_start = " DET("250ms") "; } );",
                          200 * SEC);
    run_until(f, 20 * SEC);
    submit(f, 100.0, 0);
    submit(f, 1.0, 0);
    run_until(f, 51 * SEC + 1);
    assert_int_equal(stats(f, 0).throttles, 6);
    run_until(f, 80 * SEC - MS);
    assert_int_equal(stats(f, 0).expired, 0);
    assert_int_equal(totals(f)->errors, 0);
    run_until(f, 83 * SEC + 1);
    assert_int_equal(stats(f, 0).expired, 1);
    run_until(f, 200 * SEC);
    free_fx(f);
}

/* Scaling: 3 new environments per 10 s window (windows [0, 10), [10, 20), ...). At 1 s, five requests
 * of 30 s: 3 cold starts, 2 throttled; at 5 s one more is throttled (same window, though the account
 * has room); at 10 s a new window: 3 more start, 2 throttled. At 35 s the first three are idle (since
 * 31.25): four requests take them warm and start one new environment. 7 cold starts, 5 throttles. */
static void test_scaling_window(void **state)
{
    (void)state;
    struct fx *f = new_fx("scale_per_window = 3; scale_window = \"10s\";"
                          " functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"60s\"; cold_start = " DET("250ms") "; } );",
                          100 * SEC);
    run_until(f, SEC);
    for (int i = 0; i < 5; i++) submit(f, 30.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 3);
    assert_int_equal(stats(f, 0).throttles, 2);
    run_until(f, 5 * SEC);
    submit(f, 30.0, 0);
    assert_int_equal(stats(f, 0).throttles, 3);
    run_until(f, 10 * SEC);
    for (int i = 0; i < 5; i++) submit(f, 30.0, 0);
    assert_int_equal(stats(f, 0).cold_starts, 6);
    assert_int_equal(stats(f, 0).throttles, 5);
    run_until(f, 35 * SEC);
    assert_int_equal(stats(f, 0).idle, 3);
    for (int i = 0; i < 4; i++) submit(f, 30.0, 0);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.cold_starts, 7);
    assert_int_equal(st.throttles, 5);
    assert_int_equal(st.invocations, 10);
    run_until(f, 100 * SEC);
    assert_int_equal(totals(f)->successes, 10);
    assert_int_equal(f->errors_by[METRICS_ERR_THROTTLED], 5);
    assert_close(f->row_cold, 7, 0);
    assert_close(f->row_throttles, 5, 0);
    free_fx(f);
}

/* ---- provisioned concurrency ------------------------------------------------------------------- */

/* 1024 MB (1 GB), provisioned 2 until a schedule sets 0 at 1,800 s, cold start 500 ms, keep-alive
 * 600 s; requests of 200 ms (demand 0.2 x 1024/1769).
 * 0.2 s: the provisioned environments are still initialising (ready at 0.5): an on-demand cold start,
 *   billed 0.7 s on demand.
 * 1 s: three requests: two on the provisioned ones (no cold start, 0.2 s each at the provisioned rate),
 *   one warm on the on-demand environment (0.2 s on demand).
 * 1,799.9 s: one on a provisioned environment (busy until 1,800.1).
 * 1,800 s: provisioned set to 0: the idle one goes now, the busy one when it finishes at 1,800.1.
 * 2,000 s: nothing idle (the on-demand one expired at 601.2): cold, 0.7 s on demand.
 * Provisioned: (1,800 + 1,800.1) GB x s x 0.0000041667 = 0.01500054167 USD, nothing more afterwards.
 * Duration: on demand 0.7 + 0.2 + 0.7 = 1.6 GB-s x 0.0000166667, provisioned 3 x 0.2 = 0.6 GB-s x
 * 0.0000097222. */
static void test_provisioned_concurrency_and_its_schedule(void **state)
{
    (void)state;
    struct fx *f = new_fx("functions = ( { name = \"f\"; memory_mb = 1024; provisioned = 2; cold_start = " DET("500ms") ";"
                          " provisioned_schedule = ( { at = \"1800s\"; count = 0; } ); } );",
                          3600 * SEC);
    const double demand = 0.2 * 1024 / 1769;
    assert_int_equal(stats(f, 0).provisioned, 2);
    run_until(f, 200 * MS);
    submit(f, demand, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, SEC);
    for (int i = 0; i < 3; i++) submit(f, demand, 0);
    struct lambda_stats st = stats(f, 0);
    assert_int_equal(st.cold_starts, 1);
    assert_int_equal(st.invocations, 4);
    assert_int_equal(st.environments_created, 3);
    run_until(f, 2 * SEC);
    assert_close(booked(f, COST_LAMBDA_DURATION), 0.9 * P_X86 + 0.4 * P_PROV_X86, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_PROVISIONED), 2 * 2.0 * P_PROV, USD_TOL);

    run_until(f, 1799 * SEC + 900 * MS);
    submit(f, demand, 0);
    assert_int_equal(stats(f, 0).cold_starts, 1);
    run_until(f, 1800 * SEC + MS);
    assert_int_equal(stats(f, 0).provisioned, 1);
    run_until(f, 1800 * SEC + 200 * MS);
    assert_int_equal(stats(f, 0).provisioned, 0);
    double prov = 3600.1 * P_PROV;
    assert_close(booked(f, COST_LAMBDA_PROVISIONED), prov, USD_TOL);
    run_until(f, 2000 * SEC);
    assert_int_equal(stats(f, 0).idle, 0);
    submit(f, demand, 0);
    assert_int_equal(stats(f, 0).cold_starts, 2);
    run_until(f, 3600 * SEC);
    assert_close(booked(f, COST_LAMBDA_PROVISIONED), prov, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_DURATION), 1.6 * P_X86 + 0.6 * P_PROV_X86, USD_TOL);
    assert_close(booked(f, COST_LAMBDA_REQUESTS), 6 * P_REQUEST, USD_TOL);
    assert_int_equal(totals(f)->successes, 6);
    free_fx(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_parse_full_function_group, teardown),
        cmocka_unit_test_teardown(test_parse_default_cold_starts, teardown),
        cmocka_unit_test_teardown(test_parse_mistakes, teardown),
        cmocka_unit_test_teardown(test_cold_start_only_without_an_idle_environment, teardown),
        cmocka_unit_test_teardown(test_most_recently_used_environment_is_reused, teardown),
        cmocka_unit_test_teardown(test_environment_retired_after_its_lifetime, teardown),
        cmocka_unit_test_teardown(test_execution_time_scales_with_memory, teardown),
        cmocka_unit_test_teardown(test_timeout_fails_at_the_timeout_and_bills_it, teardown),
        cmocka_unit_test_teardown(test_bill_x86_million_requests, teardown),
        cmocka_unit_test_teardown(test_bill_arm64_million_requests, teardown),
        cmocka_unit_test_teardown(test_bill_provisioned_hour, teardown),
        cmocka_unit_test_teardown(test_bill_init_and_whole_milliseconds, teardown),
        cmocka_unit_test_teardown(test_bill_zero_cold_start_adds_nothing, teardown),
        cmocka_unit_test_teardown(test_bill_free_tier, teardown),
        cmocka_unit_test_teardown(test_api_gateway_front_door, teardown),
        cmocka_unit_test_teardown(test_sync_throttled_beyond_account_concurrency, teardown),
        cmocka_unit_test_teardown(test_reserved_concurrency_splits_the_account, teardown),
        cmocka_unit_test_teardown(test_async_retries_and_conservation, teardown),
        cmocka_unit_test_teardown(test_async_expires_only_after_max_event_age, teardown),
        cmocka_unit_test_teardown(test_scaling_window, teardown),
        cmocka_unit_test_teardown(test_provisioned_concurrency_and_its_schedule, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
