// A read-only virtual file driver (VFD) for the files and memory images that
// package h5 opens for reading.
//
// Why not libhdf5's own sec2 and core drivers: both ask libhdf5 1.10 for its
// metadata accumulator, a cache of recent metadata bytes whose bounds
// arithmetic wraps around when a damaged file stores an address near 2^64
// (a link-info B-tree address, say): libhdf5 then copies from far outside the
// cache and the process dies (found by FuzzOpen; its reproducers are in
// testdata/fuzz/FuzzOpen). This driver asks for no accumulator, so every read
// reaches ro_read, which checks its range without overflow: a read that does
// not lie inside the space the file declares (its EOA) is an error, never a
// crash. Bytes past the end of a shorter file read as zeros, as with sec2.
//
// It serves two sources: a file by path (pread on a descriptor) and a memory
// image (memcpy from a buffer that the caller keeps alive until the file is
// closed), chosen by the driver info set with h5go_ro_fapl.
//
// libhdf5 1.13 and later changed the driver interface; there the standard
// drivers are used (see shim.c), untested here (Debian ships 1.10).

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <hdf5.h>
#include "shim.h"

#if !H5_VERSION_GE(1, 13, 0)

// ro_info is the driver info of a file access property list.
typedef struct {
	const unsigned char *mem; // the image, or NULL to open the path
	size_t size;              // the image's size
} ro_info;

typedef struct {
	H5FD_t pub; // first: libhdf5 fills it
	int fd;     // -1 for an image
	const unsigned char *mem;
	haddr_t eof, eoa;
	dev_t dev;
	ino_t ino;
} ro_file;

#define RO_ERROR(minor, msg) \
	H5Epush2(H5E_DEFAULT, __FILE__, __func__, __LINE__, H5E_ERR_CLS, H5E_VFL, minor, "%s", msg)

static H5FD_t *ro_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
	(void)maxaddr;
	if (flags & (H5F_ACC_RDWR | H5F_ACC_TRUNC | H5F_ACC_CREAT | H5F_ACC_EXCL)) {
		RO_ERROR(H5E_CANTOPENFILE, "the read-only driver cannot write");
		return NULL;
	}
	const ro_info *info = H5Pget_driver_info(fapl);
	ro_file *f = calloc(1, sizeof *f);
	if (f == NULL) {
		RO_ERROR(H5E_CANTOPENFILE, "out of memory");
		return NULL;
	}
	f->fd = -1;
	if (info != NULL && info->mem != NULL) {
		f->mem = info->mem;
		f->eof = info->size;
		return &f->pub;
	}
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		RO_ERROR(H5E_CANTOPENFILE, strerror(errno));
		free(f);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		RO_ERROR(H5E_CANTOPENFILE, "not a regular file");
		close(fd);
		free(f);
		return NULL;
	}
	f->fd = fd;
	f->eof = (haddr_t)st.st_size;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return &f->pub;
}

static herr_t ro_close(H5FD_t *file) {
	ro_file *f = (ro_file *)file;
	int bad = f->fd >= 0 && close(f->fd) < 0;
	free(f);
	if (bad) {
		RO_ERROR(H5E_CANTCLOSEFILE, "close failed");
		return -1;
	}
	return 0;
}

// ro_cmp orders files: by device and inode for paths, by address for images.
static int ro_cmp(const H5FD_t *a_, const H5FD_t *b_) {
	const ro_file *a = (const ro_file *)a_, *b = (const ro_file *)b_;
	if ((a->fd < 0) != (b->fd < 0)) return a->fd < 0 ? -1 : 1;
	if (a->fd >= 0) {
		if (a->dev != b->dev) return a->dev < b->dev ? -1 : 1;
		if (a->ino != b->ino) return a->ino < b->ino ? -1 : 1;
		return 0;
	}
	uintptr_t pa = (uintptr_t)a->mem, pb = (uintptr_t)b->mem;
	return pa < pb ? -1 : pa > pb;
}

