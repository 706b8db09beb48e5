/* test_onprem.c: unit tests of models/onprem, the on-premises fleet and its total cost of ownership.
 *
 * Costs: a 730-hour month of an idle fleet of 10 + 1 servers, each TCO line and the total computed by
 * hand to a millionth of a dollar, and the monthly payment without interest; power that follows the
 * cores' utilization (idle + (peak - idle) x busy core-seconds / cores, times PUE and tariff).
 * Failures: a spare serves at once in a failed server's place and the repaired server stands by;
 * without spares capacity (the utilization's denominator) drops and comes back at the repair; a
 * failed server draws no power and loses the requests in it (target_died); a fleet with every server
 * failed refuses requests (no_healthy_target) and conservation holds; instance_failed and
 * instance_running events carry the server's index. Dispatch: round robin in turn, JSQ to the least
 * loaded (ties to the lowest index), both skipping failed servers; onprem_least_waiting. The exact
 * diagnostics of mistakes in a design's tco and failures groups.
 *
 * The model is driven directly, without a workload: a driver model stops the engine at chosen
 * instants and the test submits hand-made requests there. Rows are emitted at each stop (metrics ends
 * an interval when a run returns), so a row covers the time since the previous stop. Failure times
 * that must differ between servers are drawn from a uniform distribution; the test predicts them
 * exactly from a twin engine with the same seed, whose "onprem/failures" stream gives the same draws
 * (servers 0, 1, ... at creation, then one per repair; a deterministic repair draws nothing).
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
#include "metrics.h"
#include "onprem.h"
#include "sim.h"
#include "workload.h"
#include "testdriver.h"
#include "testheld.h"
#include "testutil.h"

#define SEC SIM_SEC
#define HOUR (3600 * SIM_SEC)
#define USD_TOL 1e-9 /* bills are exact up to floating-point sums: far below a cent */
#define J_TOL 1e-6   /* joules */

#define DET(v) "{ dist = \"deterministic\"; value = \"" v "\"; }"

/* The TCO of the power tests: only electricity costs anything. 100 W idle, 300 W at full load, PUE 1,
 * 0.36 USD per kWh = 0.36 / 3.6e6 = 1e-7 USD per joule. */
#define POWER_TCO                                                                                        \
    "tco = { server_price = 0; amortisation_months = 12; cost_of_money = 0; idle_watts = 100;"           \
    " peak_watts = 300; pue = 1.0; kwh_price = \"$0.36\"; kw_month = 0; network_month = 0;"              \
    " servers_per_admin = 1; admin_year = 0; };"
#define USD_PER_J 1e-7

/* ---- the fixture: a config, an engine, a driver, metrics, a ledger, the fleet ----------------- */

#define MAX_EVENTS 64

struct fx {
    struct diag d;
    conf *c;
    struct onprem_params p;
    struct cost_prices prices;
    struct cost_billing billing;
    sim *s;
    uint16_t driver;
    struct metrics *m;
    struct cost *cost;
    struct onprem *o;
    uint64_t next_id;
    /* sums over the rows emitted so far, and the last row */
    uint64_t rows, arrivals, successes, errors, errors_by[METRICS_N_ERRORS];
    struct metrics_row last;
    struct metrics_event ev[MAX_EVENTS];
    unsigned n_ev;
};

static void free_fx(struct fx *f)
{
    unhold(f);
    onprem_destroy(f->o);
    cost_destroy(f->cost);
    metrics_destroy(f->m);
    if (f->s) sim_destroy(f->s);
    onprem_params_free(&f->p);
    conf_free(f->c);
    if (f->d.f) diag_close(&f->d);
    free(f);
}

static int on_row(void *ctx, const struct metrics_row *r)
{
    struct fx *f = ctx;
    f->rows++;
    f->arrivals += r->arrivals;
    f->successes += r->successes;
    f->errors += r->errors;
    for (int k = 0; k < METRICS_N_ERRORS; k++) f->errors_by[k] += r->errors_by[k];
    f->last = *r;
    return 0;
}

static int on_event(void *ctx, const struct metrics_event *ev)
{
    struct fx *f = ctx;
    if (f->n_ev < MAX_EVENTS) f->ev[f->n_ev++] = *ev;
    return 0;
}

/* An onprem run of `horizon` (one report interval, so rows come only from the stops and the horizon)
 * on seed `seed`, from the design group's body; the ledger has no prices of its own (on-premises
 * lines come from the tco group alone). */
static struct fx *new_fx(const char *design, sim_time horizon, uint64_t seed)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hold(f, (cleanup_fn *)free_fx);
    assert_int_equal(diag_open(&f->d), 0);
    size_t len = strlen(design) + 32;
    char *text = malloc(len);
    assert_non_null(text);
    snprintf(text, len, "design: { %s };\n", design);
    f->c = conf_load_string(text, "run.cfg", f->d.f);
    free(text);
    if (!f->c) {
        print_error("load failed:\n%s\n", diag_text(&f->d));
        fail();
    }
    bool ok = onprem_parse(f->c, conf_group(f->c, conf_root(f->c), "design", true), &f->p);
    ok = conf_check_unused(f->c) == 0 && ok;
    if (!ok) {
        print_error("%s", diag_text(&f->d));
        fail();
    }
    memset(&f->prices, 0, sizeof f->prices);
    f->billing = (struct cost_billing){.rules = 1, .requests_per_connection = 1};
    f->s = sim_create(seed, 0, horizon);
    f->driver = driver_register(f->s);
    f->m = metrics_create(f->s, &(struct metrics_params){.interval = horizon, .warmup = 0}, on_row, f);
    metrics_set_event_sink(f->m, on_event, f);
    f->cost = cost_create(f->s, &f->prices, &f->billing, false);
    metrics_attach_cost(f->m, f->cost);
    f->o = onprem_create(f->s, &f->p, f->m, f->cost);
    return f;
}

