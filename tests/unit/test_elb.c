/* test_elb.c: unit tests of models/elb: health checks and the detection window, connect timeouts and
 * refused connections, return to service, overload detection, fail-open, deregistration, routing
 * (round robin, least outstanding requests per node), cross-zone load balancing on and off, nodes of
 * zones that are down, request timeouts, cross-zone bytes, and the diagnostics of the `lb` group.
 *
 * The harness plays the owner: it creates the targets' servers (server.h) and passes their
 * completions and losses to the balancer, decides how each target answers (elb_set_reach) and when it
 * dies (server_kill), and records what metrics reports (rows, events) and what the servers answer.
 * Health checks start at a random phase per (node, target) drawn from the stream
 * "elb/health_phase"; the harness draws the same stream in a reference engine seeded alike, in the
 * same order (one draw per node at each registration), so every check instant is known exactly and
 * every health change is checked at its exact nanosecond.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "az.h"
#include "conf.h"
#include "elb.h"
#include "metrics.h"
#include "server.h"
#include "sim.h"
#include "testheld.h"
#include "testutil.h"
#include "workload.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define MAXT 16
#define MAXREQ 20000
#define CHECK_SERVICE (1 * MS) /* check_cpu 0.001 s on a core of speed 1 */

/* ---- resources a test holds: released by the teardown even when an assertion fails midway ------ */


/* ---- the harness ------------------------------------------------------------------------------- */

struct req_info {
    sim_time arrival;
    int target;       /* routed to, or -1 when no node took it */
    bool done, lost;  /* answered by its server (success or timeout), or lost in it */
    uint16_t node;    /* the node that routed it, known once answered */
    sim_time done_at;
};

struct snap {
    sim_time t;
    uint8_t health[AZ_MAX][MAXT];
    uint8_t reg[MAXT];
    uint64_t routed[MAXT];
    uint64_t connecting, outstanding;
    unsigned healthy_in_zone[AZ_MAX];
};

struct harness {
    sim *s;
    uint16_t id;
    uint64_t seed;
    sim_time horizon;
    struct az_params ap;
    struct az *a;
    struct elb_params ep;
    struct elb *b;
    struct metrics *m;
    sim *ref;          /* reference engine: the same "elb/health_phase" stream */
    gsl_rng *ref_phase;
    unsigned n_t;
    struct server *sv[MAXT];
    unsigned zone[MAXT];
    unsigned cores[MAXT];
    sim_time reg_at[MAXT];
    sim_time phase[MAXT][AZ_MAX];
    size_t n_rows, cap_rows;
    struct metrics_row *rows;
    size_t n_ev;
    struct metrics_event ev[8192];
    size_t n_unused;
    struct {
        sim_time t;
        uint32_t target;
    } unused[64];
    uint64_t n_req;
    struct req_info *req;
    size_t n_snap;
    struct snap snaps[64];
    void *scratch; /* a test's own allocation, freed with the harness */
};

enum { EV_SUBMIT, EV_CALL, N_EV };

struct submit_cmd {
    uint64_t id;
    double demand;
    uint32_t bytes;
};

typedef void call_fn(struct harness *h, uint64_t a, uint64_t b);
struct call_cmd {
    call_fn *fn;
    uint64_t a, b;
};

static void on_submit(sim *s, void *self, const void *payload)
{
    struct harness *h = self;
    struct submit_cmd cmd;
    memcpy(&cmd, payload, sizeof cmd);
    uint64_t before[MAXT];
    for (unsigned t = 0; t < h->n_t; t++) before[t] = elb_routed(h->b, t);
    struct request r = {.id = cmd.id, .arrival = sim_now(s), .demand = cmd.demand, .bytes = cmd.bytes, .cls = 0};
    struct req_info *ri = &h->req[cmd.id];
    ri->arrival = sim_now(s);
    ri->target = -1;
    elb_submit(h->b, &r);
    for (unsigned t = 0; t < h->n_t; t++)
        if (elb_routed(h->b, t) != before[t]) {
            assert_int_equal(ri->target, -1); /* routed once */
            assert_int_equal(elb_routed(h->b, t), before[t] + 1);
            ri->target = (int)t;
        }
}

static void on_call(sim *s, void *self, const void *payload)
{
    (void)s;
    struct call_cmd cmd;
    memcpy(&cmd, payload, sizeof cmd);
    cmd.fn(self, cmd.a, cmd.b);
}

static sim_handler_fn *const handlers[N_EV] = {on_submit, on_call};
static const char *const kinds[N_EV] = {"submit", "call"};
static const sim_model_ops driver_ops = {"driver", N_EV, handlers, kinds, NULL};

static void server_done(void *ctx, const struct request *r)
{
    struct harness *h = ctx;
    if (r->cls != ELB_CHECK_CLASS) {
        struct req_info *ri = &h->req[r->id];
        assert_false(ri->done || ri->lost);
        assert_int_equal(ri->target, (int)r->server);
        ri->done = true;
        ri->node = r->node;
        ri->done_at = sim_now(h->s);
    }
    elb_done(h->b, r);
}

static void server_lost(void *ctx, const struct request *r)
{
    struct harness *h = ctx;
    if (r->cls != ELB_CHECK_CLASS) {
        struct req_info *ri = &h->req[r->id];
        assert_false(ri->done || ri->lost);
        ri->lost = true;
        ri->node = r->node;
        ri->done_at = sim_now(h->s);
    }
    elb_lost(h->b, r);
}

static int on_row(void *ctx, const struct metrics_row *row)
{
    struct harness *h = ctx;
    if (h->n_rows == h->cap_rows) {
        h->cap_rows = h->cap_rows ? 2 * h->cap_rows : 1024;
        h->rows = realloc(h->rows, h->cap_rows * sizeof *h->rows);
        if (!h->rows) return -1;
    }
    h->rows[h->n_rows++] = *row;
    return 0;
}

static int on_event(void *ctx, const struct metrics_event *ev)
{
    struct harness *h = ctx;
    if (h->n_ev == sizeof h->ev / sizeof h->ev[0]) return -1;
    h->ev[h->n_ev++] = *ev;
    return 0;
}

static void on_unused(void *ctx, uint32_t t)
{
    struct harness *h = ctx;
    h->unused[h->n_unused++].t = sim_now(h->s);
    h->unused[h->n_unused - 1].target = t;
    assert_int_equal(elb_registration(h->b, t), ELB_UNUSED);
}

static void zone_changed(void *ctx, unsigned zone, bool up)
{
    struct harness *h = ctx;
    elb_zone_changed(h->b, zone, up);
}

static uint64_t probe_in_system(const void *ctx) { return elb_outstanding(((const struct harness *)ctx)->b); }

static double probe_busy(const void *ctx)
{
    const struct harness *h = ctx;
    double busy = 0;
    for (unsigned t = 0; t < h->n_t; t++) busy += server_busy_core_seconds(h->sv[t]);
    return busy;
}

static double probe_cores(const void *ctx)
{
    (void)ctx;
    return 1.0;
}

/* The ALB defaults (aws-facts.md section 1), as elb_parse gives them. */
static struct elb_params alb_defaults(void)
{
    return (struct elb_params){ELB_ROUND_ROBIN, true, 30 * SEC, 5 * SEC, 5, 2, 0.001, 300 * SEC, 60 * SEC, 10 * SEC};
}

static void free_harness(struct harness *h);

static struct harness *harness(unsigned zones, sim_time horizon)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    hold(h, (cleanup_fn *)free_harness);
    h->seed = 42;
    h->horizon = horizon;
    h->ap = (struct az_params){.n = zones, .intra_rtt = 200 * SIM_US, .inter_rtt = SIM_MS};
    h->ep = alb_defaults();
    h->req = calloc(MAXREQ, sizeof *h->req);
    assert_non_null(h->req);
    return h;
}

