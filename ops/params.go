package ops

import (
	"fmt"
	"math"
	"strings"
)

// ConvParams describes a 2-D convolution over an NHWC batch.
//
//	input  (N, H, W, C)
//	kernel (KH, KW, C, F)            Keras Conv2D layout
//	output (N, OH, OW, F)
//
// Output pixel (oy, ox) reads input rows oy*SH - PadTop + ky*DH and columns
// ox*SW - PadLeft + kx*DW; reads outside the input are zero.
//
// NewConvParams fills in OH, OW, PadTop and PadLeft from a Keras padding
// name; the padding after the last row/column is implied by OH and OW.
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
//
// Output pixel (oy, ox) covers input rows oy*SH - PadTop + ky for
// 0 <= ky < PH and columns ox*SW - PadLeft + kx for 0 <= kx < PW; cells
// outside the input are padding and take no part in the result.
type PoolParams struct {
	N, H, W, C      int
	PH, PW          int // pool height, width
	SH, SW          int // strides
	PadTop, PadLeft int
	OH, OW          int
}

// ConvOutput returns the output length along one spatial axis of a
// convolution or pooling window, and the zero padding before and after the
// input, exactly as Keras/TensorFlow compute them.
//
//	n: input length, k: window (kernel) length, s: stride, d: dilation
//	effective window  ek = k + (k-1)(d-1)
//	"valid": out = floor((n - ek)/s) + 1, no padding; an error if ek > n
//	"same":  out = ceil(n/s); total = max((out-1)*s + ek - n, 0);
//	         before = total/2, after = total - before
//
// so an odd total puts the extra row/column at the bottom/right (TF's
// asymmetric convention; PyTorch-style symmetric padding differs). For
// example n=224, k=3, s=1 "same" gives 224 with pads 1,1; n=6, k=3, s=2
// "same" gives 3 with pads 0,1; n=1000, k=3, s=2 "valid" gives 499.
// Pooling uses the same formulas with d = 1. The padding name is matched
// case-insensitively; "causal" (Conv1D only) is rejected.
func ConvOutput(n, k, s, d int, padding string) (out, padBefore, padAfter int, err error) {
	if n < 1 || k < 1 || s < 1 || d < 1 {
		return 0, 0, 0, fmt.Errorf("window arithmetic needs input size, kernel size, stride and dilation >= 1, got input %d, kernel %d, stride %d, dilation %d", n, k, s, d)
	}
	if k-1 > (math.MaxInt32-1)/d {
		return 0, 0, 0, fmt.Errorf("kernel size %d with dilation %d is too large", k, d)
	}
	ek := (k-1)*d + 1
	switch strings.ToLower(padding) {
	case "valid":
		if ek > n {
			if d > 1 {
				return 0, 0, 0, fmt.Errorf("padding \"valid\": input size %d is smaller than the effective kernel size %d (kernel %d, dilation %d)", n, ek, k, d)
			}
			return 0, 0, 0, fmt.Errorf("padding \"valid\": input size %d is smaller than the kernel size %d", n, k)
		}
		return (n-ek)/s + 1, 0, 0, nil
	case "same":
		out = (n + s - 1) / s
		total := max((out-1)*s+ek-n, 0)
		return out, total / 2, total - total/2, nil
	case "causal":
		return 0, 0, 0, fmt.Errorf("padding \"causal\" is only defined for 1-D convolutions")
	default:
		return 0, 0, 0, fmt.Errorf("unknown padding %q (want \"valid\" or \"same\")", padding)
	}
}

// ConvTransposeOutput returns the output length along one axis of a
// transposed convolution (Keras Conv2DTranspose) of an input of length n
// and the padding to put in ConvParams.PadTop/PadLeft for Conv2DTranspose.
// outputPadding < 0 means Keras's output_padding=None:
//
//	"valid": out = n*s + max(ek - s, 0)
//	"same":  out = n*s
//
// otherwise out = (n-1)*s + ek - 2*pad + outputPadding with pad = ek/2 for
// "same" and 0 for "valid" (keras deconv_output_length). The returned
// padBefore is the one TensorFlow's conv2d_transpose uses: that of the
// forward convolution from length out back to length n, i.e.
// max((n-1)*s + ek - out, 0)/2 for "same" and 0 for "valid".
func ConvTransposeOutput(n, k, s, d int, padding string, outputPadding int) (out, padBefore int, err error) {
	if n < 1 || k < 1 || s < 1 || d < 1 {
		return 0, 0, fmt.Errorf("transposed window arithmetic needs input size, kernel size, stride and dilation >= 1, got input %d, kernel %d, stride %d, dilation %d", n, k, s, d)
	}
	if k-1 > (math.MaxInt32-1)/d {
		return 0, 0, fmt.Errorf("kernel size %d with dilation %d is too large", k, d)
	}
	if outputPadding >= s && outputPadding >= d {
		return 0, 0, fmt.Errorf("output padding %d must be smaller than the stride %d or the dilation %d", outputPadding, s, d)
	}
	ek := (k-1)*d + 1
	pad := strings.ToLower(padding)
	switch pad {
	case "valid", "same":
	default:
		return 0, 0, fmt.Errorf("unknown padding %q (want \"valid\" or \"same\")", padding)
	}
	switch {
	case outputPadding < 0 && pad == "valid":
		out = n*s + max(ek-s, 0)
	case outputPadding < 0:
		out = n * s
	case pad == "same":
		out = (n-1)*s + ek - 2*(ek/2) + outputPadding
	default:
		out = (n-1)*s + ek + outputPadding
	}
	if out < 1 {
		return 0, 0, fmt.Errorf("transposed convolution of size %d (kernel %d, stride %d, dilation %d, padding %q) has output size %d", n, k, s, d, padding, out)
	}
	if pad == "same" {
		padBefore = max((n-1)*s+ek-out, 0) / 2
	}
	return out, padBefore, nil
}

