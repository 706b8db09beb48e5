/* test_dist.c: unit tests of sim/dist: parsing with units, validation diagnostics, and sampling.
 *
 * Sampling is checked against theory with a statistical tolerance, never a hand-tuned one: the mean
 * of n = 200000 draws (fixed seed, mt19937) must lie within 4 standard errors of dist_mean, the
 * standard error coming from the sample variance; the variance is checked the same way with the
 * standard error of a sample variance, sqrt((m4 - s^4) / n), from the sample fourth central moment.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_rng.h>

#include "conf.h"
#include "dist.h"
#include "testutil.h"

enum { N = 200000 };

struct fixture {
    struct diag diag;
    conf *c;
    struct dist d;
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
    dist_free(&fx->d);
    conf_free(fx->c);
    diag_close(&fx->diag);
    free(fx);
    return 0;
}

/* Starts a fresh diagnostic stream (and drops the conf that wrote to the old one). */
static void reset_diag(struct fixture *fx)
{
    conf_free(fx->c);
    fx->c = NULL;
    diag_close(&fx->diag);
    diag_open(&fx->diag);
    assert_non_null(fx->diag.f);
}

/* Loads text as "dist.cfg" and parses its group "svc" in unit into fx->d. */
static bool parse(struct fixture *fx, const char *text, enum conf_unit unit)
{
    conf_free(fx->c);
    fx->c = NULL; /* if the load fails, teardown must not free it again */
    fx->c = load_or_fail(text, "dist.cfg", &fx->diag);
    return dist_get(fx->c, conf_root(fx->c), "svc", unit, true, &fx->d);
}

static void parse_ok(struct fixture *fx, const char *text, enum conf_unit unit)
{
    if (!parse(fx, text, unit)) {
        print_error("parse failed:\n%s\n", diag_text(&fx->diag));
        fail();
    }
    assert_int_equal(conf_check_unused(fx->c), 0);
    assert_int_equal(conf_errors(fx->c), 0);
}

struct moments {
    double mean;
    double var; /* sample variance, n - 1 denominator */
    double m4;  /* fourth central moment */
};

static struct moments sample_moments(const struct dist *d, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double *x = malloc(N * sizeof *x);
    assert_non_null(r);
    assert_non_null(x);
    gsl_rng_set(r, seed);
    struct moments m = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        x[i] = dist_sample(d, r);
        m.mean += x[i];
    }
    m.mean /= N;
    for (int i = 0; i < N; i++) {
        double dev2 = (x[i] - m.mean) * (x[i] - m.mean);
        m.var += dev2;
        m.m4 += dev2 * dev2;
    }
    m.var /= N - 1;
    m.m4 /= N;
    free(x);
    gsl_rng_free(r);
    return m;
}

static void assert_sample_mean_matches(const struct dist *d)
{
    struct moments m = sample_moments(d, 20261129);
    assert_true(m.var > 0);
    assert_close(m.mean, dist_mean(d), 4 * sqrt(m.var / N));
}

static void assert_sample_cv_matches(const struct dist *d)
{
    struct moments m = sample_moments(d, 4357);
    double sd = dist_cv(d) * dist_mean(d);
    assert_close(m.var, sd * sd, 4 * sqrt((m.m4 - m.var * m.var) / N));
}

/* ---- Each kind parses and samples what it says ------------------------------------------------ */

static void test_exponential_parses_and_samples_its_mean(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"exponential\"; mean = \"20ms\"; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_EXPONENTIAL);
    assert_close(dist_mean(&fx->d), 0.02, 0);
    assert_close(dist_cv(&fx->d), 1, 0);
    assert_sample_mean_matches(&fx->d);
    assert_sample_cv_matches(&fx->d);
}

static void test_lognormal_parses_mean_and_cv_and_samples_both(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"lognormal\"; mean = \"20ms\"; cv = 1.0; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_LOGNORMAL);
    assert_close(fx->d.lognormal.sigma, sqrt(log(2.0)), 1e-15);
    assert_close(fx->d.lognormal.mu, log(0.02) - log(2.0) / 2, 1e-15);
    assert_close(dist_mean(&fx->d), 0.02, 0);
    assert_close(dist_cv(&fx->d), 1, 0);
    assert_sample_mean_matches(&fx->d);
    assert_sample_cv_matches(&fx->d);
}

