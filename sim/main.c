/* main.c: the `strato` command line.
 *
 *   strato run CONFIG [-o FILE] [-j N] [--resume] [--seed S] [--replications R] [--horizon D] [--design NAME]
 *   strato check CONFIG
 *   strato catalog [FILE]
 *   strato --help | --version
 *
 * Exit status: 0 success; 1 runtime or I/O failure; 2 bad input or usage (a diagnostic names the
 * place, no output file is created); 130 interrupted by SIGINT or SIGTERM (the file is valid and its
 * attribute `complete` is false).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef STRATO_HAVE_MPI
#include <mpi.h>
#endif

#include "conf.h"
#include "cost.h"
#include "ec2.h"
#include "study.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static const char usage[] =
    "usage: strato run CONFIG [-o FILE] [-j N] [--resume] [--seed S] [--replications R] [--horizon D]\n"
    "                  [--design NAME]\n"
    "       strato check CONFIG\n"
    "       strato catalog [FILE]\n"
    "       strato --help | --version\n";

static const char help[] =
    "strato: a discrete-event simulator of cloud infrastructure.\n\n"
    "Commands:\n"
    "  run CONFIG       run every design of the study in CONFIG, write the results to an HDF5 file and\n"
    "                   print the summary (mean and 95% confidence interval of each metric per design,\n"
    "                   and paired differences against the baseline design)\n"
    "  check CONFIG     read and validate CONFIG without running anything\n"
    "  catalog [FILE]   list the EC2 instance types and other prices of a catalog file (default: the\n"
    "                   one shipped with strato, configs/catalog/us-east-1.cfg)\n\n"
    "Options of run:\n"
    "  -o, --output FILE     results file (default: CONFIG's base name with .h5, in the current directory)\n"
    "  -j, --jobs N          run the units (design x replication) on N worker processes (also -jN); the\n"
    "                        results are the same as with one\n"
    "  --resume              continue an interrupted run: keep the units it finished (FILE.parts/)\n"
    "  --seed S              master seed (overrides study.seed)\n"
    "  --replications R      replications per design (overrides study.replications)\n"
    "  --horizon D           simulated duration, with a unit: 90s, 2h, 7d (overrides study.horizon)\n"
    "  --design NAME         run only this design (and the baseline, for the comparison)\n"
    "  -q, --quiet           no progress line and no summary table\n\n"
    "Exit status: 0 success, 1 runtime or I/O failure, 2 bad input or usage, 130 interrupted.\n";

static int usage_error(const char *fmt, ...) SIM_PRINTF(1, 2);

/* Prints "strato: <message>" and the usage, and returns the exit status of bad usage. */
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("strato: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fputs(usage, stderr);
    return 2;
}

/* The whole file as a string (for the results file's `config` attribute), or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

static char *default_output(const char *config)
{
    const char *base = strrchr(config, '/');
    base = base ? base + 1 : config;
    size_t len = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) len = (size_t)(dot - base);
    char *out = malloc(len + 4);
    if (!out) return NULL;
    memcpy(out, base, len);
    memcpy(out + len, ".h5", 4);
    return out;
}

/* The command line as stored in the results, without the options that change how a study runs but
 * not what it computes (-j N, --resume, -q): the file is the same however it was run. */
static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (!s) return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            i++;
            continue;
        }
        if (!strcmp(a, "--resume") || !strcmp(a, "-q") || !strcmp(a, "--quiet") || !strncmp(a, "-j", 2)) continue;
        if (s[0]) strcat(s, " ");
        strcat(s, a);
    }
    return s;
}

