/* asg.c: group capacity, health replacement, zone balance, metrics and scaling policies. See asg.h. */
#include "asg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { EV_GRACE_END, EV_SCHEDULED, EV_PREDICT, EV_RETRY, EV_EVALUATE, N_KINDS };

#define HISTORY_HOURS (14 * 24) /* predictive scaling looks back at most 14 days */

enum member_state { M_PENDING, M_IN_SERVICE, M_TERMINATING };

#define NONE UINT32_MAX

struct member {
    uint32_t inst;
    uint8_t state;         /* enum member_state */
    bool rebalancing;      /* launched to rebalance: a termination follows it when it is in service */
    bool spot;             /* bought on the spot market */
    bool noticed;          /* spot: its interruption notice came (deregister it as soon as it registers) */
    bool doomed;           /* a pending member replaces it: it goes when that one is in service */
    uint8_t weight;        /* capacity units */
    uint32_t replaces;     /* capacity rebalancing: the at-risk instance it replaces, or NONE */
    sim_time launched;     /* ns */
    sim_time in_service;   /* ns, when it entered service */
    double busy_mark;      /* core-seconds of busy time at the last period end */
    uint64_t routed_mark;  /* requests routed to it by the balancer at the last period end */
};

struct asg {
    sim *s;
    uint16_t id;
    const struct asg_params *p;
    struct ec2 *ec2;
    struct elb *elb;
    struct az *az;
    struct metrics *m;
    unsigned min, max, desired;
    struct member *members;
    uint32_t n, cap;
    int32_t *member_of;    /* instance -> member index, -1 if none */
    uint32_t map_cap;
    unsigned surplus;      /* rebalancing launches whose paired termination is still to come */
    struct cw *cw[ASG_N_METRICS];
    double period_s;
    sim_time cooldown_until[ASG_MAX_POLICIES];
    bool eval_pending;     /* datapoints published at one instant are acted on once */
    /* instances each sampled datapoint was measured over, waiting for its publication (a FIFO) */
    unsigned measured_n[ASG_N_METRICS][CW_HISTORY];
    uint64_t measured_head[ASG_N_METRICS], measured_tail[ASG_N_METRICS];
    unsigned measured_on[ASG_N_METRICS]; /* for the latest published datapoint */
    uint64_t actions;
    /* predictive scaling: the load (metric x instances) by absolute hour, a ring of HISTORY_HOURS */
    double load_sum[ASG_N_METRICS][HISTORY_HOURS];
    unsigned load_n[ASG_N_METRICS][HISTORY_HOURS];
    int64_t load_hour[ASG_N_METRICS][HISTORY_HOURS]; /* which absolute hour a slot holds, -1 none */
    unsigned floor;        /* capacity predictive scaling holds for the current hour */
    struct spot *spot;     /* NULL when every launch is On-Demand */
    bool retry_pending;    /* a failed launch is retried a minute later */
};

/* ---- parameters ---------------------------------------------------------------------------- */

static const char *const metric_names[] = {"cpu", "requests_per_target", NULL};
static const char *const policy_names[] = {"target_tracking", "step", "simple", "scheduled", "predictive", NULL};
static const char *const comparisons[] = {">", ">=", "<", "<=", NULL};

static void parse_alarm(conf *c, const config_setting_t *g, struct cw_alarm *a)
{
    int cmp = CW_GREATER;
    int64_t m = 1, n = 1;
    conf_get_double(c, g, "threshold", true, CONF_ANY, &a->threshold);
    conf_get_choice(c, g, "comparison", false, comparisons, &cmp);
    conf_get_int(c, g, "evaluation", false, 1, CW_HISTORY, &n);
    conf_get_int(c, g, "datapoints", false, 1, n, &m);
    a->cmp = (enum cw_comparison)cmp;
    a->datapoints = (unsigned)m;
    a->evaluation = (unsigned)n;
}

/* One cron field: comma-separated items, each "*", "a", "a-b", optionally "/step". Sets bits lo..hi. */
static bool cron_field(const char *text, unsigned lo, unsigned hi, uint64_t *bits, bool *any)
{
    *bits = 0;
    *any = text[0] == '*' && text[1] == '\0';
    const char *p = text;
    for (;;) {
        unsigned a = lo, b = hi, step = 1;
        char *end;
        if (*p == '*') {
            p++;
        } else {
            if (*p < '0' || *p > '9') return false;
            a = b = (unsigned)strtoul(p, &end, 10);
            p = end;
            if (*p == '-') {
                if (p[1] < '0' || p[1] > '9') return false;
                b = (unsigned)strtoul(p + 1, &end, 10);
                p = end;
            }
        }
        if (*p == '/') {
            if (p[1] < '0' || p[1] > '9') return false;
            step = (unsigned)strtoul(p + 1, &end, 10);
            p = end;
            if (step == 0) return false;
        }
        if (a < lo || b > hi || a > b) return false;
        for (unsigned v = a; v <= b; v += step) *bits |= UINT64_C(1) << v;
        if (*p == '\0') return true;
        if (*p++ != ',') return false;
    }
}

static void parse_cron(conf *c, const config_setting_t *g, struct asg_policy *p)
{
    const char *text = NULL;
    if (!conf_get_string(c, g, "cron", true, &text) || !text) return;
    char field[5][64];
    int n = sscanf(text, "%63s %63s %63s %63s %63s", field[0], field[1], field[2], field[3], field[4]);
    uint64_t bits[5];
    bool any[5];
    static const unsigned lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
    static const char *const names[5] = {"minute", "hour", "day of month", "month", "day of week"};
    if (n != 5) {
        conf_error_in(c, g, "cron", "needs 5 fields (minute hour day-of-month month day-of-week), got %d in \"%s\"",
                      n < 0 ? 0 : n, text);
        return;
    }
    for (int i = 0; i < 5; i++)
        if (!cron_field(field[i], lo[i], hi[i], &bits[i], &any[i])) {
            conf_error_in(c, g, "cron", "the %s field \"%s\" is not *, a number in [%u, %u], a range or a list "
                                        "(with an optional /step)", names[i], field[i], lo[i], hi[i]);
            return;
        }
    p->cron = true;
    p->cron_minute = bits[0];
    p->cron_hour = (uint32_t)bits[1];
    p->cron_dom = (uint32_t)bits[2];
    p->cron_month = (uint32_t)bits[3];
    p->cron_dow = (uint8_t)(bits[4] | (bits[4] >> 7)); /* 7 folded onto Sunday */
    p->cron_dom_any = any[2];
    p->cron_dow_any = any[4];
}

