/* test_cost.c: unit tests of models/cost: bills computed by hand, to a millionth of a dollar, for
 * On-Demand instances (a day of ten, the 60-second minimum, rounding up to whole seconds), Reserved
 * Instances and a Savings Plan over hours where the commitment exceeds usage and where it does not,
 * spot instances interrupted inside and after their first hour (and ended by their owner), spot
 * prices that change, the load balancer's hours and capacity units with each dimension in turn the
 * largest, transfer between zones and to the internet across a tier boundary and a month boundary,
 * EBS volumes; the price catalog and purchase options read from config text, with their mistakes.
 *
 * A driver model stops the engine at chosen instants, so that a test launches and terminates
 * instances at exact times. Prices are those of configs/catalog/us-east-1.cfg, built by hand here.
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
#include "ec2.h"
#include "sim.h"
#include "spot.h"
#include "testdriver.h"
#include "testheld.h"
#include "testutil.h"

#define SEC SIM_SEC
#define MIN (60 * SIM_SEC)
#define HOUR (3600 * SIM_SEC)
#define GIB 1073741824.0
#define CENT_TOL 1e-9 /* bills are exact: far below a cent */

static const struct ec2_type m5_large = {"m5.large", "x86_64", 2, 8.0 * GIB, 0.096, 1.0};
static const struct ec2_type c5_large = {"c5.large", "x86_64", 2, 4.0 * GIB, 0.085, 1.16};

static struct cost_prices us_east_1(void)
{
    struct cost_prices p = {
        .region = "us-east-1", .date = "2026-11", .source = "unit test",
        .elb_hour = 0.0225, .lcu_hour = 0.008, .lcu_new_connections = 25, .lcu_active_connections = 3000,
        .lcu_bytes = GIB, .lcu_rule_evaluations = 1000, .lcu_free_rules = 10, .elb_cross_zone_charged = false,
        .zone_gb = 0.01, .n_tiers = 5, .ebs_gb_month = 0.08};
    const double upto[5] = {100 * GIB, 10240 * GIB, 51200 * GIB, 153600 * GIB, INFINITY};
    const double price[5] = {0, 0.09, 0.085, 0.07, 0.05};
    for (int i = 0; i < 5; i++) p.tiers[i] = (struct cost_tier){upto[i], price[i]};
    return p;
}

/* No purchase options, no volumes: the bills below are the instances' alone unless a test adds. */
static const struct cost_billing plain = {.rules = 1, .requests_per_connection = 1};

/* ---- the fixture: an engine, a driver, a ledger -------------------------------------------- */

struct fixture {
    sim *s;
    uint16_t driver;
    struct cost_prices prices;
    struct cost_billing billing;
    struct cost *c;
    struct spot_params sp_params;
    struct spot *sp;
    uint32_t next_inst;
};

static void no_spot_event(void *ctx, uint32_t inst)
{
    (void)ctx;
    (void)inst;
}

static void free_fixture(struct fixture *f)
{
    unhold(f);
    cost_destroy(f->c);
    spot_destroy(f->sp);
    if (f->s) sim_destroy(f->s);
    free(f->sp_params.pools[0].price_t);
    free(f->sp_params.pools[0].price);
    free(f);
}

/* A ledger over a run of `horizon`; has_lb: with a balancer. Set f->billing before calling start. */
static struct fixture *new_fixture(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hold(f, (cleanup_fn *)free_fixture);
    f->prices = us_east_1();
    f->billing = plain;
    /* one spot pool: m5.large at 60% off (0.0384 USD/h) unless a test gives it a price series */
    f->sp_params.n_pools = 1;
    f->sp_params.pools[0] = (struct spot_pool_params){.type = &m5_large, .zone = 0, .discount = 0.6,
                                                      .band = SPOT_BAND_LT5, .capacity = UINT32_MAX};
    return f;
}

static void start(struct fixture *f, sim_time horizon, bool has_lb)
{
    f->s = sim_create(1, 0, horizon);
    f->driver = driver_register(f->s);
    f->sp = spot_create(f->s, &f->sp_params, &(struct spot_owner){f, no_spot_event, no_spot_event, no_spot_event});
    f->c = cost_create(f->s, &f->prices, &f->billing, has_lb);
}

