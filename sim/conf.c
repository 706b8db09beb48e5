/* conf.c: typed getters over libconfig, unit parsing, and compiler-style diagnostics.
 *
 * Provides what conf.h promises: loading with clean errors, one getter per kind of value, quantities
 * with units, and the unknown-setting check with "did you mean" suggestions.
 *
 * Bookkeeping lives in libconfig's per-setting hook pointer, so nothing needs a lookup table:
 *   - a setting whose hook is NULL has never been read;
 *   - a setting a getter read has its hook set to the conf itself;
 *   - a group in which some getter asked for an absent name has its hook set to a `struct notes`
 *     listing those names, the candidates for "did you mean". Having been handed to a getter, such a
 *     group has been read too.
 * Notes are freed by walking the tree in conf_free (no destructor is registered with libconfig, so it
 * never touches the hooks itself).
 *
 * Leaves out: anything about what a setting means; models decide that and report with conf_error*.
 * Invariant: every diagnostic line is "FILE:LINE: PATH: message" and increments errors by one.
 * Scale: thousands of settings at most; lookups are libconfig's linear member scans, done once.
 */
#include "conf.h"
#include "sim.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct notes {
    char **absent; /* names asked for in this group but not present, each once */
    size_t n;
    size_t cap;
};

struct conf {
    config_t cfg;
    FILE *diag;        /* borrowed */
    char *name;        /* the main file's path, or the name given with the text */
    char *include_dir; /* the main file's directory, NULL for the working directory */
    int errors;        /* diagnostics reported so far */
    char **kept;       /* strings replaced by conf_set_from, freed with the conf (readers may hold them) */
    size_t n_kept;
};

/* One unit suffix: a value v written with it means v * scale / per seconds or bytes. Sub-second
 * units divide, so "20ms" gives the double nearest to 0.02, the same as writing 0.02 seconds. */
struct suffix {
    const char *text;
    double scale;
    double per;
};

static const struct suffix seconds_suffixes[] = {
    {"ns", 1, 1e9},   {"us", 1, 1e6},    {"ms", 1, 1e3},    {"s", 1, 1},      {"m", 60, 1},
    {"min", 60, 1},   {"h", 3600, 1},    {"d", 86400, 1},   {"w", 604800, 1}, {NULL, 0, 0},
};

static const struct suffix bytes_suffixes[] = {
    {"B", 1, 1},        {"KB", 1e3, 1},          {"kB", 1e3, 1},
    {"MB", 1e6, 1},     {"GB", 1e9, 1},          {"TB", 1e12, 1},
    {"KiB", 1024, 1},   {"MiB", 1048576, 1},     {"GiB", 1073741824, 1},
    {"TiB", 1099511627776.0, 1},                 {NULL, 0, 0},
};


/* ---- Reading and marking ---------------------------------------------------------------------- */

static bool is_read(const config_setting_t *s)
{
    return config_setting_get_hook(s) != NULL;
}

static void set_hook(const config_setting_t *s, void *hook)
{
    /* libconfig hands settings to readers as const but keeps hooks mutable by design. */
    config_setting_set_hook((config_setting_t *)s, hook);
}

static void mark_read(conf *c, const config_setting_t *s)
{
    if (!is_read(s))
        set_hook(s, c);
}

/* Marks s and everything inside it read: for a setting already reported as a whole. */
static void mark_subtree(conf *c, const config_setting_t *s)
{
    mark_read(c, s);
    if (config_setting_is_aggregate(s))
        for (int i = 0; i < config_setting_length(s); i++)
            mark_subtree(c, config_setting_get_elem(s, (unsigned int)i));
}

static struct notes *notes_of(const conf *c, const config_setting_t *group)
{
    void *hook = config_setting_get_hook(group);
    return hook == NULL || hook == (const void *)c ? NULL : hook;
}

static void note_absent(conf *c, const config_setting_t *group, const char *name)
{
    struct notes *notes = notes_of(c, group);
    if (notes == NULL) {
        notes = sim_xrealloc(NULL, sizeof *notes);
        *notes = (struct notes){NULL, 0, 0};
        set_hook(group, notes);
    }
    for (size_t i = 0; i < notes->n; i++)
        if (strcmp(notes->absent[i], name) == 0)
            return;
    if (notes->n == notes->cap) {
        notes->cap = notes->cap ? 2 * notes->cap : 8;
        notes->absent = sim_xrealloc(notes->absent, notes->cap * sizeof *notes->absent);
    }
    notes->absent[notes->n++] = sim_xstrdup(name);
}

