/* test_az.c: unit tests of models/az: zones, round-trip times, scheduled and random outages, and the
 * diagnostics of the `region` group.
 *
 * A recorder registered as the owner writes down every change of a zone's state with the simulated
 * time it was told (in integer nanoseconds) and the zone's az_up at that instant; a driver samples
 * az_up at chosen times. Scheduled outages and deterministic random outages are checked at exact
 * instants; random outages with exponential distributions are checked against the same named stream
 * ("az/<zone>/outage") drawn by the test itself, so every instant is still exact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "az.h"
#include "conf.h"
#include "dist.h"
#include "sim.h"
#include "testheld.h"
#include "testutil.h"

#define SEC SIM_SEC

/* ---- resources a test holds: released by the teardown even when an assertion fails midway ------ */


/* ---- a recorder of zone changes and a sampler of az_up ----------------------------------------- */

struct change {
    sim_time t;
    unsigned zone;
    bool up;
    bool az_up_then; /* az_up(zone) as seen inside the callback */
};

struct sample {
    sim_time t;
    bool up[AZ_MAX];
};

struct harness {
    sim *s;
    uint16_t id;
    struct az *a;
    size_t n_changes;
    struct change changes[4096];
    size_t n_samples;
    struct sample samples[64];
    sim *ref; /* a reference engine for the same streams, or NULL */
};

static void changed(void *ctx, unsigned zone, bool up)
{
    struct harness *h = ctx;
    assert_true(h->n_changes < 4096);
    h->changes[h->n_changes++] = (struct change){sim_now(h->s), zone, up, az_up(h->a, zone)};
}

static void on_sample(sim *s, void *self, const void *payload)
{
    (void)payload;
    struct harness *h = self;
    struct sample *sm = &h->samples[h->n_samples++];
    sm->t = sim_now(s);
    for (unsigned z = 0; z < az_count(h->a); z++) sm->up[z] = az_up(h->a, z);
}

static sim_handler_fn *const handlers[1] = {on_sample};
static const char *const kinds[1] = {"sample"};
static const sim_model_ops sampler_ops = {"sampler", 1, handlers, kinds, NULL};

static void free_harness(struct harness *h);

static struct harness *harness(const struct az_params *p, sim_time horizon, uint64_t seed)
{
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    hold(h, (cleanup_fn *)free_harness);
    h->s = sim_create(seed, 0, horizon);
    h->id = sim_register(h->s, &sampler_ops, h);
    h->a = az_create(h->s, p, changed, h);
    return h;
}

static void sample_at(struct harness *h, sim_time t) { sim_schedule_at(h->s, t, h->id, 0, NULL, 0); }

static void free_harness(struct harness *h)
{
    unhold(h);
    if (h->ref) sim_destroy(h->ref);
    az_destroy(h->a);
    sim_destroy(h->s);
    free(h);
}

static void assert_change(const struct harness *h, size_t i, sim_time t, unsigned zone, bool up)
{
    assert_true(i < h->n_changes);
    assert_int_equal(h->changes[i].t, t);
    assert_int_equal(h->changes[i].zone, zone);
    assert_int_equal(h->changes[i].up, up);
    assert_int_equal(h->changes[i].az_up_then, up); /* the state is already changed when the owner hears */
}

static struct az_params params(unsigned n)
{
    return (struct az_params){.n = n, .intra_rtt = 200 * SIM_US, .inter_rtt = SIM_MS};
}

static void add_outage(struct az_params *p, unsigned zone, sim_time at, sim_time duration)
{
    p->outages[p->n_outages++] = (struct az_outage){zone, at, duration};
}

/* ---- scheduled outages ------------------------------------------------------------------------- */

