package keras

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kerago/kerago/graph"
)

// Model and layer configs in the two dialects Save writes: tf.keras 2.x
// (inside .h5 files) and Keras 3 (config.json of .keras archives). Key
// order, defaults and value types follow what those Keras versions write
// for the same layers (tf_keras 2.21 and Keras 3.15, checked against files
// they wrote: testdata/ref/*/model.h5 and model.keras).

type dialect int

const (
	tfKeras2 dialect = iota
	keras3
)

func (d dialect) String() string {
	if d == keras3 {
		return "Keras 3 (.keras)"
	}
	return "tf.keras 2 (.h5)"
}

// classOf returns the Keras class a graph layer is written as.
func classOf(l graph.Layer) (string, error) {
	b := l.Base()
	switch t := l.(type) {
	case *graph.InputLayer, *graph.Conv2DLayer, *graph.DepthwiseConv2DLayer, *graph.SeparableConv2DLayer,
		*graph.Conv2DTransposeLayer, *graph.DenseLayer, *graph.DropoutLayer, *graph.FlattenLayer,
		*graph.ReshapeLayer, *graph.RescalingLayer, *graph.PermuteLayer, *graph.ActivationLayer,
		*graph.ReLULayer, *graph.LeakyReLULayer, *graph.ELULayer, *graph.SoftmaxLayer, *graph.PReLULayer,
		*graph.BatchNormalizationLayer, *graph.ZeroPadding2DLayer,
		*graph.Cropping2DLayer, *graph.UpSampling2DLayer, *graph.AddLayer, *graph.ConcatenateLayer:
		return b.Class(), nil
	case *graph.Pooling2DLayer:
		if c := b.Class(); c == "MaxPooling2D" || c == "AveragePooling2D" {
			return c, nil
		}
	case *graph.GlobalPooling2DLayer:
		return b.Class(), nil
	case *graph.ElementwiseMergeLayer:
		switch c := b.Class(); c {
		case "Multiply", "Average", "Maximum", "Minimum", "Subtract":
			return c, nil
		}
	case *graph.IdentityLayer:
		switch c := b.Class(); c {
		case "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization":
			return c, nil
		}
		return "", fmt.Errorf("layer %q: identity layer of class %q has no Keras config this package knows", b.Name(), b.Class())
	case *graph.Model:
		if t.IsSequential() {
			return "Sequential", nil
		}
		return "Functional", nil
	case KerasConfigLayer:
		if b.Class() == "" {
			return "", fmt.Errorf("layer %q: a custom layer needs a class name", b.Name())
		}
		return b.Class(), nil
	}
	return "", fmt.Errorf("layer %q: cannot save a layer of type %T (class %q): implement keras.KerasConfigLayer to save custom layers", b.Name(), l, b.Class())
}

// activationName translates a graph activation name to the dialect's.
func activationName(name string, d dialect, layer string) (string, error) {
	n := strings.ToLower(name)
	if n == "" {
		n = "linear"
	}
	switch d {
	case tfKeras2:
		switch n {
		case "linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "elu", "selu", "softplus", "softsign",
			"exponential", "swish", "gelu", "mish", "softmax", "log_softmax":
			return n, nil
		case "silu":
			return "swish", nil // tf.keras's name for x*sigmoid(x)
		case "hard_sigmoid_keras3":
			return "", fmt.Errorf("layer %q: activation hard_sigmoid in Keras 3's definition (relu6(x+3)/6) has no tf.keras 2 name (its hard_sigmoid is clip(0.2x+0.5)); save as .keras", layer)
		case "leaky_relu", "hard_silu", "hard_swish", "log_sigmoid":
			return "", fmt.Errorf("layer %q: activation %q exists only in Keras 3; save as .keras", layer, n)
		}
	case keras3:
		switch n {
		case "linear", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign",
			"exponential", "silu", "gelu", "mish", "hard_silu", "log_sigmoid", "softmax", "log_softmax":
			return n, nil
		case "swish":
			return "silu", nil
		case "hard_swish":
			return "hard_silu", nil
		case "hard_sigmoid_keras3":
			return "hard_sigmoid", nil
		case "hard_sigmoid":
			return "", fmt.Errorf("layer %q: activation hard_sigmoid in tf.keras 2's definition (clip(0.2x+0.5)) has no Keras 3 name (Keras 3's hard_sigmoid is relu6(x+3)/6); save as .h5", layer)
		}
	}
	return "", fmt.Errorf("layer %q: unknown activation %q", layer, name)
}

