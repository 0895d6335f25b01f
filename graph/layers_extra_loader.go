package graph

import (
	"errors"
	"fmt"

	"github.com/kerago/kerago/ops"
)

// Helpers for model loaders (the keras package), kept apart from the
// functional API proper.

// SequentialFromInput is Sequential with an explicit input node, so that a
// loader can keep the InputLayer's Keras name: the layers are called in
// order on in, and the model is marked Sequential (summary omits the
// InputLayer row, Layers excludes it).
func SequentialFromInput(name string, in *Node, layers ...Layer) (*Model, error) {
	if in == nil {
		return nil, errors.New("SequentialFromInput: nil input node")
	}
	if _, ok := in.Layer.(*InputLayer); !ok && in.err == nil {
		return nil, fmt.Errorf("SequentialFromInput: the input node comes from layer %q, not an Input", in.Layer.Base().name)
	}
	x := in
	for _, l := range layers {
		x = Call(l, x)
	}
	if name == "" {
		name = uniqueName("sequential", true)
	}
	m, err := NewModel([]*Node{in}, []*Node{x}, name)
	if err != nil {
		return nil, err
	}
	m.class = "Sequential"
	m.sequential = true
	return m, nil
}

// SetActivationFunc replaces the function that a layer applies for its
// activation argument, keeping its Activation name. It works on Conv2D,
// DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Dense and Activation
// layers. Loaders use it for activations whose meaning depends on the Keras
// version that wrote the file (Keras 3 changed hard_sigmoid) or that have
// no elementwise ops kernel (log_softmax). fn works in place on the layer's
// output; nil means linear. (Construct the layer with a linear activation,
// then set its Activation field to the Keras name and call this.)
func SetActivationFunc(l Layer, fn func(*ops.Tensor)) error {
	switch t := l.(type) {
	case *Conv2DLayer:
		t.act = fn
	case *DepthwiseConv2DLayer:
		t.act = fn
	case *SeparableConv2DLayer:
		t.act = fn
	case *Conv2DTransposeLayer:
		t.act = fn
	case *DenseLayer:
		t.act = fn
	case *ActivationLayer:
		t.fn = fn
	default:
		return fmt.Errorf("layer %q (%s) has no activation argument", l.Base().name, l.Base().class)
	}
	return nil
}
