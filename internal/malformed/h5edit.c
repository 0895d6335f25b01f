// See h5edit.h. Errors: libhdf5's automatic error printing is turned off by
// the Go side; a failing step returns its negative step number.

#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include "h5edit.h"

static hid_t open_rw(const char *file) {
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	return H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
}

static hid_t vlen_utf8(void) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

int mf_read_str_attr(const char *file, const char *obj, const char *name, char **out) {
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	*out = NULL;
	hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0) return -1;
	int r = 0;
	hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0) {
		r = -2;
		goto done;
	}
	hid_t ft = H5Aget_type(a);
	if (H5Tget_class(ft) != H5T_STRING) {
		r = -3;
	} else if (H5Tis_variable_str(ft) > 0) {
		hid_t mt = vlen_utf8();
		H5Tset_cset(mt, H5Tget_cset(ft));
		char *s = NULL;
		if (H5Aread(a, mt, &s) < 0) {
			r = -4;
		} else {
			*out = strdup(s ? s : "");
			hid_t sp = H5Screate(H5S_SCALAR);
			H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, &s);
			H5Sclose(sp);
		}
		H5Tclose(mt);
	} else {
		size_t n = H5Tget_size(ft);
		char *buf = calloc(n + 1, 1);
		if (H5Aread(a, ft, buf) < 0) {
			free(buf);
			r = -5;
		} else {
			*out = buf;
		}
	}
	H5Tclose(ft);
	H5Aclose(a);
done:
	H5Fclose(f);
	return r;
}

// replace_attr deletes attribute name of obj if present and creates it anew.
static int write_attr(const char *file, const char *obj, const char *name, hid_t type, hid_t space, const void *data) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	int r = 0;
	hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
	if (o < 0) {
		r = -2;
		goto done;
	}
	if (H5Aexists(o, name) > 0 && H5Adelete(o, name) < 0) {
		r = -3;
	} else {
		hid_t a = H5Acreate2(o, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
		if (a < 0) {
			r = -4;
		} else {
			if (data != NULL && H5Awrite(a, type, data) < 0) r = -5;
			H5Aclose(a);
		}
	}
	H5Oclose(o);
done:
	if (H5Fclose(f) < 0 && r == 0) r = -6;
	return r;
}

int mf_set_str_attr(const char *file, const char *obj, const char *name, const char *value) {
	hid_t t = vlen_utf8();
	hid_t s = H5Screate(H5S_SCALAR);
	int r = write_attr(file, obj, name, t, s, &value);
	H5Sclose(s);
	H5Tclose(t);
	return r;
}

int mf_set_f64_attr(const char *file, const char *obj, const char *name, const double *v, hsize_t n) {
	hid_t s = n == 0 ? H5Screate_simple(1, &n, NULL) : (n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL));
	int r = write_attr(file, obj, name, H5T_IEEE_F64LE, s, n == 0 ? NULL : v);
	H5Sclose(s);
	return r;
}

int mf_set_fixed_strs_attr(const char *file, const char *obj, const char *name, const char *data, size_t size, hsize_t n) {
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, size);
	H5Tset_strpad(t, H5T_STR_NULLPAD);
	hid_t s = H5Screate_simple(1, &n, NULL);
	int r = write_attr(file, obj, name, t, s, data);
	H5Sclose(s);
	H5Tclose(t);
	return r;
}

int mf_del_attr(const char *file, const char *obj, const char *name) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	int r = H5Adelete_by_name(f, obj, name, H5P_DEFAULT) < 0 ? -2 : 0;
	if (H5Fclose(f) < 0 && r == 0) r = -3;
	return r;
}

int mf_del_link(const char *file, const char *path) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	int r = H5Ldelete(f, path, H5P_DEFAULT) < 0 ? -2 : 0;
	if (H5Fclose(f) < 0 && r == 0) r = -3;
	return r;
}

