package h5

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenImageReaderCannotAllocate: an image size the machine cannot
// allocate (1 TiB, the largest accepted) must give an error. OpenImageReader
// allocated with cgo's C.malloc, which aborts the whole program ("fatal
// error: runtime: C malloc failed") instead of returning nil; a .keras
// archive declaring a huge model.weights.h5 crashed the vgg16 command
// under a memory limit. (Where the kernel overcommits without limit the
// allocation succeeds and the short stream is the error.)
func TestOpenImageReaderCannotAllocate(t *testing.T) {
	b := []byte("\x89HDF\r\n\x1a\n and not much more")
	_, err := OpenImageReader("x.keras/model.weights.h5", bytes.NewReader(b), maxImage)
	if err == nil || !strings.Contains(err.Error(), "x.keras/model.weights.h5") {
		t.Fatalf("1 TiB image: %v", err)
	}
	t.Log(err)
}

// fuzzWalk reads everything below g: every attribute in every form, every
// dataset as float32, with bounded depth and object count.
func fuzzWalk(g Group, depth int, budget *int) {
	if depth > 8 || *budget <= 0 {
		return
	}
	readAttrs(g.Object)
	ms, err := g.Members()
	if err != nil {
		return
	}
	for _, m := range ms {
		if *budget--; *budget <= 0 {
			return
		}
		switch m.Kind {
		case KindGroup:
			if sub, err := g.Group(m.Name); err == nil {
				fuzzWalk(sub, depth+1, budget)
			}
		case KindDataset:
			if ds, err := g.Dataset(m.Name); err == nil {
				readAttrs(ds.Object)
				ds.Info()
				if data, shape, err := ds.ReadFloat32(); err == nil {
					n := 1
					for _, d := range shape {
						n *= d
					}
					if n != len(data) {
						panic("ReadFloat32: data does not fit its shape")
					}
				}
			}
		}
	}
}

func readAttrs(o Object) {
	names, err := o.AttrNames()
	if err != nil {
		return
	}
	for _, n := range names {
		o.HasAttr(n)
		o.AttrInfo(n)
		o.Strings(n)
		o.String(n)
		o.Float64s(n)
		o.StringList(n)
	}
}

// FuzzOpen writes byte-mutated HDF5 files (seeds: the package's test files
// and two small Keras models) to a temporary path, opens them from the
// path and from memory, and reads every attribute and dataset. Errors are
// fine; a panic, a crash of libhdf5, a hang or a read beyond the budget is
// not.
func FuzzOpen(f *testing.F) {
	for _, p := range []string{"testdata/synthetic.h5", "testdata/huge_decl.h5", "testdata/extlink.h5",
		"../../../testdata/ref/sequential/model.h5", "../../testdata/k1_vgg_style_weights.h5"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "f.h5")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if fl, err := Open(p); err == nil {
			fl.SetMaxBytes(1 << 24)
			budget := 2000
			fuzzWalk(fl.Root(), 0, &budget)
			fl.Close()
		}
		if fl, err := OpenImage(data); err == nil {
			fl.SetMaxBytes(1 << 24)
			budget := 2000
			fuzzWalk(fl.Root(), 0, &budget)
			fl.Close()
		}
	})
}
