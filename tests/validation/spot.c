/* spot.c: spot pools and mixed-instances groups (spot -> asg -> cloud) against what they promise.
 *
 * Every case builds its study from a config text (an inline catalog holding three rows of
 * configs/catalog/us-east-1.cfg: c5.large, c6i.large, m6i.large) with study_parse, then runs the
 * real models replication by replication on engines seeded (20261130, r), r = 0..R-1, through a
 * metrics row callback and event sink. Checks of a random quantity use intervals at the level
 * 1 - 0.05/N_CHECKS (Bonferroni over all checks, also the exact ones): a correct simulator fails any
 * of them with probability at most 5%, and the seeds are fixed, so the outcome is reproducible.
 *
 * Cases:
 *  (a) Interruption counts. One zone, 150 spot instances spread evenly (lowest-price over the 3
 *      pools) over pools of bands ">20%", "15-20%", "10-15%", no correlated reclaims, no capacity
 *      rebalancing, no traffic, R runs of 100 days. An instance's clock is exponential with the band's
 *      hazard h while it is in the pool, so N_k(t) - h_k x (instance-seconds of pool k up to t) is a
 *      martingale and N_k, given the exposure E_k summed over the runs, is Poisson(h_k E_k). Check:
 *      h_k E_k lies inside the exact (Garwood, chi-square) interval of the observed count. The bands and
 *      the horizon are chosen so that every pool expects 100+ interruptions. (The exposure also counts
 *      the 120 s an instance stays in its pool after its notice, with no clock running: 120 s per
 *      interruption against a mean lifetime of months, a bias of about 1e-5, left in.)
 *  (b) Deregistered before it died. In every run of every case, each spot_interruption of an instance
 *      that had been running (so registered with the balancer: a target is registered when its
 *      instance runs) must come after a target_draining of that instance made no later than its notice,
 *      so at least the two-minute notice (120 s) earlier; an instance whose notice came while it was
 *      still booting can only register after the notice, and must be deregistered when it does
 *      (before it gets any traffic). Case (c) reclaims half a pool every 30 minutes on average per
 *      pool, so notices also reach instances that are still booting.
 *  (c) On-Demand base and percentage. Three zones, three types, scheduled actions that move desired
 *      capacity up and down every 20 minutes (1 to 31), correlated reclaims and light traffic (so that
 *      scale-in drains). The rule: On-Demand units = desired when desired <= base, else
 *      base + ceil((desired - base) x pct / 100) (the model rounds in favour of On-Demand). Checked
 *      at the end of every 60 s report interval (the capacity_on_demand column) and right after every
 *      scaling action (a probe event at the same instant, after the group has acted), at the instants
 *      when the group holds its desired capacity (instants above it, while zones rebalance, or below
 *      it, while every zone is down, are counted and printed, not checked). Three groups: base 2 with
 *      30% above it (price-capacity-optimized), base 0 with 50% (lowest-price), and base 1 with 40%
 *      (capacity-optimized) in a region whose zones fail at random (every 3 h on average for 30 min),
 *      so that the group replaces instances in the surviving zones and rebalances when a zone returns.
 *  (d) Capacity rebalancing against none (paired: same seeds, same requests). Where do interruptions
 *      cause failures? Not through tight capacity: at h <= 1e-7/s a pool sees one interruption per
 *      (request rate per instance) / h requests, 10^8 or more for short requests, so the short capacity
 *      dip of one lost instance cannot be measured in a run of a minute. But a request still in an
 *      instance when it is interrupted fails (target_died);
 *      requests of 1000 s (gamma, cv 0.3) on 2-vCPU instances at 70% utilization are long-running
 *      jobs that a two-minute notice cannot drain. Without rebalancing, an instance has 120 s between
 *      its notice (deregistration) and its death, so most of the ~1.4 requests it serves die. With
 *      rebalancing, the recommendation comes 5-30 minutes before the notice, the replacement boots
 *      (~40 s) and the instance at risk is deregistered then, so its requests get the lead time as
 *      well; the deregistration delay is set to 3600 s (the AWS maximum: long jobs need it) so that
 *      the delay does not cut the drain short. One zone, 100 instances, all spot, band ">20%" (about
 *      0.85 interruptions a day), R runs of 20 days. Check: the interval of the per-run difference
 *      failed(no rebalancing) - failed(rebalancing) excludes 0. Health checks: 300 s interval, 120 s
 *      timeout, unhealthy after 10 failures, since a check queues behind 1000-s requests like any
 *      other and the ALB defaults would take busy targets out of service.
 *  (e) The spot bill, end to end. One zone, 20 spot instances over two pools (c5.large at 60% off,
 *      m6i.large at 50% off), correlated reclaims of 30% of a pool 720 times a month (about hourly),
 *      so that many replacements are interrupted inside their first hour and many after it; the
 *      group also scales in and out every 45 minutes (instances it ends itself are always billed).
 *      The ledger's spot total must equal, to a millionth, the bill computed here from the run's
 *      events alone: per instance, nothing if AWS interrupted it within an hour of its first running,
 *      else its pool price x its running seconds (whole seconds, at least 60). Exact, no interval.
 *
 * Usage: validate_spot [scale]   (scale multiplies every horizon; default 1)
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "asg.h"
#include "checks.h"
#include "cloud.h"
#include "cost.h"
#include "metrics.h"
#include "prices.h"
#include "spot.h"
#include "stats.h"
#include "study.h"
#include "workload.h"

#define N_CHECKS 12
#define MAX_REPS 32
static const double level = 1.0 - 0.05 / N_CHECKS;
static double scale = 1.0;

static const char catalog[] =
    "ec2_catalog: { region = \"us-east-1\"; prices_date = \"2026-11\"; source = \"configs/catalog/us-east-1.cfg\";\n"
    "  types = ( { name = \"c5.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.16; },\n"
    "            { name = \"c6i.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"4GiB\"; price = \"$0.085\"; speed = 1.13; },\n"
    "            { name = \"m6i.large\"; arch = \"x86_64\"; vcpu = 2; memory = \"8GiB\"; price = \"$0.096\"; speed = 1.13; } ); };" TEST_PRICES "\n";

/* ---- checks -------------------------------------------------------------------------------- */



