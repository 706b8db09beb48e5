/* trace.c: streaming counts-per-interval traces and their shaping. See trace.h. */
#define _DEFAULT_SOURCE /* timegm */
#include "trace.h"

#include "sim.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const format_names[] = {"counts_csv", "counts", "timestamps_csv", "azure_functions", NULL};

#define AZURE_MINUTES 1440

/* The file's intervals in order: (index from the trace's start, count). */
struct source {
    FILE *f;
    const struct trace_params *p;
    unsigned line;
    int time_col, count_col;   /* CSV (count_col: the value column of a timestamps trace, -1 none) */
    double t0;                 /* CSV: the first row's time, s */
    int64_t last;              /* index of the last interval (or row) read, -1 before the first */
    double prev;               /* timestamps: the last row's time since the first, s */
    unsigned day, minute;      /* azure: the day file being replayed, and the next minute of it */
    double counts[AZURE_MINUTES]; /* azure: the chosen functions' invocations per minute of that day */
    char buf[65536];           /* counts: read ahead */
    size_t pos, len;
    bool eof;
    char *row;                 /* azure: a line buffer */
    size_t row_cap;
    char err[256];             /* why reading stopped early, "" at a clean end */
};

/* Seconds of a time value: a number, or "YYYY-MM-DD HH:MM:SS" (UTC). NAN if neither. */
static double parse_time(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end == '\0') return v;
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) !=
        6)
        return NAN;
    double frac = 0;
    if (s[n] == '.') { /* a fraction of a second */
        frac = strtod(s + n, &end);
        if (*end != '\0') return NAN;
    } else if (s[n] != '\0') {
        return NAN;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm) + frac;
}

/* Splits a CSV line in place into at most max fields; returns how many. */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *s = line;
    while (n < max) {
        fields[n++] = s;
        char *comma = strchr(s, ',');
        if (!comma) break;
        *comma = '\0';
        s = comma + 1;
    }
    for (int i = 0; i < n; i++) { /* trim blanks and the line end */
        while (isspace((unsigned char)*fields[i])) fields[i]++;
        char *e = fields[i] + strlen(fields[i]);
        while (e > fields[i] && isspace((unsigned char)e[-1])) *--e = '\0';
    }
    return n;
}

static bool picked(const struct trace_params *p, const char *hash)
{
    if (p->n_pick == 0) return true;
    for (unsigned i = 0; i < p->n_pick; i++)
        if (!strcmp(p->pick[i], hash)) return true;
    return false;
}

/* Azure: reads day file `day` into counts (the chosen functions summed per minute). Calls each(ctx,
 * hash, total) per row when each is not NULL. False with err set on a mistake. */
static bool azure_day(struct source *s, unsigned day, void (*each)(void *ctx, const char *hash, double total), void *ctx)
{
    const struct trace_params *p = s->p;
    FILE *f = fopen(p->files[day], "r");
    if (!f) {
        snprintf(s->err, sizeof s->err, "cannot read %s", p->files[day]);
        return false;
    }
    memset(s->counts, 0, sizeof s->counts);
    s->line = 0;
    bool ok = true;
    while (ok && getline(&s->row, &s->row_cap, f) > 0) {
        s->line++;
        if (s->line == 1) continue; /* the header */
        char *save = NULL, *hash = NULL, *tok = strtok_r(s->row, ",\r\n", &save);
        int col = 0;
        double total = 0;
        bool use = false;
        for (; tok; tok = strtok_r(NULL, ",\r\n", &save), col++) {
            if (col == 2) {
                hash = tok;
                use = picked(p, hash);
            }
            if (col < 4) continue;
            char *end;
            double v = strtod(tok, &end);
            if (end == tok || *end || !(v >= 0) || col - 4 >= AZURE_MINUTES) {
                ok = false;
                break;
            }
            total += v;
            if (use) s->counts[col - 4] += v;
        }
        if (!ok || col != 4 + AZURE_MINUTES) {
            snprintf(s->err, sizeof s->err, "expected HashOwner,HashApp,HashFunction,Trigger and %d counts >= 0",
                     AZURE_MINUTES);
            ok = false;
        } else if (each) {
            each(ctx, hash, total);
        }
    }
    fclose(f);
    return ok;
}

