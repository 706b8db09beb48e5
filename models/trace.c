/* trace.c: streaming counts-per-interval traces and their shaping. See trace.h. */
#define _GNU_SOURCE /* strchrnul */
#include "trace.h"

#include "sim.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const format_names[] = {"counts_csv", "counts", "timestamps_csv", "azure_functions", NULL};

#define AZURE_MINUTES 1440

/* The date of the last time parsed, and its first second: consecutive rows share their date. */
struct date_cache {
    char date[10];
    int64_t day_s;
};

/* The file's intervals in order: (index from the trace's start, count). */
struct source {
    FILE *f;
    const char *path;          /* the file read (an Azure trace: its first day) */
    int stream;                /* timestamps: the class of every row of this file, -1: from class_col or 0 */
    const struct trace_params *p;
    struct trace_params *learn; /* class_column: while the trace is checked, the class names found go here */
    unsigned line;
    int time_col, count_col;   /* CSV columns, -1 none */
    int value_col[TRACE_MAX_VALUES]; /* timestamps: the value columns */
    int class_col;             /* timestamps: the class column, -1 none */
    double t0;                 /* the trace time of its first row or count, s */
    int64_t last;              /* index of the last interval (or row) read, -1 before the first */
    double prev;               /* timestamps: the last row's time since the first, s */
    unsigned day, minute;      /* azure: the day file being replayed, and the next minute of it */
    double *counts;            /* azure: invocations per minute of that day, AZURE_MINUTES per stream */
    struct date_cache dates;   /* CSV: the date of the last row */
    char row_text[4096];       /* timestamps: the last row, split into fields */
    const char *class_field;   /* timestamps: its class (in row_text), NULL without a class column */
    char buf[65536];           /* read ahead (fread) */
    size_t pos, len;
    bool eof;
    char *row;                 /* azure: a line buffer */
    size_t row_cap;
    char err[256];             /* why reading stopped early, "" at a clean end */
};

/* The number a whole field holds, NAN if it holds anything else. Short runs of digits (counts, tokens)
 * are read without strtod, which costs several times more. */
static double parse_number(const char *s)
{
    double x = 0;
    const char *c = s;
    for (; *c >= '0' && *c <= '9' && c - s < 15; c++) x = 10 * x + (*c - '0');
    if (*c == '\0' && c > s) return x;
    char *end;
    x = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(x) ? x : NAN;
}

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar (the civil-from-days inverse of
 * H. Hinnant's "chrono-compatible low-level date algorithms"). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Whether y-m-d is a day of the Gregorian calendar (30 February is not). */
static bool valid_date(int y, int m, int d)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1] + (m == 2 && leap);
}

/* The seconds of a valid date and time of day (a leap second as :60), NAN if it is not valid. */
static double civil_seconds(int y, int mo, int d, int h, int mi, int sec)
{
    if (!valid_date(y, mo, d) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return NAN;
    return (double)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec);
}

/* The n digits at s as a number, -1 if one is not a digit. */
static int fixed_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = 10 * v + (s[i] - '0');
    }
    return v;
}

/* The common "YYYY-MM-DD HH:MM:SS[.fff]" without sscanf and timegm (a timestamps trace parses one per
 * request); NAN when s is not exactly that. cache may be NULL. */