/* Runs the engine up to instant t (>= now); the caller then acts at exactly t. */
static void run_until(struct fixture *f, sim_time t)
{
    drive_to(f->s, f->driver, t);
}

/* Launches n instances of type t now, running at once (On-Demand, or spot when spot is true). */
static uint32_t launch(struct fixture *f, const struct ec2_type *t, unsigned n, bool spot)
{
    uint32_t first = f->next_inst;
    for (unsigned i = 0; i < n; i++) {
        cost_ec2_launched(f->c, f->next_inst);
        cost_ec2_running(f->c, f->next_inst, t, spot ? f->sp : NULL, spot ? 0 : -1);
        f->next_inst++;
    }
    return first;
}

static void terminate(struct fixture *f, uint32_t first, unsigned n, bool interrupted)
{
    for (unsigned i = 0; i < n; i++) cost_ec2_terminated(f->c, first + i, interrupted);
}

/* Runs to the horizon and closes the ledger; returns the sum of every category. */
static double close_at(struct fixture *f, sim_time horizon)
{
    run_until(f, horizon);
    cost_close(f->c);
    double total = 0;
    for (int k = 0; k < COST_N_CATEGORIES; k++) total += cost_booked(f->c, (enum cost_category)k);
    return total;
}

/* ---- On-Demand ------------------------------------------------------------------------------ */

/* 10 x 0.096 USD/h x 24 h = 23.04 USD. */
static void test_ten_m5_large_for_a_day(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, 24 * HOUR, false);
    launch(f, &m5_large, 10, false);
    run_until(f, 7 * HOUR + 13 * SEC); /* an update midway changes nothing */
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 10 * 0.096 * (7 + 13.0 / 3600), CENT_TOL);
    assert_close(close_at(f, 24 * HOUR), 23.04, CENT_TOL);
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 23.04, CENT_TOL);
    free_fixture(f);
}

/* A 30 s run is billed 60 s: 0.096 x 60 / 3600 = 0.0016 USD; 90.2 s is billed 91 s. */
static void test_minimum_minute_and_whole_seconds(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, HOUR, false);
    uint32_t a = launch(f, &m5_large, 1, false);
    run_until(f, 30 * SEC);
    terminate(f, a, 1, false);
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 0.0016, CENT_TOL);
    uint32_t b = launch(f, &m5_large, 1, false);
    run_until(f, 30 * SEC + sim_from_seconds(90.2));
    terminate(f, b, 1, false);
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 0.0016 + 0.096 * 91 / 3600, CENT_TOL);
    /* exactly 120 s is 120 s, not 121 */
    uint32_t c = launch(f, &m5_large, 1, false);
    run_until(f, 30 * SEC + sim_from_seconds(90.2) + 120 * SEC);
    terminate(f, c, 1, false);
    assert_close(close_at(f, HOUR), 0.0016 + 0.096 * (91 + 120) / 3600, CENT_TOL);
    free_fixture(f);
}

/* Still running at the end of a run 20 s after it started: it owes its first minute. */
static void test_an_instance_running_at_the_close_owes_its_minimum(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, 100 * SEC, false);
    run_until(f, 80 * SEC);
    launch(f, &c5_large, 1, false);
    assert_close(close_at(f, 100 * SEC), 0.085 * 60 / 3600, CENT_TOL);
    free_fixture(f);
}

/* A second call for the same instance (it ran again after a zone outage) starts nothing new. */
static void test_running_again_is_not_a_new_start(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, HOUR, false);
    uint32_t a = launch(f, &m5_large, 1, false);
    run_until(f, 10 * MIN);
    cost_ec2_running(f->c, a, &m5_large, NULL, -1);
    assert_close(close_at(f, HOUR), 0.096, CENT_TOL);
    free_fixture(f);
}

/* ---- commitments ------------------------------------------------------------------------------ */

