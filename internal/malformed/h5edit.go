package malformed

// #cgo CFLAGS: -I/usr/include/hdf5/serial
// #cgo linux,amd64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial
// #cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial
// #cgo LDFLAGS: -lhdf5
// #include <stdlib.h>
// #include "h5edit.h"
import "C"

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// h5mu serialises this package's calls into libhdf5. The library (serial
// builds are not thread-safe) must not be used by anything else at the same
// time: generate the inputs before loading them.
var h5mu sync.Mutex

// h5call runs fn with the lock held on a locked OS thread and turns a
// negative step number into an error naming the operation.
func h5call(op, file string, fn func() C.int) error {
	h5mu.Lock()
	runtime.LockOSThread()
	r := fn()
	runtime.UnlockOSThread()
	h5mu.Unlock()
	if r < 0 {
		return fmt.Errorf("malformed: %s on %s: libhdf5 failed at step %d", op, file, -int(r))
	}
	return nil
}

// cstrs converts strings to C strings; free releases them.
func cstrs(ss ...string) (out []*C.char, free func()) {
	for _, s := range ss {
		out = append(out, C.CString(s))
	}
	return out, func() {
		for _, p := range out {
			C.free(unsafe.Pointer(p))
		}
	}
}

// h5Dtype is an element type for h5PutDataset.
type h5Dtype int

const (
	dtF16   h5Dtype = C.MF_F16
	dtF32   h5Dtype = C.MF_F32
	dtF64   h5Dtype = C.MF_F64
	dtI8    h5Dtype = C.MF_I8
	dtI32   h5Dtype = C.MF_I32
	dtU8    h5Dtype = C.MF_U8
	dtI64   h5Dtype = C.MF_I64
	dtStr   h5Dtype = C.MF_STR
	dtF32BE h5Dtype = C.MF_F32BE
)

func (d h5Dtype) String() string {
	return [...]string{"float16", "float32", "float64", "int8", "int32", "uint8", "int64", "S4", "float32be"}[d]
}

// h5ReadStringAttr reads a string attribute (variable or fixed length).
func h5ReadStringAttr(file, obj, name string) (string, error) {
	c, free := cstrs(file, obj, name)
	defer free()
	var out *C.char
	err := h5call("read attribute "+name, file, func() C.int { return C.mf_read_str_attr(c[0], c[1], c[2], &out) })
	if out != nil {
		defer C.free(unsafe.Pointer(out))
	}
	if err != nil {
		return "", err
	}
	return C.GoString(out), nil
}

// h5SetStringAttr replaces (or adds) a scalar UTF-8 variable-length string
// attribute, h5py's encoding of a Python str.
func h5SetStringAttr(file, obj, name, value string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("malformed: attribute %s: NUL in value", name)
	}
	c, free := cstrs(file, obj, name, value)
	defer free()
	return h5call("set attribute "+name, file, func() C.int { return C.mf_set_str_attr(c[0], c[1], c[2], c[3]) })
}

// h5SetFloat64Attr replaces an attribute by a float64 array (a scalar for one
// value, shape (0,) for none).
func h5SetFloat64Attr(file, obj, name string, v ...float64) error {
	c, free := cstrs(file, obj, name)
	defer free()
	var p *C.double
	if len(v) > 0 {
		cv := C.malloc(C.size_t(8 * len(v)))
		defer C.free(cv)
		s := unsafe.Slice((*float64)(cv), len(v))
		copy(s, v)
		p = (*C.double)(cv)
	}
	return h5call("set attribute "+name, file, func() C.int { return C.mf_set_f64_attr(c[0], c[1], c[2], p, C.hsize_t(len(v))) })
}

// h5SetFixedStringsAttr replaces an attribute by an array of NUL-padded
// fixed-length strings (numpy |S<n>), Keras 2's layer_names encoding.
func h5SetFixedStringsAttr(file, obj, name string, values []string) error {
	size := 1
	for _, v := range values {
		size = max(size, len(v))
	}
	buf := make([]byte, size*len(values))
	for i, v := range values {
		copy(buf[i*size:], v)
	}
	c, free := cstrs(file, obj, name)
	defer free()
	cb := C.CBytes(append(buf, 0))
	defer C.free(cb)
	return h5call("set attribute "+name, file, func() C.int {
		return C.mf_set_fixed_strs_attr(c[0], c[1], c[2], (*C.char)(cb), C.size_t(size), C.hsize_t(len(values)))
	})
}

// h5DeleteAttr removes an attribute.
func h5DeleteAttr(file, obj, name string) error {
	c, free := cstrs(file, obj, name)
	defer free()
	return h5call("delete attribute "+name, file, func() C.int { return C.mf_del_attr(c[0], c[1], c[2]) })
}

// h5DeleteLink unlinks a group or dataset.
func h5DeleteLink(file, path string) error {
	c, free := cstrs(file, path)
	defer free()
	return h5call("delete "+path, file, func() C.int { return C.mf_del_link(c[0], c[1]) })
}

// h5PutDataset replaces (or creates) the dataset at path with one of the
// given type and shape. data (row-major, converted by libhdf5 from float64)
// may be nil: the dataset then has no storage and reads give fill values.
// gzip makes it chunked and deflated.
func h5PutDataset(file, path string, dt h5Dtype, shape []int, data []float64, gzip bool) error {
	c, free := cstrs(file, path)
	defer free()
	var dims *C.hsize_t
	if len(shape) > 0 {
		cd := C.malloc(C.size_t(8 * len(shape)))
		defer C.free(cd)
		s := unsafe.Slice((*C.hsize_t)(cd), len(shape))
		for i, d := range shape {
			s[i] = C.hsize_t(d)
		}
		dims = (*C.hsize_t)(cd)
	}
	var p *C.double
	if data != nil {
		cv := C.malloc(C.size_t(8*len(data) + 8))
		defer C.free(cv)
		copy(unsafe.Slice((*float64)(cv), len(data)), data)
		p = (*C.double)(cv)
	}
	g := C.int(0)
	if gzip {
		g = 1
	}
	return h5call("write dataset "+path, file, func() C.int {
		return C.mf_put_dataset(c[0], c[1], C.int(dt), C.int(len(shape)), dims, p, g)
	})
}

// h5HardLink adds a second name for an existing object (link may make the
// group tree cyclic).
func h5HardLink(file, target, link string) error {
	c, free := cstrs(file, target, link)
	defer free()
	return h5call("hard link "+link, file, func() C.int { return C.mf_hard_link(c[0], c[1], c[2]) })
}

// h5SoftLink adds a symbolic link, which may dangle.
func h5SoftLink(file, target, link string) error {
	c, free := cstrs(file, target, link)
	defer free()
	return h5call("soft link "+link, file, func() C.int { return C.mf_soft_link(c[0], c[1], c[2]) })
}

// h5CreateGroup creates a group (and missing parents).
func h5CreateGroup(file, path string) error {
	c, free := cstrs(file, path)
	defer free()
	return h5call("create group "+path, file, func() C.int { return C.mf_create_group(c[0], c[1]) })
}

// h5Datasets lists the paths (without a leading slash) of every dataset.
func h5Datasets(file string) ([]string, error) {
	c, free := cstrs(file)
	defer free()
	var out *C.char
	var n C.size_t
	err := h5call("list datasets", file, func() C.int { return C.mf_list_datasets(c[0], &out, &n) })
	if out != nil {
		defer C.free(unsafe.Pointer(out))
	}
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range strings.Split(string(C.GoBytes(unsafe.Pointer(out), C.int(n))), "\x00") {
		if p != "" {
			paths = append(paths, p)
		}
	}
	return paths, nil
}
