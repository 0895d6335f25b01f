package ops

import (
	"fmt"
	"math"
)

// Dense computes a Keras Dense layer (without its activation) on the last
// axis:
//
//	in     (M, K)   M is the product of all leading dimensions
//	kernel (K, N)   Keras layout
//	bias   (N) or nil
//	out    (M, N) = in × kernel + bias
//
// It is one sgemm. out must not overlap in. It panics on bad sizes or
// slice lengths.
func Dense(out, in, kernel, bias []float32, m, k, n int) {
	if m < 0 || k < 1 || n < 1 {
		panic(fmt.Sprintf("ops.Dense: bad sizes m=%d, k=%d, n=%d", m, k, n))
	}
	if _, ok := size(m, k); !ok {
		panic(fmt.Sprintf("ops.Dense: input (%d, %d) too large", m, k))
	}
	if _, ok := size(m, n); !ok {
		panic(fmt.Sprintf("ops.Dense: output (%d, %d) too large", m, n))
	}
	if _, ok := size(k, n); !ok {
		panic(fmt.Sprintf("ops.Dense: kernel (%d, %d) too large", k, n))
	}
	mustLen("Dense", "in", in, m*k, ShapeString([]int{m, k}))
	mustLen("Dense", "kernel", kernel, k*n, ShapeString([]int{k, n}))
	mustLen("Dense", "out", out, m*n, ShapeString([]int{m, n}))
	if bias != nil {
		mustLen("Dense", "bias", bias, n, ShapeString([]int{n}))
	}
	fillRows(out, m, n, bias)
	sgemmPar(false, m, n, k, in, k, kernel, n, 1, out, n)
}

// BatchNorm applies Keras's BatchNormalization in inference mode over the
// last (channel) axis:
//
//	in, out        (rows, C)   may be the same slice
//	gamma, beta    (C) or nil (meaning 1 and 0: scale=False / center=False)
//	mean, variance (C)         the moving statistics
//	out = (in - mean) / sqrt(variance + eps) * gamma + beta
//
// Like TensorFlow it folds this into out = in*a + b per channel, with
// a = gamma/sqrt(variance+eps) and b = beta - mean*a computed in float64.
func BatchNorm(out, in, gamma, beta, mean, variance []float32, rows, c int, eps float32) {
	if rows < 0 || c < 1 {
		panic(fmt.Sprintf("ops.BatchNorm: bad sizes rows=%d, c=%d", rows, c))
	}
	sz, ok := size(rows, c)
	if !ok {
		panic(fmt.Sprintf("ops.BatchNorm: input (%d, %d) too large", rows, c))
	}
	shape := ShapeString([]int{rows, c})
	mustLen("BatchNorm", "in", in, sz, shape)
	mustLen("BatchNorm", "out", out, sz, shape)
	vshape := ShapeString([]int{c})
	mustLen("BatchNorm", "mean", mean, c, vshape)
	mustLen("BatchNorm", "variance", variance, c, vshape)
	if gamma != nil {
		mustLen("BatchNorm", "gamma", gamma, c, vshape)
	}
	if beta != nil {
		mustLen("BatchNorm", "beta", beta, c, vshape)
	}
	a := make([]float32, c)
	b := make([]float32, c)
	for i := range a {
		s := 1 / math.Sqrt(float64(variance[i])+float64(eps))
		if gamma != nil {
			s *= float64(gamma[i])
		}
		off := -float64(mean[i]) * s
		if beta != nil {
			off += float64(beta[i])
		}
		a[i], b[i] = float32(s), float32(off)
	}
	parallelFor(rows, max(1, (1<<15)/c), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			x := in[r*c : (r+1)*c]
			o := out[r*c : (r+1)*c]
			for i, v := range x {
				o[i] = float32(v*a[i]) + b[i]
			}
		}
	})
}
