/* test_spot.c: unit tests of models/spot: band hazards, the `spot` group and its price files (read
 * through a study file in a temporary directory, since price files resolve against it), prices over
 * time, the allocation strategies on hand-made pools, interruption clocks, the two-minute notice,
 * rebalance recommendations, correlated reclaims, detaching, and the pool counters.
 *
 * A recorder is the owner of the spot instances: it writes down every recommendation, notice and
 * interruption (time, instance) and, like a real owner, detaches an instance when it is interrupted.
 * A driver model stops the engine at chosen instants, so that a test attaches, detaches and reads
 * prices at exact times between runs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "dist.h"
#include "ec2.h"
#include "sim.h"
#include "spot.h"
#include "testdriver.h"
#include "testutil.h"

#define SEC SIM_SEC
#define DAY (86400 * SIM_SEC)

static const struct ec2_type types[] = {
    {"c6i.large", "x86_64", 2, 4.0 * 1073741824, 0.085, 1.13},
    {"c5.large", "x86_64", 2, 4.0 * 1073741824, 0.085, 1.16},
    {"m6i.large", "x86_64", 2, 8.0 * 1073741824, 0.096, 1.13},
};
static const struct ec2_type *const type_list[] = {&types[0], &types[1], &types[2]};
enum { C6I, C5, M6I };

/* ---- resources a test holds: released by the teardown even when an assertion fails midway ------ */

typedef void cleanup_fn(void *p);
static void *held_ptr[16];
static cleanup_fn *held_fn[16];
static size_t n_held;

static void hold(void *p, cleanup_fn *fn)
{
    if (n_held < 16) {
        held_ptr[n_held] = p;
        held_fn[n_held++] = fn;
    }
}

static void unhold(void *p)
{
    for (size_t i = 0; i < n_held; i++)
        if (held_ptr[i] == p) {
            held_ptr[i] = held_ptr[--n_held];
            held_fn[i] = held_fn[n_held];
            return;
        }
}

static int teardown(void **state)
{
    (void)state;
    while (n_held > 0) {
        n_held--;
        held_fn[n_held](held_ptr[n_held]);
    }
    return 0;
}

/* ---- the recorder, the driver and the fixture ------------------------------------------------ */

enum rec_kind { REC_REBALANCE, REC_NOTICE, REC_INTERRUPT };

struct rec {
    sim_time t;
    enum rec_kind kind;
    uint32_t inst;
};

#define MAX_REC 20000

struct fixture {
    sim *s;
    struct spot_params p;     /* borrowed by sp */
    bool parsed;              /* p came from spot_parse: free with spot_params_free */
    struct spot *sp;
    uint16_t driver;
    bool detach_on_interrupt; /* as an owner that terminates it does */
    size_t n;
    struct rec rec[MAX_REC];
};

static void record(struct fixture *f, enum rec_kind kind, uint32_t inst)
{
    if (f->n < MAX_REC) f->rec[f->n++] = (struct rec){sim_now(f->s), kind, inst};
}

static void own_rebalance(void *ctx, uint32_t inst) { record(ctx, REC_REBALANCE, inst); }
static void own_notice(void *ctx, uint32_t inst) { record(ctx, REC_NOTICE, inst); }

static void own_interrupt(void *ctx, uint32_t inst)
{
    struct fixture *f = ctx;
    record(f, REC_INTERRUPT, inst);
    if (f->detach_on_interrupt) spot_detach(f->sp, inst);
}

static void free_fixture(struct fixture *f)
{
    unhold(f);
    spot_destroy(f->sp);
    if (f->s) sim_destroy(f->s);
    if (f->parsed) spot_params_free(&f->p);
    else dist_free(&f->p.rebalance_lead);
    free(f);
}

/* A fixture with no pools yet: add them with add_pool, then start it. Rebalance recommendations are
 * off unless the test sets them. */
static struct fixture *new_fixture(void)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    hold(f, (cleanup_fn *)free_fixture);
    f->detach_on_interrupt = true;
    f->p.reclaim_fraction = 0.5;
    f->p.rebalance_probability = 0;
    f->p.rebalance_lead = dist_deterministic(600);
    return f;
}

static int add_pool(struct fixture *f, unsigned type, unsigned zone, double discount, enum spot_band band,
                    uint32_t capacity)
{
    assert_true(f->p.n_pools < SPOT_MAX_POOLS);
    f->p.pools[f->p.n_pools] = (struct spot_pool_params){
        .type = &types[type], .zone = zone, .discount = discount, .band = band, .capacity = capacity};
    return (int)f->p.n_pools++;
}

static void start(struct fixture *f, uint64_t seed, sim_time horizon)
{
    f->s = sim_create(seed, 0, horizon);
    f->driver = driver_register(f->s);
    f->sp = spot_create(f->s, &f->p, &(struct spot_owner){f, own_rebalance, own_notice, own_interrupt});
}

/* Runs the engine up to instant t (>= now); the caller then acts at exactly t. */
static void run_until(struct fixture *f, sim_time t)
{
    drive_to(f->s, f->driver, t);
}

/* The times of the records of one kind for inst (any instance when inst is UINT32_MAX). */
static size_t times_of(const struct fixture *f, enum rec_kind kind, uint32_t inst, sim_time *t, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->rec[i].kind == kind && (inst == UINT32_MAX || f->rec[i].inst == inst)) {
            if (k < max) t[k] = f->rec[i].t;
            k++;
        }
    return k;
}

/* ---- a study file and price files in a temporary directory ------------------------------------- */

struct tmpdir {
    char path[64];
    struct diag d;
    conf *c;
    struct spot_params p;
};

