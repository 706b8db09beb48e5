/* queueing.c: the onprem slice against exact queueing theory, with confidence intervals.
 *
 * Each case runs R independent replications (seeds 0..R-1) of the real models (workload -> onprem ->
 * server -> metrics) with a warm-up left out, takes one estimate per replication, and builds a Student-t
 * confidence interval over the replications. A check passes when the exact value lies inside the
 * interval. There are 21 checks, so each interval is at level 1 - 0.05/21 (Bonferroni): the chance
 * that a correct simulator fails any check is at most 5%, and the seeds are fixed, so the outcome is
 * reproducible. Quantiles come from the log-bucket histogram, whose answer is within 1/128 of the
 * sample order statistic (stats.h); for the p99 check the interval is widened by exactly that bound,
 * stated in the output.
 *
 * Cases, at utilisation rho = 0.5, 0.8, 0.95:
 *   M/M/1   mean wait Wq = rho / (mu - lambda), P(wait > 0) = rho, p99 response = ln(100) / (mu - lambda)
 *   M/M/4   mean wait and P(wait > 0) from Erlang C
 *   M/M/4/4 blocking probability from Erlang B (queue limit 0)
 *   M/D/1   mean wait from Pollaczek-Khinchine: Wq = rho / (2 mu (1 - rho))
 *
 * Usage: validate_queueing [scale]   (scale multiplies every horizon; default 1)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "metrics.h"
#include "onprem.h"
#include "stats.h"
#include "theory.h"
#include "workload.h"

#define REPS 20
#define N_CHECKS 21
static const double level = 1.0 - 0.05 / N_CHECKS;
static const double service_mean = 0.010; /* s: mu = 100 requests/s per core */

struct estimate {
    double wait_mean, p_wait, p99, blocking;
};

static int ignore_row(void *ctx, const struct metrics_row *row)
{
    (void)ctx;
    (void)row;
    return 0;
}

/* One replication: cores c, queue limit, arrival rate, service distribution. */
static struct estimate replicate(unsigned cores, int64_t queue_limit, double lambda, struct dist service,
                                 double horizon_s, uint32_t rep)
{
    struct workload_params w = {.profile = WORKLOAD_CONSTANT, .mean_rps = lambda, .n_classes = 1};
    w.classes[0] = (struct workload_class){.name = "only", .share = 1.0, .cpu = service};
    struct onprem_params op = {.servers = 1, .server = {cores, 1.0, queue_limit}, .dispatch = ONPREM_ROUND_ROBIN};
    sim *s = sim_create(20261130, rep, sim_from_seconds(horizon_s));
    struct metrics *m = metrics_create(s, &(struct metrics_params){.interval = sim_from_seconds(horizon_s / 10), .warmup = sim_from_seconds(horizon_s / 20)},
                                       ignore_row, NULL);
    struct onprem *o = onprem_create(s, &op, m, NULL);
    struct workload *wl = workload_create(s, &w, onprem_submit, o);
    sim_run(s);
    const struct metrics_totals *t = metrics_totals(m);
    struct estimate e = {
        stats_acc_mean(&t->wait),
        (double)t->waited / (double)t->successes,
        stats_hist_quantile(&t->latency, 0.99),
        (double)t->errors / (double)(t->errors + t->successes),
    };
    workload_destroy(wl);
    onprem_destroy(o);
    metrics_destroy(m);
    sim_destroy(s);
    return e;
}

static int failures;

static void check(const char *name, double rho, double exact, const double *x, double slack, const char *note)
{
    struct stats_ci ci = stats_ci(x, REPS, level);
    double lo = ci.lo - slack, hi = ci.hi + slack;
    bool pass = exact >= lo && exact <= hi;
    failures += !pass;
    printf("check=%s rho=%.2f exact=%.6g mean=%.6g ci_lo=%.6g ci_hi=%.6g rel_half_width=%.4f%s%s pass=%d\n",
           name, rho, exact, ci.mean, lo, hi, (hi - lo) / 2 / exact, note ? " " : "", note ? note : "", pass);
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        fprintf(stderr, "usage: validate_queueing [scale > 0]\n");
        return 2;
    }
    const double rhos[] = {0.5, 0.8, 0.95};
    const double mu = 1.0 / service_mean;
    double wq[REPS], pw[REPS], p99[REPS], blk[REPS];
    printf("# %d replications per case, intervals at level %.5f (Bonferroni over %d checks)\n", REPS, level,
           N_CHECKS);
    for (int i = 0; i < 3; i++) {
        double rho = rhos[i];
        /* long enough that the relaxation time 1/(mu (1 - sqrt(rho))^2) is passed many times over */
        double horizon = scale * (rho < 0.9 ? 2000.0 : 12000.0);

        double lambda = rho * mu;
        for (uint32_t r = 0; r < REPS; r++) {
            struct estimate e = replicate(1, SERVER_UNLIMITED, lambda, dist_exponential(service_mean), horizon, r);
            wq[r] = e.wait_mean;
            pw[r] = e.p_wait;
            p99[r] = e.p99;
        }
        check("mm1_wait_mean_s", rho, rho / (mu - lambda), wq, 0, NULL);
        check("mm1_p_wait", rho, rho, pw, 0, NULL);
        double p99_exact = log(100.0) / (mu - lambda);
        check("mm1_response_p99_s", rho, p99_exact, p99, p99_exact / 128, "(widened by the histogram bound 1/128)");

        unsigned c = 4;
        lambda = rho * c * mu;
        double a = lambda / mu;
        for (uint32_t r = 0; r < REPS; r++) {
            struct estimate e = replicate(c, SERVER_UNLIMITED, lambda, dist_exponential(service_mean), horizon, r);
            wq[r] = e.wait_mean;
            pw[r] = e.p_wait;
        }
        check("mm4_wait_mean_s", rho, erlang_c(c, a) / (c * mu - lambda), wq, 0, NULL);
        check("mm4_p_wait", rho, erlang_c(c, a), pw, 0, NULL);

        for (uint32_t r = 0; r < REPS; r++)
            blk[r] = replicate(c, 0, lambda, dist_exponential(service_mean), horizon / 4, r).blocking;
        check("mm44_blocking", rho, erlang_b(c, a), blk, 0, NULL);

        lambda = rho * mu;
        for (uint32_t r = 0; r < REPS; r++)
            wq[r] = replicate(1, SERVER_UNLIMITED, lambda, dist_deterministic(service_mean), horizon, r).wait_mean;
        check("md1_wait_mean_s", rho, rho / (2 * mu * (1 - rho)), wq, 0, NULL);
    }
    printf("%d passed, %d failed\n", N_CHECKS - failures, failures);
    return failures ? 1 : 0;
}