/* Runs the engine up to instant t (>= now); the caller then acts at exactly t. Events due at t that
 * were scheduled before this call (completions, failures, repairs) have run. */
static void run_until(struct fx *f, sim_time t)
{
    drive_to(f->s, f->driver, t);
}

/* Runs to the horizon (the ledger is closed there by metrics). */
static void finish(struct fx *f)
{
    sim_run(f->s);
    assert_int_equal(sim_now(f->s), sim_horizon(f->s));
}

static void submit(struct fx *f, double demand)
{
    struct request r = {.id = f->next_id++, .arrival = sim_now(f->s), .demand = demand};
    onprem_submit(f->o, &r);
}

static void submit_n(struct fx *f, unsigned n, double demand)
{
    for (unsigned i = 0; i < n; i++) submit(f, demand);
}

static double booked(struct fx *f, enum cost_category k)
{
    cost_update(f->cost);
    return cost_booked(f->cost, k);
}

static double probe_cores_now(const struct fx *f)
{
    struct metrics_probe pr = onprem_probe(f->o);
    return pr.cores(pr.ctx);
}

static void probe_instances_now(const struct fx *f, double out[4])
{
    struct metrics_probe pr = onprem_probe(f->o);
    pr.instances(pr.ctx, out);
}

/* Fails unless event number k is `kind` for server `id` at t. */
static void assert_event(const struct fx *f, unsigned k, enum metrics_event_kind kind, int64_t id, sim_time t)
{
    if (k >= f->n_ev) {
        print_error("event %u expected, only %u recorded\n", k, f->n_ev);
        fail();
    }
    const struct metrics_event *e = &f->ev[k];
    if (e->kind != (int32_t)kind || e->id != id || !(fabs(e->t_s - sim_to_seconds(t)) <= 1e-9)) {
        print_error("event %u: %s id %lld at %.9f s, expected %s id %lld at %.9f s\n", k, metrics_event_names[e->kind],
                    (long long)e->id, e->t_s, metrics_event_names[kind], (long long)id, sim_to_seconds(t));
        fail();
    }
    assert_int_equal(e->az, -1);
}

/* Fails unless the events recorded include `kind` for server `id` at t (for events of one instant
 * whose order among themselves means nothing, e.g. a failure and its replacement). */
static void assert_has_event(const struct fx *f, enum metrics_event_kind kind, int64_t id, sim_time t)
{
    for (unsigned k = 0; k < f->n_ev; k++)
        if (f->ev[k].kind == (int32_t)kind && f->ev[k].id == id && fabs(f->ev[k].t_s - sim_to_seconds(t)) <= 1e-9)
            return;
    print_error("no event %s id %lld at %.9f s among the %u recorded\n", metrics_event_names[kind], (long long)id,
                sim_to_seconds(t), f->n_ev);
    fail();
}

/* The failure times the fleet will draw on `seed`: the first n draws of its "onprem/failures" stream
 * from `between`, as engine times (creation at 0: the failure of server i is at t[i]). */
static void predict_failures(uint64_t seed, const struct dist *between, unsigned n, sim_time *t)
{
    sim *twin = sim_create(seed, 0, 1);
    gsl_rng *r = sim_rng(twin, "onprem/failures");
    for (unsigned i = 0; i < n; i++) t[i] = sim_from_seconds(dist_sample(between, r));
    sim_destroy(twin);
}

/* The first seed from 1 on which, of n servers failing uniformly on [1000 s, 5000 s] from creation,
 * server 0 fails first, at *t1, and every other server at least `gap` later. Server 0 is the one that
 * a model skipping failed servers wrongly (or breaking ties wrongly) would still pick first. */
static uint64_t seed_where_server_0_fails_first(unsigned n, sim_time gap, sim_time *t1)
{
    const struct dist between = dist_uniform(1000, 5000);
    sim_time t[8];
    assert_true(n <= 8);
    for (uint64_t k = 1; k <= 1000; k++) {
        predict_failures(k, &between, n, t);
        bool fits = true;
        for (unsigned i = 1; i < n; i++) fits = fits && t[i] >= t[0] + gap;
        if (fits) {
            *t1 = t[0];
            return k;
        }
    }
    fail_msg("no seed in 1..1000 where server 0 of %u fails first", n);
    return 0;
}

/* ---- the cost of a month ---------------------------------------------------------------------- */

#define MONTH_TCO                                                                                        \
    "tco = { server_price = \"$10000\"; amortisation_months = 36; cost_of_money = 0.05;"                \
    " idle_watts = 175; peak_watts = 300; pue = 1.5; kwh_price = \"$0.10\"; kw_month = \"$150\";"       \
    " network_month = \"$30\"; servers_per_admin = 50; admin_year = \"$120000\"; };"

/* 10 serving + 1 spare = 11 servers bought, a 730-hour month (COST_MONTH_S) without load:
 * - hardware: the level payment of 10,000 USD over n = 36 months at r = 0.05 / 12 = 0.0041667 a
 *   month: P r / (1 - (1 + r)^-n) = 10000 x 0.0041667 / (1 - 1.0041667^-36) = 10000 x 0.0041667 /
 *   (1 - 0.86098) = 299.70897 USD; 11 of them: 3,296.79868 USD;
 * - power: idle all month: 11 x 175 W x 730 h = 1,405.25 kWh at the meter, x PUE 1.5 = 2,107.875 kWh
 *   at the utility, x 0.10 USD = 210.7875 USD;
 * - space: 11 x 0.3 kW of peak power x 150 USD per kW-month = 495 USD;
 * - network: 11 x 30 = 330 USD;
 * - staff: 11 / 50 administrators x 120,000 / 12 USD a month = 0.22 x 10,000 = 2,200 USD;
 * total 6,532.58618 USD. */
