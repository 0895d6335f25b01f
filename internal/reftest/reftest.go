// Package reftest holds what the tests that compare this project with real
// Keras share: reading the .npy files that the scripts in scripts/ write
// with numpy, and the error measure of every comparison,
//
//	max|go − keras| / max|keras|   (max|go − keras| when keras is all zero),
//
// which the tests hold under 1e-4. It is for tests only.
package reftest

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/kerago/kerago/ops"
)

// ReadNpy reads a float32 .npy file as a tensor of its shape.
func ReadNpy(path string) (*ops.Tensor, error) {
	return read(path, 0)
}

// ReadNpyUint8 reads a uint8 .npy file (pixels) as float32(v) / div, the
// way numpy computes x.astype("float32") / div.
func ReadNpyUint8(path string, div float32) (*ops.Tensor, error) {
	if div == 0 {
		return nil, fmt.Errorf("%s: division by zero", path)
	}
	return read(path, div)
}

// MustReadNpy is ReadNpy for tests: an error fails tb.
func MustReadNpy(tb testing.TB, path string) *ops.Tensor {
	tb.Helper()
	x, err := ReadNpy(path)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// MustReadNpyUint8 is ReadNpyUint8 for tests: an error fails tb.
func MustReadNpyUint8(tb testing.TB, path string, div float32) *ops.Tensor {
	tb.Helper()
	x, err := ReadNpyUint8(path, div)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

func read(path string, div float32) (*ops.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var data []float32
	if div != 0 {
		var u []uint8
		if err := r.Read(&u); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		data = make([]float32, len(u))
		for i, v := range u {
			data[i] = float32(v) / div
		}
	} else if err := r.Read(&data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	t, err := ops.FromData(data, slices.Clone(r.Header.Descr.Shape)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// RelErr returns max|got − want| / max|want| (max|got − want| when want is
// all zero). Different shapes, or a NaN on either side, are an error (with
// +Inf).
func RelErr(got, want *ops.Tensor) (float64, error) {
	if !slices.Equal(got.Shape, want.Shape) {
		return math.Inf(1), fmt.Errorf("shape %v, Keras has %v", got.Shape, want.Shape)
	}
	var diff, scale float64
	for i, w := range want.Data {
		d := math.Abs(float64(got.Data[i]) - float64(w))
		if math.IsNaN(d) {
			return math.Inf(1), fmt.Errorf("NaN at %d", i)
		}
		diff = math.Max(diff, d)
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	if scale == 0 {
		return diff, nil
	}
	return diff / scale, nil
}
