/* spot.c: pools, prices, interruption clocks, reclaims, allocation strategies. See spot.h. */
#include "spot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

const char *const spot_band_names[SPOT_N_BANDS + 1] = {"<5%", "5-10%", "10-15%", "15-20%", ">20%", NULL};
static const double band_midpoint[SPOT_N_BANDS] = {0.025, 0.075, 0.125, 0.175, 0.225};
static const double month_s = 30.0 * 86400.0;

double spot_hazard(enum spot_band band) { return -log(1.0 - band_midpoint[band]) / month_s; }

/* ---- parameters ---------------------------------------------------------------------------- */

/* Reads "t_s,price_usd" lines (blank lines and # comments allowed), times increasing. */
static bool read_prices(conf *c, const config_setting_t *g, struct spot_pool_params *pp)
{
    char path[1024];
    FILE *f = conf_open_data(c, g, "price_file", path, sizeof path);
    if (!f) return false;
    char *line = NULL;
    size_t line_cap = 0;
    unsigned lineno = 0, cap = 0;
    bool ok = true;
    while (getline(&line, &line_cap, f) >= 0) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == '\0') continue;
        char *end;
        double t = strtod(p, &end);
        double price = NAN;
        if (end != p && *end == ',') {
            char *q = end + 1;
            price = strtod(q, &end);
            if (end == q) price = NAN;
            while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
        }
        if (isnan(price) || *end != '\0' || !isfinite(t) || !(price >= 0) || !isfinite(price)) {
            conf_error_data(c, path, lineno, "expected \"t_s,price_usd\" with a time and a price >= 0");
            ok = false;
            continue;
        }
        if (pp->n_prices > 0 && t <= pp->price_t[pp->n_prices - 1]) {
            conf_error_data(c, path, lineno, "times must increase: %g is not after %g", t, pp->price_t[pp->n_prices - 1]);
            ok = false;
            continue;
        }
        if (pp->n_prices == cap) {
            cap = cap ? 2 * cap : 64;
            pp->price_t = sim_xrealloc(pp->price_t, cap * sizeof *pp->price_t);
            pp->price = sim_xrealloc(pp->price, cap * sizeof *pp->price);
        }
        pp->price_t[pp->n_prices] = t;
        pp->price[pp->n_prices++] = price;
    }
    free(line);
    fclose(f);
    if (ok && pp->n_prices == 0) {
        conf_error_data(c, path, 1, "no prices in the file");
        ok = false;
    }
    return ok;
}

bool spot_parse(conf *c, const config_setting_t *g, const struct ec2_type *const *types, unsigned n_types,
                unsigned zones, struct spot_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    double discount = 0.6;
    int band = SPOT_BAND_LT5;
    conf_get_double(c, g, "default_discount", false, (struct conf_range){0, 1, false}, &discount);
    if (discount >= 1) conf_error_in(c, g, "default_discount", "must be below 1, got %g", discount);
    conf_get_choice(c, g, "default_band", false, spot_band_names, &band);
    p->reclaim_fraction = 0.5;
    conf_get_double(c, g, "reclaims_per_month", false, CONF_IN(0, 1e4), &p->reclaims_per_month);
    conf_get_double(c, g, "reclaim_fraction", false, (struct conf_range){0, 1, true}, &p->reclaim_fraction);
    const config_setting_t *rb = conf_group(c, g, "rebalance", false);
    p->rebalance_probability = 1.0;
    p->rebalance_lead = dist_uniform(300.0, 1800.0);
    conf_get_double(c, rb, "probability", false, CONF_IN(0, 1), &p->rebalance_probability);
    dist_get(c, rb, "lead", CONF_UNIT_SECONDS, false, &p->rebalance_lead);

    for (unsigned t = 0; t < n_types; t++)
        for (unsigned z = 0; z < zones && p->n_pools < SPOT_MAX_POOLS; z++)
            p->pools[p->n_pools++] = (struct spot_pool_params){
                .type = types[t], .zone = z, .discount = discount, .band = (enum spot_band)band, .capacity = UINT32_MAX};

    const config_setting_t *list = conf_list(c, g, "pools", false);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *e = conf_elem_group(c, list, i);
        if (!e) continue;
        const char *name = NULL;
        int64_t zone = 0, capacity = -1;
        conf_get_string(c, e, "type", true, &name);
        conf_get_int(c, e, "az", true, 0, (int64_t)zones - 1, &zone);
        struct spot_pool_params *pp = NULL;
        for (unsigned k = 0; name && k < p->n_pools; k++)
            if (!strcmp(p->pools[k].type->name, name) && p->pools[k].zone == zone) pp = &p->pools[k];
        if (!pp) {
            if (name) conf_error_in(c, e, "type", "\"%s\" is not one of the group's instance types", name);
            continue;
        }
        int b = (int)pp->band;
        conf_get_double(c, e, "discount", false, (struct conf_range){0, 1, false}, &pp->discount);
        conf_get_choice(c, e, "band", false, spot_band_names, &b);
        conf_get_int(c, e, "capacity", false, 0, UINT32_MAX - 1, &capacity);
        pp->band = (enum spot_band)b;
        if (capacity >= 0) pp->capacity = (uint32_t)capacity;
        if (config_setting_get_member(e, "price_file")) read_prices(c, e, pp);
    }
    return conf_errors(c) == before;
}

