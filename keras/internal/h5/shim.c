// C helpers for package h5. See shim.h and cgo.go.
//
// Conventions: functions returning hid_t/herr_t/int return a negative value on
// failure and leave the libhdf5 error stack describing the failure (the Go side
// reads it with h5go_take_error). Cleanup calls made after a failure save and
// restore the error stack, because every libhdf5 API call clears it on entry.

#include <stdlib.h>
#include <string.h>
#include <hdf5.h>
#include <hdf5_hl.h>
#include "shim.h"

#define KEEP_ERROR(stmt)                              \
	do {                                              \
		hid_t saved_ = H5Eget_current_stack();        \
		stmt;                                         \
		if (saved_ >= 0) H5Eset_current_stack(saved_); \
	} while (0)

void h5go_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

// ---- error stack -----------------------------------------------------------

typedef struct {
	char inner[384];
	char outer[160];
	unsigned n;
} walk_state;

static void copy_clean(char *dst, size_t n, const char *src) {
	size_t i = 0;
	if (src == NULL) src = "";
	for (; *src && i + 1 < n; src++) {
		char c = *src;
		if (c == '\n' || c == '\r' || c == '\t') c = ' ';
		dst[i++] = c;
	}
	dst[i] = 0;
}

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
	walk_state *s = (walk_state *)data;
	if (s->n == 0) {
		copy_clean(s->inner, sizeof s->inner, e->desc);
		if (s->inner[0] == 0) {
			// No description: fall back to the minor message ("Object not found").
			char min[160];
			if (H5Eget_msg(e->min_num, NULL, min, sizeof min) > 0) copy_clean(s->inner, sizeof s->inner, min);
		}
	}
	copy_clean(s->outer, sizeof s->outer, e->desc);
	s->n = n + 1;
	return 0;
}

// h5go_take_error writes "outermost description: innermost description" of the
// current error stack into buf and clears the stack. It returns the length
// written (0 when the stack was empty).
size_t h5go_take_error(char *buf, size_t n) {
	walk_state s;
	memset(&s, 0, sizeof s);
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &s);
	H5Eclear2(H5E_DEFAULT);
	if (n == 0) return 0;
	buf[0] = 0;
	if (s.n == 0) return 0;
	if (s.n == 1 || strcmp(s.inner, s.outer) == 0) {
		copy_clean(buf, n, s.inner);
	} else {
		size_t lo = strlen(s.outer);
		copy_clean(buf, n, s.outer);
		if (lo + 3 < n) {
			buf[lo] = ':';
			buf[lo + 1] = ' ';
			copy_clean(buf + lo + 2, n - lo - 2, s.inner);
		}
	}
	return strlen(buf);
}

// ---- files -----------------------------------------------------------------

static hid_t new_fapl(void) {
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return -1;
	// Close every object of the file when the file is closed.
	if (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
		KEEP_ERROR(H5Pclose(fapl));
		return -1;
	}
	return fapl;
}

hid_t h5go_open_file(const char *path) {
	hid_t fapl = new_fapl();
	if (fapl < 0) return -1;
#if H5_VERSION_GE(1, 10, 7)
	// Read-only access: do not require flock(2), which fails on some network
	// and read-only file systems.
	H5Pset_file_locking(fapl, 0, 1);
#endif
	// The read-only driver of vfd.c (libhdf5's default, sec2, on 1.13+).
	if (h5go_ro_fapl(fapl, NULL, 0) < 0) {
		KEEP_ERROR(H5Pclose(fapl));
		return -1;
	}
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	KEEP_ERROR(H5Pclose(fapl));
	return f;
}

// h5go_open_image opens, read-only, the HDF5 file image held in buf. The
// library neither copies nor frees buf, which must stay valid until the file is
// closed.
hid_t h5go_open_image(void *buf, size_t n) {
	if (!h5go_ro_driver()) {
		return H5LTopen_file_image(buf, n, H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE);
	}
	// The read-only driver of vfd.c, reading buf in place.
	hid_t fapl = new_fapl();
	if (fapl < 0) return -1;
	if (h5go_ro_fapl(fapl, buf, n) < 0) {
		KEEP_ERROR(H5Pclose(fapl));
		return -1;
	}
	hid_t f = H5Fopen("<memory image>", H5F_ACC_RDONLY, fapl);
	KEEP_ERROR(H5Pclose(fapl));
	return f;
}

