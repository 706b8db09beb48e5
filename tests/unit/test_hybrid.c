/* test_hybrid.c: unit tests of models/hybrid: the overflow rule (a request stays on-premises when the
 * least loaded server would start it at once or queue it behind fewer than `waiting` others), that
 * requests return on-premises once it has room, that both halves report into one metrics collector
 * (requests held, cores) and book into one ledger, and the diagnostics of a malformed hybrid.
 *
 * The on-premises half is one server of 2 cores; the overflow goes to a Lambda function (no instance
 * catalog needed). A driver model stops the engine at chosen instants; requests are submitted by hand.
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
#include "hybrid.h"
#include "metrics.h"
#include "prices.h"
#include "sim.h"
#include "testdriver.h"
#include "testheld.h"
#include "testutil.h"
#include "workload.h"

#define SEC SIM_SEC

static const char tco[] =
    "tco: { server_price = \"$8000\"; amortisation_months = 36.0; cost_of_money = 0.05; idle_watts = 175.0;"
    " peak_watts = 300.0; pue = 1.5; kwh_price = \"$0.10\"; kw_month = \"$150\"; network_month = \"$25\";"
    " servers_per_admin = 30.0; admin_year = \"$150000\"; };";

struct fixture {
    struct diag d;
    conf *c;
    struct workload_params w;
    struct hybrid_params p;
    struct cost_prices prices;
    bool parsed;
    sim *s;
    uint16_t driver;
    struct metrics *m;
    struct cost *cost;
    struct hybrid *h;
    uint64_t next_id;
};

static int ignore_row(void *ctx, const struct metrics_row *row)
{
    (void)ctx;
    (void)row;
    return 0;
}

static void free_fixture(struct fixture *f)
{
    unhold(f);
    hybrid_destroy(f->h);
    cost_destroy(f->cost);
    metrics_destroy(f->m);
    if (f->s) sim_destroy(f->s);
    if (f->parsed) hybrid_params_free(&f->p);
    workload_params_free(&f->w);
    conf_free(f->c);
    diag_close(&f->d);
    free(f);
}

/* Parses a study text holding TEST_PRICES, a `workload` and a `design` group (a hybrid's body). */
static struct fixture *parse(const char *design, bool expect_ok)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hold(f, (cleanup_fn *)free_fixture);
    assert_int_equal(diag_open(&f->d), 0);
    char text[4096];
    snprintf(text, sizeof text,
             "%s\n"
             "workload: { arrivals: { mean_rps = 1.0; };\n"
             "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"1s\"; }; } ); };\n"
             "design: { %s };\n",
             TEST_PRICES, design);
    f->c = load_or_fail(text, "h.cfg", &f->d);
    assert_true(workload_parse(f->c, conf_group(f->c, conf_root(f->c), "workload", true), &f->w));
    assert_true(cost_prices_parse(f->c, true, &f->prices));
    bool ok = hybrid_parse(f->c, conf_group(f->c, conf_root(f->c), "design", true), NULL, &f->w, &f->p);
    f->parsed = true;
    if (expect_ok && !ok) {
        print_error("hybrid_parse failed:\n%s\n", diag_text(&f->d));
        fail();
    }
    return f;
}

static void start(struct fixture *f, sim_time horizon)
{
    f->s = sim_create(1, 0, horizon);
    f->driver = driver_register(f->s);
    f->m = metrics_create(f->s, &(struct metrics_params){.interval = horizon, .warmup = 0}, ignore_row, NULL);
    f->cost = cost_create(f->s, &f->prices, &f->p.lambda.billing, true);
    metrics_attach_cost(f->m, f->cost);
    f->h = hybrid_create(f->s, &f->p, f->m, f->cost);
}

static void run_until(struct fixture *f, sim_time t)
{
    drive_to(f->s, f->driver, t);
}

/* A request of `demand` CPU seconds, now. */
static void submit(struct fixture *f, double demand)
{
    struct request r = {.id = f->next_id++, .arrival = sim_now(f->s), .demand = demand};
    hybrid_submit(f->h, &r);
}

static char *design_text(unsigned waiting)
{
    static char buf[2048];
    snprintf(buf, sizeof buf,
             "onprem: { servers = 1; server: { cores = 2; }; %s };\n"
             "overflow: { waiting = %u; };\n"
             "serverless: { functions = ( { name = \"f\"; memory_mb = 1769; timeout = \"900s\";\n"
             "  cold_start = { dist = \"deterministic\"; value = \"0s\"; }; } ); };",
             tco, waiting);
    return buf;
}

