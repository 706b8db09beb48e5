/* test_study.c: unit tests of models/study: parsing a whole study, running it into an HDF5 file, the
 * layout of that file (read back with the HDF5 C API), and common random numbers across designs.
 *
 * Each run writes into its own mkdtemp directory, removed afterwards. The key check of the paired
 * comparison: a design compared with an identical copy of itself under another name sees identical
 * requests in every replication, so every paired difference is exactly 0 (not merely small).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <hdf5.h>

#include "conf.h"
#include "prices.h"
#include "study.h"
#include "testh5.h"
#include "testutil.h"

static const char twins_cfg[] =
    "study: { name = \"twins\"; horizon = \"10m\"; report_interval = \"1m\"; warmup = \"1m\";\n"
    "         replications = 3; seed = 11; baseline = \"base\"; };\n"
    "workload: {\n"
    "  arrivals: { mean_rps = 20.0; };\n"
    "  classes = ( { name = \"small\"; share = 0.7; cpu = { dist = \"exponential\"; mean = \"20ms\"; }; },\n"
    "              { name = \"large\"; share = 0.3; cpu = { dist = \"lognormal\"; mean = \"50ms\"; cv = 1.5; }; } );\n"
    "  slo: { latency_p99 = \"500ms\"; availability = 0.99; };\n"
    "};\n"
    "designs = (\n"
    "  { name = \"base\"; kind = \"onprem\"; description = \"one 2-core server\";\n"
    "    servers = 1; server: { cores = 2; queue_limit = 20; }; },\n"
    "  { name = \"twin\"; kind = \"onprem\"; description = \"the same server, another name\";\n"
    "    servers = 1; server: { cores = 2; queue_limit = 20; }; }\n"
    ");\n";

/* The summary metrics a study with a latency and an availability SLO reports, in order. */
static const char *const metric_names[] = {"throughput_rps", "availability", "latency_mean_s",
                                           "latency_p50_s",  "latency_p99_s", "latency_p999_s",
                                           "wait_mean_s",    "p_wait",        "utilization",
                                           "latency_slo_s",  "slo_met",       "slo_attainment"};
enum { N_METRICS = sizeof metric_names / sizeof metric_names[0] };

struct fixture {
    struct diag diag;
    conf *c;
    struct study_params p;
    bool parsed;
    char dir[64];
    char out[128];
    struct study_result *result;
    hid_t file; /* the results file opened for reading, or H5I_INVALID_HID */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL) return -1;
    int rc = diag_open(&fx->diag);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/strato-test-study-XXXXXX");
    if (mkdtemp(fx->dir) == NULL) return -1;
    snprintf(fx->out, sizeof fx->out, "%s/out.h5", fx->dir);
    fx->file = H5I_INVALID_HID;
    *state = fx;
    return rc;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->file >= 0) H5Fclose(fx->file); /* left open by a failed assertion */
    study_result_free(fx->result);
    if (fx->parsed) study_params_free(&fx->p);
    conf_free(fx->c);
    diag_close(&fx->diag);
    unlink(fx->out);
    rmdir(fx->dir); /* fails, and so shows up as litter, if anything else was left behind */
    free(fx);
    return 0;
}

static bool parse(struct fixture *fx, const char *text)
{
    fx->c = load_or_fail(text, "study.cfg", &fx->diag);
    bool ok = study_parse(fx->c, NULL, &fx->p);
    fx->parsed = true;
    return ok;
}

static int run(struct fixture *fx, const char *text)
{
    struct study_run_options o = {.output = fx->out, .config_path = "study.cfg", .config_text = text,
                                  .command_line = "strato run study.cfg"};
    return study_run(&fx->p, &o, &fx->result);
}

/* ---- reading the file back -------------------------------------------------------------------- */

static hid_t open_out(struct fixture *fx)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG); /* closing the file closes whatever is left open */
    fx->file = H5Fopen(fx->out, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    assert_true(fx->file >= 0);
    return fx->file;
}

