package keras

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/kerago/kerago/graph"
)

// DefaultMaxParamBytes is the default parameter budget of the loaders: a
// model config whose weights would need more float32 bytes is refused
// before they are allocated (LoadOptions.MaxParamBytes raises it).
const DefaultMaxParamBytes = 4e9

// maxElements bounds the per-sample size of any tensor in a loaded model
// (2^40 values), so shapes from a hostile config cannot overflow.
const maxElements = 1 << 40

// maxNesting bounds how deeply models may be nested in a config.
const maxNesting = 32

// tensor is a Keras tensor of the model being built: a graph node and
// whether it holds a Keras channels_first (NCHW) tensor stored transposed
// as NHWC (see the package documentation).
type tensor struct {
	node *graph.Node
	cf   bool
}

// loadedModel is a model built from a config, with what weight loading
// needs to know about it.
type loadedModel struct {
	model *graph.Model
	// kerasLayers are the layers of the Keras model in Keras's model.layers
	// order (the config order), without inserted conversion layers; for a
	// Sequential model without its InputLayer.
	kerasLayers []graph.Layer
	// classes are the config class names of kerasLayers.
	classes []string
	// nested maps nested model layers to their loadedModel.
	nested map[graph.Layer]*loadedModel
	// nhwc lists the layers whose output node holds a transposed
	// channels_first tensor.
	nhwc map[string]bool
	// sequential is true for Keras Sequential models.
	sequential bool
}

// builder builds graph models from Keras configs.
type builder struct {
	keras1, keras3 bool
	maxParams      float64 // parameter budget (count, not bytes)
	params         float64 // parameters allocated so far
	// fileValues, when not negative, is the number of weight values the
	// weights file stores (legacyFile.values, storeValues); minParams
	// counts the values the layers built so far need at least (their
	// kernels). A config that needs more than its file stores cannot load,
	// and is refused before its weights are allocated.
	fileValues float64
	minParams  float64
	hints      map[graph.Layer]layerHint
	auto       map[graph.Layer]bool
	depth      int
	notes      []string
}

func newBuilder(maxParamBytes int64) *builder {
	if maxParamBytes <= 0 {
		maxParamBytes = DefaultMaxParamBytes
	}
	return &builder{maxParams: float64(maxParamBytes) / 4, fileValues: -1, hints: map[graph.Layer]layerHint{}, auto: map[graph.Layer]bool{}}
}

// layerEntry is one element of a config's "layers" list.
type layerEntry struct {
	class   string
	name    string
	c       cfg
	inbound []any // raw inbound_nodes
	raw     map[string]any
}

