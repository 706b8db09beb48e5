/* comparison.c: what a study concludes, and how sure it can be: the warm-up it cuts off, its paired
 * comparisons between designs, and the stability of its decision across master seeds.
 *
 * Every case runs whole studies through the public API, as `strato run` does: conf_load or
 * conf_load_string, study_parse, study_run (into a file in a mkdtemp directory, read back with the
 * HDF5 C API where the case needs it, and removed afterwards), then study_result_values for the
 * per-replication values. Checks of a random quantity use intervals at the level 1 - 0.05/N_CHECKS
 * (Bonferroni over all checks): a correct simulator fails any of them with probability at most 5%, and
 * the seeds are fixed, so the outcome is reproducible.
 *
 * Cases:
 *  (a) MSER-5 removes a deliberately biased start. M/M/1 (one onprem server, one core, no queue limit):
 *      Poisson arrivals at lambda = 0.095/s, exponential service of mean 10 s (mu = 0.1/s), so
 *      rho = 0.95 and the stationary mean sojourn is 1/(mu - lambda) = 200 s. Every run starts empty,
 *      so the early requests find a queue far shorter than the stationary one and the untruncated mean
 *      is biased low; the relaxation time is 1/(mu (1 - sqrt(rho))^2) = 4.3 h. Two studies with the
 *      same seed (so the same requests, replication by replication), 24 h runs, R = 600: warmup = "0s"
 *      and warmup = "auto" (MSER-5 on the replication-averaged per-interval mean latency,
 *      models/study.c). The chosen warm-up is read back from the file (attribute warmup_s of
 *      /designs/<name>) and printed. Checks:
 *        (1) the interval of the paired differences auto - none of the per-replication mean latency
 *            lies entirely above 0 (the cut moved the mean up, toward the theory);
 *        (2) 200 s lies inside the auto study's interval of the mean latency (the 0s study's interval
 *            and its upper bound relative to 200 are printed, as figures);
 *        (3) the 0s study's interval contains the exact expectation of the untruncated estimate over
 *            the finite horizon, from the transient of the M/M/1 chain (below): the bias the warm-up
 *            removes is the empty start's and nothing else.
 *      Why 24 h and not 6 h. The same transient computation gives, at a 6 h horizon, 165.7 s with no
 *      warm-up and at most 185.4 s for any warm-up MSER-5 may choose (it cuts at most half the run;
 *      186.1 s is the maximum over every warm-up): the run is too short for any truncation to reach
 *      200 s, so check (2) would pass or fail by the luck of the draw (with this file's seed and 300
 *      replications: 177.7 s [160.3, 195.1], a failure). At 24 h: 190.7 s untruncated, and 198.0 to
 *      198.9 s for the warm-ups MSER-5 chose in seven trials (seeds 20261130, 11, 12, 13; R = 600 and
 *      800: 4.6 to 10.8 h): 1.1 to 2.0 s below 200, partly the leftover transient and partly the
 *      requests still in the system at the horizon, which are not counted and are the longest ones
 *      (the figure for the warm-up chosen here is printed). The choice of R: the per-replication mean
 *      latency has a standard deviation of about 100 s, and the paired difference 20 to 60 s (more when
 *      MSER-5 cuts more). In the seven trials check (1) measured 6.9 to 12.2 s, 5.2 to 8.6 standard
 *      errors above 0 where 2.64 are needed (lower bounds 3.8 to 6.2 s). Check (2) is off by about
 *      1.5 s against a standard error of 4.1 s, a shift of 0.37 standard errors, which raises its
 *      chance of a false failure from 0.83% to about 1.2%; more replications would make that worse and
 *      fewer would weaken check (1). Runtime: about 13 s.
 *
 *      Transient expectation. Let p_n(t) = P(N(t) = n) for the chain started empty (forward equations
 *      integrated with a classical Runge-Kutta step of 1 s on n = 0..1199; P(N > 1199) < 1e-26 at
 *      stationarity and less before). By PASTA an arrival at t finds n with probability p_n(t); under
 *      FCFS with exponential services its sojourn is then Erlang(n + 1, mu), independent of later
 *      arrivals, and it is counted only when it completes by the horizon H. With G_k(x) the Erlang(k,
 *      mu) CDF, E[S 1{S <= x}] = (k/mu) G_{k+1}(x) for S ~ Erlang(k, mu), so over arrivals in [d, H]
 *          E[sum of counted sojourns] = lambda int_d^H sum_n p_n(t) ((n+1)/mu) G_{n+2}(H - t) dt,
 *          E[count]                   = lambda int_d^H sum_n p_n(t) G_{n+1}(H - t) dt
 *      (trapezoid rule every 10 s; halving the step changes nothing in the fourth digit), and the
 *      expected per-replication mean is their ratio, up to the ratio estimator's bias,
 *      mean x (cv(count)^2 - corr x cv(sum) x cv(count)), at most about 200 x 0.5 x 0.011 = 1.1 s with
 *      8200 requests per run (cv(count) = 1/sqrt(8200), cv(sum) about 0.5): an eighth of the interval's
 *      half-width, left in.
 *
 *  (b) Paired comparisons are tighter than unpaired ones on the same runs. Two designs that differ a
 *      little: 2 onprem servers x 4 cores with join-the-shortest-queue, and the same fleet with cores
 *      10% faster, under one diurnal workload of two request classes (mean demand 0.8 x 60 ms +
 *      0.2 x 260 ms = 0.1 s; 40 requests/s on average and 1.5 x that at the peak, which the 1-hour runs
 *      straddle: about 6 of the 8 cores busy, 5.5 with the faster ones), R = 15 replications. With
 *      common random numbers both designs see the same requests, so their per-replication latencies
 *      move together and Var(x - y) = Var(x) + Var(y) - 2 Cov(x, y) is smaller than the Var(x) + Var(y)
 *      an unpaired comparison must assume. For latency_mean_s and latency_p99_s: the half-width of the
 *      t interval of the paired differences (df = R - 1) against Welch's half-width from the two samples
 *      as if independent (Welch-Satterthwaite df), both at the Bonferroni level; check paired < unpaired
 *      and print both and their ratio. Without common random numbers the ratio would be about
 *      t(R - 1)/t(Welch df) >= 1, give or take the noise of two variance estimates on 14 df (about 20%
 *      each); with them, seeds 7 to 15 gave ratios of 0.43 to 0.54 (mean) and 0.34 to 0.68 (p99).
 *      (Round robin against join-the-shortest-queue was tried first: their p99s move together less,
 *      ratios up to 0.93, too close to 1 for a reliable check.)
 *
 *  (c) The default study's conclusion is stable across master seeds: configs/default.cfg (found from
 *      this file's path, or from the source directory given as the first argument) run with its own
 *      seed and with another; check that study_choice names the same design in both, and print both
 *      decision tables (study_print_decision). About 15 s per run.
 *
 * Usage: validate_comparison [source_dir]
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>
#include <hdf5.h>

#include "checks.h"
#include "conf.h"
#include "stats.h"
#include "study.h"

#define N_CHECKS 6
static const double level = 1.0 - 0.05 / N_CHECKS;

static char tmpdir[64]; /* the mkdtemp directory every study writes into */