static void test_gamma_parses_mean_and_cv_and_samples_both(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"gamma\"; mean = \"120ms\"; cv = 0.8; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_GAMMA);
    assert_close(fx->d.gamma.shape, 1 / 0.64, 1e-12);
    assert_close(fx->d.gamma.scale, 0.12 * 0.64, 1e-15);
    assert_sample_mean_matches(&fx->d);
    assert_sample_cv_matches(&fx->d);
}

static void test_weibull_samples_scale_times_gamma_of_one_plus_inverse_shape(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"weibull\"; shape = 1.5; scale = \"2s\"; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_WEIBULL);
    assert_close(dist_mean(&fx->d), 2 * tgamma(1 + 1 / 1.5), 1e-12);
    assert_sample_mean_matches(&fx->d);
    assert_sample_cv_matches(&fx->d);
}

static void test_pareto_samples_its_mean_above_the_scale(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"pareto\"; shape = 5.0; scale = \"2KB\"; };\n", CONF_UNIT_BYTES);
    assert_int_equal(fx->d.kind, DIST_PARETO);
    assert_close(dist_mean(&fx->d), 2500, 1e-9);
    assert_close(dist_cv(&fx->d), 1 / sqrt(15.0), 1e-15);
    assert_sample_mean_matches(&fx->d);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    for (int i = 0; i < 1000; i++)
        assert_true(dist_sample(&fx->d, r) >= 2000);
    gsl_rng_free(r);
}

static void test_pareto_moments_become_infinite_for_small_shapes(void **state)
{
    (void)state;
    struct dist heavy = dist_pareto(1.0, 1.0), medium = dist_pareto(1.5, 1.0);
    assert_true(isinf(dist_mean(&heavy)));
    assert_true(isnan(dist_cv(&heavy)));
    assert_close(dist_mean(&medium), 3, 1e-15);
    assert_true(isinf(dist_cv(&medium)));
}

static void test_uniform_samples_between_min_and_max(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"uniform\"; min = \"1s\"; max = \"3s\"; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_UNIFORM);
    assert_close(dist_mean(&fx->d), 2, 0);
    assert_close(dist_cv(&fx->d), 2 / sqrt(12.0) / 2, 1e-15);
    assert_sample_mean_matches(&fx->d);
    assert_sample_cv_matches(&fx->d);
}

static void test_deterministic_always_returns_its_value(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"deterministic\"; value = \"250ms\"; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_DETERMINISTIC);
    assert_close(dist_mean(&fx->d), 0.25, 0);
    assert_close(dist_cv(&fx->d), 0, 0);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    for (int i = 0; i < 1000; i++)
        assert_close(dist_sample(&fx->d, r), 0.25, 0);
    gsl_rng_free(r);
}

static void test_empirical_without_weights_samples_values_equally(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"empirical\"; values = [\"1ms\", \"2ms\", \"6ms\"]; };\n", CONF_UNIT_SECONDS);
    assert_int_equal(fx->d.kind, DIST_EMPIRICAL);
    assert_int_equal(fx->d.empirical.n, 3);
    assert_close(dist_mean(&fx->d), 0.003, 1e-15);
    assert_sample_mean_matches(&fx->d);
    assert_sample_cv_matches(&fx->d);
}

static void test_empirical_weights_set_the_frequencies(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"empirical\"; values = [1.0, 2.0, 3.0]; weights = [1, 2, 7]; };\n",
             CONF_UNIT_NONE);
    assert_close(dist_mean(&fx->d), (1 * 1 + 2 * 2 + 3 * 7) / 10.0, 1e-15);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 99);
    long count[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) {
        double x = dist_sample(&fx->d, r);
        assert_true(x > 0.5 && x < 3.5);
        count[(int)lround(x) - 1]++;
    }
    gsl_rng_free(r);
    const double p[3] = {0.1, 0.2, 0.7};
    for (int i = 0; i < 3; i++)
        assert_close((double)count[i] / N, p[i], 4 * sqrt(p[i] * (1 - p[i]) / N));
    assert_sample_mean_matches(&fx->d);
}

/* ---- Units ------------------------------------------------------------------------------------ */

