/* asg.h: an EC2 Auto Scaling group: capacity that follows the load through scaling policies.
 *
 * Models, with defaults and sources from aws-facts.md section 2:
 * - Capacity: min, max, desired. The group launches instances until it has `desired` (pending or in
 *   service), each into the zone with the fewest (zones that are down are skipped), and terminates the
 *   surplus: zone balance first (the zone with the most), then the termination policy (default:
 *   closest to the next instance hour; or oldest, newest) (section 2.4). An instance in service is
 *   deregistered from the balancer first and terminated when draining ends.
 * - Health: EC2 health checks (an instance that failed or became unreachable is unhealthy) and, with
 *   health_check_type = "elb", the balancer's (unhealthy in the view of most nodes); ignored during
 *   the grace period after the instance enters service (default 300 s, the console default; 0 with the
 *   API, section 2.1). Unhealthy instances are terminated and replaced.
 * - Zone rebalancing: when a zone comes back, the group launches there and terminates from the
 *   fullest zones, temporarily exceeding max by 10% or 1 instance, whichever is greater (2.4).
 * - Metrics (cloudwatch.h): the group's average CPU utilization (percent, over instances in service
 *   and out of warm-up) and ALB request count per target, per period, published after a delay.
 *   Instances in warm-up (default instance warmup, else the default cooldown, 300 s) count toward
 *   capacity but not toward the metric, and scale-in waits while any instance warms up (2.1).
 * - Policies, combined as AWS does: scale out if any policy wants to, scale in only if every target
 *   tracking policy agrees (2.2):
 *   target tracking: scale out when 3 of 3 datapoints exceed the target, to ceil(n x metric / target)
 *     (n: instances in service out of warm-up); scale in when 15 of 15 are below 0.7 x target (alarm
 *     datapoints and the 0.7 ratio are observed, not documented: UNCONFIRMED, parameters);
 *   step: an alarm (threshold, M of N) whose breach size selects a step adjustment, counted against
 *     capacity out of warm-up so repeated breaches do not add twice;
 *   simple: an alarm and a fixed adjustment, then a cooldown (default 300 s) before the next one;
 *   scheduled: at a time (optionally repeating every period), or at the minutes a cron expression
 *     "minute hour day-of-month month day-of-week" matches, set min, max and/or desired; the
 *     simulated calendar starts on a Monday, 1 January 00:00, of a 365-day year (as 2018 did);
 *   predictive: once it has 24 h of the metric's load (metric x instances), forecasts each hour of
 *     day as the mean of the same hour over up to the last 14 days, and a buffer before each hour
 *     (default 300 s, UNCONFIRMED for EC2) raises capacity to ceil(forecast / target); it never scales
 *     in, and dynamic policies may not scale in below that capacity during the hour (2.3). The forecast
 *     is recomputed every hour from the history so far (AWS refreshes it daily: with a mean by hour of
 *     day, only the newest day's hour differs).
 *
 * - Mixed instances (section 2.5): several types with weights (capacity units each); On-Demand base
 *   capacity and percentage above it decide each launch's market; On-Demand launches use the first
 *   type; spot launches go to a pool chosen by the allocation strategy (spot.h), else On-Demand when
 *   od_fallback is set, else they are retried a minute later. Scale-in removes from the market in
 *   excess first (before zone balance). A spot interruption notice deregisters the instance (draining); the interruption
 *   terminates it (requests still in it fail) and the group replaces it. With capacity rebalancing a
 *   rebalance recommendation launches the replacement first and terminates the instance at risk
 *   when the replacement is in service (section 2.6).
 *
 * Leaves out (for now): lifecycle hooks, instance
 * protection, warm pools, maximum instance lifetime, capacity rebalancing.
 * Invariant: min <= desired <= max (max + rebalancing margin while rebalancing); every member is in
 * exactly one of pending, in service, terminating.
 * Scale: groups of up to thousands of instances; O(members) per scaling action.
 */
#ifndef ASG_H
#define ASG_H

#include <stdbool.h>
#include <stdint.h>

#include "cloudwatch.h"
#include "conf.h"
#include "ec2.h"
#include "elb.h"
#include "metrics.h"
#include "sim.h"
#include "spot.h"

enum asg_metric { ASG_CPU, ASG_REQUESTS_PER_TARGET, ASG_N_METRICS };
enum asg_policy_type { ASG_TARGET_TRACKING, ASG_STEP, ASG_SIMPLE, ASG_SCHEDULED, ASG_PREDICTIVE };
enum asg_health_type { ASG_HEALTH_EC2, ASG_HEALTH_ELB };
enum asg_termination { ASG_TERM_DEFAULT, ASG_TERM_OLDEST, ASG_TERM_NEWEST };

#define ASG_MAX_POLICIES 16
#define ASG_MAX_STEPS 8

