package h5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gcolObjects parses the first global heap collection of an 8-byte-length
// file naively, for the test to find fields to damage: it returns the
// collection's address and the offsets of each object header within it.
func gcolObjects(t *testing.T, b []byte) (addr int, objs map[uint16]int) {
	t.Helper()
	addr = bytes.Index(b, []byte("GCOL\x01\x00\x00\x00"))
	if addr < 0 {
		t.Fatal("no global heap collection in the test file")
	}
	size := int(binary.LittleEndian.Uint64(b[addr+8:]))
	objs = map[uint16]int{}
	for p := 16; p+16 <= size; {
		idx := binary.LittleEndian.Uint16(b[addr+p:])
		osz := int(binary.LittleEndian.Uint64(b[addr+p+8:]))
		objs[idx] = p
		if idx == 0 {
			p += osz
		} else {
			p += 16 + (osz+7)/8*8
		}
	}
	return addr, objs
}

// TestDamagedGlobalHeap damages the variable-length string storage of
// testdata/synthetic.h5 in the two ways that crash (oversized object) or hang
// (zero-sized free space) libhdf5 1.10, and checks that reading a string
// attribute fails with ErrCorrupt instead. Without the check, this test
// crashes or never ends.
func TestDamagedGlobalHeap(t *testing.T) {
	orig, err := os.ReadFile("testdata/synthetic.h5")
	if err != nil {
		t.Fatal(err)
	}
	addr, objs := gcolObjects(t, orig)
	if _, ok := objs[0]; !ok || len(objs) < 3 {
		t.Fatalf("unexpected collection layout %v", objs)
	}
	cases := map[string]func(b []byte){
		"object size high byte": func(b []byte) { b[addr+objs[1]+8+5] = 0xbc },
		"object size past end":  func(b []byte) { binary.LittleEndian.PutUint64(b[addr+objs[2]+8:], 5000) },
		"free space size zero":  func(b []byte) { binary.LittleEndian.PutUint64(b[addr+objs[0]+8:], 0) },
		"collection size huge":  func(b []byte) { binary.LittleEndian.PutUint64(b[addr+8:], 1<<40) },
	}
	dir := t.TempDir()
	for name, damage := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			b := append([]byte(nil), orig...)
			damage(b)
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".h5")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, open := range []func() (*File, error){
				func() (*File, error) { return Open(p) },
				func() (*File, error) { return OpenImage(b) },
			} {
				f, err := open()
				if err != nil {
					t.Fatal(err)
				}
				_, err = f.Root().Strings("utf8_scalar")
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "global heap") {
					t.Errorf("reading a vlen string: %v; want ErrCorrupt", err)
				}
				// Fixed-length strings and numbers do not live in the heap.
				if ss, err := f.Root().Strings("fixed_array"); err != nil || len(ss) != 3 {
					t.Errorf("fixed-length strings: %q, %v", ss, err)
				}
				f.Close()
			}
		})
	}
}

