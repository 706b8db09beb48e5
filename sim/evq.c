/* evq.c: a radix heap of 128-bit keys. See evq.h. */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

#include "sim.h"

void evq_grow(struct evq_bucket *b)
{
    b->cap = b->cap ? 2 * b->cap : 64;
    b->keys = sim_xrealloc(b->keys, b->cap * sizeof *b->keys);
}

static inline void mark_empty(struct evq *q, unsigned i) { q->nonempty[i >> 6] &= ~(UINT64_C(1) << (i & 63)); }

/* The lowest non-empty bucket, or EVQ_BUCKETS when the queue is empty. */
static unsigned lowest_nonempty(const struct evq *q)
{
    for (unsigned w = 0; w < 3; w++)
        if (q->nonempty[w]) return 64 * w + (unsigned)__builtin_ctzll(q->nonempty[w]);
    return EVQ_BUCKETS;
}

/* Takes every key out into a new array (caller frees); the queue is left empty, buckets kept. */
static evq_key *drain(struct evq *q, size_t *n)
{
    evq_key *all = sim_xmalloc((q->n ? q->n : 1) * sizeof *all);
    size_t m = 0;
    for (unsigned i = 0; i < EVQ_BUCKETS; i++) {
        if (q->b[i].n) memcpy(all + m, q->b[i].keys, q->b[i].n * sizeof *all);
        m += q->b[i].n;
        q->b[i].n = 0;
    }
    memset(q->nonempty, 0, sizeof q->nonempty);
    *n = m;
    q->n = 0;
    return all;
}

static void refill(struct evq *q, const evq_key *keys, size_t n)
{
    for (size_t j = 0; j < n; j++) evq_append(q, evq_bit_length(keys[j] ^ q->last), keys[j]);
    q->n = n;
}

void evq_free(struct evq *q)
{
    for (unsigned i = 0; i < EVQ_BUCKETS; i++) free(q->b[i].keys);
    memset(q, 0, sizeof *q);
}

void evq_rebase(struct evq *q, evq_key k)
{
    size_t n;
    evq_key *all = drain(q, &n);
    q->last = k;
    refill(q, all, n);
    free(all);
}

/* Bucket 0 is empty: take the lowest non-empty bucket, make its minimum the new `last` (it lands in
 * bucket 0) and move its other keys to lower buckets. */
void evq_redistribute(struct evq *q)
{
    unsigned i = lowest_nonempty(q);
    SIM_ASSERT(NULL, i < EVQ_BUCKETS, "peek on an empty event queue");
    struct evq_bucket *b = &q->b[i];
    evq_key m = b->keys[0];
    for (size_t j = 1; j < b->n; j++) m = b->keys[j] < m ? b->keys[j] : m;
    q->last = m;
    mark_empty(q, i);
    size_t n = b->n;
    b->n = 0;
    /* every key moves to a bucket below i, never to b itself */
    for (size_t j = 0; j < n; j++) evq_append(q, evq_bit_length(b->keys[j] ^ m), b->keys[j]);
}

size_t evq_next_keys(const struct evq *q, const evq_key **keys)
{
    unsigned i = lowest_nonempty(q);
    if (i == EVQ_BUCKETS) return 0;
    *keys = q->b[i].keys;
    return q->b[i].n;
}

void evq_filter(struct evq *q, bool (*keep)(void *ctx, evq_key k), void *ctx)
{
    q->n = 0;
    for (unsigned i = 0; i < EVQ_BUCKETS; i++) {
        struct evq_bucket *b = &q->b[i];
        size_t m = 0;
        for (size_t j = 0; j < b->n; j++)
            if (keep(ctx, b->keys[j])) b->keys[m++] = b->keys[j];
        b->n = m;
        q->n += m;
        if (m == 0) mark_empty(q, i);
    }
}

static int cmp_key(const void *a, const void *b)
{
    evq_key x = *(const evq_key *)a, y = *(const evq_key *)b;
    return (x > y) - (x < y);
}

void evq_map_ordered(struct evq *q, evq_key (*map)(void *ctx, evq_key k, size_t rank), void *ctx)
{
    size_t n;
    evq_key *all = drain(q, &n);
    qsort(all, n, sizeof *all, cmp_key);
    for (size_t j = 0; j < n; j++) all[j] = map(ctx, all[j], j);
    q->last = n ? all[0] : 0;
    refill(q, all, n);
    free(all);
}
