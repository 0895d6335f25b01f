// Small C helpers over the libhdf5 C API used by package h5 (see cgo.go).
// Everything here is called with the package mutex held.

#ifndef KERAGO_H5_SHIM_H
#define KERAGO_H5_SHIM_H

#include <stddef.h>
#include <hdf5.h>

// Object kinds reported by h5go_kind.
enum { H5GO_NONE = 0, H5GO_GROUP = 1, H5GO_DATASET = 2, H5GO_DATATYPE = 3, H5GO_OTHER = 4 };

// Memory layouts for h5go_read.
enum { H5GO_MEM_FLOAT32 = 0, H5GO_MEM_UINT16 = 1, H5GO_MEM_FILETYPE = 2 };

// Description of an HDF5 datatype, filled by h5go_type_info.
typedef struct {
	int cls;       // H5T_class_t
	size_t size;   // bytes per element in the file (H5Tget_size)
	int is_signed; // integers: 1 if signed
	int vlen_str;  // strings: 1 if variable-length
	int cset;      // strings: H5T_cset_t
} h5go_tinfo;

// Description of a dataspace, filled by h5go_space_info.
#define H5GO_MAX_RANK 32
typedef struct {
	int cls;  // H5S_class_t: H5S_SCALAR, H5S_SIMPLE or H5S_NULL
	int rank; // 0 for scalar and null spaces
	hsize_t dims[H5GO_MAX_RANK];
} h5go_sinfo;

// A NUL-separated list of names, malloc'd; free with free(buf).
typedef struct {
	char *buf;
	size_t len, cap;
	size_t count;
	size_t limit; // stop with an error after this many names
} h5go_names;

void h5go_silence(void);
size_t h5go_take_error(char *buf, size_t n);

hid_t h5go_open_file(const char *path);
herr_t h5go_ro_fapl(hid_t fapl, const void *mem, size_t size);
int h5go_ro_driver(void);
hid_t h5go_open_image(void *buf, size_t n);
hid_t h5go_create_file(const char *path);
hid_t h5go_lapl(void);
hid_t h5go_lcpl(void);

int h5go_kind(hid_t loc, const char *path);
int h5go_link_names(hid_t group, h5go_names *out);
int h5go_attr_names(hid_t obj, h5go_names *out);

int h5go_type_info(hid_t type, h5go_tinfo *out);
int h5go_space_info(hid_t space, h5go_sinfo *out);
int h5go_dataset_layout(hid_t ds, int *chunked, int *filtered, int *short_compact);

herr_t h5go_read(hid_t ds, int mem, void *buf);
herr_t h5go_attr_read_vlen(hid_t attr, int cset, char **out);
herr_t h5go_attr_reclaim_vlen(hid_t attr, int cset, char **buf);
herr_t h5go_attr_read_fixed(hid_t attr, size_t size, int cset, char *out);
herr_t h5go_attr_read_double(hid_t attr, double *out);

herr_t h5go_write_vlen_string(hid_t obj, const char *name, const char *value, int utf8);
herr_t h5go_write_fixed_strings(hid_t obj, const char *name, const char *data, size_t size, hsize_t n);
herr_t h5go_write_empty_float64(hid_t obj, const char *name);
hid_t h5go_create_group(hid_t loc, const char *path);
herr_t h5go_write_float32(hid_t loc, const char *path, int rank, const hsize_t *dims, const float *data);

void *h5go_malloc(size_t n);
ssize_t h5go_open_objects(hid_t file);
int h5go_obj_addr(hid_t obj, unsigned long long *addr);

#endif
