/* cost.c: price catalog, purchase options, the ledger. See cost.h. */
#include "cost.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cost_category_names[COST_N_CATEGORIES] = {
    "ec2_on_demand", "ec2_spot", "reserved_fee", "savings_plan_fee", "covered",
    "ebs", "elb_hours", "elb_lcu", "transfer_zones", "transfer_internet", "lambda_requests", "lambda_duration",
    "lambda_provisioned", "api_gateway", "onprem_hardware", "onprem_power", "onprem_space", "onprem_network",
    "onprem_staff"};

#define HOUR (3600 * SIM_SEC)
#define MONTH ((sim_time)730 * HOUR)
#define MAX_USD 1e9

/* ---- parameters ---------------------------------------------------------------------------- */

/* A list `name` of tiers { upto; <price>; } in unit (bounds) and USD (price, per `per`). */
static unsigned parse_tier_list(conf *c, const config_setting_t *g, const char *name, enum conf_unit unit,
                                const char *price, struct cost_tier *tiers)
{
    const config_setting_t *list = conf_list(c, g, name, true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0, got = 0;
    if (list && n == 0) conf_error(c, list, "needs at least one tier");
    if (n > COST_MAX_TIERS) {
        conf_error(c, list, "at most %d tiers, got %u", COST_MAX_TIERS, n);
        n = COST_MAX_TIERS;
    }
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *t = conf_elem_group(c, list, i);
        if (!t) continue;
        struct cost_tier *tier = &tiers[got++];
        tier->upto = INFINITY;
        bool last = i + 1 == n;
        if (last && config_setting_get_member(t, "upto"))
            conf_error_in(c, t, "upto", "the last tier has no upper bound: leave `upto` out");
        else conf_get_quantity(c, t, "upto", unit, !last, CONF_IN(1, 1e21), &tier->upto);
        conf_get_money(c, t, price, true, CONF_IN(0, MAX_USD), &tier->usd_per_gb);
        if (got > 1 && !(tier->upto > tiers[got - 2].upto))
            conf_error_in(c, t, "upto", "tiers must go up: %g is not above the previous tier's %g", tier->upto,
                          tiers[got - 2].upto);
    }
    return got;
}

bool cost_prices_parse(conf *c, bool required, struct cost_prices *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    p->region = p->date = p->source = "";
    const config_setting_t *g = conf_group(c, conf_root(c), "prices", required);
    if (!g) return conf_errors(c) == before;
    conf_get_string(c, g, "region", true, &p->region);
    conf_get_string(c, g, "date", true, &p->date);
    conf_get_string(c, g, "source", true, &p->source);
    const config_setting_t *lb = conf_group(c, g, "elb", true);
    conf_get_money(c, lb, "hour", true, CONF_IN(0, MAX_USD), &p->elb_hour);
    conf_get_money(c, lb, "lcu_hour", true, CONF_IN(0, MAX_USD), &p->lcu_hour);
    conf_get_double(c, lb, "lcu_new_connections_per_s", true, CONF_IN(1e-9, 1e12), &p->lcu_new_connections);
    conf_get_double(c, lb, "lcu_active_connections", true, CONF_IN(1e-9, 1e12), &p->lcu_active_connections);
    conf_get_bytes(c, lb, "lcu_bytes_per_hour", true, CONF_IN(1, 1e18), &p->lcu_bytes);
    conf_get_double(c, lb, "lcu_rule_evaluations_per_s", true, CONF_IN(1e-9, 1e12), &p->lcu_rule_evaluations);
    int64_t free_rules = 0;
    conf_get_int(c, lb, "lcu_free_rules", true, 0, 1000, &free_rules);
    p->lcu_free_rules = (unsigned)free_rules;
    conf_get_bool(c, lb, "cross_zone_charged", true, &p->elb_cross_zone_charged);
    p->lcu_bytes_lambda = p->lcu_bytes;
    conf_get_bytes(c, lb, "lcu_bytes_per_hour_lambda", false, CONF_IN(1, 1e18), &p->lcu_bytes_lambda);
    const config_setting_t *tr = conf_group(c, g, "transfer", true);
    conf_get_money(c, tr, "zone_per_gib", true, CONF_IN(0, MAX_USD), &p->zone_gb);
    if (tr) p->n_tiers = parse_tier_list(c, tr, "internet", CONF_UNIT_BYTES, "per_gib", p->tiers);
    const config_setting_t *ebs = conf_group(c, g, "ebs", true);
    conf_get_money(c, ebs, "gib_month", true, CONF_IN(0, MAX_USD), &p->ebs_gb_month);
    const config_setting_t *fn = conf_group(c, g, "lambda", false); /* needed by serverless designs only */
    if (fn) {
        double per_million = 0;
        conf_get_money(c, fn, "per_million_requests", true, CONF_IN(0, MAX_USD), &per_million);
        p->lambda_request = per_million / 1e6;
        p->n_duration[0] = parse_tier_list(c, fn, "x86_64", CONF_UNIT_NONE, "per_gb_s", p->duration[0]);
        p->n_duration[1] = parse_tier_list(c, fn, "arm64", CONF_UNIT_NONE, "per_gb_s", p->duration[1]);
        conf_get_money(c, fn, "provisioned_gb_s", true, CONF_IN(0, MAX_USD), &p->provisioned_gb_s);
        conf_get_money(c, fn, "provisioned_duration_x86_64", true, CONF_IN(0, MAX_USD), &p->provisioned_duration_gb_s[0]);
        conf_get_money(c, fn, "provisioned_duration_arm64", true, CONF_IN(0, MAX_USD), &p->provisioned_duration_gb_s[1]);
        conf_get_double(c, fn, "free_requests", true, CONF_IN(0, 1e15), &p->free_requests);
        conf_get_double(c, fn, "free_gb_s", true, CONF_IN(0, 1e15), &p->free_gb_s);
    }
    const config_setting_t *gw = conf_group(c, g, "api_gateway", false);
    if (gw) p->n_gateway = parse_tier_list(c, gw, "per_million", CONF_UNIT_NONE, "price", p->gateway);
    return conf_errors(c) == before;
}