/* The member `name` of group, marked read, or NULL (remembered as asked-for) when absent. */
static config_setting_t *member(conf *c, const config_setting_t *group, const char *name)
{
    config_setting_t *s = config_setting_get_member(group, name);
    if (s == NULL)
        note_absent(c, group, name);
    else
        mark_read(c, s);
    return s;
}

static void free_notes(conf *c, config_setting_t *s)
{
    if (!config_setting_is_aggregate(s))
        return;
    struct notes *notes = notes_of(c, s);
    if (notes != NULL) {
        for (size_t i = 0; i < notes->n; i++)
            free(notes->absent[i]);
        free(notes->absent);
        free(notes);
    }
    for (int i = 0; i < config_setting_length(s); i++)
        free_notes(c, config_setting_get_elem(s, (unsigned int)i));
}

/* ---- Paths and diagnostics -------------------------------------------------------------------- */

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
}

static void append_path(const config_setting_t *s, char *buf, size_t len, size_t *pos)
{
    const config_setting_t *parent = config_setting_parent(s);
    if (parent == NULL)
        return;
    append_path(parent, buf, len, pos);
    if (*pos > 0)
        append(buf, len, pos, ".");
    if (config_setting_name(s) != NULL)
        append(buf, len, pos, "%s", config_setting_name(s));
    else
        append(buf, len, pos, "[%d]", config_setting_index(s));
}

const char *conf_path(const config_setting_t *s, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    append_path(s, buf, len, &pos);
    return buf;
}

/* Prints the name of a file the configuration was read from as the user can open it: libconfig
 * names an included file by its @include text, which is relative to the include directory. */
static void print_file(const conf *c, const char *file)
{
    if (file == NULL)
        file = c->name;
    if (c->include_dir != NULL && file[0] != '/' && strcmp(file, c->name) != 0)
        fprintf(c->diag, "%s/", c->include_dir);
    fputs(file, c->diag);
}

static unsigned int line_of(const config_setting_t *s)
{
    /* The root group has no line of its own; its settings start at the top of the file. */
    unsigned int line = config_setting_source_line(s);
    return line > 0 ? line : 1;
}

/* Prints "FILE:LINE: PATH: message" for setting s, or for its member `name` when name is not NULL. */
static void vreport(conf *c, const config_setting_t *s, const char *name, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void vreport(conf *c, const config_setting_t *s, const char *name, const char *fmt, va_list ap)
{
    char path[512];
    size_t pos;
    conf_path(s, path, sizeof path);
    pos = strlen(path);
    if (name != NULL)
        append(path, sizeof path, &pos, "%s%s", pos > 0 ? "." : "", name);
    print_file(c, config_setting_source_file(s));
    fprintf(c->diag, ":%u: ", line_of(s));
    if (path[0] != '\0')
        fprintf(c->diag, "%s: ", path);
    vfprintf(c->diag, fmt, ap);
    fputc('\n', c->diag);
    c->errors++;
}

void conf_error(conf *c, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, s, NULL, fmt, ap);
    va_end(ap);
}

void conf_error_in(conf *c, const config_setting_t *group, const char *name, const char *fmt, ...)
{
    const config_setting_t *s = config_setting_get_member(group, name);
    va_list ap;
    va_start(ap, fmt);
    if (s != NULL) {
        mark_subtree(c, s); /* reported as wrong, so not also as unknown */
        vreport(c, s, NULL, fmt, ap);
    }
    else {
        vreport(c, group, name, fmt, ap);
    }
    va_end(ap);
}

FILE *conf_open_data(conf *c, const config_setting_t *group, const char *name, char *path, size_t len)
{
    const char *file = NULL;
    if (!conf_get_string(c, group, name, true, &file) || file == NULL) return NULL;
    if (file[0] == '/' || c->include_dir == NULL) snprintf(path, len, "%s", file);
    else snprintf(path, len, "%s/%s", c->include_dir, file);
    FILE *f = fopen(path, "r");
    if (f == NULL) conf_error_in(c, group, name, "cannot open %s: %s", path, strerror(errno));
    return f;
}

