/* metrics.c: per-interval rows and run totals. See metrics.h. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const metrics_error_names[METRICS_N_ERRORS] = {"queue_full", "no_healthy_target", "connection_refused",
                                                           "connect_timeout", "target_died", "timeout", "throttled",
                                                           "expired"};
const char *const metrics_event_names[METRICS_N_EVENT_KINDS] = {
    "instance_pending", "instance_running", "instance_draining", "instance_terminated", "instance_unreachable",
    "instance_failed", "zone_down", "zone_up", "target_healthy", "target_unhealthy", "target_draining",
    "target_unused", "scaling", "replaced_unhealthy", "spot_rebalance_recommendation", "spot_interruption_notice",
    "spot_interruption"};

enum { EV_REPORT, EV_WARMUP, N_KINDS };

struct metrics {
    sim *s;
    uint16_t id;
    struct metrics_params p;
    struct metrics_probe probe;
    metrics_row_fn *row_fn;
    void *row_ctx;
    metrics_event_fn *event_fn;
    void *event_ctx;
    int status;
    double cores;            /* available now */

    /* the interval being measured */
    sim_time interval_start; /* ns */
    struct metrics_row row;
    struct stats_hist latency;
    struct stats_acc wait;
    double busy_at_start;    /* core-seconds, cumulative at interval_start */
    double core_seconds;     /* available core-seconds so far in the interval */
    sim_time cores_since;    /* ns: when core_seconds was last brought up to date */

    uint64_t in_flight;      /* arrivals - successes - failures, whole run */
    uint64_t arrivals, resolved;
    bool warm;               /* the warm-up is over: totals are being collected */
    double busy_at_warm;
    sim_time warm_at;
    struct metrics_totals totals;
    struct cost *cost;       /* NULL: no ledger */
    void (*row_hook)(void *ctx, struct metrics_row *row);
    void *row_hook_ctx;
    double cost_prev[COST_N_CATEGORIES + 1]; /* USD booked at the previous row, per category and in all */
    double cost_at_warm;     /* USD booked at the end of the warm-up */
};

static void account_cores(struct metrics *m)
{
    sim_time now = sim_now(m->s);
    m->core_seconds += m->cores * sim_to_seconds(now - m->cores_since);
    m->cores_since = now;
}

static double busy_now(const struct metrics *m)
{
    return m->probe.busy_core_seconds ? m->probe.busy_core_seconds(m->probe.ctx) : 0.0;
}

/* USD booked in all categories, brought up to now (closing the ledger at the horizon). */
static double cost_now(struct metrics *m)
{
    if (sim_now(m->s) >= sim_horizon(m->s)) cost_close(m->cost);
    else cost_update(m->cost);
    double total = 0;
    for (int k = 0; k < COST_N_CATEGORIES; k++) total += cost_booked(m->cost, (enum cost_category)k);
    return total;
}

static void fill_cost(struct metrics *m, struct metrics_row *r, double seconds)
{
    if (!m->cost) {
        for (int k = 0; k < COST_N_CATEGORIES; k++) r->cost_usd[k] = r->cost_rate[k] = NAN;
        r->cost_total_usd = r->cost_total_rate = NAN;
        return;
    }
    r->cost_total_usd = cost_now(m);
    double per_hour = seconds > 0 ? 3600.0 / seconds : NAN;
    for (int k = 0; k < COST_N_CATEGORIES; k++) {
        r->cost_usd[k] = cost_booked(m->cost, (enum cost_category)k);
        r->cost_rate[k] = (r->cost_usd[k] - m->cost_prev[k]) * per_hour;
        m->cost_prev[k] = r->cost_usd[k];
    }
    r->cost_total_rate = (r->cost_total_usd - m->cost_prev[COST_N_CATEGORIES]) * per_hour;
    m->cost_prev[COST_N_CATEGORIES] = r->cost_total_usd;
}

