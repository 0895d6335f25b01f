package reftest

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/kerago/kerago/ops"
)

// The .npy header of numpy 1.x/2.x for a (2, 3) array, written by hand.
func writeNpy(t *testing.T, descr string, shape string, payload []byte) string {
	t.Helper()
	h := "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }"
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	b = append(append(b, h...), payload...)
	p := filepath.Join(t.TempDir(), "a.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadNpy(t *testing.T) {
	// float32 1, 2, -0.5, 0, 3, 4 little-endian.
	var payload []byte
	for _, v := range []float32{1, 2, -0.5, 0, 3, 4} {
		u := math.Float32bits(v)
		payload = append(payload, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
	}
	x, err := ReadNpy(writeNpy(t, "<f4", "(2, 3)", payload))
	if err != nil {
		t.Fatal(err)
	}
	if x.Shape[0] != 2 || x.Shape[1] != 3 || x.Data[2] != -0.5 || x.Data[5] != 4 {
		t.Errorf("got %v %v", x.Shape, x.Data)
	}
	u, err := ReadNpyUint8(writeNpy(t, "|u1", "(3,)", []byte{0, 51, 255}), 255)
	if err != nil {
		t.Fatal(err)
	}
	if u.Data[0] != 0 || u.Data[1] != float32(51)/255 || u.Data[2] != 1 {
		t.Errorf("got %v", u.Data)
	}
	if _, err := ReadNpy(filepath.Join(t.TempDir(), "missing.npy")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestRelErr(t *testing.T) {
	a, _ := ops.FromData([]float32{1, -4, 2}, 3)
	b, _ := ops.FromData([]float32{1, -3.5, 2.25}, 3)
	if e, err := RelErr(b, a); err != nil || e != 0.125 { // 0.5 / 4
		t.Errorf("RelErr = %v, %v; want 0.125", e, err)
	}
	z, _ := ops.FromData([]float32{0, 0, 0}, 3)
	if e, err := RelErr(b, z); err != nil || e != 3.5 {
		t.Errorf("against zeros: %v, %v; want 3.5", e, err)
	}
	n, _ := ops.FromData([]float32{1, float32(math.NaN()), 2}, 3)
	if e, err := RelErr(n, a); err == nil || !math.IsInf(e, 1) {
		t.Errorf("NaN: %v, %v", e, err)
	}
	c, _ := ops.FromData([]float32{1, -4, 2}, 1, 3)
	if _, err := RelErr(c, a); err == nil {
		t.Error("shapes (1,3) and (3): no error")
	}
}
