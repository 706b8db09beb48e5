/* cost.h: what a cloud design costs, accrued over simulated time by category, as AWS bills it.
 *
 * Models, with prices from a catalog (configs/catalog/prices-*.cfg, figures and sources from
 * aws-facts.md sections 1.5, 4.2, 4.3 and 7):
 * - EC2 On-Demand: per second of running (rounded up to whole seconds), at least 60 s per start
 *   (section 4.2); from the first time an instance runs until it is terminated (an instance in a zone
 *   outage or with a failed host is still billed until someone terminates it).
 * - Spot: per second at the pool's price as it changes; nothing at all for an instance that AWS
 *   interrupted in its first hour, the normal rate for one interrupted later or ended by its owner
 *   (section 3, "Billing for interrupted Spot Instances"). A spot instance's first hour is therefore
 *   booked when that hour ends, or when the instance ends.
 * - Reserved Instances and a Savings Plan: an hourly commitment paid whether used or not (the fee
 *   categories), applied each clock hour to the On-Demand usage it covers, Reserved Instances first
 *   (instance-seconds of their type), then the plan (On-Demand dollars up to commitment / (1 -
 *   discount)). The covered usage is cancelled by a negative line, as the AWS Cost and Usage Report
 *   does with its "negation" items; spot usage is never covered.
 * - The load balancer: an hourly charge for each hour or partial hour, plus capacity units per hour:
 *   the largest of new connections/s, average active connections, bytes processed per hour and rule
 *   evaluations/s (beyond the free rules), each over its per-LCU allowance (section 1.5).
 * - Data transfer: bytes to the internet priced on the month's running total through tiers (the
 *   first tier free); bytes between zones at a price per GB on each side, when the catalog says the
 *   path is charged (an ALB's own cross-zone traffic is not).
 * - EBS: a volume per instance from launch to termination, per GB-month.
 * Amounts accrue exactly: between calls every rate is constant, and the ledger splits time at clock
 * hours (settlements) and at the end of spot instances' first hours. A month is AWS's 730 hours; a
 * GB is 2^30 bytes.
 *
 * Leaves out: the free tier except the internet transfer allowance, taxes, support plans, credits,
 * NAT gateways, public IPv4 addresses, CloudWatch, hourly-billed operating systems, Reserved
 * Instance size flexibility and upfront payments (an all-upfront reservation is its effective hourly
 * rate here).
 * Invariant: every category's cumulative amount is the sum of what was booked in it; the fee and
 * usage categories never decrease, only the covered (negation) line is negative.
 * Scale: O(1) per request and per instance change, O(pools + reservations) per clock hour.
 */
#ifndef COST_H
#define COST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "ec2.h"
#include "sim.h"
#include "spot.h"

#define COST_MONTH_S (730.0 * 3600.0) /* s: AWS prices monthly quantities on 730-hour months */
#define COST_GB 1073741824.0          /* bytes in a billing GB */
#define COST_MAX_TIERS 8
#define COST_MAX_RESERVED 8

enum cost_category {
    COST_EC2_ON_DEMAND,       /* On-Demand usage, at On-Demand prices */
    COST_EC2_SPOT,            /* spot usage, at pool prices */
    COST_RESERVED_FEE,        /* Reserved Instances: count x hourly rate, used or not */
    COST_SAVINGS_PLAN_FEE,    /* the plan's hourly commitment, used or not */
    COST_COVERED,             /* negative: On-Demand usage the reservations and the plan paid for */
    COST_EBS,                 /* instance volumes */
    COST_ELB_HOURS,           /* the balancer's hourly charge */
    COST_ELB_LCU,             /* its capacity units */
    COST_TRANSFER_ZONES,      /* between availability zones, both sides */
    COST_TRANSFER_INTERNET,   /* out to the internet */
    COST_LAMBDA_REQUESTS,     /* Lambda invocations */
    COST_LAMBDA_DURATION,     /* Lambda GB-seconds (init and invocation) */
    COST_LAMBDA_PROVISIONED,  /* provisioned concurrency: GB-seconds allocated */
    COST_API_GATEWAY,         /* API gateway requests */
    COST_ONPREM_HARDWARE,     /* servers bought: their monthly payment over the amortisation period */
    COST_ONPREM_POWER,        /* electricity: IT power by utilization, times PUE */
    COST_ONPREM_SPACE,        /* space or colocation, per kW of the servers' peak power */
    COST_ONPREM_NETWORK,      /* a network share per server */
    COST_ONPREM_STAFF,        /* administrators */
    COST_N_CATEGORIES
};
extern const char *const cost_category_names[COST_N_CATEGORIES];

struct cost_tier {
    double upto;        /* quantity in the month (bytes, GB-seconds, requests) up to which this tier's price
                           applies; INFINITY for the last */
    double usd_per_gb;  /* USD per unit: per GB for transfer, per GB-second, per million requests */
};

