/* mm1.c: the M/M/1 slice at rho = 0.9 through the real models (workload -> onprem -> server ->
 * metrics), printing simulated requests per wall second and peak memory as key=value lines. Run at two
 * horizons to show that memory does not grow with the horizon (streaming statistics only).
 *
 * Usage: bench_mm1 [scale]   (scale multiplies the horizons; default 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "benchutil.h"
#include "metrics.h"
#include "onprem.h"
#include "workload.h"

static void bench(double horizon_s)
{
    struct workload_params w = {.profile = WORKLOAD_CONSTANT, .mean_rps = 900.0, .n_classes = 1};
    w.classes[0] = (struct workload_class){.name = "only", .share = 1.0, .cpu = dist_exponential(0.001)};
    struct onprem_params op = {.servers = 1, .server = {1, 1.0, SERVER_UNLIMITED}, .dispatch = ONPREM_ROUND_ROBIN};
    sim *s = sim_create(1, 0, sim_from_seconds(horizon_s));
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = 60 * SIM_SEC, .warmup = 0}, bench_ignore_row, NULL);
    struct onprem *o = onprem_create(s, &op, m, NULL);
    struct workload *wl = workload_create(s, &w, onprem_submit, o);
    double t0 = bench_wall();
    sim_run(s);
    double dt = bench_wall() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t n = workload_arrivals(wl);
    printf("bench=mm1 rho=0.9 horizon_s=%.0f requests=%llu requests_per_s=%.0f events_per_s=%.0f peak_rss_kib=%ld\n",
           horizon_s, (unsigned long long)n, (double)n / dt, (double)sim_events(s) / dt, ru.ru_maxrss);
    workload_destroy(wl);
    onprem_destroy(o);
    metrics_destroy(m);
    sim_destroy(s);
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: bench_mm1 [scale > 0]\n");
        return 2;
    }
    bench(scale * 3600);
    bench(scale * 36000);
    return 0;
}