static void test_a_month_to_the_cent(void **state)
{
    (void)state;
    const sim_time month = 730 * HOUR;
    struct fx *f = new_fx("servers = 10; spares = 1; server: { cores = 4; }; " MONTH_TCO, month, 1);
    const struct onprem_tco *t = &f->p.tco;
    assert_true(t->given);
    assert_close(t->price, 10000, 0);
    assert_close(t->months, 36, 0);
    assert_close(t->cost_of_money, 0.05, 0);
    assert_close(t->kwh, 0.10, 1e-15);
    assert_close(t->admin_year, 120000, 0);

    double r = 0.05 / 12, payment = 10000 * r / (1 - pow(1 + r, -36));
    assert_close(payment, 299.70897104665, 1e-9);
    assert_close(onprem_monthly_payment(10000, 36, 0.05), payment, 1e-9);

    /* halfway, every line is half a month's (power: idle, linear in time) */
    run_until(f, month / 2);
    assert_close(booked(f, COST_ONPREM_HARDWARE), 11 * payment / 2, USD_TOL);
    assert_close(booked(f, COST_ONPREM_POWER), 210.7875 / 2, USD_TOL);
    assert_close(onprem_joules(f->o), 11 * 175 * 365 * 3600.0, J_TOL);

    finish(f);
    assert_close(cost_booked(f->cost, COST_ONPREM_HARDWARE), 11 * payment, 1e-6);
    assert_close(cost_booked(f->cost, COST_ONPREM_HARDWARE), 3296.798681513, 1e-6);
    assert_close(cost_booked(f->cost, COST_ONPREM_POWER), 210.7875, 1e-6);
    assert_close(cost_booked(f->cost, COST_ONPREM_SPACE), 495, 1e-6);
    assert_close(cost_booked(f->cost, COST_ONPREM_NETWORK), 330, 1e-6);
    assert_close(cost_booked(f->cost, COST_ONPREM_STAFF), 2200, 1e-6);
    double total = 0;
    for (int k = 0; k < COST_N_CATEGORIES; k++) total += cost_booked(f->cost, (enum cost_category)k);
    assert_close(total, 6532.586181513, 1e-6);
    /* the row at the horizon carries the same bill, and the run totals the whole month */
    assert_close(f->last.cost_total_usd, 6532.586181513, 1e-6);
    assert_close(f->last.cost_usd[COST_ONPREM_STAFF], 2200, 1e-6);
    assert_close(metrics_totals(f->m)->cost_usd, 6532.586181513, 1e-6);
    free_fx(f);
}

/* Without interest the payment is the price split evenly: 10,000 / 36 = 277.78 USD; 7,200 over 24
 * months = 300; a fractional period is fine: 1,000 over 2.5 months = 400. */
static void test_monthly_payment_without_interest(void **state)
{
    (void)state;
    assert_close(onprem_monthly_payment(10000, 36, 0), 10000.0 / 36, 1e-12);
    assert_close(onprem_monthly_payment(7200, 24, 0), 300, 1e-12);
    assert_close(onprem_monthly_payment(1000, 2.5, 0), 400, 1e-12);
    /* one month at any rate: the price plus a month's interest, 12,000 x (1 + 0.12 / 12) = 12,120 */
    assert_close(onprem_monthly_payment(12000, 1, 0.12), 12120, 1e-9);
}

/* ---- power follows utilization ------------------------------------------------------------------ */

/* One server of 2 cores of speed 2, 1,000 s. Requests of 200 s of reference CPU take 200 / 2 = 100 s
 * of one core; four of them, each submitted when the previous one ends (0, 100, 200, 300 s), keep
 * exactly one core busy over [0, 400 s]: 400 busy core-seconds. Energy (POWER_TCO):
 * idle 100 W x 1,000 s + (300 - 100) W x 400 core-s / 2 cores = 100,000 + 40,000 = 140,000 J,
 * x 1e-7 USD/J = 0.014 USD. At 250 s: 100 x 250 + 200 x 250 / 2 = 50,000 J = 0.005 USD. Utilization
 * over the run: 400 / (2 x 1,000) = 0.2. */
static void test_power_follows_utilization(void **state)
{
    (void)state;
    struct fx *f = new_fx("servers = 1; server: { cores = 2; speed = 2.0; }; " POWER_TCO, 1000 * SEC, 1);
    submit(f, 200);
    run_until(f, 100 * SEC);
    assert_int_equal(onprem_in_system(f->o), 0); /* it has ended: the next one follows back to back */
    submit(f, 200);
    run_until(f, 200 * SEC);
    assert_int_equal(onprem_in_system(f->o), 0);
    submit(f, 200);
    run_until(f, 250 * SEC);
    assert_close(onprem_joules(f->o), 50000, J_TOL);
    assert_close(booked(f, COST_ONPREM_POWER), 0.005, USD_TOL);
    run_until(f, 300 * SEC);
    assert_int_equal(onprem_in_system(f->o), 0);
    submit(f, 200);
    finish(f);
    assert_close(onprem_joules(f->o), 140000, J_TOL);
    assert_close(cost_booked(f->cost, COST_ONPREM_POWER), 0.014, USD_TOL);
    assert_close(cost_booked(f->cost, COST_ONPREM_HARDWARE), 0, 0);
    assert_close(cost_booked(f->cost, COST_ONPREM_STAFF), 0, 0);
    const struct metrics_totals *tot = metrics_totals(f->m);
    assert_int_equal(tot->successes, 4);
    assert_close(tot->busy_core_seconds, 400, 1e-9);
    assert_close(tot->core_seconds, 2000, 1e-9);
    free_fx(f);
}

/* ---- failures ------------------------------------------------------------------------------------ */

#define UNIFORM_FAILURES(repair)                                                                         \
    "failures = { between = { dist = \"uniform\"; min = \"1000s\"; max = \"5000s\"; }; repair = " repair "; };"

