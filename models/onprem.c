/* onprem.c: a fleet behind a dispatcher, spares, failures and repairs, the cost of owning it. See onprem.h. */
#include "onprem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { EV_FAIL, EV_REPAIR, N_KINDS };
enum server_state { S_SERVING, S_SPARE, S_FAILED };

struct onprem {
    sim *s;
    uint16_t id;
    const struct onprem_params *p;
    struct metrics *m;
    unsigned n;              /* servers bought: serving + spare + failed */
    struct server **servers;
    uint8_t *state;          /* enum server_state */
    unsigned *serving;       /* indices of the serving servers, for dispatch */
    unsigned n_serving;
    unsigned next;           /* round robin: position in `serving` of the next request's server */
    gsl_rng *rng;            /* "onprem/failures" */
    unsigned powered;        /* serving + spare */
    double powered_seconds;  /* integral of powered servers, s */
    sim_time since;          /* ns: integral up to here */
};

static const char *const dispatch_names[] = {"round_robin", "jsq", NULL};

bool onprem_parse(conf *c, const config_setting_t *design, struct onprem_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    int64_t servers = 1, spares = 0, cores = 1, limit = -1;
    conf_get_int(c, design, "servers", true, 1, 100000, &servers);
    conf_get_int(c, design, "spares", false, 0, 100000, &spares);
    p->servers = (unsigned)servers;
    p->spares = (unsigned)spares;
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

    const config_setting_t *f = conf_group(c, design, "failures", false);
    if (f) {
        if (dist_get(c, f, "between", CONF_UNIT_SECONDS, true, &p->failure) && !(dist_mean(&p->failure) > 0))
            conf_error_in(c, f, "between", "the time between failures must be positive on average");
        dist_get(c, f, "repair", CONF_UNIT_SECONDS, true, &p->repair);
    }

    const config_setting_t *t = conf_group(c, design, "tco", false);
    struct onprem_tco *o = &p->tco;
    o->given = t != NULL;
    if (t) { /* every figure is the user's: servers, tariffs and salaries differ too much for defaults */
        conf_get_money(c, t, "server_price", true, CONF_IN(0, 1e9), &o->price);
        conf_get_double(c, t, "amortisation_months", true, (struct conf_range){0, 1200, true}, &o->months);
        conf_get_double(c, t, "cost_of_money", true, CONF_IN(0, 1), &o->cost_of_money);
        conf_get_double(c, t, "idle_watts", true, CONF_IN(0, 1e5), &o->idle_w);
        conf_get_double(c, t, "peak_watts", true, CONF_IN(0, 1e5), &o->peak_w);
        conf_get_double(c, t, "pue", true, CONF_IN(1, 5), &o->pue);
        conf_get_money(c, t, "kwh_price", true, CONF_IN(0, 100), &o->kwh);
        conf_get_money(c, t, "kw_month", true, CONF_IN(0, 1e6), &o->kw_month);
        conf_get_money(c, t, "network_month", true, CONF_IN(0, 1e6), &o->network_month);
        conf_get_double(c, t, "servers_per_admin", true, (struct conf_range){0, 1e6, true}, &o->servers_per_admin);
        conf_get_money(c, t, "admin_year", true, CONF_IN(0, 1e8), &o->admin_year);
        if (o->peak_w < o->idle_w)
            conf_error_in(c, t, "peak_watts", "must be at least idle_watts (%g), got %g", o->idle_w, o->peak_w);
    }
    return conf_errors(c) == before;
}

void onprem_params_free(struct onprem_params *p)
{
    dist_free(&p->failure);
    dist_free(&p->repair);
}

double onprem_monthly_payment(double price, double months, double rate)
{
    double r = rate / 12.0;
    if (r <= 0) return price / months;
    return price * r / (1.0 - pow(1.0 + r, -months));
}

/* ---- the fleet ------------------------------------------------------------------------------- */

static void account(struct onprem *o)
{
    sim_time now = sim_now(o->s);
    o->powered_seconds += o->powered * sim_to_seconds(now - o->since);
    o->since = now;
}

static void done(void *ctx, const struct request *r)
{
    struct onprem *o = ctx;
    metrics_success(o->m, r, 0);
}

static void lost(void *ctx, const struct request *r)
{
    struct onprem *o = ctx;
    metrics_failure(o->m, r, METRICS_ERR_TARGET_DIED);
}