static bool parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text || *text == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* strato catalog [FILE]: the instance types of a catalog as a table, then its other prices. */
static int list_catalog(int argc, char **argv)
{
    if (argc > 3) return usage_error("catalog takes at most one file, got %d arguments", argc - 2);
    const char *path = argc == 3 ? argv[2] : STRATO_DEFAULT_CATALOG;
    conf *c = conf_load(path, stderr);
    if (!c) return 2;
    struct ec2_catalog cat;
    struct cost_prices prices;
    bool ok = ec2_catalog_parse(c, true, &cat);
    ok = cost_prices_parse(c, false, &prices) && ok;
    conf_check_unused(c);
    if (ok && conf_errors(c) == 0) {
        ec2_catalog_print(&cat, stdout);
        if (prices.n_tiers) {
            fputc('\n', stdout);
            cost_prices_print(&prices, stdout);
        }
    }
    int status = ok && conf_errors(c) == 0 ? 0 : 2;
    ec2_catalog_free(&cat);
    conf_free(c);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage_error("%s", "missing command");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        fputs(help, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("strato %s\n", STRATO_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "catalog")) return list_catalog(argc, argv);
    bool run = !strcmp(cmd, "run");
    if (!run && strcmp(cmd, "check")) return usage_error("unknown command \"%s\"", cmd);

    const char *config = NULL, *output = NULL;
    struct study_overrides ov = {0};
    bool quiet = false, resume = false;
    unsigned jobs = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = run && (!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--seed") ||
                                   !strcmp(a, "--replications") || !strcmp(a, "--horizon") ||
                                   !strcmp(a, "--design") || !strcmp(a, "-j") || !strcmp(a, "--jobs"));
        if (takes_value && !next) return usage_error("option %s needs a value", a);
        if (takes_value) i++;
        if (run && (!strcmp(a, "-o") || !strcmp(a, "--output"))) {
            output = next;
        } else if (run && !strcmp(a, "--seed")) {
            if (!parse_u64(next, &ov.seed)) return usage_error("--seed: not a non-negative integer: \"%s\"", next);
            ov.has_seed = true;
        } else if (run && !strcmp(a, "--replications")) {
            uint64_t r;
            if (!parse_u64(next, &r) || r < 1 || r > 100000)
                return usage_error("--replications: not an integer in [1, 100000]: \"%s\"", next);
            ov.replications = (int64_t)r;
            ov.has_replications = true;
        } else if (run && !strcmp(a, "--horizon")) {
            const char *why = NULL;
            if (!conf_parse_quantity(next, CONF_UNIT_SECONDS, &ov.horizon_s, &why) || !(ov.horizon_s > 0))
                return usage_error("--horizon: not a positive duration such as 90s, 2h or 7d: \"%s\"", next);
            ov.has_horizon = true;
        } else if (run && !strcmp(a, "--design")) {
            ov.design = next;
        } else if (run && (!strcmp(a, "--jobs") || !strncmp(a, "-j", 2))) {
            const char *n = a[1] == 'j' && a[2] ? a + 2 : next; /* -j 2, --jobs 2 or -j2 */
            uint64_t j;
            if (!parse_u64(n, &j) || j < 1 || j > 1024)
                return usage_error("-j: not a number of workers in [1, 1024]: \"%s\"", n);
            jobs = (unsigned)j;
        } else if (run && !strcmp(a, "--resume")) {
            resume = true;
        } else if (run && (!strcmp(a, "-q") || !strcmp(a, "--quiet"))) {
            quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option \"%s\"", a);
        } else if (config) {
            return usage_error("more than one config file (\"%s\")", a);
        } else {
            config = a;
        }
    }
    if (!config) return usage_error("%s", "missing CONFIG");

    conf *c = conf_load(config, stderr);
    if (!c) return 2;
    struct study_params *p = calloc(1, sizeof *p);
    if (!p) {
        fprintf(stderr, "strato: fatal: out of memory\n");
        return 1;
    }
    if (!study_parse(c, &ov, p)) {
        int n = conf_errors(c);
        if (n > 0) fprintf(stderr, "%s: %d error%s\n", config, n, n == 1 ? "" : "s");
        study_params_free(p);
        free(p);
        conf_free(c);
        return 2;
    }
    if (!run) {
        printf("%s: ok: %u design%s, %u replication%s, horizon %g s\n", config, p->n_designs,
               p->n_designs == 1 ? "" : "s", p->replications, p->replications == 1 ? "" : "s",
               sim_to_seconds(p->horizon));
        if (p->workload.traced) trace_describe(&p->workload.trace, sim_to_seconds(p->horizon), stdout);
        study_params_free(p);
        free(p);
        conf_free(c);
        return 0;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char *out_default = output ? NULL : default_output(config);
    char *text = slurp(config);
    char *cmdline = join_args(argc, argv);
    struct study_run_options ro = {
        .output = output ? output : out_default,
        .config_path = config,
        .config_text = text,
        .command_line = cmdline,
        .stop_flag = &stop_requested,
        .progress = !quiet && isatty(STDERR_FILENO),
        .jobs = jobs,
        .resume = resume,
    };
    int rank = 0;
#ifdef STRATO_HAVE_MPI
    /* launched by mpirun (Open MPI, or a PMI launcher): the study's units spread over the ranks */
    bool mpi = getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
    if (mpi) {
        MPI_Init(&argc, &argv);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        if (rank != 0) { /* rank 0 reports; the others only run units */
            quiet = true;
            ro.progress = false;
        }
    }
#endif
    struct study_result *result = NULL;
    int status = ro.output ? study_run(p, &ro, &result) : 1;
#ifdef STRATO_HAVE_MPI
    if (mpi) MPI_Finalize();
#endif
    (void)rank;
    if (result && !quiet) {
        if (status == 130) printf("interrupted: the summary covers the replications that finished\n");
        study_print_summary(p, result, stdout);
        study_print_decision(p, result, stdout);
        printf("\nresults: %s\n", ro.output);
    }
    study_result_free(result);
    free(out_default);
    free(text);
    free(cmdline);
    study_params_free(p);
    free(p);
    conf_free(c);
    return status;
}
