package keras

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/ops"
)

// LayerFunc builds a graph layer from the "config" object of a Keras layer
// (the same object Keras passes to Layer.from_config). Numbers are float64,
// as encoding/json decodes them; the layer's name is cfg["name"]. The layer
// returned must carry that name (graph.Name(name)), implement graph.Layer,
// and create its weights in Build in the order Keras's get_weights() returns
// them, so that they can be loaded by position.
type LayerFunc func(cfg map[string]any) (graph.Layer, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]LayerFunc{}
)

// RegisterLayer makes the loaders build layers of the given Keras class name
// (the "class_name" in the model config, e.g. "MyNormalization") with fn.
// It is how custom Keras layers are loaded: write the layer in Go (embed
// graph.LayerBase, implement Build and Forward), then register it before
// calling LoadModel. A registered class takes precedence over a built-in
// one of the same name. Registering a nil fn removes the registration.
//
// The layer is assumed to work on channels_last tensors in the Keras
// layout; in channels_first models its inputs are converted to Keras's
// layout before the call.
func RegisterLayer(className string, fn LayerFunc) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if fn == nil {
		delete(registry, className)
		return
	}
	registry[className] = fn
}

func registered(className string) LayerFunc {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return registry[className]
}

// layoutReq says how a layer relates to the channels_first conversion (see
// the package documentation): what layout its inputs must have.
type layoutReq int

const (
	// reqKeras: the inputs must be in Keras's own layout (the layer
	// indexes axes: Dense, Reshape, channels_last Conv2D, ...).
	reqKeras layoutReq = iota
	// reqCF: a channels_first layer; its rank-4 input must be stored
	// NHWC (the Keras NCHW tensor transposed), which this package's
	// channels_last kernels then process directly.
	reqCF
	// reqAny: elementwise; works on either layout and keeps it.
	reqAny
	// reqAxis: normalizes or concatenates along one Keras axis (see
	// builtLayer.axis).
	reqAxis
)

// builtLayer is a graph layer plus what the model builder must know to call
// it.
type builtLayer struct {
	layer graph.Layer
	req   layoutReq
	// For reqAxis: the Keras axis (batch = 0, negative from the end) and
	// whether any axis is allowed (Concatenate, via setAxis) or only the
	// last physical one (BatchNormalization, Softmax).
	axis    int
	anyAxis bool
	setAxis func(int)
	// model is set for nested models.
	model *loadedModel
	// k1th marks Keras-1 th-ordered layers (for weight conversion).
	hint layerHint
}

// layerHint is what weight loading must know about a layer beyond its graph
// type: Keras's class name and data format, for the conversions of
// preprocess_weights_for_loading.
type layerHint struct {
	kerasClass    string // class_name in the config, e.g. "Convolution2D"
	channelsFirst bool
}

// layerCtx is the input of a built-in layer builder.
type layerCtx struct {
	c      cfg
	name   string
	class  string
	keras3 bool // the config was written by Keras 3 (activation semantics)
	keras1 bool // Keras 1 vocabulary
}

type builderFunc func(x *layerCtx) (*builtLayer, error)

// builtins maps Keras class names (all eras) to builders.
var builtins map[string]builderFunc

func init() {
	builtins = map[string]builderFunc{
		"Conv2D":                 buildConv2D,
		"Convolution2D":          buildConv2D,
		"AtrousConvolution2D":    buildConv2D,
		"DepthwiseConv2D":        buildDepthwise,
		"SeparableConv2D":        buildSeparable,
		"SeparableConvolution2D": buildSeparable,
		"Conv2DTranspose":        buildConvTranspose,
		"Convolution2DTranspose": buildConvTranspose,
		"Dense":                  buildDense,
		"Dropout":                buildIdentity,
		"SpatialDropout2D":       buildIdentity,
		"GaussianNoise":          buildIdentity,
		"GaussianDropout":        buildIdentity,
		"AlphaDropout":           buildIdentity,
		"ActivityRegularization": buildIdentity,
		"Flatten":                buildFlatten,
		"Reshape":                buildReshape,
		"Permute":                buildPermute,
		"Activation":             buildActivation,
		"ReLU":                   buildReLU,
		"LeakyReLU":              buildLeakyReLU,
		"PReLU":                  buildPReLU,
		"ELU":                    buildELU,
		"Softmax":                buildSoftmax,
		"BatchNormalization":     buildBatchNorm,
		"MaxPooling2D":           buildPool,
		"MaxPool2D":              buildPool,
		"AveragePooling2D":       buildPool,
		"AvgPool2D":              buildPool,
		"GlobalAveragePooling2D": buildGlobalPool,
		"GlobalAvgPool2D":        buildGlobalPool,
		"GlobalMaxPooling2D":     buildGlobalPool,
		"GlobalMaxPool2D":        buildGlobalPool,
		"ZeroPadding2D":          buildZeroPadding,
		"Cropping2D":             buildCropping,
		"UpSampling2D":           buildUpSampling,
		"Rescaling":              buildRescaling,
		"Add":                    buildMerge,
		"Multiply":               buildMerge,
		"Average":                buildMerge,
		"Maximum":                buildMerge,
		"Minimum":                buildMerge,
		"Subtract":               buildMerge,
		"Concatenate":            buildConcatenate,
		"Merge":                  buildKeras1Merge,
		"Lambda":                 buildLambda,
	}
}

