/* onprem.c: a fixed fleet behind a dispatcher. See onprem.h. */
#include "onprem.h"

#include <stdlib.h>

struct onprem {
    struct onprem_params p;
    struct metrics *m;
    struct server **servers;
    unsigned next;           /* round robin: the server the next request goes to */
};

static const char *const dispatch_names[] = {"round_robin", "jsq", NULL};

bool onprem_parse(conf *c, const config_setting_t *design, struct onprem_params *p)
{
    int before = conf_errors(c);
    int64_t servers = 1, cores = 1, limit = -1;
    conf_get_int(c, design, "servers", true, 1, 100000, &servers);
    p->servers = (unsigned)servers;
    const config_setting_t *sv = conf_group(c, design, "server", false);
    conf_get_int(c, sv, "cores", false, 1, 4096, &cores);
    p->server.cores = (unsigned)cores;
    p->server.speed = 1.0;
    conf_get_double(c, sv, "speed", false, CONF_ABOVE(0), &p->server.speed);
    conf_get_int(c, sv, "queue_limit", false, 0, INT64_MAX, &limit);
    p->server.queue_limit = limit < 0 ? SERVER_UNLIMITED : limit;
    int dispatch = ONPREM_ROUND_ROBIN;
    conf_get_choice(c, design, "dispatch", false, dispatch_names, &dispatch);
    p->dispatch = (enum onprem_dispatch)dispatch;
    return conf_errors(c) == before;
}

static void done(void *ctx, const struct request *r)
{
    struct onprem *o = ctx;
    metrics_success(o->m, r, 0);
}

uint64_t onprem_in_system(const struct onprem *o)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < o->p.servers; i++) n += server_busy(o->servers[i]) + server_queued(o->servers[i]);
    return n;
}

static uint64_t probe_in_system(const void *ctx) { return onprem_in_system(ctx); }

static double probe_busy(const void *ctx)
{
    const struct onprem *o = ctx;
    double busy = 0;
    for (unsigned i = 0; i < o->p.servers; i++) busy += server_busy_core_seconds(o->servers[i]);
    return busy;
}

static double probe_cores(const void *ctx)
{
    const struct onprem *o = ctx;
    return (double)o->p.servers * o->p.server.cores;
}

struct onprem *onprem_create(sim *s, const struct onprem_params *p, struct metrics *m)
{
    struct onprem *o = sim_xcalloc(1, sizeof *o);
    o->p = *p;
    o->m = m;
    o->servers = sim_xcalloc(p->servers, sizeof *o->servers);
    for (unsigned i = 0; i < p->servers; i++) o->servers[i] = server_create(s, &p->server, done, o);
    metrics_attach(m, &(struct metrics_probe){o, probe_in_system, probe_busy, probe_cores, NULL, NULL, NULL});
    return o;
}

void onprem_destroy(struct onprem *o)
{
    if (!o) return;
    for (unsigned i = 0; i < o->p.servers; i++) server_destroy(o->servers[i]);
    free(o->servers);
    free(o);
}

static unsigned shortest(const struct onprem *o)
{
    unsigned best = 0;
    uint64_t best_n = UINT64_MAX;
    for (unsigned i = 0; i < o->p.servers; i++) {
        uint64_t n = server_busy(o->servers[i]) + server_queued(o->servers[i]);
        if (n < best_n) {
            best_n = n;
            best = i;
        }
    }
    return best;
}

void onprem_submit(void *ctx, const struct request *r)
{
    struct onprem *o = ctx;
    unsigned i;
    if (o->p.dispatch == ONPREM_JSQ) {
        i = shortest(o);
    } else {
        i = o->next;
        o->next = (o->next + 1) % o->p.servers;
    }
    struct request routed = *r;
    routed.server = i;
    metrics_arrival(o->m, &routed);
    if (!server_submit(o->servers[i], &routed)) metrics_failure(o->m, &routed, METRICS_ERR_QUEUE_FULL);
}