static void add_outage(struct harness *h, unsigned zone, sim_time at, sim_time duration)
{
    h->ap.outages[h->ap.n_outages++] = (struct az_outage){zone, at, duration};
}

/* Builds the engine, region, metrics and balancer, after the parameters were set. */
static void start(struct harness *h, sim_time report_interval)
{
    h->s = sim_create(h->seed, 0, h->horizon);
    h->ref = sim_create(h->seed, 0, h->horizon);
    h->ref_phase = sim_rng(h->ref, "elb/health_phase");
    h->id = sim_register(h->s, &driver_ops, h);
    h->a = az_create(h->s, &h->ap, zone_changed, h);
    h->m = metrics_create(h->s, &(struct metrics_params){.interval = report_interval, .warmup = 0}, on_row, h);
    metrics_set_event_sink(h->m, on_event, h);
    metrics_attach(h->m, &(struct metrics_probe){h, probe_in_system, probe_busy, probe_cores, NULL, NULL, NULL});
    h->b = elb_create(h->s, &h->ep, h->a, h->m, on_unused, h);
}

/* Registers target n_t (now) in zone with a server of `cores` cores of speed 1, and draws its check
 * phases from the reference stream exactly as the balancer does. */
static uint32_t add_target(struct harness *h, unsigned zone, unsigned cores, int64_t queue_limit, bool healthy)
{
    uint32_t t = h->n_t++;
    assert_true(t < MAXT);
    h->zone[t] = zone;
    h->cores[t] = cores;
    h->sv[t] = server_create(h->s, &(struct server_params){cores, 1.0, queue_limit}, server_done, h);
    h->reg_at[t] = sim_now(h->s);
    for (unsigned n = 0; n < h->ap.n; n++)
        h->phase[t][n] = (sim_time)(gsl_rng_uniform(h->ref_phase) * (double)h->ep.interval);
    elb_register(h->b, t, zone, h->sv[t], healthy);
    return t;
}

/* The first check of target t by node n strictly after x. */
static sim_time next_check(const struct harness *h, unsigned n, uint32_t t, sim_time x)
{
    sim_time base = h->reg_at[t] + h->phase[t][n];
    if (base > x) return base;
    sim_time k = (x - base) / h->ep.interval + 1;
    return base + k * h->ep.interval;
}

/* The first check of t by n at or after x whose 1 ms answer would not complete before x. */
static sim_time first_check_ending_after(const struct harness *h, unsigned n, uint32_t t, sim_time x)
{
    return next_check(h, n, t, x - CHECK_SERVICE);
}

/* True when some check of t by any node starts within margin of x. */
static bool check_near(const struct harness *h, uint32_t t, sim_time x, sim_time margin)
{
    for (unsigned n = 0; n < h->ap.n; n++) {
        sim_time c = next_check(h, n, t, x - margin - 1);
        if (c <= x + margin) return true;
    }
    return false;
}

static void free_harness(struct harness *h)
{
    unhold(h);
    elb_destroy(h->b);
    for (unsigned t = 0; t < h->n_t; t++) server_destroy(h->sv[t]);
    metrics_destroy(h->m);
    if (h->a) az_destroy(h->a);
    if (h->s) sim_destroy(h->s);
    if (h->ref) sim_destroy(h->ref);
    free(h->scratch);
    free(h->rows);
    free(h->req);
    free(h);
}

static uint64_t submit_at(struct harness *h, sim_time at, double demand, uint32_t bytes)
{
    assert_true(h->n_req < MAXREQ);
    struct submit_cmd cmd = {h->n_req++, demand, bytes};
    sim_schedule_at(h->s, at, h->id, EV_SUBMIT, &cmd, sizeof cmd);
    return cmd.id;
}

static void call_at(struct harness *h, sim_time at, call_fn *fn, uint64_t a, uint64_t b)
{
    struct call_cmd cmd = {fn, a, b};
    sim_schedule_at(h->s, at, h->id, EV_CALL, &cmd, sizeof cmd);
}

static void do_reach(struct harness *h, uint64_t t, uint64_t reach) { elb_set_reach(h->b, (uint32_t)t, (enum elb_reach)reach); }

/* The target's instance dies: the owner says it is silent, then its server loses what it held (the
 * order cloud.c and ec2.c follow). */
static void do_die(struct harness *h, uint64_t t, uint64_t unused)
{
    (void)unused;
    elb_set_reach(h->b, (uint32_t)t, ELB_SILENT);
    server_kill(h->sv[t], server_lost, h);
}

static void do_deregister(struct harness *h, uint64_t t, uint64_t unused)
{
    (void)unused;
    elb_deregister(h->b, (uint32_t)t);
}

static void do_node(struct harness *h, uint64_t zone, uint64_t up) { elb_zone_changed(h->b, (unsigned)zone, up != 0); }

static void do_snap(struct harness *h, uint64_t a, uint64_t b)
{
    (void)a;
    (void)b;
    assert_true(h->n_snap < 64);
    struct snap *sn = &h->snaps[h->n_snap++];
    sn->t = sim_now(h->s);
    for (unsigned n = 0; n < h->ap.n; n++)
        for (unsigned t = 0; t < h->n_t; t++) sn->health[n][t] = (uint8_t)elb_health(h->b, n, t);
    for (unsigned t = 0; t < h->n_t; t++) {
        sn->routed[t] = elb_routed(h->b, t);
        sn->reg[t] = (uint8_t)elb_registration(h->b, t);
    }
    for (unsigned z = 0; z < h->ap.n; z++) sn->healthy_in_zone[z] = elb_healthy_in_zone(h->b, z);
    sn->connecting = elb_connecting(h->b);
    sn->outstanding = elb_outstanding(h->b);
}

static void snap_at(struct harness *h, sim_time at) { call_at(h, at, do_snap, 0, 0); }

/* After the run: what the servers hold, less checks, plus requests waiting to connect, is what the
 * balancer counts as outstanding. */
static void assert_balancer_matches_servers(const struct harness *h)
{
    uint64_t held = 0;
    for (unsigned t = 0; t < h->n_t; t++) held += server_held(h->sv[t]);
    assert_int_equal(held - elb_checks_in_servers(h->b) + elb_connecting(h->b), elb_outstanding(h->b));
}

static uint64_t row_errors(const struct harness *h, enum metrics_error why)
{
    uint64_t k = 0;
    for (size_t i = 0; i < h->n_rows; i++) k += h->rows[i].errors_by[why];
    return k;
}

static uint64_t row_sum(const struct harness *h, size_t field_offset)
{
    uint64_t k = 0;
    for (size_t i = 0; i < h->n_rows; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&h->rows[i] + field_offset, sizeof v);
        k += v;
    }
    return k;
}
#define ROW_SUM(h, field) row_sum((h), offsetof(struct metrics_row, field))

/* Health events of target t seen by node n, of the given kind, in order. */
static size_t health_events(const struct harness *h, enum metrics_event_kind kind, uint32_t t, unsigned n,
                            double *times, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n_ev; i++) {
        const struct metrics_event *e = &h->ev[i];
        if (e->kind == (int32_t)kind && e->id == (int64_t)t && (unsigned)e->value == n) {
            if (k < max) times[k] = e->t_s;
            k++;
        }
    }
    return k;
}

static size_t count_events(const struct harness *h, enum metrics_event_kind kind)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n_ev; i++) k += h->ev[i].kind == (int32_t)kind;
    return k;
}

#define assert_time_is(t_s, expected_ns) assert_close((t_s), sim_to_seconds(expected_ns), 0.5e-9)

