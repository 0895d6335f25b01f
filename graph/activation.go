package graph

import (
	"fmt"
	"math"
	"slices"

	"github.com/kerago/kerago/ops"
)

// activationFunc returns an in-place function applying a Keras activation by
// name ("" and "linear" are the identity). softmax and log_softmax work over
// the last axis. Names are tf.keras 2.x's; "hard_sigmoid_keras3" is Keras 3's
// hard_sigmoid, relu6(x+3)/6 (the keras package maps Keras 3 files to it).
func activationFunc(name string) (func(t *ops.Tensor), error) {
	switch name {
	case "", "linear":
		return nil, nil
	case "softmax", "log_softmax":
		logOf := name == "log_softmax"
		return func(t *ops.Tensor) {
			cols := t.Shape[len(t.Shape)-1]
			switch {
			case cols == 0:
			case logOf:
				logSoftmax(t.Data, cols)
			default:
				ops.Softmax(t.Data, len(t.Data)/cols, cols)
			}
		}, nil
	case "hard_sigmoid_keras3":
		return func(t *ops.Tensor) { ops.HardSigmoidKeras3(t.Data) }, nil
	}
	f, err := ops.Activation(name)
	if err != nil {
		return nil, err
	}
	return func(t *ops.Tensor) { f(t.Data) }, nil
}

// logSoftmax computes x - max - log(sum(exp(x - max))) over rows of cols.
func logSoftmax(x []float32, cols int) {
	for r := 0; r+cols <= len(x); r += cols {
		row := x[r : r+cols]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, float64(v))
		}
		sum := 0.0
		for _, v := range row {
			sum += math.Exp(float64(v) - m)
		}
		lse := m + math.Log(sum)
		for i, v := range row {
			row[i] = float32(float64(v) - lse)
		}
	}
}

// ActivationLayer applies an activation function: keras.layers.Activation.
type ActivationLayer struct {
	LayerBase
	Activation string
	fn         func(*ops.Tensor)
}

// Activation returns keras.layers.Activation(name).
func NewActivation(name string, opts ...Opt) *ActivationLayer {
	k := parseOpts(opts)
	l := &ActivationLayer{Activation: name}
	k.common(&l.LayerBase, l, "Activation")
	fn, err := activationFunc(name)
	if err != nil {
		l.SetError(err)
	}
	l.fn = fn
	return l
}

// Build implements Layer.
func (l *ActivationLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	return in[0].clone(), nil
}

// Forward implements Layer.
func (l *ActivationLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	if l.fn != nil {
		l.fn(out)
	}
	return out, nil
}

func oneInput(in []Shape) error {
	if len(in) != 1 {
		return fmt.Errorf("expects 1 input, got %d", len(in))
	}
	return nil
}

func rankIs(in Shape, r int, what string) error {
	if len(in) != r {
		return fmt.Errorf("expects %s input of rank %d (batch included), got shape %s", what, r+1, in)
	}
	return nil
}

// ReLULayer is keras.layers.ReLU: min(max_value, x) for x >= threshold,
// negative_slope * (x - threshold) below it.
type ReLULayer struct {
	LayerBase
	MaxValue      *float64 // nil: no maximum
	NegativeSlope float64
	Threshold     float64
}

// ReLU returns keras.layers.ReLU(max_value=None, negative_slope=0, threshold=0).
func ReLU(opts ...Opt) *ReLULayer {
	k := parseOpts(opts)
	l := &ReLULayer{NegativeSlope: k.negativeSlope, Threshold: k.threshold}
	if k.has("max_value") {
		v := k.maxValue
		l.MaxValue = &v
		if v < 0 {
			l.SetError(fmt.Errorf("max_value of a ReLU layer cannot be negative, got %g", v))
		}
	}
	k.common(&l.LayerBase, l, "ReLU", "max_value", "negative_slope", "threshold")
	if l.NegativeSlope < 0 {
		l.SetError(fmt.Errorf("negative_slope of a ReLU layer cannot be negative, got %g", l.NegativeSlope))
	}
	return l
}

// Build implements Layer.
func (l *ReLULayer) Build(in []Shape) (Shape, error) { return sameShape(in) }

// Forward implements Layer.
func (l *ReLULayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	mv := float32(-1)
	if l.MaxValue != nil {
		mv = float32(*l.MaxValue)
	}
	ops.ReLU(out.Data, mv, float32(l.NegativeSlope), float32(l.Threshold))
	return out, nil
}

func sameShape(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	return in[0].clone(), nil
}

// LeakyReLULayer is keras.layers.LeakyReLU: x for x > 0, alpha*x otherwise.
type LeakyReLULayer struct {
	LayerBase
	Alpha float64
}

// LeakyReLU returns keras.layers.LeakyReLU(alpha=0.3).
func LeakyReLU(opts ...Opt) *LeakyReLULayer {
	k := parseOpts(opts)
	l := &LeakyReLULayer{Alpha: 0.3}
	if k.has("alpha") {
		l.Alpha = k.alpha
	}
	k.common(&l.LayerBase, l, "LeakyReLU", "alpha")
	return l
}

// Build implements Layer.
func (l *LeakyReLULayer) Build(in []Shape) (Shape, error) { return sameShape(in) }

// Forward implements Layer.
func (l *LeakyReLULayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	ops.LeakyReLU(out.Data, float32(l.Alpha))
	return out, nil
}