/* The first minute at or after t (ns) that the policy's cron expression matches, within 4 years; the
 * calendar starts on a Monday, 1 January, of 365-day years. -1 if none. */
static sim_time cron_next(const struct asg_policy *p, sim_time t)
{
    static const unsigned month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t minute = (t + 60 * SIM_SEC - 1) / (60 * SIM_SEC);
    for (int64_t m = minute; m < minute + 4 * 365 * 1440; m++) {
        if (!(p->cron_minute >> (m % 60) & 1) || !(p->cron_hour >> ((m / 60) % 24) & 1)) continue;
        int64_t day = m / 1440;
        unsigned doy = (unsigned)(day % 365), month = 0;
        while (doy >= month_days[month]) doy -= month_days[month++];
        unsigned dom = doy + 1, dow = (unsigned)((day + 1) % 7); /* day 0 is a Monday */
        if (!(p->cron_month >> (month + 1) & 1)) continue;
        bool dom_ok = p->cron_dom >> dom & 1, dow_ok = p->cron_dow >> dow & 1;
        /* as in cron: when both are restricted, either may match */
        bool day_ok = p->cron_dom_any || p->cron_dow_any ? dom_ok && dow_ok : dom_ok || dow_ok;
        if (day_ok) return m * 60 * SIM_SEC;
    }
    return -1;
}

static void parse_policy(conf *c, const config_setting_t *g, const struct asg_params *gp, struct asg_policy *p)
{
    int type = 0, metric = 0;
    conf_get_choice(c, g, "type", true, policy_names, &type);
    p->type = (enum asg_policy_type)type;
    if (p->type != ASG_SCHEDULED) conf_get_choice(c, g, "metric", true, metric_names, &metric);
    p->metric = (enum asg_metric)metric;
    switch (p->type) {
    case ASG_TARGET_TRACKING: {
        int64_t high = 3, low = 15;
        double ratio = 0.7;
        p->scale_in = true;
        conf_get_double(c, g, "target", true, CONF_ABOVE(0), &p->target);
        conf_get_bool(c, g, "scale_in", false, &p->scale_in);
        conf_get_int(c, g, "high_datapoints", false, 1, CW_HISTORY, &high);
        conf_get_int(c, g, "low_datapoints", false, 1, CW_HISTORY, &low);
        conf_get_double(c, g, "low_ratio", false, (struct conf_range){0, 1, true}, &ratio);
        if (p->metric == ASG_CPU && p->target > 100)
            conf_error_in(c, g, "target", "a CPU utilization target is a percentage in (0, 100], got %g", p->target);
        p->high = (struct cw_alarm){p->target, CW_GREATER, (unsigned)high, (unsigned)high};
        p->low = (struct cw_alarm){p->target * ratio, CW_LESS, (unsigned)low, (unsigned)low};
        break;
    }
    case ASG_SIMPLE: {
        int64_t adj = 1;
        double cooldown = sim_to_seconds(gp->cooldown);
        parse_alarm(c, g, &p->alarm);
        conf_get_int(c, g, "adjustment", true, -100000, 100000, &adj);
        conf_get_duration(c, g, "cooldown", false, CONF_IN(0, 86400), &cooldown);
        p->adjustment = (int)adj;
        p->cooldown = sim_from_seconds(cooldown);
        break;
    }
    case ASG_STEP: {
        parse_alarm(c, g, &p->alarm);
        const config_setting_t *steps = conf_list(c, g, "steps", true);
        unsigned n = steps ? (unsigned)config_setting_length(steps) : 0;
        if (steps && (n == 0 || n > ASG_MAX_STEPS))
            conf_error(c, steps, "needs 1 to %d steps, got %u", ASG_MAX_STEPS, n);
        for (unsigned i = 0; i < n && i < ASG_MAX_STEPS; i++) {
            const config_setting_t *st = conf_elem_group(c, steps, i);
            if (!st) continue;
            struct asg_step *s = &p->steps[p->n_steps++];
            int64_t adj = 0;
            s->lower = -INFINITY;
            s->upper = INFINITY;
            conf_get_double(c, st, "lower", false, CONF_ANY, &s->lower);
            conf_get_double(c, st, "upper", false, CONF_ANY, &s->upper);
            conf_get_int(c, st, "adjustment", true, -100000, 100000, &adj);
            s->adjustment = (int)adj;
            if (!(s->lower < s->upper)) conf_error(c, st, "lower (%g) must be below upper (%g)", s->lower, s->upper);
            if (i > 0 && p->steps[i - 1].upper > s->lower)
                conf_error(c, st, "steps must not overlap: lower %g is below the previous upper %g", s->lower,
                           p->steps[i - 1].upper);
        }
        break;
    }
    case ASG_PREDICTIVE: {
        double buffer = 300;
        conf_get_double(c, g, "target", true, CONF_ABOVE(0), &p->target);
        conf_get_duration(c, g, "buffer", false, (struct conf_range){0, 3600, false}, &buffer);
        if (buffer >= 3600) conf_error_in(c, g, "buffer", "must be below 1h, got %gs", buffer);
        if (p->metric == ASG_CPU && p->target > 100)
            conf_error_in(c, g, "target", "a CPU utilization target is a percentage in (0, 100], got %g", p->target);
        p->buffer = sim_from_seconds(buffer);
        break;
    }
    case ASG_SCHEDULED: {
        double at = 0, every = 0;
        p->set_min = p->set_max = p->set_desired = -1;
        if (config_setting_get_member(g, "cron")) {
            parse_cron(c, g, p);
            if (config_setting_get_member(g, "at") || config_setting_get_member(g, "every"))
                conf_error_in(c, g, "cron", "give either cron or at (and every), not both");
        } else {
            conf_get_duration(c, g, "at", true, CONF_IN(0, 9e9), &at);
            conf_get_duration(c, g, "every", false, CONF_IN(60, 9e9), &every);
        }
        conf_get_int(c, g, "min", false, 0, 100000, &p->set_min);
        conf_get_int(c, g, "max", false, 0, 100000, &p->set_max);
        conf_get_int(c, g, "desired", false, 0, 100000, &p->set_desired);
        if (p->set_min < 0 && p->set_max < 0 && p->set_desired < 0)
            conf_error(c, g, "a scheduled action sets at least one of min, max, desired");
        p->at = sim_from_seconds(at);
        p->every = sim_from_seconds(every);
        break;
    }
    }
}