// SupportedLayers lists the Keras class names the loaders build without a
// RegisterLayer call (layer classes of all Keras eras, plus the model
// classes Sequential, Model and Functional used as layers).
func SupportedLayers() []string {
	var out []string
	for k := range builtins {
		if k != "Lambda" && k != "Merge" {
			out = append(out, k)
		}
	}
	out = append(out, "InputLayer", "Merge (Keras 1; modes sum, mul, ave, max, concat)", "Sequential", "Model", "Functional")
	sort.Strings(out)
	return out
}

// errUnknownLayer builds the message for a class no builder knows.
func errUnknownLayer(name, class string) error {
	return fmt.Errorf("layer %q: unknown layer class %q. Supported classes: %s. "+
		"For a custom layer, implement it in Go and call keras.RegisterLayer(%q, func(cfg map[string]any) (graph.Layer, error) {...}) before loading",
		name, class, strings.Join(SupportedLayers(), ", "), class)
}

// ---- activations ----

// activation resolves an activation argument: a name (string), or a
// serialized activation object {"class_name": ..., "config": ...}, into the
// name the graph package uses. Names mean what tf.keras 2.x means by them,
// except for Keras 3 files, whose hard_sigmoid is relu6(x+3)/6 (the graph
// name "hard_sigmoid_keras3").
func (x *layerCtx) activation(key string) (string, error) {
	v := x.c.get(key)
	var name string
	switch t := v.(type) {
	case nil:
		return "linear", nil
	case string:
		name = t
	case map[string]any:
		// Keras 3 may serialize a built-in activation as an object.
		sub, err := newCfg(t, x.c.where+" activation")
		if err != nil {
			return "", err
		}
		name, _ = sub.str("class_name", "")
		if inner, ok := t["config"].(string); ok && inner != "" {
			name = inner
		}
		if name == "" {
			return "", x.c.errorf(key, "cannot read activation %s", jsonKind(v))
		}
	default:
		return "", x.c.errorf(key, "want an activation name, got %s", jsonKind(v))
	}
	switch name {
	case "", "linear":
		return "linear", nil
	case "softmax", "log_softmax":
		return name, nil
	case "hard_sigmoid":
		if x.keras3 {
			return "hard_sigmoid_keras3", nil
		}
	}
	if _, err := ops.Activation(name); err != nil {
		return "", fmt.Errorf("%s: %w", x.c.where, err)
	}
	return name, nil
}

// ---- helpers shared by builders ----

func (x *layerCtx) padding(keras1Key string) (string, error) {
	key := "padding"
	if x.keras1 || (!x.c.has("padding") && x.c.has(keras1Key)) {
		key = keras1Key
	}
	p, err := x.c.str(key, "valid")
	if err != nil {
		return "", err
	}
	p = strings.ToLower(p)
	if p != "valid" && p != "same" {
		return "", x.c.errorf(key, "padding %q is not supported (valid or same)", p)
	}
	return p, nil
}

// spatialReq returns the layout requirement of a layer with a data format.
func (x *layerCtx) spatialReq() (layoutReq, bool, error) {
	cf, err := x.c.channelsFirst()
	if err != nil {
		return 0, false, err
	}
	if cf {
		return reqCF, true, nil
	}
	return reqKeras, false, nil
}

