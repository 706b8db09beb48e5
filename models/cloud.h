/* cloud.h: the `cloud` design kind: a fixed fleet of EC2 instances across zones behind a load balancer.
 *
 * Wires the region (az.h), the instances (ec2.h) and an Application Load Balancer (elb.h) to the
 * workload and metrics. The fleet is a list of groups, each an instance type, a count and optionally
 * a zone (else the group is spread over the zones in turn, as an auto scaling group balances zones).
 * The fleet either exists at the start (instances running and in service) or is launched at time 0
 * (booting, then registered with the balancer and health-checked into service).
 *
 * A target is registered when its instance first runs; the balancer is told whenever an instance can
 * or cannot answer (zone outage, hardware failure, reboot). Nothing replaces a failed instance of the
 * fixed fleet: that is what an auto scaling group is for.
 *
 * With an `asg` group, an EC2 Auto Scaling group (asg.h) manages its own instances on the same
 * balancer, beside any fixed fleet.
 *
 * With a cost ledger (cost.h), the design books its instances (On-Demand or spot, with AWS's
 * interruptions marked), their volumes, the balancer's traffic and the bytes it sends to clients.
 *
 * Leaves out: any traffic but the responses (requests in, calls to other services).
 * Invariant: requests held by the balancer = requests in the instances' servers minus health checks
 * there; checked at the end of every run along with request and instance conservation.
 * Scale: hundreds to thousands of instances.
 */
#ifndef CLOUD_H
#define CLOUD_H

#include "asg.h"
#include "az.h"
#include "conf.h"
#include "cost.h"
#include "ec2.h"
#include "elb.h"
#include "metrics.h"
#include "sim.h"

#define CLOUD_MAX_GROUPS 16

struct cloud_group {
    const struct ec2_type *type; /* borrowed from the study's catalog */
    unsigned count;
    int zone;                    /* -1: spread over the zones */
};

struct cloud_params {
    struct az_params region;
    struct ec2_params instances;
    struct elb_params lb;
    unsigned n_groups;
    struct cloud_group groups[CLOUD_MAX_GROUPS];
    bool launch_at_start;        /* true: boot at time 0; false: in service at time 0 */
    bool has_asg;                /* an auto scaling group manages (more) instances */
    struct asg_params asg;
    struct cost_billing billing; /* purchase options, volumes, balancer rules */
};

/* Reads a cloud design group; instance types are looked up in cat (borrowed). */
bool cloud_parse(conf *c, const config_setting_t *design, const struct ec2_catalog *cat, struct cloud_params *p);
void cloud_params_free(struct cloud_params *p);

struct cloud;

/* Builds the design on s, reporting into m (and attaching as its probe) and booking its costs in
 * cost (NULL: none). p and cost are borrowed for the run. */
struct cloud *cloud_create(sim *s, const struct cloud_params *p, struct metrics *m, struct cost *cost);
void cloud_destroy(struct cloud *c);

/* The workload sink (ctx is the struct cloud). */
void cloud_submit(void *ctx, const struct request *r);

/* The probe the design attaches to metrics (for designs made of parts). */
struct metrics_probe cloud_probe(const struct cloud *c);

/* The parts, for tests. */
struct ec2 *cloud_ec2(const struct cloud *c);
struct elb *cloud_elb(const struct cloud *c);
struct az *cloud_az(const struct cloud *c);
struct asg *cloud_asg(const struct cloud *c); /* NULL without one */

#endif