static void parse_types(conf *c, const config_setting_t *g, const struct ec2_catalog *cat, struct asg_params *p)
{
    const config_setting_t *list = conf_list(c, g, "instance_types", false);
    if (!list) {
        p->types[0] = ec2_get_type(c, cat, g, "instance_type");
        p->weights[0] = 1;
        p->n_types = p->types[0] ? 1 : 0;
        return;
    }
    if (config_setting_get_member(g, "instance_type"))
        conf_error_in(c, g, "instance_type", "give either instance_type or instance_types, not both");
    unsigned n = (unsigned)config_setting_length(list);
    if (n == 0 || n > ASG_MAX_TYPES) conf_error(c, list, "needs 1 to %d instance types, got %u", ASG_MAX_TYPES, n);
    for (unsigned i = 0; i < n && i < ASG_MAX_TYPES; i++) {
        const config_setting_t *e = conf_elem_group(c, list, i);
        if (!e) continue;
        int64_t w = 1;
        const struct ec2_type *t = ec2_get_type(c, cat, e, "type");
        conf_get_int(c, e, "weight", false, 1, 255, &w);
        for (unsigned j = 0; t && j < p->n_types; j++)
            if (p->types[j] == t) conf_error_in(c, e, "type", "\"%s\" is listed twice", t->name);
        if (t) {
            p->types[p->n_types] = t;
            p->weights[p->n_types++] = (unsigned)w;
        }
    }
}

bool asg_parse(conf *c, const config_setting_t *g, const struct ec2_catalog *cat, unsigned zones,
               struct asg_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    parse_types(c, g, cat, p);
    int64_t min = 1, max = 1, desired = -1;
    bool min_ok = conf_get_int(c, g, "min", true, 0, 100000, &min);
    bool max_ok = conf_get_int(c, g, "max", true, 0, 100000, &max);
    conf_get_int(c, g, "desired", false, 0, 100000, &desired);
    if (min_ok && max_ok && max < min) conf_error_in(c, g, "max", "must be >= min (%lld), got %lld", (long long)min, (long long)max);
    if (desired >= 0 && min_ok && max_ok && (desired < min || desired > max))
        conf_error_in(c, g, "desired", "must be in [min, max] = [%lld, %lld], got %lld", (long long)min,
                      (long long)max, (long long)desired);
    p->min = (unsigned)min;
    p->max = (unsigned)max;
    p->desired = desired >= 0 ? (unsigned)desired : (unsigned)min;

    static const char *const health[] = {"ec2", "elb", NULL};
    static const char *const term[] = {"default", "oldest", "newest", NULL};
    int h = 0, t = 0;
    conf_get_choice(c, g, "health_check_type", false, health, &h);
    conf_get_choice(c, g, "termination_policy", false, term, &t);
    p->health = (enum asg_health_type)h;
    p->termination = (enum asg_termination)t;
    double grace = 300, cooldown = 300, warmup = NAN, period = 60, delay = 60;
    conf_get_duration(c, g, "health_check_grace", false, CONF_IN(0, 86400), &grace);
    conf_get_duration(c, g, "default_cooldown", false, CONF_IN(0, 86400), &cooldown);
    conf_get_duration(c, g, "instance_warmup", false, CONF_IN(0, 3600), &warmup);
    conf_get_duration(c, g, "metric_period", false, CONF_IN(10, 3600), &period);
    conf_get_duration(c, g, "metric_delay", false, CONF_IN(0, 3600), &delay);
    p->grace = sim_from_seconds(grace);
    p->cooldown = sim_from_seconds(cooldown);
    p->warmup = sim_from_seconds(isnan(warmup) ? cooldown : warmup); /* AWS falls back to the cooldown */
    p->period = sim_from_seconds(period);
    p->delay = sim_from_seconds(delay);

    int64_t base = 0;
    int alloc = SPOT_LOWEST_PRICE;
    int64_t pools = 2;
    static const char *const allocations[] = {"lowest_price", "capacity_optimized", "price_capacity_optimized", NULL};
    p->od_pct = 100;
    conf_get_int(c, g, "on_demand_base", false, 0, 100000, &base);
    conf_get_double(c, g, "on_demand_pct_above_base", false, CONF_IN(0, 100), &p->od_pct);
    conf_get_choice(c, g, "spot_allocation", false, allocations, &alloc);
    conf_get_int(c, g, "spot_pools", false, 1, 20, &pools);
    conf_get_bool(c, g, "capacity_rebalance", false, &p->capacity_rebalance);
    conf_get_bool(c, g, "on_demand_fallback", false, &p->od_fallback);
    p->od_base = (unsigned)base;
    p->allocation = (enum spot_allocation)alloc;
    p->spot_pools = (unsigned)pools;
    spot_parse(c, conf_group(c, g, "spot", false), p->types, p->n_types, zones, &p->spot);

    const config_setting_t *list = conf_list(c, g, "policies", false);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (n > ASG_MAX_POLICIES) conf_error(c, list, "at most %d policies, got %u", ASG_MAX_POLICIES, n);
    for (unsigned i = 0; i < n && i < ASG_MAX_POLICIES; i++) {
        const config_setting_t *pg = conf_elem_group(c, list, i);
        if (pg) parse_policy(c, pg, p, &p->policies[p->n_policies++]);
    }
    return conf_errors(c) == before;
}

void asg_params_free(struct asg_params *p) { spot_params_free(&p->spot); }

/* ---- members ------------------------------------------------------------------------------- */

