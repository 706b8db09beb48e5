/* server.c: cores, a FCFS queue with a limit, busy-time accounting. See server.h.
 *
 * Each busy core keeps its request and the id of its completion event, so a kill can cancel the
 * completions and hand the requests back; the completion event itself carries only the core index. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

enum { EV_COMPLETE, N_KINDS };

struct core {
    struct request r;  /* the request in service */
    sim_event_id done; /* its completion */
};

struct server {
    sim *s;
    uint16_t id;
    struct server_params p;
    server_done_fn *done;
    void *ctx;
    struct core *cores;     /* p.cores entries */
    uint32_t *idle;         /* stack of idle core indices */
    unsigned n_idle;
    struct request *queue;  /* ring buffer of cap entries */
    uint64_t head, len, cap;
    int64_t busy_core_ns;   /* core-ns of busy time up to `since` */
    sim_time since;         /* ns */
};

static unsigned busy_cores(const struct server *sv) { return sv->p.cores - sv->n_idle; }

static void account(struct server *sv)
{
    sim_time now = sim_now(sv->s);
    sv->busy_core_ns += (int64_t)busy_cores(sv) * (now - sv->since);
    sv->since = now;
}

static void start(struct server *sv, const struct request *r)
{
    account(sv);
    uint32_t c = sv->idle[--sv->n_idle];
    sv->cores[c].r = *r;
    sv->cores[c].r.start = sim_now(sv->s);
    sv->cores[c].done = sim_schedule(sv->s, sim_delay(sv->s, r->demand / sv->p.speed), sv->id, EV_COMPLETE, &c,
                                     sizeof c);
}

static void on_complete(sim *s, void *self, const void *payload)
{
    struct server *sv = self;
    uint32_t c;
    memcpy(&c, payload, sizeof c);
    struct request r = sv->cores[c].r;
    account(sv);
    sv->idle[sv->n_idle++] = c;
    if (sv->len > 0) {
        struct request next = sv->queue[sv->head];
        sv->head = (sv->head + 1) % sv->cap;
        sv->len--;
        start(sv, &next);
    }
    SIM_ASSERT(s, sv->n_idle <= sv->p.cores, "server has %u idle of %u cores", sv->n_idle, sv->p.cores);
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
    sv->cores = sim_xcalloc(p->cores, sizeof *sv->cores);
    sv->idle = sim_xmalloc(p->cores * sizeof *sv->idle);
    for (unsigned c = 0; c < p->cores; c++) sv->idle[c] = p->cores - 1 - c; /* core 0 first */
    sv->n_idle = p->cores;
    sv->since = sim_now(s);
    sv->id = sim_register(s, &ops, sv);
    return sv;
}

void server_destroy(struct server *sv)
{
    if (!sv) return;
    free(sv->cores);
    free(sv->idle);
    free(sv->queue);
    free(sv);
}

bool server_submit(struct server *sv, const struct request *r)
{
    if (sv->n_idle > 0) {
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

void server_kill(struct server *sv, server_done_fn *lost, void *ctx)
{
    account(sv);
    /* mark the idle cores so the busy ones can be found in core order */
    unsigned char *idle = sim_xcalloc(sv->p.cores, 1);
    for (unsigned i = 0; i < sv->n_idle; i++) idle[sv->idle[i]] = 1;
    for (uint32_t c = 0; c < sv->p.cores; c++) {
        if (idle[c]) continue;
        sim_cancel(sv->s, sv->cores[c].done);
        sv->idle[sv->n_idle++] = c;
        lost(ctx, &sv->cores[c].r);
    }
    free(idle);
    while (sv->len > 0) {
        struct request r = sv->queue[sv->head];
        sv->head = (sv->head + 1) % sv->cap;
        sv->len--;
        lost(ctx, &r);
    }
}

unsigned server_busy(const struct server *sv) { return busy_cores(sv); }
uint64_t server_queued(const struct server *sv) { return sv->len; }
const struct server_params *server_params(const struct server *sv) { return &sv->p; }

double server_busy_core_seconds(const struct server *sv)
{
    return sim_to_seconds(sv->busy_core_ns + (int64_t)busy_cores(sv) * (sim_now(sv->s) - sv->since));
}
