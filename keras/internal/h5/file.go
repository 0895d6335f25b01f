package h5

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"
)

// Errors that callers may test with errors.Is. The returned errors wrap them
// with the file name, the object path and the operation.
var (
	// ErrNotHDF5 reports a file or image without the HDF5 signature.
	ErrNotHDF5 = errors.New("not an HDF5 file")
	// ErrNotFound reports a missing group, dataset or attribute.
	ErrNotFound = errors.New("not found")
	// ErrTooLarge reports data larger than the read budget (see
	// File.SetMaxBytes) or larger than the file could possibly hold.
	ErrTooLarge = errors.New("too large")
	// ErrClosed reports use of a closed File.
	ErrClosed = errors.New("file already closed")
	// ErrCorrupt reports a damaged HDF5 structure found by this package's
	// own checks (see heapcheck.go); libhdf5's own findings come as plain
	// errors with its message.
	ErrCorrupt = errors.New("corrupt HDF5 file")
)

// DefaultMaxBytes is the default read budget of a File: the largest float32
// result (in bytes) that a single read may allocate or fill.
const DefaultMaxBytes = 1 << 31

// signature is the 8-byte HDF5 format signature. It sits at offset 0 or, after
// a user block, at offset 512, 1024, 2048, ...
var signature = []byte("\x89HDF\r\n\x1a\n")

// File is an open HDF5 file, on disk or in memory. Its methods are safe for
// concurrent use. Objects (Group, Dataset) obtained from a File are plain
// values naming a path; they hold no library handles and need no closing, but
// become unusable once the File is closed.
type File struct {
	name     string // for messages: the path or the image's name
	id       C.hid_t
	closed   bool
	writable bool
	size     int64          // bytes; 0 for created files (size checks skipped)
	image    unsafe.Pointer // C copy of the image, freed by Close
	maxBytes int64

	heapChecked bool       // checkHeaps has run
	heapErr     error      // and found this
	heaps       *heapIndex // or this

	sb           *heapIndex       // the superblock's field sizes (no collections), read once
	attrsChecked map[uint64]error // checkAttrMessages's verdict by object header address
	linksChecked map[string]error // checkLinks's verdict by group path
}

// Open opens the HDF5 file at path read-only. It checks first that path is a
// regular, non-empty file carrying the HDF5 signature, so that directories,
// text files and empty files get a clear error (wrapping ErrNotHDF5 where
// apt); truncated files are reported by libhdf5 ("truncated file: eof = ...").
func Open(path string) (*File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, openError(path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("h5: open %s: is a directory, not an HDF5 file", path)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("h5: open %s: not a regular file", path)
	}
	size := st.Size()
	if size == 0 {
		return nil, fmt.Errorf("h5: open %s: empty file: %w", path, ErrNotHDF5)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, openError(path, err)
	}
	err = checkSignature(fh, size)
	fh.Close()
	if err != nil {
		return nil, fmt.Errorf("h5: open %s: %w", path, err)
	}
	cpath, free, err := cstr(path)
	if err != nil {
		return nil, fmt.Errorf("h5: open %q: %w", path, err)
	}
	defer free()

	defer lock()()
	id := C.h5go_open_file(cpath)
	if id < 0 {
		return nil, fmt.Errorf("h5: open %s: %s", path, takeError())
	}
	return &File{name: path, id: id, size: size, maxBytes: DefaultMaxBytes}, nil
}

// openError reports an os error of Open as "h5: open PATH: reason", keeping
// the cause for errors.Is (os.ErrNotExist, os.ErrPermission).
func openError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("h5: open %s: %w", path, err)
}

// minSuperblock is the size of the smallest possible superblock (version 2
// with 2-byte addresses), signature included.
const minSuperblock = 24

// checkSignature looks for the HDF5 signature at offsets 0, 512, 1024, ...
// and checks that a superblock can follow it.
func checkSignature(r io.ReaderAt, size int64) error {
	var buf [8]byte
	for off := int64(0); off+8 <= size; off = nextSigOffset(off) {
		if _, err := r.ReadAt(buf[:], off); err != nil {
			return err
		}
		if bytes.Equal(buf[:], signature) {
			if size-off < minSuperblock {
				return fmt.Errorf("truncated file: %d bytes, the HDF5 superblock needs more", size)
			}
			return nil
		}
	}
	return fmt.Errorf("no HDF5 signature: %w", ErrNotHDF5)
}

func nextSigOffset(off int64) int64 {
	if off == 0 {
		return 512
	}
	return off * 2
}

// maxImage bounds the size OpenImage and OpenImageReader accept.
const maxImage = 1 << 40

// OpenImage opens, read-only, an HDF5 file held in memory, such as the
// model.weights.h5 member of a .keras zip archive. data is copied once into
// memory owned by the File (libhdf5 must keep using it after this call
// returns, which Go memory may not be), so the caller may reuse data
// afterwards. Close releases the copy.
func OpenImage(data []byte) (*File, error) {
	return OpenImageReader("<memory image>", bytes.NewReader(data), int64(len(data)))
}