bool cost_billing_parse(conf *c, const config_setting_t *g, const struct ec2_catalog *cat, struct cost_billing *b)
{
    int before = conf_errors(c);
    /* The Amazon Linux 2023 AMI's root volume, 8 GiB gp3 (secondary: namecheap/ec2-github-runner
     * issue 44, "Amazon Linux 2023 default: 8 GiB gp3"); one connection per request: UNCONFIRMED,
     * clients that keep connections alive make fewer. */
    *b = (struct cost_billing){.volume_bytes = 8.0 * COST_GB, .rules = 1, .requests_per_connection = 1.0};
    if (!g) return true;
    const config_setting_t *sp = conf_group(c, g, "savings_plan", false);
    if (sp) {
        conf_get_money(c, sp, "commitment", true, CONF_IN(1e-9, MAX_USD), &b->commitment);
        conf_get_double(c, sp, "discount", true, CONF_IN(1e-9, 0.99), &b->discount);
    }
    const config_setting_t *list = conf_list(c, g, "reserved", false);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (n > COST_MAX_RESERVED) {
        conf_error(c, list, "at most %d reservations, got %u", COST_MAX_RESERVED, n);
        n = COST_MAX_RESERVED;
    }
    for (unsigned i = 0; i < n; i++) {
        const config_setting_t *r = conf_elem_group(c, list, i);
        if (!r) continue;
        struct cost_reserved *rv = &b->reserved[b->n_reserved];
        int64_t count = 1;
        rv->type = ec2_get_type(c, cat, r, "type");
        conf_get_int(c, r, "count", true, 1, 100000, &count);
        conf_get_money(c, r, "rate", true, CONF_IN(0, MAX_USD), &rv->rate);
        rv->count = (unsigned)count;
        for (unsigned j = 0; rv->type && j < b->n_reserved; j++)
            if (b->reserved[j].type == rv->type)
                conf_error_in(c, r, "type", "%s is already reserved above: add to its count", rv->type->name);
        b->n_reserved++;
    }
    conf_get_bytes(c, g, "volume", false, CONF_IN(0, 1e15), &b->volume_bytes);
    int64_t rules = 1;
    conf_get_int(c, g, "rules", false, 0, 100, &rules);
    b->rules = (unsigned)rules;
    conf_get_double(c, g, "requests_per_connection", false, CONF_IN(1, 1e9), &b->requests_per_connection);
    return conf_errors(c) == before;
}