// useBias reads use_bias (Keras 2/3) or bias (Keras 1).
func (x *layerCtx) useBias() (bool, error) {
	if x.c.has("use_bias") {
		return x.c.boolean("use_bias", true)
	}
	return x.c.boolean("bias", true)
}

func (x *layerCtx) noGroups() error {
	g, err := x.c.integer("groups", 1, 1)
	if err != nil {
		return err
	}
	if g != 1 {
		return x.c.errorf("groups", "grouped convolutions (groups=%d) are not supported", g)
	}
	return nil
}

// notSet refuses arguments that change inference results but are not
// implemented.
func (x *layerCtx) refuse(key string, ok func(any) bool, why string) error {
	v := x.c.get(key)
	if v == nil || ok(v) {
		return nil
	}
	return x.c.errorf(key, "%s (got %s)", why, jsonKind(v))
}

func isFalse(v any) bool { b, ok := v.(bool); return ok && !b }
func isZero(v any) bool {
	f, err := toFloat(v)
	return err == nil && f == 0
}

// kernelSize reads kernel_size, or nb_row/nb_col in Keras 1.
func (x *layerCtx) kernelSize() ([2]int, error) {
	if !x.c.has("kernel_size") && x.c.has("nb_row") {
		r, err := x.c.integer("nb_row", 0, 1)
		if err != nil {
			return [2]int{}, err
		}
		c, err := x.c.integer("nb_col", 0, 1)
		if err != nil {
			return [2]int{}, err
		}
		if !x.c.has("nb_col") {
			return [2]int{}, x.c.errorf("nb_col", "missing")
		}
		return [2]int{r, c}, nil
	}
	if !x.c.has("kernel_size") {
		return [2]int{}, x.c.errorf("kernel_size", "missing")
	}
	return x.c.pair("kernel_size", 1, 1)
}

func (x *layerCtx) strides(def int) ([2]int, error) {
	if !x.c.has("strides") && x.c.has("subsample") {
		return x.c.pair("subsample", 1, 1)
	}
	return x.c.pair("strides", def, 1)
}

func (x *layerCtx) filters() (int, error) {
	if !x.c.has("filters") && x.c.has("nb_filter") {
		return x.c.integer("nb_filter", 0, 1)
	}
	if !x.c.has("filters") {
		return 0, x.c.errorf("filters", "missing")
	}
	return x.c.integer("filters", 0, 1)
}

func (x *layerCtx) dilation() ([2]int, error) {
	if !x.c.has("dilation_rate") && x.c.has("atrous_rate") {
		return x.c.pair("atrous_rate", 1, 1)
	}
	return x.c.pair("dilation_rate", 1, 1)
}

// ---- builders ----

// convConfig is what the configs of the convolution layers share.
type convConfig struct {
	req         layoutReq
	cf          bool // channels_first (or Keras 1 "th")
	filters     int  // 0 for DepthwiseConv2D
	ks, st, dil [2]int
	pad         string
	mult        int // depth_multiplier; 0 for Conv2D and Conv2DTranspose
	bias        bool
	act         string
}

// convConfig reads the keys shared by the convolutions, in the order
// Keras's constructors check them: groups (refused unless 1) when
// groups, filters when filters, depth_multiplier when mult.
func (x *layerCtx) convConfig(groups, filters, mult bool) (c convConfig, err error) {
	if c.req, c.cf, err = x.spatialReq(); err != nil {
		return c, err
	}
	if groups {
		if err := x.noGroups(); err != nil {
			return c, err
		}
	}
	if filters {
		if c.filters, err = x.filters(); err != nil {
			return c, err
		}
	}
	if c.ks, err = x.kernelSize(); err != nil {
		return c, err
	}
	if c.st, err = x.strides(1); err != nil {
		return c, err
	}
	if c.dil, err = x.dilation(); err != nil {
		return c, err
	}
	if c.pad, err = x.padding("border_mode"); err != nil {
		return c, err
	}
	if mult {
		if c.mult, err = x.c.integer("depth_multiplier", 1, 1); err != nil {
			return c, err
		}
	}
	if c.bias, err = x.useBias(); err != nil {
		return c, err
	}
	if c.act, err = x.activation("activation"); err != nil {
		return c, err
	}
	if c.cf && (c.act == "softmax" || c.act == "log_softmax") {
		return c, x.c.errorf("activation", "%s over the last axis of a channels_first output is not supported", c.act)
	}
	return c, nil
}

