/* test_ec2.c: unit tests of models/ec2: the instance type catalog (parsing, the shipped us-east-1
 * catalog, lookups with suggestions) and the instance lifecycle (boot, drain, terminate, hardware
 * failure, zone outages, launches into a zone that is down, counts by state).
 *
 * Boot and failure times are deterministic distributions, so every transition has an exact instant in
 * nanoseconds. A recorder is the instances' owner: it writes down every state change (time, instance,
 * from, to) and every request completed or lost; a driver launches, drains, terminates and submits
 * requests at chosen times, and samples counts by state.
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
#include "cost.h"
#include "dist.h"
#include "ec2.h"
#include "server.h"
#include "sim.h"
#include "testheld.h"
#include "testutil.h"
#include "workload.h"

#define MS SIM_MS
#define SEC SIM_SEC
#define NONE EC2_N_STATES /* the "from" of an instance's first state */

static const struct ec2_type c6i_large = {"c6i.large", "x86_64", 2, 4.0 * 1024 * 1024 * 1024, 0.085, 1.13};
static const struct ec2_type m5_xlarge = {"m5.xlarge", "x86_64", 4, 16.0 * 1024 * 1024 * 1024, 0.192, 1.0};

/* ---- resources a test holds: released by the teardown even when an assertion fails midway ------ */


/* ---- the recorder and driver ------------------------------------------------------------------- */

struct transition {
    sim_time t;
    uint32_t inst;
    enum ec2_state from, to;
    uint32_t count[EC2_N_STATES]; /* ec2_count_in right after the change */
    uint32_t launched;
};

struct rec {
    sim_time t;
    uint64_t id;
    uint32_t server;
};

struct counts {
    sim_time t;
    uint32_t n[EC2_N_STATES];
    double serving_vcpus;
};

enum { EV_LAUNCH, EV_DRAIN, EV_TERMINATE, EV_SUBMIT, EV_COUNT, N_EV };

struct launch_cmd {
    const struct ec2_type *type;
    unsigned zone;
    bool running;
};

struct harness {
    sim *s;
    uint16_t id;
    struct az_params ap;
    struct ec2_params ep;
    struct az *a;
    struct ec2 *e;
    size_t n_tr;
    struct transition tr[256];
    size_t n_done, n_lost;
    struct rec done[256], lost[256];
    size_t n_counts;
    struct counts counts[32];
    size_t n_rejected;
};

static void owner_changed(void *ctx, uint32_t inst, enum ec2_state from, enum ec2_state to)
{
    struct harness *h = ctx;
    assert_true(h->n_tr < 256);
    struct transition *t = &h->tr[h->n_tr++];
    *t = (struct transition){sim_now(h->s), inst, from, to, {0}, ec2_count(h->e)};
    for (int st = 0; st < EC2_N_STATES; st++) t->count[st] = ec2_count_in(h->e, (enum ec2_state)st);
    assert_int_equal(ec2_state(h->e, inst), to); /* already in its new state */
}

static void owner_done(void *ctx, const struct request *r)
{
    struct harness *h = ctx;
    h->done[h->n_done++] = (struct rec){sim_now(h->s), r->id, r->server};
}

static void owner_lost(void *ctx, const struct request *r)
{
    struct harness *h = ctx;
    h->lost[h->n_lost++] = (struct rec){sim_now(h->s), r->id, r->server};
}

static void zone_changed(void *ctx, unsigned zone, bool up)
{
    struct harness *h = ctx;
    ec2_zone_changed(h->e, zone, up);
}

static void on_launch(sim *s, void *self, const void *payload)
{
    (void)s;
    struct harness *h = self;
    struct launch_cmd cmd;
    memcpy(&cmd, payload, sizeof cmd);
    ec2_launch(h->e, cmd.type, cmd.zone, cmd.running);
}

static void on_drain(sim *s, void *self, const void *payload)
{
    (void)s;
    uint32_t i;
    memcpy(&i, payload, sizeof i);
    ec2_drain(((struct harness *)self)->e, i);
}

static void on_terminate(sim *s, void *self, const void *payload)
{
    (void)s;
    uint32_t i;
    memcpy(&i, payload, sizeof i);
    ec2_terminate(((struct harness *)self)->e, i);
}

static void on_submit(sim *s, void *self, const void *payload)
{
    (void)s;
    struct harness *h = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    if (!server_submit(ec2_server(h->e, r.server), &r)) h->n_rejected++;
}

static void on_count(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct harness *h = self;
    struct counts *c = &h->counts[h->n_counts++];
    c->t = sim_now(s);
    for (int st = 0; st < EC2_N_STATES; st++) c->n[st] = ec2_count_in(h->e, (enum ec2_state)st);
    c->serving_vcpus = ec2_serving_vcpus(h->e);
}

static sim_handler_fn *const handlers[N_EV] = {on_launch, on_drain, on_terminate, on_submit, on_count};
static const char *const kinds[N_EV] = {"launch", "drain", "terminate", "submit", "count"};
static const sim_model_ops driver_ops = {"driver", N_EV, handlers, kinds, NULL};

