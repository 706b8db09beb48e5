/* benchutil.h: what the benchmark programs share: a wall clock and a sink for rows nobody keeps. */
#ifndef BENCHUTIL_H
#define BENCHUTIL_H

#include <time.h>

#include "metrics.h"

/* Seconds on the monotonic clock. */
static inline double bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A metrics row callback that drops the row (benchmarks measure speed, not results). */
static inline int bench_ignore_row(void *ctx, const struct metrics_row *row)
{
    (void)ctx;
    (void)row;
    return 0;
}

#endif
