/* h5out.c: the HDF5 results writer (groups, attributes, append-only compound tables, atomic finish).
 *
 * What it provides: a handle per results file that remembers every id it handed out, so finishing or
 * aborting closes all of them; tables that gather rows in a one-chunk buffer and write a whole chunk
 * with one extend-and-write; HDF5 failures turned into one-line messages built from the innermost
 * entry of HDF5's error stack (whose automatic printing is switched off).
 *
 * What it leaves out: reading, and any knowledge of the study's layout beyond the root attribute
 * "format". It calls HDF5 only, with one exception: the file system calls around the atomic rename
 * (stat/access for the target check, fsync, rename, unlink).
 *
 * Invariant: the temporary file reaches the final name only through h5out_finish, only when every
 * operation on the handle succeeded and the target is absent or one of our own files. Every id in the
 * handle is either H5I_INVALID_HID or open; every table is on the handle's list until it is closed.
 *
 * Scale: a handful of files per process, hundreds of groups and tables per file, tables of up to
 * millions of rows; memory per open table is one chunk of rows plus its copied strings.
 */
#include "h5out.h"
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PRINTF_LIKE(fmt, args)
#endif

enum { MESSAGE_LEN = 1024, REASON_LEN = 256, DEFLATE_LEVEL = 4 };

/* A column that needs work per row: STR fields are copied, ENUM fields are range-checked. */
struct field {
    enum h5out_type type; /* H5OUT_STR or H5OUT_ENUM */
    size_t offset;        /* bytes into the row */
    size_t n_enum;        /* ENUM: number of valid values */
    char *name;           /* owned copy, for messages */
};

struct h5out_table {
    struct h5out *o;
    struct h5out_table *prev, *next; /* the handle's list of open tables */
    char *path;                      /* full HDF5 path of the dataset, for messages */
    hid_t dset;                      /* the dataset, 1-D, unlimited */
    hid_t mem_type;                  /* compound type of the caller's row struct */
    size_t row_size;                 /* bytes per row struct */
    size_t chunk_rows;               /* rows per chunk and per buffered block, >= 1 */
    unsigned char *buf;              /* chunk_rows rows; STR fields point at our own copies */
    size_t n_buffered;               /* rows in buf, < chunk_rows between calls */
    hsize_t n_written;               /* rows already in the dataset */
    struct field *fields;            /* STR and ENUM columns */
    size_t n_fields;
};

struct h5out {
    char *final_path;           /* where the finished file appears */
    char *tmp_path;             /* final_path + ".tmp.<pid>", where it is written */
    hid_t file, root;           /* the temporary file and its root group */
    hid_t lcpl;                 /* link creation: make missing parents, UTF-8 names */
    hid_t fcpl, gcpl;           /* file and group creation: no object times */
    hid_t str_type;             /* variable-length UTF-8 string */
    hid_t bool_type;            /* enum FALSE = 0, TRUE = 1 on int8, as h5py writes bool */
    hid_t *groups;              /* ids handed out by h5out_group, closed at the end */
    size_t n_groups, cap_groups;
    struct h5out_table *tables; /* open tables, most recent first */
    int status;                 /* H5OUT_OK or the first failure */
    char err[MESSAGE_LEN];      /* message of the first failure, "" if none */
};



/* HDF5 keeps its error-printing switch per thread in this (thread-safe) build, so every entry point
 * that calls HDF5 sets it rather than trusting that create ran on the same thread. */
static void silence_hdf5(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *reason)
{
    if (n == 0 && e->desc)
        snprintf(reason, REASON_LEN, "%s", e->desc);
    return 0;
}

/* The most specific description on HDF5's current error stack. For file-driver failures it is a long
 * dump of flags around the system's message, so only that message is kept. */
static void hdf5_reason(char reason[REASON_LEN])
{
    static const char sys_marker[] = "error message = '";
    reason[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, reason);
    char *sys = strstr(reason, sys_marker);
    if (sys) {
        sys += sizeof sys_marker - 1;
        char *end = strchr(sys, '\'');
        if (end)
            *end = '\0';
        memmove(reason, sys, strlen(sys) + 1);
    }
}

PRINTF_LIKE(4, 0)
static void vmessage(char *buf, size_t len, bool with_hdf5_reason, const char *fmt, va_list ap)
{
    if (!buf || len == 0)
        return;
    int used = vsnprintf(buf, len, fmt, ap);
    if (with_hdf5_reason && used >= 0 && (size_t)used < len) {
        char reason[REASON_LEN];
        hdf5_reason(reason);
        if (reason[0])
            snprintf(buf + used, len - (size_t)used, ": %s", reason);
    }
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
}