static void emit(struct metrics *m)
{
    sim_time now = sim_now(m->s);
    account_cores(m);
    struct metrics_row *r = &m->row;
    r->t_s = sim_to_seconds(now);
    r->in_flight = m->in_flight;
    bool any = stats_hist_count(&m->latency) > 0;
    r->latency_mean_s = any ? stats_hist_mean(&m->latency) : NAN;
    r->latency_p50_s = any ? stats_hist_quantile(&m->latency, 0.50) : NAN;
    r->latency_p90_s = any ? stats_hist_quantile(&m->latency, 0.90) : NAN;
    r->latency_p99_s = any ? stats_hist_quantile(&m->latency, 0.99) : NAN;
    r->latency_p999_s = any ? stats_hist_quantile(&m->latency, 0.999) : NAN;
    r->latency_max_s = any ? stats_hist_max(&m->latency) : NAN;
    r->latency_slo_s = any && m->p.slo_quantile > 0 ? stats_hist_quantile(&m->latency, m->p.slo_quantile) : NAN;
    /* an interval meets the SLO when what completed in it met the latency target; one where requests
     * only failed does not; one with nothing resolved is not judged */
    if (m->p.slo_quantile > 0 && m->warm && m->interval_start >= m->warm_at && (r->successes || r->errors)) {
        m->totals.slo_intervals++;
        m->totals.slo_intervals_met += any && r->latency_slo_s <= m->p.slo_latency;
    }
    r->wait_mean_s = m->wait.n ? stats_acc_mean(&m->wait) : NAN;
    double busy = busy_now(m);
    r->utilization = m->core_seconds > 0 ? (busy - m->busy_at_start) / m->core_seconds : NAN;
    for (int i = 0; i < 4; i++) r->instances[i] = NAN;
    for (int z = 0; z < METRICS_ZONES; z++) r->healthy_targets[z] = NAN;
    if (m->probe.instances) m->probe.instances(m->probe.ctx, r->instances);
    if (m->probe.healthy) m->probe.healthy(m->probe.ctx, r->healthy_targets);
    r->desired = r->scaling_metric = r->capacity_on_demand = r->capacity_spot = NAN;
    for (int k = 0; k < 6; k++) r->group[k / 3][k % 3] = NAN;
    if (m->probe.scaling) m->probe.scaling(m->probe.ctx, r);
    fill_cost(m, r, sim_to_seconds(now - m->interval_start));
    r->lambda_invocations = r->lambda_cold_starts = r->lambda_throttles = r->lambda_concurrency_max =
        r->lambda_concurrency_mean = r->lambda_init_s = r->lambda_billed_gb_s = r->lambda_envs_idle =
            r->lambda_envs_busy = NAN;
    if (m->row_hook) m->row_hook(m->row_hook_ctx, r);
    if (m->status == 0) {
        m->status = m->row_fn(m->row_ctx, r);
        if (m->status < 0) sim_stop(m->s);
    }
    memset(r, 0, sizeof *r);
    stats_hist_reset(&m->latency);
    m->wait = (struct stats_acc){0};
    m->busy_at_start = busy;
    m->core_seconds = 0;
    m->interval_start = now;
}

static void start_totals(struct metrics *m)
{
    account_cores(m);
    m->warm = true;
    m->warm_at = sim_now(m->s);
    m->busy_at_warm = busy_now(m);
    m->totals.core_seconds = -m->core_seconds; /* so that the interval's earlier part is left out */
    if (m->cost) m->cost_at_warm = cost_now(m);
}

/* Reports at interval, 2 interval, ... and a last, shorter one at the horizon if it falls between. */
static void schedule_report(struct metrics *m)
{
    sim_time next = sim_now(m->s) + m->p.interval, horizon = sim_horizon(m->s);
    if (sim_now(m->s) < horizon) sim_schedule_at(m->s, next < horizon ? next : horizon, m->id, EV_REPORT, NULL, 0);
}

static void end_interval(struct metrics *m)
{
    account_cores(m);
    if (m->warm) m->totals.core_seconds += m->core_seconds;
    emit(m);
}

static void on_report(sim *s, void *self, const void *payload)
{
    (void)s;
    (void)payload;
    struct metrics *m = self;
    end_interval(m);
    schedule_report(m);
}

static void on_warmup(sim *s, void *self, const void *payload)
{
    (void)s;
    (void)payload;
    start_totals(self);
}