static void close_out(struct fixture *fx)
{
    assert_true(H5Fclose(fx->file) >= 0);
    fx->file = H5I_INVALID_HID;
}

/* Rows of the one-dimensional dataset at path; fails the test, naming path, if there is none. */
static hsize_t rows_of(hid_t file, const char *path)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    if (d < 0) {
        print_error("no dataset %s\n", path);
        fail();
    }
    hsize_t n = rows_in(d);
    H5Dclose(d);
    return n;
}

/* Reads column `col` of the table at path into out (n values of mem_type, of `size` bytes each). */
static void read_column(hid_t file, const char *path, const char *col, hid_t mem_type, size_t size, void *out)
{
    hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    assert_true(H5Tinsert(t, col, 0, mem_type) >= 0);
    assert_true(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0);
    H5Tclose(t);
    H5Dclose(d);
}

static void read_f64(hid_t file, const char *path, const char *col, double *out)
{
    read_column(file, path, col, H5T_NATIVE_DOUBLE, sizeof(double), out);
}

static void read_u64(hid_t file, const char *path, const char *col, uint64_t *out)
{
    read_column(file, path, col, H5T_NATIVE_UINT64, sizeof(uint64_t), out);
}

/* Reads a string column (n rows) into caller buffers of 64 bytes each. */
static void read_strings(hid_t file, const char *path, const char *col, size_t n, char (*out)[64])
{
    hid_t str = vl_string_type();
    char **v = calloc(n, sizeof *v);
    assert_non_null(v);
    read_column(file, path, col, str, sizeof(char *), v);
    for (size_t i = 0; i < n; i++) {
        snprintf(out[i], 64, "%s", v[i] ? v[i] : "(null)");
        H5free_memory(v[i]);
    }
    free(v);
    H5Tclose(str);
}

/* ---- parsing ---------------------------------------------------------------------------------- */

static void test_parse_reads_a_complete_study_with_two_onprem_designs(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, twins_cfg));
    assert_string_equal(diag_text(&fx->diag), "");
    const struct study_params *p = &fx->p;
    assert_string_equal(p->name, "twins");
    assert_int_equal(p->horizon, 600 * SIM_SEC);
    assert_int_equal(p->interval, 60 * SIM_SEC);
    assert_int_equal(p->warmup, 60 * SIM_SEC);
    assert_int_equal(p->replications, 3);
    assert_int_equal(p->seed, 11);
    assert_int_equal(p->baseline, 0);
    assert_int_equal(p->workload.n_classes, 2);
    assert_close(p->workload.mean_rps, 20.0, 0);
    assert_close(p->workload.slo_quantile, 0.99, 0);
    assert_int_equal(p->n_designs, 2);
    const char *names[2] = {"base", "twin"};
    for (unsigned d = 0; d < 2; d++) {
        assert_string_equal(p->designs[d].name, names[d]);
        assert_int_equal(p->designs[d].kind, DESIGN_ONPREM);
        const struct onprem_params *o = &p->designs[d].u.onprem;
        assert_int_equal(o->servers, 1);
        assert_int_equal(o->server.cores, 2);
        assert_close(o->server.speed, 1.0, 0);
        assert_int_equal(o->server.queue_limit, 20);
        assert_int_equal(o->dispatch, ONPREM_ROUND_ROBIN);
    }
    assert_string_equal(p->designs[1].description, "the same server, another name");
}

static void test_parse_baseline_names_a_design_other_than_the_first(void **state)
{
    struct fixture *fx = *state;
    char text[sizeof twins_cfg + 16];
    snprintf(text, sizeof text, "%s", twins_cfg);
    char *b = strstr(text, "baseline = \"base\"");
    assert_non_null(b);
    memcpy(b, "baseline = \"twin\"", strlen("baseline = \"twin\""));
    assert_true(parse(fx, text));
    assert_int_equal(fx->p.baseline, 1);
}