void cost_prices_print(const struct cost_prices *p, FILE *f)
{
    fprintf(f, "prices: %s, %s (%s)\n", p->region, p->date, p->source);
    fprintf(f, "  load balancer  $%g per hour or partial hour, $%g per LCU-hour; an LCU is %g new connections/s, "
               "%g active connections, %g GiB/h or %g rule evaluations/s (first %u rules free)%s\n",
            p->elb_hour, p->lcu_hour, p->lcu_new_connections, p->lcu_active_connections, p->lcu_bytes / COST_GB,
            p->lcu_rule_evaluations, p->lcu_free_rules, p->elb_cross_zone_charged ? "; cross-zone traffic charged" : "");
    fprintf(f, "  between zones  $%g per GiB on each side\n", p->zone_gb);
    double from = 0;
    for (unsigned i = 0; i < p->n_tiers; i++) {
        if (isinf(p->tiers[i].upto)) fprintf(f, "  to internet    beyond %g GiB a month: $%g per GiB\n", from / COST_GB, p->tiers[i].usd_per_gb);
        else fprintf(f, "  to internet    %g to %g GiB a month: $%g per GiB\n", from / COST_GB, p->tiers[i].upto / COST_GB,
                     p->tiers[i].usd_per_gb);
        from = p->tiers[i].upto;
    }
    fprintf(f, "  EBS            $%g per GiB-month\n", p->ebs_gb_month);
}

/* The charge for `amount` more of a quantity priced by tiers on the month's running total `used`;
 * tier prices are per `unit` of the quantity. */
static double tiered(const struct cost_tier *t, unsigned n, double used, double amount, double unit)
{
    double usd = 0, from = used, to = used + amount;
    for (unsigned i = 0; i < n && from < to; i++) {
        double hi = t[i].upto;
        if (from >= hi) continue;
        double end = to < hi ? to : hi;
        usd += (end - from) / unit * t[i].usd_per_gb;
        from = end;
    }
    return usd;
}

double cost_internet_price(const struct cost_prices *p, double month_bytes, double bytes)
{
    return tiered(p->tiers, p->n_tiers, month_bytes, bytes, COST_GB);
}

double cost_lcu(const struct cost_prices *p, double new_conn_per_s, double active_connections, double bytes_per_hour,
                double rule_evaluations_per_s)
{
    double lcu = new_conn_per_s / p->lcu_new_connections;
    lcu = fmax(lcu, active_connections / p->lcu_active_connections);
    lcu = fmax(lcu, bytes_per_hour / p->lcu_bytes);
    return fmax(lcu, rule_evaluations_per_s / p->lcu_rule_evaluations);
}

/* ---- the ledger ---------------------------------------------------------------------------- */

enum bill_state { B_NONE, B_VOLUME, B_ON_DEMAND, B_SPOT_FIRST_HOUR, B_SPOT, B_ENDED };

struct bill {
    uint8_t state;         /* enum bill_state */
    int8_t reserved;       /* index of the reservation of its type, or -1 */
    int16_t pool;          /* spot pool */
    sim_time start;        /* ns: when it first ran */
    double price;          /* On-Demand USD per hour */
};

struct cost {
    sim *s;
    const struct cost_prices *pr;
    const struct cost_billing *b;
    bool has_lb, closed;
    double booked[COST_N_CATEGORIES]; /* USD */
    sim_time at;             /* ns: booked up to here */
    sim_time hour_start;     /* ns: the clock hour in progress */
    struct bill *bills;
    uint32_t cap;
    const struct spot *spot; /* the spot pools of the spot instances */
    /* rates, constant between calls */
    double od_rate;          /* USD/s of running On-Demand instances */
    double fee_rate[2];      /* USD/s: reservations, the plan */
    unsigned volumes;
    unsigned running_reserved[COST_MAX_RESERVED]; /* On-Demand instances of each reserved type */
    uint32_t spot_billed[SPOT_MAX_POOLS];         /* spot instances past their first hour */
    /* spot instances in their first hour, in order of start (a FIFO of instance ids) */
    uint32_t *trial;
    uint32_t trial_head, trial_n, trial_cap;
    /* the hour in progress */
    double od_usd_hour;      /* On-Demand usage, USD */
    double reserved_s_hour[COST_MAX_RESERVED]; /* instance-seconds of each reserved type */
    double new_conns, conn_seconds, lb_bytes, requests;
    /* the month in progress and transfer not yet booked */
    double month_bytes;
    uint64_t internet_pending, zone_pending;
    /* Lambda and the gateway: the month's running totals and what is not booked yet */
    double month_requests, month_gb_s[2], month_gateway;
    double requests_pending, gb_s_pending[2], gateway_pending;
    double provisioned_gb;   /* GB of memory allocated to provisioned environments now */
    double rate[COST_N_CATEGORIES]; /* USD/s of constant running costs (on-premises) */
    double (*joules)(const void *ctx);
    const void *meter_ctx;
    double usd_per_joule, joules_booked;
};