PRINTF_LIKE(4, 5)
static void message(char *buf, size_t len, bool with_hdf5_reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(buf, len, with_hdf5_reason, fmt, ap);
    va_end(ap);
}

/* Records a failure on the handle unless one is already recorded (later failures are usually its
 * consequences), and returns the handle's status. */
PRINTF_LIKE(4, 5)
static int fail(struct h5out *o, int status, bool with_hdf5_reason, const char *fmt, ...)
{
    if (o->status == H5OUT_OK) {
        o->status = status;
        va_list ap;
        va_start(ap, fmt);
        vmessage(o->err, sizeof o->err, with_hdf5_reason, fmt, ap);
        va_end(ap);
    }
    return o->status;
}

/* The directory a path lives in, as a new string: "a/b.h5" -> "a", "b.h5" -> ".", "/b.h5" -> "/". */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sim_xstrdup(".");
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    char *dir = sim_xrealloc(NULL, len + 1);
    memcpy(dir, path, len);
    dir[len] = '\0';
    return dir;
}

static int check_directory(const char *path, char *err, size_t errlen)
{
    char *dir = parent_dir(path);
    struct stat st;
    int status = H5OUT_OK;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            message(err, errlen, false, "cannot write %s: directory %s does not exist", path, dir);
        else
            message(err, errlen, false, "cannot write %s: %s: %s", path, dir, strerror(errno));
        status = H5OUT_EENV;
    } else if (!S_ISDIR(st.st_mode)) {
        message(err, errlen, false, "cannot write %s: %s is not a directory", path, dir);
        status = H5OUT_EENV;
    } else if (access(dir, W_OK | X_OK) != 0) {
        message(err, errlen, false, "cannot write %s: directory %s is not writable", path, dir);
        status = H5OUT_EENV;
    }
    free(dir);
    return status;
}

static bool attr_is_string(hid_t file, const char *name, const char *expected)
{
    bool same = false;
    hid_t attr = H5Aopen(file, name, H5P_DEFAULT);
    hid_t type = attr >= 0 ? H5Aget_type(attr) : H5I_INVALID_HID;
    hid_t space = attr >= 0 ? H5Aget_space(attr) : H5I_INVALID_HID;
    hid_t mem = H5Tcopy(H5T_C_S1);
    char *value = NULL;
    /* Only a single variable-length string can be read into one pointer; anything else is foreign. */
    if (type >= 0 && space >= 0 && mem >= 0 && H5Tis_variable_str(type) > 0 &&
        H5Sget_simple_extent_npoints(space) == 1 && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
        H5Tset_cset(mem, H5Tget_cset(type)) >= 0 && H5Aread(attr, mem, &value) >= 0 && value) {
        same = strcmp(value, expected) == 0;
        H5free_memory(value);
    }
    if (mem >= 0)
        H5Tclose(mem);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    if (attr >= 0)
        H5Aclose(attr);
    return same;
}

static bool is_strato_file(const char *path)
{
    struct stat st;
    /* A FIFO or device would block or misbehave when HDF5 opens it; only regular files qualify. */
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || H5Fis_hdf5(path) <= 0)
        return false;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return false;
    bool ours = H5Aexists(file, "format") > 0 && attr_is_string(file, "format", H5OUT_FORMAT);
    H5Fclose(file);
    return ours;
}

int h5out_check_target(const char *final_path, char *err, size_t errlen)
{
    silence_hdf5();
    int status = check_directory(final_path, err, errlen);
    if (status != H5OUT_OK)
        return status;
    struct stat st;
    if (stat(final_path, &st) != 0) {
        if (errno == ENOENT)
            return H5OUT_OK;
        message(err, errlen, false, "cannot check %s: %s", final_path, strerror(errno));
        return H5OUT_EENV;
    }
    if (!is_strato_file(final_path)) {
        message(err, errlen, false, "refusing to overwrite %s: it is not a strato results file",
                final_path);
        return H5OUT_ECLOBBER;
    }
    return H5OUT_OK;
}

static hid_t make_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0)) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* An enum on int32 with value i named names[i], for ENUM columns. */
static hid_t make_enum_type(const char *const *names, size_t n)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT32);
    for (size_t i = 0; t >= 0 && i < n; i++) {
        int32_t value = (int32_t)i;
        if (H5Tenum_insert(t, names[i], &value) < 0) {
            H5Tclose(t);
            t = H5I_INVALID_HID;
        }
    }
    return t;
}