/* ---- running ---------------------------------------------------------------------------------- */

static void test_run_writes_summary_comparisons_and_series_with_expected_row_counts(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, twins_cfg));
    assert_int_equal(run(fx, twins_cfg), 0);
    assert_int_equal(access(fx->out, F_OK), 0);

    hid_t f = open_out(fx);
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    assert_int_equal(read_bool_attr(root, "complete"), 1);
    char buf[2048];
    read_str_attr(root, "format", buf, sizeof buf);
    assert_string_equal(buf, "strato-results");
    read_str_attr(root, "baseline", buf, sizeof buf);
    assert_string_equal(buf, "base");
    read_str_attr(root, "config", buf, sizeof buf);
    assert_string_equal(buf, twins_cfg);
    assert_int_equal(read_i64_attr(root, "replications"), 3);
    assert_int_equal(read_i64_attr(root, "master_seed"), 11);
    H5Gclose(root);

    /* 2 designs x 12 metrics (the SLO metrics are on, no costs: onprem without tco); 1 non-baseline design x 12 */
    assert_int_equal(rows_of(f, "/summary"), 2 * N_METRICS);
    assert_int_equal(rows_of(f, "/comparisons"), N_METRICS);
    char metric[N_METRICS][64], design[2 * N_METRICS][64];
    read_strings(f, "/comparisons", "metric", N_METRICS, metric);
    for (int m = 0; m < N_METRICS; m++) assert_string_equal(metric[m], metric_names[m]);
    read_strings(f, "/summary", "design", 2 * N_METRICS, design);
    for (int i = 0; i < 2 * N_METRICS; i++) assert_string_equal(design[i], i < N_METRICS ? "base" : "twin");

    const char *names[2] = {"base", "twin"};
    for (int d = 0; d < 2; d++) {
        char path[128];
        snprintf(path, sizeof path, "/designs/%s", names[d]);
        hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
        assert_true(g >= 0);
        read_str_attr(g, "kind", buf, sizeof buf);
        assert_string_equal(buf, "onprem");
        H5Gclose(g);
        for (int r = 0; r < 3; r++) {
            snprintf(path, sizeof path, "/designs/%s/runs/%d/series", names[d], r);
            assert_int_equal(rows_of(f, path), 10); /* horizon / interval */
            double t[10];
            uint64_t arrivals[10], sum = 0;
            read_f64(f, path, "t_s", t);
            read_u64(f, path, "arrivals", arrivals);
            for (int i = 0; i < 10; i++) {
                assert_close(t[i], 60.0 * (i + 1), 1e-9);
                sum += arrivals[i];
            }
            snprintf(path, sizeof path, "/designs/%s/runs/%d", names[d], r);
            hid_t rg = H5Gopen2(f, path, H5P_DEFAULT);
            assert_true(rg >= 0);
            assert_int_equal(read_bool_attr(rg, "complete"), 1);
            assert_int_equal(read_i64_attr(rg, "arrivals"), (int64_t)sum);
            assert_close((double)sum, 20.0 * 600, 4 * sqrt(20.0 * 600)); /* Poisson */
            H5Gclose(rg);
        }
    }
    close_out(fx);
}

