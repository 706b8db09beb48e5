/* cloudwatch.c: periodic datapoints, publication delay, M-of-N alarms. See cloudwatch.h. */
#include "cloudwatch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { EV_PERIOD_END, EV_PUBLISH, N_KINDS };

struct cw {
    sim *s;
    uint16_t id;
    sim_time period, delay;
    cw_sample_fn *sample;
    cw_published_fn *published;
    void *ctx;
    double history[CW_HISTORY]; /* ring of published datapoints, newest at (n - 1) % CW_HISTORY */
    uint64_t n;                 /* datapoints published so far */
};

static void on_period_end(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct cw *w = self;
    double v = w->sample(w->ctx);
    sim_schedule(s, w->delay, w->id, EV_PUBLISH, &v, sizeof v);
    sim_schedule(s, w->period, w->id, EV_PERIOD_END, NULL, 0);
}

static void on_publish(sim *s, void *self, const void *payload)
{
    (void)s;
    struct cw *w = self;
    double v;
    memcpy(&v, payload, sizeof v);
    w->history[w->n++ % CW_HISTORY] = v;
    w->published(w->ctx, v);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_period_end, on_publish};
static const char *const kind_names[N_KINDS] = {"period_end", "publish"};
static const sim_model_ops ops = {"cloudwatch", N_KINDS, handlers, kind_names, NULL};

struct cw *cw_create(sim *s, sim_time period, sim_time delay, cw_sample_fn *sample, cw_published_fn *published,
                     void *ctx)
{
    SIM_ASSERT(s, period > 0 && delay >= 0, "bad metric period or delay");
    struct cw *w = sim_xcalloc(1, sizeof *w);
    *w = (struct cw){s, 0, period, delay, sample, published, ctx, {0}, 0};
    w->id = sim_register(s, &ops, w);
    sim_schedule(s, period, w->id, EV_PERIOD_END, NULL, 0);
    return w;
}

void cw_destroy(struct cw *w) { free(w); }

static bool breaches(double v, const struct cw_alarm *a)
{
    if (isnan(v)) return false;
    switch (a->cmp) {
    case CW_GREATER: return v > a->threshold;
    case CW_GREATER_EQUAL: return v >= a->threshold;
    case CW_LESS: return v < a->threshold;
    case CW_LESS_EQUAL: return v <= a->threshold;
    }
    return false;
}

bool cw_in_alarm(const struct cw *w, const struct cw_alarm *a)
{
    if (w->n < a->evaluation) return false;
    unsigned k = 0;
    for (unsigned i = 0; i < a->evaluation; i++) k += breaches(w->history[(w->n - 1 - i) % CW_HISTORY], a);
    return k >= a->datapoints;
}

double cw_latest(const struct cw *w) { return w->n ? w->history[(w->n - 1) % CW_HISTORY] : NAN; }
