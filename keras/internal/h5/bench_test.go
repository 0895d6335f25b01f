package h5

import (
	"bytes"
	"path/filepath"
	"testing"
)

// benchFile writes a file with one 16 MiB float32 dataset (like a large
// Dense kernel) and returns its path.
func benchFile(b *testing.B) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "bench.h5")
	f, err := Create(p)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]float32, 1024*4096)
	for i := range data {
		data[i] = float32(i%1000) * 0.001
	}
	if _, err := f.Root().WriteFloat32("w", data, []int{1024, 4096}); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkReadFloat32(b *testing.B) {
	f, err := Open(benchFile(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(4 * 1024 * 4096)
	for b.Loop() {
		if _, _, err := f.ReadFloat32("w"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadFloat32Into(b *testing.B) {
	f, err := Open(benchFile(b))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	d, err := f.Dataset("w")
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, 1024*4096)
	b.SetBytes(4 * 1024 * 4096)
	for b.Loop() {
		if err := d.ReadFloat32Into(dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHeapScan measures the global heap check (run once per File before
// its first variable-length string read) on 64 MiB of weight-like bytes.
func BenchmarkHeapScan(b *testing.B) {
	data := make([]byte, 64<<20)
	copy(data, signature)
	data[13], data[14] = 8, 8
	for i := 64; i < len(data); i++ {
		data[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := scanHeaps(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
