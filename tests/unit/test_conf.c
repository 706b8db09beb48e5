/* test_conf.c: unit tests of sim/conf: units, types, ranges, paths, unknown settings, loading errors.
 *
 * Each test parses a small config from a string (or from files it writes to a temporary directory,
 * for @include) with diagnostics going to an in-memory stream, and checks values and the exact text
 * of the diagnostics, since that text is what a user sees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "testutil.h"

struct fixture {
    struct diag diag;
    conf *c;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL)
        return -1;
    *state = fx;
    return diag_open(&fx->diag);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    conf_free(fx->c);
    diag_close(&fx->diag);
    free(fx);
    return 0;
}

#define assert_no_diag(fx) assert_string_equal(diag_text(&(fx)->diag), "")

/* Parses text as "study.cfg" into fx->c; the parse must succeed. */
static conf *load(struct fixture *fx, const char *text)
{
    fx->c = load_or_fail(text, "study.cfg", &fx->diag);
    return fx->c;
}

static config_setting_t *group_t(struct fixture *fx)
{
    config_setting_t *g = conf_group(fx->c, conf_root(fx->c), "t", true);
    assert_non_null(g);
    return g;
}

/* ---- Units ------------------------------------------------------------------------------------ */

static void test_duration_accepts_every_unit_suffix(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: { a = \"5ns\"; b = \"5us\"; c = \"9ms\"; d = \"5s\"; e = \"5m\"; f = \"5min\";\n"
             "     g = \"5h\"; h = \"5d\"; i = \"5w\"; j = \"1.5s\"; k = \"250 ms\"; };\n");
    config_setting_t *t = group_t(fx);
    const struct { const char *name; double seconds; } cases[] = {
        {"a", 5e-9}, {"b", 5e-6}, {"c", 0.009}, {"d", 5}, {"e", 300}, {"f", 300},
        {"g", 18000}, {"h", 432000}, {"i", 3024000}, {"j", 1.5}, {"k", 0.25},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        assert_true(conf_get_duration(fx->c, t, cases[i].name, true, CONF_AT_LEAST(0), &v));
        /* Exact: "9ms" must be the same double as 0.009 (9 * 1e-3 is not). */
        assert_close(v, cases[i].seconds, 0);
    }
    assert_int_equal(conf_check_unused(fx->c), 0);
    assert_int_equal(conf_errors(fx->c), 0);
    assert_no_diag(fx);
}

static void test_bytes_use_si_and_iec_multipliers(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: { a = \"100B\"; b = \"64KB\"; c = \"64kB\"; d = \"512MB\"; e = \"1GB\"; f = \"2TB\";\n"
             "     g = \"1KiB\"; h = \"512MiB\"; i = \"1GiB\"; j = \"1TiB\"; k = \"1.5GB\"; };\n");
    config_setting_t *t = group_t(fx);
    const struct { const char *name; double bytes; } cases[] = {
        {"a", 100}, {"b", 64000}, {"c", 64000}, {"d", 512e6}, {"e", 1e9}, {"f", 2e12},
        {"g", 1024}, {"h", 536870912}, {"i", 1073741824}, {"j", 1099511627776.0}, {"k", 1.5e9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        assert_true(conf_get_bytes(fx->c, t, cases[i].name, true, CONF_AT_LEAST(0), &v));
        assert_close(v, cases[i].bytes, 0);
    }
    assert_int_equal(conf_errors(fx->c), 0);
}

static void test_money_accepts_numbers_and_dollar_strings(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: { a = 12000; b = 0.0225; c = \"$12000\"; d = \"$0.0225\"; e = \"0.5\"; };\n");
    config_setting_t *t = group_t(fx);
    const struct { const char *name; double usd; } cases[] = {
        {"a", 12000}, {"b", 0.0225}, {"c", 12000}, {"d", 0.0225}, {"e", 0.5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        assert_true(conf_get_money(fx->c, t, cases[i].name, true, CONF_AT_LEAST(0), &v));
        assert_close(v, cases[i].usd, 0);
    }
    assert_no_diag(fx);
}

static void test_malformed_money_is_reported(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  price = \"12k$\";\n};\n");
    double v = 7;
    assert_false(conf_get_money(fx->c, group_t(fx), "price", true, CONF_ANY, &v));
    assert_close(v, 7, 0);
    assert_diag_contains(&fx->diag, "study.cfg:2: t.price: expected an amount like 12000 or \"$12000\", "
                                    "got a string \"12k$\"\n");
}

static void test_unknown_unit_lists_the_valid_units(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  timeout = \"30sec\";\n  memory = \"1Gb\";\n};\n");
    config_setting_t *t = group_t(fx);
    double v = 7;
    assert_false(conf_get_duration(fx->c, t, "timeout", true, CONF_ANY, &v));
    assert_false(conf_get_bytes(fx->c, t, "memory", true, CONF_ANY, &v));
    assert_close(v, 7, 0);
    assert_diag_contains(&fx->diag, "study.cfg:2: t.timeout: unknown unit \"sec\" in \"30sec\" "
                                    "(units: ns, us, ms, s, m, min, h, d, w)\n");
    assert_diag_contains(&fx->diag, "study.cfg:3: t.memory: unknown unit \"Gb\" in \"1Gb\" "
                                    "(units: B, KB, kB, MB, GB, TB, KiB, MiB, GiB, TiB)\n");
    assert_int_equal(conf_errors(fx->c), 2);
}

