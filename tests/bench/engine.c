/* engine.c: benchmarks of the event engine, printed as key=value lines (a program, not a test).
 *
 * hold (Jones 1986): N events pending; each dispatched event schedules one more at now + Exp(1) s,
 * so the pending count stays N. Reports wall ns per event through the real engine with a trivial
 * handler (the exponential draw included, reported separately as draw_ns), after a warm-up of 2N
 * events.
 *
 * PHOLD as ROSS defines it: L logical processes with E starting events each; every event schedules one
 * new event at now + 0.1 + Exp(1.0) s to a uniformly random process with probability 0.25, else to
 * itself. Each process is a registered model with its own state. Reports events per wall second.
 *
 * cancel: the hold model where every event also arms a timeout at now + 30 s and cancels the previous
 * one, as a request timer does; cancellation is lazy (a tombstone dropped when it surfaces or swept when
 * tombstones pass half the queue). Reports ns per event, to compare with hold at the same N.
 *
 * Usage: bench_engine [scale]   (scale < 1 shortens every run, e.g. 0.05 for a smoke check)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "dist.h"
#include "sim.h"

/* ---- hold ---- */

struct hold {
    uint16_t id;
    gsl_rng *rng;
    uint64_t left; /* events still to run before stopping */
};

static void hold_event(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct hold *h = self;
    sim_schedule(s, sim_from_seconds(dist_exp(h->rng, 1.0)), h->id, 0, NULL, 0);
    if (--h->left == 0) sim_stop(s);
}

static sim_handler_fn *const hold_handlers[] = {hold_event};
static const char *const hold_kinds[] = {"hold"};
static const sim_model_ops hold_ops = {"hold", 1, hold_handlers, hold_kinds, NULL};

static void bench_hold(size_t pending, uint64_t events)
{
    sim *s = sim_create(1, 0, SIM_TIME_MAX / 2);
    struct hold h = {0, sim_rng(s, "hold"), 2 * pending};
    h.id = sim_register(s, &hold_ops, &h);
    for (size_t i = 0; i < pending; i++)
        sim_schedule(s, sim_from_seconds(dist_exp(h.rng, 1.0)), h.id, 0, NULL, 0);
    sim_run(s);
    h.left = events;
    double t0 = bench_wall();
    sim_run(s);
    double dt = bench_wall() - t0;
    printf("bench=hold pending=%zu events=%llu ns_per_event=%.1f\n", pending, (unsigned long long)events,
           1e9 * dt / (double)events);
    sim_destroy(s);
}

/* ---- hold with a timeout armed and cancelled at every event ---- */

struct timer {
    uint16_t id;
    gsl_rng *rng;
    uint64_t left;
    sim_event_id *armed; /* one pending timeout per hold event, indexed by the event's tag */
};

static void timer_event(sim *s, void *self, const void *payload)
{
    struct timer *h = self;
    uint32_t tag;
    memcpy(&tag, payload, sizeof tag);
    sim_cancel(s, h->armed[tag]);
    h->armed[tag] = sim_schedule(s, 30 * SIM_SEC, h->id, 1, &tag, sizeof tag);
    sim_schedule(s, sim_from_seconds(dist_exp(h->rng, 1.0)), h->id, 0, &tag, sizeof tag);
    if (--h->left == 0) sim_stop(s);
}

static void timeout_event(sim *s, void *self, const void *payload)
{
    (void)s, (void)self, (void)payload; /* never reached: every timeout is cancelled before it fires */
    abort();
}

static sim_handler_fn *const timer_handlers[] = {timer_event, timeout_event};
static const char *const timer_kinds[] = {"work", "timeout"};
static const sim_model_ops timer_ops = {"timer", 2, timer_handlers, timer_kinds, NULL};

