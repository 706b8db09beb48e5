/* conf.h: typed configuration getters over libconfig, with compiler-style diagnostics.
 *
 * A study is one libconfig file (plus the catalogs it pulls in with @include). Models read their
 * settings through these getters, which check type, unit and range, and report every mistake as
 *     FILE:LINE: SETTING.PATH: message
 * naming the file the setting came from (an included catalog names itself), the line, and a path of
 * dotted names with [i] for list elements, e.g. "designs.[1].asg.max". Diagnostics go to the stream
 * given at load and are counted; a model keeps reading after an error so that one run reports all of
 * them, and the caller checks conf_errors() at the end.
 *
 * Quantities carry units in strings: durations ("250ms", "1.5s", "7d") become double seconds, sizes
 * ("512MB" is SI, "1GiB" is IEC) become double bytes, money (12000 or "$0.0225") becomes double USD.
 * A bare number where a duration or a size is expected is an error: the unit is never guessed.
 *
 * Unknown settings cannot slip through: every getter marks the setting it reads, and remembers the
 * names it asked for that were absent. conf_check_unused() then reports every setting nobody read as
 * "unknown setting", suggesting an asked-for name of the same group when one is a small edit away (a
 * Damerau-Levenshtein distance of at most max(1, n/3), n being the longer name's length).
 *
 * @include paths are relative to the main file's directory, also in nested includes (libconfig 1.5
 * resolves every include against one directory), and diagnostics name included files by that path.
 *
 * Leaves out: writing configs, defaults files, environment overrides, warnings. libconfig 1.5 silently
 * truncates integers beyond 32 bits unless written with an L suffix (9999999999L); nothing after the
 * parse can tell.
 * Invariant: a getter either stores a valid value, leaves *out untouched (absent optional setting), or
 * prints exactly one diagnostic and counts it. Numbers in strings are read with strtod, so LC_NUMERIC
 * must be "C" (the default). One conf is used by one thread; there is no global state.
 * Scale: a study of hundreds to a few thousand settings, read once per run; nothing here is hot.
 */
#ifndef CONF_H
#define CONF_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

typedef struct conf conf;

/* The unit a quantity is expressed in, and the suffixes accepted in its strings. */
enum conf_unit {
    CONF_UNIT_NONE,    /* a plain number */
    CONF_UNIT_SECONDS, /* "ns" "us" "ms" "s" "m" "min" "h" "d" "w"; a bare number is an error */
    CONF_UNIT_BYTES,   /* "B" "KB"/"kB" "MB" "GB" "TB" (x1000), "KiB" "MiB" "GiB" "TiB" (x1024) */
    CONF_UNIT_USD,     /* a number, or a string with an optional "$": "$12000", "$0.0225" */
};

/* The allowed values of a real setting: [lo, hi], or (lo, hi] when lo_open. Build one with the
 * macros below; the bounds are in the setting's unit (seconds, bytes, USD). */
struct conf_range {
    double lo;    /* lower bound, -INFINITY for none */
    double hi;    /* upper bound (inclusive), INFINITY for none */
    bool lo_open; /* true: the value must be strictly greater than lo */
};
#define CONF_ANY ((struct conf_range){-INFINITY, INFINITY, false})
#define CONF_AT_LEAST(lo) ((struct conf_range){(lo), INFINITY, false})
#define CONF_ABOVE(lo) ((struct conf_range){(lo), INFINITY, true})
#define CONF_IN(lo, hi) ((struct conf_range){(lo), (hi), false})

/* Parse the file at `path` (@include paths are relative to its directory). On an I/O or syntax error,
 * an empty file, or a missing include, prints "FILE:LINE: error: ..." to diag and returns NULL.
 * diag is borrowed and must outlive the conf. Free the result with conf_free. */
conf *conf_load(const char *path, FILE *diag);

/* As conf_load, from text in memory; `name` stands for the file name in diagnostics. Includes are
 * relative to the working directory. */
conf *conf_load_string(const char *text, const char *name, FILE *diag);

/* Release the conf and every string a getter returned from it. NULL is a no-op. */
void conf_free(conf *c);

/* The top-level group: the `group` argument for reading top-level settings. Owned by c. */
config_setting_t *conf_root(const conf *c);

/* The path given to conf_load or the name given to conf_load_string. Owned by c. */
const char *conf_file_name(const conf *c);

/* The number of diagnostics reported so far (getters, conf_error*, conf_check_unused). */
int conf_errors(const conf *c);

/* Every getter reads the member `name` of `group`. An absent optional setting leaves *out untouched
 * (preset it to the default) and returns true; an absent required one is reported at the group's
 * line. A NULL group (an absent optional group, or one already reported) reads nothing and returns
 * true. A present setting of the wrong type or out of range is reported, leaves *out untouched and
 * returns false. A setting that is present is marked used even when it is wrong. */

/* An integer (libconfig int or int64) within [min, max]. A real number is a type error. */
bool conf_get_int(conf *c, const config_setting_t *group, const char *name, bool required,
                  int64_t min, int64_t max, int64_t *out);

/* A finite real number within range; integers are accepted. Same as CONF_UNIT_NONE quantity. */
bool conf_get_double(conf *c, const config_setting_t *group, const char *name, bool required,
                     struct conf_range range, double *out);

/* true or false. */
bool conf_get_bool(conf *c, const config_setting_t *group, const char *name, bool required, bool *out);