static struct bill *bill_of(struct cost *c, uint32_t inst)
{
    if (inst >= c->cap) {
        uint32_t cap = c->cap ? c->cap : 64;
        while (cap <= inst) cap *= 2;
        c->bills = sim_xrealloc(c->bills, cap * sizeof *c->bills);
        memset(c->bills + c->cap, 0, (cap - c->cap) * sizeof *c->bills);
        c->cap = cap;
    }
    return &c->bills[inst];
}

static void book(struct cost *c, enum cost_category k, double usd) { c->booked[k] += usd; }

/* On-Demand usage that reservations and the plan may cover: USD and instance-seconds of a type. */
static void book_on_demand(struct cost *c, const struct bill *bl, double seconds)
{
    double usd = bl->price * seconds / 3600.0;
    book(c, COST_EC2_ON_DEMAND, usd);
    c->od_usd_hour += usd;
    if (bl->reserved >= 0) c->reserved_s_hour[bl->reserved] += seconds;
}

/* Transfer counted since the last booking, priced in the month in progress. */
static void book_transfer(struct cost *c)
{
    if (c->internet_pending) {
        double bytes = (double)c->internet_pending;
        book(c, COST_TRANSFER_INTERNET, cost_internet_price(c->pr, c->month_bytes, bytes));
        c->month_bytes += bytes;
        c->internet_pending = 0;
    }
    if (c->zone_pending) {
        book(c, COST_TRANSFER_ZONES, 2.0 * c->pr->zone_gb * (double)c->zone_pending / COST_GB);
        c->zone_pending = 0;
    }
    const struct cost_prices *p = c->pr;
    if (c->requests_pending > 0) { /* the free requests come off the month's first ones */
        double free = c->b->free_tier ? p->free_requests : 0;
        double before = fmax(c->month_requests, free), after = fmax(c->month_requests + c->requests_pending, free);
        book(c, COST_LAMBDA_REQUESTS, (after - before) * p->lambda_request);
        c->month_requests += c->requests_pending;
        c->requests_pending = 0;
    }
    for (int a = 0; a < 2; a++) {
        if (!(c->gb_s_pending[a] > 0)) continue;
        double amount = c->gb_s_pending[a];
        if (c->b->free_tier) { /* the free GB-seconds, shared by both architectures, go first */
            double used = c->month_gb_s[0] + c->month_gb_s[1], free = fmax(0.0, p->free_gb_s - used);
            double waived = fmin(free, amount);
            c->month_gb_s[a] += waived;
            amount -= waived;
        }
        book(c, COST_LAMBDA_DURATION, tiered(p->duration[a], p->n_duration[a], c->month_gb_s[a], amount, 1.0));
        c->month_gb_s[a] += amount;
        c->gb_s_pending[a] = 0;
    }
    if (c->gateway_pending > 0) {
        book(c, COST_API_GATEWAY, tiered(p->gateway, p->n_gateway, c->month_gateway, c->gateway_pending, 1e6));
        c->month_gateway += c->gateway_pending;
        c->gateway_pending = 0;
    }
}

