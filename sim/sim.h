/* sim.h: the discrete-event engine.
 *
 * What it provides: a simulated clock in integer nanoseconds, a pending-event set ordered by
 * (time, seq) where seq counts insertions, so events at the same instant run in the order they were
 * scheduled on every machine; models registered with a const table of handlers indexed by event kind;
 * events with a small inline payload, held in a pool of fixed blocks that never move and recycled
 * through a free list (no malloc per event); cancellation by id that is a safe no-op on a stale id;
 * named random streams (rng.h) owned by the engine; a stop request and a progress callback.
 *
 * What it leaves out: anything about clouds, parallel or distributed execution (one engine is one
 * thread; several engines may live in one process since nothing here is global), rollback.
 *
 * Invariant: the clock never goes backwards; every event runs at most once, at its time; an event
 * whose id was cancelled never runs.
 *
 * Scale: up to 2^26 (67 million) events pending at once; about 2^38 schedules per run before the
 * insertion counter is renumbered (order preserving, O(n log n), transparent).
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>

#include <gsl/gsl_rng.h>

/* Simulated time: integer nanoseconds since the start of the run. */
typedef int64_t sim_time;
#define SIM_NS ((sim_time)1)
#define SIM_US ((sim_time)1000)
#define SIM_MS ((sim_time)1000000)
#define SIM_SEC ((sim_time)1000000000)
#define SIM_TIME_MAX INT64_MAX

/* Converts seconds to sim_time by rounding to the nearest nanosecond: the one place where random
 * samples (drawn in double seconds) become engine time. Aborts on NaN, negative or > 9.2e9 s. */
sim_time sim_from_seconds(double seconds);

/* Converts sim_time to double seconds (for output columns and statistics). */
static inline double sim_to_seconds(sim_time t) { return (double)t / 1e9; }

typedef struct sim sim;
typedef uint64_t sim_event_id; /* 0 = none; carries a generation so stale ids are harmless */

/* A random delay in seconds (>= 0) as sim_time from now, for sim_schedule. A delay that ends past the
 * horizon becomes "just past the horizon" (the event never runs), so heavy-tailed samples cannot
 * overflow the clock. NaN or negative aborts (a bug upstream). */
sim_time sim_delay(const sim *s, double seconds);

/* Bytes of payload an event carries inline; the handler gets a pointer valid until it returns. */
#define SIM_PAYLOAD_MAX 48

typedef void sim_handler_fn(sim *s, void *self, const void *payload);

/* A model's static description: its handlers indexed by event kind and their names (for traces,
 * assertions and HDF5 enums). The table is borrowed for the engine's lifetime. */
typedef struct sim_model_ops {
    const char *name;
    uint16_t n_kinds;
    sim_handler_fn *const *handlers;   /* n_kinds entries, none NULL */
    const char *const *kind_names;     /* n_kinds entries */
    void (*finish)(sim *s, void *self); /* called once at the end of sim_run, may be NULL */
} sim_model_ops;

/* Why sim_run returned. */
enum sim_end { SIM_END_EMPTY, SIM_END_HORIZON, SIM_END_STOPPED };

/* Creates an engine at time 0 that runs events with time <= horizon (ns, > 0). Random streams are
 * seeded from (master_seed, replication, stream name). Never returns NULL (aborts out of memory). */
sim *sim_create(uint64_t master_seed, uint32_t replication, sim_time horizon);

/* Frees the engine, its pending events and its random streams. Models are owned by their creators. */
void sim_destroy(sim *s);

/* Registers a model; returns its id, used as the target of events. ops is borrowed. */
uint16_t sim_register(sim *s, const sim_model_ops *ops, void *self);

/* Schedules event `kind` of model `model` at now + delay (delay >= 0, ns), with a copy of `len`
 * bytes (<= SIM_PAYLOAD_MAX) of payload. Returns an id for sim_cancel. Equal times run in call order. */
sim_event_id sim_schedule(sim *s, sim_time delay, uint16_t model, uint16_t kind, const void *payload,
                          size_t len);

/* As sim_schedule, at absolute time `at` (>= now). */
sim_event_id sim_schedule_at(sim *s, sim_time at, uint16_t model, uint16_t kind, const void *payload,
                             size_t len);

/* Cancels a pending event. Returns true if it was pending; false (and does nothing) for 0, an event
 * that already ran or was cancelled, a recycled id, or the event currently running. */
bool sim_cancel(sim *s, sim_event_id id);

/* The current simulated time (ns). */
sim_time sim_now(const sim *s);
sim_time sim_horizon(const sim *s);

/* The named random stream of this run, created on first use (see rng.h for the seeding rule).
 * Fetch once at model creation, not per draw. Owned by the engine. */
gsl_rng *sim_rng(sim *s, const char *name);

/* Runs events in (time, seq) order until none is pending, the next one is past the horizon, or a stop
 * is requested; then calls each model's finish in registration order. At return the clock reads the
 * horizon (or the stop time, or the time of the last event when the queue emptied). After a stop,
 * calling it again continues the run (and calls finish again at its end). */
enum sim_end sim_run(sim *s);

/* Asks the running loop to return after the current event (from a handler). */
void sim_stop(sim *s);

/* Polls *flag (set by a signal handler) every few thousand events; nonzero stops the run. */
void sim_watch_flag(sim *s, volatile sig_atomic_t *flag);

/* Calls fn(ctx, s) about every `every` events while running (a progress line). */
void sim_set_progress(sim *s, void (*fn)(void *ctx, const sim *s), void *ctx, uint32_t every);

/* Events dispatched so far (cancelled ones are not counted). */
uint64_t sim_events(const sim *s);
/* Events pending, including cancelled ones not yet dropped. */
size_t sim_pending(const sim *s);

/* Always-on invariant check for models and engine: on failure prints file:line, the simulated time,
 * the model and event kind being run, and the message, then aborts. s may be NULL. */
#define SIM_ASSERT(s, cond, ...)                                                                    \
    do {                                                                                            \
        if (!(cond)) sim_fail((s), __FILE__, __LINE__, __VA_ARGS__);                                \
    } while (0)

#if defined(__GNUC__)
#define SIM_NORETURN __attribute__((noreturn))
#define SIM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SIM_NORETURN
#define SIM_PRINTF(f, a)
#endif

SIM_NORETURN void sim_fail(const sim *s, const char *file, int line, const char *fmt, ...)
    SIM_PRINTF(4, 5);

/* Allocation that never returns NULL: out of memory is fatal, with the size asked for. */
void *sim_xmalloc(size_t size);
void *sim_xcalloc(size_t n, size_t size);
void *sim_xrealloc(void *p, size_t size);
char *sim_xstrdup(const char *str);

/* Testing only: sets the insertion counter so the renumbering path can be exercised. */
void sim_test_set_seq(sim *s, uint64_t seq);

#endif