/* h5py's own bool type: an enum on int8 with FALSE = 0 and TRUE = 1, read back as numpy bool. */
static hid_t make_bool_type(void)
{
    hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    int8_t no = 0, yes = 1;
    if (t >= 0 && (H5Tenum_insert(t, "FALSE", &no) < 0 || H5Tenum_insert(t, "TRUE", &yes) < 0)) {
        H5Tclose(t);
        t = H5I_INVALID_HID;
    }
    return t;
}

static void free_handle(struct h5out *o)
{
    free(o->groups);
    free(o->final_path);
    free(o->tmp_path);
    free(o);
}

struct h5out *h5out_create(const char *final_path, char *err, size_t errlen)
{
    if (h5out_check_target(final_path, err, errlen) != H5OUT_OK)
        return NULL;
    struct h5out *o = sim_xrealloc(NULL, sizeof *o);
    *o = (struct h5out){.file = H5I_INVALID_HID, .root = H5I_INVALID_HID, .lcpl = H5I_INVALID_HID,
                        .str_type = H5I_INVALID_HID, .bool_type = H5I_INVALID_HID,
                        .fcpl = H5I_INVALID_HID, .gcpl = H5I_INVALID_HID};
    o->final_path = sim_xstrdup(final_path);
    int len = snprintf(NULL, 0, "%s.tmp.%ld", final_path, (long)getpid());
    o->tmp_path = sim_xrealloc(NULL, (size_t)len + 1);
    snprintf(o->tmp_path, (size_t)len + 1, "%s.tmp.%ld", final_path, (long)getpid());

    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* STRONG: closing the file closes ids the caller still holds, so the rename never races an open
     * object. The 1.8 format stores attributes over 64 KiB densely and is readable by any h5py. */
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0)
        fail(o, H5OUT_EENV, true, "cannot set up HDF5 file access");
    /* EXCL: two handles aimed at one final path in one process must not share a temporary file. */
    else if ((o->fcpl = H5Pcreate(H5P_FILE_CREATE)) < 0 || H5Pset_obj_track_times(o->fcpl, 0) < 0 ||
             (o->gcpl = H5Pcreate(H5P_GROUP_CREATE)) < 0 || H5Pset_obj_track_times(o->gcpl, 0) < 0)
        fail(o, H5OUT_EENV, true, "cannot set up HDF5 object creation");
    /* no object times: the same results give the same bytes, whenever and however they were written */
    else if ((o->file = H5Fcreate(o->tmp_path, H5F_ACC_EXCL, o->fcpl, fapl)) < 0)
        fail(o, H5OUT_EENV, true, "cannot create %s", o->tmp_path);
    else if ((o->root = H5Gopen2(o->file, "/", H5P_DEFAULT)) < 0 ||
             (o->lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0 ||
             H5Pset_create_intermediate_group(o->lcpl, 1) < 0 ||
             H5Pset_char_encoding(o->lcpl, H5T_CSET_UTF8) < 0 ||
             (o->str_type = make_string_type()) < 0 ||
             (o->bool_type = make_bool_type()) < 0)
        fail(o, H5OUT_EENV, true, "cannot set up %s", o->tmp_path);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (o->status == H5OUT_OK && h5out_attr_str(o, o->root, "format", H5OUT_FORMAT) == H5OUT_OK)
        h5out_attr_bool(o, o->root, "complete", false);
    if (o->status != H5OUT_OK) {
        message(err, errlen, false, "%s", o->err);
        h5out_abort(o);
        return NULL;
    }
    return o;
}

const char *h5out_error(const struct h5out *o)
{
    return o->err;
}

hid_t h5out_root(const struct h5out *o)
{
    return o->root;
}

