package ops

import (
	"fmt"
	"math"
)

// windowRange returns the kernel taps [k0, k1) of a window starting at
// input index start (which may be negative, in the padding) with k taps
// that fall inside [0, n).
func windowRange(start, k, n int) (k0, k1 int) {
	k0 = max(0, -start)
	k1 = min(k, n-start)
	return k0, max(k0, k1)
}

// MaxPool2D computes a Keras MaxPooling2D:
//
//	in  (N, H, W, C)
//	out (N, OH, OW, C)
//	out[n,oy,ox,c] = max over the window's cells inside the input
//
// Padded cells are ignored (never selected), as TensorFlow pads with −∞.
// A window with no cell inside the input (impossible with Keras padding)
// gives 0; a NaN in a window gives NaN. It panics on invalid p or slice
// lengths.
func MaxPool2D(out, in []float32, p PoolParams) {
	p.mustValidate("MaxPool2D")
	mustLen("MaxPool2D", "in", in, p.N*p.H*p.W*p.C, shape4(p.N, p.H, p.W, p.C))
	mustLen("MaxPool2D", "out", out, p.N*p.OH*p.OW*p.C, shape4(p.N, p.OH, p.OW, p.C))
	c := p.C
	parallelFor(p.N*p.OH, max(1, (1<<14)/(p.OW*c*p.PH*p.PW)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			n, oy := r/p.OH, r%p.OH
			img := in[n*p.H*p.W*c : (n+1)*p.H*p.W*c]
			y0 := oy*p.SH - p.PadTop
			ky0, ky1 := windowRange(y0, p.PH, p.H)
			for ox := 0; ox < p.OW; ox++ {
				o := out[(r*p.OW+ox)*c : (r*p.OW+ox+1)*c]
				x0 := ox*p.SW - p.PadLeft
				kx0, kx1 := windowRange(x0, p.PW, p.W)
				if ky0 == ky1 || kx0 == kx1 {
					clear(o)
					continue
				}
				first := true
				for ky := ky0; ky < ky1; ky++ {
					for kx := kx0; kx < kx1; kx++ {
						pix := ((y0+ky)*p.W + x0 + kx) * c
						x := img[pix : pix+c]
						if first {
							copy(o, x)
							first = false
							continue
						}
						o := o[:len(x)]
						for i, v := range x {
							o[i] = max(o[i], v)
						}
					}
				}
			}
		}
	})
}

// AvgPool2D computes a Keras AveragePooling2D:
//
//	in  (N, H, W, C)
//	out (N, OH, OW, C)
//	out[n,oy,ox,c] = mean over the window's cells inside the input
//
// Each window is divided by its number of valid (non-padded) cells, not by
// PH*PW: TensorFlow's "same" average pooling excludes the padding. Sums are
// accumulated in float64. A window with no valid cell gives 0. It panics on
// invalid p or slice lengths.
func AvgPool2D(out, in []float32, p PoolParams) {
	p.mustValidate("AvgPool2D")
	mustLen("AvgPool2D", "in", in, p.N*p.H*p.W*p.C, shape4(p.N, p.H, p.W, p.C))
	mustLen("AvgPool2D", "out", out, p.N*p.OH*p.OW*p.C, shape4(p.N, p.OH, p.OW, p.C))
	c := p.C
	parallelFor(p.N*p.OH, max(1, (1<<14)/(p.OW*c*p.PH*p.PW)), func(lo, hi int) {
		acc := make([]float64, c)
		for r := lo; r < hi; r++ {
			n, oy := r/p.OH, r%p.OH
			img := in[n*p.H*p.W*c : (n+1)*p.H*p.W*c]
			y0 := oy*p.SH - p.PadTop
			ky0, ky1 := windowRange(y0, p.PH, p.H)
			for ox := 0; ox < p.OW; ox++ {
				o := out[(r*p.OW+ox)*c : (r*p.OW+ox+1)*c]
				x0 := ox*p.SW - p.PadLeft
				kx0, kx1 := windowRange(x0, p.PW, p.W)
				count := (ky1 - ky0) * (kx1 - kx0)
				if count == 0 {
					clear(o)
					continue
				}
				clear(acc)
				for ky := ky0; ky < ky1; ky++ {
					for kx := kx0; kx < kx1; kx++ {
						pix := ((y0+ky)*p.W + x0 + kx) * c
						for i, v := range img[pix : pix+c] {
							acc[i] += float64(v)
						}
					}
				}
				for i, s := range acc {
					o[i] = float32(s / float64(count))
				}
			}
		}
	})
}

// GlobalAvgPool2D computes Keras's GlobalAveragePooling2D: the mean over
// all pixels of each image and channel, accumulated in float64.
//
//	in  (N, HW, C)   HW = H*W
//	out (N, C)
func GlobalAvgPool2D(out, in []float32, n, hw, c int) {
	checkGlobalPool("GlobalAvgPool2D", out, in, n, hw, c)
	parallelFor(n, 1, func(lo, hi int) {
		acc := make([]float64, c)
		for b := lo; b < hi; b++ {
			clear(acc)
			img := in[b*hw*c : (b+1)*hw*c]
			for q := 0; q < hw; q++ {
				for i, v := range img[q*c : (q+1)*c] {
					acc[i] += float64(v)
				}
			}
			o := out[b*c : (b+1)*c]
			for i, s := range acc {
				o[i] = float32(s / float64(hw))
			}
		}
	})
}

// GlobalMaxPool2D computes Keras's GlobalMaxPooling2D: the maximum over all
// pixels of each image and channel.
//
//	in  (N, HW, C)   HW = H*W
//	out (N, C)
func GlobalMaxPool2D(out, in []float32, n, hw, c int) {
	checkGlobalPool("GlobalMaxPool2D", out, in, n, hw, c)
	for b := 0; b < n; b++ {
		img := in[b*hw*c : (b+1)*hw*c]
		o := out[b*c : (b+1)*c]
		for i := range o {
			o[i] = float32(math.Inf(-1))
		}
		for q := 0; q < hw; q++ {
			for i, v := range img[q*c : (q+1)*c] {
				o[i] = max(o[i], v)
			}
		}
	}
}

func checkGlobalPool(op string, out, in []float32, n, hw, c int) {
	if n < 0 || hw < 1 || c < 1 {
		panic(fmt.Sprintf("ops.%s: bad sizes n=%d, hw=%d, c=%d", op, n, hw, c))
	}
	sz, ok := size(n, hw, c)
	if !ok {
		panic(fmt.Sprintf("ops.%s: input (%d, %d, %d) too large", op, n, hw, c))
	}
	mustLen(op, "in", in, sz, ShapeString([]int{n, hw, c}))
	mustLen(op, "out", out, n*c, ShapeString([]int{n, c}))
}