/* Zones, boot time (s) and failure time (s, < 0: never) of the fleet. The harness owns its params. */
static void free_harness(struct harness *h);

static struct harness *harness(unsigned zones, double boot_s, double failure_s)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    hold(h, (cleanup_fn *)free_harness);
    h->ap = (struct az_params){.n = zones, .intra_rtt = 200 * SIM_US, .inter_rtt = SIM_MS};
    h->ep = (struct ec2_params){.boot = dist_deterministic(boot_s), .queue_limit = SERVER_UNLIMITED};
    if (failure_s >= 0) h->ep.failure = dist_deterministic(failure_s);
    return h;
}

static void add_outage(struct harness *h, unsigned zone, sim_time at, sim_time duration)
{
    h->ap.outages[h->ap.n_outages++] = (struct az_outage){zone, at, duration};
}

/* Creates the engine, region and fleet (after outages were added). */
static void start(struct harness *h, sim_time horizon)
{
    h->s = sim_create(3, 0, horizon);
    h->id = sim_register(h->s, &driver_ops, h);
    h->a = az_create(h->s, &h->ap, zone_changed, h);
    h->e = ec2_create(h->s, &h->ep, h->a, &(struct ec2_owner){h, owner_changed, owner_done, owner_lost});
}

static void free_harness(struct harness *h)
{
    unhold(h);
    ec2_destroy(h->e);
    if (h->a) az_destroy(h->a);
    if (h->s) sim_destroy(h->s);
    ec2_params_free(&h->ep);
    az_params_free(&h->ap);
    free(h);
}

static void launch_at(struct harness *h, sim_time t, const struct ec2_type *type, unsigned zone, bool running)
{
    struct launch_cmd cmd = {type, zone, running};
    sim_schedule_at(h->s, t, h->id, EV_LAUNCH, &cmd, sizeof cmd);
}

static void drain_at(struct harness *h, sim_time t, uint32_t i) { sim_schedule_at(h->s, t, h->id, EV_DRAIN, &i, sizeof i); }
static void terminate_at(struct harness *h, sim_time t, uint32_t i)
{
    sim_schedule_at(h->s, t, h->id, EV_TERMINATE, &i, sizeof i);
}
static void count_at(struct harness *h, sim_time t) { sim_schedule_at(h->s, t, h->id, EV_COUNT, NULL, 0); }

static void submit_at(struct harness *h, sim_time t, uint32_t inst, uint64_t id, double demand)
{
    struct request r = {.id = id, .arrival = t, .demand = demand, .server = inst};
    sim_schedule_at(h->s, t, h->id, EV_SUBMIT, &r, sizeof r);
}

static void assert_tr(const struct harness *h, size_t k, sim_time t, uint32_t inst, enum ec2_state from,
                      enum ec2_state to)
{
    if (k >= h->n_tr) {
        print_error("transition %zu expected, only %zu recorded\n", k, h->n_tr);
        fail();
    }
    const struct transition *x = &h->tr[k];
    if (x->t != t || x->inst != inst || x->from != from || x->to != to) {
        print_error("transition %zu: t=%lld inst=%u %d->%d; expected t=%lld inst=%u %d->%d\n", k, (long long)x->t,
                    x->inst, (int)x->from, (int)x->to, (long long)t, inst, (int)from, (int)to);
        fail();
    }
}

static void assert_counts_add_up(const struct harness *h)
{
    for (size_t k = 0; k < h->n_tr; k++) {
        uint32_t total = 0;
        for (int st = 0; st < EC2_N_STATES; st++) total += h->tr[k].count[st];
        assert_int_equal(total, h->tr[k].launched);
    }
}

/* ---- lifecycle --------------------------------------------------------------------------------- */

static void test_a_launched_instance_is_pending_then_running_after_exactly_its_boot_time(void **state)
{
    (void)state;
    struct harness *h = harness(3, 40.0, -1);
    start(h, 1000 * SEC);
    launch_at(h, 10 * SEC, &c6i_large, 2, false);
    count_at(h, 49 * SEC);
    count_at(h, 51 * SEC);
    sim_run(h->s);

    assert_int_equal(h->n_tr, 2);
    assert_tr(h, 0, 10 * SEC, 0, NONE, EC2_PENDING);
    assert_tr(h, 1, 50 * SEC, 0, EC2_PENDING, EC2_RUNNING);
    assert_int_equal(ec2_count(h->e), 1);
    assert_int_equal(ec2_zone(h->e, 0), 2);
    assert_ptr_equal(ec2_type_of(h->e, 0), &c6i_large);
    assert_int_equal(h->counts[0].n[EC2_PENDING], 1);
    assert_int_equal(h->counts[0].n[EC2_RUNNING], 0);
    assert_close(h->counts[0].serving_vcpus, 0, 0);
    assert_int_equal(h->counts[1].n[EC2_PENDING], 0);
    assert_int_equal(h->counts[1].n[EC2_RUNNING], 1);
    assert_close(h->counts[1].serving_vcpus, 2, 0);
    free_harness(h);
}

