/* onprem.h: a fixed fleet of identical servers in the user's own data centre.
 *
 * Models: N servers (see server.h) behind a dispatcher that sends each request, on arrival, to one
 * server: round robin, or join-the-shortest-queue (the server with the fewest requests in it, ties to
 * the lowest index). A request that its server cannot queue is rejected with a 503.
 *
 * Leaves out (for now): total cost of ownership, failures and repairs, purchase lead time, power.
 *
 * Invariant: requests held = sum over servers of (busy + queued).
 * Scale: up to thousands of servers; round robin is O(1) per request, JSQ O(N).
 */
#ifndef ONPREM_H
#define ONPREM_H

#include "conf.h"
#include "metrics.h"
#include "server.h"
#include "sim.h"

enum onprem_dispatch { ONPREM_ROUND_ROBIN, ONPREM_JSQ };

struct onprem_params {
    unsigned servers;              /* >= 1 */
    struct server_params server;   /* each server */
    enum onprem_dispatch dispatch;
};

/* Reads an onprem design group (servers, server { cores, speed, queue_limit }, dispatch) into p.
 * Returns false after reporting mistakes through c. */
bool onprem_parse(conf *c, const config_setting_t *design, struct onprem_params *p);

struct onprem;

/* Builds the fleet on s, reporting into m (and attaching itself as m's probe). p is copied. */
struct onprem *onprem_create(sim *s, const struct onprem_params *p, struct metrics *m);
void onprem_destroy(struct onprem *o);

/* The workload sink: dispatches r (ctx is the struct onprem). */
void onprem_submit(void *ctx, const struct request *r);

/* Requests in the fleet now (busy + queued over all servers). */
uint64_t onprem_in_system(const struct onprem *o);

#endif