static void test_bare_number_for_a_duration_asks_for_a_unit(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  timeout = 30;\n  interval = \"30\";\n  memory = 512;\n};\n");
    config_setting_t *t = group_t(fx);
    double v = 7;
    assert_false(conf_get_duration(fx->c, t, "timeout", true, CONF_ANY, &v));
    assert_false(conf_get_duration(fx->c, t, "interval", true, CONF_ANY, &v));
    assert_false(conf_get_bytes(fx->c, t, "memory", true, CONF_ANY, &v));
    assert_close(v, 7, 0);
    assert_diag_contains(&fx->diag, "study.cfg:2: t.timeout: needs a unit, e.g. \"30s\" or \"30ms\" (units: ");
    assert_diag_contains(&fx->diag, "study.cfg:3: t.interval: needs a unit, e.g. \"30s\" or \"30ms\"");
    assert_diag_contains(&fx->diag, "study.cfg:4: t.memory: needs a unit, e.g. \"512MB\" or \"512MiB\"");
}

static void test_text_that_is_not_a_number_is_a_type_error(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  timeout = \"fast\";\n  hex = \"0x10s\";\n  n = \"20ms\";\n};\n");
    config_setting_t *t = group_t(fx);
    double v = 7;
    assert_false(conf_get_duration(fx->c, t, "timeout", true, CONF_ANY, &v));
    assert_false(conf_get_duration(fx->c, t, "hex", true, CONF_ANY, &v));
    assert_false(conf_get_double(fx->c, t, "n", true, CONF_ANY, &v));
    assert_diag_contains(&fx->diag, "study.cfg:2: t.timeout: expected a duration like \"30s\", "
                                    "got a string \"fast\"\n");
    assert_diag_contains(&fx->diag, "study.cfg:3: t.hex: expected a duration like \"30s\", "
                                    "got a string \"0x10s\"\n");
    assert_diag_contains(&fx->diag, "study.cfg:4: t.n: expected a number, got a string \"20ms\"\n");
}

/* ---- Types and ranges ------------------------------------------------------------------------- */