static void free_tmpdir(struct tmpdir *t)
{
    unhold(t);
    spot_params_free(&t->p);
    conf_free(t->c);
    if (t->d.f) diag_close(&t->d);
    DIR *dir = t->path[0] ? opendir(t->path) : NULL;
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char p[600];
            snprintf(p, sizeof p, "%s/%s", t->path, e->d_name);
            unlink(p);
        }
        closedir(dir);
        rmdir(t->path);
    }
    free(t);
}

static struct tmpdir *new_tmpdir(void)
{
    struct tmpdir *t = calloc(1, sizeof *t);
    assert_non_null(t);
    snprintf(t->path, sizeof t->path, "/tmp/test_spot.XXXXXX");
    assert_non_null(mkdtemp(t->path));
    hold(t, (cleanup_fn *)free_tmpdir);
    assert_int_equal(diag_open(&t->d), 0);
    return t;
}

/* As parse_spot, from text in memory named "study.cfg" (no directory: for groups without files). */
static bool parse_spot_string(struct tmpdir **out, const char *text, unsigned zones)
{
    struct tmpdir *t = calloc(1, sizeof *t);
    assert_non_null(t);
    hold(t, (cleanup_fn *)free_tmpdir);
    *out = t;
    assert_int_equal(diag_open(&t->d), 0);
    t->c = load_or_fail(text, "study.cfg", &t->d);
    return spot_parse(t->c, conf_group(t->c, conf_root(t->c), "spot", false), type_list, 3, zones, &t->p);
}

static void write_file(const struct tmpdir *t, const char *name, const char *text)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", t->path, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Writes study.cfg (text) into the directory, loads it with conf_load and reads its `spot` group for
 * the three types in `zones` zones. Returns what spot_parse returned. */
static bool parse_spot(struct tmpdir *t, const char *text, unsigned zones)
{
    write_file(t, "study.cfg", text);
    char p[600];
    snprintf(p, sizeof p, "%s/study.cfg", t->path);
    t->c = conf_load(p, t->d.f);
    if (!t->c) {
        print_error("conf_load failed:\n%s\n", diag_text(&t->d));
        fail();
    }
    return spot_parse(t->c, conf_group(t->c, conf_root(t->c), "spot", false), type_list, 3, zones, &t->p);
}

/* The exact diagnostic expected for `file` of the directory at `line`, in a static buffer that the
 * next call overwrites. */
static const char *diag_at(const struct tmpdir *t, const char *file, unsigned line, const char *msg)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s:%u: %s\n", t->path, file, line, msg);
    return buf;
}

static const char one_pool_with_prices[] = "spot: { pools = ( { type = \"c5.large\"; az = 1; price_file = \"prices.csv\"; } ); };\n";
static const char bad_line[] = "expected \"t_s,price_usd\" with a time and a price >= 0";

/* ---- hazards and band names -------------------------------------------------------------------- */

static void test_band_hazard_is_minus_log_of_one_minus_the_band_midpoint_per_30_days(void **state)
{
    (void)state;
    const double mid[SPOT_N_BANDS] = {0.025, 0.075, 0.125, 0.175, 0.225}, month = 30 * 86400.0;
    for (int b = 0; b < SPOT_N_BANDS; b++) {
        double h = -log(1 - mid[b]) / month;
        assert_close(spot_hazard((enum spot_band)b), h, h * 1e-12);
        /* the band's fraction is what a month of exposure takes: 1 - exp(-h x 30 d) = f */
        assert_close(1 - exp(-spot_hazard((enum spot_band)b) * month), mid[b], 1e-12);
    }
    assert_close(spot_hazard(SPOT_BAND_GT20) / 9.83381e-08, 1, 1e-5); /* per second: about 0.85% a day */
    for (int b = 1; b < SPOT_N_BANDS; b++) assert_true(spot_hazard((enum spot_band)b) > spot_hazard((enum spot_band)(b - 1)));
}

static void test_band_names_are_the_spot_advisor_ranges(void **state)
{
    (void)state;
    const char *names[SPOT_N_BANDS] = {"<5%", "5-10%", "10-15%", "15-20%", ">20%"};
    for (int b = 0; b < SPOT_N_BANDS; b++) assert_string_equal(spot_band_names[b], names[b]);
}

/* ---- the spot group ------------------------------------------------------------------------------ */

static void test_defaults_give_a_pool_per_type_and_zone_at_60_percent_off_below_5_percent(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    assert_true(parse_spot(t, "spot: { };\n", 2));
    assert_string_equal(diag_text(&t->d), "");
    assert_int_equal(t->p.n_pools, 6);
    for (unsigned k = 0; k < 6; k++) { /* type-major: c6i az0, c6i az1, c5 az0, ... */
        assert_ptr_equal(t->p.pools[k].type, &types[k / 2]);
        assert_int_equal(t->p.pools[k].zone, k % 2);
        assert_close(t->p.pools[k].discount, 0.6, 0);
        assert_int_equal(t->p.pools[k].band, SPOT_BAND_LT5);
        assert_int_equal(t->p.pools[k].capacity, UINT32_MAX);
        assert_int_equal(t->p.pools[k].n_prices, 0);
    }
    assert_close(t->p.reclaims_per_month, 0, 0);
    assert_close(t->p.reclaim_fraction, 0.5, 0);
    assert_close(t->p.rebalance_probability, 1.0, 0);
    assert_close(dist_mean(&t->p.rebalance_lead), (300.0 + 1800.0) / 2, 1e-9);
}

