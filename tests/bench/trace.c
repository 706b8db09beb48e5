/* trace.c: what reading a trace costs against the runs that replay it (issue 9: under 10% of the run
 * time). Three replays of real traces at scale 1, in the Poisson mode, each on a realistic design: the
 * whole NASA 1995 trace (58.6 days per second, 5.06 M counts, 59% of them zero: the most reading per
 * request of the count traces) on the three designs of configs/examples/nasa95.cfg; the whole World
 * Cup 1998 trace at 1% (87 days per minute, 13.5 M requests) on the Auto Scaling group; and the Azure
 * LLM conversation trace (one row per request with a fractional date-time: the most reading per
 * request of all) on the three designs.
 * For each: the median over the repetitions of the reading alone (open the trace, take every interval
 * or request of the window: what a run does besides simulating), of one run (a design and a replication
 * through study_run, HDF5 output included), and of a replay into the metrics without any design (the
 * cheapest possible run). Prints key=value lines; share = reading / run.
 *
 * Usage: bench_trace [repetitions]   (default 5)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchutil.h"
#include "conf.h"
#include "metrics.h"
#include "study.h"
#include "trace.h"
#include "traces.h"
#include "workload.h"

static char root[1024], tree[1024];

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void arrive(void *ctx, const struct request *r) { metrics_arrival(ctx, r); }

static const char *const asg_design =
    "  { name = \"ec2-asg\"; kind = \"cloud\"; lb: { algorithm = \"least_outstanding_requests\"; };\n"
    "    instances: { queue_limit = 100; };\n"
    "    asg: { instance_type = \"c6i.large\"; min = 1; max = 20; desired = 2;\n"
    "           policies = ( { type = \"target_tracking\"; metric = \"cpu\"; target = 50.0; } ); }; }";

static const char *const more_designs =
    ",\n  { name = \"onprem\"; kind = \"onprem\"; servers = 1; spares = 1; server: { cores = 8; queue_limit = 200; };\n"
    "    tco: { server_price = \"$8000\"; amortisation_months = 36.0; cost_of_money = 0.05; idle_watts = 175.0;\n"
    "           peak_watts = 300.0; pue = 1.58; kwh_price = \"$0.0895\"; kw_month = \"$150\"; network_month = \"$25\";\n"
    "           servers_per_admin = 30.0; admin_year = \"$150000\"; }; },\n"
    "  { name = \"lambda\"; kind = \"serverless\";\n"
    "    functions = ( { name = \"web\"; memory_mb = 1769; runtime = \"python3.12\"; timeout = \"10s\"; } ); }";

/* One case: `trace` is the body of the trace group, `span` the horizon, `all_designs` the three designs of
 * nasa95.cfg (else the Auto Scaling group alone). */