FILE *conf_open_data_elem(conf *c, const config_setting_t *list, unsigned i, char *path, size_t len)
{
    const char *file = NULL;
    if (!conf_elem_string(c, list, i, &file) || file == NULL) return NULL;
    if (file[0] == '/' || c->include_dir == NULL) snprintf(path, len, "%s", file);
    else snprintf(path, len, "%s/%s", c->include_dir, file);
    FILE *f = fopen(path, "r");
    if (f == NULL) conf_error(c, config_setting_get_elem(list, i), "cannot open %s: %s", path, strerror(errno));
    return f;
}

void conf_error_data(conf *c, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(c->diag, "%s:%u: ", file, line);
    vfprintf(c->diag, fmt, ap);
    fputc('\n', c->diag);
    va_end(ap);
    c->errors++;
}

/* The start of every getter: finds the member and returns true when there is a setting *s to read;
 * otherwise *ok is what the getter returns (false only for a missing required setting). */
static bool present(conf *c, const config_setting_t *group, const char *name, bool required,
                    config_setting_t **s, bool *ok)
{
    *s = NULL;
    *ok = true;
    if (group == NULL)
        return false;
    *s = member(c, group, name);
    if (*s != NULL)
        return true;
    if (required) {
        conf_error_in(c, group, name, "missing required setting");
        *ok = false;
    }
    return false;
}

static const char *type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an integer";
    case CONFIG_TYPE_FLOAT: return "a real number";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_BOOL: return "a boolean";
    case CONFIG_TYPE_ARRAY: return "an array";
    case CONFIG_TYPE_LIST: return "a list";
    default: return "an unknown type";
    }
}

/* The value of s as the user wrote it, to quote in a message ("\"-1ms\"", "2.5", "a group"). */
static const char *shown(const config_setting_t *s, char *buf, size_t len)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: snprintf(buf, len, "%lld", config_setting_get_int64(s)); break;
    case CONFIG_TYPE_FLOAT: snprintf(buf, len, "%g", config_setting_get_float(s)); break;
    case CONFIG_TYPE_STRING: snprintf(buf, len, "\"%s\"", config_setting_get_string(s)); break;
    case CONFIG_TYPE_BOOL: snprintf(buf, len, "%s", config_setting_get_bool(s) ? "true" : "false"); break;
    default: snprintf(buf, len, "%s", type_name(s)); break;
    }
    return buf;
}

static void report_type(conf *c, const config_setting_t *s, const char *expected)
{
    char value[128];
    if (config_setting_is_scalar(s)) {
        conf_error(c, s, "expected %s, got %s %s", expected, type_name(s), shown(s, value, sizeof value));
    } else {
        conf_error(c, s, "expected %s, got %s", expected, type_name(s));
        mark_subtree(c, s);
    }
}

/* ---- Edit distance for suggestions ------------------------------------------------------------ */

/* Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    /* Three rows of the dynamic-programming table: two back (for swaps), one back, and current. */
    size_t *rows = sim_xrealloc(NULL, 3 * (m + 1) * sizeof *rows);
    size_t *prev2 = rows, *prev = rows + (m + 1), *cur = rows + 2 * (m + 1);
    for (size_t j = 0; j <= m; j++)
        prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j - 1] + cost;
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
        size_t *oldest = prev2;
        prev2 = prev;
        prev = cur;
        cur = oldest;
    }
    size_t d = prev[m];
    free(rows);
    return d;
}

/* Is `candidate` a plausible misspelling target for `typed`? */
static bool close_enough(const char *typed, const char *candidate, size_t *distance)
{
    size_t longer = strlen(typed) > strlen(candidate) ? strlen(typed) : strlen(candidate);
    size_t limit = longer / 3 > 1 ? longer / 3 : 1;
    *distance = edit_distance(typed, candidate);
    return *distance <= limit;
}

/* The nearest of n candidates to typed within the limit, or NULL. */
static const char *nearest(const char *typed, const char *const *candidates, size_t n)
{
    const char *best = NULL;
    size_t best_distance = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d;
        if (close_enough(typed, candidates[i], &d) && (best == NULL || d < best_distance)) {
            best = candidates[i];
            best_distance = d;
        }
    }
    return best;
}