static void test_wrong_type_names_expected_and_actual(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  count = \"three\";\n  ratio = true;\n  flag = 1;\n  name = 5;\n  n = 2.5;\n"
             "  sub = 3;\n  items = { a = 1; };\n};\n");
    config_setting_t *t = group_t(fx);
    int64_t i = 7;
    double d = 7;
    bool b = false;
    const char *s = "default";
    assert_false(conf_get_int(fx->c, t, "count", true, 0, 10, &i));
    assert_false(conf_get_double(fx->c, t, "ratio", true, CONF_ANY, &d));
    assert_false(conf_get_bool(fx->c, t, "flag", true, &b));
    assert_false(conf_get_string(fx->c, t, "name", true, &s));
    assert_false(conf_get_int(fx->c, t, "n", true, 0, 10, &i));
    assert_null(conf_group(fx->c, t, "sub", true));
    assert_null(conf_list(fx->c, t, "items", true));
    assert_int_equal(i, 7);
    assert_close(d, 7, 0);
    assert_false(b);
    assert_string_equal(s, "default");
    assert_diag_contains(&fx->diag, "study.cfg:2: t.count: expected an integer, got a string \"three\"\n");
    assert_diag_contains(&fx->diag, "study.cfg:3: t.ratio: expected a number, got a boolean true\n");
    assert_diag_contains(&fx->diag, "study.cfg:4: t.flag: expected true or false, got an integer 1\n");
    assert_diag_contains(&fx->diag, "study.cfg:5: t.name: expected a string, got an integer 5\n");
    assert_diag_contains(&fx->diag, "study.cfg:6: t.n: expected an integer, got a real number 2.5\n");
    assert_diag_contains(&fx->diag, "study.cfg:7: t.sub: expected a group { ... }, got an integer 3\n");
    assert_diag_contains(&fx->diag, "study.cfg:8: t.items: expected a list ( ... ) or an array [ ... ], "
                                    "got a group\n");
    assert_int_equal(conf_errors(fx->c), 7);
    /* A setting that was present but wrong is not reported a second time as unknown. */
    assert_int_equal(conf_check_unused(fx->c), 0);
}

static void test_values_of_the_right_type_are_read(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: { n = 9999999999L; small = -3; x = 2; y = 0.5; on = true; s = \"jsq\"; };\n");
    config_setting_t *t = group_t(fx);
    int64_t n = 0, small = 0;
    double x = 0, y = 0;
    bool on = false;
    const char *s = NULL;
    assert_true(conf_get_int(fx->c, t, "n", true, INT64_MIN, INT64_MAX, &n));
    assert_true(conf_get_int(fx->c, t, "small", true, -10, 10, &small));
    assert_true(conf_get_double(fx->c, t, "x", true, CONF_ANY, &x));
    assert_true(conf_get_double(fx->c, t, "y", true, CONF_ANY, &y));
    assert_true(conf_get_bool(fx->c, t, "on", true, &on));
    assert_true(conf_get_string(fx->c, t, "s", true, &s));
    assert_true(n == INT64_C(9999999999));
    assert_int_equal(small, -3);
    assert_close(x, 2, 0);
    assert_close(y, 0.5, 0);
    assert_true(on);
    assert_string_equal(s, "jsq");
    assert_no_diag(fx);
}

static void test_int_out_of_range_reports_the_bounds(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  servers = 0;\n  pct = 150;\n  delta = 5;\n};\n");
    config_setting_t *t = group_t(fx);
    int64_t v = 7;
    assert_false(conf_get_int(fx->c, t, "servers", true, 1, INT64_MAX, &v));
    assert_false(conf_get_int(fx->c, t, "pct", true, 0, 100, &v));
    assert_false(conf_get_int(fx->c, t, "delta", true, INT64_MIN, 4, &v));
    assert_int_equal(v, 7);
    assert_diag_contains(&fx->diag, "study.cfg:2: t.servers: must be >= 1, got 0\n");
    assert_diag_contains(&fx->diag, "study.cfg:3: t.pct: must be in [0, 100], got 150\n");
    assert_diag_contains(&fx->diag, "study.cfg:4: t.delta: must be <= 4, got 5\n");
    assert_int_equal(conf_errors(fx->c), 3);
}

static void test_real_out_of_range_reports_the_bounds_with_units(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  rate = 0;\n  share = 1.5;\n  interval = \"0s\";\n  huge = 1e400;\n"
             "  price = -3.0;\n  hourly = \"$-1\";\n};\n");
    config_setting_t *t = group_t(fx);
    double v = 7;
    assert_false(conf_get_double(fx->c, t, "rate", true, CONF_ABOVE(0), &v));
    assert_false(conf_get_double(fx->c, t, "share", true, CONF_IN(0, 1), &v));
    assert_false(conf_get_duration(fx->c, t, "interval", true, CONF_ABOVE(0), &v));
    assert_false(conf_get_double(fx->c, t, "huge", true, CONF_ANY, &v));
    assert_false(conf_get_money(fx->c, t, "price", true, CONF_AT_LEAST(0), &v));
    assert_false(conf_get_money(fx->c, t, "hourly", true, CONF_AT_LEAST(0), &v));
    assert_close(v, 7, 0);
    assert_diag_contains(&fx->diag, "study.cfg:2: t.rate: must be > 0, got 0\n");
    assert_diag_contains(&fx->diag, "study.cfg:3: t.share: must be in [0, 1], got 1.5\n");
    assert_diag_contains(&fx->diag, "study.cfg:4: t.interval: must be > 0s, got \"0s\"\n");
    assert_diag_contains(&fx->diag, "study.cfg:5: t.huge: must be finite, got inf\n");
    assert_diag_contains(&fx->diag, "study.cfg:6: t.price: must be >= $0, got $-3\n");
    assert_diag_contains(&fx->diag, "study.cfg:7: t.hourly: must be >= $0, got \"$-1\"\n");
}

