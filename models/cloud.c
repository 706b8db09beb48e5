/* cloud.c: region + instances + load balancer. See cloud.h. */
#include "cloud.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cloud {
    sim *s;
    const struct cloud_params *p;
    struct metrics *m;
    struct az *az;
    struct ec2 *ec2;
    struct elb *elb;
    struct asg *asg;
    struct cost *cost;   /* NULL: no billing */
    bool building;       /* inside cloud_create: instances running now are already in service */
};

bool cloud_parse(conf *c, const config_setting_t *design, const struct ec2_catalog *cat, struct cloud_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    az_parse(c, conf_group(c, design, "region", false), &p->region);
    const config_setting_t *inst = conf_group(c, design, "instances", false);
    ec2_parse(c, inst, &p->instances);
    elb_parse(c, conf_group(c, design, "lb", false), &p->lb);
    static const char *const starts[] = {"in_service", "launch", NULL};
    int start = 0;
    conf_get_choice(c, design, "start", false, starts, &start);
    p->launch_at_start = start == 1;
    cost_billing_parse(c, conf_group(c, design, "billing", false), cat, &p->billing);

    const config_setting_t *asg = conf_group(c, design, "asg", false);
    if (asg) p->has_asg = asg_parse(c, asg, cat, p->region.n, &p->asg);
    const config_setting_t *fleet = conf_list(c, design, "fleet", !asg);
    unsigned n = fleet ? (unsigned)config_setting_length(fleet) : 0;
    if (fleet && n == 0 && !asg) conf_error(c, fleet, "needs at least one group of instances");
    if (n > CLOUD_MAX_GROUPS) {
        conf_error(c, fleet, "at most %d groups, got %u", CLOUD_MAX_GROUPS, n);
        n = CLOUD_MAX_GROUPS;
    }
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *g = conf_elem_group(c, fleet, i);
        if (!g) continue;
        struct cloud_group *grp = &p->groups[p->n_groups++];
        int64_t count = 1, zone = -1;
        grp->type = ec2_get_type(c, cat, g, "type");
        conf_get_int(c, g, "count", true, 1, 100000, &count);
        conf_get_int(c, g, "az", false, 0, (int64_t)p->region.n - 1, &zone);
        grp->count = (unsigned)count;
        grp->zone = (int)zone;
    }
    return conf_errors(c) == before;
}

void cloud_params_free(struct cloud_params *p)
{
    az_params_free(&p->region);
    ec2_params_free(&p->instances);
    asg_params_free(&p->asg);
}

/* ---- wiring -------------------------------------------------------------------------------- */

static enum elb_reach reach_of(enum ec2_state st)
{
    switch (st) {
    case EC2_RUNNING:
    case EC2_DRAINING: return ELB_REACHABLE;
    case EC2_UNREACHABLE:
    case EC2_FAILED: return ELB_SILENT;
    case EC2_PENDING:
    case EC2_TERMINATED:
    case EC2_N_STATES: break;
    }
    return ELB_REFUSES;
}

/* The ledger hears of launches, first runs (with the market: spot pools are known once the group has
 * attached the instance) and terminations (marked when AWS interrupted a spot instance). */
static void bill(struct cloud *c, uint32_t i, enum ec2_state from, enum ec2_state to)
{
    const struct spot *sp = c->asg ? asg_spot(c->asg) : NULL;
    int pool = sp ? spot_pool_of(sp, i) : -1;
    if (from == EC2_N_STATES) cost_ec2_launched(c->cost, i);
    if (to == EC2_RUNNING && !c->building)
        cost_ec2_running(c->cost, i, ec2_type_of(c->ec2, i), pool >= 0 ? sp : NULL, pool);
    if (to == EC2_TERMINATED) cost_ec2_terminated(c->cost, i, pool >= 0 && spot_interrupting(sp, i));
}

static void instance_changed(void *ctx, uint32_t i, enum ec2_state from, enum ec2_state to)
{
    struct cloud *c = ctx;
    unsigned zone = ec2_zone(c->ec2, i);
    if (c->cost) bill(c, i, from, to);
    metrics_event(c->m, (enum metrics_event_kind)(METRICS_EV_INSTANCE_PENDING + to), (int)zone, i,
                  from == EC2_N_STATES ? -1.0 : (double)from);
    metrics_cores_changed(c->m);
    if (!c->elb) return; /* instances launched while the balancer is being built register below */
    if (to == EC2_RUNNING && !elb_registered(c->elb, i))
        elb_register(c->elb, i, zone, ec2_server(c->ec2, i), c->building);
    elb_set_reach(c->elb, i, reach_of(to));
    if (c->asg) asg_instance_changed(c->asg, i, from, to);
}

static void zone_changed(void *ctx, unsigned zone, bool up)
{
    struct cloud *c = ctx;
    metrics_event(c->m, up ? METRICS_EV_ZONE_UP : METRICS_EV_ZONE_DOWN, (int)zone, -1, 0);
    elb_zone_changed(c->elb, zone, up);
    ec2_zone_changed(c->ec2, zone, up);
    if (c->asg) asg_zone_changed(c->asg, zone, up);
}

static void request_done(void *ctx, const struct request *r)
{
    struct cloud *c = ctx;
    if (c->cost && r->cls != ELB_CHECK_CLASS) {
        cost_lb_finished(c->cost, sim_to_seconds(sim_now(c->s) - r->arrival));
        cost_internet_bytes(c->cost, r->bytes);
        if (ec2_zone(c->ec2, r->server) != r->node) cost_lb_cross_zone(c->cost, r->bytes);
    }
    elb_done(c->elb, r);
}

static void request_lost(void *ctx, const struct request *r)
{
    struct cloud *c = ctx;
    if (c->cost && r->cls != ELB_CHECK_CLASS) cost_lb_finished(c->cost, sim_to_seconds(sim_now(c->s) - r->arrival));
    elb_lost(c->elb, r);
}