static void test_pool_settings_override_the_group_defaults(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    assert_true(parse_spot(t,
                           "spot: { default_discount = 0.7; default_band = \"10-15%\"; reclaims_per_month = 2.5;\n"
                           "  reclaim_fraction = 0.25; rebalance: { probability = 0.4; lead = { dist = \"deterministic\"; value = \"10m\"; }; };\n"
                           "  pools = ( { type = \"m6i.large\"; az = 2; discount = 0.55; band = \">20%\"; capacity = 7; } ); };\n",
                           3));
    assert_string_equal(diag_text(&t->d), "");
    assert_int_equal(t->p.n_pools, 9);
    for (unsigned k = 0; k < 8; k++) {
        assert_close(t->p.pools[k].discount, 0.7, 0);
        assert_int_equal(t->p.pools[k].band, SPOT_BAND_10_15);
        assert_int_equal(t->p.pools[k].capacity, UINT32_MAX);
    }
    const struct spot_pool_params *pp = &t->p.pools[8];
    assert_ptr_equal(pp->type, &types[M6I]);
    assert_int_equal(pp->zone, 2);
    assert_close(pp->discount, 0.55, 0);
    assert_int_equal(pp->band, SPOT_BAND_GT20);
    assert_int_equal(pp->capacity, 7);
    assert_close(t->p.reclaims_per_month, 2.5, 0);
    assert_close(t->p.reclaim_fraction, 0.25, 0);
    assert_close(t->p.rebalance_probability, 0.4, 0);
    assert_close(dist_mean(&t->p.rebalance_lead), 600, 0);
    assert_int_equal(conf_check_unused(t->c), 0);
}

static void test_a_pool_of_a_type_outside_the_group_is_rejected(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    assert_false(parse_spot(t, "spot: {\n  pools = ( { type = \"r5.large\"; az = 0; } ); };\n", 1));
    char want[700];
    snprintf(want, sizeof want,
             "%s/study.cfg:2: spot.pools.[0].type: \"r5.large\" is not one of the group's instance types\n", t->path);
    assert_string_equal(diag_text(&t->d), want);
}

/* The choices given to conf_get_choice must end with NULL: an unknown band must not read past them. */
static void test_an_unknown_band_and_a_full_discount_are_rejected(void **state)
{
    (void)state;
    struct tmpdir *t;
    assert_false(parse_spot_string(&t,
                                   "spot: {\n  default_band = \"25%\";\n  default_discount = 1.0;\n"
                                   "  pools = ( { type = \"c5.large\"; az = 0; band = \"<5\"; } ); };\n",
                                   1));
    assert_string_equal(diag_text(&t->d),
                        "study.cfg:3: spot.default_discount: must be below 1, got 1\n"
                        "study.cfg:2: spot.default_band: must be one of \"<5%\", \"5-10%\", \"10-15%\", \"15-20%\", "
                        "\">20%\"; got \"25%\"; did you mean \"<5%\"?\n"
                        "study.cfg:4: spot.pools.[0].band: must be one of \"<5%\", \"5-10%\", \"10-15%\", \"15-20%\", "
                        "\">20%\"; got \"<5\"; did you mean \"<5%\"?\n");
}

static void test_a_misspelt_pool_setting_is_reported_as_unknown(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    assert_true(parse_spot(t, "spot: {\n  pools = ( { type = \"c5.large\"; az = 0; bnad = \">20%\"; } ); };\n", 1));
    assert_int_equal(conf_check_unused(t->c), 1);
    assert_diag_contains(&t->d, "/study.cfg:2: spot.pools.[0].bnad: unknown setting; did you mean \"band\"?");
}

/* ---- price files ------------------------------------------------------------------------------- */

static void test_a_price_file_is_read_relative_to_the_study_file(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv",
               "# t_s,price_usd: c5.large in us-east-1b\n"
               "0,0.0310\n"
               "\n"
               "  3600,0.0345\r\n"
               "7200.5,0.029  \n"
               "# a comment between the lines\n"
               "86400,0.05\n");
    assert_true(parse_spot(t, one_pool_with_prices, 2));
    assert_string_equal(diag_text(&t->d), "");
    const struct spot_pool_params *pp = &t->p.pools[3]; /* c5.large az1 */
    assert_ptr_equal(pp->type, &types[C5]);
    assert_int_equal(pp->zone, 1);
    assert_int_equal(pp->n_prices, 4);
    const double want_t[] = {0, 3600, 7200.5, 86400}, want_p[] = {0.031, 0.0345, 0.029, 0.05};
    for (unsigned i = 0; i < 4; i++) {
        assert_close(pp->price_t[i], want_t[i], 0);
        assert_close(pp->price[i], want_p[i], 0);
    }
    for (unsigned k = 0; k < t->p.n_pools; k++)
        if (k != 3) assert_int_equal(t->p.pools[k].n_prices, 0);
}

static void test_spot_price_steps_at_the_times_of_the_price_file(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "100,0.031\n3600,0.0345\n7200.5,0.029\n");
    assert_true(parse_spot(t, one_pool_with_prices, 2));
    struct fixture *f = new_fixture();
    f->p.n_pools = 2;
    f->p.pools[0] = t->p.pools[3]; /* the series is borrowed from t, which outlives f */
    f->p.pools[1] = (struct spot_pool_params){.type = &types[M6I], .zone = 1, .discount = 0.6, .capacity = UINT32_MAX};
    start(f, 1, 10 * DAY);
    const struct {
        sim_time at;
        double price;
    } steps[] = {
        {0, 0.031},                        /* before the first time: the first price */
        {100 * SEC - 1, 0.031},            {100 * SEC, 0.031},
        {3600 * SEC - 1, 0.031},           {3600 * SEC, 0.0345}, /* at t_i: price i */
        {7200 * SEC + 500 * SIM_MS - 1, 0.0345}, {7200 * SEC + 500 * SIM_MS, 0.029},
        {5 * DAY, 0.029},                  /* after the last: the last */
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (steps[i].at > 0) run_until(f, steps[i].at);
        assert_close(spot_price(f->sp, 0), steps[i].price, 0);
        assert_close(spot_price(f->sp, 1), 0.096 * (1 - 0.6), 1e-15); /* no file: the discount */
    }
}

