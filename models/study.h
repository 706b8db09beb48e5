/* study.h: one config file's worth of work: designs x replications, results to HDF5, a summary.
 *
 * A study is a workload, a list of candidate designs, a horizon, a report interval, a warm-up, a
 * number of replications, a master seed and a baseline design. Replication r of every design runs on
 * its own engine seeded with (master seed, r), so every design sees the same requests (common random
 * numbers, see workload.h) and the differences to the baseline are paired: their confidence intervals
 * come from the per-replication differences, which are much tighter than two independent intervals.
 *
 * Output (one HDF5 file, written under a temporary name and renamed when complete):
 *   /                               attrs format, format_version, strato_version, config, command_line,
 *                                   study, master_seed, replications, horizon_s, report_interval_s,
 *                                   warmup_s, baseline, slo_quantile, slo_latency_s, slo_availability,
 *                                   complete
 *   /designs/<name>                 attrs kind, description (and warmup_s with warmup = "auto")
 *   /designs/<name>/runs/<r>        attrs complete, events, arrivals, warmup_s
 *   /designs/<name>/runs/<r>/series one row per report interval (metrics.h)
 *   /designs/<name>/runs/<r>/events one row per infrastructure event (metrics.h)
 *   /summary                        design, metric, unit, mean, ci95_lo, ci95_hi, n
 *   /comparisons                    design, baseline, metric, unit, mean_diff, ci95_lo, ci95_hi, n
 *
 * Sweeps: a design with a `sweep` list ( { setting = "path.in.the.design"; values = [...]; }, ... )
 * becomes one design per variant, the cross product of the value lists (or, with sweep_mode = "zip",
 * their i-th values together), named after the design and the values; each is a design like any
 * other (units, results, comparisons), and the variants table /sweep gives each one's values and key
 * results. At most STUDY_MAX_DESIGNS designs in all.
 *
 * Design kinds: onprem (onprem.h), cloud (cloud.h), serverless (lambda.h), hybrid (hybrid.h); every
 * design but an onprem one without a tco group books its costs in a ledger (cost.h). A warm-up of
 * "auto" is found per design by MSER-5 on pilot runs (see auto_warmup in study.c). After the summary
 * comes the decision (study_print_decision).
 *
 * Units of work (a design and a replication) run in this process, on worker processes (`jobs`) or on
 * MPI ranks, each into its own part file, and are assembled in a fixed order, so the file's bytes do
 * not depend on how they ran; a sweep expands into variants, which are designs.
 *
 * Leaves out: parallel pilots for warm-up "auto" (they run before the units, in one process).
 * Invariant: a file under the final name is complete (attribute complete = true) or was interrupted
 * (complete = false, holding every run that finished); bad input never creates a file.
 */
#ifndef STUDY_H
#define STUDY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"
#include "cost.h"
#include "cloud.h"
#include "ec2.h"
#include "hybrid.h"
#include "lambda.h"
#include "onprem.h"
#include "sim.h"
#include "workload.h"

enum design_kind { DESIGN_ONPREM, DESIGN_CLOUD, DESIGN_SERVERLESS, DESIGN_HYBRID };

struct design_params {
    const char *name;        /* borrowed from the conf (a sweep variant's: owned by the study); unique */
    const char *description; /* borrowed, may be "" */
    const char *swept;       /* a sweep variant's values, "asg.max=4, asg.policies.[0].target=50"; NULL */
    const char *base;        /* a sweep variant's design, as named in the config; NULL */
    enum design_kind kind;
    union {
        struct onprem_params onprem;
        struct cloud_params cloud;
        struct lambda_params lambda;
        struct hybrid_params hybrid;
    } u;
};

#define STUDY_MAX_DESIGNS 64

