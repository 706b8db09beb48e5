/* workload.c: arrivals, classes and demands. See workload.h. */
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

enum { EV_ARRIVAL, N_KINDS };

struct workload {
    sim *s;
    uint16_t id;
    const struct workload_params *p;
    workload_sink_fn *sink;
    void *sink_ctx;
    gsl_rng *arrivals;      /* candidate gaps and thinning */
    gsl_rng *demand;        /* class choice and CPU demand */
    double base_max;        /* requests/s: the profile's highest rate, before changes */
    unsigned seg;           /* rate changes in force: changes[0 .. seg-1] have happened */
    double cum_share[WORKLOAD_MAX_CLASSES];
    /* a trace: the interval in progress [from, to), and what is left of its arrivals */
    struct trace_reader *trace;
    sim_time from, to;
    double rate;            /* poisson: requests/s in the interval */
    double stream_rate[TRACE_MAX_STREAMS]; /* poisson, several streams: each one's requests/s */
    uint64_t left, done;    /* even, uniform: arrivals still to come in it, and made so far */
    uint64_t stream_left[TRACE_MAX_STREAMS]; /* several streams: each one's arrivals still to come */
    uint16_t next_cls;      /* a trace with classes: the class of the arrival scheduled next */
    double u;               /* uniform: the latest arrival's position in the interval, [0, 1) */
    uint64_t copies;        /* timestamps: arrivals still to make of the current request (scaling) */
    sim_time req_t;         /* timestamps: its time */
    uint16_t req_cls;       /* timestamps: its class */
    double req_value[TRACE_MAX_VALUES];  /* its values */
    double next_value[TRACE_MAX_VALUES]; /* the values of the arrival scheduled next */
    uint64_t n;             /* arrivals so far */
};

static const char *const profile_names[] = {"constant", "diurnal", NULL};
static const char *const process_names[] = {"poisson", "trace", NULL};
static const char *const within_names[] = {"poisson", "even", "uniform", NULL};
static const double two_pi = 6.283185307179586;

static const struct {
    const char *name;
    double q;
} slo_keys[] = {{"latency_p50", 0.50}, {"latency_p90", 0.90}, {"latency_p95", 0.95},
                {"latency_p99", 0.99}, {"latency_p999", 0.999}};

static void parse_slo(conf *c, const config_setting_t *slo, struct workload_params *p)
{
    if (!slo) return;
    const char *first = NULL;
    for (size_t i = 0; i < sizeof slo_keys / sizeof slo_keys[0]; i++) {
        double v = NAN;
        conf_get_duration(c, slo, slo_keys[i].name, false, CONF_ABOVE(0), &v);
        if (isnan(v)) continue;
        if (first) {
            conf_error_in(c, slo, slo_keys[i].name, "only one latency target allowed, %s is already set",
                          first);
            continue;
        }
        first = slo_keys[i].name;
        p->slo_quantile = slo_keys[i].q;
        p->slo_latency = v;
    }
    conf_get_double(c, slo, "availability", false, CONF_IN(0.0, 1.0), &p->slo_availability);
}

/* The class of each stream of a trace that names classes; a name that is not a class is reported where
 * it was written (the trace's classes list, or the line of the trace file that first named it). */
