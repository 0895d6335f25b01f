package graph

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// BatchNormalizationLayer is keras.layers.BatchNormalization at inference:
// (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta over the
// last axis. Weights in Keras's order: gamma (if Scale), beta (if Center),
// moving_mean, moving_variance (the last two non-trainable).
type BatchNormalizationLayer struct {
	LayerBase
	Axis     int
	Momentum float64
	Epsilon  float64
	Center   bool
	Scale    bool
}

// BatchNormalization returns keras.layers.BatchNormalization(axis=-1,
// momentum=0.99, epsilon=0.001, center=True, scale=True).
func BatchNormalization(opts ...Opt) *BatchNormalizationLayer {
	k := parseOpts(opts)
	l := &BatchNormalizationLayer{Axis: -1, Momentum: 0.99, Epsilon: 1e-3, Center: true, Scale: true}
	if k.has("axis") {
		l.Axis = k.axis
	}
	if k.has("momentum") {
		l.Momentum = k.momentum
	}
	if k.has("epsilon") {
		l.Epsilon = k.epsilon
	}
	if k.has("center") {
		l.Center = k.center
	}
	if k.has("scale") {
		l.Scale = k.scale
	}
	k.common(&l.LayerBase, l, "BatchNormalization", "axis", "momentum", "epsilon", "center", "scale")
	if l.Epsilon < 0 {
		l.SetError(fmt.Errorf("epsilon must be non-negative, got %g", l.Epsilon))
	}
	return l
}

// Build implements Layer.
func (l *BatchNormalizationLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	s := in[0]
	if len(s) == 0 {
		return nil, fmt.Errorf("input of rank 1 cannot be normalized")
	}
	if l.Axis != -1 && l.Axis != len(s) {
		return nil, fmt.Errorf("axis %d is not supported (only the last axis, -1 or %d, on input shape %s)", l.Axis, len(s), s)
	}
	c := s[len(s)-1]
	if c < 0 {
		return nil, fmt.Errorf("the normalized axis must have a known size, got shape %s", s)
	}
	if !l.built {
		if l.Scale {
			l.AddWeight("gamma", []int{c}, true)
		}
		if l.Center {
			l.AddWeight("beta", []int{c}, true)
		}
		l.AddWeight("moving_mean", []int{c}, false)
		v := l.AddWeight("moving_variance", []int{c}, false)
		for i := range v.Data {
			v.Data[i] = 1
		}
		if l.Scale {
			for i := range l.weights[0].Data {
				l.weights[0].Data[i] = 1
			}
		}
	} else if n := len(l.weights[len(l.weights)-1].Data); n != c {
		return nil, fmt.Errorf("expected axis -1 of input shape to have value %d, found %s", n, s)
	}
	return s.clone(), nil
}

// Forward implements Layer.
func (l *BatchNormalizationLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	n := len(l.weights)
	mean, variance := l.weights[n-2].Data, l.weights[n-1].Data
	c := len(mean)
	if len(x.Data)%c != 0 || x.Shape[len(x.Shape)-1] != c {
		return nil, fmt.Errorf("input shape %v does not end in %d", x.Shape, c)
	}
	var gamma, beta []float32
	i := 0
	if l.Scale {
		gamma = l.weights[i].Data
		i++
	}
	if l.Center {
		beta = l.weights[i].Data
	}
	out := ops.New(x.Shape...)
	ops.BatchNorm(out.Data, x.Data, gamma, beta, mean, variance, len(x.Data)/c, c, float32(l.Epsilon))
	return out, nil
}