/* Constant rates from c->at to t. */
static void integrate(struct cost *c, sim_time t)
{
    double dt = sim_to_seconds(t - c->at);
    if (dt <= 0) return;
    if (c->od_rate > 0) {
        double usd = c->od_rate * dt;
        book(c, COST_EC2_ON_DEMAND, usd);
        c->od_usd_hour += usd;
        for (unsigned i = 0; i < c->b->n_reserved; i++) c->reserved_s_hour[i] += c->running_reserved[i] * dt;
    }
    book(c, COST_RESERVED_FEE, c->fee_rate[0] * dt);
    book(c, COST_SAVINGS_PLAN_FEE, c->fee_rate[1] * dt);
    book(c, COST_EBS, c->volumes * c->b->volume_bytes / COST_GB * c->pr->ebs_gb_month * dt / COST_MONTH_S);
    if (c->provisioned_gb > 0) book(c, COST_LAMBDA_PROVISIONED, c->provisioned_gb * c->pr->provisioned_gb_s * dt);
    for (int k = COST_ONPREM_HARDWARE; k < COST_N_CATEGORIES; k++)
        if (c->rate[k] > 0) book(c, (enum cost_category)k, c->rate[k] * dt);
    if (c->spot)
        for (unsigned k = 0; k < spot_pool_count(c->spot); k++)
            if (c->spot_billed[k]) book(c, COST_EC2_SPOT, c->spot_billed[k] * spot_price_integral(c->spot, (int)k, c->at, t));
    c->at = t;
}

/* The hour [hour_start, at] ends: commitments cover its On-Demand usage; its capacity units. */
static void settle_hour(struct cost *c)
{
    double len = sim_to_seconds(c->at - c->hour_start);
    if (len <= 0) return;
    double usage = c->od_usd_hour;
    for (unsigned i = 0; i < c->b->n_reserved; i++) { /* reservations first, then the plan */
        const struct cost_reserved *rv = &c->b->reserved[i];
        double covered_s = fmin(c->reserved_s_hour[i], rv->count * len);
        double usd = covered_s * rv->type->price / 3600.0;
        book(c, COST_COVERED, -usd);
        usage -= usd;
        c->reserved_s_hour[i] = 0;
    }
    if (c->b->commitment > 0) {
        double reach = c->b->commitment * len / 3600.0 / (1.0 - c->b->discount); /* On-Demand USD */
        book(c, COST_COVERED, -fmin(fmax(usage, 0.0), reach));
    }
    c->od_usd_hour = 0;
    if (c->has_lb) { /* capacity units: the dimensions as rates over the hour, a full LCU-hour charged */
        double rule_evals = c->requests * (c->b->rules > c->pr->lcu_free_rules ? c->b->rules - c->pr->lcu_free_rules : 0);
        double per_lcu = c->b->lambda_targets ? c->pr->lcu_bytes_lambda : c->pr->lcu_bytes;
        double lcu = cost_lcu(c->pr, c->new_conns / len, c->conn_seconds / len,
                              c->lb_bytes * 3600.0 / len * c->pr->lcu_bytes / per_lcu, rule_evals / len);
        book(c, COST_ELB_LCU, lcu * c->pr->lcu_hour);
    }
    c->new_conns = c->conn_seconds = c->lb_bytes = c->requests = 0;
}

static double spot_cost(const struct cost *c, const struct bill *bl, sim_time from, sim_time to)
{
    return spot_price_integral(c->spot, bl->pool, from, to);
}

/* Books everything up to t, stopping at clock hours (settlements, monthly tiers) and at the end of
 * spot instances' first hours. */
static void advance(struct cost *c, sim_time t)
{
    while (c->at < t) {
        sim_time next = c->hour_start + HOUR, stop = next < t ? next : t;
        struct bill *head = c->trial_n ? &c->bills[c->trial[c->trial_head]] : NULL;
        if (head && head->start + HOUR < stop) stop = head->start + HOUR;
        integrate(c, stop);
        while (c->trial_n) { /* first hours that end now: booked, and billed by the second from here */
            struct bill *bl = &c->bills[c->trial[c->trial_head]];
            if (bl->state == B_SPOT_FIRST_HOUR) {
                if (bl->start + HOUR > c->at) break;
                book(c, COST_EC2_SPOT, spot_cost(c, bl, bl->start, c->at));
                bl->state = B_SPOT;
                c->spot_billed[bl->pool]++;
            }
            c->trial_head = (c->trial_head + 1) % c->trial_cap;
            c->trial_n--;
        }
        if (c->at == next) {
            book_transfer(c);
            settle_hour(c);
            c->hour_start = next;
            if (next % MONTH == 0)
                c->month_bytes = c->month_requests = c->month_gb_s[0] = c->month_gb_s[1] = c->month_gateway = 0;
            if (c->has_lb && next < sim_horizon(c->s)) book(c, COST_ELB_HOURS, c->pr->elb_hour);
        }
    }
}

