package h5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// ErrCorrupt reports a damaged HDF5 structure found by this package's own
// checks (see checkHeaps).
var ErrCorrupt = errors.New("corrupt HDF5 file")

// Global heap check.
//
// Variable-length strings (model_config, vlen layer_names, the Keras 3 "name"
// attributes) are stored in "global heap collections": blocks starting with
// "GCOL", version 1, 3 reserved bytes and the collection size, followed by
// objects, each an index (2 bytes), a reference count (2), 4 reserved bytes, a
// size (size-of-lengths bytes) and the data padded to 8 bytes; index 0 marks
// the free space, whose size covers its own header. libhdf5 1.10 walks this
// table without bounds checks: a damaged size makes it copy past the
// collection (segmentation fault) and a zero free-space size makes it loop
// forever — both seen when fuzzing corpus files; libhdf5 1.14 rejects them.
// Before the first variable-length string read of a File, checkHeaps finds
// every collection (they may sit anywhere, interleaved with raw data) and
// walks it as libhdf5 does, with the checks added.

// heapScanBlock is the read size of the scan.
const heapScanBlock = 8 << 20

// checkHeaps runs the global heap check once per File and returns its
// verdict. mu must be held.
func (f *File) checkHeaps() error {
	if f.heapChecked || f.writable {
		return f.heapErr
	}
	f.heapChecked = true
	var r io.ReaderAt
	if f.image != nil {
		r = bytes.NewReader(unsafe.Slice((*byte)(f.image), f.size))
	} else {
		fh, err := os.Open(f.name)
		if err != nil {
			f.heapErr = fmt.Errorf("h5: %s: checking global heaps: %w", f.name, err)
			return f.heapErr
		}
		defer fh.Close()
		r = fh
	}
	if err := scanHeaps(r, f.size); err != nil {
		f.heapErr = fmt.Errorf("h5: %s: %w", f.name, err)
	}
	return f.heapErr
}

// scanHeaps finds and checks every global heap collection in the size-byte
// file r.
func scanHeaps(r io.ReaderAt, size int64) error {
	lenSize, err := lengthSize(r, size)
	if err != nil {
		return err
	}
	const overlap = 15 // a header split across blocks is found in the next one
	buf := make([]byte, min(heapScanBlock, size))
	for off := int64(0); off < size; off += int64(len(buf)) - overlap {
		n, err := r.ReadAt(buf, off)
		if err != nil && !(errors.Is(err, io.EOF) && n > 0) {
			return fmt.Errorf("checking global heaps: %w", err)
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("GCOL\x01\x00\x00\x00"))
			if j < 0 {
				break
			}
			if err := checkCollection(r, size, off+int64(i+j), lenSize); err != nil {
				return err
			}
			i += j + 1
		}
		if off+int64(n) >= size {
			break
		}
	}
	return nil
}

// lengthSize reads the superblock's "size of lengths" (bytes per length field).
func lengthSize(r io.ReaderAt, size int64) (int, error) {
	var hdr [16]byte
	for off := int64(0); off+int64(len(hdr)) <= size; off = nextSigOffset(off) {
		if _, err := r.ReadAt(hdr[:], off); err != nil {
			return 0, err
		}
		if !bytes.Equal(hdr[:8], signature) {
			continue
		}
		var l byte
		switch hdr[8] { // superblock version
		case 0, 1:
			l = hdr[14]
		case 2, 3:
			l = hdr[10]
		default:
			return 0, fmt.Errorf("superblock version %d: %w", hdr[8], ErrCorrupt)
		}
		if l != 2 && l != 4 && l != 8 {
			return 0, fmt.Errorf("superblock size of lengths %d: %w", l, ErrCorrupt)
		}
		return int(l), nil
	}
	return 0, fmt.Errorf("no superblock: %w", ErrNotHDF5)
}

// readLength decodes a little-endian length field of n bytes.
func readLength(b []byte, n int) uint64 {
	switch n {
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// checkCollection checks the collection at addr the way libhdf5's loader
// walks it (H5HG__cache_heap_deserialize), failing where that would overrun.
func checkCollection(r io.ReaderAt, size, addr int64, lenSize int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("global heap collection at byte %d: %s: %w", addr, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	hdrSize := int64(8 + lenSize)
	if addr+hdrSize > size {
		return bad("header past the end of the file")
	}
	hdr := make([]byte, hdrSize)
	if _, err := r.ReadAt(hdr, addr); err != nil {
		return bad("%v", err)
	}
	csize := readLength(hdr[8:], lenSize)
	if csize < uint64(hdrSize) || csize > uint64(size-addr) {
		return bad("size %d does not fit in the file", csize)
	}
	c := make([]byte, csize)
	if _, err := r.ReadAt(c, addr); err != nil {
		return bad("%v", err)
	}
	objHdr := uint64(8 + lenSize)
	end := csize
	for p := uint64(hdrSize); p < end; {
		if p+objHdr > end {
			break // too small for an object header: libhdf5 takes it as free space
		}
		idx := binary.LittleEndian.Uint16(c[p:])
		osize := readLength(c[p+8:], lenSize)
		if osize > end-p {
			return bad("object %d at offset %d claims %d bytes, %d remain", idx, p, osize, end-p)
		}
		need := osize // the free-space object's size includes its header
		if idx > 0 {
			need = objHdr + (osize+7)/8*8
		} else if need < objHdr {
			return bad("free space of %d bytes at offset %d", osize, p)
		}
		if need > end-p {
			return bad("object %d at offset %d needs %d bytes, %d remain", idx, p, need, end-p)
		}
		p += need
	}
	return nil
}