hid_t h5go_create_file(const char *path) {
	hid_t fapl = new_fapl();
	if (fapl < 0) return -1;
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	KEEP_ERROR(H5Pclose(fapl));
	return f;
}

ssize_t h5go_open_objects(hid_t file) {
	return H5Fget_obj_count(file, H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL);
}

// h5go_obj_addr returns the file address (relative to the superblock) of the
// header of the open object obj.
int h5go_obj_addr(hid_t obj, unsigned long long *addr) {
#if H5_VERSION_GE(1, 12, 0)
	H5O_info2_t info;
	haddr_t a;
	if (H5Oget_info3(obj, &info, H5O_INFO_BASIC) < 0) return -1;
	if (H5VLnative_token_to_addr(obj, info.token, &a) < 0) return -1;
	*addr = (unsigned long long)a;
#elif H5_VERSION_GE(1, 10, 3)
	H5O_info_t info;
	if (H5Oget_info2(obj, &info, H5O_INFO_BASIC) < 0) return -1;
	*addr = (unsigned long long)info.addr;
#else
	H5O_info_t info;
	if (H5Oget_info(obj, &info) < 0) return -1;
	*addr = (unsigned long long)info.addr;
#endif
	return 0;
}

// ---- property lists --------------------------------------------------------

static herr_t deny_external_link(const char *parent_file, const char *parent_group, const char *child_file,
                                 const char *child_object, unsigned *acc_flags, hid_t fapl, void *data) {
	(void)parent_file; (void)parent_group; (void)child_file; (void)child_object;
	(void)acc_flags; (void)fapl; (void)data;
	return -1;
}

// h5go_lapl returns the link access property list used for every lookup: it
// refuses to follow external links, so a crafted file cannot make us open other
// files. Created once, never closed.
hid_t h5go_lapl(void) {
	static hid_t lapl = -1;
	if (lapl < 0) {
		hid_t p = H5Pcreate(H5P_LINK_ACCESS);
		if (p < 0) return -1;
		if (H5Pset_elink_cb(p, deny_external_link, NULL) < 0) {
			KEEP_ERROR(H5Pclose(p));
			return -1;
		}
		lapl = p;
	}
	return lapl;
}

// h5go_lcpl returns a link creation property list that creates missing
// intermediate groups (as h5py does). Created once, never closed.
hid_t h5go_lcpl(void) {
	static hid_t lcpl = -1;
	if (lcpl < 0) {
		hid_t p = H5Pcreate(H5P_LINK_CREATE);
		if (p < 0) return -1;
		if (H5Pset_create_intermediate_group(p, 1) < 0) {
			KEEP_ERROR(H5Pclose(p));
			return -1;
		}
		lcpl = p;
	}
	return lcpl;
}

// ---- lookups ---------------------------------------------------------------

// h5go_kind reports what path (relative to loc, or absolute) names: H5GO_NONE
// when some component does not exist, otherwise the kind of the object. It
// returns -1 on a library failure.
int h5go_kind(hid_t loc, const char *path) {
	hid_t lapl = h5go_lapl();
	if (lapl < 0) return -1;
	size_t n = strlen(path);
	char *p = malloc(n + 1);
	if (p == NULL) return -1;
	memcpy(p, path, n + 1);
	// Check each prefix: H5Lexists fails (rather than answering 0) when an
	// intermediate component is missing.
	for (size_t i = 1; i <= n; i++) {
		if (i < n && p[i] != '/') continue;
		if (p[i - 1] == '/') continue; // root or repeated slash
		char saved = p[i];
		p[i] = 0;
		htri_t e = H5Lexists(loc, p, lapl);
		p[i] = saved;
		if (e < 0) {
			free(p);
			return -1;
		}
		if (e == 0) {
			free(p);
			return H5GO_NONE;
		}
	}
	free(p);
	if (strcmp(path, "/") != 0 && strcmp(path, ".") != 0) {
		H5L_info_t li;
		if (H5Lget_info(loc, path, &li, lapl) < 0) return -1;
		if (li.type != H5L_TYPE_HARD && li.type != H5L_TYPE_SOFT) return H5GO_OTHER;
	}
	hid_t o = H5Oopen(loc, path, lapl);
	if (o < 0) return -1;
	int kind;
	switch (H5Iget_type(o)) {
	case H5I_GROUP: kind = H5GO_GROUP; break;
	case H5I_DATASET: kind = H5GO_DATASET; break;
	case H5I_DATATYPE: kind = H5GO_DATATYPE; break;
	default: kind = H5GO_OTHER; break;
	}
	H5Oclose(o);
	return kind;
}