/* Plan of 0.50 USD/h at 28% off: it covers up to 0.50 / 0.72 = 0.69444 USD/h of On-Demand usage.
 * Hour 1: 5 m5.large = 0.48 USD, all covered: pays 0.50. Hour 2: 10 m5.large = 0.96 USD, covered
 * 0.69444, 0.26556 at On-Demand: pays 0.76556. Two hours: 1.26556 USD. */
static void test_savings_plan_over_and_under_its_commitment(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.commitment = 0.50;
    f->billing.discount = 0.28;
    start(f, 2 * HOUR, false);
    launch(f, &m5_large, 5, false);
    run_until(f, HOUR);
    launch(f, &m5_large, 5, false);
    double total = close_at(f, 2 * HOUR);
    double reach = 0.50 / 0.72;
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 0.48 + 0.96, CENT_TOL);
    assert_close(cost_booked(f->c, COST_SAVINGS_PLAN_FEE), 1.00, CENT_TOL);
    assert_close(cost_booked(f->c, COST_COVERED), -(0.48 + reach), CENT_TOL);
    assert_close(total, 0.50 + 0.50 + 0.96 - reach, CENT_TOL);
    assert_close(total, 1.265556, 1e-6);
    free_fixture(f);
}

/* Usage changing inside an hour is covered by the hour's total, as AWS applies a plan per hour:
 * 0 instances for 30 min then 20 for 30 min is 0.96 USD of usage in the hour, 0.69444 covered. */
static void test_savings_plan_applies_per_clock_hour(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.commitment = 0.50;
    f->billing.discount = 0.28;
    start(f, HOUR, false);
    run_until(f, 30 * MIN);
    launch(f, &m5_large, 20, false);
    double total = close_at(f, HOUR);
    assert_close(total, 0.50 + 0.96 - 0.50 / 0.72, CENT_TOL);
    free_fixture(f);
}

/* 2 m5.large reserved at 0.060 USD/h, 3 running for an hour: fee 0.12, two covered (0.192), one at
 * On-Demand: 0.12 + 0.096 = 0.216. With one running the reservation is half unused: 0.12 still. */
static void test_reserved_instances_cover_their_type_first(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.n_reserved = 1;
    f->billing.reserved[0] = (struct cost_reserved){&m5_large, 2, 0.060};
    start(f, 2 * HOUR, false);
    uint32_t a = launch(f, &m5_large, 3, false);
    launch(f, &c5_large, 1, false); /* not covered: another type */
    run_until(f, HOUR);
    terminate(f, a, 2, false);
    double total = close_at(f, 2 * HOUR);
    assert_close(cost_booked(f->c, COST_RESERVED_FEE), 0.24, CENT_TOL);
    assert_close(cost_booked(f->c, COST_COVERED), -(0.192 + 0.096), CENT_TOL);
    assert_close(total, (0.12 + 0.096) + 0.12 + 2 * 0.085, CENT_TOL);
    free_fixture(f);
}

/* ---- spot --------------------------------------------------------------------------------------- */

/* Pool price 0.096 x 0.4 = 0.0384 USD/h. Interrupted by AWS after 40 min: nothing. Ended by its owner
 * after 40 min: 0.0256. Interrupted after 90 min: 0.0576. */
static void test_spot_first_hour_interruption_is_free(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, 3 * HOUR, false);
    uint32_t a = launch(f, &m5_large, 1, true), b = launch(f, &m5_large, 1, true), c = launch(f, &m5_large, 1, true);
    run_until(f, 40 * MIN);
    terminate(f, a, 1, true);
    terminate(f, b, 1, false);
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_EC2_SPOT), 0.0256, CENT_TOL);
    run_until(f, 90 * MIN);
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_EC2_SPOT), 0.0256 + 0.0576, CENT_TOL); /* its first hour is booked */
    terminate(f, c, 1, true);
    assert_close(close_at(f, 3 * HOUR), 0.0256 + 0.0576, CENT_TOL);
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 0, 0);
    free_fixture(f);
}

/* Prices 0.03 USD/h until 30 min, 0.06 after; an instance from 10 min to 130 min, ended by its owner:
 * 20 min x 0.03 + 100 min x 0.06 = 0.01 + 0.10 = 0.11. Spot usage is never covered by a plan. */
