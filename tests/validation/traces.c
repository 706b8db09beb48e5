/* traces.c: replaying the real traces of shared/data/traces gives their counts.
 *
 * Cases, each over the whole file, interval by interval (a second of NASA, a minute of the World Cup):
 *  (a) NASA 1995 (5,059,950 seconds, 3.46 M requests): the trace reader gives every second's count as
 *      an independent read of the file does.
 *  (b) The same replayed as arrivals in the "even" mode at scale 1: the arrivals of every second equal
 *      the trace's count of that second (exact).
 *  (c) World Cup 1998 (per minute, "YYYY-MM-DD HH:MM:SS" times with gaps): the reader's minutes equal
 *      an independent read, gaps as zeros, and the total is the file's.
 *  (f) The whole World Cup trace (1.35 billion requests) replayed in the "even" mode at scale 1: the
 *      arrivals of every minute equal the trace's count of that minute (exact).
 *  (d) Both traces replayed in the Poisson mode at scale 1 (NASA: 3.46 M arrivals, World Cup: 1.35
 *      billion): every interval's arrivals are Poisson with the trace's count as their mean. An interval
 *      the trace leaves empty gets none; Pearson's statistic sum (O - E)^2 / E over the others lies
 *      inside its normal interval (mean: their number; variance: sum 2 + 1/E, exact for Poisson counts)
 *      at level 1 - 0.05/8, so intervals are neither more nor less variable than Poisson; and the
 *      trace's total lies inside the Poisson interval of the arrivals.
 *  (g) The Azure LLM inference trace's two files (code, conversation; fractional date-times) merged
 *      by time, one class each: every request arrives once, in time order, with its file's class, at
 *      its own time less the earliest first row (within 1 us), as an independent read and sort of both
 *      files gives.
 *  (e) Memory stays flat: replaying the whole NASA trace (58.6 days) in a child process peaks at the
 *      resident memory of replaying its first day, within 512 KiB (the run-to-run noise of a 2 MiB
 *      process; holding the trace would take 40 MiB more).
 * The traces are found at $STRATO_TRACES, else ../shared/data/traces next to the source tree, else
 * /work/shared/data/traces; a missing trace is a failure.
 *
 * Usage: validate_traces
 */
#define _DEFAULT_SOURCE /* timegm */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>
#include <sys/wait.h>

#include <gsl/gsl_cdf.h>

#include "checks.h"
#include "conf.h"
#include "sim.h"
#include "trace.h"
#include "traces.h"
#include "workload.h"

#define N_CHECKS 8

static char root[1024];

/* A trace's params from a `trace` group body (the file path made absolute). */
static conf *parse_trace(const char *body, struct trace_params *p)
{
    char text[8192];
    snprintf(text, sizeof text, "trace: { %s };\n", body);
    conf *c = conf_load_string(text, "validate_traces", stderr);
    if (!c || !trace_parse(c, conf_group(c, conf_root(c), "trace", true), p)) {
        fprintf(stderr, "validate_traces: cannot read the trace: %s\n", body);
        exit(1);
    }
    return c;
}

/* A replay's arrivals per trace interval (bins NULL: only counted). */
struct bins {
    double interval_s;
    uint32_t *n;
    size_t count;
    uint64_t total, late; /* arrivals, and those past the last bin */
};

static void arrive(void *ctx, const struct request *r)
{
    struct bins *b = ctx;
    b->total++;
    if (!b->n) return;
    size_t i = (size_t)(sim_to_seconds(r->arrival) / b->interval_s);
    if (i < b->count) b->n[i]++;
    else b->late++;
}

/* Replays `arrivals_body` (inside `arrivals: { process = "trace"; ... }`) to the horizon into b. */
static void replay(const char *arrivals_body, double horizon_s, struct bins *b)
{
    char text[8192];
    snprintf(text, sizeof text,
             "workload: { arrivals: { process = \"trace\"; %s };\n"
             "  classes = ( { name = \"a\"; cpu = { dist = \"deterministic\"; value = \"1ms\"; }; } ); };\n",
             arrivals_body);
    conf *c = conf_load_string(text, "validate_traces", stderr);
    struct workload_params w;
    if (!c || !workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w)) exit(1);
    sim *s = sim_create(20261130, 0, sim_from_seconds(horizon_s));
    if (b->n) memset(b->n, 0, b->count * sizeof *b->n);
    b->total = b->late = 0;
    struct workload *wl = workload_create(s, &w, arrive, b);
    sim_run(s);
    workload_destroy(wl);
    sim_destroy(s);
    workload_params_free(&w);
    conf_free(c);
}