/* ---- a target dies, is detected, recovers ------------------------------------------------------- */

/* Three zones, two targets each, all healthy; a request every 100 ms (10 ms of work); target 0 dies at
 * t_die and answers again at t_back. Rows every 100 ms. */
struct scenario {
    struct harness *h;
    sim_time t_die, t_back;
};

static struct scenario silent_then_back(void)
{
    struct scenario sc;
    struct harness *h = harness(3, 500 * SEC);
    start(h, 100 * MS);
    for (unsigned t = 0; t < 6; t++) add_target(h, t / 2, 2, SERVER_UNLIMITED, true);
    sc.t_die = 60 * SEC + 500 * MS;
    while (check_near(h, 0, sc.t_die, SEC)) sc.t_die += 2 * SEC;
    sc.t_back = sc.t_die + 200 * SEC + 300 * MS;
    for (sim_time a = 50 * MS; a < 500 * SEC; a += 100 * MS) submit_at(h, a, 0.010, 1000);
    call_at(h, sc.t_die, do_die, 0, 0);
    call_at(h, sc.t_back, do_reach, 0, ELB_REACHABLE);
    sc.h = h;
    assert_int_equal(sim_run(h->s), SIM_END_HORIZON);
    return sc;
}

static void test_a_dead_target_leaves_service_at_each_node_within_the_detection_window(void **state)
{
    (void)state;
    struct scenario sc = silent_then_back();
    struct harness *h = sc.h;
    const sim_time I = h->ep.interval, T = h->ep.timeout;
    for (unsigned n = 0; n < 3; n++) {
        /* the first check that fails, then unhealthy_threshold - 1 intervals later the deciding one,
         * which fails at its timeout */
        sim_time expected = first_check_ending_after(h, n, 0, sc.t_die) + I + T;
        assert_true(expected > sc.t_die + (2 - 1) * I + T);  /* > 35 s after */
        assert_true(expected <= sc.t_die + 2 * I + T);       /* <= 65 s after */
        double times[4];
        assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 0, n, times, 4), 1);
        assert_time_is(times[0], expected);
    }
    /* no other target was ever judged unhealthy */
    assert_int_equal(count_events(h, METRICS_EV_TARGET_UNHEALTHY), 3);
    free_harness(h);
}

static void test_requests_routed_to_a_dead_target_fail_with_connect_timeout_after_the_connect_timeout(void **state)
{
    (void)state;
    struct scenario sc = silent_then_back();
    struct harness *h = sc.h;
    /* every request routed to target 0 while it was dead fails with connect_timeout at arrival + 10 s:
     * build the expected count per 100 ms row (arrivals at 50 ms into a row, so never on a boundary) */
    uint64_t *expect = h->scratch = calloc(h->n_rows + 200, sizeof *expect);
    assert_non_null(expect);
    uint64_t routed_dead = 0;
    sim_time last_routed_dead = 0;
    for (uint64_t i = 0; i < h->n_req; i++) {
        const struct req_info *ri = &h->req[i];
        if (ri->target != 0 || ri->arrival < sc.t_die || ri->arrival >= sc.t_back) continue;
        routed_dead++;
        last_routed_dead = ri->arrival;
        assert_false(ri->done || ri->lost);
        sim_time fails = ri->arrival + h->ep.connect_timeout;
        expect[fails / (100 * MS)]++;
    }
    assert_true(routed_dead >= 10); /* about 35-65 s x 10/s x 1/6 per node that still sees it */
    for (size_t r = 0; r < h->n_rows; r++) {
        if (h->rows[r].errors_by[METRICS_ERR_CONNECT_TIMEOUT] != expect[r]) {
            print_error("row %zu (t=%g s): %llu connect timeouts, expected %llu\n", r, h->rows[r].t_s,
                        (unsigned long long)h->rows[r].errors_by[METRICS_ERR_CONNECT_TIMEOUT],
                        (unsigned long long)expect[r]);
            fail();
        }
    }
    /* nothing else failed: the dead target held no request when it died (10 ms requests, 600 ms apart) */
    uint64_t errors = ROW_SUM(h, errors);
    assert_int_equal(errors, routed_dead);
    /* after the last node marked it unhealthy nothing more was sent to it until it came back */
    sim_time last_unhealthy = 0;
    for (unsigned n = 0; n < 3; n++) {
        double times[1];
        assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 0, n, times, 1), 1);
        sim_time t = first_check_ending_after(h, n, 0, sc.t_die) + h->ep.interval + h->ep.timeout;
        if (t > last_unhealthy) last_unhealthy = t;
    }
    assert_true(last_routed_dead <= last_unhealthy);
    /* every request routed elsewhere succeeded */
    for (uint64_t i = 0; i < h->n_req; i++)
        if (h->req[i].target > 0) assert_true(h->req[i].done || h->req[i].arrival > h->horizon - SEC);
    assert_balancer_matches_servers(h);
    free_harness(h);
}

static void test_a_recovered_target_returns_after_exactly_healthy_threshold_passing_checks(void **state)
{
    (void)state;
    struct scenario sc = silent_then_back();
    struct harness *h = sc.h;
    const sim_time I = h->ep.interval;
    sim_time first_back = INT64_MAX;
    for (unsigned n = 0; n < 3; n++) {
        /* passes at the first check after it answers again and the next four: healthy when the fifth
         * answer arrives, 1 ms (the check's work) after the fifth check starts */
        sim_time c1 = next_check(h, n, 0, sc.t_back);
        sim_time expected = c1 + (sim_time)(h->ep.healthy_threshold - 1) * I + CHECK_SERVICE;
        double times[4];
        assert_int_equal(health_events(h, METRICS_EV_TARGET_HEALTHY, 0, n, times, 4), 1);
        assert_time_is(times[0], expected);
        if (expected < first_back) first_back = expected;
    }
    /* no request reached it between its recovery and the first node's verdict, and some did after */
    uint64_t after = 0;
    for (uint64_t i = 0; i < h->n_req; i++) {
        const struct req_info *ri = &h->req[i];
        if (ri->target != 0 || ri->arrival < sc.t_back) continue;
        assert_true(ri->arrival > first_back);
        assert_true(ri->done);
        after++;
    }
    assert_true(after > 0);
    free_harness(h);
}

static void test_a_request_to_a_silent_target_fails_exactly_at_the_connect_timeout(void **state)
{
    (void)state;
    struct harness *h = harness(1, 100 * SEC);
    h->ep.connect_timeout = 7 * SEC + 3;
    start(h, SEC);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    call_at(h, 0, do_reach, 1, ELB_SILENT); /* still healthy in every view: the balancer does not know */
    submit_at(h, 1 * SEC + 250 * MS, 0.1, 0); /* round robin: target 0 */
    submit_at(h, 1 * SEC + 500 * MS, 0.1, 0); /* target 1: silent */
    snap_at(h, 1 * SEC + 500 * MS + 7 * SEC + 2);
    snap_at(h, 1 * SEC + 500 * MS + 7 * SEC + 4);
    sim_run(h->s);
    assert_int_equal(h->req[0].target, 0);
    assert_true(h->req[0].done);
    assert_int_equal(h->req[1].target, 1);
    assert_false(h->req[1].done || h->req[1].lost);
    assert_int_equal(h->snaps[0].connecting, 1);
    assert_int_equal(h->snaps[0].outstanding, 1);
    assert_int_equal(h->snaps[1].connecting, 0); /* it gave up 7 s + 3 ns after it was routed */
    assert_int_equal(h->snaps[1].outstanding, 0);
    /* rows of 1 s: the failure is in the row ending at 9 s */
    assert_int_equal(h->rows[8].errors_by[METRICS_ERR_CONNECT_TIMEOUT], 1);
    assert_int_equal(ROW_SUM(h, errors), 1);
    assert_int_equal(ROW_SUM(h, successes), 1);
    free_harness(h);
}