static void test_a_bad_number_in_a_price_file_is_reported_at_its_line(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "# t_s,price_usd\n0,0.031\n3600,0.03x\n7200,0.029\n");
    assert_false(parse_spot(t, one_pool_with_prices, 2));
    assert_string_equal(diag_text(&t->d), diag_at(t, "prices.csv", 3, bad_line));
}

static void test_a_price_file_line_without_a_comma_is_reported_at_its_line(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "0,0.031\n3600 0.0345\n");
    assert_false(parse_spot(t, one_pool_with_prices, 2));
    assert_string_equal(diag_text(&t->d), diag_at(t, "prices.csv", 2, bad_line));
}

static void test_a_negative_or_missing_price_is_reported(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "0,-0.031\n10,\nnan,0.02\n");
    assert_false(parse_spot(t, one_pool_with_prices, 2));
    char want[2048] = "";
    for (unsigned line = 1; line <= 3; line++) strcat(want, diag_at(t, "prices.csv", line, bad_line));
    assert_string_equal(diag_text(&t->d), want);
    assert_int_equal(conf_errors(t->c), 3);
}

static void test_price_file_times_must_increase(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "0,0.031\n3600,0.0345\n3600,0.04\n1800,0.05\n");
    assert_false(parse_spot(t, one_pool_with_prices, 2));
    char want[2048] = "";
    strcat(want, diag_at(t, "prices.csv", 3, "times must increase: 3600 is not after 3600"));
    strcat(want, diag_at(t, "prices.csv", 4, "times must increase: 1800 is not after 3600"));
    assert_string_equal(diag_text(&t->d), want);
}

static void test_an_empty_price_file_is_reported_at_line_1(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "");
    assert_false(parse_spot(t, one_pool_with_prices, 2));
    assert_string_equal(diag_text(&t->d), diag_at(t, "prices.csv", 1, "no prices in the file"));
}

static void test_a_price_file_of_only_comments_is_empty(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    write_file(t, "prices.csv", "# t_s,price_usd\n\n# nothing yet\n");
    assert_false(parse_spot(t, one_pool_with_prices, 2));
    assert_string_equal(diag_text(&t->d), diag_at(t, "prices.csv", 1, "no prices in the file"));
}

static void test_a_missing_price_file_is_reported_at_the_setting(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    assert_false(parse_spot(t, "spot: {\n  pools = ( { type = \"c5.large\"; az = 0;\n    price_file = \"nope.csv\"; } ); };\n", 1));
    char want[1400];
    snprintf(want, sizeof want,
             "%s/study.cfg:3: spot.pools.[0].price_file: cannot open %s/nope.csv: No such file or directory\n", t->path,
             t->path);
    assert_string_equal(diag_text(&t->d), want);
}

/* A header comment longer than the reader's 256-byte line buffer is still one line: no error, and the
 * line numbers of later lines stay right. */
static void test_a_long_comment_line_is_one_line_of_the_price_file(void **state)
{
    (void)state;
    struct tmpdir *t = new_tmpdir();
    char text[1024] = "# source: ";
    for (int i = 0; i < 30; i++) strcat(text, "0123456789");
    strcat(text, "\n0,0.031\n3600,0.0345\n");
    write_file(t, "prices.csv", text);
    assert_true(parse_spot(t, one_pool_with_prices, 2));
    assert_string_equal(diag_text(&t->d), "");
    assert_int_equal(t->p.pools[3].n_prices, 2);
}

/* ---- allocation strategies ---------------------------------------------------------------------- */

static void test_discount_price_is_the_on_demand_price_less_the_discount(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    add_pool(f, C6I, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    add_pool(f, M6I, 0, 0.0, SPOT_BAND_LT5, UINT32_MAX);
    add_pool(f, C5, 0, 0.9, SPOT_BAND_LT5, UINT32_MAX);
    start(f, 1, DAY);
    assert_close(spot_price(f->sp, 0), 0.085 * 0.4, 1e-15);
    assert_close(spot_price(f->sp, 1), 0.096, 1e-15);
    assert_close(spot_price(f->sp, 2), 0.085 * 0.1, 1e-15);
    assert_ptr_equal(spot_pool_type(f->sp, 2), &types[C5]);
    assert_int_equal(spot_pool_count(f->sp), 3);
}

static void test_lowest_price_takes_the_fewest_filled_of_the_n_cheapest_pools(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int mid = add_pool(f, C6I, 0, 0.60, SPOT_BAND_GT20, UINT32_MAX);   /* $0.0340 */
    int dear = add_pool(f, M6I, 0, 0.50, SPOT_BAND_LT5, UINT32_MAX);   /* $0.0480 */
    int cheap = add_pool(f, C5, 0, 0.70, SPOT_BAND_15_20, UINT32_MAX); /* $0.0255 */
    start(f, 1, DAY);
    /* one pool: always the cheapest */
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 1, 0), cheap);
        spot_attach(f->sp, cheap, i);
    }
    /* two pools: the emptier of the two cheapest, never the dearest; ties go to the cheaper */
    int got = spot_choose(f->sp, SPOT_LOWEST_PRICE, 2, 0);
    assert_int_equal(got, mid);
    for (uint32_t i = 3; i < 9; i++) {
        got = spot_choose(f->sp, SPOT_LOWEST_PRICE, 2, 0);
        assert_int_not_equal(got, dear);
        spot_attach(f->sp, got, i);
    }
    assert_int_equal(spot_pool_size(f->sp, cheap), 5);
    assert_int_equal(spot_pool_size(f->sp, mid), 4);
    assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 2, 0), mid);
    /* three pools: the empty dearest one now */
    assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 3, 0), dear);
    /* more pools than there are: all of them */
    assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 20, 0), dear);
}

