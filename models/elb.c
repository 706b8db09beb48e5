/* elb.c: nodes, target group, health checks, routing, deregistration. See elb.h. */
#include "elb.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

enum { EV_CHECK, EV_CHECK_TIMEOUT, EV_DEREGISTERED, EV_CONNECT_TIMEOUT, N_KINDS };

/* What one node knows of one target. */
struct view {
    uint8_t health;        /* enum elb_health */
    uint8_t passes, fails; /* consecutive check results */
    uint32_t seq;          /* number of the node's latest check of the target */
    sim_event_id timeout;  /* that check's timeout while it is unanswered, else 0 */
    uint32_t outstanding;  /* requests this node has at the target */
};

struct target {
    bool known;            /* registered at some point (ids may have gaps) */
    uint8_t reach;         /* enum elb_reach */
    uint8_t reg;           /* enum elb_registration */
    unsigned zone;
    struct server *sv;
    uint64_t outstanding;  /* requests at the target, all nodes */
    uint64_t routed;
    sim_event_id deregistered;
    uint16_t gen;          /* registrations so far */
};

struct node {
    bool up;
    uint32_t *eligible;    /* registered targets in scope that this node sees healthy */
    uint32_t n_eligible;
    uint32_t *scope;       /* registered targets in scope, whatever their health (fail-open) */
    uint32_t n_scope;
    uint32_t rr;           /* round-robin position */
};

struct elb {
    sim *s;
    uint16_t id;
    struct elb_params p;
    struct az *az;
    struct metrics *m;
    elb_unused_fn *unused;
    void *ctx;
    elb_health_fn *health_changed;
    void *health_ctx;
    gsl_rng *dns, *route, *phase;
    unsigned n_nodes;
    struct node nodes[AZ_MAX];
    struct target *targets;
    struct view *views;    /* [target * n_nodes + node] */
    uint32_t n_targets, cap;
    uint64_t outstanding, checks_in_servers, connecting;
};

struct check_ref {
    uint32_t target;
    uint32_t seq;      /* the check's number in its (node, target) view; 0 for the periodic event */
    uint16_t node;
    uint16_t gen;      /* the target's registration it belongs to: checks stop when it ends */
};

/* ---- parameters ---------------------------------------------------------------------------- */

static const char *const algorithms[] = {"round_robin", "least_outstanding_requests", "random", NULL};

bool elb_parse(conf *c, const config_setting_t *lb, struct elb_params *p)
{
    int before = conf_errors(c);
    *p = (struct elb_params){ELB_ROUND_ROBIN, true, 30 * SIM_SEC, 5 * SIM_SEC, 5, 2, 0.001, 300 * SIM_SEC, 60 * SIM_SEC,
                             10 * SIM_SEC};
    int algorithm = 0;
    conf_get_choice(c, lb, "algorithm", false, algorithms, &algorithm);
    p->algorithm = (enum elb_algorithm)algorithm;
    conf_get_bool(c, lb, "cross_zone", false, &p->cross_zone);
    double delay = 300, timeout = 60, connect = 10;
    conf_get_duration(c, lb, "deregistration_delay", false, CONF_IN(0, 3600), &delay);
    conf_get_duration(c, lb, "request_timeout", false, CONF_IN(1, 4000), &timeout);
    conf_get_duration(c, lb, "connect_timeout", false, CONF_IN(0.001, 4000), &connect);
    p->deregistration_delay = sim_from_seconds(delay);
    p->request_timeout = sim_from_seconds(timeout);
    p->connect_timeout = sim_from_seconds(connect);

    const config_setting_t *hc = conf_group(c, lb, "health_check", false);
    double interval = 30, check_timeout = 5;
    int64_t healthy = 5, unhealthy = 2;
    conf_get_duration(c, hc, "interval", false, CONF_IN(5, 300), &interval);
    bool timeout_ok = conf_get_duration(c, hc, "timeout", false, CONF_IN(2, 120), &check_timeout);
    conf_get_int(c, hc, "healthy_threshold", false, 2, 10, &healthy);
    conf_get_int(c, hc, "unhealthy_threshold", false, 2, 10, &unhealthy);
    conf_get_duration(c, hc, "cpu", false, CONF_IN(0, 10), &p->check_cpu);
    if (timeout_ok && check_timeout >= interval)
        conf_error_in(c, hc, "timeout", "must be shorter than the interval (%gs), got %gs", interval, check_timeout);
    p->interval = sim_from_seconds(interval);
    p->timeout = sim_from_seconds(check_timeout);
    p->healthy_threshold = (unsigned)healthy;
    p->unhealthy_threshold = (unsigned)unhealthy;
    return conf_errors(c) == before;
}