uint64_t onprem_in_system(const struct onprem *o)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < o->n; i++) n += server_held(o->servers[i]);
    return n;
}

static uint64_t probe_in_system(const void *ctx) { return onprem_in_system(ctx); }

static double probe_busy(const void *ctx)
{
    const struct onprem *o = ctx;
    double busy = 0;
    for (unsigned i = 0; i < o->n; i++) busy += server_busy_core_seconds(o->servers[i]);
    return busy;
}

static double probe_cores(const void *ctx)
{
    const struct onprem *o = ctx;
    return (double)o->n_serving * o->p->server.cores;
}

static void probe_instances(const void *ctx, double out[4])
{
    const struct onprem *o = ctx;
    out[0] = 0;
    out[1] = o->n_serving;
    out[2] = 0;
    out[3] = o->n - o->powered;
}

struct metrics_probe onprem_probe(const struct onprem *o)
{
    return (struct metrics_probe){o, probe_in_system, probe_busy, probe_cores, probe_instances, NULL, NULL};
}

unsigned onprem_serving(const struct onprem *o) { return o->n_serving; }

double onprem_joules(const struct onprem *o)
{
    const struct onprem_tco *t = &o->p->tco;
    double powered = o->powered_seconds + o->powered * sim_to_seconds(sim_now(o->s) - o->since);
    return t->idle_w * powered + (t->peak_w - t->idle_w) * probe_busy(o) / o->p->server.cores;
}

static double meter(const void *ctx) { return onprem_joules(ctx); }

static void schedule_failure(struct onprem *o, unsigned i)
{
    if (o->p->failure.kind == DIST_NONE) return;
    double t = dist_sample(&o->p->failure, o->rng);
    sim_schedule(o->s, sim_delay(o->s, t > 1e-6 ? t : 1e-6), o->id, EV_FAIL, &i, sizeof i); /* time moves on */
}

static void serve(struct onprem *o, unsigned i)
{
    o->state[i] = S_SERVING;
    o->serving[o->n_serving++] = i;
    metrics_event(o->m, METRICS_EV_INSTANCE_RUNNING, -1, i, 0);
}

/* A server fails: the requests in it are lost; a spare, if any, serves in its place. */
static void on_fail(sim *s, void *self, const void *payload)
{
    struct onprem *o = self;
    unsigned i;
    memcpy(&i, payload, sizeof i);
    account(o);
    if (o->state[i] == S_SERVING) {
        unsigned k = 0;
        while (o->serving[k] != i) k++;
        o->serving[k] = o->serving[--o->n_serving]; /* round robin order changes; fine for a fleet */
        if (o->next >= o->n_serving) o->next = 0;
        server_kill(o->servers[i], lost, o);
        for (unsigned j = 0; j < o->n; j++)
            if (o->state[j] == S_SPARE) {
                serve(o, j);
                break;
            }
    }
    o->state[i] = S_FAILED;
    o->powered--;
    metrics_event(o->m, METRICS_EV_INSTANCE_FAILED, -1, i, 0);
    metrics_cores_changed(o->m);
    double repair = dist_sample(&o->p->repair, o->rng);
    sim_schedule(s, sim_delay(s, repair), o->id, EV_REPAIR, &i, sizeof i);
}

/* Repaired: it serves again if the fleet is short, else it stands by. */
static void on_repair(sim *s, void *self, const void *payload)
{
    (void)s;
    struct onprem *o = self;
    unsigned i;
    memcpy(&i, payload, sizeof i);
    account(o);
    o->powered++;
    if (o->n_serving < o->p->servers) serve(o, i);
    else o->state[i] = S_SPARE;
    metrics_cores_changed(o->m);
    schedule_failure(o, i);
}

static void check_fleet(sim *s, void *self)
{
    struct onprem *o = self;
    unsigned by[3] = {0, 0, 0};
    for (unsigned i = 0; i < o->n; i++) by[o->state[i]]++;
    SIM_ASSERT(s, by[S_SERVING] == o->n_serving && by[S_SERVING] + by[S_SPARE] == o->powered &&
                      by[S_SERVING] + by[S_SPARE] + by[S_FAILED] == o->n,
               "servers do not add up: %u serving (%u listed), %u spare, %u failed, %u bought", by[S_SERVING],
               o->n_serving, by[S_SPARE], by[S_FAILED], o->n);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_fail, on_repair};
