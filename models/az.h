/* az.h: a region's availability zones: where things run, how far apart they are, when a zone is down.
 *
 * Models: N zones (AWS regions have at least 3: aws-facts.md section 6); a round-trip time inside a
 * zone and between zones (defaults 0.2 ms and 1 ms: inter-AZ RTT is "<2 ms, usually <1 ms",
 * J. Hamilton, re:Invent 2014, aws-facts.md section 6; the intra-AZ figure is UNCONFIRMED); zone
 * outages, scheduled (zone, at, duration) and random (time between outages and repair time as
 * distributions, per zone, from the stream "az/<zone>/outage"). Overlapping outages of one zone merge:
 * it is up when none is in progress. The owner is told of every change of a zone's state.
 *
 * Leaves out: partial outages (a fraction of a zone), degraded networks, control-plane outages that
 * only stop launches, regions.
 * Invariant: az_up(z) is false exactly while at least one outage of z is in progress.
 * Scale: up to AZ_MAX zones; a few events per outage.
 */
#ifndef AZ_H
#define AZ_H

#include <stdbool.h>

#include "conf.h"
#include "dist.h"
#include "sim.h"

#define AZ_MAX 6
#define AZ_MAX_OUTAGES 64

struct az_outage {
    unsigned zone;     /* 0-based */
    sim_time at;       /* ns from the start of the run */
    sim_time duration; /* ns, > 0 */
};

struct az_params {
    unsigned n;                /* zones, 1..AZ_MAX */
    sim_time intra_rtt;        /* ns, round trip inside a zone */
    sim_time inter_rtt;        /* ns, round trip between two zones */
    unsigned n_outages;
    struct az_outage outages[AZ_MAX_OUTAGES];
    bool random_outages;
    struct dist between;       /* s: time from the end of one random outage of a zone to the next */
    struct dist repair;        /* s: duration of a random outage */
};

/* Reads a `region` group (NULL: the defaults, 3 zones). Returns false after reporting mistakes. */
bool az_parse(conf *c, const config_setting_t *region, struct az_params *p);
void az_params_free(struct az_params *p);

/* Called when zone z goes down (up = false) or comes back (up = true), at sim_now(). */
typedef void az_changed_fn(void *ctx, unsigned zone, bool up);

struct az;

/* Creates the region on s and schedules its outages. p is borrowed for the run. Never NULL. */
struct az *az_create(sim *s, const struct az_params *p, az_changed_fn *changed, void *ctx);
void az_destroy(struct az *a);

unsigned az_count(const struct az *a);
bool az_up(const struct az *a, unsigned zone);
/* Round-trip time between zones a and b (ns). */
sim_time az_rtt(const struct az *a, unsigned from, unsigned to);

#endif
