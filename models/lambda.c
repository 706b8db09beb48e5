/* lambda.c: functions, execution environments, concurrency, throttling, billing. See lambda.h. */
#include "lambda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#define NONE UINT32_MAX
#define MB 1048576.0

/* ---- parameters ---------------------------------------------------------------------------- */

static const char *const arch_names[] = {"x86_64", "arm64", NULL};
static const char *const door_names[] = {"alb", "api_gateway", NULL};
static const char *const invocation_names[] = {"sync", "async", NULL};

double lambda_vcpus(double memory_mb)
{
    double v = memory_mb / 1769.0; /* "At 1,769 MB, a function has the equivalent of one vCPU" */
    return v < 6.0 ? v : 6.0;
}

/* Cold starts of Python and Node.js functions by memory, mean and sd in ms: Wang et al., USENIX ATC
 * 2018, as parameterised in OpenDC (aws-facts.md section 10); a lognormal with that mean and cv,
 * linear in memory between the rows, the last row beyond. */
static struct dist wang_cold_start(double memory_mb)
{
    static const double mem[] = {128, 256, 512, 1024, 1536, 2048};
    static const double mean[] = {265.21, 261.46, 257.71, 253.96, 250.07, 246.11};
    static const double sd[] = {354.43, 334.23, 314.03, 293.83, 273.63, 253.43};
    unsigned i = 0;
    while (i + 2 < 6 && memory_mb > mem[i + 1]) i++;
    double f = (memory_mb - mem[i]) / (mem[i + 1] - mem[i]);
    f = f < 0 ? 0 : f > 1 ? 1 : f;
    double m = mean[i] + f * (mean[i + 1] - mean[i]), s = sd[i] + f * (sd[i + 1] - sd[i]);
    return dist_lognormal(m / 1000.0, s / m);
}

/* The default cold start of a runtime, by the start of its name; false when strato knows none. */
static bool default_cold_start(const char *runtime, double memory_mb, struct dist *out)
{
    if (!strncmp(runtime, "python", 6) || !strncmp(runtime, "nodejs", 6)) {
        *out = wang_cold_start(memory_mb);
        return true;
    }
    /* Ranges at 512 MB, x86, ~2025 (aws-facts.md section 5.4, secondary): uniform over each. */
    static const struct {
        const char *prefix;
        double lo, hi; /* s */
    } ranges[] = {{"go", 0.080, 0.250}, {"provided", 0.080, 0.250}, {"java", 0.8, 2.5}, {"dotnet", 0.6, 1.2}};
    for (size_t k = 0; k < sizeof ranges / sizeof ranges[0]; k++)
        if (!strncmp(runtime, ranges[k].prefix, strlen(ranges[k].prefix))) {
            *out = dist_uniform(ranges[k].lo, ranges[k].hi);
            return true;
        }
    return false;
}

