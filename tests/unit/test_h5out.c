/* test_h5out.c: unit tests of the HDF5 results writer.
 * Every test writes under its own mkdtemp directory, removed afterwards, and reads what h5out wrote
 * back through the plain HDF5 C API (never through h5out), comparing values, types and file names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testh5.h"
#include "testutil.h"

#include "h5out.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PATH_LEN = 512, ERR_LEN = 1024 };

struct fixture {
    char dir[PATH_LEN]; /* the test's own directory */
};

static int make_dir(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/strato-h5out-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* Tests leave only plain files and empty directories behind. */
static int remove_dir(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    if (d) {
        for (struct dirent *e; (e = readdir(d));) {
            char path[2 * PATH_LEN];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
            if (unlink(path) != 0) {
                chmod(path, 0700);
                rmdir(path);
            }
        }
        closedir(d);
    }
    int rc = rmdir(f->dir);
    free(f);
    return rc;
}

static void path_in(char *buf, const struct fixture *f, const char *name)
{
    int n = snprintf(buf, PATH_LEN, "%s/%s", f->dir, name);
    assert_true(n > 0 && n < PATH_LEN);
}

static void tmp_name_of(char *buf, const char *final_path)
{
    int n = snprintf(buf, PATH_LEN, "%s.tmp.%ld", final_path, (long)getpid());
    assert_true(n > 0 && n < PATH_LEN);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static bool text_equals(const char *path, const char *text)
{
    char buf[256] = {0};
    FILE *fp = fopen(path, "r");
    if (!fp)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    return n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* An HDF5 file made without h5out: with a root "format" string attribute, or none if NULL. */
static void write_foreign_h5(const char *path, const char *format)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(file >= 0);
    if (format) {
        hid_t type = vl_string_type(), space = H5Screate(H5S_SCALAR);
        hid_t attr = H5Acreate2(file, "format", type, space, H5P_DEFAULT, H5P_DEFAULT);
        assert_true(H5Awrite(attr, type, &format) >= 0);
        H5Aclose(attr);
        H5Sclose(space);
        H5Tclose(type);
    }
    H5Fclose(file);
}

static double read_f64_attr(hid_t obj, const char *name)
{
    double v = -1.0;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(attr >= 0);
    assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, &v) >= 0);
    H5Aclose(attr);
    return v;
}

/* --- a table with every column type --- */

enum kind { KIND_LAUNCH, KIND_TERMINATE, KIND_OUTAGE, N_KINDS };
static const char *const kind_names[N_KINDS] = {"launch", "terminate", "outage"};

struct event_row {
    double t_s;
    int64_t delta;
    uint64_t bytes;
    uint32_t az;
    uint8_t spot;
    const char *instance;
    int32_t kind;
};

static const struct h5out_col event_cols[] = {
    {"t_s", H5OUT_F64, offsetof(struct event_row, t_s), NULL, 0},
    {"delta", H5OUT_I64, offsetof(struct event_row, delta), NULL, 0},
    {"bytes", H5OUT_U64, offsetof(struct event_row, bytes), NULL, 0},
    {"az", H5OUT_U32, offsetof(struct event_row, az), NULL, 0},
    {"spot", H5OUT_U8, offsetof(struct event_row, spot), NULL, 0},
    {"instance", H5OUT_STR, offsetof(struct event_row, instance), NULL, 0},
    {"kind", H5OUT_ENUM, offsetof(struct event_row, kind), kind_names, N_KINDS},
};
enum { N_EVENT_COLS = sizeof event_cols / sizeof event_cols[0] };

/* The reader's own view of an event row, with the HDF5 memory type the test builds itself. */
struct event_back {
    double t_s;
    int64_t delta;
    uint64_t bytes;
    uint32_t az;
    uint8_t spot;
    char *instance;
    int32_t kind;
};