static int append_name(h5go_names *out, const char *name) {
	if (out->count >= out->limit) return -1;
	size_t n = strlen(name) + 1;
	if (out->len + n > out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 1024;
		while (cap < out->len + n) cap *= 2;
		char *b = realloc(out->buf, cap);
		if (b == NULL) return -1;
		out->buf = b;
		out->cap = cap;
	}
	memcpy(out->buf + out->len, name, n);
	out->len += n;
	out->count++;
	return 0;
}

static herr_t link_cb(hid_t g, const char *name, const H5L_info_t *info, void *data) {
	(void)g; (void)info;
	return append_name((h5go_names *)data, name) < 0 ? -1 : 0;
}

static herr_t attr_cb(hid_t o, const char *name, const H5A_info_t *info, void *data) {
	(void)o; (void)info;
	return append_name((h5go_names *)data, name) < 0 ? -1 : 0;
}

// h5go_link_names lists the link names of group in increasing name order.
//
// As with attributes (below), H5Literate builds a table of a compact group's
// links and, in libhdf5 1.10, frees its unfilled slots when a link message
// fails to decode (a crash found by FuzzOpen). H5Lexists decodes the same
// messages without a table and fails cleanly, so it goes first, with a name
// no Keras file uses, to visit every message.
int h5go_link_names(hid_t group, h5go_names *out) {
	if (H5Lexists(group, "\x01h5go link probe", H5P_DEFAULT) < 0) return -1;
	return H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, NULL, link_cb, out) < 0 ? -1 : 0;
}

// h5go_attr_names lists the attribute names of obj in increasing name order.
//
// H5Aiterate2 first builds a table of the object's attributes; in libhdf5
// 1.10, when an attribute message fails to decode half way, it then frees the
// table's slots that were never filled (memory reused from its free lists):
// a crash that depends on what was freed before. H5Aexists walks and decodes
// the same messages without a table and fails cleanly, so it goes first, with
// a name no Keras file uses, to visit every message.
int h5go_attr_names(hid_t obj, h5go_names *out) {
	if (H5Aexists(obj, "\x01h5go attribute probe") < 0) return -1;
	return H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, attr_cb, out) < 0 ? -1 : 0;
}

// ---- types and spaces ------------------------------------------------------

int h5go_type_info(hid_t t, h5go_tinfo *out) {
	memset(out, 0, sizeof *out);
	H5T_class_t cls = H5Tget_class(t);
	if (cls < 0) return -1;
	out->cls = (int)cls;
	out->size = H5Tget_size(t);
	if (out->size == 0) return -1;
	if (cls == H5T_INTEGER) {
		H5T_sign_t s = H5Tget_sign(t);
		if (s < 0) return -1;
		out->is_signed = s == H5T_SGN_2;
	}
	if (cls == H5T_STRING) {
		htri_t v = H5Tis_variable_str(t);
		if (v < 0) return -1;
		out->vlen_str = v > 0;
		H5T_cset_t cs = H5Tget_cset(t);
		if (cs < 0) return -1;
		out->cset = (int)cs;
	}
	return 0;
}

int h5go_space_info(hid_t s, h5go_sinfo *out) {
	memset(out, 0, sizeof *out);
	H5S_class_t cls = H5Sget_simple_extent_type(s);
	if (cls < 0) return -1;
	out->cls = (int)cls;
	if (cls != H5S_SIMPLE) return 0;
	int rank = H5Sget_simple_extent_ndims(s);
	if (rank < 0) return -1;
	if (rank > H5GO_MAX_RANK) return -2;
	out->rank = rank;
	if (H5Sget_simple_extent_dims(s, out->dims, NULL) < 0) return -1;
	return 0;
}