/* ---- running a study ---------------------------------------------------------------------------- */

struct run {
    conf *c;
    struct study_params p;
    bool parsed;
    struct study_result *r;
    double warmup_s[STUDY_MAX_DESIGNS]; /* read back from the file: /designs/<name> or the root */
};

/* The warm-up a study used for design `name`, as the file says: the design group's warmup_s (written
 * when warmup = "auto"), else the root's (the fixed warm-up). NaN if neither can be read. */
static double read_warmup(const char *file, const char *name)
{
    double v = NAN;
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return NAN;
    char path[256];
    snprintf(path, sizeof path, "/designs/%s", name);
    hid_t g = H5Gopen2(f, path, H5P_DEFAULT);
    if (g >= 0) {
        hid_t obj = H5Aexists(g, "warmup_s") > 0 ? g : H5Gopen2(f, "/", H5P_DEFAULT);
        hid_t a = obj >= 0 ? H5Aopen(obj, "warmup_s", H5P_DEFAULT) : H5I_INVALID_HID;
        if (a >= 0) {
            if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) v = NAN;
            H5Aclose(a);
        }
        if (obj >= 0 && obj != g) H5Gclose(obj);
        H5Gclose(g);
    }
    H5Fclose(f);
    return v;
}

/* Loads a study (from the file at `path`, or from `text` named `name`), parses it with ov (may be
 * NULL), runs it into tmpdir/<name>.h5, reads the warm-ups back and removes the file. Returns false,
 * with a message on stderr, if any step fails. */