static hid_t event_back_type(void)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(struct event_back));
    hid_t str = vl_string_type();
    hid_t kind = H5Tenum_create(H5T_NATIVE_INT32);
    for (int32_t i = 0; i < N_KINDS; i++)
        H5Tenum_insert(kind, kind_names[i], &i);
    H5Tinsert(t, "t_s", offsetof(struct event_back, t_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "delta", offsetof(struct event_back, delta), H5T_NATIVE_INT64);
    H5Tinsert(t, "bytes", offsetof(struct event_back, bytes), H5T_NATIVE_UINT64);
    H5Tinsert(t, "az", offsetof(struct event_back, az), H5T_NATIVE_UINT32);
    H5Tinsert(t, "spot", offsetof(struct event_back, spot), H5T_NATIVE_UINT8);
    H5Tinsert(t, "instance", offsetof(struct event_back, instance), str);
    H5Tinsert(t, "kind", offsetof(struct event_back, kind), kind);
    H5Tclose(kind);
    H5Tclose(str);
    return t;
}

static struct event_row event_at(int i, char *name_buf, size_t len)
{
    snprintf(name_buf, len, "i-%04d", i);
    return (struct event_row){.t_s = 0.25 * i + 1e-9, .delta = -1000000000000LL * i,
                              .bytes = UINT64_MAX - (uint64_t)i, .az = 4000000000u + (uint32_t)i,
                              .spot = (uint8_t)(255 - i), .instance = i == 3 ? NULL : name_buf,
                              .kind = i % N_KINDS};
}

static void test_table_round_trips_every_column_type(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "study.h5");
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    hid_t run = h5out_group(o, "/designs/onprem/runs/0");
    assert_true(run >= 0);
    struct h5out_table *t = h5out_table_create(o, run, "events", event_cols, N_EVENT_COLS,
                                               sizeof(struct event_row), 2);
    assert_non_null(t);
    /* One name buffer reused for every row: the table must have copied each string. */
    char name[32];
    for (int i = 0; i < 5; i++) {
        struct event_row r = event_at(i, name, sizeof name);
        assert_int_equal(h5out_table_append(t, &r, 1), 0);
    }
    assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);

    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t dset = H5Dopen2(file, "/designs/onprem/runs/0/events", H5P_DEFAULT);
    assert_true(dset >= 0);
    assert_int_equal(rows_in(dset), 5);

    hid_t mem = event_back_type();
    struct event_back back[5];
    assert_true(H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
    for (int i = 0; i < 5; i++) {
        struct event_row want = event_at(i, name, sizeof name);
        assert_close(back[i].t_s, want.t_s, 0.0);
        assert_true(back[i].delta == want.delta);
        assert_true(back[i].bytes == want.bytes);
        assert_int_equal(back[i].az, want.az);
        assert_int_equal(back[i].spot, want.spot);
        assert_string_equal(back[i].instance, want.instance ? want.instance : "");
        assert_int_equal(back[i].kind, want.kind);
    }
    hid_t space = H5Dget_space(dset);
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, back);
    H5Sclose(space);
    H5Tclose(mem);

    /* The stored types themselves: an enum with our names, a UTF-8 variable-length string. */
    hid_t file_type = H5Dget_type(dset);
    hid_t kind = H5Tget_member_type(file_type, (unsigned)H5Tget_member_index(file_type, "kind"));
    assert_int_equal(H5Tget_class(kind), H5T_ENUM);
    assert_int_equal(H5Tget_nmembers(kind), N_KINDS);
    for (int32_t v = 0; v < N_KINDS; v++) {
        char label[32];
        assert_true(H5Tenum_nameof(kind, &v, label, sizeof label) >= 0);
        assert_string_equal(label, kind_names[v]);
    }
    hid_t str = H5Tget_member_type(file_type, (unsigned)H5Tget_member_index(file_type, "instance"));
    assert_true(H5Tis_variable_str(str) > 0);
    assert_int_equal(H5Tget_cset(str), H5T_CSET_UTF8);
    char *first = H5Tget_member_name(file_type, 0);
    assert_string_equal(first, "t_s");
    H5free_memory(first);
    H5Tclose(str);
    H5Tclose(kind);
    H5Tclose(file_type);

    /* Chunked by chunk_rows, shuffled then deflated at level 4. */
    hid_t dcpl = H5Dget_create_plist(dset);
    hsize_t chunk = 0;
    assert_int_equal(H5Pget_chunk(dcpl, 1, &chunk), 1);
    assert_int_equal(chunk, 2);
    assert_int_equal(H5Pget_nfilters(dcpl), 2);
    unsigned flags, cd[4];
    size_t n_cd = 4;
    unsigned config;
    assert_int_equal(H5Pget_filter2(dcpl, 0, &flags, &n_cd, cd, 0, NULL, &config),
                     H5Z_FILTER_SHUFFLE);
    n_cd = 4;
    assert_int_equal(H5Pget_filter2(dcpl, 1, &flags, &n_cd, cd, 0, NULL, &config),
                     H5Z_FILTER_DEFLATE);
    assert_int_equal(cd[0], 4);
    H5Pclose(dcpl);
    H5Dclose(dset);
    H5Fclose(file);
}

