/* testheld.h: resources a test holds, released by its teardown even when an assertion fails midway.
 * hold(p, fn) registers p to be released with fn(p); unhold(p) forgets it (the test released it);
 * teardown is the cmocka teardown that releases whatever is still held, newest first. Up to 16. */
#ifndef TESTHELD_H
#define TESTHELD_H

#include <stddef.h>

typedef void cleanup_fn(void *p);
static void *held_ptr[16];
static cleanup_fn *held_fn[16];
static size_t n_held;

static inline void hold(void *p, cleanup_fn *fn)
{
    if (n_held < 16) {
        held_ptr[n_held] = p;
        held_fn[n_held++] = fn;
    }
}

static inline void unhold(void *p)
{
    for (size_t i = 0; i < n_held; i++)
        if (held_ptr[i] == p) {
            held_ptr[i] = held_ptr[--n_held];
            held_fn[i] = held_fn[n_held];
            return;
        }
}

static inline int teardown(void **state)
{
    (void)state;
    while (n_held > 0) {
        n_held--;
        held_fn[n_held](held_ptr[n_held]);
    }
    return 0;
}

#endif