static bool run_study(struct run *x, const char *name, const char *text, const char *path,
                      const struct study_overrides *ov)
{
    memset(x, 0, sizeof *x);
    x->c = path ? conf_load(path, stderr) : conf_load_string(text, name, stderr);
    if (!x->c) return false;
    x->parsed = true;
    if (!study_parse(x->c, ov, &x->p)) {
        fprintf(stderr, "validate_comparison: study %s does not parse\n", name);
        return false;
    }
    char out[160], cmd[256];
    snprintf(out, sizeof out, "%s/%s.h5", tmpdir, name);
    snprintf(cmd, sizeof cmd, "validate_comparison (study %s)", name);
    struct study_run_options o = {.output = out, .config_path = path ? path : name, .config_text = text, .command_line = cmd};
    int rc = study_run(&x->p, &o, &x->r);
    if (rc == 0)
        for (unsigned d = 0; d < x->p.n_designs; d++) x->warmup_s[d] = read_warmup(out, x->p.designs[d].name);
    unlink(out);
    if (rc != 0 || !x->r) {
        fprintf(stderr, "validate_comparison: study %s: study_run returned %d\n", name, rc);
        return false;
    }
    return true;
}

static void run_free(struct run *x)
{
    study_result_free(x->r);
    if (x->parsed && x->c) study_params_free(&x->p);
    conf_free(x->c);
    memset(x, 0, sizeof *x);
}

/* Design d's values of a metric, all R of them finite, or NULL (with a message). */
static const double *values(const struct run *x, unsigned d, const char *metric, uint32_t want)
{
    uint32_t n = 0;
    const double *v = study_result_values(x->r, d, metric, &n);
    if (!v || n != want) {
        fprintf(stderr, "validate_comparison: %s of design %u: %u values, expected %u\n", metric, d, n, want);
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(v[i])) {
            fprintf(stderr, "validate_comparison: %s of design %u, replication %u is not finite\n", metric, d, i);
            return NULL;
        }
    return v;
}

/* ---- (a) MSER-5 on an M/M/1 queue started empty ------------------------------------------------- */

#define MM1_REPS 600
static const double mm1_lambda = 0.095, mm1_mu = 0.1, mm1_horizon = 24 * 3600.0;

static const char mm1_cfg[] =
    "study: { name = \"mm1\"; horizon = \"24h\"; report_interval = \"5m\"; warmup = \"%s\";\n"
    "         replications = %d; seed = 20261130; };\n"
    "workload: { arrivals: { mean_rps = 0.095; };\n"
    "            classes = ( { name = \"only\"; cpu = { dist = \"exponential\"; mean = \"10s\"; }; } ); };\n"
    "designs = ( { name = \"mm1\"; kind = \"onprem\"; servers = 1; } );\n";

enum { MM1_STATES = 1200 };

/* dp/dt of the M/M/1 forward equations, states 0..MM1_STATES-1 (arrivals blocked at the top, which
 * the chain does not reach in 24 h with any probability that matters). */
static void mm1_deriv(const double *p, double *dp)
{
    for (int n = 0; n < MM1_STATES; n++) {
        double out = (n < MM1_STATES - 1 ? mm1_lambda : 0) + (n > 0 ? mm1_mu : 0);
        double in = (n > 0 ? mm1_lambda * p[n - 1] : 0) + (n < MM1_STATES - 1 ? mm1_mu * p[n + 1] : 0);
        dp[n] = in - out * p[n];
    }
}

/* The expected per-replication mean latency of an M/M/1 run of horizon h (s) started empty, over
 * requests arriving in [d, h] and completing by h (see the top of the file), for each of the n_d <= 4
 * warm-ups d[] (multiples of 10 s). */