static bool source_open(struct source *s, const struct trace_params *p)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    s->last = -1;
    s->time_col = s->count_col = -1;
    if (p->format == TRACE_AZURE_FUNCTIONS) { /* days are read one at a time as the replay needs them */
        s->minute = AZURE_MINUTES;
        s->day = 0;
        return p->n_files > 0;
    }
    s->f = fopen(p->path, "r");
    if (!s->f) {
        snprintf(s->err, sizeof s->err, "cannot read the trace");
        return false;
    }
    if (p->format == TRACE_COUNTS) return true;
    char line[4096], *fields[64];
    if (!fgets(line, sizeof line, s->f)) {
        snprintf(s->err, sizeof s->err, "an empty file: expected a header line naming the columns");
        return false;
    }
    s->line = 1;
    int n = split(line, fields, 64);
    for (int i = 0; i < n; i++) {
        if (!strcmp(fields[i], p->time_column)) s->time_col = i;
        if (!strcmp(fields[i], p->count_column)) s->count_col = i;
    }
    if (p->format == TRACE_TIMESTAMPS_CSV) { /* the value column is optional */
        s->count_col = -1;
        for (int i = 0; p->value_column && i < n; i++)
            if (!strcmp(fields[i], p->value_column)) s->count_col = i;
        if (p->value_column && s->count_col < 0) {
            snprintf(s->err, sizeof s->err, "no column \"%s\" in the header", p->value_column);
            return false;
        }
    }
    if (s->time_col < 0 || (s->count_col < 0 && p->format != TRACE_TIMESTAMPS_CSV)) {
        snprintf(s->err, sizeof s->err, "no column \"%s\" in the header", s->time_col < 0 ? p->time_column : p->count_column);
        return false;
    }
    return true;
}

/* Timestamps layout: the next row's time (s since the first row) and value; false at the end or on a
 * mistake (err set). */
static bool source_next_request(struct source *s, double *t, double *value)
{
    if (!s->f || s->err[0]) return false;
    char line[4096], *fields[64];
    while (fgets(line, sizeof line, s->f)) {
        s->line++;
        int n = split(line, fields, 64);
        if (n == 1 && fields[0][0] == '\0') continue;
        int need = s->time_col > s->count_col ? s->time_col : s->count_col;
        if (n <= need) {
            snprintf(s->err, sizeof s->err, "expected %d columns, got %d", need + 1, n);
            return false;
        }
        double at = parse_time(fields[s->time_col]), v = NAN;
        if (isnan(at)) {
            snprintf(s->err, sizeof s->err, "expected a time (seconds or \"YYYY-MM-DD HH:MM:SS[.fff]\"), got \"%s\"",
                     fields[s->time_col]);
            return false;
        }
        if (s->count_col >= 0) {
            char *end;
            v = strtod(fields[s->count_col], &end);
            if (end == fields[s->count_col] || *end != '\0' || !isfinite(v)) {
                snprintf(s->err, sizeof s->err, "expected a number in column \"%s\", got \"%s\"", s->p->value_column,
                         fields[s->count_col]);
                return false;
            }
        }
        if (s->last < 0) s->t0 = at;
        else if (at - s->t0 < s->prev) {
            snprintf(s->err, sizeof s->err, "times must not go backwards: \"%s\" is before the previous row",
                     fields[s->time_col]);
            return false;
        }
        s->last++;
        s->prev = at - s->t0;
        *t = s->prev;
        *value = v;
        return true;
    }
    return false;
}

