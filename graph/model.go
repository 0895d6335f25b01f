package graph

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"unsafe"

	"github.com/kerago/kerago/ops"
)

// InputLayer is the layer behind Input: it has no weights and passes its
// tensor through. Keras names it input_1, input_2, ...
type InputLayer struct {
	LayerBase
	BatchShape Shape // without the batch dimension
}

// Input creates a graph input of the given shape (batch dimension excluded;
// -1 for an unknown size), like keras.Input(shape=...).
func Input(shape ...int) *Node { return InputNamed("", shape...) }

// InputNamed is Input with an explicit layer name.
func InputNamed(name string, shape ...int) *Node {
	l := &InputLayer{BatchShape: Shape(shape).clone()}
	if name == "" {
		name = uniqueName("input", false)
	}
	l.Init(l, "InputLayer", name)
	for _, d := range shape {
		if d == 0 || d < -1 {
			l.SetError(fmt.Errorf("bad input shape %v (dimensions must be positive or -1 for None)", shape))
		}
	}
	if l.err != nil {
		return &Node{Layer: l, err: fmt.Errorf("input %q: %w", name, l.err)}
	}
	n := &Node{Layer: l, Shape: l.BatchShape.clone()}
	l.nodes = append(l.nodes, n)
	l.built = true
	return n
}

// Build implements Layer; an InputLayer is never called on other nodes.
func (l *InputLayer) Build(in []Shape) (Shape, error) {
	return nil, errors.New("an InputLayer cannot be called on a node")
}

// Forward implements Layer.
func (l *InputLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) { return in[0], nil }

// Model is a directed acyclic graph of layer calls from input nodes to output
// nodes: Keras's functional Model. A Model is itself a Layer, so it can be
// called on nodes inside a bigger model.
type Model struct {
	LayerBase
	inputs, outputs []*Node
	layers          []Layer // Keras's model.layers order
	order           []*Node // every node of the graph, dependencies first
	depth           map[*Node]int
	sequential      bool // made by Sequential: summary() omits the InputLayer row
	arenas          arenaList
}

// NewModel builds a model from input and output nodes, like
// keras.Model(inputs, outputs). Every output must be computable from the
// inputs; the first error recorded in any node is returned.
func NewModel(inputs, outputs []*Node, name string) (*Model, error) {
	if len(inputs) == 0 || len(outputs) == 0 {
		return nil, errors.New("model needs at least one input and one output")
	}
	for _, n := range append(append([]*Node(nil), inputs...), outputs...) {
		if n == nil {
			return nil, errors.New("model: nil input or output node")
		}
		if n.err != nil {
			return nil, n.err
		}
	}
	for i, in := range inputs {
		if _, ok := in.Layer.(*InputLayer); !ok {
			return nil, fmt.Errorf("model input %d is the output of layer %q (%s), not an Input", i, in.Layer.Base().name, in.Layer.Base().class)
		}
	}
	m := &Model{inputs: inputs, outputs: outputs, depth: map[*Node]int{}}
	if name == "" {
		name = uniqueName("model", true)
	}
	m.Init(m, "Functional", name)
	if err := m.mapGraph(); err != nil {
		return nil, fmt.Errorf("model %q: %w", name, err)
	}
	m.built = true
	// The model's own call site, linking its inputs to its outputs, as Keras
	// records it (node 0 of a Functional model).
	m.LayerBase.nodes = append(m.LayerBase.nodes, &Node{Layer: m, Inputs: inputs, Shape: outputs[0].Shape})
	return m, nil
}

