/* test_trace.c: unit tests of models/trace and of trace replay in models/workload: the layouts (CSV
 * with a time and a count column, missing intervals as zeros, date-time or second times; a bare
 * sequence of counts; timestamps, from one file or several merged by time; the Azure Functions 2019
 * daily files with absent functions and blank lines), offset, window and looping, the span/mean/peak
 * measured at parse time, compression and scaling of the arrivals (and scaling to a target mean or
 * peak), the even and uniform modes (exact counts, exact even positions), classes from a trace (Azure
 * functions to classes, a class column, one class per file, only rows in the window, exact counts per
 * class), the time zone (the local clock, a lead-in), what `check` prints, and the diagnostics
 * (missing file, malformed row with its line, times that do not increase, impossible dates, unknown
 * column, an empty window, unknown classes, settings that do not apply, a failed trace that asks for
 * no shares).
 *
 * Trace files are written to a temporary directory next to the study text, which names them by a
 * relative path (data files resolve against the study file's directory).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "sim.h"
#include "testutil.h"
#include "trace.h"
#include "workload.h"

static char dir[64];

/* A workload class of 1 ms requests, as config text. */
#define CLASS(name) "{ name = \"" name "\"; cpu = { dist = \"deterministic\"; value = \"1ms\"; }; }"
#define ONE_CLASS "( " CLASS("a") " )"

/* The workload's classes in arrivals() and expect_error(): ONE_CLASS unless a test sets another list
 * (setup puts it back). */
static const char *classes_text = ONE_CLASS;
static size_t per_class[4]; /* arrivals of class k */