// initializer serializes a default Keras initializer.
func initializer(d dialect, class string) pyObj {
	var c pyObj
	if class == "GlorotUniform" {
		c = obj("seed", nil)
		if d == keras3 {
			c = obj("seed", nil, "input_axes", nil, "output_axes", nil)
		}
	} else {
		c = pyObj{}
	}
	return obj("module", "keras.initializers", "class_name", class, "config", c, "registered_name", nil)
}

func pair2(p [2]int) []int { return []int{p[0], p[1]} }

// f32 is a float as tf.keras stores arguments it casts to floatx
// (backend.cast_to_floatx): the float32 value, widened.
func f32(v float64) float64 { return float64(float32(v)) }

// shapeJSON writes a shape with the batch dimension: [null, d1, ...], -1
// as null.
func shapeJSON(s []int) []any {
	out := make([]any, 0, len(s)+1)
	out = append(out, nil)
	for _, d := range s {
		if d < 0 {
			out = append(out, nil)
		} else {
			out = append(out, d)
		}
	}
	return out
}

// firstInputShapes returns the shapes of the inputs of a layer's first
// call (its build shapes), or nil.
func firstInputShapes(l graph.Layer) []graph.Shape {
	nodes := l.Base().Nodes()
	if len(nodes) == 0 {
		return nil
	}
	var out []graph.Shape
	for _, in := range nodes[0].Inputs {
		out = append(out, in.Shape)
	}
	return out
}

// buildInputShape is the build_config input_shape: one shape, or a list of
// shapes for layers built on several inputs.
func buildInputShape(l graph.Layer) any {
	shapes := firstInputShapes(l)
	switch len(shapes) {
	case 0:
		return nil
	case 1:
		return shapeJSON(shapes[0])
	}
	out := make([]any, len(shapes))
	for i, s := range shapes {
		out[i] = shapeJSON(s)
	}
	return out
}

// lastAxisAsMinus1 writes an axis argument that names the last axis as -1,
// Keras's default (the loaders resolve axes to positive indices).
func lastAxisAsMinus1(l graph.Layer, axis int) int {
	if shapes := firstInputShapes(l); len(shapes) > 0 && axis == len(shapes[0]) {
		return -1
	}
	return axis
}