/* ---- target lists per node ----------------------------------------------------------------- */

static struct view *view(const struct elb *b, unsigned node, uint32_t t) { return &b->views[(size_t)t * b->n_nodes + node]; }

static bool in_scope(const struct elb *b, unsigned node, const struct target *tg)
{
    return b->p.cross_zone || tg->zone == node;
}

/* Rebuilds every node's lists; called when a registration or a health state changes (rare). */
static void rebuild(struct elb *b)
{
    for (unsigned n = 0; n < b->n_nodes; n++) {
        struct node *nd = &b->nodes[n];
        nd->n_eligible = nd->n_scope = 0;
        for (uint32_t t = 0; t < b->n_targets; t++) {
            const struct target *tg = &b->targets[t];
            if (!tg->known || tg->reg != ELB_REGISTERED || !in_scope(b, n, tg)) continue;
            nd->scope[nd->n_scope++] = t;
            if (view(b, n, t)->health == ELB_HEALTHY) nd->eligible[nd->n_eligible++] = t;
        }
    }
}

/* ---- health checks ------------------------------------------------------------------------- */

static void record(struct elb *b, unsigned node, uint32_t t, bool pass)
{
    struct view *v = view(b, node, t);
    enum elb_health before = v->health;
    if (pass) {
        v->fails = 0;
        v->passes = (uint8_t)(v->passes < 255 ? v->passes + 1 : 255);
        if (v->health == ELB_INITIAL || (v->health == ELB_UNHEALTHY && v->passes >= b->p.healthy_threshold))
            v->health = ELB_HEALTHY;
    } else {
        v->passes = 0;
        v->fails = (uint8_t)(v->fails < 255 ? v->fails + 1 : 255);
        if (v->health != ELB_UNHEALTHY && v->fails >= b->p.unhealthy_threshold) v->health = ELB_UNHEALTHY;
    }
    if (v->health != before) {
        rebuild(b);
        metrics_event(b->m, v->health == ELB_HEALTHY ? METRICS_EV_TARGET_HEALTHY : METRICS_EV_TARGET_UNHEALTHY,
                      (int)b->targets[t].zone, t, node);
        if (b->health_changed) b->health_changed(b->health_ctx, t);
    }
}

static void on_check(sim *s, void *self, const void *payload)
{
    struct elb *b = self;
    struct check_ref ref;
    memcpy(&ref, payload, sizeof ref);
    struct target *tg = &b->targets[ref.target];
    if (tg->reg == ELB_UNUSED || ref.gen != tg->gen) return; /* checks stop with the registration */
    sim_schedule(s, b->p.interval, b->id, EV_CHECK, &ref, sizeof ref);
    if (!b->nodes[ref.node].up) return; /* a node that is down checks nothing */
    struct view *v = view(b, ref.node, ref.target);
    ref.seq = ++v->seq;
    if (tg->reach == ELB_REFUSES) {
        record(b, ref.node, ref.target, false);
        return;
    }
    if (tg->reach == ELB_REACHABLE) {
        struct request r = {.id = ((uint64_t)ref.seq << 32) | ref.target, .arrival = sim_now(s), .demand = b->p.check_cpu,
                            .cls = ELB_CHECK_CLASS, .node = ref.node, .server = ref.target};
        if (!server_submit(tg->sv, &r)) { /* 503 */
            record(b, ref.node, ref.target, false);
            return;
        }
        b->checks_in_servers++;
    }
    /* unanswered (target down) or not yet answered: fails at the timeout unless the answer comes first */
    v->timeout = sim_schedule(s, b->p.timeout, b->id, EV_CHECK_TIMEOUT, &ref, sizeof ref);
}

static void on_check_timeout(sim *s, void *self, const void *payload)
{
    (void)s;
    struct elb *b = self;
    struct check_ref ref;
    memcpy(&ref, payload, sizeof ref);
    struct view *v = view(b, ref.node, ref.target);
    if (ref.seq != v->seq || ref.gen != b->targets[ref.target].gen) return;
    v->timeout = 0;
    record(b, ref.node, ref.target, false);
}