static void mm1_transient_means(double h, const double *d, int n_d, double *mean)
{
    static double p[MM1_STATES], k1[MM1_STATES], k2[MM1_STATES], k3[MM1_STATES], k4[MM1_STATES],
        tmp[MM1_STATES];
    double num[4] = {0}, den[4] = {0};
    memset(p, 0, sizeof p);
    p[0] = 1;
    const double dt = 1.0;
    const int steps = (int)(h / dt);
    for (int i = 0; i <= steps; i++) {
        double t = i * dt;
        if (i % 10 == 0) { /* the integrands, every 10 s (trapezoid rule) */
            /* G_k(x) = 1 - sum_{j<k} Poisson(j; mu x), built up term by term (each term in log space) */
            double mx = mm1_mu * (h - t), a = 0, b = 0;
            double g = mx > 0 ? 1.0 - exp(-mx) : 0.0; /* G_{n+1}(x) at the top of iteration n */
            for (int n = 0; n < MM1_STATES; n++) {
                double term = mx > 0 ? exp(-mx + (n + 1) * log(mx) - lgamma(n + 2.0)) : 0.0;
                double g_next = fmax(g - term, 0.0); /* G_{n+2} */
                a += p[n] * (n + 1) / mm1_mu * g_next;
                b += p[n] * g;
                g = g_next;
            }
            for (int k = 0; k < n_d; k++) {
                if (t + 1e-9 < d[k]) continue;
                double w = (fabs(t - d[k]) < 1e-9 || i == steps) ? 5.0 : 10.0;
                num[k] += w * a;
                den[k] += w * b;
            }
        }
        if (i == steps) break;
        mm1_deriv(p, k1);
        for (int n = 0; n < MM1_STATES; n++) tmp[n] = p[n] + dt / 2 * k1[n];
        mm1_deriv(tmp, k2);
        for (int n = 0; n < MM1_STATES; n++) tmp[n] = p[n] + dt / 2 * k2[n];
        mm1_deriv(tmp, k3);
        for (int n = 0; n < MM1_STATES; n++) tmp[n] = p[n] + dt * k3[n];
        mm1_deriv(tmp, k4);
        for (int n = 0; n < MM1_STATES; n++) p[n] += dt / 6 * (k1[n] + 2 * k2[n] + 2 * k3[n] + k4[n]);
    }
    for (int k = 0; k < n_d; k++) mean[k] = num[k] / den[k];
}