static void test_scheduled_outages_take_zones_down_and_up_at_their_exact_instants(void **state)
{
    (void)state;
    struct az_params p = params(3);
    add_outage(&p, 1, 100 * SEC, 50 * SEC);
    add_outage(&p, 2, 10 * SEC, 5 * SEC + 7); /* 7 ns past 15 s: nanosecond resolution */
    struct harness *h = harness(&p, 1000 * SEC, 1);
    sample_at(h, 0);
    sample_at(h, 12 * SEC);
    sample_at(h, 15 * SEC + 6);
    sample_at(h, 15 * SEC + 8);
    sample_at(h, 120 * SEC);
    sample_at(h, 151 * SEC);
    assert_int_equal(sim_run(h->s), SIM_END_EMPTY);

    assert_int_equal(h->n_changes, 4);
    assert_change(h, 0, 10 * SEC, 2, false);
    assert_change(h, 1, 15 * SEC + 7, 2, true);
    assert_change(h, 2, 100 * SEC, 1, false);
    assert_change(h, 3, 150 * SEC, 1, true);

    static const bool expect[6][3] = {{1, 1, 1}, {1, 1, 0}, {1, 1, 0}, {1, 1, 1}, {1, 0, 1}, {1, 1, 1}};
    assert_int_equal(h->n_samples, 6);
    for (size_t i = 0; i < 6; i++)
        for (unsigned z = 0; z < 3; z++) assert_int_equal(h->samples[i].up[z], expect[i][z]);
    free_harness(h);
}

static void test_overlapping_outages_of_one_zone_merge_and_it_comes_up_when_the_last_one_ends(void **state)
{
    (void)state;
    struct az_params p = params(2);
    add_outage(&p, 0, 100 * SEC, 100 * SEC); /* [100, 200) */
    add_outage(&p, 0, 150 * SEC, 150 * SEC); /* [150, 300): overlaps the first and outlasts it */
    add_outage(&p, 0, 120 * SEC, 10 * SEC);  /* [120, 130): inside the first */
    add_outage(&p, 1, 250 * SEC, 10 * SEC);  /* another zone in between: independent */
    struct harness *h = harness(&p, 1000 * SEC, 1);
    sample_at(h, 131 * SEC);
    sample_at(h, 201 * SEC); /* the first outage is over, the second is not */
    sample_at(h, 299 * SEC);
    sample_at(h, 301 * SEC);
    sim_run(h->s);

    assert_int_equal(h->n_changes, 4);
    assert_change(h, 0, 100 * SEC, 0, false);
    assert_change(h, 1, 250 * SEC, 1, false);
    assert_change(h, 2, 260 * SEC, 1, true);
    assert_change(h, 3, 300 * SEC, 0, true);
    assert_false(h->samples[0].up[0]);
    assert_false(h->samples[1].up[0]);
    assert_false(h->samples[2].up[0]);
    assert_true(h->samples[3].up[0]);
    free_harness(h);
}

static void test_an_outage_past_the_horizon_never_fires(void **state)
{
    (void)state;
    struct az_params p = params(3);
    add_outage(&p, 0, 900 * SEC, 200 * SEC); /* down within the horizon, up after it */
    add_outage(&p, 1, 2000 * SEC, 10 * SEC);
    struct harness *h = harness(&p, 1000 * SEC, 1);
    assert_int_equal(sim_run(h->s), SIM_END_HORIZON);
    assert_int_equal(h->n_changes, 1);
    assert_change(h, 0, 900 * SEC, 0, false);
    assert_false(az_up(h->a, 0));
    assert_true(az_up(h->a, 1));
    free_harness(h);
}

/* ---- random outages ---------------------------------------------------------------------------- */

static void test_random_outages_with_deterministic_times_alternate_down_and_up_exactly(void **state)
{
    (void)state;
    struct az_params p = params(2);
    p.random_outages = true;
    p.between = dist_deterministic(1000.0);
    p.repair = dist_deterministic(60.0);
    struct harness *h = harness(&p, 5000 * SEC, 1);
    sim_run(h->s);
    /* per zone: down at 1000, up at 1060, down at 2060, up at 2120, down at 3120, up at 3180, down at
     * 4180, up at 4240; both zones at the same instants, zone 0 first (scheduled first) */
    static const sim_time at[8] = {1000, 1060, 2060, 2120, 3120, 3180, 4180, 4240};
    assert_int_equal(h->n_changes, 16);
    for (size_t k = 0; k < 8; k++)
        for (unsigned z = 0; z < 2; z++) assert_change(h, 2 * k + z, at[k] * SEC, z, k % 2 == 1);
    free_harness(h);
}