/* Cases (b) and (f): every interval of an even replay holds the trace's count. */
static void check_even(const char *name, const struct bins *b, const uint32_t *want)
{
    uint64_t bad = 0, requests = 0;
    for (size_t i = 0; i < b->count; i++) {
        bad += b->n[i] != want[i];
        requests += want[i];
    }
    check_true(name, bad == 0 && b->late == 0 && b->total == requests,
               "intervals=%zu mismatched_intervals=%llu arrivals=%llu trace_requests=%llu", b->count,
               (unsigned long long)bad, (unsigned long long)b->total, (unsigned long long)requests);
}

/* Case (d): a Poisson replay's intervals against the trace's counts, see the top. */
static void check_poisson(const char *name, const struct bins *b, const uint32_t *want)
{
    double level = 1.0 - 0.05 / N_CHECKS, z = gsl_cdf_ugaussian_Pinv(1 - (1 - level) / 2);
    double x2 = 0, var = 0, busy = 0, total = 0;
    uint64_t empty_bad = 0;
    for (size_t i = 0; i < b->count; i++) {
        double e = want[i], o = b->n[i];
        total += e;
        if (!(e > 0)) {
            empty_bad += o > 0;
            continue;
        }
        x2 += (o - e) * (o - e) / e;
        var += 2 + 1 / e;
        busy++;
    }
    double zx = (x2 - busy) / sqrt(var), got = (double)b->total;
    double lo = got - z * sqrt(got), hi = got + z * sqrt(got); /* counts of millions: the normal limit */
    check_true(name, b->late == 0 && empty_bad == 0 && fabs(zx) < z && total >= lo && total <= hi,
               "intervals=%zu busy_intervals=%.0f pearson=%.1f (mean %.0f, z=%.2f, bound %.2f) "
               "empty_intervals_with_arrivals=%llu arrivals=%.0f trace_requests=%.0f poisson_ci=[%.0f,%.0f]",
               b->count, busy, x2, busy, zx, z, (unsigned long long)empty_bad, got, total, lo, hi);
}

/* Case (g): one request of the Azure LLM files, as read independently (t: s since 1970). */
struct llm_row {
    double t;
    unsigned file, row; /* its file (its class), and its row in that file (ties keep file order) */
};