static struct member *member(const struct asg *g, uint32_t inst)
{
    return inst < g->map_cap && g->member_of[inst] >= 0 ? &g->members[g->member_of[inst]] : NULL;
}

static bool warming(const struct asg *g, const struct member *mb)
{
    return mb->state == M_IN_SERVICE && sim_now(g->s) - mb->in_service < g->p->warmup;
}

static unsigned alive_in(const struct asg *g, unsigned zone)
{
    unsigned k = 0;
    for (uint32_t i = 0; i < g->n; i++)
        k += g->members[i].state != M_TERMINATING && ec2_zone(g->ec2, g->members[i].inst) == zone;
    return k;
}

/* Capacity units of live members (pending or in service), and of those the On-Demand ones. */
static unsigned alive(const struct asg *g)
{
    unsigned k = 0;
    for (uint32_t i = 0; i < g->n; i++) k += g->members[i].state != M_TERMINATING ? g->members[i].weight : 0;
    return k;
}

static unsigned alive_on_demand(const struct asg *g)
{
    unsigned k = 0;
    for (uint32_t i = 0; i < g->n; i++)
        k += g->members[i].state != M_TERMINATING && !g->members[i].spot ? g->members[i].weight : 0;
    return k;
}

/* On-Demand units the base and the percentage above it require at the current desired capacity. */
static unsigned on_demand_target(const struct asg *g)
{
    if (g->desired <= g->p->od_base) return g->desired;
    return g->p->od_base + (unsigned)ceil((g->desired - g->p->od_base) * g->p->od_pct / 100.0 - 1e-9);
}

static void add_member(struct asg *g, uint32_t inst, enum member_state state, bool rebalancing, sim_time since,
                       bool spot, unsigned weight)
{
    if (inst >= g->map_cap) {
        uint32_t cap = g->map_cap ? g->map_cap : 64;
        while (cap <= inst) cap *= 2;
        g->member_of = sim_xrealloc(g->member_of, cap * sizeof *g->member_of);
        for (uint32_t i = g->map_cap; i < cap; i++) g->member_of[i] = -1;
        g->map_cap = cap;
    }
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 16;
        g->members = sim_xrealloc(g->members, g->cap * sizeof *g->members);
    }
    g->member_of[inst] = (int32_t)g->n;
    g->members[g->n++] = (struct member){inst, (uint8_t)state, rebalancing, spot, false, false, (uint8_t)weight, NONE, since,
                                         since, 0, 0};
}

static unsigned weight_of(const struct asg *g, const struct ec2_type *t)
{
    for (unsigned i = 0; i < g->p->n_types; i++)
        if (g->p->types[i] == t) return g->p->weights[i];
    return 1;
}

/* Launches one instance into zone in the market the On-Demand base and percentage call for. Returns
 * the new member, or NULL when no spot pool has room and there is no fallback (retried later). */
static struct member *launch(struct asg *g, unsigned zone, bool rebalancing)
{
    bool spot = g->spot && alive_on_demand(g) >= on_demand_target(g);
    const struct ec2_type *t = g->p->types[0];
    int pool = -1;
    if (spot) {
        pool = spot_choose(g->spot, g->p->allocation, g->p->spot_pools, zone);
        if (pool >= 0) t = spot_pool_type(g->spot, pool);
        else if (g->p->od_fallback) spot = false;
        else return NULL;
    }
    uint32_t inst = ec2_launch(g->ec2, t, zone, false);
    add_member(g, inst, M_PENDING, rebalancing, sim_now(g->s), spot, weight_of(g, t));
    if (spot) spot_attach(g->spot, pool, inst);
    return &g->members[g->n - 1];
}

static void retry_later(struct asg *g)
{
    if (g->retry_pending) return;
    g->retry_pending = true;
    sim_schedule(g->s, 60 * SIM_SEC, g->id, EV_RETRY, NULL, 0);
}

/* The up zone with the fewest live members, or -1 when every zone is down. */
static int emptiest_zone(const struct asg *g)
{
    int best = -1;
    unsigned best_n = 0;
    for (unsigned z = 0; z < az_count(g->az); z++) {
        if (!az_up(g->az, z)) continue;
        unsigned n = alive_in(g, z);
        if (best < 0 || n < best_n) {
            best = (int)z;
            best_n = n;
        }
    }
    return best;
}

/* Which member to remove: the purchase option in excess of the On-Demand base and percentage first
 * (a mixed-instances group aligns to its distribution before anything else), then zone balance (the
 * zone with the most of those), then the termination policy (section 2.4). exclude_zone is skipped. */
static struct member *victim_in(struct asg *g, int exclude_zone, int market, bool strict)
{
    bool any_of_market = false;
    for (uint32_t i = 0; i < g->n && market >= 0; i++)
        any_of_market |= g->members[i].state != M_TERMINATING && !g->members[i].rebalancing && !g->members[i].doomed &&
                         g->members[i].spot == market && (int)ec2_zone(g->ec2, g->members[i].inst) != exclude_zone;
    if (!any_of_market) {
        if (strict) return NULL;
        market = -1;
    }
    int zone = -1;
    unsigned zone_n = 0;
    for (unsigned z = 0; z < az_count(g->az); z++) {
        unsigned n = 0;
        for (uint32_t i = 0; i < g->n; i++) {
            const struct member *mb = &g->members[i];
            n += mb->state != M_TERMINATING && !mb->rebalancing && !mb->doomed && ec2_zone(g->ec2, mb->inst) == z &&
                 (market < 0 || mb->spot == market);
        }
        if ((int)z != exclude_zone && n > zone_n) {
            zone = (int)z;
            zone_n = n;
        }
    }
    struct member *best = NULL;
    sim_time now = sim_now(g->s);
    for (uint32_t i = 0; i < g->n; i++) {
        struct member *mb = &g->members[i];
        if (mb->state == M_TERMINATING || mb->rebalancing || mb->doomed || (int)ec2_zone(g->ec2, mb->inst) != zone)
            continue;
        if (market >= 0 && mb->spot != market) continue;
        if (!best) {
            best = mb;
            continue;
        }
        switch (g->p->termination) {
        case ASG_TERM_OLDEST: best = mb->launched < best->launched ? mb : best; break;
        case ASG_TERM_NEWEST: best = mb->launched > best->launched ? mb : best; break;
        case ASG_TERM_DEFAULT: /* closest to the next instance hour: the most of its current hour used */
            best = (now - mb->launched) % (3600 * SIM_SEC) > (now - best->launched) % (3600 * SIM_SEC) ? mb : best;
            break;
        }
    }
    return best;
}

