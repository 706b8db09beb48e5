/* test_cloudwatch.c: unit tests of models/cloudwatch: periodic datapoints, the publication delay and
 * M-of-N alarms.
 *
 * A scripted sampler returns a chosen value at the end of each period (recording when it was asked);
 * the publication callback records the instant and value of every datapoint and evaluates a set of
 * alarms right there, as a scaling policy does. Instants are exact (integer nanoseconds).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloudwatch.h"
#include "sim.h"
#include "testutil.h"

#define SEC SIM_SEC
#define MAX_POINTS 256
#define MAX_ALARMS 4

struct script {
    sim *s;
    struct cw *w;
    const double *values;        /* value of period k (beyond n_values: the last one) */
    unsigned n_values;
    unsigned n_sampled, n_published;
    sim_time sampled_at[MAX_POINTS], published_at[MAX_POINTS];
    double published[MAX_POINTS];
    double latest[MAX_POINTS];   /* cw_latest inside the callback */
    unsigned n_alarms;
    struct cw_alarm alarms[MAX_ALARMS];
    bool in_alarm[MAX_ALARMS][MAX_POINTS];
};

static double sample(void *ctx)
{
    struct script *sc = ctx;
    unsigned k = sc->n_sampled < sc->n_values ? sc->n_sampled : sc->n_values - 1;
    if (sc->n_sampled < MAX_POINTS) sc->sampled_at[sc->n_sampled] = sim_now(sc->s);
    sc->n_sampled++;
    return sc->values[k];
}

static void published(void *ctx, double value)
{
    struct script *sc = ctx;
    unsigned k = sc->n_published++;
    if (k >= MAX_POINTS) return;
    sc->published_at[k] = sim_now(sc->s);
    sc->published[k] = value;
    sc->latest[k] = cw_latest(sc->w);
    for (unsigned a = 0; a < sc->n_alarms; a++) sc->in_alarm[a][k] = cw_in_alarm(sc->w, &sc->alarms[a]);
}

static struct script *held_script;

static int teardown(void **state)
{
    (void)state;
    if (held_script) {
        cw_destroy(held_script->w);
        sim_destroy(held_script->s);
        free(held_script);
        held_script = NULL;
    }
    return 0;
}

/* Runs a metric of the given period and delay (s) over values until horizon (s). */
static struct script *run_script(double period, double delay, const double *values, unsigned n_values,
                                 const struct cw_alarm *alarms, unsigned n_alarms, double horizon)
{
    struct script *sc = calloc(1, sizeof *sc);
    assert_non_null(sc);
    held_script = sc;
    sc->values = values;
    sc->n_values = n_values;
    sc->n_alarms = n_alarms;
    for (unsigned a = 0; a < n_alarms; a++) sc->alarms[a] = alarms[a];
    sc->s = sim_create(1, 0, sim_from_seconds(horizon));
    sc->w = cw_create(sc->s, sim_from_seconds(period), sim_from_seconds(delay), sample, published, sc);
    assert_non_null(sc->w);
    assert_true(isnan(cw_latest(sc->w)));
    sim_run(sc->s);
    return sc;
}

/* ---- the pipeline ------------------------------------------------------------------------------ */

static void test_each_datapoint_is_published_exactly_delay_after_its_period_ends(void **state)
{
    (void)state;
    static const double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    struct script *sc = run_script(60, 45, v, 10, NULL, 0, 600);
    /* periods end at 60, 120, ..., 600; the one ending at 600 publishes after the horizon */
    assert_int_equal(sc->n_sampled, 10);
    assert_int_equal(sc->n_published, 9);
    for (unsigned k = 0; k < sc->n_sampled; k++) assert_int_equal(sc->sampled_at[k], (sim_time)(k + 1) * 60 * SEC);
    for (unsigned k = 0; k < sc->n_published; k++) {
        assert_int_equal(sc->published_at[k], (sim_time)(k + 1) * 60 * SEC + 45 * SEC);
        assert_close(sc->published[k], v[k], 0);
        assert_close(sc->latest[k], v[k], 0);
    }
    assert_close(cw_latest(sc->w), 9, 0);
}