void spot_params_free(struct spot_params *p)
{
    for (unsigned k = 0; k < p->n_pools; k++) {
        free(p->pools[k].price_t);
        free(p->pools[k].price);
    }
    dist_free(&p->rebalance_lead);
    memset(p, 0, sizeof *p);
}

/* ---- runtime ------------------------------------------------------------------------------- */

enum { EV_REBALANCE, EV_NOTICE, EV_INTERRUPT, EV_RECLAIM, N_KINDS };

struct pool {
    uint32_t size;
    uint64_t interruptions;
    double exposure;    /* instance-seconds up to `since` */
    sim_time since;
    gsl_rng *rng;       /* "spot/<type>/az<zone>" */
};

struct tracked {
    int pool;           /* -1: not a spot instance of ours */
    sim_event_id rebalance, notice, interrupt;
};

struct spot {
    sim *s;
    uint16_t id;
    const struct spot_params *p;
    struct spot_owner owner;
    struct pool pools[SPOT_MAX_POOLS];
    struct tracked *inst;
    uint32_t cap;
    gsl_rng *reclaim_rng;
    int64_t interrupting; /* the instance being interrupted now, or -1 */
};

static void account(struct spot *sp, int k)
{
    struct pool *pl = &sp->pools[k];
    pl->exposure += pl->size * sim_to_seconds(sim_now(sp->s) - pl->since);
    pl->since = sim_now(sp->s);
}

/* The notice: two minutes to go. */
static void give_notice(struct spot *sp, uint32_t inst)
{
    struct tracked *tr = &sp->inst[inst];
    sim_cancel(sp->s, tr->rebalance);
    sim_cancel(sp->s, tr->notice);
    tr->rebalance = tr->notice = 0;
    sp->pools[tr->pool].interruptions++;
    tr->interrupt = sim_schedule(sp->s, SPOT_NOTICE, sp->id, EV_INTERRUPT, &inst, sizeof inst);
    sp->owner.notice(sp->owner.ctx, inst);
}

static void on_rebalance(sim *s, void *self, const void *payload)
{
    (void)s;
    struct spot *sp = self;
    uint32_t inst;
    memcpy(&inst, payload, sizeof inst);
    sp->inst[inst].rebalance = 0;
    sp->owner.rebalance(sp->owner.ctx, inst);
}

static void on_notice(sim *s, void *self, const void *payload)
{
    (void)s;
    uint32_t inst;
    memcpy(&inst, payload, sizeof inst);
    give_notice(self, inst);
}

static void on_interrupt(sim *s, void *self, const void *payload)
{
    (void)s;
    struct spot *sp = self;
    uint32_t inst;
    memcpy(&inst, payload, sizeof inst);
    sp->inst[inst].interrupt = 0;
    sp->interrupting = (int64_t)inst;
    sp->owner.interrupt(sp->owner.ctx, inst); /* the owner terminates it, which detaches it */
    sp->interrupting = -1;
}