/* ---- Quantities ------------------------------------------------------------------------------- */

static const struct suffix *suffixes_of(enum conf_unit unit)
{
    return unit == CONF_UNIT_SECONDS ? seconds_suffixes : unit == CONF_UNIT_BYTES ? bytes_suffixes : NULL;
}

static const char *expected_text(enum conf_unit unit)
{
    switch (unit) {
    case CONF_UNIT_SECONDS: return "a duration like \"30s\"";
    case CONF_UNIT_BYTES: return "a size like \"512MB\"";
    case CONF_UNIT_USD: return "an amount like 12000 or \"$12000\"";
    case CONF_UNIT_NONE: break;
    }
    return "a number";
}

static void suffix_list(const struct suffix *t, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; t[i].text != NULL; i++)
        append(buf, len, &pos, "%s%s", i > 0 ? ", " : "", t[i].text);
}

const char *conf_format_quantity(double v, enum conf_unit unit, char *buf, size_t len)
{
    switch (unit) {
    case CONF_UNIT_SECONDS: snprintf(buf, len, "%gs", v); break;
    case CONF_UNIT_BYTES: snprintf(buf, len, "%gB", v); break;
    case CONF_UNIT_USD: snprintf(buf, len, "$%g", v); break;
    case CONF_UNIT_NONE: snprintf(buf, len, "%g", v); break;
    }
    return buf;
}

/* A decimal number at the start of text, in plain notation (no hex, inf or nan), and where it ends. */
static bool leading_number(const char *text, double *v, const char **end)
{
    *v = strtod(text, (char **)end);
    if (*end == text)
        return false;
    for (const char *p = text; p < *end; p++)
        if (strchr("0123456789.eE+-", *p) == NULL)
            return false;
    return true;
}

static void report_missing_unit(conf *c, const config_setting_t *s, enum conf_unit unit, double v)
{
    char units[128];
    const char *example[2] = {"s", "ms"};
    if (unit == CONF_UNIT_BYTES) {
        example[0] = "MB";
        example[1] = "MiB";
    }
    suffix_list(suffixes_of(unit), units, sizeof units);
    conf_error(c, s, "needs a unit, e.g. \"%g%s\" or \"%g%s\" (units: %s)", v, example[0], v,
               example[1], units);
}

/* Number followed by a unit suffix, optionally separated by spaces ("1.5s", "512 MB"). */
static bool parse_with_suffix(conf *c, const config_setting_t *s, enum conf_unit unit, double *out)
{
    const char *text = config_setting_get_string(s);
    const char *rest;
    double v;
    char units[128];
    if (!leading_number(text, &v, &rest)) {
        report_type(c, s, expected_text(unit));
        return false;
    }
    while (*rest == ' ')
        rest++;
    if (*rest == '\0') {
        report_missing_unit(c, s, unit, v);
        return false;
    }
    for (const struct suffix *t = suffixes_of(unit); t->text != NULL; t++) {
        if (strcmp(rest, t->text) == 0) {
            *out = v * t->scale / t->per;
            return true;
        }
    }
    suffix_list(suffixes_of(unit), units, sizeof units);
    conf_error(c, s, "unknown unit \"%s\" in \"%s\" (units: %s)", rest, text, units);
    return false;
}

static bool parse_money(conf *c, const config_setting_t *s, double *out)
{
    const char *text = config_setting_get_string(s);
    const char *number = text[0] == '$' ? text + 1 : text;
    const char *rest;
    double v;
    if (!leading_number(number, &v, &rest) || *rest != '\0') {
        report_type(c, s, expected_text(CONF_UNIT_USD));
        return false;
    }
    *out = v;
    return true;
}

bool conf_parse_quantity(const char *text, enum conf_unit unit, double *out, const char **why)
{
    const char *number = unit == CONF_UNIT_USD && text[0] == '$' ? text + 1 : text;
    const char *rest;
    double v;
    *why = expected_text(unit);
    if (!leading_number(number, &v, &rest) || !isfinite(v)) return false;
    while (unit != CONF_UNIT_USD && *rest == ' ') rest++;
    if (unit == CONF_UNIT_SECONDS || unit == CONF_UNIT_BYTES) {
        for (const struct suffix *t = suffixes_of(unit); t->text != NULL; t++)
            if (strcmp(rest, t->text) == 0) {
                *out = v * t->scale / t->per;
                return true;
            }
        return false;
    }
    if (*rest != '\0') return false;
    *out = v;
    return true;
}