static void test_random_outages_draw_between_and_repair_times_from_the_zone_stream(void **state)
{
    (void)state;
    const uint64_t seed = 77;
    struct az_params p = params(3);
    p.random_outages = true;
    p.between = dist_exponential(3600.0);
    p.repair = dist_exponential(600.0);
    const sim_time horizon = 200 * 3600 * SEC;
    struct harness *h = harness(&p, horizon, seed);
    sim_run(h->s);

    /* The same streams, drawn here: first the time to the first outage, then at each outage its repair
     * time and the time from its end to the next one. */
    sim *ref = h->ref = sim_create(seed, 0, horizon);
    size_t seen[3] = {0, 0, 0};
    for (unsigned z = 0; z < 3; z++) {
        char name[32];
        snprintf(name, sizeof name, "az/%u/outage", z);
        gsl_rng *r = sim_rng(ref, name);
        sim_time down = sim_from_seconds(dist_sample(&p.between, r));
        size_t i = 0, outages = 0;
        while (down <= horizon) {
            sim_time repair = sim_from_seconds(dist_sample(&p.repair, r));
            sim_time up = down + repair;
            while (i < h->n_changes && h->changes[i].zone != z) i++;
            assert_true(i < h->n_changes);
            assert_change(h, i, down, z, false);
            i++;
            if (up > horizon) break;
            while (i < h->n_changes && h->changes[i].zone != z) i++;
            assert_true(i < h->n_changes);
            assert_change(h, i, up, z, true);
            i++;
            outages++;
            down = up + sim_from_seconds(dist_sample(&p.between, r));
        }
        while (i < h->n_changes && h->changes[i].zone != z) i++;
        assert_int_equal(i, h->n_changes); /* nothing more for this zone */
        seen[z] = outages;
    }
    /* about 200 h / (1 h + 10 min) = 171 outages per zone; the streams differ between zones */
    for (unsigned z = 0; z < 3; z++) assert_in_range(seen[z], 120, 230);
    assert_true(seen[0] != seen[1] || seen[1] != seen[2]);
    free_harness(h);
}

static void test_a_scheduled_outage_overlapping_a_random_one_merges_with_it(void **state)
{
    (void)state;
    struct az_params p = params(1);
    p.random_outages = true;
    p.between = dist_deterministic(1000.0);
    p.repair = dist_deterministic(100.0);  /* random: [1000, 1100), [2100, 2200) */
    add_outage(&p, 0, 1050 * SEC, 200 * SEC); /* scheduled: [1050, 1250) */
    struct harness *h = harness(&p, 2150 * SEC, 1);
    sim_run(h->s);
    assert_int_equal(h->n_changes, 3);
    assert_change(h, 0, 1000 * SEC, 0, false);
    assert_change(h, 1, 1250 * SEC, 0, true);
    assert_change(h, 2, 2100 * SEC, 0, false);
    free_harness(h);
}

/* ---- round-trip times -------------------------------------------------------------------------- */

static void test_rtt_is_the_intra_zone_figure_inside_a_zone_and_the_inter_zone_figure_between(void **state)
{
    (void)state;
    struct az_params p = params(4);
    p.intra_rtt = 123 * SIM_US;
    p.inter_rtt = 1700 * SIM_US;
    struct harness *h = harness(&p, SEC, 1);
    assert_int_equal(az_count(h->a), 4);
    for (unsigned a = 0; a < 4; a++)
        for (unsigned b = 0; b < 4; b++) assert_int_equal(az_rtt(h->a, a, b), a == b ? 123 * SIM_US : 1700 * SIM_US);
    for (unsigned z = 0; z < 4; z++) assert_true(az_up(h->a, z));
    free_harness(h);
}