static void case_mser(void)
{
    const double theory = 1.0 / (mm1_mu - mm1_lambda); /* 200 s */
    printf("# (a) M/M/1 at rho = 0.95 started empty, %g h, %d replications, same seeds: warmup \"0s\" against "
           "\"auto\" (MSER-5); stationary mean sojourn 1/(mu - lambda) = %g s\n",
           mm1_horizon / 3600, MM1_REPS, theory);
    double short_d[2] = {0, 3 * 3600.0}, short_m[2];
    mm1_transient_means(6 * 3600.0, short_d, 2, short_m);
    printf("# at a 6 h horizon the exact expectation would be %.4g s with no warm-up and %.4g s with 3 h (half "
           "the run, the most MSER-5 cuts) left out: no warm-up could reach %g s there\n",
           short_m[0], short_m[1], theory);
    char text[1024];
    struct run none, autow;
    snprintf(text, sizeof text, mm1_cfg, "0s", MM1_REPS);
    bool ok = run_study(&none, "mm1-none", text, NULL, NULL);
    snprintf(text, sizeof text, mm1_cfg, "auto", MM1_REPS);
    ok = run_study(&autow, "mm1-auto", text, NULL, NULL) && ok;
    const double *x0 = ok ? values(&none, 0, "latency_mean_s", MM1_REPS) : NULL;
    const double *x1 = ok ? values(&autow, 0, "latency_mean_s", MM1_REPS) : NULL;
    if (!x0 || !x1) {
        check_true("mser_raises_the_mean_latency_paired", false, "error=the_studies_did_not_run");
        check_true("mser_mean_latency_ci_contains_200s", false, "error=the_studies_did_not_run");
        check_true("untruncated_mean_latency_ci_contains_transient_theory", false, "error=the_studies_did_not_run");
        run_free(&none);
        run_free(&autow);
        return;
    }
    double w0 = none.warmup_s[0], w1 = autow.warmup_s[0];
    /* the transient theory for no warm-up and for the chosen one (a multiple of the 5-min interval) */
    double ds[2] = {0, isfinite(w1) ? w1 : 0}, tm[2];
    mm1_transient_means(mm1_horizon, ds, 2, tm);
    printf("# warm-up read back from the files: \"0s\" study %g s, \"auto\" study %g s (%g report intervals); "
           "exact expectation of the per-replication mean latency from the transient: %.4g s with no warm-up, "
           "%.4g s with %g s cut off\n",
           w0, w1, w1 / 300, tm[0], tm[1], ds[1]);

    double diff[MM1_REPS];
    for (int i = 0; i < MM1_REPS; i++) diff[i] = x1[i] - x0[i];
    struct stats_ci cd = stats_ci(diff, MM1_REPS, level), c0 = stats_ci(x0, MM1_REPS, level),
                    c1 = stats_ci(x1, MM1_REPS, level);
    check_true("mser_raises_the_mean_latency_paired", cd.lo > 0,
               "warmup_s=%g mean_diff_s=%.4g ci_lo=%.4g ci_hi=%.4g n=%zu", w1, cd.mean, cd.lo, cd.hi, cd.n);
    check_true("mser_mean_latency_ci_contains_200s", c1.lo <= theory && theory <= c1.hi,
               "theory_s=%g auto_mean_s=%.4g ci_lo=%.4g ci_hi=%.4g rel_half_width=%.4f untruncated_mean_s=%.4g "
               "untruncated_ci=[%.4g, %.4g] untruncated_ci_hi_over_theory=%.4f",
               theory, c1.mean, c1.lo, c1.hi, c1.half_width / theory, c0.mean, c0.lo, c0.hi, c0.hi / theory);
    check_true("untruncated_mean_latency_ci_contains_transient_theory", c0.lo <= tm[0] && tm[0] <= c0.hi,
               "transient_theory_s=%.4g untruncated_mean_s=%.4g ci_lo=%.4g ci_hi=%.4g (auto: transient_theory_s=%.4g "
               "for warmup_s=%g)",
               tm[0], c0.mean, c0.lo, c0.hi, tm[1], ds[1]);
    run_free(&none);
    run_free(&autow);
}

/* ---- (b) paired against unpaired intervals ------------------------------------------------------ */

#define PAIR_REPS 15

static const char pair_cfg[] =
    "study: { name = \"pair\"; horizon = \"1h\"; report_interval = \"5m\"; warmup = \"15m\";\n"
    "         replications = 15; seed = 7; baseline = \"current\"; };\n"
    "workload: {\n"
    "  arrivals: { profile = \"diurnal\"; mean_rps = 40.0; peak_to_mean = 1.5; peak_hour = 0.5; };\n"
    "  classes = ( { name = \"browse\";   share = 0.8; cpu = { dist = \"lognormal\"; mean = \"60ms\";  cv = 1.0; }; },\n"
    "              { name = \"checkout\"; share = 0.2; cpu = { dist = \"lognormal\"; mean = \"260ms\"; cv = 0.8; }; } );\n"
    "};\n"
    "designs = (\n"
    "  { name = \"current\"; kind = \"onprem\"; servers = 2; dispatch = \"jsq\"; server: { cores = 4; }; },\n"
    "  { name = \"faster\";  kind = \"onprem\"; servers = 2; dispatch = \"jsq\"; server: { cores = 4; speed = 1.1; }; }\n"
    ");\n";

/* Welch's half-width at `level` for the difference of the means of two independent samples of n. */
static double welch_half_width(const double *x, const double *y, size_t n)
{
    struct stats_acc a = {0}, b = {0};
    for (size_t i = 0; i < n; i++) {
        stats_acc_add(&a, x[i]);
        stats_acc_add(&b, y[i]);
    }
    double va = stats_acc_var(&a) / (double)n, vb = stats_acc_var(&b) / (double)n;
    double df = (va + vb) * (va + vb) / (va * va / (double)(n - 1) + vb * vb / (double)(n - 1));
    return gsl_cdf_tdist_Pinv(1 - (1 - level) / 2, df) * sqrt(va + vb);
}