func parseLayerEntry(v any, where string, i int) (*layerEntry, error) {
	top, err := newCfg(v, fmt.Sprintf("%s: layer %d", where, i))
	if err != nil {
		return nil, err
	}
	class, err := top.str("class_name", "")
	if err != nil {
		return nil, err
	}
	if class == "" {
		return nil, top.errorf("class_name", "missing")
	}
	inner, err := top.object("config")
	if err != nil {
		return nil, err
	}
	if inner == nil {
		// Keras 1 Sequential entries of nested Sequential models keep
		// their layers in "config" as a list.
		if _, isList := top.get("config").([]any); !isList {
			inner = map[string]any{}
		}
	}
	name, err := top.str("name", "")
	if err != nil {
		return nil, err
	}
	if name == "" && inner != nil {
		if s, ok := inner["name"].(string); ok {
			name = s
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%s: layer %d (%s) has no name", where, i, class)
	}
	e := &layerEntry{class: class, name: name, raw: top.m}
	e.c = cfg{m: inner, where: fmt.Sprintf("layer %q (%s)", name, class)}
	if inner == nil {
		e.c.m = map[string]any{"layers": top.get("config")}
	}
	if in, ok := top.m["inbound_nodes"]; ok && in != nil {
		l, ok := in.([]any)
		if !ok {
			return nil, fmt.Errorf("layer %q: inbound_nodes must be a list, got %s", name, jsonKind(in))
		}
		e.inbound = l
	}
	return e, nil
}

// isModelClass reports whether a class name is a model (nested model used
// as a layer).
func isModelClass(class string) bool {
	return class == "Sequential" || class == "Model" || class == "Functional"
}

// buildModel builds a model from its top-level class name and config.
func (b *builder) buildModel(class string, c cfg, name string) (*loadedModel, error) {
	b.depth++
	defer func() { b.depth-- }()
	if b.depth > maxNesting {
		return nil, fmt.Errorf("models are nested more than %d levels deep", maxNesting)
	}
	switch class {
	case "Sequential":
		return b.buildSequential(c, name)
	case "Model", "Functional":
		return b.buildFunctional(c, name)
	}
	return nil, fmt.Errorf("model class %q is not supported (Sequential, Model or Functional); a subclassed Keras model has no config that could be loaded", class)
}

// inputShapeOf returns the shape (without batch) declared by a layer config:
// batch_input_shape (Keras 1/2), batch_shape (Keras 3), input_shape, or
// Keras 1's input_dim. ok is false if none is present.
func inputShapeOf(c cfg) (shape []int, ok bool, err error) {
	switch {
	case c.has("batch_input_shape"):
		s, err := c.shape("batch_input_shape", true)
		return s, true, err
	case c.has("batch_shape"):
		s, err := c.shape("batch_shape", true)
		return s, true, err
	case c.has("input_shape"):
		s, err := c.shape("input_shape", false)
		return s, true, err
	case c.has("input_dim"):
		n, err := c.integer("input_dim", 0, 1)
		return []int{n}, true, err
	}
	return nil, false, nil
}

func (b *builder) buildSequential(c cfg, name string) (*loadedModel, error) {
	var layersV []any
	var buildShape []int
	switch t := c.get("layers").(type) {
	case []any:
		layersV = t
	default:
		return nil, fmt.Errorf("Sequential model %q: config has no layers list", name)
	}
	if s, ok := c.m["name"].(string); ok && s != "" {
		name = s
	}
	where := fmt.Sprintf("model %q", name)
	if c.has("build_input_shape") {
		s, err := c.shape("build_input_shape", true)
		if err == nil {
			buildShape = s
		}
	}
	entries := make([]*layerEntry, 0, len(layersV))
	names := map[string]bool{}
	for i, v := range layersV {
		e, err := parseLayerEntry(v, where, i)
		if err != nil {
			return nil, err
		}
		if names[e.name] {
			return nil, fmt.Errorf("%s: the name %q is used by 2 layers; all layer names should be unique", where, e.name)
		}
		names[e.name] = true
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: Sequential model has no layers", where)
	}
	// The input: an explicit InputLayer, the first layer's declared input
	// shape, the first nested model's input, or build_input_shape.
	inputName := entries[0].name + "_input"
	var shape []int
	found := false
	if entries[0].class == "InputLayer" {
		s, ok, err := inputShapeOf(entries[0].c)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("layer %q (InputLayer): no batch_input_shape or batch_shape", entries[0].name)
		}
		shape, found, inputName = s, true, entries[0].name
		entries = entries[1:]
	} else {
		s, ok, err := inputShapeOf(entries[0].c)
		if err != nil {
			return nil, err
		}
		shape, found = s, ok
	}
	lm := &loadedModel{nested: map[graph.Layer]*loadedModel{}, nhwc: map[string]bool{}, sequential: true}
	var built []*builtLayer
	for _, e := range entries {
		if e.class == "InputLayer" {
			return nil, fmt.Errorf("%s: layer %q: an InputLayer can only be the first layer of a Sequential model", where, e.name)
		}
		bl, err := b.makeLayer(e)
		if err != nil {
			return nil, err
		}
		if bl.model != nil {
			lm.nested[bl.layer] = bl.model
			if !found {
				in := bl.model.model.Inputs()
				if len(in) != 1 {
					return nil, fmt.Errorf("%s: nested model %q has %d inputs", where, e.name, len(in))
				}
				shape, found = []int(in[0].Shape), true
			}
		}
		built = append(built, bl)
		lm.kerasLayers = append(lm.kerasLayers, bl.layer)
		lm.classes = append(lm.classes, e.class)
	}
	if !found {
		if buildShape == nil {
			return nil, fmt.Errorf("%s: %w (no InputLayer, batch_input_shape or build_input_shape); the model was saved before it was built", where, errNoInputShape)
		}
		shape = buildShape
	}
	if err := checkShape(shape); err != nil {
		return nil, fmt.Errorf("%s: input shape: %w", where, err)
	}
	in := graph.InputNamed(inputName, shape...)
	if err := in.Err(); err != nil {
		return nil, err
	}
	names[inputName] = true
	st := &callState{b: b, used: names, first: map[graph.Layer]*bool{}}
	x := tensor{node: in}
	for i, bl := range built {
		out, err := st.call(bl, []tensor{x})
		if err != nil {
			return nil, err
		}
		if out.cf {
			lm.nhwc[entries[i].name] = true
		}
		x = out
	}
	x, err := st.convert(x, false)
	if err != nil {
		return nil, err
	}
	m, err := graph.NewModel([]*graph.Node{in}, []*graph.Node{x.node}, name)
	if err != nil {
		return nil, err
	}
	if err := graph.MarkSequential(m); err != nil {
		return nil, err
	}
	lm.model = m
	return lm, nil
}