// mapGraph orders the graph as Keras's _map_graph_network does: a post-order
// walk from the outputs gives an execution order and the order in which
// layers are discovered; node depths (distance from the outputs) then order
// model.layers by decreasing depth, ties by discovery order.
func (m *Model) mapGraph() error {
	inputSet := map[*Node]bool{}
	for _, n := range m.inputs {
		inputSet[n] = true
	}
	finished := map[*Node]bool{}
	inProgress := map[*Node]bool{}
	layerIndex := map[Layer]int{}
	var order []*Node
	var visit func(n *Node) error
	visit = func(n *Node) error {
		if finished[n] {
			return nil
		}
		if inProgress[n] {
			return fmt.Errorf("layer %q is part of a cycle", n.Layer.Base().name)
		}
		if _, ok := layerIndex[n.Layer]; !ok {
			layerIndex[n.Layer] = len(layerIndex)
		}
		inProgress[n] = true
		if !inputSet[n] {
			if _, isInput := n.Layer.(*InputLayer); isInput {
				return fmt.Errorf("output depends on input %q, which is not among the model's inputs", n.Layer.Base().name)
			}
			for _, p := range n.Inputs {
				if err := visit(p); err != nil {
					return err
				}
			}
		}
		delete(inProgress, n)
		finished[n] = true
		order = append(order, n)
		return nil
	}
	for _, o := range m.outputs {
		if err := visit(o); err != nil {
			return err
		}
	}
	layerDepth := map[Layer]int{}
	for i := len(order) - 1; i >= 0; i-- {
		n := order[i]
		d := m.depth[n]
		if ld, ok := layerDepth[n.Layer]; ok && ld > d {
			d = ld
		}
		layerDepth[n.Layer] = d
		m.depth[n] = d
		if !inputSet[n] {
			for _, p := range n.Inputs {
				if m.depth[p] < d+1 {
					m.depth[p] = d + 1
				}
			}
		}
	}
	for _, in := range m.inputs {
		if _, ok := layerDepth[in.Layer]; !ok {
			layerDepth[in.Layer] = 0
			layerIndex[in.Layer] = -1
			m.depth[in] = 0
			order = append([]*Node{in}, order...)
		}
	}
	layers := make([]Layer, 0, len(layerDepth))
	for l := range layerDepth {
		layers = append(layers, l)
	}
	sort.Slice(layers, func(i, j int) bool {
		di, dj := layerDepth[layers[i]], layerDepth[layers[j]]
		if di != dj {
			return di > dj
		}
		return layerIndex[layers[i]] < layerIndex[layers[j]]
	})
	seen := map[string]Layer{}
	for _, l := range layers {
		name := l.Base().name
		if o, dup := seen[name]; dup && o != l {
			return fmt.Errorf("the name %q is used 2 times in the model; all layer names should be unique", name)
		}
		seen[name] = l
	}
	m.layers = layers
	m.order = order
	return nil
}