// layerConfig returns the "config" object of a (non-model) layer.
// trainable is the layer's effective trainability (false inside a frozen
// model, as Keras propagates model.trainable = False to the layers).
func layerConfig(l graph.Layer, d dialect, trainable bool) (pyObj, error) {
	b := l.Base()
	name := b.Name()
	class, err := classOf(l)
	if err != nil {
		return nil, err
	}
	var dtype any = "float32"
	if d == keras3 {
		dtype = obj("module", "keras", "class_name", "DTypePolicy", "config", obj("name", "float32"), "registered_name", nil)
	}
	c := obj("name", name, "trainable", trainable, "dtype", dtype)
	act := func(a string) (string, error) { return activationName(a, d, name) }
	k3 := d == keras3
	convTail := func(c *pyObj) {
		c.set("kernel_initializer", initializer(d, "GlorotUniform"))
		c.set("bias_initializer", initializer(d, "Zeros"))
		c.set("kernel_regularizer", nil)
		c.set("bias_regularizer", nil)
		c.set("activity_regularizer", nil)
		c.set("kernel_constraint", nil)
		c.set("bias_constraint", nil)
	}
	switch t := l.(type) {
	case *graph.InputLayer:
		key := "batch_input_shape"
		if k3 {
			key = "batch_shape"
		}
		return obj(key, shapeJSON(t.BatchShape), "dtype", "float32", "sparse", false, "ragged", false, "name", name, "optional", false), nil
	case *graph.Conv2DLayer:
		a, err := act(t.Activation)
		if err != nil {
			return nil, err
		}
		c = append(c, obj("filters", t.Filters, "kernel_size", pair2(t.KernelSize), "strides", pair2(t.Strides),
			"padding", t.Padding, "data_format", "channels_last", "dilation_rate", pair2(t.DilationRate), "groups", 1,
			"activation", a, "use_bias", t.UseBias)...)
		convTail(&c)
	case *graph.Conv2DTransposeLayer:
		a, err := act(t.Activation)
		if err != nil {
			return nil, err
		}
		var op any
		if t.OutputPadding != nil {
			op = pair2(*t.OutputPadding)
		}
		c = append(c, obj("filters", t.Filters, "kernel_size", pair2(t.KernelSize), "strides", pair2(t.Strides), "padding", t.Padding)...)
		if k3 {
			c.set("output_padding", op)
		}
		c = append(c, obj("data_format", "channels_last", "dilation_rate", pair2(t.DilationRate))...)
		if !k3 {
			c.set("groups", 1)
		}
		c = append(c, obj("activation", a, "use_bias", t.UseBias)...)
		convTail(&c)
		if !k3 {
			c.set("output_padding", op)
		}
	case *graph.DepthwiseConv2DLayer:
		a, err := act(t.Activation)
		if err != nil {
			return nil, err
		}
		if k3 {
			c = append(c, obj("depth_multiplier", t.DepthMultiplier, "kernel_size", pair2(t.KernelSize), "strides", pair2(t.Strides),
				"padding", t.Padding, "data_format", "channels_last", "dilation_rate", pair2(t.DilationRate),
				"activation", a, "use_bias", t.UseBias,
				"depthwise_initializer", initializer(d, "GlorotUniform"), "bias_initializer", initializer(d, "Zeros"),
				"depthwise_regularizer", nil, "bias_regularizer", nil, "activity_regularizer", nil,
				"depthwise_constraint", nil, "bias_constraint", nil)...)
		} else {
			c = append(c, obj("kernel_size", pair2(t.KernelSize), "strides", pair2(t.Strides), "padding", t.Padding,
				"data_format", "channels_last", "dilation_rate", pair2(t.DilationRate), "groups", 1,
				"activation", a, "use_bias", t.UseBias, "bias_initializer", initializer(d, "Zeros"),
				"bias_regularizer", nil, "activity_regularizer", nil, "bias_constraint", nil,
				"depth_multiplier", t.DepthMultiplier, "depthwise_initializer", initializer(d, "GlorotUniform"),
				"depthwise_regularizer", nil, "depthwise_constraint", nil)...)
		}
	case *graph.SeparableConv2DLayer:
		a, err := act(t.Activation)
		if err != nil {
			return nil, err
		}
		if k3 {
			c = append(c, obj("depth_multiplier", t.DepthMultiplier, "filters", t.Filters, "kernel_size", pair2(t.KernelSize),
				"strides", pair2(t.Strides), "padding", t.Padding, "data_format", "channels_last",
				"dilation_rate", pair2(t.DilationRate), "activation", a, "use_bias", t.UseBias,
				"depthwise_initializer", initializer(d, "GlorotUniform"), "pointwise_initializer", initializer(d, "GlorotUniform"),
				"bias_initializer", initializer(d, "Zeros"), "depthwise_regularizer", nil, "pointwise_regularizer", nil,
				"bias_regularizer", nil, "activity_regularizer", nil, "depthwise_constraint", nil,
				"pointwise_constraint", nil, "bias_constraint", nil)...)
		} else {
			c = append(c, obj("filters", t.Filters, "kernel_size", pair2(t.KernelSize), "strides", pair2(t.Strides),
				"padding", t.Padding, "data_format", "channels_last", "dilation_rate", pair2(t.DilationRate), "groups", 1,
				"activation", a, "use_bias", t.UseBias)...)
			convTail(&c)
			c = append(c, obj("depth_multiplier", t.DepthMultiplier,
				"depthwise_initializer", initializer(d, "GlorotUniform"), "pointwise_initializer", initializer(d, "GlorotUniform"),
				"depthwise_regularizer", nil, "pointwise_regularizer", nil, "depthwise_constraint", nil, "pointwise_constraint", nil)...)
		}
	case *graph.DenseLayer:
		a, err := act(t.Activation)
		if err != nil {
			return nil, err
		}
		c = append(c, obj("units", t.Units, "activation", a, "use_bias", t.UseBias,
			"kernel_initializer", initializer(d, "GlorotUniform"), "bias_initializer", initializer(d, "Zeros"),
			"kernel_regularizer", nil, "bias_regularizer", nil)...)
		if k3 {
			c = append(c, obj("kernel_constraint", nil, "bias_constraint", nil, "quantization_config", nil)...)
		} else {
			c = append(c, obj("activity_regularizer", nil, "kernel_constraint", nil, "bias_constraint", nil)...)
		}
	case *graph.DropoutLayer:
		if k3 {
			c = append(c, obj("rate", t.Rate, "seed", nil, "noise_shape", nil)...)
		} else {
			c = append(c, obj("rate", t.Rate, "noise_shape", nil, "seed", nil)...)
		}
	case *graph.IdentityLayer:
		get := func(k string, def any) any {
			if v, ok := t.Config[k]; ok {
				return v
			}
			return def
		}
		switch class {
		case "SpatialDropout2D":
			if k3 {
				// Keras 3.15 writes this layer's config without
				// "trainable" and with a plain dtype string.
				return obj("rate", get("rate", 0.0), "seed", get("seed", nil), "name", name, "dtype", "float32", "data_format", "channels_last"), nil
			}
			c = append(c, obj("rate", get("rate", 0.0), "noise_shape", get("noise_shape", nil), "seed", get("seed", nil))...)
		case "GaussianNoise":
			c = append(c, obj("stddev", get("stddev", 0.0), "seed", get("seed", nil))...)
		case "GaussianDropout":
			c = append(c, obj("rate", get("rate", 0.0), "seed", get("seed", nil))...)
		case "AlphaDropout":
			c = append(c, obj("rate", get("rate", 0.0), "seed", get("seed", nil))...)
			if k3 {
				c.set("noise_shape", get("noise_shape", nil))
			}
		case "ActivityRegularization":
			c = append(c, obj("l1", get("l1", 0.0), "l2", get("l2", 0.0))...)
		}
	case *graph.FlattenLayer:
		c.set("data_format", "channels_last")
	case *graph.ReshapeLayer:
		c.set("target_shape", []int(t.TargetShape))
	case *graph.PermuteLayer:
		c.set("dims", t.Dims)
	case *graph.RescalingLayer:
		c = append(c, obj("scale", t.Scale, "offset", t.Offset)...)
	case *graph.ActivationLayer:
		a, err := act(t.Activation)
		if err != nil {
			return nil, err
		}
		c.set("activation", a)
	case *graph.ReLULayer:
		var mv any
		if t.MaxValue != nil {
			mv = *t.MaxValue
		}
		ns, th := t.NegativeSlope, t.Threshold
		if !k3 {
			if t.MaxValue != nil {
				mv = f32(*t.MaxValue)
			}
			ns, th = f32(ns), f32(th)
		}
		c = append(c, obj("max_value", mv, "negative_slope", ns, "threshold", th)...)
	case *graph.LeakyReLULayer:
		if k3 {
			c.set("negative_slope", t.Alpha)
		} else {
			c.set("alpha", f32(t.Alpha))
		}
	case *graph.ELULayer:
		if k3 {
			// Keras 3.15's ELU.get_config puts alpha right after name.
			c = obj("name", name, "alpha", t.Alpha, "trainable", trainable, "dtype", dtype)
		} else {
			c.set("alpha", f32(t.Alpha))
		}
	case *graph.PReLULayer:
		var axes any
		if t.SharedAxes != nil {
			axes = append([]int(nil), t.SharedAxes...)
		}
		c = append(c, obj("alpha_initializer", initializer(d, "Zeros"), "alpha_regularizer", nil,
			"alpha_constraint", nil, "shared_axes", axes)...)
	case *graph.SoftmaxLayer:
		c.set("axis", lastAxisAsMinus1(l, t.Axis))
	case *graph.BatchNormalizationLayer:
		var axis any = t.Axis
		if !k3 {
			// tf.keras stores the normalized axes as a list of
			// positive indices.
			shapes := firstInputShapes(l)
			if len(shapes) != 1 {
				return nil, fmt.Errorf("layer %q: BatchNormalization without an input shape", name)
			}
			a := t.Axis
			if a < 0 {
				a += len(shapes[0]) + 1
			}
			axis = []int{a}
		}
		c = append(c, obj("axis", axis, "momentum", t.Momentum, "epsilon", t.Epsilon, "center", t.Center, "scale", t.Scale,
			"beta_initializer", initializer(d, "Zeros"), "gamma_initializer", initializer(d, "Ones"),
			"moving_mean_initializer", initializer(d, "Zeros"), "moving_variance_initializer", initializer(d, "Ones"),
			"beta_regularizer", nil, "gamma_regularizer", nil, "beta_constraint", nil, "gamma_constraint", nil)...)
		if k3 {
			c = append(c, obj("synchronized", false, "renorm", false, "renorm_clipping", nil, "renorm_momentum", 0.99)...)
		}
	case *graph.Pooling2DLayer:
		c = append(c, obj("pool_size", pair2(t.PoolSize), "padding", t.Padding, "strides", pair2(t.Strides), "data_format", "channels_last")...)
	case *graph.GlobalPooling2DLayer:
		c = append(c, obj("data_format", "channels_last", "keepdims", false)...)
	case *graph.ZeroPadding2DLayer:
		p := t.Padding
		c = append(c, obj("padding", []any{pair2(p[0]), pair2(p[1])}, "data_format", "channels_last")...)
	case *graph.Cropping2DLayer:
		p := t.Cropping
		c = append(c, obj("cropping", []any{pair2(p[0]), pair2(p[1])}, "data_format", "channels_last")...)
	case *graph.UpSampling2DLayer:
		c = append(c, obj("size", pair2(t.Size), "data_format", "channels_last", "interpolation", t.Interpolation)...)
	case *graph.AddLayer, *graph.ElementwiseMergeLayer:
	case *graph.ConcatenateLayer:
		c.set("axis", lastAxisAsMinus1(l, t.Axis))
	case KerasConfigLayer:
		extra := t.KerasConfig()
		for _, k := range sortedObj(extra) {
			if k.k == "name" || k.k == "trainable" || k.k == "dtype" {
				continue
			}
			c.set(k.k, k.v)
		}
	default:
		return nil, fmt.Errorf("layer %q: cannot save a layer of type %T", name, l)
	}
	return c, nil
}

