package graph

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// DenseLayer is keras.layers.Dense: kernel (in, units), bias (units), applied
// to the last axis of its input.
type DenseLayer struct {
	LayerBase
	Units      int
	Activation string
	UseBias    bool
	act        func(*ops.Tensor)
}

// Dense returns keras.layers.Dense(units, ...).
func Dense(units int, opts ...Opt) *DenseLayer {
	k := parseOpts(opts)
	l := &DenseLayer{Units: units, Activation: k.activation, UseBias: !k.has("use_bias") || k.useBias}
	k.common(&l.LayerBase, l, "Dense", "activation", "use_bias")
	if units <= 0 {
		l.SetError(fmt.Errorf("units must be positive, got %d", units))
	}
	fn, err := activationFunc(l.Activation)
	if err != nil {
		l.SetError(err)
	}
	l.act = fn
	return l
}

// Build implements Layer.
func (l *DenseLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) == 0 || s[len(s)-1] < 0 {
		return nil, fmt.Errorf("the last dimension of the input must be known, got shape %s", s)
	}
	last := s[len(s)-1]
	if !l.built {
		l.AddWeight("kernel", []int{last, l.Units}, true)
		if l.UseBias {
			l.AddWeight("bias", []int{l.Units}, true)
		}
	} else if l.weights[0].Shape[0] != last {
		return nil, fmt.Errorf("expected axis -1 of input shape to have value %d, found %s", l.weights[0].Shape[0], s)
	}
	out := s.clone()
	out[len(out)-1] = l.Units
	return out, nil
}

// Forward implements Layer.
func (l *DenseLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	return l.forwardBuffered(in, nil)
}

// forwardBuffered implements bufferedLayer: the output comes from a.
func (l *DenseLayer) forwardBuffered(in []*ops.Tensor, a *arena) (*ops.Tensor, error) {
	x := in[0]
	k := l.weights[0].Shape[0]
	if len(x.Shape) < 2 || x.Shape[len(x.Shape)-1] != k {
		return nil, fmt.Errorf("input shape %v does not end in %d", x.Shape, k)
	}
	shape := append([]int(nil), x.Shape...)
	shape[len(shape)-1] = l.Units
	out := a.tensor(shape...)
	var bias []float32
	if l.UseBias {
		bias = l.weights[1].Data
	}
	ops.Dense(out.Data, x.Data, l.weights[0].Data, bias, len(x.Data)/k, k, l.Units)
	if l.act != nil {
		l.act(out)
	}
	return out, nil
}

// DropoutLayer is keras.layers.Dropout; at inference it is the identity.
type DropoutLayer struct {
	LayerBase
	Rate float64
}

// Dropout returns keras.layers.Dropout(rate).
func Dropout(rate float64, opts ...Opt) *DropoutLayer {
	k := parseOpts(opts)
	l := &DropoutLayer{Rate: rate}
	k.common(&l.LayerBase, l, "Dropout")
	if rate < 0 || rate > 1 {
		l.SetError(fmt.Errorf("rate must be in [0, 1], got %g", rate))
	}
	return l
}

// Build implements Layer.
func (l *DropoutLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	return in[0].clone(), nil
}

// Forward implements Layer.
func (l *DropoutLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) { return in[0], nil }

// FlattenLayer is keras.layers.Flatten: (batch, d1, d2, ...) -> (batch,
// d1*d2*...), row-major (for images: H, then W, then C).
type FlattenLayer struct{ LayerBase }

// Flatten returns keras.layers.Flatten().
func Flatten(opts ...Opt) *FlattenLayer {
	k := parseOpts(opts)
	l := &FlattenLayer{}
	k.common(&l.LayerBase, l, "Flatten", "data_format")
	return l
}

// Build implements Layer.
func (l *FlattenLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if !in[0].known() {
		return nil, fmt.Errorf("the shape of the input to Flatten is not fully defined (got %s); make sure to pass a complete input_shape", in[0])
	}
	return Shape{ops.NumElements(in[0])}, nil
}

// Forward implements Layer.
func (l *FlattenLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	return in[0].Reshape(in[0].Shape[0], -1)
}

// ReshapeLayer is keras.layers.Reshape(target_shape); one dimension may be -1.
type ReshapeLayer struct {
	LayerBase
	TargetShape Shape
}

// Reshape returns keras.layers.Reshape(target_shape).
func Reshape(target []int, opts ...Opt) *ReshapeLayer {
	k := parseOpts(opts)
	l := &ReshapeLayer{TargetShape: Shape(target).clone()}
	k.common(&l.LayerBase, l, "Reshape")
	unknown := 0
	for _, d := range target {
		if d == -1 {
			unknown++
		} else if d <= 0 {
			l.SetError(fmt.Errorf("target_shape %v has a non-positive dimension", target))
		}
	}
	if unknown > 1 {
		l.SetError(fmt.Errorf("target_shape %v can only specify one unknown dimension", target))
	}
	return l
}

// Build implements Layer.
func (l *ReshapeLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	out := l.TargetShape.clone()
	if !in[0].known() {
		return out, nil
	}
	n := ops.NumElements(in[0])
	known, idx := 1, -1
	for i, d := range out {
		if d == -1 {
			idx = i
		} else {
			known *= d
		}
	}
	if idx >= 0 {
		if n%known != 0 {
			return nil, fmt.Errorf("total size of new array must be unchanged, input_shape = %s, output_shape = %s", in[0], l.TargetShape)
		}
		out[idx] = n / known
	} else if known != n {
		return nil, fmt.Errorf("total size of new array must be unchanged, input_shape = %s, output_shape = %s", in[0], l.TargetShape)
	}
	return out, nil
}

// Forward implements Layer.
func (l *ReshapeLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	return in[0].Reshape(append([]int{in[0].Shape[0]}, l.TargetShape...)...)
}

// RescalingLayer is keras.layers.Rescaling: x*scale + offset.
type RescalingLayer struct {
	LayerBase
	Scale, Offset float64
}

// Rescaling returns keras.layers.Rescaling(scale, offset=0).
func Rescaling(scale float64, opts ...Opt) *RescalingLayer {
	k := parseOpts(opts)
	l := &RescalingLayer{Scale: scale, Offset: k.offset}
	k.common(&l.LayerBase, l, "Rescaling", "offset")
	return l
}

// Build implements Layer.
func (l *RescalingLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	return in[0].clone(), nil
}

// Forward implements Layer.
func (l *RescalingLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	ops.Rescale(out.Data, float32(l.Scale), float32(l.Offset))
	return out, nil
}