static void bench(const char *name, const char *trace, const char *span, bool all_designs, int reps)
{
    char dir[] = "/tmp/strato-bench-trace-XXXXXX", path[1200], out[1200], text[8192], designs[4096];
    if (!mkdtemp(dir)) exit(1);
    snprintf(designs, sizeof designs, "designs = (\n%s%s\n);\n", asg_design, all_designs ? more_designs : "");
    snprintf(text, sizeof text,
             "@include \"catalog.cfg\"\n"
             "study: { name = \"bench\"; horizon = \"%s\"; report_interval = \"10m\"; replications = 1; seed = 1; };\n"
             "workload: { arrivals: { process = \"trace\"; within = \"poisson\"; trace: { %s }; };\n"
             "  classes = ( { name = \"page\"; cpu = { dist = \"lognormal\"; mean = \"80ms\"; cv = 1.0; };\n"
             "                response_bytes = { dist = \"lognormal\"; mean = \"20KB\"; cv = 1.5; }; } );\n"
             "  slo: { latency_p99 = \"1s\"; availability = 0.999; }; };\n%s",
             span, trace, designs);
    char catalog[1200], link[1200];
    snprintf(catalog, sizeof catalog, "%s/configs/catalog/us-east-1.cfg", tree);
    snprintf(link, sizeof link, "%s/catalog.cfg", dir); /* @include paths are relative to the study file */
    if (symlink(catalog, link) != 0) exit(1);
    snprintf(path, sizeof path, "%s/study.cfg", dir);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) exit(1);

    double t_parse[64], t_read[64], t_run[64], t_replay[64];
    uint64_t units = 0, arrivals = 0;
    for (int rep = 0; rep < reps; rep++) {
        conf *c = conf_load(path, stderr);
        struct study_params *p = calloc(1, sizeof *p);
        double t0 = bench_wall();
        if (!c || !p || !study_parse(c, NULL, p)) exit(1);
        t_parse[rep] = bench_wall() - t0;

        /* the reading a run does: every interval (or request) of the window */
        t0 = bench_wall();
        struct trace_reader *r = trace_open(&p->workload.trace);
        double x[TRACE_MAX_STREAMS], v[TRACE_MAX_VALUES], sum = 0;
        unsigned k;
        if (p->workload.trace.format == TRACE_TIMESTAMPS_CSV)
            while (trace_next_request(r, x, v, &k)) sum += x[0];
        else
            while (trace_next(r, x)) sum += x[0];
        trace_close(r);
        t_read[rep] = bench_wall() - t0;
        if (!(sum > 0)) exit(1);

        /* the cheapest run: arrivals into the metrics, no design */
        t0 = bench_wall();
        sim *s = sim_create(1, 0, p->horizon);
        struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = 600 * SIM_SEC}, bench_ignore_row, NULL);
        struct workload *w = workload_create(s, &p->workload, arrive, m);
        sim_run(s);
        arrivals = workload_arrivals(w);
        workload_destroy(w);
        metrics_destroy(m);
        sim_destroy(s);
        t_replay[rep] = bench_wall() - t0;

        /* the study: every design, one replication each */
        struct study_run_options o = {.output = out, .config_path = path, .command_line = "bench_trace"};
        struct study_result *res = NULL;
        unlink(out);
        t0 = bench_wall();
        if (study_run(p, &o, &res) != 0) exit(1);
        units = p->n_designs;
        t_run[rep] = (bench_wall() - t0) / (double)units;
        study_result_free(res);
        study_params_free(p);
        free(p);
        conf_free(c);
    }
    unlink(out);
    unlink(path);
    unlink(link);
    rmdir(dir);
    double read = median(t_read, reps), run = median(t_run, reps), replay = median(t_replay, reps);
    printf("case=%s arrivals=%llu designs=%llu check_s=%.4f read_s=%.4f run_s=%.4f share=%.3f replay_only_s=%.4f "
           "share_of_replay_only=%.3f reps=%d\n",
           name, (unsigned long long)arrivals, (unsigned long long)units, median(t_parse, reps), read, run, read / run,
           replay, read / replay, reps);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    if (reps < 1 || reps > 64) {
        fprintf(stderr, "usage: bench_trace [repetitions 1-64]\n");
        return 2;
    }
    traces_source_root(tree, sizeof tree);
    if (!traces_find(root, sizeof root)) {
        fprintf(stderr, "bench_trace: the traces are not where they should be: set STRATO_TRACES\n");
        return 1;
    }
    char trace[2048];
    snprintf(trace, sizeof trace, "file = \"%s/nasa-http-1995-per-second/workload.txt\"; format = \"counts\"; "
             "interval = \"1s\";", root);
    bench("nasa95_whole", trace, "5059950s", true, reps);
    snprintf(trace, sizeof trace, "file = \"%s/worldcup98-per-minute/invocation_count.csv\"; format = \"counts_csv\"; "
             "time_column = \"period\"; interval = \"1m\"; scale = 0.01;", root);
    bench("worldcup98_whole_1pct", trace, "87d", false, reps);
    snprintf(trace, sizeof trace, "file = \"%s/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv\"; "
             "format = \"timestamps_csv\"; time_column = \"TIMESTAMP\";", root);
    bench("azure_llm_conv", trace, "1h", true, reps);
    return 0;
}