/* The value of s converted to `unit`, with type and syntax errors reported; no range check. */
static bool quantity_value(conf *c, const config_setting_t *s, enum conf_unit unit, double *out)
{
    if (config_setting_is_number(s)) {
        double v = config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                              : (double)config_setting_get_int64(s);
        if (unit == CONF_UNIT_SECONDS || unit == CONF_UNIT_BYTES) {
            report_missing_unit(c, s, unit, v);
            return false;
        }
        *out = v;
        return true;
    }
    if (config_setting_type(s) == CONFIG_TYPE_STRING && unit != CONF_UNIT_NONE)
        return unit == CONF_UNIT_USD ? parse_money(c, s, out) : parse_with_suffix(c, s, unit, out);
    report_type(c, s, expected_text(unit));
    return false;
}

static bool in_range(double v, struct conf_range r)
{
    bool above_lo = r.lo_open ? v > r.lo : v >= r.lo;
    return above_lo && v <= r.hi;
}

static void range_text(struct conf_range r, enum conf_unit unit, char *buf, size_t len)
{
    char lo[64], hi[64];
    conf_format_quantity(r.lo, unit, lo, sizeof lo);
    conf_format_quantity(r.hi, unit, hi, sizeof hi);
    if (isinf(r.hi))
        snprintf(buf, len, "%s %s", r.lo_open ? ">" : ">=", lo);
    else if (isinf(r.lo))
        snprintf(buf, len, "<= %s", hi);
    else
        snprintf(buf, len, "in %c%s, %s]", r.lo_open ? '(' : '[', lo, hi);
}

static bool read_quantity(conf *c, const config_setting_t *s, enum conf_unit unit, struct conf_range range,
                          double *out)
{
    double v;
    char value[128], bounds[160];
    if (!quantity_value(c, s, unit, &v))
        return false;
    if (!isfinite(v)) {
        conf_error(c, s, "must be finite, got %s", shown(s, value, sizeof value));
        return false;
    }
    if (!in_range(v, range)) {
        range_text(range, unit, bounds, sizeof bounds);
        /* Quote text as written ("-1ms"); show a number in the unit of the bound. */
        if (config_setting_type(s) == CONFIG_TYPE_STRING)
            shown(s, value, sizeof value);
        else
            conf_format_quantity(v, unit, value, sizeof value);
        conf_error(c, s, "must be %s, got %s", bounds, value);
        return false;
    }
    *out = v;
    return true;
}

/* ---- Getters ---------------------------------------------------------------------------------- */

bool conf_get_int(conf *c, const config_setting_t *group, const char *name, bool required,
                  int64_t min, int64_t max, int64_t *out)
{
    config_setting_t *s;
    bool ok;
    if (!present(c, group, name, required, &s, &ok))
        return ok;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64) {
        report_type(c, s, "an integer");
        return false;
    }
    long long v = config_setting_get_int64(s);
    if (v < min || v > max) {
        if (max == INT64_MAX)
            conf_error(c, s, "must be >= %lld, got %lld", (long long)min, v);
        else if (min == INT64_MIN)
            conf_error(c, s, "must be <= %lld, got %lld", (long long)max, v);
        else
            conf_error(c, s, "must be in [%lld, %lld], got %lld", (long long)min, (long long)max, v);
        return false;
    }
    *out = v;
    return true;
}

bool conf_get_quantity(conf *c, const config_setting_t *group, const char *name, enum conf_unit unit,
                       bool required, struct conf_range range, double *out)
{
    config_setting_t *s;
    bool ok;
    if (!present(c, group, name, required, &s, &ok))
        return ok;
    return read_quantity(c, s, unit, range, out);
}

bool conf_get_double(conf *c, const config_setting_t *group, const char *name, bool required,
                     struct conf_range range, double *out)
{
    return conf_get_quantity(c, group, name, CONF_UNIT_NONE, required, range, out);
}

