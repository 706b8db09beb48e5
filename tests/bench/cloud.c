/* cloud.c: throughput of the cloud design kind: requests per wall second through the workload, the load
 * balancer (DNS pick of a node, routing, health checks of every target by every node), the instances'
 * servers and metrics, for a fleet of 30 c6i.large (2 vCPU, speed 1.13, as in
 * configs/catalog/us-east-1.cfg) spread over 3 zones, cross-zone on, at rho = 0.7 (exponential CPU
 * demand of 10 ms, lognormal response sizes of mean 20 KB so that cross-zone bytes are counted), with
 * round robin, least outstanding requests and random routing. Prints key=value lines with requests and
 * events per wall second and the process's peak RSS; round robin runs again at three times the
 * horizon to show that memory does not grow with it, and once more with a cost ledger booking every
 * request's balancer counters and transfer (the prices of configs/catalog/us-east-1.cfg), to show what
 * billing costs. Target (issue 3): >= 2 million requests/s.
 *
 * Usage: bench_cloud [scale]   (scale multiplies the horizons; default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "benchutil.h"
#include "cloud.h"
#include "cost.h"
#include "metrics.h"
#include "prices.h"
#include "workload.h"

static const struct ec2_type c6i_large = {"c6i.large", "x86_64", 2, 4.0 * 1073741824, 0.085, 1.13};
static const char *const algorithm_names[] = {"round_robin", "least_outstanding_requests", "random"};

static void bench(conf *cf, enum elb_algorithm algorithm, double horizon_s, const struct cost_prices *prices)
{
    const unsigned n = 30, zones = 3;
    const double service_mean = 0.010, rho = 0.7;
    struct cloud_params p;
    memset(&p, 0, sizeof p);
    if (!az_parse(cf, NULL, &p.region) || !ec2_parse(cf, NULL, &p.instances) || !elb_parse(cf, NULL, &p.lb)) {
        fprintf(stderr, "bench_cloud: the defaults do not parse\n");
        exit(1);
    }
    p.region.n = zones;
    p.lb.algorithm = algorithm;
    p.lb.cross_zone = true;
    p.n_groups = 1;
    p.groups[0] = (struct cloud_group){&c6i_large, n, -1};
    const double lambda = rho * n * c6i_large.vcpu * c6i_large.speed / service_mean;
    struct workload_params w = {.profile = WORKLOAD_CONSTANT, .mean_rps = lambda, .n_classes = 1};
    w.classes[0] = (struct workload_class){.name = "api", .share = 1.0, .cpu = dist_exponential(service_mean),
                                           .bytes = dist_lognormal(20000, 1.5)};

    sim *s = sim_create(1, 0, sim_from_seconds(horizon_s));
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = 60 * SIM_SEC, .warmup = 0}, bench_ignore_row, NULL);
    struct cost_billing billing;
    cost_billing_parse(cf, NULL, NULL, &billing);
    struct cost *cost = prices ? cost_create(s, prices, &billing, true) : NULL;
    if (cost) metrics_attach_cost(m, cost);
    struct cloud *c = cloud_create(s, &p, m, cost);
    struct workload *wl = workload_create(s, &w, cloud_submit, c);
    double t0 = bench_wall();
    sim_run(s);
    double dt = bench_wall() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const struct metrics_totals *t = metrics_totals(m);
    uint64_t arrivals = workload_arrivals(wl);
    printf("bench=cloud%s algorithm=%s instances=%u zones=%u rho=%.2f lambda_per_s=%.0f horizon_s=%.0f requests=%llu "
           "errors=%llu wall_s=%.3f requests_per_s=%.0f events_per_s=%.0f utilization=%.4f peak_rss_kib=%ld\n",
           cost ? "_billed" : "", algorithm_names[algorithm], n, zones, rho, lambda, horizon_s, (unsigned long long)arrivals,
           (unsigned long long)t->errors, dt, (double)arrivals / dt, (double)sim_events(s) / dt,
           t->busy_core_seconds / t->core_seconds, ru.ru_maxrss);
    workload_destroy(wl);
    cloud_destroy(c);
    cost_destroy(cost);
    metrics_destroy(m);
    sim_destroy(s);
    cloud_params_free(&p);
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: bench_cloud [scale > 0]\n");
        return 2;
    }
    conf *cf = conf_load_string(TEST_PRICES, "bench_cloud", stderr);
    struct cost_prices prices;
    if (!cf || !cost_prices_parse(cf, true, &prices)) return 1;
    bench(cf, ELB_ROUND_ROBIN, scale * 1800, NULL);
    bench(cf, ELB_LEAST_OUTSTANDING, scale * 1800, NULL);
    bench(cf, ELB_RANDOM, scale * 1800, NULL);
    bench(cf, ELB_ROUND_ROBIN, scale * 5400, NULL);
    bench(cf, ELB_ROUND_ROBIN, scale * 1800, &prices);
    conf_free(cf);
    return 0;
}