static void test_choice_returns_the_index_of_the_match(void **state)
{
    struct fixture *fx = *state;
    static const char *const algorithms[] = {"round_robin", "jsq", "random", NULL};
    load(fx, "lb: { algorithm = \"jsq\"; };\n");
    int v = -1;
    assert_true(conf_get_choice(fx->c, conf_group(fx->c, conf_root(fx->c), "lb", true), "algorithm",
                                true, algorithms, &v));
    assert_int_equal(v, 1);
    assert_no_diag(fx);
}

static void test_choice_lists_valid_choices_and_suggests_nearest(void **state)
{
    struct fixture *fx = *state;
    static const char *const algorithms[] = {"round_robin", "jsq", NULL};
    load(fx, "lb: {\n  algorithm = \"jsk\";\n  policy = \"fastest\";\n};\n");
    config_setting_t *lb = conf_group(fx->c, conf_root(fx->c), "lb", true);
    int v = -1;
    assert_false(conf_get_choice(fx->c, lb, "algorithm", true, algorithms, &v));
    assert_false(conf_get_choice(fx->c, lb, "policy", true, algorithms, &v));
    assert_int_equal(v, -1);
    assert_diag_contains(&fx->diag, "study.cfg:2: lb.algorithm: must be one of \"round_robin\", \"jsq\"; "
                                    "got \"jsk\"; did you mean \"jsq\"?\n");
    assert_diag_contains(&fx->diag, "study.cfg:3: lb.policy: must be one of \"round_robin\", \"jsq\"; "
                                    "got \"fastest\"\n");
}

/* ---- Presence --------------------------------------------------------------------------------- */

static void test_absent_optional_setting_keeps_the_preset_default(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: { other = 1; };\n");
    config_setting_t *t = group_t(fx);
    int64_t i = 42;
    double d = 0.25;
    bool b = true;
    const char *s = "rr";
    int choice = 3;
    static const char *const choices[] = {"a", "b", NULL};
    assert_true(conf_get_int(fx->c, t, "n", false, 0, 100, &i));
    assert_true(conf_get_duration(fx->c, t, "timeout", false, CONF_ANY, &d));
    assert_true(conf_get_bool(fx->c, t, "on", false, &b));
    assert_true(conf_get_string(fx->c, t, "name", false, &s));
    assert_true(conf_get_choice(fx->c, t, "kind", false, choices, &choice));
    assert_null(conf_group(fx->c, t, "sub", false));
    assert_null(conf_list(fx->c, t, "items", false));
    /* A NULL group stands for an absent optional group: nothing to read, nothing to report. */
    assert_true(conf_get_int(fx->c, NULL, "n", true, 0, 100, &i));
    assert_int_equal(i, 42);
    assert_close(d, 0.25, 0);
    assert_true(b);
    assert_string_equal(s, "rr");
    assert_int_equal(choice, 3);
    assert_int_equal(conf_errors(fx->c), 0);
    assert_no_diag(fx);
}

static void test_missing_required_setting_is_reported_at_its_group(void **state)
{
    struct fixture *fx = *state;
    load(fx, "# a study\nworkload: {\n  arrivals: { process = \"poisson\"; };\n};\n");
    config_setting_t *w = conf_group(fx->c, conf_root(fx->c), "workload", true);
    config_setting_t *a = conf_group(fx->c, w, "arrivals", true);
    double rps = 7;
    assert_false(conf_get_double(fx->c, a, "mean_rps", true, CONF_ABOVE(0), &rps));
    assert_null(conf_group(fx->c, conf_root(fx->c), "study", true));
    assert_close(rps, 7, 0);
    assert_diag_contains(&fx->diag, "study.cfg:3: workload.arrivals.mean_rps: missing required setting\n");
    assert_diag_contains(&fx->diag, "study.cfg:1: study: missing required setting\n");
    assert_int_equal(conf_errors(fx->c), 2);
}

