/* lambda.c: throughput of the serverless design kind: requests per wall second through the workload,
 * one Lambda function's execution environments (most recently used reuse, a keep-alive heap, one expiry
 * event per function), its concurrency accounting and metrics, at two loads: 2,000 requests/s of
 * 100 ms (about 200 environments busy, a few cold starts) and 20,000 requests/s of 10 ms; then the
 * first again with the cost ledger booking every invocation and the front door's counters. Prints
 * key=value lines with requests and events per wall second and the process's peak RSS.
 * Target (issue 5): >= 100x SimFaaS, whose authors report 1 million requests in about 42-60 s, so
 * >= 2 million requests/s.
 *
 * Usage: bench_lambda [scale]   (scale multiplies the horizons; default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "benchutil.h"
#include "cost.h"
#include "lambda.h"
#include "metrics.h"
#include "prices.h"
#include "workload.h"

static void bench(double rps, double cpu_s, double horizon_s, const struct cost_prices *prices)
{
    char text[2048];
    snprintf(text, sizeof text,
             "workload: { arrivals: { mean_rps = %g; };\n"
             "  classes = ( { name = \"api\"; cpu = { dist = \"exponential\"; mean = \"%gs\"; };\n"
             "                response_bytes = { dist = \"lognormal\"; mean = \"4KB\"; cv = 1.0; }; } ); };\n"
             "design: { account_concurrency = 100000;\n"
             "  functions = ( { name = \"api\"; memory_mb = 1769; timeout = \"30s\"; runtime = \"python3.12\"; } ); };\n",
             rps, cpu_s);
    conf *c = conf_load_string(text, "bench_lambda", stderr);
    struct workload_params w;
    struct lambda_params p;
    if (!c || !workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w) ||
        !lambda_parse(c, conf_group(c, conf_root(c), "design", true), &w, &p)) {
        fprintf(stderr, "bench_lambda: the study does not parse\n");
        exit(1);
    }
    sim *s = sim_create(1, 0, sim_from_seconds(horizon_s));
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = 60 * SIM_SEC, .warmup = 0}, bench_ignore_row, NULL);
    struct cost *cost = prices ? cost_create(s, prices, &p.billing, true) : NULL;
    if (cost) metrics_attach_cost(m, cost);
    struct lambda *l = lambda_create(s, &p, m, cost);
    struct workload *wl = workload_create(s, &w, lambda_submit, l);
    double t0 = bench_wall();
    sim_run(s);
    double dt = bench_wall() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct lambda_stats st;
    lambda_stats(l, 0, &st);
    uint64_t arrivals = workload_arrivals(wl);
    printf("bench=lambda%s rps=%g cpu_s=%g horizon_s=%.0f requests=%llu cold_starts=%llu concurrency_max=%u "
           "environments_created=%llu wall_s=%.3f requests_per_s=%.0f events_per_s=%.0f peak_rss_kib=%ld\n",
           cost ? "_billed" : "", rps, cpu_s, horizon_s, (unsigned long long)arrivals,
           (unsigned long long)st.cold_starts, st.concurrency_max, (unsigned long long)st.environments_created, dt,
           (double)arrivals / dt, (double)sim_events(s) / dt, ru.ru_maxrss);
    workload_destroy(wl);
    lambda_destroy(l);
    cost_destroy(cost);
    metrics_destroy(m);
    sim_destroy(s);
    lambda_params_free(&p);
    workload_params_free(&w);
    conf_free(c);
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: bench_lambda [scale > 0]\n");
        return 2;
    }
    conf *cf = conf_load_string(TEST_PRICES, "bench_lambda", stderr);
    struct cost_prices prices;
    if (!cf || !cost_prices_parse(cf, true, &prices)) return 1;
    bench(2000, 0.1, scale * 3600, NULL);
    bench(20000, 0.01, scale * 600, NULL);
    bench(2000, 0.1, scale * 3600, &prices);
    conf_free(cf);
    return 0;
}