/* --- many single-row appends across chunk boundaries --- */

struct tick_row {
    double t_s;
    uint64_t seq;
    const char *label;
};

static const struct h5out_col tick_cols[] = {
    {"t_s", H5OUT_F64, offsetof(struct tick_row, t_s), NULL, 0},
    {"seq", H5OUT_U64, offsetof(struct tick_row, seq), NULL, 0},
    {"label", H5OUT_STR, offsetof(struct tick_row, label), NULL, 0},
};

struct tick_back {
    double t_s;
    uint64_t seq;
    char *label;
};

static void test_ten_thousand_single_row_appends_read_back_exactly(void **state)
{
    enum { N = 10000, CHUNK = 256 };
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "ticks.h5");
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    struct h5out_table *t = h5out_table_create(o, h5out_root(o), "series", tick_cols, 3,
                                               sizeof(struct tick_row), CHUNK);
    assert_non_null(t);
    char label[32];
    for (int i = 0; i < N; i++) {
        snprintf(label, sizeof label, "tick %d", i);
        struct tick_row r = {.t_s = 60.0 * i + 0.125, .seq = (uint64_t)i * 7919u, .label = label};
        assert_int_equal(h5out_table_append(t, &r, 1), 0);
    }
    /* N is not a multiple of CHUNK: closing must write the last, partial block. */
    assert_int_equal(h5out_table_close(t), 0);
    assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);

    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t dset = H5Dopen2(file, "/series", H5P_DEFAULT);
    assert_true(dset >= 0);
    assert_int_equal(rows_in(dset), N);
    hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(struct tick_back));
    hid_t str = vl_string_type();
    H5Tinsert(mem, "t_s", offsetof(struct tick_back, t_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(mem, "seq", offsetof(struct tick_back, seq), H5T_NATIVE_UINT64);
    H5Tinsert(mem, "label", offsetof(struct tick_back, label), str);
    struct tick_back *back = calloc(N, sizeof *back);
    assert_non_null(back);
    assert_true(H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
    int mismatches = 0;
    for (int i = 0; i < N; i++) {
        snprintf(label, sizeof label, "tick %d", i);
        if (fabs(back[i].t_s - (60.0 * i + 0.125)) > 0.0 || back[i].seq != (uint64_t)i * 7919u ||
            strcmp(back[i].label, label) != 0)
            mismatches++;
    }
    assert_int_equal(mismatches, 0);
    hid_t space = H5Dget_space(dset);
    H5Dvlen_reclaim(mem, space, H5P_DEFAULT, back);
    H5Sclose(space);
    free(back);
    H5Tclose(str);
    H5Tclose(mem);
    H5Dclose(dset);
    H5Fclose(file);
}

static void test_attributes_round_trip_on_root_groups_and_tables(void **state)
{
    enum { BIG = 10000 };
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "attrs.h5");
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    hid_t root = h5out_root(o);
    hid_t design = h5out_group(o, "designs/ec2-asg");
    struct h5out_table *t = h5out_table_create(o, design, "series", tick_cols, 3,
                                               sizeof(struct tick_row), 64);
    assert_non_null(t);
    static const double quantiles[] = {0.5, -2.0, 1e300};
    double *big = malloc(BIG * sizeof *big);
    assert_non_null(big);
    for (int i = 0; i < BIG; i++)
        big[i] = i * 0.5;

    assert_int_equal(h5out_attr_str(o, root, "strato_version", "0.1.0"), 0);
    assert_int_equal(h5out_attr_f64(o, root, "horizon_s", 172800.5), 0);
    assert_int_equal(h5out_attr_i64(o, root, "master_seed", INT64_MIN + 1), 0);
    assert_int_equal(h5out_attr_bool(o, root, "yes", true), 0);
    assert_int_equal(h5out_attr_bool(o, root, "no", false), 0);
    assert_int_equal(h5out_attr_f64_array(o, root, "quantiles", quantiles, 3), 0);
    assert_int_equal(h5out_attr_f64_array(o, root, "none", NULL, 0), 0);
    /* 80 kB of doubles: more than an object header holds, so it must go to dense storage. */
    assert_int_equal(h5out_attr_f64_array(o, root, "big", big, BIG), 0);
    assert_int_equal(h5out_attr_str(o, design, "description", "c6i fleet, p99 \xc2\xb5s"), 0);
    assert_int_equal(h5out_attr_str(o, h5out_table_id(t), "t_s_unit", "s"), 0);
    /* Writing an existing name replaces it, even with another type. */
    assert_int_equal(h5out_attr_i64(o, design, "kind", 7), 0);
    assert_int_equal(h5out_attr_str(o, design, "kind", "cloud"), 0);
    assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);

    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    char s[128];
    read_str_attr(file, "strato_version", s, sizeof s);
    assert_string_equal(s, "0.1.0");
    assert_close(read_f64_attr(file, "horizon_s"), 172800.5, 0.0);
    assert_true(read_i64_attr(file, "master_seed") == INT64_MIN + 1);
    assert_int_equal(read_bool_attr(file, "yes"), 1);
    assert_int_equal(read_bool_attr(file, "no"), 0);

    double q[3] = {0};
    hid_t attr = H5Aopen(file, "quantiles", H5P_DEFAULT);
    hid_t space = H5Aget_space(attr);
    assert_int_equal(H5Sget_simple_extent_npoints(space), 3);
    assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, q) >= 0);
    for (int i = 0; i < 3; i++)
        assert_close(q[i], quantiles[i], 0.0);
    H5Sclose(space);
    H5Aclose(attr);

    attr = H5Aopen(file, "none", H5P_DEFAULT);
    space = H5Aget_space(attr);
    assert_int_equal(H5Sget_simple_extent_npoints(space), 0);
    H5Sclose(space);
    H5Aclose(attr);

    double *big_back = calloc(BIG, sizeof *big_back);
    assert_non_null(big_back);
    attr = H5Aopen(file, "big", H5P_DEFAULT);
    assert_true(H5Aread(attr, H5T_NATIVE_DOUBLE, big_back) >= 0);
    H5Aclose(attr);
    assert_close(big_back[0], 0.0, 0.0);
    assert_close(big_back[BIG - 1], (BIG - 1) * 0.5, 0.0);
    free(big_back);
    free(big);

    hid_t g = H5Gopen2(file, "/designs/ec2-asg", H5P_DEFAULT);
    assert_true(g >= 0);
    read_str_attr(g, "description", s, sizeof s);
    assert_string_equal(s, "c6i fleet, p99 \xc2\xb5s");
    read_str_attr(g, "kind", s, sizeof s);
    assert_string_equal(s, "cloud");
    H5Gclose(g);
    hid_t dset = H5Dopen2(file, "/designs/ec2-asg/series", H5P_DEFAULT);
    read_str_attr(dset, "t_s_unit", s, sizeof s);
    assert_string_equal(s, "s");
    assert_int_equal(rows_in(dset), 0);
    H5Dclose(dset);
    H5Fclose(file);
}