/* The member to remove next: from the purchase option in excess, if any (market -1: either). Members
 * launched to rebalance are never chosen: their pairing removes an instance for them. */
static struct member *victim(struct asg *g, int exclude_zone)
{
    unsigned od = alive_on_demand(g), all = alive(g);
    return victim_in(g, exclude_zone, od > on_demand_target(g) ? 0 : all > od ? 1 : -1, false);
}

/* A member launched to replace another will not: the other stays. */
static void release_pairing(struct asg *g, struct member *mb)
{
    if (mb->rebalancing) {
        mb->rebalancing = false;
        g->surplus -= mb->weight;
    }
    struct member *old = mb->replaces != NONE ? member(g, mb->replaces) : NULL;
    if (old) old->doomed = false;
    mb->replaces = NONE;
}

static void terminate(struct asg *g, struct member *mb)
{
    release_pairing(g, mb);
    mb->state = M_TERMINATING;
    uint32_t t = mb->inst;
    if (elb_registered(g->elb, t) && elb_registration(g->elb, t) == ELB_REGISTERED) {
        elb_deregister(g->elb, t); /* drains; asg_target_unused terminates it */
        return;
    }
    if (ec2_state(g->ec2, t) != EC2_TERMINATED) ec2_terminate(g->ec2, t);
}

/* Launches or terminates until the live members (less rebalancing extras) match desired. */
static void reconcile(struct asg *g)
{
    while (alive(g) - g->surplus < g->desired) {
        int z = emptiest_zone(g);
        if (z < 0) return; /* every zone is down: nothing can launch */
        if (!launch(g, (unsigned)z, false)) {
            retry_later(g);
            return;
        }
    }
    for (;;) { /* remove while the capacity stays at or above desired (weights may leave it above) */
        struct member *mb = victim(g, -1);
        if (!mb || alive(g) - g->surplus < g->desired + mb->weight) break;
        terminate(g, mb);
    }
    /* replacements and zone outages can leave On-Demand short of its base and percentage while the
     * capacity is right: launch On-Demand first, and let a spot instance go when it is in service */
    while (g->spot && alive_on_demand(g) < on_demand_target(g)) {
        struct member *old = victim_in(g, -1, 1, true);
        int z = emptiest_zone(g);
        if (!old || z < 0) return;
        uint32_t old_inst = old->inst;
        struct member *r = launch(g, (unsigned)z, true); /* On-Demand: it is short */
        if (!r) return;
        r->replaces = old_inst;
        member(g, old_inst)->doomed = true;
        g->surplus += r->weight;
    }
}

/* After a zone returns: launch in the emptiest zone while the zones differ by more than one, within
 * max + max(1, 10% of max); each launch, once in service, is paired with a termination in the fullest. */
static void rebalance(struct asg *g)
{
    unsigned margin = g->max / 10 > 1 ? g->max / 10 : 1; /* whole instances within max + 10% */
    for (;;) {
        int lo = emptiest_zone(g);
        if (lo < 0) return;
        unsigned most = 0;
        for (unsigned z = 0; z < az_count(g->az); z++)
            if (az_up(g->az, z) && alive_in(g, z) > most) most = alive_in(g, z);
        if (most < alive_in(g, (unsigned)lo) + 2 || alive(g) + 1 > g->max + margin) return;
        struct member *mb = launch(g, (unsigned)lo, true);
        if (!mb) return;
        g->surplus += mb->weight;
    }
}

static void set_desired(struct asg *g, unsigned desired)
{
    desired = desired < g->min ? g->min : desired > g->max ? g->max : desired;
    if (desired == g->desired) {
        reconcile(g); /* bounds may have changed under it */
        return;
    }
    g->desired = desired;
    g->actions++;
    metrics_event(g->m, METRICS_EV_SCALING, -1, -1, desired);
    reconcile(g);
}

/* ---- health -------------------------------------------------------------------------------- */

static bool unhealthy(const struct asg *g, const struct member *mb)
{
    enum ec2_state st = ec2_state(g->ec2, mb->inst);
    if (st == EC2_FAILED || st == EC2_UNREACHABLE) return true;
    return g->p->health == ASG_HEALTH_ELB && elb_registered(g->elb, mb->inst) && elb_seen_unhealthy(g->elb, mb->inst);
}

static void check_health(struct asg *g, struct member *mb)
{
    if (mb->state == M_TERMINATING || !unhealthy(g, mb)) return;
    if (mb->state == M_IN_SERVICE && sim_now(g->s) < mb->in_service + g->p->grace) return; /* grace: look again later */
    uint32_t inst = mb->inst;
    enum ec2_state st = ec2_state(g->ec2, inst);
    metrics_event(g->m, METRICS_EV_REPLACED, (int)ec2_zone(g->ec2, inst), inst, 0);
    terminate(g, mb); /* may remove mb (and move another member into its slot): use inst from here */
    /* an instance that cannot answer has nothing to drain; one the balancer found unhealthy drains */
    if ((st == EC2_FAILED || st == EC2_UNREACHABLE) && member(g, inst) && ec2_state(g->ec2, inst) != EC2_TERMINATED)
        ec2_terminate(g->ec2, inst);
    reconcile(g);
}

static void on_grace_end(sim *s, void *self, const void *payload)
{
    (void)s;
    struct asg *g = self;
    uint32_t inst;
    memcpy(&inst, payload, sizeof inst);
    struct member *mb = member(g, inst);
    if (mb) check_health(g, mb);
}

/* ---- metrics and policies ------------------------------------------------------------------ */