static void test_spot_follows_its_price_series(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    struct spot_pool_params *pp = &f->sp_params.pools[0];
    pp->n_prices = 2;
    pp->price_t = malloc(2 * sizeof *pp->price_t);
    pp->price = malloc(2 * sizeof *pp->price);
    assert_non_null(pp->price_t);
    assert_non_null(pp->price);
    pp->price_t[0] = 0;
    pp->price_t[1] = 1800;
    pp->price[0] = 0.03;
    pp->price[1] = 0.06;
    f->billing.commitment = 1.0;
    f->billing.discount = 0.5;
    start(f, 3 * HOUR, false);
    run_until(f, 10 * MIN);
    uint32_t a = launch(f, &m5_large, 1, true);
    run_until(f, 130 * MIN);
    terminate(f, a, 1, false);
    close_at(f, 3 * HOUR);
    assert_close(cost_booked(f->c, COST_EC2_SPOT), 0.11, CENT_TOL);
    assert_close(cost_booked(f->c, COST_COVERED), 0, 0);
    free_fixture(f);
}

/* ---- the load balancer ----------------------------------------------------------------------- */

/* One LCU is 25 new connections/s, 3,000 active connections, 1 GiB/h, 1,000 rule evaluations/s. */
static void test_lcu_takes_the_largest_dimension(void **state)
{
    (void)state;
    struct cost_prices p = us_east_1();
    assert_close(cost_lcu(&p, 50, 300, 0.5 * GIB, 100), 2.0, 1e-12);    /* new connections */
    assert_close(cost_lcu(&p, 5, 9000, 0.5 * GIB, 100), 3.0, 1e-12);    /* active connections */
    assert_close(cost_lcu(&p, 5, 300, 4.0 * GIB, 100), 4.0, 1e-12);     /* bytes */
    assert_close(cost_lcu(&p, 5, 300, 0.5 * GIB, 5000), 5.0, 1e-12);    /* rule evaluations */
    assert_close(cost_lcu(&p, 0, 0, 0, 0), 0.0, 0);
}

/* An hour with 180,000 requests (50/s, 2 LCU of new connections) of 10 KiB each (1.72 GiB: 1.72 LCU),
 * each at the balancer for 0.1 s (5 active: 0.0017 LCU), 12 rules (2 beyond the free 10: 100
 * evaluations/s, 0.1 LCU): 0.0225 + 2 x 0.008 = 0.0385 USD. */
static void test_balancer_hour_with_new_connections_largest(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.rules = 12;
    start(f, HOUR, true);
    for (int i = 0; i < 180000; i++) {
        cost_lb_request(f->c, 10240);
        cost_lb_finished(f->c, 0.1);
    }
    close_at(f, HOUR);
    assert_close(cost_booked(f->c, COST_ELB_HOURS), 0.0225, CENT_TOL);
    assert_close(cost_booked(f->c, COST_ELB_LCU), 2 * 0.008, CENT_TOL);
    free_fixture(f);
}

/* Hour 1: 2 requests of 1.5 GiB, so 3 GiB/h: 3 LCU of bytes. Hour 2: 3,600,000 requests with 30 rules,
 * 20 beyond the free 10: 20,000 evaluations/s, 20 LCU of rules (clients keep connections alive, so new
 * connections count for nothing). A third, partial hour is a full balancer-hour. */
static void test_balancer_bytes_then_rules_and_partial_hour(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.rules = 30;
    f->billing.requests_per_connection = 1e6; /* keep-alive: new connections negligible */
    start(f, 2 * HOUR + 30 * MIN, true);
    cost_lb_request(f->c, (uint32_t)(3.0 * GIB / 2));
    cost_lb_request(f->c, (uint32_t)(3.0 * GIB / 2));
    run_until(f, HOUR + SEC);
    cost_update(f->c);
    /* bytes 3 GiB/h: 3 LCU; rules 2 requests x 20 / 3600 s: tiny */
    assert_close(cost_booked(f->c, COST_ELB_LCU), 3 * 0.008, CENT_TOL);
    for (int i = 0; i < 3600000; i++) cost_lb_request(f->c, 0);
    run_until(f, 2 * HOUR);
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_ELB_LCU), 3 * 0.008 + 20 * 0.008, CENT_TOL);
    close_at(f, 2 * HOUR + 30 * MIN);
    assert_close(cost_booked(f->c, COST_ELB_HOURS), 3 * 0.0225, CENT_TOL);
    free_fixture(f);
}

