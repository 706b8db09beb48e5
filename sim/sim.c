/* sim.c: the discrete-event engine. See sim.h for the contract.
 *
 * Pending events are 128-bit keys in a radix heap (evq.h): time in the high 64 bits, then a 38-bit
 * insertion counter, then the 26-bit slot index of the event in the pool. One unsigned comparison
 * orders by (time, seq), and the payloads stay out of the queue. The engine is monotone (nothing is
 * scheduled before the running event), which is what a radix heap needs.
 *
 * Cancellation is lazy: the slot is marked dead and its generation bumped (so the id goes stale at
 * once); its key is dropped when it comes out of the queue, or in a sweep when dead keys exceed half
 * of the queue.
 */
#include "sim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evq.h"
#include "rng.h"

typedef evq_key key128;

#define SLOT_BITS 26
#define SLOT_MASK ((UINT64_C(1) << SLOT_BITS) - 1)
#define SEQ_LIMIT (UINT64_C(1) << (64 - SLOT_BITS))
#define BLOCK_BITS 12
#define BLOCK_SIZE (1u << BLOCK_BITS)
#define NO_SLOT UINT32_MAX

enum slot_state { SLOT_FREE, SLOT_PENDING, SLOT_RUNNING, SLOT_DEAD };

struct slot {
    uint32_t gen;       /* bumped when the event runs, is cancelled or is freed */
    uint16_t model;
    uint16_t kind;
    uint32_t next_free; /* free-list link while SLOT_FREE */
    uint32_t state;     /* enum slot_state */
    uint64_t payload[SIM_PAYLOAD_MAX / 8];
};

struct model_entry {
    const sim_model_ops *ops;
    void *self;
};

struct sim {
    sim_time now;     /* ns */
    sim_time horizon; /* ns; events after it do not run */

    struct evq queue; /* pending keys */
    size_t dead;      /* cancelled keys still in the queue */
    uint64_t seq;     /* insertion counter, < SEQ_LIMIT */

    struct slot **blocks; /* pool of BLOCK_SIZE slots each; blocks never move */
    size_t n_blocks;
    uint32_t free_head;
    uint32_t running; /* slot of the event being dispatched, or NO_SLOT */

    struct model_entry *models;
    uint16_t n_models;

    uint64_t events;
    bool stop;
    volatile sig_atomic_t *stop_flag;
    void (*progress)(void *ctx, const sim *s);
    void *progress_ctx;
    uint32_t progress_every;

    struct rng_set *rngs;
};

/* ---- allocation ---------------------------------------------------------------------------- */

static SIM_NORETURN void out_of_memory(size_t size)
{
    fprintf(stderr, "strato: fatal: out of memory (asked for %zu bytes)\n", size);
    abort();
}

void *sim_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) out_of_memory(size);
    return p;
}

void *sim_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory(n * size);
    return p;
}

void *sim_xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q) out_of_memory(size);
    return q;
}

char *sim_xstrdup(const char *str)
{
    size_t len = strlen(str) + 1;
    return memcpy(sim_xmalloc(len), str, len);
}

/* ---- failures ------------------------------------------------------------------------------ */