// TestHeapScanFindsEveryCollection checks the scan across its block
// boundaries: collections placed so that their headers straddle a block edge
// are still found.
func TestHeapScanFindsEveryCollection(t *testing.T) {
	// A fake file: superblock v0 header with 8-byte lengths, then collections.
	sb := make([]byte, 64)
	copy(sb, signature)
	sb[13], sb[14] = 8, 8
	coll := func(badSize bool) []byte {
		c := make([]byte, 4096)
		copy(c, "GCOL\x01\x00\x00\x00")
		binary.LittleEndian.PutUint64(c[8:], 4096)
		// object 1 of 5 bytes, then free space.
		binary.LittleEndian.PutUint16(c[16:], 1)
		binary.LittleEndian.PutUint64(c[24:], 5)
		if badSize {
			binary.LittleEndian.PutUint64(c[24:], 1<<33)
		}
		binary.LittleEndian.PutUint64(c[48:], 4096-40)
		return c
	}
	for _, at := range []int{heapScanBlock - 7, heapScanBlock - 15, heapScanBlock - 16, heapScanBlock, 2*heapScanBlock - 30} {
		file := make([]byte, at+4096+100)
		copy(file, sb)
		copy(file[1000:], coll(false))
		copy(file[at:], coll(true))
		hi, err := scanHeaps(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatal(err)
		}
		// A damaged collection is recorded, an error only for the strings
		// that refer to it.
		if e := hi.broken[int64(at)]; !errors.Is(e, ErrCorrupt) || !strings.Contains(e.Error(), "at byte "+itoa(at)) {
			t.Errorf("bad collection at %d: %v", at, e)
		}
		good := coll(false)
		good[5] = 0xf0 // a reserved byte, which libhdf5 does not read
		copy(file[at:], good)
		hi, err = scanHeaps(bytes.NewReader(file), int64(len(file)))
		if err != nil || len(hi.broken) != 0 {
			t.Errorf("good collections, second at %d: %v %v", at, err, hi.broken)
		}
		if _, ok := hi.colls[int64(at)]; !ok {
			t.Errorf("collection at %d (reserved byte set) not found", at)
		}
		if _, ok := hi.colls[1000]; !ok {
			t.Errorf("collection at 1000 not found")
		}
	}
}

// TestVlenRefCheckEngages checks, on every dumped file, that the reference
// check locates and accepts the stored references of every variable-length
// string attribute (all these files use version-1 object headers), so that
// it neither skips real files nor rejects valid ones.
func TestVlenRefCheckEngages(t *testing.T) {
	d := loadDump(t)
	total := 0
	for entry, objs := range d.Files {
		t.Run(strings.ReplaceAll(entry, "/", "_"), func(t *testing.T) {
			f := openEntry(t, entry)
			defer f.Close()
			for path, obj := range objs {
				for name, a := range obj.Attrs {
					if a.DType != "str" {
						continue
					}
					checked, err := (Object{f: f, path: path}).refsChecked(name)
					if err != nil || !checked {
						t.Errorf("%s@%s: checked %v, %v", path, name, checked, err)
					}
					total++
				}
			}
		})
	}
	t.Logf("%d variable-length string attributes checked", total)
}

// TestDamagedVlenReference damages the stored reference of the root
// attribute utf8_scalar in testdata/synthetic.h5 (its 16 bytes: length 19,
// collection address, object index 1): an index past the object table
// crashes libhdf5 1.10, a wrong length makes it copy out of bounds. Both must
// give ErrCorrupt.
func TestDamagedVlenReference(t *testing.T) {
	orig, err := os.ReadFile("testdata/synthetic.h5")
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := gcolObjects(t, orig)
	ref := make([]byte, 16)
	binary.LittleEndian.PutUint32(ref, uint32(len("Grüße, κόσμε")))
	binary.LittleEndian.PutUint64(ref[4:], uint64(addr))
	binary.LittleEndian.PutUint32(ref[12:], 1)
	at := bytes.Index(orig, ref)
	if at < 0 || bytes.Count(orig, ref) != 1 {
		t.Fatalf("reference of utf8_scalar not found exactly once")
	}
	cases := map[string]func(b []byte){
		"index past the table": func(b []byte) { binary.LittleEndian.PutUint32(b[at+12:], 60000) },
		"index 2^24":           func(b []byte) { b[at+15] = 1 },
		"unused index":         func(b []byte) { binary.LittleEndian.PutUint32(b[at+12:], 200) },
		"length too large":     func(b []byte) { b[at+2] = 0xee },
		"length too small":     func(b []byte) { b[at] = 3 },
	}
	for name, damage := range cases {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			b := append([]byte(nil), orig...)
			damage(b)
			f, err := OpenImage(b)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = f.Root().Strings("utf8_scalar")
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "utf8_scalar") {
				t.Errorf("got %v; want ErrCorrupt naming the attribute", err)
			}
			// Other strings of the same collection stay readable.
			if s, err := f.Root().String("ascii_scalar"); err != nil || s != "plain bytes" {
				t.Errorf("ascii_scalar = %q, %v", s, err)
			}
		})
	}
}