/* A correlated reclaim: a fraction of the pool gets its notice at once. */
static void on_reclaim(sim *s, void *self, const void *payload)
{
    struct spot *sp = self;
    int k;
    memcpy(&k, payload, sizeof k);
    uint32_t take = (uint32_t)ceil(sp->p->reclaim_fraction * sp->pools[k].size), left = 0;
    for (uint32_t i = 0; i < sp->cap; i++) left += sp->inst[i].pool == k && !sp->inst[i].interrupt;
    /* selection sampling: each candidate is taken with probability (still to take) / (still to see) */
    for (uint32_t i = 0; i < sp->cap && take > 0; i++) {
        struct tracked *tr = &sp->inst[i];
        if (tr->pool != k || tr->interrupt) continue; /* not in the pool, or already noticed */
        if (gsl_rng_uniform(sp->reclaim_rng) * left < take) {
            give_notice(sp, i);
            take--;
        }
        left--;
    }
    sim_schedule(s, sim_delay(s, dist_exp(sp->reclaim_rng, month_s / sp->p->reclaims_per_month)), sp->id, EV_RECLAIM,
                 &k, sizeof k);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_rebalance, on_notice, on_interrupt, on_reclaim};
static const char *const kind_names[N_KINDS] = {"rebalance_recommendation", "interruption_notice", "interruption",
                                                "reclaim"};
static const sim_model_ops ops = {"spot", N_KINDS, handlers, kind_names, NULL};

struct spot *spot_create(sim *s, const struct spot_params *p, const struct spot_owner *owner)
{
    struct spot *sp = sim_xcalloc(1, sizeof *sp);
    sp->s = s;
    sp->p = p;
    sp->owner = *owner;
    sp->interrupting = -1;
    sp->id = sim_register(s, &ops, sp);
    sp->reclaim_rng = sim_rng(s, "spot/reclaim");
    for (unsigned k = 0; k < p->n_pools; k++) {
        char name[96];
        snprintf(name, sizeof name, "spot/%s/az%u", p->pools[k].type->name, p->pools[k].zone);
        sp->pools[k].rng = sim_rng(s, name);
        if (p->reclaims_per_month > 0) {
            int kk = (int)k;
            sim_schedule(s, sim_delay(s, dist_exp(sp->reclaim_rng, month_s / p->reclaims_per_month)), sp->id,
                         EV_RECLAIM, &kk, sizeof kk);
        }
    }
    return sp;
}

void spot_destroy(struct spot *sp)
{
    if (!sp) return;
    free(sp->inst);
    free(sp);
}

static bool has_room(const struct spot *sp, unsigned k) { return sp->pools[k].size < sp->p->pools[k].capacity; }

/* The index of the price in force at t s: the last at or before t, the first before any. */
static unsigned price_index(const struct spot_pool_params *pp, double t)
{
    unsigned lo = 0, hi = pp->n_prices;
    while (hi - lo > 1) {
        unsigned mid = (lo + hi) / 2;
        if (pp->price_t[mid] <= t) lo = mid;
        else hi = mid;
    }
    return lo;
}

double spot_price(const struct spot *sp, int k)
{
    const struct spot_pool_params *pp = &sp->p->pools[k];
    if (pp->n_prices == 0) return pp->type->price * (1.0 - pp->discount);
    return pp->price[price_index(pp, sim_to_seconds(sim_now(sp->s)))];
}

double spot_price_integral(const struct spot *sp, int k, sim_time t0, sim_time t1)
{
    const struct spot_pool_params *pp = &sp->p->pools[k];
    if (t1 <= t0) return 0.0;
    if (pp->n_prices == 0) return pp->type->price * (1.0 - pp->discount) * sim_to_seconds(t1 - t0) / 3600.0;
    double a = sim_to_seconds(t0), b = sim_to_seconds(t1), usd = 0.0;
    for (unsigned i = price_index(pp, a); a < b; i++) {
        double end = i + 1 < pp->n_prices && pp->price_t[i + 1] < b ? pp->price_t[i + 1] : b;
        usd += pp->price[i] * (end - a) / 3600.0;
        a = end;
    }
    return usd;
}

