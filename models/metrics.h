/* metrics.h: what a design run measured, one row per report interval plus run totals.
 *
 * Models: counts of arrivals, successes and errors by reason; latency (arrival to completion) and
 * queueing wait of the requests completed in each interval, with quantiles from a log-bucket
 * histogram (relative error <= 1/128, see stats.h); requests in flight; utilization of the cores the
 * design has. Rows stream out through a callback as each interval ends, so memory does not grow with
 * the horizon. Run totals cover requests that arrived at or after the warm-up time, for the summary.
 *
 * Leaves out: per-class breakdowns, cost (a later model), instances by state.
 *
 * Invariant, checked at the end of every run: arrived = succeeded + failed + in flight, where in flight
 * is what the design itself holds (metrics_probe.in_system), not a difference of counters.
 * Scale: O(1) per request; one 60 KiB histogram for the interval and one for the run.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "sim.h"
#include "stats.h"
#include "workload.h"

enum metrics_error { METRICS_ERR_QUEUE_FULL, METRICS_N_ERRORS };
extern const char *const metrics_error_names[METRICS_N_ERRORS];

/* One report interval ending at t_s: interval long, or shorter for the last one when the horizon is
 * not a multiple of it. Something that happens at exactly t_s counts in this row or the next one,
 * depending on which was scheduled first. NaN where undefined. */
struct metrics_row {
    double t_s;                 /* s: end of the interval */
    uint64_t arrivals;          /* requests that arrived in the interval */
    uint64_t successes;         /* requests completed in the interval */
    uint64_t errors;            /* requests failed in the interval, all reasons */
    uint64_t errors_queue_full; /* of which rejected with 503 because every queue was full */
    uint64_t in_flight;         /* requests in the system at t_s */
    double latency_mean_s;      /* s, over requests completed in the interval */
    double latency_p50_s, latency_p90_s, latency_p99_s, latency_p999_s, latency_max_s; /* s */
    double wait_mean_s;         /* s, queueing wait before service started */
    double utilization;         /* busy core-seconds / available core-seconds in the interval */
};

/* What the design tells metrics about itself. */
struct metrics_probe {
    const void *ctx;
    uint64_t (*in_system)(const void *ctx);       /* requests it holds now (queued or in service) */
    double (*busy_core_seconds)(const void *ctx); /* cumulative, since the start of the run */
    double (*cores)(const void *ctx);             /* cores available now */
};

typedef int metrics_row_fn(void *ctx, const struct metrics_row *row); /* 0 or a negative error */

struct metrics_params {
    sim_time interval; /* ns, > 0 */
    sim_time warmup;   /* ns, >= 0: requests arriving earlier are left out of the totals */
};

/* Run totals over requests that arrived at or after the warm-up. */
struct metrics_totals {
    uint64_t arrivals, successes, errors, in_flight_at_end;
    uint64_t waited;         /* successes that waited in a queue (wait > 0) */
    struct stats_acc wait;   /* s, of successes */
    struct stats_hist latency; /* s, of successes */
    double busy_core_seconds, core_seconds; /* after the warm-up */
    double measured_s;       /* s: horizon - warm-up */
};

struct metrics;

/* Creates the collector on s and schedules its first report. Rows go to row_fn as intervals end; a
 * negative return from row_fn stops the run and is kept (metrics_status). Never returns NULL. */
struct metrics *metrics_create(sim *s, const struct metrics_params *p, metrics_row_fn *row_fn,
                               void *row_ctx);
void metrics_destroy(struct metrics *m);

/* Connects the design; must be called before the run starts. probe is copied. */
void metrics_attach(struct metrics *m, const struct metrics_probe *probe);

/* Record an arrival, a success (with its service start in r->start) or a failure, at sim_now(). */
void metrics_arrival(struct metrics *m, const struct request *r);
void metrics_success(struct metrics *m, const struct request *r);
void metrics_failure(struct metrics *m, const struct request *r, enum metrics_error why);

/* Totals of the run; complete after sim_run returned. Borrowed from m. */
const struct metrics_totals *metrics_totals(const struct metrics *m);

/* 0, or the first negative code the row callback returned. */
int metrics_status(const struct metrics *m);

#endif