static void test_a_delay_longer_than_the_period_keeps_datapoints_in_period_order(void **state)
{
    (void)state;
    static const double v[] = {5, 4, 3, 2, 1, 0, -1, -2};
    struct script *sc = run_script(60, 150, v, 8, NULL, 0, 630);
    /* period k (ending at 60(k+1)) is published at 60(k+1) + 150 <= 630: k <= 7, while periods
     * 8 and 9 (ending at 540 and 600) are sampled but still in flight */
    assert_int_equal(sc->n_sampled, 10);
    assert_int_equal(sc->n_published, 8);
    for (unsigned k = 0; k < sc->n_published; k++) {
        assert_int_equal(sc->published_at[k], (sim_time)(k + 1) * 60 * SEC + 150 * SEC);
        assert_close(sc->published[k], v[k], 0);
    }
}

static void test_a_zero_delay_publishes_at_the_period_end(void **state)
{
    (void)state;
    static const double v[] = {7};
    struct script *sc = run_script(10, 0, v, 1, NULL, 0, 35);
    assert_int_equal(sc->n_published, 3);
    for (unsigned k = 0; k < 3; k++) assert_int_equal(sc->published_at[k], (sim_time)(k + 1) * 10 * SEC);
}

static void test_a_period_without_data_is_published_as_nan(void **state)
{
    (void)state;
    static const double v[] = {3, NAN, 4};
    struct script *sc = run_script(60, 60, v, 3, NULL, 0, 240);
    assert_int_equal(sc->n_published, 3);
    assert_close(sc->published[0], 3, 0);
    assert_true(isnan(sc->published[1]));
    assert_true(isnan(sc->latest[1]));
    assert_close(sc->published[2], 4, 0);
}

/* ---- alarms ------------------------------------------------------------------------------------ */

static void test_an_alarm_goes_off_when_m_of_the_last_n_datapoints_breach(void **state)
{
    (void)state;
    static const double v[] = {10, 60, 10, 60, 60, 10, 10, 10, 60, 60, 60, 10};
    const struct cw_alarm a[] = {
        {50, CW_GREATER, 2, 3, },  /* 2 of 3 above 50 */
        {50, CW_GREATER, 3, 3, },  /* 3 of 3 */
        {50, CW_GREATER, 1, 1, },  /* the latest */
    };
    struct script *sc = run_script(60, 60, v, 12, a, 3, 60 * 13);
    assert_int_equal(sc->n_published, 12);
    /* datapoint:        10 60 10 60 60 10 10 10 60 60 60 10 */
    static const bool two_of_three[12] = {0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1};
    static const bool three_of_three[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    for (unsigned k = 0; k < 12; k++) {
        assert_int_equal(sc->in_alarm[0][k], two_of_three[k]);
        assert_int_equal(sc->in_alarm[1][k], three_of_three[k]);
        assert_int_equal(sc->in_alarm[2][k], v[k] > 50);
    }
}

static void test_an_alarm_is_not_in_alarm_before_n_datapoints_are_published(void **state)
{
    (void)state;
    static const double v[] = {90, 90, 90, 90};
    const struct cw_alarm a[] = {{50, CW_GREATER, 3, 3}, {50, CW_GREATER, 1, 4}};
    struct script *sc = run_script(60, 60, v, 4, a, 2, 300);
    assert_int_equal(sc->n_published, 4);
    static const bool three[4] = {0, 0, 1, 1}, one_of_four[4] = {0, 0, 0, 1};
    for (unsigned k = 0; k < 4; k++) {
        assert_int_equal(sc->in_alarm[0][k], three[k]);
        assert_int_equal(sc->in_alarm[1][k], one_of_four[k]);
    }
}

static void test_comparisons_at_the_threshold_follow_their_operator(void **state)
{
    (void)state;
    static const double v[] = {50, 49.999, 50.001};
    const struct cw_alarm a[] = {
        {50, CW_GREATER, 1, 1}, {50, CW_GREATER_EQUAL, 1, 1}, {50, CW_LESS, 1, 1}, {50, CW_LESS_EQUAL, 1, 1},
    };
    struct script *sc = run_script(60, 60, v, 3, a, 4, 240);
    assert_int_equal(sc->n_published, 3);
    static const bool expect[4][3] = {{0, 0, 1}, {1, 0, 1}, {0, 1, 0}, {1, 1, 0}};
    for (unsigned i = 0; i < 4; i++)
        for (unsigned k = 0; k < 3; k++) assert_int_equal(sc->in_alarm[i][k], expect[i][k]);
}

static void test_missing_data_never_breaches_above_or_below(void **state)
{
    (void)state;
    static const double v[] = {90, NAN, 90, NAN, NAN, NAN, 5, NAN, 5};
    const struct cw_alarm a[] = {
        {50, CW_GREATER, 3, 3},       /* high: a NaN in the window keeps it off */
        {50, CW_GREATER, 2, 3},       /* 2 of 3: the two 90s around a NaN are enough */
        {20, CW_LESS, 1, 1},          /* low: NaN is not "less than" */
        {20, CW_LESS_EQUAL, 2, 3},
    };
    struct script *sc = run_script(60, 60, v, 9, a, 4, 600);
    assert_int_equal(sc->n_published, 9);
    /* datapoint:       90 NaN 90 NaN NaN NaN 5 NaN 5 */
    static const bool expect[4][9] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0},
        {0, 0, 1, 0, 0, 0, 0, 0, 0},
        {0, 0, 0, 0, 0, 0, 1, 0, 1},
        {0, 0, 0, 0, 0, 0, 0, 0, 1},
    };
    for (unsigned i = 0; i < 4; i++)
        for (unsigned k = 0; k < 9; k++) {
            if (sc->in_alarm[i][k] != expect[i][k]) print_error("alarm %u after datapoint %u\n", i, k);
            assert_int_equal(sc->in_alarm[i][k], expect[i][k]);
        }
}