static void test_an_instance_serves_on_one_core_per_vcpu_at_its_type_speed(void **state)
{
    (void)state;
    struct harness *h = harness(1, 40.0, -1);
    h->ep.queue_limit = 7;
    start(h, 1000 * SEC);
    uint32_t a = ec2_launch(h->e, &m5_xlarge, 0, true);
    uint32_t b = ec2_launch(h->e, &c6i_large, 0, true);
    const struct server_params *pa = server_params(ec2_server(h->e, a));
    const struct server_params *pb = server_params(ec2_server(h->e, b));
    assert_int_equal(pa->cores, 4);
    assert_close(pa->speed, 1.0, 0);
    assert_int_equal(pa->queue_limit, 7);
    assert_int_equal(pb->cores, 2);
    assert_close(pb->speed, 1.13, 0);
    submit_at(h, 0, b, 1, 1.13); /* 1 s on a 1.13 core */
    sim_run(h->s);
    assert_int_equal(h->n_done, 1);
    assert_int_equal(h->done[0].t, SEC);
    assert_close(ec2_busy_core_seconds(h->e), 1.0, 1e-9);
    free_harness(h);
}

static void test_an_instance_launched_running_is_running_at_once(void **state)
{
    (void)state;
    struct harness *h = harness(2, 40.0, -1);
    start(h, 100 * SEC);
    assert_int_equal(ec2_launch(h->e, &c6i_large, 1, true), 0);
    assert_int_equal(ec2_launch(h->e, &m5_xlarge, 0, true), 1);
    assert_int_equal(h->n_tr, 2);
    assert_tr(h, 0, 0, 0, NONE, EC2_RUNNING);
    assert_tr(h, 1, 0, 1, NONE, EC2_RUNNING);
    assert_close(ec2_serving_vcpus(h->e), 6, 0);
    sim_run(h->s);
    assert_int_equal(h->n_tr, 2); /* no boot event follows */
    free_harness(h);
}

static void test_drain_keeps_serving_and_terminate_hands_back_requests_and_cancels_completions(void **state)
{
    (void)state;
    struct harness *h = harness(1, 40.0, -1);
    start(h, 1000 * SEC);
    uint32_t i = ec2_launch(h->e, &c6i_large, 0, true);
    submit_at(h, 0, i, 1, 5 * 1.13);  /* core 1: 0..5 s */
    submit_at(h, 0, i, 2, 30 * 1.13); /* core 2: 0..30 s */
    submit_at(h, 0, i, 3, 1 * 1.13);  /* queued: 5..6 s */
    submit_at(h, 0, i, 4, 50 * 1.13); /* queued: 6..56 s, killed at 20 s */
    submit_at(h, 0, i, 5, 1 * 1.13);  /* queued behind 4: never starts */
    drain_at(h, 2 * SEC, i);
    count_at(h, 3 * SEC);
    submit_at(h, 4 * SEC, i, 6, 0.0); /* a draining instance still serves what it is given */
    terminate_at(h, 20 * SEC, i);
    count_at(h, 21 * SEC);
    sim_run(h->s);

    assert_int_equal(h->n_tr, 3);
    assert_tr(h, 0, 0, 0, NONE, EC2_RUNNING);
    assert_tr(h, 1, 2 * SEC, 0, EC2_RUNNING, EC2_DRAINING);
    assert_tr(h, 2, 20 * SEC, 0, EC2_DRAINING, EC2_TERMINATED);
    assert_close(h->counts[0].serving_vcpus, 2, 0); /* draining still serves */
    assert_int_equal(h->counts[0].n[EC2_DRAINING], 1);
    assert_int_equal(h->counts[1].n[EC2_TERMINATED], 1);
    assert_close(h->counts[1].serving_vcpus, 0, 0);

    /* completed before the end: 1 at 5 s, 3 at 6 s (request 6 queued behind 4 and 5) */
    assert_int_equal(h->n_done, 2);
    assert_int_equal(h->done[0].id, 1);
    assert_int_equal(h->done[0].t, 5 * SEC);
    assert_int_equal(h->done[1].id, 3);
    assert_int_equal(h->done[1].t, 6 * SEC);
    /* lost at 20 s: the two in service first (2 and 4, in core order), then the queue in order (5, 6) */
    assert_int_equal(h->n_lost, 4);
    for (size_t k = 0; k < 4; k++) assert_int_equal(h->lost[k].t, 20 * SEC);
    assert_int_equal(h->lost[0].id + h->lost[1].id, 6);
    assert_true(h->lost[0].id == 2 || h->lost[0].id == 4);
    assert_int_equal(h->lost[2].id, 5);
    assert_int_equal(h->lost[3].id, 6);
    assert_int_equal(server_held(ec2_server(h->e, i)), 0);
    /* busy: core 1 0..5, 5..6, 6..20 = 20 s; core 2 0..20 = 20 s; all core-seconds at 1.13 speed */
    assert_close(ec2_busy_core_seconds(h->e), 40.0, 1e-9);
    free_harness(h);
}

