/* test_server.c: unit tests of models/server: FCFS service on cores of a given speed, the queue limit,
 * and exact busy-time accounting.
 *
 * Every scenario is deterministic and its times are computed by hand, in integer nanoseconds: a driver
 * model submits requests of known demand at known times (and samples the server at known times), and
 * the done callback records when each request completed and when its service started.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server.h"
#include "sim.h"
#include "testutil.h"
#include "workload.h"

#define MS SIM_MS
#define SEC SIM_SEC

/* ---- a driver that submits requests and samples the server at given times ------------------- */

enum { EV_SUBMIT, EV_SAMPLE, N_EV };

struct done_rec {
    uint64_t id;
    sim_time start, end; /* ns */
    struct request r;    /* as the done callback received it */
};

struct sample {
    sim_time t;
    double busy_core_s;
    unsigned busy;
    uint64_t queued;
};

struct harness {
    sim *s;
    uint16_t id;
    struct server *sv;
    size_t n_done;
    struct done_rec done[512];
    size_t n_sub;
    struct {
        uint64_t id;
        bool accepted;
    } sub[512];
    size_t n_samples;
    struct sample samples[64];
};

static void on_submit(sim *s, void *self, const void *payload)
{
    (void)s;
    struct harness *h = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    bool ok = server_submit(h->sv, &r);
    h->sub[h->n_sub].id = r.id;
    h->sub[h->n_sub].accepted = ok;
    h->n_sub++;
}

static void on_sample(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct harness *h = self;
    h->samples[h->n_samples++] = (struct sample){sim_now(s), server_busy_core_seconds(h->sv),
                                                 server_busy(h->sv), server_queued(h->sv)};
}

static sim_handler_fn *const handlers[N_EV] = {on_submit, on_sample};
static const char *const kinds[N_EV] = {"submit", "sample"};
static const sim_model_ops driver_ops = {"driver", N_EV, handlers, kinds, NULL};

static void on_done(void *ctx, const struct request *r)
{
    struct harness *h = ctx;
    assert_true(h->n_done < 512);
    h->done[h->n_done++] = (struct done_rec){r->id, r->start, sim_now(h->s), *r};
}

static struct harness *harness(unsigned cores, double speed, int64_t queue_limit)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    h->s = sim_create(1, 0, 1000 * SEC);
    h->id = sim_register(h->s, &driver_ops, h);
    h->sv = server_create(h->s, &(struct server_params){cores, speed, queue_limit}, on_done, h);
    return h;
}

static void free_harness(struct harness *h)
{
    server_destroy(h->sv);
    sim_destroy(h->s);
    free(h);
}

/* Submits request `id` with `demand` seconds of work at time `at` (ns). */
static void submit_at(struct harness *h, sim_time at, uint64_t id, double demand)
{
    struct request r = {.id = id, .arrival = at, .demand = demand, .start = -1, .cls = 0, .server = 0};
    sim_schedule_at(h->s, at, h->id, EV_SUBMIT, &r, sizeof r);
}

static void sample_at(struct harness *h, sim_time at) { sim_schedule_at(h->s, at, h->id, EV_SAMPLE, NULL, 0); }