// opts returns the graph options of c, for layer name.
func (c convConfig) opts(name string) []graph.Opt {
	o := []graph.Opt{graph.Name(name), graph.Strides(c.st[0], c.st[1]), graph.DilationRate(c.dil[0], c.dil[1]),
		graph.Padding(c.pad), graph.UseBias(c.bias), graph.Activation(c.act)}
	if c.mult > 0 {
		o = append(o, graph.DepthMultiplier(c.mult))
	}
	return o
}

// built wraps the graph layer l made from c.
func (c convConfig) built(x *layerCtx, l graph.Layer) *builtLayer {
	return &builtLayer{layer: l, req: c.req, hint: layerHint{kerasClass: x.class, channelsFirst: c.cf}}
}

func buildConv2D(x *layerCtx) (*builtLayer, error) {
	c, err := x.convConfig(true, true, false)
	if err != nil {
		return nil, err
	}
	return c.built(x, graph.Conv2D(c.filters, c.ks, c.opts(x.name)...)), nil
}

func buildDepthwise(x *layerCtx) (*builtLayer, error) {
	c, err := x.convConfig(false, false, true)
	if err != nil {
		return nil, err
	}
	return c.built(x, graph.DepthwiseConv2D(c.ks, c.opts(x.name)...)), nil
}

func buildSeparable(x *layerCtx) (*builtLayer, error) {
	if x.class == "SeparableConvolution2D" {
		return nil, fmt.Errorf("%s: Keras 1 SeparableConvolution2D is not supported (no test file; re-save the model with Keras 2 or later)", x.c.where)
	}
	c, err := x.convConfig(false, true, true)
	if err != nil {
		return nil, err
	}
	return c.built(x, graph.SeparableConv2D(c.filters, c.ks, c.opts(x.name)...)), nil
}

func buildConvTranspose(x *layerCtx) (*builtLayer, error) {
	c, err := x.convConfig(true, true, false)
	if err != nil {
		return nil, err
	}
	opts := c.opts(x.name)
	if x.c.has("output_padding") {
		op, err := x.c.pair("output_padding", 0, 0)
		if err != nil {
			return nil, err
		}
		opts = append(opts, graph.OutputPadding(op[0], op[1]))
	}
	return c.built(x, graph.Conv2DTranspose(c.filters, c.ks, opts...)), nil
}

func buildDense(x *layerCtx) (*builtLayer, error) {
	key := "units"
	if !x.c.has("units") && x.c.has("output_dim") {
		key = "output_dim"
	}
	if !x.c.has(key) {
		return nil, x.c.errorf("units", "missing")
	}
	units, err := x.c.integer(key, 0, 1)
	if err != nil {
		return nil, err
	}
	bias, err := x.useBias()
	if err != nil {
		return nil, err
	}
	if err := x.refuse("lora_rank", isZero, "LoRA-adapted Dense layers are not supported"); err != nil {
		return nil, err
	}
	act, err := x.activation("activation")
	if err != nil {
		return nil, err
	}
	l := graph.Dense(units, graph.Name(x.name), graph.UseBias(bias), graph.Activation(act))
	return &builtLayer{layer: l, req: reqKeras, hint: layerHint{kerasClass: x.class}}, nil
}

func buildIdentity(x *layerCtx) (*builtLayer, error) {
	rateKey := "rate"
	if !x.c.has("rate") && x.c.has("p") {
		rateKey = "p"
	}
	rate, err := x.c.float(rateKey, 0)
	if err != nil {
		return nil, err
	}
	if x.class == "Dropout" {
		if rate < 0 || rate > 1 {
			return nil, x.c.errorf(rateKey, "rate must be in [0, 1], got %g", rate)
		}
		return &builtLayer{layer: graph.Dropout(rate, graph.Name(x.name)), req: reqAny}, nil
	}
	l := graph.Identity(x.class, graph.Name(x.name))
	l.Config = map[string]any{}
	for _, k := range []string{"rate", "stddev", "noise_shape", "seed"} {
		if v := x.c.get(k); v != nil {
			l.Config[k] = plainJSON(v)
		}
	}
	return &builtLayer{layer: l, req: reqAny}, nil
}