static void test_quantities_are_read_in_the_callers_unit(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"exponential\"; mean = \"1KiB\"; };\n", CONF_UNIT_BYTES);
    assert_close(dist_mean(&fx->d), 1024, 0);
    parse_ok(fx, "svc = { dist = \"exponential\"; mean = 3; };\n", CONF_UNIT_NONE);
    assert_close(dist_mean(&fx->d), 3, 0);
    parse_ok(fx, "svc = { dist = \"exponential\"; mean = \"$0.5\"; };\n", CONF_UNIT_USD);
    assert_close(dist_mean(&fx->d), 0.5, 0);
    parse_ok(fx, "svc = { dist = \"uniform\"; min = -1.0; max = 1; };\n", CONF_UNIT_NONE);
    assert_close(dist_mean(&fx->d), 0, 0);
}

static void test_unitless_text_and_bare_durations_are_rejected(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "svc = {\n  dist = \"exponential\";\n  mean = \"20ms\";\n};\n", CONF_UNIT_NONE));
    assert_diag_contains(&fx->diag, "dist.cfg:3: svc.mean: expected a number, got a string \"20ms\"\n");
    assert_false(parse(fx, "svc = {\n  dist = \"exponential\";\n  mean = 20;\n};\n", CONF_UNIT_SECONDS));
    assert_diag_contains(&fx->diag, "dist.cfg:3: svc.mean: needs a unit, e.g. \"20s\" or \"20ms\"");
    assert_int_equal(fx->d.kind, DIST_NONE);
}

/* ---- Validation ------------------------------------------------------------------------------- */

static void test_every_invalid_parameter_is_reported_with_file_line_and_path(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *text;
        enum conf_unit unit;
        const char *expected; /* the whole diagnostic output */
    } cases[] = {
        {"svc = {\n  dist = \"exponential\";\n  mean = \"0s\";\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:3: svc.mean: must be > 0s, got \"0s\"\n"},
        {"svc = {\n  dist = \"exponential\";\n  mean = -1.0;\n};\n", CONF_UNIT_NONE,
         "dist.cfg:3: svc.mean: must be > 0, got -1\n"},
        {"svc = {\n  dist = \"exponential\";\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:1: svc.mean: missing required setting\n"},
        {"svc = {\n  dist = \"lognormal\";\n  mean = \"-20ms\";\n  cv = 0.0;\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:3: svc.mean: must be > 0s, got \"-20ms\"\n"
         "dist.cfg:4: svc.cv: must be > 0, got 0\n"},
        {"svc = {\n  dist = \"gamma\";\n  mean = \"1s\";\n  cv = -1;\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:4: svc.cv: must be > 0, got -1\n"},
        {"svc = {\n  dist = \"weibull\";\n  shape = 0;\n  scale = \"0s\";\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:3: svc.shape: must be > 0, got 0\n"
         "dist.cfg:4: svc.scale: must be > 0s, got \"0s\"\n"},
        {"svc = {\n  dist = \"pareto\";\n  shape = -2.0;\n  scale = \"1MB\";\n};\n", CONF_UNIT_BYTES,
         "dist.cfg:3: svc.shape: must be > 0, got -2\n"},
        {"svc = {\n  dist = \"pareto\";\n  shape = 2.0;\n  scale = \"-1MB\";\n};\n", CONF_UNIT_BYTES,
         "dist.cfg:4: svc.scale: must be > 0B, got \"-1MB\"\n"},
        {"svc = {\n  dist = \"uniform\";\n  min = \"5ms\";\n  max = \"1ms\";\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:4: svc.max: must be > min (0.005s), got 0.001s\n"},
        {"svc = {\n  dist = \"uniform\";\n  min = \"-1ms\";\n  max = \"1ms\";\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:3: svc.min: must be >= 0s, got \"-1ms\"\n"},
        {"svc = {\n  dist = \"deterministic\";\n  value = \"-1s\";\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:3: svc.value: must be >= 0s, got \"-1s\"\n"},
        {"svc = {\n  dist = \"empirical\";\n  values = [];\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:3: svc.values: must list at least one value\n"},
        {"svc = {\n  dist = \"empirical\";\n  values = [\"1ms\",\n    \"-2ms\"];\n};\n", CONF_UNIT_SECONDS,
         "dist.cfg:4: svc.values.[1]: must be >= 0s, got \"-2ms\"\n"},
        {"svc = {\n  dist = \"empirical\";\n  values = [1.0, 2.0];\n  weights = [1.0];\n};\n", CONF_UNIT_NONE,
         "dist.cfg:4: svc.weights: must have one weight per value (2), got 1\n"},
        {"svc = {\n  dist = \"empirical\";\n  values = [1.0, 2.0];\n  weights = [0.0, 1.0];\n};\n",
         CONF_UNIT_NONE, "dist.cfg:4: svc.weights.[0]: must be > 0, got 0\n"},
        {"svc = {\n  dist = \"poisson\";\n  mean = 1.0;\n};\n", CONF_UNIT_NONE,
         "dist.cfg:2: svc.dist: must be one of \"exponential\", \"lognormal\", \"gamma\", \"weibull\", "
         "\"pareto\", \"uniform\", \"deterministic\", \"empirical\"; got \"poisson\"\n"},
        {"svc = {\n  dist = \"normal\";\n  mean = 1.0;\n};\n", CONF_UNIT_NONE,
         "dist.cfg:2: svc.dist: must be one of \"exponential\", \"lognormal\", \"gamma\", \"weibull\", "
         "\"pareto\", \"uniform\", \"deterministic\", \"empirical\"; got \"normal\"; "
         "did you mean \"lognormal\"?\n"},
        {"svc = {\n  dist = \"expnential\";\n  mean = 1.0;\n};\n", CONF_UNIT_NONE,
         "dist.cfg:2: svc.dist: must be one of \"exponential\", \"lognormal\", \"gamma\", \"weibull\", "
         "\"pareto\", \"uniform\", \"deterministic\", \"empirical\"; got \"expnential\"; "
         "did you mean \"exponential\"?\n"},
        {"svc = {\n  mean = 1.0;\n};\n", CONF_UNIT_NONE, "dist.cfg:1: svc.dist: missing required setting\n"},
        {"svc = 5;\n", CONF_UNIT_NONE, "dist.cfg:1: svc: expected a group { ... }, got an integer 5\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reset_diag(fx);
        bool ok = parse(fx, cases[i].text, cases[i].unit);
        if (ok || strcmp(diag_text(&fx->diag), cases[i].expected) != 0) {
            print_error("case %zu:\n%s\nparse returned %d, diagnostics:\n%s\nexpected:\n%s\n", i,
                        cases[i].text, ok, diag_text(&fx->diag), cases[i].expected);
            fail();
        }
        assert_int_equal(fx->d.kind, DIST_NONE);
        assert_true(conf_errors(fx->c) > 0);
    }
}

