/* rng.h: named random streams.
 *
 * Each source of randomness in a run has its own GSL generator, named like "workload/arrivals" or
 * "server/3/failure". A stream's seed is a hash of (master seed, replication, name) and nothing else,
 * so adding a stream leaves every other stream's draws unchanged, and replication r of two designs
 * sees the same workload draws (common random numbers).
 *
 * GSL's mt19937 uses only the low 32 bits of a seed and maps seed 0 to 4357, so the hash is folded to
 * a non-zero 32-bit value. Two different names that fold to the same seed in one set would share their
 * draws; the set refuses that (a fatal error naming both), rather than silently correlating them.
 *
 * Leaves out: parallel substreams, generator choice per stream (all are mt19937).
 * Scale: tens to thousands of streams per run; lookup is a linear scan done at model creation only.
 */
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

#include <gsl/gsl_rng.h>

/* The seed of stream `name`: a 64-bit mix of the three inputs folded to [1, 2^32 - 1]. */
uint32_t rng_seed(uint64_t master_seed, uint32_t replication, const char *name);

struct rng_set;

/* A set of streams for one run. Never returns NULL (out of memory is fatal). */
struct rng_set *rng_set_create(uint64_t master_seed, uint32_t replication);
void rng_set_destroy(struct rng_set *set);

/* The stream called `name`, created on first use; the same pointer on later calls. Owned by the set.
 * Aborts with a message naming both streams if another name in the set has the same seed. */
gsl_rng *rng_set_get(struct rng_set *set, const char *name);

#endif