/* Adds one period's load (metric x instances it was measured on) to the hour the period fell in. */
static void record_load(struct asg *g, enum asg_metric m, double load)
{
    int64_t hour = (sim_now(g->s) - g->p->period / 2) / (3600 * SIM_SEC);
    if (hour < 0) return;
    unsigned slot = (unsigned)(hour % HISTORY_HOURS);
    if (g->load_hour[m][slot] != hour) {
        g->load_hour[m][slot] = hour;
        g->load_sum[m][slot] = 0;
        g->load_n[m][slot] = 0;
    }
    g->load_sum[m][slot] += load;
    g->load_n[m][slot]++;
}

static double sample_cpu(struct asg *g)
{
    double sum = 0;
    unsigned k = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        struct member *mb = &g->members[i];
        double busy = server_busy_core_seconds(ec2_server(g->ec2, mb->inst));
        if (mb->state == M_IN_SERVICE && !warming(g, mb)) {
            sum += 100.0 * (busy - mb->busy_mark) / (ec2_type_of(g->ec2, mb->inst)->vcpu * g->period_s);
            k++;
        }
        mb->busy_mark = busy;
    }
    record_load(g, ASG_CPU, sum); /* percent-instances: the average times the instances averaged */
    g->measured_n[ASG_CPU][g->measured_tail[ASG_CPU]++ % CW_HISTORY] = k;
    return k ? sum / k : NAN;
}

static double sample_requests(struct asg *g)
{
    uint64_t sum = 0;
    unsigned k = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        struct member *mb = &g->members[i];
        uint64_t routed = elb_registered(g->elb, mb->inst) ? elb_routed(g->elb, mb->inst) : 0;
        if (mb->state == M_IN_SERVICE) {
            sum += routed - mb->routed_mark;
            k++;
        }
        mb->routed_mark = routed;
    }
    record_load(g, ASG_REQUESTS_PER_TARGET, (double)sum);
    g->measured_n[ASG_REQUESTS_PER_TARGET][g->measured_tail[ASG_REQUESTS_PER_TARGET]++ % CW_HISTORY] = k;
    return k ? (double)sum / k : NAN;
}

static double sample_cpu_fn(void *ctx) { return sample_cpu(ctx); }
static double sample_requests_fn(void *ctx) { return sample_requests(ctx); }

/* Instances the latest datapoint says are needed at the policy's target: the load it measured (the
 * value times the instances it was measured over, not those in service now) over the target. */
static unsigned needed(const struct asg *g, const struct asg_policy *p, double v)
{
    return (unsigned)ceil(g->measured_on[p->metric] * v / p->target - 1e-9);
}

static bool any_warming(const struct asg *g)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (warming(g, &g->members[i]) || g->members[i].state == M_PENDING) return true;
    return false;
}

static unsigned out_of_warmup(const struct asg *g)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < g->n; i++) n += g->members[i].state == M_IN_SERVICE && !warming(g, &g->members[i]);
    return n;
}

static void evaluate(struct asg *g)
{
    unsigned out = 0, in = 0;
    bool all_in = false, any_tt = false;
    for (unsigned k = 0; k < g->p->n_policies; k++) {
        const struct asg_policy *p = &g->p->policies[k];
        if (p->type == ASG_SCHEDULED || p->type == ASG_PREDICTIVE) continue;
        const struct cw *w = g->cw[p->metric];
        double v = cw_latest(w);
        switch (p->type) {
        case ASG_TARGET_TRACKING: {
            if (cw_in_alarm(w, &p->high)) {
                unsigned want = needed(g, p, v);
                out = want > out ? want : out;
            }
            if (!p->scale_in) break;
            if (!any_tt) all_in = true;
            any_tt = true;
            if (cw_in_alarm(w, &p->low)) {
                unsigned want = needed(g, p, v);
                in = want > in ? want : in;
            } else {
                all_in = false;
            }
            break;
        }
        case ASG_STEP:
            if (cw_in_alarm(w, &p->alarm)) {
                double breach = v - p->alarm.threshold;
                for (unsigned i = 0; i < p->n_steps; i++)
                    if (breach >= p->steps[i].lower && breach < p->steps[i].upper) {
                        int adj = p->steps[i].adjustment;
                        long want = (long)out_of_warmup(g) + adj; /* warming capacity is already coming */
                        if (adj > 0 && want > (long)out) out = (unsigned)want;
                        long fewer = (long)g->desired + adj;
                        if (adj < 0 && !any_warming(g)) set_desired(g, fewer < 0 ? 0 : (unsigned)fewer);
                        break;
                    }
            }
            break;
        case ASG_SIMPLE:
            if (cw_in_alarm(w, &p->alarm) && sim_now(g->s) >= g->cooldown_until[k]) {
                long want = (long)g->desired + p->adjustment;
                g->cooldown_until[k] = sim_now(g->s) + p->cooldown;
                set_desired(g, want < 0 ? 0 : (unsigned)want);
            }
            break;
        case ASG_SCHEDULED:
        case ASG_PREDICTIVE: break;
        }
    }
    if (in < g->floor) in = g->floor;
    if (out > g->desired) set_desired(g, out);
    else if (any_tt && all_in && in < g->desired && !any_warming(g)) set_desired(g, in);
}

/* A datapoint was published: note what it was measured over, and evaluate the policies once per
 * instant (both metrics may publish at the same time). */
static void published_metric(struct asg *g, enum asg_metric m)
{
    g->measured_on[m] = g->measured_n[m][g->measured_head[m]++ % CW_HISTORY];
    if (g->eval_pending) return;
    g->eval_pending = true;
    sim_schedule(g->s, 0, g->id, EV_EVALUATE, NULL, 0);
}

static void published_cpu(void *ctx, double value)
{
    (void)value;
    published_metric(ctx, ASG_CPU);
}

static void published_requests(void *ctx, double value)
{
    (void)value;
    published_metric(ctx, ASG_REQUESTS_PER_TARGET);
}

static void on_evaluate(sim *s, void *self, const void *payload)
{
    (void)s;
    (void)payload;
    struct asg *g = self;
    g->eval_pending = false;
    evaluate(g);
}

