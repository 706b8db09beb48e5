/* az.c: zones, latencies, outages. See az.h. */
#include "az.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EV_DOWN, EV_UP, EV_RANDOM_DOWN, EV_RANDOM_UP, N_KINDS };

struct az {
    sim *s;
    uint16_t id;
    const struct az_params *p;
    az_changed_fn *changed;
    void *ctx;
    unsigned down[AZ_MAX];   /* outages in progress per zone */
    gsl_rng *rng[AZ_MAX];    /* random outages, per zone */
};

bool az_parse(conf *c, const config_setting_t *region, struct az_params *p)
{
    int before = conf_errors(c);
    *p = (struct az_params){.n = 3, .intra_rtt = 200 * SIM_US, .inter_rtt = SIM_MS};
    int64_t n = p->n;
    conf_get_int(c, region, "azs", false, 1, AZ_MAX, &n);
    p->n = (unsigned)n;
    double intra = sim_to_seconds(p->intra_rtt), inter = sim_to_seconds(p->inter_rtt);
    conf_get_duration(c, region, "intra_az_rtt", false, CONF_IN(0, 1), &intra);
    conf_get_duration(c, region, "inter_az_rtt", false, CONF_IN(0, 1), &inter);
    p->intra_rtt = sim_from_seconds(intra);
    p->inter_rtt = sim_from_seconds(inter);

    const config_setting_t *list = conf_list(c, region, "outages", false);
    unsigned k = list ? (unsigned)config_setting_length(list) : 0;
    if (k > AZ_MAX_OUTAGES) {
        conf_error(c, list, "at most %d scheduled outages, got %u", AZ_MAX_OUTAGES, k);
        k = AZ_MAX_OUTAGES;
    }
    for (unsigned i = 0; i < k; i++) {
        config_setting_t *g = conf_elem_group(c, list, i);
        if (!g) continue;
        int64_t zone = 0;
        double at = 0, duration = 0;
        conf_get_int(c, g, "az", true, 0, (int64_t)p->n - 1, &zone);
        bool ok = conf_get_duration(c, g, "at", true, CONF_IN(0, 9e9), &at);
        ok &= conf_get_duration(c, g, "duration", true, (struct conf_range){0, 9e9, true}, &duration);
        if (ok && at + duration > 9e9)
            conf_error_in(c, g, "duration", "the outage would end at %gs, beyond the %gs strato can represent",
                          at + duration, 9e9);
        p->outages[p->n_outages++] = (struct az_outage){(unsigned)zone, sim_from_seconds(at), sim_from_seconds(duration)};
    }
    const config_setting_t *rnd = conf_group(c, region, "random_outages", false);
    if (rnd) {
        p->random_outages = true;
        dist_get(c, rnd, "between", CONF_UNIT_SECONDS, true, &p->between);
        dist_get(c, rnd, "repair", CONF_UNIT_SECONDS, true, &p->repair);
    }
    return conf_errors(c) == before;
}

void az_params_free(struct az_params *p)
{
    dist_free(&p->between);
    dist_free(&p->repair);
}

static void go_down(struct az *a, unsigned z)
{
    if (a->down[z]++ == 0) a->changed(a->ctx, z, false);
}

static void on_down(sim *s, void *self, const void *payload)
{
    struct az *a = self;
    unsigned z;
    memcpy(&z, payload, sizeof z);
    (void)s;
    go_down(a, z);
}

static void on_up(sim *s, void *self, const void *payload)
{
    struct az *a = self;
    unsigned z;
    memcpy(&z, payload, sizeof z);
    SIM_ASSERT(s, a->down[z] > 0, "zone %u comes up but is not down", z);
    if (--a->down[z] == 0) a->changed(a->ctx, z, true);
}

/* A random outage starts now; it ends after a repair time. */
static void on_random_down(sim *s, void *self, const void *payload)
{
    struct az *a = self;
    unsigned z;
    memcpy(&z, payload, sizeof z);
    go_down(a, z);
    sim_schedule(s, sim_delay(s, dist_sample(&a->p->repair, a->rng[z])), a->id, EV_RANDOM_UP, &z, sizeof z);
}

/* A random outage ends now; the next one starts after the time between outages. */
static void on_random_up(sim *s, void *self, const void *payload)
{
    struct az *a = self;
    unsigned z;
    memcpy(&z, payload, sizeof z);
    on_up(s, self, payload);
    sim_schedule(s, sim_delay(s, dist_sample(&a->p->between, a->rng[z])), a->id, EV_RANDOM_DOWN, &z, sizeof z);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_down, on_up, on_random_down, on_random_up};
static const char *const kind_names[N_KINDS] = {"zone_down", "zone_up", "random_zone_down", "random_zone_up"};
static const sim_model_ops ops = {"az", N_KINDS, handlers, kind_names, NULL};

struct az *az_create(sim *s, const struct az_params *p, az_changed_fn *changed, void *ctx)
{
    struct az *a = sim_xcalloc(1, sizeof *a);
    a->s = s;
    a->p = p;
    a->changed = changed;
    a->ctx = ctx;
    a->id = sim_register(s, &ops, a);
    for (unsigned i = 0; i < p->n_outages; i++) {
        const struct az_outage *o = &p->outages[i];
        sim_schedule_at(s, o->at, a->id, EV_DOWN, &o->zone, sizeof o->zone);
        sim_schedule_at(s, o->at + o->duration, a->id, EV_UP, &o->zone, sizeof o->zone);
    }
    if (p->random_outages)
        for (unsigned z = 0; z < p->n; z++) {
            char name[32];
            snprintf(name, sizeof name, "az/%u/outage", z);
            a->rng[z] = sim_rng(s, name);
            sim_schedule(s, sim_delay(s, dist_sample(&p->between, a->rng[z])), a->id, EV_RANDOM_DOWN, &z, sizeof z);
        }
    return a;
}

void az_destroy(struct az *a) { free(a); }

unsigned az_count(const struct az *a) { return a->p->n; }
bool az_up(const struct az *a, unsigned zone) { return a->down[zone] == 0; }

sim_time az_rtt(const struct az *a, unsigned from, unsigned to)
{
    return from == to ? a->p->intra_rtt : a->p->inter_rtt;
}