void sim_fail(const sim *s, const char *file, int line, const char *fmt, ...)
{
    fflush(stdout);
    fprintf(stderr, "%s:%d: strato: internal error", file, line);
    if (s) {
        fprintf(stderr, " at t=%.9f s", sim_to_seconds(s->now));
        if (s->running != NO_SLOT) {
            const struct slot *ev = &s->blocks[s->running >> BLOCK_BITS][s->running & (BLOCK_SIZE - 1)];
            const sim_model_ops *ops = s->models[ev->model].ops;
            fprintf(stderr, " in %s/%s", ops->name, ops->kind_names[ev->kind]);
        }
    }
    fputs(": ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    abort();
}

sim_time sim_from_seconds(double seconds)
{
    if (!(seconds >= 0.0 && seconds < 9.2e9))
        sim_fail(NULL, __FILE__, __LINE__, "time of %g s is negative, NaN or beyond 292 years", seconds);
    return (sim_time)(seconds * 1e9 + 0.5); /* round half up; seconds >= 0 */
}

sim_time sim_delay(const sim *s, double seconds)
{
    SIM_ASSERT(s, seconds >= 0.0, "negative or NaN delay %g s", seconds);
    double left = sim_to_seconds(s->horizon - s->now);
    return seconds > left ? s->horizon - s->now + 1 : sim_from_seconds(seconds);
}

/* ---- event pool ---------------------------------------------------------------------------- */

static inline struct slot *slot_at(const sim *s, uint32_t i)
{
    return &s->blocks[i >> BLOCK_BITS][i & (BLOCK_SIZE - 1)];
}

static void grow_pool(sim *s)
{
    size_t first = s->n_blocks * BLOCK_SIZE;
    if (first + BLOCK_SIZE > SLOT_MASK + 1)
        sim_fail(s, __FILE__, __LINE__, "more than %llu events pending", (unsigned long long)SLOT_MASK + 1);
    s->blocks = sim_xrealloc(s->blocks, (s->n_blocks + 1) * sizeof *s->blocks);
    struct slot *b = sim_xcalloc(BLOCK_SIZE, sizeof *b);
    s->blocks[s->n_blocks++] = b;
    for (uint32_t i = BLOCK_SIZE; i-- > 0;) {
        b[i].gen = 1;
        b[i].next_free = s->free_head;
        s->free_head = (uint32_t)first + i;
    }
}

static inline uint32_t alloc_slot(sim *s)
{
    if (s->free_head == NO_SLOT) grow_pool(s);
    uint32_t i = s->free_head;
    s->free_head = slot_at(s, i)->next_free;
    return i;
}

static inline void free_slot(sim *s, uint32_t i)
{
    struct slot *ev = slot_at(s, i);
    ev->gen = ev->gen + 1 ? ev->gen + 1 : 1;
    ev->state = SLOT_FREE;
    ev->next_free = s->free_head;
    s->free_head = i;
}

/* ---- keys ---- */

static inline uint32_t key_slot(key128 k) { return (uint32_t)((uint64_t)k & SLOT_MASK); }
static inline sim_time key_time(key128 k) { return (sim_time)(uint64_t)(k >> 64); }

static bool keep_live(void *ctx, key128 k)
{
    sim *s = ctx;
    if (slot_at(s, key_slot(k))->state != SLOT_DEAD) return true;
    free_slot(s, key_slot(k));
    return false;
}

static key128 renumbered(void *ctx, key128 k, size_t rank)
{
    (void)ctx;
    return ((key128)(uint64_t)key_time(k) << 64) | ((uint64_t)rank << SLOT_BITS) | key_slot(k);
}

/* Renumbers insertion counters 0..n-1 in (time, seq) order, so the order of pending events is kept
 * and the counter restarts far from its limit. */
static void renumber(sim *s)
{
    evq_map_ordered(&s->queue, renumbered, NULL);
    s->seq = s->queue.n;
}

/* ---- public surface ------------------------------------------------------------------------ */

sim *sim_create(uint64_t master_seed, uint32_t replication, sim_time horizon)
{
    SIM_ASSERT(NULL, horizon > 0, "horizon must be positive, got %lld ns", (long long)horizon);
    sim *s = sim_xcalloc(1, sizeof *s);
    s->horizon = horizon;
    s->free_head = NO_SLOT;
    s->running = NO_SLOT;
    s->rngs = rng_set_create(master_seed, replication);
    return s;
}

void sim_destroy(sim *s)
{
    if (!s) return;
    for (size_t b = 0; b < s->n_blocks; b++) free(s->blocks[b]);
    free(s->blocks);
    evq_free(&s->queue);
    free(s->models);
    rng_set_destroy(s->rngs);
    free(s);
}

uint16_t sim_register(sim *s, const sim_model_ops *ops, void *self)
{
    SIM_ASSERT(s, s->n_models < UINT16_MAX, "too many models");
    for (uint16_t k = 0; k < ops->n_kinds; k++)
        SIM_ASSERT(s, ops->handlers[k] && ops->kind_names[k], "model %s: kind %u has no handler or name",
                   ops->name, k);
    s->models = sim_xrealloc(s->models, (s->n_models + 1u) * sizeof *s->models);
    s->models[s->n_models] = (struct model_entry){ops, self};
    return s->n_models++;
}

sim_event_id sim_schedule_at(sim *s, sim_time at, uint16_t model, uint16_t kind, const void *payload,
                             size_t len)
{
    SIM_ASSERT(s, at >= s->now, "event scheduled in the past (at %lld ns)", (long long)at);
    SIM_ASSERT(s, model < s->n_models && kind < s->models[model].ops->n_kinds,
               "event for unknown model %u kind %u", model, kind);
    SIM_ASSERT(s, len <= SIM_PAYLOAD_MAX, "payload of %zu bytes exceeds %d", len, SIM_PAYLOAD_MAX);

    uint32_t i = alloc_slot(s);
    struct slot *ev = slot_at(s, i);
    ev->model = model;
    ev->kind = kind;
    ev->state = SLOT_PENDING;
    if (len) memcpy(ev->payload, payload, len);

    if (s->seq == SEQ_LIMIT) renumber(s);
    evq_push(&s->queue, ((key128)(uint64_t)at << 64) | (s->seq++ << SLOT_BITS) | i);
    return ((sim_event_id)ev->gen << 32) | ((sim_event_id)i + 1);
}

sim_event_id sim_schedule(sim *s, sim_time delay, uint16_t model, uint16_t kind, const void *payload,
                          size_t len)
{
    SIM_ASSERT(s, delay >= 0 && delay <= SIM_TIME_MAX - s->now, "bad delay %lld ns", (long long)delay);
    return sim_schedule_at(s, s->now + delay, model, kind, payload, len);
}

bool sim_cancel(sim *s, sim_event_id id)
{
    uint64_t i1 = id & UINT32_MAX;
    if (i1 == 0 || i1 > s->n_blocks * BLOCK_SIZE) return false;
    uint32_t i = (uint32_t)(i1 - 1);
    struct slot *ev = slot_at(s, i);
    if (ev->gen != (uint32_t)(id >> 32) || ev->state != SLOT_PENDING) return false;
    ev->state = SLOT_DEAD;
    ev->gen = ev->gen + 1 ? ev->gen + 1 : 1;
    if (++s->dead > s->queue.n / 2 && s->queue.n > 64) {
        evq_filter(&s->queue, keep_live, s);
        s->dead = 0;
    }
    return true;
}

sim_time sim_now(const sim *s) { return s->now; }
sim_time sim_horizon(const sim *s) { return s->horizon; }
uint64_t sim_events(const sim *s) { return s->events; }
size_t sim_pending(const sim *s) { return s->queue.n; }
void sim_stop(sim *s) { s->stop = true; }
void sim_watch_flag(sim *s, volatile sig_atomic_t *flag) { s->stop_flag = flag; }

void sim_set_progress(sim *s, void (*fn)(void *ctx, const sim *s), void *ctx, uint32_t every)
{
    s->progress = fn;
    s->progress_ctx = ctx;
    s->progress_every = every ? every : 1;
}

gsl_rng *sim_rng(sim *s, const char *name) { return rng_set_get(s->rngs, name); }

void sim_test_set_seq(sim *s, uint64_t seq)
{
    SIM_ASSERT(s, seq <= SEQ_LIMIT, "seq beyond its limit");
    s->seq = seq;
}

/* Checks that are too slow for every event: the signal flag and the progress callback. */
/* POLL_EVERY: events between checks of the signal flag. Prefetching pays off once the pending slots
 * (64 bytes each) outgrow the L1/L2 caches, and only for a few keys at a time. */
enum { POLL_EVERY = 4096, PREFETCH_ABOVE = 4096, PREFETCH_MAX = 8 };

enum sim_end sim_run(sim *s)
{
    enum sim_end end = SIM_END_EMPTY;
    s->stop = false;
    uint32_t poll = POLL_EVERY, progress = s->progress_every;
    while (s->queue.n > 0) {
        if (s->stop) { end = SIM_END_STOPPED; break; }
        key128 top = evq_peek(&s->queue);
        sim_time t = key_time(top);
        if (t > s->horizon) { end = SIM_END_HORIZON; break; }
        evq_pop(&s->queue);
        uint32_t i = key_slot(top);
        struct slot *ev = slot_at(s, i);
        if (ev->state == SLOT_DEAD) {
            free_slot(s, i);
            s->dead--;
            continue;
        }
        if (s->queue.n > PREFETCH_ABOVE) {
            /* the next events' slots are likely out of cache: fetch them while this handler runs */
            const key128 *next;
            size_t n_next = evq_next_keys(&s->queue, &next);
            if (n_next <= PREFETCH_MAX)
                for (size_t j = 0; j < n_next; j++) __builtin_prefetch(slot_at(s, key_slot(next[j])));
        }
        s->now = t;
        s->running = i;
        ev->state = SLOT_RUNNING;
        const struct model_entry *m = &s->models[ev->model];
        m->ops->handlers[ev->kind](s, m->self, ev->payload);
        s->running = NO_SLOT;
        free_slot(s, i);
        s->events++;

        if (--poll == 0) {
            poll = POLL_EVERY;
            if (s->stop_flag && *s->stop_flag) s->stop = true;
        }
        if (s->progress && --progress == 0) {
            progress = s->progress_every;
            s->progress(s->progress_ctx, s);
        }
    }
    if (end == SIM_END_HORIZON) s->now = s->horizon;
    for (uint16_t m = 0; m < s->n_models; m++)
        if (s->models[m].ops->finish) s->models[m].ops->finish(s, s->models[m].self);
    return end;
}