/* 2 serving servers + 1 spare, 2 cores each, failures uniform on [1000 s, 5000 s] from creation (or
 * repair), repairs 500 s; on the first seed whose draws fit: server i (0 or 1) fails first, at t1, and
 * the other serving server and the spare not before t1 + 600 s (the horizon); i's next failure, drawn
 * at its repair, is at least 1000 s after it, past the horizon.
 * - t = 0: six requests of 1e5 s, round robin: 3 per server, 2 in service and 1 waiting each;
 * - t1: i fails: its 3 requests are lost (target_died), the spare (server 2) serves at once: still 2
 *   serving, 4 cores, 1 server down; events instance_running(2) and instance_failed(i) at t1;
 * - t1: two requests of 10 s, round robin over the serving servers (the survivor j and the spare):
 *   one waits behind j's, one is served by server 2 and ends at t1 + 10 s;
 * - power over [t1, t1 + 500 s]: j: 100 W x 500 s + 200 W x (2 cores x 500 s) / 2 = 150,000 J;
 *   server 2: 100 x 500 + 200 x 10 / 2 = 51,000 J; i (failed): 0. 201,000 J = 0.0201 USD;
 * - t1 + 500 s: i is repaired and stands by (the fleet has its 2): no event, 2 serving, none down;
 * - conservation at the horizon: 8 arrivals = 1 success + 3 errors + 4 in the fleet. */
static void test_a_spare_takes_over_at_once(void **state)
{
    (void)state;
    const struct dist between = dist_uniform(1000, 5000);
    sim_time t[3] = {0, 0, 0};
    uint64_t seed = 0;
    for (uint64_t k = 1; k <= 1000 && seed == 0; k++) {
        predict_failures(k, &between, 3, t);
        sim_time first = t[0] < t[1] ? t[0] : t[1], other = t[0] < t[1] ? t[1] : t[0];
        if (other > first + 600 * SEC && t[2] > first + 600 * SEC) seed = k;
    }
    assert_true(seed != 0);
    unsigned i = t[0] < t[1] ? 0 : 1; /* the other serving server, j, keeps its requests */
    sim_time t1 = t[i], horizon = t1 + 600 * SEC;

    struct fx *f =
        new_fx("servers = 2; spares = 1; server: { cores = 2; }; " UNIFORM_FAILURES(DET("500s")) " " POWER_TCO,
               horizon, seed);
    assert_int_equal(f->p.failure.kind, DIST_UNIFORM); /* the twin's distribution */
    assert_close(f->p.failure.uniform.min, 1000, 0);
    assert_close(f->p.failure.uniform.max, 5000, 0);
    submit_n(f, 6, 1e5);
    assert_int_equal(onprem_in_system(f->o), 6);
    assert_int_equal(onprem_least_waiting(f->o), 1);
    assert_int_equal(onprem_serving(f->o), 2);
    double inst[4];
    probe_instances_now(f, inst);
    assert_close(inst[1], 2, 0);
    assert_close(inst[3], 0, 0);

    run_until(f, t1);
    assert_int_equal(f->n_ev, 2);
    assert_has_event(f, METRICS_EV_INSTANCE_FAILED, i, t1);
    assert_has_event(f, METRICS_EV_INSTANCE_RUNNING, 2, t1);
    assert_int_equal(onprem_serving(f->o), 2);
    assert_close(probe_cores_now(f), 4, 0);
    probe_instances_now(f, inst);
    assert_close(inst[1], 2, 0);
    assert_close(inst[3], 1, 0);
    assert_int_equal(f->errors_by[METRICS_ERR_TARGET_DIED], 3);
    assert_int_equal(f->errors, 3);
    assert_int_equal(onprem_in_system(f->o), 3);
    /* j still has one waiting; the spare, now serving, has none */
    assert_int_equal(onprem_least_waiting(f->o), 0);

    double power0 = booked(f, COST_ONPREM_POWER), joules0 = onprem_joules(f->o);
    submit_n(f, 2, 10);
    run_until(f, t1 + 10 * SEC + SEC / 2);
    assert_int_equal(f->successes, 1);
    assert_int_equal(onprem_in_system(f->o), 4);

    run_until(f, t1 + 500 * SEC);
    assert_close(onprem_joules(f->o) - joules0, 201000, J_TOL);
    assert_close(booked(f, COST_ONPREM_POWER) - power0, 0.0201, USD_TOL);
    assert_int_equal(f->n_ev, 2); /* back as a spare: nothing announced */
    assert_int_equal(onprem_serving(f->o), 2);
    assert_close(probe_cores_now(f), 4, 0);
    probe_instances_now(f, inst);
    assert_close(inst[3], 0, 0);

    finish(f);
    const struct metrics_totals *tot = metrics_totals(f->m);
    assert_int_equal(tot->arrivals, 8);
    assert_int_equal(tot->successes, 1);
    assert_int_equal(tot->errors, 3);
    assert_int_equal(tot->in_flight_at_end, 4);
    assert_int_equal(onprem_in_system(f->o), 4);
    free_fx(f);
}

/* 2 servers of 2 cores, no spare, failures uniform on [1000 s, 5000 s], repairs 500 s; on the first
 * seed whose draws fit: server i = 0 fails first at t1, the other (j = 1) not before t1 + 600 s (the
 * horizon); server 0 failing, a count over the first n_serving indices instead of the serving ones
 * would see its empty queue.
 * - t = 0: six requests of 1e5 s: 3 per server (2 in service, 1 waiting); least waiting 1;
 * - t1: i fails with its 3 (target_died); 1 server, 2 cores serve; least waiting is j's 1, not the
 *   failed server's empty queue; event instance_failed(i);
 * - [t1, t1 + 500 s]: utilization = j's 2 busy cores x 500 s / (2 cores x 500 s) = 1 (it would read
 *   0.5 if the failed server's cores still counted); energy: j alone, 100 W x 500 s + 200 W x 1000
 *   core-s / 2 = 150,000 J = 0.015 USD;
 * - t1 + 500 s: i is repaired and serves again (instance_running(i)): 2 serving, 4 cores;
 * - [t1 + 500, t1 + 600 s]: utilization 200 core-s / (4 cores x 100 s) = 0.5; energy 2 x 100 W x 100 s
 *   + 200 W x 200 core-s / 2 = 40,000 J = 0.004 USD. */