static void target_unused(void *ctx, uint32_t t)
{
    struct cloud *c = ctx;
    if (c->asg && asg_target_unused(c->asg, t)) return;
    if (ec2_state(c->ec2, t) != EC2_TERMINATED) ec2_terminate(c->ec2, t);
}

static void target_health_changed(void *ctx, uint32_t t)
{
    struct cloud *c = ctx;
    if (c->asg) asg_target_health_changed(c->asg, t);
}

static void probe_scaling(const void *ctx, struct metrics_row *row)
{
    const struct cloud *c = ctx;
    if (!c->asg) return;
    row->desired = asg_desired(c->asg);
    unsigned on_demand, on_spot, counts[2][3];
    asg_capacity(c->asg, &on_demand, &on_spot);
    row->capacity_on_demand = on_demand;
    row->capacity_spot = on_spot;
    asg_counts_by_market(c->asg, counts);
    for (int k = 0; k < 6; k++) row->group[k / 3][k % 3] = counts[k / 3][k % 3];
    const struct asg_params *p = &c->p->asg;
    for (unsigned k = 0; k < p->n_policies; k++)
        if (p->policies[k].type != ASG_SCHEDULED) {
            row->scaling_metric = asg_metric_value(c->asg, p->policies[k].metric);
            break;
        }
}

static uint64_t probe_in_system(const void *ctx)
{
    const struct cloud *c = ctx;
    uint64_t held = 0;
    for (uint32_t i = 0; i < ec2_count(c->ec2); i++) held += server_held(ec2_server(c->ec2, i));
    held = held - elb_checks_in_servers(c->elb) + elb_connecting(c->elb);
    SIM_ASSERT(c->s, held == elb_outstanding(c->elb), "servers hold %llu requests, the balancer counts %llu",
               (unsigned long long)held, (unsigned long long)elb_outstanding(c->elb));
    return held;
}

static double probe_busy(const void *ctx) { return ec2_busy_core_seconds(((const struct cloud *)ctx)->ec2); }
static double probe_cores(const void *ctx) { return ec2_serving_vcpus(((const struct cloud *)ctx)->ec2); }

static void probe_instances(const void *ctx, double out[4])
{
    const struct ec2 *e = ((const struct cloud *)ctx)->ec2;
    out[0] = ec2_count_in(e, EC2_PENDING);
    out[1] = ec2_count_in(e, EC2_RUNNING);
    out[2] = ec2_count_in(e, EC2_DRAINING);
    out[3] = ec2_count_in(e, EC2_UNREACHABLE) + ec2_count_in(e, EC2_FAILED);
}

static void probe_healthy(const void *ctx, double out[METRICS_ZONES])
{
    const struct cloud *c = ctx;
    for (unsigned z = 0; z < az_count(c->az); z++) out[z] = elb_healthy_in_zone(c->elb, z);
}

struct metrics_probe cloud_probe(const struct cloud *c)
{
    return (struct metrics_probe){c, probe_in_system, probe_busy, probe_cores, probe_instances, probe_healthy,
                                  probe_scaling};
}

struct cloud *cloud_create(sim *s, const struct cloud_params *p, struct metrics *m, struct cost *cost)
{
    struct cloud *c = sim_xcalloc(1, sizeof *c);
    c->s = s;
    c->p = p;
    c->m = m;
    c->cost = cost;
    c->az = az_create(s, &p->region, zone_changed, c);
    c->ec2 = ec2_create(s, &p->instances, c->az, &(struct ec2_owner){c, instance_changed, request_done, request_lost});
    struct metrics_probe probe = cloud_probe(c);
    metrics_attach(m, &probe);
    unsigned spread = 0;
    for (unsigned g = 0; g < p->n_groups; g++)
        for (unsigned k = 0; k < p->groups[g].count; k++) {
            unsigned zone = p->groups[g].zone >= 0 ? (unsigned)p->groups[g].zone : spread++ % p->region.n;
            ec2_launch(c->ec2, p->groups[g].type, zone, !p->launch_at_start);
        }
    c->elb = elb_create(s, &p->lb, c->az, m, target_unused, c);
    elb_set_health_listener(c->elb, target_health_changed, c);
    for (uint32_t i = 0; i < ec2_count(c->ec2); i++)
        if (ec2_state(c->ec2, i) == EC2_RUNNING) elb_register(c->elb, i, ec2_zone(c->ec2, i), ec2_server(c->ec2, i), true);
    if (p->has_asg) {
        c->building = true;
        c->asg = asg_create(s, &p->asg, c->ec2, c->elb, c->az, m, !p->launch_at_start);
        c->building = false;
        for (uint32_t i = 0; c->cost && i < ec2_count(c->ec2); i++) /* the group's, running from the start */
            if (ec2_state(c->ec2, i) == EC2_RUNNING) bill(c, i, EC2_PENDING, EC2_RUNNING);
    }
    return c;
}

void cloud_destroy(struct cloud *c)
{
    if (!c) return;
    asg_destroy(c->asg);
    elb_destroy(c->elb);
    ec2_destroy(c->ec2);
    az_destroy(c->az);
    free(c);
}

void cloud_submit(void *ctx, const struct request *r)
{
    struct cloud *c = ctx;
    if (c->cost) cost_lb_request(c->cost, r->bytes);
    elb_submit(c->elb, r);
}

struct ec2 *cloud_ec2(const struct cloud *c) { return c->ec2; }
struct elb *cloud_elb(const struct cloud *c) { return c->elb; }
struct az *cloud_az(const struct cloud *c) { return c->az; }
struct asg *cloud_asg(const struct cloud *c) { return c->asg; }