func buildFlatten(x *layerCtx) (*builtLayer, error) {
	cf, err := x.c.channelsFirst()
	if err != nil {
		return nil, err
	}
	l := graph.Flatten(graph.Name(x.name))
	if cf {
		// Keras transposes NCHW to NHWC before flattening: that is the
		// stored layout of a channels_first tensor here.
		return &builtLayer{layer: l, req: reqCF, hint: layerHint{kerasClass: x.class, channelsFirst: true}}, nil
	}
	return &builtLayer{layer: l, req: reqKeras}, nil
}

func buildReshape(x *layerCtx) (*builtLayer, error) {
	list, err := x.c.list("target_shape")
	if err != nil {
		return nil, err
	}
	if list == nil {
		return nil, x.c.errorf("target_shape", "missing")
	}
	if len(list) > 16 {
		return nil, x.c.errorf("target_shape", "rank %d is too large", len(list))
	}
	target := make([]int, len(list))
	for i, e := range list {
		n, err := toInt(e, -1)
		if err != nil || n == 0 {
			return nil, x.c.errorf("target_shape", "element %d: want a positive integer or -1, got %s", i, jsonKind(e))
		}
		target[i] = n
	}
	return &builtLayer{layer: graph.Reshape(target, graph.Name(x.name)), req: reqKeras}, nil
}

func buildPermute(x *layerCtx) (*builtLayer, error) {
	list, err := x.c.list("dims")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 || len(list) > 16 {
		return nil, x.c.errorf("dims", "want a permutation list, got %s", jsonKind(x.c.get("dims")))
	}
	dims := make([]int, len(list))
	for i, e := range list {
		n, err := toInt(e, 1)
		if err != nil {
			return nil, x.c.errorf("dims", "element %d: %v", i, err)
		}
		dims[i] = n
	}
	return &builtLayer{layer: graph.Permute(dims, graph.Name(x.name)), req: reqKeras}, nil
}

func buildActivation(x *layerCtx) (*builtLayer, error) {
	act, err := x.activation("activation")
	if err != nil {
		return nil, err
	}
	l := graph.NewActivation(act, graph.Name(x.name))
	if act == "softmax" || act == "log_softmax" {
		return &builtLayer{layer: l, req: reqAxis, axis: -1}, nil
	}
	return &builtLayer{layer: l, req: reqAny}, nil
}

func buildReLU(x *layerCtx) (*builtLayer, error) {
	opts := []graph.Opt{graph.Name(x.name)}
	if x.c.has("max_value") {
		v, err := x.c.float("max_value", 0)
		if err != nil {
			return nil, err
		}
		opts = append(opts, graph.MaxValue(v))
	}
	ns, err := x.c.float("negative_slope", 0)
	if err != nil {
		return nil, err
	}
	th, err := x.c.float("threshold", 0)
	if err != nil {
		return nil, err
	}
	opts = append(opts, graph.NegativeSlope(ns), graph.Threshold(th))
	return &builtLayer{layer: graph.ReLU(opts...), req: reqAny}, nil
}

func buildLeakyReLU(x *layerCtx) (*builtLayer, error) {
	// tf.keras and Keras 1/2: alpha (default 0.3); Keras 3:
	// negative_slope (default 0.3).
	key := "alpha"
	if x.c.has("negative_slope") {
		key = "negative_slope"
	}
	a, err := x.c.float(key, 0.3)
	if err != nil {
		return nil, err
	}
	return &builtLayer{layer: graph.LeakyReLU(graph.Name(x.name), graph.Alpha(a)), req: reqAny}, nil
}

func buildELU(x *layerCtx) (*builtLayer, error) {
	a, err := x.c.float("alpha", 1)
	if err != nil {
		return nil, err
	}
	return &builtLayer{layer: graph.ELU(graph.Name(x.name), graph.Alpha(a)), req: reqAny}, nil
}

func buildPReLU(x *layerCtx) (*builtLayer, error) {
	opts := []graph.Opt{graph.Name(x.name)}
	if x.c.has("shared_axes") {
		v := x.c.get("shared_axes")
		var axes []int
		switch t := v.(type) {
		case []any:
			if len(t) > 16 {
				return nil, x.c.errorf("shared_axes", "too many axes")
			}
			for i, e := range t {
				n, err := toInt(e, 1)
				if err != nil {
					return nil, x.c.errorf("shared_axes", "element %d: %v", i, err)
				}
				axes = append(axes, n)
			}
		default:
			n, err := toInt(v, 1)
			if err != nil {
				return nil, x.c.errorf("shared_axes", "%v", err)
			}
			axes = []int{n}
		}
		opts = append(opts, graph.SharedAxes(axes...))
	}
	return &builtLayer{layer: graph.PReLU(opts...), req: reqKeras}, nil
}

