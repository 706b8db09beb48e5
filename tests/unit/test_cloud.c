/* test_cloud.c: unit tests of models/cloud, the whole design: parsing a cloud design through
 * study_parse (with an ec2_catalog defined inline, no @include), the fleet spread over zones, an
 * in-service start and a launch at time 0, a zone outage (instances unreachable, the balancer's
 * detection, errors only in the detection window, recovery), a hardware failure, and the events and
 * series that metrics receives.
 *
 * Boot and failure times are deterministic, so instance transitions happen at exact instants; the
 * balancer's detection is bounded by its documented window (35-65 s with the defaults). The engine's
 * own end-of-run checks (request conservation through the balancer and the servers, instance
 * conservation by state) run in every test, since every test runs to its horizon.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cloud.h"
#include "conf.h"
#include "ec2.h"
#include "elb.h"
#include "metrics.h"
#include "prices.h"
#include "sim.h"
#include "study.h"
#include "testheld.h"
#include "testutil.h"
#include "workload.h"

#define SEC SIM_SEC

/* ---- resources a test holds: released by the teardown even when an assertion fails midway ------ */


static const char catalog[] =
    "ec2_catalog: { region = \"us-east-1\"; prices_date = \"2026-11\"; source = \"unit test\";\n"
    "  types = ( { name = \"c6i.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.0; },\n"
    "            { name = \"m5.xlarge\"; arch = \"x86_64\"; vcpu = 4; memory = \"16GiB\"; price = \"$0.192\"; speed = 1.0; } ); };" TEST_PRICES "\n";

/* A study of one cloud design: `design` is the body of the design group after name and kind. */
static char *study_text(const char *horizon, double rps, const char *design)
{
    size_t n = strlen(catalog) + strlen(design) + 2048;
    char *text = malloc(n);
    assert_non_null(text);
    hold(text, free); /* released by the teardown */
    snprintf(text, n,
             "%s"
             "study: { name = \"cloud-test\"; horizon = \"%s\"; report_interval = \"10s\"; seed = 9; };\n"
             "workload: {\n"
             "  arrivals: { mean_rps = %g; };\n"
             "  classes = ( { name = \"api\"; cpu = { dist = \"exponential\"; mean = \"20ms\"; };\n"
             "                response_bytes = { dist = \"deterministic\"; value = \"1000B\"; }; } );\n"
             "};\n"
             "designs = ( { name = \"d\"; kind = \"cloud\";\n%s } );\n",
             catalog, horizon, rps, design);
    return text;
}

struct run {
    struct diag d;
    conf *c;
    struct study_params p;
    bool parsed;
    sim *s;
    struct metrics *m;
    struct cloud *cl;
    struct workload *w;
    size_t n_rows, cap_rows;
    struct metrics_row *rows;
    size_t n_ev;
    struct metrics_event ev[20000];
};

static int on_row(void *ctx, const struct metrics_row *row)
{
    struct run *r = ctx;
    if (r->n_rows == r->cap_rows) {
        r->cap_rows = r->cap_rows ? 2 * r->cap_rows : 256;
        r->rows = realloc(r->rows, r->cap_rows * sizeof *r->rows);
        if (!r->rows) return -1;
    }
    r->rows[r->n_rows++] = *row;
    return 0;
}

static int on_event(void *ctx, const struct metrics_event *ev)
{
    struct run *r = ctx;
    if (r->n_ev == sizeof r->ev / sizeof r->ev[0]) return -1;
    r->ev[r->n_ev++] = *ev;
    return 0;
}

static void free_run(struct run *r);

static struct run *parse_study(const char *text)
{
    struct run *r = calloc(1, sizeof *r);
    assert_non_null(r);
    hold(r, (cleanup_fn *)free_run);
    assert_int_equal(diag_open(&r->d), 0);
    r->c = load_or_fail(text, "cloud.cfg", &r->d);
    r->parsed = study_parse(r->c, NULL, &r->p);
    return r;
}