/* The next blank-separated number of a counts file, read through a buffer (fscanf costs several times
 * more, and a per-second trace is mostly zeros): 1, EOF at the end, 0 for something else. */
static int next_number(struct source *s, double *v)
{
    for (;;) {
        while (s->pos < s->len && isspace((unsigned char)s->buf[s->pos])) s->pos++;
        size_t end = s->pos;
        while (end < s->len && !isspace((unsigned char)s->buf[end])) end++;
        if (s->pos < s->len && (end < s->len || s->eof)) { /* a whole token is in the buffer */
            char token[64], *stop;
            size_t n = end - s->pos < sizeof token - 1 ? end - s->pos : sizeof token - 1;
            memcpy(token, s->buf + s->pos, n);
            token[n] = '\0';
            s->pos = end;
            *v = strtod(token, &stop);
            return stop != token && *stop == '\0' ? 1 : 0;
        }
        if (s->eof) return EOF;
        if (s->pos == 0 && s->len == sizeof s->buf) return 0; /* a "number" of 64 KiB */
        memmove(s->buf, s->buf + s->pos, s->len - s->pos); /* keep a token cut by the buffer's end */
        s->len -= s->pos;
        s->pos = 0;
        size_t got = fread(s->buf + s->len, 1, sizeof s->buf - s->len, s->f);
        s->len += got;
        if (got == 0) s->eof = true;
    }
}

/* The next (index, count) of the file; false at its end or on a mistake (then err is set). */
static bool source_next(struct source *s, int64_t *index, double *count)
{
    if (s->p->format == TRACE_AZURE_FUNCTIONS) {
        if (s->err[0]) return false;
        if (s->minute == AZURE_MINUTES) { /* the next day's file */
            unsigned next = s->last >= 0 ? s->day + 1 : 0;
            if (next >= s->p->n_files || !azure_day(s, next, NULL, NULL)) return false;
            s->day = next;
            s->minute = 0;
        }
        *index = ++s->last;
        *count = s->counts[s->minute++];
        return true;
    }
    if (!s->f || s->err[0]) return false;
    if (s->p->format == TRACE_COUNTS) {
        double v;
        int got = next_number(s, &v);
        if (got == EOF) return false;
        if (got != 1 || !(v >= 0) || !isfinite(v)) {
            snprintf(s->err, sizeof s->err, "count %lld: expected a number of requests >= 0", (long long)s->last + 2);
            return false;
        }
        *index = ++s->last;
        *count = v;
        return true;
    }
    char line[4096], *fields[64];
    while (fgets(line, sizeof line, s->f)) {
        s->line++;
        int n = split(line, fields, 64);
        if (n == 1 && fields[0][0] == '\0') continue; /* a blank line */
        int need = s->time_col > s->count_col ? s->time_col : s->count_col;
        if (n <= need) {
            snprintf(s->err, sizeof s->err, "expected %d columns, got %d", need + 1, n);
            return false;
        }
        double t = parse_time(fields[s->time_col]);
        char *end;
        double c = strtod(fields[s->count_col], &end);
        if (isnan(t) || end == fields[s->count_col] || *end != '\0' || !(c >= 0) || !isfinite(c)) {
            snprintf(s->err, sizeof s->err, "expected a time (seconds or \"YYYY-MM-DD HH:MM:SS\") and a count >= 0");
            return false;
        }
        if (s->last < 0) s->t0 = t;
        int64_t i = (int64_t)llround((t - s->t0) / s->p->interval);
        if (i <= s->last) {
            snprintf(s->err, sizeof s->err, "times must increase by the interval: \"%s\" is not after the previous row",
                     fields[s->time_col]);
            return false;
        }
        s->last = i;
        *index = i;
        *count = c;
        return true;
    }
    return false;
}

static void source_close(struct source *s)
{
    if (s->f) fclose(s->f);
    s->f = NULL;
    free(s->row);
    s->row = NULL;
    s->row_cap = 0;
}