static int setup(void **state)
{
    (void)state;
    classes_text = ONE_CLASS;
    snprintf(dir, sizeof dir, "/tmp/strato-test-trace-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Loads a study file `study.cfg` in the temporary directory holding `text`. */
static conf *load(const char *text, struct diag *d)
{
    write_file("study.cfg", text);
    char path[128];
    snprintf(path, sizeof path, "%s/study.cfg", dir);
    assert_int_equal(diag_open(d), 0);
    conf *c = conf_load(path, d->f);
    assert_non_null(c);
    return c;
}

/* Parses `trace: { ... }` and returns every interval the reader gives (at most max), its streams'
 * counts one after another (out[i * n_streams + k]). */
static size_t read_all(const char *group, double *out, size_t max, struct trace_params *p)
{
    char text[1024];
    snprintf(text, sizeof text, "trace: { %s };\n", group);
    struct diag d;
    conf *c = load(text, &d);
    if (!trace_parse(c, conf_group(c, conf_root(c), "trace", true), p)) {
        print_error("trace_parse failed:\n%s\n", diag_text(&d));
        fail();
    }
    struct trace_reader *r = trace_open(p);
    assert_non_null(r);
    size_t n = 0;
    double x[TRACE_MAX_STREAMS];
    for (; n < max && trace_next(r, x); n++)
        for (unsigned k = 0; k < p->n_streams; k++) out[n * p->n_streams + k] = x[k];
    trace_close(r);
    conf_free(c);
    diag_close(&d);
    return n;
}

static void test_csv_gaps_read_as_zeros(void **state)
{
    (void)state;
    write_file("t.csv", "period,count\n1998-04-30 21:30:00,3\n1998-04-30 21:32:00,5\n1998-04-30 21:33:00,2\n");
    struct trace_params p;
    double x[8];
    size_t n = read_all("file = \"t.csv\"; format = \"counts_csv\"; time_column = \"period\"; interval = \"1m\";", x, 8, &p);
    assert_int_equal(n, 4);
    assert_close(x[0], 3, 0);
    assert_close(x[1], 0, 0);
    assert_close(x[2], 5, 0);
    assert_close(x[3], 2, 0);
    /* 10 requests over 4 minutes; the peak minute has 5 */
    assert_close(p.mean_rps, 10.0 / 240.0, 1e-12);
    assert_close(p.peak_rps, 5.0 / 60.0, 1e-12);
    assert_close(p.span_s, 240.0, 0);
    trace_params_free(&p);
}

static void test_offset_window_and_loop(void **state)
{
    (void)state;
    write_file("t.txt", "1 2 3 4 5 ");
    struct trace_params p;
    double x[16];
    size_t n = read_all("file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; offset = \"1s\";", x, 16, &p);
    assert_int_equal(n, 4);
    assert_close(x[0], 2, 0);
    assert_close(x[3], 5, 0);
    trace_params_free(&p);
    n = read_all("file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; offset = \"1s\"; window = \"2s\";", x, 16, &p);
    assert_int_equal(n, 2);
    trace_params_free(&p);
    n = read_all("file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; offset = \"3s\"; loop = true;", x, 7, &p);
    assert_int_equal(n, 7); /* 4 5 4 5 4 5 4 */
    for (size_t i = 0; i < 7; i++) assert_close(x[i], i % 2 ? 5 : 4, 0);
    trace_params_free(&p);
    /* compression and scaling shape what check reports: 2 intervals of 1 s compressed 4x, scaled 10x */
    n = read_all("file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; window = \"2s\"; compress = 4.0; scale = 10.0;",
                 x, 16, &p);
    assert_int_equal(n, 2);
    assert_close(p.span_s, 0.5, 1e-12);
    assert_close(p.mean_rps, 30.0 / 0.5, 1e-9);
    assert_close(p.peak_rps, 20.0 / 0.25, 1e-9);
    trace_params_free(&p);
}

/* Arrival times (s) and classes a traced workload makes, recorded by its sink. */
static double times[256];
static unsigned cls[256];
static size_t n_times;
static size_t per_class_minute[4][4]; /* arrivals of class k in minute m (m < 4) */

static void record(void *ctx, const struct request *r)
{
    (void)ctx;
    if (n_times < sizeof times / sizeof times[0]) {
        times[n_times] = sim_to_seconds(r->arrival);
        cls[n_times] = r->cls;
    }
    size_t m = (size_t)(sim_to_seconds(r->arrival) / 60.0);
    if (m < 4 && r->cls < 4) per_class_minute[r->cls][m]++;
    if (r->cls < 4) per_class[r->cls]++;
    n_times++;
}


/* Runs a traced workload with the given arrivals settings to the horizon; returns its arrivals. */
static size_t arrivals(const char *arrivals_body, double horizon_s)
{
    char text[2048];
    snprintf(text, sizeof text, "workload: { arrivals: { process = \"trace\"; %s };\n  classes = %s; };\n",
             arrivals_body, classes_text);
    memset(per_class_minute, 0, sizeof per_class_minute);
    memset(per_class, 0, sizeof per_class);
    struct diag d;
    conf *c = load(text, &d);
    struct workload_params w;
    if (!workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w)) {
        print_error("workload_parse failed:\n%s\n", diag_text(&d));
        fail();
    }
    sim *s = sim_create(3, 0, sim_from_seconds(horizon_s));
    n_times = 0;
    struct workload *wl = workload_create(s, &w, record, NULL);
    sim_run(s);
    size_t got = (size_t)workload_arrivals(wl);
    workload_destroy(wl);
    sim_destroy(s);
    workload_params_free(&w);
    conf_free(c);
    diag_close(&d);
    return got;
}

/* Counts 1 and 2 per 10 s, compressed 2x (5 s each) and scaled 3x: 3 arrivals evenly in [0, 5) at
 * 5/6, 15/6, 25/6 s, then 6 in [5, 10) at 5 + (k + 0.5) 5/6 s. */
static void test_even_arrivals_compressed_and_scaled(void **state)
{
    (void)state;
    write_file("t.txt", "1 2");
    size_t n = arrivals("within = \"even\"; trace: { file = \"t.txt\"; format = \"counts\"; interval = \"10s\"; "
                        "compress = 2.0; scale = 3.0; };", 100);
    assert_int_equal(n, 9);
    for (int k = 0; k < 3; k++) assert_close(times[k], (k + 0.5) * 5.0 / 3.0, 1e-9);
    for (int k = 0; k < 6; k++) assert_close(times[3 + k], 5.0 + (k + 0.5) * 5.0 / 6.0, 1e-9);
}

/* Uniform mode keeps every interval's count exactly, in order, inside the interval. */
static void test_uniform_arrivals_keep_the_counts(void **state)
{
    (void)state;
    write_file("t.txt", "4 0 7 1");
    size_t n = arrivals("within = \"uniform\"; trace: { file = \"t.txt\"; format = \"counts\"; interval = \"1m\"; };", 1000);
    assert_int_equal(n, 12);
    int per[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        if (i) assert_true(times[i] >= times[i - 1]);
        per[(int)(times[i] / 60.0)]++;
    }
    assert_int_equal(per[0], 4);
    assert_int_equal(per[1], 0);
    assert_int_equal(per[2], 7);
    assert_int_equal(per[3], 1);
}

/* The horizon cuts a trace short; a looped trace goes on to the horizon. */
static void test_horizon_and_loop(void **state)
{
    (void)state;
    write_file("t.txt", "2 2");
    assert_int_equal(arrivals("within = \"even\"; trace: { file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; };", 100), 4);
    assert_int_equal(arrivals("within = \"even\"; trace: { file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; "
                              "loop = true; };", 10),
                     20);
}

/* Per-request timestamps replay as given (fractions of a second kept), after the offset, compressed;
 * scale 2 makes every request twice; a loop starts the next pass one window later; a value column
 * gives the demand base + per_value x value. */
static void test_timestamps_as_given(void **state)
{
    (void)state;
    write_file("r.csv", "TIMESTAMP,Tokens\n2023-11-16 18:17:03.5,10\n2023-11-16 18:17:04.25,20\n2023-11-16 18:17:06,30\n");
    const char *base = "trace: { file = \"r.csv\"; format = \"timestamps_csv\"; time_column = \"TIMESTAMP\"; ";
    char body[512];
    snprintf(body, sizeof body, "%s};", base);
    assert_int_equal(arrivals(body, 100), 3);
    assert_close(times[0], 0.0, 1e-9);
    assert_close(times[1], 0.75, 1e-9);
    assert_close(times[2], 2.5, 1e-9);
    snprintf(body, sizeof body, "%soffset = \"0.5s\"; compress = 2.0; scale = 2.0; };", base);
    assert_int_equal(arrivals(body, 100), 4);
    assert_close(times[0], 0.125, 1e-9);
    assert_close(times[1], 0.125, 1e-9);
    assert_close(times[2], 1.0, 1e-9);
    write_file("n.csv", "t\n0\n1"); /* the last row without its newline (as in the Azure LLM trace) */
    assert_int_equal(arrivals("trace: { file = \"n.csv\"; format = \"timestamps_csv\"; time_column = \"t\"; };", 100), 2);
    write_file("n.csv", "time,count\n0,1\n1,2");
    assert_int_equal(arrivals("within = \"even\"; trace: { file = \"n.csv\"; format = \"counts_csv\"; interval = \"1s\"; };", 100), 3);
    snprintf(body, sizeof body, "%swindow = \"1s\"; loop = true; };", base);
    assert_int_equal(arrivals(body, 2.9), 6); /* 0, 0.75, then 1, 1.75, then 2, 2.75 */
    assert_close(times[3], 1.75, 1e-9);
    assert_close(times[5], 2.75, 1e-9);
}

static void record_demand(void *ctx, const struct request *r)
{
    (void)ctx;
    if (n_times < sizeof times / sizeof times[0]) times[n_times] = r->demand;
    n_times++;
}

/* Demands of a timestamps trace's requests: base + per_value x value, or with two value columns (an
 * LLM request's context and generated tokens) base + the sum over the columns. */
static void demands(const char *arrivals_settings, const char *value_column, double *out, size_t n)
{
    write_file("r.csv", "t,ctx,tokens\n0,1000,10\n1,300,20\n");
    char text[1024];
    snprintf(text, sizeof text,
             "workload: { arrivals: { process = \"trace\"; %s demand_base = \"50ms\";\n"
             "  trace: { file = \"r.csv\"; format = \"timestamps_csv\"; time_column = \"t\"; value_column = %s; }; };\n"
             "  classes = " ONE_CLASS "; };\n", arrivals_settings, value_column);
    struct diag d;
    conf *c = load(text, &d);
    struct workload_params w;
    if (!workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w)) {
        print_error("workload_parse failed:\n%s\n", diag_text(&d));
        fail();
    }
    sim *s = sim_create(3, 0, sim_from_seconds(10));
    n_times = 0;
    struct workload *wl = workload_create(s, &w, record_demand, NULL);
    sim_run(s);
    assert_int_equal(n_times, n);
    for (size_t i = 0; i < n; i++) out[i] = times[i];
    workload_destroy(wl);
    sim_destroy(s);
    workload_params_free(&w);
    conf_free(c);
    diag_close(&d);
}