/* A price catalog: one region at one date. */
struct cost_prices {
    const char *region, *date, *source; /* borrowed from the conf */
    double elb_hour;                    /* USD per balancer-hour or partial hour */
    double lcu_hour;                    /* USD per LCU-hour */
    double lcu_new_connections;         /* new connections per second in one LCU */
    double lcu_active_connections;      /* active connections in one LCU */
    double lcu_bytes;                   /* bytes processed per hour in one LCU */
    double lcu_rule_evaluations;        /* rule evaluations per second in one LCU */
    unsigned lcu_free_rules;            /* rules per request not counted */
    bool elb_cross_zone_charged;        /* the balancer's own cross-zone traffic is billed as zone transfer */
    double zone_gb;                     /* USD per GB between zones, on each side */
    unsigned n_tiers;                   /* internet transfer out, by the month's running total */
    struct cost_tier tiers[COST_MAX_TIERS];
    double ebs_gb_month;                /* USD per GB-month of volume */
    double lcu_bytes_lambda;            /* bytes per hour in one LCU when the targets are Lambda functions */
    /* Lambda */
    double lambda_request;              /* USD per request */
    unsigned n_duration[2];             /* GB-second tiers by the month's running total: x86_64, arm64 */
    struct cost_tier duration[2][COST_MAX_TIERS];
    double provisioned_gb_s;            /* USD per GB-second of provisioned concurrency allocated */
    double provisioned_duration_gb_s[2];/* USD per GB-second executed on it: x86_64, arm64 */
    double free_requests, free_gb_s;    /* the monthly free tier, used when a design asks for it */
    /* API gateway (HTTP API) */
    unsigned n_gateway;                 /* USD per million requests by the month's running total */
    struct cost_tier gateway[COST_MAX_TIERS];
};

/* Reads the top-level `prices` group. Absent: false with a diagnostic when required, else true and
 * a catalog of zeros (n_tiers = 0). */
bool cost_prices_parse(conf *c, bool required, struct cost_prices *p);
/* Prints the catalog's prices, a line each. */
void cost_prices_print(const struct cost_prices *p, FILE *f);

struct cost_reserved {
    const struct ec2_type *type; /* borrowed from the instance catalog */
    unsigned count;              /* instances reserved */
    double rate;                 /* USD per reserved instance-hour, used or not */
};

/* A design's purchase options and what its usage looks like to the biller. */
struct cost_billing {
    double commitment;           /* Savings Plan, USD per hour; 0 = none */
    double discount;             /* the plan's rates: On-Demand x (1 - discount), in (0, 1) */
    unsigned n_reserved;
    struct cost_reserved reserved[COST_MAX_RESERVED];
    double volume_bytes;         /* EBS per instance */
    unsigned rules;              /* listener rules the balancer evaluates per request */
    double requests_per_connection; /* >= 1: a client reuses a connection for this many requests */
    bool lambda_targets;         /* the balancer's targets are Lambda functions (set by the design) */
    bool free_tier;              /* Lambda's monthly free requests and GB-seconds apply */
};

/* Reads the optional `billing` group of a design (NULL: defaults) with instance types from cat. */
bool cost_billing_parse(conf *c, const config_setting_t *g, const struct ec2_catalog *cat, struct cost_billing *b);

/* The charge for `bytes` more internet transfer in a month that has already seen `month_bytes`. */
double cost_internet_price(const struct cost_prices *p, double month_bytes, double bytes);

/* Capacity units of one hour from its four dimensions (rates over the hour). */
double cost_lcu(const struct cost_prices *p, double new_conn_per_s, double active_connections, double bytes_per_hour,
                double rule_evaluations_per_s);

struct cost;

/* A ledger on s, starting now with the balancer (when has_lb) in place. prices and b are borrowed. */
struct cost *cost_create(sim *s, const struct cost_prices *prices, const struct cost_billing *b, bool has_lb);
void cost_destroy(struct cost *c);

/* An instance was launched (its volume exists from now on). */
void cost_ec2_launched(struct cost *c, uint32_t inst);
/* It runs for the first time: billing starts, On-Demand at t's price, or spot in pool of sp when sp
 * is not NULL. Later calls for the same instance do nothing. */
void cost_ec2_running(struct cost *c, uint32_t inst, const struct ec2_type *t, const struct spot *sp, int pool);
/* It was terminated; interrupted: AWS took it back (spot). Calls after cost_close do nothing. */
void cost_ec2_terminated(struct cost *c, uint32_t inst, bool interrupted);

/* The balancer took a request of `bytes` response bytes; one finished after `seconds` there. */
void cost_lb_request(struct cost *c, uint32_t bytes);
void cost_lb_finished(struct cost *c, double seconds);
/* Bytes sent to the internet; bytes the balancer carried between zones (charged on both sides, when
 * the catalog says the balancer's cross-zone traffic is charged). */
void cost_internet_bytes(struct cost *c, uint64_t bytes);
void cost_lb_cross_zone(struct cost *c, uint64_t bytes);

/* A Lambda invocation of `gb_seconds` (memory x billed duration) on arch (0 x86_64, 1 arm64), on a
 * provisioned environment or not. */
void cost_lambda_invocation(struct cost *c, int arch, double gb_seconds, bool provisioned);
/* Provisioned concurrency allocated changes by gb (GB of memory, may be negative), now. */
void cost_lambda_provisioned(struct cost *c, double gb);
/* A request through the API gateway. */
void cost_gateway_request(struct cost *c);

/* Constant running costs from now on, USD per second, by category (on-premises lines). */
void cost_set_rate(struct cost *c, enum cost_category k, double usd_per_s);
/* Energy: joules(ctx) is the energy used since the start (J, non-decreasing); each update books what
 * was used since the last one at usd_per_joule in COST_ONPREM_POWER. */
void cost_set_energy_meter(struct cost *c, double (*joules)(const void *ctx), const void *ctx, double usd_per_joule);

/* Brings every category up to now. */
void cost_update(struct cost *c);
/* At the end of the run: brings the ledger to now and settles the hour in progress (its commitments,
 * capacity units and instances' minimums). Nothing may be booked afterwards. */
void cost_close(struct cost *c);

/* USD booked in a category since the start, up to the last update. */
double cost_booked(const struct cost *c, enum cost_category k);

#endif