//
// *short_compact is set when the dataset is compact (its data inside the
// object header) and holds fewer bytes than its dataspace and type need:
// libhdf5 1.10 would copy past them (a crash found by FuzzOpen).
int h5go_dataset_layout(hid_t ds, int *chunked, int *filtered, int *short_compact) {
	hid_t dcpl = H5Dget_create_plist(ds);
	if (dcpl < 0) return -1;
	H5D_layout_t l = H5Pget_layout(dcpl);
	int nf = H5Pget_nfilters(dcpl);
	KEEP_ERROR(H5Pclose(dcpl));
	if (l < 0 || nf < 0) return -1;
	*chunked = l == H5D_CHUNKED;
	*filtered = nf > 0;
	*short_compact = 0;
	if (l == H5D_COMPACT) {
		hid_t t = H5Dget_type(ds);
		if (t < 0) return -1;
		size_t elem = H5Tget_size(t);
		KEEP_ERROR(H5Tclose(t));
		hid_t sp = H5Dget_space(ds);
		if (sp < 0) return -1;
		hssize_t n = H5Sget_simple_extent_npoints(sp);
		KEEP_ERROR(H5Sclose(sp));
		if (elem == 0 || n < 0) return -1;
		hsize_t have = H5Dget_storage_size(ds);
		*short_compact = (hsize_t)n > have / elem;
	}
	return 0;
}

// ---- reading ---------------------------------------------------------------

// h5go_read reads the whole dataset into buf, converting to native float32
// (H5GO_MEM_FLOAT32), native uint16 (H5GO_MEM_UINT16) or copying the file's own
// type byte for byte (H5GO_MEM_FILETYPE, used for opaque bfloat16).
herr_t h5go_read(hid_t ds, int mem, void *buf) {
	hid_t mt;
	int close_mt = 0;
	switch (mem) {
	case H5GO_MEM_FLOAT32: mt = H5T_NATIVE_FLOAT; break;
	case H5GO_MEM_UINT16: mt = H5T_NATIVE_UINT16; break;
	default:
		mt = H5Dget_type(ds);
		if (mt < 0) return -1;
		close_mt = 1;
	}
	herr_t r = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
	if (close_mt) KEEP_ERROR(H5Tclose(mt));
	return r;
}

static hid_t vlen_string_type(int cset) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, (H5T_cset_t)cset) < 0) {
		KEEP_ERROR(H5Tclose(t));
		return -1;
	}
	return t;
}

// h5go_attr_read_vlen reads a variable-length string attribute into out, an
// array of as many char* as the attribute has elements. Release with
// h5go_attr_reclaim_vlen.
herr_t h5go_attr_read_vlen(hid_t attr, int cset, char **out) {
	hid_t t = vlen_string_type(cset);
	if (t < 0) return -1;
	herr_t r = H5Aread(attr, t, out);
	KEEP_ERROR(H5Tclose(t));
	return r;
}

herr_t h5go_attr_reclaim_vlen(hid_t attr, int cset, char **buf) {
	hid_t t = vlen_string_type(cset);
	if (t < 0) return -1;
	hid_t s = H5Aget_space(attr);
	if (s < 0) {
		KEEP_ERROR(H5Tclose(t));
		return -1;
	}
#if H5_VERSION_GE(1, 12, 0)
	herr_t r = H5Treclaim(t, s, H5P_DEFAULT, buf);
#else
	herr_t r = H5Dvlen_reclaim(t, s, H5P_DEFAULT, buf);
#endif
	KEEP_ERROR(H5Sclose(s); H5Tclose(t));
	return r;
}

// h5go_attr_read_fixed reads a fixed-length string attribute into out (size
// bytes per element, NUL-padded).
herr_t h5go_attr_read_fixed(hid_t attr, size_t size, int cset, char *out) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	herr_t r = -1;
	if (H5Tset_size(t, size) >= 0 && H5Tset_strpad(t, H5T_STR_NULLPAD) >= 0 &&
	    H5Tset_cset(t, (H5T_cset_t)cset) >= 0) {
		r = H5Aread(attr, t, out);
	}
	KEEP_ERROR(H5Tclose(t));
	return r;
}