struct asg_step {
    double lower, upper; /* breach (metric - threshold) in [lower, upper); -INFINITY/INFINITY open */
    int adjustment;      /* instances to add (negative: remove) */
};

struct asg_policy {
    enum asg_policy_type type;
    enum asg_metric metric;
    double target;            /* target tracking and predictive: the metric's target value */
    sim_time buffer;          /* predictive: capacity is in place this long before each hour, ns */
    bool scale_in;            /* target tracking: may it scale in (default true) */
    struct cw_alarm high, low;/* target tracking: its two alarms */
    struct cw_alarm alarm;    /* step and simple */
    int adjustment;           /* simple */
    sim_time cooldown;        /* simple, ns */
    unsigned n_steps;
    struct asg_step steps[ASG_MAX_STEPS];
    sim_time at, every;       /* scheduled: first time and repetition (0: once), ns */
    bool cron;                /* scheduled by a cron expression instead of at/every */
    uint64_t cron_minute;     /* bit m: minute m (0-59) matches */
    uint32_t cron_hour, cron_dom, cron_month; /* bits: hours 0-23, days of month 1-31, months 1-12 */
    uint8_t cron_dow;         /* bits: days of week, 0 = Sunday */
    bool cron_dom_any, cron_dow_any;
    int64_t set_min, set_max, set_desired; /* scheduled: new values, -1 = unchanged */
};

#define ASG_MAX_TYPES 8

struct asg_params {
    unsigned n_types;             /* instance types, in priority order for On-Demand launches */
    const struct ec2_type *types[ASG_MAX_TYPES]; /* borrowed from the catalog */
    unsigned weights[ASG_MAX_TYPES]; /* capacity units an instance of the type provides, >= 1 */
    unsigned min, max, desired;   /* capacity units */
    unsigned od_base;             /* On-Demand base capacity, units (default 0, section 2.5) */
    double od_pct;                /* On-Demand share of capacity above the base, percent (default 100) */
    enum spot_allocation allocation; /* default lowest-price, AWS's default (section 2.5) */
    unsigned spot_pools;          /* lowest-price: over this many cheapest pools (default 2) */
    bool capacity_rebalance;      /* replace a spot instance at its rebalance recommendation */
    bool od_fallback;             /* launch On-Demand when no spot pool has capacity */
    struct spot_params spot;      /* pools of the group's types x zones */
    enum asg_health_type health;
    sim_time grace;               /* ns */
    sim_time cooldown;            /* ns, default cooldown */
    sim_time warmup;              /* ns, default instance warmup */
    enum asg_termination termination;
    sim_time period, delay;       /* metric period and publication delay, ns */
    unsigned n_policies;
    struct asg_policy policies[ASG_MAX_POLICIES];
};

/* Reads an `asg` group (instance types from cat) for a region of `zones` zones. Returns false after
 * reporting mistakes. Free with asg_params_free. */
bool asg_parse(conf *c, const config_setting_t *g, const struct ec2_catalog *cat, unsigned zones,
               struct asg_params *p);
void asg_params_free(struct asg_params *p);

struct asg;

/* Creates the group on s over the given fleet and balancer (borrowed), and launches `desired`
 * instances: running and in service at once when in_service, else booting. p is borrowed. */
struct asg *asg_create(sim *s, const struct asg_params *p, struct ec2 *e, struct elb *b, struct az *a,
                       struct metrics *m, bool in_service);
void asg_destroy(struct asg *g);

/* The owner forwards instance state changes, zone changes and balancer health changes here. */
void asg_instance_changed(struct asg *g, uint32_t inst, enum ec2_state from, enum ec2_state to);
void asg_zone_changed(struct asg *g, unsigned zone, bool up);
void asg_target_health_changed(struct asg *g, uint32_t target);
/* A target is done draining. Returns false when it is not the group's; otherwise the group
 * terminates it if it was being removed (an instance with a spot notice keeps running until AWS
 * interrupts it). */
bool asg_target_unused(struct asg *g, uint32_t target);

unsigned asg_desired(const struct asg *g);
unsigned asg_min(const struct asg *g);
unsigned asg_max(const struct asg *g);
/* Members by state: pending (booting), in service, terminating (draining or about to be). */
void asg_counts(const struct asg *g, unsigned *pending, unsigned *in_service, unsigned *terminating);
/* Members by market (0 On-Demand, 1 spot) and state (0 pending, 1 in service, 2 terminating). */
void asg_counts_by_market(const struct asg *g, unsigned out[2][3]);
/* Capacity units of live members (pending or in service) by market. */
void asg_capacity(const struct asg *g, unsigned *on_demand, unsigned *spot);
struct spot *asg_spot(const struct asg *g); /* the group's spot pools, NULL when it uses none */
/* The latest published value of a metric (NaN if none or unused). */
double asg_metric_value(const struct asg *g, enum asg_metric m);
uint64_t asg_scaling_actions(const struct asg *g);

#endif
