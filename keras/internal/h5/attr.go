package h5

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// AttrInfo describes an attribute.
type AttrInfo struct {
	// Shape is empty (not nil) for a scalar attribute and nil for a null
	// dataspace.
	Shape []int
	// DType names the stored type after numpy: "str" (variable-length
	// string), "S20" (fixed-length byte string), "float64", "int64", ...
	DType string
	// Charset is the character set of string attributes.
	Charset Charset
}

// attrMeta is what attrOpen learns about an attribute.
type attrMeta struct {
	t     C.h5go_tinfo
	shape []int
	n     int64
}

// fileBytesPerElem is how many bytes one element takes in the file at least:
// variable-length strings are stored as 16-byte global-heap references.
func (m attrMeta) fileBytesPerElem() int64 {
	if m.t.cls == classString && m.t.vlen_str != 0 {
		return 16
	}
	return int64(m.t.size)
}

// attrExists reports whether oid has attribute name. mu must be held.
func (o Object) attrExists(oid C.hid_t, name string) (bool, error) {
	if err := o.checkAttrMessages(oid); err != nil {
		return false, err
	}
	cname, free, err := cstr(name)
	if err != nil {
		return false, o.errorf("attribute %q: %w", name, err)
	}
	defer free()
	e := C.H5Aexists(oid, cname)
	if e < 0 {
		return false, o.libError(fmt.Sprintf("attribute %q", name))
	}
	return e > 0, nil
}

// attrOpen opens attribute name of the object oid and checks that its size
// is plausible. The caller closes the returned handle with H5Aclose. mu must
// be held.
func (o Object) attrOpen(oid C.hid_t, name string) (C.hid_t, attrMeta, error) {
	var m attrMeta
	ok, err := o.attrExists(oid, name)
	if err != nil {
		return -1, m, err
	}
	if !ok {
		return -1, m, o.errorf("attribute %q: %w", name, ErrNotFound)
	}
	cname, free, _ := cstr(name)
	defer free()
	aid := C.H5Aopen(oid, cname, C.H5P_DEFAULT)
	if aid < 0 {
		return -1, m, o.libError(fmt.Sprintf("open attribute %q", name))
	}
	fail := func(err error) (C.hid_t, attrMeta, error) {
		C.H5Aclose(aid)
		return -1, m, err
	}
	tid := C.H5Aget_type(aid)
	if tid < 0 {
		return fail(o.libError(fmt.Sprintf("attribute %q type", name)))
	}
	r := C.h5go_type_info(tid, &m.t)
	if r < 0 {
		err := o.libError(fmt.Sprintf("attribute %q type", name))
		C.H5Tclose(tid)
		return fail(err)
	}
	C.H5Tclose(tid)
	sid := C.H5Aget_space(aid)
	if sid < 0 {
		return fail(o.libError(fmt.Sprintf("attribute %q dataspace", name)))
	}
	var s C.h5go_sinfo
	r = C.h5go_space_info(sid, &s)
	if r < 0 {
		err := o.libError(fmt.Sprintf("attribute %q dataspace", name))
		if r == -2 {
			err = o.errorf("attribute %q: rank above %d", name, C.H5GO_MAX_RANK)
		}
		C.H5Sclose(sid)
		return fail(err)
	}
	C.H5Sclose(sid)
	m.shape, m.n, err = spaceShape(s)
	if err != nil {
		return fail(o.errorf("attribute %q: %w", name, err))
	}
	nb := mulBytes(m.n, m.fileBytesPerElem())
	if nb < 0 || (o.f.size > 0 && nb > o.f.size) || nb > o.f.maxBytes {
		return fail(o.errorf("attribute %q: shape %v of %s cannot fit in the file: %w",
			name, m.shape, dtypeName(m.t), ErrTooLarge))
	}
	return aid, m, nil
}