static void check_answered(struct elb *b, const struct request *r)
{
    b->checks_in_servers--;
    uint32_t t = r->server, seq = (uint32_t)(r->id >> 32);
    struct view *v = view(b, r->node, t);
    if (seq != v->seq || v->timeout == 0) return; /* too late: already counted as failed */
    sim_cancel(b->s, v->timeout);
    v->timeout = 0;
    record(b, r->node, t, true);
}

/* ---- deregistration ------------------------------------------------------------------------ */

static void become_unused(struct elb *b, uint32_t t)
{
    struct target *tg = &b->targets[t];
    sim_cancel(b->s, tg->deregistered);
    tg->deregistered = 0;
    tg->reg = ELB_UNUSED;
    metrics_event(b->m, METRICS_EV_TARGET_UNUSED, (int)tg->zone, t, 0);
    b->unused(b->ctx, t);
}

static void on_deregistered(sim *s, void *self, const void *payload)
{
    (void)s;
    uint32_t t;
    memcpy(&t, payload, sizeof t);
    struct elb *b = self;
    b->targets[t].deregistered = 0;
    become_unused(b, t);
}

static void settle(struct elb *b, const struct request *r);

/* A request to a silent target gives up. */
static void on_connect_timeout(sim *s, void *self, const void *payload)
{
    (void)s;
    struct elb *b = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    b->connecting--;
    metrics_failure(b->m, &r, METRICS_ERR_CONNECT_TIMEOUT);
    settle(b, &r);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_check, on_check_timeout, on_deregistered, on_connect_timeout};
static const char *const kind_names[N_KINDS] = {"health_check", "health_check_timeout", "deregistered",
                                                "connect_timeout"};
static const sim_model_ops ops = {"elb", N_KINDS, handlers, kind_names, NULL};

/* ---- public surface ------------------------------------------------------------------------ */

struct elb *elb_create(sim *s, const struct elb_params *p, struct az *a, struct metrics *m, elb_unused_fn *unused,
                       void *ctx)
{
    struct elb *b = sim_xcalloc(1, sizeof *b);
    b->s = s;
    b->p = *p;
    b->az = a;
    b->m = m;
    b->unused = unused;
    b->ctx = ctx;
    b->dns = sim_rng(s, "elb/dns");
    b->route = sim_rng(s, "elb/route");
    b->phase = sim_rng(s, "elb/health_phase");
    b->n_nodes = az_count(a);
    for (unsigned n = 0; n < b->n_nodes; n++) b->nodes[n].up = az_up(a, n);
    b->id = sim_register(s, &ops, b);
    return b;
}

void elb_destroy(struct elb *b)
{
    if (!b) return;
    for (unsigned n = 0; n < b->n_nodes; n++) {
        free(b->nodes[n].eligible);
        free(b->nodes[n].scope);
    }
    free(b->targets);
    free(b->views);
    free(b);
}

static void reserve(struct elb *b, uint32_t t)
{
    if (t < b->n_targets) return;
    if (t >= b->cap) {
        uint32_t cap = b->cap ? b->cap : 16;
        while (cap <= t) cap *= 2;
        b->targets = sim_xrealloc(b->targets, cap * sizeof *b->targets);
        b->views = sim_xrealloc(b->views, (size_t)cap * b->n_nodes * sizeof *b->views);
        for (unsigned n = 0; n < b->n_nodes; n++) {
            b->nodes[n].eligible = sim_xrealloc(b->nodes[n].eligible, cap * sizeof(uint32_t));
            b->nodes[n].scope = sim_xrealloc(b->nodes[n].scope, cap * sizeof(uint32_t));
        }
        b->cap = cap;
    }
    memset(b->targets + b->n_targets, 0, (t + 1 - b->n_targets) * sizeof *b->targets);
    memset(b->views + (size_t)b->n_targets * b->n_nodes, 0,
           (size_t)(t + 1 - b->n_targets) * b->n_nodes * sizeof *b->views);
    b->n_targets = t + 1;
}

