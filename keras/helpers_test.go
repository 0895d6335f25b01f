package keras

import (
	"math"
	"os"
	"testing"

	"github.com/kerago/kerago/internal/reftest"
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
	if scale != 0 {
		// float32(k)/255 in float32, as numpy computed it.
		return reftest.MustReadNpyUint8(t, path, float32(math.Round(1/scale)))
	}
	return reftest.MustReadNpy(t, path)
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