/* waiting = 0: the server's 2 free cores take the first two requests; the third overflows. Once a
 * core is free again (at 10 s), the next request stays on-premises. */
static void test_overflow_when_no_core_is_free(void **state)
{
    (void)state;
    struct fixture *f = parse(design_text(0), true);
    start(f, 3600 * SEC);
    run_until(f, SEC);
    submit(f, 9.0);  /* ends at 10 s */
    submit(f, 20.0); /* ends at 21 s */
    submit(f, 5.0);
    assert_int_equal(hybrid_sent_onprem(f->h), 2);
    assert_int_equal(hybrid_sent_cloud(f->h), 1);
    run_until(f, 11 * SEC);
    submit(f, 1.0);
    assert_int_equal(hybrid_sent_onprem(f->h), 3);
    assert_int_equal(hybrid_sent_cloud(f->h), 1);
    free_fixture(f);
}

/* waiting = 2: two start, two more queue on-premises, the fifth overflows. */
static void test_overflow_past_the_backlog(void **state)
{
    (void)state;
    struct fixture *f = parse(design_text(2), true);
    start(f, 3600 * SEC);
    run_until(f, SEC);
    for (int i = 0; i < 5; i++) submit(f, 100.0);
    assert_int_equal(hybrid_sent_onprem(f->h), 4);
    assert_int_equal(hybrid_sent_cloud(f->h), 1);
    free_fixture(f);
}

/* Both halves in one collector and one ledger: at 1 s, 2 requests on-premises and 1 in Lambda are held;
 * the run ends with every request answered, the server's TCO lines and Lambda's bill both booked. */
static void test_both_halves_report_and_book_together(void **state)
{
    (void)state;
    struct fixture *f = parse(design_text(0), true);
    start(f, 3600 * SEC);
    run_until(f, SEC);
    submit(f, 2.0);
    submit(f, 2.0);
    submit(f, 2.0);
    run_until(f, 3600 * SEC);
    const struct metrics_totals *t = metrics_totals(f->m);
    assert_int_equal(t->arrivals, 3);
    assert_int_equal(t->successes, 3);
    cost_close(f->cost);
    assert_true(cost_booked(f->cost, COST_ONPREM_HARDWARE) > 0);
    assert_true(cost_booked(f->cost, COST_ONPREM_POWER) > 0);
    /* one invocation of 2 s on 1769 MB: 1769/1024 x 2 GB-s at the x86 rate, $0.20 per million requests */
    assert_close(cost_booked(f->cost, COST_LAMBDA_DURATION), 1769.0 / 1024.0 * 2.0 * 0.0000166667, 1e-12);
    assert_close(cost_booked(f->cost, COST_LAMBDA_REQUESTS), 0.2e-6, 1e-15);
    /* busy core-seconds of both halves: 4 on-premises, 2 in the Lambda environment */
    assert_close(t->busy_core_seconds, 6.0, 1e-9);
    free_fixture(f);
}

static void test_diagnostics(void **state)
{
    (void)state;
    struct fixture *f = parse("onprem: { servers = 1; };", false);
    assert_diag_contains(&f->d, "h.cfg:");
    assert_diag_contains(&f->d, "design.cloud: a hybrid design needs both halves");
    assert_diag_contains(&f->d, "design.onprem.tco: the on-premises half of a hybrid needs its cost of ownership");
    free_fixture(f);

    char text[2048];
    snprintf(text, sizeof text,
             "onprem: { servers = 1; dispatch = \"round_robin\"; %s };\n"
             "serverless: { functions = ( { name = \"f\"; } ); };\n"
             "cloud: { fleet = ( { type = \"m5.large\"; count = 1; } ); };",
             tco);
    f = parse(text, false);
    assert_diag_contains(&f->d, "design.onprem.dispatch: a hybrid's front door sends each request to the least loaded");
    assert_diag_contains(&f->d, "design.serverless: give the overflow one place");
    free_fixture(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_overflow_when_no_core_is_free, teardown),
        cmocka_unit_test_teardown(test_overflow_past_the_backlog, teardown),
        cmocka_unit_test_teardown(test_both_halves_report_and_book_together, teardown),
        cmocka_unit_test_teardown(test_diagnostics, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