bool conf_get_duration(conf *c, const config_setting_t *group, const char *name, bool required,
                       struct conf_range range, double *out)
{
    return conf_get_quantity(c, group, name, CONF_UNIT_SECONDS, required, range, out);
}

bool conf_get_bytes(conf *c, const config_setting_t *group, const char *name, bool required,
                    struct conf_range range, double *out)
{
    return conf_get_quantity(c, group, name, CONF_UNIT_BYTES, required, range, out);
}

bool conf_get_money(conf *c, const config_setting_t *group, const char *name, bool required,
                    struct conf_range range, double *out)
{
    return conf_get_quantity(c, group, name, CONF_UNIT_USD, required, range, out);
}

bool conf_get_bool(conf *c, const config_setting_t *group, const char *name, bool required, bool *out)
{
    config_setting_t *s;
    bool ok;
    if (!present(c, group, name, required, &s, &ok))
        return ok;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
        report_type(c, s, "true or false");
        return false;
    }
    *out = config_setting_get_bool(s) != 0;
    return true;
}

bool conf_get_string(conf *c, const config_setting_t *group, const char *name, bool required,
                     const char **out)
{
    config_setting_t *s;
    bool ok;
    if (!present(c, group, name, required, &s, &ok))
        return ok;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        report_type(c, s, "a string");
        return false;
    }
    *out = config_setting_get_string(s);
    return true;
}

bool conf_get_choice(conf *c, const config_setting_t *group, const char *name, bool required,
                     const char *const *choices, int *out)
{
    const char *text = NULL;
    size_t n;
    if (!conf_get_string(c, group, name, required, &text))
        return false;
    if (text == NULL)
        return true;
    for (n = 0; choices[n] != NULL; n++) {
        if (strcmp(text, choices[n]) == 0) {
            *out = (int)n;
            return true;
        }
    }
    char list[512];
    size_t pos = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++)
        append(list, sizeof list, &pos, "%s\"%s\"", i > 0 ? ", " : "", choices[i]);
    const char *guess = nearest(text, choices, n);
    const config_setting_t *s = config_setting_get_member(group, name);
    if (guess != NULL)
        conf_error(c, s, "must be one of %s; got \"%s\"; did you mean \"%s\"?", list, text, guess);
    else
        conf_error(c, s, "must be one of %s; got \"%s\"", list, text);
    return false;
}

static config_setting_t *aggregate(conf *c, const config_setting_t *group, const char *name,
                                   bool required, bool want_group)
{
    config_setting_t *s;
    bool ok;
    if (!present(c, group, name, required, &s, &ok))
        return NULL;
    bool is_list = config_setting_is_list(s) || config_setting_is_array(s);
    if (want_group ? !config_setting_is_group(s) : !is_list) {
        report_type(c, s, want_group ? "a group { ... }" : "a list ( ... ) or an array [ ... ]");
        return NULL;
    }
    return s;
}

config_setting_t *conf_group(conf *c, const config_setting_t *group, const char *name, bool required)
{
    return aggregate(c, group, name, required, true);
}

config_setting_t *conf_list(conf *c, const config_setting_t *group, const char *name, bool required)
{
    return aggregate(c, group, name, required, false);
}

config_setting_t *conf_elem_group(conf *c, const config_setting_t *list, unsigned int i)
{
    config_setting_t *s = config_setting_get_elem(list, i);
    if (s == NULL)
        return NULL;
    if (!config_setting_is_group(s)) {
        report_type(c, s, "a group { ... }");
        return NULL;
    }
    mark_read(c, s);
    return s;
}

bool conf_elem_string(conf *c, const config_setting_t *list, unsigned int i, const char **out)
{
    config_setting_t *s = config_setting_get_elem(list, i);
    if (s == NULL)
        return false;
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        report_type(c, s, "a string");
        return false;
    }
    *out = config_setting_get_string(s);
    return true;
}

bool conf_elem_quantity(conf *c, const config_setting_t *list, unsigned int i, enum conf_unit unit,
                        struct conf_range range, double *out)
{
    config_setting_t *s = config_setting_get_elem(list, i);
    return s != NULL && read_quantity(c, s, unit, range, out);
}

/* ---- Unknown settings ------------------------------------------------------------------------- */

