/* test_metrics.c: unit tests of models/metrics: rows per report interval, the final partial interval,
 * the warm-up, utilization and latency quantiles.
 *
 * A fake design drives metrics directly: a driver model replays a script of arrivals, successes and
 * failures at known times (keeping its own count of requests held, which it reports as in_system), and
 * its probe reports a known piecewise-constant busy-core pattern on a known number of cores. Rows are
 * recorded by the row callback and compared with values computed by hand.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "sim.h"
#include "testutil.h"
#include "workload.h"

#define MS SIM_MS
#define SEC SIM_SEC

/* ---- the fake design ------------------------------------------------------------------------- */

enum { EV_ARRIVE, EV_SUCCEED, EV_FAIL, N_EV };

struct segment {
    sim_time from; /* ns: the busy level holds from here to the next segment */
    double busy;   /* cores busy */
};

struct fake {
    sim *s;
    uint16_t id;
    struct metrics *m;
    uint64_t held;
    double cores;
    size_t n_seg;
    struct segment seg[16];
    size_t n_rows;
    struct metrics_row rows[64];
    int fail_at_row; /* the row callback returns -5 for this row (1-based); 0 = never */
};

static void on_arrive(sim *s, void *self, const void *payload)
{
    (void)s;
    struct fake *f = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    f->held++;
    metrics_arrival(f->m, &r);
}

static void on_succeed(sim *s, void *self, const void *payload)
{
    (void)s;
    struct fake *f = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    f->held--;
    metrics_success(f->m, &r, 0);
}

static void on_fail(sim *s, void *self, const void *payload)
{
    (void)s;
    struct fake *f = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    f->held--;
    metrics_failure(f->m, &r, METRICS_ERR_QUEUE_FULL);
}

static sim_handler_fn *const handlers[N_EV] = {on_arrive, on_succeed, on_fail};
static const char *const kinds[N_EV] = {"arrive", "succeed", "fail"};
static const sim_model_ops fake_ops = {"fake", N_EV, handlers, kinds, NULL};

static uint64_t probe_in_system(const void *ctx) { return ((const struct fake *)ctx)->held; }

/* The integral of the busy pattern from 0 to now. */
static double probe_busy(const void *ctx)
{
    const struct fake *f = ctx;
    sim_time now = sim_now(f->s);
    double sum = 0;
    for (size_t i = 0; i < f->n_seg && f->seg[i].from < now; i++) {
        sim_time end = i + 1 < f->n_seg && f->seg[i + 1].from < now ? f->seg[i + 1].from : now;
        sum += f->seg[i].busy * sim_to_seconds(end - f->seg[i].from);
    }
    return sum;
}

static double probe_cores(const void *ctx) { return ((const struct fake *)ctx)->cores; }

static int on_row(void *ctx, const struct metrics_row *row)
{
    struct fake *f = ctx;
    assert_true(f->n_rows < 64);
    f->rows[f->n_rows++] = *row;
    return (int)f->n_rows == f->fail_at_row ? -5 : 0;
}

/* The fake of the running test, freed by the teardown if a failed assertion skipped fake_free. */
static struct fake *live;

static struct fake *fake_create(sim_time horizon, sim_time interval, sim_time warmup, double cores)
{
    assert_null(live);
    struct fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    live = f;
    f->s = sim_create(1, 0, horizon);
    f->cores = cores;
    f->m = metrics_create(f->s, &(struct metrics_params){.interval = interval, .warmup = warmup}, on_row, f);
    f->id = sim_register(f->s, &fake_ops, f);
    metrics_attach(f->m, &(struct metrics_probe){f, probe_in_system, probe_busy, probe_cores, NULL, NULL, NULL});
    return f;
}

static void fake_free(struct fake *f)
{
    metrics_destroy(f->m);
    sim_destroy(f->s);
    free(f);
    live = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (live) fake_free(live);
    return 0;
}

static void busy_from(struct fake *f, sim_time from, double busy) { f->seg[f->n_seg++] = (struct segment){from, busy}; }

static void arrive(struct fake *f, uint64_t id, sim_time at)
{
    struct request r = {.id = id, .arrival = at, .demand = 0, .start = -1};
    sim_schedule_at(f->s, at, f->id, EV_ARRIVE, &r, sizeof r);
}

static void succeed(struct fake *f, uint64_t id, sim_time arrival, sim_time start, sim_time at)
{
    struct request r = {.id = id, .arrival = arrival, .demand = 0, .start = start};
    sim_schedule_at(f->s, at, f->id, EV_SUCCEED, &r, sizeof r);
}