// kerasAxis reads an axis that may be written as an int or a one-element
// list (BatchNormalization in tf.keras 2.x, Softmax in Keras 3).
func (x *layerCtx) kerasAxis(key string, def int) (int, error) {
	v := x.c.get(key)
	if l, ok := v.([]any); ok {
		if len(l) != 1 {
			return 0, x.c.errorf(key, "normalizing over %d axes is not supported", len(l))
		}
		v = l[0]
	}
	if v == nil {
		return def, nil
	}
	n, err := toInt(v, -16)
	if err != nil {
		return 0, x.c.errorf(key, "%v", err)
	}
	if n > 16 {
		return 0, x.c.errorf(key, "axis %d is out of range", n)
	}
	return n, nil
}

func buildSoftmax(x *layerCtx) (*builtLayer, error) {
	axis, err := x.kerasAxis("axis", -1)
	if err != nil {
		return nil, err
	}
	l := graph.Softmax(graph.Name(x.name), graph.Axis(axis))
	return &builtLayer{layer: l, req: reqAxis, axis: axis, anyAxis: true, setAxis: func(a int) { l.Axis = a }}, nil
}

func buildBatchNorm(x *layerCtx) (*builtLayer, error) {
	if x.c.has("mode") {
		mode, err := x.c.integer("mode", 0, 0)
		if err != nil {
			return nil, err
		}
		if mode != 0 {
			return nil, x.c.errorf("mode", "Keras 1 BatchNormalization mode %d is not supported (only mode 0, feature-wise normalization with the moving statistics at inference)", mode)
		}
	}
	if err := x.refuse("renorm", isFalse, "batch renormalization is not supported"); err != nil {
		return nil, err
	}
	axis, err := x.kerasAxis("axis", -1)
	if err != nil {
		return nil, err
	}
	eps, err := x.c.float("epsilon", 1e-3)
	if err != nil {
		return nil, err
	}
	if eps < 0 {
		return nil, x.c.errorf("epsilon", "must be non-negative, got %g", eps)
	}
	mom, err := x.c.float("momentum", 0.99)
	if err != nil {
		return nil, err
	}
	center, err := x.c.boolean("center", true)
	if err != nil {
		return nil, err
	}
	scale, err := x.c.boolean("scale", true)
	if err != nil {
		return nil, err
	}
	l := graph.BatchNormalization(graph.Name(x.name), graph.Epsilon(eps), graph.Momentum(mom), graph.Center(center), graph.Scale(scale))
	return &builtLayer{layer: l, req: reqAxis, axis: axis, hint: layerHint{kerasClass: x.class}}, nil
}

func buildPool(x *layerCtx) (*builtLayer, error) {
	req, cf, err := x.spatialReq()
	if err != nil {
		return nil, err
	}
	ps, err := x.c.pair("pool_size", 2, 1)
	if err != nil {
		return nil, err
	}
	st := ps
	if x.c.has("strides") {
		if st, err = x.c.pair("strides", 1, 1); err != nil {
			return nil, err
		}
	}
	pad, err := x.padding("border_mode")
	if err != nil {
		return nil, err
	}
	opts := []graph.Opt{graph.Name(x.name), graph.Strides(st[0], st[1]), graph.Padding(pad)}
	var l graph.Layer
	if strings.HasPrefix(x.class, "Max") {
		l = graph.MaxPooling2D(ps, opts...)
	} else {
		l = graph.AveragePooling2D(ps, opts...)
	}
	return &builtLayer{layer: l, req: req, hint: layerHint{kerasClass: x.class, channelsFirst: cf}}, nil
}

func buildGlobalPool(x *layerCtx) (*builtLayer, error) {
	req, cf, err := x.spatialReq()
	if err != nil {
		return nil, err
	}
	if keep, err := x.c.boolean("keepdims", false); err != nil {
		return nil, err
	} else if keep {
		return nil, x.c.errorf("keepdims", "keepdims=True is not supported")
	}
	var l graph.Layer
	if strings.Contains(x.class, "Max") {
		l = graph.GlobalMaxPooling2D(graph.Name(x.name))
	} else {
		l = graph.GlobalAveragePooling2D(graph.Name(x.name))
	}
	return &builtLayer{layer: l, req: req, hint: layerHint{kerasClass: x.class, channelsFirst: cf}}, nil
}

