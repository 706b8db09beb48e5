/* workload.h: the traffic a service receives, identical for every design.
 *
 * Models: open arrivals (a Poisson process, made non-homogeneous by thinning with a constant or a
 * diurnal rate profile, times step changes of the rate such as a flash crowd); request classes chosen by share, each with a CPU demand distribution (in
 * seconds of work on a core of relative speed 1.0); the service level objective the study judges
 * designs by (a latency percentile target and an availability target).
 *
 * Common random numbers: arrivals, classes and demands come from the workload streams
 * "workload/arrivals" and "workload/demand" only, and are drawn at arrival, whatever the design does
 * with the request. So replication r of every design sees exactly the same requests, and design
 * differences are paired.
 *
 * A trace (trace.h) replaces the profile: its counts per interval become arrivals inside each interval
 * (a Poisson process, or exactly the count evenly spaced or at uniform times), its timestamps replay
 * as given, and a trace that tells classes apart gives each request its class: with exact counts,
 * each class keeps its own count in every interval.
 *
 * Leaves out (for now): closed-loop users, weekly and step profiles, retries by clients, request
 * sizes (only response sizes, for data transfer).
 *
 * Invariant: every arrival is handed to the sink exactly once, in time order, with id 0, 1, 2, ...
 * Scale: millions of requests per simulated hour; O(1) and no allocation per request.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <stdint.h>

#include "conf.h"
#include "dist.h"
#include "sim.h"
#include "trace.h"

/* One request, as it travels between models (by value, in event payloads). */
struct request {
    uint64_t id;       /* arrival number within the run, from 0 */
    sim_time arrival;  /* ns */
    double demand;     /* s of CPU work at relative core speed 1.0, >= 0 */
    sim_time start;    /* ns: when a core began serving it (set by the server) */
    uint32_t server;   /* index of the server or target it was dispatched to (set by the design) */
    uint32_t bytes;    /* response size, bytes */
    uint16_t cls;      /* index into workload_params.classes */
    uint16_t node;     /* load balancer node (zone) that routed it (set by the design) */
};

#define WORKLOAD_MAX_CLASSES 32

enum workload_profile { WORKLOAD_CONSTANT, WORKLOAD_DIURNAL };

#define WORKLOAD_MAX_CHANGES 32

/* From `at` on, the profile's rate is multiplied by `factor` (a step, a flash crowd, its end). */
struct workload_change {
    sim_time at;    /* ns */
    double factor;  /* >= 0 */
};

struct workload_class {
    const char *name; /* borrowed from the conf */
    double share;     /* fraction of arrivals, (0, 1]; shares sum to 1 */
    struct dist cpu;  /* s of CPU work per request at speed 1.0 */
    struct dist bytes; /* response size in bytes; DIST_NONE = 0 (nothing counted) */
};

/* How a trace's count for an interval becomes arrivals inside it. */
enum workload_within {
    WORKLOAD_POISSON,  /* a Poisson process at the interval's rate (count x scale / length) */
    WORKLOAD_EVEN,     /* exactly the count (scaled, rounded at random), evenly spaced */
    WORKLOAD_UNIFORM   /* exactly the count, at independent uniform times (sorted) */
};

struct workload_params {
    enum workload_profile profile;
    bool traced;          /* arrivals from a trace (the profile, rate and changes do not apply) */
    struct trace_params trace;
    enum workload_within within;
    double demand_base;   /* s: with per-value demands, a request's CPU demand is base + sum v[i] x per_value[i] */
    unsigned n_per_value; /* one per value column of a timestamps trace; 0: the class's cpu distribution */
    double demand_per_value[TRACE_MAX_VALUES]; /* s per unit of each value (e.g. per token) */
    bool trace_classes;   /* the trace gives each request's class (shares do not apply) */
    uint16_t trace_cls[TRACE_MAX_STREAMS]; /* the class of each of the trace's streams */
    double mean_rps;      /* requests/s averaged over a day, > 0 */
    double peak_to_mean;  /* diurnal: peak rate / mean rate, in [1, 2] */
    double peak_hour;     /* diurnal: hour of day of the peak, [0, 24) */
    unsigned n_changes;   /* rate changes, in time order */
    struct workload_change changes[WORKLOAD_MAX_CHANGES];
    unsigned n_classes;
    struct workload_class classes[WORKLOAD_MAX_CLASSES];
    double slo_quantile;  /* latency percentile judged by the SLO, e.g. 0.99 */
    double slo_latency;   /* s: that percentile must not exceed this */
    double slo_availability; /* fraction of requests that must succeed, (0, 1] */
};

/* Reads the `workload` group into p, reporting every mistake through c. Returns false if any was
 * found. Strings in p are borrowed from c; free p with workload_params_free. */
bool workload_parse(conf *c, const config_setting_t *group, struct workload_params *p);
void workload_params_free(struct workload_params *p);

/* The arrival rate (requests/s) at time t (ns) under p's profile. */
double workload_rate(const struct workload_params *p, sim_time t);

/* Called for each arrival, synchronously, at its arrival time. */
typedef void workload_sink_fn(void *ctx, const struct request *r);

struct workload;

/* Creates the generator on s and schedules its first arrival. p is borrowed for the run's lifetime.
 * Never returns NULL. */
struct workload *workload_create(sim *s, const struct workload_params *p, workload_sink_fn *sink,
                                 void *sink_ctx);
void workload_destroy(struct workload *w);

/* Requests generated so far. */
uint64_t workload_arrivals(const struct workload *w);

#endif