static void parse_function(conf *c, const config_setting_t *g, const struct workload_params *w,
                           struct lambda_function *f, unsigned n_functions)
{
    f->name = "";
    f->runtime = "python3.12";
    conf_get_string(c, g, "name", true, &f->name);
    int64_t memory = 128;
    conf_get_int(c, g, "memory_mb", false, 128, 10240, &memory);
    f->memory_mb = (double)memory;
    int arch = 0, inv = 0;
    conf_get_choice(c, g, "arch", false, arch_names, &arch);
    f->arch = (enum lambda_arch)arch;
    conf_get_choice(c, g, "invocation", false, invocation_names, &inv);
    f->async = inv == 1;
    conf_get_string(c, g, "runtime", false, &f->runtime);
    f->speed = 1.0;
    conf_get_double(c, g, "speed", false, CONF_IN(1e-3, 100), &f->speed);
    double timeout = 3;
    conf_get_duration(c, g, "timeout", false, CONF_IN(0.001, 900), &timeout);
    f->timeout = sim_from_seconds(timeout);
    if (config_setting_get_member(g, "cold_start")) dist_get(c, g, "cold_start", CONF_UNIT_SECONDS, true, &f->cold_start);
    else if (!default_cold_start(f->runtime, f->memory_mb, &f->cold_start))
        conf_error_in(c, g, "runtime", "strato has no cold-start figures for runtime \"%s\" (it knows python*, nodejs*, "
                      "go*, provided*, java*, dotnet*): give the function a cold_start distribution", f->runtime);
    f->overhead = dist_deterministic(0);
    dist_get(c, g, "overhead", CONF_UNIT_SECONDS, false, &f->overhead);
    f->keep_alive = dist_deterministic(600);
    dist_get(c, g, "keep_alive", CONF_UNIT_SECONDS, false, &f->keep_alive);
    f->lifetime = dist_deterministic(4 * 3600);
    dist_get(c, g, "lifetime", CONF_UNIT_SECONDS, false, &f->lifetime);
    int64_t reserved = 0, provisioned = 0;
    conf_get_int(c, g, "reserved", false, 0, 1000000, &reserved);
    conf_get_int(c, g, "provisioned", false, 0, 1000000, &provisioned);
    f->reserved = (uint32_t)reserved;
    f->provisioned = (uint32_t)provisioned;
    const config_setting_t *sched = conf_list(c, g, "provisioned_schedule", false);
    unsigned n = sched ? (unsigned)config_setting_length(sched) : 0;
    if (n > LAMBDA_MAX_SCHEDULE) {
        conf_error(c, sched, "at most %d entries, got %u", LAMBDA_MAX_SCHEDULE, n);
        n = LAMBDA_MAX_SCHEDULE;
    }
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *e = conf_elem_group(c, sched, i);
        if (!e) continue;
        double at = 0, every = 0;
        int64_t count = 0;
        conf_get_duration(c, e, "at", true, CONF_IN(0, 9e9), &at);
        conf_get_duration(c, e, "every", false, CONF_IN(1, 9e9), &every);
        conf_get_int(c, e, "count", true, 0, 1000000, &count);
        f->schedule[f->n_schedule++] = (struct lambda_schedule){sim_from_seconds(at), sim_from_seconds(every), (uint32_t)count};
        if (f->reserved && (uint32_t)count > f->reserved)
            conf_error_in(c, e, "count", "provisioned concurrency (%lld) must not exceed the reserved concurrency (%u)",
                          (long long)count, f->reserved);
    }
    if (f->reserved && f->provisioned > f->reserved)
        conf_error_in(c, g, "provisioned", "must not exceed the reserved concurrency (%u), got %u", f->reserved,
                      f->provisioned);
    /* classes: by name; a lone function serves every class by default */
    const config_setting_t *cls = conf_list(c, g, "classes", n_functions > 1);
    if (!cls) {
        for (unsigned k = 0; k < w->n_classes; k++) f->serves[k] = true;
        return;
    }
    for (unsigned i = 0; i < (unsigned)config_setting_length(cls); i++) {
        const char *name = NULL;
        if (!conf_elem_string(c, cls, i, &name)) continue;
        unsigned k = 0;
        while (k < w->n_classes && strcmp(w->classes[k].name, name) != 0) k++;
        if (k == w->n_classes) conf_error(c, config_setting_get_elem(cls, i), "the workload has no class \"%s\"", name);
        else f->serves[k] = true;
    }
}

