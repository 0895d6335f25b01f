package ops

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
)

// The files in testdata/ hold outputs of real Keras layers and activations
// (TensorFlow backend), written by scripts/ops_reference.py.

type kerasCase struct {
	Name          string    `json:"name"`
	Op            string    `json:"op"`
	InShape       []int     `json:"in_shape"`
	In            []float32 `json:"in"`
	OutShape      []int     `json:"out_shape"`
	Out           []float32 `json:"out"`
	KernelShape   []int     `json:"kernel_shape"`
	Kernel        []float32 `json:"kernel"`
	Bias          []float32 `json:"bias"`
	Strides       []int     `json:"strides"`
	Dilation      []int     `json:"dilation"`
	Pool          []int     `json:"pool"`
	Padding       string    `json:"padding"`
	OutputPadding []int     `json:"output_padding"`
	Size          []int     `json:"size"`
	Interpolation string    `json:"interpolation"`
	Eps           float32   `json:"eps"`
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestAgainstKerasLayers(t *testing.T) {
	var file struct {
		TensorFlow string      `json:"tensorflow"`
		Keras      string      `json:"keras"`
		Cases      []kerasCase `json:"cases"`
	}
	readJSON(t, "layers.json", &file)
	worst := map[string]float64{}
	for _, c := range file.Cases {
		got, err := runKerasCase(c)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if fmt.Sprint(got.shape) != fmt.Sprint(c.OutShape) {
			t.Errorf("%s: output shape %v, Keras %v", c.Name, got.shape, c.OutShape)
			continue
		}
		d := expectClose(t, c.Name, got.data, c.Out, 1e-5)
		worst[c.Op] = max(worst[c.Op], d)
	}
	t.Logf("vs Keras %s / TF %s, worst max abs error per op: %v", file.Keras, file.TensorFlow, worst)
}

type result struct {
	shape []int
	data  []float32
}

// runKerasCase builds the parameters from the layer's configuration the
// way a model loader would, and runs the kernel.
func runKerasCase(c kerasCase) (result, error) {
	s := c.InShape
	switch c.Op {
	case "conv2d", "depthwise":
		kh, kw := c.KernelShape[0], c.KernelShape[1]
		f := c.KernelShape[3]
		if c.Op == "depthwise" {
			f *= s[3]
		}
		p, err := NewConvParams(s[0], s[1], s[2], s[3], kh, kw, f, c.Strides[0], c.Strides[1], c.Dilation[0], c.Dilation[1], c.Padding)
		if err != nil {
			return result{}, err
		}
		out := make([]float32, p.N*p.OH*p.OW*p.F)
		if c.Op == "conv2d" {
			Conv2D(out, c.In, c.Kernel, c.Bias, p)
		} else {
			DepthwiseConv2D(out, c.In, c.Kernel, c.Bias, p)
		}
		return result{[]int{p.N, p.OH, p.OW, p.F}, out}, nil
	case "transpose":
		p, err := NewConvTransposeParams(s[0], s[1], s[2], s[3], c.KernelShape[0], c.KernelShape[1], c.KernelShape[2],
			c.Strides[0], c.Strides[1], c.Dilation[0], c.Dilation[1], c.Padding, c.OutputPadding[0], c.OutputPadding[1])
		if err != nil {
			return result{}, err
		}
		out := make([]float32, p.N*p.OH*p.OW*p.F)
		Conv2DTranspose(out, c.In, c.Kernel, c.Bias, p)
		return result{[]int{p.N, p.OH, p.OW, p.F}, out}, nil
	case "maxpool", "avgpool":
		p, err := NewPoolParams(s[0], s[1], s[2], s[3], c.Pool[0], c.Pool[1], c.Strides[0], c.Strides[1], c.Padding)
		if err != nil {
			return result{}, err
		}
		out := make([]float32, p.N*p.OH*p.OW*p.C)
		if c.Op == "maxpool" {
			MaxPool2D(out, c.In, p)
		} else {
			AvgPool2D(out, c.In, p)
		}
		return result{[]int{p.N, p.OH, p.OW, p.C}, out}, nil
	case "gap", "gmp":
		out := make([]float32, s[0]*s[3])
		if c.Op == "gap" {
			GlobalAvgPool2D(out, c.In, s[0], s[1]*s[2], s[3])
		} else {
			GlobalMaxPool2D(out, c.In, s[0], s[1]*s[2], s[3])
		}
		return result{[]int{s[0], s[3]}, out}, nil
	case "dense":
		k, n := c.KernelShape[0], c.KernelShape[1]
		m := len(c.In) / k
		out := make([]float32, m*n)
		Dense(out, c.In, c.Kernel, c.Bias, m, k, n)
		return result{append(append([]int(nil), s[:len(s)-1]...), n), out}, nil
	case "batchnorm":
		// The script stores gamma, beta, moving mean and moving variance
		// as the rows of one (4, C) "kernel".
		ch := s[len(s)-1]
		w := c.Kernel
		out := make([]float32, len(c.In))
		BatchNorm(out, c.In, w[:ch], w[ch:2*ch], w[2*ch:3*ch], w[3*ch:], len(c.In)/ch, ch, c.Eps)
		return result{s, out}, nil
	case "upsampling":
		out := make([]float32, s[0]*s[1]*c.Size[0]*s[2]*c.Size[1]*s[3])
		err := UpSampling2D(out, c.In, s[0], s[1], s[2], s[3], c.Size[0], c.Size[1], c.Interpolation)
		return result{[]int{s[0], s[1] * c.Size[0], s[2] * c.Size[1], s[3]}, out}, err
	}
	return result{}, fmt.Errorf("unknown op %q in testdata", c.Op)
}

func TestAgainstKerasActivations(t *testing.T) {
	var file struct {
		X           []float32            `json:"x"`
		Activations map[string][]float32 `json:"activations"`
		ReLULayer   []struct {
			MaxValue      float32   `json:"max_value"`
			NegativeSlope float32   `json:"negative_slope"`
			Threshold     float32   `json:"threshold"`
			Out           []float32 `json:"out"`
		} `json:"relu_layer"`
		ELU        []float32 `json:"elu_layer_alpha_0.5"`
		Leaky      []float32 `json:"leaky_relu_layer_0.3"`
		SoftmaxIn  []float32 `json:"softmax_in"`
		SoftmaxOut []float32 `json:"softmax_out"`
	}
	readJSON(t, "activations.json", &file)
	if len(file.Activations) < 20 {
		t.Fatalf("only %d activations in testdata", len(file.Activations))
	}
	// TF's float32 kernels are not correctly rounded: allow a few ulps.
	check := func(what string, got, want []float32) float64 {
		t.Helper()
		worst := 0.0
		for i := range want {
			d := math.Abs(float64(got[i]) - float64(want[i]))
			rel := d / math.Max(1, math.Abs(float64(want[i])))
			worst = max(worst, rel)
			if rel > 1e-6 {
				t.Errorf("%s(%v) = %v, Keras %v", what, file.X[i], got[i], want[i])
			}
		}
		return worst
	}
	worst := 0.0
	for key, want := range file.Activations {
		var f func([]float32)
		switch key {
		case "keras/hard_sigmoid": // Keras 3 changed hard_sigmoid
			f = HardSigmoidKeras3
		case "tf_keras/gelu approximate", "keras/gelu approximate":
			f = GELUApprox
		default:
			name := key[len("keras/"):]
			if key[:3] == "tf_" {
				name = key[len("tf_keras/"):]
			}
			var err error
			if f, err = Activation(name); err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
		}
		x := append([]float32(nil), file.X...)
		f(x)
		worst = max(worst, check(key, x, want))
	}
	for _, r := range file.ReLULayer {
		x := append([]float32(nil), file.X...)
		ReLU(x, r.MaxValue, r.NegativeSlope, r.Threshold)
		worst = max(worst, check(fmt.Sprintf("ReLU(max %v, slope %v, threshold %v)", r.MaxValue, r.NegativeSlope, r.Threshold), x, r.Out))
	}
	x := append([]float32(nil), file.X...)
	ELU(x, 0.5)
	worst = max(worst, check("ELU(0.5)", x, file.ELU))
	x = append([]float32(nil), file.X...)
	LeakyReLU(x, 0.3)
	worst = max(worst, check("LeakyReLU(0.3)", x, file.Leaky))
	sm := append([]float32(nil), file.SoftmaxIn...)
	Softmax(sm, 3, 5)
	worst = max(worst, check("softmax", sm, file.SoftmaxOut))
	t.Logf("activations vs Keras: worst relative error %.3g over %d functions", worst, len(file.Activations)+len(file.ReLULayer)+3)
}
