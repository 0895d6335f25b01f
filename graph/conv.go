package graph

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// convOutput is ops.ConvOutput for a possibly unknown size (-1 stays
// unknown): Keras's output length and the padding before the first element.
func convOutput(n, k, s, d int, padding string) (out, before int, err error) {
	if n < 0 {
		if padding != "valid" && padding != "same" {
			return 0, 0, fmt.Errorf("padding must be \"valid\" or \"same\", got %q", padding)
		}
		return -1, 0, nil
	}
	out, before, _, err = ops.ConvOutput(n, k, s, d, padding)
	return out, before, err
}

// Conv2DLayer is keras.layers.Conv2D: kernel (kh, kw, in, filters), bias (filters).
type Conv2DLayer struct {
	LayerBase
	Filters      int
	KernelSize   [2]int
	Strides      [2]int
	Padding      string
	DilationRate [2]int
	Activation   string
	UseBias      bool
	act          func(*ops.Tensor)
}

// Conv2D returns keras.layers.Conv2D(filters, kernel_size, ...). Defaults:
// strides (1,1), padding "valid", dilation (1,1), no activation, use_bias.
func Conv2D(filters int, kernelSize [2]int, opts ...Opt) *Conv2DLayer {
	k := parseOpts(opts)
	l := &Conv2DLayer{Filters: filters, KernelSize: kernelSize, Strides: pair(k.strides, 1), Padding: "valid",
		DilationRate: pair(k.dilation, 1), Activation: k.activation, UseBias: !k.has("use_bias") || k.useBias}
	if k.has("padding") {
		l.Padding = k.padding
	}
	k.common(&l.LayerBase, l, "Conv2D", "strides", "padding", "dilation_rate", "activation", "use_bias", "data_format")
	l.act = l.checkConv(filters, l.KernelSize, l.Strides, l.DilationRate, l.Padding, l.Activation)
	return l
}

// checkConv validates the arguments shared by the convolution layers.
func (b *LayerBase) checkConv(filters int, k, s, d [2]int, padding, activation string) func(*ops.Tensor) {
	if filters <= 0 {
		b.SetError(fmt.Errorf("filters must be positive, got %d", filters))
	}
	if k[0] <= 0 || k[1] <= 0 || s[0] <= 0 || s[1] <= 0 || d[0] <= 0 || d[1] <= 0 {
		b.SetError(fmt.Errorf("kernel_size %v, strides %v and dilation_rate %v must be positive", k, s, d))
	}
	if (s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1) {
		b.SetError(fmt.Errorf("strides > 1 are not compatible with dilation_rate > 1"))
	}
	if err := checkPadding(padding); err != nil {
		b.SetError(err)
	}
	fn, err := activationFunc(activation)
	if err != nil {
		b.SetError(err)
	}
	return fn
}

// convGeometry computes the ops parameters for an NHWC input shape.
func convGeometry(in Shape, k, s, d [2]int, padding string) (p ops.ConvParams, oh, ow int, err error) {
	if len(in) != 3 {
		return p, 0, 0, fmt.Errorf("expects a 4-D input (batch, height, width, channels), got shape %s", in)
	}
	if in[2] < 0 {
		return p, 0, 0, fmt.Errorf("the channel dimension of the input must be known, got shape %s", in)
	}
	oh, top, err := convOutput(in[0], k[0], s[0], d[0], padding)
	if err != nil {
		return p, 0, 0, fmt.Errorf("height: %w", err)
	}
	ow, left, err := convOutput(in[1], k[1], s[1], d[1], padding)
	if err != nil {
		return p, 0, 0, fmt.Errorf("width: %w", err)
	}
	p = ops.ConvParams{H: in[0], W: in[1], C: in[2], KH: k[0], KW: k[1], SH: s[0], SW: s[1], DH: d[0], DW: d[1],
		PadTop: top, PadLeft: left, OH: oh, OW: ow}
	return p, oh, ow, nil
}

// runtimeGeometry fills the batch and (possibly unknown at build time)
// spatial sizes from an actual input tensor.
func runtimeGeometry(t *ops.Tensor, k, s, d [2]int, padding string) (ops.ConvParams, error) {
	if len(t.Shape) != 4 {
		return ops.ConvParams{}, fmt.Errorf("expects a 4-D input, got shape %v", t.Shape)
	}
	p, _, _, err := convGeometry(Shape(t.Shape[1:]), k, s, d, padding)
	p.N = t.Shape[0]
	return p, err
}

