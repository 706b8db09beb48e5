/* study.c: parse a study, run designs x replications, write the results file. See study.h. */
#include "study.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef STRATO_HAVE_MPI
#include <mpi.h>
#endif

#include "h5out.h"
#include "metrics.h"
#include "stats.h"

#define FORMAT_VERSION 2

static const char *const kind_names[] = {"onprem", "cloud", "serverless", "hybrid", NULL};

/* ---- parsing ------------------------------------------------------------------------------- */

static void design_params_free(struct design_params *d)
{
    switch (d->kind) {
    case DESIGN_ONPREM: onprem_params_free(&d->u.onprem); break;
    case DESIGN_CLOUD: cloud_params_free(&d->u.cloud); break;
    case DESIGN_SERVERLESS: lambda_params_free(&d->u.lambda); break;
    case DESIGN_HYBRID: hybrid_params_free(&d->u.hybrid); break;
    }
}

static void design_params_free(struct design_params *d);

static bool parse_design(conf *c, config_setting_t *g, const struct ec2_catalog *cat, const struct workload_params *w,
                         struct design_params *d)
{
    int before = conf_errors(c);
    d->name = "";
    d->description = "";
    conf_get_string(c, g, "name", true, &d->name);
    conf_get_string(c, g, "description", false, &d->description);
    if (d->name[0] == '\0' || strchr(d->name, '/') || strchr(d->name, '.'))
        conf_error_in(c, g, "name", "a design needs a non-empty name without '/' or '.'");
    int kind = 0;
    if (!conf_get_choice(c, g, "kind", true, kind_names, &kind)) return false;
    d->kind = (enum design_kind)kind;
    switch (d->kind) {
    case DESIGN_ONPREM: onprem_parse(c, g, &d->u.onprem); break;
    case DESIGN_CLOUD: cloud_parse(c, g, cat, &d->u.cloud); break;
    case DESIGN_SERVERLESS: lambda_parse(c, g, w, &d->u.lambda); break;
    case DESIGN_HYBRID: hybrid_parse(c, g, cat, w, &d->u.hybrid); break;
    }
    return conf_errors(c) == before;
}

/* Keeps design p->designs[p->n_designs] (parsed from g) after checking its name is new. */
static void add_design(conf *c, const config_setting_t *g, struct study_params *p)
{
    const struct design_params *d = &p->designs[p->n_designs];
    for (unsigned j = 0; j < p->n_designs; j++)
        if (strcmp(p->designs[j].name, d->name) == 0) conf_error_in(c, g, "name", "duplicate design name \"%s\"", d->name);
    p->n_designs++;
}

static char *own(struct study_params *p, char *text)
{
    if (p->n_owned < sizeof p->owned / sizeof p->owned[0]) p->owned[p->n_owned++] = text;
    return text;
}

/* The names of the members of group g (for a "did you mean"), into names[max]; returns how many. */
static size_t member_names(const config_setting_t *g, const char **names, size_t max)
{
    size_t n = 0;
    for (int i = 0; g && i < config_setting_length(g) && n < max; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        if (m && config_setting_name(m)) names[n++] = config_setting_name(m);
    }
    return n;
}

/* A value of a sweep list as text for a variant's name and its values ("c6i.large", "50"). */
static void value_text(const config_setting_t *v, char *buf, size_t len)
{
    switch (config_setting_type(v)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: snprintf(buf, len, "%lld", config_setting_get_int64(v)); break;
    case CONFIG_TYPE_FLOAT: snprintf(buf, len, "%g", config_setting_get_float(v)); break;
    case CONFIG_TYPE_BOOL: snprintf(buf, len, "%s", config_setting_get_bool(v) ? "true" : "false"); break;
    case CONFIG_TYPE_STRING: snprintf(buf, len, "%s", config_setting_get_string(v)); break;
    default: snprintf(buf, len, "?"); break;
    }
}

#define SWEEP_MAX 8 /* swept settings per design */

/* A sweep gone wrong: reads the design as written, for its own mistakes (and so that its settings
 * count as read), and keeps nothing. */
static void read_and_discard(conf *c, config_setting_t *g, struct study_params *p)
{
    struct design_params *d = &p->designs[p->n_designs];
    parse_design(c, g, &p->catalog, &p->workload, d);
    design_params_free(d);
    memset(d, 0, sizeof *d);
}

/* A design with a `sweep`: every variant is set in the design's settings and parsed as a design of its
 * own, named "<name>-<value>-<value>..." ('.' and '/' become '_'). */