// ---- tf.keras 2.x model configs (legacy .h5) ----

// keras3Rejects lists arguments tf.keras 2.x writes into .h5 configs that
// Keras 3's .h5 reader refuses ("Unrecognized keyword arguments"), so that
// Keras 3 cannot load tf.keras's own files with these layers. Save leaves
// them out: each has the value tf.keras uses when it is absent (groups 1;
// a SeparableConv2D has no plain kernel, its kernel_* arguments are
// unused; SpatialDropout2D has no weights to train and drops whole
// channels, whatever noise_shape says).
var keras3Rejects = map[string][]string{
	"DepthwiseConv2D":  {"groups"},
	"Conv2DTranspose":  {"groups"},
	"SeparableConv2D":  {"groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"},
	"SpatialDropout2D": {"trainable", "noise_shape"},
}

func dropKeras3Rejects(class string, c pyObj) pyObj {
	drop := keras3Rejects[class]
	if len(drop) == 0 {
		return c
	}
	out := c[:0:0]
	for _, kv := range c {
		if !slices.Contains(drop, kv.k) {
			out = append(out, kv)
		}
	}
	return out
}

// tfModelConfig returns the model_config tf.keras 2.x writes into .h5
// files: {"class_name": ..., "config": ...}.
func tfModelConfig(m *graph.Model) (pyObj, error) {
	class := "Functional"
	if m.IsSequential() {
		class = "Sequential"
	}
	c, err := tfNetworkConfig(m, true, m.Trainable(), 0)
	if err != nil {
		return nil, err
	}
	return obj("class_name", class, "config", c), nil
}