bool lambda_parse(conf *c, const config_setting_t *design, const struct workload_params *w, struct lambda_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    int64_t account = 1000, scale = 1000;
    conf_get_int(c, design, "account_concurrency", false, 1, 10000000, &account);
    p->account_limit = (uint32_t)account;
    conf_get_int(c, design, "scale_per_window", false, 1, 10000000, &scale);
    p->scale_per_window = (uint32_t)scale;
    double window = 10, age = 6 * 3600;
    conf_get_duration(c, design, "scale_window", false, CONF_IN(0.001, 3600), &window);
    conf_get_duration(c, design, "max_event_age", false, CONF_IN(60, 6 * 3600), &age);
    p->scale_window = sim_from_seconds(window);
    p->max_event_age = sim_from_seconds(age);

    const config_setting_t *door = conf_group(c, design, "front_door", false);
    int kind = 0;
    conf_get_choice(c, door, "type", false, door_names, &kind);
    p->front_door = (enum lambda_front_door)kind;
    p->front_latency = dist_deterministic(0);
    if (p->front_door == LAMBDA_API_GATEWAY && door && !config_setting_get_member(door, "latency"))
        conf_error_in(c, door, "latency", "an API gateway adds latency that AWS does not publish: give it a "
                                          "distribution measured on your API (e.g. { dist = \"lognormal\"; mean = \"10ms\"; cv = 0.5; })");
    else dist_get(c, door, "latency", CONF_UNIT_SECONDS, false, &p->front_latency);
    cost_billing_parse(c, conf_group(c, design, "billing", false), NULL, &p->billing);
    conf_get_bool(c, conf_group(c, design, "billing", false), "free_tier", false, &p->billing.free_tier);
    p->billing.lambda_targets = true;
    p->billing.volume_bytes = 0;

    const config_setting_t *list = conf_list(c, design, "functions", true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (list && n == 0) conf_error(c, list, "needs at least one function");
    if (n > LAMBDA_MAX_FUNCTIONS) {
        conf_error(c, list, "at most %d functions, got %u", LAMBDA_MAX_FUNCTIONS, n);
        n = LAMBDA_MAX_FUNCTIONS;
    }
    uint64_t reserved = 0;
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *g = conf_elem_group(c, list, i);
        if (!g) continue;
        struct lambda_function *f = &p->functions[p->n_functions++];
        parse_function(c, g, w, f, n);
        reserved += f->reserved;
        for (unsigned j = 0; j + 1 < p->n_functions; j++)
            if (!strcmp(p->functions[j].name, f->name)) conf_error_in(c, g, "name", "duplicate function name \"%s\"", f->name);
    }
    if (reserved > p->account_limit)
        conf_error_in(c, design, "account_concurrency", "the functions reserve %llu executions, more than the account's "
                      "%u", (unsigned long long)reserved, p->account_limit);
    if (conf_errors(c) == before && list)
        for (unsigned k = 0; k < w->n_classes; k++) {
            unsigned by = 0;
            for (unsigned i = 0; i < p->n_functions; i++) by += p->functions[i].serves[k];
            if (by != 1)
                conf_error(c, list, "class \"%s\" is served by %u functions: each class needs exactly one",
                           w->classes[k].name, by);
        }
    return conf_errors(c) == before;
}

void lambda_params_free(struct lambda_params *p)
{
    for (unsigned i = 0; i < p->n_functions; i++) {
        struct lambda_function *f = &p->functions[i];
        dist_free(&f->cold_start);
        dist_free(&f->overhead);
        dist_free(&f->keep_alive);
        dist_free(&f->lifetime);
    }
    dist_free(&p->front_latency);
}

/* ---- runtime ------------------------------------------------------------------------------- */

enum { EV_DONE, EV_EXPIRE, EV_RETRY, EV_PROVISION, EV_PROVISIONED_READY, N_KINDS };
enum env_state { ENV_FREE, ENV_INIT, ENV_BUSY, ENV_IDLE };

struct env {
    uint8_t state;         /* enum env_state */
    bool provisioned;
    uint16_t fn;
    uint32_t prev, next;   /* idle list (most recently used first), or the free list (next) */
    uint32_t heap;         /* position in the function's expiry heap while idle on demand, else NONE */
    sim_time retire;       /* ns: end of its lifetime */
    sim_time expires;      /* ns: while idle on demand, when it is reclaimed */
};

struct fn {
    const struct lambda_function *p;
    double speed;          /* work per second of one execution */
    double gb;             /* memory, GB */
    uint32_t idle_head;    /* on-demand idle environments, most recently used first */
    uint32_t prov_idle;    /* provisioned idle environments (a stack through `next`) */
    uint32_t *heap;        /* on-demand idle environments by expiry */
    uint32_t heap_n, heap_cap;
    sim_event_id expire_ev;
    sim_time expire_at;
    uint32_t od_active;    /* on-demand environments initialising or busy */
    uint32_t prov_target, prov_live, prov_busy; /* provisioned: wanted, existing (ready or not), busy */
    int64_t window;        /* scaling window of the latest new environment */
    uint32_t created_in_window;
    gsl_rng *rng;          /* "lambda/<name>" */
    struct lambda_stats st;
    sim_time since;        /* ns: integrals up to here */
};

struct lambda {
    sim *s;
    uint16_t id;
    const struct lambda_params *p;
    struct metrics *m;
    struct cost *cost;
    struct fn fns[LAMBDA_MAX_FUNCTIONS];
    uint8_t fn_of_class[WORKLOAD_MAX_CLASSES];
    struct env *envs;
    uint32_t n_envs, cap_envs, free_head;
    uint32_t unreserved_used; /* concurrency used by functions without a reservation */
    uint64_t executing, retrying; /* requests held */
    gsl_rng *front;         /* "lambda/front_door" */
    /* the report interval in progress */
    struct lambda_stats row_mark[LAMBDA_MAX_FUNCTIONS];
    uint32_t row_conc_max;
    double busy_at, envs_at; /* integrals at the start of the interval, all functions */
};

