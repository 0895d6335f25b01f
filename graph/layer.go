package graph

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/kerago/kerago/ops"
)

// Shape is a tensor shape without the batch dimension; -1 stands for an
// unknown size (Keras's None). Keras prints (None, 224, 224, 3) for the
// Shape{224, 224, 3}.
type Shape []int

// String formats the shape as Keras does, batch dimension included.
func (s Shape) String() string { return ops.ShapeString(append([]int{-1}, s...)) }

func (s Shape) clone() Shape { return append(Shape(nil), s...) }

func (s Shape) equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// known reports whether every dimension is known.
func (s Shape) known() bool {
	for _, d := range s {
		if d < 0 {
			return false
		}
	}
	return true
}

// Weight is one variable of a layer, in the order Keras's get_weights()
// returns them. Data is row-major with the Keras layout (a Conv2D kernel is
// (kh, kw, in, out)).
type Weight struct {
	Name      string // Keras variable name without the layer prefix: "kernel", "bias", "gamma", ...
	Shape     []int
	Data      []float32
	Trainable bool
}

// Layer is one Keras layer. Built-in layers live in this package; custom
// layers implement this interface by embedding LayerBase (see LayerBase.Init).
//
// A layer is configured by its constructor, built when it is first called on
// a node (its weights are then created with the right shapes) and run by
// Forward on batch-first tensors.
type Layer interface {
	// Base returns the common state (name, weights, call sites).
	Base() *LayerBase
	// Build checks the input shapes of a call and returns the output shape.
	// It is called for every call of the layer; on the first call it also
	// creates the weights.
	Build(in []Shape) (Shape, error)
	// Forward computes the layer on a batch. It must not modify its inputs
	// nor any layer state, so that a model can predict from many goroutines.
	Forward(in []*ops.Tensor) (*ops.Tensor, error)
}

// LayerBase is the state every layer shares. Embed it in a layer struct and call
// Init from the constructor.
type LayerBase struct {
	self      Layer
	name      string
	class     string
	trainable bool
	built     bool
	weights   []*Weight
	nodes     []*Node // the layer's call sites, in call order (Keras's _inbound_nodes)
	err       error   // a configuration error, reported when the layer is called
}

// Init sets the layer's identity. class is the Keras class name ("Conv2D");
// an empty name gets Keras's automatic name (snake_case of the class plus a
// counter: conv2d, conv2d_1, ...).
func (b *LayerBase) Init(self Layer, class, name string) {
	b.self = self
	b.class = class
	b.trainable = true
	if name == "" {
		name = uniqueName(snakeCase(class), true)
	}
	b.name = name
}

// Name is the layer's name.
func (b *LayerBase) Name() string { return b.name }

// Class is the Keras class name, e.g. "Conv2D".
func (b *LayerBase) Class() string { return b.class }

// Trainable reports whether the layer's weights are trainable.
func (b *LayerBase) Trainable() bool { return b.trainable }

// SetTrainable marks the layer (all its weights) trainable or frozen, like
// setting layer.trainable in Keras.
func (b *LayerBase) SetTrainable(t bool) { b.trainable = t }

// Built reports whether the layer has created its weights.
func (b *LayerBase) Built() bool { return b.built }

// Nodes returns the layer's call sites in call order.
func (b *LayerBase) Nodes() []*Node { return b.nodes }

// Output is the output node of the layer's first call (Keras's layer.output).
func (b *LayerBase) Output() *Node {
	if len(b.nodes) == 0 {
		return nil
	}
	return b.nodes[0]
}

// SetError records a configuration error; it is reported when the layer is
// called, naming the layer.
func (b *LayerBase) SetError(err error) {
	if b.err == nil {
		b.err = err
	}
}

// AddWeight creates a zero-valued weight (used by Build).
func (b *LayerBase) AddWeight(name string, shape []int, trainable bool) *Weight {
	w := &Weight{Name: name, Shape: append([]int(nil), shape...), Data: make([]float32, ops.NumElements(shape)), Trainable: trainable}
	b.weights = append(b.weights, w)
	return w
}

// Weights returns the layer's weights in Keras's get_weights() order
// (empty before the layer is built).
func (b *LayerBase) Weights() []*Weight { return b.weights }

// CountParams returns the number of scalars in the layer's weights.
func (b *LayerBase) CountParams() int {
	n := 0
	for _, w := range b.weights {
		n += len(w.Data)
	}
	return n
}