static void test_timestamps_values_give_demand(void **state)
{
    (void)state;
    double x[2];
    demands("demand_per_value = \"20ms\";", "\"tokens\"", x, 2);
    assert_close(x[0], 0.05 + 0.02 * 10, 1e-12);
    assert_close(x[1], 0.05 + 0.02 * 20, 1e-12);
    demands("demand_per_value = [ \"0.1ms\", \"20ms\" ];", "[ \"ctx\", \"tokens\" ]", x, 2);
    assert_close(x[0], 0.05 + 0.0001 * 1000 + 0.02 * 10, 1e-12);
    assert_close(x[1], 0.05 + 0.0001 * 300 + 0.02 * 20, 1e-12);
}

/* An Azure Functions 2019 day file: a header, then rows of 4 names and 1440 counts; function f gets
 * `per_minute` in every minute. */
static void azure_day(const char *name, const char *const *fns, const double *per_minute, int n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("HashOwner,HashApp,HashFunction,Trigger", f);
    for (int m = 1; m <= 1440; m++) fprintf(f, ",%d", m);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        fprintf(f, "o%d,a%d,%s,http", i, i, fns[i]);
        for (int m = 0; m < 1440; m++) fprintf(f, ",%g", per_minute[i]);
        fputc('\n', f);
    }
    fclose(f);
}

