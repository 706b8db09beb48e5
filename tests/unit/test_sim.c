/* test_sim.c: the engine's contract: order, cancellation, payloads, horizon, stop, streams. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "sim.h"

/* A probe model that records what it receives. */
struct probe {
    uint16_t id;
    size_t n;
    struct record {
        sim_time t;
        uint16_t kind;
        uint64_t tag;
    } rec[20000];
    /* Behaviour hooks used by some tests. */
    sim_event_id cancel_on_run; /* cancelled by the first handler that runs */
    bool stop_after_first;
    int reschedule;             /* each event schedules one more, this many times in all */
};

struct payload {
    uint64_t tag;
    char text[32];
};

static void on_event(sim *s, void *self, const void *payload, uint16_t kind)
{
    struct probe *p = self;
    const struct payload *pl = payload;
    p->rec[p->n++] = (struct record){sim_now(s), kind, pl->tag};
    char expect[32];
    snprintf(expect, sizeof expect, "event-%llu", (unsigned long long)pl->tag);
    assert_string_equal(pl->text, expect);
    if (p->cancel_on_run) {
        assert_true(sim_cancel(s, p->cancel_on_run));
        p->cancel_on_run = 0;
    }
    if (p->stop_after_first) sim_stop(s);
    if (p->reschedule > 0) {
        p->reschedule--;
        struct payload next = {pl->tag + 1000000, {0}};
        snprintf(next.text, sizeof next.text, "event-%llu", (unsigned long long)next.tag);
        sim_schedule(s, 5, p->id, kind, &next, sizeof next);
    }
}

static void on_a(sim *s, void *self, const void *payload) { on_event(s, self, payload, 0); }
static void on_b(sim *s, void *self, const void *payload) { on_event(s, self, payload, 1); }

static sim_handler_fn *const probe_handlers[] = {on_a, on_b};
static const char *const probe_kinds[] = {"a", "b"};
static const sim_model_ops probe_ops = {"probe", 2, probe_handlers, probe_kinds, NULL};

static sim_event_id send(sim *s, struct probe *p, sim_time at, uint16_t kind, uint64_t tag)
{
    struct payload pl = {tag, {0}};
    snprintf(pl.text, sizeof pl.text, "event-%llu", (unsigned long long)tag);
    return sim_schedule_at(s, at, p->id, kind, &pl, sizeof pl);
}

static struct probe *new_probe(sim *s)
{
    struct probe *p = calloc(1, sizeof *p);
    p->id = sim_register(s, &probe_ops, p);
    return p;
}

static void test_equal_times_run_in_scheduling_order(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    for (uint64_t k = 0; k < 300; k++) send(s, p, (sim_time)(k % 3) * SIM_MS, (uint16_t)(k % 2), k);
    assert_int_equal(sim_run(s), SIM_END_EMPTY);
    assert_int_equal(p->n, 300);
    for (size_t i = 0; i < 300; i++) {
        /* time 0 first (tags 0,3,6,...), then 1 ms, then 2 ms; scheduling order within each */
        uint64_t expect = (i % 100) * 3 + i / 100;
        assert_int_equal(p->rec[i].tag, expect);
        assert_int_equal(p->rec[i].kind, expect % 2);
        assert_int_equal(p->rec[i].t, (sim_time)(i / 100) * SIM_MS);
    }
    assert_int_equal(sim_events(s), 300);
    free(p);
    sim_destroy(s);
}

static int cmp_record(const void *a, const void *b)
{
    const struct record *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->tag < y->tag ? -1 : x->tag > y->tag;
}

static void test_random_times_match_a_stable_sort(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    static struct record expect[10000];
    srand(7);
    for (uint64_t k = 0; k < 10000; k++) {
        sim_time t = rand() % 500; /* many ties */
        expect[k] = (struct record){t, 0, k};
        send(s, p, t, 0, k);
    }
    qsort(expect, 10000, sizeof expect[0], cmp_record); /* tags increase with insertion order */
    sim_run(s);
    assert_int_equal(p->n, 10000);
    for (size_t i = 0; i < 10000; i++) {
        assert_int_equal(p->rec[i].t, expect[i].t);
        assert_int_equal(p->rec[i].tag, expect[i].tag);
    }
    free(p);
    sim_destroy(s);
}

static void test_cancelled_event_never_runs_and_stale_id_is_noop(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    sim_event_id a = send(s, p, 10, 0, 1);
    sim_event_id b = send(s, p, 20, 0, 2);
    sim_event_id c = send(s, p, 30, 0, 3);
    assert_true(sim_cancel(s, b));
    assert_false(sim_cancel(s, b)); /* twice */
    assert_false(sim_cancel(s, 0));
    assert_false(sim_cancel(s, (sim_event_id)1 << 40 | 999999)); /* never issued */
    p->cancel_on_run = c;             /* the first event cancels the third */
    sim_run(s);
    assert_int_equal(p->n, 1);
    assert_int_equal(p->rec[0].tag, 1);
    assert_false(sim_cancel(s, a)); /* already ran */
    /* a's slot is recycled by a new event; a's old id must not cancel it */
    sim_event_id d = send(s, p, sim_now(s) + 5, 0, 4);
    assert_false(sim_cancel(s, a));
    assert_false(sim_cancel(s, c));
    sim_run(s);
    assert_int_equal(p->n, 2);
    assert_int_equal(p->rec[1].tag, 4);
    assert_false(sim_cancel(s, d));
    free(p);
    sim_destroy(s);
}