static void fail_req(struct fake *f, uint64_t id, sim_time arrival, sim_time at)
{
    struct request r = {.id = id, .arrival = arrival, .demand = 0, .start = -1};
    sim_schedule_at(f->s, at, f->id, EV_FAIL, &r, sizeof r);
}

static void assert_counts(const struct metrics_row *r, double t_s, uint64_t arrivals, uint64_t successes,
                          uint64_t errors, uint64_t queue_full, uint64_t in_flight)
{
    assert_close(r->t_s, t_s, 1e-12);
    assert_int_equal(r->arrivals, arrivals);
    assert_int_equal(r->successes, successes);
    assert_int_equal(r->errors, errors);
    assert_int_equal(r->errors_by[METRICS_ERR_QUEUE_FULL], queue_full);
    assert_int_equal(r->in_flight, in_flight);
}

/* ---- rows ------------------------------------------------------------------------------------ */

static void test_rows_count_arrivals_successes_errors_and_in_flight_per_interval(void **state)
{
    (void)state;
    struct fake *f = fake_create(4 * SEC, 1 * SEC, 0, 2);
    arrive(f, 0, 100 * MS);
    arrive(f, 1, 200 * MS);
    arrive(f, 2, 300 * MS);
    fail_req(f, 2, 300 * MS, 300 * MS);             /* rejected at once */
    succeed(f, 0, 100 * MS, 100 * MS, 500 * MS);    /* latency 0.4, no wait */
    succeed(f, 1, 200 * MS, 500 * MS, 1200 * MS);   /* latency 1.0, wait 0.3 */
    arrive(f, 3, 1500 * MS);
    arrive(f, 4, 2250 * MS);                        /* still in flight at the end */
    succeed(f, 3, 1500 * MS, 1750 * MS, 2500 * MS); /* latency 1.0, wait 0.25 */
    assert_int_equal(sim_run(f->s), SIM_END_EMPTY);

    assert_int_equal(f->n_rows, 4); /* horizon = 4 intervals: no extra row at the end */
    const struct metrics_row *r = f->rows;
    assert_counts(&r[0], 1.0, 3, 1, 1, 1, 1);
    assert_close(r[0].latency_mean_s, 0.4, 1e-12);
    assert_close(r[0].latency_max_s, 0.4, 1e-12);
    assert_close(r[0].latency_p50_s, 0.4, 1e-12); /* one value: min = max */
    assert_close(r[0].wait_mean_s, 0.0, 0);
    assert_counts(&r[1], 2.0, 1, 1, 0, 0, 1);
    assert_close(r[1].latency_mean_s, 1.0, 1e-12);
    assert_close(r[1].wait_mean_s, 0.3, 1e-12);
    assert_counts(&r[2], 3.0, 1, 1, 0, 0, 1);
    assert_close(r[2].latency_p99_s, 1.0, 1e-12);
    assert_close(r[2].wait_mean_s, 0.25, 1e-12);
    /* nothing completed in the last interval: latencies and wait are NaN, counts are 0 */
    assert_counts(&r[3], 4.0, 0, 0, 0, 0, 1);
    assert_true(isnan(r[3].latency_mean_s) && isnan(r[3].latency_p50_s) && isnan(r[3].latency_p90_s) &&
                isnan(r[3].latency_p99_s) && isnan(r[3].latency_p999_s) && isnan(r[3].latency_max_s) &&
                isnan(r[3].wait_mean_s));
    for (int i = 0; i < 4; i++) assert_close(r[i].utilization, 0.0, 0); /* no core was ever busy */

    const struct metrics_totals *t = metrics_totals(f->m);
    assert_int_equal(t->arrivals, 5);
    assert_int_equal(t->successes, 3);
    assert_int_equal(t->errors, 1);
    assert_int_equal(t->in_flight_at_end, 1);
    assert_int_equal(t->waited, 2);
    assert_close(stats_acc_mean(&t->wait), 0.55 / 3, 1e-12);
    assert_int_equal(stats_hist_count(&t->latency), 3);
    assert_close(t->measured_s, 4.0, 1e-12);
    assert_close(t->core_seconds, 8.0, 1e-12);
    assert_int_equal(metrics_status(f->m), 0);
    fake_free(f);
}