static void on_finish(sim *s, void *self)
{
    struct metrics *m = self;
    if (sim_now(s) > m->interval_start) end_interval(m); /* the run stopped early */
    if (!m->warm) start_totals(m);
    struct metrics_totals *t = &m->totals;
    t->in_flight_at_end = m->in_flight;
    t->busy_core_seconds = busy_now(m) - m->busy_at_warm;
    t->measured_s = sim_to_seconds(sim_now(s) - m->warm_at);
    t->cost_usd = m->cost ? cost_now(m) - m->cost_at_warm : NAN;
    uint64_t held = m->probe.in_system ? m->probe.in_system(m->probe.ctx) : m->in_flight;
    SIM_ASSERT(s, m->arrivals == m->resolved + held,
               "request conservation broken: %llu arrived, %llu resolved, %llu held by the design",
               (unsigned long long)m->arrivals, (unsigned long long)m->resolved, (unsigned long long)held);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_report, on_warmup};
static const char *const kind_names[N_KINDS] = {"report", "warmup"};
static const sim_model_ops ops = {"metrics", N_KINDS, handlers, kind_names, on_finish};

struct metrics *metrics_create(sim *s, const struct metrics_params *p, metrics_row_fn *row_fn,
                               void *row_ctx)
{
    SIM_ASSERT(s, p->interval > 0 && p->warmup >= 0, "bad metrics parameters");
    struct metrics *m = sim_xcalloc(1, sizeof *m);
    m->s = s;
    m->p = *p;
    m->row_fn = row_fn;
    m->row_ctx = row_ctx;
    stats_hist_reset(&m->latency);
    stats_hist_reset(&m->totals.latency);
    m->id = sim_register(s, &ops, m);
    if (p->warmup == 0) m->warm = true;
    else sim_schedule_at(s, p->warmup, m->id, EV_WARMUP, NULL, 0);
    schedule_report(m);
    return m;
}

void metrics_destroy(struct metrics *m) { free(m); }

void metrics_attach(struct metrics *m, const struct metrics_probe *probe)
{
    m->probe = *probe;
    m->cores = probe->cores ? probe->cores(probe->ctx) : 0;
    m->busy_at_start = busy_now(m);
    m->busy_at_warm = m->busy_at_start;
    m->cores_since = sim_now(m->s);
}

void metrics_attach_cost(struct metrics *m, struct cost *c) { m->cost = c; }

void metrics_set_row_hook(struct metrics *m, void (*fn)(void *ctx, struct metrics_row *row), void *ctx)
{
    m->row_hook = fn;
    m->row_hook_ctx = ctx;
}

static bool counted(const struct metrics *m, const struct request *r) { return r->arrival >= m->p.warmup; }

void metrics_arrival(struct metrics *m, const struct request *r)
{
    m->arrivals++;
    m->in_flight++;
    m->row.arrivals++;
    if (counted(m, r)) m->totals.arrivals++;
}

void metrics_success(struct metrics *m, const struct request *r, sim_time network)
{
    double latency = sim_to_seconds(sim_now(m->s) - r->arrival + network);
    double wait = sim_to_seconds(r->start - r->arrival);
    m->in_flight--;
    m->resolved++;
    m->row.successes++;
    stats_hist_add(&m->latency, latency);
    stats_acc_add(&m->wait, wait);
    if (counted(m, r)) {
        m->totals.successes++;
        stats_hist_add(&m->totals.latency, latency);
        stats_acc_add(&m->totals.wait, wait);
        if (r->start > r->arrival) m->totals.waited++;
    }
}

void metrics_failure(struct metrics *m, const struct request *r, enum metrics_error why)
{
    m->in_flight--;
    m->resolved++;
    m->row.errors++;
    m->row.errors_by[why]++;
    if (counted(m, r)) m->totals.errors++;
}

void metrics_cross_zone(struct metrics *m, uint64_t bytes) { m->row.cross_zone_bytes += bytes; }

void metrics_cores_changed(struct metrics *m)
{
    account_cores(m);
    m->cores = m->probe.cores ? m->probe.cores(m->probe.ctx) : 0;
}

void metrics_set_event_sink(struct metrics *m, metrics_event_fn *fn, void *ctx)
{
    m->event_fn = fn;
    m->event_ctx = ctx;
}

void metrics_event(struct metrics *m, enum metrics_event_kind kind, int az, int64_t id, double value)
{
    if (!m->event_fn || m->status < 0) return;
    struct metrics_event ev = {sim_to_seconds(sim_now(m->s)), (int32_t)kind, az, id, value};
    m->status = m->event_fn(m->event_ctx, &ev);
    if (m->status < 0) sim_stop(m->s);
}

const struct metrics_totals *metrics_totals(const struct metrics *m) { return &m->totals; }
int metrics_status(const struct metrics *m) { return m->status; }
