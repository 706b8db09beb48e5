/* hybrid.c: on-premises first, the cloud for the overflow. See hybrid.h. */
#include "hybrid.h"

#include <stdlib.h>
#include <string.h>

bool hybrid_parse(conf *c, const config_setting_t *design, const struct ec2_catalog *cat,
                  const struct workload_params *w, struct hybrid_params *p)
{
    int before = conf_errors(c);
    memset(p, 0, sizeof *p);
    const config_setting_t *op = conf_group(c, design, "onprem", false);
    const config_setting_t *cl = conf_group(c, design, "cloud", false);
    const config_setting_t *sl = conf_group(c, design, "serverless", false);
    if (!op || (!cl && !sl))
        conf_error_in(c, design, op ? "cloud" : "onprem",
                      "a hybrid design needs both halves: an `onprem` group and a `cloud` or `serverless` group");
    if (cl && sl) conf_error_in(c, design, "serverless", "give the overflow one place: `cloud` or `serverless`, not both");
    if (op) {
        onprem_parse(c, op, &p->onprem);
        if (p->onprem.dispatch != ONPREM_JSQ && config_setting_get_member(op, "dispatch"))
            conf_error_in(c, op, "dispatch", "a hybrid's front door sends each request to the least loaded "
                                             "on-premises server: leave `dispatch` out (it is \"jsq\")");
        p->onprem.dispatch = ONPREM_JSQ;
        if (!p->onprem.tco.given)
            conf_error_in(c, op, "tco", "the on-premises half of a hybrid needs its cost of ownership: without a "
                                        "`tco` group the design's cost would leave it out");
    }
    p->serverless = sl != NULL;
    if (sl) lambda_parse(c, sl, w, &p->lambda);
    else if (cl) cloud_parse(c, cl, cat, &p->cloud);
    int64_t waiting = 0;
    conf_get_int(c, conf_group(c, design, "overflow", false), "waiting", false, 0, 1000000, &waiting);
    p->waiting = (uint64_t)waiting;
    return conf_errors(c) == before;
}

void hybrid_params_free(struct hybrid_params *p)
{
    onprem_params_free(&p->onprem);
    if (p->serverless) lambda_params_free(&p->lambda);
    else cloud_params_free(&p->cloud);
}

struct hybrid {
    const struct hybrid_params *p;
    struct onprem *op;
    struct cloud *cl;
    struct lambda *fn;
    struct metrics_probe parts[2]; /* on-premises, cloud part */
    uint64_t sent[2];
};

static uint64_t probe_in_system(const void *ctx)
{
    const struct hybrid *h = ctx;
    return h->parts[0].in_system(h->parts[0].ctx) + h->parts[1].in_system(h->parts[1].ctx);
}

static double probe_busy(const void *ctx)
{
    const struct hybrid *h = ctx;
    return h->parts[0].busy_core_seconds(h->parts[0].ctx) + h->parts[1].busy_core_seconds(h->parts[1].ctx);
}

static double probe_cores(const void *ctx)
{
    const struct hybrid *h = ctx;
    return h->parts[0].cores(h->parts[0].ctx) + h->parts[1].cores(h->parts[1].ctx);
}

static void probe_instances(const void *ctx, double out[4])
{
    const struct hybrid *h = ctx;
    if (h->parts[1].instances) h->parts[1].instances(h->parts[1].ctx, out);
}

static void probe_healthy(const void *ctx, double out[METRICS_ZONES])
{
    const struct hybrid *h = ctx;
    if (h->parts[1].healthy) h->parts[1].healthy(h->parts[1].ctx, out);
}

static void probe_scaling(const void *ctx, struct metrics_row *row)
{
    const struct hybrid *h = ctx;
    if (h->parts[1].scaling) h->parts[1].scaling(h->parts[1].ctx, row);
}

struct hybrid *hybrid_create(sim *s, const struct hybrid_params *p, struct metrics *m, struct cost *cost)
{
    struct hybrid *h = sim_xcalloc(1, sizeof *h);
    h->p = p;
    h->op = onprem_create(s, &p->onprem, m, cost);
    h->parts[0] = onprem_probe(h->op);
    if (p->serverless) {
        h->fn = lambda_create(s, &p->lambda, m, cost);
        h->parts[1] = lambda_probe(h->fn);
    } else {
        h->cl = cloud_create(s, &p->cloud, m, cost);
        h->parts[1] = cloud_probe(h->cl);
    }
    metrics_attach(m, &(struct metrics_probe){h, probe_in_system, probe_busy, probe_cores, probe_instances,
                                              probe_healthy, probe_scaling});
    return h;
}

void hybrid_destroy(struct hybrid *h)
{
    if (!h) return;
    cloud_destroy(h->cl);
    lambda_destroy(h->fn);
    onprem_destroy(h->op);
    free(h);
}

void hybrid_submit(void *ctx, const struct request *r)
{
    struct hybrid *h = ctx;
    if (onprem_least_backlog(h->op) < (int64_t)h->p->waiting) { /* the least loaded server (JSQ) takes it */
        h->sent[0]++;
        onprem_submit(h->op, r);
        return;
    }
    h->sent[1]++;
    if (h->fn) lambda_submit(h->fn, r);
    else cloud_submit(h->cl, r);
}

uint64_t hybrid_sent_onprem(const struct hybrid *h) { return h->sent[0]; }
uint64_t hybrid_sent_cloud(const struct hybrid *h) { return h->sent[1]; }