/* ---- a study from text, and one run of it -------------------------------------------------- */

struct study {
    conf *c;
    struct study_params p;
};

/* Parses catalog + body; exits on a mistake (a bug in this program). */
static void study_load(struct study *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void study_load(struct study *st, const char *fmt, ...)
{
    char body[8192], text[12288];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    snprintf(text, sizeof text, "%s%s", catalog, body);
    st->c = conf_load_string(text, "validate_spot", stderr);
    if (!st->c || !study_parse(st->c, NULL, &st->p)) {
        fprintf(stderr, "validate_spot: a case's study does not parse:\n%s\n", text);
        exit(1);
    }
}

static void study_free(struct study *st)
{
    study_params_free(&st->p);
    conf_free(st->c);
}

/* The On-Demand capacity units the group's base and percentage require at a desired capacity. */
static unsigned od_rule(const struct asg_params *g, unsigned desired)
{
    if (desired <= g->od_base) return desired;
    return g->od_base + (unsigned)ceil((desired - g->od_base) * g->od_pct / 100.0 - 1e-9);
}

struct outcome {
    uint32_t rep;                           /* the replication it came from */
    uint64_t arrivals, failed;              /* whole run, from the rows */
    uint64_t errors_by[METRICS_N_ERRORS];
    uint64_t interruptions[SPOT_MAX_POOLS]; /* from spot_pool_interruptions at the end */
    double exposure[SPOT_MAX_POOLS];        /* instance-seconds, spot_pool_instance_seconds */
    unsigned n_pools;
    /* (b) */
    unsigned interrupted, interrupted_registered, not_drained;
    unsigned noticed_booting, not_drained_booting; /* notices that came before the instance ran */
    double min_drain_lead;                  /* s between the draining and the interruption, of those
                                               registered at their notice */
    double not_drained_t;                   /* s: the first one that was not drained, or NaN */
    int64_t not_drained_id;
    /* (e) */
    double spot_booked, on_demand_booked;   /* USD, from the ledger (NaN without one) */
    double spot_expected;                   /* USD, from the events */
    unsigned free_interruptions, billed_interruptions, owner_ends;
    /* (c) */
    unsigned rows_checked, rows_bad, scalings_checked, scalings_bad;
    double first_bad_t;                     /* s, NaN if none */
    unsigned bad_desired, bad_od, bad_spot;
    unsigned off_desired, off_above;        /* instants when the capacity was not the desired one; above it */
    uint64_t scalings, notices, rebalances;
};

struct run_ctx {
    struct outcome *o;
    const struct asg_params *g;
    sim *s;
    struct cloud *cl;
    uint16_t probe;                         /* the model that checks right after a scaling action */
    struct metrics_event *ev;
    size_t n_ev, cap_ev;
};

static void note_bad(struct outcome *o, double t, unsigned desired, unsigned od, unsigned spot)
{
    if (isnan(o->first_bad_t)) {
        o->first_bad_t = t;
        o->bad_desired = desired;
        o->bad_od = od;
        o->bad_spot = spot;
    }
}

/* (c) at one instant: when the group holds its desired capacity, the On-Demand part follows the rule.
 * When it cannot (every zone down, no spot capacity), the instant is counted apart. */
static void check_share(struct outcome *o, double t, unsigned desired, unsigned od, unsigned spot,
                        const struct asg_params *g, unsigned *checked, unsigned *bad)
{
    if (od + spot != desired) {
        o->off_desired++;
        o->off_above += od + spot > desired;
        return;
    }
    (*checked)++;
    if (od != od_rule(g, desired)) {
        (*bad)++;
        note_bad(o, t, desired, od, spot);
    }
}

static int on_row(void *ctx, const struct metrics_row *row)
{
    struct run_ctx *rc = ctx;
    struct outcome *o = rc->o;
    o->arrivals += row->arrivals;
    o->failed += row->errors;
    for (int i = 0; i < METRICS_N_ERRORS; i++) o->errors_by[i] += row->errors_by[i];
    if (!isnan(row->desired)) {
        check_share(o, row->t_s, (unsigned)row->desired, (unsigned)row->capacity_on_demand,
                    (unsigned)row->capacity_spot, rc->g, &o->rows_checked, &o->rows_bad);
    }
    return 0;
}

static int on_event(void *ctx, const struct metrics_event *ev)
{
    struct run_ctx *rc = ctx;
    if (rc->n_ev == rc->cap_ev) {
        rc->cap_ev = rc->cap_ev ? 2 * rc->cap_ev : 4096;
        rc->ev = realloc(rc->ev, rc->cap_ev * sizeof *rc->ev);
        if (!rc->ev) return -1;
    }
    rc->ev[rc->n_ev++] = *ev;
    if (ev->kind == METRICS_EV_SCALING) {
        rc->o->scalings++;
        sim_schedule(rc->s, 0, rc->probe, 0, NULL, 0); /* after the group has acted on it */
    }
    rc->o->notices += ev->kind == METRICS_EV_SPOT_NOTICE;
    rc->o->rebalances += ev->kind == METRICS_EV_SPOT_REBALANCE;
    return 0;
}

static void on_probe(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct run_ctx *rc = self;
    struct asg *g = cloud_asg(rc->cl);
    unsigned od, spot, desired = asg_desired(g);
    asg_capacity(g, &od, &spot);
    check_share(rc->o, sim_to_seconds(sim_now(s)), desired, od, spot, rc->g, &rc->o->scalings_checked,
                &rc->o->scalings_bad);
}

static sim_handler_fn *const probe_handlers[1] = {on_probe};
static const char *const probe_kinds[1] = {"check_on_demand_share"};
static const sim_model_ops probe_ops = {"validate_spot_probe", 1, probe_handlers, probe_kinds, NULL};

/* (b) over the run's events: every interruption of an instance that had been running (so registered
 * with the balancer) came after its deregistration, made no later than its notice; an instance still
 * booting at its notice may only register after it, and must be deregistered when it does. */
static void check_drained(struct run_ctx *rc)
{
    struct outcome *o = rc->o;
    for (size_t i = 0; i < rc->n_ev; i++) {
        const struct metrics_event *e = &rc->ev[i];
        if (e->kind != METRICS_EV_SPOT_INTERRUPTION) continue;
        o->interrupted++;
        double ran = NAN, drained = NAN, noticed = NAN;
        for (size_t j = 0; j < i; j++) {
            const struct metrics_event *f = &rc->ev[j];
            if (f->id != e->id) continue;
            if (f->kind == METRICS_EV_INSTANCE_RUNNING && isnan(ran)) ran = f->t_s;
            if (f->kind == METRICS_EV_TARGET_DRAINING) drained = f->t_s;
            if (f->kind == METRICS_EV_SPOT_NOTICE) noticed = f->t_s;
        }
        if (isnan(ran)) continue; /* never registered: nothing to deregister */
        o->interrupted_registered++;
        bool booting = !isnan(noticed) && noticed < ran;
        o->noticed_booting += booting;
        double deadline = booting ? ran : noticed; /* when it had to be out of the balancer */
        if (isnan(drained) || isnan(noticed) || drained > deadline + 1e-9) {
            o->not_drained_booting += booting;
            if (!o->not_drained++) {
                o->not_drained_t = e->t_s;
                o->not_drained_id = e->id;
            }
        }
        if (!booting && !isnan(drained) && e->t_s - drained < o->min_drain_lead) o->min_drain_lead = e->t_s - drained;
    }
}

/* (e) The spot bill from the events: every instance is spot; its pool is (type, zone). */
static void expect_bill(struct run_ctx *rc, const struct cloud_params *cp, double horizon_s)
{
    struct outcome *o = rc->o;
    struct ec2 *e = cloud_ec2(rc->cl);
    for (uint32_t inst = 0; inst < ec2_count(e); inst++) {
        double ran = NAN, ended = NAN;
        bool interrupted = false;
        for (size_t j = 0; j < rc->n_ev; j++) {
            const struct metrics_event *f = &rc->ev[j];
            if (f->id != (int64_t)inst) continue;
            if (f->kind == METRICS_EV_INSTANCE_RUNNING && isnan(ran)) ran = f->t_s;
            if (f->kind == METRICS_EV_INSTANCE_TERMINATED) ended = f->t_s;
            if (f->kind == METRICS_EV_SPOT_INTERRUPTION) interrupted = true;
        }
        if (isnan(ran)) continue; /* never ran: never billed */
        double price = NAN;
        for (unsigned k = 0; k < cp->asg.spot.n_pools; k++) {
            const struct spot_pool_params *pp = &cp->asg.spot.pools[k];
            if (pp->type == ec2_type_of(e, inst) && pp->zone == ec2_zone(e, inst))
                price = pp->type->price * (1 - pp->discount);
        }
        double secs;
        if (isnan(ended)) secs = fmax(60.0, horizon_s - ran); /* still running: what it ran, at least a minute */
        else {
            secs = fmax(60.0, ceil(ended - ran - 1e-9));
            if (interrupted && ended - ran < 3600) {
                o->free_interruptions++;
                continue;
            }
            if (interrupted) o->billed_interruptions++;
            else o->owner_ends++;
        }
        o->spot_expected += price * secs / 3600.0;
    }
}

/* Replication rep of design d of st; traffic: run the workload (else no requests at all); billed: book
 * the costs in a ledger and work out the spot bill from the events (case e). */
static struct outcome replicate_billed(const struct study *st, unsigned d, uint32_t rep, bool traffic, bool billed)
{
    struct outcome o = {0};
    o.rep = rep;
    o.first_bad_t = o.not_drained_t = NAN;
    o.min_drain_lead = INFINITY;
    const struct cloud_params *cp = &st->p.designs[d].u.cloud;
    struct run_ctx rc = {.o = &o, .g = &cp->asg};
    sim *s = sim_create(st->p.seed, rep, st->p.horizon);
    rc.s = s;
    rc.probe = sim_register(s, &probe_ops, &rc);
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = st->p.interval, .warmup = 0}, on_row, &rc);
    metrics_set_event_sink(m, on_event, &rc);
    struct cost *cost = billed ? cost_create(s, &st->p.prices, &cp->billing, true) : NULL;
    if (cost) metrics_attach_cost(m, cost);
    rc.cl = cloud_create(s, cp, m, cost);
    struct workload *w = traffic ? workload_create(s, &st->p.workload, cloud_submit, rc.cl) : NULL;
    enum sim_end end = sim_run(s);
    if (end != SIM_END_HORIZON || metrics_status(m) != 0) {
        fprintf(stderr, "validate_spot: a run ended early (end %d, metrics status %d)\n", (int)end, metrics_status(m));
        exit(1);
    }
    const struct spot *sp = asg_spot(cloud_asg(rc.cl));
    o.n_pools = sp ? spot_pool_count(sp) : 0;
    for (unsigned k = 0; k < o.n_pools; k++) {
        o.interruptions[k] = spot_pool_interruptions(sp, (int)k);
        o.exposure[k] = spot_pool_instance_seconds(sp, (int)k);
    }
    check_drained(&rc);
    o.spot_booked = cost ? cost_booked(cost, COST_EC2_SPOT) : NAN;
    o.on_demand_booked = cost ? cost_booked(cost, COST_EC2_ON_DEMAND) : NAN;
    if (cost) expect_bill(&rc, cp, sim_to_seconds(st->p.horizon));
    workload_destroy(w);
    cloud_destroy(rc.cl);
    cost_destroy(cost);
    metrics_destroy(m);
    sim_destroy(s);
    free(rc.ev);
    return o;
}

