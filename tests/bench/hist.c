/* hist.c: benchmark of the histogram add path (stats_hist_add), which runs once per simulated request.
 *
 * Adds a fixed table of lognormal latencies (mean 0.1 s, coefficient of variation 3, the spread of a
 * heavy-tailed service) to one histogram, round after round, and prints the wall-clock cost per add
 * as one line: `bench=hist_add adds=N ns_per_add=X p99_s=Y` (p99_s shows the work was not skipped).
 * The table is drawn before timing, so the random generator's cost is not counted; it is small
 * enough (512 KiB) to stay in cache next to the histogram, so this is the add path's own cost.
 * Prints figures only; it asserts nothing about time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "stats.h"

enum { TABLE = 1 << 16, ROUNDS = 3000 };

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    double *latency = malloc(TABLE * sizeof *latency);
    struct stats_hist *h = calloc(1, sizeof *h);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (latency == NULL || h == NULL || r == NULL) {
        fprintf(stderr, "bench hist: out of memory\n");
        return 1;
    }
    double sigma = sqrt(log(1.0 + 3.0 * 3.0)), mu = log(0.1) - sigma * sigma / 2.0;
    for (size_t i = 0; i < TABLE; i++)
        latency[i] = gsl_ran_lognormal(r, mu, sigma);

    /* One untimed round warms the caches and the branch predictor. */
    for (size_t i = 0; i < TABLE; i++)
        stats_hist_add(h, latency[i]);
    stats_hist_reset(h);

    double start = seconds_now();
    for (int round = 0; round < ROUNDS; round++)
        for (size_t i = 0; i < TABLE; i++)
            stats_hist_add(h, latency[i]);
    double elapsed = seconds_now() - start;

    uint64_t adds = (uint64_t)ROUNDS * TABLE;
    printf("bench=hist_add adds=%llu ns_per_add=%.2f p99_s=%.4g\n", (unsigned long long)adds,
           1e9 * elapsed / (double)adds, stats_hist_quantile(h, 0.99));
    gsl_rng_free(r);
    free(h);
    free(latency);
    return 0;
}
