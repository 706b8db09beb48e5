/* rng.c: named random streams seeded from (master seed, replication, name). See rng.h. */
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

struct stream {
    char *name;
    uint32_t seed;
    gsl_rng *rng;
};

struct rng_set {
    uint64_t master_seed;
    uint32_t replication;
    struct stream *streams;
    size_t n, cap;
};

/* splitmix64's finalizer: a bijective mix with full avalanche. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint32_t rng_seed(uint64_t master_seed, uint32_t replication, const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a over the name */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    uint64_t z = mix64(mix64(master_seed) ^ mix64(h + replication * UINT64_C(0x9e3779b97f4a7c15)));
    uint32_t folded = (uint32_t)(z ^ (z >> 32));
    return folded ? folded : 0x9e3779b9u;
}

struct rng_set *rng_set_create(uint64_t master_seed, uint32_t replication)
{
    struct rng_set *set = sim_xcalloc(1, sizeof *set);
    set->master_seed = master_seed;
    set->replication = replication;
    return set;
}

void rng_set_destroy(struct rng_set *set)
{
    if (!set) return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->streams[i].name);
        gsl_rng_free(set->streams[i].rng);
    }
    free(set->streams);
    free(set);
}

gsl_rng *rng_set_get(struct rng_set *set, const char *name)
{
    uint32_t seed = rng_seed(set->master_seed, set->replication, name);
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->streams[i].name, name) == 0) return set->streams[i].rng;
        if (set->streams[i].seed == seed)
            sim_fail(NULL, __FILE__, __LINE__,
                     "random streams \"%s\" and \"%s\" fold to the same seed %u; rename one of them",
                     set->streams[i].name, name, seed);
    }
    if (set->n == set->cap) {
        set->cap = set->cap ? 2 * set->cap : 16;
        set->streams = sim_xrealloc(set->streams, set->cap * sizeof *set->streams);
    }
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r) sim_fail(NULL, __FILE__, __LINE__, "out of memory allocating random stream \"%s\"", name);
    gsl_rng_set(r, seed);
    set->streams[set->n++] = (struct stream){sim_xstrdup(name), seed, r};
    return r;
}