// withObject opens o, runs fn with its handle and closes it, all under mu.
func (o Object) withObject(fn func(oid C.hid_t) error) error {
	defer lock()()
	oid, err := o.open()
	if err != nil {
		return err
	}
	defer C.H5Oclose(oid)
	return fn(oid)
}

// AttrNames lists the attribute names of o in increasing byte order.
func (o Object) AttrNames() ([]string, error) {
	var out []string
	err := o.withObject(func(oid C.hid_t) error {
		if err := o.checkAttrMessages(oid); err != nil {
			return err
		}
		l := C.h5go_names{limit: C.size_t(o.f.limit())}
		if C.h5go_attr_names(oid, &l) < 0 {
			err := o.libError("list attributes")
			C.free(unsafe.Pointer(l.buf))
			return err
		}
		out = names(&l)
		return nil
	})
	return out, err
}

// HasAttr reports whether o has attribute name.
func (o Object) HasAttr(name string) (bool, error) {
	var ok bool
	err := o.withObject(func(oid C.hid_t) (err error) {
		ok, err = o.attrExists(oid, name)
		return err
	})
	return ok, err
}

// AttrInfo describes attribute name of o.
func (o Object) AttrInfo(name string) (AttrInfo, error) {
	var info AttrInfo
	err := o.withObject(func(oid C.hid_t) error {
		aid, m, err := o.attrOpen(oid, name)
		if err != nil {
			return err
		}
		C.H5Aclose(aid)
		info = AttrInfo{Shape: m.shape, DType: dtypeName(m.t), Charset: Charset(m.t.cset)}
		return nil
	})
	return info, err
}

// Strings reads attribute name as a list of strings. It accepts every
// encoding Keras files use: scalar or 1-D, variable-length or fixed-length
// (NUL-padded, numpy |S<n>; trailing NULs removed as numpy does), ASCII or
// UTF-8. A scalar gives one string. A numeric attribute with no elements — the
// float64 array of shape (0,) that h5py writes for an empty Python list, as
// Keras does for weight_names of a layer without weights — gives an empty
// list.
func (o Object) Strings(name string) ([]string, error) {
	var out []string
	err := o.withObject(func(oid C.hid_t) (err error) {
		out, err = o.readStrings(oid, name)
		return err
	})
	return out, err
}

func (o Object) readStrings(oid C.hid_t, name string) ([]string, error) {
	aid, m, err := o.attrOpen(oid, name)
	if err != nil {
		return nil, err
	}
	defer C.H5Aclose(aid)
	switch {
	case (m.t.cls == classFloat || m.t.cls == classInteger) && m.n == 0:
		return []string{}, nil
	case m.t.cls != classString:
		return nil, o.errorf("attribute %q is %s of shape %v, not strings", name, dtypeName(m.t), m.shape)
	case m.n == 0:
		return []string{}, nil
	case m.t.vlen_str != 0:
		if err := o.f.checkHeaps(); err != nil {
			return nil, err
		}
		if err := o.checkVlenRefs(oid, name, m.n); err != nil {
			return nil, err
		}
		ptrSize := C.size_t(unsafe.Sizeof((*C.char)(nil)))
		p := (**C.char)(C.calloc(C.size_t(m.n), ptrSize))
		if p == nil {
			return nil, o.errorf("attribute %q: cannot allocate %d pointers", name, m.n)
		}
		defer C.free(unsafe.Pointer(p))
		if C.h5go_attr_read_vlen(aid, m.t.cset, p) < 0 {
			return nil, o.libError(fmt.Sprintf("read attribute %q", name))
		}
		ptrs := unsafe.Slice(p, m.n)
		out := make([]string, m.n)
		for i, s := range ptrs {
			if s != nil {
				out[i] = C.GoString(s)
			}
		}
		if C.h5go_attr_reclaim_vlen(aid, m.t.cset, p) < 0 {
			return nil, o.libError(fmt.Sprintf("attribute %q: release strings", name))
		}
		return out, nil
	default:
		size := int64(m.t.size)
		buf := make([]byte, m.n*size)
		if C.h5go_attr_read_fixed(aid, m.t.size, m.t.cset, (*C.char)(unsafe.Pointer(&buf[0]))) < 0 {
			return nil, o.libError(fmt.Sprintf("read attribute %q", name))
		}
		out := make([]string, m.n)
		for i := range out {
			out[i] = strings.TrimRight(string(buf[int64(i)*size:int64(i+1)*size]), "\x00")
		}
		return out, nil
	}
}