hid_t h5out_group(struct h5out *o, const char *path)
{
    if (o->status != H5OUT_OK)
        return H5I_INVALID_HID;
    silence_hdf5();
    /* Opening first lets callers ask again for a group that exists; only a missing one is created. */
    hid_t g = H5Gopen2(o->file, path, H5P_DEFAULT);
    if (g < 0) { /* each missing component in turn, so that every group is created without times */
        char part[1024];
        size_t len = strlen(path);
        for (size_t i = 1; i <= len && len < sizeof part; i++)
            if (i == len || path[i] == '/') {
                memcpy(part, path, i);
                part[i] = '\0';
                hid_t c = H5Gopen2(o->file, part, H5P_DEFAULT);
                if (c < 0) c = H5Gcreate2(o->file, part, o->lcpl, o->gcpl, H5P_DEFAULT);
                if (c < 0) break;
                if (i == len) g = c;
                else H5Gclose(c);
            }
    }
    if (g < 0) {
        fail(o, H5OUT_EENV, true, "cannot create group %s", path);
        return H5I_INVALID_HID;
    }
    if (o->n_groups == o->cap_groups) {
        o->cap_groups = o->cap_groups ? 2 * o->cap_groups : 16;
        o->groups = sim_xrealloc(o->groups, o->cap_groups * sizeof *o->groups);
    }
    o->groups[o->n_groups++] = g;
    return g;
}

/* Writes attribute name on obj, replacing any attribute of that name; dims NULL means scalar. */
static int write_attr(struct h5out *o, hid_t obj, const char *name, hid_t type, const hsize_t *dims,
                      const void *value)
{
    if (o->status != H5OUT_OK)
        return o->status;
    silence_hdf5();
    char where[256];
    if (H5Iget_name(obj, where, sizeof where) <= 0)
        snprintf(where, sizeof where, "?");
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0 || (exists > 0 && H5Adelete(obj, name) < 0))
        return fail(o, H5OUT_EENV, true, "cannot write attribute %s on %s", name, where);
    hid_t space = dims ? H5Screate_simple(1, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t attr = space >= 0 ? H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT)
                            : H5I_INVALID_HID;
    int status = H5OUT_OK;
    if (attr < 0 || H5Awrite(attr, type, value) < 0)
        status = fail(o, H5OUT_EENV, true, "cannot write attribute %s on %s", name, where);
    if (attr >= 0 && H5Aclose(attr) < 0)
        status = fail(o, H5OUT_EENV, true, "cannot close attribute %s on %s", name, where);
    if (space >= 0)
        H5Sclose(space);
    return status;
}

int h5out_attr_str(struct h5out *o, hid_t obj, const char *name, const char *value)
{
    const char *s = value ? value : "";
    return write_attr(o, obj, name, o->str_type, NULL, &s);
}

int h5out_attr_f64(struct h5out *o, hid_t obj, const char *name, double value)
{
    return write_attr(o, obj, name, H5T_NATIVE_DOUBLE, NULL, &value);
}

int h5out_attr_i64(struct h5out *o, hid_t obj, const char *name, int64_t value)
{
    return write_attr(o, obj, name, H5T_NATIVE_INT64, NULL, &value);
}

int h5out_attr_bool(struct h5out *o, hid_t obj, const char *name, bool value)
{
    int8_t v = value ? 1 : 0;
    return write_attr(o, obj, name, o->bool_type, NULL, &v);
}

int h5out_attr_f64_array(struct h5out *o, hid_t obj, const char *name, const double *values,
                         size_t n)
{
    hsize_t dims[1] = {n};
    static const double none = 0.0;
    return write_attr(o, obj, name, H5T_NATIVE_DOUBLE, dims, n ? values : &none);
}

static size_t field_size(enum h5out_type type)
{
    switch (type) {
    case H5OUT_F64:
    case H5OUT_I64:
    case H5OUT_U64:
        return 8;
    case H5OUT_U32:
    case H5OUT_ENUM:
        return 4;
    case H5OUT_U8:
        return 1;
    case H5OUT_STR:
        return sizeof(const char *);
    }
    return 0;
}

static const char *type_name(enum h5out_type type)
{
    switch (type) {
    case H5OUT_F64: return "F64";
    case H5OUT_I64: return "I64";
    case H5OUT_U64: return "U64";
    case H5OUT_U32: return "U32";
    case H5OUT_U8: return "U8";
    case H5OUT_STR: return "STR";
    case H5OUT_ENUM: return "ENUM";
    }
    return "unknown";
}

static int check_enum_names(struct h5out *o, const char *table, const struct h5out_col *c)
{
    if (!c->enum_names || c->n_enum == 0 || c->n_enum > INT32_MAX)
        return fail(o, H5OUT_EARG, false, "table %s: enum column %s needs 1 or more names", table,
                    c->name);
    for (size_t k = 0; k < c->n_enum; k++) {
        if (!c->enum_names[k])
            return fail(o, H5OUT_EARG, false, "table %s: enum column %s: name %zu is NULL", table,
                        c->name, k);
        for (size_t m = 0; m < k; m++)
            if (strcmp(c->enum_names[m], c->enum_names[k]) == 0)
                return fail(o, H5OUT_EARG, false, "table %s: enum column %s: name %s appears twice",
                            table, c->name, c->enum_names[k]);
    }
    return H5OUT_OK;
}