static struct outcome replicate(const struct study *st, unsigned d, uint32_t rep, bool traffic)
{
    return replicate_billed(st, d, rep, traffic, false);
}

/* (b) accumulates over every run of every case. */
static struct {
    unsigned interrupted, registered, not_drained, noticed_booting, not_drained_booting;
    double min_lead, first_t;
    int64_t first_id;
    uint32_t first_rep;
    char first_case[32];
} drained = {0, 0, 0, 0, 0, INFINITY, NAN, -1, 0, ""};

static void add_drained(const char *name, const struct outcome *o)
{
    drained.interrupted += o->interrupted;
    drained.registered += o->interrupted_registered;
    if (o->not_drained && !drained.not_drained) {
        drained.first_t = o->not_drained_t;
        drained.first_id = o->not_drained_id;
        drained.first_rep = o->rep;
        snprintf(drained.first_case, sizeof drained.first_case, "%s", name);
    }
    drained.not_drained += o->not_drained;
    drained.noticed_booting += o->noticed_booting;
    drained.not_drained_booting += o->not_drained_booting;
    drained.min_lead = fmin(drained.min_lead, o->min_drain_lead);
}

/* ---- (a) interruption counts per pool ------------------------------------------------------ */

static void case_poisson(void)
{
    const unsigned reps = 5;
    const double days = 100 * scale;
    struct study st;
    study_load(&st,
               "study: { horizon = \"%gd\"; report_interval = \"1d\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = 1.0; };\n"
               "  classes = ( { name = \"api\"; cpu = { dist = \"exponential\"; mean = \"100ms\"; }; } ); };\n"
               "designs = ( { name = \"poisson\"; kind = \"cloud\"; region: { azs = 1; };\n"
               "  lb: { health_check: { interval = \"300s\"; }; };\n"
               "  asg: { instance_types = ( { type = \"c5.large\"; }, { type = \"c6i.large\"; }, { type = \"m6i.large\"; } );\n"
               "    min = 150; max = 150; desired = 150; on_demand_pct_above_base = 0;\n"
               "    spot_allocation = \"lowest_price\"; spot_pools = 3;\n"
               "    spot: { default_band = \">20%%\";\n"
               "            pools = ( { type = \"c6i.large\"; az = 0; band = \"15-20%%\"; },\n"
               "                      { type = \"m6i.large\"; az = 0; band = \"10-15%%\"; } ); }; }; } );\n",
               days);
    const struct spot_params *spp = &st.p.designs[0].u.cloud.asg.spot;
    uint64_t n[SPOT_MAX_POOLS] = {0};
    double e[SPOT_MAX_POOLS] = {0};
    uint64_t notices = 0, rebalances = 0;
    for (uint32_t r = 0; r < reps; r++) {
        struct outcome o = replicate(&st, 0, r, false);
        for (unsigned k = 0; k < o.n_pools; k++) {
            n[k] += o.interruptions[k];
            e[k] += o.exposure[k];
        }
        notices += o.notices;
        rebalances += o.rebalances;
        add_drained("poisson", &o);
    }
    printf("# (a) 1 zone, 150 spot instances over 3 pools (lowest-price, 3 pools), no reclaims, no traffic, "
           "%u runs of %g days; notices=%llu rebalance_recommendations=%llu\n",
           reps, days, (unsigned long long)notices, (unsigned long long)rebalances);
    const double alpha = 1 - level;
    for (unsigned k = 0; k < spp->n_pools; k++) {
        double h = spot_hazard(spp->pools[k].band), expect = h * e[k];
        double lo = n[k] ? gsl_cdf_chisq_Pinv(alpha / 2, 2.0 * n[k]) / 2 : 0;
        double hi = gsl_cdf_chisq_Pinv(1 - alpha / 2, 2.0 * n[k] + 2) / 2;
        char name[96];
        snprintf(name, sizeof name, "interruptions_poisson_%s_az%u", spp->pools[k].type->name, spp->pools[k].zone);
        check_true(name, expect >= lo && expect <= hi,
                   "band=%s hazard_per_s=%.6g instance_s=%.6g expected=%.2f observed=%llu poisson_ci=[%.2f,%.2f]",
                   spot_band_names[spp->pools[k].band], h, e[k], expect, (unsigned long long)n[k], lo, hi);
    }
    study_free(&st);
}

