package graph

import (
	"fmt"
	"slices"

	"github.com/kerago/kerago/ops"
)

// ElementwiseMergeLayer is one of keras.layers.Multiply, Average, Maximum,
// Minimum or Subtract: an element-wise combination of inputs of equal shape
// (Subtract takes exactly two). Add is AddLayer.
type ElementwiseMergeLayer struct {
	LayerBase
	// Op is "multiply", "average", "maximum", "minimum" or "subtract".
	Op string
}

var mergeClasses = map[string]string{
	"multiply": "Multiply", "average": "Average", "maximum": "Maximum",
	"minimum": "Minimum", "subtract": "Subtract",
}

// Multiply returns keras.layers.Multiply().
func Multiply(opts ...Opt) *ElementwiseMergeLayer { return newMerge("multiply", opts) }

// Average returns keras.layers.Average().
func Average(opts ...Opt) *ElementwiseMergeLayer { return newMerge("average", opts) }

// Maximum returns keras.layers.Maximum().
func Maximum(opts ...Opt) *ElementwiseMergeLayer { return newMerge("maximum", opts) }

// Minimum returns keras.layers.Minimum().
func Minimum(opts ...Opt) *ElementwiseMergeLayer { return newMerge("minimum", opts) }

// Subtract returns keras.layers.Subtract(): inputs[0] - inputs[1].
func Subtract(opts ...Opt) *ElementwiseMergeLayer { return newMerge("subtract", opts) }

func newMerge(op string, opts []Opt) *ElementwiseMergeLayer {
	k := parseOpts(opts)
	l := &ElementwiseMergeLayer{Op: op}
	k.common(&l.LayerBase, l, mergeClasses[op])
	return l
}

// Build implements Layer.
func (l *ElementwiseMergeLayer) Build(in []Shape) (Shape, error) {
	if l.Op == "subtract" && len(in) != 2 {
		return nil, fmt.Errorf("a Subtract layer should be called on exactly 2 inputs, got %d", len(in))
	}
	// Same shape rules as Add.
	var a AddLayer
	return a.Build(in)
}

// Forward implements Layer.
func (l *ElementwiseMergeLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	for _, t := range in[1:] {
		if !slices.Equal(t.Shape, in[0].Shape) {
			return nil, fmt.Errorf("inputs must have the same shape, got %v and %v", in[0].Shape, t.Shape)
		}
	}
	out := in[0].Clone()
	o := out.Data
	for _, t := range in[1:] {
		x := t.Data
		switch l.Op {
		case "multiply":
			for i := range o {
				o[i] *= x[i]
			}
		case "average":
			for i := range o {
				o[i] += x[i]
			}
		case "maximum":
			for i := range o {
				o[i] = max(o[i], x[i])
			}
		case "minimum":
			for i := range o {
				o[i] = min(o[i], x[i])
			}
		case "subtract":
			for i := range o {
				o[i] -= x[i]
			}
		}
	}
	if l.Op == "average" {
		n := float32(len(in))
		for i := range o {
			o[i] /= n
		}
	}
	return out, nil
}