static void test_settings_of_another_kind_are_left_unread(void **state)
{
    struct fixture *fx = *state;
    assert_true(parse(fx, "svc = {\n  dist = \"exponential\";\n  mean = \"1s\";\n  cv = 1.0;\n};\n",
                      CONF_UNIT_SECONDS));
    assert_int_equal(conf_errors(fx->c), 0);
    assert_int_equal(conf_check_unused(fx->c), 1);
    assert_string_equal(diag_text(&fx->diag), "dist.cfg:4: svc.cv: unknown setting\n");
}

static void test_misspelled_parameter_is_missing_and_suggested(void **state)
{
    struct fixture *fx = *state;
    assert_false(parse(fx, "svc = {\n  dist = \"lognormal\";\n  mena = \"1s\";\n  cv = 1.0;\n};\n",
                       CONF_UNIT_SECONDS));
    assert_int_equal(conf_check_unused(fx->c), 1);
    assert_string_equal(diag_text(&fx->diag), "dist.cfg:1: svc.mean: missing required setting\n"
                                              "dist.cfg:3: svc.mena: unknown setting; did you mean \"mean\"?\n");
}

static void test_absent_optional_dist_keeps_the_default(void **state)
{
    struct fixture *fx = *state;
    fx->c = conf_load_string("other = 1;\n", "dist.cfg", fx->diag.f);
    assert_non_null(fx->c);
    fx->d = dist_exponential(0.5);
    assert_true(dist_get(fx->c, conf_root(fx->c), "svc", CONF_UNIT_SECONDS, false, &fx->d));
    assert_true(dist_get(fx->c, NULL, "svc", CONF_UNIT_SECONDS, true, &fx->d));
    assert_int_equal(fx->d.kind, DIST_EXPONENTIAL);
    assert_close(dist_mean(&fx->d), 0.5, 0);
    assert_false(dist_get(fx->c, conf_root(fx->c), "svc", CONF_UNIT_SECONDS, true, &fx->d));
    assert_string_equal(diag_text(&fx->diag), "dist.cfg:1: svc: missing required setting\n");
}