/* ---- Paths ------------------------------------------------------------------------------------ */

static const char designs_text[] =
    "designs = (\n"
    "  { name = \"onprem\"; servers = 8; },\n"
    "  { name = \"ec2\";\n"
    "    asg: { min = 3;\n"
    "           max = 2; }; }\n"
    ");\n";

static void test_path_names_list_elements_by_index(void **state)
{
    struct fixture *fx = *state;
    load(fx, designs_text);
    config_setting_t *designs = conf_list(fx->c, conf_root(fx->c), "designs", true);
    assert_int_equal(config_setting_length(designs), 2);
    config_setting_t *ec2 = conf_elem_group(fx->c, designs, 1);
    config_setting_t *asg = conf_group(fx->c, ec2, "asg", true);
    int64_t min = 0, max = 0;
    assert_true(conf_get_int(fx->c, asg, "min", true, 0, INT64_MAX, &min));
    assert_true(conf_get_int(fx->c, asg, "max", true, 0, INT64_MAX, &max));
    if (max < min)
        conf_error_in(fx->c, asg, "max", "must be >= min (%lld), got %lld", (long long)min, (long long)max);
    assert_diag_contains(&fx->diag, "study.cfg:5: designs.[1].asg.max: must be >= min (3), got 2\n");
    char path[64];
    assert_string_equal(conf_path(config_setting_get_member(asg, "min"), path, sizeof path),
                        "designs.[1].asg.min");
    assert_string_equal(conf_path(conf_root(fx->c), path, sizeof path), "");
    assert_int_equal(conf_errors(fx->c), 1);
}

static void test_conf_path_truncates_and_terminates(void **state)
{
    struct fixture *fx = *state;
    load(fx, designs_text);
    config_setting_t *designs = config_setting_get_member(conf_root(fx->c), "designs");
    config_setting_t *s = config_setting_get_member(config_setting_get_elem(designs, 1), "asg");
    char path[10];
    memset(path, 'x', sizeof path);
    assert_string_equal(conf_path(s, path, sizeof path), "designs.[");
    char tiny[1] = {'x'};
    assert_string_equal(conf_path(s, tiny, sizeof tiny), "");
}

static void test_error_in_a_missing_member_names_the_member_at_the_group(void **state)
{
    struct fixture *fx = *state;
    load(fx, designs_text);
    config_setting_t *designs = conf_list(fx->c, conf_root(fx->c), "designs", true);
    config_setting_t *onprem = conf_elem_group(fx->c, designs, 0);
    conf_error_in(fx->c, onprem, "server", "needed when servers > 0");
    conf_error(fx->c, config_setting_get_member(onprem, "servers"), "at most %d for kind %s", 4, "onprem");
    assert_diag_contains(&fx->diag, "study.cfg:2: designs.[0].server: needed when servers > 0\n");
    assert_diag_contains(&fx->diag, "study.cfg:2: designs.[0].servers: at most 4 for kind onprem\n");
    assert_int_equal(conf_errors(fx->c), 2);
}

