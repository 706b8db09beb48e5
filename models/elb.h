/* elb.h: an Application Load Balancer: one node per zone, a target group, health checks, routing.
 *
 * Models, with ALB defaults from aws-facts.md section 1:
 * - Nodes: one per zone. Clients reach a node by DNS, uniformly among the nodes whose zone is up and
 *   that have at least one healthy target they may route to (DNS fail-over when a zone has none,
 *   target_group_health minimum 1, section 1.3); when no node has one, every node that is up takes
 *   traffic and routes to all its targets regardless of health (fail-open, section 1.1).
 * - Targets: registered instances. Each node health-checks every target on its own (interval 30 s,
 *   timeout 5 s, healthy threshold 5, unhealthy threshold 2; a new target needs 1 passing check;
 *   section 1.1), starting at a random phase. A check is a small request (check_cpu of work) that
 *   queues on the target like any other: it fails when the target is down or its queue is full, or
 *   when the answer comes later than the timeout, so an overloaded target is taken out of service.
 * - Routing per node over the targets it sees healthy (its own zone's only when cross-zone load
 *   balancing is off): round robin, least outstanding requests (counted per node, as each ALB node
 *   does) or random.
 * - Deregistration: a draining target gets no new requests; it becomes unused when its requests are
 *   done or after the deregistration delay (300 s), and the owner is told.
 * - Errors by reason: no healthy target (no node can take the request), connection refused (routed
 *   to a target whose host is up but not serving: at once), connect timeout (routed to a target whose
 *   host is gone: after the connect timeout, 10 s, UNCONFIRMED: the ALB troubleshooting guide's
 *   figure for HTTP 504, not in aws-facts.md), queue full (503), target died mid-request, timeout (the
 *   response took longer than the request timeout, 60 s: the ALB idle timeout, section 1.3; counted
 *   when the target answers).
 * - A request that crosses zones adds the inter-zone round trip to its latency and its response bytes
 *   to the cross-zone traffic; inside a zone it adds the intra-zone round trip.
 *
 * Leaves out: clients caching a dead node's address (DNS TTL), connection reuse, slow start, weighted
 * random and anomaly mitigation, per-request LCU accounting (the cost model), passive health checks.
 * Invariant: requests outstanding per target = requests it holds (checked at the end through the
 * servers); a target is in exactly one registration state; health is tracked per (node, target).
 * Scale: tens to thousands of targets; O(1) per request for round robin and random, O(targets seen
 * by the node) for least outstanding requests; O(targets) per health-state change.
 */
#ifndef ELB_H
#define ELB_H

#include <stdbool.h>
#include <stdint.h>

#include "az.h"
#include "conf.h"
#include "metrics.h"
#include "server.h"
#include "sim.h"
#include "workload.h"

enum elb_algorithm { ELB_ROUND_ROBIN, ELB_LEAST_OUTSTANDING, ELB_RANDOM };

struct elb_params {
    enum elb_algorithm algorithm;
    bool cross_zone;              /* ALB default: on (section 1.4) */
    sim_time interval;            /* ns, health check interval, 5-300 s */
    sim_time timeout;             /* ns, health check timeout, 2-120 s, < interval */
    unsigned healthy_threshold;   /* consecutive passes to become healthy, 2-10 */
    unsigned unhealthy_threshold; /* consecutive failures to become unhealthy, 2-10 */
    double check_cpu;             /* s of work a health check costs the target, >= 0 */
    sim_time deregistration_delay;/* ns, 0-3600 s */
    sim_time request_timeout;     /* ns, > 0 */
    sim_time connect_timeout;     /* ns: a request to a silent target fails after this */
};

/* How a target answers a new connection. */
enum elb_reach {
    ELB_REACHABLE, /* its instance serves */
    ELB_REFUSES,   /* its host is there but nothing listens (booting, terminated): refused at once */
    ELB_SILENT     /* its host is gone (zone down, hardware failure): nothing answers until a timeout */
};

/* Reads an `lb` group (NULL: the defaults). Returns false after reporting mistakes. */
bool elb_parse(conf *c, const config_setting_t *lb, struct elb_params *p);

/* A request class value reserved for health checks (never a workload class). */
#define ELB_CHECK_CLASS UINT16_MAX

enum elb_health { ELB_INITIAL, ELB_HEALTHY, ELB_UNHEALTHY };
enum elb_registration { ELB_REGISTERED, ELB_DRAINING, ELB_UNUSED };

struct elb;

/* Called when a draining target becomes unused (its owner may terminate it). */
typedef void elb_unused_fn(void *ctx, uint32_t target);

/* Creates the balancer on s with one node per zone of a. p is copied. Never NULL. */
struct elb *elb_create(sim *s, const struct elb_params *p, struct az *a, struct metrics *m, elb_unused_fn *unused,
                       void *ctx);
void elb_destroy(struct elb *b);

/* Registers target id t (ids are small integers chosen by the owner, e.g. instance indices) in zone z,
 * served by sv (borrowed). healthy: start healthy in every node's view (a fleet that is already in
 * service), else initial. The target starts reachable. */
void elb_register(struct elb *b, uint32_t t, unsigned zone, struct server *sv, bool healthy);
/* Starts deregistration: draining, then unused (see above). */
void elb_deregister(struct elb *b, uint32_t t);
/* How the target's instance answers now; the owner keeps it current. */
void elb_set_reach(struct elb *b, uint32_t t, enum elb_reach reach);
/* A zone's node goes down or comes back with the zone (starting over: every target initial). */
void elb_zone_changed(struct elb *b, unsigned zone, bool up);

/* The workload sink (ctx is the struct elb). */
void elb_submit(void *ctx, const struct request *r);
/* The targets' servers report here (through the owner): a request or check completed, or was lost. */
void elb_done(struct elb *b, const struct request *r);
void elb_lost(struct elb *b, const struct request *r);

/* Called whenever a node's view of a target's health changes (an auto scaling group listens). */
typedef void elb_health_fn(void *ctx, uint32_t target);
void elb_set_health_listener(struct elb *b, elb_health_fn *fn, void *ctx);

/* Queries, for metrics and tests. */
bool elb_registered(const struct elb *b, uint32_t t);
enum elb_registration elb_registration(const struct elb *b, uint32_t t);
enum elb_health elb_health(const struct elb *b, unsigned node, uint32_t t);
/* Whether most of the nodes that are up see target t unhealthy (the target group's verdict). */
bool elb_seen_unhealthy(const struct elb *b, uint32_t t);
/* Registered targets of zone z that most of the nodes that are up see healthy (0 when none is up). */
unsigned elb_healthy_in_zone(const struct elb *b, unsigned zone);
/* Workload requests sent to targets and not yet answered or failed (including those waiting for a
 * silent target's connect timeout). */
uint64_t elb_outstanding(const struct elb *b);
/* Health checks waiting or in service on targets' servers. */
uint64_t elb_checks_in_servers(const struct elb *b);
/* Requests waiting for a silent target's connect timeout (not in any server). */
uint64_t elb_connecting(const struct elb *b);
/* Requests routed to target t so far (for tests of routing shares). */
uint64_t elb_routed(const struct elb *b, uint32_t t);

#endif
