package h5

// #include "shim.h"
import "C"

import (
	"fmt"
	"math/bits"
)

// Charset is the character set of an HDF5 string.
type Charset int

const (
	ASCII Charset = 0 // H5T_CSET_ASCII: h5py's encoding of Python bytes
	UTF8  Charset = 1 // H5T_CSET_UTF8: h5py's encoding of Python str
)

func (c Charset) String() string {
	if c == UTF8 {
		return "UTF-8"
	}
	return "ASCII"
}

// HDF5 type classes (H5T_class_t) and dataspace classes (H5S_class_t).
const (
	classInteger   = C.H5T_INTEGER
	classFloat     = C.H5T_FLOAT
	classTime      = C.H5T_TIME
	classString    = C.H5T_STRING
	classBitfield  = C.H5T_BITFIELD
	classOpaque    = C.H5T_OPAQUE
	classCompound  = C.H5T_COMPOUND
	classReference = C.H5T_REFERENCE
	classEnum      = C.H5T_ENUM
	classVlen      = C.H5T_VLEN
	classArray     = C.H5T_ARRAY

	spaceScalar = C.H5S_SCALAR
	spaceNull   = C.H5S_NULL
)

// dtypeName names an HDF5 type after numpy: "float32", "int64", "uint8",
// "S20" (fixed-length byte string of 20 bytes), "str" (variable-length
// string), "V2" (2-byte opaque), "enum", "compound", ...
func dtypeName(t C.h5go_tinfo) string {
	size := int(t.size)
	switch t.cls {
	case classInteger:
		if t.is_signed != 0 {
			return fmt.Sprintf("int%d", 8*size)
		}
		return fmt.Sprintf("uint%d", 8*size)
	case classFloat:
		return fmt.Sprintf("float%d", 8*size)
	case classString:
		if t.vlen_str != 0 {
			return "str"
		}
		return fmt.Sprintf("S%d", size)
	case classOpaque:
		return fmt.Sprintf("V%d", size)
	case classEnum:
		return "enum"
	case classCompound:
		return "compound"
	case classBitfield:
		return "bitfield"
	case classReference:
		return "reference"
	case classVlen:
		return "vlen"
	case classArray:
		return "array"
	case classTime:
		return "time"
	}
	return fmt.Sprintf("class%d", int(t.cls))
}

// spaceShape converts a dataspace description into a shape (nil for a null
// dataspace, empty for a scalar) and its element count. It fails when the
// count overflows int64.
func spaceShape(s C.h5go_sinfo) (shape []int, n int64, err error) {
	switch s.cls {
	case spaceScalar:
		return []int{}, 1, nil
	case spaceNull:
		return nil, 0, nil
	}
	shape = make([]int, int(s.rank))
	n = 1
	for i := range shape {
		d := uint64(s.dims[i])
		if d > 1<<62 {
			return nil, 0, fmt.Errorf("dimension %d is %d", i, d)
		}
		shape[i] = int(d)
		hi, lo := bits.Mul64(uint64(n), d)
		if hi != 0 || lo > 1<<62 {
			return nil, 0, fmt.Errorf("shape %v overflows", shape)
		}
		n = int64(lo)
	}
	return shape, n, nil
}

// mulBytes returns n*size, or -1 if that overflows 2^62.
func mulBytes(n int64, size int64) int64 {
	hi, lo := bits.Mul64(uint64(n), uint64(size))
	if hi != 0 || lo > 1<<62 {
		return -1
	}
	return int64(lo)
}