static void test_lowest_price_follows_the_price_series_over_time(void **state)
{
    (void)state;
    static double t0[] = {0, 3600}, p0[] = {0.02, 0.05};
    static double t1[] = {0}, p1[] = {0.03};
    struct fixture *f = new_fixture();
    add_pool(f, C6I, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    add_pool(f, C5, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    f->p.pools[0].n_prices = 2;
    f->p.pools[0].price_t = t0;
    f->p.pools[0].price = p0;
    f->p.pools[1].n_prices = 1;
    f->p.pools[1].price_t = t1;
    f->p.pools[1].price = p1;
    start(f, 1, DAY);
    assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 1, 0), 0);
    assert_int_equal(spot_choose(f->sp, SPOT_PRICE_CAPACITY_OPTIMIZED, 1, 0), 0);
    run_until(f, 3600 * SEC);
    assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 1, 0), 1);
    assert_int_equal(spot_choose(f->sp, SPOT_PRICE_CAPACITY_OPTIMIZED, 1, 0), 1);
}

static void test_capacity_optimized_takes_the_lowest_band_whatever_its_price(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    add_pool(f, C5, 0, 0.70, SPOT_BAND_GT20, UINT32_MAX);
    int safe = add_pool(f, M6I, 0, 0.10, SPOT_BAND_5_10, UINT32_MAX); /* the dearest */
    add_pool(f, C6I, 0, 0.60, SPOT_BAND_10_15, UINT32_MAX);
    start(f, 1, DAY);
    for (uint32_t i = 0; i < 5; i++) { /* filling it does not matter while it has room */
        assert_int_equal(spot_choose(f->sp, SPOT_CAPACITY_OPTIMIZED, 2, 0), safe);
        spot_attach(f->sp, safe, i);
    }
}

static void test_price_capacity_optimized_takes_the_cheapest_of_the_lowest_band(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    add_pool(f, C5, 0, 0.90, SPOT_BAND_15_20, UINT32_MAX);              /* cheapest, but riskier */
    add_pool(f, M6I, 0, 0.55, SPOT_BAND_5_10, UINT32_MAX);              /* $0.0432 */
    int best = add_pool(f, C6I, 0, 0.55, SPOT_BAND_5_10, UINT32_MAX);   /* $0.03825 */
    start(f, 1, DAY);
    assert_int_equal(spot_choose(f->sp, SPOT_PRICE_CAPACITY_OPTIMIZED, 2, 0), best);
    assert_int_equal(spot_choose(f->sp, SPOT_LOWEST_PRICE, 1, 0), 0);
}

static void test_a_full_pool_is_skipped_and_no_room_anywhere_gives_minus_one(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int a = add_pool(f, C5, 0, 0.7, SPOT_BAND_LT5, 2);
    int b = add_pool(f, C6I, 0, 0.6, SPOT_BAND_5_10, 1);
    add_pool(f, M6I, 1, 0.6, SPOT_BAND_LT5, UINT32_MAX); /* another zone */
    add_pool(f, M6I, 0, 0.6, SPOT_BAND_LT5, 0);          /* no capacity at all */
    start(f, 1, DAY);
    for (int s = SPOT_LOWEST_PRICE; s <= SPOT_PRICE_CAPACITY_OPTIMIZED; s++)
        assert_int_equal(spot_choose(f->sp, (enum spot_allocation)s, 2, 0), a);
    spot_attach(f->sp, a, 0);
    spot_attach(f->sp, a, 1);
    for (int s = SPOT_LOWEST_PRICE; s <= SPOT_PRICE_CAPACITY_OPTIMIZED; s++)
        assert_int_equal(spot_choose(f->sp, (enum spot_allocation)s, 2, 0), b);
    spot_attach(f->sp, b, 2);
    for (int s = SPOT_LOWEST_PRICE; s <= SPOT_PRICE_CAPACITY_OPTIMIZED; s++)
        assert_int_equal(spot_choose(f->sp, (enum spot_allocation)s, 2, 0), -1);
    spot_detach(f->sp, 0); /* a place is free again */
    assert_int_equal(spot_pool_size(f->sp, a), 1);
    for (int s = SPOT_LOWEST_PRICE; s <= SPOT_PRICE_CAPACITY_OPTIMIZED; s++)
        assert_int_equal(spot_choose(f->sp, (enum spot_allocation)s, 2, 0), a);
}

static void test_only_pools_of_the_launch_zone_are_chosen(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    add_pool(f, C5, 0, 0.9, SPOT_BAND_LT5, UINT32_MAX); /* best by every measure, in zone 0 */
    int z1 = add_pool(f, M6I, 1, 0.1, SPOT_BAND_GT20, UINT32_MAX);
    start(f, 1, DAY);
    for (int s = SPOT_LOWEST_PRICE; s <= SPOT_PRICE_CAPACITY_OPTIMIZED; s++) {
        assert_int_equal(spot_choose(f->sp, (enum spot_allocation)s, 3, 1), z1);
        assert_int_equal(spot_choose(f->sp, (enum spot_allocation)s, 3, 2), -1); /* no pool there */
    }
}

