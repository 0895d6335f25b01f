package h5

// #include "shim.h"
import "C"

import (
	"encoding/binary"
	"unsafe"
)

// DatasetInfo describes a dataset.
type DatasetInfo struct {
	// Shape is empty (not nil) for a scalar dataset and nil for a null
	// dataspace.
	Shape []int
	// DType names the stored type after numpy ("float32", "float64",
	// "float16", "int64", "uint16", "V2", ...), except that a 2-byte opaque
	// or integer dataset with attribute dtype="bfloat16" — how Keras 3 stores
	// bfloat16 variables (h5py writes ml_dtypes.bfloat16 arrays as 2-byte
	// opaque data) — is reported as "bfloat16".
	DType string
	// Chunked reports chunked storage; Filtered reports filters such as
	// compression. Keras writes neither.
	Chunked, Filtered bool
}

// Len returns the number of elements (1 for a scalar).
func (i DatasetInfo) Len() int {
	if i.Shape == nil {
		return 0
	}
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

type dsMeta struct {
	t                 C.h5go_tinfo
	shape             []int
	n                 int64
	chunked, filtered bool
	bf16              bool
}

func (m dsMeta) info() DatasetInfo {
	dt := dtypeName(m.t)
	if m.bf16 {
		dt = "bfloat16"
	}
	return DatasetInfo{Shape: m.shape, DType: dt, Chunked: m.chunked, Filtered: m.filtered}
}

// meta describes the open dataset oid. mu must be held.
func (d Dataset) meta(oid C.hid_t) (dsMeta, error) {
	var m dsMeta
	tid := C.H5Dget_type(oid)
	if tid < 0 {
		return m, d.libError("datatype")
	}
	r := C.h5go_type_info(tid, &m.t)
	if r < 0 {
		err := d.libError("datatype")
		C.H5Tclose(tid)
		return m, err
	}
	C.H5Tclose(tid)
	sid := C.H5Dget_space(oid)
	if sid < 0 {
		return m, d.libError("dataspace")
	}
	var s C.h5go_sinfo
	r = C.h5go_space_info(sid, &s)
	if r < 0 {
		err := d.libError("dataspace")
		if r == -2 {
			err = d.errorf("rank above %d", C.H5GO_MAX_RANK)
		}
		C.H5Sclose(sid)
		return m, err
	}
	C.H5Sclose(sid)
	var err error
	if m.shape, m.n, err = spaceShape(s); err != nil {
		return m, d.errorf("%w", err)
	}
	var chunked, filtered, short C.int
	if C.h5go_dataset_layout(oid, &chunked, &filtered, &short) < 0 {
		return m, d.libError("storage layout")
	}
	if short != 0 {
		return m, d.errorf("compact dataset of shape %v holds fewer bytes than its type and shape need: %w", m.shape, ErrCorrupt)
	}
	m.chunked, m.filtered = chunked != 0, filtered != 0
	if m.t.size == 2 && (m.t.cls == classOpaque || m.t.cls == classInteger) {
		ok, err := d.attrExists(oid, "dtype")
		if err != nil {
			return m, err
		}
		if ok {
			ss, err := d.readStrings(oid, "dtype")
			if err == nil && len(ss) == 1 && ss[0] == "bfloat16" {
				m.bf16 = true
			}
		}
	}
	return m, nil
}

// Info describes the dataset.
func (d Dataset) Info() (DatasetInfo, error) {
	var info DatasetInfo
	err := d.withObject(func(oid C.hid_t) error {
		m, err := d.meta(oid)
		info = m.info()
		return err
	})
	return info, err
}

// ReadFloat32 reads the whole dataset into a newly allocated []float32 of its
// element count, in row-major order, and returns it with the shape (empty for
// a scalar). float32 data is read straight into the result; float64, float16,
// other float formats and integers are converted by libhdf5 while reading
// (through its small conversion buffer, not a full-size copy); bfloat16 (see
// DatasetInfo.DType) is widened in place. Strings and other types are refused.
//
// Before allocating, the size is checked against the read budget (see
// SetMaxBytes) and, for unfiltered data, against the file size, so a small
// corrupt file cannot trigger a huge allocation; both fail with ErrTooLarge.
func (d Dataset) ReadFloat32() (data []float32, shape []int, err error) {
	err = d.withObject(func(oid C.hid_t) error {
		m, err := d.checkedMeta(oid)
		if err != nil {
			return err
		}
		data = make([]float32, m.n)
		shape = m.shape
		return d.readInto(oid, m, data)
	})
	if err != nil {
		return nil, nil, err
	}
	return data, shape, nil
}

// ReadFloat32Into is ReadFloat32 into dst, which must have exactly the
// dataset's element count (Info().Len()); it allocates nothing, so a caller
// can load many datasets into one large buffer.
func (d Dataset) ReadFloat32Into(dst []float32) error {
	return d.withObject(func(oid C.hid_t) error {
		m, err := d.checkedMeta(oid)
		if err != nil {
			return err
		}
		if int64(len(dst)) != m.n {
			return d.errorf("destination has %d elements, dataset of shape %v has %d", len(dst), m.shape, m.n)
		}
		return d.readInto(oid, m, dst)
	})
}

// checkedMeta is meta plus the type and size checks of ReadFloat32.
func (d Dataset) checkedMeta(oid C.hid_t) (dsMeta, error) {
	m, err := d.meta(oid)
	if err != nil {
		return m, err
	}
	if !m.bf16 && m.t.cls != classFloat && m.t.cls != classInteger {
		return m, d.errorf("dtype %s cannot be read as float32", dtypeName(m.t))
	}
	if out := mulBytes(m.n, 4); out < 0 || out > d.f.maxBytes {
		return m, d.errorf("shape %v needs %d bytes as float32, above the read budget of %d bytes: %w",
			m.shape, out, d.f.maxBytes, ErrTooLarge)
	}
	if stored := mulBytes(m.n, int64(m.t.size)); d.f.size > 0 && !m.filtered && stored > d.f.size {
		return m, d.errorf("shape %v of %s declares %d bytes of data but the file has only %d bytes: %w",
			m.shape, dtypeName(m.t), stored, d.f.size, ErrTooLarge)
	}
	return m, nil
}

// readInto reads the dataset described by m into dst (len(dst) == m.n).
func (d Dataset) readInto(oid C.hid_t, m dsMeta, dst []float32) error {
	if m.n == 0 {
		return nil
	}
	if !m.bf16 {
		if C.h5go_read(oid, C.H5GO_MEM_FLOAT32, unsafe.Pointer(&dst[0])) < 0 {
			return d.libError("read")
		}
		return nil
	}
	// bfloat16: read the n 2-byte values into the upper half of dst's bytes,
	// then widen from the front. Element i's 4 output bytes [4i, 4i+4) never
	// overlap input j >= i, stored at [2n+2j, 2n+2j+2), because 4i+4 <= 2n+2i+2
	// for i < n.
	n := int(m.n)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*n)
	mem := C.int(C.H5GO_MEM_FILETYPE) // opaque: raw bytes, little-endian as numpy wrote them
	if m.t.cls == classInteger {
		mem = C.H5GO_MEM_UINT16
	}
	if C.h5go_read(oid, mem, unsafe.Pointer(&b[2*n])) < 0 {
		return d.libError("read")
	}
	for i := range n {
		var u uint16
		if mem == C.H5GO_MEM_UINT16 {
			u = binary.NativeEndian.Uint16(b[2*n+2*i:])
		} else {
			u = binary.LittleEndian.Uint16(b[2*n+2*i:])
		}
		binary.NativeEndian.PutUint32(b[4*i:], uint32(u)<<16)
	}
	return nil
}

