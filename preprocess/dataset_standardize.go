package preprocess

import (
	"fmt"
	"math"

	"github.com/kerago/kerago/ops"
)

// Standardize is the per-image scaling of Keras's ImageDataGenerator
// (its standardize method, which the generator's iterators apply to every
// image): first x *= Rescale, then, with SamplewiseCenter, subtract the
// image's mean (over all its pixels and channels together), then, with
// SamplewiseStdNormalization, divide by the image's standard deviation
// plus 1e-6. As in Keras, SamplewiseStdNormalization implies
// SamplewiseCenter.
//
// These are the scalings a course can apply batch by batch to a dataset
// streamed from disk; the "featurewise" ones need statistics of the whole
// training set and are not here. Everything is computed in float32 the
// way NumPy does (pairwise summation), so the values equal Keras's.
type Standardize struct {
	// Rescale multiplies every value first (0 means no rescaling), like
	// ImageDataGenerator(rescale=1/255).
	Rescale                    float32
	SamplewiseCenter           bool
	SamplewiseStdNormalization bool
}

// Apply standardizes t in place, one sample at a time: t is a batch
// (n, ...) whose first axis indexes the images.
func (s Standardize) Apply(t *ops.Tensor) error {
	if t == nil || len(t.Shape) < 2 || len(t.Data) != ops.NumElements(t.Shape) {
		return fmt.Errorf("preprocess: standardize: want a batch tensor (n, ...), got %s", describe(t))
	}
	n := t.Shape[0]
	if n == 0 {
		return nil
	}
	per := len(t.Data) / n
	center := s.SamplewiseCenter || s.SamplewiseStdNormalization
	for i := 0; i < n; i++ {
		x := t.Data[i*per : (i+1)*per]
		if s.Rescale != 0 {
			for j, v := range x {
				x[j] = v * s.Rescale
			}
		}
		if per == 0 {
			continue
		}
		if center {
			m := meanF32(x)
			for j := range x {
				x[j] -= m
			}
		}
		if s.SamplewiseStdNormalization {
			d := stdF32(x) + 1e-6
			for j := range x {
				x[j] /= d
			}
		}
	}
	return nil
}

// DivideBy divides every value of t by d in float32, in place: what the
// course's tf.data map image / 255. computes. (Rescaling by a factor
// 1/255, as keras.layers.Rescaling and ImageDataGenerator(rescale=...) do,
// can differ from the division in the last bit.)
func DivideBy(t *ops.Tensor, d float32) error {
	if t == nil || len(t.Data) != ops.NumElements(t.Shape) {
		return fmt.Errorf("preprocess: divide: bad tensor %s", describe(t))
	}
	if d == 0 || math.IsNaN(float64(d)) || math.IsInf(float64(d), 0) {
		return fmt.Errorf("preprocess: divide by %g", d)
	}
	for i, v := range t.Data {
		t.Data[i] = v / d
	}
	return nil
}

func describe(t *ops.Tensor) string {
	if t == nil {
		return "nil"
	}
	return fmt.Sprintf("shape %s with %d values", ops.ShapeString(t.Shape), len(t.Data))
}

// pairwiseSum is NumPy's float32 pairwise summation (pairwise_sum_FLOAT in
// loops_utils.h), the order np.sum and np.mean add a contiguous float32
// array in: blocks of up to 128 values summed with 8 running sums, larger
// arrays split in two halves (at a multiple of 8) recursively.
func pairwiseSum(a []float32) float32 {
	n := len(a)
	switch {
	case n < 8:
		var r float32
		for _, v := range a {
			r += v
		}
		return r
	case n <= 128:
		var r [8]float32
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range r {
				r[k] += a[i+k]
			}
		}
		res := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			res += a[i]
		}
		return res
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
}

// meanF32 is np.mean of a float32 array.
func meanF32(x []float32) float32 { return pairwiseSum(x) / float32(len(x)) }

// stdF32 is np.std of a float32 array (population, ddof=0).
func stdF32(x []float32) float32 {
	m := meanF32(x)
	d := make([]float32, len(x))
	for i, v := range x {
		e := v - m
		d[i] = e * e
	}
	return float32(math.Sqrt(float64(pairwiseSum(d) / float32(len(x)))))
}