/* ---- interruption clocks, the notice, recommendations -------------------------------------------- */

static void test_notice_then_interruption_exactly_two_minutes_later(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int k = add_pool(f, C5, 0, 0.6, SPOT_BAND_GT20, UINT32_MAX);
    start(f, 7, 120 * DAY);
    for (uint32_t i = 0; i < 200; i++) spot_attach(f->sp, k, i);
    sim_run(f->s);
    /* 200 instances at 9.8e-8/s over 120 days: about 175 notices */
    size_t notices = 0, done = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->rec[i].kind != REC_NOTICE) continue;
        notices++;
        sim_time t[2];
        assert_int_equal(times_of(f, REC_NOTICE, f->rec[i].inst, t, 2), 1);
        if (f->rec[i].t + SPOT_NOTICE > 120 * DAY) continue; /* its interruption is past the horizon */
        assert_int_equal(times_of(f, REC_INTERRUPT, f->rec[i].inst, t, 2), 1);
        assert_int_equal(t[0] - f->rec[i].t, 120 * SEC);
        done++;
    }
    assert_in_range(notices, 100, 250);
    assert_int_equal(times_of(f, REC_INTERRUPT, UINT32_MAX, NULL, 0), done);
    assert_int_equal(spot_pool_interruptions(f->sp, k), notices);
    assert_int_equal(spot_pool_size(f->sp, k), 200 - done);
}

static void test_interruption_clocks_are_exponential_at_the_band_hazard(void **state)
{
    (void)state;
    /* 2000 instances of a ">20%" pool attached at 0, 5 years (15 mean lifetimes, so hardly any clock is
     * censored): the times to notice average 1/h within 4 standard errors, 1/(h sqrt(n)) (a fixed seed:
     * a guard against a wrong rate or unit, not a statistical test) */
    struct fixture *f = new_fixture();
    int k = add_pool(f, C6I, 0, 0.6, SPOT_BAND_GT20, UINT32_MAX);
    start(f, 11, 5 * 365 * DAY);
    for (uint32_t i = 0; i < 2000; i++) spot_attach(f->sp, k, i);
    sim_run(f->s);
    double sum = 0, sum2 = 0;
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->rec[i].kind == REC_NOTICE) {
            double x = sim_to_seconds(f->rec[i].t);
            sum += x;
            sum2 += x * x;
            n++;
        }
    assert_int_equal(n, 2000);
    const double mean = 1 / spot_hazard(SPOT_BAND_GT20);
    assert_close(sum / n, mean, 4 * mean / sqrt((double)n));
    /* exponential: the standard deviation equals the mean */
    assert_close(sqrt(sum2 / n - (sum / n) * (sum / n)), mean, 0.1 * mean);
    assert_int_equal(spot_pool_interruptions(f->sp, k), 2000);
    assert_int_equal(spot_pool_size(f->sp, k), 0);
    assert_close(spot_pool_instance_seconds(f->sp, k), sum + 2000 * 120.0, 1e-6 * sum);
}