/* ---- parsing ----------------------------------------------------------------------------------- */

struct parsed {
    struct diag d;
    conf *c;
    struct az_params p;
    bool ok;
};

static void parsed_free(struct parsed *x)
{
    unhold(x);
    az_params_free(&x->p);
    conf_free(x->c);
    if (x->d.f) diag_close(&x->d);
    free(x);
}

static struct parsed *parse(const char *text)
{
    struct parsed *x = calloc(1, sizeof *x);
    assert_non_null(x);
    hold(x, (cleanup_fn *)parsed_free);
    assert_int_equal(diag_open(&x->d), 0);
    x->c = load_or_fail(text, "region.cfg", &x->d);
    x->ok = az_parse(x->c, conf_group(x->c, conf_root(x->c), "region", false), &x->p);
    return x;
}

static void test_parse_without_a_region_gives_three_zones_and_the_documented_rtts(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("other = 1;\n");
    assert_true(x->ok);
    assert_int_equal(x->p.n, 3);
    assert_int_equal(x->p.intra_rtt, 200 * SIM_US);
    assert_int_equal(x->p.inter_rtt, SIM_MS);
    assert_int_equal(x->p.n_outages, 0);
    assert_false(x->p.random_outages);
    assert_diag_is(&x->d, "");
    parsed_free(x);
}

static void test_parse_reads_zones_rtts_scheduled_and_random_outages(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("region: { azs = 5; intra_az_rtt = \"150us\"; inter_az_rtt = \"1.5ms\";\n"
              "  outages = ( { az = 4; at = \"3h\"; duration = \"2h\"; },\n"
              "              { az = 0; at = \"90s\"; duration = \"250ms\"; } );\n"
              "  random_outages: { between = { dist = \"exponential\"; mean = \"30d\"; };\n"
              "                    repair = { dist = \"deterministic\"; value = \"4h\"; }; }; };\n");
    assert_true(x->ok);
    assert_diag_is(&x->d, "");
    assert_int_equal(x->p.n, 5);
    assert_int_equal(x->p.intra_rtt, 150 * SIM_US);
    assert_int_equal(x->p.inter_rtt, 1500 * SIM_US);
    assert_int_equal(x->p.n_outages, 2);
    assert_int_equal(x->p.outages[0].zone, 4);
    assert_int_equal(x->p.outages[0].at, 3 * 3600 * SEC);
    assert_int_equal(x->p.outages[0].duration, 2 * 3600 * SEC);
    assert_int_equal(x->p.outages[1].zone, 0);
    assert_int_equal(x->p.outages[1].at, 90 * SEC);
    assert_int_equal(x->p.outages[1].duration, 250 * SIM_MS);
    assert_true(x->p.random_outages);
    assert_int_equal(x->p.between.kind, DIST_EXPONENTIAL);
    assert_close(dist_mean(&x->p.between), 30 * 86400.0, 1e-6);
    assert_int_equal(x->p.repair.kind, DIST_DETERMINISTIC);
    assert_close(dist_mean(&x->p.repair), 4 * 3600.0, 0);
    parsed_free(x);
}

static void test_parse_rejects_zone_counts_outside_one_to_six(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("region: { azs = 0; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.azs: must be in [1, 6], got 0\n");
    parsed_free(x);
    x = parse("region: {\n  azs = 7;\n};\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:2: region.azs: must be in [1, 6], got 7\n");
    parsed_free(x);
    x = parse("region: { azs = 6; };\n");
    assert_true(x->ok);
    assert_int_equal(x->p.n, 6);
    parsed_free(x);
    x = parse("region: { azs = 1; };\n");
    assert_true(x->ok);
    assert_int_equal(x->p.n, 1);
    parsed_free(x);
}