/* Builds and runs replication 0 of design 0. */
static void run(struct run *r)
{
    if (!r->parsed) {
        print_error("study_parse failed:\n%s\n", diag_text(&r->d));
        fail();
    }
    assert_int_equal(r->p.designs[0].kind, DESIGN_CLOUD);
    r->s = sim_create(r->p.seed, 0, r->p.horizon);
    r->m = metrics_create(r->s, &(struct metrics_params){.interval = r->p.interval, .warmup = r->p.warmup}, on_row, r);
    metrics_set_event_sink(r->m, on_event, r);
    r->cl = cloud_create(r->s, &r->p.designs[0].u.cloud, r->m, NULL);
    r->w = workload_create(r->s, &r->p.workload, cloud_submit, r->cl);
    assert_int_equal(sim_run(r->s), SIM_END_HORIZON);
    assert_int_equal(metrics_status(r->m), 0);
}

static void free_run(struct run *r)
{
    unhold(r);
    workload_destroy(r->w);
    cloud_destroy(r->cl);
    metrics_destroy(r->m);
    if (r->s) sim_destroy(r->s);
    study_params_free(&r->p); /* also after a failed parse, as strato does */
    conf_free(r->c);
    if (r->d.f) diag_close(&r->d);
    free(r->rows);
    free(r);
}

/* Events of one kind (and instance or target id, -1 for any), in order. */
static size_t events(const struct run *r, enum metrics_event_kind kind, int64_t id, double *t_s, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_ev; i++)
        if (r->ev[i].kind == (int32_t)kind && (id < 0 || r->ev[i].id == id)) {
            if (k < max) t_s[k] = r->ev[i].t_s;
            k++;
        }
    return k;
}

/* ---- parsing ----------------------------------------------------------------------------------- */

static void test_a_cloud_design_reads_region_instances_balancer_and_fleet(void **state)
{
    (void)state;
    char *text = study_text("1h", 10,
                            "region: { azs = 2; inter_az_rtt = \"2ms\"; outages = ( { az = 1; at = \"10m\"; duration = \"5m\"; } ); };\n"
                            "instances: { boot = { dist = \"deterministic\"; value = \"30s\"; }; queue_limit = 50; };\n"
                            "lb: { algorithm = \"random\"; cross_zone = false; health_check: { interval = \"10s\"; timeout = \"2s\"; }; };\n"
                            "start = \"launch\";\n"
                            "fleet = ( { type = \"m5.xlarge\"; count = 3; }, { type = \"c6i.large\"; count = 2; az = 1; } );\n");
    struct run *r = parse_study(text);
    assert_true(r->parsed);
    assert_string_equal(diag_text(&r->d), "");
    const struct cloud_params *cp = &r->p.designs[0].u.cloud;
    assert_int_equal(cp->region.n, 2);
    assert_int_equal(cp->region.inter_rtt, 2 * SIM_MS);
    assert_int_equal(cp->region.n_outages, 1);
    assert_int_equal(cp->region.outages[0].at, 600 * SEC);
    assert_int_equal(cp->instances.queue_limit, 50);
    assert_close(dist_mean(&cp->instances.boot), 30, 0);
    assert_int_equal(cp->lb.algorithm, ELB_RANDOM);
    assert_false(cp->lb.cross_zone);
    assert_int_equal(cp->lb.interval, 10 * SEC);
    assert_true(cp->launch_at_start);
    assert_int_equal(cp->n_groups, 2);
    assert_string_equal(cp->groups[0].type->name, "m5.xlarge");
    assert_int_equal(cp->groups[0].count, 3);
    assert_int_equal(cp->groups[0].zone, -1);
    assert_ptr_equal(cp->groups[1].type, &r->p.catalog.types[0]);
    assert_int_equal(cp->groups[1].zone, 1);
    free_run(r);
}

static void test_an_unknown_instance_type_in_a_fleet_is_reported_with_the_nearest_name(void **state)
{
    (void)state;
    char *text = study_text("1h", 10, "fleet = ( { type = \"c6i.larg\"; count = 2; } );\n");
    struct run *r = parse_study(text);
    assert_false(r->parsed);
    assert_string_equal(diag_text(&r->d), "cloud.cfg:11: designs.[0].fleet.[0].type: must be one of \"c6i.large\", "
                                          "\"m5.xlarge\"; got \"c6i.larg\"; did you mean \"c6i.large\"?\n");
    free_run(r);
}