static void test_a_refusing_target_fails_its_checks_at_once_and_its_requests_are_refused(void **state)
{
    (void)state;
    struct harness *h = harness(1, 200 * SEC);
    start(h, SEC);
    for (unsigned t = 0; t < 3; t++) add_target(h, 0, 2, SERVER_UNLIMITED, true);
    sim_time t_off = 20 * SEC + 500 * MS;
    while (check_near(h, 1, t_off, SEC)) t_off += 2 * SEC;
    call_at(h, t_off, do_reach, 1, ELB_REFUSES);
    for (sim_time a = 250 * MS; a < 200 * SEC; a += 500 * MS) submit_at(h, a, 0.01, 0);
    sim_run(h->s);

    /* no timeout to wait for: the second refused check decides, at the instant it is made */
    sim_time c1 = next_check(h, 0, 1, t_off);
    double times[2];
    assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 1, 0, times, 2), 1);
    assert_time_is(times[0], c1 + h->ep.interval);
    /* requests routed to it in between were refused in the row of their arrival (never on a boundary) */
    uint64_t refused = 0;
    for (uint64_t i = 0; i < h->n_req; i++) {
        const struct req_info *ri = &h->req[i];
        if (ri->target != 1 || ri->arrival < t_off) continue;
        assert_true(ri->arrival <= c1 + h->ep.interval);
        assert_false(ri->done || ri->lost);
        size_t row = (size_t)(ri->arrival / SEC);
        assert_true(h->rows[row].errors_by[METRICS_ERR_CONNECTION_REFUSED] >= 1);
        refused++;
    }
    assert_true(refused >= 5);
    assert_int_equal(row_errors(h, METRICS_ERR_CONNECTION_REFUSED), refused);
    assert_int_equal(ROW_SUM(h, errors), refused);
    free_harness(h);
}

/* ---- overload ---------------------------------------------------------------------------------- */

static void test_a_target_whose_queueing_delay_exceeds_the_check_timeout_fails_its_checks_and_is_removed(void **state)
{
    (void)state;
    struct harness *h = harness(1, 400 * SEC);
    start(h, SEC);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);  /* 0: one core */
    add_target(h, 0, 64, SERVER_UNLIMITED, true); /* 1: plenty */
    sim_time t_flood = 10 * SEC + 500 * MS;
    while (check_near(h, 0, t_flood, SEC)) t_flood += 2 * SEC;
    /* 20 requests of 50 s, 1 ms apart: round robin gives 10 to each; target 0 queues 450 s of work */
    for (int k = 0; k < 20; k++) submit_at(h, t_flood + k * MS, 50.0, 0);
    /* short requests afterwards */
    for (sim_time a = t_flood + 200 * MS; a < 300 * SEC; a += SEC) submit_at(h, a, 0.001, 0);
    sim_run(h->s);

    sim_time c1 = next_check(h, 0, 0, t_flood + 20 * MS);
    double times[4];
    assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 0, 0, times, 4), 1);
    assert_time_is(times[0], c1 + h->ep.interval + h->ep.timeout);
    assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 1, 0, times, 4), 0);
    /* once removed it gets nothing more: every later request went to target 1 */
    sim_time removed = c1 + h->ep.interval + h->ep.timeout;
    for (uint64_t i = 20; i < h->n_req; i++)
        if (h->req[i].arrival > removed) assert_int_equal(h->req[i].target, 1);
    assert_int_equal(elb_health(h->b, 0, 1), ELB_HEALTHY);
    free_harness(h);
}

static void test_a_target_whose_queue_is_full_fails_its_checks_at_once(void **state)
{
    (void)state;
    struct harness *h = harness(1, 200 * SEC);
    start(h, SEC);
    add_target(h, 0, 1, 2, true); /* one core, two places in the queue */
    add_target(h, 0, 4, SERVER_UNLIMITED, true);
    sim_time t_flood = 10 * SEC + 500 * MS;
    while (check_near(h, 0, t_flood, SEC)) t_flood += 2 * SEC;
    for (int k = 0; k < 6; k++) submit_at(h, t_flood + k * MS, 150.0, 0); /* target 0: 1 served, 2 queued */
    sim_run(h->s);
    sim_time c1 = next_check(h, 0, 0, t_flood + 10 * MS);
    double times[2];
    assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 0, 0, times, 2), 1);
    assert_time_is(times[0], c1 + h->ep.interval); /* 503 to the check: no timeout to wait for */
    free_harness(h);
}

/* ---- fail-open --------------------------------------------------------------------------------- */

static void test_with_every_target_unhealthy_the_balancer_fails_open_and_routes_to_all(void **state)
{
    (void)state;
    struct harness *h = harness(1, 300 * SEC);
    start(h, SEC);
    add_target(h, 0, 4, SERVER_UNLIMITED, true);
    add_target(h, 0, 4, SERVER_UNLIMITED, true);
    add_target(h, 0, 4, SERVER_UNLIMITED, true);
    sim_time t_off = 10 * SEC + 500 * MS;
    while (check_near(h, 0, t_off, SEC) || check_near(h, 1, t_off, SEC) || check_near(h, 2, t_off, SEC))
        t_off += 2 * SEC;
    /* all three stop listening, then answer again 100 s later: unhealthy until 5 passes, yet serving */
    for (uint64_t t = 0; t < 3; t++) {
        call_at(h, t_off, do_reach, t, ELB_REFUSES);
        call_at(h, t_off + 100 * SEC, do_reach, t, ELB_REACHABLE);
    }
    sim_time window_from = t_off + 100 * SEC + 500 * MS;
    for (int k = 0; k < 30; k++) submit_at(h, window_from + k * 100 * MS, 0.01, 0);
    snap_at(h, window_from - 1);
    sim_run(h->s);

    for (unsigned t = 0; t < 3; t++) assert_int_equal(h->snaps[0].health[0][t], ELB_UNHEALTHY);
    /* every target gets its turn, in round robin over all of them, and they serve */
    uint64_t per[3] = {0, 0, 0};
    for (uint64_t i = 0; i < 30; i++) {
        assert_true(h->req[i].target >= 0);
        per[h->req[i].target]++;
        assert_true(h->req[i].done);
        if (i >= 3) assert_int_equal(h->req[i].target, h->req[i - 3].target);
    }
    for (unsigned t = 0; t < 3; t++) assert_int_equal(per[t], 10);
    assert_int_equal(row_errors(h, METRICS_ERR_NO_HEALTHY_TARGET), 0);
    free_harness(h);
}

static void test_with_no_node_up_requests_fail_with_no_healthy_target(void **state)
{
    (void)state;
    struct harness *h = harness(2, 100 * SEC);
    add_outage(h, 0, 10 * SEC, 20 * SEC);
    add_outage(h, 1, 10 * SEC, 20 * SEC);
    start(h, SEC);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    add_target(h, 1, 1, SERVER_UNLIMITED, true);
    submit_at(h, 15 * SEC + 500 * MS, 0.01, 0);
    submit_at(h, 5 * SEC + 500 * MS, 0.01, 0);
    sim_run(h->s);
    assert_int_equal(h->req[0].target, -1);
    assert_int_equal(h->rows[15].errors_by[METRICS_ERR_NO_HEALTHY_TARGET], 1);
    assert_true(h->req[1].done);
    assert_int_equal(ROW_SUM(h, errors), 1);
    free_harness(h);
}