static const char *const kind_names[N_KINDS] = {"hardware_failure", "repair"};
static const sim_model_ops ops = {"onprem", N_KINDS, handlers, kind_names, check_fleet};

struct onprem *onprem_create(sim *s, const struct onprem_params *p, struct metrics *m, struct cost *cost)
{
    struct onprem *o = sim_xcalloc(1, sizeof *o);
    o->s = s;
    o->p = p;
    o->m = m;
    o->n = p->servers + p->spares;
    o->id = sim_register(s, &ops, o);
    o->rng = sim_rng(s, "onprem/failures");
    o->servers = sim_xcalloc(o->n, sizeof *o->servers);
    o->state = sim_xcalloc(o->n, sizeof *o->state);
    o->serving = sim_xcalloc(o->n, sizeof *o->serving);
    for (unsigned i = 0; i < o->n; i++) {
        o->servers[i] = server_create(s, &p->server, done, o);
        o->state[i] = S_SPARE;
    }
    for (unsigned i = 0; i < p->servers; i++) {
        o->state[i] = S_SERVING;
        o->serving[o->n_serving++] = i;
    }
    o->powered = o->n;
    o->since = sim_now(s);
    for (unsigned i = 0; i < o->n; i++) schedule_failure(o, i);
    metrics_attach(m, &(struct metrics_probe){o, probe_in_system, probe_busy, probe_cores, probe_instances, NULL, NULL});
    const struct onprem_tco *t = &p->tco;
    if (cost && t->given) {
        double month = COST_MONTH_S, n = o->n;
        cost_set_rate(cost, COST_ONPREM_HARDWARE, n * onprem_monthly_payment(t->price, t->months, t->cost_of_money) / month);
        cost_set_rate(cost, COST_ONPREM_SPACE, n * t->peak_w / 1000.0 * t->kw_month / month);
        cost_set_rate(cost, COST_ONPREM_NETWORK, n * t->network_month / month);
        cost_set_rate(cost, COST_ONPREM_STAFF, n / t->servers_per_admin * t->admin_year / 12.0 / month);
        cost_set_energy_meter(cost, meter, o, t->pue * t->kwh / 3.6e6);
    }
    return o;
}

void onprem_destroy(struct onprem *o)
{
    if (!o) return;
    for (unsigned i = 0; i < o->n; i++) server_destroy(o->servers[i]);
    free(o->servers);
    free(o->state);
    free(o->serving);
    free(o);
}

static unsigned shortest(const struct onprem *o)
{
    unsigned best = o->serving[0];
    uint64_t best_n = UINT64_MAX;
    for (unsigned k = 0; k < o->n_serving; k++) {
        unsigned i = o->serving[k];
        uint64_t n = server_held(o->servers[i]);
        if (n < best_n || (n == best_n && i < best)) {
            best_n = n;
            best = i;
        }
    }
    return best;
}

uint64_t onprem_least_waiting(const struct onprem *o)
{
    if (o->n_serving == 0) return UINT64_MAX;
    uint64_t least = UINT64_MAX;
    for (unsigned k = 0; k < o->n_serving; k++) {
        uint64_t q = server_queued(o->servers[o->serving[k]]);
        if (q < least) least = q;
    }
    return least;
}

int64_t onprem_least_backlog(const struct onprem *o)
{
    int64_t least = INT64_MAX;
    for (unsigned k = 0; k < o->n_serving; k++) {
        int64_t b = (int64_t)server_held(o->servers[o->serving[k]]) - (int64_t)o->p->server.cores;
        if (b < least) least = b;
    }
    return least;
}

void onprem_submit(void *ctx, const struct request *r)
{
    struct onprem *o = ctx;
    struct request routed = *r;
    if (o->n_serving == 0) {
        metrics_arrival(o->m, &routed);
        metrics_failure(o->m, &routed, METRICS_ERR_NO_HEALTHY_TARGET);
        return;
    }
    unsigned i;
    if (o->p->dispatch == ONPREM_JSQ) {
        i = shortest(o);
    } else {
        i = o->serving[o->next];
        o->next = (o->next + 1) % o->n_serving;
    }
    routed.server = i;
    metrics_arrival(o->m, &routed);
    if (!server_submit(o->servers[i], &routed)) metrics_failure(o->m, &routed, METRICS_ERR_QUEUE_FULL);
}