/* Checks the column list against the row before any HDF5 object exists, so a caller's mistake gets
 * a message about columns rather than HDF5's view of it. */
static int check_columns(struct h5out *o, const char *name, const struct h5out_col *cols,
                         size_t n_cols, size_t row_size, size_t chunk_rows)
{
    if (!name || !cols || n_cols == 0 || row_size == 0 || chunk_rows == 0 ||
        chunk_rows > SIZE_MAX / row_size)
        return fail(o, H5OUT_EARG, false,
                    "table %s: needs columns, a row size and 1 or more chunk rows (got %zu columns, "
                    "%zu-byte rows, %zu chunk rows)", name ? name : "(null)", n_cols, row_size,
                    chunk_rows);
    for (size_t i = 0; i < n_cols; i++) {
        const struct h5out_col *c = &cols[i];
        size_t size = field_size(c->type);
        if (!c->name || size == 0)
            return fail(o, H5OUT_EARG, false, "table %s: column %zu has no name or no valid type",
                        name, i);
        if (c->offset > row_size || size > row_size - c->offset)
            return fail(o, H5OUT_EARG, false,
                        "table %s: column %zu (%s, %s at offset %zu) does not fit a %zu-byte row",
                        name, i, c->name, type_name(c->type), c->offset, row_size);
        if (c->type == H5OUT_ENUM && check_enum_names(o, name, c) != H5OUT_OK)
            return o->status;
    }
    for (size_t i = 0; i < n_cols; i++)
        for (size_t j = i + 1; j < n_cols; j++) {
            const struct h5out_col *a = &cols[i], *b = &cols[j];
            if (strcmp(a->name, b->name) == 0)
                return fail(o, H5OUT_EARG, false, "table %s: two columns are named %s", name,
                            a->name);
            if (a->offset < b->offset + field_size(b->type) &&
                b->offset < a->offset + field_size(a->type))
                return fail(o, H5OUT_EARG, false, "table %s: columns %s and %s overlap in the row",
                            name, a->name, b->name);
        }
    return H5OUT_OK;
}

/* The compound type of the caller's row struct; the file type is the same packed. */
static hid_t make_row_type(struct h5out *o, const char *name, const struct h5out_col *cols,
                           size_t n_cols, size_t row_size)
{
    hid_t row = H5Tcreate(H5T_COMPOUND, row_size);
    if (row < 0) {
        fail(o, H5OUT_EENV, true, "table %s: cannot create its row type", name);
        return H5I_INVALID_HID;
    }
    for (size_t i = 0; i < n_cols; i++) {
        const struct h5out_col *c = &cols[i];
        hid_t member = H5I_INVALID_HID, owned = H5I_INVALID_HID;
        switch (c->type) {
        case H5OUT_F64: member = H5T_NATIVE_DOUBLE; break;
        case H5OUT_I64: member = H5T_NATIVE_INT64; break;
        case H5OUT_U64: member = H5T_NATIVE_UINT64; break;
        case H5OUT_U32: member = H5T_NATIVE_UINT32; break;
        case H5OUT_U8: member = H5T_NATIVE_UINT8; break;
        case H5OUT_STR: member = o->str_type; break;
        case H5OUT_ENUM:
            member = owned = make_enum_type(c->enum_names, c->n_enum);
            break;
        }
        herr_t inserted = member >= 0 ? H5Tinsert(row, c->name, c->offset, member) : -1;
        if (inserted < 0)
            fail(o, H5OUT_EENV, true, "table %s: cannot add column %s", name, c->name);
        if (owned >= 0)
            H5Tclose(owned);
        if (inserted < 0) {
            H5Tclose(row);
            return H5I_INVALID_HID;
        }
    }
    return row;
}

