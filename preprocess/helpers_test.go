package preprocess

import (
	"fmt"
	"testing"

	"github.com/sbinet/npyio/npz"
)

// npzFile reads arrays written by scripts/preprocess_reference.py.
type npzFile struct {
	t *testing.T
	r *npz.Reader
}

func openNPZ(t *testing.T, path string) *npzFile {
	t.Helper()
	r, err := npz.Open(path)
	if err != nil {
		t.Fatalf("reference data missing (regenerate with scripts/preprocess_reference.py): %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return &npzFile{t: t, r: r}
}

// array returns the named array as float32 values (from uint8, uint16 or
// float32 storage) and its shape.
func (f *npzFile) array(name string) ([]float32, []int) {
	f.t.Helper()
	v, shape, err := f.read(name)
	if err != nil {
		f.t.Fatal(err)
	}
	return v, shape
}

func (f *npzFile) read(name string) ([]float32, []int, error) {
	key := name + ".npy"
	h := f.r.Header(key)
	if h == nil {
		return nil, nil, fmt.Errorf("array %q not in npz", name)
	}
	var out []float32
	switch h.Descr.Type {
	case "|u1", "<u1":
		var v []uint8
		if err := f.r.Read(key, &v); err != nil {
			return nil, nil, err
		}
		out = make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
	case "<u2":
		var v []uint16
		if err := f.r.Read(key, &v); err != nil {
			return nil, nil, err
		}
		out = make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
	case "<f4":
		if err := f.r.Read(key, &out); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("array %q: unexpected dtype %q", name, h.Descr.Type)
	}
	return out, h.Descr.Shape, nil
}

func (f *npzFile) bytes(name string) ([]uint8, []int) {
	f.t.Helper()
	key := name + ".npy"
	h := f.r.Header(key)
	if h == nil {
		f.t.Fatalf("array %q not in npz", name)
	}
	var v []uint8
	if err := f.r.Read(key, &v); err != nil {
		f.t.Fatal(err)
	}
	return v, h.Descr.Shape
}

func shapeEq(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// diffStats returns the largest absolute difference, the mean absolute
// difference and the number of differing values.
func diffStats(got, want []float32) (maxAbs, meanAbs float64, n int) {
	var sum float64
	for i := range got {
		d := float64(got[i]) - float64(want[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			n++
		}
		sum += d
		if d > maxAbs {
			maxAbs = d
		}
	}
	if len(got) > 0 {
		meanAbs = sum / float64(len(got))
	}
	return
}
