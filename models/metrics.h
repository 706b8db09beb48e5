/* metrics.h: what a design run measured, one row per report interval, infrastructure events, totals.
 *
 * Models: counts of arrivals, successes and errors by reason; latency (arrival to completion, plus
 * any network time the design adds) and queueing wait of the requests completed in each interval,
 * with quantiles from a log-bucket histogram (relative error <= 1/128, see stats.h); requests in
 * flight; utilization of the cores the design has (core-seconds integrated exactly as capacity
 * changes); instances by state and healthy targets per zone, sampled at the end of each interval;
 * bytes that crossed zones. Rows stream out through a callback as each interval ends, so memory does
 * not grow with the horizon; infrastructure events (launches, failures, outages, health changes)
 * stream out through another. Run totals cover requests that arrived at or after the warm-up.
 *
 * With a cost ledger attached, each row also carries every cost category's cumulative amount and its
 * rate over the interval, and the totals the cost of the measured window.
 *
 * Leaves out: per-class breakdowns.
 *
 * Invariant, checked at the end of every run: arrived = succeeded + failed + in flight, where in flight
 * is what the design itself holds (metrics_probe.in_system), not a difference of counters.
 * Scale: O(1) per request; one 60 KiB histogram for the interval and one for the run.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "cost.h"
#include "sim.h"
#include "stats.h"
#include "workload.h"

/* Why a request failed. */
enum metrics_error {
    METRICS_ERR_QUEUE_FULL,         /* 503: the server's queue was full */
    METRICS_ERR_NO_HEALTHY_TARGET,  /* no load balancer node could take it */
    METRICS_ERR_CONNECTION_REFUSED, /* routed to a target whose host is up but not serving */
    METRICS_ERR_CONNECT_TIMEOUT,    /* routed to a target whose host is gone: gave up connecting */
    METRICS_ERR_TARGET_DIED,        /* its server died or became unreachable while holding it */
    METRICS_ERR_TIMEOUT,            /* answered later than the request timeout */
    METRICS_ERR_THROTTLED,          /* 429: beyond the concurrency or scaling limits (Lambda) */
    METRICS_ERR_EXPIRED,            /* an asynchronous request throttled until its maximum age */
    METRICS_N_ERRORS
};
extern const char *const metrics_error_names[METRICS_N_ERRORS];

/* Infrastructure events, one row each in the run's `events` table. */
enum metrics_event_kind {
    METRICS_EV_INSTANCE_PENDING, METRICS_EV_INSTANCE_RUNNING, METRICS_EV_INSTANCE_DRAINING,
    METRICS_EV_INSTANCE_TERMINATED, METRICS_EV_INSTANCE_UNREACHABLE, METRICS_EV_INSTANCE_FAILED,
    METRICS_EV_ZONE_DOWN, METRICS_EV_ZONE_UP, METRICS_EV_TARGET_HEALTHY, METRICS_EV_TARGET_UNHEALTHY,
    METRICS_EV_TARGET_DRAINING, METRICS_EV_TARGET_UNUSED, METRICS_EV_SCALING, METRICS_EV_REPLACED,
    METRICS_EV_SPOT_REBALANCE, METRICS_EV_SPOT_NOTICE, METRICS_EV_SPOT_INTERRUPTION, METRICS_N_EVENT_KINDS
};
extern const char *const metrics_event_names[METRICS_N_EVENT_KINDS];

struct metrics_event {
    double t_s;    /* s */
    int32_t kind;  /* enum metrics_event_kind */
    int64_t az;    /* zone, or -1 */
    int64_t id;    /* instance or target id, or -1 */
    double value;  /* kind-specific: target health events: the zone of the node that saw it; scaling: the
                      new desired capacity */
};

#define METRICS_ZONES 6 /* healthy-target columns; matches AZ_MAX */

/* One report interval ending at t_s: interval long, or shorter for the last one when the horizon is
 * not a multiple of it. Something that happens at exactly t_s counts in this row or the next one,
 * depending on which was scheduled first. NaN where undefined. */
struct metrics_row {
    double t_s;                 /* s: end of the interval */
    uint64_t arrivals;          /* requests that arrived in the interval */
    uint64_t successes;         /* requests completed in the interval */
    uint64_t errors;            /* requests failed in the interval, all reasons */
    uint64_t errors_by[METRICS_N_ERRORS]; /* of which, by reason (enum metrics_error) */
    uint64_t in_flight;         /* requests in the system at t_s */
    double latency_mean_s;      /* s, over requests completed in the interval */
    double latency_slo_s;       /* s, the SLO's percentile over requests completed in the interval; NaN */
    double latency_p50_s, latency_p90_s, latency_p99_s, latency_p999_s, latency_max_s; /* s */
    double wait_mean_s;         /* s, queueing wait before service started */
    double utilization;         /* busy core-seconds / available core-seconds in the interval */
    double instances[4];        /* at t_s: pending, running, draining, down (unreachable or failed); NaN if none */
    double healthy_targets[METRICS_ZONES]; /* at t_s, per zone; NaN for zones the design lacks */
    uint64_t cross_zone_bytes;  /* response bytes that crossed zones in the interval */
    double desired;             /* auto scaling group's desired capacity at t_s; NaN without one */
    double scaling_metric;      /* the latest datapoint its policies saw (their first policy's metric); NaN */
    double capacity_on_demand;  /* its live capacity units on On-Demand at t_s; NaN without a group */
    double capacity_spot;       /* and on spot */
    double group[2][3];         /* its members at t_s by market (On-Demand, spot) and state (pending, in
                                   service, terminating: draining or about to end); NaN without a group */
    double cost_usd[COST_N_CATEGORIES];  /* USD booked by t_s since the start, per category; NaN without a ledger */
    double cost_rate[COST_N_CATEGORIES]; /* USD per hour booked over the interval, per category; NaN */
    double cost_total_usd;      /* USD, all categories, by t_s; NaN */
    double cost_total_rate;     /* USD per hour over the interval, all categories; NaN */
    /* Lambda (NaN for other designs): in the interval, invocations started, cold starts, throttled
     * attempts, the most and the mean executions in progress, init seconds, billed GB-seconds; at t_s,
     * idle (or initialising provisioned) and busy environments */
    double lambda_invocations, lambda_cold_starts, lambda_throttles, lambda_concurrency_max,
        lambda_concurrency_mean, lambda_init_s, lambda_billed_gb_s, lambda_envs_idle, lambda_envs_busy;
};