// padPairs reads ZeroPadding2D's padding / Cropping2D's cropping: an int,
// a pair (symmetric per axis), or ((top, bottom), (left, right)); Keras 1
// also wrote a 4-tuple (top, bottom, left, right) or a dict.
func (x *layerCtx) padPairs(key string) ([2][2]int, error) {
	v := x.c.get(key)
	var out [2][2]int
	switch t := v.(type) {
	case nil:
		return out, x.c.errorf(key, "missing")
	case json.Number:
		n, err := toInt(t, 0)
		if err != nil {
			return out, x.c.errorf(key, "%v", err)
		}
		return [2][2]int{{n, n}, {n, n}}, nil
	case map[string]any:
		sub := cfg{m: t, where: x.c.where}
		var vals [4]int
		for i, k := range []string{"top_pad", "bottom_pad", "left_pad", "right_pad"} {
			n, err := sub.integer(k, 0, 0)
			if err != nil {
				return out, err
			}
			vals[i] = n
		}
		return [2][2]int{{vals[0], vals[1]}, {vals[2], vals[3]}}, nil
	case []any:
		switch len(t) {
		case 2:
			for i, e := range t {
				switch p := e.(type) {
				case json.Number:
					n, err := toInt(p, 0)
					if err != nil {
						return out, x.c.errorf(key, "%v", err)
					}
					out[i] = [2]int{n, n}
				case []any:
					if len(p) != 2 {
						return out, x.c.errorf(key, "want pairs, got a list of %d", len(p))
					}
					for j, q := range p {
						n, err := toInt(q, 0)
						if err != nil {
							return out, x.c.errorf(key, "%v", err)
						}
						out[i][j] = n
					}
				default:
					return out, x.c.errorf(key, "want integers or pairs, got %s", jsonKind(e))
				}
			}
			return out, nil
		case 4:
			var vals [4]int
			for i, e := range t {
				n, err := toInt(e, 0)
				if err != nil {
					return out, x.c.errorf(key, "%v", err)
				}
				vals[i] = n
			}
			return [2][2]int{{vals[0], vals[1]}, {vals[2], vals[3]}}, nil
		}
	}
	return out, x.c.errorf(key, "cannot read %s", jsonKind(v))
}

func buildZeroPadding(x *layerCtx) (*builtLayer, error) {
	req, cf, err := x.spatialReq()
	if err != nil {
		return nil, err
	}
	p, err := x.padPairs("padding")
	if err != nil {
		return nil, err
	}
	return &builtLayer{layer: graph.ZeroPadding2D(p, graph.Name(x.name)), req: req, hint: layerHint{kerasClass: x.class, channelsFirst: cf}}, nil
}

func buildCropping(x *layerCtx) (*builtLayer, error) {
	req, cf, err := x.spatialReq()
	if err != nil {
		return nil, err
	}
	p, err := x.padPairs("cropping")
	if err != nil {
		return nil, err
	}
	return &builtLayer{layer: graph.Cropping2D(p, graph.Name(x.name)), req: req, hint: layerHint{kerasClass: x.class, channelsFirst: cf}}, nil
}

func buildUpSampling(x *layerCtx) (*builtLayer, error) {
	req, cf, err := x.spatialReq()
	if err != nil {
		return nil, err
	}
	size, err := x.c.pair("size", 2, 1)
	if err != nil {
		return nil, err
	}
	interp, err := x.c.str("interpolation", "nearest")
	if err != nil {
		return nil, err
	}
	if interp != "nearest" && interp != "bilinear" {
		return nil, x.c.errorf("interpolation", "%q is not supported (nearest or bilinear)", interp)
	}
	l := graph.UpSampling2D(size, graph.Name(x.name), graph.Interpolation(interp))
	return &builtLayer{layer: l, req: req, hint: layerHint{kerasClass: x.class, channelsFirst: cf}}, nil
}

func buildRescaling(x *layerCtx) (*builtLayer, error) {
	scale, err := x.c.float("scale", math.NaN())
	if err != nil {
		return nil, fmt.Errorf("%w (per-channel scales are not supported)", err)
	}
	if math.IsNaN(scale) {
		return nil, x.c.errorf("scale", "missing")
	}
	off, err := x.c.float("offset", 0)
	if err != nil {
		return nil, fmt.Errorf("%w (per-channel offsets are not supported)", err)
	}
	return &builtLayer{layer: graph.Rescaling(scale, graph.Name(x.name), graph.Offset(off)), req: reqAny}, nil
}