static void test_final_partial_interval_gets_its_own_row_ending_at_the_horizon(void **state)
{
    (void)state;
    /* horizon 2.5 s, interval 1 s; an event pending past the horizon keeps the run going to 2.5 s */
    struct fake *f = fake_create(2500 * MS, 1 * SEC, 0, 1);
    busy_from(f, 0, 1);
    arrive(f, 0, 2200 * MS);
    succeed(f, 0, 2200 * MS, 2200 * MS, 2400 * MS);
    arrive(f, 1, 2450 * MS);
    succeed(f, 1, 2450 * MS, 2450 * MS, 3 * SEC); /* past the horizon: never runs */
    assert_int_equal(sim_run(f->s), SIM_END_HORIZON);
    assert_int_equal(f->n_rows, 3);
    assert_counts(&f->rows[0], 1.0, 0, 0, 0, 0, 0);
    assert_counts(&f->rows[1], 2.0, 0, 0, 0, 0, 0);
    assert_counts(&f->rows[2], 2.5, 2, 1, 0, 0, 1);
    assert_close(f->rows[2].latency_mean_s, 0.2, 1e-12);
    assert_close(f->rows[2].utilization, 1.0, 1e-12); /* over 0.5 s, not over a whole interval */
    const struct metrics_totals *t = metrics_totals(f->m);
    assert_close(t->measured_s, 2.5, 1e-12);
    assert_close(t->core_seconds, 2.5, 1e-12);
    assert_close(t->busy_core_seconds, 2.5, 1e-12);
    assert_int_equal(t->in_flight_at_end, 1);
    fake_free(f);
}

/* FAILS (bug in metrics.c on_finish): when nothing is pending past the horizon -- the usual case, since
 * the workload schedules no arrival past it -- the engine stops at the last event, and the partial row
 * and the totals end there instead of at the horizon. */
static void test_final_partial_row_ends_at_the_horizon_even_when_no_event_is_pending(void **state)
{
    (void)state;
    struct fake *f = fake_create(2500 * MS, 1 * SEC, 0, 1);
    busy_from(f, 0, 1);
    arrive(f, 0, 2200 * MS);
    succeed(f, 0, 2200 * MS, 2200 * MS, 2400 * MS); /* the last event: the run empties at 2.4 s */
    sim_run(f->s);
    assert_int_equal(f->n_rows, 3);
    assert_counts(&f->rows[2], 2.5, 1, 1, 0, 0, 0); /* was: t_s = 2.4 */
    const struct metrics_totals *t = metrics_totals(f->m);
    assert_close(t->measured_s, 2.5, 1e-12);        /* was: 2.4 */
    assert_close(t->core_seconds, 2.5, 1e-12);
    fake_free(f);

    /* metrics alone: the last report at 2 s empties the queue; the (2, 2.5] row is missing altogether */
    f = fake_create(2500 * MS, 1 * SEC, 0, 1);
    sim_run(f->s);
    assert_int_equal(f->n_rows, 3); /* was: 2 */
    assert_close(f->rows[2].t_s, 2.5, 1e-12);
    fake_free(f);
}

/* ---- warm-up --------------------------------------------------------------------------------- */