static void test_parse_rejects_an_outage_zone_index_outside_the_region(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("region: { azs = 3;\n  outages = ( { az = 0; at = \"1h\"; duration = \"1h\"; },\n"
              "              { az = 3; at = \"1h\"; duration = \"1h\"; } ); };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:3: region.outages.[1].az: must be in [0, 2], got 3\n");
    parsed_free(x);
    x = parse("region: { azs = 1; outages = ( { az = 1; at = \"1h\"; duration = \"1h\"; } ); };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.outages.[0].az: must be in [0, 0], got 1\n");
    parsed_free(x);
    x = parse("region: { outages = ( { az = -1; at = \"1h\"; duration = \"1h\"; } ); };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.outages.[0].az: must be in [0, 2], got -1\n");
    parsed_free(x);
}

static void test_parse_rejects_a_non_positive_outage_duration(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("region: { outages = ( { az = 0; at = \"1h\"; duration = \"0s\"; } ); };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.outages.[0].duration: must be in (0s, 9e+09s], got \"0s\"\n");
    parsed_free(x);
    x = parse("region: { outages = ( { az = 0; at = \"1h\"; duration = \"-5s\"; } ); };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.outages.[0].duration: must be in (0s, 9e+09s], got \"-5s\"\n");
    parsed_free(x);
    x = parse("region: { outages = ( { az = 0; at = \"1h\"; } ); };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.outages.[0].duration: missing required setting\n");
    parsed_free(x);
}

static void test_parse_requires_both_distributions_of_random_outages(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("region: { random_outages: { between = { dist = \"exponential\"; mean = \"30d\"; }; }; };\n");
    assert_false(x->ok);
    assert_diag_is(&x->d, "region.cfg:1: region.random_outages.repair: missing required setting\n");
    parsed_free(x);
}

/* An outage that is accepted must be one the engine can schedule: its end, at + duration, is a time
 * in nanoseconds (int64). Both bounds allow 9e9 s each, so the end can be 1.8e10 s, past 2^63 ns. */
static void test_parse_rejects_an_outage_whose_end_is_beyond_the_engine_time_range(void **state)
{
    (void)state;
    struct parsed *x;
    x = parse("region: { azs = 2; outages = ( { az = 0; at = \"9000000000s\"; duration = \"9000000000s\"; } ); };\n");
    /* Accepting it makes az_create compute at + duration in int64 nanoseconds, which overflows (signed
     * overflow: undefined behaviour; in practice a negative time and an engine abort "event scheduled
     * in the past"). It must be refused here with a diagnostic instead. */
    assert_false(x->ok);
    assert_true(conf_errors(x->c) > 0);
    parsed_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_scheduled_outages_take_zones_down_and_up_at_their_exact_instants, teardown),
        cmocka_unit_test_teardown(test_overlapping_outages_of_one_zone_merge_and_it_comes_up_when_the_last_one_ends, teardown),
        cmocka_unit_test_teardown(test_an_outage_past_the_horizon_never_fires, teardown),
        cmocka_unit_test_teardown(test_random_outages_with_deterministic_times_alternate_down_and_up_exactly, teardown),
        cmocka_unit_test_teardown(test_random_outages_draw_between_and_repair_times_from_the_zone_stream, teardown),
        cmocka_unit_test_teardown(test_a_scheduled_outage_overlapping_a_random_one_merges_with_it, teardown),
        cmocka_unit_test_teardown(test_rtt_is_the_intra_zone_figure_inside_a_zone_and_the_inter_zone_figure_between, teardown),
        cmocka_unit_test_teardown(test_parse_without_a_region_gives_three_zones_and_the_documented_rtts, teardown),
        cmocka_unit_test_teardown(test_parse_reads_zones_rtts_scheduled_and_random_outages, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_zone_counts_outside_one_to_six, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_an_outage_zone_index_outside_the_region, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_a_non_positive_outage_duration, teardown),
        cmocka_unit_test_teardown(test_parse_requires_both_distributions_of_random_outages, teardown),
        cmocka_unit_test_teardown(test_parse_rejects_an_outage_whose_end_is_beyond_the_engine_time_range, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
