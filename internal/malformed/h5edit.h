// libhdf5 helpers for editing real Keras files into hostile variants
// (see h5edit.go). Each function opens the file, makes one change and
// closes it; they return a negative step number on failure.

#ifndef KERAGO_MALFORMED_H5EDIT_H
#define KERAGO_MALFORMED_H5EDIT_H

#include <stddef.h>
#include <hdf5.h>

// Dataset element types for mf_put_dataset.
enum {
	MF_F16 = 0,
	MF_F32 = 1,
	MF_F64 = 2,
	MF_I8 = 3,
	MF_I32 = 4,
	MF_U8 = 5,
	MF_I64 = 6,
	MF_STR = 7, // fixed-length 4-byte strings
	MF_F32BE = 8,
};

int mf_read_str_attr(const char *file, const char *obj, const char *name, char **out);
int mf_set_str_attr(const char *file, const char *obj, const char *name, const char *value);
int mf_set_f64_attr(const char *file, const char *obj, const char *name, const double *v, hsize_t n);
int mf_set_fixed_strs_attr(const char *file, const char *obj, const char *name, const char *data, size_t size, hsize_t n);
int mf_del_attr(const char *file, const char *obj, const char *name);
int mf_del_link(const char *file, const char *path);
int mf_put_dataset(const char *file, const char *path, int dtype, int rank, const hsize_t *dims, const double *data, int gzip);
int mf_hard_link(const char *file, const char *target, const char *link);
int mf_soft_link(const char *file, const char *target, const char *link);
int mf_create_group(const char *file, const char *path);
int mf_list_datasets(const char *file, char **out, size_t *len);

#endif