// SetWeights replaces the values of the layer's weights, in Keras's order,
// checking counts and shapes like Keras's set_weights.
func (b *LayerBase) SetWeights(values [][]float32, shapes [][]int) error {
	if len(values) != len(b.weights) {
		return fmt.Errorf("layer %q (%s): expects %d weights, but the given list has %d", b.name, b.class, len(b.weights), len(values))
	}
	for i, w := range b.weights {
		if shapes != nil && !slices.Equal(shapes[i], w.Shape) {
			return fmt.Errorf("layer %q (%s): weight %d (%s) has shape %v, the given array has shape %v", b.name, b.class, i, w.Name, w.Shape, shapes[i])
		}
		if len(values[i]) != len(w.Data) {
			return fmt.Errorf("layer %q (%s): weight %d (%s) has %d values, the given array has %d", b.name, b.class, i, w.Name, len(w.Data), len(values[i]))
		}
	}
	for i, w := range b.weights {
		copy(w.Data, values[i])
	}
	return nil
}

// Node is the symbolic output of one layer call, like a KerasTensor: it
// knows its shape and how it was computed. Layers are called on nodes to
// build a graph; NewModel turns a set of input and output nodes into a
// runnable model.
//
// A call that fails (a shape mismatch, a bad argument) still returns a node;
// it carries the error, later calls propagate it and NewModel reports it.
type Node struct {
	Layer  Layer
	Inputs []*Node
	Shape  Shape
	Index  int // position of this call among the layer's calls (Keras's node index)
	err    error
}

// Err is the error that made this node (or one it depends on) invalid.
func (n *Node) Err() error { return n.err }

// Call applies a layer to input nodes and returns the output node. The first
// call builds the layer (creates its weights for the input shape).
func Call(l Layer, in ...*Node) *Node {
	b := l.Base()
	out := &Node{Layer: l, Inputs: in}
	for _, x := range in {
		if x == nil {
			out.err = fmt.Errorf("layer %q (%s): called on a nil node", b.name, b.class)
			return out
		}
		if x.err != nil {
			out.err = x.err
			return out
		}
	}
	if b.err != nil {
		out.err = fmt.Errorf("layer %q (%s): %w", b.name, b.class, b.err)
		return out
	}
	shapes := make([]Shape, len(in))
	for i, x := range in {
		shapes[i] = x.Shape
	}
	s, err := l.Build(shapes)
	if err != nil {
		out.err = fmt.Errorf("layer %q (%s) on input shape %s: %w", b.name, b.class, shapesString(shapes), err)
		return out
	}
	b.built = true
	out.Shape = s
	out.Index = len(b.nodes)
	b.nodes = append(b.nodes, out)
	return out
}

func shapesString(s []Shape) string {
	if len(s) == 1 {
		return s[0].String()
	}
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// Automatic names, as Keras's backend.unique_object_name: a process-wide
// counter per prefix. ResetNames is Keras's clear_session for names.
var (
	namesMu sync.Mutex
	names   = map[string]int{}
)

func uniqueName(prefix string, zeroBased bool) string {
	namesMu.Lock()
	defer namesMu.Unlock()
	n := names[prefix]
	names[prefix] = n + 1
	if zeroBased {
		if n == 0 {
			return prefix
		}
		return fmt.Sprintf("%s_%d", prefix, n)
	}
	return fmt.Sprintf("%s_%d", prefix, n+1)
}

// ResetNames restarts the automatic layer names (conv2d, conv2d_1, ...), as
// tf.keras.backend.clear_session() does.
func ResetNames() {
	namesMu.Lock()
	names = map[string]int{}
	namesMu.Unlock()
}

var (
	snake1 = regexp.MustCompile(`(.)([A-Z][a-z0-9]+)`)
	snake2 = regexp.MustCompile(`([a-z])([A-Z])`)
)

// snakeCase converts a class name to Keras's snake case: Conv2D -> conv2d,
// MaxPooling2D -> max_pooling2d, BatchNormalization -> batch_normalization.
func snakeCase(s string) string {
	s = snake1.ReplaceAllString(s, "${1}_${2}")
	s = snake2.ReplaceAllString(s, "${1}_${2}")
	s = strings.ToLower(s)
	if strings.HasPrefix(s, "_") {
		return "private" + s
	}
	return s
}

// Base returns b itself; it makes every struct embedding LayerBase satisfy
// the first method of Layer.
func (b *LayerBase) Base() *LayerBase { return b }