static void test_list_and_array_elements_are_read_as_quantities(void **state)
{
    struct fixture *fx = *state;
    load(fx, "t: {\n  sizes = [\"1KB\", \"2KiB\"];\n  mixed = (\"1s\", 2);\n  names = [\"a\", \"b\"];\n"
             "  groups = ( { x = 1; }, 5 );\n};\n");
    config_setting_t *t = group_t(fx);
    config_setting_t *sizes = conf_list(fx->c, t, "sizes", true);
    config_setting_t *mixed = conf_list(fx->c, t, "mixed", true);
    config_setting_t *names = conf_list(fx->c, t, "names", true);
    config_setting_t *groups = conf_list(fx->c, t, "groups", true);
    double a = 0, b = 0, s1 = 0, s2 = 7;
    const char *name = NULL;
    assert_true(conf_elem_quantity(fx->c, sizes, 0, CONF_UNIT_BYTES, CONF_AT_LEAST(0), &a));
    assert_true(conf_elem_quantity(fx->c, sizes, 1, CONF_UNIT_BYTES, CONF_AT_LEAST(0), &b));
    assert_true(conf_elem_quantity(fx->c, mixed, 0, CONF_UNIT_SECONDS, CONF_AT_LEAST(0), &s1));
    assert_false(conf_elem_quantity(fx->c, mixed, 1, CONF_UNIT_SECONDS, CONF_AT_LEAST(0), &s2));
    assert_true(conf_elem_string(fx->c, names, 1, &name));
    assert_false(conf_elem_string(fx->c, sizes, 5, &name));
    config_setting_t *g0 = conf_elem_group(fx->c, groups, 0);
    assert_non_null(g0);
    assert_null(conf_elem_group(fx->c, groups, 1));
    int64_t x = 0;
    assert_true(conf_get_int(fx->c, g0, "x", true, 0, 10, &x));
    assert_close(a, 1000, 0);
    assert_close(b, 2048, 0);
    assert_close(s1, 1, 0);
    assert_close(s2, 7, 0);
    assert_string_equal(name, "b");
    assert_int_equal(x, 1);
    assert_diag_contains(&fx->diag, "study.cfg:3: t.mixed.[1]: needs a unit, e.g. \"2s\" or \"2ms\"");
    assert_diag_contains(&fx->diag, "study.cfg:5: t.groups.[1]: expected a group { ... }, got an integer 5\n");
    assert_int_equal(conf_errors(fx->c), 2);
    assert_int_equal(conf_check_unused(fx->c), 0);
}

/* ---- Unknown settings ------------------------------------------------------------------------- */

static void test_unknown_setting_suggests_nearest_name(void **state)
{
    struct fixture *fx = *state;
    load(fx, "workload: {\n  arrivals: { mean_rps = 10.0; };\n  clases = ( { name = \"browse\"; } );\n};\n");
    config_setting_t *w = conf_group(fx->c, conf_root(fx->c), "workload", true);
    double rps = 0;
    assert_true(conf_get_double(fx->c, conf_group(fx->c, w, "arrivals", true), "mean_rps", true,
                                CONF_ABOVE(0), &rps));
    assert_null(conf_list(fx->c, w, "classes", false));
    assert_no_diag(fx);
    assert_int_equal(conf_check_unused(fx->c), 1);
    assert_string_equal(diag_text(&fx->diag),
                        "study.cfg:3: workload.clases: unknown setting; did you mean \"classes\"?\n");
    assert_int_equal(conf_errors(fx->c), 1);
}

static void test_unknown_setting_suggests_a_swap_of_neighbours(void **state)
{
    struct fixture *fx = *state;
    load(fx, "svc: {\n  mena = \"20ms\";\n};\n");
    double mean = 1;
    config_setting_t *svc = conf_group(fx->c, conf_root(fx->c), "svc", true);
    assert_true(conf_get_duration(fx->c, svc, "mean", false, CONF_ABOVE(0), &mean));
    assert_int_equal(conf_check_unused(fx->c), 1);
    assert_diag_contains(&fx->diag, "study.cfg:2: svc.mena: unknown setting; did you mean \"mean\"?\n");
}

static void test_unknown_setting_without_close_name_has_no_suggestion(void **state)
{
    struct fixture *fx = *state;
    load(fx, "workload: {\n  colour = \"blue\";\n  max = 3;\n};\n");
    config_setting_t *w = conf_group(fx->c, conf_root(fx->c), "workload", true);
    int64_t n = 0;
    /* "min" is two edits from "max": too far for a three-letter name. */
    assert_true(conf_get_int(fx->c, w, "min", false, 0, 10, &n));
    assert_null(conf_list(fx->c, w, "classes", false));
    assert_int_equal(conf_check_unused(fx->c), 2);
    assert_string_equal(diag_text(&fx->diag), "study.cfg:2: workload.colour: unknown setting\n"
                                              "study.cfg:3: workload.max: unknown setting\n");
}