/* ---- (c) the On-Demand base and percentage at every instant -------------------------------- */

static void case_on_demand_share(unsigned base, unsigned pct, const char *allocation, const char *region, unsigned reps)
{
    const double days = 2 * scale;
    struct study st;
    /* desired capacity every 20 minutes of a 3-hour cycle */
    study_load(&st,
               "study: { horizon = \"%gd\"; report_interval = \"60s\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = 2.0; };\n"
               "  classes = ( { name = \"api\"; cpu = { dist = \"exponential\"; mean = \"1s\"; }; } ); };\n"
               "designs = ( { name = \"share\"; kind = \"cloud\"; region: { azs = 3; %s };\n"
               "  lb: { health_check: { interval = \"60s\"; }; };\n"
               "  asg: { instance_types = ( { type = \"c5.large\"; }, { type = \"c6i.large\"; }, { type = \"m6i.large\"; } );\n"
               "    min = 1; max = 40; desired = 10; on_demand_base = %u; on_demand_pct_above_base = %u;\n"
               "    spot_allocation = \"%s\"; health_check_grace = \"60s\";\n"
               "    spot: { default_band = \">20%%\"; reclaims_per_month = 1440.0; reclaim_fraction = 0.5; };\n"
               "    policies = ( { type = \"scheduled\"; at = \"20m\"; every = \"3h\"; desired = 17; },\n"
               "                 { type = \"scheduled\"; at = \"40m\"; every = \"3h\"; desired = 4; },\n"
               "                 { type = \"scheduled\"; at = \"60m\"; every = \"3h\"; desired = 23; },\n"
               "                 { type = \"scheduled\"; at = \"80m\"; every = \"3h\"; desired = 9; },\n"
               "                 { type = \"scheduled\"; at = \"100m\"; every = \"3h\"; desired = 31; },\n"
               "                 { type = \"scheduled\"; at = \"120m\"; every = \"3h\"; desired = 6; },\n"
               "                 { type = \"scheduled\"; at = \"140m\"; every = \"3h\"; desired = 13; },\n"
               "                 { type = \"scheduled\"; at = \"160m\"; every = \"3h\"; desired = 1; },\n"
               "                 { type = \"scheduled\"; at = \"180m\"; every = \"3h\"; desired = 10; } ); }; } );\n",
               days, region, base, pct, allocation);
    unsigned rows = 0, rows_bad = 0, sc = 0, sc_bad = 0, off = 0, above = 0;
    uint64_t notices = 0, scalings = 0, failed = 0;
    double first_t = NAN;
    unsigned fd = 0, fo = 0, fs = 0, frep = 0;
    for (uint32_t r = 0; r < reps; r++) {
        struct outcome o = replicate(&st, 0, r, true);
        rows += o.rows_checked;
        rows_bad += o.rows_bad;
        sc += o.scalings_checked;
        sc_bad += o.scalings_bad;
        off += o.off_desired;
        above += o.off_above;
        notices += o.notices;
        scalings += o.scalings;
        failed += o.failed;
        if (isnan(first_t) && !isnan(o.first_bad_t)) {
            first_t = o.first_bad_t;
            frep = r;
            fd = o.bad_desired;
            fo = o.bad_od;
            fs = o.bad_spot;
        }
        add_drained("on_demand_share", &o);
    }
    printf("# (c) 3 zones, base %u, %u%% On-Demand above it, %s, desired 1..31 every 20 min, reclaims of half a "
           "pool 1440/month/pool%s; %u runs of %g days: scaling actions=%llu notices=%llu failed requests=%llu "
           "instants_off_desired_capacity=%u (above it: %u; not checked)\n",
           base, pct, allocation, *region ? ", random zone outages" : "", reps, days, (unsigned long long)scalings,
           (unsigned long long)notices, (unsigned long long)failed, off, above);
    char name[96], where[160] = "";
    if (!isnan(first_t))
        snprintf(where, sizeof where, " first_violation: replication=%u t_s=%.6g desired=%u on_demand=%u (rule %u) spot=%u",
                 frep, first_t, fd, fo, od_rule(&st.p.designs[0].u.cloud.asg, fd), fs);
    snprintf(name, sizeof name, "on_demand_share_every_interval_base%u_pct%u", base, pct);
    check_true(name, rows > 0 && rows_bad == 0, "rows_at_desired=%u violations=%u%s", rows, rows_bad, where);
    snprintf(name, sizeof name, "on_demand_share_every_scaling_base%u_pct%u", base, pct);
    check_true(name, sc > 0 && sc_bad == 0, "scaling_actions_at_desired=%u violations=%u%s", sc, sc_bad, where);
    study_free(&st);
}