static uint32_t concurrency(const struct fn *f) { return f->od_active + f->prov_live; }

/* Integrals of executions and environments of f up to now. */
static void account(struct lambda *l, struct fn *f)
{
    sim_time now = sim_now(l->s);
    double dt = sim_to_seconds(now - f->since);
    f->st.busy_seconds += (double)(f->od_active + f->prov_busy) * dt;
    f->st.env_seconds += (double)(f->st.busy + f->st.idle + f->st.provisioned) * dt;
    f->since = now;
}

static void note_concurrency(struct lambda *l, struct fn *f)
{
    uint32_t c = f->od_active + f->prov_busy;
    if (c > f->st.concurrency_max) f->st.concurrency_max = c;
    uint32_t all = 0;
    for (unsigned i = 0; i < l->p->n_functions; i++) all += l->fns[i].od_active + l->fns[i].prov_busy;
    if (all > l->row_conc_max) l->row_conc_max = all;
}

static double cores_now(const struct lambda *l)
{
    double n = 0;
    for (unsigned i = 0; i < l->p->n_functions; i++) {
        const struct fn *f = &l->fns[i];
        n += f->st.busy + f->st.idle + f->st.provisioned;
    }
    return n;
}

static uint32_t env_new(struct lambda *l, unsigned fn, bool provisioned)
{
    if (l->free_head == NONE) {
        if (l->n_envs == l->cap_envs) {
            l->cap_envs = l->cap_envs ? 2 * l->cap_envs : 256;
            l->envs = sim_xrealloc(l->envs, l->cap_envs * sizeof *l->envs);
        }
        l->envs[l->n_envs].next = NONE;
        l->free_head = l->n_envs++;
    }
    uint32_t e = l->free_head;
    struct env *v = &l->envs[e];
    l->free_head = v->next;
    struct fn *f = &l->fns[fn];
    double life = dist_sample(&f->p->lifetime, f->rng);
    *v = (struct env){ENV_INIT, provisioned, (uint16_t)fn, NONE, NONE, NONE, sim_now(l->s) + sim_delay(l->s, life), 0};
    f->st.environments_created++;
    return e;
}

static void env_free(struct lambda *l, uint32_t e)
{
    l->envs[e].state = ENV_FREE;
    l->envs[e].next = l->free_head;
    l->free_head = e;
}

/* ---- the expiry heap of a function's idle on-demand environments ----------------------------- */

static bool heap_less(const struct lambda *l, uint32_t a, uint32_t b) { return l->envs[a].expires < l->envs[b].expires; }

static void heap_set(struct lambda *l, struct fn *f, uint32_t i, uint32_t e)
{
    f->heap[i] = e;
    l->envs[e].heap = i;
}

static void heap_up(struct lambda *l, struct fn *f, uint32_t i)
{
    uint32_t e = f->heap[i];
    while (i > 0 && heap_less(l, e, f->heap[(i - 1) / 2])) {
        heap_set(l, f, i, f->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(l, f, i, e);
}

static void heap_down(struct lambda *l, struct fn *f, uint32_t i)
{
    uint32_t e = f->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= f->heap_n) break;
        if (c + 1 < f->heap_n && heap_less(l, f->heap[c + 1], f->heap[c])) c++;
        if (!heap_less(l, f->heap[c], e)) break;
        heap_set(l, f, i, f->heap[c]);
        i = c;
    }
    heap_set(l, f, i, e);
}

static void heap_remove(struct lambda *l, struct fn *f, uint32_t e)
{
    uint32_t i = l->envs[e].heap;
    l->envs[e].heap = NONE;
    uint32_t last = f->heap[--f->heap_n];
    if (i == f->heap_n) return;
    heap_set(l, f, i, last);
    heap_up(l, f, i);
    heap_down(l, f, l->envs[last].heap);
}

/* One pending expiry event per function, at its earliest idle environment's expiry. */
static void arm_expiry(struct lambda *l, unsigned fn)
{
    struct fn *f = &l->fns[fn];
    sim_time at = f->heap_n ? l->envs[f->heap[0]].expires : -1;
    if (at == f->expire_at) return;
    sim_cancel(l->s, f->expire_ev);
    f->expire_ev = 0;
    f->expire_at = at;
    if (at >= 0) {
        uint16_t k = (uint16_t)fn;
        f->expire_ev = sim_schedule_at(l->s, at, l->id, EV_EXPIRE, &k, sizeof k);
    }
}