static void map_trace_classes(conf *c, const config_setting_t *arr, struct workload_params *p)
{
    const struct trace_params *t = &p->trace;
    for (unsigned s = 0; s < t->n_streams; s++) {
        unsigned k = 0;
        while (k < p->n_classes && strcmp(p->classes[k].name, t->stream_class[s]) != 0) k++;
        p->trace_cls[s] = (uint16_t)k;
        if (k < p->n_classes) continue;
        char known[512] = "";
        for (unsigned j = 0; j < p->n_classes; j++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", j ? ", " : "", p->classes[j].name);
        if (t->class_column)
            conf_error_data(c, t->path, t->stream_line[s], "class \"%s\" (column \"%s\") is not a class of the workload "
                            "(its classes: %s)", t->stream_class[s], t->class_column, known);
        else
            conf_error(c, config_setting_get_elem(conf_list(c, conf_group(c, arr, "trace", true), "classes", true), s),
                       "\"%s\" is not a class of the workload (its classes: %s)", t->stream_class[s], known);
    }
}

/* `demand_per_value`: a duration per unit of the trace's value column, or a list, one per value column. */
static void parse_per_value(conf *c, const config_setting_t *arr, struct workload_params *p)
{
    const config_setting_t *d = arr ? config_setting_get_member(arr, "demand_per_value") : NULL;
    if (!d) return;
    unsigned given = 1, want = p->trace.n_values;
    if (!config_setting_is_aggregate(d)) {
        conf_get_duration(c, arr, "demand_per_value", true, CONF_AT_LEAST(0), &p->demand_per_value[0]);
    } else {
        const config_setting_t *list = conf_list(c, arr, "demand_per_value", true);
        given = list ? (unsigned)config_setting_length(list) : 0;
        for (unsigned i = 0; i < given && i < TRACE_MAX_VALUES; i++)
            conf_elem_quantity(c, list, i, CONF_UNIT_SECONDS, CONF_AT_LEAST(0), &p->demand_per_value[i]);
    }
    if (want == 0)
        conf_error_in(c, arr, "demand_per_value", "needs a value per request: name its column in trace.value_column");
    else if (given != want)
        conf_error_in(c, arr, "demand_per_value", "%u demands per value for %u value columns: give one per column",
                      given, want);
    else
        p->n_per_value = want; /* a wrong element was reported by its getter */
}

bool workload_parse(conf *c, const config_setting_t *group, struct workload_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    p->peak_to_mean = 1.0;
    p->slo_availability = NAN;

    const config_setting_t *arr = conf_group(c, group, "arrivals", true);
    int process = 0;
    conf_get_choice(c, arr, "process", false, process_names, &process);
    if (process == 1) { /* a trace: its own rates; profile, mean_rps and changes do not apply */
        p->traced = true;
        const config_setting_t *tg = conf_group(c, arr, "trace", true);
        trace_parse(c, tg, &p->trace);
        int within = WORKLOAD_POISSON;
        conf_get_choice(c, arr, "within", false, within_names, &within);
        p->within = (enum workload_within)within;
        p->mean_rps = p->trace.mean_rps;
        parse_per_value(c, arr, p);
        conf_get_duration(c, arr, "demand_base", false, CONF_AT_LEAST(0), &p->demand_base);
        /* asked for, even when the trace's own settings failed (then shares are still not wanted) */
        p->trace_classes = p->trace.stream_class[0] != NULL ||
                           (tg && (config_setting_get_member(tg, "class_column") || config_setting_get_member(tg, "classes")));
        static const char *const not_with_trace[] = {"profile", "mean_rps", "changes", "peak_to_mean", "peak_hour"};
        for (size_t i = 0; i < sizeof not_with_trace / sizeof not_with_trace[0]; i++)
            if (arr && config_setting_get_member(arr, not_with_trace[i]))
                conf_error_in(c, arr, not_with_trace[i], "does not apply to a trace (shape it in `trace`: offset, "
                                                         "window, compress, scale, loop)");
    }
    int profile = WORKLOAD_CONSTANT;
    conf_get_choice(c, arr, "profile", false, profile_names, &profile);
    p->profile = (enum workload_profile)profile;
    if (!p->traced) conf_get_double(c, arr, "mean_rps", true, CONF_ABOVE(0), &p->mean_rps);
    const config_setting_t *changes = conf_list(c, arr, "changes", false);
    unsigned nc = changes ? (unsigned)config_setting_length(changes) : 0;
    if (nc > WORKLOAD_MAX_CHANGES) conf_error(c, changes, "at most %d rate changes, got %u", WORKLOAD_MAX_CHANGES, nc);
    for (unsigned i = 0; i < nc && i < WORKLOAD_MAX_CHANGES; i++) {
        const config_setting_t *g = conf_elem_group(c, changes, i);
        if (!g) continue;
        double at = 0, factor = 1;
        bool ok = conf_get_duration(c, g, "at", true, CONF_IN(0, 9e9), &at);
        conf_get_double(c, g, "factor", true, CONF_IN(0, 1000), &factor);
        sim_time t = sim_from_seconds(at);
        if (ok && p->n_changes > 0 && t <= p->changes[p->n_changes - 1].at)
            conf_error_in(c, g, "at", "rate changes must be in time order, %gs is not after the previous one", at);
        p->changes[p->n_changes++] = (struct workload_change){t, factor};
    }
    if (p->profile == WORKLOAD_DIURNAL) {
        p->peak_hour = 12.0;
        conf_get_double(c, arr, "peak_to_mean", true, CONF_IN(1.0, 2.0), &p->peak_to_mean);
        conf_get_double(c, arr, "peak_hour", false, CONF_IN(0.0, 24.0), &p->peak_hour);
    }

    const config_setting_t *classes = conf_list(c, group, "classes", true);
    if (classes) {
        unsigned n = (unsigned)config_setting_length(classes);
        if (n == 0) conf_error(c, classes, "needs at least one request class");
        if (n > WORKLOAD_MAX_CLASSES) {
            conf_error(c, classes, "at most %d classes, got %u", WORKLOAD_MAX_CLASSES, n);
            n = WORKLOAD_MAX_CLASSES;
        }
        double total = 0;
        for (unsigned i = 0; i < n; i++) {
            config_setting_t *g = conf_elem_group(c, classes, i);
            if (!g) continue;
            struct workload_class *k = &p->classes[p->n_classes++];
            k->name = "";
            conf_get_string(c, g, "name", true, &k->name);
            for (unsigned j = 0; j + 1 < p->n_classes; j++)
                if (strcmp(p->classes[j].name, k->name) == 0)
                    conf_error_in(c, g, "name", "duplicate class name \"%s\"", k->name);
            k->share = n == 1 || p->trace_classes ? 1.0 / n : NAN;
            if (p->trace_classes && config_setting_get_member(g, "share"))
                conf_error_in(c, g, "share", "does not apply: the trace gives each request's class");
            else
                conf_get_double(c, g, "share", n > 1 && !p->trace_classes, (struct conf_range){0.0, 1.0, true}, &k->share);
            if (!isnan(k->share)) total += k->share;
            dist_get(c, g, "cpu", CONF_UNIT_SECONDS, true, &k->cpu);
            dist_get(c, g, "response_bytes", CONF_UNIT_BYTES, false, &k->bytes);
        }
        if (conf_errors(c) == before && fabs(total - 1.0) > 1e-9)
            conf_error(c, classes, "class shares must sum to 1, they sum to %.6g", total);
    }
    if (p->trace_classes && conf_errors(c) == before) map_trace_classes(c, arr, p);
    parse_slo(c, conf_group(c, group, "slo", false), p);
    return conf_errors(c) == before;
}

void workload_params_free(struct workload_params *p)
{
    trace_params_free(&p->trace);
    for (unsigned i = 0; i < p->n_classes; i++) {
        dist_free(&p->classes[i].cpu);
        dist_free(&p->classes[i].bytes);
    }
    p->n_classes = 0;
}

double workload_rate(const struct workload_params *p, sim_time t)
{
    double factor = 1.0;
    for (unsigned i = 0; i < p->n_changes && p->changes[i].at <= t; i++) factor = p->changes[i].factor;
    if (p->profile == WORKLOAD_CONSTANT) return p->mean_rps * factor;
    double hour = fmod(sim_to_seconds(t) / 3600.0, 24.0);
    return factor * p->mean_rps * (1.0 + (p->peak_to_mean - 1.0) * cos(two_pi * (hour - p->peak_hour) / 24.0));
}

/* The next interval of the trace: false at its end. */
static bool next_interval(struct workload *w)
{
    const struct workload_params *p = w->p;
    double count[TRACE_MAX_STREAMS];
    if (!w->trace || !trace_next(w->trace, count)) return false;
    w->from = w->to;
    w->to = w->from + sim_from_seconds(p->trace.interval / p->trace.compress);
    double len = sim_to_seconds(w->to - w->from);
    w->rate = 0;
    w->left = 0;
    for (unsigned k = 0; k < p->trace.n_streams; k++) {
        double x = count[k] * p->trace.scale;
        uint64_t n = (uint64_t)floor(x);
        if (x - floor(x) > 0 && gsl_rng_uniform(w->arrivals) < x - floor(x)) n++; /* round at random */
        w->stream_rate[k] = x / len;
        w->stream_left[k] = n;
        w->rate += x / len;
        w->left += n;
    }
    w->done = 0;
    w->u = 0;
    return true;
}

/* The class of the next arrival of a trace with several streams: by the streams' rates (poisson), or
 * one of the arrivals still to come in the interval, each equally likely (exact counts, so that
 * every stream keeps its count: the one drawn is taken from left[]). */
static uint16_t draw_class(struct workload *w, const double *rate, uint64_t *left)
{
    unsigned n = w->p->trace.n_streams, k = 0;
    if (n == 1) return w->p->trace_cls[0];
    double u = gsl_rng_uniform(w->demand);
    if (left) { /* the j-th of the arrivals to come, counted stream by stream */
        uint64_t j = (uint64_t)(u * (double)w->left);
        if (j >= w->left) j = w->left - 1;
        while (j >= left[k]) j -= left[k++];
        left[k]--;
    } else {
        u *= w->rate;
        while (k + 1 < n && u >= rate[k]) u -= rate[k++];
        while (k > 0 && !(rate[k] > 0)) k--; /* rounding carried u past the last stream with a rate */
    }
    return w->p->trace_cls[k];
}

/* The next arrival of a trace at or after now, or -1 when the trace (or the horizon) is over. */
static sim_time next_traced(struct workload *w)
{
    sim_time t = sim_now(w->s);
    if (w->p->trace.format == TRACE_TIMESTAMPS_CSV) { /* requests at their own times, scaled by copies */
        while (w->copies == 0) {
            double at, v[TRACE_MAX_VALUES] = {0}, k = w->p->trace.scale;
            unsigned stream;
            if (!w->trace || !trace_next_request(w->trace, &at, v, &stream)) return -1;
            w->copies = (uint64_t)floor(k);
            if (k - floor(k) > 0 && gsl_rng_uniform(w->arrivals) < k - floor(k)) w->copies++;
            w->req_t = sim_from_seconds(w->p->trace.lead_s + at);
            memcpy(w->req_value, v, sizeof w->req_value);
            w->req_cls = w->p->trace_cls[stream];
        }
        w->copies--;
        memcpy(w->next_value, w->req_value, sizeof w->next_value);
        w->next_cls = w->req_cls;
        return w->req_t > t ? w->req_t : t;
    }
    for (;;) {
        if (t >= w->to && !next_interval(w)) return -1;
        if (t < w->from) t = w->from;
        double len = sim_to_seconds(w->to - w->from);
        if (w->p->within == WORKLOAD_POISSON) {
            double gap = w->rate > 0 ? dist_exp(w->arrivals, 1.0 / w->rate) : INFINITY;
            if (gap >= sim_to_seconds(w->to - t)) {
                t = w->to;
                continue;
            }
            if (w->p->trace_classes) w->next_cls = draw_class(w, w->stream_rate, NULL);
            return t + sim_from_seconds(gap);
        }
        if (w->left == 0) {
            t = w->to;
            continue;
        }
        double at; /* position in the interval, [0, 1) */
        if (w->p->within == WORKLOAD_EVEN) {
            uint64_t n = w->done + w->left;
            at = ((double)w->done + 0.5) / (double)n;
        } else { /* the next of `left` sorted uniforms on [u, 1) */
            w->u += (1.0 - w->u) * (1.0 - pow(gsl_rng_uniform_pos(w->arrivals), 1.0 / (double)w->left));
            at = w->u;
        }
        if (w->p->trace_classes) w->next_cls = draw_class(w, NULL, w->stream_left);
        w->left--;
        w->done++;
        sim_time a = w->from + sim_from_seconds(at * len);
        return a > t ? a : t;
    }
}

/* Draws candidate arrivals at an envelope rate and keeps each with probability rate(t) / envelope
 * (thinning, Lewis and Shedler 1979), so the kept ones form a Poisson process of rate rate(t). The
 * envelope is the profile's highest rate times the factor in force, piece by piece between rate
 * changes: a candidate gap that crosses a change is dropped and the draw restarts at the change (the
 * exponential has no memory), so a flash crowd of 100x costs nothing outside its own interval. */
static void schedule_next(struct workload *w)
{
    sim *s = w->s;
    const struct workload_params *p = w->p;
    sim_time t = sim_now(s), horizon = sim_horizon(s);
    if (p->traced) {
        t = next_traced(w);
        if (t >= 0 && t <= horizon) sim_schedule_at(s, t, w->id, EV_ARRIVAL, NULL, 0);
        return;
    }
    for (;;) {
        double factor = w->seg ? p->changes[w->seg - 1].factor : 1.0, bound = w->base_max * factor;
        sim_time end = w->seg < p->n_changes && p->changes[w->seg].at < horizon ? p->changes[w->seg].at : horizon;
        double gap = bound > 0 ? dist_exp(w->arrivals, 1.0 / bound) : INFINITY;
        if (gap >= sim_to_seconds(end - t)) { /* no candidate before the next change (or the horizon) */
            if (end >= horizon) return;
            t = end;
            w->seg++;
            continue;
        }
        t += sim_from_seconds(gap);
        if (t >= end) continue; /* rounding put it on the change: draw again from there */
        if (p->profile == WORKLOAD_CONSTANT || gsl_rng_uniform(w->arrivals) * bound < workload_rate(p, t)) break;
    }
    sim_schedule_at(s, t, w->id, EV_ARRIVAL, NULL, 0);
}

static void on_arrival(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct workload *w = self;
    struct request r = {.id = w->n++, .arrival = sim_now(s), .cls = w->next_cls};
    if (w->p->n_classes > 1 && !w->p->trace_classes) {
        double u = gsl_rng_uniform(w->demand);
        unsigned k = 0;
        while (k + 1 < w->p->n_classes && u >= w->cum_share[k]) k++;
        r.cls = (uint16_t)k;
    }
    const struct workload_class *k = &w->p->classes[r.cls];
    r.demand = dist_sample(&k->cpu, w->demand);
    if (w->p->n_per_value > 0) { /* the trace's own measure of the work */
        r.demand = w->p->demand_base;
        for (unsigned i = 0; i < w->p->n_per_value; i++) r.demand += w->p->demand_per_value[i] * w->next_value[i];
    }
    if (k->bytes.kind != DIST_NONE) {
        double bytes = dist_sample(&k->bytes, w->demand);
        r.bytes = bytes < 4294967295.0 ? (uint32_t)bytes : UINT32_MAX;
    }
    schedule_next(w);
    w->sink(w->sink_ctx, &r);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_arrival};
static const char *const kind_names[N_KINDS] = {"arrival"};
static const sim_model_ops ops = {"workload", N_KINDS, handlers, kind_names, NULL};

struct workload *workload_create(sim *s, const struct workload_params *p, workload_sink_fn *sink,
                                 void *sink_ctx)
{
    struct workload *w = sim_xcalloc(1, sizeof *w);
    w->s = s;
    w->p = p;
    w->sink = sink;
    w->sink_ctx = sink_ctx;
    w->arrivals = sim_rng(s, "workload/arrivals");
    w->demand = sim_rng(s, "workload/demand");
    w->base_max = p->mean_rps * (p->profile == WORKLOAD_DIURNAL ? p->peak_to_mean : 1.0);
    while (w->seg < p->n_changes && p->changes[w->seg].at <= sim_now(s)) w->seg++;
    double cum = 0;
    for (unsigned k = 0; k < p->n_classes; k++) w->cum_share[k] = cum += p->classes[k].share;
    w->id = sim_register(s, &ops, w);
    if (p->traced) {
        w->trace = trace_open(&p->trace);
        w->from = w->to = sim_now(s) + sim_from_seconds(p->trace.lead_s);
    }
    schedule_next(w);
    return w;
}

void workload_destroy(struct workload *w)
{
    if (!w) return;
    trace_close(w->trace);
    free(w);
}

uint64_t workload_arrivals(const struct workload *w) { return w->n; }