/* ---- (d) capacity rebalancing against none ------------------------------------------------- */

/* One design of case (d): n spot instances, with or without capacity rebalancing. */
static void rebalancing_design(char *buf, size_t len, const char *name, unsigned n, bool rebalance)
{
    snprintf(buf, len,
             "{ name = \"%s\"; kind = \"cloud\"; region: { azs = 1; };\n"
             "  lb: { algorithm = \"least_outstanding_requests\"; deregistration_delay = \"3600s\"; request_timeout = \"4000s\";\n"
             "        health_check: { interval = \"300s\"; timeout = \"120s\"; unhealthy_threshold = 10; }; };\n"
             "  asg: { instance_types = ( { type = \"c5.large\"; }, { type = \"c6i.large\"; }, { type = \"m6i.large\"; } );\n"
             "    min = %u; max = %u; desired = %u; on_demand_pct_above_base = 0; capacity_rebalance = %s;\n"
             "    spot_allocation = \"lowest_price\"; spot_pools = 3; spot: { default_band = \">20%%\"; }; }; }",
             name, n, n, n, rebalance ? "true" : "false");
}

static void case_rebalancing(void)
{
    const unsigned reps = 20, n = 100;
    const double days = 20 * scale, rho = 0.7, cpu_s = 1000;
    const double speed = (1.16 + 1.13 + 1.13) / 3; /* the pools share the instances evenly */
    const double rps = rho * n * 2 * speed / cpu_s;
    struct study st;
    char d0[2048], d1[2048];
    rebalancing_design(d0, sizeof d0, "no-rebalance", n, false);
    rebalancing_design(d1, sizeof d1, "rebalance", n, true);
    study_load(&st,
               "study: { horizon = \"%gd\"; report_interval = \"1h\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = %.9g; };\n"
               "  classes = ( { name = \"job\"; cpu = { dist = \"gamma\"; mean = \"%gs\"; cv = 0.3; }; } ); };\n"
               "designs = ( %s,\n %s );\n",
               days, rps, cpu_s, d0, d1);
    double diff[MAX_REPS], f0[MAX_REPS], f1[MAX_REPS];
    uint64_t notices[2] = {0, 0}, rebal[2] = {0, 0}, died[2] = {0, 0}, other[2] = {0, 0}, arrivals = 0;
    for (uint32_t r = 0; r < reps; r++) {
        struct outcome a = replicate(&st, 0, r, true);
        struct outcome b = replicate(&st, 1, r, true);
        f0[r] = (double)a.failed;
        f1[r] = (double)b.failed;
        diff[r] = f0[r] - f1[r];
        const struct outcome *ab[2] = {&a, &b};
        for (int k = 0; k < 2; k++) {
            notices[k] += ab[k]->notices;
            rebal[k] += ab[k]->rebalances;
            died[k] += ab[k]->errors_by[METRICS_ERR_TARGET_DIED];
            other[k] += ab[k]->failed - ab[k]->errors_by[METRICS_ERR_TARGET_DIED];
        }
        arrivals += a.arrivals;
        add_drained("rebalancing", &a);
        add_drained("rebalancing", &b);
    }
    struct stats_ci c0 = stats_ci(f0, reps, level), c1 = stats_ci(f1, reps, level), cd = stats_ci(diff, reps, level);
    printf("# (d) 1 zone, %u spot instances (band >20%%), requests of %gs CPU (gamma cv 0.3) at rho=%.2f (%.4g/s), "
           "deregistration delay 3600 s; %u paired runs of %g days, %llu requests per design\n",
           n, cpu_s, rho, rps, reps, days, (unsigned long long)arrivals);
    printf("#     no rebalancing: notices=%llu target_died=%llu other_failures=%llu\n", (unsigned long long)notices[0],
           (unsigned long long)died[0], (unsigned long long)other[0]);
    printf("#     rebalancing:    notices=%llu recommendations=%llu target_died=%llu other_failures=%llu\n",
           (unsigned long long)notices[1], (unsigned long long)rebal[1], (unsigned long long)died[1],
           (unsigned long long)other[1]);
    check_true("capacity_rebalancing_reduces_failed_requests", cd.lo > 0,
               "failed_no_rebalance=%.4g ci=[%.4g,%.4g] failed_rebalance=%.4g ci=[%.4g,%.4g] diff=%.4g diff_ci=[%.4g,%.4g] "
               "reps=%u (paired)",
               c0.mean, c0.lo, c0.hi, c1.mean, c1.lo, c1.hi, cd.mean, cd.lo, cd.hi, reps);
    study_free(&st);
}