static void assert_done(const struct harness *h, size_t i, uint64_t id, sim_time start, sim_time end)
{
    assert_true(i < h->n_done);
    assert_int_equal(h->done[i].id, id);
    assert_int_equal(h->done[i].start, start);
    assert_int_equal(h->done[i].end, end);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_one_core_serves_in_arrival_order_with_exact_start_and_completion_times(void **state)
{
    (void)state;
    struct harness *h = harness(1, 1.0, SERVER_UNLIMITED);
    submit_at(h, 0, 0, 1.0);             /* starts at once: 0 .. 1 s */
    submit_at(h, 500 * MS, 1, 0.25);     /* waits: 1 .. 1.25 s */
    submit_at(h, 600 * MS, 2, 2.0);      /* waits: 1.25 .. 3.25 s */
    submit_at(h, 5 * SEC, 3, 0.001);     /* idle server: 5 .. 5.001 s */
    submit_at(h, 5 * SEC + 7, 4, 3e-9);  /* 3 ns of work, queued behind request 3 */
    assert_int_equal(sim_run(h->s), SIM_END_EMPTY);
    assert_int_equal(h->n_done, 5);
    assert_done(h, 0, 0, 0, 1 * SEC);
    assert_done(h, 1, 1, 1 * SEC, 1250 * MS);
    assert_done(h, 2, 2, 1250 * MS, 3250 * MS);
    assert_done(h, 3, 3, 5 * SEC, 5001 * MS);
    assert_done(h, 4, 4, 5001 * MS, 5001 * MS + 3);
    for (size_t i = 0; i < h->n_sub; i++) assert_true(h->sub[i].accepted);
    assert_int_equal(server_busy(h->sv), 0);
    assert_int_equal(server_queued(h->sv), 0);
    free_harness(h);
}

static void test_two_cores_serve_two_requests_in_parallel_and_queue_the_third(void **state)
{
    (void)state;
    struct harness *h = harness(2, 1.0, SERVER_UNLIMITED);
    submit_at(h, 0, 0, 1.0);
    submit_at(h, 0, 1, 1.5);
    submit_at(h, 0, 2, 1.0);
    submit_at(h, 200 * MS, 3, 0.1);
    sample_at(h, 100 * MS);
    sim_run(h->s);
    assert_int_equal(h->n_samples, 1);
    assert_int_equal(h->samples[0].busy, 2);
    assert_int_equal(h->samples[0].queued, 1);
    assert_int_equal(h->n_done, 4);
    assert_done(h, 0, 0, 0, 1 * SEC);              /* in parallel with 1 */
    assert_done(h, 1, 1, 0, 1500 * MS);
    assert_done(h, 2, 3, 1500 * MS, 1600 * MS);    /* FCFS behind 2, on the core 1 freed */
    assert_done(h, 3, 2, 1 * SEC, 2 * SEC);        /* took the core request 0 freed */
    free_harness(h);
}

static void test_speed_two_halves_the_service_time(void **state)
{
    (void)state;
    struct harness *h = harness(1, 2.0, SERVER_UNLIMITED);
    submit_at(h, 0, 0, 1.0);
    submit_at(h, 0, 1, 0.3);
    submit_at(h, 10 * SEC, 2, 0.000003); /* 3 us of work: 1.5 us */
    sim_run(h->s);
    assert_int_equal(h->n_done, 3);
    assert_done(h, 0, 0, 0, 500 * MS);
    assert_done(h, 1, 1, 500 * MS, 650 * MS);
    assert_done(h, 2, 2, 10 * SEC, 10 * SEC + 1500);
    free_harness(h);
}

static void test_half_speed_doubles_the_service_time_and_busy_time(void **state)
{
    (void)state;
    struct harness *h = harness(1, 0.5, SERVER_UNLIMITED);
    submit_at(h, 0, 0, 1.0);
    sample_at(h, 3 * SEC);
    sim_run(h->s);
    assert_done(h, 0, 0, 0, 2 * SEC);
    assert_close(h->samples[0].busy_core_s, 2.0, 0);
    free_harness(h);
}

static void test_queue_limit_one_rejects_the_third_simultaneous_request_on_one_core(void **state)
{
    (void)state;
    struct harness *h = harness(1, 1.0, 1);
    submit_at(h, 0, 0, 1.0); /* served */
    submit_at(h, 0, 1, 1.0); /* waits: the one place in the queue */
    submit_at(h, 0, 2, 1.0); /* rejected */
    sample_at(h, 0);
    submit_at(h, 500 * MS, 3, 1.0); /* still full: rejected */
    submit_at(h, 1500 * MS, 4, 1.0); /* 1 is in service, the queue is free again: waits */
    sim_run(h->s);
    assert_int_equal(h->n_sub, 5);
    const bool accepted[5] = {true, true, false, false, true};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(h->sub[i].id, i);
        assert_int_equal(h->sub[i].accepted, accepted[i]);
    }
    assert_int_equal(h->samples[0].busy, 1);
    assert_int_equal(h->samples[0].queued, 1);
    /* a rejected request is not kept: it never completes */
    assert_int_equal(h->n_done, 3);
    assert_done(h, 0, 0, 0, 1 * SEC);
    assert_done(h, 1, 1, 1 * SEC, 2 * SEC);
    assert_done(h, 2, 4, 2 * SEC, 3 * SEC);
    free_harness(h);
}

static void test_queue_limit_zero_rejects_whatever_finds_every_core_busy(void **state)
{
    (void)state;
    struct harness *h = harness(2, 1.0, 0);
    submit_at(h, 0, 0, 1.0);
    submit_at(h, 0, 1, 1.0);
    submit_at(h, 0, 2, 1.0);          /* both cores busy, no waiting room */
    submit_at(h, 1 * SEC + 1, 3, 1.0); /* a core is free again */
    sim_run(h->s);
    assert_true(h->sub[0].accepted);
    assert_true(h->sub[1].accepted);
    assert_false(h->sub[2].accepted);
    assert_true(h->sub[3].accepted);
    assert_int_equal(h->n_done, 3);
    assert_done(h, 2, 3, 1 * SEC + 1, 2 * SEC + 1);
    free_harness(h);
}