static void test_without_spares_capacity_drops_until_the_repair(void **state)
{
    (void)state;
    sim_time t1 = 0;
    uint64_t seed = seed_where_server_0_fails_first(2, 600 * SEC, &t1);
    const unsigned i = 0;
    sim_time horizon = t1 + 600 * SEC;

    struct fx *f =
        new_fx("servers = 2; server: { cores = 2; }; " UNIFORM_FAILURES(DET("500s")) " " POWER_TCO, horizon, seed);
    submit_n(f, 6, 1e5);
    assert_int_equal(onprem_least_waiting(f->o), 1);
    /* before the failure: both servers, 4 busy cores: 100 x 2 x t1 + 200 x 4 t1 / 2 = 600 J per s */
    run_until(f, t1);
    assert_close(f->last.utilization, 1.0, 1e-12);
    assert_int_equal(f->n_ev, 1);
    assert_event(f, 0, METRICS_EV_INSTANCE_FAILED, i, t1);
    assert_int_equal(onprem_serving(f->o), 1);
    assert_close(probe_cores_now(f), 2, 0);
    assert_int_equal(f->errors_by[METRICS_ERR_TARGET_DIED], 3);
    assert_int_equal(onprem_in_system(f->o), 3);
    assert_int_equal(onprem_least_waiting(f->o), 1);
    assert_close(f->last.instances[1], 1, 0); /* the row at t1: 1 running, 1 down */
    assert_close(f->last.instances[3], 1, 0);
    double power0 = booked(f, COST_ONPREM_POWER);
    assert_close(onprem_joules(f->o), 600 * sim_to_seconds(t1), 1e-6);

    run_until(f, t1 + 500 * SEC);
    assert_close(f->last.utilization, 1.0, 1e-12);
    assert_close(f->last.instances[1], 2, 0); /* at its end: the repair at the same instant came first */
    double power1 = booked(f, COST_ONPREM_POWER);
    assert_close(power1 - power0, 0.015, USD_TOL);
    assert_int_equal(f->n_ev, 2);
    assert_event(f, 1, METRICS_EV_INSTANCE_RUNNING, i, t1 + 500 * SEC);
    assert_int_equal(onprem_serving(f->o), 2);
    assert_close(probe_cores_now(f), 4, 0);
    assert_int_equal(onprem_least_waiting(f->o), 0); /* the repaired server is empty */

    finish(f);
    assert_close(f->last.utilization, 0.5, 1e-12);
    assert_close(f->last.instances[1], 2, 0);
    assert_close(f->last.instances[3], 0, 0);
    assert_close(cost_booked(f->cost, COST_ONPREM_POWER) - power1, 0.004, USD_TOL);
    assert_int_equal(metrics_totals(f->m)->arrivals, 6);
    assert_int_equal(metrics_totals(f->m)->errors, 3);
    assert_int_equal(metrics_totals(f->m)->in_flight_at_end, 3);
    free_fx(f);
}

/* Every server failed. 2 serving + 1 spare of 1 core, failures deterministic 1000 s, repairs 200 s:
 * every server's clock starts at 0 (a spare's runs while it stands by, powered), so all three fail at
 * 1000 s, in the order their failures were scheduled: server 0 (the spare, 2, takes its place:
 * instance_running(2)), then 1 (no spare left), then 2. Nothing serves until the repairs at 1200 s, in
 * the same order: 0 and 1 serve again, 2 stands by. The next failures would come at 2200 s, past the
 * horizon of 1300 s.
 * - t = 0: two requests of 1e5 s, one per server: lost at 1000 s (target_died);
 * - 1000 s: three requests: refused (no_healthy_target), each counted as an arrival and an error;
 *   least waiting is UINT64_MAX; no power is drawn until the repair, while the hardware still costs;
 * - 1200 s: two requests of 1 s: served, ending at 1201 s;
 * conservation: 7 arrivals = 2 successes + 5 errors + 0 in the fleet. */