static void test_warmup_leaves_earlier_arrivals_out_of_the_totals_but_not_out_of_the_rows(void **state)
{
    (void)state;
    struct fake *f = fake_create(3 * SEC, 1 * SEC, 1 * SEC, 2);
    busy_from(f, 0, 2);
    busy_from(f, 1 * SEC, 1);
    arrive(f, 0, 500 * MS);
    succeed(f, 0, 500 * MS, 500 * MS, 1500 * MS);   /* arrived before: not counted, though it ends after */
    arrive(f, 1, 900 * MS);
    fail_req(f, 1, 900 * MS, 900 * MS);             /* before: not counted */
    arrive(f, 5, 990 * MS);
    fail_req(f, 5, 990 * MS, 1300 * MS);            /* arrived before, failed after: not counted */
    arrive(f, 2, 1 * SEC);                          /* at the warm-up exactly: counted */
    succeed(f, 2, 1 * SEC, 1100 * MS, 1200 * MS);   /* latency 0.2, waited 0.1 */
    arrive(f, 3, 2 * SEC);
    succeed(f, 3, 2 * SEC, 2 * SEC, 2500 * MS);     /* latency 0.5, no wait */
    arrive(f, 4, 2700 * MS);                        /* in flight at the end */
    sim_run(f->s);

    const struct metrics_totals *t = metrics_totals(f->m);
    assert_int_equal(t->arrivals, 3);
    assert_int_equal(t->successes, 2);
    assert_int_equal(t->errors, 0);
    assert_int_equal(t->waited, 1);
    assert_int_equal(t->wait.n, 2);
    assert_close(stats_acc_mean(&t->wait), 0.05, 1e-12);
    assert_int_equal(stats_hist_count(&t->latency), 2);
    assert_close(stats_hist_mean(&t->latency), 0.35, 1e-12);
    assert_close(stats_hist_max(&t->latency), 0.5, 1e-12);
    assert_close(t->measured_s, 2.0, 1e-12);
    assert_close(t->busy_core_seconds, 2.0, 1e-12); /* 1 core busy over (1, 3] */
    assert_close(t->core_seconds, 4.0, 1e-12);      /* 2 cores over (1, 3] */
    assert_int_equal(t->in_flight_at_end, 1);

    /* the rows keep everything */
    assert_int_equal(f->n_rows, 3);
    uint64_t arrivals = 0, successes = 0, errors = 0;
    for (size_t i = 0; i < f->n_rows; i++) {
        arrivals += f->rows[i].arrivals;
        successes += f->rows[i].successes;
        errors += f->rows[i].errors;
    }
    assert_int_equal(arrivals, 6);
    assert_int_equal(successes, 3);
    assert_int_equal(errors, 2);
    assert_counts(&f->rows[0], 1.0, 3, 0, 1, 1, 2);
    assert_close(f->rows[0].utilization, 1.0, 1e-12);
    fake_free(f);
}

/* FAILS (bug in metrics.c on_report/start_totals): a warm-up that is not a multiple of the report
 * interval starts the time totals (measured_s, busy and available core-seconds) at the first report
 * after it, while the request totals start at the warm-up itself. */
static void test_warmup_between_reports_measures_time_from_the_warmup(void **state)
{
    (void)state;
    struct fake *f = fake_create(4 * SEC, 1 * SEC, 1500 * MS, 2);
    busy_from(f, 0, 2);
    busy_from(f, 1500 * MS, 0);
    busy_from(f, 2 * SEC, 2);
    arrive(f, 0, 1600 * MS);
    succeed(f, 0, 1600 * MS, 1600 * MS, 1700 * MS);
    arrive(f, 1, 3 * SEC);
    succeed(f, 1, 3 * SEC, 3 * SEC, 3100 * MS);
    sim_run(f->s);
    const struct metrics_totals *t = metrics_totals(f->m);
    assert_int_equal(t->successes, 2);              /* both arrived after the warm-up */
    assert_close(t->measured_s, 2.5, 1e-12);        /* horizon - warm-up; was 2.0 */
    assert_close(t->core_seconds, 5.0, 1e-12);      /* 2 cores over (1.5, 4]; was 4.0 */
    assert_close(t->busy_core_seconds, 4.0, 1e-12); /* 0 busy over (1.5, 2], 2 over (2, 4] */
    fake_free(f);
}

/* ---- utilization ------------------------------------------------------------------------------- */

static void test_utilization_is_busy_over_available_core_seconds_per_interval(void **state)
{
    (void)state;
    struct fake *f = fake_create(3 * SEC, 1 * SEC, 0, 2);
    busy_from(f, 0, 1);            /* (0, 1]: 1 of 2 cores -> 0.5 */
    busy_from(f, 1 * SEC, 2);      /* (1, 1.5]: 2 cores, */
    busy_from(f, 1500 * MS, 1);    /* (1.5, 2]: 1 core -> (1 + 0.5) / 2 = 0.75 */
    busy_from(f, 2 * SEC, 0);      /* (2, 3]: idle -> 0 */
    sim_run(f->s);
    assert_int_equal(f->n_rows, 3);
    assert_close(f->rows[0].utilization, 0.5, 1e-12);
    assert_close(f->rows[1].utilization, 0.75, 1e-12);
    assert_close(f->rows[2].utilization, 0.0, 1e-12);
    const struct metrics_totals *t = metrics_totals(f->m);
    assert_close(t->busy_core_seconds, 2.5, 1e-12);
    assert_close(t->core_seconds, 6.0, 1e-12);
    fake_free(f);
}

/* ---- latency quantiles ------------------------------------------------------------------------- */