// String reads attribute name as a single string: a scalar string attribute,
// or a string array of exactly one element.
func (o Object) String(name string) (string, error) {
	ss, err := o.Strings(name)
	if err != nil {
		return "", err
	}
	if len(ss) != 1 {
		return "", o.errorf("attribute %q holds %d strings, want 1", name, len(ss))
	}
	return ss[0], nil
}

// Float64s reads a numeric (integer or floating-point) attribute of any shape
// as float64 values in row-major order; a scalar gives one value.
func (o Object) Float64s(name string) ([]float64, error) {
	var out []float64
	err := o.withObject(func(oid C.hid_t) error {
		aid, m, err := o.attrOpen(oid, name)
		if err != nil {
			return err
		}
		defer C.H5Aclose(aid)
		if m.t.cls != classFloat && m.t.cls != classInteger {
			return o.errorf("attribute %q is %s, not numeric", name, dtypeName(m.t))
		}
		out = make([]float64, m.n)
		if m.n == 0 {
			return nil
		}
		if C.h5go_attr_read_double(aid, (*C.double)(unsafe.Pointer(&out[0]))) < 0 {
			return o.libError(fmt.Sprintf("read attribute %q", name))
		}
		return nil
	})
	return out, err
}

// StringList reads a string-list attribute the way Keras's
// load_attributes_from_hdf5_group does: attribute name if present, otherwise
// the concatenation of name0, name1, ... (Keras splits lists whose encoding
// exceeds HDF5's 64512-byte object-header limit into such chunks). It fails
// with ErrNotFound if neither name nor name0 exists.
func (o Object) StringList(name string) ([]string, error) {
	var out []string
	err := o.withObject(func(oid C.hid_t) error {
		ok, err := o.attrExists(oid, name)
		if err != nil {
			return err
		}
		if ok {
			out, err = o.readStrings(oid, name)
			return err
		}
		for i := 0; ; i++ {
			chunk := fmt.Sprintf("%s%d", name, i)
			ok, err := o.attrExists(oid, chunk)
			if err != nil {
				return err
			}
			if !ok {
				if i == 0 {
					return o.errorf("attribute %q (or %q): %w", name, chunk, ErrNotFound)
				}
				return nil
			}
			ss, err := o.readStrings(oid, chunk)
			if err != nil {
				return err
			}
			out = append(out, ss...)
		}
	})
	return out, err
}

// ---- writing ----

// withWritable is withObject for modifications.
func (o Object) withWritable(name string, fn func(oid C.hid_t, cname *C.char) error) error {
	cname, free, err := cstr(name)
	if err != nil {
		return fmt.Errorf("h5: %s: %s: attribute %q: %w", o.f.name, o.path, name, err)
	}
	defer free()
	return o.withObject(func(oid C.hid_t) error {
		if err := o.f.checkWritable(); err != nil {
			return err
		}
		return fn(oid, cname)
	})
}

// SetString writes attribute name (replacing any previous one) as a scalar
// variable-length string with character set cs. h5py writes Python str values
// this way with UTF8 and bytes values with ASCII; Keras 2 writes
// model_config, training_config, keras_version and backend as bytes (ASCII);
// tf.keras >= 2.2.4-tf writes the root keras_version and backend as str.
func (o Object) SetString(name, value string, cs Charset) error {
	cval, freeVal, err := cstr(value)
	if err != nil {
		return o.errorf("attribute %q: %w", name, err)
	}
	defer freeVal()
	return o.withWritable(name, func(oid C.hid_t, cname *C.char) error {
		utf8 := C.int(0)
		if cs == UTF8 {
			utf8 = 1
		}
		if C.h5go_write_vlen_string(oid, cname, cval, utf8) < 0 {
			return o.libError(fmt.Sprintf("write attribute %q", name))
		}
		return nil
	})
}