/* ---- deregistration ---------------------------------------------------------------------------- */

static void test_a_draining_target_gets_no_new_requests_and_is_unused_when_its_last_request_ends(void **state)
{
    (void)state;
    struct harness *h = harness(1, 1000 * SEC);
    start(h, SEC);
    for (unsigned t = 0; t < 3; t++) add_target(h, 0, 1, SERVER_UNLIMITED, true);
    submit_at(h, 1 * SEC, 40.0, 0); /* target 0 until 41 s */
    submit_at(h, 2 * SEC, 0.1, 0);  /* target 1 */
    submit_at(h, 3 * SEC, 0.1, 0);  /* target 2 */
    call_at(h, 10 * SEC, do_deregister, 0, 0);
    snap_at(h, 10 * SEC);
    for (int k = 0; k < 20; k++) submit_at(h, 11 * SEC + k * SEC, 0.1, 0);
    snap_at(h, 41 * SEC + 1);
    sim_run(h->s);

    assert_int_equal(h->req[0].target, 0);
    assert_int_equal(h->snaps[0].reg[0], ELB_DRAINING);
    for (uint64_t i = 3; i < 23; i++) assert_int_not_equal(h->req[i].target, 0);
    assert_true(h->req[0].done);
    assert_int_equal(h->req[0].done_at, 41 * SEC);
    assert_int_equal(h->n_unused, 1);
    assert_int_equal(h->unused[0].target, 0);
    assert_int_equal(h->unused[0].t, 41 * SEC);
    assert_int_equal(h->snaps[1].reg[0], ELB_UNUSED);
    assert_int_equal(count_events(h, METRICS_EV_TARGET_DRAINING), 1);
    assert_int_equal(count_events(h, METRICS_EV_TARGET_UNUSED), 1);
    free_harness(h);
}

static void test_a_draining_target_is_unused_after_the_deregistration_delay_and_told_once(void **state)
{
    (void)state;
    struct harness *h = harness(1, 2000 * SEC);
    start(h, SEC);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    submit_at(h, 1 * SEC, 1000.0, 0); /* target 0 until 1001 s, far past the delay */
    call_at(h, 20 * SEC, do_deregister, 0, 0);
    sim_run(h->s);
    assert_int_equal(h->n_unused, 1);
    assert_int_equal(h->unused[0].t, 20 * SEC + 300 * SEC);
    assert_int_equal(h->unused[0].target, 0);
    /* its request still ends (the owner did not terminate it here) and does not tell again */
    assert_true(h->req[0].done);
    assert_int_equal(h->req[0].done_at, 1001 * SEC);
    assert_int_equal(count_events(h, METRICS_EV_TARGET_UNUSED), 1);
    /* it answered after the request timeout (60 s) */
    assert_int_equal(row_errors(h, METRICS_ERR_TIMEOUT), 1);
    assert_balancer_matches_servers(h);
    free_harness(h);
}

static void test_deregistering_an_idle_target_makes_it_unused_at_once(void **state)
{
    (void)state;
    struct harness *h = harness(1, 100 * SEC);
    start(h, SEC);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    add_target(h, 0, 1, SERVER_UNLIMITED, true);
    call_at(h, 5 * SEC, do_deregister, 1, 0);
    sim_run(h->s);
    assert_int_equal(h->n_unused, 1);
    assert_int_equal(h->unused[0].t, 5 * SEC);
    assert_int_equal(h->unused[0].target, 1);
    assert_int_equal(elb_registration(h->b, 1), ELB_UNUSED);
    assert_int_equal(elb_registration(h->b, 0), ELB_REGISTERED);
    free_harness(h);
}

static void do_register_healthy(struct harness *h, uint64_t t, uint64_t unused)
{
    (void)unused;
    elb_register(h->b, (uint32_t)t, h->zone[t], h->sv[t], true);
}

/* elb_register allows a target id that is unused to be registered again. A request of its previous
 * registration may still be in its server (it became unused by the deregistration delay); when that
 * request ends it must not be taken off the new registration's counts. */
static void test_a_target_registered_again_counts_only_the_requests_of_its_new_registration(void **state)
{
    (void)state;
    struct harness *h = harness(1, 2000 * SEC);
    h->ep.algorithm = ELB_LEAST_OUTSTANDING;
    start(h, 10 * SEC);
    add_target(h, 0, 2, SERVER_UNLIMITED, true);
    add_target(h, 0, 2, SERVER_UNLIMITED, true);
    submit_at(h, 1 * SEC, 999.0, 0);                   /* target 0 until 1000 s */
    call_at(h, 10 * SEC, do_deregister, 0, 0);         /* unused at 310 s, the request still in it */
    call_at(h, 400 * SEC, do_register_healthy, 0, 0);  /* registered again, same server */
    for (int k = 0; k < 4; k++) submit_at(h, 1010 * SEC + k * SEC, 0.001, 0); /* after the old one ended */
    call_at(h, 1100 * SEC, do_deregister, 0, 0);       /* nothing outstanding: unused at once */
    sim_run(h->s);
    assert_int_equal(h->req[0].target, 0);
    assert_int_equal(h->req[0].done_at, 1000 * SEC);
    /* both targets idle: least outstanding requests shares them */
    uint64_t to0 = 0;
    for (uint64_t i = 1; i < 5; i++) to0 += h->req[i].target == 0;
    assert_int_equal(to0, 2);
    assert_int_equal(h->n_unused, 2);
    assert_int_equal(h->unused[0].t, 310 * SEC);
    assert_int_equal(h->unused[1].t, 1100 * SEC);
    free_harness(h);
}

/* ---- routing ----------------------------------------------------------------------------------- */

static void test_round_robin_cycles_exactly_over_the_healthy_targets(void **state)
{
    (void)state;
    struct harness *h = harness(1, 300 * SEC);
    start(h, SEC);
    for (unsigned t = 0; t < 4; t++) add_target(h, 0, 1, SERVER_UNLIMITED, true);
    for (int k = 0; k < 8; k++) submit_at(h, SEC + k * 100 * MS, 0.001, 0); /* all four healthy */
    call_at(h, 2 * SEC, do_reach, 2, ELB_REFUSES);
    for (int k = 0; k < 12; k++) submit_at(h, 100 * SEC + k * 100 * MS, 0.001, 0); /* 2 is out by now */
    sim_run(h->s);
    for (uint64_t i = 0; i < 8; i++) assert_int_equal(h->req[i].target, (int)(i % 4));
    for (uint64_t i = 8; i < 20; i++) {
        assert_int_not_equal(h->req[i].target, 2);
        assert_true(h->req[i].done);
        if (i >= 11) assert_int_equal(h->req[i].target, h->req[i - 3].target);
    }
    assert_true(h->req[8].target != h->req[9].target && h->req[9].target != h->req[10].target &&
                h->req[8].target != h->req[10].target);
    free_harness(h);
}

static void test_least_outstanding_always_picks_a_target_with_the_fewest_outstanding_requests(void **state)
{
    (void)state;
    struct harness *h = harness(1, 2000 * SEC);
    h->ep.algorithm = ELB_LEAST_OUTSTANDING;
    start(h, 10 * SEC);
    for (unsigned t = 0; t < 4; t++) add_target(h, 0, 1, SERVER_UNLIMITED, true);
    gsl_rng *r = sim_rng(h->ref, "test/demand");
    for (int k = 0; k < 3000; k++) submit_at(h, SEC + k * 250 * MS, gsl_ran_exponential(r, 0.8), 0);
    sim_run(h->s);
    /* replay: at each arrival, the target chosen held no more requests than any other */
    for (uint64_t i = 0; i < h->n_req; i++) {
        const struct req_info *ri = &h->req[i];
        assert_true(ri->target >= 0);
        unsigned held[4] = {0, 0, 0, 0};
        for (uint64_t j = 0; j < i; j++) {
            const struct req_info *rj = &h->req[j];
            /* arrivals were scheduled first, so a completion at the same instant runs after them */
            if (!(rj->done && rj->done_at < ri->arrival)) held[rj->target]++;
        }
        for (unsigned t = 0; t < 4; t++)
            if (held[ri->target] > held[t]) {
                print_error("request %llu at %lld ns went to target %d holding %u; target %u held %u\n",
                            (unsigned long long)i, (long long)ri->arrival, ri->target, held[ri->target], t, held[t]);
                fail();
            }
    }
    free_harness(h);
}