static void test_latency_quantiles_of_a_known_set_are_within_the_histogram_bound(void **state)
{
    (void)state;
    /* 100 requests arrive at 0; request i completes at (i + 1) ms after waiting half of that */
    struct fake *f = fake_create(1 * SEC, 1 * SEC, 0, 1);
    for (uint64_t i = 0; i < 100; i++) arrive(f, i, 0);
    for (uint64_t i = 100; i-- > 0;) /* completion order does not matter */
        succeed(f, i, 0, (sim_time)(i + 1) * MS / 2, (sim_time)(i + 1) * MS);
    sim_run(f->s);
    assert_int_equal(f->n_rows, 1);
    const struct metrics_row *r = &f->rows[0];
    assert_counts(r, 1.0, 100, 100, 0, 0, 0);
    /* the order statistic of rank ceil(q n): 50, 90, 99 and 100 ms, within 1/128 relative */
    assert_close(r->latency_p50_s, 0.050, 0.050 / 128);
    assert_close(r->latency_p90_s, 0.090, 0.090 / 128);
    assert_close(r->latency_p99_s, 0.099, 0.099 / 128);
    assert_close(r->latency_p999_s, 0.100, 0.100 / 128);
    assert_close(r->latency_max_s, 0.100, 1e-15); /* exact */
    assert_close(r->latency_mean_s, 0.0505, 1e-12);
    assert_close(r->wait_mean_s, 0.02525, 1e-12);
    /* the quantiles are not all the same value */
    assert_true(r->latency_p50_s < r->latency_p90_s && r->latency_p90_s < r->latency_p99_s);
    const struct metrics_totals *t = metrics_totals(f->m);
    assert_close(stats_hist_quantile(&t->latency, 0.5), 0.050, 0.050 / 128);
    assert_close(stats_hist_quantile(&t->latency, 0.99), 0.099, 0.099 / 128);
    assert_int_equal(t->waited, 100);
    fake_free(f);
}

static void test_intervals_are_measured_separately(void **state)
{
    (void)state;
    /* slow requests in the first interval must not leak into the second one's quantiles */
    struct fake *f = fake_create(2 * SEC, 1 * SEC, 0, 1);
    for (uint64_t i = 0; i < 10; i++) {
        arrive(f, i, 0);
        succeed(f, i, 0, 0, 900 * MS);
        arrive(f, 10 + i, 1100 * MS);
        succeed(f, 10 + i, 1100 * MS, 1100 * MS, 1110 * MS);
    }
    sim_run(f->s);
    assert_int_equal(f->n_rows, 2);
    assert_close(f->rows[0].latency_max_s, 0.9, 1e-12);
    assert_close(f->rows[1].latency_max_s, 0.01, 1e-12);
    assert_close(f->rows[1].latency_p99_s, 0.01, 1e-12);
    assert_int_equal(f->rows[1].successes, 10);
    fake_free(f);
}

/* ---- the row callback -------------------------------------------------------------------------- */

static void test_a_negative_row_callback_stops_the_run_and_is_kept(void **state)
{
    (void)state;
    struct fake *f = fake_create(10 * SEC, 1 * SEC, 0, 1);
    f->fail_at_row = 2;
    arrive(f, 0, 5 * SEC);
    succeed(f, 0, 5 * SEC, 5 * SEC, 6 * SEC);
    assert_int_equal(sim_run(f->s), SIM_END_STOPPED);
    assert_int_equal(sim_now(f->s), 2 * SEC);
    assert_int_equal(f->n_rows, 2); /* no row after the failing one */
    assert_int_equal(metrics_status(f->m), -5);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_rows_count_arrivals_successes_errors_and_in_flight_per_interval, teardown),
        cmocka_unit_test_teardown(test_final_partial_interval_gets_its_own_row_ending_at_the_horizon, teardown),
        cmocka_unit_test_teardown(test_final_partial_row_ends_at_the_horizon_even_when_no_event_is_pending, teardown),
        cmocka_unit_test_teardown(test_warmup_leaves_earlier_arrivals_out_of_the_totals_but_not_out_of_the_rows, teardown),
        cmocka_unit_test_teardown(test_warmup_between_reports_measures_time_from_the_warmup, teardown),
        cmocka_unit_test_teardown(test_utilization_is_busy_over_available_core_seconds_per_interval, teardown),
        cmocka_unit_test_teardown(test_latency_quantiles_of_a_known_set_are_within_the_histogram_bound, teardown),
        cmocka_unit_test_teardown(test_intervals_are_measured_separately, teardown),
        cmocka_unit_test_teardown(test_a_negative_row_callback_stops_the_run_and_is_kept, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