static void test_busy_core_seconds_are_exact_at_several_times(void **state)
{
    (void)state;
    struct harness *h = harness(2, 1.0, SERVER_UNLIMITED);
    sample_at(h, 0);
    submit_at(h, 0, 0, 1.0);          /* core A: 0 .. 1 */
    submit_at(h, 500 * MS, 1, 1.0);   /* core B: 0.5 .. 1.5 */
    submit_at(h, 500 * MS, 2, 0.75);  /* queued, then on A: 1 .. 1.75 */
    submit_at(h, 4 * SEC, 3, 0.125);  /* 4 .. 4.125 */
    const sim_time at[] = {250 * MS, 750 * MS, 1 * SEC, 1250 * MS, 1600 * MS, 2 * SEC, 4 * SEC + 62500 * SIM_US,
                           10 * SEC};
    const double busy[] = {0.25, 1.0, 1.5, 2.0, 2.6, 2.75, 2.8125, 2.875};
    const unsigned cores_busy[] = {1, 2, 2, 2, 1, 0, 1, 0};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) sample_at(h, at[i]);
    sim_run(h->s);
    assert_int_equal(h->n_samples, 1 + sizeof at / sizeof at[0]);
    assert_close(h->samples[0].busy_core_s, 0, 0);
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        assert_int_equal(h->samples[i + 1].t, at[i]);
        /* exact in core-ns; the only rounding is the final division by 1e9 */
        assert_close(h->samples[i + 1].busy_core_s, busy[i], 1e-12);
        assert_int_equal(h->samples[i + 1].busy, cores_busy[i]);
    }
    assert_int_equal(h->samples[2].queued, 1); /* at 0.75 s request 2 waits */
    assert_int_equal(h->samples[4].queued, 0); /* at 1.25 s it is in service */
    /* after the run, the accumulated total is still exact */
    assert_close(server_busy_core_seconds(h->sv), 2.875, 1e-12);
    free_harness(h);
}

static void test_queue_is_first_come_first_served_across_growth_and_wraparound(void **state)
{
    (void)state;
    /* 1 core, 1 ms per request. 50 at time 0 (49 wait); at 20.5 ms, with 20 done and the ring's head
     * moved on, 150 more arrive, so the queue grows past 64 and 128 entries while wrapped around. */
    struct harness *h = harness(1, 1.0, SERVER_UNLIMITED);
    for (uint64_t i = 0; i < 50; i++) submit_at(h, 0, i, 0.001);
    for (uint64_t i = 50; i < 200; i++) submit_at(h, 20500 * SIM_US, i, 0.001);
    sample_at(h, 20600 * SIM_US);
    sim_run(h->s);
    assert_int_equal(h->samples[0].queued, 200 - 21); /* 0..20 started, 20 in service */
    assert_int_equal(h->samples[0].busy, 1);
    assert_int_equal(h->n_done, 200);
    for (uint64_t i = 0; i < 200; i++) assert_done(h, i, i, (sim_time)i * MS, (sim_time)(i + 1) * MS);
    free_harness(h);
}

static void test_waiting_requests_start_in_arrival_order_whatever_their_demand(void **state)
{
    (void)state;
    struct harness *h = harness(1, 1.0, SERVER_UNLIMITED);
    const double demand[6] = {0.5, 0.4, 0.001, 0.3, 0.002, 0.1};
    for (uint64_t i = 0; i < 6; i++) submit_at(h, (sim_time)i * MS, i, demand[i]);
    sim_run(h->s);
    assert_int_equal(h->n_done, 6);
    sim_time t = 0;
    for (uint64_t i = 0; i < 6; i++) {
        sim_time start = t > (sim_time)i * MS ? t : (sim_time)i * MS;
        t = start + sim_from_seconds(demand[i]);
        assert_done(h, i, i, start, t);
    }
    assert_int_equal(t, 1303 * MS);
    free_harness(h);
}

static void test_request_fields_other_than_start_come_back_as_submitted(void **state)
{
    (void)state;
    struct harness *h = harness(1, 1.0, SERVER_UNLIMITED);
    struct request r = {.id = 77, .arrival = 123, .demand = 0.002, .start = -1, .cls = 5, .server = 9};
    sim_schedule_at(h->s, 123, h->id, EV_SUBMIT, &r, sizeof r);
    sim_run(h->s);
    assert_int_equal(h->n_done, 1);
    assert_int_equal(h->done[0].id, 77);
    assert_int_equal(h->done[0].start, 123);
    assert_int_equal(h->done[0].end, 123 + 2 * MS);
    assert_int_equal(h->done[0].r.arrival, 123);
    assert_memory_equal(&h->done[0].r.demand, &r.demand, sizeof(double));
    assert_int_equal(h->done[0].r.cls, 5);
    assert_int_equal(h->done[0].r.server, 9);
    free_harness(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_core_serves_in_arrival_order_with_exact_start_and_completion_times),
        cmocka_unit_test(test_two_cores_serve_two_requests_in_parallel_and_queue_the_third),
        cmocka_unit_test(test_speed_two_halves_the_service_time),
        cmocka_unit_test(test_half_speed_doubles_the_service_time_and_busy_time),
        cmocka_unit_test(test_queue_limit_one_rejects_the_third_simultaneous_request_on_one_core),
        cmocka_unit_test(test_queue_limit_zero_rejects_whatever_finds_every_core_busy),
        cmocka_unit_test(test_busy_core_seconds_are_exact_at_several_times),
        cmocka_unit_test(test_queue_is_first_come_first_served_across_growth_and_wraparound),
        cmocka_unit_test(test_waiting_requests_start_in_arrival_order_whatever_their_demand),
        cmocka_unit_test(test_request_fields_other_than_start_come_back_as_submitted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