/* Any string. *out points into the conf and lives until conf_free. */
bool conf_get_string(conf *c, const config_setting_t *group, const char *name, bool required,
                     const char **out);

/* A string that must be one of `choices` (NULL-terminated); *out is its index in choices. The
 * diagnostic lists the valid choices and suggests the nearest one. */
bool conf_get_choice(conf *c, const config_setting_t *group, const char *name, bool required,
                     const char *const *choices, int *out);

/* A finite quantity in `unit` (see enum conf_unit), converted to seconds, bytes or USD, within range. */
bool conf_get_quantity(conf *c, const config_setting_t *group, const char *name, enum conf_unit unit,
                       bool required, struct conf_range range, double *out);

/* Shorthands for conf_get_quantity with CONF_UNIT_SECONDS, CONF_UNIT_BYTES and CONF_UNIT_USD. */
bool conf_get_duration(conf *c, const config_setting_t *group, const char *name, bool required,
                       struct conf_range range, double *out);
bool conf_get_bytes(conf *c, const config_setting_t *group, const char *name, bool required,
                    struct conf_range range, double *out);
bool conf_get_money(conf *c, const config_setting_t *group, const char *name, bool required,
                    struct conf_range range, double *out);

/* The member group `name`, marked used (its members must still be read), or NULL when absent or not
 * a group; a wrong type is always reported, absence only when required. Owned by c. */
config_setting_t *conf_group(conf *c, const config_setting_t *group, const char *name, bool required);

/* As conf_group for a libconfig list ( ... ) or array [ ... ]. Its elements count as used along
 * with it; read them with config_setting_length and the conf_elem_* getters. */
config_setting_t *conf_list(conf *c, const config_setting_t *group, const char *name, bool required);

/* Element i of a list, which must be a group (owned by c); NULL with a diagnostic otherwise. An i
 * past the end (a caller bug; loop to config_setting_length) gives NULL or false with no diagnostic,
 * here and in the conf_elem_* getters below. */
config_setting_t *conf_elem_group(conf *c, const config_setting_t *list, unsigned int i);

/* Element i of a list or array as a string (owned by c) or as a quantity in `unit` within range;
 * false with a diagnostic on a wrong type or value, leaving *out untouched. */
bool conf_elem_string(conf *c, const config_setting_t *list, unsigned int i, const char **out);
bool conf_elem_quantity(conf *c, const config_setting_t *list, unsigned int i, enum conf_unit unit,
                        struct conf_range range, double *out);

/* Write v in unit the way messages show it ("0.02s", "512B", "$12", "3") to buf (len > 0), truncated
 * and terminated. Returns buf. */
const char *conf_format_quantity(double v, enum conf_unit unit, char *buf, size_t len);

/* Parses text such as "90s", "512MB" or "$0.02" (a command-line value) as a quantity in `unit`.
 * Returns false, with *why set to a static description of what was expected, on anything else. */
bool conf_parse_quantity(const char *text, enum conf_unit unit, double *out, const char **why);

/* Report a mistake the caller found in setting s (e.g. max < min) at s's file and line, and count
 * it. fmt is printf-like; no trailing newline. */
void conf_error(conf *c, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As conf_error, about the member `name` of group: at the member when present (which then counts as
 * read, so that a setting which does not apply is not also reported as unknown), otherwise at the
 * group's line with the path group.name (e.g. a missing setting that another one makes necessary). */
void conf_error_in(conf *c, const config_setting_t *group, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Opens the data file (a trace, a price series) named by the string setting `name` of group, for
 * reading; a relative name is relative to the study file's directory. The path used is written to
 * path[len]. NULL, with a diagnostic at the setting, when it is absent or cannot be opened. */
FILE *conf_open_data(conf *c, const config_setting_t *group, const char *name, char *path, size_t len);

/* As conf_open_data for element i of a list or array of file names. */
FILE *conf_open_data_elem(conf *c, const config_setting_t *list, unsigned i, char *path, size_t len);

/* Reports a mistake at line `line` of a data file: "FILE:LINE: message", counted like the others. */
void conf_error_data(conf *c, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The nearest of n candidate names to typed (a "did you mean" suggestion), or NULL when none is close. */
const char *conf_nearest(const char *typed, const char *const *candidates, size_t n);

/* Sets the scalar setting s (integer, number, boolean or string) to element i of the list or array
 * `values`, which must have s's type (an integer is accepted for a number), so that a parameter sweep can
 * read the same settings again with other values. A string replaced stays valid until conf_free (what
 * was read before may point into it). False with a diagnostic at the value when the types differ. */
bool conf_set_from(conf *c, config_setting_t *s, const config_setting_t *values, unsigned i);

/* Sets the integer or number setting s to x (an integer setting only to a whole x); false with a
 * diagnostic at `where` otherwise. */
bool conf_set_number(conf *c, config_setting_t *s, double x, const config_setting_t *where);

/* Report every setting no getter has read as "unknown setting", with a "did you mean" suggestion
 * when a name asked for in the same group is close. Call once, after all models have read their
 * settings. Returns the number reported (also added to conf_errors). */
int conf_check_unused(conf *c);

/* Write the path of s ("designs.[1].asg.max"; "" for the root) to buf, truncated to len - 1
 * characters and always terminated (len > 0). Returns buf, for use in a printf argument list. */
const char *conf_path(const config_setting_t *s, char *buf, size_t len);

#endif
