package preprocess

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kerago/kerago/ops"
)

// The constants of keras.applications.imagenet_utils.preprocess_input.
var (
	// CaffeMeanBGR is the ImageNet mean pixel in BGR order, subtracted in
	// "caffe" mode after the RGB -> BGR swap.
	CaffeMeanBGR = [3]float32{103.939, 116.779, 123.68}
	// TorchMean and TorchStd are the ImageNet mean and standard deviation
	// of pixels scaled to [0, 1], RGB order, used in "torch" mode.
	TorchMean = [3]float32{0.485, 0.456, 0.406}
	TorchStd  = [3]float32{0.229, 0.224, 0.225}
)

// Preprocess is a parsed preprocessing mode (see ParsePreprocess).
type Preprocess struct {
	// Mode is "caffe", "tf", "torch", "none" or "rescale".
	Mode string
	// Scale and Offset are used by Mode "rescale": x*Scale + Offset.
	Scale, Offset float32
}

// ParsePreprocess parses a preprocessing spec:
//
//	caffe                 RGB->BGR, minus the ImageNet BGR mean (VGG16, ResNet50)
//	tf                    x/127.5 - 1, to [-1, 1] (MobileNet, Inception, Xception)
//	torch                 x/255, minus mean, divided by std, per RGB channel (DenseNet)
//	none                  leave the values alone
//	rescale:S             x*S, as keras.layers.Rescaling(S); S is a number or a/b
//	rescale:S,O           x*S + O, as keras.layers.Rescaling(S, offset=O)
//
// e.g. "rescale:1/255" or "rescale:1/127.5,-1". The first three are the
// modes of keras.applications.imagenet_utils.preprocess_input.
func ParsePreprocess(s string) (Preprocess, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "caffe", "tf", "torch", "none":
		return Preprocess{Mode: s}, nil
	}
	rest, ok := strings.CutPrefix(s, "rescale:")
	if !ok {
		return Preprocess{}, fmt.Errorf("preprocess mode %q: want caffe, tf, torch, none or rescale:<scale>[,<offset>]", s)
	}
	scaleStr, offStr, hasOff := strings.Cut(rest, ",")
	scale, err := parseNumber(scaleStr)
	if err != nil {
		return Preprocess{}, fmt.Errorf("preprocess mode %q: scale: %w", s, err)
	}
	var off float64
	if hasOff {
		if off, err = parseNumber(offStr); err != nil {
			return Preprocess{}, fmt.Errorf("preprocess mode %q: offset: %w", s, err)
		}
	}
	// Rescaling casts its Python-float arguments to float32.
	return Preprocess{Mode: "rescale", Scale: float32(scale), Offset: float32(off)}, nil
}

// parseNumber parses "0.5", "1e-3" or a fraction "1/255" (computed in
// float64, as Python's 1/255 is).
func parseNumber(s string) (float64, error) {
	s = strings.TrimSpace(s)
	num, den, isFrac := strings.Cut(s, "/")
	a, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or a/b fraction", s)
	}
	if isFrac {
		b, err := strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number or a/b fraction", s)
		}
		if b == 0 {
			return 0, fmt.Errorf("%q divides by zero", s)
		}
		a /= b
	}
	if math.IsNaN(a) || math.IsInf(a, 0) {
		return 0, fmt.Errorf("%q is not finite", s)
	}
	return a, nil
}

// String returns the spec ParsePreprocess reads back.
func (p Preprocess) String() string {
	if p.Mode != "rescale" {
		return p.Mode
	}
	s := "rescale:" + strconv.FormatFloat(float64(p.Scale), 'g', -1, 32)
	if p.Offset != 0 {
		s += "," + strconv.FormatFloat(float64(p.Offset), 'g', -1, 32)
	}
	return s
}

// Apply preprocesses t in place; see PreprocessInput.
func (p Preprocess) Apply(t *ops.Tensor) error {
	if t == nil {
		return fmt.Errorf("preprocess %s: nil tensor", p)
	}
	if len(t.Shape) == 0 || len(t.Data) != ops.NumElements(t.Shape) {
		return fmt.Errorf("preprocess %s: tensor has shape %s and %d values", p, ops.ShapeString(t.Shape), len(t.Data))
	}
	x := t.Data
	switch p.Mode {
	case "none":
	case "tf":
		for i, v := range x {
			x[i] = v/127.5 - 1
		}
	case "rescale":
		for i, v := range x {
			// The conversion keeps Go from fusing into one multiply-add;
			// Keras multiplies, then adds.
			x[i] = float32(v*p.Scale) + p.Offset
		}
	case "caffe", "torch":
		if c := t.Shape[len(t.Shape)-1]; c != 3 {
			return fmt.Errorf("preprocess %s: the last (channels) axis has size %d, want 3 (RGB, channels_last); shape %s",
				p.Mode, c, ops.ShapeString(t.Shape))
		}
		if p.Mode == "caffe" {
			for i := 0; i+2 < len(x); i += 3 {
				r, g, b := x[i], x[i+1], x[i+2]
				x[i] = b - CaffeMeanBGR[0]
				x[i+1] = g - CaffeMeanBGR[1]
				x[i+2] = r - CaffeMeanBGR[2]
			}
			break
		}
		for i := 0; i+2 < len(x); i += 3 {
			for c := 0; c < 3; c++ {
				x[i+c] = (x[i+c]/255 - TorchMean[c]) / TorchStd[c]
			}
		}
	default:
		return fmt.Errorf("preprocess: unknown mode %q (want caffe, tf, torch, none or rescale)", p.Mode)
	}
	return nil
}

// PreprocessInput is keras.applications.imagenet_utils.preprocess_input
// for channels_last float32 data (one image (H, W, 3) or a batch
// (N, H, W, 3)), computed in place in float32 as Keras does on a float32
// NumPy array. mode is any spec ParsePreprocess accepts; the Keras modes are
//
//   - "caffe" (VGG16, VGG19, ResNet50): swap RGB to BGR, then subtract the
//     ImageNet mean pixel [103.939, 116.779, 123.68] (B, G, R). No scaling:
//     values stay in about [-124, 152].
//   - "tf": x/127.5 - 1, mapping [0, 255] to [-1, 1].
//   - "torch": x/255, then (x - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225].
func PreprocessInput(t *ops.Tensor, mode string) error {
	p, err := ParsePreprocess(mode)
	if err != nil {
		return err
	}
	return p.Apply(t)
}