static void test_a_design_compared_with_an_identical_copy_differs_by_exactly_zero(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, twins_cfg));
    assert_int_equal(run(fx, twins_cfg), 0);
    hid_t f = open_out(fx);

    double diff[N_METRICS], lo[N_METRICS], hi[N_METRICS];
    uint64_t n[N_METRICS];
    read_f64(f, "/comparisons", "mean_diff", diff);
    read_f64(f, "/comparisons", "ci95_lo", lo);
    read_f64(f, "/comparisons", "ci95_hi", hi);
    read_u64(f, "/comparisons", "n", n);
    char design[N_METRICS][64], baseline[N_METRICS][64];
    read_strings(f, "/comparisons", "design", N_METRICS, design);
    read_strings(f, "/comparisons", "baseline", N_METRICS, baseline);
    for (int m = 0; m < N_METRICS; m++) {
        assert_string_equal(design[m], "twin");
        assert_string_equal(baseline[m], "base");
        assert_int_equal(n[m], 3);
        assert_close(diff[m], 0.0, 0);
        assert_close(lo[m], 0.0, 0);
        assert_close(hi[m], 0.0, 0);
    }

    /* the two summaries are equal bit for bit, and they are real numbers, not NaN */
    double mean[2 * N_METRICS];
    read_f64(f, "/summary", "mean", mean);
    for (int m = 0; m < N_METRICS; m++) {
        assert_false(isnan(mean[m]));
        assert_memory_equal(&mean[m], &mean[N_METRICS + m], sizeof(double));
    }
    assert_close(mean[0], 20.0, 4 * sqrt(20.0 / (540.0 * 3))); /* throughput_rps */
    assert_true(mean[8] > 0.1 && mean[8] < 0.5);                /* utilization, about 0.29 */

    /* every series row of replication r is the same in both designs */
    for (int r = 0; r < 3; r++) {
        char a[96], b[96];
        snprintf(a, sizeof a, "/designs/base/runs/%d/series", r);
        snprintf(b, sizeof b, "/designs/twin/runs/%d/series", r);
        uint64_t xa[10], xb[10];
        double la[10], lb[10];
        read_u64(f, a, "successes", xa);
        read_u64(f, b, "successes", xb);
        read_f64(f, a, "latency_p99_s", la);
        read_f64(f, b, "latency_p99_s", lb);
        assert_memory_equal(xa, xb, sizeof xa);
        assert_memory_equal(la, lb, sizeof la);
    }
    close_out(fx);
}

static void test_different_designs_have_nonzero_paired_differences(void **state)
{
    struct fixture *fx = *state;
    /* the twin on one slower core: same requests, longer latencies, higher utilization */
    char text[sizeof twins_cfg + 64];
    snprintf(text, sizeof text, "%s", twins_cfg);
    char *twin = strstr(text, "name = \"twin\"");
    assert_non_null(twin);
    char *cores = strstr(twin, "cores = 2;");
    assert_non_null(cores);
    memcpy(cores, "cores = 1;", strlen("cores = 1;"));
    assert_true(parse(fx, text));
    assert_int_equal(run(fx, text), 0);
    hid_t f = open_out(fx);
    double diff[N_METRICS], lo[N_METRICS], hi[N_METRICS];
    read_f64(f, "/comparisons", "mean_diff", diff);
    read_f64(f, "/comparisons", "ci95_lo", lo);
    read_f64(f, "/comparisons", "ci95_hi", hi);
    assert_true(diff[2] > 0 && lo[2] > 0);   /* latency_mean_s: worse, significantly */
    assert_true(diff[8] > 0.2 && lo[8] > 0); /* utilization: about 0.58 - 0.29 */
    assert_true(lo[2] <= diff[2] && diff[2] <= hi[2]);
    close_out(fx);

    FILE *mem;
    char *summary = NULL;
    size_t len = 0;
    mem = open_memstream(&summary, &len);
    assert_non_null(mem);
    study_print_summary(&fx->p, fx->result, mem);
    fclose(mem);
    assert_non_null(strstr(summary, "paired differences against the baseline \"base\""));
    free(summary);
}

/* With a horizon that is not a multiple of the report interval, the last row of the series ends at
 * the horizon (not at the run's last event). */