/* ---- the window, gaps and looping ------------------------------------------------------------ */

struct trace_reader {
    const struct trace_params *p;
    struct source src;
    int64_t first, end;        /* the window's intervals [first, end); end < 0: to the file's end */
    int64_t next;              /* the next interval to return */
    int64_t have;              /* index of the pending row from the file, -1 none */
    int64_t pass;              /* timestamps: passes of the loop completed */
    double pass_len;           /* timestamps: trace seconds one pass spans */
    double have_count;
    bool file_done;
};

static bool reader_start(struct trace_reader *r)
{
    source_close(&r->src);
    if (!source_open(&r->src, r->p)) return false;
    r->next = r->first;
    r->have = -1;
    r->file_done = false;
    return true;
}

/* A reader at the window's start; when the file cannot be opened or its header is wrong, src.err
 * says why (and the reader gives nothing). */
static struct trace_reader *reader_new(const struct trace_params *p)
{
    struct trace_reader *r = sim_xcalloc(1, sizeof *r);
    r->p = p;
    r->first = (int64_t)llround(p->offset / p->interval);
    r->end = p->window > 0 ? r->first + (int64_t)llround(p->window / p->interval) : -1;
    if (!reader_start(r)) r->file_done = true;
    return r;
}

struct trace_reader *trace_open(const struct trace_params *p)
{
    struct trace_reader *r = reader_new(p);
    if (r->src.err[0]) {
        trace_close(r);
        return NULL;
    }
    return r;
}

bool trace_next_request(struct trace_reader *r, double *t, double *value)
{
    const struct trace_params *p = r->p;
    for (;;) {
        double at, v;
        bool got = source_next_request(&r->src, &at, &v);
        if (got && at < p->offset) continue; /* before the window */
        if (got && (p->window <= 0 || at < p->offset + p->window)) {
            *t = ((double)r->pass * r->pass_len + at - p->offset) / p->compress;
            *value = v;
            return true;
        }
        if (r->src.err[0] || !p->loop || r->src.last < 0) return false;
        /* the window (or the file) is over: the next pass starts a window (or the trace's span) later */
        r->pass_len = p->window > 0 ? p->window : r->src.prev - p->offset + p->interval;
        r->pass++;
        if (!reader_start(r)) return false;
    }
}

bool trace_next(struct trace_reader *r, double *count)
{
    for (;;) {
        if (r->end >= 0 && r->next >= r->end) { /* the window is over */
            if (!r->p->loop || !reader_start(r)) return false;
            continue;
        }
        while (!r->file_done && r->have < r->next) { /* rows before the interval wanted are skipped */
            int64_t i;
            double c;
            if (source_next(&r->src, &i, &c)) {
                r->have = i;
                r->have_count = c;
            } else {
                r->file_done = true;
            }
        }
        if (r->file_done && r->have < r->next) { /* the file is over */
            if (r->end < 0 && r->p->loop && r->next > r->first && reader_start(r)) continue;
            return false;
        }
        *count = r->have == r->next ? r->have_count : 0.0; /* a missing interval counts zero */
        r->next++;
        return true;
    }
}

void trace_close(struct trace_reader *r)
{
    if (!r) return;
    source_close(&r->src);
    free(r);
}

/* ---- parameters ---------------------------------------------------------------------------- */

/* Azure: a function's total over the files, for the top N. */
struct volume {
    char *hash;
    double total;
};
struct volumes {
    struct volume *v;
    size_t n, cap;
};

static void add_volume(void *ctx, const char *hash, double total)
{
    struct volumes *vs = ctx;
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? 2 * vs->cap : 1024;
        vs->v = sim_xrealloc(vs->v, vs->cap * sizeof *vs->v);
    }
    vs->v[vs->n++] = (struct volume){sim_xstrdup(hash ? hash : ""), total};
}

