/* h5out.h: the HDF5 writer every part of strato uses to produce a study's results file.
 *
 * A study writes one HDF5 file (layout in DESIGN section 6). h5out gives it four things: groups created
 * with their parents, typed attributes on any object, append-only tables (extendible, chunked,
 * shuffled and deflated 1-D datasets of a compound type described by a column list), and an atomic
 * finish. The file is written under a temporary name in the target's directory and renamed onto the
 * final name only by a successful h5out_finish, so a crash, a failed write or h5out_abort never leaves
 * anything under the final name that looks finished.
 *
 * Left out: reading (use the HDF5 C API or h5py), nested or array columns, multidimensional datasets,
 * thread safety (use one handle from one thread at a time), and the layout itself, which belongs to the
 * caller. The one layout fact h5out owns is the root attribute format = "strato-results" (written by
 * h5out_create), because h5out_check_target uses it to tell our files from ones it must not replace.
 *
 * Invariant: a handle's first failure is sticky. It is recorded (h5out_error), later calls return the
 * same status without touching the file, and h5out_finish then discards the temporary file and reports
 * it, so a file under the final name is one in which every write succeeded.
 *
 * Scale: one handle per study; tables of up to millions of rows appended a row at a time, buffered in
 * memory one chunk at a time, so each append costs a memcpy and one HDF5 write per chunk_rows rows.
 */
#ifndef H5OUT_H
#define H5OUT_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value of the root attribute "format" in every file h5out creates. */
#define H5OUT_FORMAT "strato-results"

/* Return codes: 0 is success; every failure is negative and comes with a one-line message. */
enum h5out_status {
    H5OUT_OK = 0,
    H5OUT_EENV = -1,     /* file system or HDF5 failure: an environment error (exit 1) */
    H5OUT_EARG = -2,     /* the caller passed something invalid (a bug or a bad enum value) */
    H5OUT_ECLOBBER = -3, /* the target exists and is not a strato results file (bad usage, exit 2) */
};

/* Column types. In the caller's row struct: F64 double, I64 int64_t, U64 uint64_t, U32 uint32_t,
 * U8 uint8_t, STR const char * (written as a variable-length UTF-8 string; NULL is written as ""),
 * ENUM int32_t holding an index into enum_names (written as an HDF5 enum type with those names). */
enum h5out_type { H5OUT_F64, H5OUT_I64, H5OUT_U64, H5OUT_U32, H5OUT_U8, H5OUT_STR, H5OUT_ENUM };

/* One column of a table: where its field sits in the caller's row struct and how it is written. */
struct h5out_col {
    const char *name;              /* column name, with its unit: "latency_p99_s" */
    enum h5out_type type;
    size_t offset;                 /* bytes, offsetof(row struct, field) */
    const char *const *enum_names; /* ENUM only: value i is named enum_names[i]; else NULL */
    size_t n_enum;                 /* ENUM only: number of names, >= 1; else 0 */
};

struct h5out;       /* one results file being written */
struct h5out_table; /* one append-only table in it */

/* Refuses-to-clobber check for final_path, made before a study runs. Returns 0 if final_path does
 * not exist, or is an HDF5 file whose root attribute "format" is H5OUT_FORMAT (it may be replaced);
 * H5OUT_ECLOBBER if it exists and is anything else; H5OUT_EENV if its directory is missing, not a
 * directory or not writable. On failure writes a one-line message into err[errlen]. */
int h5out_check_target(const char *final_path, char *err, size_t errlen);

/* Starts a results file that will appear at final_path when finished: checks the target as
 * h5out_check_target does, creates final_path + ".tmp.<pid>" and writes the root attributes
 * format = H5OUT_FORMAT and complete = false (set for real by h5out_finish).
 * Returns a handle the caller ends with h5out_finish or h5out_abort, or NULL with a one-line message
 * in err[errlen]. The path is copied. */
struct h5out *h5out_create(const char *final_path, char *err, size_t errlen);

