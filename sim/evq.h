/* evq.h: the engine's pending-event set (internal to sim.c; models never see it).
 *
 * Holds 128-bit keys and gives them back smallest first. The engine packs (time, seq, slot) into one
 * key, so one unsigned comparison orders events by time, then by insertion.
 *
 * The engine is monotone: it never schedules before the event it is running, so every key pushed is
 * larger than the last key popped. That allows a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990):
 * bucket i holds the keys whose highest bit differing from `last` (the last key taken out) is bit
 * i - 1. A push appends to one bucket; a pop that finds bucket 0 empty takes the lowest non-empty
 * bucket, finds its minimum m, makes m the new `last` and moves each of its keys to a strictly lower
 * bucket. Every key moves at most 128 times and in practice a handful (about log2 of its delay over
 * the mean gap between events); every access is sequential within a bucket, which is why it beats a
 * binary or 4-ary heap once the pending set outgrows the cache (see the README's benchmarks).
 *
 * A key smaller than `last` may still be pushed after a peek that was not followed by a pop (the run
 * stopped at its horizon): the queue then re-bases on it in O(n). Anything else smaller than `last`
 * is a bug in the caller.
 *
 * Scale: any number of keys; memory is 16 bytes per key plus bucket slack, kept across pops.
 */
#ifndef EVQ_H
#define EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

__extension__ typedef unsigned __int128 evq_key;

#define EVQ_BUCKETS 129

struct evq_bucket {
    evq_key *keys;
    size_t n, cap;
};

struct evq {
    evq_key last;                        /* every key held is >= last */
    size_t n;                            /* keys held */
    uint64_t nonempty[3];                /* bit i set when bucket i holds keys */
    struct evq_bucket b[EVQ_BUCKETS];
};

/* An empty queue: zero-initialise it (= {0}). Release its memory with evq_free. */
void evq_free(struct evq *q);

/* Slow paths of the inline functions below; not for direct use. */
void evq_rebase(struct evq *q, evq_key k);
void evq_grow(struct evq_bucket *b);
void evq_redistribute(struct evq *q);

static inline unsigned evq_bit_length(evq_key x)
{
    uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
    if (hi) return 128u - (unsigned)__builtin_clzll(hi);
    return lo ? 64u - (unsigned)__builtin_clzll(lo) : 0u;
}

static inline void evq_append(struct evq *q, unsigned i, evq_key k)
{
    struct evq_bucket *b = &q->b[i];
    if (b->n == b->cap) evq_grow(b);
    b->keys[b->n++] = k;
    q->nonempty[i >> 6] |= UINT64_C(1) << (i & 63);
}

/* Adds k. O(1) amortised. */
static inline void evq_push(struct evq *q, evq_key k)
{
    if (k < q->last) evq_rebase(q, k);
    evq_append(q, evq_bit_length(k ^ q->last), k);
    q->n++;
}

/* The smallest key; q must not be empty. Amortised O(1) (moves keys between buckets). */
static inline evq_key evq_peek(struct evq *q)
{
    if (q->b[0].n == 0) evq_redistribute(q);
    return q->b[0].keys[q->b[0].n - 1];
}

/* Removes and returns the smallest key; q must not be empty. */
static inline evq_key evq_pop(struct evq *q)
{
    evq_key k = evq_peek(q);
    if (--q->b[0].n == 0) q->nonempty[0] &= ~UINT64_C(1);
    q->n--;
    return k;
}

/* The keys of the lowest non-empty bucket: the next keys to come out (unless smaller ones are pushed
 * first), in no order. Returns their number (0 when empty) and sets *keys; valid until the next
 * change. For prefetching what the next pops will touch. */
size_t evq_next_keys(const struct evq *q, const evq_key **keys);

/* Keeps only the keys for which keep(ctx, k) is true. O(n). */
void evq_filter(struct evq *q, bool (*keep)(void *ctx, evq_key k), void *ctx);

/* Replaces every key k by map(ctx, k), which must preserve their order, and re-bases. O(n log n). */
void evq_map_ordered(struct evq *q, evq_key (*map)(void *ctx, evq_key k, size_t rank), void *ctx);

#endif
