package graph

import (
	"fmt"
	"slices"

	"github.com/kerago/kerago/ops"
)

// AddLayer is keras.layers.Add: the element-wise sum of inputs of equal shape.
type AddLayer struct{ LayerBase }

// Add returns keras.layers.Add().
func Add(opts ...Opt) *AddLayer {
	k := parseOpts(opts)
	l := &AddLayer{}
	k.common(&l.LayerBase, l, "Add")
	return l
}

// Build implements Layer.
func (l *AddLayer) Build(in []Shape) (Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("a merge layer should be called on a list of at least 2 inputs, got %d", len(in))
	}
	out := in[0].clone()
	for _, s := range in[1:] {
		if len(s) != len(out) {
			return nil, fmt.Errorf("inputs must have the same shape, got %s", shapesString(in))
		}
		for i := range s {
			switch {
			case out[i] < 0:
				out[i] = s[i]
			case s[i] >= 0 && s[i] != out[i]:
				return nil, fmt.Errorf("inputs must have the same shape, got %s", shapesString(in))
			}
		}
	}
	return out, nil
}

// Forward implements Layer.
func (l *AddLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := ops.New(in[0].Shape...)
	data := make([][]float32, len(in))
	for i, t := range in {
		if !slices.Equal(t.Shape, in[0].Shape) {
			return nil, fmt.Errorf("inputs must have the same shape, got %v and %v", in[0].Shape, t.Shape)
		}
		data[i] = t.Data
	}
	ops.Add(out.Data, data...)
	return out, nil
}

// ConcatenateLayer is keras.layers.Concatenate(axis=-1). Axis counts the
// batch dimension as 0, as in Keras.
type ConcatenateLayer struct {
	LayerBase
	Axis int
}

// Concatenate returns keras.layers.Concatenate(axis=-1).
func Concatenate(opts ...Opt) *ConcatenateLayer {
	k := parseOpts(opts)
	l := &ConcatenateLayer{Axis: -1}
	if k.has("axis") {
		l.Axis = k.axis
	}
	k.common(&l.LayerBase, l, "Concatenate", "axis")
	return l
}

// axisIndex maps Keras's axis (batch = 0, negative from the end) to an index
// into a Shape (which has no batch dimension).
func (l *ConcatenateLayer) axisIndex(rank int) (int, error) {
	a := l.Axis
	if a < 0 {
		a += rank + 1
	}
	if a <= 0 || a > rank {
		return 0, fmt.Errorf("axis %d is out of range for inputs of rank %d (batch included) or is the batch axis", l.Axis, rank+1)
	}
	return a - 1, nil
}

// Build implements Layer.
func (l *ConcatenateLayer) Build(in []Shape) (Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("a Concatenate layer should be called on a list of at least 2 inputs, got %d", len(in))
	}
	ax, err := l.axisIndex(len(in[0]))
	if err != nil {
		return nil, err
	}
	out := in[0].clone()
	for _, s := range in[1:] {
		if len(s) != len(out) {
			return nil, fmt.Errorf("a Concatenate layer requires inputs with matching shapes except for the concatenation axis, got %s", shapesString(in))
		}
		for i := range s {
			if i == ax {
				if out[i] < 0 || s[i] < 0 {
					out[i] = -1
				} else {
					out[i] += s[i]
				}
			} else if out[i] >= 0 && s[i] >= 0 && out[i] != s[i] {
				return nil, fmt.Errorf("a Concatenate layer requires inputs with matching shapes except for the concatenation axis, got %s", shapesString(in))
			}
		}
	}
	return out, nil
}

// Forward implements Layer.
func (l *ConcatenateLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	rank := len(in[0].Shape)
	ax, err := l.axisIndex(rank - 1)
	if err != nil {
		return nil, err
	}
	ax++ // index into the batch-first shape
	shape := append([]int(nil), in[0].Shape...)
	shape[ax] = 0
	outer := ops.NumElements(in[0].Shape[:ax])
	widths := make([]int, len(in))
	data := make([][]float32, len(in))
	for i, t := range in {
		if len(t.Shape) != rank {
			return nil, fmt.Errorf("input %d has shape %v, input 0 has %v", i, t.Shape, in[0].Shape)
		}
		for d := range t.Shape {
			if d != ax && t.Shape[d] != in[0].Shape[d] {
				return nil, fmt.Errorf("input %d has shape %v, input 0 has %v", i, t.Shape, in[0].Shape)
			}
		}
		shape[ax] += t.Shape[ax]
		widths[i] = ops.NumElements(t.Shape[ax:])
		data[i] = t.Data
	}
	out := ops.New(shape...)
	ops.Concat(out.Data, data, outer, widths)
	return out, nil
}