static void on_scheduled(sim *s, void *self, const void *payload)
{
    struct asg *g = self;
    unsigned k;
    memcpy(&k, payload, sizeof k);
    const struct asg_policy *p = &g->p->policies[k];
    if (p->set_min >= 0) g->min = (unsigned)p->set_min;
    if (p->set_max >= 0) g->max = (unsigned)p->set_max;
    if (g->max < g->min) g->max = g->min;
    set_desired(g, p->set_desired >= 0 ? (unsigned)p->set_desired : g->desired); /* clamps to the new bounds */
    if (p->every > 0) sim_schedule(s, p->every, g->id, EV_SCHEDULED, &k, sizeof k);
    sim_time next = p->cron ? cron_next(p, sim_now(s) + 1) : -1;
    if (next >= 0) sim_schedule_at(s, next, g->id, EV_SCHEDULED, &k, sizeof k);
}

/* The forecast load of absolute hour next_hour: the mean of the same hour of day over the days in the
 * history (at most 14), or NaN with less than 24 hours of history. */
static double forecast(const struct asg *g, enum asg_metric m, int64_t next_hour)
{
    unsigned hours = 0;
    for (unsigned i = 0; i < HISTORY_HOURS; i++) hours += g->load_hour[m][i] >= 0 && g->load_hour[m][i] < next_hour;
    if (hours < 24) return NAN;
    double sum = 0;
    unsigned days = 0;
    for (int64_t hour = next_hour - 24; hour >= 0 && hour >= next_hour - HISTORY_HOURS; hour -= 24) {
        unsigned slot = (unsigned)(hour % HISTORY_HOURS);
        if (g->load_hour[m][slot] != hour || g->load_n[m][slot] == 0) continue;
        sum += g->load_sum[m][slot] / g->load_n[m][slot];
        days++;
    }
    return days ? sum / days : NAN;
}

/* A buffer before each hour: capacity for the coming hour from each predictive policy's forecast. */
static void on_predict(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct asg *g = self;
    int64_t next_hour = (sim_now(s) + 3600 * SIM_SEC - 1) / (3600 * SIM_SEC);
    unsigned want = 0;
    for (unsigned k = 0; k < g->p->n_policies; k++) {
        const struct asg_policy *p = &g->p->policies[k];
        if (p->type != ASG_PREDICTIVE) continue;
        double f = forecast(g, p->metric, next_hour);
        if (!isnan(f)) {
            unsigned n = (unsigned)ceil(f / p->target - 1e-9);
            want = n > want ? n : want;
        }
    }
    g->floor = want > g->max ? g->max : want; /* HonorMaxCapacity */
    if (g->floor > g->desired) set_desired(g, g->floor);
    sim_schedule(s, 3600 * SIM_SEC, g->id, EV_PREDICT, NULL, 0);
}

static void on_retry(sim *s, void *self, const void *payload)
{
    (void)s;
    (void)payload;
    struct asg *g = self;
    g->retry_pending = false;
    reconcile(g);
}

/* Spot: a rebalance recommendation. With capacity rebalancing, launch the replacement now and let the
 * instance at risk go when the replacement is in service. */
static void spot_rebalance(void *ctx, uint32_t inst)
{
    struct asg *g = ctx;
    struct member *mb = member(g, inst);
    metrics_event(g->m, METRICS_EV_SPOT_REBALANCE, mb ? (int)ec2_zone(g->ec2, inst) : -1, inst, 0);
    if (!mb || !g->p->capacity_rebalance || mb->state == M_TERMINATING) return;
    int z = emptiest_zone(g);
    if (z < 0) return;
    struct member *r = launch(g, (unsigned)z, true);
    if (!r) return;
    r->replaces = inst;
    member(g, inst)->doomed = true;
    g->surplus += r->weight;
}

/* Spot: two minutes left. Stop sending it work; it counts as capacity until it is gone. */
static void spot_notice(void *ctx, uint32_t inst)
{
    struct asg *g = ctx;
    struct member *mb = member(g, inst);
    metrics_event(g->m, METRICS_EV_SPOT_NOTICE, mb ? (int)ec2_zone(g->ec2, inst) : -1, inst, 0);
    if (mb) mb->noticed = true;
    if (mb && elb_registered(g->elb, inst) && elb_registration(g->elb, inst) == ELB_REGISTERED)
        elb_deregister(g->elb, inst);
}

/* Spot: the interruption. Requests still in the instance fail; the group replaces it. */
static void spot_interrupt(void *ctx, uint32_t inst)
{
    struct asg *g = ctx;
    metrics_event(g->m, METRICS_EV_SPOT_INTERRUPTION, (int)ec2_zone(g->ec2, inst), inst, 0);
    if (ec2_state(g->ec2, inst) != EC2_TERMINATED) ec2_terminate(g->ec2, inst);
}

static void check_members(sim *s, void *self)
{
    struct asg *g = self;
    unsigned pending, in_service, terminating;
    asg_counts(g, &pending, &in_service, &terminating);
    SIM_ASSERT(s, pending + in_service + terminating == g->n, "group members do not add up");
}

static sim_handler_fn *const handlers[N_KINDS] = {on_grace_end, on_scheduled, on_predict, on_retry, on_evaluate};
static const char *const kind_names[N_KINDS] = {"grace_end", "scheduled_action", "predictive_scaling", "retry_launch",
                                                "evaluate_policies"};
static const sim_model_ops ops = {"asg", N_KINDS, handlers, kind_names, check_members};

/* ---- public surface ------------------------------------------------------------------------ */