static void test_a_fleet_without_a_catalog_gets_the_include_hint(void **state)
{
    (void)state;
    struct run *r = parse_study("study: { horizon = \"1h\"; };\n"
                                "workload: { arrivals: { mean_rps = 1.0; };\n"
                                "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"20ms\"; }; } ); };\n"
                                "designs = ( { name = \"d\"; kind = \"cloud\"; fleet = ( { type = \"c6i.large\"; count = 1; } ); } );\n");
    assert_false(r->parsed);
    assert_diag_contains(&r->d, "cloud.cfg:4: designs.[0].fleet.[0].type: no instance types are known");
    assert_diag_contains(&r->d, "@include \"");
    assert_diag_contains(&r->d, "us-east-1.cfg\"");
    assert_int_equal(conf_errors(r->c), 1);
    free_run(r);
}

static void test_a_fleet_zone_outside_the_region_is_rejected(void **state)
{
    (void)state;
    char *text = study_text("1h", 10, "region: { azs = 2; };\nfleet = ( { type = \"c6i.large\"; count = 2; az = 2; } );\n");
    struct run *r = parse_study(text);
    assert_false(r->parsed);
    assert_string_equal(diag_text(&r->d), "cloud.cfg:12: designs.[0].fleet.[0].az: must be in [0, 1], got 2\n");
    free_run(r);
}

static void test_health_check_thresholds_outside_aws_ranges_are_rejected_in_a_design(void **state)
{
    (void)state;
    char *text = study_text("1h", 10,
                            "lb: { health_check: { interval = \"400s\"; timeout = \"1s\"; healthy_threshold = 11; }; };\n"
                            "fleet = ( { type = \"c6i.large\"; count = 2; } );\n");
    struct run *r = parse_study(text);
    assert_false(r->parsed);
    assert_string_equal(diag_text(&r->d),
                        "cloud.cfg:11: designs.[0].lb.health_check.interval: must be in [5s, 300s], got \"400s\"\n"
                        "cloud.cfg:11: designs.[0].lb.health_check.timeout: must be in [2s, 120s], got \"1s\"\n"
                        "cloud.cfg:11: designs.[0].lb.health_check.healthy_threshold: must be in [2, 10], got 11\n");
    free_run(r);
}

/* ---- running ----------------------------------------------------------------------------------- */

static void test_an_in_service_fleet_is_spread_over_the_zones_and_serves_without_errors(void **state)
{
    (void)state;
    char *text = study_text("10m", 50,
                            "fleet = ( { type = \"c6i.large\"; count = 5; }, { type = \"m5.xlarge\"; count = 2; az = 2; } );\n");
    struct run *r = parse_study(text);
    run(r);
    struct ec2 *e = cloud_ec2(r->cl);
    assert_int_equal(ec2_count(e), 7);
    static const unsigned zone[7] = {0, 1, 2, 0, 1, 2, 2};
    for (uint32_t i = 0; i < 7; i++) {
        assert_int_equal(ec2_zone(e, i), zone[i]);
        assert_int_equal(ec2_state(e, i), EC2_RUNNING);
        assert_true(elb_registered(cloud_elb(r->cl), i));
        for (unsigned n = 0; n < 3; n++) assert_int_equal(elb_health(cloud_elb(r->cl), n, i), ELB_HEALTHY);
    }
    assert_string_equal(ec2_type_of(e, 6)->name, "m5.xlarge");
    uint64_t arrivals = 0, successes = 0, errors = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        arrivals += r->rows[i].arrivals;
        successes += r->rows[i].successes;
        errors += r->rows[i].errors;
        assert_close(r->rows[i].instances[1], 7, 0);
        assert_close(r->rows[i].instances[0], 0, 0);
        assert_close(r->rows[i].healthy_targets[0], 2, 0);
        assert_close(r->rows[i].healthy_targets[1], 2, 0);
        assert_close(r->rows[i].healthy_targets[2], 3, 0);
    }
    assert_int_equal(errors, 0);
    assert_in_range(arrivals, 30000 - 800, 30000 + 800);
    assert_true(successes + 20 >= arrivals);
    /* every instance's start is an event: running from nothing */
    double t[8];
    assert_int_equal(events(r, METRICS_EV_INSTANCE_RUNNING, -1, t, 8), 7);
    for (int i = 0; i < 7; i++) assert_close(t[i], 0, 0);
    /* cross-zone on: about 2/3 of the responses cross zones, 1000 bytes each */
    uint64_t bytes = 0;
    for (size_t i = 0; i < r->n_rows; i++) bytes += r->rows[i].cross_zone_bytes;
    assert_true(bytes % 1000 == 0);
    assert_in_range(bytes / 1000, successes / 2, successes * 5 / 6);
    free_run(r);
}