static void test_reading_a_group_leaves_its_members_to_be_read(void **state)
{
    struct fixture *fx = *state;
    load(fx, "study: {\n  name = \"x\";\n  seed = 1;\n};\nextra: {\n  a = 1;\n  b = 2;\n};\n"
             "designs = (\n  { name = \"a\";\n    typo = 1; }\n);\n");
    config_setting_t *study = conf_group(fx->c, conf_root(fx->c), "study", true);
    const char *name = NULL;
    assert_true(conf_get_string(fx->c, study, "name", true, &name));
    config_setting_t *designs = conf_list(fx->c, conf_root(fx->c), "designs", true);
    assert_true(conf_get_string(fx->c, conf_elem_group(fx->c, designs, 0), "name", true, &name));
    assert_int_equal(conf_check_unused(fx->c), 3);
    /* An unread group is one unknown setting; its members are not listed one by one. */
    assert_string_equal(diag_text(&fx->diag), "study.cfg:3: study.seed: unknown setting\n"
                                              "study.cfg:5: extra: unknown setting\n"
                                              "study.cfg:11: designs.[0].typo: unknown setting\n");
}

/* ---- Loading ---------------------------------------------------------------------------------- */

/* A temporary directory with files written by a test; removed by remove_dir. */
struct tmpdir {
    char path[256];
    char files[4][300];
    int n;
};

static void make_dir(struct tmpdir *d)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(d->path, sizeof d->path, "%s/strato_conf_XXXXXX", base);
    assert_non_null(mkdtemp(d->path));
    d->n = 0;
}

