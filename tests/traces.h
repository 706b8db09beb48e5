/* traces.h: where the real traces of shared/data/traces are, for the programs that replay them whole
 * (validate_traces, bench_trace): $STRATO_TRACES, else ../shared/data/traces next to the source tree,
 * else /work/shared/data/traces. Also the source tree's root, for the catalog. */
#ifndef TEST_TRACES_H
#define TEST_TRACES_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The source tree's root (this header is tests/traces.h), without a trailing slash. */
static inline void traces_source_root(char *out, size_t len)
{
    snprintf(out, len, "%s", __FILE__);
    char *cut = strstr(out, "/tests/traces.h");
    if (cut) *cut = '\0';
    else snprintf(out, len, ".");
}

/* Writes the traces folder into root; false when no candidate holds the NASA trace. */
static inline bool traces_find(char *root, size_t len)
{
    char tree[1024], guess[1100];
    traces_source_root(tree, sizeof tree);
    snprintf(guess, sizeof guess, "%s/../shared/data/traces", tree);
    const char *candidates[] = {getenv("STRATO_TRACES"), guess, "/work/shared/data/traces"};
    for (size_t i = 0; i < 3; i++) {
        if (!candidates[i]) continue;
        char probe[1200];
        snprintf(probe, sizeof probe, "%s/nasa-http-1995-per-second/workload.txt", candidates[i]);
        if (access(probe, R_OK) == 0) {
            snprintf(root, len, "%s", candidates[i]);
            return true;
        }
    }
    return false;
}

#endif