static void test_groups_are_created_with_parents_and_reopened(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "groups.h5");
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    assert_true(h5out_group(o, "/designs/onprem/runs/0") >= 0);
    assert_true(h5out_group(o, "/designs/onprem/runs/1") >= 0);
    hid_t again = h5out_group(o, "designs/onprem");
    assert_true(again >= 0);
    assert_int_equal(h5out_attr_str(o, again, "kind", "onprem"), 0);
    assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);

    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t runs = H5Gopen2(file, "/designs/onprem/runs", H5P_DEFAULT);
    assert_true(runs >= 0);
    H5G_info_t info;
    assert_true(H5Gget_info(runs, &info) >= 0);
    assert_int_equal(info.nlinks, 2);
    assert_true(H5Lexists(runs, "0", H5P_DEFAULT) > 0);
    assert_true(H5Lexists(runs, "1", H5P_DEFAULT) > 0);
    H5Gclose(runs);
    hid_t onprem = H5Gopen2(file, "/designs/onprem", H5P_DEFAULT);
    char s[32];
    read_str_attr(onprem, "kind", s, sizeof s);
    assert_string_equal(s, "onprem");
    H5Gclose(onprem);
    H5Fclose(file);
}

static void test_finish_renames_the_temporary_file_to_the_final_name(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], tmp_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "done.h5");
    tmp_name_of(tmp_path, final_path);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    assert_true(exists(tmp_path));
    assert_false(exists(final_path));
    assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);
    assert_false(exists(tmp_path));
    assert_true(exists(final_path));

    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    char s[64];
    read_str_attr(file, "format", s, sizeof s);
    assert_string_equal(s, "strato-results");
    assert_int_equal(read_bool_attr(file, "complete"), 1);
    H5Fclose(file);
}