struct study_params {
    const char *name;        /* borrowed */
    sim_time horizon;        /* ns, > 0 */
    sim_time interval;       /* ns, report interval, in (0, horizon] */
    sim_time warmup;         /* ns, in [0, horizon) */
    bool warmup_auto;        /* warm-up chosen per run by MSER-5 on the report intervals' mean latency */
    uint32_t replications;   /* >= 1 */
    uint64_t seed;           /* master seed */
    unsigned baseline;       /* index into designs */
    struct workload_params workload;
    struct ec2_catalog catalog; /* instance types, from the top-level ec2_catalog group (may be empty) */
    struct cost_prices prices;  /* from the top-level prices group; required by cloud designs */
    unsigned n_designs;
    struct design_params designs[STUDY_MAX_DESIGNS];
    char *owned[2 * STUDY_MAX_DESIGNS]; /* sweep variants' names and values */
    unsigned n_owned;
};

/* Command-line overrides, applied after the file is read and checked like file settings. */
struct study_overrides {
    bool has_seed, has_replications, has_horizon;
    uint64_t seed;
    int64_t replications;
    double horizon_s;
    const char *design; /* run only this design (and the baseline, for comparisons); NULL = all */
};

/* Reads and validates the whole study from c, applying ov (may be NULL), and reports unknown settings.
 * Returns false after printing every diagnostic. Strings stay borrowed from c. */
bool study_parse(conf *c, const struct study_overrides *ov, struct study_params *p);
void study_params_free(struct study_params *p);

struct study_result; /* per-design, per-replication values of the summary metrics */

struct study_run_options {
    const char *output;        /* final path of the HDF5 file */
    const char *config_path;   /* for the root attributes */
    const char *config_text;   /* the full text of the config, stored in the file; may be NULL */
    const char *command_line;  /* stored in the file */
    volatile sig_atomic_t *stop_flag; /* set by SIGINT/SIGTERM; NULL = none */
    bool progress;             /* a progress line on stderr */
    unsigned jobs;             /* worker processes (0 or 1: run in this process) */
    bool resume;               /* keep the finished units of an interrupted run (OUTPUT.parts/) */
};

/* Runs every design x replication and writes the file. Returns 0 on success, 130 if interrupted
 * (the file is valid and marked incomplete), 1 on an environment error (message on stderr, nothing
 * under the final name), 2 if the output target must not be overwritten. *out receives the results
 * for study_print_summary (free with study_result_free), or NULL. */
int study_run(const struct study_params *p, const struct study_run_options *o, struct study_result **out);

/* Prints the summary as a table: per design, mean and 95% CI of each metric, then the paired
 * differences to the baseline. */
void study_print_summary(const struct study_params *p, const struct study_result *r, FILE *f);
void study_result_free(struct study_result *r);

/* Design d's values of a summary metric (its name as in /summary), one per completed replication
 * (NaN where undefined); *n receives their number. NULL for an unknown metric. Borrowed from r. */
const double *study_result_values(const struct study_result *r, unsigned d, const char *metric, uint32_t *n);

/* Whether design d meets the workload's SLO, judged on the 95% CIs over replications: it meets a
 * target when the whole interval is on the right side (the SLO percentile's upper bound at or below
 * the latency target; availability's lower bound at or above its target), fails when the whole
 * interval is on the wrong side, and is unclear otherwise; with one replication, its values decide. */
enum study_verdict { STUDY_MEETS, STUDY_UNCLEAR, STUDY_FAILS };
enum study_verdict study_verdict(const struct study_params *p, const struct study_result *r, unsigned d);

/* The design a planner should pick: the lowest mean cost per month among designs that meet the SLO
 * (among all designs when the workload has none). -1 when no design with a cost meets it. */
int study_choice(const struct study_params *p, const struct study_result *r);

/* Prints the decision table: per design its verdict, SLO percentile, availability, SLO attainment and
 * cost per month with CIs; then the choice, and what it saves against each other design that meets
 * the SLO and against the baseline (paired differences, common random numbers). */
void study_print_decision(const struct study_params *p, const struct study_result *r, FILE *f);

#endif