/* Two days, d01.csv and d02.csv: f1 (2/min), f2 (5/min), f3 (1/min) on day 1; f2 (1/min) and f3
 * (3/min) on day 2 (f1 absent). Volumes: f2 8,640, f3 5,760, f1 2,880. */
static void two_azure_days(void)
{
    const char *d1[] = {"f1", "f2", "f3"}, *d2[] = {"f2", "f3"};
    const double r1[] = {2, 5, 1}, r2[] = {1, 3};
    azure_day("d01.csv", d1, r1, 3);
    azure_day("d02.csv", d2, r2, 2);
}

static void test_azure_functions_layout(void **state)
{
    (void)state;
    two_azure_days();
    struct trace_params p;
    static double x[3000];
    const char *files = "format = \"azure_functions\"; files = [ \"d01.csv\", \"d02.csv\" ];";
    char body[512];
    snprintf(body, sizeof body, "%s functions = \"all\";", files);
    size_t n = read_all(body, x, 3000, &p);
    assert_int_equal(n, 2880);
    assert_close(x[0], 8, 0);
    assert_close(x[1439], 8, 0);
    assert_close(x[1440], 4, 0);
    assert_close(p.mean_rps, (8.0 * 1440 + 4.0 * 1440) / (2880 * 60.0), 1e-12);
    trace_params_free(&p);
    snprintf(body, sizeof body, "%s functions = 2;", files); /* f2 and f3 */
    n = read_all(body, x, 3000, &p);
    assert_int_equal(p.n_pick, 2);
    assert_string_equal(p.pick[0].hash, "f2");
    assert_string_equal(p.pick[1].hash, "f3");
    assert_close(x[0], 6, 0);
    assert_close(x[2000], 4, 0);
    trace_params_free(&p);
    snprintf(body, sizeof body, "%s functions = [ \"f1\" ];", files);
    n = read_all(body, x, 3000, &p);
    assert_int_equal(n, 2880);
    assert_close(x[10], 2, 0);
    assert_close(x[1500], 0, 0); /* absent on day 2 */
    trace_params_free(&p);
}

/* Classes of an Azure trace (two_azure_days): the top two functions go to
 * "big" (f2) and "small" (f3); with "all", the largest goes to "top" and every other to "rest"; named
 * functions beyond the list of classes go to its last class. Each stream comes out per minute. */
static void test_azure_functions_to_classes(void **state)
{
    (void)state;
    two_azure_days();
    struct trace_params p;
    static double x[2 * 3000];
    const char *files = "format = \"azure_functions\"; files = [ \"d01.csv\", \"d02.csv\" ];";
    char body[512];
    snprintf(body, sizeof body, "%s functions = 2; classes = [ \"big\", \"small\" ];", files);
    assert_int_equal(read_all(body, x, 3000, &p), 2880);
    assert_int_equal(p.n_streams, 2);
    assert_string_equal(p.stream_class[0], "big");
    assert_close(x[0], 5, 0);         /* minute 0: f2 */
    assert_close(x[1], 1, 0);         /* minute 0: f3 */
    assert_close(x[2 * 1440], 1, 0);  /* day 2 */
    assert_close(x[2 * 1440 + 1], 3, 0);
    assert_close(p.stream_requests[0], 8640, 0);
    assert_close(p.stream_requests[1], 5760, 0);
    trace_params_free(&p);
    snprintf(body, sizeof body, "%s functions = \"all\"; classes = [ \"top\", \"rest\" ];", files);
    assert_int_equal(read_all(body, x, 3000, &p), 2880);
    assert_close(x[0], 5, 0);         /* f2 */
    assert_close(x[1], 3, 0);         /* f1 + f3 */
    assert_close(x[2 * 1440 + 1], 3, 0); /* f3 alone: f1 is absent on day 2 */
    trace_params_free(&p);
    snprintf(body, sizeof body, "%s functions = [ \"f3\", \"f1\", \"f2\" ]; classes = [ \"x\", \"y\" ];", files);
    assert_int_equal(read_all(body, x, 3000, &p), 2880);
    assert_close(x[0], 1, 0);         /* f3 */
    assert_close(x[1], 7, 0);         /* f1 + f2 */
    trace_params_free(&p);
}

/* The classes reach the requests: with exact counts (even, uniform) every class keeps its count in
 * every minute; in the Poisson mode each class's arrivals over a day lie within 5 standard deviations
 * of its trace count. Shares do not apply when the trace gives the classes. */