static int by_hash(const void *a, const void *b) { return strcmp(((const struct volume *)a)->hash, ((const struct volume *)b)->hash); }

static int by_total(const void *a, const void *b)
{
    double x = ((const struct volume *)a)->total, y = ((const struct volume *)b)->total;
    return x < y ? 1 : x > y ? -1 : by_hash(a, b);
}

/* `files` (in order) and `functions` ("all", a number for the top N by volume, or a list of
 * HashFunction values) of an azure_functions trace. */
static bool parse_azure(conf *c, const config_setting_t *g, struct trace_params *p)
{
    int before = conf_errors(c);
    const config_setting_t *list = conf_list(c, g, "files", true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (list && n == 0) conf_error(c, list, "needs at least one daily file");
    p->files = sim_xcalloc(n ? n : 1, sizeof *p->files);
    for (unsigned i = 0; i < n; i++) {
        char path[4096];
        FILE *f = conf_open_data_elem(c, list, i, path, sizeof path);
        if (!f) continue;
        fclose(f);
        p->files[p->n_files++] = sim_xstrdup(path);
    }
    p->interval = 60;
    const config_setting_t *fn = config_setting_get_member(g, "functions");
    int64_t top = 0;
    if (fn && config_setting_is_aggregate(fn)) {
        const config_setting_t *names = conf_list(c, g, "functions", true);
        unsigned m = names ? (unsigned)config_setting_length(names) : 0;
        p->pick = sim_xcalloc(m ? m : 1, sizeof *p->pick);
        for (unsigned i = 0; i < m; i++) {
            const char *h = NULL;
            if (conf_elem_string(c, names, i, &h)) p->pick[p->n_pick++] = sim_xstrdup(h);
        }
        if (m == 0) conf_error(c, names, "an empty list of functions");
    } else if (fn && config_setting_type(fn) == CONFIG_TYPE_STRING) {
        static const char *const all[] = {"all", NULL};
        int k = 0;
        conf_get_choice(c, g, "functions", true, all, &k);
    } else if (fn) {
        conf_get_int(c, g, "functions", true, 1, 1000000, &top);
    }
    if (conf_errors(c) != before || p->n_files != n) return false;
    if (top > 0) { /* the top N by volume over every file */
        struct volumes vs = {0};
        struct source s = {0};
        s.p = p;
        bool ok = true;
        unsigned d = 0;
        for (; ok && d < p->n_files; d++) ok = azure_day(&s, d, add_volume, &vs);
        if (!ok) conf_error_data(c, p->files[d - 1], s.line, "%s", s.err);
        free(s.row);
        if (ok && vs.n) {
            qsort(vs.v, vs.n, sizeof *vs.v, by_hash);
            size_t m = 0; /* the same function on several days: one total */
            for (size_t i = 0; i < vs.n; i++) {
                if (m && !strcmp(vs.v[m - 1].hash, vs.v[i].hash)) {
                    vs.v[m - 1].total += vs.v[i].total;
                    free(vs.v[i].hash);
                } else {
                    vs.v[m++] = vs.v[i];
                }
            }
            qsort(vs.v, m, sizeof *vs.v, by_total);
            size_t keep = (size_t)top < m ? (size_t)top : m;
            p->pick = sim_xcalloc(keep, sizeof *p->pick);
            for (size_t i = 0; i < m; i++) {
                if (i < keep) p->pick[p->n_pick++] = vs.v[i].hash;
                else free(vs.v[i].hash);
            }
        }
        free(vs.v);
        if (!ok) return false;
    }
    return true;
}

bool trace_parse(conf *c, const config_setting_t *g, struct trace_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    p->time_column = "time";
    p->count_column = "count";
    p->compress = p->scale = 1.0;
    char path[4096];
    int format = 0;
    conf_get_choice(c, g, "format", true, format_names, &format);
    p->format = (enum trace_format)format;
    FILE *f = NULL;
    if (p->format == TRACE_AZURE_FUNCTIONS) {
        if (!parse_azure(c, g, p)) return false;
        f = stdin; /* not opened: the days are read below */
        snprintf(path, sizeof path, "%s", p->files[0]);
    } else {
        f = conf_open_data(c, g, "file", path, sizeof path);
        if (f) fclose(f);
    }
    p->path = sim_xstrdup(f ? path : "");
    conf_get_string(c, g, "time_column", false, &p->time_column);
    conf_get_string(c, g, "count_column", false, &p->count_column);
    conf_get_string(c, g, "value_column", false, &p->value_column);
    if (p->format != TRACE_AZURE_FUNCTIONS) p->interval = 1;
    if (p->format != TRACE_AZURE_FUNCTIONS)
        conf_get_duration(c, g, "interval", p->format == TRACE_COUNTS_CSV || p->format == TRACE_COUNTS, CONF_ABOVE(0),
                          &p->interval);
    conf_get_duration(c, g, "offset", false, CONF_AT_LEAST(0), &p->offset);
    conf_get_duration(c, g, "window", false, CONF_AT_LEAST(0), &p->window);
    conf_get_double(c, g, "compress", false, CONF_IN(1e-6, 1e9), &p->compress);
    conf_get_double(c, g, "scale", false, CONF_IN(1e-12, 1e9), &p->scale);
    conf_get_bool(c, g, "loop", false, &p->loop);
    if (!f || conf_errors(c) != before) return false;

    /* read it once: its mistakes, and the shaped trace's span, mean and peak */
    struct trace_params once = *p;
    once.loop = false;
    struct trace_reader *r = reader_new(&once);
    double total = 0, peak = 0, x, last = 0;
    if (p->format == TRACE_TIMESTAMPS_CSV) { /* requests, in bins of `interval` for the peak */
        double v, bin_start = 0, in_bin = 0;
        while (!r->src.err[0] && trace_next_request(r, &x, &v)) {
            double t = x * p->compress; /* trace seconds from the window's start */
            if (t >= bin_start + p->interval) {
                bin_start += floor((t - bin_start) / p->interval) * p->interval;
                in_bin = 0;
            }
            peak = ++in_bin > peak ? in_bin : peak;
            total++;
            last = t;
        }
        p->intervals = (uint64_t)total;
    } else {
        while (!r->src.err[0] && trace_next(r, &x)) {
            p->intervals++;
            total += x;
            if (x > peak) peak = x;
        }
    }
    const char *why = r->src.err;
    unsigned line = r->src.line ? r->src.line : 1;
    if (why[0] && p->format == TRACE_AZURE_FUNCTIONS) conf_error_data(c, p->files[r->src.day], line, "%s", why);
    else if (why[0]) conf_error_data(c, p->path, p->format == TRACE_COUNTS ? 1 : line, "%s", why);
    else if (p->intervals == 0)
        conf_error_in(c, g, p->offset > 0 ? "offset" : "file", "the window holds no interval of the trace (it starts "
                      "after the trace ends)");
    trace_close(r);
    double len = p->interval / p->compress; /* simulated seconds per interval */
    p->span_s = p->format == TRACE_TIMESTAMPS_CSV ? (p->window > 0 ? p->window : last + p->interval) / p->compress
                                                  : (double)p->intervals * len;
    p->mean_rps = p->intervals ? total * p->scale / p->span_s : 0;
    p->peak_rps = peak * p->scale / len;
    return conf_errors(c) == before;
}

void trace_params_free(struct trace_params *p)
{
    free(p->path);
    p->path = NULL;
    for (unsigned i = 0; i < p->n_files; i++) free(p->files[i]);
    for (unsigned i = 0; i < p->n_pick; i++) free(p->pick[i]);
    free(p->files);
    free(p->pick);
    p->files = p->pick = NULL;
    p->n_files = p->n_pick = 0;
}