static void test_last_series_row_ends_at_the_horizon_when_it_is_not_a_multiple_of_the_interval(void **state)
{
    struct fixture *fx = *state;
    char text[sizeof twins_cfg + 16];
    snprintf(text, sizeof text, "%s", twins_cfg);
    char *h = strstr(text, "horizon = \"10m\"");
    assert_non_null(h);
    memcpy(h, "horizon = \"90s\"", strlen("horizon = \"90s\""));
    /* a light load, so that the system is usually empty at the horizon, as it often is */
    char *rate = strstr(text, "mean_rps = 20.0");
    assert_non_null(rate);
    memcpy(rate, "mean_rps = 01.0", strlen("mean_rps = 01.0"));
    assert_true(parse(fx, text));
    assert_int_equal(fx->p.horizon, 90 * SIM_SEC);
    assert_int_equal(run(fx, text), 0);
    hid_t f = open_out(fx);
    for (int r = 0; r < 3; r++) {
        char path[96];
        snprintf(path, sizeof path, "/designs/base/runs/%d/series", r);
        assert_int_equal(rows_of(f, path), 2);
        double t[2];
        read_f64(f, path, "t_s", t);
        assert_close(t[0], 60.0, 0);
        assert_close(t[1], 90.0, 0);
    }
    close_out(fx);
}

/* A fixed fleet of two m5.large for 90 minutes behind a balancer, next to an on-prem design: the cloud
 * design's series carry cumulative costs whose last row is the summary's cost (no warm-up), rates that
 * add up to them, and the instances' exact bill (2 x 0.096 USD/h x 1.5 h = 0.288 USD); two balancer
 * hours (the second partial); an on-prem design books no costs, so its cost columns are NaN and its
 * summary has no cost values. */
static void test_cloud_costs_in_the_series_add_up_to_the_summary(void **state)
{
    struct fixture *fx = *state;
    static const char text[] =
        "ec2_catalog: { region = \"us-east-1\"; prices_date = \"2026-11\"; source = \"unit test\";\n"
        "  types = ( { name = \"m5.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"8GiB\"; price = \"$0.096\"; speed = 1.0; } ); };"
        TEST_PRICES "\n"
        "study: { horizon = \"90m\"; report_interval = \"10m\"; replications = 2; seed = 3; };\n"
        "workload: { arrivals: { mean_rps = 20.0; };\n"
        "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"20ms\"; };\n"
        "                response_bytes = { dist = \"deterministic\"; value = \"20KB\"; }; } ); };\n"
        "designs = ( { name = \"cloud\"; kind = \"cloud\"; fleet = ( { type = \"m5.large\"; count = 2; } ); },\n"
        "            { name = \"onprem\"; kind = \"onprem\"; servers = 1; server: { cores = 4; }; } );\n";
    assert_true(parse(fx, text));
    assert_int_equal(run(fx, text), 0);
    hid_t f = open_out(fx);
    double summary_cost[2] = {NAN, NAN};
    char design[64][64], metric[64][64];
    hsize_t n_summary = rows_of(f, "/summary");
    assert_true(n_summary <= 64);
    double mean[64];
    read_strings(f, "/summary", "design", n_summary, design);
    read_strings(f, "/summary", "metric", n_summary, metric);
    read_f64(f, "/summary", "mean", mean);
    for (hsize_t i = 0; i < n_summary; i++)
        if (strcmp(metric[i], "cost_usd") == 0) summary_cost[strcmp(design[i], "onprem") == 0] = mean[i];
    assert_true(isnan(summary_cost[1]));
    double sum_last = 0;
    for (int r = 0; r < 2; r++) {
        char path[96];
        snprintf(path, sizeof path, "/designs/cloud/runs/%d/series", r);
        assert_int_equal(rows_of(f, path), 9);
        double t[9], usd[9], rate[9], total[9];
        read_f64(f, path, "cost_ec2_on_demand_usd", usd);
        assert_close(usd[8], 0.288, 1e-9);
        read_f64(f, path, "cost_elb_hours_usd", usd);
        assert_close(usd[8], 2 * 0.0225, 1e-12);
        read_f64(f, path, "t_s", t);
        read_f64(f, path, "cost_usd", total);
        read_f64(f, path, "cost_rate_usd_per_h", rate);
        double sum = 0;
        for (int i = 0; i < 9; i++) sum += rate[i] * (t[i] - (i ? t[i - 1] : 0)) / 3600.0;
        assert_close(sum, total[8], 1e-9);
        sum_last += total[8];
        snprintf(path, sizeof path, "/designs/onprem/runs/%d/series", r);
        read_f64(f, path, "cost_usd", total);
        assert_true(isnan(total[8]));
    }
    assert_close(summary_cost[0], sum_last / 2, 1e-9);
    close_out(fx);
}