// ref is a reference to a Keras tensor: the output tensorIndex of call
// nodeIndex of layer.
type ref struct {
	layer       string
	node, index int
	// list marks the list syntax of Keras 1, 2 and tf.keras, in which the
	// calls of a nested model are counted from 1: Keras's get_config
	// reserves index 0 for the node that links the nested model's own
	// inputs to its outputs (kept_nodes = 1 for Network/Functional
	// layers). Keras 3's __keras_tensor__ histories count from 0.
	list bool
}

func (r ref) String() string { return fmt.Sprintf("[%q, %d, %d]", r.layer, r.node, r.index) }

// parseRef reads [name, node, tensor(, kwargs)] or a Keras 3
// __keras_tensor__ object.
func parseRef(v any, where string) (ref, error) {
	list := true
	if m, ok := v.(map[string]any); ok {
		list = false
		if cn, _ := m["class_name"].(string); cn != "__keras_tensor__" {
			return ref{}, fmt.Errorf("%s: an input is %s, not a Keras tensor", where, jsonKind(v))
		}
		c, _ := m["config"].(map[string]any)
		if c == nil {
			return ref{}, fmt.Errorf("%s: __keras_tensor__ without config", where)
		}
		v = c["keras_history"]
	}
	l, ok := v.([]any)
	if !ok || len(l) < 3 || len(l) > 4 {
		return ref{}, fmt.Errorf("%s: want [layer, node, tensor], got %s", where, jsonKind(v))
	}
	name, ok := l[0].(string)
	if !ok {
		return ref{}, fmt.Errorf("%s: layer name is %s", where, jsonKind(l[0]))
	}
	node, err := toInt(l[1], 0)
	if err != nil {
		return ref{}, fmt.Errorf("%s: node index: %v", where, err)
	}
	idx, err := toInt(l[2], 0)
	if err != nil {
		return ref{}, fmt.Errorf("%s: tensor index: %v", where, err)
	}
	return ref{layer: name, node: node, index: idx, list: list}, nil
}