func buildMerge(x *layerCtx) (*builtLayer, error) {
	var l graph.Layer
	switch x.class {
	case "Add":
		l = graph.Add(graph.Name(x.name))
	case "Multiply":
		l = graph.Multiply(graph.Name(x.name))
	case "Average":
		l = graph.Average(graph.Name(x.name))
	case "Maximum":
		l = graph.Maximum(graph.Name(x.name))
	case "Minimum":
		l = graph.Minimum(graph.Name(x.name))
	case "Subtract":
		l = graph.Subtract(graph.Name(x.name))
	}
	return &builtLayer{layer: l, req: reqAny}, nil
}

func buildConcatenate(x *layerCtx) (*builtLayer, error) {
	axis, err := x.kerasAxis("axis", -1)
	if err != nil {
		return nil, err
	}
	l := graph.Concatenate(graph.Name(x.name), graph.Axis(axis))
	return &builtLayer{layer: l, req: reqAxis, axis: axis, anyAxis: true, setAxis: func(a int) { l.Axis = a }}, nil
}

// buildKeras1Merge translates Keras 1's Merge layer (functional use: called
// on several tensors).
func buildKeras1Merge(x *layerCtx) (*builtLayer, error) {
	if x.c.has("layers") {
		return nil, x.c.errorf("layers", "a Keras 1 Merge of branch models inside a Sequential is not supported; rebuild the model with the functional API (Keras 2 or later) and re-save it")
	}
	mode, err := x.c.str("mode", "sum")
	if err != nil {
		return nil, err
	}
	if t, _ := x.c.str("mode_type", "raw"); t != "raw" {
		return nil, x.c.errorf("mode", "a Python function as merge mode cannot be loaded")
	}
	switch mode {
	case "sum":
		x.class = "Add"
	case "mul":
		x.class = "Multiply"
	case "ave":
		x.class = "Average"
	case "max":
		x.class = "Maximum"
	case "concat":
		axis, err := x.c.integer("concat_axis", -1, -16)
		if err != nil {
			return nil, err
		}
		l := graph.Concatenate(graph.Name(x.name), graph.Axis(axis))
		return &builtLayer{layer: l, req: reqAxis, axis: axis, anyAxis: true, setAxis: func(a int) { l.Axis = a }}, nil
	default:
		return nil, x.c.errorf("mode", "Keras 1 Merge mode %q is not supported (sum, mul, ave, max, concat)", mode)
	}
	return buildMerge(x)
}

func buildLambda(x *layerCtx) (*builtLayer, error) {
	return nil, fmt.Errorf("layer %q: a Lambda layer holds Python code, which cannot be loaded outside Python. "+
		"If it only rescales its input (like x/255 or x/127.5-1), replace it in Keras with a Rescaling layer and re-save the model; "+
		"otherwise implement it in Go and register it: keras.RegisterLayer(\"Lambda\", func(cfg map[string]any) (graph.Layer, error) {...}) "+
		"(cfg[\"name\"] tells the Lambda layers apart)", x.name)
}

// customLayer builds a layer with a registered LayerFunc.
func customLayer(fn LayerFunc, x *layerCtx) (*builtLayer, error) {
	m, _ := plainJSON(x.c.m).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	if _, ok := m["name"]; !ok {
		m["name"] = x.name
	}
	l, err := callLayerFunc(fn, m)
	if err != nil {
		return nil, fmt.Errorf("layer %q (%s, registered): %w", x.name, x.class, err)
	}
	if l == nil {
		return nil, fmt.Errorf("layer %q (%s, registered): the registered function returned no layer", x.name, x.class)
	}
	if got := l.Base().Name(); got != x.name {
		return nil, fmt.Errorf("layer %q (%s, registered): the registered function returned a layer named %q; pass graph.Name(cfg[\"name\"].(string))", x.name, x.class, got)
	}
	return &builtLayer{layer: l, req: reqKeras, hint: layerHint{kerasClass: x.class}}, nil
}

// callLayerFunc runs a user function, turning a panic into an error.
func callLayerFunc(fn LayerFunc, m map[string]any) (l graph.Layer, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn(m)
}

var errNoInputShape = errors.New("the model config does not say the input shape")