static double parse_fixed_time(const char *s, struct date_cache *cache)
{
    if (strnlen(s, 19) < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return NAN;
    int64_t day_s;
    if (cache && memcmp(cache->date, s, 10) == 0) {
        day_s = cache->day_s;
    } else {
        int y = fixed_digits(s, 4), mo = fixed_digits(s + 5, 2), d = fixed_digits(s + 8, 2);
        if (y < 0 || !valid_date(y, mo, d)) return NAN;
        day_s = days_from_civil(y, mo, d) * 86400;
        if (cache) {
            memcpy(cache->date, s, 10);
            cache->day_s = day_s;
        }
    }
    int h = fixed_digits(s + 11, 2), mi = fixed_digits(s + 14, 2), sec = fixed_digits(s + 17, 2);
    /* not civil_seconds: the day may come from the cache */
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return NAN;
    static const double pow10[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    int64_t digits = 0;
    int n = 0;
    const char *f = s + 19;
    if (*f == '.') {
        for (f++; *f >= '0' && *f <= '9'; f++, n++)
            if (n < 15) digits = 10 * digits + (*f - '0');
        if (n == 0) return NAN; /* a point without digits */
    }
    if (*f != '\0') return NAN;
    return (double)(day_s + h * 3600 + mi * 60 + sec) +
           (double)digits / pow10[n < 15 ? n : 15];
}

/* Seconds of a time value: a number, or "YYYY-MM-DD HH:MM:SS" (UTC). NAN if neither. cache may be NULL. */
static double parse_time(const char *s, struct date_cache *cache)
{
    double fixed = parse_fixed_time(s, cache);
    if (!isnan(fixed)) return fixed;
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end == '\0') return v;
    int y, mo, d, h, mi, sec, n = 0; /* fields of other widths, e.g. "1998-6-9 8:05:00" */
    if (sscanf(s, "%d-%d-%d %d:%d:%d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return NAN;
    double frac = 0;
    if (s[n] == '.') { /* a fraction of a second */
        frac = strtod(s + n, &end);
        if (*end != '\0') return NAN;
    } else if (s[n] != '\0') {
        return NAN;
    }
    return civil_seconds(y, mo, d, h, mi, sec) + frac;
}

/* Splits a CSV line in place into at most max fields, blanks around each removed; returns how many. */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *s = line;
    for (;;) {
        while (*s == ' ' || *s == '\t') s++;
        fields[n++] = s;
        char *e = strchrnul(s, ',');
        char *next = *e ? e + 1 : NULL;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
        *e = '\0';
        if (!next || n == max) return n;
        s = next;
    }
}

static int by_pick_hash(const void *a, const void *b)
{
    return strcmp(((const struct trace_pick *)a)->hash, ((const struct trace_pick *)b)->hash);
}

/* Azure: the stream a function's invocations go to, -1 when it is not replayed. */
static int stream_of(const struct trace_params *p, const char *hash)
{
    struct trace_pick key = {(char *)hash, 0};
    const struct trace_pick *hit = p->n_pick ? bsearch(&key, p->pick, p->n_pick, sizeof *p->pick, by_pick_hash) : NULL;
    if (hit) return (int)hit->stream;
    return p->pick_rest ? (int)p->n_streams - 1 : -1;
}

/* class_column: the stream of a class name, learned while the trace is checked; -1 with err set. */
static int class_stream(struct source *s, const char *name)
{
    const struct trace_params *p = s->learn ? s->learn : s->p;
    unsigned n = 0;
    for (; n < TRACE_MAX_STREAMS && p->stream_class[n]; n++)
        if (!strcmp(p->stream_class[n], name)) return (int)n;
    if (!s->learn) {
        snprintf(s->err, sizeof s->err, "class \"%.64s\" is not among the classes found when the trace was checked",
                 name);
        return -1;
    }
    if (!name[0]) {
        snprintf(s->err, sizeof s->err, "an empty class name in column \"%s\"", p->class_column);
        return -1;
    }
    if (n == TRACE_MAX_STREAMS) {
        snprintf(s->err, sizeof s->err, "more than %d classes in column \"%s\"", TRACE_MAX_STREAMS, p->class_column);
        return -1;
    }
    s->learn->stream_class[n] = sim_xstrdup(name);
    s->learn->stream_line[n] = s->line;
    s->learn->n_streams = n + 1;
    return (int)n;
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
    if (!s->counts) s->counts = sim_xcalloc((size_t)p->n_streams * AZURE_MINUTES, sizeof *s->counts);
    memset(s->counts, 0, (size_t)p->n_streams * AZURE_MINUTES * sizeof *s->counts);
    s->line = 0;
    bool ok = true;
    while (ok && getline(&s->row, &s->row_cap, f) > 0) {
        s->line++;
        if (s->line == 1 || s->row[strspn(s->row, " \t\r\n")] == '\0') continue; /* the header, a blank line */
        char *save = NULL, *hash = NULL, *tok = strtok_r(s->row, ",\r\n", &save);
        int col = 0, use = -1;
        double total = 0, *minutes = NULL;
        for (; tok; tok = strtok_r(NULL, ",\r\n", &save), col++) {
            if (col == 2) {
                hash = tok;
                use = stream_of(p, hash);
                minutes = use >= 0 ? s->counts + (size_t)use * AZURE_MINUTES : NULL;
            }
            if (col < 4) continue;
            double v = parse_number(tok);
            if (!(v >= 0) || col - 4 >= AZURE_MINUTES) {
                ok = false;
                break;
            }
            total += v;
            if (minutes) minutes[col - 4] += v;
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

/* Moves what is left of the buffer to its start and reads more after it; false at the file's end. */
static bool refill(struct source *s)
{
    if (s->eof) return false;
    memmove(s->buf, s->buf + s->pos, s->len - s->pos);
    s->len -= s->pos;
    s->pos = 0;
    size_t got = fread(s->buf + s->len, 1, sizeof s->buf - s->len, s->f);
    s->len += got;
    if (got == 0) s->eof = true;
    return got > 0;
}

/* The next line of a CSV file, its end removed, copied into line (cap bytes) through the buffer
 * (fgets costs twice as much per row), counting lines; false at the file's end, or with err set for
 * a line that does not fit. */
static bool next_line(struct source *s, char *line, size_t cap)
{
    s->line++;
    for (;;) {
        char *nl = memchr(s->buf + s->pos, '\n', s->len - s->pos);
        size_t n = nl ? (size_t)(nl - (s->buf + s->pos)) : s->len - s->pos;
        if (nl || (s->eof && n > 0)) {
            if (n >= cap) {
                snprintf(s->err, sizeof s->err, "a line longer than %zu characters", cap - 1);
                return false;
            }
            memcpy(line, s->buf + s->pos, n);
            line[n] = '\0';
            s->pos += n + (nl != NULL);
            return true;
        }
        if (s->pos == 0 && s->len == sizeof s->buf) {
            snprintf(s->err, sizeof s->err, "a line longer than %zu characters", cap - 1);
            return false;
        }
        if (!refill(s) && s->pos == s->len) return false; /* at the end, a last line without its newline is taken */
    }
}

/* Opens file `file` of the trace (of a timestamps trace's files; 0 for the other layouts). */
static bool source_open(struct source *s, const struct trace_params *p, unsigned file)
{
    memset(s, 0, sizeof *s);
    s->p = p;
    bool merged = p->format == TRACE_TIMESTAMPS_CSV && p->n_files > 0;
    s->path = merged ? p->files[file] : p->path;
    s->stream = merged && !p->class_column && p->stream_class[0] ? (int)file : -1;
    s->last = -1;
    s->time_col = s->count_col = s->class_col = -1;
    s->t0 = p->format == TRACE_COUNTS ? p->start : 0; /* an Azure day starts at its midnight */
    if (p->format == TRACE_AZURE_FUNCTIONS) { /* days are read one at a time as the replay needs them */
        s->minute = AZURE_MINUTES;
        s->day = 0;
        return p->n_files > 0;
    }
    s->f = fopen(s->path, "r");
    if (!s->f) {
        snprintf(s->err, sizeof s->err, "cannot read the trace");
        return false;
    }
    if (p->format == TRACE_COUNTS) return true;
    char line[4096], *fields[64];
    if (!next_line(s, line, sizeof line)) {
        if (!s->err[0]) snprintf(s->err, sizeof s->err, "an empty file: expected a header line naming the columns");
        return false;
    }
    s->line = 1;
    int n = split(line, fields, 64);
    for (int i = 0; i < n; i++) {
        if (!strcmp(fields[i], p->time_column)) s->time_col = i;
        if (!strcmp(fields[i], p->count_column)) s->count_col = i;
    }
    if (p->format == TRACE_TIMESTAMPS_CSV) { /* value columns are optional */
        s->count_col = -1;
        for (unsigned k = 0; k < p->n_values; k++) {
            s->value_col[k] = -1;
            for (int i = 0; i < n; i++)
                if (!strcmp(fields[i], p->value_column[k])) s->value_col[k] = i;
            if (s->value_col[k] < 0) {
                snprintf(s->err, sizeof s->err, "no column \"%s\" in the header", p->value_column[k]);
                return false;
            }
        }
        for (int i = 0; p->class_column && i < n; i++)
            if (!strcmp(fields[i], p->class_column)) s->class_col = i;
        if (p->class_column && s->class_col < 0) {
            snprintf(s->err, sizeof s->err, "no column \"%s\" in the header", p->class_column);
            return false;
        }
    }
    if (s->time_col < 0 || (s->count_col < 0 && p->format != TRACE_TIMESTAMPS_CSV)) {
        snprintf(s->err, sizeof s->err, "no column \"%s\" in the header", s->time_col < 0 ? p->time_column : p->count_column);
        return false;
    }
    return true;
}

/* Timestamps layout: the next row's time (s since the first row) and values, and its class field in
 * s->class_field (until the next row); false at the end or on a mistake (err set). */
static bool source_next_request(struct source *s, double *t, double *value)
{
    const struct trace_params *p = s->p;
    if (!s->f || s->err[0]) return false;
    char *fields[64];
    while (next_line(s, s->row_text, sizeof s->row_text)) {
        int n = split(s->row_text, fields, 64);
        if (n == 1 && fields[0][0] == '\0') continue;
        int need = s->time_col > s->class_col ? s->time_col : s->class_col;
        for (unsigned k = 0; k < p->n_values; k++) need = s->value_col[k] > need ? s->value_col[k] : need;
        if (n <= need) {
            snprintf(s->err, sizeof s->err, "expected %d columns, got %d", need + 1, n);
            return false;
        }
        s->class_field = s->class_col >= 0 ? fields[s->class_col] : NULL;
        double at = parse_time(fields[s->time_col], &s->dates);
        if (isnan(at)) {
            snprintf(s->err, sizeof s->err, "expected a time (seconds or \"YYYY-MM-DD HH:MM:SS[.fff]\"), got \"%s\"",
                     fields[s->time_col]);
            return false;
        }
        for (unsigned k = 0; k < p->n_values; k++) {
            value[k] = parse_number(fields[s->value_col[k]]);
            if (isnan(value[k])) {
                snprintf(s->err, sizeof s->err, "expected a number in column \"%s\", got \"%s\"", p->value_column[k],
                         fields[s->value_col[k]]);
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
        { /* most counts are short integers followed by a blank: one pass, no strtod */
            size_t i = s->pos;
            double x = 0;
            while (i < s->len && s->buf[i] >= '0' && s->buf[i] <= '9') x = 10 * x + (s->buf[i++] - '0');
            if (i > s->pos && i - s->pos < 16 && (i < s->len ? s->buf[i] == ' ' || s->buf[i] == '\n' : s->eof)) {
                s->pos = i;
                *v = x;
                return 1;
            }
        }
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
        refill(s); /* keeps a token cut by the buffer's end */
    }
}

/* The next (index, counts per stream) of the file; false at its end or on a mistake (then err is set). */
static bool source_next(struct source *s, int64_t *index, double *count)
{
    if (s->p->format == TRACE_AZURE_FUNCTIONS) {
        if (s->err[0]) return false;
        if (s->minute == AZURE_MINUTES) { /* the next day's file */
            unsigned next = s->last >= 0 ? s->day + 1 : 0;
            if (next >= s->p->n_files) return false;
            s->day = next; /* before reading it: a mistake is reported in this day's file */
            if (!azure_day(s, next, NULL, NULL)) return false;
            s->minute = 0;
        }
        *index = ++s->last;
        for (unsigned k = 0; k < s->p->n_streams; k++) count[k] = s->counts[(size_t)k * AZURE_MINUTES + s->minute];
        s->minute++;
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
    while (next_line(s, line, sizeof line)) {
        int n = split(line, fields, 64);
        if (n == 1 && fields[0][0] == '\0') continue; /* a blank line */
        int need = s->time_col > s->count_col ? s->time_col : s->count_col;
        if (n <= need) {
            snprintf(s->err, sizeof s->err, "expected %d columns, got %d", need + 1, n);
            return false;
        }
        double t = parse_time(fields[s->time_col], &s->dates);
        double c = parse_number(fields[s->count_col]);
        if (isnan(t) || !(c >= 0)) {
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
    free(s->counts);
    s->row = NULL;
    s->counts = NULL;
    s->row_cap = 0;
}

/* ---- the window, gaps and looping ------------------------------------------------------------ */

/* A timestamps file's next row, read ahead to merge the files by time. */
struct pending {
    bool has;
    double at;                 /* trace time (as the file gives it) */
    double v[TRACE_MAX_VALUES];
};

struct trace_reader {
    const struct trace_params *p;
    unsigned n_src;            /* files read at once: a timestamps trace's files, else 1 */
    struct source *src;
    struct pending *row;       /* timestamps: each file's next row */
    bool primed;               /* timestamps: row[] holds each file's first row, base is known */
    double base;               /* timestamps: the earliest first row over the files, trace s */
    int64_t first, end;        /* the window's intervals [first, end); end < 0: to the file's end */
    int64_t next;              /* the next interval to return */
    int64_t have;              /* index of the pending row from the file, -1 none */
    int64_t pass;              /* timestamps: passes of the loop completed */
    double pass_len;           /* timestamps: trace seconds one pass spans */
    double have_count[TRACE_MAX_STREAMS];
    bool file_done;
};

static bool reader_start(struct trace_reader *r)
{
    for (unsigned i = 0; i < r->n_src; i++) source_close(&r->src[i]);
    for (unsigned i = 0; i < r->n_src; i++)
        if (!source_open(&r->src[i], r->p, i)) return false;
    r->primed = false;
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
    r->n_src = p->format == TRACE_TIMESTAMPS_CSV && p->n_files > 0 ? p->n_files : 1;
    r->src = sim_xcalloc(r->n_src, sizeof *r->src);
    r->row = sim_xcalloc(r->n_src, sizeof *r->row);
    r->first = (int64_t)llround(p->offset / p->interval);
    r->end = p->window > 0 ? r->first + (int64_t)llround(p->window / p->interval) : -1;
    if (!reader_start(r)) r->file_done = true;
    return r;
}

/* The file where reading stopped on a mistake, NULL if none did. */
static const struct source *reader_error(const struct trace_reader *r)
{
    for (unsigned i = 0; i < r->n_src; i++)
        if (r->src[i].err[0]) return &r->src[i];
    return NULL;
}

struct trace_reader *trace_open(const struct trace_params *p)
{
    struct trace_reader *r = reader_new(p);
    if (reader_error(r)) {
        trace_close(r);
        return NULL;
    }
    return r;
}

/* Reads file i's next row into row[i]. */
static void advance(struct trace_reader *r, unsigned i)
{
    struct pending *q = &r->row[i];
    q->has = source_next_request(&r->src[i], &q->at, q->v);
    q->at += r->src[i].t0; /* the file's own time, not since its first row */
}

bool trace_next_request(struct trace_reader *r, double *t, double *value, unsigned *stream)
{
    const struct trace_params *p = r->p;
    for (;;) {
        if (!r->primed) { /* each file's first row; times count from the earliest */
            r->primed = true;
            r->base = INFINITY;
            for (unsigned i = 0; i < r->n_src; i++) {
                advance(r, i);
                if (r->row[i].has && r->row[i].at < r->base) r->base = r->row[i].at;
            }
        }
        if (reader_error(r)) return false;
        unsigned j = r->n_src; /* the file with the earliest next row (the first on a tie) */
        for (unsigned i = 0; i < r->n_src; i++)
            if (r->row[i].has && (j == r->n_src || r->row[i].at < r->row[j].at)) j = i;
        double at = j < r->n_src ? r->row[j].at - r->base : 0;
        if (j < r->n_src && at < p->offset) { /* before the window */
            advance(r, j);
            continue;
        }
        if (j < r->n_src && (p->window <= 0 || at < p->offset + p->window)) {
            /* the class of a row in the window only: rows outside it need no class of the workload */
            const struct source *s = &r->src[j];
            int k = s->stream >= 0 ? s->stream : s->class_field ? class_stream(&r->src[j], s->class_field) : 0;
            if (k < 0) return false;
            *t = ((double)r->pass * r->pass_len + at - p->offset) / p->compress;
            memcpy(value, r->row[j].v, r->p->n_values * sizeof *value);
            *stream = (unsigned)k;
            advance(r, j);
            return true;
        }
        /* the window (or every file) is over: the next pass starts a window (or the trace's span) later */
        double last = -INFINITY;
        for (unsigned i = 0; i < r->n_src; i++)
            if (r->src[i].last >= 0 && r->src[i].prev + r->src[i].t0 > last) last = r->src[i].prev + r->src[i].t0;
        if (!p->loop || !isfinite(last)) return false;
        r->pass_len = p->window > 0 ? p->window : last - r->base - p->offset + p->interval;
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
            if (source_next(&r->src[0], &i, r->have_count)) {
                r->have = i;
            } else {
                r->file_done = true;
            }
        }
        if (r->file_done && r->have < r->next) { /* the file is over */
            if (r->end < 0 && r->p->loop && r->next > r->first && reader_start(r)) continue;
            return false;
        }
        for (unsigned k = 0; k < r->p->n_streams; k++) /* a missing interval counts zero */
            count[k] = r->have == r->next ? r->have_count[k] : 0.0;
        r->next++;
        return true;
    }
}

void trace_close(struct trace_reader *r)
{
    if (!r) return;
    for (unsigned i = 0; i < r->n_src; i++) source_close(&r->src[i]);
    free(r->src);
    free(r->row);
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

/* `files` (in order), `functions` ("all", a number for the top N by volume, or a list of HashFunction
 * values) and `classes` (names for the chosen functions in order, the rest to the last) of an
 * azure_functions trace. */
/* `files`: the trace's files in order (paths resolved and owned); false if one cannot be read. */
static bool parse_files(conf *c, const config_setting_t *g, struct trace_params *p)
{
    const config_setting_t *list = conf_list(c, g, "files", true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (list && n == 0) conf_error(c, list, "needs at least one file");
    if (n > TRACE_MAX_STREAMS && p->format == TRACE_TIMESTAMPS_CSV)
        conf_error(c, list, "at most %d files are merged, got %u", TRACE_MAX_STREAMS, n);
    p->files = sim_xcalloc(n ? n : 1, sizeof *p->files);
    for (unsigned i = 0; i < n; i++) {
        char path[4096];
        FILE *f = conf_open_data_elem(c, list, i, path, sizeof path);
        if (!f) continue;
        fclose(f);
        p->files[p->n_files++] = sim_xstrdup(path);
    }
    return n > 0 && p->n_files == n;
}

/* `classes`: the class names of the trace's streams (owned); returns how many were given. */
static unsigned parse_class_names(conf *c, const config_setting_t *g, struct trace_params *p)
{
    const config_setting_t *classes = conf_list(c, g, "classes", false);
    unsigned k = classes ? (unsigned)config_setting_length(classes) : 0;
    if (classes && k == 0) conf_error(c, classes, "an empty list of classes");
    if (k > TRACE_MAX_STREAMS) conf_error(c, classes, "at most %d classes, got %u", TRACE_MAX_STREAMS, k);
    p->n_streams = 0;
    for (unsigned i = 0; i < k && i < TRACE_MAX_STREAMS; i++) {
        const char *name = NULL;
        if (!conf_elem_string(c, classes, i, &name)) continue;
        p->stream_class[p->n_streams++] = sim_xstrdup(name);
    }
    if (p->n_streams == 0) p->n_streams = 1;
    return k;
}

static bool parse_azure(conf *c, const config_setting_t *g, struct trace_params *p)
{
    int before = conf_errors(c);
    parse_files(c, g, p);
    p->interval = 60;
    unsigned k = parse_class_names(c, g, p);
    const config_setting_t *classes = config_setting_get_member(g, "classes");
    unsigned n = p->n_files;

    const config_setting_t *fn = config_setting_get_member(g, "functions");
    int64_t top = 0;
    if (fn && config_setting_is_aggregate(fn)) {
        const config_setting_t *names = conf_list(c, g, "functions", true);
        unsigned m = names ? (unsigned)config_setting_length(names) : 0;
        p->pick = sim_xcalloc(m ? m : 1, sizeof *p->pick);
        for (unsigned i = 0; i < m; i++) {
            const char *h = NULL;
            if (!conf_elem_string(c, names, i, &h)) continue;
            for (unsigned j = 0; j < p->n_pick; j++)
                if (!strcmp(p->pick[j].hash, h))
                    conf_error(c, config_setting_get_elem(names, i), "\"%s\" is listed twice", h);
            p->pick[p->n_pick].hash = sim_xstrdup(h);
            p->pick[p->n_pick].stream = p->n_pick < p->n_streams ? p->n_pick : p->n_streams - 1;
            p->n_pick++;
        }
        if (m == 0) conf_error(c, names, "an empty list of functions");
        else if (k > m) conf_error(c, classes, "%u classes for %u functions: each class needs a function", k, m);
    } else if (fn && config_setting_type(fn) == CONFIG_TYPE_STRING) {
        static const char *const all[] = {"all", NULL};
        int choice = 0;
        conf_get_choice(c, g, "functions", true, all, &choice);
        p->pick_rest = true;
        top = k > 1 ? k - 1 : 0; /* the largest functions get the classes before the last */
    } else if (fn) {
        conf_get_int(c, g, "functions", true, 1, 1000000, &top);
        if (k > top) conf_error(c, classes, "%u classes for the top %lld functions: each class needs a function", k,
                                (long long)top);
    } else {
        p->pick_rest = true; /* all, by default */
        top = k > 1 ? k - 1 : 0;
    }
    if (conf_errors(c) != before || p->n_files != n || n == 0) return false;
    if (top > 0) { /* the top N by volume over every file */
        struct volumes vs = {0};
        struct source s = {0};
        s.p = p;
        bool ok = true;
        unsigned d = 0;
        for (; ok && d < p->n_files; d++) ok = azure_day(&s, d, add_volume, &vs);
        if (!ok) conf_error_data(c, p->files[d - 1], s.line, "%s", s.err);
        free(s.row);
        free(s.counts);
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
            p->pick = sim_xcalloc(keep ? keep : 1, sizeof *p->pick);
            for (size_t i = 0; i < m; i++) {
                if (i < keep) {
                    unsigned rank = (unsigned)i;
                    unsigned stream = rank < p->n_streams ? rank : p->n_streams - 1;
                    p->pick[p->n_pick++] = (struct trace_pick){vs.v[i].hash, stream};
                } else {
                    free(vs.v[i].hash);
                }
            }
        }
        free(vs.v);
        if (!ok) return false;
    }
    if (p->n_pick > 1) qsort(p->pick, p->n_pick, sizeof *p->pick, by_pick_hash); /* for stream_of's bsearch */
    return true;
}

/* `value_column`: a column name, or a list of up to TRACE_MAX_VALUES (timestamps only). */
static void parse_value_columns(conf *c, const config_setting_t *g, struct trace_params *p)
{
    const config_setting_t *v = config_setting_get_member(g, "value_column");
    if (!v) return;
    if (p->format != TRACE_TIMESTAMPS_CSV) {
        conf_error_in(c, g, "value_column", "applies to the timestamps_csv layout only");
        return;
    }
    if (config_setting_type(v) == CONFIG_TYPE_STRING) {
        if (conf_get_string(c, g, "value_column", true, &p->value_column[0])) p->n_values = 1;
        return;
    }
    const config_setting_t *list = conf_list(c, g, "value_column", true);
    unsigned n = list ? (unsigned)config_setting_length(list) : 0;
    if (list && (n == 0 || n > TRACE_MAX_VALUES))
        conf_error(c, list, "expected 1 to %d column names, got %u", TRACE_MAX_VALUES, n);
    for (unsigned i = 0; i < n && i < TRACE_MAX_VALUES; i++)
        if (conf_elem_string(c, list, i, &p->value_column[p->n_values])) p->n_values++;
}

/* `start`: a count trace's first time, as seconds or a "YYYY-MM-DD HH:MM:SS" date-time. */
static void parse_start(conf *c, const config_setting_t *g, struct trace_params *p)
{
    const config_setting_t *s = config_setting_get_member(g, "start");
    if (!s) return;
    if (p->format != TRACE_COUNTS) {
        conf_error_in(c, g, "start", "applies to the bare counts layout only (the other layouts give their own times)");
        return;
    }
    double t = NAN;
    const char *text = NULL;
    if (config_setting_type(s) == CONFIG_TYPE_STRING && conf_get_string(c, g, "start", true, &text))
        t = parse_time(text, NULL);
    else if (config_setting_type(s) != CONFIG_TYPE_STRING &&
             !conf_get_double(c, g, "start", true, CONF_IN(-1e12, 1e12), &t))
        return;
    if (!isfinite(t))
        conf_error_in(c, g, "start", "expected the time of the first count: seconds, or \"YYYY-MM-DD HH:MM:SS\"");
    else p->start = t;
}

bool trace_parse(conf *c, const config_setting_t *g, struct trace_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    p->time_column = "time";
    p->count_column = "count";
    p->compress = p->scale = 1.0;
    p->n_streams = 1;
    char path[4096];
    int format = 0;
    conf_get_choice(c, g, "format", true, format_names, &format);
    p->format = (enum trace_format)format;
    FILE *f = NULL;
    if (p->format == TRACE_AZURE_FUNCTIONS) {
        if (!parse_azure(c, g, p)) return false;
        f = stdin; /* not opened: the days are read below */
        snprintf(path, sizeof path, "%s", p->files[0]);
    } else if (p->format == TRACE_TIMESTAMPS_CSV && config_setting_get_member(g, "files")) {
        /* several files merged by time, optionally one class each */
        if (config_setting_get_member(g, "file")) conf_error_in(c, g, "file", "give file or files, not both");
        if (!parse_files(c, g, p)) return false;
        unsigned k = parse_class_names(c, g, p);
        if (k > 0 && k != p->n_files)
            conf_error_in(c, g, "classes", "%u classes for %u files: give one class per file", k, p->n_files);
        if (k > 0 && config_setting_get_member(g, "class_column"))
            conf_error_in(c, g, "class_column", "give one class per file or a class column, not both");
        if (config_setting_get_member(g, "functions"))
            conf_error_in(c, g, "functions", "applies to the azure_functions layout only");
        f = stdin; /* not opened: read below */
        snprintf(path, sizeof path, "%s", p->files[0]);
    } else {
        f = conf_open_data(c, g, "file", path, sizeof path);
        if (f) fclose(f);
        static const char *const azure_only[] = {"files", "functions", "classes"};
        for (size_t i = 0; i < sizeof azure_only / sizeof azure_only[0]; i++)
            if (config_setting_get_member(g, azure_only[i]))
                conf_error_in(c, g, azure_only[i], "applies to the azure_functions layout only%s",
                              strcmp(azure_only[i], "classes") || p->format != TRACE_TIMESTAMPS_CSV
                                  ? "" : " (or to timestamps files, one class each; or name a class column)");
    }
    p->path = sim_xstrdup(f ? path : "");
    conf_get_string(c, g, "time_column", false, &p->time_column);
    conf_get_string(c, g, "count_column", false, &p->count_column);
    parse_value_columns(c, g, p);
    conf_get_string(c, g, "class_column", false, &p->class_column);
    if (p->class_column && p->format != TRACE_TIMESTAMPS_CSV)
        conf_error_in(c, g, "class_column", "applies to the timestamps_csv layout only");
    if (p->class_column) p->n_streams = 0; /* learned from the file below */
    parse_start(c, g, p);
    if (p->format != TRACE_AZURE_FUNCTIONS) p->interval = 1;
    if (p->format != TRACE_AZURE_FUNCTIONS)
        conf_get_duration(c, g, "interval", p->format == TRACE_COUNTS_CSV || p->format == TRACE_COUNTS, CONF_ABOVE(0),
                          &p->interval);
    conf_get_duration(c, g, "offset", false, CONF_AT_LEAST(0), &p->offset);
    conf_get_duration(c, g, "window", false, CONF_AT_LEAST(0), &p->window);
    conf_get_double(c, g, "compress", false, CONF_IN(1e-6, 1e9), &p->compress);
    conf_get_bool(c, g, "loop", false, &p->loop);
    p->aligned = config_setting_get_member(g, "time_zone") != NULL;
    conf_get_duration(c, g, "time_zone", false, CONF_IN(-14 * 3600.0, 14 * 3600.0), &p->time_zone);
    /* the rate: a factor, or a target for the shaped trace's mean or peak */
    static const char *const rate_keys[] = {"scale", "mean_rps", "peak_rps"};
    double target = NAN;
    int rate_key = -1;
    for (int i = 0; i < 3; i++) {
        if (!config_setting_get_member(g, rate_keys[i])) continue;
        if (rate_key >= 0) {
            conf_error_in(c, g, rate_keys[i], "give one of scale, mean_rps and peak_rps; %s is already set",
                          rate_keys[rate_key]);
            continue;
        }
        rate_key = i;
        conf_get_double(c, g, rate_keys[i], true, i == 0 ? CONF_IN(1e-12, 1e9) : CONF_IN(1e-9, 1e9),
                        i == 0 ? &p->scale : &target);
    }
    if (!f || conf_errors(c) != before) return false;

    /* read it once: its mistakes, and the shaped trace's span, mean and peak */
    struct trace_params once = *p;
    once.loop = false;
    struct trace_reader *r = reader_new(&once);
    for (unsigned i = 0; p->class_column && i < r->n_src; i++) r->src[i].learn = &once;
    double total = 0, peak = 0, x[TRACE_MAX_STREAMS], last = 0, v[TRACE_MAX_VALUES];
    double by_stream[TRACE_MAX_STREAMS] = {0};
    if (p->format == TRACE_TIMESTAMPS_CSV) { /* requests, in bins of `interval` for the peak */
        double bin_start = 0, in_bin = 0;
        unsigned k;
        while (trace_next_request(r, x, v, &k)) {
            double t = x[0] * p->compress; /* trace seconds from the window's start */
            if (t >= bin_start + p->interval) {
                bin_start += floor((t - bin_start) / p->interval) * p->interval;
                in_bin = 0;
            }
            peak = ++in_bin > peak ? in_bin : peak;
            total++;
            by_stream[k]++;
            last = t;
        }
        p->intervals = (uint64_t)total;
    } else {
        while (!reader_error(r) && trace_next(r, x)) {
            p->intervals++;
            double sum = 0;
            for (unsigned k = 0; k < p->n_streams; k++) {
                sum += x[k];
                by_stream[k] += x[k];
            }
            total += sum;
            if (sum > peak) peak = sum;
        }
    }
    if (p->class_column) { /* the classes the file named, in the order it named them */
        p->n_streams = once.n_streams;
        memcpy(p->stream_class, once.stream_class, sizeof p->stream_class);
        memcpy(p->stream_line, once.stream_line, sizeof p->stream_line);
    }
    memcpy(p->stream_requests, by_stream, sizeof by_stream);
    const struct source *bad = reader_error(r);
    unsigned line = bad && bad->line ? bad->line : 1;
    p->first_s = p->format == TRACE_TIMESTAMPS_CSV ? (isfinite(r->base) ? r->base : 0) + p->offset
                                                   : r->src[0].t0 + (double)r->first * p->interval;
    if (bad && p->format == TRACE_AZURE_FUNCTIONS) conf_error_data(c, p->files[bad->day], line, "%s", bad->err);
    else if (bad) conf_error_data(c, bad->path, p->format == TRACE_COUNTS ? 1 : line, "%s", bad->err);
    else if (p->intervals == 0)
        conf_error_in(c, g, p->offset > 0 ? "offset" : p->n_files && p->format == TRACE_TIMESTAMPS_CSV ? "files" : "file",
                      "the window holds no interval of the trace (it starts after the trace ends)");
    trace_close(r);
    if (p->class_column && p->n_streams == 0) p->n_streams = 1; /* no request: reported above */
    double len = p->interval / p->compress; /* simulated seconds per interval */
    p->span_s = p->format == TRACE_TIMESTAMPS_CSV ? (p->window > 0 ? p->window : last + p->interval) / p->compress
                                                  : (double)p->intervals * len;
    if (!isnan(target) && conf_errors(c) == before) { /* the scale that gives the target */
        double unscaled = rate_key == 1 ? total / p->span_s : peak / len;
        if (unscaled > 0) p->scale = target / unscaled;
        else conf_error_in(c, g, rate_keys[rate_key], "cannot scale the window to a rate: it holds no request");
    }
    if (p->aligned) { /* the window's start at its local time of day */
        double tod = fmod(p->first_s + p->time_zone, 86400.0);
        if (tod < 0) tod += 86400.0;
        p->local_s = tod;
        p->lead_s = tod / p->compress;
    }
    p->mean_rps = p->intervals ? total * p->scale / p->span_s : 0;
    p->peak_rps = peak * p->scale / len;
    return conf_errors(c) == before;
}

void trace_describe(const struct trace_params *p, double horizon_s, FILE *f)
{
    double end = p->lead_s + p->span_s; /* when the window ends, in simulated time */
    char fit[128] = "";
    if (p->loop) snprintf(fit, sizeof fit, " (looped over the horizon)");
    else if (end < horizon_s) snprintf(fit, sizeof fit, " (shorter than the horizon)");
    else if (end > horizon_s)
        snprintf(fit, sizeof fit, " (cut by the horizon: its last %g s are not replayed)", end - horizon_s);
    char more[64] = "";
    if (p->format == TRACE_TIMESTAMPS_CSV && p->n_files > 1)
        snprintf(more, sizeof more, " and %u more file%s, merged by time", p->n_files - 1, p->n_files > 2 ? "s" : "");
    fprintf(f, "trace %s%s: %llu %s after shaping, %g s of simulated time%s; mean %.6g requests/s, peak %.6g requests/s "
            "(one interval)\n", p->path, more, (unsigned long long)p->intervals,
            p->format == TRACE_TIMESTAMPS_CSV ? "requests" : "intervals", p->span_s, fit, p->mean_rps, p->peak_rps);
    if (p->aligned) {
        long long ms = llround(p->local_s * 1000);
        char frac[8] = "";
        if (ms % 1000) snprintf(frac, sizeof frac, ".%03lld", ms % 1000);
        fprintf(f, "trace on the local clock (time zone %+g h): the window starts at %02lld:%02lld:%02lld%s local time, "
                "%g s of simulated time after midnight\n", p->time_zone / 3600, ms / 3600000 % 24, ms / 60000 % 60,
                ms / 1000 % 60, frac, p->lead_s);
    }
    if (p->stream_class[0]) {
        double all = 0;
        for (unsigned k = 0; k < p->n_streams; k++) all += p->stream_requests[k];
        fprintf(f, "trace classes:");
        for (unsigned k = 0; k < p->n_streams; k++)
            fprintf(f, "%s %s %.4g%%", k ? "," : "", p->stream_class[k], all > 0 ? 100 * p->stream_requests[k] / all : 0);
        fprintf(f, " of the requests\n");
    }
}

void trace_params_free(struct trace_params *p)
{
    free(p->path);
    p->path = NULL;
    for (unsigned i = 0; i < p->n_files; i++) free(p->files[i]);
    for (unsigned i = 0; i < p->n_pick; i++) free(p->pick[i].hash);
    for (unsigned i = 0; i < TRACE_MAX_STREAMS; i++) free(p->stream_class[i]);
    free(p->files);
    free(p->pick);
    p->files = NULL;
    p->pick = NULL;
    memset(p->stream_class, 0, sizeof p->stream_class);
    p->n_files = p->n_pick = 0;
}