// ro_query announces no features: no metadata accumulator, no aggregation
// (the file is never written), no data sieve (raw data is read straight
// into the caller's buffer).
static herr_t ro_query(const H5FD_t *file, unsigned long *flags) {
	(void)file;
	if (flags) *flags = 0;
	return 0;
}

static haddr_t ro_get_eoa(const H5FD_t *file, H5FD_mem_t type) {
	(void)type;
	return ((const ro_file *)file)->eoa;
}

static herr_t ro_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr) {
	(void)type;
	((ro_file *)file)->eoa = addr;
	return 0;
}

static haddr_t ro_get_eof(const H5FD_t *file, H5FD_mem_t type) {
	(void)type;
	return ((const ro_file *)file)->eof;
}

static herr_t ro_get_handle(H5FD_t *file, hid_t fapl, void **handle) {
	(void)fapl;
	ro_file *f = (ro_file *)file;
	if (handle == NULL || f->fd < 0) {
		RO_ERROR(H5E_BADVALUE, "no file descriptor");
		return -1;
	}
	*handle = &f->fd;
	return 0;
}

// ro_read reads [addr, addr+size), which must lie inside [0, EOA): the
// check is written so that it cannot wrap around.
static herr_t ro_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf) {
	(void)type;
	(void)dxpl;
	ro_file *f = (ro_file *)file;
	if (addr == HADDR_UNDEF || addr > f->eoa || (haddr_t)size > f->eoa - addr) {
		RO_ERROR(H5E_OVERFLOW, "read outside the space the file declares (damaged address or size)");
		return -1;
	}
	unsigned char *p = buf;
	if (addr < f->eof) {
		size_t n = f->eof - addr < (haddr_t)size ? (size_t)(f->eof - addr) : size;
		if (f->mem != NULL) {
			memcpy(p, f->mem + addr, n);
			p += n;
			size -= n;
		} else {
			while (n > 0) {
				size_t chunk = n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n;
				ssize_t got = pread(f->fd, p, chunk, (off_t)addr);
				if (got < 0 && errno == EINTR) continue;
				if (got < 0) {
					RO_ERROR(H5E_READERROR, strerror(errno));
					return -1;
				}
				if (got == 0) break; // the file shrank: zeros below
				p += got;
				addr += (haddr_t)got;
				size -= (size_t)got;
				n -= (size_t)got;
			}
		}
	}
	memset(p, 0, size);
	return 0;
}

static herr_t ro_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf) {
	(void)file;
	(void)type;
	(void)dxpl;
	(void)addr;
	(void)size;
	(void)buf;
	RO_ERROR(H5E_WRITEERROR, "the read-only driver cannot write");
	return -1;
}

static const H5FD_class_t ro_class = {
	.name = "kerago_ro",
	.maxaddr = (haddr_t)INT64_MAX,
	.fc_degree = H5F_CLOSE_WEAK,
	.fapl_size = sizeof(ro_info),
	.open = ro_open,
	.close = ro_close,
	.cmp = ro_cmp,
	.query = ro_query,
	.get_eoa = ro_get_eoa,
	.set_eoa = ro_set_eoa,
	.get_eof = ro_get_eof,
	.get_handle = ro_get_handle,
	.read = ro_read,
	.write = ro_write,
	.fl_map = H5FD_FLMAP_DICHOTOMY,
};

static hid_t ro_id = -1;

// h5go_ro_fapl sets the read-only driver on fapl, for the image mem of size
// bytes, or for the path given to H5Fopen when mem is NULL.
herr_t h5go_ro_fapl(hid_t fapl, const void *mem, size_t size) {
	if (ro_id < 0 || H5Iis_valid(ro_id) <= 0) {
		ro_id = H5FDregister(&ro_class);
		if (ro_id < 0) return -1;
	}
	ro_info info = {mem, size};
	return H5Pset_driver(fapl, ro_id, &info);
}

int h5go_ro_driver(void) { return 1; }

#else

herr_t h5go_ro_fapl(hid_t fapl, const void *mem, size_t size) {
	(void)fapl;
	(void)mem;
	(void)size;
	return 0;
}

int h5go_ro_driver(void) { return 0; }

#endif