static void test_mass_cancellation_keeps_order_of_survivors(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    static sim_event_id ids[5000];
    for (uint64_t k = 0; k < 5000; k++) ids[k] = send(s, p, (sim_time)(k * 7919 % 5000), 0, k);
    for (uint64_t k = 0; k < 5000; k++)
        if (k % 5) assert_true(sim_cancel(s, ids[k]));
    assert_true(sim_pending(s) < 5000); /* the sweep ran */
    sim_run(s);
    assert_int_equal(p->n, 1000);
    for (size_t i = 0; i < p->n; i++) {
        assert_int_equal(p->rec[i].tag % 5, 0);
        if (i) assert_true(p->rec[i].t > p->rec[i - 1].t);
    }
    free(p);
    sim_destroy(s);
}

static void test_payloads_survive_pool_growth(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    for (uint64_t k = 0; k < 15000; k++) send(s, p, 1000 - (sim_time)(k % 1000), 1, k); /* > 3 blocks */
    sim_run(s);
    assert_int_equal(p->n, 15000); /* on_event checks each payload's text against its tag */
    free(p);
    sim_destroy(s);
}

static void test_horizon_bounds_the_run(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, 100);
    struct probe *p = new_probe(s);
    send(s, p, 50, 0, 1);
    send(s, p, 100, 0, 2);
    send(s, p, 101, 0, 3);
    assert_int_equal(sim_run(s), SIM_END_HORIZON);
    assert_int_equal(p->n, 2);
    assert_int_equal(sim_now(s), 100);
    free(p);
    sim_destroy(s);
}

static void test_stop_request_ends_run_after_current_event(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    p->stop_after_first = true;
    send(s, p, 5, 0, 1);
    send(s, p, 6, 0, 2);
    assert_int_equal(sim_run(s), SIM_END_STOPPED);
    assert_int_equal(p->n, 1);
    assert_int_equal(sim_now(s), 5);
    free(p);
    sim_destroy(s);
}

static void test_handler_scheduling_replaces_root_correctly(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    p->reschedule = 100;
    send(s, p, 0, 0, 1);
    send(s, p, 12, 1, 2); /* interleaves with the rescheduled chain at 0,5,10,15,... */
    sim_run(s);
    assert_int_equal(p->n, 102);
    assert_int_equal(p->rec[3].tag, 2);
    assert_int_equal(p->rec[3].t, 12);
    for (size_t i = 1; i < p->n; i++) assert_true(p->rec[i].t >= p->rec[i - 1].t);
    free(p);
    sim_destroy(s);
}

static void test_sequence_renumbering_preserves_order(void **state)
{
    (void)state;
    sim *s = sim_create(1, 0, SIM_SEC);
    struct probe *p = new_probe(s);
    sim_test_set_seq(s, (UINT64_C(1) << 38) - 50);
    for (uint64_t k = 0; k < 200; k++) send(s, p, (sim_time)(k % 4), 0, k);
    sim_run(s);
    assert_int_equal(p->n, 200);
    for (size_t i = 0; i < 200; i++) assert_int_equal(p->rec[i].tag, (i % 50) * 4 + i / 50);
    free(p);
    sim_destroy(s);
}

static void test_seconds_convert_by_rounding(void **state)
{
    (void)state;
    assert_int_equal(sim_from_seconds(0.001), SIM_MS);
    assert_int_equal(sim_from_seconds(1e-9 * 0.6), 1);
    assert_int_equal(sim_from_seconds(7 * 86400.0), 7 * 86400 * SIM_SEC);
    assert_close(sim_to_seconds(1500 * SIM_MS), 1.5, 0);
}

static void test_adding_a_stream_leaves_others_unchanged(void **state)
{
    (void)state;
    sim *a = sim_create(42, 3, SIM_SEC), *b = sim_create(42, 3, SIM_SEC);
    gsl_rng *ra = sim_rng(a, "workload/arrivals");
    sim_rng(b, "ec2/boot");
    sim_rng(b, "az/2/outage");
    gsl_rng *rb = sim_rng(b, "workload/arrivals");
    assert_ptr_equal(sim_rng(b, "workload/arrivals"), rb);
    for (int i = 0; i < 1000; i++) assert_int_equal(gsl_rng_get(ra), gsl_rng_get(rb));
    sim_destroy(a);
    sim_destroy(b);
}

static void test_streams_differ_by_name_replication_and_seed(void **state)
{
    (void)state;
    sim *base = sim_create(42, 0, SIM_SEC), *rep = sim_create(42, 1, SIM_SEC), *seed = sim_create(43, 0, SIM_SEC);
    unsigned long x = gsl_rng_get(sim_rng(base, "w"));
    assert_true(x != gsl_rng_get(sim_rng(base, "v")));
    assert_true(x != gsl_rng_get(sim_rng(rep, "w")));
    assert_true(x != gsl_rng_get(sim_rng(seed, "w")));
    sim_destroy(base);
    sim_destroy(rep);
    sim_destroy(seed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_times_run_in_scheduling_order),
        cmocka_unit_test(test_random_times_match_a_stable_sort),
        cmocka_unit_test(test_cancelled_event_never_runs_and_stale_id_is_noop),
        cmocka_unit_test(test_mass_cancellation_keeps_order_of_survivors),
        cmocka_unit_test(test_payloads_survive_pool_growth),
        cmocka_unit_test(test_horizon_bounds_the_run),
        cmocka_unit_test(test_stop_request_ends_run_after_current_event),
        cmocka_unit_test(test_handler_scheduling_replaces_root_correctly),
        cmocka_unit_test(test_sequence_renumbering_preserves_order),
        cmocka_unit_test(test_seconds_convert_by_rounding),
        cmocka_unit_test(test_adding_a_stream_leaves_others_unchanged),
        cmocka_unit_test(test_streams_differ_by_name_replication_and_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