static void case_billing(void)
{
    const unsigned reps = 3;
    struct study st;
    study_load(&st,
               "study: { horizon = \"%gd\"; report_interval = \"1h\"; seed = 20261130; };\n"
               "workload: { arrivals: { mean_rps = 1.0; };\n"
               "  classes = ( { name = \"a\"; cpu = { dist = \"exponential\"; mean = \"50ms\"; }; } ); };\n"
               "designs = ( { name = \"billing\"; kind = \"cloud\"; region: { azs = 1; };\n"
               "  asg: { instance_types = ( { type = \"c5.large\"; }, { type = \"m6i.large\"; } );\n"
               "    min = 10; max = 30; desired = 20; on_demand_pct_above_base = 0;\n"
               "    spot_allocation = \"lowest_price\"; spot_pools = 2;\n"
               "    spot: { default_band = \"<5%%\"; reclaims_per_month = 720.0; reclaim_fraction = 0.3;\n"
               "            pools = ( { type = \"m6i.large\"; az = 0; discount = 0.5; } ); };\n"
               "    policies = ( { type = \"scheduled\"; every = \"90m\"; at = \"0s\"; desired = 26; },\n"
               "                 { type = \"scheduled\"; every = \"90m\"; at = \"45m\"; desired = 14; } ); }; } );\n",
               3 * scale);
    double booked = 0, expected = 0, worst = 0, od = 0;
    unsigned free_n = 0, billed_n = 0, owner_n = 0;
    for (uint32_t r = 0; r < reps; r++) {
        struct outcome o = replicate_billed(&st, 0, r, true, true);
        booked += o.spot_booked;
        expected += o.spot_expected;
        od += o.on_demand_booked;
        worst = fmax(worst, fabs(o.spot_booked - o.spot_expected) / o.spot_expected);
        free_n += o.free_interruptions;
        billed_n += o.billed_interruptions;
        owner_n += o.owner_ends;
        add_drained("billing", &o);
    }
    printf("# (e) 1 zone, 20 spot instances (26/14 every 45 min), reclaims of 30%% of a pool ~hourly; %u runs of %g days\n",
           reps, 3 * scale);
    check_true("spot_bill_follows_the_first_hour_rule", worst < 1e-6 && free_n > 0 && billed_n > 0 && owner_n > 0 && !(od > 0),
               "booked=%.6f expected=%.6f worst_relative_error=%.3g interrupted_in_first_hour=%u (free) "
               "interrupted_later=%u ended_by_the_group=%u on_demand_booked=%g",
               booked, expected, worst, free_n, billed_n, owner_n, od);
    study_free(&st);
}

