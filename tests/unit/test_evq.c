/* test_evq.c: the radix heap gives keys back in order under every way the engine uses it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "evq.h"

static evq_key key(uint64_t time, uint64_t low) { return ((evq_key)time << 64) | low; }

static int cmp(const void *a, const void *b)
{
    evq_key x = *(const evq_key *)a, y = *(const evq_key *)b;
    return (x > y) - (x < y);
}

/* A reference: a sorted array of everything pushed, consumed from the front. */
static uint64_t lcg(uint64_t *state)
{
    *state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return *state >> 33;
}

static void test_monotone_hold_pattern_pops_in_order(void **state)
{
    (void)state;
    struct evq q = {0};
    uint64_t rng = 1, seq = 0;
    for (int i = 0; i < 1000; i++) evq_push(&q, key(lcg(&rng) % 1000000, seq++));
    evq_key prev = 0;
    for (int i = 0; i < 200000; i++) {
        evq_key k = evq_pop(&q);
        assert_true(k > prev || i == 0);
        prev = k;
        uint64_t now = (uint64_t)(k >> 64);
        /* ties at the same time and long jumps, as models produce */
        uint64_t delay = i % 7 == 0 ? 0 : lcg(&rng) % (i % 3 ? 1000 : 100000000);
        evq_push(&q, key(now + delay, seq++));
    }
    assert_int_equal(q.n, 1000);
    evq_free(&q);
}

static void test_matches_sorting_for_batches(void **state)
{
    (void)state;
    struct evq q = {0};
    enum { N = 5000 };
    static evq_key ref[N];
    uint64_t rng = 7;
    for (int i = 0; i < N; i++) {
        ref[i] = key(lcg(&rng) % 300, (uint64_t)i); /* many equal times */
        evq_push(&q, ref[i]);
    }
    qsort(ref, N, sizeof ref[0], cmp);
    for (int i = 0; i < N; i++) {
        assert_true(evq_peek(&q) == ref[i]);
        assert_true(evq_pop(&q) == ref[i]);
    }
    assert_int_equal(q.n, 0);
    evq_free(&q);
}

static void test_push_below_peeked_key_rebases(void **state)
{
    (void)state;
    struct evq q = {0};
    evq_push(&q, key(100, 1));
    evq_push(&q, key(500, 2));
    assert_true(evq_peek(&q) == key(100, 1));
    evq_push(&q, key(50, 3)); /* below the peeked minimum: allowed, the queue re-bases */
    assert_true(evq_pop(&q) == key(50, 3));
    assert_true(evq_pop(&q) == key(100, 1));
    assert_true(evq_pop(&q) == key(500, 2));
    evq_free(&q);
}

static bool keep_even(void *ctx, evq_key k)
{
    (void)ctx;
    return ((uint64_t)k & 1) == 0;
}

static void test_filter_keeps_order_of_survivors(void **state)
{
    (void)state;
    struct evq q = {0};
    for (uint64_t i = 0; i < 1000; i++) evq_push(&q, key(i * 7919 % 1000, i));
    evq_pop(&q); /* leave the queue mid-way through a redistribution */
    evq_filter(&q, keep_even, NULL);
    assert_int_equal(q.n, 499);
    evq_key prev = 0;
    for (size_t i = 0; i < 499; i++) {
        evq_key k = evq_pop(&q);
        assert_int_equal((uint64_t)k & 1, 0);
        assert_true(k > prev);
        prev = k;
    }
    evq_free(&q);
}

static evq_key by_rank(void *ctx, evq_key k, size_t rank)
{
    (void)ctx;
    return ((k >> 64) << 64) | rank;
}

static void test_ordered_map_renumbers_and_keeps_order(void **state)
{
    (void)state;
    struct evq q = {0};
    for (uint64_t i = 0; i < 100; i++) evq_push(&q, key(5 + i % 3, UINT64_MAX - 100 + i));
    evq_map_ordered(&q, by_rank, NULL);
    for (uint64_t r = 0; r < 100; r++) {
        evq_key k = evq_pop(&q);
        assert_int_equal((uint64_t)k, r);
        assert_int_equal((uint64_t)(k >> 64), 5 + (r >= 34) + (r >= 67));
    }
    evq_push(&q, key(7, 100)); /* pushes after renumbering go on in order */
    assert_true(evq_pop(&q) == key(7, 100));
    evq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_monotone_hold_pattern_pops_in_order),
        cmocka_unit_test(test_matches_sorting_for_batches),
        cmocka_unit_test(test_push_below_peeked_key_rebases),
        cmocka_unit_test(test_filter_keeps_order_of_survivors),
        cmocka_unit_test(test_ordered_map_renumbers_and_keeps_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