static void test_terminating_a_pending_instance_cancels_its_boot(void **state)
{
    (void)state;
    struct harness *h = harness(1, 40.0, 100.0);
    start(h, 1000 * SEC);
    launch_at(h, 0, &c6i_large, 0, false);
    terminate_at(h, 10 * SEC, 0);
    sim_run(h->s);
    assert_int_equal(h->n_tr, 2);
    assert_tr(h, 0, 0, 0, NONE, EC2_PENDING);
    assert_tr(h, 1, 10 * SEC, 0, EC2_PENDING, EC2_TERMINATED);
    assert_int_equal(ec2_count_in(h->e, EC2_TERMINATED), 1);
    free_harness(h);
}

static void test_hardware_failure_at_its_deterministic_time_fails_the_instance_and_loses_its_requests(void **state)
{
    (void)state;
    struct harness *h = harness(1, 40.0, 500.0);
    start(h, 10000 * SEC);
    launch_at(h, 0, &c6i_large, 0, false);    /* running at 40 s, fails at 540 s */
    launch_at(h, 100 * SEC, &c6i_large, 0, true); /* running at 100 s, fails at 600 s */
    submit_at(h, 530 * SEC, 0, 1, 100 * 1.13);    /* in service when it fails */
    submit_at(h, 530 * SEC, 0, 2, 0.0);           /* 0 s of work: done at once */
    drain_at(h, 200 * SEC, 1);                    /* a draining instance can fail too */
    count_at(h, 700 * SEC);
    sim_run(h->s);

    assert_int_equal(h->n_tr, 6);
    assert_tr(h, 0, 0, 0, NONE, EC2_PENDING);
    assert_tr(h, 1, 40 * SEC, 0, EC2_PENDING, EC2_RUNNING);
    assert_tr(h, 2, 100 * SEC, 1, NONE, EC2_RUNNING);
    assert_tr(h, 3, 200 * SEC, 1, EC2_RUNNING, EC2_DRAINING);
    assert_tr(h, 4, 540 * SEC, 0, EC2_RUNNING, EC2_FAILED);
    assert_tr(h, 5, 600 * SEC, 1, EC2_DRAINING, EC2_FAILED); /* draining does not stop the failure clock */
    assert_int_equal(h->n_lost, 1);
    assert_int_equal(h->lost[0].id, 1);
    assert_int_equal(h->lost[0].t, 540 * SEC);
    assert_int_equal(h->n_done, 1);
    assert_int_equal(h->done[0].id, 2);
    assert_int_equal(h->counts[0].n[EC2_FAILED], 2);
    assert_close(h->counts[0].serving_vcpus, 0, 0);
    free_harness(h);
}

static void test_a_failed_instance_stays_failed_through_a_zone_outage_and_can_be_terminated(void **state)
{
    (void)state;
    struct harness *h = harness(1, 40.0, 100.0);
    add_outage(h, 0, 200 * SEC, 100 * SEC);
    start(h, 10000 * SEC);
    launch_at(h, 0, &c6i_large, 0, true); /* fails at 100 s */
    terminate_at(h, 1000 * SEC, 0);
    sim_run(h->s);
    assert_int_equal(h->n_tr, 3);
    assert_tr(h, 0, 0, 0, NONE, EC2_RUNNING);
    assert_tr(h, 1, 100 * SEC, 0, EC2_RUNNING, EC2_FAILED);
    assert_tr(h, 2, 1000 * SEC, 0, EC2_FAILED, EC2_TERMINATED);
    free_harness(h);
}

/* ---- zones ------------------------------------------------------------------------------------- */

