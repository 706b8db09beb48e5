/* spot.h: EC2 Spot capacity pools, prices and interruptions.
 *
 * Models, with figures from aws-facts.md section 3:
 * - A pool per (instance type, zone) with a price (the On-Demand price less a discount, default 60%:
 *   within the 55-70% of the 2026 examples; or a time series read from a CSV file "t_s,price_usd"),
 *   a capacity (instances it can hold; default unlimited) and an interruption band of the Spot
 *   Instance Advisor ("<5%", "5-10%", "10-15%", "15-20%", ">20%" of instances interrupted per month).
 *   A band becomes a per-instance hazard h = -ln(1 - f) / 30 days with f the band's midpoint (22.5%
 *   for ">20%", UNCONFIRMED); each spot instance gets an exponential clock with that rate, so
 *   interruptions of a pool form a Poisson process of rate h x its instances.
 * - Correlated reclaims (optional): per pool, events at a rate per month that reclaim a fraction of
 *   the pool's instances at once.
 * - An interruption starts with the two-minute notice, then the instance is terminated; a rebalance
 *   recommendation may come earlier (probability and lead time as parameters: AWS documents only that
 *   it "can arrive earlier than the notice", so both are UNCONFIRMED defaults: always, 5-30 min).
 * - Allocation strategies choose a pool for a launch in a zone: lowest-price over the N cheapest pools
 *   (default N = 2), capacity-optimized (the lowest interruption band), price-capacity-optimized (the
 *   lowest band, then the cheapest; AWS's recommended strategy, section 2.5).
 *
 * Leaves out: spot price effects on interruptions (no max price), stop/hibernate interruption
 * behaviours, capacity reservations, instance weights per pool.
 * Invariant: a pool never holds more spot instances than its capacity.
 * Scale: tens of pools; O(pools) per launch decision.
 */
#ifndef SPOT_H
#define SPOT_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dist.h"
#include "ec2.h"
#include "sim.h"

#define SPOT_MAX_POOLS 64
#define SPOT_NOTICE (120 * SIM_SEC) /* the two-minute interruption notice */

enum spot_band { SPOT_BAND_LT5, SPOT_BAND_5_10, SPOT_BAND_10_15, SPOT_BAND_15_20, SPOT_BAND_GT20, SPOT_N_BANDS };
extern const char *const spot_band_names[SPOT_N_BANDS + 1]; /* NULL-terminated */

enum spot_allocation { SPOT_LOWEST_PRICE, SPOT_CAPACITY_OPTIMIZED, SPOT_PRICE_CAPACITY_OPTIMIZED };

struct spot_pool_params {
    const struct ec2_type *type; /* borrowed */
    unsigned zone;
    double discount;             /* fraction off the On-Demand price, [0, 1) */
    unsigned n_prices;           /* a price series instead of the discount, when > 0 */
    double *price_t;             /* s, increasing */
    double *price;               /* USD per hour, at and after price_t[i] */
    enum spot_band band;
    uint32_t capacity;           /* instances; UINT32_MAX = unlimited */
};

struct spot_params {
    unsigned n_pools;
    struct spot_pool_params pools[SPOT_MAX_POOLS];
    double reclaims_per_month;   /* correlated reclaim events per pool per 30 days, >= 0 */
    double reclaim_fraction;     /* of the pool's instances taken by one, (0, 1] */
    double rebalance_probability;/* that a recommendation precedes an interruption notice, [0, 1] */
    struct dist rebalance_lead;  /* s before the notice */
};

/* Reads a `spot` group for the given instance types (pools default to every type x zone with the
 * group's defaults). Returns false after reporting mistakes, including those of price files. */
bool spot_parse(conf *c, const config_setting_t *g, const struct ec2_type *const *types, unsigned n_types,
                unsigned zones, struct spot_params *p);
void spot_params_free(struct spot_params *p);

/* Per-instance hazard of a band, per second. */
double spot_hazard(enum spot_band band);

/* What the owner hears about a spot instance it launched through spot_choose. */
struct spot_owner {
    void *ctx;
    void (*rebalance)(void *ctx, uint32_t inst); /* elevated risk: replace it if you rebalance */
    void (*notice)(void *ctx, uint32_t inst);    /* two minutes left: deregister it */
    void (*interrupt)(void *ctx, uint32_t inst); /* terminate it now */
};

struct spot;

struct spot *spot_create(sim *s, const struct spot_params *p, const struct spot_owner *owner);
void spot_destroy(struct spot *sp);

/* A pool of type t (one of `types`) in zone z with room for one more, chosen by the strategy, or -1. */
int spot_choose(const struct spot *sp, enum spot_allocation strategy, unsigned n_lowest, unsigned zone);
const struct ec2_type *spot_pool_type(const struct spot *sp, int pool);
/* The pool's price now, USD per hour. */
double spot_price(const struct spot *sp, int pool);
/* What one instance in the pool costs from t0 to t1 (ns, any times), USD. */
double spot_price_integral(const struct spot *sp, int pool, sim_time t0, sim_time t1);

/* Instance inst (launched now) lives in pool: start its interruption clock. */
void spot_attach(struct spot *sp, int pool, uint32_t inst);
/* It left the pool (terminated for any reason): stop its clock, free its place. */
void spot_detach(struct spot *sp, uint32_t inst);

/* The pool of a spot instance attached now, or -1. */
int spot_pool_of(const struct spot *sp, uint32_t inst);
/* True while the owner is carrying out AWS's interruption of inst (inside spot_owner.interrupt). */
bool spot_interrupting(const struct spot *sp, uint32_t inst);

unsigned spot_pool_count(const struct spot *sp);
uint32_t spot_pool_size(const struct spot *sp, int pool);           /* instances now */
uint64_t spot_pool_interruptions(const struct spot *sp, int pool);  /* notices so far */
double spot_pool_instance_seconds(const struct spot *sp, int pool); /* exposure so far */

#endif