static const char *write_file(struct tmpdir *d, const char *name, const char *text)
{
    assert_true(d->n < 4);
    char *path = d->files[d->n++];
    char joined[sizeof d->files[0]];
    snprintf(joined, sizeof joined, "%s/%s", d->path, name);
    memcpy(path, joined, sizeof joined);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void remove_dir(struct tmpdir *d)
{
    for (int i = 0; i < d->n; i++)
        remove(d->files[i]);
    rmdir(d->path);
}

static void test_missing_include_file_is_a_clean_diagnostic(void **state)
{
    struct fixture *fx = *state;
    struct tmpdir d;
    make_dir(&d);
    const char *main_path = write_file(&d, "main.cfg", "a = 1;\n@include \"catalog.cfg\"\n");
    conf *c = conf_load(main_path, fx->diag.f);
    char expected[700];
    snprintf(expected, sizeof expected,
             "%s:2: error: cannot open include file (include paths are relative to %s)\n", main_path, d.path);
    remove_dir(&d);
    assert_null(c);
    assert_string_equal(diag_text(&fx->diag), expected);
}

static void test_settings_from_an_include_name_the_included_file(void **state)
{
    struct fixture *fx = *state;
    struct tmpdir d;
    make_dir(&d);
    write_file(&d, "catalog.cfg", "catalog: {\n  c6i: {\n    price = \"free\";\n  };\n};\n");
    const char *main_path = write_file(&d, "main.cfg", "# study\n@include \"catalog.cfg\"\nother = 1;\n");
    fx->c = conf_load(main_path, fx->diag.f);
    assert_non_null(fx->c);
    assert_string_equal(conf_file_name(fx->c), main_path);
    config_setting_t *cat = conf_group(fx->c, conf_root(fx->c), "catalog", true);
    double price = 0;
    assert_false(conf_get_money(fx->c, conf_group(fx->c, cat, "c6i", true), "price", true, CONF_ANY, &price));
    assert_int_equal(conf_check_unused(fx->c), 1);
    char expected[1400];
    snprintf(expected, sizeof expected,
             "%s/catalog.cfg:3: catalog.c6i.price: expected an amount like 12000 or \"$12000\", "
             "got a string \"free\"\n%s:3: other: unknown setting\n", d.path, main_path);
    remove_dir(&d);
    assert_string_equal(diag_text(&fx->diag), expected);
}

static void test_syntax_error_in_an_include_names_that_file(void **state)
{
    struct fixture *fx = *state;
    struct tmpdir d;
    make_dir(&d);
    write_file(&d, "catalog.cfg", "x = 1;\ny = = 2;\n");
    const char *main_path = write_file(&d, "main.cfg", "@include \"catalog.cfg\"\n");
    conf *c = conf_load(main_path, fx->diag.f);
    char expected[700];
    snprintf(expected, sizeof expected, "%s/catalog.cfg:2: error: syntax error\n", d.path);
    remove_dir(&d);
    assert_null(c);
    assert_string_equal(diag_text(&fx->diag), expected);
}

static void test_syntax_error_reports_file_and_line(void **state)
{
    struct fixture *fx = *state;
    assert_null(conf_load_string("a = 1;\n\nb = ;\n", "study.cfg", fx->diag.f));
    assert_string_equal(diag_text(&fx->diag), "study.cfg:3: error: syntax error\n");
}

static void test_empty_configuration_is_an_error(void **state)
{
    struct fixture *fx = *state;
    assert_null(conf_load_string("", "empty.cfg", fx->diag.f));
    assert_null(conf_load_string("# nothing but a comment\n\n", "comment.cfg", fx->diag.f));
    struct tmpdir d;
    make_dir(&d);
    const char *path = write_file(&d, "study.cfg", "");
    conf *c = conf_load(path, fx->diag.f);
    char expected[700];
    snprintf(expected, sizeof expected,
             "empty.cfg:1: error: empty configuration\ncomment.cfg:1: error: empty configuration\n"
             "%s:1: error: empty configuration\n", path);
    remove_dir(&d);
    assert_null(c);
    assert_string_equal(diag_text(&fx->diag), expected);
}

static void test_unreadable_file_reports_the_reason(void **state)
{
    struct fixture *fx = *state;
    assert_null(conf_load("/nonexistent/strato/study.cfg", fx->diag.f));
    assert_string_equal(diag_text(&fx->diag),
                        "/nonexistent/strato/study.cfg: error: cannot open: No such file or directory\n");
}

static void test_diagnostics_go_to_the_given_stream_only(void **state)
{
    (void)state;
    FILE *diag = tmpfile();
    FILE *err_capture = tmpfile();
    assert_non_null(diag);
    assert_non_null(err_capture);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(err_capture), STDERR_FILENO) >= 0);
    conf *c = conf_load_string("t: { n = \"x\"; typo = 1; };\n", "study.cfg", diag);
    int64_t n = 0;
    bool read = c != NULL && conf_get_int(c, conf_group(c, conf_root(c), "t", true), "n", true, 0, 9, &n);
    int unknown = c != NULL ? conf_check_unused(c) : -1;
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    conf_free(c);

    char text[256] = "";
    rewind(diag);
    size_t len = fread(text, 1, sizeof text - 1, diag);
    text[len] = '\0';
    long stderr_bytes = ftell(err_capture);
    fclose(diag);
    fclose(err_capture);
    assert_false(read);
    assert_int_equal(unknown, 1);
    assert_string_equal(text, "study.cfg:1: t.n: expected an integer, got a string \"x\"\n"
                              "study.cfg:1: t.typo: unknown setting\n");
    assert_int_equal(stderr_bytes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_duration_accepts_every_unit_suffix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_use_si_and_iec_multipliers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_money_accepts_numbers_and_dollar_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_money_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_unit_lists_the_valid_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_number_for_a_duration_asks_for_a_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_that_is_not_a_number_is_a_type_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_names_expected_and_actual, setup, teardown),
        cmocka_unit_test_setup_teardown(test_values_of_the_right_type_are_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_out_of_range_reports_the_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_out_of_range_reports_the_bounds_with_units, setup, teardown),
        cmocka_unit_test_setup_teardown(test_choice_returns_the_index_of_the_match, setup, teardown),
        cmocka_unit_test_setup_teardown(test_choice_lists_valid_choices_and_suggests_nearest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_optional_setting_keeps_the_preset_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required_setting_is_reported_at_its_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_names_list_elements_by_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conf_path_truncates_and_terminates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_in_a_missing_member_names_the_member_at_the_group, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_and_array_elements_are_read_as_quantities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_setting_suggests_nearest_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_setting_suggests_a_swap_of_neighbours, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_setting_without_close_name_has_no_suggestion, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reading_a_group_leaves_its_members_to_be_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_include_file_is_a_clean_diagnostic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settings_from_an_include_name_the_included_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_in_an_include_names_that_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_reports_file_and_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_configuration_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_file_reports_the_reason, setup, teardown),
        cmocka_unit_test(test_diagnostics_go_to_the_given_stream_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