static void case_paired(void)
{
    printf("# (b) 2 servers x 4 cores (jsq) against the same with 10%% faster cores, %d replications, common "
           "random numbers: paired (t, df %d) against unpaired (Welch) half-widths at level %.5f\n",
           PAIR_REPS, PAIR_REPS - 1, level);
    struct run x;
    bool ok = run_study(&x, "pair", pair_cfg, NULL, NULL);
    const char *metrics[2] = {"latency_mean_s", "latency_p99_s"};
    for (int m = 0; m < 2; m++) {
        char name[80];
        snprintf(name, sizeof name, "paired_tighter_than_unpaired_%s", metrics[m]);
        const double *cur = ok ? values(&x, 0, metrics[m], PAIR_REPS) : NULL;
        const double *fast = ok ? values(&x, 1, metrics[m], PAIR_REPS) : NULL;
        if (!cur || !fast) {
            check_true(name, false, "error=the_study_did_not_run");
            continue;
        }
        double diff[PAIR_REPS];
        for (int i = 0; i < PAIR_REPS; i++) diff[i] = fast[i] - cur[i];
        struct stats_ci cd = stats_ci(diff, PAIR_REPS, level);
        double unpaired = welch_half_width(fast, cur, PAIR_REPS);
        struct stats_ci ccur = stats_ci(cur, PAIR_REPS, level), cfast = stats_ci(fast, PAIR_REPS, level);
        check_true(name, cd.half_width < unpaired,
                   "current_mean=%.5g (half_width %.3g) faster_mean=%.5g (half_width %.3g) mean_diff=%.5g "
                   "paired_half_width=%.4g unpaired_half_width=%.4g ratio=%.4f",
                   ccur.mean, ccur.half_width, cfast.mean, cfast.half_width, cd.mean, cd.half_width, unpaired,
                   cd.half_width / unpaired);
    }
    run_free(&x);
}

/* ---- (c) the default study's decision under two seeds ------------------------------------------- */

static void case_default(const char *source_dir)
{
    char path[1024];
    if (source_dir) snprintf(path, sizeof path, "%s/configs/default.cfg", source_dir);
    else { /* the source tree from this file's path (CMake compiles it by its absolute path) */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *cut = strstr(path, "tests/validation/comparison.c");
        if (cut) snprintf(cut, sizeof path - (size_t)(cut - path), "configs/default.cfg");
    }
    const uint64_t other_seed = 1;
    printf("# (c) %s with its own seed and with seed %llu\n", path, (unsigned long long)other_seed);
    struct run a, b;
    bool ok = run_study(&a, "default", NULL, path, NULL);
    struct study_overrides ov = {.has_seed = true, .seed = other_seed};
    ok = run_study(&b, "default-seed", NULL, path, &ov) && ok;
    int ca = -1, cb = -1;
    if (ok) {
        printf("# decision with seed %llu:", (unsigned long long)a.p.seed);
        study_print_decision(&a.p, a.r, stdout);
        printf("# decision with seed %llu:", (unsigned long long)b.p.seed);
        study_print_decision(&b.p, b.r, stdout);
        ca = study_choice(&a.p, a.r);
        cb = study_choice(&b.p, b.r);
    }
    const char *na = ca >= 0 ? a.p.designs[ca].name : "(none)", *nb = cb >= 0 ? b.p.designs[cb].name : "(none)";
    check_true("default_study_choice_is_the_same_under_two_seeds", ok && ca >= 0 && cb >= 0 && strcmp(na, nb) == 0,
               "seed_a=%llu choice_a=%s seed_b=%llu choice_b=%s", (unsigned long long)(ok ? a.p.seed : 0), na,
               (unsigned long long)other_seed, nb);
    run_free(&a);
    run_free(&b);
}

int main(int argc, char **argv)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/strato-validate-comparison-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("validate_comparison: mkdtemp");
        return 1;
    }
    printf("# intervals at level %.5f (Bonferroni over %d checks)\n", level, N_CHECKS);
    case_mser();
    case_paired();
    case_default(argc > 1 ? argv[1] : NULL);
    if (rmdir(tmpdir) != 0) {
        fprintf(stderr, "validate_comparison: %s was left with files in it\n", tmpdir);
        failures++;
    }
    if (checks != N_CHECKS) {
        fprintf(stderr, "validate_comparison: ran %d checks, N_CHECKS says %d\n", checks, N_CHECKS);
        failures++;
    }
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