static void test_all_servers_failed(void **state)
{
    (void)state;
    struct fx *f = new_fx("servers = 2; spares = 1; failures = { between = " DET("1000s") "; repair = " DET("200s")
                          "; }; tco = { server_price = \"$7300\"; amortisation_months = 1; cost_of_money = 0;"
                          " idle_watts = 100; peak_watts = 300; pue = 1.0; kwh_price = \"$0.36\"; kw_month = 0;"
                          " network_month = 0; servers_per_admin = 1; admin_year = 0; };",
                          1300 * SEC, 1);
    submit_n(f, 2, 1e5);
    run_until(f, 1000 * SEC);
    assert_int_equal(f->n_ev, 4);
    assert_has_event(f, METRICS_EV_INSTANCE_FAILED, 0, 1000 * SEC);
    assert_has_event(f, METRICS_EV_INSTANCE_RUNNING, 2, 1000 * SEC); /* for a moment */
    assert_has_event(f, METRICS_EV_INSTANCE_FAILED, 1, 1000 * SEC);
    assert_has_event(f, METRICS_EV_INSTANCE_FAILED, 2, 1000 * SEC);
    assert_int_equal(onprem_serving(f->o), 0);
    assert_close(probe_cores_now(f), 0, 0);
    assert_int_equal(onprem_least_waiting(f->o), UINT64_MAX);
    assert_int_equal(f->errors_by[METRICS_ERR_TARGET_DIED], 2);
    double inst[4];
    probe_instances_now(f, inst);
    assert_close(inst[1], 0, 0);
    assert_close(inst[3], 3, 0);

    submit_n(f, 3, 1);
    assert_int_equal(onprem_in_system(f->o), 0);
    double joules0 = onprem_joules(f->o), power0 = booked(f, COST_ONPREM_POWER);
    double hw0 = booked(f, COST_ONPREM_HARDWARE);
    /* hardware: 3 x 7,300 USD a month = 3 x 7300 / (730 x 3600) = 3 x 0.0027778 USD/s */
    assert_close(hw0, 3 * 7300.0 / (730 * 3600.0) * 1000, USD_TOL);

    run_until(f, 1200 * SEC);
    assert_int_equal(f->errors_by[METRICS_ERR_NO_HEALTHY_TARGET], 3);
    assert_close(onprem_joules(f->o) - joules0, 0, J_TOL);
    assert_close(booked(f, COST_ONPREM_POWER) - power0, 0, USD_TOL);
    assert_close(booked(f, COST_ONPREM_HARDWARE) - hw0, 3 * 7300.0 / (730 * 3600.0) * 200, USD_TOL);
    assert_int_equal(f->n_ev, 6);
    assert_event(f, 4, METRICS_EV_INSTANCE_RUNNING, 0, 1200 * SEC);
    assert_event(f, 5, METRICS_EV_INSTANCE_RUNNING, 1, 1200 * SEC);
    assert_int_equal(onprem_serving(f->o), 2);
    assert_close(probe_cores_now(f), 2, 0);
    probe_instances_now(f, inst);
    assert_close(inst[3], 0, 0);
    submit_n(f, 2, 1);

    finish(f);
    assert_int_equal(f->n_ev, 6);
    const struct metrics_totals *tot = metrics_totals(f->m);
    assert_int_equal(tot->arrivals, 7);
    assert_int_equal(tot->successes, 2);
    assert_int_equal(tot->errors, 5);
    assert_int_equal(tot->in_flight_at_end, 0);
    assert_int_equal(f->arrivals, 7);
    assert_int_equal(f->errors_by[METRICS_ERR_TARGET_DIED], 2);
    assert_int_equal(f->errors_by[METRICS_ERR_NO_HEALTHY_TARGET], 3);
    free_fx(f);
}

/* ---- dispatch ------------------------------------------------------------------------------------ */

/* Successes so far at each checkpoint of the dispatch scenario below. */
struct checkpoint {
    double at_s;
    uint64_t successes;
};

/* 3 servers of 1 core, unlimited queues. t = 0: a (10 s), b (20 s), c (30 s); d (1 s); t = 12 s: e, f, g
 * (1 s each). Where they go, and when they end:
 * - round robin: a S0, b S1, c S2, d S0 (ends 11); then e S1 (behind b: 21), f S2 (behind c: 31), g S0
 *   (idle: 13). Ends: a 10, d 11, g 13, b 20, e 21, c 30, f 31.
 * - JSQ (fewest held, ties to the lowest index): a S0, b S1, c S2 (each the lowest empty one), d: all
 *   hold 1, S0 (ends 11); at 12 s S0 is empty: e S0 (13); then all hold 1: f S0 (14); then S0 holds 2:
 *   g S1 (behind b: 21). Ends: a 10, d 11, e 13, f 14, b 20, g 21, c 30.
 * (With ties to the highest index, d would go to S2 and end at 31: 1 success by 12 s.) */
static void dispatch_scenario(const char *design, const struct checkpoint *cp, size_t n)
{
    struct fx *f = new_fx(design, 40 * SEC, 1);
    submit(f, 10);
    submit(f, 20);
    submit(f, 30);
    assert_int_equal(onprem_least_waiting(f->o), 0);
    submit(f, 1);
    assert_int_equal(onprem_least_waiting(f->o), 0); /* S1 and S2 have nobody waiting */
    run_until(f, 12 * SEC);
    assert_int_equal(f->successes, 2);
    submit_n(f, 3, 1);
    for (size_t k = 0; k < n; k++) {
        run_until(f, sim_from_seconds(cp[k].at_s));
        if (f->successes != cp[k].successes) {
            print_error("at %g s: %llu successes, expected %llu\n", cp[k].at_s, (unsigned long long)f->successes,
                        (unsigned long long)cp[k].successes);
            fail();
        }
    }
    finish(f);
    assert_int_equal(metrics_totals(f->m)->successes, 7);
    free_fx(f);
}

static void test_round_robin_in_turn(void **state)
{
    (void)state;
    static const struct checkpoint cp[] = {{12.5, 2}, {13.5, 3}, {14.5, 3}, {20.5, 4}, {21.5, 5}, {30.5, 6}, {31.5, 7}};
    dispatch_scenario("servers = 3; dispatch = \"round_robin\";", cp, sizeof cp / sizeof cp[0]);
    /* round robin is the default */
    dispatch_scenario("servers = 3;", cp, sizeof cp / sizeof cp[0]);
}

static void test_jsq_least_loaded_lowest_index(void **state)
{
    (void)state;
    static const struct checkpoint cp[] = {{12.5, 2}, {13.5, 3}, {14.5, 4}, {20.5, 5}, {21.5, 6}, {30.5, 7}};
    dispatch_scenario("servers = 3; dispatch = \"jsq\";", cp, sizeof cp / sizeof cp[0]);
}