/* What the design tells metrics about itself. Optional callbacks may be NULL. */
struct metrics_probe {
    const void *ctx;
    uint64_t (*in_system)(const void *ctx);       /* requests it holds now (queued or in service) */
    double (*busy_core_seconds)(const void *ctx); /* cumulative, since the start of the run */
    double (*cores)(const void *ctx);             /* cores available now; asked at attach and at metrics_cores_changed */
    void (*instances)(const void *ctx, double out[4]);     /* optional: see metrics_row.instances */
    void (*healthy)(const void *ctx, double out[METRICS_ZONES]); /* optional: see metrics_row */
    void (*scaling)(const void *ctx, struct metrics_row *row); /* optional: fills desired .. group */
};

typedef int metrics_row_fn(void *ctx, const struct metrics_row *row); /* 0 or a negative error */
typedef int metrics_event_fn(void *ctx, const struct metrics_event *ev); /* 0 or a negative error */

struct metrics_params {
    sim_time interval; /* ns, > 0 */
    sim_time warmup;   /* ns, >= 0: requests arriving earlier are left out of the totals */
    double slo_quantile; /* the latency SLO's percentile (e.g. 0.99), 0 = none */
    double slo_latency;  /* s: its target */
};

/* Run totals over requests that arrived at or after the warm-up. */
struct metrics_totals {
    uint64_t arrivals, successes, errors, in_flight_at_end;
    uint64_t waited;         /* successes that waited in a queue (wait > 0) */
    struct stats_acc wait;   /* s, of successes */
    struct stats_hist latency; /* s, of successes */
    double busy_core_seconds, core_seconds; /* after the warm-up */
    double measured_s;       /* s: horizon - warm-up */
    double cost_usd;         /* USD booked in the measured window; NaN without a ledger */
    uint64_t slo_intervals;  /* report intervals that began at or after the warm-up and resolved requests */
    uint64_t slo_intervals_met; /* of which, those whose SLO percentile latency met the target */
};

struct metrics;

/* Creates the collector on s and schedules its first report. Rows go to row_fn as intervals end; a
 * negative return from row_fn stops the run and is kept (metrics_status). Never returns NULL. */
struct metrics *metrics_create(sim *s, const struct metrics_params *p, metrics_row_fn *row_fn,
                               void *row_ctx);
void metrics_destroy(struct metrics *m);

/* Connects the design; must be called before the run starts. probe is copied. */
void metrics_attach(struct metrics *m, const struct metrics_probe *probe);

/* A design's own columns: fn(ctx, row) fills them at the end of each interval (after the probe). */
void metrics_set_row_hook(struct metrics *m, void (*fn)(void *ctx, struct metrics_row *row), void *ctx);

/* Books costs in c (borrowed): brought up to date at each row, closed at the horizon. Before the run. */
void metrics_attach_cost(struct metrics *m, struct cost *c);

/* Where infrastructure events go (none by default); a negative return stops the run. */
void metrics_set_event_sink(struct metrics *m, metrics_event_fn *fn, void *ctx);

/* Record an arrival, a success (with its service start in r->start; latency is now - arrival +
 * network, network in ns being what the design adds, e.g. a round trip between zones) or a failure,
 * at sim_now(). */
void metrics_arrival(struct metrics *m, const struct request *r);
void metrics_success(struct metrics *m, const struct request *r, sim_time network);
void metrics_failure(struct metrics *m, const struct request *r, enum metrics_error why);

/* Response bytes that crossed zones, now. */
void metrics_cross_zone(struct metrics *m, uint64_t bytes);

/* The design's serving capacity changed now: metrics asks the probe's cores() again (utilization
 * integrates it exactly). A design made of parts (hybrid) answers for all of them. */
void metrics_cores_changed(struct metrics *m);

/* An infrastructure event now; az and id -1 when not applicable. */
void metrics_event(struct metrics *m, enum metrics_event_kind kind, int az, int64_t id, double value);

/* Totals of the run; complete after sim_run returned. Borrowed from m. */
const struct metrics_totals *metrics_totals(const struct metrics *m);

/* 0, or the first negative code the row callback returned. */
int metrics_status(const struct metrics *m);

#endif