static void test_trace_classes_reach_the_requests(void **state)
{
    (void)state;
    two_azure_days();
    classes_text = "( " CLASS("rest") ", " CLASS("top") " )";
    const char *trace = "trace: { format = \"azure_functions\"; files = [ \"d01.csv\", \"d02.csv\" ]; "
                        "functions = \"all\"; classes = [ \"top\", \"rest\" ]; };";
    char body[512];
    for (int mode = 0; mode < 2; mode++) {
        snprintf(body, sizeof body, "within = \"%s\"; %s", mode ? "uniform" : "even", trace);
        assert_int_equal(arrivals(body, 240), 4 * 8);
        for (int m = 0; m < 4; m++) {
            assert_int_equal(per_class_minute[1][m], 5); /* "top" is the workload's class 1 */
            assert_int_equal(per_class_minute[0][m], 3);
        }
    }
    snprintf(body, sizeof body, "within = \"poisson\"; %s", trace);
    n_times = 0;
    arrivals(body, 86400);
    assert_true(fabs((double)per_class[1] - 7200.0) < 5 * sqrt(7200.0)); /* top: 5 a minute */
    assert_true(fabs((double)per_class[0] - 4320.0) < 5 * sqrt(4320.0)); /* rest: 3 a minute */
}

/* A timestamps trace's class column names each request's class (learned in the order the file names
 * them, matched to the workload's classes by name). */
static void test_timestamps_class_column(void **state)
{
    (void)state;
    write_file("r.csv", "t,model\n0,chat\n0.5,code\n1,chat\n1.5,chat\n");
    classes_text = "( " CLASS("code") ", " CLASS("chat") " )";
    size_t n = arrivals("trace: { file = \"r.csv\"; format = \"timestamps_csv\"; time_column = \"t\"; "
                        "class_column = \"model\"; };", 10);
    assert_int_equal(n, 4);
    assert_int_equal(cls[0], 1);
    assert_int_equal(cls[1], 0);
    assert_int_equal(cls[2], 1);
    assert_int_equal(cls[3], 1);
}

/* Timestamps files merged by time, one class each: times count from the earliest first row over the
 * files, a tie goes to the earlier file, offset and window apply to the merged times, and a loop
 * starts the next pass one span (last row - first + interval) later. */
static void test_timestamps_files_merged(void **state)
{
    (void)state;
    write_file("a.csv", "t,tok\n10,1\n12,2\n15,3\n");
    write_file("b.csv", "tok,t\n7,11\n8,12\n9,20\n"); /* its columns in another order */
    classes_text = "( " CLASS("y") ", " CLASS("x") " )";
    const char *files = "trace: { files = [ \"a.csv\", \"b.csv\" ]; classes = [ \"x\", \"y\" ]; format = \"timestamps_csv\"; "
                        "time_column = \"t\";";
    char body[512];
    snprintf(body, sizeof body, "%s };", files);
    assert_int_equal(arrivals(body, 100), 6);
    const double at[] = {0, 1, 2, 2, 5, 10};
    const unsigned of[] = {1, 0, 1, 0, 1, 0}; /* x is the workload's class 1 */
    for (int i = 0; i < 6; i++) {
        assert_close(times[i], at[i], 1e-9);
        assert_int_equal(cls[i], of[i]);
    }
    snprintf(body, sizeof body, "%s offset = \"1.5s\"; window = \"4s\"; };", files);
    assert_int_equal(arrivals(body, 100), 3);
    assert_close(times[0], 0.5, 1e-9);
    assert_close(times[2], 3.5, 1e-9);
    snprintf(body, sizeof body, "%s loop = true; };", files);
    assert_int_equal(arrivals(body, 11.5), 7);
    assert_close(times[6], 11, 1e-9);
    assert_int_equal(cls[6], 1);
}

/* Only the rows in the window need a class of the workload: "search" before the offset and "other"
 * after the window are neither learned nor checked. */
static void test_classes_outside_the_window(void **state)
{
    (void)state;
    write_file("r.csv", "t,model\n0.5,search\n1.0,chat\n2.0,code\n3.0,other\n");
    classes_text = "( " CLASS("code") ", " CLASS("chat") " )";
    size_t n = arrivals("trace: { file = \"r.csv\"; format = \"timestamps_csv\"; time_column = \"t\"; "
                        "class_column = \"model\"; offset = \"0.5s\"; window = \"1.5s\"; loop = true; };", 2.9);
    assert_int_equal(n, 4); /* chat at 0 and code at 1, twice over (times count from the first row) */
    assert_int_equal(cls[0], 1);
    assert_int_equal(cls[1], 0);
    assert_int_equal(cls[2], 1);
    assert_close(times[2], 1.5, 1e-9);
}

