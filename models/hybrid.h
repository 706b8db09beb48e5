/* hybrid.h: the `hybrid` design kind: an on-premises fleet that takes traffic first, and a cloud part
 * (an EC2 Auto Scaling group behind a load balancer, or Lambda functions) that takes the overflow.
 *
 * Models: the front door sees the on-premises queues. Each request goes to the least loaded
 * on-premises server (onprem.h, join-the-shortest-queue) if it would start at once or wait behind
 * fewer than `waiting` others there (overflow.waiting, default 0: only a free core takes it);
 * otherwise it goes to the cloud part (cloud.h or lambda.h), which scales on what it receives. Both parts report into one metrics
 * collector and book into one cost ledger: the on-premises TCO lines and the cloud's bill side by side.
 * The series' instance, target and group columns are the cloud part's.
 *
 * Leaves out: the wide-area round trip between the two sites (responses from the cloud part take no
 * longer for being in the cloud), the link's cost (Direct Connect, VPN), data that must be replicated.
 * Invariant: requests held = on-premises + cloud part; checked at the end of every run.
 * Scale: as its parts.
 */
#ifndef HYBRID_H
#define HYBRID_H

#include <stdint.h>

#include "cloud.h"
#include "conf.h"
#include "cost.h"
#include "ec2.h"
#include "lambda.h"
#include "metrics.h"
#include "onprem.h"
#include "sim.h"
#include "workload.h"

struct hybrid_params {
    struct onprem_params onprem;   /* group `onprem` */
    bool serverless;               /* the burst part is `serverless` (Lambda), else `cloud` */
    struct cloud_params cloud;
    struct lambda_params lambda;
    uint64_t waiting;              /* requests a new one may wait behind on-premises before it overflows */
};

/* Reads a hybrid design group: `onprem`, exactly one of `cloud` and `serverless`, `overflow.waiting`. */
bool hybrid_parse(conf *c, const config_setting_t *design, const struct ec2_catalog *cat,
                  const struct workload_params *w, struct hybrid_params *p);
void hybrid_params_free(struct hybrid_params *p);

struct hybrid;

/* Builds both parts on s, reporting into m and booking into cost (may be NULL). p, cost borrowed. */
struct hybrid *hybrid_create(sim *s, const struct hybrid_params *p, struct metrics *m, struct cost *cost);
void hybrid_destroy(struct hybrid *h);

/* The workload sink (ctx is the struct hybrid). */
void hybrid_submit(void *ctx, const struct request *r);

/* Requests sent to each part so far. */
uint64_t hybrid_sent_onprem(const struct hybrid *h);
uint64_t hybrid_sent_cloud(const struct hybrid *h);

#endif