/* A sweep is expanded into one design per variant, named after its values (the last setting varies
 * fastest), each parsed with its values; zip pairs the lists; the run writes /sweep, a row per variant. */
static void test_a_sweep_becomes_one_design_per_variant(void **state)
{
    struct fixture *fx = *state;
    static const char text[] =
        "study: { horizon = \"10m\"; report_interval = \"1m\"; replications = 2; seed = 5; };\n"
        "workload: { arrivals: { mean_rps = 20.0; };\n"
        "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"20ms\"; }; } );\n"
        "  slo: { latency_p99 = \"500ms\"; }; };\n"
        "designs = ( { name = \"dc\"; kind = \"onprem\"; servers = 1; server: { cores = 1; speed = 1.0; };\n"
        "  sweep = ( { setting = \"servers\"; values = [ 1, 2 ]; },\n"
        "            { setting = \"server.speed\"; values = [ 1.0, 1.5, 2.0 ]; } ); },\n"
        "  { name = \"z\"; kind = \"onprem\"; servers = 1; server: { cores = 1; }; sweep_mode = \"zip\";\n"
        "  sweep = ( { setting = \"servers\"; values = [ 3, 4 ]; }, { setting = \"server.cores\"; values = [ 2, 4 ]; } ); } );\n";
    assert_true(parse(fx, text));
    assert_int_equal(fx->p.n_designs, 8);
    static const char *const names[] = {"dc-1-1", "dc-1-1_5", "dc-1-2", "dc-2-1", "dc-2-1_5", "dc-2-2", "z-3-2", "z-4-4"};
    static const unsigned servers[] = {1, 1, 1, 2, 2, 2, 3, 4}, cores[] = {1, 1, 1, 1, 1, 1, 2, 4};
    static const double speed[] = {1, 1.5, 2, 1, 1.5, 2, 1, 1};
    for (unsigned d = 0; d < 8; d++) {
        const struct design_params *dp = &fx->p.designs[d];
        assert_string_equal(dp->name, names[d]);
        assert_int_equal(dp->u.onprem.servers, servers[d]);
        assert_int_equal(dp->u.onprem.server.cores, cores[d]);
        assert_close(dp->u.onprem.server.speed, speed[d], 0);
        assert_string_equal(dp->base, d < 6 ? "dc" : "z");
    }
    assert_string_equal(fx->p.designs[4].swept, "servers=2, server.speed=1.5");
    assert_int_equal(run(fx, text), 0);
    hid_t f = open_out(fx);
    assert_int_equal(rows_of(f, "/sweep"), 8);
    char design[8][64];
    read_strings(f, "/sweep", "design", 8, design);
    for (unsigned d = 0; d < 8; d++) assert_string_equal(design[d], names[d]);
    close_out(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse_reads_a_complete_study_with_two_onprem_designs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_baseline_names_a_design_other_than_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_writes_summary_comparisons_and_series_with_expected_row_counts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_design_compared_with_an_identical_copy_differs_by_exactly_zero, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_different_designs_have_nonzero_paired_differences, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_last_series_row_ends_at_the_horizon_when_it_is_not_a_multiple_of_the_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cloud_costs_in_the_series_add_up_to_the_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_sweep_becomes_one_design_per_variant, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