// parseCalls turns a layer's inbound_nodes into one list of input refs per
// call, for the three syntaxes: Keras 1 [[name, node, tensor], ...], Keras 2
// [[name, node, tensor, kwargs], ...], Keras 3 {"args": [...], "kwargs": {}}.
func parseCalls(e *layerEntry) ([][]ref, error) {
	where := fmt.Sprintf("layer %q: inbound_nodes", e.name)
	var calls [][]ref
	for i, n := range e.inbound {
		w := fmt.Sprintf("%s[%d]", where, i)
		var refs []ref
		switch t := n.(type) {
		case map[string]any:
			args, _ := t["args"].([]any)
			if args == nil {
				return nil, fmt.Errorf("%s: no args", w)
			}
			if err := collectTensors(args, w, &refs); err != nil {
				return nil, err
			}
			if kw, ok := t["kwargs"].(map[string]any); ok {
				var kwRefs []ref
				if err := collectTensors(kw, w, &kwRefs); err != nil {
					return nil, err
				}
				if len(kwRefs) > 0 {
					return nil, fmt.Errorf("%s: tensors passed as keyword arguments (%s) are not supported", w, strings.Join(sortedKeys(kw), ", "))
				}
			}
		case []any:
			for j, r := range t {
				rr, err := parseRef(r, fmt.Sprintf("%s[%d]", w, j))
				if err != nil {
					return nil, err
				}
				refs = append(refs, rr)
			}
		default:
			return nil, fmt.Errorf("%s: want a list or an object, got %s", w, jsonKind(n))
		}
		if len(refs) == 0 {
			return nil, fmt.Errorf("%s: the call has no input tensors", w)
		}
		calls = append(calls, refs)
	}
	return calls, nil
}