/* 12 requests of 900,000 s each: 10,800,000 connection-seconds in an hour, 3,000 active on average:
 * 1 LCU. */
static void test_balancer_active_connections_largest(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.requests_per_connection = 1e6;
    start(f, HOUR, true);
    for (int i = 0; i < 12; i++) cost_lb_finished(f->c, 900000.0);
    close_at(f, HOUR);
    assert_close(cost_booked(f->c, COST_ELB_LCU), 0.008, CENT_TOL);
    free_fixture(f);
}

/* ---- transfer, volumes ------------------------------------------------------------------------ */

/* The month's first 100 GiB are free, then 0.09 to 10 TiB, then 0.085. */
static void test_internet_tiers(void **state)
{
    (void)state;
    struct cost_prices p = us_east_1();
    assert_close(cost_internet_price(&p, 0, 100 * GIB), 0, 0);
    assert_close(cost_internet_price(&p, 0, 150 * GIB), 50 * 0.09, CENT_TOL);
    assert_close(cost_internet_price(&p, 10200 * GIB, 100 * GIB), 40 * 0.09 + 60 * 0.085, CENT_TOL);
    assert_close(cost_internet_price(&p, 200000 * GIB, GIB), 0.05, CENT_TOL);
}

/* 60 GiB then 90 GiB in one month: the second batch crosses the free 100 GiB (50 GiB at 0.09 = 4.50).
 * The next month starts again from zero: 90 GiB free. */
static void test_internet_transfer_across_a_tier_and_a_month(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, 800 * HOUR, false);
    run_until(f, 10 * HOUR);
    cost_internet_bytes(f->c, (uint64_t)(60 * GIB));
    run_until(f, 700 * HOUR);
    cost_internet_bytes(f->c, (uint64_t)(90 * GIB));
    cost_update(f->c);
    assert_close(cost_booked(f->c, COST_TRANSFER_INTERNET), 4.50, CENT_TOL);
    run_until(f, 731 * HOUR); /* a month is 730 hours */
    cost_internet_bytes(f->c, (uint64_t)(90 * GIB));
    close_at(f, 800 * HOUR);
    assert_close(cost_booked(f->c, COST_TRANSFER_INTERNET), 4.50, CENT_TOL);
    free_fixture(f);
}

/* Between zones: 10 GiB is charged 0.01 on each side, 0.20 USD, when the balancer's cross-zone traffic
 * is charged (an NLB); nothing for an ALB. */
static void test_zone_transfer_both_sides(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->prices.elb_cross_zone_charged = true;
    start(f, HOUR, false);
    cost_lb_cross_zone(f->c, (uint64_t)(10 * GIB));
    close_at(f, HOUR);
    assert_close(cost_booked(f->c, COST_TRANSFER_ZONES), 0.20, CENT_TOL);
    free_fixture(f);

    f = new_fixture();
    start(f, HOUR, false);
    cost_lb_cross_zone(f->c, (uint64_t)(10 * GIB));
    assert_close(close_at(f, HOUR), 0, 0);
    free_fixture(f);
}

/* 8 GiB at 0.08 USD per GiB-month: 0.64 USD a 730-hour month; one instance for 73 h: 0.064. The volume
 * exists from launch (before the instance runs) to termination. */
static void test_ebs_volume_from_launch_to_termination(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    f->billing.volume_bytes = 8 * GIB;
    start(f, 100 * HOUR, false);
    cost_ec2_launched(f->c, 0);
    run_until(f, HOUR);
    cost_ec2_running(f->c, 0, &m5_large, NULL, -1);
    run_until(f, 73 * HOUR);
    cost_ec2_terminated(f->c, 0, false);
    close_at(f, 100 * HOUR);
    assert_close(cost_booked(f->c, COST_EBS), 0.064, CENT_TOL);
    assert_close(cost_booked(f->c, COST_EC2_ON_DEMAND), 72 * 0.096, CENT_TOL);
    free_fixture(f);
}

