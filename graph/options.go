package graph

import "fmt"

// Opt is a Keras keyword argument for a layer constructor:
//
//	graph.Conv2D(64, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"), graph.Name("block1_conv1"))
//
// Arguments not given keep Keras's defaults. An argument that the layer does
// not take is reported as an error when the layer is called.
type Opt func(*kwargs)

type kwargs struct {
	set map[string]bool

	name          string
	strides       [2]int
	padding       string
	dilation      [2]int
	activation    string
	useBias       bool
	trainable     bool
	depthMult     int
	outputPadding [2]int
	interpolation string
	axis          int
	epsilon       float64
	center, scale bool
	momentum      float64
	maxValue      float64
	negativeSlope float64
	threshold     float64
	alpha         float64
	sharedAxes    []int
	offset        float64
	dataFormat    string
}

func (k *kwargs) mark(s string) {
	if k.set == nil {
		k.set = map[string]bool{}
	}
	k.set[s] = true
}

func parseOpts(opts []Opt) *kwargs {
	k := &kwargs{}
	for _, o := range opts {
		if o != nil {
			o(k)
		}
	}
	return k
}

// only reports an error for any argument given that is not in allowed.
func (k *kwargs) only(allowed ...string) error {
	ok := map[string]bool{"name": true, "trainable": true}
	for _, a := range allowed {
		ok[a] = true
	}
	for s := range k.set {
		if !ok[s] {
			return fmt.Errorf("unexpected keyword argument %q", s)
		}
	}
	return nil
}

func (k *kwargs) has(s string) bool { return k.set[s] }

// Name sets the layer's name (default: Keras's automatic name).
func Name(n string) Opt { return func(k *kwargs) { k.name = n; k.mark("name") } }

// Strides sets the strides of a convolution or pooling layer.
func Strides(h, w int) Opt { return func(k *kwargs) { k.strides = [2]int{h, w}; k.mark("strides") } }

// Padding sets "valid" (default) or "same".
func Padding(p string) Opt { return func(k *kwargs) { k.padding = p; k.mark("padding") } }

// DilationRate sets a convolution's dilation.
func DilationRate(h, w int) Opt {
	return func(k *kwargs) { k.dilation = [2]int{h, w}; k.mark("dilation_rate") }
}

// Activation sets the activation applied after a Conv or Dense layer.
func Activation(a string) Opt { return func(k *kwargs) { k.activation = a; k.mark("activation") } }

// UseBias sets whether a layer has a bias (default true).
func UseBias(b bool) Opt { return func(k *kwargs) { k.useBias = b; k.mark("use_bias") } }

// Trainable sets whether the layer's weights are trainable (default true).
func Trainable(t bool) Opt { return func(k *kwargs) { k.trainable = t; k.mark("trainable") } }

// DepthMultiplier sets a depthwise convolution's channel multiplier (default 1).
func DepthMultiplier(m int) Opt {
	return func(k *kwargs) { k.depthMult = m; k.mark("depth_multiplier") }
}

// OutputPadding sets Conv2DTranspose's output_padding.
func OutputPadding(h, w int) Opt {
	return func(k *kwargs) { k.outputPadding = [2]int{h, w}; k.mark("output_padding") }
}

// Interpolation sets UpSampling2D's "nearest" (default) or "bilinear".
func Interpolation(s string) Opt {
	return func(k *kwargs) { k.interpolation = s; k.mark("interpolation") }
}

// Axis sets the axis of Concatenate, BatchNormalization or Softmax (default -1).
func Axis(a int) Opt { return func(k *kwargs) { k.axis = a; k.mark("axis") } }

// Epsilon sets BatchNormalization's epsilon (default 0.001).
func Epsilon(e float64) Opt { return func(k *kwargs) { k.epsilon = e; k.mark("epsilon") } }

// Center sets whether BatchNormalization has beta (default true).
func Center(c bool) Opt { return func(k *kwargs) { k.center = c; k.mark("center") } }

// Scale sets whether BatchNormalization has gamma (default true).
func Scale(s bool) Opt { return func(k *kwargs) { k.scale = s; k.mark("scale") } }

// Momentum sets BatchNormalization's momentum (kept for saving; inference ignores it).
func Momentum(m float64) Opt { return func(k *kwargs) { k.momentum = m; k.mark("momentum") } }

// MaxValue sets ReLU's max_value.
func MaxValue(v float64) Opt { return func(k *kwargs) { k.maxValue = v; k.mark("max_value") } }

// NegativeSlope sets ReLU's negative_slope.
func NegativeSlope(v float64) Opt {
	return func(k *kwargs) { k.negativeSlope = v; k.mark("negative_slope") }
}

// Threshold sets ReLU's threshold.
func Threshold(v float64) Opt { return func(k *kwargs) { k.threshold = v; k.mark("threshold") } }

// Alpha sets LeakyReLU's or ELU's alpha.
func Alpha(v float64) Opt { return func(k *kwargs) { k.alpha = v; k.mark("alpha") } }

// SharedAxes sets PReLU's shared_axes (1-based axes of the batch-first shape).
func SharedAxes(axes ...int) Opt {
	return func(k *kwargs) { k.sharedAxes = append([]int(nil), axes...); k.mark("shared_axes") }
}

// Offset sets Rescaling's offset.
func Offset(v float64) Opt { return func(k *kwargs) { k.offset = v; k.mark("offset") } }

// DataFormat sets a layer's data_format; only "channels_last" is supported
// (the keras package converts channels_first models).
func DataFormat(f string) Opt { return func(k *kwargs) { k.dataFormat = f; k.mark("data_format") } }

// common applies name/trainable and checks the allowed arguments.
func (k *kwargs) common(b *LayerBase, self Layer, class string, allowed ...string) {
	b.Init(self, class, k.name)
	if k.has("trainable") {
		b.trainable = k.trainable
	}
	if err := k.only(allowed...); err != nil {
		b.SetError(err)
	}
	if k.has("data_format") && k.dataFormat != "channels_last" {
		b.SetError(fmt.Errorf("data_format %q is not supported (channels_last only)", k.dataFormat))
	}
}

func checkPadding(p string) error {
	if p != "valid" && p != "same" {
		return fmt.Errorf("padding must be \"valid\" or \"same\", got %q", p)
	}
	return nil
}

func pair(v [2]int, def int) [2]int {
	if v == [2]int{} {
		return [2]int{def, def}
	}
	return v
}