static int by_time(const void *a, const void *b)
{
    const struct llm_row *x = a, *y = b;
    if (x->t < y->t) return -1;
    if (x->t > y->t) return 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Reads file `file` (header, then "YYYY-MM-DD HH:MM:SS.fffffff,..." rows) onto rows; returns the count. */
static size_t read_llm(const char *path, unsigned file, struct llm_row **rows, size_t n)
{
    FILE *f = fopen(path, "r");
    char line[256];
    if (!f || !fgets(line, sizeof line, f)) exit(1);
    unsigned k = 0;
    while (fgets(line, sizeof line, f)) {
        struct tm tm = {0};
        double sec;
        if (sscanf(line, "%d-%d-%d %d:%d:%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &sec) != 6)
            exit(1);
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        *rows = realloc(*rows, (n + 1) * sizeof **rows);
        if (!*rows) exit(1);
        (*rows)[n++] = (struct llm_row){(double)timegm(&tm) + sec, file, k++};
    }
    fclose(f);
    return n;
}

/* Case (g): the arrivals of the merged replay, and their classes. */
struct llm_replay {
    double *t;
    unsigned *cls;
    size_t n, cap;
};

static void arrive_llm(void *ctx, const struct request *r)
{
    struct llm_replay *m = ctx;
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 4096;
        m->t = realloc(m->t, m->cap * sizeof *m->t);
        m->cls = realloc(m->cls, m->cap * sizeof *m->cls);
        if (!m->t || !m->cls) exit(1);
    }
    m->t[m->n] = sim_to_seconds(r->arrival);
    m->cls[m->n++] = r->cls;
}

static void check_llm_merge(void)
{
    char code[1200], conv[1200], text[4096];
    snprintf(code, sizeof code, "%s/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv", root);
    snprintf(conv, sizeof conv, "%s/azure-llm-inference-2023/AzureLLMInferenceTrace_conv.csv", root);
    struct llm_row *rows = NULL;
    size_t n_code = read_llm(code, 0, &rows, 0), n = read_llm(conv, 1, &rows, n_code);
    qsort(rows, n, sizeof *rows, by_time);
    snprintf(text, sizeof text,
             "workload: { arrivals: { process = \"trace\"; trace: { format = \"timestamps_csv\"; time_column = \"TIMESTAMP\";\n"
             "  files = [ \"%s\", \"%s\" ]; classes = [ \"code\", \"chat\" ]; }; };\n"
             "  classes = ( { name = \"code\"; cpu = { dist = \"deterministic\"; value = \"1ms\"; }; },\n"
             "              { name = \"chat\"; cpu = { dist = \"deterministic\"; value = \"1ms\"; }; } ); };\n",
             code, conv);
    conf *c = conf_load_string(text, "validate_traces", stderr);
    struct workload_params w;
    if (!c || !workload_parse(c, conf_group(c, conf_root(c), "workload", true), &w)) exit(1);
    sim *s = sim_create(20261130, 0, sim_from_seconds(2 * 3600));
    struct llm_replay m = {0};
    struct workload *wl = workload_create(s, &w, arrive_llm, &m);
    sim_run(s);
    size_t bad_time = 0, bad_class = 0, by_class[2] = {0, 0};
    double worst = 0;
    for (size_t i = 0; i < m.n && i < n; i++) {
        double e = fabs(m.t[i] - (rows[i].t - rows[0].t));
        worst = e > worst ? e : worst;
        bad_time += e > 1e-6 || (i > 0 && m.t[i] < m.t[i - 1]);
        bad_class += m.cls[i] != rows[i].file;
        by_class[m.cls[i] < 2 ? m.cls[i] : 0]++;
    }
    check_true("azure_llm_files_merge_by_time", m.n == n && bad_time == 0 && bad_class == 0,
               "requests=%zu code=%zu (file %zu) chat=%zu (file %zu) arrivals=%zu out_of_place=%zu wrong_class=%zu "
               "worst_time_error_s=%.2e",
               n, by_class[0], n_code, by_class[1], n - n_code, m.n, bad_time, bad_class, worst);
    workload_destroy(wl);
    sim_destroy(s);
    workload_params_free(&w);
    conf_free(c);
    free(rows);
    free(m.t);
    free(m.cls);
}

/* Peak resident memory (KiB) of a child process that replays arrivals_body to the horizon. */
static long child_peak_kib(const char *arrivals_body, double horizon_s)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct bins b = {0};
        replay(arrivals_body, horizon_s, &b);
        _exit(0);
    }
    int st;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    return ru.ru_maxrss;
}

