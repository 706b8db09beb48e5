/* testh5.h: HDF5 read-back helpers shared by the unit tests that check a results file (test_h5out,
 * test_study). They read through the plain HDF5 C API, never through h5out; the string and bool
 * attribute readers also check the stored type, since that is what h5py sees. Each fails the test
 * (cmocka) on what it cannot read. Include after <cmocka.h>. */
#ifndef TESTH5_H
#define TESTH5_H
#include <stdint.h>
#include <stdio.h>

#include <hdf5.h>

/* A new variable-length UTF-8 string type; the caller closes it with H5Tclose. */
static inline hid_t vl_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* Rows of a one-dimensional dataset; fails the test if it has another rank. */
static inline hsize_t rows_in(hid_t dset)
{
    hid_t space = H5Dget_space(dset);
    hsize_t n = 0;
    assert_int_equal(H5Sget_simple_extent_ndims(space), 1);
    H5Sget_simple_extent_dims(space, &n, NULL);
    H5Sclose(space);
    return n;
}

/* Reads a scalar variable-length string attribute into buf (len bytes, truncated, "" if the value
 * is NULL); fails the test unless it exists and is stored as a UTF-8 variable-length string. */
static inline void read_str_attr(hid_t obj, const char *name, char *buf, size_t len)
{
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(attr >= 0);
    hid_t file_type = H5Aget_type(attr);
    assert_true(H5Tis_variable_str(file_type) > 0);
    assert_int_equal(H5Tget_cset(file_type), H5T_CSET_UTF8);
    hid_t mem = vl_string_type();
    char *value = NULL;
    assert_true(H5Aread(attr, mem, &value) >= 0);
    snprintf(buf, len, "%s", value ? value : "");
    H5free_memory(value);
    H5Tclose(mem);
    H5Tclose(file_type);
    H5Aclose(attr);
}

/* Reads a scalar integer attribute as int64; fails the test if it is absent or unreadable. */
static inline int64_t read_i64_attr(hid_t obj, const char *name)
{
    int64_t v = -1;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(attr >= 0);
    assert_true(H5Aread(attr, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(attr);
    return v;
}

/* Reads a bool attribute and returns 0 or 1; fails the test unless it is a one-byte enum whose 0 is
 * FALSE and 1 is TRUE (what h5py expects) and its value is one of those two. */
static inline int read_bool_attr(hid_t obj, const char *name)
{
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    assert_true(attr >= 0);
    hid_t type = H5Aget_type(attr);
    assert_int_equal(H5Tget_class(type), H5T_ENUM);
    assert_int_equal(H5Tget_size(type), 1);
    char label[16];
    int8_t probe = 0;
    assert_true(H5Tenum_nameof(type, &probe, label, sizeof label) >= 0);
    assert_string_equal(label, "FALSE");
    probe = 1;
    assert_true(H5Tenum_nameof(type, &probe, label, sizeof label) >= 0);
    assert_string_equal(label, "TRUE");
    int8_t v = -1;
    assert_true(H5Aread(attr, type, &v) >= 0);
    assert_true(v == 0 || v == 1);
    H5Tclose(type);
    H5Aclose(attr);
    return v;
}

#endif