/* 3 servers of 1 core, failures uniform on [1000 s, 5000 s], repairs far past the horizon; on the
 * first seed whose draws fit, server 0 fails first (at t1), at least 30 s before the others; no load
 * until then, so the failed server is empty (held 0), idle like the others, and the lowest index.
 * - round robin, 4 requests of 10 s at t1: 2 for each of the 2 serving servers: 2 end at t1 + 10 s,
 *   2 at t1 + 20 s (with the failed server in the turn: 3 would end at t1 + 10 s);
 * - JSQ, 3 requests of 10 s: one for each serving server, the third waits: 2 end at t1 + 10 s, 1 at
 *   t1 + 20 s (the failed server, empty, would otherwise be the shortest). */
static void skip_failed_scenario(const char *dispatch, unsigned n, uint64_t at_10, uint64_t at_20)
{
    sim_time t1 = 0;
    uint64_t seed = seed_where_server_0_fails_first(3, 30 * SEC, &t1);
    char design[256];
    snprintf(design, sizeof design, "servers = 3; dispatch = \"%s\"; %s", dispatch, UNIFORM_FAILURES(DET("1d")));
    struct fx *f = new_fx(design, t1 + 30 * SEC, seed);
    run_until(f, t1);
    assert_event(f, 0, METRICS_EV_INSTANCE_FAILED, 0, t1);
    assert_int_equal(onprem_serving(f->o), 2);
    submit_n(f, n, 10);
    run_until(f, t1 + 10 * SEC + SEC / 2);
    assert_int_equal(f->successes, at_10);
    run_until(f, t1 + 20 * SEC + SEC / 2);
    assert_int_equal(f->successes, at_20);
    assert_int_equal(onprem_in_system(f->o), 0);
    free_fx(f);
}

/* JSQ breaks ties to the lowest index, seen through which requests a failure takes (homogeneous
 * servers make every other observation symmetric). 3 servers of 1 core, server 0 fails first at t1
 * (the others at least 30 s later). At t1 - 5 s, four requests of 100 s on an idle fleet: a to S0 (all
 * hold 0), b to S1 (S0 holds 1), c to S2, d to S0 (all hold 1). At t1 server 0 fails with a and d: 2
 * lost (target_died), 2 left. (Ties to the highest index would put a and d on S2: 1 lost.) */
static void test_jsq_ties_seen_through_a_failure(void **state)
{
    (void)state;
    sim_time t1 = 0;
    uint64_t seed = seed_where_server_0_fails_first(3, 30 * SEC, &t1);
    struct fx *f = new_fx("servers = 3; dispatch = \"jsq\"; " UNIFORM_FAILURES(DET("1d")), t1 + 30 * SEC, seed);
    run_until(f, t1 - 5 * SEC);
    submit_n(f, 4, 100);
    assert_int_equal(onprem_least_waiting(f->o), 0);
    run_until(f, t1);
    assert_int_equal(f->n_ev, 1);
    assert_event(f, 0, METRICS_EV_INSTANCE_FAILED, 0, t1);
    assert_int_equal(f->errors_by[METRICS_ERR_TARGET_DIED], 2);
    assert_int_equal(onprem_in_system(f->o), 2);
    free_fx(f);
}

static void test_dispatch_skips_failed_servers(void **state)
{
    (void)state;
    skip_failed_scenario("round_robin", 4, 2, 4);
    skip_failed_scenario("jsq", 3, 2, 3);
}

/* ---- onprem_least_waiting -------------------------------------------------------------------------- */

/* 2 servers of 1 core, round robin, requests of 100 s: 0 while a serving server has nobody waiting (empty,
 * or busy with an empty queue), then the smaller queue: after 4 requests S0 and S1 hold 2 each (1
 * waiting each): 1; a 5th: S0 waits 2, S1 1: 1; a 6th: 2 and 2: 2. */
static void test_least_waiting(void **state)
{
    (void)state;
    struct fx *f = new_fx("servers = 2;", 1000 * SEC, 1);
    assert_int_equal(onprem_least_waiting(f->o), 0);
    submit(f, 100);
    assert_int_equal(onprem_least_waiting(f->o), 0);
    submit(f, 100);
    assert_int_equal(onprem_least_waiting(f->o), 0); /* both busy, nobody waiting */
    submit(f, 100);
    assert_int_equal(onprem_least_waiting(f->o), 0);
    submit(f, 100);
    assert_int_equal(onprem_least_waiting(f->o), 1);
    submit(f, 100);
    assert_int_equal(onprem_least_waiting(f->o), 1);
    submit(f, 100);
    assert_int_equal(onprem_least_waiting(f->o), 2);
    assert_int_equal(onprem_in_system(f->o), 6);
    /* at 100 s each server starts its next: 1 and 1 waiting */
    run_until(f, 150 * SEC);
    assert_int_equal(onprem_least_waiting(f->o), 1);
    assert_int_equal(onprem_in_system(f->o), 4);
    free_fx(f);
}

/* ---- diagnostics ------------------------------------------------------------------------------------ */

/* A design read from text: its diagnostics, the conf, the parameters. Freed by the teardown too. */
struct parsed {
    struct diag d;
    conf *c;
    struct onprem_params p;
    bool ok;
};

static void free_parsed(struct parsed *x)
{
    unhold(x);
    onprem_params_free(&x->p);
    conf_free(x->c);
    if (x->d.f) diag_close(&x->d);
    free(x);
}

static struct parsed *parse(const char *text)
{
    struct parsed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hold(x, (cleanup_fn *)free_parsed);
    assert_int_equal(diag_open(&x->d), 0);
    x->c = load_or_fail(text, "op.cfg", &x->d);
    x->ok = onprem_parse(x->c, conf_group(x->c, conf_root(x->c), "design", true), &x->p);
    return x;
}

/* A design with mistakes: onprem_parse fails and says exactly `expected`. */
static void expect_diag(const char *text, const char *expected)
{
    struct parsed *x = parse(text);
    assert_false(x->ok);
    assert_diag_is(&x->d, expected);
    free_parsed(x);
}

