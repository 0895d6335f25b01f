package ops

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Elementwise activations work in place on a flat slice. Transcendental
// ones are evaluated in float64 and rounded once to float32, so they are
// within an ulp or so of the exact value (TensorFlow's float32 kernels may
// differ from them, and from each other, by a few ulps).

// activations maps Keras activation names to in-place implementations.
var activations = map[string]func(x []float32){
	"linear":       func(x []float32) {},
	"relu":         relu,
	"relu6":        func(x []float32) { ReLU(x, 6, 0, 0) },
	"leaky_relu":   func(x []float32) { LeakyReLU(x, 0.2) },
	"sigmoid":      Sigmoid,
	"hard_sigmoid": HardSigmoid,
	"tanh":         func(x []float32) { mapFloat64(x, math.Tanh) },
	"elu":          func(x []float32) { ELU(x, 1) },
	"selu":         func(x []float32) { mapFloat64(x, selu) },
	"softplus":     func(x []float32) { mapFloat64(x, softplus) },
	"softsign":     func(x []float32) { mapFloat64(x, func(v float64) float64 { return v / (1 + math.Abs(v)) }) },
	"exponential":  func(x []float32) { mapFloat64(x, math.Exp) },
	"swish":        swish,
	"silu":         swish,
	"gelu":         GELU,
	"mish":         func(x []float32) { mapFloat64(x, func(v float64) float64 { return v * math.Tanh(softplus(v)) }) },
	"hard_silu":    hardSilu,
	"hard_swish":   hardSilu,
	"log_sigmoid":  func(x []float32) { mapFloat64(x, func(v float64) float64 { return -softplus(-v) }) },
}

// Activation returns the in-place elementwise activation for a Keras
// activation name (case-insensitive; "" means linear, as Keras's None):
//
//	linear, relu, relu6, leaky_relu (slope 0.2, Keras 3's default), sigmoid,
//	hard_sigmoid, tanh, elu, selu, softplus, softsign, exponential,
//	swish = silu, gelu, mish, hard_silu = hard_swish, log_sigmoid
//
// Two names differ between Keras versions:
//
//   - hard_sigmoid is the tf.keras 2.x function max(0, min(1, 0.2x+0.5))
//     (what models saved by TF 2.x Keras mean); Keras 3 changed it to
//     relu6(x+3)/6, available as HardSigmoidKeras3 (and used by hard_silu,
//     which exists only in Keras 3).
//   - gelu is the exact x·Φ(x) = 0.5x(1+erf(x/√2)): both tf.keras 2.x and
//     Keras 3 default keras.activations.gelu to approximate=False. The tanh
//     approximation is GELUApprox.
//
// softmax is not elementwise: use Softmax. Unknown names return an error
// listing the known ones.
func Activation(name string) (func(x []float32), error) {
	key := strings.ToLower(name)
	if key == "" {
		key = "linear"
	}
	if key == "softmax" {
		return nil, fmt.Errorf("activation %q is not elementwise: use ops.Softmax over the last axis", name)
	}
	if f, ok := activations[key]; ok {
		return f, nil
	}
	names := make([]string, 0, len(activations))
	for k := range activations {
		names = append(names, k)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown activation %q (known: %s, softmax)", name, strings.Join(names, ", "))
}

// mapFloat64 sets x[i] = f(x[i]) evaluated in float64, in parallel for
// long slices.
func mapFloat64(x []float32, f func(float64) float64) {
	parallelFor(len(x), 1<<14, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			x[lo+i] = float32(f(float64(v)))
		}
	})
}

func relu(x []float32) {
	for i, v := range x {
		if !(v > 0) && v == v { // keep NaN as TF's Relu does
			x[i] = 0
		}
	}
}

// Sigmoid sets x = 1/(1+exp(-x)) in place.
func Sigmoid(x []float32) {
	mapFloat64(x, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) })
}

func swish(x []float32) {
	mapFloat64(x, func(v float64) float64 { return v / (1 + math.Exp(-v)) })
}

// HardSigmoid sets x = max(0, min(1, 0.2x + 0.5)) in place: tf.keras 2.x's
// hard_sigmoid (0 below -2.5, 1 above 2.5).
func HardSigmoid(x []float32) {
	mapFloat64(x, func(v float64) float64 { return math.Max(0, math.Min(1, 0.2*v+0.5)) })
}

// HardSigmoidKeras3 sets x = relu6(x+3)/6 = max(0, min(1, x/6 + 0.5)) in
// place: Keras 3's hard_sigmoid (0 below -3, 1 above 3).
func HardSigmoidKeras3(x []float32) {
	mapFloat64(x, hardSigmoid3)
}

func hardSigmoid3(v float64) float64 { return math.Max(0, math.Min(6, v+3)) / 6 }

func hardSilu(x []float32) { mapFloat64(x, func(v float64) float64 { return v * hardSigmoid3(v) }) }