static int report_unread(conf *c, const config_setting_t *s)
{
    int found = 0;
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
        const char *name = config_setting_name(e);
        /* List elements have no name to misspell: they are used along with their list. */
        if (name != NULL && !is_read(e)) {
            const struct notes *notes = notes_of(c, s);
            const char *guess = notes ? nearest(name, (const char *const *)notes->absent, notes->n) : NULL;
            if (guess != NULL)
                conf_error(c, e, "unknown setting; did you mean \"%s\"?", guess);
            else
                conf_error(c, e, "unknown setting");
            found++;
        } else if (config_setting_is_aggregate(e)) {
            found += report_unread(c, e);
        }
    }
    return found;
}

int conf_check_unused(conf *c)
{
    return report_unread(c, conf_root(c));
}

/* ---- Loading ---------------------------------------------------------------------------------- */

static conf *create(const char *name, FILE *diag)
{
    conf *c = sim_xrealloc(NULL, sizeof *c);
    config_init(&c->cfg);
    c->diag = diag;
    c->name = sim_xstrdup(name);
    c->include_dir = NULL;
    c->errors = 0;
    c->kept = NULL;
    c->n_kept = 0;
    return c;
}

/* Reports a failed read or an empty file; returns c when the configuration is usable. */
static conf *finish_load(conf *c, bool read_ok)
{
    if (!read_ok) {
        const char *text = config_error_text(&c->cfg);
        if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO) {
            fprintf(c->diag, "%s: error: cannot read the file\n", c->name);
        } else {
            print_file(c, config_error_file(&c->cfg));
            fprintf(c->diag, ":%d: error: %s", config_error_line(&c->cfg), text);
            if (strcmp(text, "cannot open include file") == 0)
                fprintf(c->diag, " (include paths are relative to %s)",
                        c->include_dir ? c->include_dir : "the working directory");
            fputc('\n', c->diag);
        }
        conf_free(c);
        return NULL;
    }
    if (config_setting_length(conf_root(c)) == 0) {
        fprintf(c->diag, "%s:1: error: empty configuration\n", c->name);
        conf_free(c);
        return NULL;
    }
    return c;
}

/* libconfig 1.5 lets flex read an @include that names a folder, and flex then exits with "input in
 * flex scanner failed" and no line; and it looks for an absolute path under the study's folder. Find
 * such includes in the study file first. False after reporting one. (Includes inside included files
 * are the catalog's; it has none.) */
static bool includes_are_files(const char *path, const char *dir, FILE *diag)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) return true;
    char line[4096];
    unsigned n = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        n++;
        const char *s = line + strspn(line, " \t");
        if (strncmp(s, "@include", 8) != 0) continue;
        s += 8 + strspn(s + 8, " \t");
        const char *end = *s == '"' ? strchr(s + 1, '"') : NULL;
        if (end == NULL) continue; /* libconfig reports the syntax */
        if (s[1] == '/') { /* libconfig 1.5 would look for it under dir */
            fprintf(diag, "%s:%u: error: @include \"%.*s\": give the path relative to this file's folder (%s)\n", path,
                    n, (int)(end - s - 1), s + 1, dir);
            ok = false;
            continue;
        }
        char target[4096];
        snprintf(target, sizeof target, "%s/%.*s", dir, (int)(end - s - 1), s + 1);
        struct stat st;
        if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
            fprintf(diag, "%s:%u: error: @include \"%.*s\": not a file\n", path, n, (int)(end - s - 1), s + 1);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}