// OpenImageReader is like OpenImage, but reads the size-byte image from r
// straight into memory owned by the File, avoiding a second copy of large
// images, and names the image in errors and File.Name. For a zip member:
//
//	rc, err := zf.Open()
//	f, err := h5.OpenImageReader("model.keras/"+zf.Name, rc, int64(zf.UncompressedSize64))
func OpenImageReader(name string, r io.Reader, size int64) (*File, error) {
	if size <= 0 {
		return nil, fmt.Errorf("h5: open %s: empty image: %w", name, ErrNotHDF5)
	}
	if size > maxImage {
		return nil, fmt.Errorf("h5: open %s: image of %d bytes: %w", name, size, ErrTooLarge)
	}
	p := C.h5go_malloc(C.size_t(size))
	if p == nil {
		return nil, fmt.Errorf("h5: open %s: cannot allocate %d bytes", name, size)
	}
	buf := unsafe.Slice((*byte)(p), size)
	if _, err := io.ReadFull(r, buf); err != nil {
		C.free(p)
		return nil, fmt.Errorf("h5: open %s: reading %d bytes: %w", name, size, err)
	}
	if err := checkSignature(bytes.NewReader(buf), size); err != nil {
		C.free(p)
		return nil, fmt.Errorf("h5: open %s: %w", name, err)
	}

	defer lock()()
	id := C.h5go_open_image(p, C.size_t(size))
	if id < 0 {
		err := fmt.Errorf("h5: open %s: %s", name, takeError())
		C.free(p)
		return nil, err
	}
	return &File{name: name, id: id, size: size, image: p, maxBytes: DefaultMaxBytes}, nil
}

// Create creates (or truncates) the HDF5 file at path for writing, with
// libhdf5's default format settings, which are h5py's too (superblock 0,
// symbol-table groups, compact attributes), so files written here have the
// layout of files written by Keras through h5py. Close must be called, and its
// error checked, to flush the file.
func Create(path string) (*File, error) {
	cpath, free, err := cstr(path)
	if err != nil {
		return nil, fmt.Errorf("h5: create %q: %w", path, err)
	}
	defer free()
	defer lock()()
	id := C.h5go_create_file(cpath)
	if id < 0 {
		return nil, fmt.Errorf("h5: create %s: %s", path, takeError())
	}
	return &File{name: path, id: id, writable: true, maxBytes: DefaultMaxBytes}, nil
}

// Close flushes (for created files) and closes the file. Closing an already
// closed File returns nil.
func (f *File) Close() error {
	defer lock()()
	if f.closed {
		return nil
	}
	f.closed = true
	var err error
	if C.H5Fclose(f.id) < 0 {
		err = fmt.Errorf("h5: close %s: %s", f.name, takeError())
	}
	if f.image != nil {
		C.free(f.image)
		f.image = nil
	}
	return err
}

// Name returns the path the file was opened with, or the name of an image
// ("<memory image>" for OpenImage).
func (f *File) Name() string { return f.name }

// SetMaxBytes sets the read budget: reads whose float32 result would exceed n
// bytes fail with ErrTooLarge. The default is DefaultMaxBytes.
func (f *File) SetMaxBytes(n int64) {
	mu.Lock()
	f.maxBytes = n
	mu.Unlock()
}

// Root returns the root group "/".
func (f *File) Root() Group { return Group{Object{f: f, path: "/"}} }

// Group returns the group at path (relative to the root, a leading "/"
// allowed), e.g. "model_weights/conv2d_1/conv2d_1".
func (f *File) Group(path string) (Group, error) { return f.Root().Group(path) }

// Dataset returns the dataset at path (relative to the root).
func (f *File) Dataset(path string) (Dataset, error) { return f.Root().Dataset(path) }

// Kind reports what path (relative to the root) names; KindNone if nothing.
func (f *File) Kind(path string) (Kind, error) { return f.Root().Kind(path) }

// ReadFloat32 reads the dataset at path as float32; see Dataset.ReadFloat32.
func (f *File) ReadFloat32(path string) (data []float32, shape []int, err error) {
	d, err := f.Dataset(path)
	if err != nil {
		return nil, nil, err
	}
	return d.ReadFloat32()
}

// check returns ErrClosed (wrapped) for a closed file, and an error for the
// zero Group/Dataset/Object (no file). mu must be held.
func (f *File) check() error {
	if f == nil {
		return errors.New("h5: object of no file (zero value)")
	}
	if f.closed {
		return fmt.Errorf("h5: %s: %w", f.name, ErrClosed)
	}
	return nil
}

// openObjects counts the library handles open in f (for leak tests).
func (f *File) openObjects() int {
	defer lock()()
	if f.closed {
		return 0
	}
	return int(C.h5go_open_objects(f.id))
}

// joinPath joins a group path and a relative name (leading slashes ignored)
// into an absolute path.
func joinPath(base, name string) string {
	name = strings.TrimLeft(name, "/")
	switch {
	case name == "":
		return base
	case base == "/":
		return "/" + name
	default:
		return base + "/" + name
	}
}
