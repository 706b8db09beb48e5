/* onprem.h: a fleet of identical servers in the user's own data centre, and what it costs to own.
 *
 * Models: N serving servers (see server.h) behind a dispatcher that sends each request, on arrival,
 * to one of them: round robin, or join-the-shortest-queue (the server with the fewest requests in it,
 * ties to the lowest index). A request that its server cannot queue is rejected with a 503. Spare
 * servers stand by, powered; hardware failures (a time to failure per powered server, serving or
 * spare, from a distribution, drawn anew after each repair) take a server down with the requests in it, a spare takes its place at once when there is one, and the
 * failed server is repaired on a human time scale (a distribution: hours to days) and becomes a spare
 * or serves again. There is never more capacity than the servers bought.
 *
 * Total cost of ownership (the `tco` group; with aws-facts.md section 8 for the figures), booked in
 * the cost ledger as monthly lines accrued by the second (a month is 730 hours):
 * - hardware: every server bought (serving and spare) paid off over the amortisation period at the
 *   cost of money, as a level monthly payment P r / (1 - (1 + r)^-n), r the monthly rate;
 * - power: each powered server draws idle + (peak - idle) x its utilization watts, times the PUE, at
 *   the electricity tariff (failed servers draw nothing);
 * - space (or colocation) per kW of the servers' peak power per month; a network share per server per
 *   month; staff: servers / servers per administrator x the administrator's yearly cost / 12.
 *
 * Leaves out: purchase lead time, facility capital cost (inside the space price), software licences,
 * partial failures, correlated failures (a rack, a power feed), growth.
 * Invariant: requests held = sum over servers of (busy + queued); servers serving + spare + failed =
 * servers bought.
 * Scale: up to thousands of servers; round robin is O(1) per request, JSQ O(N).
 */
#ifndef ONPREM_H
#define ONPREM_H

#include "conf.h"
#include "cost.h"
#include "dist.h"
#include "metrics.h"
#include "server.h"
#include "sim.h"

enum onprem_dispatch { ONPREM_ROUND_ROBIN, ONPREM_JSQ };

struct onprem_tco {
    bool given;                    /* the design has a tco group */
    double price;                  /* USD per server */
    double months;                 /* amortisation period, > 0 */
    double cost_of_money;          /* yearly interest rate, >= 0 */
    double idle_w, peak_w;         /* W per server */
    double pue;                    /* >= 1 */
    double kwh;                    /* USD per kWh */
    double kw_month;               /* USD per kW of peak power per month (space or colocation) */
    double network_month;          /* USD per server per month */
    double servers_per_admin;      /* > 0 */
    double admin_year;             /* USD per administrator per year, fully loaded */
};

struct onprem_params {
    unsigned servers;              /* serving, >= 1 */
    unsigned spares;               /* bought on top, standing by */
    struct server_params server;   /* each server */
    enum onprem_dispatch dispatch;
    struct dist failure;           /* s from power-on (or repair) to a hardware failure; DIST_NONE = never */
    struct dist repair;            /* s to repair a failed server */
    struct onprem_tco tco;
};

/* Reads an onprem design group (servers, spares, server { cores, speed, queue_limit }, dispatch,
 * failures { between; repair; }, tco { ... }) into p. Returns false after reporting mistakes. */
bool onprem_parse(conf *c, const config_setting_t *design, struct onprem_params *p);
void onprem_params_free(struct onprem_params *p);

/* Monthly cost of one server bought at `price`, paid off over `months` at yearly rate `rate`. */
double onprem_monthly_payment(double price, double months, double rate);

struct onprem;

/* Builds the fleet on s, reporting into m (and attaching itself as m's probe) and booking its TCO in
 * cost when p has a tco group and cost is not NULL. p and cost are borrowed for the run. */
struct onprem *onprem_create(sim *s, const struct onprem_params *p, struct metrics *m, struct cost *cost);
void onprem_destroy(struct onprem *o);

/* The workload sink: dispatches r (ctx is the struct onprem). */
void onprem_submit(void *ctx, const struct request *r);

/* Requests in the fleet now (busy + queued over all servers). */
uint64_t onprem_in_system(const struct onprem *o);
/* Requests waiting (not in service) at the serving server with the fewest; UINT64_MAX with none. */
uint64_t onprem_least_waiting(const struct onprem *o);
/* The least, over serving servers, of requests held minus cores (negative: free cores); INT64_MAX
 * with none serving. A request sent now by join-the-shortest-queue waits behind this many. */
int64_t onprem_least_backlog(const struct onprem *o);
/* The probe onprem attaches to metrics (for designs made of parts). */
struct metrics_probe onprem_probe(const struct onprem *o);
/* Servers serving now, and energy drawn so far (J, IT side, before the PUE). */
unsigned onprem_serving(const struct onprem *o);
double onprem_joules(const struct onprem *o);

#endif