struct cost *cost_create(sim *s, const struct cost_prices *prices, const struct cost_billing *b, bool has_lb)
{
    struct cost *c = sim_xcalloc(1, sizeof *c);
    c->s = s;
    c->pr = prices;
    c->b = b;
    c->has_lb = has_lb;
    c->at = sim_now(s);
    c->hour_start = c->at - c->at % HOUR;
    double reserved = 0;
    for (unsigned i = 0; i < b->n_reserved; i++) reserved += b->reserved[i].count * b->reserved[i].rate;
    c->fee_rate[0] = reserved / 3600.0;
    c->fee_rate[1] = b->commitment / 3600.0;
    if (has_lb && c->at < sim_horizon(s)) book(c, COST_ELB_HOURS, prices->elb_hour);
    return c;
}

void cost_destroy(struct cost *c)
{
    if (!c) return;
    free(c->bills);
    free(c->trial);
    free(c);
}

void cost_update(struct cost *c)
{
    if (c->closed) return;
    advance(c, sim_now(c->s));
    book_transfer(c);
    if (c->joules) {
        double j = c->joules(c->meter_ctx);
        book(c, COST_ONPREM_POWER, (j - c->joules_booked) * c->usd_per_joule);
        c->joules_booked = j;
    }
}

void cost_set_rate(struct cost *c, enum cost_category k, double usd_per_s)
{
    if (c->closed) return;
    cost_update(c);
    c->rate[k] = usd_per_s;
}

void cost_set_energy_meter(struct cost *c, double (*joules)(const void *ctx), const void *ctx, double usd_per_joule)
{
    cost_update(c);
    c->joules = joules;
    c->meter_ctx = ctx;
    c->usd_per_joule = usd_per_joule;
    c->joules_booked = joules(ctx);
}

void cost_ec2_launched(struct cost *c, uint32_t inst)
{
    if (c->closed) return;
    cost_update(c);
    struct bill *bl = bill_of(c, inst);
    SIM_ASSERT(c->s, bl->state == B_NONE, "instance %u launched twice", inst);
    bl->state = B_VOLUME;
    c->volumes++;
}

void cost_ec2_running(struct cost *c, uint32_t inst, const struct ec2_type *t, const struct spot *sp, int pool)
{
    struct bill *bl = bill_of(c, inst);
    if (bl->state != B_VOLUME || c->closed) return; /* already billed (it ran before an outage), or never launched */
    cost_update(c);
    bl->start = sim_now(c->s);
    bl->price = t->price;
    bl->reserved = -1;
    if (sp) {
        SIM_ASSERT(c->s, !c->spot || c->spot == sp, "one spot market per ledger");
        c->spot = sp;
        bl->pool = (int16_t)pool;
        bl->state = B_SPOT_FIRST_HOUR;
        if (c->trial_n == c->trial_cap) { /* grow the ring, unrolling it */
            uint32_t cap = c->trial_cap ? 2 * c->trial_cap : 64, *q = sim_xmalloc(cap * sizeof *q);
            for (uint32_t i = 0; i < c->trial_n; i++) q[i] = c->trial[(c->trial_head + i) % c->trial_cap];
            free(c->trial);
            c->trial = q;
            c->trial_head = 0;
            c->trial_cap = cap;
        }
        c->trial[(c->trial_head + c->trial_n++) % c->trial_cap] = inst;
        return;
    }
    bl->state = B_ON_DEMAND;
    for (unsigned i = 0; i < c->b->n_reserved; i++)
        if (c->b->reserved[i].type == t) bl->reserved = (int8_t)i;
    c->od_rate += t->price / 3600.0;
    if (bl->reserved >= 0) c->running_reserved[bl->reserved]++;
}

/* Seconds billed for a run of `ran` ns: whole seconds, at least 60. */
static double billed_seconds(sim_time ran)
{
    double s = ceil(sim_to_seconds(ran) - 1e-9);
    return s < 60.0 ? 60.0 : s;
}

