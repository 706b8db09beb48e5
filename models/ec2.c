/* ec2.c: the instance type catalog and the instance lifecycle. See ec2.h. */
#include "ec2.h"

#include <stdlib.h>
#include <string.h>

const char *const ec2_state_names[EC2_N_STATES] = {"pending", "running", "draining", "terminated", "unreachable",
                                                   "failed"};

/* ---- catalog ------------------------------------------------------------------------------- */

bool ec2_catalog_parse(conf *c, bool required, struct ec2_catalog *cat)
{
    int before = conf_errors(c);
    memset(cat, 0, sizeof *cat);
    const config_setting_t *g = conf_group(c, conf_root(c), "ec2_catalog", required);
    if (!g) return conf_errors(c) == before;
    cat->region = cat->prices_date = cat->source = "";
    conf_get_string(c, g, "region", true, &cat->region);
    conf_get_string(c, g, "prices_date", true, &cat->prices_date);
    conf_get_string(c, g, "source", true, &cat->source);
    const config_setting_t *list = conf_list(c, g, "types", true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    cat->types = sim_xcalloc(n ? n : 1, sizeof *cat->types);
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *e = conf_elem_group(c, list, i);
        if (!e) continue;
        struct ec2_type *t = &cat->types[cat->n];
        *t = (struct ec2_type){"", "x86_64", 1, 0, 0, 1.0};
        int64_t vcpu = 1;
        int arch = 0;
        static const char *const archs[] = {"x86_64", "arm64", NULL};
        conf_get_string(c, e, "name", true, &t->name);
        conf_get_choice(c, e, "arch", true, archs, &arch);
        t->arch = archs[arch];
        conf_get_int(c, e, "vcpu", true, 1, 4096, &vcpu);
        t->vcpu = (unsigned)vcpu;
        conf_get_bytes(c, e, "memory", true, CONF_ABOVE(0), &t->memory);
        conf_get_money(c, e, "price", true, CONF_AT_LEAST(0), &t->price);
        conf_get_double(c, e, "speed", true, CONF_ABOVE(0), &t->speed);
        for (unsigned j = 0; j < cat->n && t->name[0]; j++)
            if (strcmp(cat->types[j].name, t->name) == 0)
                conf_error_in(c, e, "name", "instance type \"%s\" is listed twice", t->name);
        cat->n++;
    }
    return conf_errors(c) == before;
}

void ec2_catalog_free(struct ec2_catalog *cat)
{
    free(cat->types);
    memset(cat, 0, sizeof *cat);
}

const struct ec2_type *ec2_get_type(conf *c, const struct ec2_catalog *cat, const config_setting_t *group,
                                    const char *name)
{
    if (cat->n == 0) {
        const char *wanted = NULL;
        if (conf_get_string(c, group, name, true, &wanted) && wanted)
            conf_error_in(c, group, name, "no instance types are known: the study must @include the catalog "
                                          "configs/catalog/us-east-1.cfg by a path relative to the study "
                                          "file (from configs/examples/: @include \"../catalog/us-east-1.cfg\")");
        return NULL;
    }
    const char **names = sim_xmalloc((cat->n + 1) * sizeof *names);
    for (unsigned i = 0; i < cat->n; i++) names[i] = cat->types[i].name;
    names[cat->n] = NULL;
    int k = -1;
    bool ok = conf_get_choice(c, group, name, true, names, &k);
    free(names);
    return ok && k >= 0 ? &cat->types[k] : NULL;
}

void ec2_catalog_print(const struct ec2_catalog *cat, FILE *f)
{
    fprintf(f, "EC2 instance types, %s, On-Demand prices of %s\nsource: %s\n\n", cat->region, cat->prices_date,
            cat->source);
    fprintf(f, "%-12s %-7s %5s %9s %10s %6s\n", "type", "arch", "vCPU", "mem GiB", "USD/hour", "speed");
    for (unsigned i = 0; i < cat->n; i++) {
        const struct ec2_type *t = &cat->types[i];
        fprintf(f, "%-12s %-7s %5u %9.3g %10.4f %6.2f\n", t->name, t->arch, t->vcpu, t->memory / (1024.0 * 1024 * 1024),
                t->price, t->speed);
    }
}

/* ---- parameters ---------------------------------------------------------------------------- */