static hid_t make_dataset(struct h5out *o, hid_t loc, const char *name, hid_t row_type,
                          size_t chunk_rows)
{
    hsize_t dims[1] = {0}, max_dims[1] = {H5S_UNLIMITED}, chunk[1] = {chunk_rows};
    hid_t file_type = H5Tcopy(row_type);
    hid_t space = H5Screate_simple(1, dims, max_dims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = H5I_INVALID_HID;
    /* Shuffle before deflate groups the bytes of each column, which compresses numbers far better. */
    if (file_type < 0 || space < 0 || dcpl < 0 || H5Tpack(file_type) < 0 ||
        H5Pset_chunk(dcpl, 1, chunk) < 0 || H5Pset_shuffle(dcpl) < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
        H5Pset_deflate(dcpl, DEFLATE_LEVEL) < 0 ||
        (dset = H5Dcreate2(loc, name, file_type, space, o->lcpl, dcpl, H5P_DEFAULT)) < 0)
        fail(o, H5OUT_EENV, true, "cannot create table %s", name);
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (file_type >= 0)
        H5Tclose(file_type);
    return dset;
}

static char *object_path(hid_t id, const char *fallback)
{
    ssize_t len = H5Iget_name(id, NULL, 0);
    if (len <= 0)
        return sim_xstrdup(fallback);
    char *path = sim_xrealloc(NULL, (size_t)len + 1);
    H5Iget_name(id, path, (size_t)len + 1);
    return path;
}

struct h5out_table *h5out_table_create(struct h5out *o, hid_t loc, const char *name,
                                       const struct h5out_col *cols, size_t n_cols,
                                       size_t row_size, size_t chunk_rows)
{
    if (o->status != H5OUT_OK ||
        check_columns(o, name, cols, n_cols, row_size, chunk_rows) != H5OUT_OK)
        return NULL;
    silence_hdf5();
    hid_t row_type = make_row_type(o, name, cols, n_cols, row_size);
    hid_t dset = row_type >= 0 ? make_dataset(o, loc, name, row_type, chunk_rows)
                               : H5I_INVALID_HID;
    if (dset < 0) {
        if (row_type >= 0)
            H5Tclose(row_type);
        return NULL;
    }

    struct h5out_table *t = sim_xrealloc(NULL, sizeof *t);
    *t = (struct h5out_table){.o = o, .dset = dset, .mem_type = row_type, .row_size = row_size,
                              .chunk_rows = chunk_rows};
    t->path = object_path(dset, name);
    t->buf = sim_xrealloc(NULL, chunk_rows * row_size);
    t->fields = sim_xrealloc(NULL, n_cols * sizeof *t->fields);
    for (size_t i = 0; i < n_cols; i++)
        if (cols[i].type == H5OUT_STR || cols[i].type == H5OUT_ENUM)
            t->fields[t->n_fields++] = (struct field){.type = cols[i].type,
                                                      .offset = cols[i].offset,
                                                      .n_enum = cols[i].n_enum,
                                                      .name = sim_xstrdup(cols[i].name)};
    t->next = o->tables;
    if (o->tables)
        o->tables->prev = t;
    o->tables = t;
    return t;
}

hid_t h5out_table_id(const struct h5out_table *t)
{
    return t->dset;
}

static void free_buffered_strings(struct h5out_table *t)
{
    for (size_t r = 0; r < t->n_buffered; r++)
        for (size_t f = 0; f < t->n_fields; f++)
            if (t->fields[f].type == H5OUT_STR) {
                char *s;
                memcpy(&s, t->buf + r * t->row_size + t->fields[f].offset, sizeof s);
                free(s);
            }
    t->n_buffered = 0;
}

/* Extends the dataset by the buffered rows and writes them as one block, then empties the buffer. */
static int flush(struct h5out_table *t)
{
    struct h5out *o = t->o;
    if (t->n_buffered == 0 || o->status != H5OUT_OK) {
        free_buffered_strings(t);
        return o->status;
    }
    silence_hdf5();
    hsize_t start[1] = {t->n_written}, count[1] = {t->n_buffered};
    hsize_t size[1] = {t->n_written + t->n_buffered};
    hid_t file_space = H5I_INVALID_HID, mem_space = H5I_INVALID_HID;
    if (H5Dset_extent(t->dset, size) < 0 || (file_space = H5Dget_space(t->dset)) < 0 ||
        (mem_space = H5Screate_simple(1, count, NULL)) < 0 ||
        H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
        H5Dwrite(t->dset, t->mem_type, mem_space, file_space, H5P_DEFAULT, t->buf) < 0)
        fail(o, H5OUT_EENV, true, "cannot write %zu rows to table %s", t->n_buffered, t->path);
    else
        t->n_written += t->n_buffered;
    if (mem_space >= 0)
        H5Sclose(mem_space);
    if (file_space >= 0)
        H5Sclose(file_space);
    free_buffered_strings(t);
    return o->status;
}

int h5out_table_append(struct h5out_table *t, const void *rows, size_t n)
{
    struct h5out *o = t->o;
    if (o->status != H5OUT_OK)
        return o->status;
    const unsigned char *src = rows;
    /* Checking every row first keeps a rejected call from leaving part of itself buffered. */
    for (size_t r = 0; r < n; r++)
        for (size_t f = 0; f < t->n_fields; f++) {
            const struct field *fd = &t->fields[f];
            int32_t v;
            if (fd->type != H5OUT_ENUM)
                continue;
            memcpy(&v, src + r * t->row_size + fd->offset, sizeof v);
            if (v < 0 || (size_t)v >= fd->n_enum)
                return fail(o, H5OUT_EARG, false,
                            "table %s: column %s: %ld is not one of its %zu enum values", t->path,
                            fd->name, (long)v, fd->n_enum);
        }
    for (size_t r = 0; r < n; r++) {
        unsigned char *dst = t->buf + t->n_buffered * t->row_size;
        memcpy(dst, src + r * t->row_size, t->row_size);
        for (size_t f = 0; f < t->n_fields; f++)
            if (t->fields[f].type == H5OUT_STR) {
                const char *s;
                memcpy(&s, dst + t->fields[f].offset, sizeof s);
                char *copy = sim_xstrdup(s ? s : "");
                memcpy(dst + t->fields[f].offset, &copy, sizeof copy);
            }
        if (++t->n_buffered == t->chunk_rows && flush(t) != H5OUT_OK)
            return o->status;
    }
    return H5OUT_OK;
}

/* Closes and frees t, writing its buffered rows if keep; returns the handle's status. */
static int end_table(struct h5out_table *t, bool keep)
{
    struct h5out *o = t->o;
    if (keep)
        flush(t);
    else
        free_buffered_strings(t);
    if (H5Dclose(t->dset) < 0)
        fail(o, H5OUT_EENV, true, "cannot close table %s", t->path);
    H5Tclose(t->mem_type);
    if (t->prev)
        t->prev->next = t->next;
    else
        o->tables = t->next;
    if (t->next)
        t->next->prev = t->prev;
    for (size_t f = 0; f < t->n_fields; f++)
        free(t->fields[f].name);
    free(t->fields);
    free(t->buf);
    free(t->path);
    free(t);
    return o->status;
}

int h5out_table_close(struct h5out_table *t)
{
    silence_hdf5();
    return end_table(t, true);
}

/* Closes every id of the handle; if keep, writes buffered rows and flushes the file first. */
static void close_all(struct h5out *o, bool keep)
{
    while (o->tables)
        end_table(o->tables, keep);
    for (size_t i = 0; i < o->n_groups; i++)
        H5Gclose(o->groups[i]);
    o->n_groups = 0;
    if (o->root >= 0)
        H5Gclose(o->root);
    if (o->lcpl >= 0)
        H5Pclose(o->lcpl);
    if (o->fcpl >= 0)
        H5Pclose(o->fcpl);
    if (o->gcpl >= 0)
        H5Pclose(o->gcpl);
    if (o->str_type >= 0)
        H5Tclose(o->str_type);
    if (o->bool_type >= 0)
        H5Tclose(o->bool_type);
    o->root = o->lcpl = o->fcpl = o->gcpl = o->str_type = o->bool_type = H5I_INVALID_HID;
    if (keep && o->status == H5OUT_OK && H5Fflush(o->file, H5F_SCOPE_LOCAL) < 0)
        fail(o, H5OUT_EENV, true, "cannot flush %s", o->tmp_path);
    if (o->file >= 0 && H5Fclose(o->file) < 0)
        fail(o, H5OUT_EENV, true, "cannot close %s", o->tmp_path);
    o->file = H5I_INVALID_HID;
}

/* fsync of a file or directory; HDF5 does not sync on close, and a rename that reaches the disk
 * before the data would leave an empty file under the final name after a power cut. */
static int sync_path(const char *path, int flags)
{
    int fd = open(path, O_RDONLY | flags);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int h5out_finish(struct h5out *o, bool complete, char *err, size_t errlen)
{
    silence_hdf5();
    h5out_attr_bool(o, o->root, "complete", complete);
    close_all(o, true);
    if (o->status == H5OUT_OK && sync_path(o->tmp_path, 0) != 0)
        fail(o, H5OUT_EENV, false, "cannot sync %s: %s", o->tmp_path, strerror(errno));

    /* The target was checked at create, but a long run leaves time for someone to put a file there;
     * the results are then worth more than tidiness, so they stay under the temporary name. */
    char target_err[MESSAGE_LEN];
    int target = o->status == H5OUT_OK
                     ? h5out_check_target(o->final_path, target_err, sizeof target_err)
                     : H5OUT_OK;
    if (target == H5OUT_ECLOBBER)
        fail(o, target, false, "%s; the results are in %s", target_err, o->tmp_path);
    else if (target != H5OUT_OK)
        fail(o, target, false, "%s", target_err);

    if (o->status == H5OUT_OK && rename(o->tmp_path, o->final_path) != 0)
        fail(o, H5OUT_EENV, false, "cannot rename %s to %s: %s", o->tmp_path, o->final_path,
             strerror(errno));
    if (o->status == H5OUT_OK) {
        /* The rename is done and visible; syncing the directory only makes it durable sooner, and
         * some file systems refuse directory fsync, so its failure is not the study's failure. */
        char *dir = parent_dir(o->final_path);
        sync_path(dir, O_DIRECTORY);
        free(dir);
    } else if (o->status != H5OUT_ECLOBBER) {
        unlink(o->tmp_path);
    }
    int status = o->status;
    if (status != H5OUT_OK)
        message(err, errlen, false, "%s", o->err);
    free_handle(o);
    return status;
}

void h5out_abort(struct h5out *o)
{
    if (!o)
        return;
    silence_hdf5();
    /* Only a file this handle created is removed: a failed exclusive create means it is not ours. */
    bool created = o->file >= 0;
    close_all(o, false);
    if (created)
        unlink(o->tmp_path);
    free_handle(o);
}

int h5out_copy_group(struct h5out *o, const char *src, const char *path, const char *attr, double *values,
                     size_t n)
{
    if (o->status != H5OUT_OK) return o->status;
    char parent[1024]; /* made here, so that it has no object times either */
    const char *slash = strrchr(path, '/');
    if (slash && slash > path && (size_t)(slash - path) < sizeof parent) {
        memcpy(parent, path, (size_t)(slash - path));
        parent[slash - path] = '\0';
        if (h5out_group(o, parent) == H5I_INVALID_HID) return o->status;
    }
    hid_t f = H5I_INVALID_HID, g = H5I_INVALID_HID, a = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = H5OUT_OK;
    H5E_BEGIN_TRY
    {
        f = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT);
        g = f >= 0 ? H5Gopen2(f, path, H5P_DEFAULT) : H5I_INVALID_HID;
        if (g >= 0 && attr) {
            a = H5Aopen(g, attr, H5P_DEFAULT);
            space = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
        }
    }
    H5E_END_TRY;
    if (g < 0) rc = fail(o, H5OUT_EENV, false, "cannot open %s in %s", path, src);
    else if (attr && (space < 0 || H5Sget_simple_extent_npoints(space) != (hssize_t)n ||
                      H5Aread(a, H5T_NATIVE_DOUBLE, values) < 0))
        rc = fail(o, H5OUT_EENV, true, "cannot read attribute %s of %s in %s", attr, path, src);
    else if (H5Ocopy(f, path, o->file, path, H5P_DEFAULT, o->lcpl) < 0)
        rc = fail(o, H5OUT_EENV, true, "cannot copy %s from %s", path, src);
    else if (attr && H5Adelete_by_name(o->file, path, attr, H5P_DEFAULT) < 0)
        rc = fail(o, H5OUT_EENV, true, "cannot drop attribute %s of %s", attr, path);
    if (space >= 0) H5Sclose(space);
    if (a >= 0) H5Aclose(a);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    return rc;
}

bool h5out_read_root_str(const char *src, const char *name, char *buf, size_t len)
{
    bool ok = false;
    H5E_BEGIN_TRY
    {
        hid_t f = H5Fopen(src, H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t a = f >= 0 ? H5Aopen(f, name, H5P_DEFAULT) : H5I_INVALID_HID;
        hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
        if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            hid_t mem = H5Tcopy(H5T_C_S1);
            H5Tset_size(mem, H5T_VARIABLE);
            H5Tset_cset(mem, H5T_CSET_UTF8);
            if (H5Aread(a, mem, &v) >= 0 && v) {
                snprintf(buf, len, "%s", v);
                ok = true;
                H5free_memory(v);
            }
            H5Tclose(mem);
        }
        if (t >= 0) H5Tclose(t);
        if (a >= 0) H5Aclose(a);
        if (f >= 0) H5Fclose(f);
    }
    H5E_END_TRY;
    return ok;
}