/* ---- Constructors, description, freeing ------------------------------------------------------- */

static void test_describe_names_kind_and_parameters(void **state)
{
    (void)state;
    char buf[128];
    struct dist d = dist_lognormal(0.02, 1);
    assert_int_equal(dist_describe(&d, buf, sizeof buf), (int)strlen("lognormal(mean=0.02, cv=1)"));
    assert_string_equal(buf, "lognormal(mean=0.02, cv=1)");
    d = dist_gamma(2, 0.5);
    dist_describe(&d, buf, sizeof buf);
    assert_string_equal(buf, "gamma(mean=2, cv=0.5)");
    d = dist_weibull(1.5, 3);
    dist_describe(&d, buf, sizeof buf);
    assert_string_equal(buf, "weibull(shape=1.5, scale=3)");
    d = dist_uniform(1, 2);
    dist_describe(&d, buf, sizeof buf);
    assert_string_equal(buf, "uniform(min=1, max=2)");
    d = dist_deterministic(4);
    dist_describe(&d, buf, sizeof buf);
    assert_string_equal(buf, "deterministic(value=4)");
    d = dist_exponential(0.1);
    dist_describe(&d, buf, sizeof buf);
    assert_string_equal(buf, "exponential(mean=0.1)");
    struct dist e = dist_empirical((const double[]){1, 3}, NULL, 2);
    dist_describe(&e, buf, sizeof buf);
    assert_string_equal(buf, "empirical(n=2, mean=2, cv=0.5)");
    dist_free(&e);
    struct dist none = {0};
    dist_describe(&none, buf, sizeof buf);
    assert_string_equal(buf, "none");
}

static void test_constructors_match_their_parsed_equivalents(void **state)
{
    struct fixture *fx = *state;
    parse_ok(fx, "svc = { dist = \"gamma\"; mean = 2.0; cv = 0.5; };\n", CONF_UNIT_NONE);
    struct dist built = dist_gamma(2, 0.5);
    assert_close(built.gamma.shape, fx->d.gamma.shape, 0);
    assert_close(built.gamma.scale, fx->d.gamma.scale, 0);
    struct dist lognormal = dist_lognormal(2, 0.5);
    assert_sample_mean_matches(&lognormal);
    struct dist weibull = dist_weibull(0.7, 1);
    assert_sample_mean_matches(&weibull);
}

static void test_free_is_safe_on_zeroed_and_twice_freed_dists(void **state)
{
    (void)state;
    struct dist zero = {0};
    dist_free(&zero);
    assert_int_equal(zero.kind, DIST_NONE);
    assert_true(isnan(dist_mean(&zero)));
    struct dist e = dist_empirical((const double[]){1, 2, 3}, (const double[]){1, 1, 2}, 3);
    assert_close(dist_mean(&e), 2.25, 1e-15);
    dist_free(&e);
    assert_int_equal(e.kind, DIST_NONE);
    assert_null(e.empirical.values);
    dist_free(&e);
    struct dist x = dist_exponential(1);
    dist_free(&x);
    assert_int_equal(x.kind, DIST_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exponential_parses_and_samples_its_mean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lognormal_parses_mean_and_cv_and_samples_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gamma_parses_mean_and_cv_and_samples_both, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weibull_samples_scale_times_gamma_of_one_plus_inverse_shape,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pareto_samples_its_mean_above_the_scale, setup, teardown),
        cmocka_unit_test(test_pareto_moments_become_infinite_for_small_shapes),
        cmocka_unit_test_setup_teardown(test_uniform_samples_between_min_and_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_always_returns_its_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empirical_without_weights_samples_values_equally, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empirical_weights_set_the_frequencies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quantities_are_read_in_the_callers_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unitless_text_and_bare_durations_are_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_invalid_parameter_is_reported_with_file_line_and_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_settings_of_another_kind_are_left_unread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misspelled_parameter_is_missing_and_suggested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_optional_dist_keeps_the_default, setup, teardown),
        cmocka_unit_test(test_describe_names_kind_and_parameters),
        cmocka_unit_test_setup_teardown(test_constructors_match_their_parsed_equivalents, setup, teardown),
        cmocka_unit_test(test_free_is_safe_on_zeroed_and_twice_freed_dists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