static void test_zone_outage_makes_its_instances_unreachable_and_they_boot_again_when_it_is_back(void **state)
{
    (void)state;
    struct harness *h = harness(2, 40.0, 500.0);
    add_outage(h, 1, 300 * SEC, 1000 * SEC); /* zone 1 down 300..1300 s */
    start(h, 5000 * SEC);
    launch_at(h, 0, &c6i_large, 1, true);   /* 0: running at 0 (failure due at 500 s: disarmed) */
    launch_at(h, 280 * SEC, &c6i_large, 1, false); /* 2: pending at 280 s, its boot (320 s) cancelled */
    launch_at(h, 0, &c6i_large, 0, true);   /* 1: other zone, untouched until its failure at 500 s */
    submit_at(h, 250 * SEC, 0, 7, 100 * 1.13); /* in service on instance 0 at 300 s */
    count_at(h, 600 * SEC);
    count_at(h, 1320 * SEC);
    count_at(h, 1400 * SEC);
    sim_run(h->s);

    /* indices in launch order: 0 (zone 1, at 0 s), 1 (zone 0, at 0 s), 2 (zone 1, at 280 s) */
    size_t k = 0;
    assert_tr(h, k++, 0, 0, NONE, EC2_RUNNING);
    assert_tr(h, k++, 0, 1, NONE, EC2_RUNNING);
    assert_tr(h, k++, 280 * SEC, 2, NONE, EC2_PENDING);
    assert_tr(h, k++, 300 * SEC, 0, EC2_RUNNING, EC2_UNREACHABLE);
    assert_tr(h, k++, 300 * SEC, 2, EC2_PENDING, EC2_UNREACHABLE);
    assert_tr(h, k++, 500 * SEC, 1, EC2_RUNNING, EC2_FAILED);
    assert_tr(h, k++, 1300 * SEC, 0, EC2_UNREACHABLE, EC2_PENDING);
    assert_tr(h, k++, 1300 * SEC, 2, EC2_UNREACHABLE, EC2_PENDING);
    assert_tr(h, k++, 1340 * SEC, 0, EC2_PENDING, EC2_RUNNING);
    assert_tr(h, k++, 1340 * SEC, 2, EC2_PENDING, EC2_RUNNING);
    /* the failure clock starts again at the new running: 1340 + 500 */
    assert_tr(h, k++, 1840 * SEC, 0, EC2_RUNNING, EC2_FAILED);
    assert_tr(h, k++, 1840 * SEC, 2, EC2_RUNNING, EC2_FAILED);
    assert_int_equal(h->n_tr, k);

    assert_int_equal(h->n_lost, 1);
    assert_int_equal(h->lost[0].id, 7);
    assert_int_equal(h->lost[0].t, 300 * SEC);
    assert_int_equal(h->n_done, 0);
    assert_int_equal(h->counts[0].n[EC2_UNREACHABLE], 2);
    assert_int_equal(h->counts[0].n[EC2_FAILED], 1);
    assert_int_equal(h->counts[1].n[EC2_PENDING], 2);
    assert_int_equal(h->counts[2].n[EC2_RUNNING], 2);
    assert_close(h->counts[2].serving_vcpus, 4, 0);
    assert_counts_add_up(h);
    free_harness(h);
}

static void test_a_draining_instance_in_a_zone_that_goes_down_becomes_unreachable(void **state)
{
    (void)state;
    struct harness *h = harness(1, 40.0, -1);
    add_outage(h, 0, 100 * SEC, 50 * SEC);
    start(h, 1000 * SEC);
    launch_at(h, 0, &c6i_large, 0, true);
    drain_at(h, 10 * SEC, 0);
    sim_run(h->s);
    assert_int_equal(h->n_tr, 5);
    assert_tr(h, 2, 100 * SEC, 0, EC2_DRAINING, EC2_UNREACHABLE);
    assert_tr(h, 3, 150 * SEC, 0, EC2_UNREACHABLE, EC2_PENDING);
    assert_tr(h, 4, 190 * SEC, 0, EC2_PENDING, EC2_RUNNING);
    free_harness(h);
}

static void test_a_launch_into_a_zone_that_is_down_waits_for_the_zone_then_boots(void **state)
{
    (void)state;
    struct harness *h = harness(2, 40.0, -1);
    add_outage(h, 0, 100 * SEC, 300 * SEC); /* zone 0 down 100..400 s */
    start(h, 1000 * SEC);
    launch_at(h, 200 * SEC, &c6i_large, 0, false);
    launch_at(h, 250 * SEC, &c6i_large, 0, true);  /* "already running" cannot be in a zone that is down */
    launch_at(h, 250 * SEC, &c6i_large, 1, false); /* the other zone: boots at once */
    count_at(h, 399 * SEC);
    sim_run(h->s);

    size_t k = 0;
    assert_tr(h, k++, 200 * SEC, 0, NONE, EC2_PENDING);
    assert_tr(h, k++, 250 * SEC, 1, NONE, EC2_PENDING);
    assert_tr(h, k++, 250 * SEC, 2, NONE, EC2_PENDING);
    assert_tr(h, k++, 290 * SEC, 2, EC2_PENDING, EC2_RUNNING);
    assert_tr(h, k++, 440 * SEC, 0, EC2_PENDING, EC2_RUNNING);
    assert_tr(h, k++, 440 * SEC, 1, EC2_PENDING, EC2_RUNNING);
    assert_int_equal(h->n_tr, k);
    assert_int_equal(h->counts[0].n[EC2_PENDING], 2);
    assert_int_equal(h->counts[0].n[EC2_RUNNING], 1);
    free_harness(h);
}