int spot_choose(const struct spot *sp, enum spot_allocation strategy, unsigned n_lowest, unsigned zone)
{
    int best = -1;
    switch (strategy) {
    case SPOT_LOWEST_PRICE: {
        /* the n cheapest pools of the zone, then the one of them with the fewest instances */
        int cheapest[SPOT_MAX_POOLS];
        unsigned n = 0;
        for (unsigned k = 0; k < sp->p->n_pools; k++)
            if (sp->p->pools[k].zone == zone && has_room(sp, k)) cheapest[n++] = (int)k;
        for (unsigned i = 1; i < n; i++) /* insertion sort by price: a handful of pools */
            for (unsigned j = i; j > 0 && spot_price(sp, cheapest[j]) < spot_price(sp, cheapest[j - 1]); j--) {
                int x = cheapest[j];
                cheapest[j] = cheapest[j - 1];
                cheapest[j - 1] = x;
            }
        for (unsigned i = 0; i < n && i < n_lowest; i++)
            if (best < 0 || sp->pools[cheapest[i]].size < sp->pools[best].size) best = cheapest[i];
        return best;
    }
    case SPOT_CAPACITY_OPTIMIZED:
    case SPOT_PRICE_CAPACITY_OPTIMIZED:
        for (unsigned k = 0; k < sp->p->n_pools; k++) {
            if (sp->p->pools[k].zone != zone || !has_room(sp, k)) continue;
            if (best < 0) {
                best = (int)k;
                continue;
            }
            enum spot_band bk = sp->p->pools[k].band, bb = sp->p->pools[best].band;
            bool better = bk < bb || (bk == bb && strategy == SPOT_PRICE_CAPACITY_OPTIMIZED &&
                                      spot_price(sp, (int)k) < spot_price(sp, best));
            if (better) best = (int)k;
        }
        return best;
    }
    return -1;
}

const struct ec2_type *spot_pool_type(const struct spot *sp, int k) { return sp->p->pools[k].type; }

void spot_attach(struct spot *sp, int k, uint32_t inst)
{
    if (inst >= sp->cap) {
        uint32_t cap = sp->cap ? sp->cap : 64;
        while (cap <= inst) cap *= 2;
        sp->inst = sim_xrealloc(sp->inst, cap * sizeof *sp->inst);
        for (uint32_t i = sp->cap; i < cap; i++) sp->inst[i] = (struct tracked){-1, 0, 0, 0};
        sp->cap = cap;
    }
    account(sp, k);
    sp->pools[k].size++;
    struct pool *pl = &sp->pools[k];
    double until_notice = dist_exp(pl->rng, 1.0 / spot_hazard(sp->p->pools[k].band));
    struct tracked *tr = &sp->inst[inst];
    *tr = (struct tracked){k, 0, 0, 0};
    tr->notice = sim_schedule(sp->s, sim_delay(sp->s, until_notice), sp->id, EV_NOTICE, &inst, sizeof inst);
    if (gsl_rng_uniform(pl->rng) < sp->p->rebalance_probability) {
        double lead = dist_sample(&sp->p->rebalance_lead, pl->rng);
        if (lead < until_notice)
            tr->rebalance = sim_schedule(sp->s, sim_delay(sp->s, until_notice - lead), sp->id, EV_REBALANCE, &inst,
                                         sizeof inst);
    }
}

void spot_detach(struct spot *sp, uint32_t inst)
{
    if (inst >= sp->cap || sp->inst[inst].pool < 0) return;
    struct tracked *tr = &sp->inst[inst];
    sim_cancel(sp->s, tr->rebalance);
    sim_cancel(sp->s, tr->notice);
    sim_cancel(sp->s, tr->interrupt);
    account(sp, tr->pool);
    sp->pools[tr->pool].size--;
    *tr = (struct tracked){-1, 0, 0, 0};
}

int spot_pool_of(const struct spot *sp, uint32_t inst) { return inst < sp->cap ? sp->inst[inst].pool : -1; }
bool spot_interrupting(const struct spot *sp, uint32_t inst) { return sp->interrupting == (int64_t)inst; }

unsigned spot_pool_count(const struct spot *sp) { return sp->p->n_pools; }
uint32_t spot_pool_size(const struct spot *sp, int k) { return sp->pools[k].size; }
uint64_t spot_pool_interruptions(const struct spot *sp, int k) { return sp->pools[k].interruptions; }

double spot_pool_instance_seconds(const struct spot *sp, int k)
{
    const struct pool *pl = &sp->pools[k];
    return pl->exposure + pl->size * sim_to_seconds(sim_now(sp->s) - pl->since);
}