// GELU sets x = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) in place: the exact Gaussian
// error linear unit, Keras's default (approximate=False). It is evaluated as
// 0.5·x·erfc(-x/√2), which stays accurate for large negative x.
func GELU(x []float32) {
	mapFloat64(x, func(v float64) float64 { return 0.5 * v * math.Erfc(-v/math.Sqrt2) })
}

// GELUApprox sets x = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) in place:
// Keras's gelu with approximate=True.
func GELUApprox(x []float32) {
	c := math.Sqrt(2 / math.Pi)
	mapFloat64(x, func(v float64) float64 { return 0.5 * v * (1 + math.Tanh(c*(v+0.044715*v*v*v))) })
}

// SELU constants from Klambauer et al. (2017), as in Keras.
const (
	seluAlpha = 1.6732632423543772848170429916717
	seluScale = 1.0507009873554804934193349852946
)

func selu(v float64) float64 {
	if v > 0 {
		return seluScale * v
	}
	return seluScale * seluAlpha * math.Expm1(v)
}

// softplus is log(1 + exp(v)) without overflow.
func softplus(v float64) float64 {
	return math.Max(v, 0) + math.Log1p(math.Exp(-math.Abs(v)))
}

// Softmax applies softmax in place over the last axis, x viewed as
// (rows, cols): each row becomes exp(x - max) / sum(exp(x - max)), with the
// exponentials and their sum in float64. It panics if len(x) != rows*cols.
func Softmax(x []float32, rows, cols int) {
	if rows < 0 || cols < 1 {
		panic(fmt.Sprintf("ops.Softmax: bad sizes rows=%d, cols=%d", rows, cols))
	}
	sz, ok := size(rows, cols)
	if !ok {
		panic(fmt.Sprintf("ops.Softmax: (%d, %d) too large", rows, cols))
	}
	mustLen("Softmax", "x", x, sz, ShapeString([]int{rows, cols}))
	parallelFor(rows, max(1, (1<<13)/cols), func(lo, hi int) {
		e := make([]float64, cols)
		for r := lo; r < hi; r++ {
			row := x[r*cols : (r+1)*cols]
			m := row[0]
			for _, v := range row[1:] {
				if v > m {
					m = v
				}
			}
			sum := 0.0
			for i, v := range row {
				e[i] = math.Exp(float64(v) - float64(m))
				sum += e[i]
			}
			for i := range row {
				row[i] = float32(e[i] / sum)
			}
		}
	})
}

// ReLU applies Keras's ReLU layer (and keras.activations.relu) in place:
//
//	f(x) = min(x, maxValue)              for x > threshold
//	f(x) = negativeSlope·(x - threshold) for x <= threshold
//
// maxValue < 0 means no maximum. As in Keras, when a maximum is given the
// positive branch is clipped to [0, maxValue] (which only matters for a
// negative threshold), and x equal to the threshold gives 0.
func ReLU(x []float32, maxValue, negativeSlope, threshold float32) {
	clip := maxValue >= 0
	parallelFor(len(x), 1<<15, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			var y float32
			if v > threshold {
				y = v
				if clip {
					y = min(max(y, 0), maxValue)
				}
			} else if negativeSlope != 0 {
				y = negativeSlope * (v - threshold)
			}
			x[lo+i] = y
		}
	})
}

// LeakyReLU applies Keras's LeakyReLU in place: x if x > 0 else alpha·x.
func LeakyReLU(x []float32, alpha float32) {
	for i, v := range x {
		if !(v > 0) {
			x[i] = alpha * v
		}
	}
}

// ELU applies Keras's ELU in place: x if x > 0 else alpha·(exp(x)-1), the
// exponential in float64.
func ELU(x []float32, alpha float32) {
	a := float64(alpha)
	mapFloat64(x, func(v float64) float64 {
		if v > 0 {
			return v
		}
		return a * math.Expm1(v)
	})
}

// PReLU applies Keras's PReLU in place, x viewed as (rows, len(alpha)) with
// alpha already broadcast over the non-batch shape: x if x > 0 else
// alpha·x. It panics if len(x) != rows*len(alpha).
func PReLU(x, alpha []float32, rows int) {
	if rows < 0 {
		panic(fmt.Sprintf("ops.PReLU: negative rows %d", rows))
	}
	if sz, ok := size(rows, len(alpha)); !ok || sz != len(x) {
		panic(fmt.Sprintf("ops.PReLU: x has %d values, want %d rows of %d alphas", len(x), rows, len(alpha)))
	}
	c := len(alpha)
	for r := 0; r < rows; r++ {
		row := x[r*c : (r+1)*c]
		for i, v := range row {
			if !(v > 0) {
				row[i] = alpha[i] * v
			}
		}
	}
}

// Rescale applies Keras's Rescaling in place: x = x·scale + offset, in
// float32 with the product rounded before the sum (no fused multiply-add).
func Rescale(x []float32, scale, offset float32) {
	for i, v := range x {
		x[i] = float32(v*scale) + offset
	}
}