int main(int argc, char **argv)
{
    scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: validate_spot [scale > 0]\n");
        return 2;
    }
    printf("# intervals at level %.5f (Bonferroni over %d checks)\n", level, N_CHECKS);
    case_poisson();
    case_on_demand_share(2, 30, "price_capacity_optimized", "", 4);
    case_on_demand_share(0, 50, "lowest_price", "", 4);
    case_on_demand_share(1, 40, "capacity_optimized",
                         "random_outages: { between = { dist = \"exponential\"; mean = \"3h\"; }; "
                         "repair = { dist = \"exponential\"; mean = \"30m\"; }; };",
                         10);
    case_rebalancing();
    case_billing();
    printf("# (b) every interrupted instance that had registered with the balancer was deregistered at its notice "
           "(>= 120 s before it died), or when it registered if the notice came while it booted; over every run above\n");
    char where[160] = "";
    if (drained.not_drained)
        snprintf(where, sizeof where, " first_violation: case=%s replication=%u instance=%lld t_s=%.6g",
                 drained.first_case, drained.first_rep, (long long)drained.first_id, drained.first_t);
    check_true("interrupted_instances_were_deregistered_first", drained.registered > 0 && drained.not_drained == 0,
               "interruptions=%u of_registered_instances=%u not_deregistered_in_time=%u (of which noticed while booting: "
               "%u, of %u such) min_lead_s_of_those_registered_at_notice=%.6g%s",
               drained.interrupted, drained.registered, drained.not_drained, drained.not_drained_booting,
               drained.noticed_booting, drained.min_lead, where);
    if (checks != N_CHECKS) {
        fprintf(stderr, "validate_spot: ran %d checks, N_CHECKS says %d\n", checks, N_CHECKS);
        failures++;
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