static void test_an_alarm_over_the_whole_history_sees_exactly_the_last_n_datapoints(void **state)
{
    (void)state;
    /* 10 datapoints at -1, then +1: a 64-of-64 alarm on > 0 goes off at the 74th datapoint, once
     * the ring of CW_HISTORY has wrapped and the -1s have left it */
    double v[90];
    for (unsigned k = 0; k < 90; k++) v[k] = k < 10 ? -1 : 1;
    const struct cw_alarm a[] = {{0, CW_GREATER, CW_HISTORY, CW_HISTORY}, {0, CW_LESS, 1, CW_HISTORY}};
    struct script *sc = run_script(10, 5, v, 90, a, 2, 10 * 90);
    assert_int_equal(sc->n_published, 89);
    for (unsigned k = 0; k < sc->n_published; k++) {
        assert_int_equal(sc->in_alarm[0][k], k + 1 >= 74);
        /* 1 of 64 below 0: from the 64th datapoint until the last -1 (the 10th) leaves the window */
        assert_int_equal(sc->in_alarm[1][k], k + 1 >= 64 && k + 1 <= 73);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_each_datapoint_is_published_exactly_delay_after_its_period_ends, teardown),
        cmocka_unit_test_teardown(test_a_delay_longer_than_the_period_keeps_datapoints_in_period_order, teardown),
        cmocka_unit_test_teardown(test_a_zero_delay_publishes_at_the_period_end, teardown),
        cmocka_unit_test_teardown(test_a_period_without_data_is_published_as_nan, teardown),
        cmocka_unit_test_teardown(test_an_alarm_goes_off_when_m_of_the_last_n_datapoints_breach, teardown),
        cmocka_unit_test_teardown(test_an_alarm_is_not_in_alarm_before_n_datapoints_are_published, teardown),
        cmocka_unit_test_teardown(test_comparisons_at_the_threshold_follow_their_operator, teardown),
        cmocka_unit_test_teardown(test_missing_data_never_breaches_above_or_below, teardown),
        cmocka_unit_test_teardown(test_an_alarm_over_the_whole_history_sees_exactly_the_last_n_datapoints, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
