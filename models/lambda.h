/* lambda.h: the `serverless` design kind: requests served by AWS Lambda functions.
 *
 * Models, with figures from aws-facts.md sections 5 and 10:
 * - Functions: memory 128-10,240 MB, x86_64 or arm64, a runtime, a timeout (default 3 s, at most
 *   900 s). A function's CPU share grows with memory (1,769 MB = one vCPU); a request is single-threaded,
 *   so its CPU demand runs at min(1, memory / 1769 MB) x speed and takes longer on a small function.
 *   A per-request overhead is added. Each function serves its own list of the workload's classes.
 * - Execution environments serve one request at a time. A request takes an idle provisioned
 *   environment, else the most recently used idle on-demand one (as AWS and SimFaaS do), else starts a
 *   new one with a cold start (init time from a distribution by runtime and memory). An idle on-demand
 *   environment is reclaimed after a keep-alive drawn per idle period (default 10 min fixed, Shilkov
 *   2019, Shahrad et al. 2020) and any environment after a maximum lifetime (default 4 h,
 *   theburningmonk 2017: "recycled ~4 h after start"), once it is idle.
 * - Concurrency: executions in progress (initialising or running) plus provisioned environments count
 *   against the function's reserved concurrency or, without one, against the account's limit (default
 *   1,000) less everything reserved. A function creates at most 1,000 new environments in each
 *   10-second window (aligned on multiples of 10 s; AWS: "1,000 execution environments every 10
 *   seconds"). Provisioned concurrency: environments initialised ahead that never expire, optionally
 *   changed on a schedule.
 * - Throttling: a synchronous request that cannot start fails with 429 (`throttled`); an asynchronous
 *   one waits in Lambda's queue and is retried after 1, 2, 4 ... s (at most 5 min), a last time when
 *   its age reaches the maximum event age (default 6 h), then is dropped (`expired`).
 * - A request that runs longer than the timeout fails (`timeout`) at the timeout, and is billed so.
 * - Front door: an Application Load Balancer (Lambda as a target) or an API gateway, each adding a
 *   latency drawn per request; both billed (cost.h).
 * - Billing (cost.h): requests; GB-seconds of init plus invocation, each invocation rounded up to
 *   1 ms (INIT phase billed since 1 August 2025, AWS Compute Blog "AWS Lambda standardizes billing for
 *   INIT phase"); provisioned environments per GB-second allocated plus their lower duration rate.
 *
 * Leaves out: SnapStart, container images, extensions, VPC attachment, recursion, event source
 * mappings (queues, streams), function errors and their retries, burst credits of the old scaling
 * rule, the time AWS takes to allocate provisioned concurrency (an environment is ready after its init).
 * Invariant: every request submitted is executing, waiting to be retried, or resolved; every
 * environment is initialising, busy or idle; checked at the end of every run.
 * Scale: O(log idle environments) per request, millions of requests per second.
 */
#ifndef LAMBDA_H
#define LAMBDA_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "cost.h"
#include "dist.h"
#include "metrics.h"
#include "sim.h"
#include "workload.h"

#define LAMBDA_MAX_FUNCTIONS 16
#define LAMBDA_MAX_SCHEDULE 8

enum lambda_arch { LAMBDA_X86_64, LAMBDA_ARM64 };
enum lambda_front_door { LAMBDA_ALB, LAMBDA_API_GATEWAY };

struct lambda_schedule { /* provisioned concurrency set to `count` at `at`, then every `every` (0: once) */
    sim_time at, every;  /* ns */
    uint32_t count;
};

struct lambda_function {
    const char *name;            /* borrowed */
    double memory_mb;            /* 128 .. 10240 */
    enum lambda_arch arch;
    const char *runtime;         /* borrowed */
    double speed;                /* work per vCPU-second relative to an m5 vCPU, > 0 */
    sim_time timeout;            /* ns, at most 900 s */
    struct dist cold_start;      /* s, init duration */
    struct dist overhead;        /* s added to every invocation */
    struct dist keep_alive;      /* s an idle environment lives */
    struct dist lifetime;        /* s from creation after which an environment is retired when idle */
    uint32_t reserved;           /* reserved concurrency; 0 = none */
    uint32_t provisioned;        /* provisioned environments at the start */
    unsigned n_schedule;
    struct lambda_schedule schedule[LAMBDA_MAX_SCHEDULE];
    bool async;                  /* asynchronous invocation: throttled requests are retried */
    bool serves[WORKLOAD_MAX_CLASSES];
};

struct lambda_params {
    unsigned n_functions;
    struct lambda_function functions[LAMBDA_MAX_FUNCTIONS];
    uint32_t account_limit;      /* concurrent executions in the region (default 1,000) */
    uint32_t scale_per_window;   /* new environments per function per window (default 1,000) */
    sim_time scale_window;       /* ns (default 10 s) */
    sim_time max_event_age;      /* ns, asynchronous requests (default 6 h) */
    enum lambda_front_door front_door;
    struct dist front_latency;   /* s added to each response by the front door */
    struct cost_billing billing; /* the balancer's rules etc., when it is the front door */
};

/* Reads a serverless design group; classes name the workload's classes (each must be served by exactly
 * one function). Returns false after reporting mistakes. */
bool lambda_parse(conf *c, const config_setting_t *design, const struct workload_params *w, struct lambda_params *p);
void lambda_params_free(struct lambda_params *p);

/* vCPU share of a function of `memory_mb`: memory / 1769 MB, at most 6. */
double lambda_vcpus(double memory_mb);

struct lambda;

/* Builds the design on s, reporting into m (and attaching as its probe), billing into cost (NULL:
 * none). p and cost are borrowed. */
struct lambda *lambda_create(sim *s, const struct lambda_params *p, struct metrics *m, struct cost *cost);
void lambda_destroy(struct lambda *l);

/* The probe the design attaches to metrics (for designs made of parts). */
struct metrics_probe lambda_probe(const struct lambda *l);

/* The workload sink (ctx is the struct lambda). */
void lambda_submit(void *ctx, const struct request *r);

/* Counters of function f since the start. */
struct lambda_stats {
    uint64_t invocations, cold_starts, throttles, expired, timeouts, retries;
    uint64_t environments_created;
    uint32_t busy, idle, provisioned;  /* environments now: executing (or initialising), idle on-demand, provisioned */
    uint32_t concurrency_max;          /* executions in progress, the most at once */
    double busy_seconds;               /* integral of executions in progress, s */
    double env_seconds;                /* integral of environments alive, s */
    double init_seconds, billed_gb_seconds;
};
void lambda_stats(const struct lambda *l, unsigned f, struct lambda_stats *out);

#endif