// WriteFloat32 creates dataset name (a path relative to g; missing
// intermediate groups are created, as h5py does for Keras 2's "conv2d_1/kernel:0"
// weight names) with the given shape (empty for a scalar) as contiguous
// little-endian float32, h5py's layout for a numpy float32 array, and writes
// data (row-major, len(data) = product of shape) into it.
func (g Group) WriteFloat32(name string, data []float32, shape []int) (Dataset, error) {
	p := joinPath(g.path, name)
	o := Object{f: g.f, path: p}
	n := 1
	dims := make([]C.hsize_t, len(shape))
	for i, s := range shape {
		if s < 0 {
			return Dataset{}, o.errorf("negative dimension in shape %v", shape)
		}
		n *= s
		dims[i] = C.hsize_t(s)
	}
	if len(shape) > C.H5GO_MAX_RANK {
		return Dataset{}, o.errorf("rank %d above %d", len(shape), C.H5GO_MAX_RANK)
	}
	if n != len(data) {
		return Dataset{}, o.errorf("shape %v has %d elements but %d values were given", shape, n, len(data))
	}
	cp, free, err := cstr(p)
	if err != nil {
		return Dataset{}, o.errorf("%w", err)
	}
	defer free()
	defer lock()()
	if err := g.f.checkWritable(); err != nil {
		return Dataset{}, err
	}
	var dp *C.float
	if n > 0 {
		dp = (*C.float)(unsafe.Pointer(&data[0]))
	}
	var dimp *C.hsize_t
	if len(dims) > 0 {
		dimp = &dims[0]
	}
	if C.h5go_write_float32(g.f.id, cp, C.int(len(shape)), dimp, dp) < 0 {
		return Dataset{}, o.libError("write dataset")
	}
	return Dataset{o}, nil
}