// collectTensors finds the __keras_tensor__ objects in Keras 3 call
// arguments, in order.
func collectTensors(v any, where string, out *[]ref) error {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := collectTensors(e, where, out); err != nil {
				return err
			}
		}
	case map[string]any:
		if cn, _ := t["class_name"].(string); cn == "__keras_tensor__" {
			r, err := parseRef(t, where)
			if err != nil {
				return err
			}
			*out = append(*out, r)
			return nil
		}
		for _, k := range sortedKeys(t) {
			if err := collectTensors(t[k], where, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseIOList reads input_layers / output_layers: [[name, node, tensor], ...]
// or, in Keras 3 single-tensor models, [name, node, tensor].
func parseIOList(c cfg, key string) ([]ref, error) {
	v := c.get(key)
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return nil, c.errorf(key, "want a non-empty list, got %s", jsonKind(v))
	}
	if _, isName := l[0].(string); isName {
		r, err := parseRef(l, c.where+": "+key)
		return []ref{r}, err
	}
	out := make([]ref, len(l))
	for i, e := range l {
		r, err := parseRef(e, fmt.Sprintf("%s: %s[%d]", c.where, key, i))
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func (b *builder) buildFunctional(c cfg, name string) (*loadedModel, error) {
	if s, ok := c.m["name"].(string); ok && s != "" {
		name = s
	}
	where := fmt.Sprintf("model %q", name)
	c.where = where
	layersV, err := c.list("layers")
	if err != nil {
		return nil, err
	}
	if len(layersV) == 0 {
		return nil, fmt.Errorf("%s: config has no layers", where)
	}
	entries := make([]*layerEntry, 0, len(layersV))
	byName := map[string]*layerEntry{}
	for i, v := range layersV {
		e, err := parseLayerEntry(v, where, i)
		if err != nil {
			return nil, err
		}
		if byName[e.name] != nil {
			return nil, fmt.Errorf("%s: the name %q is used by 2 layers; all layer names should be unique", where, e.name)
		}
		byName[e.name] = e
		entries = append(entries, e)
	}
	inRefs, err := parseIOList(c, "input_layers")
	if err != nil {
		return nil, err
	}
	outRefs, err := parseIOList(c, "output_layers")
	if err != nil {
		return nil, err
	}

	lm := &loadedModel{nested: map[graph.Layer]*loadedModel{}, nhwc: map[string]bool{}}
	used := map[string]bool{}
	for n := range byName {
		used[n] = true
	}
	st := &callState{b: b, used: used, first: map[graph.Layer]*bool{}}
	outs := map[string][]tensor{} // outputs of each layer's calls, in order
	layers := map[string]*builtLayer{}
	calls := map[string][][]ref{}
	for _, e := range entries {
		if e.class == "InputLayer" {
			shape, ok, err := inputShapeOf(e.c)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, fmt.Errorf("layer %q (InputLayer): no batch_input_shape or batch_shape", e.name)
			}
			if err := checkShape(shape); err != nil {
				return nil, fmt.Errorf("layer %q (InputLayer): %w", e.name, err)
			}
			in := graph.InputNamed(e.name, shape...)
			if err := in.Err(); err != nil {
				return nil, err
			}
			outs[e.name] = []tensor{{node: in}}
			lm.kerasLayers = append(lm.kerasLayers, in.Layer)
			lm.classes = append(lm.classes, e.class)
			continue
		}
		bl, err := b.makeLayer(e)
		if err != nil {
			return nil, err
		}
		if bl.model != nil {
			lm.nested[bl.layer] = bl.model
		}
		layers[e.name] = bl
		lm.kerasLayers = append(lm.kerasLayers, bl.layer)
		lm.classes = append(lm.classes, e.class)
		cs, err := parseCalls(e)
		if err != nil {
			return nil, err
		}
		calls[e.name] = cs
	}
	// Process the calls in config order; a call whose inputs are not made
	// yet waits for a later pass (shared layers can be called on outputs of
	// layers that come later in the list).
	done := map[string]int{} // calls processed per layer
	resolve := func(r ref) (tensor, bool, error) {
		e := byName[r.layer]
		if e == nil {
			return tensor{}, false, fmt.Errorf("%s: a layer refers to the unknown layer %q (%s)", where, r.layer, r)
		}
		o := outs[r.layer]
		// Keras 3 numbers only a Functional's calls from 1 in list
		// references (a Keras 3 Sequential is no Functional subclass).
		if r.list && r.node > 0 && isModelClass(e.class) && !(b.keras3 && e.class == "Sequential") {
			r.node--
		}
		if r.node >= len(o) {
			if e.class == "InputLayer" {
				return tensor{}, false, fmt.Errorf("%s: reference %s to a call of InputLayer %q that does not exist", where, r, r.layer)
			}
			if r.node >= len(calls[r.layer]) {
				return tensor{}, false, fmt.Errorf("%s: reference %s to call %d of layer %q, which is called %d times", where, r, r.node, r.layer, len(calls[r.layer]))
			}
			return tensor{}, false, nil
		}
		if r.index != 0 {
			return tensor{}, false, fmt.Errorf("%s: reference %s to output %d of layer %q: layers with several outputs are not supported", where, r, r.index, r.layer)
		}
		return o[r.node], true, nil
	}
	for {
		progress, pending := false, false
		for _, e := range entries {
			cs := calls[e.name]
			for done[e.name] < len(cs) {
				refs := cs[done[e.name]]
				ins := make([]tensor, len(refs))
				ready := true
				for i, r := range refs {
					t, ok, err := resolve(r)
					if err != nil {
						return nil, fmt.Errorf("layer %q: %w", e.name, err)
					}
					if !ok {
						ready = false
						break
					}
					ins[i] = t
				}
				if !ready {
					pending = true
					break
				}
				out, err := st.call(layers[e.name], ins)
				if err != nil {
					return nil, err
				}
				if done[e.name] == 0 && out.cf {
					lm.nhwc[e.name] = true
				}
				outs[e.name] = append(outs[e.name], out)
				done[e.name]++
				progress = true
			}
		}
		if !pending {
			break
		}
		if !progress {
			for _, e := range entries {
				if cs := calls[e.name]; done[e.name] < len(cs) {
					var missing []string
					for _, r := range cs[done[e.name]] {
						if _, ok, _ := resolve(r); !ok {
							missing = append(missing, r.String())
						}
					}
					return nil, fmt.Errorf("%s: layer %q cannot be called: its inputs %s are never computed (the graph has a cycle or refers to calls that depend on it)", where, e.name, strings.Join(missing, ", "))
				}
			}
		}
	}
	var inputs, outputs []*graph.Node
	for _, r := range inRefs {
		e := byName[r.layer]
		if e == nil || e.class != "InputLayer" {
			return nil, fmt.Errorf("%s: input_layers names %q, which is not an InputLayer of the model", where, r.layer)
		}
		inputs = append(inputs, outs[r.layer][0].node)
	}
	for _, r := range outRefs {
		t, ok, err := resolve(r)
		if err != nil {
			return nil, fmt.Errorf("%s: output_layers: %w", where, err)
		}
		if !ok {
			return nil, fmt.Errorf("%s: output_layers: %s is never computed", where, r)
		}
		if t, err = st.convert(t, false); err != nil {
			return nil, err
		}
		outputs = append(outputs, t.node)
	}
	m, err := graph.NewModel(inputs, outputs, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	lm.model = m
	return lm, nil
}

// makeLayer creates the graph layer of a config entry (not yet called).
func (b *builder) makeLayer(e *layerEntry) (*builtLayer, error) {
	if isModelClass(e.class) {
		if fn := registered(e.class); fn != nil {
			return customLayer(fn, &layerCtx{c: e.c, name: e.name, class: e.class})
		}
		sub, err := b.buildModel(e.class, e.c, e.name)
		if err != nil {
			return nil, fmt.Errorf("nested model %q: %w", e.name, err)
		}
		if tr, err := e.c.boolean("trainable", true); err == nil && !tr {
			sub.model.SetTrainable(false)
		}
		if len(sub.model.Outputs()) != 1 {
			return nil, fmt.Errorf("nested model %q has %d outputs; nested models with several outputs are not supported", e.name, len(sub.model.Outputs()))
		}
		return &builtLayer{layer: sub.model, req: reqKeras, model: sub}, nil
	}
	x := &layerCtx{c: e.c, name: e.name, class: e.class, keras1: b.keras1, keras3: b.keras3}
	var bl *builtLayer
	var err error
	if fn := registered(e.class); fn != nil {
		bl, err = customLayer(fn, x)
	} else if bf := builtins[e.class]; bf != nil {
		bl, err = bf(x)
	} else if e.class == "InputLayer" {
		return nil, fmt.Errorf("layer %q: an InputLayer must not be called on other layers", e.name)
	} else {
		return nil, errUnknownLayer(e.name, e.class)
	}
	if err != nil {
		return nil, err
	}
	if tr, err := e.c.boolean("trainable", true); err != nil {
		return nil, err
	} else if !tr {
		bl.layer.Base().SetTrainable(false)
	}
	bl.hint.kerasClass = e.class
	b.hints[bl.layer] = bl.hint
	return bl, nil
}

// callState calls layers while building one model, converting layouts.
type callState struct {
	b     *builder
	used  map[string]bool // layer names taken in this model
	conv  map[convKey]tensor
	first map[graph.Layer]*bool // layout of a layer's first call (shared layers repeat it)
}

type convKey struct {
	n  *graph.Node
	cf bool
}

// convert returns t in the wanted layout, inserting (once per node) a
// Permute layer.
func (st *callState) convert(t tensor, cf bool) (tensor, error) {
	if t.cf == cf {
		return t, nil
	}
	if len(t.node.Shape) != 3 {
		return tensor{}, fmt.Errorf("layer %q: cannot convert a tensor of shape %s between channels_first and channels_last", t.node.Layer.Base().Name(), t.node.Shape)
	}
	if st.conv == nil {
		st.conv = map[convKey]tensor{}
	}
	key := convKey{t.node, cf}
	if c, ok := st.conv[key]; ok {
		return c, nil
	}
	src := t.node.Layer.Base().Name()
	var dims []int
	var suffix string
	if cf {
		dims, suffix = []int{2, 3, 1}, "_to_nhwc" // Keras (C,H,W) -> stored (H,W,C)
	} else {
		dims, suffix = []int{3, 1, 2}, "_to_nchw" // stored (H,W,C) -> Keras (C,H,W)
	}
	name := src + suffix
	for i := 1; st.used[name]; i++ {
		name = fmt.Sprintf("%s%s_%d", src, suffix, i)
	}
	st.used[name] = true
	p := graph.Permute(dims, graph.Name(name))
	p.Auto = true
	st.b.auto[p] = true
	n := graph.Call(p, t.node)
	if err := n.Err(); err != nil {
		return tensor{}, err
	}
	out := tensor{node: n, cf: cf}
	st.conv[key] = out
	return out, nil
}

// call calls a built layer on input tensors, choosing layouts.
func (st *callState) call(bl *builtLayer, ins []tensor) (tensor, error) {
	l := bl.layer
	name := l.Base().Name()
	rank := len(ins[0].node.Shape) + 1 // batch included
	want := false                      // store inputs transposed (NHWC for NCHW)?
	outCF := false
	switch bl.req {
	case reqKeras:
	case reqCF:
		switch {
		case rank == 4:
			want, outCF = true, true
		case bl.hint.kerasClass == "Flatten" && rank == 2:
			// Flattening a flat tensor: no layout involved.
		default:
			return tensor{}, fmt.Errorf("layer %q: a channels_first layer needs a 4-D input (batch, channels, rows, cols), got shape %s", name, ins[0].node.Shape)
		}
	case reqAny:
		all := true
		for _, t := range ins {
			all = all && t.cf
		}
		want, outCF = all, all
	case reqAxis:
		a := bl.axis
		if a < 0 {
			a += rank
		}
		if a <= 0 || a >= rank {
			return tensor{}, fmt.Errorf("layer %q: axis %d is out of range for inputs of rank %d (or is the batch axis)", name, bl.axis, rank)
		}
		if bl.anyAxis {
			all := rank == 4
			for _, t := range ins {
				all = all && t.cf
			}
			if f := st.first[l]; f != nil {
				all = *f
			}
			phys := a
			if all {
				phys = [4]int{0, 3, 1, 2}[a]
			}
			if st.first[l] == nil {
				bl.setAxis(phys)
			}
			want, outCF = all, all
		} else {
			switch {
			case rank == 4 && a == 1:
				// Channels of a 4-D tensor: the last axis once stored NHWC.
				want, outCF = true, true
			case a == rank-1:
				// The last Keras axis: the Keras layout.
			default:
				return tensor{}, fmt.Errorf("layer %q (%s): axis %d of a rank-%d input is not supported (only the last axis, or axis 1 of a 4-D channels_first tensor)", name, l.Base().Class(), bl.axis, rank)
			}
		}
	}
	if f := st.first[l]; f != nil {
		want = *f
		outCF = want && bl.req != reqKeras
	}
	args := make([]*graph.Node, len(ins))
	for i, t := range ins {
		if len(t.node.Shape) != 3 {
			args[i] = t.node
			continue
		}
		c, err := st.convert(t, want)
		if err != nil {
			return tensor{}, err
		}
		args[i] = c.node
	}
	if err := st.b.checkBudget(l, args); err != nil {
		return tensor{}, err
	}
	out := graph.Call(l, args...)
	if err := out.Err(); err != nil {
		return tensor{}, err
	}
	if st.first[l] == nil {
		w := want
		st.first[l] = &w
		if bl.model == nil {
			st.b.params += float64(l.Base().CountParams())
		}
	}
	if err := checkShape(out.Shape); err != nil {
		return tensor{}, fmt.Errorf("layer %q: output shape %s: %w", name, out.Shape, err)
	}
	return tensor{node: out, cf: outCF && len(out.Shape) == 3}, nil
}

// checkShape refuses shapes whose size could overflow.
func checkShape(s []int) error {
	n := 1.0
	for _, d := range s {
		if d > maxDim {
			return fmt.Errorf("dimension %d is too large", d)
		}
		if d > 0 {
			n *= float64(d)
		}
	}
	if n > maxElements {
		return fmt.Errorf("%g values per sample is more than the limit of %d", n, int64(maxElements))
	}
	return nil
}

// checkBudget estimates, before the layer is built, the parameters that
// calling l on args will allocate, and refuses them if the model would
// exceed the parameter budget.
func (b *builder) checkBudget(l graph.Layer, args []*graph.Node) error {
	if l.Base().Built() || len(args) == 0 {
		return nil
	}
	in := args[0].Shape
	last := 0.0
	if len(in) > 0 {
		last = float64(in[len(in)-1])
	}
	var p, q float64 // q: the values the layer stores at least
	switch t := l.(type) {
	case *graph.Conv2DLayer:
		q = float64(t.KernelSize[0]) * float64(t.KernelSize[1]) * last * float64(t.Filters)
		p = q + float64(t.Filters)
	case *graph.DepthwiseConv2DLayer:
		q = float64(t.KernelSize[0]) * float64(t.KernelSize[1]) * last * float64(t.DepthMultiplier)
		p = q + last*float64(t.DepthMultiplier)
	case *graph.SeparableConv2DLayer:
		m := last * float64(t.DepthMultiplier)
		q = float64(t.KernelSize[0])*float64(t.KernelSize[1])*m + m*float64(t.Filters)
		p = q + float64(t.Filters)
	case *graph.Conv2DTransposeLayer:
		q = float64(t.KernelSize[0]) * float64(t.KernelSize[1]) * last * float64(t.Filters)
		p = q + float64(t.Filters)
	case *graph.DenseLayer:
		q = last * float64(t.Units)
		p = q + float64(t.Units)
	case *graph.BatchNormalizationLayer:
		p = 4 * last
	case *graph.PReLULayer:
		p = 1
		for _, d := range in {
			p *= math.Max(float64(d), 1)
		}
	}
	if b.fileValues >= 0 && b.minParams+q > b.fileValues {
		return fmt.Errorf("layer %q (%s): the model needs at least %.0f weight values, but the weights file stores only %.0f values in all: "+
			"the config does not fit the weights", l.Base().Name(), l.Base().Class(), b.minParams+q, b.fileValues)
	}
	b.minParams += q
	if b.params+p > b.maxParams {
		return fmt.Errorf("layer %q (%s): the model needs at least %.0f parameters (%.3g GB of float32), more than the budget of %.3g GB; "+
			"if the file is trusted, raise LoadOptions.MaxParamBytes",
			l.Base().Name(), l.Base().Class(), b.params+p, (b.params+p)*4/1e9, b.maxParams*4/1e9)
	}
	return nil
}

// modelFromConfig builds a model from a decoded model config: {"class_name":
// ..., "config": ...} as in model_config, to_json and config.json.
func (b *builder) modelFromConfig(v any) (*loadedModel, error) {
	top, err := newCfg(v, "model config")
	if err != nil {
		return nil, err
	}
	class, err := top.str("class_name", "")
	if err != nil {
		return nil, err
	}
	if class == "" {
		return nil, errors.New("model config has no class_name")
	}
	if !isModelClass(class) {
		return nil, fmt.Errorf("model config describes a %q, not a Sequential or Functional model", class)
	}
	var c cfg
	switch t := top.get("config").(type) {
	case []any: // Keras 1 - 2.1 Sequential
		c = cfg{m: map[string]any{"layers": t}, where: "Sequential model"}
	case map[string]any:
		c = cfg{m: t, where: class + " model"}
	default:
		return nil, fmt.Errorf("model config: \"config\" is %s", jsonKind(top.get("config")))
	}
	// Keras 3 and tf.keras 2.3+ Sequential: build_config / build_input_shape.
	if class == "Sequential" && !c.has("build_input_shape") {
		if bc, ok := top.m["build_config"].(map[string]any); ok && bc["input_shape"] != nil {
			c.m = shallowCopy(c.m)
			c.m["build_input_shape"] = bc["input_shape"]
		}
	}
	return b.buildModel(class, c, "")
}

func shallowCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// detectEra sets keras1/keras3 from the writer's version, or from the
// config's vocabulary when no version is known.
func (b *builder) detectEra(version string, v any) {
	switch {
	case strings.HasPrefix(version, "1"):
		b.keras1 = true
		return
	case strings.HasPrefix(version, "3"):
		b.keras3 = true
		return
	case version != "":
		return
	}
	// No version: look at the vocabulary.
	data, _ := json.Marshal(v)
	s := string(data)
	switch {
	case strings.Contains(s, `"__keras_tensor__"`) || strings.Contains(s, `"batch_shape"`) || strings.Contains(s, `"DTypePolicy"`):
		b.keras3 = true
	case strings.Contains(s, `"Convolution2D"`) || strings.Contains(s, `"output_dim"`) || strings.Contains(s, `"border_mode"`) ||
		strings.Contains(s, `"dim_ordering"`) || strings.Contains(s, `"nb_filter"`) || strings.Contains(s, `"Merge"`):
		b.keras1 = true
	}
}