// tfNetworkConfig is Functional.get_config / Sequential.get_config of
// tf_keras. legacy is the use_legacy_config flag h5 saving sets on the
// saved model: layers of a legacy Functional are serialized as
// {class_name, config} and nested models inherit the flag; a legacy
// Sequential serializes its own layers that way but does not pass the
// flag on, so models nested in it use the newer format (module,
// registered_name, build_config), as tf_keras does.
func tfNetworkConfig(m *graph.Model, legacy, on bool, depth int) (pyObj, error) {
	if depth > maxSaveNesting {
		return nil, fmt.Errorf("models nested more than %d deep", maxSaveNesting)
	}
	on = on && m.Trainable()
	if m.IsSequential() {
		var layers []any
		for _, l := range modelLayers(m) {
			e, err := tfLayerEntry(l, legacy, false, on, depth)
			if err != nil {
				return nil, err
			}
			layers = append(layers, e)
		}
		return obj("name", m.Name(), "layers", layers), nil
	}
	idx := nodeIndexes(m, func(l graph.Layer) int {
		if _, ok := l.(*graph.Model); ok {
			return 1 // a model's node 0 links its own inputs to its outputs
		}
		return 0
	})
	inGraph := graphNodeSet(m)
	var layers []any
	for _, l := range m.Layers() {
		e, err := tfLayerEntry(l, legacy, true, on, depth)
		if err != nil {
			return nil, err
		}
		var inbound []any
		if _, isInput := l.(*graph.InputLayer); !isInput {
			for _, n := range l.Base().Nodes() {
				if !inGraph[n] {
					continue
				}
				var call []any
				for _, in := range n.Inputs {
					call = append(call, []any{in.Layer.Base().Name(), idx[in], 0, pyObj{}})
				}
				inbound = append(inbound, call)
			}
		}
		if inbound == nil {
			inbound = []any{}
		}
		e = append(e, pyKV{"name", l.Base().Name()}, pyKV{"inbound_nodes", inbound})
		layers = append(layers, e)
	}
	refs := func(ns []*graph.Node) any {
		var out []any
		for _, n := range ns {
			out = append(out, []any{n.Layer.Base().Name(), idx[n], 0})
		}
		if depth > 0 && len(out) == 1 {
			// tf.keras writes [[name, node, 0]]; Keras 3 makes a nested
			// model of that return a list, which breaks the next layer.
			// Both read the bare triple as one tensor.
			return out[0]
		}
		return out
	}
	return obj("name", m.Name(), "trainable", on, "layers", layers,
		"input_layers", refs(m.Inputs()), "output_layers", refs(m.Outputs())), nil
}