static void test_incomplete_finish_still_renames_and_marks_complete_false(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], tmp_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "interrupted.h5");
    tmp_name_of(tmp_path, final_path);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    assert_int_equal(h5out_finish(o, false, err, sizeof err), 0);
    assert_false(exists(tmp_path));
    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_int_equal(read_bool_attr(file, "complete"), 0);
    H5Fclose(file);
}

static void test_abort_leaves_neither_temporary_nor_final_file(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], tmp_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "aborted.h5");
    tmp_name_of(tmp_path, final_path);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    struct h5out_table *t = h5out_table_create(o, h5out_root(o), "series", tick_cols, 3,
                                               sizeof(struct tick_row), 4);
    struct tick_row r = {.t_s = 1.0, .seq = 1, .label = "x"};
    for (int i = 0; i < 6; i++)
        assert_int_equal(h5out_table_append(t, &r, 1), 0);
    assert_true(exists(tmp_path));
    h5out_abort(o);
    assert_false(exists(tmp_path));
    assert_false(exists(final_path));
}

static void test_finish_replaces_an_existing_strato_file(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "again.h5");
    for (int64_t run = 1; run <= 2; run++) {
        struct h5out *o = h5out_create(final_path, err, sizeof err);
        assert_non_null(o);
        assert_int_equal(h5out_attr_i64(o, h5out_root(o), "run", run), 0);
        assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);
    }
    hid_t file = H5Fopen(final_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(read_i64_attr(file, "run") == 2);
    H5Fclose(file);
}

static void test_check_target_accepts_an_absent_path_and_a_strato_file(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "fresh.h5");
    assert_int_equal(h5out_check_target(final_path, err, sizeof err), H5OUT_OK);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_int_equal(h5out_finish(o, true, err, sizeof err), 0);
    assert_int_equal(h5out_check_target(final_path, err, sizeof err), H5OUT_OK);
}