/* A trace that should give the classes but fails gives its own error and no request for shares. */
static void test_failed_trace_classes_ask_no_shares(void **state)
{
    (void)state;
    write_file("r.csv", "t,model\n0.5,chat\n");
    const char *text = "workload: { arrivals: { process = \"trace\"; trace: { file = \"r.csv\"; format = \"timestamps_csv\";\n"
                       "  time_column = \"t\"; class_column = \"modle\"; }; };\n"
                       "  classes = ( { name = \"chat\"; cpu = { dist = \"deterministic\"; value = \"1ms\"; }; },\n"
                       "              { name = \"code\"; cpu = { dist = \"deterministic\"; value = \"1ms\"; }; } ); };\n";
    struct diag d;
    conf *c = load(text, &d);
    struct workload_params w;
    assert_false(workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w));
    char expected[256];
    snprintf(expected, sizeof expected, "%s/r.csv:1: no column \"modle\" in the header\n", dir);
    assert_diag_is(&d, expected);
    workload_params_free(&w);
    conf_free(c);
    diag_close(&d);
}

/* What `strato check` prints: a window cut by the horizon, a local start with a fraction of a second
 * under compression (06:30:00.5 local, a day in 12 hours), the classes' shares. */
static void test_describe(void **state)
{
    (void)state;
    write_file("r.csv", "t,model\n2000-01-01 06:30:00.5,chat\n2000-01-01 06:30:01.5,code\n2000-01-01 06:30:02,chat\n");
    struct trace_params p;
    struct diag d;
    conf *c = load("trace: { file = \"r.csv\"; format = \"timestamps_csv\"; time_column = \"t\"; class_column = \"model\";\n"
                   "  time_zone = \"+1h\"; compress = 2.0; };\n", &d);
    assert_true(trace_parse(c, conf_group(c, conf_root(c), "trace", true), &p));
    conf_free(c);
    diag_close(&d);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    trace_describe(&p, 3600, f);
    fclose(f);
    char want[1024];
    snprintf(want, sizeof want,
             "trace %s/r.csv: 3 requests after shaping, 1.25 s of simulated time (cut by the horizon: its last "
             "9901.5 s are not replayed); mean 2.4 requests/s, peak 4 requests/s (one interval)\n"
             "trace on the local clock (time zone +1 h): the window starts at 07:30:00.500 local time, 13500.2 s of "
             "simulated time after midnight\n"
             "trace classes: chat 66.67%%, code 33.33%% of the requests\n", dir);
    if (strcmp(text, want) != 0) {
        print_error("got:\n%s\nwanted:\n%s\n", text, want);
        fail();
    }
    free(text);
    trace_params_free(&p);
}

/* Rate scaling to a target: counts 1, 3, 2 per second have a mean of 2 and a peak of 3 requests/s. */
static void test_scale_to_a_mean_or_a_peak(void **state)
{
    (void)state;
    write_file("t.txt", "1 3 2");
    struct trace_params p;
    double x[8];
    read_all("file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; mean_rps = 10.0;", x, 8, &p);
    assert_close(p.scale, 5.0, 1e-12);
    assert_close(p.mean_rps, 10.0, 1e-12);
    assert_close(p.peak_rps, 15.0, 1e-12);
    trace_params_free(&p);
    read_all("file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; compress = 2.0; peak_rps = 12.0;", x, 8, &p);
    assert_close(p.scale, 2.0, 1e-12); /* compressed, the peak is 6 requests/s */
    assert_close(p.mean_rps, 8.0, 1e-12);
    trace_params_free(&p);
}

/* A time zone lays the replay on the local clock: the window's start comes at its local time of day. */
static void test_time_zone(void **state)
{
    (void)state;
    write_file("t.csv", "time,count\n2000-01-01 06:30:00,2\n2000-01-01 06:31:00,4\n");
    const char *csv = "within = \"even\"; trace: { file = \"t.csv\"; format = \"counts_csv\"; interval = \"1m\"; ";
    char body[512];
    snprintf(body, sizeof body, "%s };", csv); /* no zone: the window's start is time 0 */
    assert_int_equal(arrivals(body, 1e6), 6);
    assert_close(times[0], 15, 1e-9);
    snprintf(body, sizeof body, "%s time_zone = \"+2h\"; };", csv); /* 08:30 local */
    assert_int_equal(arrivals(body, 1e6), 6);
    assert_close(times[0], 8.5 * 3600 + 15, 1e-9);
    assert_close(times[2], 8.5 * 3600 + 60 + 7.5, 1e-9);
    snprintf(body, sizeof body, "%s time_zone = \"-8h\"; offset = \"1m\"; };", csv); /* 22:31 the day before */
    assert_int_equal(arrivals(body, 1e6), 4);
    assert_close(times[0], (22 * 60 + 31) * 60.0 + 7.5, 1e-9);
    snprintf(body, sizeof body, "%s time_zone = \"+2h\"; compress = 2.0; };", csv); /* a day in 12 hours */
    arrivals(body, 1e6);
    assert_close(times[0], 8.5 * 3600 / 2 + 7.5, 1e-9);
    write_file("t.txt", "1");
    assert_int_equal(arrivals("within = \"even\"; trace: { file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; "
                              "start = \"1995-07-01 00:00:01\"; time_zone = \"-4h\"; };", 1e6), 1);
    assert_close(times[0], 20 * 3600 + 1.5, 1e-9);
    write_file("r.csv", "t\n86500.25\n");
    assert_int_equal(arrivals("trace: { file = \"r.csv\"; format = \"timestamps_csv\"; time_column = \"t\"; "
                              "time_zone = \"0s\"; };", 1e6), 1);
    assert_close(times[0], 100.25, 1e-9);
}