/* Nothing is booked after the close, and updates do not change what was booked. */
static void test_close_is_final(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    start(f, HOUR, true);
    uint32_t a = launch(f, &m5_large, 1, false);
    double total = close_at(f, HOUR);
    cost_ec2_terminated(f->c, a, false);
    cost_lb_request(f->c, 1000);
    cost_internet_bytes(f->c, 1000000000000ull);
    cost_update(f->c);
    cost_close(f->c);
    double again = 0;
    for (int k = 0; k < COST_N_CATEGORIES; k++) again += cost_booked(f->c, (enum cost_category)k);
    assert_close(again, total, 0);
    assert_close(total, 0.096 + 0.0225, CENT_TOL);
    free_fixture(f);
}

/* ---- configuration ---------------------------------------------------------------------------- */

#define PRICES                                                                                      \
    "prices: { region = \"r\"; date = \"d\"; source = \"s\";\n"                                      \
    "  elb: { hour = \"$0.0225\"; lcu_hour = \"$0.008\"; lcu_new_connections_per_s = 25.0;\n"        \
    "         lcu_active_connections = 3000.0; lcu_bytes_per_hour = \"1GiB\";\n"                     \
    "         lcu_rule_evaluations_per_s = 1000.0; lcu_free_rules = 10; cross_zone_charged = false; };\n" \
    "  transfer: { zone_per_gib = \"$0.01\";\n"                                                      \
    "    internet = ( { upto = \"100GiB\"; per_gib = \"$0\"; }, { per_gib = \"$0.09\"; } ); };\n"     \
    "  ebs: { gib_month = \"$0.08\"; };\n"                                                           \
    "};\n"

static void test_prices_parse(void **state)
{
    (void)state;
    struct diag d;
    assert_int_equal(diag_open(&d), 0);
    conf *c = load_or_fail(PRICES, "p.cfg", &d);
    struct cost_prices p;
    assert_true(cost_prices_parse(c, true, &p));
    assert_int_equal(conf_check_unused(c), 0);
    assert_close(p.elb_hour, 0.0225, 0);
    assert_close(p.lcu_bytes, GIB, 0);
    assert_int_equal(p.n_tiers, 2);
    assert_close(p.tiers[0].upto, 100 * GIB, 0);
    assert_true(isinf(p.tiers[1].upto));
    assert_close(p.tiers[1].usd_per_gb, 0.09, 0);
    conf_free(c);
    diag_close(&d);
}

static void test_prices_mistakes(void **state)
{
    (void)state;
    struct diag d;
    assert_int_equal(diag_open(&d), 0);
    conf *c = load_or_fail("prices: { region = \"r\"; date = \"d\"; source = \"s\";\n"
                           "  elb: { hour = \"$-1\"; lcu_hour = \"$0.008\"; lcu_new_connections_per_s = 25.0;\n"
                           "         lcu_active_connections = 3000.0; lcu_bytes_per_hour = \"1GiB\";\n"
                           "         lcu_rule_evaluations_per_s = 1000.0; lcu_free_rules = 10; cross_zone_charged = false; };\n"
                           "  transfer: { zone_per_gib = \"$0.01\";\n"
                           "    internet = ( { upto = \"100GiB\"; per_gib = \"$0\"; }, { upto = \"50GiB\"; per_gib = \"$0.09\"; },\n"
                           "                 { upto = \"1TiB\"; per_gib = \"$0.05\"; } ); };\n"
                           "  ebs: { gib_month = \"$0.08\"; };\n"
                           "};\n",
                           "p.cfg", &d);
    struct cost_prices p;
    assert_false(cost_prices_parse(c, true, &p));
    const char *text = diag_text(&d);
    assert_non_null(strstr(text, "p.cfg:2: prices.elb.hour:"));
    assert_non_null(strstr(text, "p.cfg:6: prices.transfer.internet.[1].upto: tiers must go up"));
    assert_non_null(strstr(text, "p.cfg:7: prices.transfer.internet.[2].upto: the last tier has no upper bound"));
    conf_free(c);
    diag_close(&d);
}