static void expand_sweep(conf *c, config_setting_t *g, struct study_params *p)
{
    static const char *const modes[] = {"cross", "zip", NULL};
    int mode = 0;
    conf_get_choice(c, g, "sweep_mode", false, modes, &mode);
    const config_setting_t *list = conf_list(c, g, "sweep", true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (list && n == 0) conf_error(c, list, "needs at least one { setting; values; }");
    if (n > SWEEP_MAX) {
        conf_error(c, list, "at most %d swept settings, got %u", SWEEP_MAX, n);
        return;
    }
    config_setting_t *target[SWEEP_MAX];
    const config_setting_t *values[SWEEP_MAX];
    const char *path[SWEEP_MAX];
    unsigned count[SWEEP_MAX];
    struct { double from, step; } range[SWEEP_MAX]; /* when values[j] is NULL: from + i step */
    size_t variants = n ? 1 : 0;
    int before = conf_errors(c);
    for (unsigned j = 0; j < n; j++) {
        const config_setting_t *e = conf_elem_group(c, list, j);
        path[j] = NULL;
        values[j] = NULL;
        if (!e) continue;
        conf_get_string(c, e, "setting", true, &path[j]);
        range[j].step = 0;
        if (!config_setting_get_member(e, "values") && config_setting_get_member(e, "from")) { /* a range */
            double to = 0;
            bool ok = conf_get_double(c, e, "from", true, CONF_ANY, &range[j].from) &&
                      conf_get_double(c, e, "to", true, CONF_ANY, &to) &&
                      conf_get_double(c, e, "step", true, CONF_ABOVE(0), &range[j].step);
            if (ok && to < range[j].from) conf_error_in(c, e, "to", "must not be below from (%g), got %g", range[j].from, to);
            double steps = ok && to >= range[j].from ? floor((to - range[j].from) / range[j].step + 1e-9) : -1;
            if (steps > 999) conf_error_in(c, e, "step", "gives %.0f values: at most 1000", steps + 1);
            count[j] = steps >= 0 && steps <= 999 ? (unsigned)steps + 1 : 0;
            if (!count[j]) range[j].step = 0;
        } else {
            values[j] = conf_list(c, e, "values", true);
            count[j] = values[j] ? (unsigned)config_setting_length(values[j]) : 0;
            if (values[j] && count[j] == 0) conf_error(c, values[j], "an empty list of values: give at least one");
        }
        if (!path[j]) continue;
        target[j] = config_setting_lookup(g, path[j]);
        if (!target[j]) {
            char parent[512];
            snprintf(parent, sizeof parent, "%s", path[j]);
            char *dot = strrchr(parent, '.');
            const char *leaf = dot ? dot + 1 : parent;
            if (dot) *dot = '\0';
            const config_setting_t *pg = dot ? config_setting_lookup(g, parent) : g;
            const char *names[64];
            const char *guess = conf_nearest(leaf, names, member_names(pg, names, 64));
            if (guess) conf_error_in(c, e, "setting", "the design has no setting %s; did you mean \"%s%s%s\"?", path[j],
                                     dot ? parent : "", dot ? "." : "", guess);
            else conf_error_in(c, e, "setting", "the design has no setting %s (a sweep changes settings the design "
                                                "sets)", path[j]);
        } else if (config_setting_is_aggregate(target[j])) {
            conf_error_in(c, e, "setting", "%s is not a single value", path[j]);
        }
        for (unsigned k = 0; k < j; k++)
            if (path[k] && !strcmp(path[k], path[j])) conf_error_in(c, e, "setting", "%s is swept twice", path[j]);
        if (mode == 1 && j > 0 && count[j] != count[0])
            conf_error_in(c, e, "values", "zip needs lists of one length: %u values here, %u in the first", count[j],
                          count[0]);
        variants = mode == 1 ? count[0] : variants * count[j];
    }
    if (conf_errors(c) == before && p->n_designs + variants > STUDY_MAX_DESIGNS)
        conf_error(c, list, "%zu variants: the study would have more than %d designs", variants, STUDY_MAX_DESIGNS);
    if (conf_errors(c) != before) {
        read_and_discard(c, g, p);
        return;
    }
    const char *base = NULL;
    conf_get_string(c, g, "name", true, &base);
    for (size_t v = 0; v < variants; v++) {
        char name[512], swept[1024], text[128];
        snprintf(name, sizeof name, "%s", base ? base : "");
        swept[0] = '\0';
        size_t rest = v;
        bool ok = true;
        for (unsigned j = 0; j < n; j++) { /* the last setting varies fastest */
            size_t stride = 1;
            for (unsigned k = j + 1; mode == 0 && k < n; k++) stride *= count[k];
            unsigned i = mode == 1 ? (unsigned)v : (unsigned)(rest / stride);
            if (mode == 0) rest %= stride;
            if (values[j]) {
                ok = conf_set_from(c, target[j], values[j], i) && ok;
                value_text(config_setting_get_elem(values[j], i), text, sizeof text);
            } else {
                double x = range[j].from + i * range[j].step;
                ok = conf_set_number(c, target[j], x, config_setting_get_elem(list, j)) && ok;
                snprintf(text, sizeof text, "%g", x);
            }
            size_t at = strlen(name);
            snprintf(name + at, sizeof name - at, "-%s", text);
            at = strlen(swept);
            snprintf(swept + at, sizeof swept - at, "%s%s=%s", j ? ", " : "", path[j], text);
        }
        if (!ok) {
            read_and_discard(c, g, p);
            return;
        }
        for (char *q = name; *q; q++)
            if (*q == '.' || *q == '/') *q = '_';
        struct design_params *d = &p->designs[p->n_designs];
        if (!parse_design(c, g, &p->catalog, &p->workload, d)) {
            design_params_free(d);
            return;
        }
        d->name = own(p, sim_xstrdup(name));
        d->swept = own(p, sim_xstrdup(swept));
        d->base = base;
        add_design(c, g, p);
    }
}

bool study_parse(conf *c, const struct study_overrides *ov, struct study_params *p)
{
    memset(p, 0, sizeof *p);
    config_setting_t *root = conf_root(c);
    config_setting_t *st = conf_group(c, root, "study", true);
    p->name = "study";
    conf_get_string(c, st, "name", false, &p->name);
    double horizon = 3600, interval = 60, warmup = 0;
    conf_get_duration(c, st, "horizon", true, CONF_IN(1e-6, 9e9), &horizon);
    conf_get_duration(c, st, "report_interval", false, CONF_IN(1e-6, 9e9), &interval);
    const config_setting_t *wu = st ? config_setting_get_member(st, "warmup") : NULL;
    const char *wtext = wu ? config_setting_get_string(wu) : NULL;
    if (wtext && strcmp(wtext, "auto") == 0) {
        p->warmup_auto = true;
        conf_get_string(c, st, "warmup", false, &wtext); /* marks it read */
    } else {
        conf_get_duration(c, st, "warmup", false, CONF_IN(0, 9e9), &warmup);
    }
    int64_t reps = 1, seed = 1;
    conf_get_int(c, st, "replications", false, 1, 100000, &reps);
    conf_get_int(c, st, "seed", false, 0, INT64_MAX, &seed);
    if (ov) { /* main has checked their form and range */
        if (ov->has_replications) reps = ov->replications;
        if (ov->has_seed) seed = (int64_t)ov->seed;
        if (ov->has_horizon) horizon = ov->horizon_s;
    }
    p->horizon = sim_from_seconds(horizon);
    p->interval = sim_from_seconds(interval);
    p->warmup = sim_from_seconds(warmup);
    p->replications = (uint32_t)reps;
    p->seed = ov && ov->has_seed ? ov->seed : (uint64_t)seed;
    if (st && p->interval > p->horizon)
        conf_error_in(c, st, "report_interval", "must not exceed the horizon (%g s), got %g s",
                      sim_to_seconds(p->horizon), interval);
    if (st && p->warmup >= p->horizon)
        conf_error_in(c, st, "warmup", "must be shorter than the horizon (%g s), got %g s",
                      sim_to_seconds(p->horizon), warmup);

    workload_parse(c, conf_group(c, root, "workload", true), &p->workload);
    ec2_catalog_parse(c, false, &p->catalog);

    config_setting_t *designs = conf_list(c, root, "designs", true);
    unsigned n = designs ? (unsigned)config_setting_length(designs) : 0;
    if (designs && n == 0) conf_error(c, designs, "needs at least one design");
    if (n > STUDY_MAX_DESIGNS) {
        conf_error(c, designs, "at most %d designs, got %u", STUDY_MAX_DESIGNS, n);
        n = STUDY_MAX_DESIGNS;
    }
    const config_setting_t *first_billed = NULL; /* the first cloud or serverless design */
    bool cloud_in_text = false;
    for (unsigned i = 0; i < n; i++) {
        config_setting_t *g = conf_elem_group(c, designs, i);
        if (!g) continue;
        const char *kind = NULL;
        struct design_params *d = &p->designs[p->n_designs];
        if (config_setting_lookup_string(g, "kind", &kind) && strcmp(kind, "onprem") != 0) {
            if (!first_billed) first_billed = g;
            cloud_in_text = cloud_in_text || strcmp(kind, "cloud") == 0;
        }
        if (config_setting_get_member(g, "sweep")) {
            expand_sweep(c, g, p);
            continue;
        }
        if (!parse_design(c, g, &p->catalog, &p->workload, d)) {
            design_params_free(d);
            continue;
        }
        add_design(c, g, p);
    }

    bool told = cloud_in_text && p->catalog.n == 0; /* a cloud design without instance types got the include hint */
    if (first_billed && !config_setting_get_member(root, "prices") && !told)
        conf_error_in(c, first_billed, "kind", "this design needs the prices of its region: the study must @include "
                      "configs/catalog/us-east-1.cfg by a path relative to the study file (from configs/examples/: "
                      "@include \"../catalog/us-east-1.cfg\")");
    else cost_prices_parse(c, false, &p->prices);
    for (unsigned d = 0; d < p->n_designs && config_setting_get_member(root, "prices"); d++)
        if (p->designs[d].kind == DESIGN_SERVERLESS && p->prices.n_duration[0] == 0) {
            conf_error(c, config_setting_get_member(root, "prices"), "a serverless design needs Lambda prices: add a "
                       "`lambda` group (see configs/catalog/us-east-1.cfg)");
            break;
        }

    const char *baseline = NULL;
    conf_get_string(c, st, "baseline", false, &baseline);
    p->baseline = 0;
    if (baseline) {
        unsigned j = 0;
        while (j < p->n_designs && strcmp(p->designs[j].name, baseline) != 0) j++;
        if (j == p->n_designs && conf_errors(c) == 0)
            conf_error_in(c, st, "baseline", "no design is called \"%s\"", baseline);
        p->baseline = j < p->n_designs ? j : 0;
    }
    bool bad_override = false;
    if (ov && ov->design && conf_errors(c) == 0) {
        unsigned j = 0;
        while (j < p->n_designs && strcmp(p->designs[j].name, ov->design) != 0) j++;
        if (j == p->n_designs) {
            fprintf(stderr, "strato: --design: %s has no design called \"%s\"\n", conf_file_name(c), ov->design);
            bad_override = true;
        } else if (j != p->baseline) { /* keep the baseline first, then the chosen design */
            p->designs[0] = p->designs[p->baseline];
            p->designs[1] = p->designs[j];
            p->n_designs = 2;
            p->baseline = 0;
        } else {
            p->designs[0] = p->designs[j];
            p->n_designs = 1;
            p->baseline = 0;
        }
    }
    conf_check_unused(c);
    return conf_errors(c) == 0 && !bad_override;
}

void study_params_free(struct study_params *p)
{
    for (unsigned d = 0; d < p->n_designs; d++) design_params_free(&p->designs[d]);
    for (unsigned i = 0; i < p->n_owned; i++) free(p->owned[i]);
    workload_params_free(&p->workload);
    ec2_catalog_free(&p->catalog);
}

/* ---- summary metrics ----------------------------------------------------------------------- */

enum {
    M_THROUGHPUT, M_AVAILABILITY, M_LATENCY_MEAN, M_LATENCY_P50, M_LATENCY_P99, M_LATENCY_P999,
    M_WAIT_MEAN, M_P_WAIT, M_UTILIZATION, M_SLO_LATENCY, M_SLO_MET, M_SLO_ATTAINMENT, M_COST, M_COST_MONTH,
    M_COST_MILLION, N_METRICS
};

static const struct {
    const char *name, *unit;
} metric_info[N_METRICS] = {
    {"throughput_rps", "1/s"}, {"availability", "fraction"}, {"latency_mean_s", "s"},
    {"latency_p50_s", "s"},    {"latency_p99_s", "s"},       {"latency_p999_s", "s"},
    {"wait_mean_s", "s"},      {"p_wait", "fraction"},       {"utilization", "fraction"},
    {"latency_slo_s", "s"},    {"slo_met", "fraction"},      {"slo_attainment", "fraction"}, {"cost_usd", "USD"},
    {"cost_per_month_usd", "USD"}, {"cost_per_million_usd", "USD"},
};

struct study_result {
    unsigned n_designs;
    uint32_t replications;
    uint32_t done[STUDY_MAX_DESIGNS]; /* replications completed per design */
    double *v;                        /* [design][metric][replication] */
};

static double *value(const struct study_result *r, unsigned d, unsigned m, uint32_t rep)
{
    return &r->v[((size_t)d * N_METRICS + m) * r->replications + rep];
}

/* Whether a design books costs: cloud and serverless always, onprem with a tco group. */
static bool design_billed(const struct design_params *d) { return d->kind != DESIGN_ONPREM || d->u.onprem.tco.given; }

static bool metric_used(const struct study_params *p, unsigned m)
{
    if (m == M_COST || m == M_COST_MONTH || m == M_COST_MILLION) {
        for (unsigned d = 0; d < p->n_designs; d++)
            if (design_billed(&p->designs[d])) return true;
        return false;
    }
    if (m == M_SLO_LATENCY || m == M_SLO_ATTAINMENT) return p->workload.slo_quantile > 0;
    if (m == M_SLO_MET) return p->workload.slo_quantile > 0 || !isnan(p->workload.slo_availability);
    return true;
}

static void run_values(const struct study_params *p, const struct metrics_totals *t, double *out)
{
    uint64_t resolved = t->successes + t->errors;
    bool any = t->successes > 0;
    out[M_THROUGHPUT] = t->measured_s > 0 ? (double)t->successes / t->measured_s : NAN;
    out[M_AVAILABILITY] = resolved ? (double)t->successes / (double)resolved : NAN;
    out[M_LATENCY_MEAN] = any ? stats_hist_mean(&t->latency) : NAN;
    out[M_LATENCY_P50] = any ? stats_hist_quantile(&t->latency, 0.50) : NAN;
    out[M_LATENCY_P99] = any ? stats_hist_quantile(&t->latency, 0.99) : NAN;
    out[M_LATENCY_P999] = any ? stats_hist_quantile(&t->latency, 0.999) : NAN;
    out[M_WAIT_MEAN] = any ? stats_acc_mean(&t->wait) : NAN;
    out[M_P_WAIT] = any ? (double)t->waited / (double)t->successes : NAN;
    out[M_UTILIZATION] = t->core_seconds > 0 ? t->busy_core_seconds / t->core_seconds : NAN;
    const struct workload_params *w = &p->workload;
    out[M_SLO_LATENCY] = any && w->slo_quantile > 0 ? stats_hist_quantile(&t->latency, w->slo_quantile) : NAN;
    bool met = true;
    if (w->slo_quantile > 0) met = met && any && out[M_SLO_LATENCY] <= w->slo_latency;
    if (!isnan(w->slo_availability)) met = met && resolved && out[M_AVAILABILITY] >= w->slo_availability;
    out[M_SLO_MET] = met ? 1.0 : 0.0;
    out[M_SLO_ATTAINMENT] = t->slo_intervals ? (double)t->slo_intervals_met / (double)t->slo_intervals : NAN;
    out[M_COST] = t->cost_usd; /* NaN for designs that book no costs */
    out[M_COST_MONTH] = t->measured_s > 0 ? t->cost_usd / t->measured_s * COST_MONTH_S : NAN;
    out[M_COST_MILLION] = t->successes ? t->cost_usd / (double)t->successes * 1e6 : NAN;
}

/* ---- output -------------------------------------------------------------------------------- */

/* The series columns: fixed ones, then one per error reason, instance state and zone. */
enum { N_SERIES_COLS = 36 + METRICS_N_ERRORS + 4 + METRICS_ZONES + 2 * COST_N_CATEGORIES };
struct series_layout {
    char names[METRICS_N_ERRORS + METRICS_ZONES + 2 * COST_N_CATEGORIES][48];
    struct h5out_col cols[N_SERIES_COLS];
    size_t n;
};

#define ROW_COL(field, type) ((struct h5out_col){#field, type, offsetof(struct metrics_row, field), NULL, 0})
static void build_series_layout(struct series_layout *l)
{
    size_t n = 0;
    l->cols[n++] = ROW_COL(t_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(arrivals, H5OUT_U64);
    l->cols[n++] = ROW_COL(successes, H5OUT_U64);
    l->cols[n++] = ROW_COL(errors, H5OUT_U64);
    for (int e = 0; e < METRICS_N_ERRORS; e++) {
        snprintf(l->names[e], sizeof l->names[e], "errors_%s", metrics_error_names[e]);
        l->cols[n++] = (struct h5out_col){l->names[e], H5OUT_U64,
                                          offsetof(struct metrics_row, errors_by) + e * sizeof(uint64_t), NULL, 0};
    }
    l->cols[n++] = ROW_COL(in_flight, H5OUT_U64);
    l->cols[n++] = ROW_COL(latency_mean_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(latency_slo_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(latency_p50_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(latency_p90_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(latency_p99_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(latency_p999_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(latency_max_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(wait_mean_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(utilization, H5OUT_F64);
    static const char *const states[4] = {"instances_pending", "instances_running", "instances_draining",
                                          "instances_down"};
    for (int i = 0; i < 4; i++)
        l->cols[n++] = (struct h5out_col){states[i], H5OUT_F64,
                                          offsetof(struct metrics_row, instances) + i * sizeof(double), NULL, 0};
    for (int z = 0; z < METRICS_ZONES; z++) {
        char *name = l->names[METRICS_N_ERRORS + z];
        snprintf(name, sizeof l->names[0], "healthy_targets_az%d", z);
        l->cols[n++] = (struct h5out_col){name, H5OUT_F64,
                                          offsetof(struct metrics_row, healthy_targets) + z * sizeof(double), NULL, 0};
    }
    l->cols[n++] = ROW_COL(cross_zone_bytes, H5OUT_U64);
    l->cols[n++] = ROW_COL(desired, H5OUT_F64);
    l->cols[n++] = ROW_COL(scaling_metric, H5OUT_F64);
    l->cols[n++] = ROW_COL(capacity_on_demand, H5OUT_F64);
    l->cols[n++] = ROW_COL(capacity_spot, H5OUT_F64);
    static const char *const group_cols[6] = {"group_on_demand_pending", "group_on_demand_in_service",
                                              "group_on_demand_terminating", "group_spot_pending",
                                              "group_spot_in_service", "group_spot_terminating"};
    for (int k = 0; k < 6; k++)
        l->cols[n++] = (struct h5out_col){group_cols[k], H5OUT_F64,
                                          offsetof(struct metrics_row, group) + k * sizeof(double), NULL, 0};
    for (int k = 0; k < COST_N_CATEGORIES; k++) {
        char *usd = l->names[METRICS_N_ERRORS + METRICS_ZONES + 2 * k], *rate = usd + sizeof l->names[0];
        snprintf(usd, sizeof l->names[0], "cost_%s_usd", cost_category_names[k]);
        snprintf(rate, sizeof l->names[0], "cost_rate_%s_usd_per_h", cost_category_names[k]);
        l->cols[n++] = (struct h5out_col){usd, H5OUT_F64, offsetof(struct metrics_row, cost_usd) + k * sizeof(double), NULL, 0};
        l->cols[n++] = (struct h5out_col){rate, H5OUT_F64, offsetof(struct metrics_row, cost_rate) + k * sizeof(double), NULL, 0};
    }
    l->cols[n++] = (struct h5out_col){"cost_usd", H5OUT_F64, offsetof(struct metrics_row, cost_total_usd), NULL, 0};
    l->cols[n++] = (struct h5out_col){"cost_rate_usd_per_h", H5OUT_F64, offsetof(struct metrics_row, cost_total_rate), NULL, 0};
    l->cols[n++] = ROW_COL(lambda_invocations, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_cold_starts, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_throttles, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_concurrency_max, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_concurrency_mean, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_init_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_billed_gb_s, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_envs_idle, H5OUT_F64);
    l->cols[n++] = ROW_COL(lambda_envs_busy, H5OUT_F64);
    l->n = n;
}

static const struct h5out_col event_cols[] = {
    {"t_s", H5OUT_F64, offsetof(struct metrics_event, t_s), NULL, 0},
    {"kind", H5OUT_ENUM, offsetof(struct metrics_event, kind), metrics_event_names, METRICS_N_EVENT_KINDS},
    {"az", H5OUT_I64, offsetof(struct metrics_event, az), NULL, 0},
    {"id", H5OUT_I64, offsetof(struct metrics_event, id), NULL, 0},
    {"value", H5OUT_F64, offsetof(struct metrics_event, value), NULL, 0},
};

struct summary_row {
    const char *design, *metric, *unit;
    double mean, ci95_lo, ci95_hi;
    uint32_t n;
};
static const struct h5out_col summary_cols[] = {
    {"design", H5OUT_STR, offsetof(struct summary_row, design), NULL, 0},
    {"metric", H5OUT_STR, offsetof(struct summary_row, metric), NULL, 0},
    {"unit", H5OUT_STR, offsetof(struct summary_row, unit), NULL, 0},
    {"mean", H5OUT_F64, offsetof(struct summary_row, mean), NULL, 0},
    {"ci95_lo", H5OUT_F64, offsetof(struct summary_row, ci95_lo), NULL, 0},
    {"ci95_hi", H5OUT_F64, offsetof(struct summary_row, ci95_hi), NULL, 0},
    {"n", H5OUT_U32, offsetof(struct summary_row, n), NULL, 0},
};

struct comparison_row {
    const char *design, *baseline, *metric, *unit;
    double mean_diff, ci95_lo, ci95_hi;
    uint32_t n;
};
static const struct h5out_col comparison_cols[] = {
    {"design", H5OUT_STR, offsetof(struct comparison_row, design), NULL, 0},
    {"baseline", H5OUT_STR, offsetof(struct comparison_row, baseline), NULL, 0},
    {"metric", H5OUT_STR, offsetof(struct comparison_row, metric), NULL, 0},
    {"unit", H5OUT_STR, offsetof(struct comparison_row, unit), NULL, 0},
    {"mean_diff", H5OUT_F64, offsetof(struct comparison_row, mean_diff), NULL, 0},
    {"ci95_lo", H5OUT_F64, offsetof(struct comparison_row, ci95_lo), NULL, 0},
    {"ci95_hi", H5OUT_F64, offsetof(struct comparison_row, ci95_hi), NULL, 0},
    {"n", H5OUT_U32, offsetof(struct comparison_row, n), NULL, 0},
};

/* A fraction lies in [0, 1] and a difference of fractions in [-1, 1]: a t interval on data near a
 * bound can reach past it, and the part beyond holds no possible value. */
static struct stats_ci bounded(struct stats_ci ci, unsigned m, double lo)
{
    if (strcmp(metric_info[m].unit, "fraction") != 0 || isnan(ci.lo)) return ci;
    ci.lo = ci.lo < lo ? lo : ci.lo;
    ci.hi = ci.hi > 1.0 ? 1.0 : ci.hi;
    return ci;
}

/* The finite values of metric m of design d over its completed replications, into buf. */
static size_t collect(const struct study_result *r, unsigned d, unsigned m, double *buf)
{
    size_t n = 0;
    for (uint32_t rep = 0; rep < r->done[d]; rep++)
        if (isfinite(*value(r, d, m, rep))) buf[n++] = *value(r, d, m, rep);
    return n;
}

/* Paired differences design - baseline of metric m over replications both completed. */
static size_t collect_diff(const struct study_result *r, unsigned d, unsigned b, unsigned m, double *buf)
{
    size_t n = 0;
    uint32_t both = r->done[d] < r->done[b] ? r->done[d] : r->done[b];
    for (uint32_t rep = 0; rep < both; rep++) {
        double x = *value(r, d, m, rep) - *value(r, b, m, rep);
        if (isfinite(x)) buf[n++] = x;
    }
    return n;
}

struct sweep_row {
    const char *design, *base, *values, *verdict;
    double cost[3], latency[3], availability[3], attainment[3]; /* mean, ci95_lo, ci95_hi */
};
#define SWEEP_COL(name, field, i)                                                                             \
    {name, H5OUT_F64, offsetof(struct sweep_row, field) + (i) * sizeof(double), NULL, 0}
static const struct h5out_col sweep_cols[] = {
    {"design", H5OUT_STR, offsetof(struct sweep_row, design), NULL, 0},
    {"base", H5OUT_STR, offsetof(struct sweep_row, base), NULL, 0},
    {"values", H5OUT_STR, offsetof(struct sweep_row, values), NULL, 0},
    {"verdict", H5OUT_STR, offsetof(struct sweep_row, verdict), NULL, 0},
    SWEEP_COL("cost_per_month_usd", cost, 0), SWEEP_COL("cost_per_month_usd_lo", cost, 1),
    SWEEP_COL("cost_per_month_usd_hi", cost, 2), SWEEP_COL("latency_slo_s", latency, 0),
    SWEEP_COL("latency_slo_s_lo", latency, 1), SWEEP_COL("latency_slo_s_hi", latency, 2),
    SWEEP_COL("availability", availability, 0), SWEEP_COL("availability_lo", availability, 1),
    SWEEP_COL("availability_hi", availability, 2), SWEEP_COL("slo_attainment", attainment, 0),
    SWEEP_COL("slo_attainment_lo", attainment, 1), SWEEP_COL("slo_attainment_hi", attainment, 2),
};

static const char *const verdict_names[] = {"meets", "unclear", "fails"};
static struct stats_ci metric_ci(const struct study_result *r, unsigned d, unsigned m, double *buf);

/* /sweep: one row per sweep variant, its values and key results with 95% CIs. */
static void write_sweep(struct h5out *o, const struct study_params *p, const struct study_result *r, double *buf)
{
    bool any = false;
    for (unsigned d = 0; d < p->n_designs; d++) any = any || p->designs[d].swept;
    if (!any) return;
    struct h5out_table *t = h5out_table_create(o, h5out_root(o), "sweep", sweep_cols,
                                               sizeof sweep_cols / sizeof sweep_cols[0], sizeof(struct sweep_row), 64);
    bool slo = p->workload.slo_quantile > 0;
    for (unsigned d = 0; t && d < p->n_designs; d++) {
        const struct design_params *dp = &p->designs[d];
        if (!dp->swept) continue;
        struct sweep_row row = {dp->name, dp->base, dp->swept, verdict_names[study_verdict(p, r, d)], {0}, {0}, {0}, {0}};
        struct stats_ci ci[4] = {metric_ci(r, d, M_COST_MONTH, buf), metric_ci(r, d, slo ? M_SLO_LATENCY : M_LATENCY_P99, buf),
                                 metric_ci(r, d, M_AVAILABILITY, buf),
                                 slo ? metric_ci(r, d, M_SLO_ATTAINMENT, buf) : (struct stats_ci){.mean = NAN, .lo = NAN, .hi = NAN}};
        double *cols[4] = {row.cost, row.latency, row.availability, row.attainment};
        for (int k = 0; k < 4; k++) {
            cols[k][0] = ci[k].n ? ci[k].mean : NAN;
            cols[k][1] = ci[k].lo;
            cols[k][2] = ci[k].hi;
        }
        h5out_table_append(t, &row, 1);
    }
    if (t) h5out_table_close(t);
}

static int write_summary(struct h5out *o, const struct study_params *p, const struct study_result *r)
{
    double *buf = sim_xmalloc(r->replications * sizeof *buf);
    struct h5out_table *t = h5out_table_create(o, h5out_root(o), "summary", summary_cols,
                                               sizeof summary_cols / sizeof summary_cols[0],
                                               sizeof(struct summary_row), 256);
    for (unsigned d = 0; t && d < p->n_designs; d++)
        for (unsigned m = 0; m < N_METRICS; m++) {
            if (!metric_used(p, m)) continue;
            struct stats_ci ci = bounded(stats_ci95(buf, collect(r, d, m, buf)), m, 0.0);
            struct summary_row row = {p->designs[d].name, metric_info[m].name, metric_info[m].unit,
                                      ci.mean, ci.lo, ci.hi, (uint32_t)ci.n};
            h5out_table_append(t, &row, 1);
        }
    if (t) h5out_table_close(t);
    t = h5out_table_create(o, h5out_root(o), "comparisons", comparison_cols,
                           sizeof comparison_cols / sizeof comparison_cols[0], sizeof(struct comparison_row), 256);
    for (unsigned d = 0; t && d < p->n_designs; d++) {
        if (d == p->baseline) continue;
        for (unsigned m = 0; m < N_METRICS; m++) {
            if (!metric_used(p, m)) continue;
            struct stats_ci ci = bounded(stats_ci95(buf, collect_diff(r, d, p->baseline, m, buf)), m, -1.0);
            struct comparison_row row = {p->designs[d].name, p->designs[p->baseline].name, metric_info[m].name,
                                         metric_info[m].unit, ci.mean, ci.lo, ci.hi, (uint32_t)ci.n};
            h5out_table_append(t, &row, 1);
        }
    }
    if (t) h5out_table_close(t);
    write_sweep(o, p, r, buf);
    free(buf);
    return h5out_error(o)[0] ? -1 : 0;
}

/* ---- running ------------------------------------------------------------------------------- */

static const struct cost_billing no_billing = {.rules = 1, .requests_per_connection = 1};

struct progress {
    const struct study_params *p;
    unsigned design;
    uint32_t rep;
    double wall_start;       /* s, monotonic clock at the start of the study */
    double run_start;        /* s, at the start of the current run */
    uint64_t runs_done, runs_total;
};

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void show_progress(void *ctx, const sim *s)
{
    struct progress *pr = ctx;
    double now = wall_seconds(), elapsed = now - pr->wall_start, in_run = now - pr->run_start;
    double frac = sim_to_seconds(sim_now(s)) / sim_to_seconds(sim_horizon(s));
    double done = (double)pr->runs_done + frac;
    double eta = done > 0 ? elapsed * ((double)pr->runs_total - done) / done : 0;
    fprintf(stderr, "\r%s run %u/%u: t=%.0f/%.0f s, %.1f M events/s, ETA %.0f s   ",
            pr->p->designs[pr->design].name, pr->rep + 1, pr->p->replications, sim_to_seconds(sim_now(s)),
            sim_to_seconds(sim_horizon(s)), (double)sim_events(s) / 1e6 / (in_run > 0 ? in_run : 1),
            eta);
}

static int append_row(void *ctx, const struct metrics_row *row) { return h5out_table_append(ctx, row, 1); }
static int append_event(void *ctx, const struct metrics_event *ev) { return h5out_table_append(ctx, ev, 1); }

/* What one simulated run of a design reports besides its rows and events. */
struct run_info {
    bool stopped;          /* by the flag */
    int metrics_status;    /* 0, or the first error of a row or event callback */
    uint64_t events, arrivals;
};

/* Builds replication rep of design d on its own engine with the given warm-up, runs it to the horizon
 * (or a stop), and fills values with the summary metrics. Rows and events go to the callbacks. */
static void simulate(const struct study_params *p, const struct study_run_options *o, unsigned d, uint32_t rep,
                     sim_time warmup, metrics_row_fn *row_fn, void *row_ctx, metrics_event_fn *ev_fn, void *ev_ctx,
                     struct progress *pr, double *values, struct run_info *info)
{
    const struct design_params *dp = &p->designs[d];
    sim *s = sim_create(p->seed, rep, p->horizon);
    if (o->stop_flag) sim_watch_flag(s, o->stop_flag);
    if (o->progress && pr) {
        pr->design = d;
        pr->rep = rep;
        pr->run_start = wall_seconds();
        sim_set_progress(s, show_progress, pr, 1u << 20);
    }
    struct metrics *m = metrics_create(
        s, &(struct metrics_params){p->interval, warmup, p->workload.slo_quantile, p->workload.slo_latency}, row_fn,
        row_ctx);
    if (ev_fn) metrics_set_event_sink(m, ev_fn, ev_ctx);
    struct onprem *op = NULL;
    struct cloud *cl = NULL;
    struct workload *w = NULL;
    struct cost *cost = NULL;
    struct lambda *fn = NULL;
    struct hybrid *hy = NULL;
    switch (dp->kind) {
    case DESIGN_ONPREM:
        if (dp->u.onprem.tco.given) {
            cost = cost_create(s, &p->prices, &no_billing, false);
            metrics_attach_cost(m, cost);
        }
        op = onprem_create(s, &dp->u.onprem, m, cost);
        w = workload_create(s, &p->workload, onprem_submit, op);
        break;
    case DESIGN_CLOUD:
        cost = cost_create(s, &p->prices, &dp->u.cloud.billing, true);
        metrics_attach_cost(m, cost);
        cl = cloud_create(s, &dp->u.cloud, m, cost);
        w = workload_create(s, &p->workload, cloud_submit, cl);
        break;
    case DESIGN_SERVERLESS:
        cost = cost_create(s, &p->prices, &dp->u.lambda.billing, dp->u.lambda.front_door == LAMBDA_ALB);
        metrics_attach_cost(m, cost);
        fn = lambda_create(s, &dp->u.lambda, m, cost);
        w = workload_create(s, &p->workload, lambda_submit, fn);
        break;
    case DESIGN_HYBRID: {
        const struct hybrid_params *hp = &dp->u.hybrid;
        cost = cost_create(s, &p->prices, hp->serverless ? &hp->lambda.billing : &hp->cloud.billing,
                           !hp->serverless || hp->lambda.front_door == LAMBDA_ALB);
        metrics_attach_cost(m, cost);
        hy = hybrid_create(s, hp, m, cost);
        w = workload_create(s, &p->workload, hybrid_submit, hy);
        break;
    }
    }
    enum sim_end end = sim_run(s);
    info->metrics_status = metrics_status(m);
    info->stopped = end == SIM_END_STOPPED && info->metrics_status == 0;
    info->events = sim_events(s);
    info->arrivals = workload_arrivals(w);
    run_values(p, metrics_totals(m), values);
    workload_destroy(w);
    onprem_destroy(op);
    cloud_destroy(cl);
    lambda_destroy(fn);
    hybrid_destroy(hy);
    cost_destroy(cost);
    metrics_destroy(m);
    sim_destroy(s);
}

/* MSER-5 input: per report interval, the latency sum and completions added over replications. */
struct mser_rows {
    double *sum, *count; /* per row: latency sum (s) and completions, all replications so far */
    size_t n, cap;       /* rows seen in all replications so far, and in the current one (`at`) */
    size_t at;
};

static int mser_row(void *ctx, const struct metrics_row *row)
{
    struct mser_rows *r = ctx;
    if (r->at == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        r->sum = sim_xrealloc(r->sum, cap * sizeof *r->sum);
        r->count = sim_xrealloc(r->count, cap * sizeof *r->count);
        memset(r->sum + r->cap, 0, (cap - r->cap) * sizeof *r->sum);
        memset(r->count + r->cap, 0, (cap - r->cap) * sizeof *r->count);
        r->cap = cap;
    }
    r->count[r->at] += (double)row->successes;
    r->sum[r->at] += row->successes ? row->latency_mean_s * (double)row->successes : 0.0;
    r->at++;
    if (r->at > r->n) r->n = r->at;
    return 0;
}

/* The warm-up MSER-5 finds on the rows' mean latency (over replications): batches of 5 rows (a batch
 * with no completions repeats the previous batch's mean), truncation in whole batches. */
static sim_time mser5_warmup(const struct study_params *p, const struct mser_rows *r)
{
    size_t k = r->n / 5;
    if (k < 4) return 0;
    double *y = sim_xmalloc(k * sizeof *y), last = 0;
    for (size_t b = 0; b < k; b++) {
        double sum = 0, n = 0;
        for (size_t i = 5 * b; i < 5 * b + 5; i++) {
            sum += r->sum[i];
            n += r->count[i];
        }
        y[b] = last = n > 0 ? sum / n : last;
    }
    size_t d = stats_mser(y, k);
    free(y);
    return (sim_time)(5 * d) * p->interval;
}

/* warmup = "auto": MSER-5 on design d's mean latency per report interval, averaged over pilot runs of
 * all its replications (the same seeds: the same runs as the real ones). Truncating each run on its
 * own data biases the result: the choice follows the run's own excursions, and in a queue those are
 * high values early on, so per-run MSER-5 removes them and lowers the mean (measured on M/M/1 at
 * rho = 0.9 from an empty start, 300 runs of 4 h: 91.3 s against 94.7 s untruncated and 100 s in
 * theory). On the average over replications the empty start's transient is what stands out (101.6 s
 * with the same runs). Returns -1 when the flag stopped a pilot. */
static sim_time auto_warmup(const struct study_params *p, const struct study_run_options *o, unsigned d,
                            struct progress *pr)
{
    struct mser_rows rows = {0};
    double values[N_METRICS];
    struct run_info info;
    for (uint32_t rep = 0; rep < p->replications; rep++) {
        rows.at = 0;
        simulate(p, o, d, rep, 0, mser_row, &rows, NULL, NULL, pr, values, &info);
        pr->runs_done++;
        if (info.stopped) {
            free(rows.sum);
            free(rows.count);
            return -1;
        }
    }
    sim_time warmup = mser5_warmup(p, &rows);
    free(rows.sum);
    free(rows.count);
    return warmup;
}

/* ---- units of work: one replication of one design, written to its own part file ------------------ */

/* A study's units are (design, replication). Each unit is simulated on its own engine and written to
 * a part file, OUTPUT.parts/<design>-<replication>.h5, which appears (atomically, by rename) only once
 * the unit is complete; the final file is then assembled from the parts in a fixed order (replication-
 * major), so it is the same whichever worker ran which unit, and a study stopped by a signal or even a
 * kill -9 keeps every finished unit for --resume. Each part records a key of the study (its config text
 * and command-line overrides) so that a resume never mixes runs of two different studies. */

#define UNIT_VALUES "unit_values" /* the summary metrics of the unit, an attribute dropped when merged */

static void parts_dir(const struct study_run_options *o, char *buf, size_t len)
{
    snprintf(buf, len, "%s.parts", o->output);
}

static void part_path(const struct study_run_options *o, unsigned d, uint32_t rep, char *buf, size_t len)
{
    snprintf(buf, len, "%s.parts/%u-%u.h5", o->output, d, rep);
}

/* FNV-1a over what decides a study's results: the config text and the overrides. */
static void study_key(const struct study_params *p, const struct study_run_options *o, char *buf, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    const char *t = o->config_text ? o->config_text : "";
    for (; *t; t++) h = (h ^ (uint8_t)*t) * 1099511628211ull;
    uint64_t extra[3] = {p->seed, p->replications, (uint64_t)p->horizon};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 8; k++) h = (h ^ ((extra[i] >> (8 * k)) & 0xff)) * 1099511628211ull;
    for (unsigned d = 0; d < p->n_designs; d++)
        for (const char *c = p->designs[d].name; *c; c++) h = (h ^ (uint8_t)*c) * 1099511628211ull;
    snprintf(buf, len, "%016llx", (unsigned long long)h);
}

/* Runs unit (d, rep) into its part file. Returns 0, 130 if the flag stopped it (nothing is kept), or
 * -1 after printing why the part could not be written. */
static int run_unit(const struct study_params *p, const struct study_run_options *o, const struct series_layout *layout,
                    const char *key, unsigned d, uint32_t rep, sim_time warmup, struct progress *pr)
{
    const struct design_params *dp = &p->designs[d];
    char part[4096], err[512], path[512];
    part_path(o, d, rep, part, sizeof part);
    struct h5out *out = h5out_create(part, err, sizeof err);
    if (!out) {
        fprintf(stderr, "strato: %s\n", err);
        return -1;
    }
    h5out_attr_str(out, h5out_root(out), "study_key", key);
    snprintf(path, sizeof path, "/designs/%s/runs/%u", dp->name, rep);
    hid_t g = h5out_group(out, path);
    struct h5out_table *series =
        g < 0 ? NULL : h5out_table_create(out, g, "series", layout->cols, layout->n, sizeof(struct metrics_row), 1024);
    struct h5out_table *events = g < 0 ? NULL : h5out_table_create(out, g, "events", event_cols,
                                                                    sizeof event_cols / sizeof event_cols[0],
                                                                    sizeof(struct metrics_event), 256);
    double values[N_METRICS];
    struct run_info info = {0};
    if (series && events) {
        simulate(p, o, d, rep, warmup, append_row, series, append_event, events, pr, values, &info);
        h5out_attr_bool(out, g, "complete", !info.stopped);
        h5out_attr_i64(out, g, "events", (int64_t)info.events);
        h5out_attr_i64(out, g, "arrivals", (int64_t)info.arrivals);
        h5out_attr_f64(out, g, "warmup_s", sim_to_seconds(warmup));
        h5out_attr_f64_array(out, g, UNIT_VALUES, values, N_METRICS);
    }
    if (series && h5out_table_close(series) < 0) series = NULL;
    if (events && h5out_table_close(events) < 0) events = NULL;
    if (!series || !events || info.metrics_status < 0) {
        fprintf(stderr, "strato: cannot write %s: %s\n", part, h5out_error(out));
        h5out_abort(out);
        return -1;
    }
    if (info.stopped) {
        h5out_abort(out);
        return 130;
    }
    if (h5out_finish(out, true, err, sizeof err) < 0) {
        fprintf(stderr, "strato: %s\n", err);
        return -1;
    }
    return 0;
}

/* Whether unit (d, rep) is already done: its part exists and belongs to this study. A part of another
 * study is an error (exit 2). */
static int unit_done(const struct study_run_options *o, const char *key, unsigned d, uint32_t rep)
{
    char part[4096], got[64];
    part_path(o, d, rep, part, sizeof part);
    if (access(part, F_OK) != 0) return 0;
    if (!h5out_read_root_str(part, "study_key", got, sizeof got) || strcmp(got, key) != 0) {
        fprintf(stderr, "strato: --resume: %s was written by another study (a different config, seed, "
                        "replications or horizon): remove %s.parts to start over\n", part, o->output);
        return -1;
    }
    return 1;
}

/* Removes the parts directory and what is in it (finished parts and temporary files of killed units). */
static void remove_parts(const struct study_run_options *o)
{
    char dir[4096], file[8192];
    parts_dir(o, dir, sizeof dir);
    DIR *dh = opendir(dir);
    if (!dh) return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
        unlink(file);
    }
    closedir(dh);
    rmdir(dir);
}

/* Runs the units in todo[0..n) with `jobs` worker processes (jobs 1: in this process), each taking the
 * next unit when it is free. Returns 0, 130 if stopped by the flag, or -1 if a unit failed. */
static int run_units(const struct study_params *p, const struct study_run_options *o, const struct series_layout *layout,
                     const char *key, const uint32_t *todo, size_t n, const sim_time *warmup, struct progress *pr)
{
    unsigned jobs = o->jobs > 1 ? o->jobs : 1;
    if (jobs > n) jobs = n ? (unsigned)n : 1;
    if (jobs == 1) {
        for (size_t i = 0; i < n; i++) {
            unsigned d = todo[i] % p->n_designs;
            uint32_t rep = todo[i] / p->n_designs;
            int rc = run_unit(p, o, layout, key, d, rep, warmup[d], pr);
            pr->runs_done++;
            if (rc != 0) return rc;
        }
        return 0;
    }
    int fds[2];
    if (pipe(fds) < 0) {
        fprintf(stderr, "strato: cannot create a pipe for the workers: %s\n", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t *kids = sim_xcalloc(jobs, sizeof *kids);
    unsigned alive = 0;
    for (unsigned j = 0; j < jobs; j++) {
        pid_t pid = fork();
        if (pid < 0) break;
        if (pid == 0) { /* a worker: units from the pipe until it is closed and empty */
            close(fds[1]);
            struct study_run_options mine = *o;
            mine.progress = false;
            uint32_t u;
            int rc = 0;
            while (rc == 0 && read(fds[0], &u, sizeof u) == (ssize_t)sizeof u)
                rc = run_unit(p, &mine, layout, key, u % p->n_designs, u / p->n_designs, warmup[u % p->n_designs], NULL);
            _exit(rc == 0 ? 0 : rc == 130 ? 130 : 1);
        }
        kids[alive++] = pid;
    }
    close(fds[0]);
    int status = alive ? 0 : -1;
    for (size_t i = 0; i < n && alive; i++) /* units of 4 bytes: each read and write is atomic */
        if (write(fds[1], &todo[i], sizeof todo[i]) != (ssize_t)sizeof todo[i]) break;
    close(fds[1]);
    bool forwarded = false;
    while (alive > 0) {
        int st;
        pid_t pid = waitpid(-1, &st, 0);
        if (pid < 0) {
            if (errno != EINTR) break;
            if (o->stop_flag && *o->stop_flag && !forwarded) { /* a signal for us alone: pass it on */
                for (unsigned j = 0; j < jobs; j++)
                    if (kids[j] > 0) kill(kids[j], SIGTERM);
                forwarded = true;
            }
            continue;
        }
        for (unsigned j = 0; j < jobs; j++)
            if (kids[j] == pid) kids[j] = 0;
        alive--;
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        if (code == 130 && status == 0) status = 130;
        else if (code != 0 && code != 130) {
            if (status != -1) fprintf(stderr, "strato: a worker process failed (%s %d): the units it finished are kept\n",
                                      WIFEXITED(st) ? "exit status" : "signal",
                                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            status = -1;
        }
    }
    free(kids);
    if (status == 0 && o->stop_flag && *o->stop_flag) status = 130;
    return status;
}

static void write_root_attrs(struct h5out *o, const struct study_params *p, const struct study_run_options *ro)
{
    hid_t root = h5out_root(o);
    h5out_attr_i64(o, root, "format_version", FORMAT_VERSION);
    h5out_attr_str(o, root, "strato_version", STRATO_VERSION);
    h5out_attr_str(o, root, "study", p->name);
    h5out_attr_str(o, root, "config_path", ro->config_path ? ro->config_path : "");
    h5out_attr_str(o, root, "config", ro->config_text ? ro->config_text : "");
    h5out_attr_str(o, root, "command_line", ro->command_line ? ro->command_line : "");
    h5out_attr_i64(o, root, "master_seed", (int64_t)p->seed);
    h5out_attr_i64(o, root, "replications", p->replications);
    h5out_attr_f64(o, root, "horizon_s", sim_to_seconds(p->horizon));
    h5out_attr_f64(o, root, "report_interval_s", sim_to_seconds(p->interval));
    h5out_attr_f64(o, root, "warmup_s", p->warmup_auto ? NAN : sim_to_seconds(p->warmup)); /* NaN: per run */
    h5out_attr_str(o, root, "baseline", p->designs[p->baseline].name);
    const struct workload_params *w = &p->workload; /* the SLO, NaN where the study has none */
    h5out_attr_f64(o, root, "slo_quantile", w->slo_quantile > 0 ? w->slo_quantile : NAN);
    h5out_attr_f64(o, root, "slo_latency_s", w->slo_quantile > 0 ? w->slo_latency : NAN);
    h5out_attr_f64(o, root, "slo_availability", w->slo_availability);
    for (unsigned d = 0; d < p->n_designs; d++) {
        char path[512];
        snprintf(path, sizeof path, "/designs/%s", p->designs[d].name);
        hid_t g = h5out_group(o, path);
        if (g == H5I_INVALID_HID) return;
        h5out_attr_str(o, g, "kind", kind_names[p->designs[d].kind]);
        h5out_attr_str(o, g, "description", p->designs[d].description);
    }
}

/* Checks the target and the parts directory, and lists the units still to run (all of them unless
 * resuming) into todo (allocated, *n_todo of them). Returns 0, or the exit status after a message. */
static int prepare(const struct study_params *p, const struct study_run_options *ro, const char *key, uint32_t **todo,
                   size_t *n_todo)
{
    char err[512], dir[4096];
    *todo = NULL;
    *n_todo = 0;
    int rc = h5out_check_target(ro->output, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "strato: %s\n", err);
        return rc == H5OUT_ECLOBBER ? 2 : 1;
    }
    parts_dir(ro, dir, sizeof dir);
    if (!ro->resume && access(dir, F_OK) == 0) {
        fprintf(stderr, "strato: %s holds the finished runs of an interrupted study: continue it with --resume, or "
                        "remove it\n", dir);
        return 2;
    }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "strato: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    size_t units = (size_t)p->n_designs * p->replications;
    *todo = sim_xmalloc((units ? units : 1) * sizeof **todo);
    for (uint32_t u = 0; u < units; u++) { /* unit u: design u % n, replication u / n (replication-major) */
        int got = ro->resume ? unit_done(ro, key, u % p->n_designs, u / p->n_designs) : 0;
        if (got < 0) {
            free(*todo);
            *todo = NULL;
            return 2;
        }
        if (!got) (*todo)[(*n_todo)++] = u;
    }
    return 0;
}

/* The warm-up of every design: the study's, or found by the MSER-5 pilots. Returns 0, or 130 when the
 * flag stopped a pilot. */
static int warmups(const struct study_params *p, const struct study_run_options *ro, struct progress *pr,
                   sim_time *warmup)
{
    for (unsigned d = 0; d < p->n_designs; d++) {
        warmup[d] = p->warmup_auto ? auto_warmup(p, ro, d, pr) : p->warmup;
        if (warmup[d] < 0) return 130;
    }
    return 0;
}

static int assemble(const struct study_params *p, const struct study_run_options *ro, const sim_time *warmup,
                    int status, struct study_result **out);

#ifdef STRATO_HAVE_MPI
/* Under mpirun with more than one rank: rank 0 checks the target, lists the units and finds the
 * warm-ups, then every rank (0 too) takes the next unit from a counter that rank 0 holds (an MPI
 * fetch-and-add on a one-sided window: dynamic hand-out without a dispatcher loop) and writes it to its
 * part file; the parts directory must be shared by the ranks (one machine, or a cluster's shared file
 * system). Rank 0 then assembles the file, which is the one a serial run writes. A failed rank ends the
 * job (MPI's default handler); the finished units stay in the parts directory for --resume. */
static int study_run_mpi(const struct study_params *p, const struct study_run_options *ro, struct study_result **out,
                         int rank)
{
    char key[32];
    study_key(p, ro, key, sizeof key);
    uint32_t *todo = NULL;
    size_t n_todo = 0;
    sim_time warmup[STUDY_MAX_DESIGNS];
    struct study_run_options mine = *ro;
    if (rank != 0) mine.progress = false;
    struct progress pr = {p, 0, 0, wall_seconds(), 0, 0, 0};
    int rc = 0;
    if (rank == 0) {
        rc = prepare(p, ro, key, &todo, &n_todo);
        pr.runs_total = n_todo + (p->warmup_auto ? (uint64_t)p->n_designs * p->replications : 0);
        if (rc == 0) rc = warmups(p, ro, &pr, warmup);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rc != 0 && rc != 130) {
        free(todo);
        return rc;
    }
    unsigned long long count = n_todo;
    MPI_Bcast(&count, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (rank != 0) todo = sim_xmalloc((count ? count : 1) * sizeof *todo);
    n_todo = (size_t)count;
    if (n_todo) MPI_Bcast(todo, (int)n_todo, MPI_UINT32_T, 0, MPI_COMM_WORLD);
    int64_t w[STUDY_MAX_DESIGNS];
    for (unsigned d = 0; d < p->n_designs; d++) w[d] = rank == 0 ? warmup[d] : 0;
    MPI_Bcast(w, (int)p->n_designs, MPI_INT64_T, 0, MPI_COMM_WORLD);
    for (unsigned d = 0; d < p->n_designs; d++) warmup[d] = w[d];

    int64_t *counter = NULL;
    MPI_Win win;
    MPI_Win_allocate(rank == 0 ? (MPI_Aint)sizeof(int64_t) : 0, sizeof(int64_t), MPI_INFO_NULL, MPI_COMM_WORLD,
                     &counter, &win);
    if (rank == 0) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win);
        *counter = 0;
        MPI_Win_unlock(0, win);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    struct series_layout layout;
    build_series_layout(&layout);
    int status = rc; /* 130 if the pilots were stopped: no units */
    while (status == 0) {
        int64_t one = 1, next = 0;
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win);
        MPI_Fetch_and_op(&one, &next, MPI_INT64_T, 0, 0, MPI_SUM, win);
        MPI_Win_unlock(0, win);
        if (next >= (int64_t)n_todo) break;
        uint32_t u = todo[next];
        status = run_unit(p, &mine, &layout, key, u % p->n_designs, u / p->n_designs, warmup[u % p->n_designs],
                          rank == 0 ? &pr : NULL);
        pr.runs_done++;
    }
    int code = status == 0 ? 0 : status == 130 ? 1 : 2, worst = 0;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Win_free(&win);
    free(todo);
    if (ro->progress && rank == 0) fputs("\r\033[K", stderr);
    if (worst == 2) return 1;
    if (rank != 0) return worst ? 130 : 0;
    return assemble(p, ro, warmup, worst ? 130 : 0, out);
}
#endif

int study_run(const struct study_params *p, const struct study_run_options *ro, struct study_result **out)
{
    *out = NULL;
#ifdef STRATO_HAVE_MPI
    int mpi = 0, ranks = 1, rank = 0;
    MPI_Initialized(&mpi);
    if (mpi) {
        MPI_Comm_size(MPI_COMM_WORLD, &ranks);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    }
    if (ranks > 1) return study_run_mpi(p, ro, out, rank);
#endif
    char key[32];
    study_key(p, ro, key, sizeof key);
    uint32_t *todo;
    size_t n_todo;
    int status = prepare(p, ro, key, &todo, &n_todo);
    if (status != 0) return status;
    struct progress pr = {p, 0, 0, wall_seconds(), 0, 0, n_todo};
    if (p->warmup_auto) pr.runs_total += (uint64_t)p->n_designs * p->replications; /* the pilots count too */
    struct series_layout layout;
    build_series_layout(&layout);
    sim_time warmup[STUDY_MAX_DESIGNS];
    status = warmups(p, ro, &pr, warmup);
    if (status == 0) status = run_units(p, ro, &layout, key, todo, n_todo, warmup, &pr);
    if (ro->progress) fputs("\r\033[K", stderr);
    free(todo);
    if (status < 0) return 1;
    return assemble(p, ro, warmup, status, out);
}

/* Writes the results file from the parts: every design's finished prefix of replications, in
 * replication-major order, then the summary. Returns 0, 130 (incomplete: parts kept) or 1. */
static int assemble(const struct study_params *p, const struct study_run_options *ro, const sim_time *warmup,
                    int status, struct study_result **out)
{
    char err[512], dir[4096];
    parts_dir(ro, dir, sizeof dir);
    struct h5out *o = h5out_create(ro->output, err, sizeof err);
    if (!o) {
        fprintf(stderr, "strato: %s\n", err);
        return 1;
    }
    write_root_attrs(o, p, ro);
    struct study_result *r = sim_xcalloc(1, sizeof *r);
    r->n_designs = p->n_designs;
    r->replications = p->replications;
    r->v = sim_xcalloc((size_t)p->n_designs * N_METRICS * p->replications, sizeof *r->v);
    for (unsigned d = 0; d < p->n_designs; d++) {
        char part[4096];
        part_path(ro, d, 0, part, sizeof part);
        while (r->done[d] < p->replications) {
            part_path(ro, d, r->done[d], part, sizeof part);
            if (access(part, F_OK) != 0) break;
            r->done[d]++;
        }
        if (p->warmup_auto) {
            char path[512];
            snprintf(path, sizeof path, "/designs/%s", p->designs[d].name);
            h5out_attr_f64(o, h5out_group(o, path), "warmup_s", sim_to_seconds(warmup[d]));
        }
    }
    bool complete = true;
    for (uint32_t rep = 0; rep < p->replications; rep++)
        for (unsigned d = 0; d < p->n_designs; d++) {
            if (rep >= r->done[d]) {
                complete = false;
                continue;
            }
            char part[4096], path[512];
            part_path(ro, d, rep, part, sizeof part);
            snprintf(path, sizeof path, "/designs/%s/runs/%u", p->designs[d].name, rep);
            double vals[N_METRICS];
            h5out_copy_group(o, part, path, UNIT_VALUES, vals, N_METRICS);
            for (unsigned m = 0; m < N_METRICS; m++) *value(r, d, m, rep) = vals[m];
        }
    if (write_summary(o, p, r) < 0 || h5out_error(o)[0]) {
        fprintf(stderr, "strato: cannot write %s: %s\n", ro->output, h5out_error(o));
        h5out_abort(o);
        study_result_free(r);
        return 1;
    }
    if (h5out_finish(o, complete, err, sizeof err) < 0) {
        fprintf(stderr, "strato: %s\n", err);
        study_result_free(r);
        return 1;
    }
    if (complete) remove_parts(ro);
    else if (status == 130)
        fprintf(stderr, "strato: interrupted; the finished runs are kept in %s: continue with --resume\n", dir);
    *out = r;
    return complete ? 0 : 130;
}

void study_result_free(struct study_result *r)
{
    if (!r) return;
    free(r->v);
    free(r);
}

static void print_ci(FILE *f, struct stats_ci ci)
{
    if (ci.n == 0) fprintf(f, "%12s %27s", "-", "");
    else if (isnan(ci.lo)) fprintf(f, "%12.6g %27s", ci.mean, "(one replication)");
    else fprintf(f, "%12.6g  [%11.6g, %11.6g]", ci.mean, ci.lo, ci.hi);
}

void study_print_summary(const struct study_params *p, const struct study_result *r, FILE *f)
{
    double *buf = sim_xmalloc(r->replications * sizeof *buf);
    fprintf(f, "%-20s %-16s %-9s %12s  %-26s %s\n", "design", "metric", "unit", "mean", "95% CI", "n");
    for (unsigned d = 0; d < p->n_designs; d++)
        for (unsigned m = 0; m < N_METRICS; m++) {
            if (!metric_used(p, m)) continue;
            struct stats_ci ci = bounded(stats_ci95(buf, collect(r, d, m, buf)), m, 0.0);
            fprintf(f, "%-20s %-16s %-9s ", p->designs[d].name, metric_info[m].name, metric_info[m].unit);
            print_ci(f, ci);
            fprintf(f, " %zu\n", ci.n);
        }
    if (p->n_designs > 1) {
        fprintf(f, "\npaired differences against the baseline \"%s\" (same requests in every design):\n",
                p->designs[p->baseline].name);
        for (unsigned d = 0; d < p->n_designs; d++) {
            if (d == p->baseline) continue;
            for (unsigned m = 0; m < N_METRICS; m++) {
                if (!metric_used(p, m)) continue;
                struct stats_ci ci = bounded(stats_ci95(buf, collect_diff(r, d, p->baseline, m, buf)), m, -1.0);
                fprintf(f, "%-20s %-16s %-9s ", p->designs[d].name, metric_info[m].name, metric_info[m].unit);
                print_ci(f, ci);
                fprintf(f, " %zu\n", ci.n);
            }
        }
    }
    free(buf);
}

const double *study_result_values(const struct study_result *r, unsigned d, const char *metric, uint32_t *n)
{
    for (unsigned m = 0; m < N_METRICS; m++)
        if (strcmp(metric_info[m].name, metric) == 0) {
            *n = r->done[d];
            return value(r, d, m, 0);
        }
    *n = 0;
    return NULL;
}

static struct stats_ci metric_ci(const struct study_result *r, unsigned d, unsigned m, double *buf)
{
    return bounded(stats_ci95(buf, collect(r, d, m, buf)), m, 0.0);
}

/* 0 meets, 1 unclear, 2 fails: the upper bound below `target` (lower_is_better) or the lower bound above. */
static int judge(struct stats_ci ci, double target, bool lower_is_better)
{
    if (ci.n == 0) return 2;
    double good = lower_is_better ? ci.hi : ci.lo, bad = lower_is_better ? ci.lo : ci.hi;
    if (isnan(ci.lo)) good = bad = ci.mean; /* one replication */
    if (lower_is_better ? good <= target : good >= target) return 0;
    if (lower_is_better ? bad > target : bad < target) return 2;
    return 1;
}

enum study_verdict study_verdict(const struct study_params *p, const struct study_result *r, unsigned d)
{
    const struct workload_params *w = &p->workload;
    double *buf = sim_xmalloc(r->replications * sizeof *buf);
    int worst = 0;
    if (w->slo_quantile > 0) {
        int v = judge(metric_ci(r, d, M_SLO_LATENCY, buf), w->slo_latency, true);
        worst = v > worst ? v : worst;
    }
    if (!isnan(w->slo_availability)) {
        int v = judge(metric_ci(r, d, M_AVAILABILITY, buf), w->slo_availability, false);
        worst = v > worst ? v : worst;
    }
    free(buf);
    return (enum study_verdict)worst;
}

int study_choice(const struct study_params *p, const struct study_result *r)
{
    double *buf = sim_xmalloc(r->replications * sizeof *buf);
    int best = -1;
    double best_cost = INFINITY;
    for (unsigned d = 0; d < p->n_designs; d++) {
        if (study_verdict(p, r, d) != STUDY_MEETS) continue;
        struct stats_ci ci = metric_ci(r, d, M_COST_MONTH, buf);
        if (ci.n > 0 && ci.mean < best_cost) {
            best_cost = ci.mean;
            best = (int)d;
        }
    }
    free(buf);
    return best;
}

/* A mean and its interval with `digits` significant digits, padded to width; "-" when undefined. */
static void print_value_ci(FILE *f, struct stats_ci ci, int digits, int width)
{
    char buf[96];
    if (ci.n == 0 || isnan(ci.mean)) snprintf(buf, sizeof buf, "-");
    else if (isnan(ci.lo)) snprintf(buf, sizeof buf, "%.*g", digits, ci.mean);
    else snprintf(buf, sizeof buf, "%.*g [%.*g, %.*g]", digits, ci.mean, digits, ci.lo, digits, ci.hi);
    fprintf(f, "%-*s", width, buf);
}

void study_print_decision(const struct study_params *p, const struct study_result *r, FILE *f)
{
    static const char *const verdicts[] = {"meets", "unclear", "fails"};
    const struct workload_params *w = &p->workload;
    double *buf = sim_xmalloc(r->replications * sizeof *buf);
    bool slo = w->slo_quantile > 0 || !isnan(w->slo_availability);
    fprintf(f, "\ndecision (%u replications, 95%% confidence intervals", r->replications);
    if (w->slo_quantile > 0) fprintf(f, "; SLO: p%g latency <= %g s", 100 * w->slo_quantile, w->slo_latency);
    if (!isnan(w->slo_availability)) fprintf(f, "%s availability >= %g", w->slo_quantile > 0 ? "," : "; SLO:", w->slo_availability);
    fprintf(f, "):\n%-20s %-8s %-28s %-28s %-20s %s\n", "design", "SLO", "SLO latency, s", "availability",
            "intervals in SLO", "cost per month, USD");
    for (unsigned d = 0; d < p->n_designs; d++) {
        fprintf(f, "%-20s %-8s ", p->designs[d].name, slo ? verdicts[study_verdict(p, r, d)] : "-");
        print_value_ci(f, metric_ci(r, d, w->slo_quantile > 0 ? M_SLO_LATENCY : M_LATENCY_P99, buf), 3, 29);
        print_value_ci(f, metric_ci(r, d, M_AVAILABILITY, buf), 5, 29);
        print_value_ci(f, w->slo_quantile > 0 ? metric_ci(r, d, M_SLO_ATTAINMENT, buf) : (struct stats_ci){0}, 3, 21);
        struct stats_ci cost = metric_ci(r, d, M_COST_MONTH, buf);
        if (cost.n == 0 || isnan(cost.mean)) fputs("no cost model", f);
        else print_value_ci(f, cost, 6, 0);
        fputc('\n', f);
    }
    bool swept = false;
    for (unsigned d = 0; d < p->n_designs; d++) swept = swept || p->designs[d].swept;
    if (swept && slo) { /* the sweep's answer: its variants that meet the SLO, cheapest first */
        unsigned order[STUDY_MAX_DESIGNS], n = 0;
        double cost[STUDY_MAX_DESIGNS];
        for (unsigned d = 0; d < p->n_designs; d++) {
            struct stats_ci ci = metric_ci(r, d, M_COST_MONTH, buf);
            if (!p->designs[d].swept || study_verdict(p, r, d) != STUDY_MEETS || ci.n == 0) continue;
            unsigned k = n++;
            for (; k > 0 && cost[k - 1] > ci.mean; k--) {
                order[k] = order[k - 1];
                cost[k] = cost[k - 1];
            }
            order[k] = d;
            cost[k] = ci.mean;
        }
        fprintf(f, "sweep variants that meet the SLO, cheapest first:%s\n", n ? "" : " none");
        for (unsigned k = 0; k < n; k++)
            fprintf(f, "  $%.0f a month  %s (%s)\n", cost[k], p->designs[order[k]].name, p->designs[order[k]].swept);
    }
    int c = study_choice(p, r);
    if (c < 0) {
        fprintf(f, "%s\n", slo ? "no design with a cost model meets the SLO with confidence: add capacity, or run more "
                                 "replications for the unclear ones"
                               : "no design has a cost model");
        free(buf);
        return;
    }
    struct stats_ci cost = metric_ci(r, (unsigned)c, M_COST_MONTH, buf);
    fprintf(f, "choice: \"%s\", the cheapest design that %s: $%.0f a month", p->designs[c].name,
            slo ? "meets the SLO" : "has a cost", cost.mean);
    if (!isnan(cost.lo)) fprintf(f, " [%.0f, %.0f]", cost.lo, cost.hi);
    fputs("\n", f);
    for (unsigned d = 0; d < p->n_designs; d++) {
        if ((int)d == c) continue;
        bool also = study_verdict(p, r, d) == STUDY_MEETS || d == p->baseline;
        struct stats_ci other = metric_ci(r, d, M_COST_MONTH, buf);
        if (!also || other.n == 0) continue;
        struct stats_ci diff = stats_ci95(buf, collect_diff(r, d, (unsigned)c, M_COST_MONTH, buf));
        fprintf(f, "  it costs $%.0f a month less than \"%s\"", diff.mean, p->designs[d].name);
        if (!isnan(diff.lo)) fprintf(f, " [%.0f, %.0f] (paired)", diff.lo, diff.hi);
        fprintf(f, "%s\n", d == p->baseline ? ", the baseline" : "");
    }
    free(buf);
}