// Sequential stacks layers on an input of the given shape, like
// keras.Sequential([keras.Input(shape), layers...]). Its summary, as in
// Keras, does not list the InputLayer.
func Sequential(name string, inputShape []int, layers ...Layer) (*Model, error) {
	x := Input(inputShape...)
	in := x
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

// Inputs returns the model's input nodes.
func (m *Model) Inputs() []*Node { return m.inputs }

// Outputs returns the model's output nodes.
func (m *Model) Outputs() []*Node { return m.outputs }

// Layers returns the layers in Keras's model.layers order (a Functional
// model's InputLayers included; a Sequential model's InputLayer excluded).
func (m *Model) Layers() []Layer {
	if m.sequential {
		var out []Layer
		for _, l := range m.layers {
			if _, ok := l.(*InputLayer); !ok {
				out = append(out, l)
			}
		}
		return out
	}
	return m.layers
}

// Layer returns the layer with the given name, or nil.
func (m *Model) Layer(name string) Layer {
	for _, l := range m.layers {
		if l.Base().name == name {
			return l
		}
	}
	return nil
}

// IsSequential reports whether the model was made by Sequential.
func (m *Model) IsSequential() bool { return m.sequential }

// Weights returns all weights of the model, each once, in layer order
// (Keras's model.weights).
func (m *Model) Weights() []*Weight {
	seen := map[*Weight]bool{}
	var out []*Weight
	for _, l := range m.layers {
		for _, w := range allWeights(l) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

func allWeights(l Layer) []*Weight {
	if sub, ok := l.(*Model); ok {
		return sub.Weights()
	}
	return l.Base().weights
}

// CountParams returns the total number of scalars in the model's weights.
func (m *Model) CountParams() int {
	trainable, frozen := m.ParamCounts()
	return trainable + frozen
}

// ParamCounts returns the trainable and non-trainable parameter counts, as
// summary() prints them. A weight is trainable when it is marked trainable
// and its layer (and every model containing it) is trainable.
func (m *Model) ParamCounts() (trainable, nonTrainable int) {
	seen := map[*Weight]bool{}
	var walk func(m *Model, on bool)
	walk = func(m *Model, on bool) {
		on = on && m.trainable
		for _, l := range m.layers {
			if sub, ok := l.(*Model); ok {
				walk(sub, on)
				continue
			}
			for _, w := range l.Base().weights {
				if seen[w] {
					continue
				}
				seen[w] = true
				if on && l.Base().trainable && w.Trainable {
					trainable += len(w.Data)
				} else {
					nonTrainable += len(w.Data)
				}
			}
		}
	}
	walk(m, true)
	return trainable, nonTrainable
}

// Build implements Layer: a model called on nodes checks the input shapes
// against its own inputs. Only single-output models can be used as layers.
func (m *Model) Build(in []Shape) (Shape, error) {
	if len(in) != len(m.inputs) {
		return nil, fmt.Errorf("model expects %d inputs, got %d", len(m.inputs), len(in))
	}
	if len(m.outputs) != 1 {
		return nil, fmt.Errorf("a model with %d outputs cannot be used as a layer", len(m.outputs))
	}
	for i, s := range in {
		if err := compatible(m.inputs[i].Shape, s); err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
	}
	return m.outputs[0].Shape.clone(), nil
}

// compatible checks that a concrete shape fits a declared one (-1 matches
// anything).
func compatible(want, got Shape) error {
	if len(want) != len(got) {
		return fmt.Errorf("expected shape %s, found %s", want, got)
	}
	for i := range want {
		if want[i] >= 0 && got[i] >= 0 && want[i] != got[i] {
			return fmt.Errorf("expected shape %s, found %s", want, got)
		}
	}
	return nil
}

// Forward implements Layer for a single-output model.
func (m *Model) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out, err := m.Predict(in...)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Predict runs the model on a batch: one batch-first tensor per input (the
// first dimension is the batch size, the rest must match the input's shape).
// It returns one tensor per output. It is safe to call from several
// goroutines at once.
func (m *Model) Predict(inputs ...*ops.Tensor) ([]*ops.Tensor, error) {
	vals, err := m.run(inputs, nil)
	if err != nil {
		return nil, err
	}
	out := make([]*ops.Tensor, len(m.outputs))
	for i, o := range m.outputs {
		out[i] = vals[o]
	}
	return out, nil
}

// Activations runs the model and returns the output of every node whose
// layer name is in names (all layers when names is empty), keyed by layer
// name; for a shared layer the first call's output is returned.
func (m *Model) Activations(inputs []*ops.Tensor, names ...string) (map[string]*ops.Tensor, error) {
	want := map[string]bool{}
	for _, n := range names {
		if m.Layer(n) == nil {
			return nil, fmt.Errorf("model %q has no layer %q", m.name, n)
		}
		want[n] = true
	}
	got := map[string]*ops.Tensor{}
	_, err := m.run(inputs, func(n *Node, t *ops.Tensor) {
		name := n.Layer.Base().name
		if len(want) > 0 && !want[name] {
			return
		}
		if _, ok := got[name]; !ok {
			got[name] = t
		}
	})
	return got, err
}

// Trace runs the model like Predict and calls visit with every node of the
// graph and its value (inputs included), in execution order. The tensors
// must not be modified.
func (m *Model) Trace(inputs []*ops.Tensor, visit func(n *Node, t *ops.Tensor)) ([]*ops.Tensor, error) {
	vals, err := m.run(inputs, visit)
	if err != nil {
		return nil, err
	}
	out := make([]*ops.Tensor, len(m.outputs))
	for i, o := range m.outputs {
		out[i] = vals[o]
	}
	return out, nil
}

// GraphNodes returns the nodes of the model's graph (one per layer call,
// inputs included) in execution order.
func (m *Model) GraphNodes() []*Node { return m.order }

func (m *Model) run(inputs []*ops.Tensor, visit func(*Node, *ops.Tensor)) (map[*Node]*ops.Tensor, error) {
	if len(inputs) != len(m.inputs) {
		return nil, fmt.Errorf("model %q expects %d inputs, got %d", m.name, len(m.inputs), len(inputs))
	}
	vals := make(map[*Node]*ops.Tensor, len(m.order))
	batch := -1
	for i, t := range inputs {
		if t == nil || len(t.Shape) == 0 {
			return nil, fmt.Errorf("model %q: input %d is empty", m.name, i)
		}
		if err := compatible(m.inputs[i].Shape, Shape(t.Shape[1:])); err != nil {
			return nil, fmt.Errorf("model %q: input %d (%q) of shape %v: %w", m.name, i, m.inputs[i].Layer.Base().name, t.Shape, err)
		}
		if ops.NumElements(t.Shape) != len(t.Data) {
			return nil, fmt.Errorf("model %q: input %d has shape %v but %d values", m.name, i, t.Shape, len(t.Data))
		}
		if batch >= 0 && t.Shape[0] != batch {
			return nil, fmt.Errorf("model %q: inputs have different batch sizes (%d and %d)", m.name, batch, t.Shape[0])
		}
		batch = t.Shape[0]
		vals[m.inputs[i]] = t
	}
	// remaining counts how many consumers still need each node's value, so
	// intermediate tensors can be dropped as soon as possible.
	remaining := map[*Node]int{}
	for _, n := range m.order {
		if vals[n] != nil {
			continue
		}
		for _, p := range n.Inputs {
			remaining[p]++
		}
	}
	keep := map[*Node]bool{}
	for _, o := range m.outputs {
		keep[o] = true
	}
	// Intermediate values are dropped (and their buffers reused) only when
	// nobody watches them.
	var ar *arena
	if visit == nil {
		ar = m.getArena()
		defer m.putArena(ar)
	}
	for _, n := range m.order {
		if visit != nil && vals[n] != nil {
			visit(n, vals[n])
		}
		if vals[n] != nil {
			continue
		}
		args := make([]*ops.Tensor, len(n.Inputs))
		for i, p := range n.Inputs {
			args[i] = vals[p]
			if args[i] == nil {
				return nil, fmt.Errorf("model %q: layer %q has no value for its input %d", m.name, n.Layer.Base().name, i)
			}
		}
		// Outputs go to the caller: they get buffers of their own size, not
		// the arena's (whose best fit may be a far larger buffer).
		nar := ar
		if keep[n] {
			nar = nil
		}
		out, err := forward(n.Layer, args, nar)
		if err != nil {
			return nil, fmt.Errorf("layer %q (%s): %w", n.Layer.Base().name, n.Layer.Base().class, err)
		}
		vals[n] = out
		if visit != nil {
			visit(n, out)
		}
		if visit == nil {
			for _, p := range n.Inputs {
				remaining[p]--
				if remaining[p] == 0 && !keep[p] {
					t := vals[p]
					delete(vals, p)
					ar.release(t, vals)
				}
			}
		}
	}
	return vals, nil
}

// forward runs one layer, turning a panic inside it (a bug, or a custom
// layer's) into an error so that a service never crashes on one request.
// Layers that can take their output buffer from the arena do so when ar is
// not nil.
func forward(l Layer, args []*ops.Tensor, ar *arena) (out *ops.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	if bl, ok := l.(bufferedLayer); ok && ar != nil {
		return bl.forwardBuffered(args, ar)
	}
	return l.Forward(args)
}

// bufferedLayer is implemented by layers whose output tensor can come from
// a Predict call's arena: Conv2D, whose outputs dominate a CNN's
// intermediate memory, Dense and the 2-D poolings. forwardBuffered must behave as Forward, taking its
// output from a.tensor (a fresh tensor when a is nil) and writing all of it.
type bufferedLayer interface {
	forwardBuffered(in []*ops.Tensor, a *arena) (*ops.Tensor, error)
}

// arena recycles the buffers of intermediate tensors: once a value has no
// consumers left and no live value shares its memory (Flatten and Reshape
// return views), its buffer serves a later layer of the same call or of a
// later call. Each Predict call takes its own arena from the model's list,
// so concurrent calls never share buffers; buffers of the returned outputs
// are handed over to the caller and never reused. The arenas are kept with
// the model (at most GOMAXPROCS idle ones, each keeping the buffers its
// last call used), so their buffers live as long as the model does. In steady
// state a Predict thus allocates no new buffers for the buffered layers,
// which keeps the Go heap (and the process's peak RSS) near the weights
// plus one pass's live activations, instead of letting garbage grow with
// GOGC.
type arena struct {
	free  [][]float32 // released buffers, at full capacity
	inUse [][]float32 // buffers handed out in the current call
	// used holds the start address of every buffer handed out in the
	// current call: the call's working set, which is what putArena keeps.
	used map[uintptr]bool
}

// arenaList keeps a model's idle arenas, at most GOMAXPROCS of them (the
// number of calls that run at once in steady state). A sync.Pool would lose
// them at every other garbage collection, and keeps an arena released on
// one processor from a call running on another, so their tens of MiB would
// be allocated again.
type arenaList struct {
	mu   sync.Mutex
	idle []*arena
}

func (m *Model) getArena() *arena {
	l := &m.arenas
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.idle); n > 0 {
		a := l.idle[n-1]
		l.idle[n-1] = nil
		l.idle = l.idle[:n-1]
		return a
	}
	return &arena{}
}

// putArena keeps a for later calls once a call is over. Buffers still in
// use then belong to the caller (outputs) or are garbage. Of the free
// buffers, a keeps those the call used (its working set: in steady state,
// with inputs of one size, a call then allocates nothing but its outputs)
// and drops the others (left from calls on other input sizes, they would
// otherwise pile up).
func (m *Model) putArena(a *arena) {
	clear(a.inUse)
	a.inUse = a.inUse[:0]
	keep := a.free[:0]
	for _, b := range a.free {
		if lo, _ := span(b); a.used[lo] {
			keep = append(keep, b)
		}
	}
	clear(a.free[len(keep):])
	a.free = keep
	clear(a.used)
	l := &m.arenas
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.idle) < runtime.GOMAXPROCS(0) {
		l.idle = append(l.idle, a)
	}
}

// tensor returns a tensor of the given shape whose contents are arbitrary:
// the smallest free buffer that is large enough, or a new one. A nil arena
// returns ops.New(shape...).
func (a *arena) tensor(shape ...int) *ops.Tensor {
	if a == nil {
		return ops.New(shape...)
	}
	n := ops.NumElements(shape)
	best := -1
	for i, b := range a.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(a.free[best])) {
			best = i
		}
	}
	var buf []float32
	if best >= 0 {
		buf = a.free[best]
		a.free = append(a.free[:best], a.free[best+1:]...)
	} else {
		buf = make([]float32, n)
	}
	a.inUse = append(a.inUse, buf[:cap(buf)])
	if a.used == nil {
		a.used = map[uintptr]bool{}
	}
	lo, _ := span(buf)
	a.used[lo] = true
	return &ops.Tensor{Shape: append([]int(nil), shape...), Data: buf[:n]}
}