static void test_billing_parse_and_mistakes(void **state)
{
    (void)state;
    struct ec2_type types[1] = {m5_large};
    struct ec2_catalog cat = {"r", "d", "s", 1, types};
    struct diag d;
    assert_int_equal(diag_open(&d), 0);
    conf *c = load_or_fail("billing: { savings_plan = { commitment = \"$1.50\"; discount = 0.28; };\n"
                           "  reserved = ( { type = \"m5.large\"; count = 2; rate = \"$0.06\"; } );\n"
                           "  volume = \"20GiB\"; rules = 3; requests_per_connection = 10.0; };\n",
                           "b.cfg", &d);
    struct cost_billing b;
    assert_true(cost_billing_parse(c, conf_group(c, conf_root(c), "billing", true), &cat, &b));
    assert_int_equal(conf_check_unused(c), 0);
    assert_close(b.commitment, 1.5, 0);
    assert_close(b.discount, 0.28, 0);
    assert_int_equal(b.n_reserved, 1);
    assert_ptr_equal(b.reserved[0].type, &types[0]);
    assert_int_equal(b.reserved[0].count, 2);
    assert_close(b.volume_bytes, 20 * GIB, 0);
    assert_int_equal(b.rules, 3);
    conf_free(c);
    diag_close(&d);

    assert_int_equal(diag_open(&d), 0);
    c = load_or_fail("billing: { savings_plan = { commitment = \"$1.50\"; };\n"
                     "  reserved = ( { type = \"m5.large\"; count = 2; rate = \"$-0.06\"; },\n"
                     "               { type = \"m5.large\"; count = 1; rate = \"$0.06\"; } ); };\n",
                     "b.cfg", &d);
    assert_false(cost_billing_parse(c, conf_group(c, conf_root(c), "billing", true), &cat, &b));
    const char *text = diag_text(&d);
    assert_non_null(strstr(text, "b.cfg:1: billing.savings_plan.discount: missing required setting"));
    assert_non_null(strstr(text, "b.cfg:2: billing.reserved.[0].rate:"));
    assert_non_null(strstr(text, "b.cfg:3: billing.reserved.[1].type: m5.large is already reserved above"));
    conf_free(c);
    diag_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ten_m5_large_for_a_day, teardown),
        cmocka_unit_test_teardown(test_minimum_minute_and_whole_seconds, teardown),
        cmocka_unit_test_teardown(test_an_instance_running_at_the_close_owes_its_minimum, teardown),
        cmocka_unit_test_teardown(test_running_again_is_not_a_new_start, teardown),
        cmocka_unit_test_teardown(test_savings_plan_over_and_under_its_commitment, teardown),
        cmocka_unit_test_teardown(test_savings_plan_applies_per_clock_hour, teardown),
        cmocka_unit_test_teardown(test_reserved_instances_cover_their_type_first, teardown),
        cmocka_unit_test_teardown(test_spot_first_hour_interruption_is_free, teardown),
        cmocka_unit_test_teardown(test_spot_follows_its_price_series, teardown),
        cmocka_unit_test(test_lcu_takes_the_largest_dimension),
        cmocka_unit_test_teardown(test_balancer_hour_with_new_connections_largest, teardown),
        cmocka_unit_test_teardown(test_balancer_bytes_then_rules_and_partial_hour, teardown),
        cmocka_unit_test_teardown(test_balancer_active_connections_largest, teardown),
        cmocka_unit_test(test_internet_tiers),
        cmocka_unit_test_teardown(test_internet_transfer_across_a_tier_and_a_month, teardown),
        cmocka_unit_test_teardown(test_zone_transfer_both_sides, teardown),
        cmocka_unit_test_teardown(test_ebs_volume_from_launch_to_termination, teardown),
        cmocka_unit_test_teardown(test_close_is_final, teardown),
        cmocka_unit_test(test_prices_parse),
        cmocka_unit_test(test_prices_mistakes),
        cmocka_unit_test(test_billing_parse_and_mistakes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