// ELULayer is keras.layers.ELU: x for x > 0, alpha*(exp(x)-1) otherwise.
type ELULayer struct {
	LayerBase
	Alpha float64
}

// ELU returns keras.layers.ELU(alpha=1.0).
func ELU(opts ...Opt) *ELULayer {
	k := parseOpts(opts)
	l := &ELULayer{Alpha: 1}
	if k.has("alpha") {
		l.Alpha = k.alpha
	}
	k.common(&l.LayerBase, l, "ELU", "alpha")
	return l
}

// Build implements Layer.
func (l *ELULayer) Build(in []Shape) (Shape, error) { return sameShape(in) }

// Forward implements Layer.
func (l *ELULayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	ops.ELU(out.Data, float32(l.Alpha))
	return out, nil
}

// SoftmaxLayer is keras.layers.Softmax over the last axis.
type SoftmaxLayer struct {
	LayerBase
	Axis int
}

// Softmax returns keras.layers.Softmax(axis=-1); Axis (batch = 0) may name
// any non-batch axis.
func Softmax(opts ...Opt) *SoftmaxLayer {
	k := parseOpts(opts)
	l := &SoftmaxLayer{Axis: -1}
	if k.has("axis") {
		l.Axis = k.axis
	}
	k.common(&l.LayerBase, l, "Softmax", "axis")
	return l
}

// Build implements Layer.
func (l *SoftmaxLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if _, err := axisOf(l.Axis, len(in[0])+1); err != nil {
		return nil, err
	}
	return in[0].clone(), nil
}

// axisOf maps a Keras axis (batch = 0, negative from the end) of a
// batch-first tensor of the given rank to a non-batch index.
func axisOf(axis, rank int) (int, error) {
	a := axis
	if a < 0 {
		a += rank
	}
	if a <= 0 || a >= rank {
		return 0, fmt.Errorf("axis %d is out of range or is the batch axis for inputs of rank %d", axis, rank)
	}
	return a, nil
}

// Forward implements Layer.
func (l *SoftmaxLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	ax, err := axisOf(l.Axis, len(x.Shape))
	if err != nil {
		return nil, err
	}
	out := x.Clone()
	cols := out.Shape[len(out.Shape)-1]
	if ax == len(x.Shape)-1 {
		if cols > 0 {
			ops.Softmax(out.Data, len(out.Data)/cols, cols)
		}
		return out, nil
	}
	// Another axis: gather each line along the axis, softmax it, scatter back.
	n, stride := x.Shape[ax], ops.NumElements(x.Shape[ax+1:])
	outer := ops.NumElements(x.Shape[:ax])
	line := make([]float32, n)
	for o := 0; o < outer; o++ {
		for i := 0; i < stride; i++ {
			base := o*n*stride + i
			for j := range line {
				line[j] = out.Data[base+j*stride]
			}
			ops.Softmax(line, 1, n)
			for j, v := range line {
				out.Data[base+j*stride] = v
			}
		}
	}
	return out, nil
}

// PReLULayer is keras.layers.PReLU: x for x > 0, alpha*x otherwise, with a
// learned alpha of the input's shape (batch excluded), size 1 along
// SharedAxes (1-based, batch-first axes as in Keras).
type PReLULayer struct {
	LayerBase
	SharedAxes []int
}

// PReLU returns keras.layers.PReLU(shared_axes=None).
func PReLU(opts ...Opt) *PReLULayer {
	k := parseOpts(opts)
	l := &PReLULayer{SharedAxes: k.sharedAxes}
	k.common(&l.LayerBase, l, "PReLU", "shared_axes")
	return l
}

// Build implements Layer.
func (l *PReLULayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	s := in[0]
	alpha := s.clone()
	for _, a := range l.SharedAxes {
		if a < 1 || a > len(s) {
			return nil, fmt.Errorf("shared_axes %v out of range for input shape %s", l.SharedAxes, s)
		}
		alpha[a-1] = 1
	}
	for _, d := range alpha {
		if d < 0 {
			return nil, fmt.Errorf("PReLU needs known dimensions on non-shared axes, got input shape %s", s)
		}
	}
	if !l.built {
		l.AddWeight("alpha", alpha, true)
	} else if !slices.Equal(l.weights[0].Shape, alpha) {
		return nil, fmt.Errorf("alpha has shape %v, input shape %s needs %v", l.weights[0].Shape, s, []int(alpha))
	}
	return s.clone(), nil
}

// Forward implements Layer.
func (l *PReLULayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	ashape := l.weights[0].Shape
	full := x.Shape[1:]
	if len(full) != len(ashape) {
		return nil, fmt.Errorf("input shape %v does not match alpha shape %v", x.Shape, ashape)
	}
	// Broadcast alpha over the shared axes to the full per-sample shape.
	alpha := make([]float32, ops.NumElements(full))
	idx := make([]int, len(full))
	for i := range alpha {
		off := 0
		for d := range full {
			j := idx[d]
			if ashape[d] == 1 {
				j = 0
			}
			off = off*ashape[d] + j
		}
		alpha[i] = l.weights[0].Data[off]
		for d := len(full) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < full[d] {
				break
			}
			idx[d] = 0
		}
	}
	out := x.Clone()
	ops.PReLU(out.Data, alpha, x.Shape[0])
	return out, nil
}