int main(void)
{
    if (!traces_find(root, sizeof root)) {
        fprintf(stderr, "validate_traces: the traces are not where they should be: set STRATO_TRACES to "
                        "shared/data/traces\n");
        printf("0 passed, 1 failed\n");
        return 1;
    }
    /* (a) NASA, every second */
    char body[1800], path[1200];
    snprintf(path, sizeof path, "%s/nasa-http-1995-per-second/workload.txt", root);
    snprintf(body, sizeof body, "file = \"%s\"; format = \"counts\"; interval = \"1s\";", path);
    struct trace_params p;
    conf *c = parse_trace(body, &p);
    FILE *f = fopen(path, "r");
    struct trace_reader *r = trace_open(&p);
    double x, y, total = 0;
    uint64_t seconds = 0, mismatches = 0;
    uint32_t *want = calloc(p.intervals, sizeof *want); /* the independent read's counts */
    while (trace_next(r, &x)) {
        if (fscanf(f, "%lf", &y) != 1 || fabs(y - x) > 0) mismatches++; /* counts are whole numbers */
        if (seconds < p.intervals) want[seconds] = (uint32_t)y;
        seconds++;
        total += x;
    }
    bool at_end = fscanf(f, "%lf", &y) == EOF;
    fclose(f);
    trace_close(r);
    check_true("nasa_reader_gives_every_second", mismatches == 0 && at_end && seconds == p.intervals,
               "seconds=%llu requests=%.0f mismatches=%llu", (unsigned long long)seconds, total,
               (unsigned long long)mismatches);

    /* (b) NASA replayed evenly, (d) in the Poisson mode: second by second */
    struct bins b = {.interval_s = 1, .n = calloc(p.intervals, sizeof *b.n), .count = p.intervals};
    char arr[4096];
    double horizon = (double)seconds;
    snprintf(arr, sizeof arr, "within = \"even\"; trace: { %s };", body);
    replay(arr, horizon, &b);
    check_even("nasa_even_replay_matches_every_second", &b, want);
    snprintf(arr, sizeof arr, "within = \"poisson\"; trace: { %s };", body);
    replay(arr, horizon, &b);
    check_poisson("nasa_poisson_replay_seconds_are_poisson", &b, want);
    free(b.n);
    free(want);
    trace_params_free(&p);
    conf_free(c);

    /* (e) memory: the whole trace against its first day */
    snprintf(arr, sizeof arr, "within = \"even\"; trace: { file = \"%s\"; format = \"counts\"; interval = \"1s\"; };", path);
    long day = child_peak_kib(arr, 86400), whole = child_peak_kib(arr, horizon);
    /* the peak RSS of a 2 MiB process varies by a few hundred KiB from run to run (where the libraries
     * land); holding the trace would add 40 MiB (8 bytes a second) */
    check_true("nasa_whole_replay_memory_is_flat", day > 0 && whole > 0 && whole <= day + 512,
               "peak_rss_kib_one_day=%ld peak_rss_kib_whole=%ld ratio=%.4f", day, whole, (double)whole / (double)day);

    /* (c) World Cup, every minute */
    snprintf(path, sizeof path, "%s/worldcup98-per-minute/invocation_count.csv", root);
    snprintf(body, sizeof body,
             "file = \"%s\"; format = \"counts_csv\"; time_column = \"period\"; count_column = \"count\"; interval = \"1m\";",
             path);
    c = parse_trace(body, &p);
    f = fopen(path, "r");
    char line[256];
    if (!fgets(line, sizeof line, f)) return 1;
    double wc_total = 0;
    uint64_t rows = 0;
    time_t t0 = 0;
    int64_t last = -1;
    uint32_t *minute = calloc(p.intervals, sizeof *minute);
    while (fgets(line, sizeof line, f)) {
        struct tm tm = {0};
        double n;
        if (sscanf(line, "%d-%d-%d %d:%d:%d,%lf", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &n) != 7)
            continue;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        time_t t = timegm(&tm);
        if (!rows) t0 = t;
        int64_t i = (int64_t)((t - t0) / 60);
        if (i > last && (uint64_t)i < p.intervals) minute[i] = (uint32_t)n;
        last = i;
        wc_total += n;
        rows++;
    }
    fclose(f);
    r = trace_open(&p);
    uint64_t k = 0, bad = 0, gaps = 0;
    double got = 0;
    while (trace_next(r, &x)) {
        if (k >= p.intervals || fabs(minute[k] - x) > 0) bad++;
        gaps += !(x > 0);
        got += x;
        k++;
    }
    trace_close(r);
    check_true("worldcup_reader_gives_every_minute", bad == 0 && !(fabs(got - wc_total) > 0) && k == p.intervals,
               "minutes=%llu rows=%llu zero_minutes=%llu requests=%.0f mismatches=%llu", (unsigned long long)k,
               (unsigned long long)rows, (unsigned long long)gaps, got, (unsigned long long)bad);
    /* (f) the whole World Cup trace replayed evenly, (d) in the Poisson mode: minute by minute */
    b = (struct bins){.interval_s = 60, .n = calloc(p.intervals, sizeof *b.n), .count = p.intervals};
    snprintf(arr, sizeof arr, "within = \"even\"; trace: { %s };", body);
    replay(arr, (double)p.intervals * 60.0, &b);
    check_even("worldcup_even_replay_matches_every_minute", &b, minute);
    snprintf(arr, sizeof arr, "within = \"poisson\"; trace: { %s };", body);
    replay(arr, (double)p.intervals * 60.0, &b);
    check_poisson("worldcup_poisson_replay_minutes_are_poisson", &b, minute);
    free(b.n);
    free(minute);
    trace_params_free(&p);
    conf_free(c);
    check_llm_merge();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