static void test_counts_by_state_add_up_to_launches_after_every_change(void **state)
{
    (void)state;
    struct harness *h = harness(3, 30.0, 700.0);
    add_outage(h, 1, 100 * SEC, 200 * SEC);
    add_outage(h, 2, 500 * SEC, 100 * SEC);
    start(h, 3000 * SEC);
    for (unsigned k = 0; k < 12; k++) launch_at(h, (sim_time)k * 20 * SEC, k % 2 ? &c6i_large : &m5_xlarge, k % 3, k % 4 == 0);
    drain_at(h, 250 * SEC, 0);
    terminate_at(h, 260 * SEC, 0);
    terminate_at(h, 270 * SEC, 3);
    terminate_at(h, 900 * SEC, 4);
    count_at(h, 2999 * SEC);
    sim_run(h->s);
    assert_true(h->n_tr > 30);
    assert_counts_add_up(h);
    uint32_t total = 0;
    for (int st = 0; st < EC2_N_STATES; st++) total += h->counts[0].n[st];
    assert_int_equal(total, 12);
    assert_int_equal(ec2_count(h->e), 12);
    /* replaying the transitions gives the same counts */
    uint32_t replay[EC2_N_STATES] = {0};
    for (size_t k = 0; k < h->n_tr; k++) {
        if (h->tr[k].from != NONE) replay[h->tr[k].from]--;
        replay[h->tr[k].to]++;
    }
    for (int st = 0; st < EC2_N_STATES; st++) assert_int_equal(replay[st], h->counts[0].n[st]);
    free_harness(h);
}

/* ---- parameters -------------------------------------------------------------------------------- */

struct parsed {
    struct diag d;
    conf *c;
    struct ec2_catalog cat;
    struct diag out; /* a second stream, for printed output */
};

static void parsed_free(struct parsed *x)
{
    unhold(x);
    ec2_catalog_free(&x->cat);
    conf_free(x->c);
    if (x->d.f) diag_close(&x->d);
    if (x->out.f) diag_close(&x->out);
    free(x);
}

static struct parsed *parsed_new(void)
{
    struct parsed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hold(x, (cleanup_fn *)parsed_free);
    assert_int_equal(diag_open(&x->d), 0);
    return x;
}

static struct parsed *load(const char *text)
{
    struct parsed *x = parsed_new();
    x->c = load_or_fail(text, "ec2.cfg", &x->d);
    return x;
}

static void test_parse_defaults_are_lognormal_40s_boot_no_failure_and_no_queue_limit(void **state)
{
    (void)state;
    struct parsed *x;
    x = load("other = 1;\n");
    struct ec2_params p;
    assert_true(ec2_parse(x->c, NULL, &p));
    assert_int_equal(p.boot.kind, DIST_LOGNORMAL);
    assert_close(dist_mean(&p.boot), 40.0, 1e-12);
    assert_close(dist_cv(&p.boot), 0.3, 1e-12);
    assert_int_equal(p.failure.kind, DIST_NONE);
    assert_true(p.queue_limit == SERVER_UNLIMITED);
    ec2_params_free(&p);
    parsed_free(x);
}

static void test_parse_reads_boot_failure_and_queue_limit(void **state)
{
    (void)state;
    struct parsed *x;
    x = load("instances: { boot = { dist = \"deterministic\"; value = \"25s\"; };\n"
             "  failure = { dist = \"exponential\"; mean = \"90d\"; }; queue_limit = 0; };\n");
    struct ec2_params p;
    assert_true(ec2_parse(x->c, conf_group(x->c, conf_root(x->c), "instances", false), &p));
    assert_int_equal(p.boot.kind, DIST_DETERMINISTIC);
    assert_close(dist_mean(&p.boot), 25.0, 0);
    assert_int_equal(p.failure.kind, DIST_EXPONENTIAL);
    assert_close(dist_mean(&p.failure), 90 * 86400.0, 1e-6);
    assert_int_equal(p.queue_limit, 0);
    assert_diag_is(&x->d, "");
    ec2_params_free(&p);
    parsed_free(x);
}

/* ---- catalog ----------------------------------------------------------------------------------- */

#define TYPE(n, arch, v, mem, price, speed)                                                            \
    "{ name = \"" n "\"; arch = \"" arch "\"; vcpu = " #v "; memory = \"" mem "\"; price = \"" price       \
    "\"; speed = " #speed "; }"

static const char small_catalog[] =
    "ec2_catalog: { region = \"us-east-1\"; prices_date = \"2026-11\"; source = \"unit test\";\n"
    "  types = ( " TYPE("c6i.large", "x86_64", 2, "4GiB", "$0.085", 1.13) ",\n"
    "            " TYPE("m7g.large", "arm64", 2, "8GiB", "$0.0816", 1.0) ",\n"
    "            " TYPE("c6i.xlarge", "x86_64", 4, "8GiB", "$0.17", 1.13) " ); };\n";