/* Each node counts its own requests (as ALB nodes do): a node that did not send the request that
 * keeps target 0 busy sees it as idle. */
static void test_least_outstanding_counts_only_the_routing_node_s_requests(void **state)
{
    (void)state;
    struct harness *h = harness(2, 400 * SEC);
    h->ep.algorithm = ELB_LEAST_OUTSTANDING;
    start(h, SEC);
    /* two cores each, so that checks pass while one core is busy with a long request */
    for (unsigned t = 0; t < 3; t++) add_target(h, 0, 2, SERVER_UNLIMITED, true);
    call_at(h, 500 * MS, do_node, 1, false); /* only node 0 */
    submit_at(h, 1 * SEC, 1000.0, 0);         /* node 0 -> target 0, outstanding there a long time */
    call_at(h, 2 * SEC, do_node, 1, true);    /* node 1 back, targets initial until checked */
    call_at(h, 50 * SEC, do_node, 0, false);  /* only node 1 */
    submit_at(h, 60 * SEC, 1000.0, 0);
    submit_at(h, 61 * SEC, 1000.0, 0);
    submit_at(h, 62 * SEC, 1000.0, 0);
    submit_at(h, 63 * SEC, 0.001, 0);
    snap_at(h, 59 * SEC);
    sim_run(h->s);
    for (unsigned t = 0; t < 3; t++) assert_int_equal(h->snaps[0].health[1][t], ELB_HEALTHY);
    assert_int_equal(h->req[0].target, 0);
    /* node 1 has nothing anywhere: its first pick is target 0 even though target 0 holds a request */
    assert_int_equal(h->req[1].target, 0);
    assert_int_equal(h->req[2].target, 1);
    assert_int_equal(h->req[3].target, 2);
    /* now node 1 has one at each: a tie, broken in turn (its fourth pick starts at target 0) */
    assert_int_equal(h->req[4].target, 0);
    free_harness(h);
}

static void test_random_routing_spreads_evenly_over_healthy_targets(void **state)
{
    (void)state;
    struct harness *h = harness(1, 2000 * SEC);
    h->ep.algorithm = ELB_RANDOM;
    start(h, 10 * SEC);
    for (unsigned t = 0; t < 4; t++) add_target(h, 0, 4, SERVER_UNLIMITED, true);
    for (int k = 0; k < 8000; k++) submit_at(h, SEC + k * 200 * MS, 0.001, 0);
    sim_run(h->s);
    for (unsigned t = 0; t < 4; t++) assert_in_range(elb_routed(h->b, t), 2000 - 200, 2000 + 200); /* 5.2 sd */
    /* not a cycle */
    bool cyclic = true;
    for (uint64_t i = 4; i < 100; i++) cyclic = cyclic && h->req[i].target == h->req[i - 4].target;
    assert_false(cyclic);
    free_harness(h);
}

/* ---- zones ------------------------------------------------------------------------------------- */

static void test_with_cross_zone_off_each_node_routes_only_to_its_own_zone(void **state)
{
    (void)state;
    struct harness *h = harness(3, 4000 * SEC);
    h->ep.cross_zone = false;
    start(h, 10 * SEC);
    static const unsigned zones[6] = {0, 1, 1, 2, 2, 2};
    for (unsigned t = 0; t < 6; t++) add_target(h, zones[t], 4, SERVER_UNLIMITED, true);
    const int N = 12000;
    for (int k = 0; k < N; k++) submit_at(h, SEC + k * 250 * MS, 0.001, 100);
    sim_run(h->s);
    uint64_t per_node[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        const struct req_info *ri = &h->req[i];
        assert_true(ri->done);
        assert_int_equal(h->zone[ri->target], ri->node);
        per_node[ri->node]++;
    }
    /* DNS: each node a third of the traffic (sd 43), shared equally by its own targets */
    for (unsigned n = 0; n < 3; n++) assert_in_range(per_node[n], N / 3 - 250, N / 3 + 250);
    for (unsigned t = 0; t < 6; t++) {
        unsigned in_zone = zones[t] == 0 ? 1 : zones[t] == 1 ? 2 : 3;
        uint64_t share = per_node[zones[t]] / in_zone;
        assert_in_range(elb_routed(h->b, t), share - 1, share + 1); /* round robin per node: exact */
    }
    assert_int_equal(ROW_SUM(h, cross_zone_bytes), 0);
    free_harness(h);
}

static void test_with_cross_zone_on_every_target_gets_an_equal_share(void **state)
{
    (void)state;
    struct harness *h = harness(3, 4000 * SEC);
    start(h, 10 * SEC);
    static const unsigned zones[6] = {0, 1, 1, 2, 2, 2};
    for (unsigned t = 0; t < 6; t++) add_target(h, zones[t], 4, SERVER_UNLIMITED, true);
    const int N = 12000;
    for (int k = 0; k < N; k++) submit_at(h, SEC + k * 250 * MS, 0.001, 100);
    sim_run(h->s);
    /* each node cycles over all six targets: per target N/6, off by at most one per node */
    for (unsigned t = 0; t < 6; t++) assert_in_range(elb_routed(h->b, t), N / 6 - 3, N / 6 + 3);
    free_harness(h);
}

static void test_cross_zone_bytes_count_only_responses_that_cross_zones(void **state)
{
    (void)state;
    struct harness *h = harness(3, 1000 * SEC);
    start(h, 10 * SEC);
    for (unsigned t = 0; t < 6; t++) add_target(h, t % 3, 4, SERVER_UNLIMITED, true);
    for (int k = 0; k < 3000; k++) submit_at(h, SEC + k * 250 * MS, 0.001, (uint32_t)(1000 + k));
    sim_run(h->s);
    uint64_t crossing = 0, total = 0;
    for (uint64_t i = 0; i < h->n_req; i++) {
        const struct req_info *ri = &h->req[i];
        assert_true(ri->done);
        total += 1000 + i;
        if (h->zone[ri->target] != ri->node) crossing += 1000 + i;
    }
    assert_true(crossing > 0 && crossing < total);
    assert_int_equal(ROW_SUM(h, cross_zone_bytes), crossing);
    free_harness(h);
}

static void test_with_cross_zone_off_a_node_without_healthy_targets_gets_no_traffic(void **state)
{
    (void)state;
    struct harness *h = harness(2, 300 * SEC);
    h->ep.cross_zone = false;
    start(h, SEC);
    add_target(h, 0, 2, SERVER_UNLIMITED, true);
    add_target(h, 1, 2, SERVER_UNLIMITED, true);
    call_at(h, 5 * SEC, do_reach, 0, ELB_REFUSES); /* zone 0's only target: out within 65 s */
    for (int k = 0; k < 100; k++) submit_at(h, 100 * SEC + k * SEC, 0.001, 0);
    sim_run(h->s);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(h->req[i].target, 1);
        assert_int_equal(h->req[i].node, 1);
        assert_true(h->req[i].done);
    }
    assert_int_equal(ROW_SUM(h, errors), 0);
    free_harness(h);
}