void elb_register(struct elb *b, uint32_t t, unsigned zone, struct server *sv, bool healthy)
{
    reserve(b, t);
    struct target *tg = &b->targets[t];
    SIM_ASSERT(b->s, !tg->known || tg->reg == ELB_UNUSED, "target %u registered twice", t);
    /* requests of an earlier registration may still be at the target: keep counting them */
    uint16_t gen = (uint16_t)(tg->gen + 1);
    *tg = (struct target){.known = true, .reach = ELB_REACHABLE, .reg = ELB_REGISTERED, .zone = zone, .sv = sv,
                          .outstanding = tg->outstanding, .routed = tg->routed, .gen = gen};
    for (unsigned n = 0; n < b->n_nodes; n++) {
        struct view *v = view(b, n, t);
        sim_cancel(b->s, v->timeout);
        *v = (struct view){.health = healthy ? ELB_HEALTHY : ELB_INITIAL, .seq = v->seq, .outstanding = v->outstanding};
        struct check_ref ref = {t, 0, (uint16_t)n, gen};
        sim_time phase = (sim_time)(gsl_rng_uniform(b->phase) * (double)b->p.interval);
        sim_schedule(b->s, phase, b->id, EV_CHECK, &ref, sizeof ref);
    }
    rebuild(b);
}

void elb_deregister(struct elb *b, uint32_t t)
{
    struct target *tg = &b->targets[t];
    SIM_ASSERT(b->s, tg->known && tg->reg == ELB_REGISTERED, "deregistering target %u that is not registered", t);
    tg->reg = ELB_DRAINING;
    rebuild(b);
    metrics_event(b->m, METRICS_EV_TARGET_DRAINING, (int)tg->zone, t, 0);
    if (tg->outstanding == 0) become_unused(b, t);
    else tg->deregistered = sim_schedule(b->s, b->p.deregistration_delay, b->id, EV_DEREGISTERED, &t, sizeof t);
}

void elb_set_reach(struct elb *b, uint32_t t, enum elb_reach reach)
{
    if (t < b->n_targets && b->targets[t].known) b->targets[t].reach = (uint8_t)reach;
}

/* A node that comes back has not checked anything while it was down: it starts over, every target
 * initial in its view, so DNS sends it nothing until a target passes its first check. */
void elb_zone_changed(struct elb *b, unsigned zone, bool up)
{
    b->nodes[zone].up = up;
    if (!up) return;
    for (uint32_t t = 0; t < b->n_targets; t++) {
        struct view *v = view(b, zone, t);
        sim_cancel(b->s, v->timeout); /* a check sent before it went down no longer counts */
        v->timeout = 0;
        v->seq++;
        v->health = ELB_INITIAL;
        v->passes = v->fails = 0;
    }
    rebuild(b);
}

/* DNS: a node uniformly among those that are up and have a healthy target; else among those that are
 * up and have any target (fail-open). Returns the node, or -1. */
static int pick_node(struct elb *b, bool *fail_open)
{
    unsigned cand[AZ_MAX], n = 0;
    for (unsigned i = 0; i < b->n_nodes; i++)
        if (b->nodes[i].up && b->nodes[i].n_eligible > 0) cand[n++] = i;
    *fail_open = n == 0;
    if (n == 0)
        for (unsigned i = 0; i < b->n_nodes; i++)
            if (b->nodes[i].up && b->nodes[i].n_scope > 0) cand[n++] = i;
    if (n == 0) return -1;
    return (int)(n == 1 ? cand[0] : cand[gsl_rng_uniform_int(b->dns, n)]);
}

static uint32_t pick_target(struct elb *b, unsigned node, bool fail_open)
{
    struct node *nd = &b->nodes[node];
    const uint32_t *list = fail_open ? nd->scope : nd->eligible;
    uint32_t n = fail_open ? nd->n_scope : nd->n_eligible;
    switch (b->p.algorithm) {
    case ELB_RANDOM: return list[gsl_rng_uniform_int(b->route, n)];
    case ELB_LEAST_OUTSTANDING: {
        /* the fewest of this node's requests; ties go round robin so equal targets share evenly */
        uint32_t start = nd->rr++ % n, best = list[start], best_n = view(b, node, best)->outstanding;
        for (uint32_t j = 1; j < n && best_n > 0; j++) {
            uint32_t t = list[(start + j) % n], k = view(b, node, t)->outstanding;
            if (k < best_n) {
                best = t;
                best_n = k;
            }
        }
        return best;
    }
    case ELB_ROUND_ROBIN: break;
    }
    return list[nd->rr++ % n];
}