// NewConvParams returns the parameters of a Keras Conv2D (or
// DepthwiseConv2D, with f = C*depth_multiplier) over an (n, h, w, c) input
// with an (kh, kw) kernel, f filters, strides (sh, sw), dilation (dh, dw)
// and padding "valid" or "same". The error names the offending axis and
// sizes.
func NewConvParams(n, h, w, c, kh, kw, f, sh, sw, dh, dw int, padding string) (ConvParams, error) {
	p := ConvParams{N: n, H: h, W: w, C: c, KH: kh, KW: kw, F: f, SH: sh, SW: sw, DH: dh, DW: dw}
	var err error
	if p.OH, p.PadTop, _, err = ConvOutput(h, kh, sh, dh, padding); err != nil {
		return ConvParams{}, fmt.Errorf("height: %w", err)
	}
	if p.OW, p.PadLeft, _, err = ConvOutput(w, kw, sw, dw, padding); err != nil {
		return ConvParams{}, fmt.Errorf("width: %w", err)
	}
	return p, p.Validate()
}

// NewConvTransposeParams returns the parameters of a Keras Conv2DTranspose
// over an (n, h, w, c) input with an (kh, kw) kernel and f filters;
// outputPadding (-1 for None) applies to both axes (see ConvTransposeOutput).
func NewConvTransposeParams(n, h, w, c, kh, kw, f, sh, sw, dh, dw int, padding string, outputPaddingH, outputPaddingW int) (ConvParams, error) {
	p := ConvParams{N: n, H: h, W: w, C: c, KH: kh, KW: kw, F: f, SH: sh, SW: sw, DH: dh, DW: dw}
	var err error
	if p.OH, p.PadTop, err = ConvTransposeOutput(h, kh, sh, dh, padding, outputPaddingH); err != nil {
		return ConvParams{}, fmt.Errorf("height: %w", err)
	}
	if p.OW, p.PadLeft, err = ConvTransposeOutput(w, kw, sw, dw, padding, outputPaddingW); err != nil {
		return ConvParams{}, fmt.Errorf("width: %w", err)
	}
	return p, p.Validate()
}

// NewPoolParams returns the parameters of a Keras MaxPooling2D or
// AveragePooling2D over an (n, h, w, c) input with pool size (ph, pw),
// strides (sh, sw) and padding "valid" or "same".
func NewPoolParams(n, h, w, c, ph, pw, sh, sw int, padding string) (PoolParams, error) {
	p := PoolParams{N: n, H: h, W: w, C: c, PH: ph, PW: pw, SH: sh, SW: sw}
	var err error
	if p.OH, p.PadTop, _, err = ConvOutput(h, ph, sh, 1, padding); err != nil {
		return PoolParams{}, fmt.Errorf("height: %w", err)
	}
	if p.OW, p.PadLeft, _, err = ConvOutput(w, pw, sw, 1, padding); err != nil {
		return PoolParams{}, fmt.Errorf("width: %w", err)
	}
	return p, p.Validate()
}

// maxElements bounds every tensor size the kernels accept, so that index
// arithmetic cannot overflow.
const maxElements = 1 << 46