static void expect_error(const char *trace_body, const char *files_text, const char *expected)
{
    if (files_text) write_file("t.csv", files_text);
    char text[2048];
    snprintf(text, sizeof text, "workload: { arrivals: { process = \"trace\"; trace: { %s }; };\n  classes = %s; };\n",
             trace_body, classes_text);
    struct diag d;
    conf *c = load(text, &d);
    struct workload_params w;
    assert_false(workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w));
    assert_diag_contains(&d, expected);
    workload_params_free(&w);
    conf_free(c);
    diag_close(&d);
}

static void test_diagnostics(void **state)
{
    (void)state;
    expect_error("file = \"missing.csv\"; format = \"counts\"; interval = \"1s\";", NULL, "workload.arrivals.trace.file:");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; interval = \"1s\";", "time,count\n0,1\n1,x\n",
                 "t.csv:3: expected a time");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; interval = \"1s\";", "time,count\n0,1\n5,1\n3,1\n",
                 "t.csv:4: times must increase");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; count_column = \"hits\"; interval = \"1s\";",
                 "time,count\n0,1\n", "t.csv:1: no column \"hits\" in the header");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; interval = \"1s\"; offset = \"1h\";", "time,count\n0,1\n",
                 "workload.arrivals.trace.offset: the window holds no interval");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\";", "time\n0.5\n2\n1.5\n", "t.csv:4: times must not go backwards");
    expect_error("format = \"azure_functions\"; files = [ \"t.csv\" ];", "HashOwner,HashApp,HashFunction,Trigger,1\no,a,f,http,1\n",
                 "t.csv:2: expected HashOwner,HashApp,HashFunction,Trigger and 1440 counts");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\"; value_column = \"tokens\";", "time\n0.5\n",
                 "t.csv:1: no column \"tokens\" in the header");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\"; value_column = [ \"a\", \"b\", \"c\", \"d\", \"e\" ];",
                 "time,a\n0.5,1\n", "workload.arrivals.trace.value_column: expected 1 to 4 column names, got 5");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; interval = \"1s\"; value_column = \"count\";",
                 "time,count\n0,1\n", "workload.arrivals.trace.value_column: applies to the timestamps_csv layout only");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\"; class_column = \"model\";", "time,model\n0.5,a\n1,zz\n",
                 "t.csv:3: class \"zz\" (column \"model\") is not a class of the workload (its classes: a)");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\"; class_column = \"model\";", "time,model\n0.5,a\n1,\n",
                 "t.csv:3: an empty class name in column \"model\"");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; interval = \"1s\"; class_column = \"k\";", "time,count\n0,1\n",
                 "workload.arrivals.trace.class_column: applies to the timestamps_csv layout only");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\"; classes = [ \"a\" ];", "time\n0\n",
                 "workload.arrivals.trace.classes: applies to the azure_functions layout only (or to timestamps files");
    write_file("a.csv", "time\n1\n2\n");
    write_file("b.csv", "time\n1.5\n3\n2.5\n");
    expect_error("format = \"timestamps_csv\"; files = [ \"a.csv\", \"b.csv\" ];", NULL,
                 "b.csv:4: times must not go backwards");
    expect_error("format = \"timestamps_csv\"; files = [ \"a.csv\", \"a.csv\" ]; classes = [ \"a\" ];", NULL,
                 "workload.arrivals.trace.classes: 1 classes for 2 files: give one class per file");
    expect_error("format = \"timestamps_csv\"; file = \"a.csv\"; files = [ \"a.csv\" ];", NULL,
                 "workload.arrivals.trace.file: give file or files, not both");
    expect_error("format = \"timestamps_csv\"; files = [ \"a.csv\" ]; classes = [ \"a\" ]; class_column = \"time\";", NULL,
                 "workload.arrivals.trace.class_column: give one class per file or a class column, not both");
    expect_error("file = \"t.csv\"; format = \"counts_csv\"; interval = \"1s\"; start = 5;", "time,count\n0,1\n",
                 "workload.arrivals.trace.start: applies to the bare counts layout only");
    expect_error("file = \"t.csv\"; format = \"counts\"; interval = \"1s\"; start = \"yesterday\";", "1\n",
                 "workload.arrivals.trace.start: expected the time of the first count");
    expect_error("file = \"t.csv\"; format = \"counts\"; interval = \"1s\"; start = \"2023-02-29 00:00:00\";", "1\n",
                 "workload.arrivals.trace.start: expected the time of the first count");
    expect_error("file = \"t.csv\"; format = \"counts\"; interval = \"1s\"; start = \"1995-13-01 00:00:00\";", "1\n",
                 "workload.arrivals.trace.start: expected the time of the first count");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\";", "time\n2024-02-29 10:00:00\n2024-04-31 1:00:00\n",
                 "t.csv:3: expected a time");
    expect_error("file = \"t.csv\"; format = \"timestamps_csv\";", "time\n2024-02-29 10:00:00\n2024-05-01 24:00:00\n",
                 "t.csv:3: expected a time");
    expect_error("file = \"t.csv\"; format = \"counts\"; interval = \"1s\"; scale = 2.0; mean_rps = 3.0;", "1\n",
                 "workload.arrivals.trace.mean_rps: give one of scale, mean_rps and peak_rps; scale is already set");
    expect_error("file = \"t.csv\"; format = \"counts\"; interval = \"1s\"; peak_rps = 3.0;", "0 0\n",
                 "workload.arrivals.trace.peak_rps: cannot scale the window to a rate: it holds no request");
    expect_error("file = \"t.csv\"; format = \"counts\"; interval = \"1s\"; time_zone = \"15h\";", "1\n",
                 "workload.arrivals.trace.time_zone:");
    const char *d1[] = {"f1", "f2"};
    const double r1[] = {2, 5};
    azure_day("d01.csv", d1, r1, 2);
    expect_error("format = \"azure_functions\"; files = [ \"d01.csv\" ]; functions = 1; classes = [ \"a\", \"b\" ];", NULL,
                 "workload.arrivals.trace.classes: 2 classes for the top 1 functions");
    expect_error("format = \"azure_functions\"; files = [ \"d01.csv\" ]; classes = [ \"a\", \"nope\" ];", NULL,
                 "workload.arrivals.trace.classes.[1]: \"nope\" is not a class of the workload (its classes: a)");
    expect_error("format = \"azure_functions\"; files = [ \"d01.csv\" ]; functions = [ \"f1\", \"f1\" ];", NULL,
                 "\"f1\" is listed twice");
    /* a mistake in the second day's file is reported in that file; blank lines are skipped */
    write_file("bad.csv", "HashOwner,HashApp,HashFunction,Trigger,1\n\no,a,f,http,1\n");
    expect_error("format = \"azure_functions\"; files = [ \"d01.csv\", \"bad.csv\" ];", NULL,
                 "bad.csv:3: expected HashOwner,HashApp,HashFunction,Trigger and 1440 counts");
    char path[128];
    snprintf(path, sizeof path, "%s/d01.csv", dir);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("\n \r\n", f);
    fclose(f);
    struct trace_params p;
    static double x[1500];
    assert_int_equal(read_all("format = \"azure_functions\"; files = [ \"d01.csv\" ];", x, 1500, &p), 1440);
    assert_close(x[0], 7, 0);
    trace_params_free(&p);
}

static void test_rate_settings_do_not_apply_to_a_trace(void **state)
{
    (void)state;
    write_file("t.txt", "1");
    char text[512];
    snprintf(text, sizeof text,
             "workload: { arrivals: { process = \"trace\"; mean_rps = 5.0;\n"
             "  trace: { file = \"t.txt\"; format = \"counts\"; interval = \"1s\"; }; };\n"
             "  classes = " ONE_CLASS "; };\n");
    struct diag d;
    conf *c = load(text, &d);
    struct workload_params w;
    assert_false(workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w));
    assert_diag_contains(&d, "study.cfg:1: workload.arrivals.mean_rps: does not apply to a trace");
    workload_params_free(&w);
    conf_free(c);
    diag_close(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv_gaps_read_as_zeros, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offset_window_and_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_even_arrivals_compressed_and_scaled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uniform_arrivals_keep_the_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_horizon_and_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps_as_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps_values_give_demand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_azure_functions_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_azure_functions_to_classes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace_classes_reach_the_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps_class_column, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps_files_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classes_outside_the_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_trace_classes_ask_no_shares, setup, teardown),
        cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_to_a_mean_or_a_peak, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_zone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_diagnostics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_settings_do_not_apply_to_a_trace, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