// tfLayerEntry serializes one layer of a model: legacy {class_name,
// config} or the newer {module, class_name, config, registered_name,
// build_config} (serialization_lib.serialize_keras_object).
func tfLayerEntry(l graph.Layer, legacy, inFunctional, on bool, depth int) (pyObj, error) {
	class, err := classOf(l)
	if err != nil {
		return nil, err
	}
	var cfg pyObj
	if sub, ok := l.(*graph.Model); ok {
		// A legacy Functional passes the flag to nested models (Sequential
		// is a Functional subclass in tf_keras); a legacy Sequential does
		// not.
		cfg, err = tfNetworkConfig(sub, legacy && inFunctional, on, depth+1)
	} else {
		cfg, err = layerConfig(l, tfKeras2, on && l.Base().Trainable())
		cfg = dropKeras3Rejects(class, cfg)
		if !legacy && class == "BatchNormalization" {
			// tf.keras writes axis [3]; Keras 3 reads the list only in
			// legacy entries (without "module"), so these get the
			// integer, which tf.keras reads the same.
			for i, kv := range cfg {
				if a, ok := kv.v.([]int); ok && kv.k == "axis" && len(a) == 1 {
					cfg[i].v = a[0]
				}
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if legacy {
		return obj("class_name", class, "config", cfg), nil
	}
	module, registered := "keras.layers", any(nil)
	if sub, ok := l.(*graph.Model); ok {
		if sub.IsSequential() {
			module = "keras"
		} else {
			module, registered = "tf_keras.src.engine.functional", "Functional"
		}
	} else if _, ok := l.(KerasConfigLayer); ok {
		module = "Custom>" + class
	}
	e := obj("module", module, "class_name", class, "config", cfg, "registered_name", registered)
	if _, isInput := l.(*graph.InputLayer); !isInput {
		e.set("build_config", obj("input_shape", buildInputShape(l)))
	}
	return e, nil
}

// graphNodeSet returns the nodes of m's graph.
func graphNodeSet(m *graph.Model) map[*graph.Node]bool {
	s := map[*graph.Node]bool{}
	for _, n := range m.GraphNodes() {
		s[n] = true
	}
	return s
}

// nodeIndexes numbers, per layer, the calls that belong to m's graph, as
// Keras numbers nodes in configs: calls of the layer outside m are skipped,
// and the count starts at start(layer).
func nodeIndexes(m *graph.Model, start func(graph.Layer) int) map[*graph.Node]int {
	inGraph := graphNodeSet(m)
	idx := map[*graph.Node]int{}
	done := map[graph.Layer]bool{}
	for _, n := range m.GraphNodes() {
		l := n.Layer
		if done[l] {
			continue
		}
		done[l] = true
		k := start(l)
		for _, c := range l.Base().Nodes() {
			if inGraph[c] {
				idx[c] = k
				k++
			}
		}
	}
	return idx
}