struct asg *asg_create(sim *s, const struct asg_params *p, struct ec2 *e, struct elb *b, struct az *a,
                       struct metrics *m, bool in_service)
{
    struct asg *g = sim_xcalloc(1, sizeof *g);
    g->s = s;
    g->p = p;
    g->ec2 = e;
    g->elb = b;
    g->az = a;
    g->m = m;
    g->min = p->min;
    g->max = p->max;
    g->desired = p->desired;
    g->period_s = sim_to_seconds(p->period);
    g->id = sim_register(s, &ops, g);
    bool used[ASG_N_METRICS] = {false, false};
    sim_time buffer = -1;
    for (unsigned k = 0; k < p->n_policies; k++) {
        const struct asg_policy *pol = &p->policies[k];
        sim_time first = pol->cron ? cron_next(pol, 0) : pol->at;
        if (pol->type == ASG_SCHEDULED && first >= 0) sim_schedule_at(s, first, g->id, EV_SCHEDULED, &k, sizeof k);
        else used[pol->metric] = true;
        if (pol->type == ASG_PREDICTIVE && pol->buffer > buffer) buffer = pol->buffer;
    }
    for (int k = 0; k < ASG_N_METRICS; k++)
        for (unsigned i = 0; i < HISTORY_HOURS; i++) g->load_hour[k][i] = -1;
    if (buffer >= 0) sim_schedule(s, 3600 * SIM_SEC - buffer, g->id, EV_PREDICT, NULL, 0);
    if (used[ASG_CPU]) g->cw[ASG_CPU] = cw_create(s, p->period, p->delay, sample_cpu_fn, published_cpu, g);
    if (used[ASG_REQUESTS_PER_TARGET])
        g->cw[ASG_REQUESTS_PER_TARGET] = cw_create(s, p->period, p->delay, sample_requests_fn, published_requests, g);
    if (p->od_pct < 100 && p->spot.n_pools > 0)
        g->spot = spot_create(s, &p->spot, &(struct spot_owner){g, spot_rebalance, spot_notice, spot_interrupt});
    while (alive(g) < g->desired) {
        int z = emptiest_zone(g);
        if (z < 0) break;
        struct member *mb = launch(g, (unsigned)z, false);
        if (!mb) {
            retry_later(g);
            break;
        }
        if (in_service) { /* an existing group: running, past its warm-up and grace period */
            ec2_start_running(e, mb->inst);
            mb->state = M_IN_SERVICE;
            mb->launched = mb->in_service = -p->warmup - p->grace;
        }
    }
    return g;
}

void asg_destroy(struct asg *g)
{
    if (!g) return;
    for (int k = 0; k < ASG_N_METRICS; k++) cw_destroy(g->cw[k]);
    spot_destroy(g->spot);
    free(g->members);
    free(g->member_of);
    free(g);
}

static void remove_member(struct asg *g, struct member *mb)
{
    uint32_t i = (uint32_t)(mb - g->members);
    g->member_of[mb->inst] = -1;
    g->members[i] = g->members[--g->n];
    if (i < g->n) g->member_of[g->members[i].inst] = (int32_t)i;
}

void asg_instance_changed(struct asg *g, uint32_t inst, enum ec2_state from, enum ec2_state to)
{
    (void)from;
    struct member *mb = member(g, inst);
    if (!mb) return;
    switch (to) {
    case EC2_RUNNING:
        if (mb->state == M_PENDING) {
            mb->state = M_IN_SERVICE;
            mb->in_service = sim_now(g->s);
            mb->busy_mark = server_busy_core_seconds(ec2_server(g->ec2, inst));
            mb->routed_mark = 0;
            if (mb->noticed && elb_registered(g->elb, inst) && elb_registration(g->elb, inst) == ELB_REGISTERED)
                elb_deregister(g->elb, inst); /* noticed while booting: it must not take traffic */
            if (g->p->grace > 0) sim_schedule(g->s, g->p->grace, g->id, EV_GRACE_END, &inst, sizeof inst);
            if (mb->rebalancing) { /* its counterpart can go now: the instance at risk, or the fullest zone's */
                mb->rebalancing = false;
                g->surplus -= mb->weight;
                /* the instance at risk, or one of the same purchase option in the fullest other zone (none:
                 * the surplus is released and the next reconcile removes whatever is in excess) */
                struct member *v = mb->replaces != NONE ? member(g, mb->replaces)
                                                        : victim_in(g, (int)ec2_zone(g->ec2, inst), mb->spot, true);
                mb->replaces = NONE;
                if (v) v->doomed = false;
                if (v && v->state != M_TERMINATING) terminate(g, v);
                rebalance(g);
            }
        }
        break;
    case EC2_TERMINATED:
        release_pairing(g, mb);
        if (mb->spot) spot_detach(g->spot, inst);
        remove_member(g, mb);
        reconcile(g);
        break;
    case EC2_FAILED:
    case EC2_UNREACHABLE:
        check_health(g, mb);
        break;
    case EC2_PENDING:
    case EC2_DRAINING:
    case EC2_N_STATES: break;
    }
}

void asg_zone_changed(struct asg *g, unsigned zone, bool up)
{
    (void)zone;
    if (up) rebalance(g);
    else reconcile(g);
}

void asg_target_health_changed(struct asg *g, uint32_t target)
{
    struct member *mb = member(g, target);
    if (mb && g->p->health == ASG_HEALTH_ELB) check_health(g, mb);
}

bool asg_target_unused(struct asg *g, uint32_t target)
{
    struct member *mb = member(g, target);
    if (!mb) return false;
    if (mb->state == M_TERMINATING && ec2_state(g->ec2, target) != EC2_TERMINATED) ec2_terminate(g->ec2, target);
    return true;
}

unsigned asg_desired(const struct asg *g) { return g->desired; }
unsigned asg_min(const struct asg *g) { return g->min; }
unsigned asg_max(const struct asg *g) { return g->max; }
uint64_t asg_scaling_actions(const struct asg *g) { return g->actions; }

void asg_counts(const struct asg *g, unsigned *pending, unsigned *in_service, unsigned *terminating)
{
    *pending = *in_service = *terminating = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        switch (g->members[i].state) {
        case M_PENDING: (*pending)++; break;
        case M_IN_SERVICE: (*in_service)++; break;
        default: (*terminating)++; break;
        }
    }
}

void asg_counts_by_market(const struct asg *g, unsigned out[2][3])
{
    memset(out, 0, 6 * sizeof out[0][0]);
    for (uint32_t i = 0; i < g->n; i++) out[g->members[i].spot][g->members[i].state]++;
}

void asg_capacity(const struct asg *g, unsigned *on_demand, unsigned *spot)
{
    *on_demand = alive_on_demand(g);
    *spot = alive(g) - *on_demand;
}

struct spot *asg_spot(const struct asg *g) { return g->spot; }

double asg_metric_value(const struct asg *g, enum asg_metric m) { return g->cw[m] ? cw_latest(g->cw[m]) : NAN; }