/* ---- idle lists ---------------------------------------------------------------------------- */

static void idle_push(struct lambda *l, struct fn *f, uint32_t e)
{
    struct env *v = &l->envs[e];
    v->state = ENV_IDLE;
    v->prev = NONE;
    if (v->provisioned) {
        v->next = f->prov_idle;
        f->prov_idle = e;
        return;
    }
    v->next = f->idle_head;
    if (f->idle_head != NONE) l->envs[f->idle_head].prev = e;
    f->idle_head = e;
    f->st.idle++;
    double keep = dist_sample(&f->p->keep_alive, f->rng);
    sim_time until = sim_now(l->s) + sim_delay(l->s, keep);
    v->expires = until < v->retire ? until : v->retire;
    if (f->heap_n == f->heap_cap) {
        f->heap_cap = f->heap_cap ? 2 * f->heap_cap : 64;
        f->heap = sim_xrealloc(f->heap, f->heap_cap * sizeof *f->heap);
    }
    f->heap[f->heap_n++] = e;
    heap_up(l, f, f->heap_n - 1);
}

/* Takes an on-demand idle environment out of the idle list and the heap. */
static void idle_unlink(struct lambda *l, struct fn *f, uint32_t e)
{
    struct env *v = &l->envs[e];
    if (v->prev != NONE) l->envs[v->prev].next = v->next;
    else f->idle_head = v->next;
    if (v->next != NONE) l->envs[v->next].prev = v->prev;
    heap_remove(l, f, e);
    f->st.idle--;
}

/* ---- requests ------------------------------------------------------------------------------ */

static void fail(struct lambda *l, const struct request *r, enum metrics_error why) { metrics_failure(l->m, r, why); }

static bool may_create(struct lambda *l, unsigned fn)
{
    struct fn *f = &l->fns[fn];
    int64_t window = sim_now(l->s) / l->p->scale_window;
    if (window != f->window) {
        f->window = window;
        f->created_in_window = 0;
    }
    if (f->created_in_window >= l->p->scale_per_window) return false;
    if (f->p->reserved) return concurrency(f) < f->p->reserved;
    uint32_t pool = l->p->account_limit;
    for (unsigned i = 0; i < l->p->n_functions; i++) pool -= l->fns[i].p->reserved;
    return l->unreserved_used < pool;
}

static void use_concurrency(struct lambda *l, struct fn *f, int delta)
{
    if (!f->p->reserved) l->unreserved_used = (uint32_t)((int64_t)l->unreserved_used + delta);
}

/* A provisioned environment beyond the count wanted goes: it no longer counts, costs or exists. */
static void retire_provisioned(struct lambda *l, struct fn *f, uint32_t e)
{
    f->prov_live--;
    f->st.provisioned--;
    use_concurrency(l, f, -1);
    if (l->cost) cost_lambda_provisioned(l->cost, -f->gb);
    env_free(l, e);
}

/* Runs r in environment e of f, now; init > 0 for a cold start. */
static void execute(struct lambda *l, unsigned fn, uint32_t e, struct request *r, double init)
{
    struct fn *f = &l->fns[fn];
    struct env *v = &l->envs[e];
    v->state = init > 0 ? ENV_INIT : ENV_BUSY;
    double run = dist_sample(&f->p->overhead, f->rng) + r->demand / f->speed;
    double limit = sim_to_seconds(f->p->timeout);
    bool timed_out = run > limit;
    if (timed_out) run = limit;
    r->server = e;
    r->node = timed_out;
    r->start = sim_now(l->s) + sim_from_seconds(init);
    f->st.invocations++;
    f->st.init_seconds += init;
    double ms = ceil((init + run) * 1000.0 - 1e-9); /* billed in whole milliseconds */
    double gb_s = f->gb * ms / 1000.0;
    f->st.billed_gb_seconds += gb_s;
    if (l->cost) cost_lambda_invocation(l->cost, f->p->arch == LAMBDA_ARM64, gb_s, v->provisioned);
    l->executing++;
    sim_schedule(l->s, sim_delay(l->s, init + run), l->id, EV_DONE, r, sizeof *r);
}

