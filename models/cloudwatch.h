/* cloudwatch.h: a metric as CloudWatch delivers it to scaling policies, and alarms on it.
 *
 * Models: a metric aggregated over fixed periods (default 60 s: 1-minute metrics, as AWS recommends
 * for scaling, aws-facts.md section 2.2), each period's datapoint published a delay after the period
 * ends (default 60 s, UNCONFIRMED: CloudWatch documents no publication latency for EC2 metrics; make it
 * a parameter and measure yours), and alarms that go to ALARM when at least M of the last N published
 * datapoints breach a threshold ("datapoints to alarm"). A period without data publishes nothing that
 * breaches (missing data is not breaching), as AWS treats target tracking alarms.
 *
 * Leaves out: statistics other than the average the owner computes, metric math, anomaly detection,
 * high-resolution metrics.
 * Invariant: datapoints are published in period order, each exactly `delay` after its period ended.
 * Scale: one series per scaling metric; an alarm evaluation is O(N).
 */
#ifndef CLOUDWATCH_H
#define CLOUDWATCH_H

#include <stdbool.h>

#include "sim.h"

#define CW_HISTORY 64 /* datapoints kept; alarms look at most this far back */

enum cw_comparison { CW_GREATER, CW_GREATER_EQUAL, CW_LESS, CW_LESS_EQUAL };

struct cw_alarm {
    double threshold;
    enum cw_comparison cmp;
    unsigned datapoints;  /* M: breaching datapoints needed, 1 <= M <= N */
    unsigned evaluation;  /* N: datapoints looked at, <= CW_HISTORY */
};

/* The value of a period that has just ended (NaN: no data). */
typedef double cw_sample_fn(void *ctx);
/* Called when a datapoint is published (value may be NaN). */
typedef void cw_published_fn(void *ctx, double value);

struct cw;

/* Starts sampling at the end of each period from now on. Never NULL. */
struct cw *cw_create(sim *s, sim_time period, sim_time delay, cw_sample_fn *sample, cw_published_fn *published,
                     void *ctx);
void cw_destroy(struct cw *w);

/* Whether alarm a is in ALARM over the published datapoints. */
bool cw_in_alarm(const struct cw *w, const struct cw_alarm *a);

/* The latest published datapoint (NaN if none yet). */
double cw_latest(const struct cw *w);

#endif