bool ec2_parse(conf *c, const config_setting_t *group, struct ec2_params *p)
{
    int before = conf_errors(c);
    *p = (struct ec2_params){.boot = dist_lognormal(40.0, 0.3), .queue_limit = SERVER_UNLIMITED};
    dist_get(c, group, "boot", CONF_UNIT_SECONDS, false, &p->boot);
    dist_get(c, group, "failure", CONF_UNIT_SECONDS, false, &p->failure);
    int64_t limit = -1;
    conf_get_int(c, group, "queue_limit", false, 0, INT64_MAX, &limit);
    if (limit >= 0) p->queue_limit = limit;
    return conf_errors(c) == before;
}

void ec2_params_free(struct ec2_params *p)
{
    dist_free(&p->boot);
    dist_free(&p->failure);
}

/* ---- instances ----------------------------------------------------------------------------- */

enum { EV_BOOTED, EV_FAILED, N_KINDS };

struct instance {
    const struct ec2_type *type;
    unsigned zone;
    enum ec2_state state;
    struct server *server;
    sim_event_id boot;   /* pending boot completion, 0 if none */
    sim_event_id fail;   /* pending hardware failure, 0 if none */
};

struct ec2 {
    sim *s;
    uint16_t id;
    struct ec2_params p;
    struct az *az;
    struct ec2_owner owner;
    gsl_rng *boot_rng, *fail_rng;
    struct instance *inst;
    uint32_t n, cap;
    uint32_t count[EC2_N_STATES];
    double serving_vcpus;
};

static bool serving(enum ec2_state st) { return st == EC2_RUNNING || st == EC2_DRAINING; }

static void set_state(struct ec2 *e, uint32_t i, enum ec2_state to)
{
    struct instance *in = &e->inst[i];
    enum ec2_state from = in->state;
    if (from != EC2_N_STATES) e->count[from]--;
    e->count[to]++;
    in->state = to;
    double v = in->type->vcpu;
    e->serving_vcpus += (serving(to) ? v : 0) - (from != EC2_N_STATES && serving(from) ? v : 0);
    e->owner.changed(e->owner.ctx, i, from, to);
}

static void start_boot(struct ec2 *e, uint32_t i)
{
    e->inst[i].boot = sim_schedule(e->s, sim_delay(e->s, dist_sample(&e->p.boot, e->boot_rng)), e->id, EV_BOOTED,
                                   &i, sizeof i);
}

static void arm_failure(struct ec2 *e, uint32_t i)
{
    if (e->p.failure.kind == DIST_NONE) return;
    e->inst[i].fail = sim_schedule(e->s, sim_delay(e->s, dist_sample(&e->p.failure, e->fail_rng)), e->id,
                                   EV_FAILED, &i, sizeof i);
}

static void disarm(struct ec2 *e, struct instance *in)
{
    sim_cancel(e->s, in->boot);
    sim_cancel(e->s, in->fail);
    in->boot = in->fail = 0;
}

static void on_booted(sim *s, void *self, const void *payload)
{
    struct ec2 *e = self;
    uint32_t i;
    memcpy(&i, payload, sizeof i);
    SIM_ASSERT(s, e->inst[i].state == EC2_PENDING, "instance %u boots in state %s", i,
               ec2_state_names[e->inst[i].state]);
    e->inst[i].boot = 0;
    arm_failure(e, i);
    set_state(e, i, EC2_RUNNING);
}

static void on_failed(sim *s, void *self, const void *payload)
{
    struct ec2 *e = self;
    uint32_t i;
    memcpy(&i, payload, sizeof i);
    struct instance *in = &e->inst[i];
    SIM_ASSERT(s, serving(in->state), "instance %u fails in state %s", i, ec2_state_names[in->state]);
    in->fail = 0;
    set_state(e, i, EC2_FAILED); /* the owner may launch instances and move e->inst: index again */
    server_kill(e->inst[i].server, e->owner.lost, e->owner.ctx);
}

static void check_conservation(sim *s, void *self)
{
    struct ec2 *e = self;
    uint32_t total = 0;
    for (int st = 0; st < EC2_N_STATES; st++) total += e->count[st];
    SIM_ASSERT(s, total == e->n, "instance conservation broken: %u launched, %u counted by state", e->n, total);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_booted, on_failed};
