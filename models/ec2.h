/* ec2.h: EC2 instance types and the life of instances.
 *
 * Models: the instance type catalog (vCPUs, memory, architecture, On-Demand price, relative per-vCPU
 * speed; configs/catalog/, included by a study); instances that go pending -> running -> draining ->
 * terminated, with a boot time drawn from a distribution (default lognormal, mean 40 s, cv 0.3: within
 * the 30-60 s RunInstances-to-ready range of aws-facts.md section 4.4, e.g. Depot 2024 "~40 s",
 * brevdev 2025 "25.8 s" to SSH before the application starts); random hardware failure (time to
 * failure from a distribution, off by default: AWS publishes no instance failure rate, aws-facts.md
 * section 9); zone outages, during which an instance is unreachable and after which it boots again.
 * Each instance serves requests through a server (server.h) with one core per vCPU at the type's
 * speed. Every state change is reported to the owner, which routes traffic (elb) and records events.
 *
 * States: PENDING (booting, billed from running on), RUNNING, DRAINING (deregistering, still serving
 * what it has), TERMINATED, UNREACHABLE (its zone is down), FAILED (hardware failure: dead until
 * replaced by its owner). A launch into a zone that is down waits until the zone is back.
 *
 * Leaves out: stop/start, hibernation, instance store, burstable CPU credits, auto-recovery, spot
 * (a later model), billing (the cost model).
 * Invariant: every instance launched is in exactly one state; counts by state add up to launches,
 * checked at the end of the run.
 * Scale: thousands of instances per run; O(1) per state change.
 */
#ifndef EC2_H
#define EC2_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "az.h"
#include "conf.h"
#include "dist.h"
#include "server.h"
#include "sim.h"

struct ec2_type {
    const char *name;      /* borrowed from the conf, e.g. "c6i.large" */
    const char *arch;      /* "x86_64" or "arm64" */
    unsigned vcpu;         /* >= 1 */
    double memory;         /* bytes */
    double price;          /* USD per instance-hour, On-Demand */
    double speed;          /* work per vCPU relative to an m5 vCPU, > 0 */
};

struct ec2_catalog {
    const char *region, *prices_date, *source; /* borrowed */
    unsigned n;
    struct ec2_type *types;
};

/* Reads the top-level `ec2_catalog` group. Absent: an empty catalog and true, unless required. */
bool ec2_catalog_parse(conf *c, bool required, struct ec2_catalog *cat);
void ec2_catalog_free(struct ec2_catalog *cat);

/* Reads the string `name` of group as an instance type of cat; on an unknown name reports it with
 * the nearest names. Returns NULL when absent or unknown. */
const struct ec2_type *ec2_get_type(conf *c, const struct ec2_catalog *cat, const config_setting_t *group,
                                    const char *name);

/* Prints the catalog as a table. */
void ec2_catalog_print(const struct ec2_catalog *cat, FILE *f);

enum ec2_state { EC2_PENDING, EC2_RUNNING, EC2_DRAINING, EC2_TERMINATED, EC2_UNREACHABLE, EC2_FAILED, EC2_N_STATES };
extern const char *const ec2_state_names[EC2_N_STATES];

struct ec2_params {
    struct dist boot;      /* s from launch (or zone recovery) to running */
    struct dist failure;   /* s from running to hardware failure; DIST_NONE = never */
    int64_t queue_limit;   /* per instance, see server.h */
};

/* Reads boot, failure and queue_limit from group (NULL: the defaults). */
bool ec2_parse(conf *c, const config_setting_t *group, struct ec2_params *p);
void ec2_params_free(struct ec2_params *p);

/* What an instance's owner hears: a state change, a request completed, requests lost when the
 * instance died or became unreachable. */
struct ec2_owner {
    void *ctx;
    void (*changed)(void *ctx, uint32_t inst, enum ec2_state from, enum ec2_state to);
    server_done_fn *done;
    server_done_fn *lost;
};

struct ec2;

/* Creates an empty fleet on s in region a. p and owner are copied; p's dists are borrowed. */
struct ec2 *ec2_create(sim *s, const struct ec2_params *p, struct az *a, const struct ec2_owner *owner);
void ec2_destroy(struct ec2 *e);

/* Launches an instance of type t (borrowed) in zone z and returns its index (0, 1, ...). running =
 * true starts it already running (a fleet that exists at the start of the run). */
uint32_t ec2_launch(struct ec2 *e, const struct ec2_type *t, unsigned zone, bool running);

/* A PENDING instance skips the rest of its boot and runs now (a group that exists at time 0). */
void ec2_start_running(struct ec2 *e, uint32_t inst);

/* DRAINING: the owner stops sending work; ec2_terminate ends it. Only from RUNNING. */
void ec2_drain(struct ec2 *e, uint32_t inst);
/* TERMINATED, now; requests still in it are lost. From any state but TERMINATED. */
void ec2_terminate(struct ec2 *e, uint32_t inst);

/* A zone went down or came back (the owner forwards az's notifications). */
void ec2_zone_changed(struct ec2 *e, unsigned zone, bool up);

enum ec2_state ec2_state(const struct ec2 *e, uint32_t inst);
unsigned ec2_zone(const struct ec2 *e, uint32_t inst);
const struct ec2_type *ec2_type_of(const struct ec2 *e, uint32_t inst);
struct server *ec2_server(const struct ec2 *e, uint32_t inst);
uint32_t ec2_count(const struct ec2 *e);                        /* instances launched */
uint32_t ec2_count_in(const struct ec2 *e, enum ec2_state st);  /* instances in a state now */
/* vCPUs of instances that can serve now (RUNNING or DRAINING); busy core-seconds of all, cumulative. */
double ec2_serving_vcpus(const struct ec2 *e);
double ec2_busy_core_seconds(const struct ec2 *e);

#endif