// SetFixedStrings writes attribute name (replacing any previous one) as a 1-D
// array of fixed-length NUL-padded ASCII strings whose length is that of the
// longest value (at least 1): numpy dtype |S<n>, how h5py stores a list of
// bytes, e.g. Keras 2's layer_names and weight_names. Values must not contain
// NUL bytes. An empty list is written as SetEmptyFloat64 does, because that is
// what h5py makes of an empty Python list.
func (o Object) SetFixedStrings(name string, values []string) error {
	if len(values) == 0 {
		return o.SetEmptyFloat64(name)
	}
	size := 1
	for _, v := range values {
		size = max(size, len(v))
	}
	return o.setFixedStringsSize(name, values, size)
}

// SetEmptyFloat64 writes attribute name (replacing any previous one) as a
// float64 array of shape (0,), Keras's weight_names for a layer without
// weights.
func (o Object) SetEmptyFloat64(name string) error {
	return o.withWritable(name, func(oid C.hid_t, cname *C.char) error {
		if C.h5go_write_empty_float64(oid, cname) < 0 {
			return o.libError(fmt.Sprintf("write attribute %q", name))
		}
		return nil
	})
}

// HeaderLimit is Keras's HDF5_OBJECT_HEADER_LIMIT: string lists whose
// fixed-length encoding exceeds it are split into numbered attributes.
const HeaderLimit = 64512

// SetStringList writes a string-list attribute the way Keras's
// save_attributes_to_hdf5_group does: as SetFixedStrings(name, values) when the
// encoding (len(values) × longest value) fits in HeaderLimit bytes, else
// split as numpy.array_split into the fewest chunks that each fit, written as
// name0, name1, ... (all with the overall longest length, as numpy keeps the
// dtype). Values longer than HeaderLimit are refused, as Keras does. Attributes
// of a previous write under the same name are not removed.
func (o Object) SetStringList(name string, values []string) error {
	size := 1
	for _, v := range values {
		if len(v) > HeaderLimit {
			return o.errorf("attribute %q: value of %d bytes exceeds the %d-byte HDF5 object header limit", name, len(v), HeaderLimit)
		}
		size = max(size, len(v))
	}
	n := len(values)
	if n*size <= HeaderLimit {
		return o.SetFixedStrings(name, values)
	}
	for k := 2; ; k++ {
		// numpy.array_split: the first n%k chunks get n/k+1 elements.
		if (n/k+min(1, n%k))*size > HeaderLimit {
			continue
		}
		start := 0
		for i := range k {
			m := n / k
			if i < n%k {
				m++
			}
			if err := o.setFixedStringsSize(fmt.Sprintf("%s%d", name, i), values[start:start+m], size); err != nil {
				return err
			}
			start += m
		}
		return nil
	}
}

// setFixedStringsSize is SetFixedStrings with an imposed element size.
func (o Object) setFixedStringsSize(name string, values []string, size int) error {
	if len(values) == 0 {
		return errors.New("h5: internal error: empty chunk")
	}
	buf := make([]byte, len(values)*size)
	for i, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return o.errorf("attribute %q: value %q contains a NUL byte", name, v)
		}
		copy(buf[i*size:], v)
	}
	return o.withWritable(name, func(oid C.hid_t, cname *C.char) error {
		if C.h5go_write_fixed_strings(oid, cname, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(size), C.hsize_t(len(values))) < 0 {
			return o.libError(fmt.Sprintf("write attribute %q", name))
		}
		return nil
	})
}