static void test_check_target_refuses_a_file_that_is_not_hdf5(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], tmp_path[PATH_LEN], err[ERR_LEN] = "", want[ERR_LEN];
    path_in(final_path, f, "myconfig.cfg");
    tmp_name_of(tmp_path, final_path);
    write_text(final_path, "study: { name = \"webshop\"; };\n");
    int n = snprintf(want, sizeof want,
                     "refusing to overwrite %s: it is not a strato results file", final_path);
    assert_true(n > 0 && (size_t)n < sizeof want);
    assert_int_equal(h5out_check_target(final_path, err, sizeof err), H5OUT_ECLOBBER);
    assert_string_equal(err, want);
    /* create makes the same check, so forgetting it cannot cost the user a file. */
    err[0] = '\0';
    assert_null(h5out_create(final_path, err, sizeof err));
    assert_string_equal(err, want);
    assert_false(exists(tmp_path));
    assert_true(text_equals(final_path, "study: { name = \"webshop\"; };\n"));
}

static void test_check_target_refuses_a_foreign_hdf5_file(void **state)
{
    struct fixture *f = *state;
    char no_format[PATH_LEN], other_format[PATH_LEN], err[ERR_LEN] = "";
    path_in(no_format, f, "data.h5");
    path_in(other_format, f, "other.h5");
    write_foreign_h5(no_format, NULL);
    write_foreign_h5(other_format, "someone-elses-results");
    assert_int_equal(h5out_check_target(no_format, err, sizeof err), H5OUT_ECLOBBER);
    assert_non_null(strstr(err, "it is not a strato results file"));
    assert_int_equal(h5out_check_target(other_format, err, sizeof err), H5OUT_ECLOBBER);
    assert_non_null(strstr(err, other_format));
}

static void test_check_target_refuses_a_directory(void **state)
{
    struct fixture *f = *state;
    char sub[PATH_LEN], err[ERR_LEN] = "";
    path_in(sub, f, "results");
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(h5out_check_target(sub, err, sizeof err), H5OUT_ECLOBBER);
}

static void test_missing_directory_is_an_environment_error(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], missing[PATH_LEN], err[ERR_LEN] = "", want[2 * PATH_LEN];
    path_in(missing, f, "nope");
    path_in(final_path, f, "nope/out.h5");
    int n = snprintf(want, sizeof want, "cannot write %s: directory %s does not exist", final_path,
                     missing);
    assert_true(n > 0 && (size_t)n < sizeof want);
    assert_int_equal(h5out_check_target(final_path, err, sizeof err), H5OUT_EENV);
    assert_string_equal(err, want);
    err[0] = '\0';
    assert_null(h5out_create(final_path, err, sizeof err));
    assert_string_equal(err, want);
}

static void test_parent_that_is_a_file_is_an_environment_error(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], plain[PATH_LEN], err[ERR_LEN] = "";
    path_in(plain, f, "plain.txt");
    path_in(final_path, f, "plain.txt/out.h5");
    write_text(plain, "x");
    assert_int_equal(h5out_check_target(final_path, err, sizeof err), H5OUT_EENV);
    assert_non_null(strstr(err, "is not a directory"));
}

static void test_unwritable_directory_is_an_environment_error(void **state)
{
    struct fixture *f = *state;
    /* root may write anywhere, so the permission bits cannot make a directory unwritable for it. */
    if (geteuid() == 0)
        skip();
    char locked[PATH_LEN], final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(locked, f, "locked");
    path_in(final_path, f, "locked/out.h5");
    assert_int_equal(mkdir(locked, 0500), 0);
    int status = h5out_check_target(final_path, err, sizeof err);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    chmod(locked, 0700);
    assert_int_equal(status, H5OUT_EENV);
    assert_non_null(strstr(err, "is not writable"));
    assert_null(o);
}

