package keras

import (
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/sbinet/npyio"

	"github.com/kerago/kerago/ops"
)

// corpusDir is shared/keras-corpus, read in place.
const corpusDir = "../../shared/keras-corpus"

// needCorpus skips the test if the shared corpus is absent.
func needCorpus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(corpusDir + "/MANIFEST.md"); err != nil {
		t.Skipf("shared Keras corpus not found at %s (%v): skipping", corpusDir, err)
	}
}

// readNpy reads a float32 (or, with scale != 0, uint8 scaled by scale) .npy
// file as a tensor.
func readNpy(t *testing.T, path string, scale float64) *ops.Tensor {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	shape := append([]int(nil), r.Header.Descr.Shape...)
	var data []float32
	if scale != 0 {
		var u []uint8
		if err := r.Read(&u); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data = make([]float32, len(u))
		// float32(k)/255 in float32, as numpy computed it.
		for i, v := range u {
			data[i] = float32(v) / float32(math.Round(1/scale))
		}
	} else if err := r.Read(&data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ten, err := ops.FromData(data, shape...)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ten
}

// relErr returns max|got-want| / max|want| (max|got-want| if want is all
// zero), and an error if the shapes differ.
func relErr(got, want *ops.Tensor) (float64, error) {
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

// nhwcToNCHW transposes a 4-D tensor from (N,H,W,C) to (N,C,H,W).
func nhwcToNCHW(t *ops.Tensor) *ops.Tensor {
	d, s := transposeData(t.Data, t.Shape, []int{0, 3, 1, 2})
	out, _ := ops.FromData(d, s...)
	return out
}

// window cuts a 4-D tensor to [start, start+size) on two axes.
func window(t *ops.Tensor, axes, start, size []int) *ops.Tensor {
	shape := append([]int(nil), t.Shape...)
	shape[axes[0]], shape[axes[1]] = size[0], size[1]
	out := ops.New(shape...)
	idx := make([]int, 4)
	for o := range out.Data {
		rem := o
		for d := 3; d >= 0; d-- {
			idx[d] = rem % shape[d]
			rem /= shape[d]
		}
		src := []int{idx[0], idx[1], idx[2], idx[3]}
		src[axes[0]] += start[0]
		src[axes[1]] += start[1]
		out.Data[o] = t.At(src...)
	}
	return out
}