/* The tco group of MONTH_TCO, one setting a line from line 4 (the design opens on line 1, servers on
 * 2, tco on 3), with setting `name` replaced by `line` ("" drops it). */
static const char *const tco_lines[] = {
    "server_price = \"$10000\";", "amortisation_months = 36;", "cost_of_money = 0.05;", "idle_watts = 175;",
    "peak_watts = 300;", "pue = 1.5;", "kwh_price = \"$0.10\";", "kw_month = \"$150\";", "network_month = \"$30\";",
    "servers_per_admin = 50;", "admin_year = \"$120000\";"};

static void expect_tco_diag(const char *name, const char *line, const char *expected)
{
    char text[2048];
    size_t pos = (size_t)snprintf(text, sizeof text, "design: {\n  servers = 2;\n  tco = {\n");
    for (size_t k = 0; k < sizeof tco_lines / sizeof tco_lines[0]; k++) {
        bool replaced = strncmp(tco_lines[k], name, strlen(name)) == 0 && tco_lines[k][strlen(name)] == ' ';
        pos += (size_t)snprintf(text + pos, sizeof text - pos, "    %s\n", replaced ? line : tco_lines[k]);
    }
    snprintf(text + pos, sizeof text - pos, "  };\n};\n");
    expect_diag(text, expected);
}

static void test_diagnostics(void **state)
{
    (void)state;
    /* the tco group opens on line 3: server_price is on line 4, idle_watts 7, peak_watts 8, pue 9 */
    expect_tco_diag("server_price", "server_price = -5000;",
                    "op.cfg:4: design.tco.server_price: must be in [$0, $1e+09], got $-5000\n");
    expect_tco_diag("peak_watts", "peak_watts = 150;",
                    "op.cfg:8: design.tco.peak_watts: must be at least idle_watts (175), got 150\n");
    expect_tco_diag("pue", "pue = 0.9;", "op.cfg:9: design.tco.pue: must be in [1, 5], got 0.9\n");
    expect_tco_diag("kwh_price", "", "op.cfg:3: design.tco.kwh_price: missing required setting\n");
    expect_diag("design: { servers = 2;\n"
                "  failures = { between = " DET("30d") "; }; };\n",
                "op.cfg:2: design.failures.repair: missing required setting\n");

    /* the full month's group reads back without a mistake or an unused setting; the defaults */
    struct parsed *x = parse("design: { servers = 10; spares = 1; " MONTH_TCO " };");
    assert_true(x->ok);
    assert_int_equal(conf_check_unused(x->c), 0);
    const struct onprem_params *p = &x->p;
    assert_int_equal(p->servers, 10);
    assert_int_equal(p->spares, 1);
    assert_int_equal(p->server.cores, 1);
    assert_close(p->server.speed, 1.0, 0);
    assert_int_equal(p->server.queue_limit, SERVER_UNLIMITED);
    assert_int_equal(p->dispatch, ONPREM_ROUND_ROBIN);
    assert_int_equal(p->failure.kind, DIST_NONE);
    assert_close(p->tco.pue, 1.5, 0);
    assert_close(p->tco.idle_w, 175, 0);
    assert_close(p->tco.peak_w, 300, 0);
    assert_close(p->tco.kw_month, 150, 0);
    assert_close(p->tco.network_month, 30, 0);
    assert_close(p->tco.servers_per_admin, 50, 0);
    free_parsed(x);
}

/* An amortisation period must be more than 0 months (onprem.h: "> 0"), and the message says so in the
 * words of the other ranges: "(0, 1200]". The model reads it with CONF_IN(1e-9, 1200), whose message
 * tells the user the smallest period is 1e-09 months, a bound they never wrote and that means nothing. */
static void test_zero_amortisation_months(void **state)
{
    (void)state;
    expect_tco_diag("amortisation_months", "amortisation_months = 0;",
                    "op.cfg:5: design.tco.amortisation_months: must be in (0, 1200], got 0\n");
}

/* A time between failures of 0 cannot be run: a server would fail the instant it (re)enters service,
 * and with an instant repair as well (repair = 0 is a legitimate "swap at once") the engine fails and
 * repairs it forever without the clock advancing: sim_run never returns (found by running this design:
 * killed after 10 s at t = 0). onprem_parse must refuse it at the setting. */
static void test_zero_time_between_failures_is_refused(void **state)
{
    (void)state;
    struct parsed *x = parse("design: { servers = 1;\n"
                             "  failures = { between = " DET("0s") "; repair = " DET("0s") "; }; };\n");
    if (x->ok) {
        print_error("onprem_parse accepted failures.between = 0 s (diagnostics: \"%s\")\n", diag_text(&x->d));
        fail();
    }
    assert_diag_contains(&x->d, "op.cfg:2: design.failures.between");
    free_parsed(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_month_to_the_cent, teardown),
        cmocka_unit_test_teardown(test_monthly_payment_without_interest, teardown),
        cmocka_unit_test_teardown(test_power_follows_utilization, teardown),
        cmocka_unit_test_teardown(test_a_spare_takes_over_at_once, teardown),
        cmocka_unit_test_teardown(test_without_spares_capacity_drops_until_the_repair, teardown),
        cmocka_unit_test_teardown(test_all_servers_failed, teardown),
        cmocka_unit_test_teardown(test_round_robin_in_turn, teardown),
        cmocka_unit_test_teardown(test_jsq_least_loaded_lowest_index, teardown),
        cmocka_unit_test_teardown(test_jsq_ties_seen_through_a_failure, teardown),
        cmocka_unit_test_teardown(test_dispatch_skips_failed_servers, teardown),
        cmocka_unit_test_teardown(test_least_waiting, teardown),
        cmocka_unit_test_teardown(test_diagnostics, teardown),
        cmocka_unit_test_teardown(test_zero_amortisation_months, teardown),
        cmocka_unit_test_teardown(test_zero_time_between_failures_is_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