static void test_a_node_whose_zone_is_down_gets_no_traffic_and_comes_back_with_every_target_initial(void **state)
{
    (void)state;
    struct harness *h = harness(3, 400 * SEC);
    add_outage(h, 1, 100 * SEC, 100 * SEC);
    start(h, SEC);
    for (unsigned t = 0; t < 6; t++) add_target(h, 0, 4, SERVER_UNLIMITED, true); /* targets elsewhere */
    for (sim_time a = 50 * MS; a < 400 * SEC; a += 100 * MS) submit_at(h, a, 0.001, 0);
    snap_at(h, 200 * SEC);
    sim_run(h->s);

    /* at the instant it is back: every target initial in its view, healthy in the others' */
    assert_int_equal(h->snaps[0].t, 200 * SEC);
    for (unsigned t = 0; t < 6; t++) {
        assert_int_equal(h->snaps[0].health[1][t], ELB_INITIAL);
        assert_int_equal(h->snaps[0].health[0][t], ELB_HEALTHY);
    }
    /* it turns each target healthy at its first check after 200 s (one pass for an initial target) */
    sim_time first = INT64_MAX;
    for (unsigned t = 0; t < 6; t++) {
        sim_time expected = next_check(h, 1, t, 200 * SEC) + CHECK_SERVICE;
        double times[2];
        assert_int_equal(health_events(h, METRICS_EV_TARGET_HEALTHY, t, 1, times, 2), 1);
        assert_time_is(times[0], expected);
        if (expected < first) first = expected;
    }
    uint64_t node1_after = 0;
    for (uint64_t i = 0; i < h->n_req; i++) {
        const struct req_info *ri = &h->req[i];
        assert_true(ri->done);
        if (ri->node != 1) continue;
        /* node 1 took nothing while down, nor before its first target passed a check */
        assert_true(ri->arrival < 100 * SEC || ri->arrival > first);
        if (ri->arrival > first) node1_after++;
    }
    assert_true(node1_after > 100);
    assert_int_equal(ROW_SUM(h, errors), 0);
    free_harness(h);
}

/* "A node that comes back has not checked anything while it was down: it starts over" (elb.c). A check
 * it sent before going down, still waiting for its timeout when it comes back, belongs to its previous
 * life and must not count as a failure in the fresh view. */
static void test_a_node_that_comes_back_does_not_count_a_check_it_sent_before_it_went_down(void **state)
{
    (void)state;
    struct harness *h = harness(2, 300 * SEC);
    start(h, SEC);
    add_target(h, 0, 2, SERVER_UNLIMITED, true);
    call_at(h, 500 * MS, do_reach, 0, ELB_SILENT);
    sim_time c = next_check(h, 1, 0, 500 * MS); /* node 1's first check of the silent target */
    call_at(h, c + 1 * SEC, do_node, 1, false);  /* its timeout is due at c + 5 s */
    call_at(h, c + 2 * SEC, do_node, 1, true);   /* back before it */
    sim_run(h->s);
    /* starting over at c + 2 s: two failed checks after that, the second decided at its timeout */
    sim_time expected = next_check(h, 1, 0, c + 2 * SEC) + h->ep.interval + h->ep.timeout;
    double times[2];
    assert_int_equal(health_events(h, METRICS_EV_TARGET_UNHEALTHY, 0, 1, times, 2), 1);
    assert_time_is(times[0], expected);
    free_harness(h);
}

static void test_healthy_targets_per_zone_counts_targets_most_up_nodes_see_healthy(void **state)
{
    (void)state;
    struct harness *h = harness(3, 300 * SEC);
    add_outage(h, 2, 150 * SEC, 100 * SEC);
    start(h, SEC);
    for (unsigned t = 0; t < 6; t++) add_target(h, t / 2, 2, SERVER_UNLIMITED, true);
    call_at(h, 10 * SEC, do_die, 0, 0);
    snap_at(h, 5 * SEC);
    snap_at(h, 100 * SEC); /* target 0 unhealthy everywhere by 75 s */
    snap_at(h, 160 * SEC); /* zone 2's node down: the other two decide */
    sim_run(h->s);
    assert_int_equal(h->snaps[0].healthy_in_zone[0], 2);
    assert_int_equal(h->snaps[1].healthy_in_zone[0], 1);
    assert_int_equal(h->snaps[1].healthy_in_zone[1], 2);
    assert_int_equal(h->snaps[1].healthy_in_zone[2], 2);
    assert_int_equal(h->snaps[2].healthy_in_zone[0], 1);
    assert_int_equal(h->snaps[2].healthy_in_zone[2], 2);
    free_harness(h);
}

/* ---- request timeout and latency --------------------------------------------------------------- */

static void test_an_answer_later_than_the_request_timeout_counts_as_a_timeout_error(void **state)
{
    (void)state;
    struct harness *h = harness(2, 400 * SEC);
    start(h, 100 * SEC);
    add_target(h, 1, 4, SERVER_UNLIMITED, true);
    call_at(h, 500 * MS, do_node, 1, false); /* node 0 only: every request crosses to zone 1 (1 ms RTT) */
    /* latency = service + RTT; a timeout needs more than 60 s */
    submit_at(h, 1 * SEC, 59.999, 10);           /* exactly 60 s: a success */
    submit_at(h, 1 * SEC, 59.999 + 1e-9, 20);    /* 1 ns more: a timeout */
    submit_at(h, 1 * SEC, 30.0, 40);             /* a success */
    submit_at(h, 1 * SEC, 61.0, 80);             /* a timeout */
    sim_run(h->s);
    for (int i = 0; i < 4; i++) assert_true(h->req[i].done);
    assert_int_equal(h->req[0].done_at, 60999 * MS);
    assert_int_equal(h->req[1].done_at, 60999 * MS + 1);
    assert_int_equal(row_errors(h, METRICS_ERR_TIMEOUT), 2);
    assert_int_equal(ROW_SUM(h, successes), 2);
    assert_int_equal(ROW_SUM(h, errors), 2);
    /* the latency of the successes includes the round trip: max = 59.999 + 0.001 s */
    assert_close(h->rows[0].latency_max_s, 60.0, 60.0 / 128);
    /* all four responses crossed zones */
    assert_int_equal(ROW_SUM(h, cross_zone_bytes), 150);
    free_harness(h);
}

/* ---- parameters -------------------------------------------------------------------------------- */

struct parsed {
    struct diag d;
    conf *c;
    struct elb_params p;
    bool ok;
};

static void parsed_free(struct parsed *x)
{
    unhold(x);
    conf_free(x->c);
    if (x->d.f) diag_close(&x->d);
    free(x);
}

static struct parsed *parse(const char *text)
{
    struct parsed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hold(x, (cleanup_fn *)parsed_free);
    assert_int_equal(diag_open(&x->d), 0);
    x->c = load_or_fail(text, "lb.cfg", &x->d);
    x->ok = elb_parse(x->c, conf_group(x->c, conf_root(x->c), "lb", false), &x->p);
    return x;
}

static void test_parse_defaults_are_the_alb_defaults(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("other = 1;\n");
    assert_true(x->ok);
    struct elb_params d = alb_defaults();
    assert_int_equal(x->p.algorithm, ELB_ROUND_ROBIN);
    assert_true(x->p.cross_zone);
    assert_int_equal(x->p.interval, d.interval);
    assert_int_equal(x->p.timeout, d.timeout);
    assert_int_equal(x->p.healthy_threshold, 5);
    assert_int_equal(x->p.unhealthy_threshold, 2);
    assert_close(x->p.check_cpu, 0.001, 0);
    assert_int_equal(x->p.deregistration_delay, 300 * SEC);
    assert_int_equal(x->p.request_timeout, 60 * SEC);
    assert_int_equal(x->p.connect_timeout, 10 * SEC);
    parsed_free(x);
}