herr_t h5go_attr_read_double(hid_t attr, double *out) { return H5Aread(attr, H5T_NATIVE_DOUBLE, out); }

// ---- writing ---------------------------------------------------------------

static herr_t replace_attr(hid_t obj, const char *name) {
	htri_t e = H5Aexists(obj, name);
	if (e < 0) return -1;
	if (e > 0 && H5Adelete(obj, name) < 0) return -1;
	return 0;
}

static herr_t write_attr(hid_t obj, const char *name, hid_t type, hid_t space, const void *data) {
	if (replace_attr(obj, name) < 0) return -1;
	hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0) return -1;
	herr_t r = 0;
	if (data != NULL) r = H5Awrite(a, type, data);
	if (r < 0) {
		KEEP_ERROR(H5Aclose(a));
		return -1;
	}
	return H5Aclose(a);
}

// h5go_write_vlen_string writes a scalar variable-length string attribute,
// charset UTF-8 if utf8 is non-zero, else ASCII (h5py's encoding of Python str
// and bytes values respectively).
herr_t h5go_write_vlen_string(hid_t obj, const char *name, const char *value, int utf8) {
	hid_t t = vlen_string_type(utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
	if (t < 0) return -1;
	hid_t s = H5Screate(H5S_SCALAR);
	if (s < 0) {
		KEEP_ERROR(H5Tclose(t));
		return -1;
	}
	herr_t r = write_attr(obj, name, t, s, &value);
	KEEP_ERROR(H5Sclose(s); H5Tclose(t));
	return r;
}

// h5go_write_fixed_strings writes a 1-D attribute of n fixed-length,
// NUL-padded ASCII strings of size bytes each (numpy dtype |S<size>).
herr_t h5go_write_fixed_strings(hid_t obj, const char *name, const char *data, size_t size, hsize_t n) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	if (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
		KEEP_ERROR(H5Tclose(t));
		return -1;
	}
	hid_t s = H5Screate_simple(1, &n, NULL);
	if (s < 0) {
		KEEP_ERROR(H5Tclose(t));
		return -1;
	}
	herr_t r = write_attr(obj, name, t, s, data);
	KEEP_ERROR(H5Sclose(s); H5Tclose(t));
	return r;
}

// h5go_write_empty_float64 writes a float64 attribute of shape (0,), what h5py
// stores for an empty Python list.
herr_t h5go_write_empty_float64(hid_t obj, const char *name) {
	hsize_t zero = 0;
	hid_t s = H5Screate_simple(1, &zero, NULL);
	if (s < 0) return -1;
	herr_t r = write_attr(obj, name, H5T_IEEE_F64LE, s, NULL);
	KEEP_ERROR(H5Sclose(s));
	return r;
}

hid_t h5go_create_group(hid_t loc, const char *path) {
	hid_t lcpl = h5go_lcpl();
	if (lcpl < 0) return -1;
	return H5Gcreate2(loc, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
}

// h5go_write_float32 creates a contiguous little-endian float32 dataset (rank
// 0 = scalar) and writes data into it.
herr_t h5go_write_float32(hid_t loc, const char *path, int rank, const hsize_t *dims, const float *data) {
	hid_t lcpl = h5go_lcpl();
	if (lcpl < 0) return -1;
	hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
	if (s < 0) return -1;
	hid_t d = H5Dcreate2(loc, path, H5T_IEEE_F32LE, s, lcpl, H5P_DEFAULT, H5P_DEFAULT);
	if (d < 0) {
		KEEP_ERROR(H5Sclose(s));
		return -1;
	}
	herr_t r = 0;
	if (data != NULL) r = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
	if (r < 0) {
		KEEP_ERROR(H5Dclose(d); H5Sclose(s));
		return -1;
	}
	r = H5Dclose(d);
	KEEP_ERROR(H5Sclose(s));
	return r;
}

// h5go_malloc is malloc: NULL when the memory is not there. (cgo's own
// C.malloc aborts the program instead.)
void *h5go_malloc(size_t n) { return malloc(n); }