/* Starts r on function fn now, or returns false (throttled). */
static bool start(struct lambda *l, unsigned fn, struct request *r)
{
    struct fn *f = &l->fns[fn];
    account(l, f);
    uint32_t e = f->prov_idle;
    if (e != NONE) { /* provisioned first */
        f->prov_idle = l->envs[e].next;
        f->prov_busy++;
        note_concurrency(l, f);
        execute(l, fn, e, r, 0);
        return true;
    }
    e = f->idle_head;
    if (e != NONE) {
        idle_unlink(l, f, e);
        arm_expiry(l, fn);
        f->od_active++;
        f->st.busy++;
        use_concurrency(l, f, 1);
        note_concurrency(l, f);
        execute(l, fn, e, r, 0);
        return true;
    }
    if (!may_create(l, fn)) return false;
    f->created_in_window++;
    e = env_new(l, fn, false);
    f->od_active++;
    f->st.busy++;
    f->st.cold_starts++;
    use_concurrency(l, f, 1);
    note_concurrency(l, f);
    metrics_cores_changed(l->m);
    execute(l, fn, e, r, dist_sample(&f->p->cold_start, f->rng));
    return true;
}

/* An asynchronous request that could not start waits: 1, 2, 4 ... s, at most 5 min, and is tried a
 * last time when it reaches its maximum age; throttled then, it is dropped. */
static void retry_later(struct lambda *l, struct fn *f, struct request *r, uint32_t attempt)
{
    sim_time now = sim_now(l->s), deadline = r->arrival + l->p->max_event_age;
    if (now >= deadline) {
        f->st.expired++;
        fail(l, r, METRICS_ERR_EXPIRED);
        return;
    }
    double wait = attempt < 9 ? (double)(1u << attempt) : 300.0;
    if (wait > 300) wait = 300;
    sim_time at = now + sim_from_seconds(wait);
    f->st.retries++;
    r->node = (uint16_t)(attempt + 1 < UINT16_MAX ? attempt + 1 : UINT16_MAX);
    l->retrying++;
    sim_schedule_at(l->s, at < deadline ? at : deadline, l->id, EV_RETRY, r, sizeof *r);
}

void lambda_submit(void *ctx, const struct request *req)
{
    struct lambda *l = ctx;
    metrics_arrival(l->m, req);
    if (l->cost) {
        if (l->p->front_door == LAMBDA_API_GATEWAY) cost_gateway_request(l->cost);
        else cost_lb_request(l->cost, req->bytes);
    }
    unsigned fn = l->fn_of_class[req->cls];
    struct request r = *req;
    if (start(l, fn, &r)) return;
    struct fn *f = &l->fns[fn];
    f->st.throttles++;
    if (f->p->async) retry_later(l, f, &r, 0);
    else fail(l, &r, METRICS_ERR_THROTTLED);
}

static void on_retry(sim *s, void *self, const void *payload)
{
    (void)s;
    struct lambda *l = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    l->retrying--;
    unsigned fn = l->fn_of_class[r.cls];
    uint32_t attempt = r.node;
    if (start(l, fn, &r)) return;
    l->fns[fn].st.throttles++;
    retry_later(l, &l->fns[fn], &r, attempt);
}

/* The execution of a request ends: answer it, then the environment goes idle or retires. */
static void on_done(sim *s, void *self, const void *payload)
{
    struct lambda *l = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    uint32_t e = r.server;
    struct env *v = &l->envs[e];
    unsigned fn = v->fn;
    struct fn *f = &l->fns[fn];
    account(l, f);
    l->executing--;
    sim_time now = sim_now(s);
    if (l->cost) {
        cost_lb_finished(l->cost, sim_to_seconds(now - r.arrival));
        cost_internet_bytes(l->cost, r.bytes);
    }
    if (r.node) {
        f->st.timeouts++;
        fail(l, &r, METRICS_ERR_TIMEOUT);
    } else {
        double front = dist_sample(&l->p->front_latency, l->front);
        metrics_success(l->m, &r, sim_from_seconds(front));
    }
    if (v->provisioned) {
        f->prov_busy--;
        if (f->prov_live > f->prov_target) { /* provisioned concurrency was lowered meanwhile */
            retire_provisioned(l, f, e);
            metrics_cores_changed(l->m);
        } else {
            idle_push(l, f, e);
        }
        return;
    }
    f->od_active--;
    f->st.busy--;
    use_concurrency(l, f, -1);
    if (now >= v->retire) { /* its lifetime is over: retired, not kept */
        env_free(l, e);
        metrics_cores_changed(l->m);
        return;
    }
    idle_push(l, f, e);
    arm_expiry(l, fn);
}