/* Ends the file: writes the root attribute complete (bool), flushes and closes every open table and
 * group and the file (with any ids the caller opened in it), syncs it to disk and renames it to the
 * final path. Returns 0, or a negative status with a message in err[errlen]; on failure nothing is
 * renamed and the temporary file is removed, except when the target became a foreign file during the
 * run (H5OUT_ECLOBBER): then the results are kept under the temporary name the message gives.
 * Frees o and its tables. complete = false marks a valid but partial study (an interrupted run). */
int h5out_finish(struct h5out *o, bool complete, char *err, size_t errlen);

/* Discards the file: closes everything, removes the temporary file and frees o and its tables.
 * Nothing appears under the final name. o may be NULL. */
void h5out_abort(struct h5out *o);

/* The handle's first failure as a one-line message, or "" if there has been none. Owned by o. */
const char *h5out_error(const struct h5out *o);

/* The root group. Owned by o (closed at finish); do not close it. */
hid_t h5out_root(const struct h5out *o);

/* Opens the group at path ("/designs/onprem/runs/0", absolute or relative to the root), creating it
 * and any missing parents. Returns an id owned by o (closed at finish), or H5I_INVALID_HID with the
 * failure recorded in h5out_error. */
hid_t h5out_group(struct h5out *o, const char *path);

/* Attributes on any object of this file (the root, a group or h5out_table_id): scalar string
 * (variable-length UTF-8), double, int64, bool (an HDF5 enum FALSE/TRUE on int8, which h5py reads as
 * numpy bool) and a 1-D double array of n values (n may be 0). An existing attribute of that name is
 * replaced. Strings and arrays are copied; a NULL string is written as "". Return 0 or a negative
 * status recorded in h5out_error. */
int h5out_attr_str(struct h5out *o, hid_t obj, const char *name, const char *value);
int h5out_attr_f64(struct h5out *o, hid_t obj, const char *name, double value);
int h5out_attr_i64(struct h5out *o, hid_t obj, const char *name, int64_t value);
int h5out_attr_bool(struct h5out *o, hid_t obj, const char *name, bool value);
int h5out_attr_f64_array(struct h5out *o, hid_t obj, const char *name, const double *values,
                         size_t n);

/* Creates an empty table name under loc (a group id of this file; name may contain '/', missing
 * groups are created) whose rows are structs of row_size bytes laid out as cols describes. Rows are
 * stored chunk_rows (>= 1) per chunk and buffered that many at a time. cols and enum_names are
 * borrowed only during the call. Returns a table owned by o (closed at finish if still open), or
 * NULL with the failure recorded in h5out_error. */
struct h5out_table *h5out_table_create(struct h5out *o, hid_t loc, const char *name,
                                       const struct h5out_col *cols, size_t n_cols,
                                       size_t row_size, size_t chunk_rows);

/* Appends n rows (an array of row structs) to t. String fields are copied during the call, so the
 * caller's strings are borrowed only until it returns. Writes to the file each time chunk_rows rows
 * are buffered. An ENUM field outside [0, n_enum) rejects the whole call with H5OUT_EARG. Returns 0
 * or a negative status recorded in h5out_error. */
int h5out_table_append(struct h5out_table *t, const void *rows, size_t n);

/* The table's dataset, for attributes (units, descriptions). Owned by the table; valid until the
 * table is closed. */
hid_t h5out_table_id(const struct h5out_table *t);

/* Writes the buffered rows, closes the dataset and frees t. Returns 0 or a negative status
 * (recorded in h5out_error of the table's file); t is freed either way. */
int h5out_table_close(struct h5out_table *t);

/* Copies the group at `path` of the finished results file src (written by another process, e.g. one
 * unit of a parallel study) into o at the same path, with everything under it; missing parents are
 * created. With attr not NULL, the group's 1-D double attribute attr (n values) is read into values
 * and left out of the copy. Returns 0 or a negative status recorded in h5out_error. */
int h5out_copy_group(struct h5out *o, const char *src, const char *path, const char *attr, double *values,
                     size_t n);

/* Reads the string attribute `name` of the root of the HDF5 file src into buf[len] (truncated).
 * Returns false when src cannot be opened as HDF5 or has no such string attribute. */
bool h5out_read_root_str(const char *src, const char *name, char *buf, size_t len);

#endif