static void test_a_fleet_launched_at_start_boots_then_is_health_checked_into_service(void **state)
{
    (void)state;
    char *text = study_text("5m", 20,
                            "start = \"launch\";\n"
                            "instances: { boot = { dist = \"deterministic\"; value = \"40s\"; }; };\n"
                            "fleet = ( { type = \"c6i.large\"; count = 3; } );\n");
    struct run *r = parse_study(text);
    run(r);
    double t[16];
    assert_int_equal(events(r, METRICS_EV_INSTANCE_PENDING, -1, t, 16), 3);
    for (int i = 0; i < 3; i++) assert_close(t[i], 0, 0);
    assert_int_equal(events(r, METRICS_EV_INSTANCE_RUNNING, -1, t, 16), 3);
    for (int i = 0; i < 3; i++) assert_close(t[i], 40, 0);
    /* registered initial at 40 s: healthy at each node at its first check (within one interval) */
    assert_int_equal(events(r, METRICS_EV_TARGET_HEALTHY, -1, t, 16), 9);
    for (int i = 0; i < 9; i++) assert_true(t[i] > 40 && t[i] <= 40 + 30 + 0.001 + 1e-9);
    /* before the first target was healthy nobody could take a request: all failed, with that reason */
    uint64_t no_target = 0, other = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        no_target += r->rows[i].errors_by[METRICS_ERR_NO_HEALTHY_TARGET];
        other += r->rows[i].errors - r->rows[i].errors_by[METRICS_ERR_NO_HEALTHY_TARGET];
    }
    assert_int_equal(other, 0);
    assert_true(no_target >= 600); /* 20/s for at least 40 s */
    assert_close(r->rows[0].instances[0], 3, 0); /* pending at 10 s */
    assert_close(r->rows[4].instances[1], 3, 0); /* running at 50 s */
    free_run(r);
}

/* Zone 1 goes down for 20 minutes: its instances become unreachable at once, the other nodes stop
 * routing to them within the detection window, and after the outage they boot and come back. */
static void test_a_zone_outage_fails_requests_only_in_the_detection_window_and_the_zone_comes_back(void **state)
{
    (void)state;
    char *text = study_text("40m", 100,
                            "region: { outages = ( { az = 1; at = \"10m\"; duration = \"20m\"; } ); };\n"
                            "instances: { boot = { dist = \"deterministic\"; value = \"40s\"; }; };\n"
                            "fleet = ( { type = \"c6i.large\"; count = 6; } );\n");
    struct run *r = parse_study(text);
    run(r);
    double t[16];
    assert_int_equal(events(r, METRICS_EV_ZONE_DOWN, -1, t, 16), 1);
    assert_close(t[0], 600, 0);
    assert_int_equal(events(r, METRICS_EV_ZONE_UP, -1, t, 16), 1);
    assert_close(t[0], 1800, 0);
    /* instances 1 and 4 are in zone 1: unreachable at 600 s, pending at 1800 s, running at 1840 s */
    for (int64_t i = 1; i <= 4; i += 3) {
        assert_int_equal(events(r, METRICS_EV_INSTANCE_UNREACHABLE, i, t, 16), 1);
        assert_close(t[0], 600, 0);
        assert_int_equal(events(r, METRICS_EV_INSTANCE_PENDING, i, t, 16), 1);
        assert_close(t[0], 1800, 0);
        assert_int_equal(events(r, METRICS_EV_INSTANCE_RUNNING, i, t, 16), 2);
        assert_close(t[1], 1840, 0);
        /* each of the two other nodes marks it unhealthy within (35 s, 65 s] after 600 s */
        size_t k = events(r, METRICS_EV_TARGET_UNHEALTHY, i, t, 16);
        assert_true(k >= 2);
        size_t in_window = 0;
        for (size_t j = 0; j < k && j < 16; j++) {
            if (t[j] > 1800) continue; /* after the outage: the returning node's own view */
            assert_true(t[j] > 600 + 35 && t[j] <= 600 + 65 + 1e-9);
            in_window++;
        }
        assert_int_equal(in_window, 2);
    }
    assert_int_equal(events(r, METRICS_EV_INSTANCE_UNREACHABLE, -1, t, 16), 2);
    /* errors: only from the outage's start to the last detection plus the connect timeout */
    uint64_t errors = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        double end = r->rows[i].t_s;
        if (end < 600 || end > 600 + 65 + 10 + 10) assert_int_equal(r->rows[i].errors, 0);
        errors += r->rows[i].errors;
        uint64_t known = r->rows[i].errors_by[METRICS_ERR_CONNECT_TIMEOUT] + r->rows[i].errors_by[METRICS_ERR_TARGET_DIED];
        assert_int_equal(r->rows[i].errors, known);
    }
    /* about 100/s x 1/3 of the targets x 35-65 s */
    assert_in_range(errors, 100 * 35 / 3 / 2, 100 * 65 / 3 + 100);
    /* the series: zone 1 has no healthy target during the outage after detection, all again after */
    for (size_t i = 0; i < r->n_rows; i++) {
        double end = r->rows[i].t_s;
        if (end >= 700 && end < 1800) {
            assert_close(r->rows[i].healthy_targets[1], 0, 0);
            assert_close(r->rows[i].healthy_targets[0], 2, 0);
            assert_close(r->rows[i].instances[3], 2, 0); /* down */
            assert_close(r->rows[i].instances[1], 4, 0);
        }
        if (end >= 1840 + 5 * 30 + 30) assert_close(r->rows[i].healthy_targets[1], 2, 0);
    }
    assert_close(r->rows[r->n_rows - 1].instances[1], 6, 0);
    free_run(r);
}

