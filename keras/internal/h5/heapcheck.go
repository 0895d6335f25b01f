package h5

// #include "shim.h"
import "C"

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"unsafe"
)

// Checks that keep libhdf5 1.10 away from damaged variable-length strings.
//
// Variable-length strings (model_config, vlen layer_names, the Keras 3 "name"
// attributes) are stored in "global heap collections": blocks starting with
// "GCOL", version 1, 3 reserved bytes (which libhdf5 does not read) and the
// collection size, followed by objects, each an index (2 bytes), a reference count (2), 4 reserved bytes, a
// size (size-of-lengths bytes) and the data padded to 8 bytes; index 0 marks
// the free space, whose size covers its own header. An attribute stores, per
// string, a reference: the string's length (4 bytes), the collection's address
// (size-of-offsets bytes) and the object's index (4 bytes).
//
// libhdf5 1.10 trusts all of this. Corrupting bytes of the corpus files showed
// that a damaged object size makes it copy past the collection (segmentation
// fault), a zero free-space size makes it loop forever, a damaged index in a
// reference makes it read outside its object table (segmentation fault) and a
// damaged length makes it copy without end. libhdf5 1.14 rejects all four
// ("bad heap index", "Expected global heap object size does not match", ...).
// So, before libhdf5 reads a variable-length string attribute:
//
//   - checkHeaps (once per File) finds every collection — they may sit anywhere,
//     interleaved with raw data — and walks its object table as libhdf5 does,
//     with bounds checks, recording which objects exist and their sizes;
//   - checkVlenRefs finds the attribute's stored references in its object
//     header and checks that each names an existing object whose size equals
//     the string's length. Only version-1 object headers (the default of
//     h5py and libhdf5, so all Keras files) need this: version-2 headers carry
//     checksums that libhdf5 verifies.

// heapScanBlock is the read size of the collection scan.
const heapScanBlock = 8 << 20

// heapIndex is what checkHeaps learns about a file.
type heapIndex struct {
	base             int64 // offset of the superblock; file addresses are relative to it
	offSize, lenSize int   // bytes per address and per length field
	// colls maps the absolute address of each collection to the sizes of its
	// objects by index.
	colls map[int64]map[uint16]uint64
	// broken maps the address of each damaged collection (or of a chance
	// match of the signature in raw data) to what is wrong with it: an
	// error only when a string refers to it.
	broken map[int64]error
}

// reader returns the file's bytes for the checks and a function to release
// them. mu must be held.
func (f *File) reader() (io.ReaderAt, func(), error) {
	if f.image != nil {
		return bytes.NewReader(unsafe.Slice((*byte)(f.image), f.size)), func() {}, nil
	}
	fh, err := os.Open(f.name)
	if err != nil {
		return nil, nil, err
	}
	return fh, func() { fh.Close() }, nil
}

// checkHeaps runs the collection check once per File and returns its
// verdict. mu must be held.
func (f *File) checkHeaps() error {
	if f.heapChecked || f.writable {
		return f.heapErr
	}
	f.heapChecked = true
	r, done, err := f.reader()
	if err != nil {
		f.heapErr = fmt.Errorf("h5: %s: checking global heaps: %w", f.name, err)
		return f.heapErr
	}
	defer done()
	f.heaps, err = scanHeaps(r, f.size)
	if err != nil {
		f.heapErr = fmt.Errorf("h5: %s: %w", f.name, err)
	}
	return f.heapErr
}

// scanHeaps finds and checks every global heap collection in the size-byte
// file r.
func scanHeaps(r io.ReaderAt, size int64) (*heapIndex, error) {
	hi, err := readSuperblock(r, size)
	if err != nil {
		return nil, err
	}
	const overlap = 15 // a signature split across blocks is found in the next one
	buf := make([]byte, min(heapScanBlock, size))
	for off := int64(0); off < size; off += int64(len(buf)) - overlap {
		n, err := r.ReadAt(buf, off)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return nil, fmt.Errorf("checking global heaps: %w", err)
		}
		b := buf[:n]
		for i := 0; ; {
			// The signature and version 1; libhdf5 skips the 3 reserved
			// bytes unread, so they may hold anything.
			j := bytes.Index(b[i:], []byte("GCOL\x01"))
			if j < 0 {
				break
			}
			addr := off + int64(i+j)
			_, seen := hi.colls[addr]
			if _, bad := hi.broken[addr]; !seen && !bad {
				objs, err := checkCollection(r, size, addr, hi.lenSize)
				if err != nil {
					hi.broken[addr] = err
				} else {
					hi.colls[addr] = objs
				}
			}
			i += j + 1
		}
		if off+int64(n) >= size {
			break
		}
	}
	return hi, nil
}

