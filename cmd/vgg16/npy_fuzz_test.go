package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// npyHeaderFile is a version 1.0 .npy file with the given header text (not
// padded) and data.
func npyHeaderFile(header string, data []byte) []byte {
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), byte(len(header)>>8))
	return append(append(b, header...), data...)
}

// TestReadInputNpyBadHeaders: .npy headers that are not what numpy writes
// must give errors. github.com/sbinet/npyio panics on some of them (a
// header without its closing newline; keys in another order), and
// readInputNpy hands them to it, so vgg16 activations --input fails with
// "internal error ... (this is a bug)" and exit status 2. Found by
// FuzzReadInputNpy (testdata/fuzz/FuzzReadInputNpy/244f358dfae0e979).
func TestReadInputNpyBadHeaders(t *testing.T) {
	dir := t.TempDir()
	f32 := make([]byte, 16)
	for i, c := range []struct{ name, header string }{
		{"no newline", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"},
		{"zeros", "00000000000000000000000000000000000000000000000"},
		{"keys reordered", "{'shape': (4,), 'fortran_order': False, 'descr': '<f4', }\n"},
		{"brace first", "}{'descr': '<f4', 'fortran_order': False, 'shape': (4,), \n"},
		{"empty shape value", "{'descr': '<f4', 'fortran_order': False, 'shape': }\n"},
	} {
		p := filepath.Join(dir, fmt.Sprintf("%d.npy", i))
		if err := os.WriteFile(p, npyHeaderFile(c.header, f32), 0o644); err != nil {
			t.Fatal(err)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: readInputNpy panicked: %v", c.name, r)
				}
			}()
			if x, err := readInputNpy(p); err == nil {
				t.Errorf("%s: read %v, want an error", c.name, x.Shape)
			}
		}()
	}
}

// FuzzReadInputNpy feeds byte-mutated .npy files (seeds: a reference input
// and a few headers) to readInputNpy, the reader of activations --input:
// errors are fine; a panic, a hang, a large allocation or a tensor whose
// data does not fit its shape is not.
func FuzzReadInputNpy(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ref", "sequential", "input_0.npy")); err == nil {
		f.Add(b)
	}
	for _, h := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }",
		"{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 1), }",
	} {
		pad := 64 - (10+len(h)+1)%64
		hdr := h + spaces(pad) + "\n"
		b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)), byte(len(hdr)>>8))
		b = append(b, hdr...)
		f.Add(append(b, make([]byte, 24)...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "x.npy")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		x, err := readInputNpy(p)
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Shape {
			if d <= 0 {
				t.Fatalf("shape %v", x.Shape)
			}
			n *= d
		}
		if n != len(x.Data) || 4*n > len(data) {
			t.Fatalf("shape %v with %d values from %d bytes", x.Shape, len(x.Data), len(data))
		}
	})
}

func spaces(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' '
	}
	return string(b)
}