void elb_submit(void *ctx, const struct request *r)
{
    struct elb *b = ctx;
    metrics_arrival(b->m, r);
    bool fail_open;
    int node = pick_node(b, &fail_open);
    if (node < 0) {
        metrics_failure(b->m, r, METRICS_ERR_NO_HEALTHY_TARGET);
        return;
    }
    uint32_t t = pick_target(b, (unsigned)node, fail_open);
    struct target *tg = &b->targets[t];
    tg->routed++;
    if (tg->reach == ELB_REFUSES) {
        metrics_failure(b->m, r, METRICS_ERR_CONNECTION_REFUSED);
        return;
    }
    struct request routed = *r;
    routed.server = t;
    routed.node = (uint16_t)node;
    if (tg->reach == ELB_SILENT) { /* outstanding at the target until the connect timeout */
        sim_schedule(b->s, b->p.connect_timeout, b->id, EV_CONNECT_TIMEOUT, &routed, sizeof routed);
        b->connecting++;
    } else if (!server_submit(tg->sv, &routed)) {
        metrics_failure(b->m, r, METRICS_ERR_QUEUE_FULL);
        return;
    }
    tg->outstanding++;
    view(b, (unsigned)node, t)->outstanding++;
    b->outstanding++;
}

/* One fewer request at the target; a draining target with none left is done. */
static void settle(struct elb *b, const struct request *r)
{
    struct target *tg = &b->targets[r->server];
    tg->outstanding--;
    view(b, r->node, r->server)->outstanding--;
    b->outstanding--;
    if (tg->reg == ELB_DRAINING && tg->outstanding == 0) become_unused(b, r->server);
}

void elb_done(struct elb *b, const struct request *r)
{
    if (r->cls == ELB_CHECK_CLASS) {
        check_answered(b, r);
        return;
    }
    unsigned target_zone = b->targets[r->server].zone;
    sim_time rtt = az_rtt(b->az, r->node, target_zone);
    if (sim_now(b->s) - r->arrival + rtt > b->p.request_timeout) metrics_failure(b->m, r, METRICS_ERR_TIMEOUT);
    else metrics_success(b->m, r, rtt);
    if (target_zone != r->node) metrics_cross_zone(b->m, r->bytes);
    settle(b, r);
}

void elb_lost(struct elb *b, const struct request *r)
{
    if (r->cls == ELB_CHECK_CLASS) {
        b->checks_in_servers--; /* its timeout will count it as failed */
        return;
    }
    metrics_failure(b->m, r, METRICS_ERR_TARGET_DIED);
    settle(b, r);
}

void elb_set_health_listener(struct elb *b, elb_health_fn *fn, void *ctx)
{
    b->health_changed = fn;
    b->health_ctx = ctx;
}

static unsigned nodes_up(const struct elb *b)
{
    unsigned up = 0;
    for (unsigned n = 0; n < b->n_nodes; n++) up += b->nodes[n].up;
    return up;
}

bool elb_seen_unhealthy(const struct elb *b, uint32_t t)
{
    unsigned seen = 0, up = nodes_up(b);
    for (unsigned n = 0; n < b->n_nodes; n++) seen += b->nodes[n].up && view(b, n, t)->health == ELB_UNHEALTHY;
    return up > 0 && 2 * seen > up;
}

bool elb_registered(const struct elb *b, uint32_t t) { return t < b->n_targets && b->targets[t].known; }
enum elb_registration elb_registration(const struct elb *b, uint32_t t) { return b->targets[t].reg; }
enum elb_health elb_health(const struct elb *b, unsigned node, uint32_t t) { return view(b, node, t)->health; }
uint64_t elb_outstanding(const struct elb *b) { return b->outstanding; }
uint64_t elb_checks_in_servers(const struct elb *b) { return b->checks_in_servers; }
uint64_t elb_connecting(const struct elb *b) { return b->connecting; }
uint64_t elb_routed(const struct elb *b, uint32_t t) { return b->targets[t].routed; }

unsigned elb_healthy_in_zone(const struct elb *b, unsigned zone)
{
    unsigned k = 0, up = nodes_up(b);
    if (up == 0) return 0;
    for (uint32_t t = 0; t < b->n_targets; t++) {
        const struct target *tg = &b->targets[t];
        if (!tg->known || tg->zone != zone || tg->reg != ELB_REGISTERED) continue;
        unsigned seen = 0;
        for (unsigned n = 0; n < b->n_nodes; n++) seen += b->nodes[n].up && view(b, n, t)->health == ELB_HEALTHY;
        k += 2 * seen > up;
    }
    return k;
}