// readSuperblock finds the superblock and reads its field sizes.
func readSuperblock(r io.ReaderAt, size int64) (*heapIndex, error) {
	var hdr [16]byte
	for off := int64(0); off+int64(len(hdr)) <= size; off = nextSigOffset(off) {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return nil, err
		}
		if !bytes.Equal(hdr[:8], signature) {
			continue
		}
		var o, l byte
		switch hdr[8] { // superblock version
		case 0, 1:
			o, l = hdr[13], hdr[14]
		case 2, 3:
			o, l = hdr[9], hdr[10]
		default:
			return nil, fmt.Errorf("superblock version %d: %w", hdr[8], ErrCorrupt)
		}
		if (o != 2 && o != 4 && o != 8) || (l != 2 && l != 4 && l != 8) {
			return nil, fmt.Errorf("superblock field sizes %d/%d: %w", o, l, ErrCorrupt)
		}
		return &heapIndex{base: off, offSize: int(o), lenSize: int(l), colls: map[int64]map[uint16]uint64{}, broken: map[int64]error{}}, nil
	}
	return nil, fmt.Errorf("no superblock: %w", ErrNotHDF5)
}

// readUint decodes a little-endian unsigned integer of n (2, 4 or 8) bytes.
func readUint(b []byte, n int) uint64 {
	switch n {
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// checkCollection checks the collection at addr the way libhdf5's loader
// walks it (H5HG__cache_heap_deserialize), failing where that would overrun,
// and returns the size of each object by index.
func checkCollection(r io.ReaderAt, size, addr int64, lenSize int) (map[uint16]uint64, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("global heap collection at byte %d: %s: %w", addr, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	hdrSize := int64(8 + lenSize)
	if addr+hdrSize > size {
		return nil, bad("header past the end of the file")
	}
	hdr := make([]byte, hdrSize)
	if _, err := r.ReadAt(hdr, addr); err != nil {
		return nil, bad("%v", err)
	}
	csize := readUint(hdr[8:], lenSize)
	if csize < uint64(hdrSize) || csize > uint64(size-addr) {
		return nil, bad("size %d does not fit in the file", csize)
	}
	c := make([]byte, csize)
	if _, err := r.ReadAt(c, addr); err != nil {
		return nil, bad("%v", err)
	}
	objs := map[uint16]uint64{}
	objHdr := uint64(8 + lenSize)
	end := csize
	for p := uint64(hdrSize); p < end; {
		if p+objHdr > end {
			break // too small for an object header: libhdf5 takes it as free space
		}
		idx := binary.LittleEndian.Uint16(c[p:])
		osize := readUint(c[p+8:], lenSize)
		if osize > end-p {
			return nil, bad("object %d at offset %d claims %d bytes, %d remain", idx, p, osize, end-p)
		}
		need := osize // the free-space object's size includes its header
		if idx > 0 {
			need = objHdr + (osize+7)/8*8
			objs[idx] = osize
		} else if need < objHdr {
			return nil, bad("free space of %d bytes at offset %d", osize, p)
		}
		if need > end-p {
			return nil, bad("object %d at offset %d needs %d bytes, %d remain", idx, p, need, end-p)
		}
		p += need
	}
	return objs, nil
}

// checkVlenRefs checks the n stored string references of attribute name of
// the open object oid against the collections found by checkHeaps (which must
// have succeeded). mu must be held.
func (o Object) checkVlenRefs(oid C.hid_t, name string, n int64) error {
	_, err := o.vlenRefs(oid, name, n)
	return err
}

// vlenRefs is checkVlenRefs, also reporting whether the references were found
// and checked (false for created files and version-2 object headers).
func (o Object) vlenRefs(oid C.hid_t, name string, n int64) (checked bool, err error) {
	hi := o.f.heaps
	if hi == nil {
		return false, nil // created file
	}
	var a C.ulonglong
	if C.h5go_obj_addr(oid, &a) < 0 {
		return false, o.libError("object header address")
	}
	r, done, err := o.f.reader()
	if err != nil {
		return false, o.errorf("checking attribute %q: %w", name, err)
	}
	defer done()
	data, found, err := attrData(r, o.f.size, hi, hi.base+int64(a), name)
	if err != nil {
		return false, o.errorf("attribute %q: %w", name, err)
	}
	if !found {
		return false, nil // not in a version-1 header: libhdf5's checksums protect it
	}
	refSize := int64(4 + hi.offSize + 4)
	if n > int64(len(data))/refSize {
		return true, o.errorf("attribute %q: %d strings do not fit in %d bytes of data: %w", name, n, len(data), ErrCorrupt)
	}
	for i := range n {
		ref := data[i*refSize:]
		length := uint64(binary.LittleEndian.Uint32(ref))
		addr := readUint(ref[4:], hi.offSize)
		idx := binary.LittleEndian.Uint32(ref[4+hi.offSize:])
		if addr == 0 {
			continue // a null reference (empty or missing string): no heap read
		}
		if err := hi.broken[hi.base+int64(addr)]; err != nil {
			return true, o.errorf("attribute %q: string %d: %w", name, i, err)
		}
		coll, ok := hi.colls[hi.base+int64(addr)]
		if !ok {
			// libhdf5 would refuse the signature, but only after sizing
			// its conversion buffer by the stored length (up to 4 GiB,
			// zeroed: 25 s for one 17 KB file found by FuzzOpen).
			return true, o.errorf("attribute %q: string %d refers to byte %d, where no global heap collection starts: %w", name, i, addr, ErrCorrupt)
		}
		size, ok := coll[uint16(idx)]
		if idx > 0xffff || !ok {
			return true, o.errorf("attribute %q: string %d refers to missing global heap object %d at %d: %w", name, i, idx, addr, ErrCorrupt)
		}
		if size != length {
			return true, o.errorf("attribute %q: string %d has length %d but its heap object has %d bytes: %w", name, i, length, size, ErrCorrupt)
		}
	}
	return true, nil
}

// refsChecked runs the heap and reference checks for attribute name of o and
// reports whether its references were found and checked (for tests).
func (o Object) refsChecked(name string) (bool, error) {
	var checked bool
	err := o.withObject(func(oid C.hid_t) error {
		aid, m, err := o.attrOpen(oid, name)
		if err != nil {
			return err
		}
		C.H5Aclose(aid)
		if err := o.f.checkHeaps(); err != nil {
			return err
		}
		checked, err = o.vlenRefs(oid, name, m.n)
		return err
	})
	return checked, err
}

// Object header message types used by attrData.
const (
	msgContinuation = 0x10
	msgAttribute    = 0x0c
)

// walkV1Header calls fn with the type, flags and body of every message of
// the version-1 object header at the absolute address addr, following
// continuation blocks, until fn returns stop or an error. v1 is false (and
// fn never called) when the header is not version 1: version-2 headers
// carry checksums that libhdf5 verifies.
func walkV1Header(r io.ReaderAt, size int64, hi *heapIndex, addr int64, fn func(typ uint16, flags byte, body []byte) (stop bool, err error)) (v1 bool, err error) {
	read := func(at, n int64) ([]byte, error) {
		if at < 0 || n < 0 || at > size || n > size-at {
			return nil, fmt.Errorf("object header block at byte %d (%d bytes) lies outside the file: %w", at, n, ErrCorrupt)
		}
		b := make([]byte, n)
		if _, err := r.ReadAt(b, at); err != nil {
			return nil, err
		}
		return b, nil
	}
	prefix, err := read(addr, 16)
	if err != nil {
		return false, err
	}
	if prefix[0] != 1 {
		return false, nil // "OHDR" (version 2) or not a header libhdf5 would accept
	}
	type block struct{ at, n int64 }
	blocks := []block{{addr + 16, int64(binary.LittleEndian.Uint32(prefix[8:]))}}
	for k := 0; k < len(blocks); k++ {
		if k > 1024 {
			return true, fmt.Errorf("object header at byte %d has over 1024 continuation blocks: %w", addr, ErrCorrupt)
		}
		b, err := read(blocks[k].at, blocks[k].n)
		if err != nil {
			return true, err
		}
		for p := 0; p+8 <= len(b); {
			typ := binary.LittleEndian.Uint16(b[p:])
			msize := int(binary.LittleEndian.Uint16(b[p+2:]))
			flags := b[p+4]
			body := b[p+8:]
			if msize > len(body) {
				return true, fmt.Errorf("object header message at byte %d overruns its block: %w", blocks[k].at+int64(p), ErrCorrupt)
			}
			body = body[:msize]
			p += 8 + msize
			if typ == msgContinuation {
				if len(body) < hi.offSize+hi.lenSize {
					return true, fmt.Errorf("short continuation message: %w", ErrCorrupt)
				}
				at := readUint(body, hi.offSize)
				n := readUint(body[hi.offSize:], hi.lenSize)
				if at > uint64(size) || n > uint64(size) {
					return true, fmt.Errorf("continuation block at %d (%d bytes) outside the file: %w", at, n, ErrCorrupt)
				}
				blocks = append(blocks, block{hi.base + int64(at), int64(n)})
				continue
			}
			if stop, err := fn(typ, flags, body); stop || err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// attrData returns the raw data of attribute name in the version-1 object
// header at the absolute address addr, or found == false when the header is
// not version 1 or holds no such attribute message.
func attrData(r io.ReaderAt, size int64, hi *heapIndex, addr int64, name string) (data []byte, found bool, err error) {
	_, err = walkV1Header(r, size, hi, addr, func(typ uint16, flags byte, body []byte) (bool, error) {
		if typ != msgAttribute || flags&0x02 != 0 { // shared messages are elsewhere
			return false, nil
		}
		d, ok, err := attrMessageData(body, name)
		if ok {
			data, found = d, true
		}
		return ok, err
	})
	return data, found, err
}

// attrMessageData returns the data of an attribute message if it is named
// name.
func attrMessageData(m []byte, name string) ([]byte, bool, error) {
	am, err := parseAttrMessage(m)
	if err != nil {
		return nil, false, err
	}
	if string(am.name) != name {
		return nil, false, nil
	}
	return am.data, true, nil
}

// attrMessage is an attribute message cut into its parts.
type attrMessage struct {
	name         []byte // without its NUL
	dtype, space []byte // the encoded datatype and dataspace
	data         []byte // the rest of the message
}

// parseAttrMessage cuts an attribute message (versions 1 to 3) into its
// parts, checking that they lie inside it.
func parseAttrMessage(m []byte) (attrMessage, error) {
	var am attrMessage
	if len(m) < 8 {
		return am, fmt.Errorf("short attribute message: %w", ErrCorrupt)
	}
	version := m[0]
	nameSize := int(binary.LittleEndian.Uint16(m[2:]))
	dtSize := int(binary.LittleEndian.Uint16(m[4:]))
	dsSize := int(binary.LittleEndian.Uint16(m[6:]))
	pad := func(n int) int { return n }
	p := 8
	switch version {
	case 1:
		pad = func(n int) int { return (n + 7) / 8 * 8 }
	case 2:
	case 3:
		p = 9 // character-set byte
	default:
		return am, fmt.Errorf("attribute message version %d: %w", version, ErrCorrupt)
	}
	if nameSize < 1 || p+pad(nameSize) > len(m) || m[p+nameSize-1] != 0 {
		return am, fmt.Errorf("attribute message name overruns it: %w", ErrCorrupt)
	}
	am.name = m[p : p+nameSize-1]
	p += pad(nameSize)
	if p+pad(dtSize) > len(m) {
		return am, fmt.Errorf("attribute %q: datatype overruns its message: %w", am.name, ErrCorrupt)
	}
	am.dtype = m[p : p+dtSize]
	p += pad(dtSize)
	if p+pad(dsSize) > len(m) {
		return am, fmt.Errorf("attribute %q: dataspace overruns its message: %w", am.name, ErrCorrupt)
	}
	am.space = m[p : p+dsSize]
	am.data = m[p+pad(dsSize):]
	return am, nil
}

// Datatype class of variable-length types in a datatype message.
const dtClassVlen = 9

// checkAttrMessage checks that the data an attribute message declares —
// its dataspace's element count times the datatype's size — lies inside
// the message. libhdf5 1.10 copies that many bytes without checking: a
// read past the message (found by FuzzLoad under valgrind; newer releases
// refuse it: "ran off end of input buffer while decoding").
func checkAttrMessage(m []byte, hi *heapIndex) error {
	am, err := parseAttrMessage(m)
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("attribute %q: %s: %w", am.name, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	if len(am.dtype) < 8 {
		return bad("datatype of %d bytes", len(am.dtype))
	}
	elem := uint64(binary.LittleEndian.Uint32(am.dtype[4:]))
	if am.dtype[0]&0x0f == dtClassVlen {
		elem = uint64(4 + hi.offSize + 4) // length, heap address, index
		// libhdf5 sizes its conversion buffer as a string's stored length
		// times the base type's size: a damaged base size makes it
		// allocate and zero gigabytes (64 s for one file found by
		// FuzzLoad). A string's base is a 1-byte character; Keras stores
		// no other variable-length types.
		if len(am.dtype) < 16 {
			return bad("variable-length datatype without its base type")
		}
		base := binary.LittleEndian.Uint32(am.dtype[12:])
		if isString := am.dtype[1]&0x0f == 1; (isString && base != 1) || base == 0 || base > 1<<10 {
			return bad("variable-length datatype with a base type of %d bytes", base)
		}
	}
	s := am.space
	if len(s) < 4 {
		return bad("dataspace of %d bytes", len(s))
	}
	rank := int(s[1])
	var dims []byte
	points := uint64(1)
	switch s[0] {
	case 1:
		if len(s) < 8 {
			return bad("dataspace of %d bytes", len(s))
		}
		dims = s[8:]
	case 2:
		dims = s[4:]
		if s[3] == 2 { // null dataspace: no data
			points = 0
		}
	default:
		return bad("dataspace version %d", s[0])
	}
	if rank > 32 || len(dims) < rank*hi.lenSize {
		return bad("dataspace of rank %d in %d bytes", rank, len(s))
	}
	for i := range rank {
		d := readUint(dims[i*hi.lenSize:], hi.lenSize)
		if d != 0 && points > math.MaxUint64/d {
			return bad("dataspace dimensions overflow")
		}
		points *= d
	}
	if points > 0 && elem > math.MaxUint64/points {
		return bad("data size overflows")
	}
	if need := points * elem; need > uint64(len(am.data)) {
		return bad("%d elements of %d bytes need %d bytes, the message holds %d", points, elem, need, len(am.data))
	}
	return nil
}

// checkAttrMessages checks every attribute message in the version-1 header
// of the open object oid with checkAttrMessage, once per object, before
// libhdf5 decodes any of them. Version-2 headers carry checksums that
// libhdf5 verifies. mu must be held.
func (o Object) checkAttrMessages(oid C.hid_t) error {
	f := o.f
	if f.writable {
		return nil
	}
	var a C.ulonglong
	if C.h5go_obj_addr(oid, &a) < 0 {
		return o.libError("object header address")
	}
	if err, seen := f.attrsChecked[uint64(a)]; seen {
		return err
	}
	r, done, err := f.reader()
	if err != nil {
		return o.errorf("checking attributes: %w", err)
	}
	defer done()
	if err := f.readSB(r); err != nil {
		return o.errorf("checking attributes: %w", err)
	}
	_, err = walkV1Header(r, f.size, f.sb, f.sb.base+int64(a), func(typ uint16, flags byte, body []byte) (bool, error) {
		if typ != msgAttribute || flags&0x02 != 0 { // shared messages are elsewhere
			return false, nil
		}
		return false, checkAttrMessage(body, f.sb)
	})
	if err != nil {
		err = o.errorf("attributes: %w", err)
	}
	if f.attrsChecked == nil {
		f.attrsChecked = map[uint64]error{}
	}
	f.attrsChecked[uint64(a)] = err
	return err
}

// readSB reads the superblock's field sizes into f.sb once. mu must be held.
func (f *File) readSB(r io.ReaderAt) (err error) {
	if f.sb == nil {
		f.sb, err = readSuperblock(r, f.size)
	}
	return err
}

// Object header message type of links (compact, "new-style" groups).
const msgLink = 0x06

// Link types libhdf5 knows without registration.
const (
	linkHard     = 0
	linkSoft     = 1
	linkExternal = 64
)

// checkLinkMessage checks a link message the way libhdf5 1.13+ does and
// 1.10 does not: every field inside the message, a name without NUL bytes,
// a known link type, and for an external link a value that holds its
// version byte and two NUL-terminated strings. libhdf5 1.10 hands an
// external link of zero bytes to its query function, which reads it anyway
// (a crash found by FuzzOpen).
func checkLinkMessage(m []byte, hi *heapIndex) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("link message: %s: %w", fmt.Sprintf(format, args...), ErrCorrupt)
	}
	if len(m) < 2 || m[0] != 1 {
		return bad("version or size")
	}
	flags, p := m[1], 2
	if flags&^0x1f != 0 {
		return bad("flags %#x", flags)
	}
	typ := byte(linkHard)
	if flags&0x08 != 0 {
		if p >= len(m) {
			return bad("truncated")
		}
		typ, p = m[p], p+1
	}
	if flags&0x04 != 0 {
		p += 8 // creation order
	}
	if flags&0x10 != 0 {
		p++ // character set
	}
	lenSize := 1 << (flags & 0x03)
	if p+lenSize > len(m) {
		return bad("truncated")
	}
	nameLen := readUintN(m[p:], lenSize)
	p += lenSize
	if nameLen == 0 || nameLen > uint64(len(m)-p) {
		return bad("name of %d bytes in a message of %d", nameLen, len(m))
	}
	name := m[p : p+int(nameLen)]
	p += int(nameLen)
	if bytes.IndexByte(name, 0) >= 0 {
		return bad("name %q holds a NUL byte", name)
	}
	rest := m[p:]
	switch typ {
	case linkHard:
		if len(rest) < hi.offSize {
			return bad("hard link %q: truncated address", name)
		}
	case linkSoft, linkExternal:
		if len(rest) < 2 {
			return bad("link %q: truncated value", name)
		}
		n := int(binary.LittleEndian.Uint16(rest))
		if n == 0 || n > len(rest)-2 {
			return bad("link %q: value of %d bytes in %d", name, n, len(rest)-2)
		}
		if v := rest[2 : 2+n]; typ == linkExternal && (v[0]>>4 != 0 || bytes.Count(v[1:], []byte{0}) < 2) {
			return bad("external link %q: malformed value", name)
		}
	default:
		return bad("link %q of unknown type %d", name, typ)
	}
	return nil
}

// readUintN decodes a little-endian unsigned integer of n (1, 2, 4 or 8)
// bytes.
func readUintN(b []byte, n int) uint64 {
	if n == 1 {
		return uint64(b[0])
	}
	return readUint(b, n)
}

// checkLinks checks, once per group, the link messages of the groups that
// a lookup of path goes through — the root and every group above path's
// last component, and path itself when self — before libhdf5 decodes them
// (checkLinkMessage). mu must be held.
func (f *File) checkLinks(path string, self bool) error {
	if f.writable || f.size == 0 {
		return nil
	}
	groups := []string{"/"}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if !self {
		parts = parts[:len(parts)-1]
	}
	prefix := ""
	for _, c := range parts {
		if c == "" || c == "." {
			continue
		}
		prefix += "/" + c
		groups = append(groups, prefix)
	}
	for _, g := range groups {
		err, seen := f.linksChecked[g]
		if !seen {
			err = f.checkGroupLinks(g)
			if f.linksChecked == nil {
				f.linksChecked = map[string]error{}
			}
			f.linksChecked[g] = err
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkGroupLinks checks the link messages in the version-1 header of the
// group at path (whose parents are checked). Failing to open it is left to
// the caller's own lookup to report. mu must be held.
func (f *File) checkGroupLinks(path string) error {
	cp, free, err := cstr(path)
	if err != nil {
		return nil
	}
	defer free()
	id := C.H5Oopen(f.id, cp, C.h5go_lapl())
	if id < 0 {
		C.H5Eclear2(C.H5E_DEFAULT)
		return nil
	}
	defer C.H5Oclose(id)
	var a C.ulonglong
	if C.h5go_obj_addr(id, &a) < 0 {
		C.H5Eclear2(C.H5E_DEFAULT)
		return nil
	}
	r, done, err := f.reader()
	if err != nil {
		return fmt.Errorf("h5: %s: %s: checking links: %w", f.name, path, err)
	}
	defer done()
	if err := f.readSB(r); err != nil {
		return fmt.Errorf("h5: %s: %s: checking links: %w", f.name, path, err)
	}
	_, err = walkV1Header(r, f.size, f.sb, f.sb.base+int64(a), func(typ uint16, flags byte, body []byte) (bool, error) {
		if typ != msgLink {
			return false, nil
		}
		return false, checkLinkMessage(body, f.sb)
	})
	if err != nil {
		return fmt.Errorf("h5: %s: %s: %w", f.name, path, err)
	}
	return nil
}