static void test_bad_enum_value_is_rejected_and_the_file_discarded(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], tmp_path[PATH_LEN], err[ERR_LEN] = "", name[32];
    path_in(final_path, f, "bad.h5");
    tmp_name_of(tmp_path, final_path);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    struct h5out_table *t = h5out_table_create(o, h5out_root(o), "events", event_cols,
                                               N_EVENT_COLS, sizeof(struct event_row), 8);
    assert_non_null(t);
    struct event_row rows[2] = {event_at(0, name, sizeof name), event_at(1, name, sizeof name)};
    rows[1].kind = N_KINDS;
    assert_int_equal(h5out_table_append(t, rows, 2), H5OUT_EARG);
    assert_non_null(strstr(h5out_error(o), "column kind: 3 is not one of its 3 enum values"));
    /* The first failure sticks: later calls report it instead of writing. */
    assert_int_equal(h5out_table_append(t, rows, 1), H5OUT_EARG);
    assert_int_equal(h5out_attr_f64(o, h5out_root(o), "x", 1.0), H5OUT_EARG);
    assert_int_equal(h5out_finish(o, true, err, sizeof err), H5OUT_EARG);
    assert_non_null(strstr(err, "column kind"));
    assert_false(exists(final_path));
    assert_false(exists(tmp_path));
}

/* A fresh handle per column list, since a rejection sticks to the handle that saw it. */
static void expect_columns_rejected(const struct fixture *f, const struct h5out_col *cols,
                                    size_t n_cols, size_t row_size, const char *why)
{
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "cols.h5");
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    assert_null(h5out_table_create(o, h5out_root(o), "series", cols, n_cols, row_size, 16));
    if (!strstr(h5out_error(o), why))
        print_error("message \"%s\" lacks \"%s\"\n", h5out_error(o), why);
    assert_non_null(strstr(h5out_error(o), why));
    assert_int_equal(h5out_finish(o, true, err, sizeof err), H5OUT_EARG);
    assert_false(exists(final_path));
}

static void test_bad_column_lists_are_rejected_with_a_reason(void **state)
{
    static const char *const twice[] = {"up", "down", "up"};
    const struct h5out_col outside[] = {{"t_s", H5OUT_F64, 0, NULL, 0},
                                        {"seq", H5OUT_U64, 8, NULL, 0}};
    const struct h5out_col overlap[] = {{"t_s", H5OUT_F64, 0, NULL, 0},
                                        {"az", H5OUT_U32, 4, NULL, 0}};
    const struct h5out_col same_name[] = {{"t_s", H5OUT_F64, 0, NULL, 0},
                                          {"t_s", H5OUT_F64, 8, NULL, 0}};
    const struct h5out_col enum_twice[] = {{"state", H5OUT_ENUM, 0, twice, 3}};
    const struct h5out_col enum_empty[] = {{"state", H5OUT_ENUM, 0, NULL, 0}};
    expect_columns_rejected(*state, outside, 2, 12, "column 1 (seq, U64 at offset 8) does not fit");
    expect_columns_rejected(*state, overlap, 2, 16, "columns t_s and az overlap");
    expect_columns_rejected(*state, same_name, 2, 16, "two columns are named t_s");
    expect_columns_rejected(*state, enum_twice, 1, 4, "enum column state: name up appears twice");
    expect_columns_rejected(*state, enum_empty, 1, 4, "enum column state needs 1 or more names");
}

static void test_hdf5_failure_becomes_a_one_line_message(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "dup.h5");
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(h5out_table_create(o, h5out_root(o), "series", tick_cols, 3,
                                       sizeof(struct tick_row), 16));
    assert_null(h5out_table_create(o, h5out_root(o), "series", tick_cols, 3,
                                   sizeof(struct tick_row), 16));
    assert_string_equal(h5out_error(o), "cannot create table series: name already exists");
    assert_int_equal(h5out_finish(o, true, err, sizeof err), H5OUT_EENV);
    assert_string_equal(err, "cannot create table series: name already exists");
    assert_false(exists(final_path));
}