static void test_catalog_parse_reads_every_field_of_every_type(void **state)
{
    (void)state;
    struct parsed *x;
    x = load(small_catalog);
    assert_true(ec2_catalog_parse(x->c, true, &x->cat));
    assert_diag_is(&x->d, "");
    assert_string_equal(x->cat.region, "us-east-1");
    assert_string_equal(x->cat.prices_date, "2026-11");
    assert_string_equal(x->cat.source, "unit test");
    assert_int_equal(x->cat.n, 3);
    assert_string_equal(x->cat.types[1].name, "m7g.large");
    assert_string_equal(x->cat.types[1].arch, "arm64");
    assert_int_equal(x->cat.types[1].vcpu, 2);
    assert_close(x->cat.types[1].memory, 8.0 * 1024 * 1024 * 1024, 0);
    assert_close(x->cat.types[1].price, 0.0816, 1e-15);
    assert_close(x->cat.types[1].speed, 1.0, 0);
    assert_string_equal(x->cat.types[2].name, "c6i.xlarge");
    assert_int_equal(x->cat.types[2].vcpu, 4);
    assert_close(x->cat.types[2].speed, 1.13, 0);
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

static void test_catalog_parse_rejects_a_type_listed_twice(void **state)
{
    (void)state;
    struct parsed *x;
    x = load("ec2_catalog: { region = \"r\"; prices_date = \"d\"; source = \"s\";\n"
             "  types = ( " TYPE("c6i.large", "x86_64", 2, "4GiB", "$0.085", 1.13) ",\n"
             "            " TYPE("m5.large", "x86_64", 2, "8GiB", "$0.096", 1.0) ",\n"
             "            " TYPE("c6i.large", "x86_64", 2, "4GiB", "$0.085", 1.13) " ); };\n");
    assert_false(ec2_catalog_parse(x->c, true, &x->cat));
    assert_diag_is(&x->d, "ec2.cfg:4: ec2_catalog.types.[2].name: instance type \"c6i.large\" is listed twice\n");
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

/* Two entries that both lack a name are one mistake each ("missing required setting"), not also a
 * duplicate of the name "". */
static void test_catalog_entries_without_names_are_not_reported_as_duplicates(void **state)
{
    (void)state;
    struct parsed *x;
    x = load("ec2_catalog: { region = \"r\"; prices_date = \"d\"; source = \"s\";\n"
             "  types = ( { arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.0; },\n"
             "            { arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.0; } ); };\n");
    assert_false(ec2_catalog_parse(x->c, true, &x->cat));
    assert_diag_is(&x->d, "ec2.cfg:2: ec2_catalog.types.[0].name: missing required setting\n"
                         "ec2.cfg:3: ec2_catalog.types.[1].name: missing required setting\n");
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

static void test_catalog_absent_is_empty_unless_required(void **state)
{
    (void)state;
    struct parsed *x;
    x = load("other = 1;\n");
    assert_true(ec2_catalog_parse(x->c, false, &x->cat));
    assert_int_equal(x->cat.n, 0);
    ec2_catalog_free(&x->cat);
    assert_false(ec2_catalog_parse(x->c, true, &x->cat));
    assert_diag_is(&x->d, "ec2.cfg:1: ec2_catalog: missing required setting\n");
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

static void test_get_type_finds_a_type_by_name(void **state)
{
    (void)state;
    struct parsed *x;
    char text[2048];
    snprintf(text, sizeof text, "%sg: { type = \"c6i.xlarge\"; };\n", small_catalog);
    x = load(text);
    assert_true(ec2_catalog_parse(x->c, true, &x->cat));
    const struct ec2_type *t = ec2_get_type(x->c, &x->cat, conf_group(x->c, conf_root(x->c), "g", true), "type");
    assert_ptr_equal(t, &x->cat.types[2]);
    assert_diag_is(&x->d, "");
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

static void test_an_unknown_instance_type_is_reported_with_the_nearest_name(void **state)
{
    (void)state;
    struct parsed *x;
    char text[2048];
    snprintf(text, sizeof text, "%sg: { type = \"c6i.larg\"; };\n", small_catalog);
    x = load(text);
    assert_true(ec2_catalog_parse(x->c, true, &x->cat));
    assert_null(ec2_get_type(x->c, &x->cat, conf_group(x->c, conf_root(x->c), "g", true), "type"));
    assert_diag_is(&x->d, "ec2.cfg:5: g.type: must be one of \"c6i.large\", \"m7g.large\", \"c6i.xlarge\"; "
                         "got \"c6i.larg\"; did you mean \"c6i.large\"?\n");
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

static void test_without_a_catalog_an_instance_type_gets_the_include_hint(void **state)
{
    (void)state;
    struct parsed *x;
    x = load("g: { type = \"c6i.large\"; };\n");
    assert_true(ec2_catalog_parse(x->c, false, &x->cat));
    assert_null(ec2_get_type(x->c, &x->cat, conf_group(x->c, conf_root(x->c), "g", true), "type"));
    /* the wording of the hint may change; it must name the setting, say why, and show the include */
    assert_diag_contains(&x->d, "ec2.cfg:1: g.type: no instance types are known");
    assert_diag_contains(&x->d, "@include \"");
    assert_diag_contains(&x->d, "catalog/us-east-1.cfg\"");
    assert_int_equal(conf_errors(x->c), 1);
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

/* The shipped catalog: at least the 20 types of aws-facts section 4.1; spot checks of values. */
static void test_the_shipped_us_east_1_catalog_has_twenty_types_with_their_figures(void **state)
{
    (void)state;
    /* the source tree from this file's path (CMake compiles it by its absolute path) */
    char path[1024];
    snprintf(path, sizeof path, "%s", __FILE__);
    char *cut = strstr(path, "tests/unit/test_ec2.c");
    assert_non_null(cut);
    snprintf(cut, sizeof path - (size_t)(cut - path), "configs/catalog/us-east-1.cfg");
    struct parsed *x = parsed_new();
    conf *c = x->c = conf_load(path, x->d.f);
    if (!c) {
        print_error("cannot load %s:\n%s\n", path, diag_text(&x->d));
        fail();
    }
    assert_true(ec2_catalog_parse(c, true, &x->cat));
    struct cost_prices prices;
    assert_true(cost_prices_parse(c, true, &prices));
    assert_int_equal(conf_check_unused(c), 0);
    assert_true(x->cat.n >= 20);
    assert_string_equal(x->cat.region, "us-east-1");
    assert_true(strlen(x->cat.prices_date) > 0);
    assert_true(strlen(x->cat.source) > 0);
    bool seen_c6i = false, seen_m7g = false;
    for (unsigned i = 0; i < x->cat.n; i++) {
        const struct ec2_type *t = &x->cat.types[i];
        assert_true(t->vcpu >= 2);
        assert_true(t->price > 0 && t->price < 1);
        assert_true(t->speed > 0);
        if (strcmp(t->name, "c6i.large") == 0) {
            seen_c6i = true;
            assert_int_equal(t->vcpu, 2);
            assert_close(t->memory, 4.0 * 1024 * 1024 * 1024, 0);
            assert_close(t->price, 0.085, 1e-12);
            assert_string_equal(t->arch, "x86_64");
        }
        if (strcmp(t->name, "m7g.xlarge") == 0) {
            seen_m7g = true;
            assert_int_equal(t->vcpu, 4);
            assert_string_equal(t->arch, "arm64");
        }
    }
    assert_true(seen_c6i && seen_m7g);
    parsed_free(x);
}

static void test_catalog_print_lists_every_type(void **state)
{
    (void)state;
    struct parsed *x;
    x = load(small_catalog);
    assert_true(ec2_catalog_parse(x->c, true, &x->cat));
    assert_int_equal(diag_open(&x->out), 0);
    ec2_catalog_print(&x->cat, x->out.f);
    const char *text = diag_text(&x->out);
    assert_non_null(strstr(text, "us-east-1"));
    assert_non_null(strstr(text, "2026-11"));
    assert_non_null(strstr(text, "c6i.large    x86_64      2         4     0.0850   1.13\n"));
    assert_non_null(strstr(text, "m7g.large    arm64       2         8     0.0816   1.00\n"));
    ec2_catalog_free(&x->cat);
    parsed_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_launched_instance_is_pending_then_running_after_exactly_its_boot_time, teardown),
        cmocka_unit_test_teardown(test_an_instance_serves_on_one_core_per_vcpu_at_its_type_speed, teardown),
        cmocka_unit_test_teardown(test_an_instance_launched_running_is_running_at_once, teardown),
        cmocka_unit_test_teardown(test_drain_keeps_serving_and_terminate_hands_back_requests_and_cancels_completions, teardown),
        cmocka_unit_test_teardown(test_terminating_a_pending_instance_cancels_its_boot, teardown),
        cmocka_unit_test_teardown(test_hardware_failure_at_its_deterministic_time_fails_the_instance_and_loses_its_requests, teardown),
        cmocka_unit_test_teardown(test_a_failed_instance_stays_failed_through_a_zone_outage_and_can_be_terminated, teardown),
        cmocka_unit_test_teardown(test_zone_outage_makes_its_instances_unreachable_and_they_boot_again_when_it_is_back, teardown),
        cmocka_unit_test_teardown(test_a_draining_instance_in_a_zone_that_goes_down_becomes_unreachable, teardown),
        cmocka_unit_test_teardown(test_a_launch_into_a_zone_that_is_down_waits_for_the_zone_then_boots, teardown),
        cmocka_unit_test_teardown(test_counts_by_state_add_up_to_launches_after_every_change, teardown),
        cmocka_unit_test_teardown(test_parse_defaults_are_lognormal_40s_boot_no_failure_and_no_queue_limit, teardown),
        cmocka_unit_test_teardown(test_parse_reads_boot_failure_and_queue_limit, teardown),
        cmocka_unit_test_teardown(test_catalog_parse_reads_every_field_of_every_type, teardown),
        cmocka_unit_test_teardown(test_catalog_parse_rejects_a_type_listed_twice, teardown),
        cmocka_unit_test_teardown(test_catalog_entries_without_names_are_not_reported_as_duplicates, teardown),
        cmocka_unit_test_teardown(test_catalog_absent_is_empty_unless_required, teardown),
        cmocka_unit_test_teardown(test_get_type_finds_a_type_by_name, teardown),
        cmocka_unit_test_teardown(test_an_unknown_instance_type_is_reported_with_the_nearest_name, teardown),
        cmocka_unit_test_teardown(test_without_a_catalog_an_instance_type_gets_the_include_hint, teardown),
        cmocka_unit_test_teardown(test_the_shipped_us_east_1_catalog_has_twenty_types_with_their_figures, teardown),
        cmocka_unit_test_teardown(test_catalog_print_lists_every_type, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