static void test_parse_reads_every_setting(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("lb: { algorithm = \"least_outstanding_requests\"; cross_zone = false;\n"
              "  deregistration_delay = \"45s\"; request_timeout = \"30s\"; connect_timeout = \"2s\";\n"
              "  health_check: { interval = \"10s\"; timeout = \"3s\"; healthy_threshold = 3;\n"
              "                  unhealthy_threshold = 4; cpu = \"2ms\"; }; };\n");
    assert_true(x->ok);
    assert_diag_is(&x->d, "");
    assert_int_equal(x->p.algorithm, ELB_LEAST_OUTSTANDING);
    assert_false(x->p.cross_zone);
    assert_int_equal(x->p.deregistration_delay, 45 * SEC);
    assert_int_equal(x->p.request_timeout, 30 * SEC);
    assert_int_equal(x->p.connect_timeout, 2 * SEC);
    assert_int_equal(x->p.interval, 10 * SEC);
    assert_int_equal(x->p.timeout, 3 * SEC);
    assert_int_equal(x->p.healthy_threshold, 3);
    assert_int_equal(x->p.unhealthy_threshold, 4);
    assert_close(x->p.check_cpu, 0.002, 1e-15);
    parsed_free(x);
}

static void test_parse_rejects_thresholds_outside_two_to_ten(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("lb: { health_check: {\n  healthy_threshold = 1;\n  unhealthy_threshold = 11; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:2: lb.health_check.healthy_threshold: must be in [2, 10], got 1\n"
                         "lb.cfg:3: lb.health_check.unhealthy_threshold: must be in [2, 10], got 11\n");
    parsed_free(x);
    x = parse("lb: { health_check: { healthy_threshold = 10; unhealthy_threshold = 2; }; };\n");
    assert_true(x->ok);
    parsed_free(x);
}

static void test_parse_rejects_an_interval_outside_5_to_300_seconds(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("lb: { health_check: { interval = \"4s\"; timeout = \"2s\"; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.health_check.interval: must be in [5s, 300s], got \"4s\"\n");
    parsed_free(x);
    x = parse("lb: { health_check: { interval = \"301s\"; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.health_check.interval: must be in [5s, 300s], got \"301s\"\n");
    parsed_free(x);
    x = parse("lb: { health_check: { interval = \"5m\"; timeout = \"2m\"; }; };\n");
    assert_true(x->ok);
    assert_int_equal(x->p.interval, 300 * SEC);
    parsed_free(x);
}

static void test_parse_rejects_a_timeout_outside_2_to_120_seconds(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("lb: { health_check: { timeout = \"1s\"; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.health_check.timeout: must be in [2s, 120s], got \"1s\"\n");
    parsed_free(x);
    x = parse("lb: { health_check: { interval = \"300s\"; timeout = \"121s\"; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.health_check.timeout: must be in [2s, 120s], got \"121s\"\n");
    parsed_free(x);
}

static void test_parse_rejects_a_timeout_not_shorter_than_the_interval(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("lb: { health_check: { timeout = \"30s\"; }; };\n"); /* the default interval */
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.health_check.timeout: must be shorter than the interval (30s), got 30s\n");
    parsed_free(x);
    x = parse("lb: { health_check: { interval = \"5s\"; timeout = \"10s\"; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.health_check.timeout: must be shorter than the interval (5s), got 10s\n");
    parsed_free(x);
    x = parse("lb: { health_check: { interval = \"6s\"; timeout = \"5.999s\"; }; };\n");
    assert_true(x->ok);
    parsed_free(x);
}

static void test_parse_rejects_an_unknown_algorithm(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("lb: { algorithm = \"round_robbin\"; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "lb.cfg:1: lb.algorithm: must be one of \"round_robin\", \"least_outstanding_requests\", "
                         "\"random\"; got \"round_robbin\"; did you mean \"round_robin\"?\n");
    parsed_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_dead_target_leaves_service_at_each_node_within_the_detection_window, teardown),
        cmocka_unit_test_teardown(test_requests_routed_to_a_dead_target_fail_with_connect_timeout_after_the_connect_timeout, teardown),
        cmocka_unit_test_teardown(test_a_recovered_target_returns_after_exactly_healthy_threshold_passing_checks, teardown),
        cmocka_unit_test_teardown(test_a_request_to_a_silent_target_fails_exactly_at_the_connect_timeout, teardown),
        cmocka_unit_test_teardown(test_a_refusing_target_fails_its_checks_at_once_and_its_requests_are_refused, teardown),
        cmocka_unit_test_teardown(test_a_target_whose_queueing_delay_exceeds_the_check_timeout_fails_its_checks_and_is_removed, teardown),
        cmocka_unit_test_teardown(test_a_target_whose_queue_is_full_fails_its_checks_at_once, teardown),
        cmocka_unit_test_teardown(test_with_every_target_unhealthy_the_balancer_fails_open_and_routes_to_all, teardown),
        cmocka_unit_test_teardown(test_with_no_node_up_requests_fail_with_no_healthy_target, teardown),
        cmocka_unit_test_teardown(test_a_draining_target_gets_no_new_requests_and_is_unused_when_its_last_request_ends, teardown),
        cmocka_unit_test_teardown(test_a_draining_target_is_unused_after_the_deregistration_delay_and_told_once, teardown),
        cmocka_unit_test_teardown(test_deregistering_an_idle_target_makes_it_unused_at_once, teardown),
        cmocka_unit_test_teardown(test_a_target_registered_again_counts_only_the_requests_of_its_new_registration, teardown),
        cmocka_unit_test_teardown(test_round_robin_cycles_exactly_over_the_healthy_targets, teardown),
        cmocka_unit_test_teardown(test_least_outstanding_always_picks_a_target_with_the_fewest_outstanding_requests, teardown),
        cmocka_unit_test_teardown(test_least_outstanding_counts_only_the_routing_node_s_requests, teardown),
        cmocka_unit_test_teardown(test_random_routing_spreads_evenly_over_healthy_targets, teardown),
        cmocka_unit_test_teardown(test_with_cross_zone_off_each_node_routes_only_to_its_own_zone, teardown),
        cmocka_unit_test_teardown(test_with_cross_zone_on_every_target_gets_an_equal_share, teardown),
        cmocka_unit_test_teardown(test_cross_zone_bytes_count_only_responses_that_cross_zones, teardown),
        cmocka_unit_test_teardown(test_with_cross_zone_off_a_node_without_healthy_targets_gets_no_traffic, teardown),
        cmocka_unit_test_teardown(test_a_node_whose_zone_is_down_gets_no_traffic_and_comes_back_with_every_target_initial, teardown),
        cmocka_unit_test_teardown(test_a_node_that_comes_back_does_not_count_a_check_it_sent_before_it_went_down, teardown),
        cmocka_unit_test_teardown(test_healthy_targets_per_zone_counts_targets_most_up_nodes_see_healthy, teardown),
        cmocka_unit_test_teardown(test_an_answer_later_than_the_request_timeout_counts_as_a_timeout_error, teardown),
        cmocka_unit_test_teardown(test_parse_defaults_are_the_alb_defaults, teardown),
        cmocka_unit_test_teardown(test_parse_reads_every_setting, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_thresholds_outside_two_to_ten, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_an_interval_outside_5_to_300_seconds, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_a_timeout_outside_2_to_120_seconds, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_a_timeout_not_shorter_than_the_interval, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_an_unknown_algorithm, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