conf *conf_load(const char *path, FILE *diag)
{
    /* libconfig reports only "file I/O error"; opening the file first gets the reason. */
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(diag, "%s: error: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    fclose(f);
    conf *c = create(path, diag);
    const char *slash = strrchr(path, '/'); /* includes are relative to the study file's folder */
    if (slash != NULL) {
        size_t n = (size_t)(slash - path);
        c->include_dir = sim_xstrdup(path);
        c->include_dir[n > 0 ? n : 1] = '\0';
    }
    /* set even for the working directory, so that an absolute include fails alike (and is reported) */
    config_set_include_dir(&c->cfg, c->include_dir ? c->include_dir : ".");
    if (!includes_are_files(path, c->include_dir ? c->include_dir : ".", diag)) {
        conf_free(c);
        return NULL;
    }
    return finish_load(c, config_read_file(&c->cfg, path) == CONFIG_TRUE);
}

conf *conf_load_string(const char *text, const char *name, FILE *diag)
{
    conf *c = create(name, diag);
    return finish_load(c, config_read_string(&c->cfg, text) == CONFIG_TRUE);
}

void conf_free(conf *c)
{
    if (c == NULL)
        return;
    free_notes(c, conf_root(c));
    config_destroy(&c->cfg);
    for (size_t i = 0; i < c->n_kept; i++)
        free(c->kept[i]);
    free(c->kept);
    free(c->name);
    free(c->include_dir);
    free(c);
}

config_setting_t *conf_root(const conf *c)
{
    return config_root_setting(&c->cfg);
}

const char *conf_file_name(const conf *c)
{
    return c->name;
}

int conf_errors(const conf *c)
{
    return c->errors;
}

const char *conf_nearest(const char *typed, const char *const *candidates, size_t n)
{
    return nearest(typed, candidates, n);
}

bool conf_set_from(conf *c, config_setting_t *s, const config_setting_t *values, unsigned i)
{
    const config_setting_t *v = config_setting_get_elem(values, i);
    int to = config_setting_type(s), from = v ? config_setting_type(v) : CONFIG_TYPE_NONE;
    bool number = from == CONFIG_TYPE_INT || from == CONFIG_TYPE_INT64 || from == CONFIG_TYPE_FLOAT;
    bool ok = false;
    switch (to) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        if (from == CONFIG_TYPE_INT || from == CONFIG_TYPE_INT64) {
            long long x = config_setting_get_int64(v);
            ok = to == CONFIG_TYPE_INT64 ? config_setting_set_int64(s, x) == CONFIG_TRUE
                                         : x >= INT_MIN && x <= INT_MAX && config_setting_set_int(s, (int)x) == CONFIG_TRUE;
        }
        break;
    case CONFIG_TYPE_FLOAT:
        if (number)
            ok = config_setting_set_float(s, from == CONFIG_TYPE_FLOAT ? config_setting_get_float(v)
                                                                      : (double)config_setting_get_int64(v)) == CONFIG_TRUE;
        break;
    case CONFIG_TYPE_BOOL:
        if (from == CONFIG_TYPE_BOOL)
            ok = config_setting_set_bool(s, config_setting_get_bool(v)) == CONFIG_TRUE;
        break;
    case CONFIG_TYPE_STRING:
        if (from == CONFIG_TYPE_STRING) { /* keep the old text alive: a reader may point into it */
            c->kept = sim_xrealloc(c->kept, (c->n_kept + 1) * sizeof *c->kept);
            c->kept[c->n_kept++] = s->value.sval;
            s->value.sval = NULL;
            ok = config_setting_set_string(s, config_setting_get_string(v)) == CONFIG_TRUE;
        }
        break;
    default:
        break;
    }
    if (!ok) {
        static const char *const kinds[] = {"none", "a group", "an integer", "an integer", "a number", "a string",
                                            "a boolean", "an array", "a list"};
        conf_error(c, v ? v : values, "cannot set %s (%s) to this value", s->name ? s->name : "the setting",
                   to >= 0 && to <= 8 ? kinds[to] : "of another type");
    }
    return ok;
}

bool conf_set_number(conf *c, config_setting_t *s, double x, const config_setting_t *where)
{
    int t = config_setting_type(s);
    bool whole = !(fabs(x - floor(x)) > 0) && fabs(x) < 9e15;
    bool ok = (t == CONFIG_TYPE_FLOAT && config_setting_set_float(s, x) == CONFIG_TRUE) ||
              (t == CONFIG_TYPE_INT && whole && x >= INT_MIN && x <= INT_MAX && config_setting_set_int(s, (int)x) == CONFIG_TRUE) ||
              (t == CONFIG_TYPE_INT64 && whole && config_setting_set_int64(s, (long long)x) == CONFIG_TRUE);
    if (!ok) conf_error(c, where, "cannot set %s to %g: it is %s", s->name ? s->name : "the setting", x,
                        t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 ? "an integer" : "not a number");
    return ok;
}