static void test_pool_counts_instance_seconds_exactly(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int a = add_pool(f, C5, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    int b = add_pool(f, C6I, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    start(f, 3, DAY);
    spot_attach(f->sp, a, 0);
    spot_attach(f->sp, a, 1);
    run_until(f, 100 * SEC);
    spot_attach(f->sp, a, 2);
    spot_attach(f->sp, b, 3);
    run_until(f, 300 * SEC);
    spot_detach(f->sp, 0);
    spot_detach(f->sp, 0); /* twice: a no-op */
    spot_detach(f->sp, 77); /* never attached: a no-op */
    run_until(f, 500 * SEC);
    assert_int_equal(f->n, 0); /* below 5% a month: nothing in 500 s with this seed */
    assert_close(spot_pool_instance_seconds(f->sp, a), 300 + 500 + 400, 1e-9);
    assert_close(spot_pool_instance_seconds(f->sp, b), 400, 1e-9);
    assert_int_equal(spot_pool_size(f->sp, a), 2);
    assert_int_equal(spot_pool_size(f->sp, b), 1);
    assert_int_equal(spot_pool_interruptions(f->sp, a), 0);
}

static void test_a_detached_instance_gets_no_events(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int k = add_pool(f, M6I, 0, 0.6, SPOT_BAND_GT20, UINT32_MAX);
    f->p.rebalance_probability = 1; /* every clock also has a recommendation */
    f->p.reclaims_per_month = 30 * 24; /* and whole-pool reclaims, about one an hour */
    f->p.reclaim_fraction = 1;
    start(f, 5, 30 * DAY);
    for (uint32_t i = 0; i < 40; i++) spot_attach(f->sp, k, i);
    for (uint32_t i = 0; i < 40; i += 2) spot_detach(f->sp, i); /* the even ones leave at once */
    /* run to the first notices, then detach half of the noticed ones inside their two minutes */
    while (times_of(f, REC_NOTICE, UINT32_MAX, NULL, 0) == 0) run_until(f, sim_now(f->s) + 60 * SEC);
    size_t first = f->n;
    uint32_t gone_in_notice[40];
    size_t n_gone = 0;
    for (size_t i = 0; i < first; i++)
        if (f->rec[i].kind == REC_NOTICE && (f->rec[i].inst % 4) == 1) {
            spot_detach(f->sp, f->rec[i].inst);
            gone_in_notice[n_gone++] = f->rec[i].inst;
        }
    assert_true(n_gone > 0);
    sim_run(f->s);
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(f->rec[i].inst % 2, 1); /* never an even one */
        for (size_t j = 0; j < n_gone; j++)
            if (f->rec[i].inst == gone_in_notice[j]) assert_int_not_equal(f->rec[i].kind, REC_INTERRUPT);
    }
    /* the odd ones that stayed were all noticed (a reclaim of the whole pool) and interrupted */
    for (uint32_t i = 1; i < 40; i += 2) {
        bool gone = false;
        for (size_t j = 0; j < n_gone; j++) gone |= gone_in_notice[j] == i;
        assert_int_equal(times_of(f, REC_NOTICE, i, NULL, 0), 1);
        if (!gone) assert_int_equal(times_of(f, REC_INTERRUPT, i, NULL, 0), 1);
    }
}

/* A reclaim notices ceil(fraction x size) of the pool's instances at one instant. */
static void reclaim_takes(double fraction, uint32_t size, uint64_t seed, uint32_t want)
{
    struct fixture *f = new_fixture();
    int k = add_pool(f, C5, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    add_pool(f, C6I, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX); /* an empty neighbour, reclaimed too */
    f->p.reclaims_per_month = 30 * 24 * 6; /* every 10 minutes on average */
    f->p.reclaim_fraction = fraction;
    start(f, seed, 30 * DAY);
    for (uint32_t i = 0; i < size; i++) spot_attach(f->sp, k, i);
    while (times_of(f, REC_NOTICE, UINT32_MAX, NULL, 0) == 0) run_until(f, sim_now(f->s) + 10 * SEC);
    sim_time t0 = f->rec[0].t;
    uint32_t n = 0;
    for (size_t i = 0; i < f->n; i++) n += f->rec[i].kind == REC_NOTICE && f->rec[i].t == t0;
    if (n != want) {
        print_error("seed %llu: a reclaim of %g of %u instances noticed %u of them at t=%.6gs, expected ceil(%g) = %u\n",
                    (unsigned long long)seed, fraction, size, n, sim_to_seconds(t0), fraction * size, want);
        fail();
    }
    assert_int_equal(spot_pool_interruptions(f->sp, k), want);
    free_fixture(f);
}

static void test_a_reclaim_takes_ceil_fraction_times_size_of_the_pool(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        reclaim_takes(0.35, 10, seed, 4);
        reclaim_takes(0.5, 7, seed, 4);
        reclaim_takes(0.01, 10, seed, 1);
    }
}

static void test_a_reclaim_of_the_whole_pool_notices_every_instance(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++) reclaim_takes(1.0, 12, seed, 12);
}

static void test_rebalance_recommendation_precedes_the_notice_by_the_lead(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int k = add_pool(f, C5, 0, 0.6, SPOT_BAND_GT20, UINT32_MAX);
    f->p.rebalance_probability = 1;
    f->p.rebalance_lead = dist_deterministic(600);
    start(f, 13, 120 * DAY);
    for (uint32_t i = 0; i < 200; i++) spot_attach(f->sp, k, i);
    sim_run(f->s);
    size_t paired = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->rec[i].kind != REC_NOTICE) continue;
        sim_time t[2];
        size_t r = times_of(f, REC_REBALANCE, f->rec[i].inst, t, 2);
        if (f->rec[i].t < 600 * SEC) { /* a clock shorter than the lead: no recommendation in the past */
            assert_int_equal(r, 0);
            continue;
        }
        assert_int_equal(r, 1);
        assert_int_equal(f->rec[i].t - t[0], 600 * SEC);
        paired++;
    }
    assert_true(paired > 100);
    /* no recommendation without a notice after it, except one whose notice is past the horizon */
    sim_time t[256];
    size_t nr = times_of(f, REC_REBALANCE, UINT32_MAX, t, 256);
    assert_true(nr <= 256);
    size_t orphans = 0;
    for (size_t i = 0; i < f->n; i++)
        if (f->rec[i].kind == REC_REBALANCE && times_of(f, REC_NOTICE, f->rec[i].inst, NULL, 0) == 0) {
            assert_true(f->rec[i].t + 600 * SEC > 120 * DAY);
            orphans++;
        }
    assert_int_equal(nr, paired + orphans);
}

static void test_no_rebalance_recommendation_at_probability_zero(void **state)
{
    (void)state;
    struct fixture *f = new_fixture();
    int k = add_pool(f, C5, 0, 0.6, SPOT_BAND_GT20, UINT32_MAX);
    f->p.rebalance_probability = 0;
    start(f, 13, 120 * DAY);
    for (uint32_t i = 0; i < 200; i++) spot_attach(f->sp, k, i);
    sim_run(f->s);
    assert_true(times_of(f, REC_NOTICE, UINT32_MAX, NULL, 0) > 100);
    assert_int_equal(times_of(f, REC_REBALANCE, UINT32_MAX, NULL, 0), 0);
}

static void test_a_reclaim_notice_cancels_a_pending_recommendation(void **state)
{
    (void)state;
    /* every clock has a recommendation 10 minutes before its notice, years away below 5% a month; a
     * reclaim of the whole pool within hours notices every instance first: no recommendation follows */
    struct fixture *f = new_fixture();
    int k = add_pool(f, C5, 0, 0.6, SPOT_BAND_LT5, UINT32_MAX);
    f->p.rebalance_probability = 1;
    f->p.reclaims_per_month = 30 * 24;
    f->p.reclaim_fraction = 1;
    start(f, 17, 30 * DAY);
    for (uint32_t i = 0; i < 50; i++) spot_attach(f->sp, k, i);
    sim_run(f->s);
    assert_int_equal(times_of(f, REC_NOTICE, UINT32_MAX, NULL, 0), 50);
    assert_int_equal(times_of(f, REC_INTERRUPT, UINT32_MAX, NULL, 0), 50);
    assert_int_equal(times_of(f, REC_REBALANCE, UINT32_MAX, NULL, 0), 0);
}