static void on_expire(sim *s, void *self, const void *payload)
{
    struct lambda *l = self;
    uint16_t fn;
    memcpy(&fn, payload, sizeof fn);
    struct fn *f = &l->fns[fn];
    f->expire_ev = 0;
    f->expire_at = -1;
    account(l, f);
    while (f->heap_n && l->envs[f->heap[0]].expires <= sim_now(s)) {
        uint32_t e = f->heap[0];
        idle_unlink(l, f, e);
        env_free(l, e);
    }
    metrics_cores_changed(l->m);
    arm_expiry(l, fn);
}

/* Provisioned concurrency of function fn becomes `count`: new environments initialise (and count as
 * provisioned from now on); idle ones beyond it go now, busy ones when they finish. */
static void set_provisioned(struct lambda *l, unsigned fn, uint32_t count)
{
    struct fn *f = &l->fns[fn];
    account(l, f);
    f->prov_target = count;
    while (f->prov_live < count) {
        uint32_t e = env_new(l, fn, true);
        f->prov_live++;
        f->st.provisioned++;
        use_concurrency(l, f, 1);
        if (l->cost) cost_lambda_provisioned(l->cost, f->gb);
        double init = dist_sample(&f->p->cold_start, f->rng);
        sim_schedule(l->s, sim_delay(l->s, init), l->id, EV_PROVISIONED_READY, &e, sizeof e);
    }
    while (f->prov_live > count && f->prov_idle != NONE) {
        uint32_t e = f->prov_idle;
        f->prov_idle = l->envs[e].next;
        retire_provisioned(l, f, e);
    }
    metrics_cores_changed(l->m);
}

static void on_provisioned_ready(sim *s, void *self, const void *payload)
{
    (void)s;
    struct lambda *l = self;
    uint32_t e;
    memcpy(&e, payload, sizeof e);
    struct fn *f = &l->fns[l->envs[e].fn];
    if (f->prov_live > f->prov_target) { /* lowered while it initialised */
        retire_provisioned(l, f, e);
        metrics_cores_changed(l->m);
        return;
    }
    idle_push(l, f, e);
}

struct provision_ref {
    uint16_t fn, entry;
};

static void on_provision(sim *s, void *self, const void *payload)
{
    struct lambda *l = self;
    struct provision_ref ref;
    memcpy(&ref, payload, sizeof ref);
    const struct lambda_schedule *e = &l->fns[ref.fn].p->schedule[ref.entry];
    set_provisioned(l, ref.fn, e->count);
    if (e->every > 0) sim_schedule(s, e->every, l->id, EV_PROVISION, &ref, sizeof ref);
}

/* ---- metrics ------------------------------------------------------------------------------- */

/* At the end of the run: environments by state agree with the functions' counters, and so do the
 * executions in progress. */
static void check_envs(sim *s, void *self)
{
    struct lambda *l = self;
    uint32_t alive = 0, counted = 0;
    uint64_t executing = 0;
    for (uint32_t e = 0; e < l->n_envs; e++) alive += l->envs[e].state != ENV_FREE;
    for (unsigned i = 0; i < l->p->n_functions; i++) {
        const struct fn *f = &l->fns[i];
        counted += f->st.busy + f->st.idle + f->st.provisioned;
        executing += f->od_active + f->prov_busy;
    }
    SIM_ASSERT(s, alive == counted, "%u environments alive, the functions count %u", alive, counted);
    SIM_ASSERT(s, executing == l->executing, "%llu executions by the functions, %llu requests executing",
               (unsigned long long)executing, (unsigned long long)l->executing);
}

static uint64_t probe_in_system(const void *ctx)
{
    const struct lambda *l = ctx;
    return l->executing + l->retrying;
}

static double probe_busy(const void *ctx)
{
    const struct lambda *l = ctx;
    double busy = 0;
    for (unsigned i = 0; i < l->p->n_functions; i++) {
        const struct fn *f = &l->fns[i];
        busy += f->st.busy_seconds + (double)(f->od_active + f->prov_busy) * sim_to_seconds(sim_now(l->s) - f->since);
    }
    return busy;
}

static double probe_cores(const void *ctx) { return cores_now(ctx); }

