package ops

// CONTRACT FILE (temporary): the signatures below are the agreed API of the
// ops package that graph builds against. The ops implementer moves each
// function into its own file with a real body and deletes this file.

// ConvParams describes a 2-D convolution over an NHWC batch.
//
//	input  (N, H, W, C)
//	kernel (KH, KW, C, F)            Keras Conv2D layout
//	output (N, OH, OW, F)
//
// Output pixel (oy, ox) reads input rows oy*SH - PadTop + ky*DH and columns
// ox*SW - PadLeft + kx*DW; reads outside the input are zero.
type ConvParams struct {
	N, H, W, C      int // input batch, height, width, channels
	KH, KW, F       int // kernel height, width, number of filters
	SH, SW          int // strides (>= 1)
	DH, DW          int // dilation rates (>= 1)
	PadTop, PadLeft int // zero padding before the first row / column
	OH, OW          int // output height and width
}

// PoolParams describes a 2-D pooling window over an NHWC batch.
//
//	input  (N, H, W, C)
//	output (N, OH, OW, C)
type PoolParams struct {
	N, H, W, C      int
	PH, PW          int // pool height, width
	SH, SW          int // strides
	PadTop, PadLeft int
	OH, OW          int
}

// Conv2D: out (N,OH,OW,F) = in (N,H,W,C) * kernel (KH,KW,C,F) + bias (F) (bias may be nil).
func Conv2D(out, in, kernel, bias []float32, p ConvParams) { panic("ops.Conv2D: not implemented") }

// DepthwiseConv2D: kernel (KH,KW,C,M), out (N,OH,OW,C*M); output channel c*M+m
// uses input channel c and multiplier m. p.F must equal C*M. bias (C*M) or nil.
func DepthwiseConv2D(out, in, kernel, bias []float32, p ConvParams) {
	panic("ops.DepthwiseConv2D: not implemented")
}

// Conv2DTranspose: in (N,H,W,C), kernel (KH,KW,F,C) (Keras layout: out before in),
// out (N,OH,OW,F). Input pixel (y,x) scatters to output rows y*SH - PadTop + ky*DH,
// columns x*SW - PadLeft + kx*DW (outside rows/cols dropped). bias (F) or nil.
func Conv2DTranspose(out, in, kernel, bias []float32, p ConvParams) {
	panic("ops.Conv2DTranspose: not implemented")
}

// MaxPool2D: padded cells are ignored (never selected).
func MaxPool2D(out, in []float32, p PoolParams) { panic("ops.MaxPool2D: not implemented") }

// AvgPool2D: each window is divided by the number of valid (non-padded) cells.
func AvgPool2D(out, in []float32, p PoolParams) { panic("ops.AvgPool2D: not implemented") }

// GlobalAvgPool2D: in (N, HW, C) -> out (N, C).
func GlobalAvgPool2D(out, in []float32, n, hw, c int) { panic("not implemented") }

// GlobalMaxPool2D: in (N, HW, C) -> out (N, C).
func GlobalMaxPool2D(out, in []float32, n, hw, c int) { panic("not implemented") }

// Dense: in (M, K), kernel (K, N), bias (N) or nil -> out (M, N). Applies to
// the last axis: M is the product of all leading dims.
func Dense(out, in, kernel, bias []float32, m, k, n int) { panic("not implemented") }

// BatchNorm (inference): x (rows, C) channels last;
// out = (x - mean) / sqrt(variance + eps) * gamma + beta. gamma/beta may be nil (1 and 0).
func BatchNorm(out, in, gamma, beta, mean, variance []float32, rows, c int, eps float32) {
	panic("not implemented")
}

// ZeroPad2D: in (N,H,W,C) -> out (N, H+top+bottom, W+left+right, C).
func ZeroPad2D(out, in []float32, n, h, w, c, top, bottom, left, right int) { panic("not implemented") }

// Crop2D: in (N,H,W,C) -> out (N, H-top-bottom, W-left-right, C).
func Crop2D(out, in []float32, n, h, w, c, top, bottom, left, right int) { panic("not implemented") }

// UpSampling2D: in (N,H,W,C) -> out (N, H*SH, W*SW, C); interpolation "nearest"
// or "bilinear" (TF resize, half_pixel_centers=False as Keras's UpSampling2D uses... see ops docs).
func UpSampling2D(out, in []float32, n, h, w, c, sh, sw int, interpolation string) error {
	panic("not implemented")
}

// Add: out = sum of ins (all the same length).
func Add(out []float32, ins ...[]float32) { panic("not implemented") }

// Concat along one axis: each input is viewed as (outer, widths[i]) where
// widths[i] = axisLen_i * inner; out is (outer, sum widths).
func Concat(out []float32, ins [][]float32, outer int, widths []int) { panic("not implemented") }

// Activation returns the in-place elementwise activation for a Keras name
// (linear, relu, sigmoid, hard_sigmoid, tanh, elu, selu, softplus, softsign,
// exponential, swish, silu, gelu). softmax is not elementwise: see Softmax.
func Activation(name string) (func(x []float32), error) { panic("not implemented") }

// Softmax in place over the last axis: x viewed as (rows, cols); max subtracted.
func Softmax(x []float32, rows, cols int) { panic("not implemented") }

// ReLU in place, Keras's ReLU layer: f(x) = min(max_value, x) for x >= threshold,
// negativeSlope*(x - threshold) otherwise. maxValue < 0 means no maximum.
func ReLU(x []float32, maxValue, negativeSlope, threshold float32) { panic("not implemented") }

// LeakyReLU in place: x if x > 0 else alpha*x.
func LeakyReLU(x []float32, alpha float32) { panic("not implemented") }

// ELU in place: x if x > 0 else alpha*(exp(x)-1).
func ELU(x []float32, alpha float32) { panic("not implemented") }

// PReLU in place: x viewed as (rows, len(alpha)) (alpha already broadcast over
// the non-batch shape): x if x > 0 else alpha*x.
func PReLU(x, alpha []float32, rows int) { panic("not implemented") }

// Rescale in place: x = x*scale + offset.
func Rescale(x []float32, scale, offset float32) { panic("not implemented") }