// size multiplies dims, reporting false on a negative dimension or when the
// product exceeds maxElements.
func size(dims ...int) (int, bool) {
	n := 1
	for _, d := range dims {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > maxElements/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// Validate reports whether p describes a computable convolution: positive
// sizes, strides and dilations, non-negative padding, and tensor sizes that
// fit in memory arithmetic. It does not require OH/OW to follow a Keras
// padding rule (windows reaching outside the input read zeros).
func (p ConvParams) Validate() error {
	if p.N < 0 || p.H < 1 || p.W < 1 || p.C < 1 || p.F < 1 || p.KH < 1 || p.KW < 1 || p.OH < 1 || p.OW < 1 {
		return fmt.Errorf("conv params: sizes must be positive: input (%d, %d, %d, %d), kernel %dx%d, %d filters, output %dx%d", p.N, p.H, p.W, p.C, p.KH, p.KW, p.F, p.OH, p.OW)
	}
	if p.SH < 1 || p.SW < 1 || p.DH < 1 || p.DW < 1 {
		return fmt.Errorf("conv params: strides (%d, %d) and dilation (%d, %d) must be >= 1", p.SH, p.SW, p.DH, p.DW)
	}
	if p.PadTop < 0 || p.PadLeft < 0 {
		return fmt.Errorf("conv params: negative padding (%d, %d)", p.PadTop, p.PadLeft)
	}
	if _, ok := size(p.N, p.H, p.W, p.C); !ok {
		return fmt.Errorf("conv params: input (%d, %d, %d, %d) is too large", p.N, p.H, p.W, p.C)
	}
	if _, ok := size(p.N, p.OH, p.OW, p.F); !ok {
		return fmt.Errorf("conv params: output (%d, %d, %d, %d) is too large", p.N, p.OH, p.OW, p.F)
	}
	if _, ok := size(p.KH, p.KW, p.C, p.F); !ok {
		return fmt.Errorf("conv params: kernel (%d, %d, %d, %d) is too large", p.KH, p.KW, p.C, p.F)
	}
	if _, ok := size(p.KH, p.DH, p.SH, p.OH); !ok {
		return fmt.Errorf("conv params: window rows out of range")
	}
	if _, ok := size(p.KW, p.DW, p.SW, p.OW); !ok {
		return fmt.Errorf("conv params: window columns out of range")
	}
	if p.PadTop > maxElements || p.PadLeft > maxElements {
		return fmt.Errorf("conv params: padding (%d, %d) out of range", p.PadTop, p.PadLeft)
	}
	return nil
}

// Validate is ConvParams.Validate for pooling windows.
func (p PoolParams) Validate() error {
	if p.N < 0 || p.H < 1 || p.W < 1 || p.C < 1 || p.PH < 1 || p.PW < 1 || p.OH < 1 || p.OW < 1 {
		return fmt.Errorf("pool params: sizes must be positive: input (%d, %d, %d, %d), pool %dx%d, output %dx%d", p.N, p.H, p.W, p.C, p.PH, p.PW, p.OH, p.OW)
	}
	if p.SH < 1 || p.SW < 1 {
		return fmt.Errorf("pool params: strides (%d, %d) must be >= 1", p.SH, p.SW)
	}
	if p.PadTop < 0 || p.PadLeft < 0 {
		return fmt.Errorf("pool params: negative padding (%d, %d)", p.PadTop, p.PadLeft)
	}
	if _, ok := size(p.N, p.H, p.W, p.C); !ok {
		return fmt.Errorf("pool params: input (%d, %d, %d, %d) is too large", p.N, p.H, p.W, p.C)
	}
	if _, ok := size(p.N, p.OH, p.OW, p.C); !ok {
		return fmt.Errorf("pool params: output (%d, %d, %d, %d) is too large", p.N, p.OH, p.OW, p.C)
	}
	if _, ok := size(p.PH, p.SH, p.OH); !ok {
		return fmt.Errorf("pool params: window rows out of range")
	}
	if _, ok := size(p.PW, p.SW, p.OW); !ok {
		return fmt.Errorf("pool params: window columns out of range")
	}
	if p.PadTop > maxElements || p.PadLeft > maxElements {
		return fmt.Errorf("pool params: padding (%d, %d) out of range", p.PadTop, p.PadLeft)
	}
	return nil
}

// mustValidate panics with a message naming the kernel when p is invalid.
func (p ConvParams) mustValidate(op string) {
	if err := p.Validate(); err != nil {
		panic("ops." + op + ": " + err.Error())
	}
}

func (p PoolParams) mustValidate(op string) {
	if err := p.Validate(); err != nil {
		panic("ops." + op + ": " + err.Error())
	}
}

// mustLen panics unless len(s) == want (or s is nil and optional). The
// kernels have no error results: a length that disagrees with the shape is
// a bug in the caller, and the panic says which argument and which shape.
func mustLen(op, arg string, s []float32, want int, shape string) {
	if len(s) != want {
		panic(fmt.Sprintf("ops.%s: %s has %d values, want %d for shape %s", op, arg, len(s), want, shape))
	}
}

func shape4(a, b, c, d int) string { return ShapeString([]int{a, b, c, d}) }