static void test_finish_keeps_results_when_the_target_became_foreign(void **state)
{
    struct fixture *f = *state;
    char final_path[PATH_LEN], tmp_path[PATH_LEN], err[ERR_LEN] = "";
    path_in(final_path, f, "late.h5");
    tmp_name_of(tmp_path, final_path);
    struct h5out *o = h5out_create(final_path, err, sizeof err);
    assert_non_null(o);
    write_text(final_path, "someone else's notes\n");
    assert_int_equal(h5out_finish(o, true, err, sizeof err), H5OUT_ECLOBBER);
    assert_non_null(strstr(err, "refusing to overwrite"));
    assert_non_null(strstr(err, tmp_path));
    assert_true(text_equals(final_path, "someone else's notes\n"));
    hid_t file = H5Fopen(tmp_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(file >= 0);
    assert_int_equal(read_bool_attr(file, "complete"), 1);
    H5Fclose(file);
}

static void test_two_files_can_be_written_at_once(void **state)
{
    struct fixture *f = *state;
    char path_a[PATH_LEN], path_b[PATH_LEN], err[ERR_LEN] = "";
    path_in(path_a, f, "a.h5");
    path_in(path_b, f, "b.h5");
    struct h5out *a = h5out_create(path_a, err, sizeof err);
    struct h5out *b = h5out_create(path_b, err, sizeof err);
    assert_non_null(a);
    assert_non_null(b);
    struct h5out_table *ta = h5out_table_create(a, h5out_root(a), "series", tick_cols, 3,
                                                sizeof(struct tick_row), 3);
    struct h5out_table *tb = h5out_table_create(b, h5out_root(b), "series", tick_cols, 3,
                                                sizeof(struct tick_row), 5);
    for (uint64_t i = 0; i < 7; i++) {
        struct tick_row ra = {.t_s = (double)i, .seq = i, .label = "a"};
        struct tick_row rb = {.t_s = -(double)i, .seq = 100 + i, .label = "b"};
        assert_int_equal(h5out_table_append(ta, &ra, 1), 0);
        if (i < 4)
            assert_int_equal(h5out_table_append(tb, &rb, 1), 0);
    }
    assert_int_equal(h5out_finish(b, true, err, sizeof err), 0);
    assert_int_equal(h5out_finish(a, false, err, sizeof err), 0);

    const char *paths[2] = {path_a, path_b};
    const hsize_t rows[2] = {7, 4};
    const uint64_t last_seq[2] = {6, 103};
    const int complete[2] = {0, 1};
    for (int k = 0; k < 2; k++) {
        hid_t file = H5Fopen(paths[k], H5F_ACC_RDONLY, H5P_DEFAULT);
        hid_t dset = H5Dopen2(file, "series", H5P_DEFAULT);
        assert_int_equal(rows_in(dset), rows[k]);
        uint64_t seq[7] = {0};
        hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(uint64_t));
        H5Tinsert(mem, "seq", 0, H5T_NATIVE_UINT64);
        assert_true(H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, seq) >= 0);
        assert_true(seq[rows[k] - 1] == last_seq[k]);
        assert_int_equal(read_bool_attr(file, "complete"), complete[k]);
        H5Tclose(mem);
        H5Dclose(dset);
        H5Fclose(file);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table_round_trips_every_column_type, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_ten_thousand_single_row_appends_read_back_exactly,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_attributes_round_trip_on_root_groups_and_tables,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_groups_are_created_with_parents_and_reopened,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_finish_renames_the_temporary_file_to_the_final_name,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(
            test_incomplete_finish_still_renames_and_marks_complete_false, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_abort_leaves_neither_temporary_nor_final_file,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_finish_replaces_an_existing_strato_file, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_check_target_accepts_an_absent_path_and_a_strato_file,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_check_target_refuses_a_file_that_is_not_hdf5,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_check_target_refuses_a_foreign_hdf5_file, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_check_target_refuses_a_directory, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_missing_directory_is_an_environment_error, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_parent_that_is_a_file_is_an_environment_error,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_unwritable_directory_is_an_environment_error,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_bad_enum_value_is_rejected_and_the_file_discarded,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_bad_column_lists_are_rejected_with_a_reason,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_hdf5_failure_becomes_a_one_line_message, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_finish_keeps_results_when_the_target_became_foreign,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_two_files_can_be_written_at_once, make_dir,
                                        remove_dir),
    };
    /* The tests read files through HDF5 too; failures they provoke on purpose need no stack dump. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