static const char *const kind_names[N_KINDS] = {"booted", "hardware_failure"};
static const sim_model_ops ops = {"ec2", N_KINDS, handlers, kind_names, check_conservation};

struct ec2 *ec2_create(sim *s, const struct ec2_params *p, struct az *a, const struct ec2_owner *owner)
{
    struct ec2 *e = sim_xcalloc(1, sizeof *e);
    e->s = s;
    e->p = *p;
    e->az = a;
    e->owner = *owner;
    e->boot_rng = sim_rng(s, "ec2/boot");
    e->fail_rng = sim_rng(s, "ec2/failure");
    e->id = sim_register(s, &ops, e);
    return e;
}

void ec2_destroy(struct ec2 *e)
{
    if (!e) return;
    for (uint32_t i = 0; i < e->n; i++) server_destroy(e->inst[i].server);
    free(e->inst);
    free(e);
}

uint32_t ec2_launch(struct ec2 *e, const struct ec2_type *t, unsigned zone, bool running)
{
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 16;
        e->inst = sim_xrealloc(e->inst, e->cap * sizeof *e->inst);
    }
    uint32_t i = e->n++;
    struct server_params sp = {t->vcpu, t->speed, e->p.queue_limit};
    e->inst[i] = (struct instance){t, zone, EC2_N_STATES, server_create(e->s, &sp, e->owner.done, e->owner.ctx), 0, 0};
    bool up = az_up(e->az, zone);
    if (running && up) {
        arm_failure(e, i);
        set_state(e, i, EC2_RUNNING);
    } else {
        set_state(e, i, EC2_PENDING);
        if (up) start_boot(e, i); /* otherwise it boots when the zone comes back */
    }
    return i;
}

void ec2_start_running(struct ec2 *e, uint32_t i)
{
    struct instance *in = &e->inst[i];
    SIM_ASSERT(e->s, in->state == EC2_PENDING, "instance %u is not pending", i);
    disarm(e, in);
    arm_failure(e, i);
    set_state(e, i, EC2_RUNNING);
}

void ec2_drain(struct ec2 *e, uint32_t i)
{
    SIM_ASSERT(e->s, e->inst[i].state == EC2_RUNNING, "drain of instance %u in state %s", i,
               ec2_state_names[e->inst[i].state]);
    set_state(e, i, EC2_DRAINING);
}

void ec2_terminate(struct ec2 *e, uint32_t i)
{
    struct instance *in = &e->inst[i];
    SIM_ASSERT(e->s, in->state != EC2_TERMINATED, "instance %u terminated twice", i);
    disarm(e, in);
    set_state(e, i, EC2_TERMINATED);
    server_kill(e->inst[i].server, e->owner.lost, e->owner.ctx);
}

void ec2_zone_changed(struct ec2 *e, unsigned zone, bool up)
{
    for (uint32_t i = 0; i < e->n; i++) {
        struct instance *in = &e->inst[i];
        if (in->zone != zone) continue;
        if (!up && (in->state == EC2_PENDING || serving(in->state))) {
            disarm(e, in);
            set_state(e, i, EC2_UNREACHABLE);
            server_kill(e->inst[i].server, e->owner.lost, e->owner.ctx);
        } else if (up && in->state == EC2_UNREACHABLE) {
            set_state(e, i, EC2_PENDING);
            start_boot(e, i);
        } else if (up && in->state == EC2_PENDING && in->boot == 0) {
            start_boot(e, i);
        }
    }
}

enum ec2_state ec2_state(const struct ec2 *e, uint32_t i) { return e->inst[i].state; }
unsigned ec2_zone(const struct ec2 *e, uint32_t i) { return e->inst[i].zone; }
const struct ec2_type *ec2_type_of(const struct ec2 *e, uint32_t i) { return e->inst[i].type; }
struct server *ec2_server(const struct ec2 *e, uint32_t i) { return e->inst[i].server; }
uint32_t ec2_count(const struct ec2 *e) { return e->n; }
uint32_t ec2_count_in(const struct ec2 *e, enum ec2_state st) { return e->count[st]; }
double ec2_serving_vcpus(const struct ec2 *e) { return e->serving_vcpus; }

double ec2_busy_core_seconds(const struct ec2 *e)
{
    double busy = 0;
    for (uint32_t i = 0; i < e->n; i++) busy += server_busy_core_seconds(e->inst[i].server);
    return busy;
}
