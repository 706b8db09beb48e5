/* server.h: one machine that serves requests (an EC2 instance or an on-premises server).
 *
 * Models: `cores` identical cores of relative speed `speed` (1.0 = the reference core the workload's
 * CPU demands are expressed in); a request needs demand/speed seconds of one core; requests that find
 * every core busy wait in one FCFS queue of at most `queue_limit` requests, and beyond that are
 * rejected (HTTP 503). Busy time is accounted per core-nanosecond, exactly, for utilization.
 *
 * A server can be killed (its instance failed or became unreachable): every request in it is handed
 * back as lost, and it is empty and idle afterwards. When it is up is decided by the design that owns
 * it (onprem, ec2).
 *
 * Leaves out: processor sharing, memory, network time, multi-threaded requests, warm-up of caches or
 * JIT.
 *
 * Invariant: busy <= cores; queued > 0 only when busy == cores; every request submitted and accepted
 * is completed exactly once (done callback), or still in the server at the end of the run.
 * Scale: one per instance, thousands per run; O(1) per request, no allocation once the queue has
 * grown to its high-water mark.
 */
#ifndef SERVER_H
#define SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"
#include "workload.h"

struct server_params {
    unsigned cores;      /* >= 1 */
    double speed;        /* relative to the reference core, > 0 */
    int64_t queue_limit; /* requests allowed to wait, >= 0; SERVER_UNLIMITED for no limit */
};
#define SERVER_UNLIMITED INT64_MAX

/* Called when a request completes: r as submitted, at sim_now(). */
typedef void server_done_fn(void *ctx, const struct request *r);

struct server;

/* Creates an idle server on s. p is copied. Never returns NULL. */
struct server *server_create(sim *s, const struct server_params *p, server_done_fn *done, void *ctx);
void server_destroy(struct server *sv);

/* Starts r on a free core or queues it. Returns false, and keeps nothing, when the queue is full:
 * the caller answers the client with a 503. Synchronous. */
bool server_submit(struct server *sv, const struct request *r);

unsigned server_busy(const struct server *sv);      /* cores serving a request now */
uint64_t server_queued(const struct server *sv);    /* requests waiting now */
static inline uint64_t server_held(const struct server *sv) { return server_busy(sv) + server_queued(sv); }
const struct server_params *server_params(const struct server *sv);

/* Core-seconds of busy time from creation to now. */
double server_busy_core_seconds(const struct server *sv);

/* Empties the server at once: the completions of requests in service are cancelled, and every
 * request in service or waiting is passed to lost(ctx, r), in service first, then in queue order. */
void server_kill(struct server *sv, server_done_fn *lost, void *ctx);

#endif