// Build implements Layer.
func (l *Conv2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	_, oh, ow, err := convGeometry(in[0], l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	if !l.built {
		l.AddWeight("kernel", []int{l.KernelSize[0], l.KernelSize[1], in[0][2], l.Filters}, true)
		if l.UseBias {
			l.AddWeight("bias", []int{l.Filters}, true)
		}
	} else if c := l.weights[0].Shape[2]; in[0][2] != c {
		return nil, fmt.Errorf("expected axis -1 of input shape to have value %d, found %s", c, in[0])
	}
	return Shape{oh, ow, l.Filters}, nil
}

// Forward implements Layer.
func (l *Conv2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	return l.forwardBuffered(in, nil)
}

// forwardBuffered implements bufferedLayer: the output tensor comes from
// the arena a (a fresh one when a is nil). A relu activation is fused into
// the convolution (ops.Conv2DReLU); other activations run afterwards.
func (l *Conv2DLayer) forwardBuffered(in []*ops.Tensor, a *arena) (*ops.Tensor, error) {
	p, err := runtimeGeometry(in[0], l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	p.F = l.Filters
	out := a.tensor(p.N, p.OH, p.OW, p.F)
	if l.Activation == "relu" {
		ops.Conv2DReLU(out.Data, in[0].Data, l.weights[0].Data, l.bias(), p)
		return out, nil
	}
	ops.Conv2D(out.Data, in[0].Data, l.weights[0].Data, l.bias(), p)
	if l.act != nil {
		l.act(out)
	}
	return out, nil
}

func (l *Conv2DLayer) bias() []float32 {
	if l.UseBias {
		return l.weights[1].Data
	}
	return nil
}

// DepthwiseConv2DLayer is keras.layers.DepthwiseConv2D: depthwise_kernel
// (kh, kw, in, depth_multiplier), bias (in*depth_multiplier).
type DepthwiseConv2DLayer struct {
	LayerBase
	KernelSize      [2]int
	Strides         [2]int
	Padding         string
	DepthMultiplier int
	DilationRate    [2]int
	Activation      string
	UseBias         bool
	act             func(*ops.Tensor)
}

// DepthwiseConv2D returns keras.layers.DepthwiseConv2D(kernel_size, ...).
func DepthwiseConv2D(kernelSize [2]int, opts ...Opt) *DepthwiseConv2DLayer {
	k := parseOpts(opts)
	l := &DepthwiseConv2DLayer{KernelSize: kernelSize, Strides: pair(k.strides, 1), Padding: "valid", DepthMultiplier: 1,
		DilationRate: pair(k.dilation, 1), Activation: k.activation, UseBias: !k.has("use_bias") || k.useBias}
	if k.has("padding") {
		l.Padding = k.padding
	}
	if k.has("depth_multiplier") {
		l.DepthMultiplier = k.depthMult
	}
	k.common(&l.LayerBase, l, "DepthwiseConv2D", "strides", "padding", "depth_multiplier", "dilation_rate", "activation", "use_bias", "data_format")
	l.act = l.checkConv(l.DepthMultiplier, kernelSize, l.Strides, l.DilationRate, l.Padding, l.Activation)
	return l
}

// Build implements Layer.
func (l *DepthwiseConv2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	_, oh, ow, err := convGeometry(in[0], l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	c := in[0][2]
	if !l.built {
		l.AddWeight("depthwise_kernel", []int{l.KernelSize[0], l.KernelSize[1], c, l.DepthMultiplier}, true)
		if l.UseBias {
			l.AddWeight("bias", []int{c * l.DepthMultiplier}, true)
		}
	} else if l.weights[0].Shape[2] != c {
		return nil, fmt.Errorf("expected axis -1 of input shape to have value %d, found %s", l.weights[0].Shape[2], in[0])
	}
	return Shape{oh, ow, c * l.DepthMultiplier}, nil
}

// Forward implements Layer.
func (l *DepthwiseConv2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	p, err := runtimeGeometry(in[0], l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	p.F = p.C * l.DepthMultiplier
	out := ops.New(p.N, p.OH, p.OW, p.F)
	var bias []float32
	if l.UseBias {
		bias = l.weights[1].Data
	}
	ops.DepthwiseConv2D(out.Data, in[0].Data, l.weights[0].Data, bias, p)
	if l.act != nil {
		l.act(out)
	}
	return out, nil
}

// SeparableConv2DLayer is keras.layers.SeparableConv2D: a depthwise
// convolution (depthwise_kernel (kh, kw, in, m)) followed by a 1×1
// convolution (pointwise_kernel (1, 1, in*m, filters)) and bias (filters).
type SeparableConv2DLayer struct {
	LayerBase
	Filters         int
	KernelSize      [2]int
	Strides         [2]int
	Padding         string
	DepthMultiplier int
	DilationRate    [2]int
	Activation      string
	UseBias         bool
	act             func(*ops.Tensor)
}

// SeparableConv2D returns keras.layers.SeparableConv2D(filters, kernel_size, ...).
func SeparableConv2D(filters int, kernelSize [2]int, opts ...Opt) *SeparableConv2DLayer {
	k := parseOpts(opts)
	l := &SeparableConv2DLayer{Filters: filters, KernelSize: kernelSize, Strides: pair(k.strides, 1), Padding: "valid", DepthMultiplier: 1,
		DilationRate: pair(k.dilation, 1), Activation: k.activation, UseBias: !k.has("use_bias") || k.useBias}
	if k.has("padding") {
		l.Padding = k.padding
	}
	if k.has("depth_multiplier") {
		l.DepthMultiplier = k.depthMult
	}
	k.common(&l.LayerBase, l, "SeparableConv2D", "strides", "padding", "depth_multiplier", "dilation_rate", "activation", "use_bias", "data_format")
	l.act = l.checkConv(filters, kernelSize, l.Strides, l.DilationRate, l.Padding, l.Activation)
	if l.DepthMultiplier <= 0 {
		l.SetError(fmt.Errorf("depth_multiplier must be positive, got %d", l.DepthMultiplier))
	}
	return l
}

// Build implements Layer.
func (l *SeparableConv2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	_, oh, ow, err := convGeometry(in[0], l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	c := in[0][2]
	if !l.built {
		l.AddWeight("depthwise_kernel", []int{l.KernelSize[0], l.KernelSize[1], c, l.DepthMultiplier}, true)
		l.AddWeight("pointwise_kernel", []int{1, 1, c * l.DepthMultiplier, l.Filters}, true)
		if l.UseBias {
			l.AddWeight("bias", []int{l.Filters}, true)
		}
	} else if l.weights[0].Shape[2] != c {
		return nil, fmt.Errorf("expected axis -1 of input shape to have value %d, found %s", l.weights[0].Shape[2], in[0])
	}
	return Shape{oh, ow, l.Filters}, nil
}

// Forward implements Layer.
func (l *SeparableConv2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	p, err := runtimeGeometry(in[0], l.KernelSize, l.Strides, l.DilationRate, l.Padding)
	if err != nil {
		return nil, err
	}
	p.F = p.C * l.DepthMultiplier
	mid := ops.New(p.N, p.OH, p.OW, p.F)
	ops.DepthwiseConv2D(mid.Data, in[0].Data, l.weights[0].Data, nil, p)
	q := ops.ConvParams{N: p.N, H: p.OH, W: p.OW, C: p.F, KH: 1, KW: 1, F: l.Filters, SH: 1, SW: 1, DH: 1, DW: 1, OH: p.OH, OW: p.OW}
	out := ops.New(p.N, p.OH, p.OW, l.Filters)
	var bias []float32
	if l.UseBias {
		bias = l.weights[2].Data
	}
	ops.Conv2D(out.Data, mid.Data, l.weights[1].Data, bias, q)
	if l.act != nil {
		l.act(out)
	}
	return out, nil
}

// Conv2DTransposeLayer is keras.layers.Conv2DTranspose: kernel
// (kh, kw, filters, in) — output channels before input channels — and bias
// (filters).
type Conv2DTransposeLayer struct {
	LayerBase
	Filters       int
	KernelSize    [2]int
	Strides       [2]int
	Padding       string
	OutputPadding *[2]int // nil: Keras's None
	DilationRate  [2]int
	Activation    string
	UseBias       bool
	act           func(*ops.Tensor)
}

// Conv2DTranspose returns keras.layers.Conv2DTranspose(filters, kernel_size, ...).
func Conv2DTranspose(filters int, kernelSize [2]int, opts ...Opt) *Conv2DTransposeLayer {
	k := parseOpts(opts)
	l := &Conv2DTransposeLayer{Filters: filters, KernelSize: kernelSize, Strides: pair(k.strides, 1), Padding: "valid",
		DilationRate: pair(k.dilation, 1), Activation: k.activation, UseBias: !k.has("use_bias") || k.useBias}
	if k.has("padding") {
		l.Padding = k.padding
	}
	if k.has("output_padding") {
		op := k.outputPadding
		l.OutputPadding = &op
	}
	k.common(&l.LayerBase, l, "Conv2DTranspose", "strides", "padding", "output_padding", "dilation_rate", "activation", "use_bias", "data_format")
	l.act = l.checkConv(filters, kernelSize, l.Strides, l.DilationRate, l.Padding, l.Activation)
	if op := l.OutputPadding; op != nil {
		for i := 0; i < 2; i++ {
			if op[i] < 0 || op[i] >= l.Strides[i] {
				l.SetError(fmt.Errorf("output_padding %v must be non-negative and smaller than the strides %v", *op, l.Strides))
			}
		}
	}
	return l
}

func (l *Conv2DTransposeLayer) geometry(in Shape) (p ops.ConvParams, err error) {
	if len(in) != 3 || in[2] < 0 {
		return p, fmt.Errorf("expects a 4-D input with known channels, got shape %s", in)
	}
	oph, opw := -1, -1 // Keras's output_padding=None
	if l.OutputPadding != nil {
		oph, opw = l.OutputPadding[0], l.OutputPadding[1]
	}
	oh, top, ow, left := -1, 0, -1, 0
	var err2 error
	if in[0] >= 0 {
		if oh, top, err = ops.ConvTransposeOutput(in[0], l.KernelSize[0], l.Strides[0], l.DilationRate[0], l.Padding, oph); err != nil {
			return p, fmt.Errorf("height: %w", err)
		}
	}
	if in[1] >= 0 {
		if ow, left, err2 = ops.ConvTransposeOutput(in[1], l.KernelSize[1], l.Strides[1], l.DilationRate[1], l.Padding, opw); err2 != nil {
			return p, fmt.Errorf("width: %w", err2)
		}
	}
	return ops.ConvParams{H: in[0], W: in[1], C: in[2], KH: l.KernelSize[0], KW: l.KernelSize[1], F: l.Filters,
		SH: l.Strides[0], SW: l.Strides[1], DH: l.DilationRate[0], DW: l.DilationRate[1],
		PadTop: top, PadLeft: left, OH: oh, OW: ow}, nil
}

// Build implements Layer.
func (l *Conv2DTransposeLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	p, err := l.geometry(in[0])
	if err != nil {
		return nil, err
	}
	if !l.built {
		l.AddWeight("kernel", []int{l.KernelSize[0], l.KernelSize[1], l.Filters, in[0][2]}, true)
		if l.UseBias {
			l.AddWeight("bias", []int{l.Filters}, true)
		}
	} else if l.weights[0].Shape[3] != in[0][2] {
		return nil, fmt.Errorf("expected axis -1 of input shape to have value %d, found %s", l.weights[0].Shape[3], in[0])
	}
	return Shape{p.OH, p.OW, l.Filters}, nil
}

// Forward implements Layer.
func (l *Conv2DTransposeLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	p, err := l.geometry(Shape(in[0].Shape[1:]))
	if err != nil {
		return nil, err
	}
	p.N = in[0].Shape[0]
	out := ops.New(p.N, p.OH, p.OW, p.F)
	var bias []float32
	if l.UseBias {
		bias = l.weights[1].Data
	}
	ops.Conv2DTranspose(out.Data, in[0].Data, l.weights[0].Data, bias, p)
	if l.act != nil {
		l.act(out)
	}
	return out, nil
}