static hid_t file_type(int dtype) {
	hid_t t;
	switch (dtype) {
	case MF_F16:
		// IEEE half precision, built as h5py does.
		t = H5Tcopy(H5T_IEEE_F32LE);
		if (t < 0) return -1;
		if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
			H5Tclose(t);
			return -1;
		}
		return t;
	case MF_F32: return H5Tcopy(H5T_IEEE_F32LE);
	case MF_F32BE: return H5Tcopy(H5T_IEEE_F32BE);
	case MF_F64: return H5Tcopy(H5T_IEEE_F64LE);
	case MF_I8: return H5Tcopy(H5T_STD_I8LE);
	case MF_I32: return H5Tcopy(H5T_STD_I32LE);
	case MF_U8: return H5Tcopy(H5T_STD_U8LE);
	case MF_I64: return H5Tcopy(H5T_STD_I64LE);
	case MF_STR:
		t = H5Tcopy(H5T_C_S1);
		if (t >= 0) H5Tset_size(t, 4);
		return t;
	}
	return -1;
}

int mf_put_dataset(const char *file, const char *path, int dtype, int rank, const hsize_t *dims, const double *data, int gzip) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	int r = 0;
	hid_t t = -1, s = -1, dcpl = -1, lcpl = -1, d = -1;
	if (H5Lexists(f, path, H5P_DEFAULT) > 0 && H5Ldelete(f, path, H5P_DEFAULT) < 0) {
		r = -2;
		goto done;
	}
	if ((t = file_type(dtype)) < 0) {
		r = -3;
		goto done;
	}
	s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
	if (s < 0) {
		r = -4;
		goto done;
	}
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	if (gzip && rank > 0) {
		hsize_t chunk[32];
		for (int i = 0; i < rank && i < 32; i++) chunk[i] = dims[i] < 64 ? (dims[i] ? dims[i] : 1) : 64;
		if (H5Pset_chunk(dcpl, rank, chunk) < 0 || H5Pset_deflate(dcpl, 6) < 0) {
			r = -5;
			goto done;
		}
	}
	lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	d = H5Dcreate2(f, path, t, s, lcpl, dcpl, H5P_DEFAULT);
	if (d < 0) {
		r = -6;
		goto done;
	}
	if (data != NULL && dtype != MF_STR && H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) r = -7;
done:
	if (d >= 0) H5Dclose(d);
	if (lcpl >= 0) H5Pclose(lcpl);
	if (dcpl >= 0) H5Pclose(dcpl);
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
	if (H5Fclose(f) < 0 && r == 0) r = -8;
	return r;
}

int mf_hard_link(const char *file, const char *target, const char *link) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	int r = H5Lcreate_hard(f, target, f, link, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -2 : 0;
	if (H5Fclose(f) < 0 && r == 0) r = -3;
	return r;
}

int mf_soft_link(const char *file, const char *target, const char *link) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	int r = H5Lcreate_soft(target, f, link, H5P_DEFAULT, H5P_DEFAULT) < 0 ? -2 : 0;
	if (H5Fclose(f) < 0 && r == 0) r = -3;
	return r;
}

int mf_create_group(const char *file, const char *path) {
	hid_t f = open_rw(file);
	if (f < 0) return -1;
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	H5Pset_create_intermediate_group(lcpl, 1);
	hid_t g = H5Gcreate2(f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
	int r = g < 0 ? -2 : 0;
	if (g >= 0) H5Gclose(g);
	H5Pclose(lcpl);
	if (H5Fclose(f) < 0 && r == 0) r = -3;
	return r;
}

typedef struct {
	char *buf;
	size_t len, cap;
} names;

static herr_t visit_cb(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
	(void)obj;
	if (info->type != H5O_TYPE_DATASET) return 0;
	names *n = (names *)data;
	size_t l = strlen(name) + 1;
	if (n->len + l > n->cap) {
		size_t c = n->cap * 2 + l + 256;
		char *b = realloc(n->buf, c);
		if (b == NULL) return -1;
		n->buf = b;
		n->cap = c;
	}
	memcpy(n->buf + n->len, name, l);
	n->len += l;
	return 0;
}

// mf_list_datasets returns the paths of every dataset as NUL-terminated
// strings one after another in *out (malloc'd, *len bytes).
int mf_list_datasets(const char *file, char **out, size_t *len) {
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	*out = NULL;
	*len = 0;
	hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0) return -1;
	names n = {0};
	int r = H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &n, H5O_INFO_BASIC) < 0 ? -2 : 0;
	H5Fclose(f);
	*out = n.buf;
	*len = n.len;
	return r;
}