static void row_hook(void *ctx, struct metrics_row *row)
{
    struct lambda *l = ctx;
    double inv = 0, cold = 0, thr = 0, init = 0, gbs = 0, idle = 0, busy = 0, busy_s = 0;
    for (unsigned i = 0; i < l->p->n_functions; i++) {
        struct fn *f = &l->fns[i];
        account(l, f);
        struct lambda_stats *m = &l->row_mark[i];
        inv += (double)(f->st.invocations - m->invocations);
        cold += (double)(f->st.cold_starts - m->cold_starts);
        thr += (double)(f->st.throttles - m->throttles);
        init += f->st.init_seconds - m->init_seconds;
        gbs += f->st.billed_gb_seconds - m->billed_gb_seconds;
        busy_s += f->st.busy_seconds - m->busy_seconds;
        idle += f->st.idle + f->st.provisioned - f->prov_busy;
        busy += f->st.busy + f->prov_busy;
        *m = f->st;
    }
    double len = row->t_s - l->busy_at;
    row->lambda_invocations = inv;
    row->lambda_cold_starts = cold;
    row->lambda_throttles = thr;
    row->lambda_concurrency_max = l->row_conc_max;
    row->lambda_concurrency_mean = len > 0 ? busy_s / len : NAN;
    row->lambda_envs_idle = idle;
    row->lambda_envs_busy = busy;
    row->lambda_init_s = init;
    row->lambda_billed_gb_s = gbs;
    l->busy_at = row->t_s;
    l->row_conc_max = (uint32_t)busy;
}

static sim_handler_fn *const handlers[N_KINDS] = {on_done, on_expire, on_retry, on_provision, on_provisioned_ready};
static const char *const kind_names[N_KINDS] = {"invocation_done", "environment_expiry", "async_retry",
                                                "provisioned_concurrency", "provisioned_ready"};
static const sim_model_ops ops = {"lambda", N_KINDS, handlers, kind_names, check_envs};

struct metrics_probe lambda_probe(const struct lambda *l)
{
    return (struct metrics_probe){l, probe_in_system, probe_busy, probe_cores, NULL, NULL, NULL};
}

struct lambda *lambda_create(sim *s, const struct lambda_params *p, struct metrics *m, struct cost *cost)
{
    struct lambda *l = sim_xcalloc(1, sizeof *l);
    l->s = s;
    l->p = p;
    l->m = m;
    l->cost = cost;
    l->free_head = NONE;
    l->id = sim_register(s, &ops, l);
    l->front = sim_rng(s, "lambda/front_door");
    for (unsigned i = 0; i < p->n_functions; i++) {
        struct fn *f = &l->fns[i];
        f->p = &p->functions[i];
        f->speed = fmin(1.0, lambda_vcpus(f->p->memory_mb)) * f->p->speed;
        f->gb = f->p->memory_mb / 1024.0;
        f->idle_head = f->prov_idle = NONE;
        f->expire_at = -1;
        f->window = -1;
        char name[96];
        snprintf(name, sizeof name, "lambda/%s", f->p->name);
        f->rng = sim_rng(s, name);
        for (unsigned k = 0; k < WORKLOAD_MAX_CLASSES; k++)
            if (f->p->serves[k]) l->fn_of_class[k] = (uint8_t)i;
    }
    struct metrics_probe probe = lambda_probe(l);
    metrics_attach(m, &probe);
    metrics_set_row_hook(m, row_hook, l);
    for (unsigned i = 0; i < p->n_functions; i++) {
        set_provisioned(l, i, p->functions[i].provisioned);
        for (unsigned k = 0; k < p->functions[i].n_schedule; k++) {
            struct provision_ref ref = {(uint16_t)i, (uint16_t)k};
            sim_schedule_at(s, p->functions[i].schedule[k].at, l->id, EV_PROVISION, &ref, sizeof ref);
        }
    }
    return l;
}

void lambda_destroy(struct lambda *l)
{
    if (!l) return;
    for (unsigned i = 0; i < l->p->n_functions; i++) free(l->fns[i].heap);
    free(l->envs);
    free(l);
}

void lambda_stats(const struct lambda *l, unsigned f, struct lambda_stats *out)
{
    *out = l->fns[f].st;
    const struct fn *fn = &l->fns[f];
    double dt = sim_to_seconds(sim_now(l->s) - fn->since);
    out->busy_seconds += (double)(fn->od_active + fn->prov_busy) * dt;
    out->env_seconds += (double)(fn->st.busy + fn->st.idle + fn->st.provisioned) * dt;
}