static void bench_cancel(size_t pending, uint64_t events)
{
    sim *s = sim_create(1, 0, SIM_TIME_MAX / 2);
    struct timer h = {0, sim_rng(s, "hold"), 2 * pending, calloc(pending, sizeof(sim_event_id))};
    h.id = sim_register(s, &timer_ops, &h);
    for (uint32_t i = 0; i < pending; i++)
        sim_schedule(s, sim_from_seconds(dist_exp(h.rng, 1.0)), h.id, 0, &i, sizeof i);
    sim_run(s);
    h.left = events;
    double t0 = bench_wall();
    sim_run(s);
    double dt = bench_wall() - t0;
    printf("bench=cancel pending=%zu events=%llu ns_per_event=%.1f queue_len_at_end=%zu\n", pending,
           (unsigned long long)events, 1e9 * dt / (double)events, sim_pending(s));
    free(h.armed);
    sim_destroy(s);
}

/* ---- PHOLD ---- */

struct lp {
    uint16_t id;
    struct phold *world;
};

struct phold {
    struct lp *lps;
    uint16_t first_id;
    size_t n;
    gsl_rng *rng;
    uint64_t left;
};

static void phold_event(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct lp *lp = self;
    struct phold *w = lp->world;
    uint16_t dest = lp->id;
    if (gsl_rng_uniform(w->rng) < 0.25) dest = (uint16_t)(w->first_id + gsl_rng_uniform_int(w->rng, w->n));
    sim_schedule(s, sim_from_seconds(0.1 + dist_exp(w->rng, 1.0)), dest, 0, NULL, 0);
    if (--w->left == 0) sim_stop(s);
}

static sim_handler_fn *const phold_handlers[] = {phold_event};
static const char *const phold_kinds[] = {"phold"};
static const sim_model_ops phold_ops = {"lp", 1, phold_handlers, phold_kinds, NULL};

static void bench_phold(size_t n_lp, size_t per_lp, uint64_t events)
{
    sim *s = sim_create(1, 0, SIM_TIME_MAX / 2);
    struct phold w = {calloc(n_lp, sizeof(struct lp)), 0, n_lp, sim_rng(s, "phold"), events};
    for (size_t i = 0; i < n_lp; i++) {
        w.lps[i].world = &w;
        w.lps[i].id = sim_register(s, &phold_ops, &w.lps[i]);
        if (i == 0) w.first_id = w.lps[i].id;
    }
    for (size_t i = 0; i < n_lp; i++)
        for (size_t e = 0; e < per_lp; e++)
            sim_schedule(s, sim_from_seconds(dist_exp(w.rng, 1.0)), w.lps[i].id, 0, NULL, 0);
    double t0 = bench_wall();
    sim_run(s);
    double dt = bench_wall() - t0;
    printf("bench=phold lps=%zu events_per_lp=%zu events=%llu events_per_s=%.0f\n", n_lp, per_lp,
           (unsigned long long)events, (double)events / dt);
    free(w.lps);
    sim_destroy(s);
}

/* The cost of what the handlers do besides the engine: one exponential draw and its conversion. */
static void bench_draw(uint64_t n)
{
    sim *s = sim_create(1, 0, SIM_SEC);
    gsl_rng *r = sim_rng(s, "draw");
    sim_time sum = 0;
    double t0 = bench_wall();
    for (uint64_t i = 0; i < n; i++) sum += sim_from_seconds(dist_exp(r, 1.0));
    double dt = bench_wall() - t0;
    printf("bench=draw what=exponential+sim_from_seconds draws=%llu ns_per_draw=%.1f checksum=%lld\n",
           (unsigned long long)n, 1e9 * dt / (double)n, (long long)(sum % 1000));
    sim_destroy(s);
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0 && scale <= 100)) {
        fprintf(stderr, "usage: bench_engine [scale in (0, 100]]\n");
        return 2;
    }
    uint64_t n = (uint64_t)(20e6 * scale);
    bench_draw(n);
    bench_hold(1000, n);
    bench_hold(100000, n);
    bench_hold(1000000, n);
    bench_cancel(1000, n);
    bench_cancel(100000, n);
    bench_phold(1000, 1, n);
    bench_phold(1000, 100, n);
    return 0;
}
