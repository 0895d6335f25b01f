package h5

import (
	"encoding/binary"
	"errors"
	"testing"
)

// The messages below are written by hand from the HDF5 file format
// specification (version 1 attribute messages, version 1 link messages,
// version 1 dataspaces, 8-byte addresses and lengths), not produced by
// this package.

var sb8 = &heapIndex{offSize: 8, lenSize: 8}

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestCheckLinkMessage(t *testing.T) {
	ext := cat([]byte{0x00}, []byte("f.h5\x00"), []byte("/d\x00")) // version/flags, file, object
	cases := []struct {
		name string
		msg  []byte
		ok   bool
	}{
		{"hard link", cat([]byte{1, 0x00, 3}, []byte("abc"), le64(800)), true},
		{"soft link", cat([]byte{1, 0x08, linkSoft, 3}, []byte("abc"), le16(2), []byte("/x")), true},
		{"external link", cat([]byte{1, 0x08, linkExternal, 3}, []byte("ext"), le16(uint16(len(ext))), ext), true},
		{"2-byte name length, creation order", cat([]byte{1, 0x05}, le64(7), le16(3), []byte("abc"), le64(800)), true},
		{"external link with an empty value", cat([]byte{1, 0x08, linkExternal, 3}, []byte("ext"), le16(0)), false},
		{"external link without its object path", cat([]byte{1, 0x08, linkExternal, 3}, []byte("ext"), le16(6), []byte{0}, []byte("f.h5\x00")), false},
		{"external link of version 1", cat([]byte{1, 0x08, linkExternal, 3}, []byte("ext"), le16(uint16(len(ext))), []byte{0x10}, ext[1:]), false},
		{"soft link value past the message", cat([]byte{1, 0x08, linkSoft, 3}, []byte("abc"), le16(9), []byte("/x")), false},
		{"name with a NUL byte", cat([]byte{1, 0x00, 3}, []byte("a\x00c"), le64(800)), false},
		{"name past the message", cat([]byte{1, 0x00, 30}, []byte("abc"), le64(800)), false},
		{"empty name", cat([]byte{1, 0x00, 0}, le64(800)), false},
		{"user-defined link type", cat([]byte{1, 0x08, 200, 3}, []byte("abc"), le16(1), []byte("x")), false},
		{"unknown flag", cat([]byte{1, 0x20, 3}, []byte("abc"), le64(800)), false},
		{"version 2", cat([]byte{2, 0x00, 3}, []byte("abc"), le64(800)), false},
		{"hard link without its address", cat([]byte{1, 0x00, 3}, []byte("abc"), le32(800)), false},
	}
	for _, c := range cases {
		err := checkLinkMessage(c.msg, sb8)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", c.name, err)
		}
	}
}

// attrV1 builds a version-1 attribute message: name, datatype and
// dataspace each padded to 8 bytes, then data.
func attrV1(name string, dtype, space, data []byte) []byte {
	pad := func(b []byte) []byte { return append(b, make([]byte, (8-len(b)%8)%8)...) }
	n := append([]byte(name), 0)
	return cat([]byte{1, 0}, le16(uint16(len(n))), le16(uint16(len(dtype))), le16(uint16(len(space))),
		pad(n), pad(append([]byte(nil), dtype...)), pad(append([]byte(nil), space...)), data)
}

func TestCheckAttrMessage(t *testing.T) {
	// 32-bit little-endian signed integer: class 0 version 1, sign bit,
	// size 4, bit offset 0, precision 32.
	int32T := cat([]byte{0x10, 0x08, 0, 0}, le32(4), le16(0), le16(32))
	// Simple dataspace, version 1, rank 1, no maximum dimensions.
	space1 := func(n uint64) []byte { return cat([]byte{1, 1, 0, 0}, le32(0), le64(n)) }
	scalar := cat([]byte{1, 0, 0, 0}, le32(0))
	// Variable-length string (class 9, type string), 16 bytes on disk, over a
	// 1-byte character base type.
	vlenStr := func(base uint32) []byte {
		return cat([]byte{0x19, 0x01, 0, 0}, le32(16), []byte{0x13, 0, 0, 0}, le32(base))
	}
	ref := cat(le32(5), le64(2048), le32(1)) // length, collection address, index
	cases := []struct {
		name string
		msg  []byte
		ok   bool
	}{
		{"3 int32", attrV1("shape", int32T, space1(3), make([]byte, 12)), true},
		{"scalar int32", attrV1("n", int32T, scalar, make([]byte, 4)), true},
		{"vlen string", attrV1("backend", vlenStr(1), scalar, ref), true},
		{"3 int32 in 8 bytes", attrV1("shape", int32T, space1(3), make([]byte, 8)), false},
		{"2^40 int32", attrV1("shape", int32T, space1(1<<40), make([]byte, 12)), false},
		{"2^62 int32 (size overflows)", attrV1("shape", int32T, space1(1<<62), make([]byte, 12)), false},
		{"vlen string over a 4 MB character", attrV1("backend", vlenStr(4<<20), scalar, ref), false},
		{"vlen string without its reference", attrV1("backend", vlenStr(1), scalar, ref[:8]), false},
		{"name past the message", attrV1("shape", int32T, space1(3), make([]byte, 12))[:10], false},
		{"dataspace of rank 40", attrV1("shape", int32T, cat([]byte{1, 40, 0, 0}, le32(0), le64(3)), make([]byte, 12)), false},
		{"dataspace version 7", attrV1("shape", int32T, cat([]byte{7, 1, 0, 0}, le32(0), le64(3)), make([]byte, 12)), false},
	}
	for _, c := range cases {
		err := checkAttrMessage(c.msg, sb8)
		if c.ok && err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if !c.ok && !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", c.name, err)
		}
	}
}