static void test_a_hardware_failure_takes_the_instance_out_of_service_for_good(void **state)
{
    (void)state;
    char *text = study_text("20m", 50,
                            "region: { azs = 1; };\n"
                            "instances: { failure = { dist = \"deterministic\"; value = \"300s\"; }; };\n"
                            "fleet = ( { type = \"c6i.large\"; count = 2; } );\n");
    struct run *r = parse_study(text);
    run(r);
    double t[8];
    assert_int_equal(events(r, METRICS_EV_INSTANCE_FAILED, -1, t, 8), 2);
    assert_close(t[0], 300, 0);
    assert_close(t[1], 300, 0);
    /* both dead: the only node fails open to silent targets, every request after fails */
    struct ec2 *e = cloud_ec2(r->cl);
    assert_int_equal(ec2_state(e, 0), EC2_FAILED);
    assert_int_equal(ec2_count_in(e, EC2_FAILED), 2);
    uint64_t after = 0, ok_after = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].t_s > 320) {
            after += r->rows[i].errors_by[METRICS_ERR_CONNECT_TIMEOUT];
            ok_after += r->rows[i].successes;
        }
    assert_int_equal(ok_after, 0);
    assert_true(after > 0);
    assert_close(r->rows[r->n_rows - 1].instances[3], 2, 0);
    free_run(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_a_cloud_design_reads_region_instances_balancer_and_fleet, teardown),
        cmocka_unit_test_teardown(test_an_unknown_instance_type_in_a_fleet_is_reported_with_the_nearest_name, teardown),
        cmocka_unit_test_teardown(test_a_fleet_without_a_catalog_gets_the_include_hint, teardown),
        cmocka_unit_test_teardown(test_a_fleet_zone_outside_the_region_is_rejected, teardown),
        cmocka_unit_test_teardown(test_health_check_thresholds_outside_aws_ranges_are_rejected_in_a_design, teardown),
        cmocka_unit_test_teardown(test_an_in_service_fleet_is_spread_over_the_zones_and_serves_without_errors, teardown),
        cmocka_unit_test_teardown(test_a_fleet_launched_at_start_boots_then_is_health_checked_into_service, teardown),
        cmocka_unit_test_teardown(test_a_zone_outage_fails_requests_only_in_the_detection_window_and_the_zone_comes_back, teardown),
        cmocka_unit_test_teardown(test_a_hardware_failure_takes_the_instance_out_of_service_for_good, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