// release makes the buffer holding t's values free again, unless a value
// in live still uses part of it or the arena did not hand it out.
func (a *arena) release(t *ops.Tensor, live map[*Node]*ops.Tensor) {
	if a == nil || t == nil || cap(t.Data) == 0 {
		return
	}
	lo, _ := span(t.Data)
	for i, b := range a.inUse {
		blo, bhi := span(b)
		if lo < blo || lo >= bhi {
			continue
		}
		for _, v := range live {
			if vlo, vhi := span(v.Data); vlo < bhi && blo < vhi && vhi > vlo {
				return
			}
		}
		a.free = append(a.free, b)
		a.inUse = append(a.inUse[:i], a.inUse[i+1:]...)
		return
	}
}

// span returns the address range [lo, hi) of s's backing array from s[0]
// to its capacity.
func span(s []float32) (lo, hi uintptr) {
	if cap(s) == 0 {
		return 0, 0
	}
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return lo, lo + uintptr(cap(s))*unsafe.Sizeof(float32(0))
}

// SubModel returns a model from this model's inputs to the outputs of the
// named layers: Keras's Model(inputs=model.input, outputs=layer.output). It
// shares layers and weights with m.
func (m *Model) SubModel(name string, layerNames ...string) (*Model, error) {
	if len(layerNames) == 0 {
		return nil, errors.New("SubModel needs at least one layer name")
	}
	var outs []*Node
	for _, ln := range layerNames {
		l := m.Layer(ln)
		if l == nil {
			return nil, fmt.Errorf("model %q has no layer %q", m.name, ln)
		}
		var found *Node
		for _, n := range m.order {
			if n.Layer == l {
				found = n
				break
			}
		}
		if found == nil {
			return nil, fmt.Errorf("layer %q is not part of model %q's graph", ln, m.name)
		}
		outs = append(outs, found)
	}
	return NewModel(m.inputs, outs, name)
}
