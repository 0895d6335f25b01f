package graph

import "github.com/kerago/kerago/ops"

// IdentityLayer is a layer that passes its single input through unchanged
// at inference, such as keras.layers.SpatialDropout2D, GaussianNoise,
// GaussianDropout, AlphaDropout or ActivityRegularization. It records the
// Keras class it stands for.
type IdentityLayer struct {
	LayerBase
	// Config keeps the layer's Keras arguments (e.g. "rate") for display
	// and saving; they do not affect inference.
	Config map[string]any
}

// Identity returns an inference-time identity layer of the given Keras
// class, e.g. Identity("SpatialDropout2D").
func Identity(class string, opts ...Opt) *IdentityLayer {
	k := parseOpts(opts)
	l := &IdentityLayer{}
	k.common(&l.LayerBase, l, class, "data_format")
	return l
}

// Build implements Layer.
func (l *IdentityLayer) Build(in []Shape) (Shape, error) { return sameShape(in) }

// Forward implements Layer.
func (l *IdentityLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) { return in[0], nil }