/* An instance's billing ends now (terminated, or still running at the close). */
static void end_bill(struct cost *c, struct bill *bl, bool interrupted)
{
    sim_time now = sim_now(c->s), ran = now - bl->start;
    double extra = billed_seconds(ran) - sim_to_seconds(ran); /* the minimum and the rounding */
    switch ((enum bill_state)bl->state) {
    case B_ON_DEMAND:
        c->od_rate -= bl->price / 3600.0;
        if (c->od_rate < 1e-15) c->od_rate = 0; /* what rounding leaves of a sum of prices */
        if (bl->reserved >= 0) c->running_reserved[bl->reserved]--;
        book_on_demand(c, bl, extra);
        break;
    case B_SPOT_FIRST_HOUR: /* AWS charges nothing when it interrupts a spot instance in its first hour */
        if (!interrupted) book(c, COST_EC2_SPOT, spot_cost(c, bl, bl->start, bl->start + sim_from_seconds(billed_seconds(ran))));
        break;
    case B_SPOT:
        c->spot_billed[bl->pool]--;
        book(c, COST_EC2_SPOT, spot_cost(c, bl, now, now + sim_from_seconds(extra)));
        break;
    case B_NONE:
    case B_VOLUME:
    case B_ENDED: break;
    }
}

void cost_ec2_terminated(struct cost *c, uint32_t inst, bool interrupted)
{
    if (c->closed) return;
    cost_update(c);
    struct bill *bl = bill_of(c, inst);
    SIM_ASSERT(c->s, bl->state != B_NONE && bl->state != B_ENDED, "instance %u terminated without a launch", inst);
    end_bill(c, bl, interrupted);
    bl->state = B_ENDED;
    c->volumes--;
}

/* Counters of the hour in progress must not take what belongs to the next one. */
static void roll(struct cost *c)
{
    if (sim_now(c->s) >= c->hour_start + HOUR) cost_update(c);
}

void cost_lb_request(struct cost *c, uint32_t bytes)
{
    if (c->closed) return;
    roll(c);
    c->requests += 1;
    c->new_conns += 1.0 / c->b->requests_per_connection;
    c->lb_bytes += bytes;
}

void cost_lb_finished(struct cost *c, double seconds)
{
    if (c->closed) return;
    roll(c);
    c->conn_seconds += seconds;
}

void cost_internet_bytes(struct cost *c, uint64_t bytes)
{
    if (c->closed) return;
    roll(c);
    c->internet_pending += bytes;
}

void cost_lb_cross_zone(struct cost *c, uint64_t bytes)
{
    if (!c->pr->elb_cross_zone_charged || c->closed) return;
    roll(c);
    c->zone_pending += bytes;
}

void cost_lambda_invocation(struct cost *c, int arch, double gb_seconds, bool provisioned)
{
    if (c->closed) return;
    roll(c);
    c->requests_pending += 1;
    if (provisioned) book(c, COST_LAMBDA_DURATION, gb_seconds * c->pr->provisioned_duration_gb_s[arch]);
    else c->gb_s_pending[arch] += gb_seconds;
}

void cost_lambda_provisioned(struct cost *c, double gb)
{
    if (c->closed) return;
    cost_update(c);
    c->provisioned_gb += gb;
    if (c->provisioned_gb < 1e-9) c->provisioned_gb = 0;
}

void cost_gateway_request(struct cost *c)
{
    if (c->closed) return;
    roll(c);
    c->gateway_pending += 1;
}

void cost_close(struct cost *c)
{
    if (c->closed) return;
    cost_update(c);
    for (uint32_t i = 0; i < c->cap; i++) { /* instances still running owe at least their first minute */
        struct bill *bl = &c->bills[i];
        if (bl->state != B_ON_DEMAND && bl->state != B_SPOT && bl->state != B_SPOT_FIRST_HOUR) continue;
        sim_time ran = sim_now(c->s) - bl->start;
        if (ran >= 60 * SIM_SEC) {
            if (bl->state == B_SPOT_FIRST_HOUR) book(c, COST_EC2_SPOT, spot_cost(c, bl, bl->start, sim_now(c->s)));
            continue;
        }
        double extra = 60.0 - sim_to_seconds(ran);
        if (bl->state == B_ON_DEMAND) book_on_demand(c, bl, extra);
        else book(c, COST_EC2_SPOT, spot_cost(c, bl, bl->start, bl->start + 60 * SIM_SEC));
    }
    settle_hour(c);
    c->closed = true;
}

double cost_booked(const struct cost *c, enum cost_category k) { return c->booked[k]; }