static void test_a_pool_clock_does_not_depend_on_other_pools(void **state)
{
    (void)state;
    /* the same instances in the same pool get the same notices whether or not another pool exists */
    sim_time first[2][64];
    size_t n[2];
    for (int with_other = 0; with_other < 2; with_other++) {
        struct fixture *f = new_fixture();
        if (with_other) add_pool(f, C6I, 0, 0.6, SPOT_BAND_GT20, UINT32_MAX);
        int k = add_pool(f, C5, 1, 0.6, SPOT_BAND_GT20, UINT32_MAX);
        start(f, 21, 100 * DAY);
        for (uint32_t i = 0; i < 60; i++) {
            if (with_other) spot_attach(f->sp, 0, 100 + i); /* interleaved launches elsewhere */
            spot_attach(f->sp, k, i);
        }
        sim_run(f->s);
        n[with_other] = 0;
        for (size_t i = 0; i < f->n && n[with_other] < 64; i++)
            if (f->rec[i].kind == REC_NOTICE && f->rec[i].inst < 100) first[with_other][n[with_other]++] = f->rec[i].t;
        free_fixture(f);
    }
    assert_true(n[0] > 10);
    assert_int_equal(n[0], n[1]);
    for (size_t i = 0; i < n[0]; i++) assert_int_equal(first[0][i], first[1][i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_band_hazard_is_minus_log_of_one_minus_the_band_midpoint_per_30_days, teardown),
        cmocka_unit_test_teardown(test_band_names_are_the_spot_advisor_ranges, teardown),
        cmocka_unit_test_teardown(test_defaults_give_a_pool_per_type_and_zone_at_60_percent_off_below_5_percent, teardown),
        cmocka_unit_test_teardown(test_pool_settings_override_the_group_defaults, teardown),
        cmocka_unit_test_teardown(test_a_pool_of_a_type_outside_the_group_is_rejected, teardown),
        cmocka_unit_test_teardown(test_an_unknown_band_and_a_full_discount_are_rejected, teardown),
        cmocka_unit_test_teardown(test_a_misspelt_pool_setting_is_reported_as_unknown, teardown),
        cmocka_unit_test_teardown(test_a_price_file_is_read_relative_to_the_study_file, teardown),
        cmocka_unit_test_teardown(test_spot_price_steps_at_the_times_of_the_price_file, teardown),
        cmocka_unit_test_teardown(test_a_bad_number_in_a_price_file_is_reported_at_its_line, teardown),
        cmocka_unit_test_teardown(test_a_price_file_line_without_a_comma_is_reported_at_its_line, teardown),
        cmocka_unit_test_teardown(test_a_negative_or_missing_price_is_reported, teardown),
        cmocka_unit_test_teardown(test_price_file_times_must_increase, teardown),
        cmocka_unit_test_teardown(test_an_empty_price_file_is_reported_at_line_1, teardown),
        cmocka_unit_test_teardown(test_a_price_file_of_only_comments_is_empty, teardown),
        cmocka_unit_test_teardown(test_a_missing_price_file_is_reported_at_the_setting, teardown),
        cmocka_unit_test_teardown(test_a_long_comment_line_is_one_line_of_the_price_file, teardown),
        cmocka_unit_test_teardown(test_discount_price_is_the_on_demand_price_less_the_discount, teardown),
        cmocka_unit_test_teardown(test_lowest_price_takes_the_fewest_filled_of_the_n_cheapest_pools, teardown),
        cmocka_unit_test_teardown(test_lowest_price_follows_the_price_series_over_time, teardown),
        cmocka_unit_test_teardown(test_capacity_optimized_takes_the_lowest_band_whatever_its_price, teardown),
        cmocka_unit_test_teardown(test_price_capacity_optimized_takes_the_cheapest_of_the_lowest_band, teardown),
        cmocka_unit_test_teardown(test_a_full_pool_is_skipped_and_no_room_anywhere_gives_minus_one, teardown),
        cmocka_unit_test_teardown(test_only_pools_of_the_launch_zone_are_chosen, teardown),
        cmocka_unit_test_teardown(test_notice_then_interruption_exactly_two_minutes_later, teardown),
        cmocka_unit_test_teardown(test_interruption_clocks_are_exponential_at_the_band_hazard, teardown),
        cmocka_unit_test_teardown(test_pool_counts_instance_seconds_exactly, teardown),
        cmocka_unit_test_teardown(test_a_detached_instance_gets_no_events, teardown),
        cmocka_unit_test_teardown(test_a_reclaim_takes_ceil_fraction_times_size_of_the_pool, teardown),
        cmocka_unit_test_teardown(test_a_reclaim_of_the_whole_pool_notices_every_instance, teardown),
        cmocka_unit_test_teardown(test_rebalance_recommendation_precedes_the_notice_by_the_lead, teardown),
        cmocka_unit_test_teardown(test_no_rebalance_recommendation_at_probability_zero, teardown),
        cmocka_unit_test_teardown(test_a_reclaim_notice_cancels_a_pending_recommendation, teardown),
        cmocka_unit_test_teardown(test_a_pool_clock_does_not_depend_on_other_pools, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
