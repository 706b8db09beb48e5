/* server.c: cores, a FCFS queue with a limit, busy-time accounting. See server.h. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

enum { EV_COMPLETE, N_KINDS };

struct server {
    sim *s;
    uint16_t id;
    struct server_params p;
    server_done_fn *done;
    void *ctx;
    unsigned busy;
    struct request *queue;  /* ring buffer of cap entries */
    uint64_t head, len, cap;
    int64_t busy_core_ns;   /* core-ns of busy time up to `since` */
    sim_time since;         /* ns */
};

static void account(struct server *sv)
{
    sim_time now = sim_now(sv->s);
    sv->busy_core_ns += (int64_t)sv->busy * (now - sv->since);
    sv->since = now;
}

static void start(struct server *sv, const struct request *r)
{
    account(sv);
    sv->busy++;
    struct request started = *r;
    started.start = sim_now(sv->s);
    sim_schedule(sv->s, sim_from_seconds(r->demand / sv->p.speed), sv->id, EV_COMPLETE, &started,
                 sizeof started);
}

static void on_complete(sim *s, void *self, const void *payload)
{
    struct server *sv = self;
    struct request r;
    memcpy(&r, payload, sizeof r);
    account(sv);
    sv->busy--;
    if (sv->len > 0) {
        struct request next = sv->queue[sv->head];
        sv->head = (sv->head + 1) % sv->cap;
        sv->len--;
        start(sv, &next);
    }
    SIM_ASSERT(s, sv->busy <= sv->p.cores, "server busy %u > cores %u", sv->busy, sv->p.cores);
    sv->done(sv->ctx, &r);
}

static sim_handler_fn *const handlers[N_KINDS] = {on_complete};
static const char *const kind_names[N_KINDS] = {"complete"};
static const sim_model_ops ops = {"server", N_KINDS, handlers, kind_names, NULL};

struct server *server_create(sim *s, const struct server_params *p, server_done_fn *done, void *ctx)
{
    SIM_ASSERT(s, p->cores >= 1 && p->speed > 0 && p->queue_limit >= 0, "bad server parameters");
    struct server *sv = sim_xcalloc(1, sizeof *sv);
    sv->s = s;
    sv->p = *p;
    sv->done = done;
    sv->ctx = ctx;
    sv->since = sim_now(s);
    sv->id = sim_register(s, &ops, sv);
    return sv;
}

void server_destroy(struct server *sv)
{
    if (!sv) return;
    free(sv->queue);
    free(sv);
}

bool server_submit(struct server *sv, const struct request *r)
{
    if (sv->busy < sv->p.cores) {
        start(sv, r);
        return true;
    }
    if (sv->len >= (uint64_t)sv->p.queue_limit) return false;
    if (sv->len == sv->cap) { /* grow, unrolling the ring so head is 0 */
        uint64_t cap = sv->cap ? 2 * sv->cap : 64;
        struct request *q = sim_xmalloc(cap * sizeof *q);
        for (uint64_t i = 0; i < sv->len; i++) q[i] = sv->queue[(sv->head + i) % sv->cap];
        free(sv->queue);
        sv->queue = q;
        sv->head = 0;
        sv->cap = cap;
    }
    sv->queue[(sv->head + sv->len) % sv->cap] = *r;
    sv->len++;
    return true;
}

unsigned server_busy(const struct server *sv) { return sv->busy; }
uint64_t server_queued(const struct server *sv) { return sv->len; }
const struct server_params *server_params(const struct server *sv) { return &sv->p; }

double server_busy_core_seconds(const struct server *sv)
{
    return sim_to_seconds(sv->busy_core_ns + (int64_t)sv->busy * (sim_now(sv->s) - sv->since));
}
