/* trace.h: request counts of a real service, read from a trace file as the simulation advances.
 *
 * Models the counts-per-interval traces of shared/data/traces/: a CSV with a time column and a count
 * column (the World Cup 1998 per-minute file: "period,count" with "YYYY-MM-DD HH:MM:SS" UTC times, or
 * times in seconds), where missing intervals read as zero; or a bare sequence of counts separated by
 * blanks, one per interval from the start (the NASA 1995 per-second file). The trace is shaped before
 * the workload turns counts into arrivals (workload.h): a start offset and a window in trace time,
 * time compression (trace seconds per simulated second), rate scaling, looping over the window.
 *
 * Reading streams: one interval at a time from an open file, never the whole trace in memory. The
 * configuration is checked by reading the trace once when it is parsed, which also gives what
 * `strato check` prints: the span, mean and peak rate after shaping.
 *
 * A third layout gives one row per request: a CSV with a time column (seconds, or date-times with a
 * fraction of a second, as in the Azure LLM inference trace) and optionally per-request numbers
 * (context and generated tokens) that the workload turns into CPU demand; requests replay at their
 * own times (shaped), and their times must not go backwards. Several such files (the Azure LLM
 * trace's code and conversation services) are merged by time, each read ahead by one row.
 *
 * A fourth layout is the Azure Functions 2019 trace (Shahrad et al.): daily CSV files with one row
 * per function, HashOwner,HashApp,HashFunction,Trigger then 1440 per-minute invocation counts; a
 * function absent on a day counts zero that day. The chosen functions (all, the top N by volume over
 * the files, or named HashFunction values) are replayed per minute, one day in memory at a time.
 *
 * Classes: a trace may tell request classes apart, as streams. An Azure trace with a `classes` list
 * gives its chosen functions, in order (by volume, or as named), to those classes one by one, the
 * functions beyond the list to its last class; a timestamps trace with a `class_column` names each
 * request's class (from the rows in the window only), or its files give one class each. Each
 * stream's counts come out separately; the workload maps names to classes.
 *
 * Time of day: with `time_zone` set, the replay keeps the trace's local time of day (its times plus
 * the zone): simulated time 0 is the local midnight before the window's start, which then comes after
 * a quiet lead-in, so cron schedules and scheduled scaling line up with the trace's daily cycle.
 * Without it, simulated time 0 is the window's start.
 *
 * Leaves out: daylight-saving changes inside a trace (the zone is one fixed shift).
 * Invariant: intervals come out in order, one per `interval` of trace time, gaps as zeros.
 * Scale: traces of any length; O(1) memory (an Azure day is 1440 minutes per stream).
 */
#ifndef TRACE_H
#define TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

enum trace_format { TRACE_COUNTS_CSV, TRACE_COUNTS, TRACE_TIMESTAMPS_CSV, TRACE_AZURE_FUNCTIONS };

#define TRACE_MAX_STREAMS 32 /* request classes a trace can tell apart */
#define TRACE_MAX_VALUES 4   /* numbers per request a timestamps trace can carry */

/* An Azure function replayed: its HashFunction and the stream (class) its invocations go to. */
struct trace_pick {
    char *hash;      /* owned */
    unsigned stream;
};

struct trace_params {
    char *path;                /* the file, resolved against the study file's directory (owned) */
    enum trace_format format;
    const char *time_column;   /* CSV: names in the header (borrowed) */
    const char *count_column;
    unsigned n_values;         /* timestamps: per-request numbers (e.g. tokens) for the demand, 0 none */
    const char *value_column[TRACE_MAX_VALUES]; /* their columns (borrowed) */
    const char *class_column;  /* timestamps: a column naming each request's class; NULL none */
    unsigned n_files;          /* azure_functions: the daily files in order; timestamps_csv: the files merged
                                  by time (0: `file` alone) (owned paths) */
    char **files;
    unsigned n_pick;           /* azure_functions: the functions replayed, sorted by hash */
    struct trace_pick *pick;
    bool pick_rest;            /* azure_functions: every other function too, into the last stream */
    unsigned n_streams;        /* classes the trace tells apart, >= 1 */
    char *stream_class[TRACE_MAX_STREAMS]; /* their class names (owned), NULL when the trace names none */
    unsigned stream_line[TRACE_MAX_STREAMS]; /* class_column: the line where each name was first seen */
    double stream_requests[TRACE_MAX_STREAMS]; /* requests of each stream in the window, unscaled */
    double start;              /* counts: trace time of the first count (s, as the CSV layouts give it) */
    bool aligned;              /* time_zone set: the replay keeps the trace's local time of day */
    double time_zone;          /* s added to the trace's times to give the local clock */
    double lead_s;             /* aligned: simulated s from local midnight to the window's start; else 0 */
    double local_s;            /* aligned: the window's start in local time of day, s in [0, 86400) */
    double interval;           /* s of trace time per count, > 0 */
    double offset;             /* s of trace time skipped at its start, >= 0 */
    double window;             /* s of trace time used from the offset; 0 = to the end */
    double compress;           /* trace seconds replayed per simulated second, > 0 */
    double scale;              /* multiplies every count, > 0 (from `scale`, `mean_rps` or `peak_rps`) */
    bool loop;                 /* start the window again when it ends */
    /* the shaped trace, measured when it was parsed (simulated time) */
    uint64_t intervals;        /* in the window */
    double span_s, mean_rps, peak_rps; /* span from the window's start (the lead-in not counted) */
    double first_s;            /* trace time of the window's start, s (date-times as Unix time) */
};

/* Reads a `trace` group (and the trace itself, once, to check it). Returns false after reporting
 * mistakes, those in the file with its name and line. */
bool trace_parse(conf *c, const config_setting_t *g, struct trace_params *p);
void trace_params_free(struct trace_params *p);

/* Prints what `strato check` shows of the shaped trace: its size, span (against the horizon, in
 * simulated seconds), mean and peak rate; the local clock when aligned; the classes' shares. */
void trace_describe(const struct trace_params *p, double horizon_s, FILE *f);

struct trace_reader;

/* Opens the trace for replay (it was checked by trace_parse). NULL if it cannot be opened any more. */
struct trace_reader *trace_open(const struct trace_params *p);
/* The next interval's counts in the window, unscaled, one per stream (count[0 .. n_streams-1]); false
 * when the window is over (never with loop). Count layouts only. */
bool trace_next(struct trace_reader *r, double *count);
/* Timestamps layout: the next request's time in simulated seconds from the window's start (offset
 * removed, compressed, later passes of a loop shifted by the window; the lead-in not added), its
 * values (value[0 .. n_values-1]) and its stream; false when the window is over (never with loop). */
bool trace_next_request(struct trace_reader *r, double *t, double *value, unsigned *stream);
void trace_close(struct trace_reader *r);

#endif
