package vgg16

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
)

// The reference summaries are printed by real Keras (the print_summary of
// the keras 2.6.0 wheel run on tf_keras's VGG16, see
// scripts/keras_ref_summary.py) into testdata/summary/.
const summaryDir = "../testdata/summary"

func readRef(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(summaryDir, name))
	if err != nil {
		t.Fatalf("reference summary missing (run scripts/gen_reference.sh): %v", err)
	}
	return string(b)
}

// firstDiff describes the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, a, b)
		}
	}
	return "texts are equal"
}

func TestSummaryMatchesKeras(t *testing.T) {
	for _, c := range []struct {
		ref  string
		opts Options
	}{
		{"vgg16.txt", Options{IncludeTop: true}},
		{"vgg16_notop.txt", Options{}},
		{"vgg16_notop_160_avg.txt", Options{InputShape: []int{160, 160, 3}, Pooling: "avg"}},
	} {
		t.Run(c.ref, func(t *testing.T) {
			want := readRef(t, c.ref)
			graph.ResetNames() // a fresh Keras session: input_1
			m, err := New(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Summary(); got != want {
				t.Errorf("summary differs from Keras's; %s", firstDiff(got, want))
			}
		})
	}
}

// TestTransferSummaryMatchesKeras is the course's transfer-learning model:
// a frozen VGG16 base inside a Sequential.
func TestTransferSummaryMatchesKeras(t *testing.T) {
	want := readRef(t, "transfer_vgg16.txt")
	graph.ResetNames()
	base, err := New(Options{InputShape: []int{160, 160, 3}})
	if err != nil {
		t.Fatal(err)
	}
	base.SetTrainable(false)
	m, err := graph.Sequential("", []int{160, 160, 3}, base, graph.Flatten(), graph.Dense(1, graph.Activation("sigmoid")))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Summary(); got != want {
		t.Errorf("summary differs from Keras's; %s", firstDiff(got, want))
	}
}

// TestLayersMatchKeras checks every layer's name, class, output shape and
// parameter count against the JSON Keras wrote next to the summaries, and
// the figures published for VGG16 (keras.io applications table, the
// course's printout).
func TestLayersMatchKeras(t *testing.T) {
	type refLayer struct {
		Name        string `json:"name"`
		ClassName   string `json:"class_name"`
		OutputShape string `json:"output_shape"`
		Params      int    `json:"params"`
	}
	type ref struct {
		Total  int        `json:"total_params"`
		Layers []refLayer `json:"layers"`
	}
	for _, c := range []struct {
		name  string
		opts  Options
		total int // published figure
	}{
		{"vgg16", Options{IncludeTop: true}, 138357544},
		{"vgg16_notop", Options{}, 14714688},
		{"vgg16_notop_160_avg", Options{InputShape: []int{160, 160, 3}, Pooling: "avg"}, 14714688},
	} {
		var r ref
		if err := json.Unmarshal([]byte(readRef(t, c.name+".json")), &r); err != nil {
			t.Fatal(err)
		}
		graph.ResetNames()
		m, err := New(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if r.Total != c.total || m.CountParams() != c.total {
			t.Errorf("%s: %d params, Keras %d, published %d", c.name, m.CountParams(), r.Total, c.total)
		}
		layers := m.Layers()
		if len(layers) != len(r.Layers) {
			t.Fatalf("%s: %d layers, Keras has %d", c.name, len(layers), len(r.Layers))
		}
		for i, l := range layers {
			b := l.Base()
			got := refLayer{b.Name(), b.Class(), "", b.CountParams()}
			want := r.Layers[i]
			want.OutputShape = ""
			if got != want {
				t.Errorf("%s layer %d: got %+v, Keras %+v", c.name, i, got, want)
			}
		}
	}
	// Per-layer counts as published with the course's printout.
	graph.ResetNames()
	m, _ := New(Options{IncludeTop: true})
	published := map[string]int{"block1_conv1": 1792, "block1_conv2": 36928, "block2_conv1": 73856,
		"block2_conv2": 147584, "block3_conv1": 295168, "block3_conv2": 590080, "block4_conv1": 1180160,
		"block4_conv2": 2359808, "block5_conv3": 2359808, "fc1": 102764544, "fc2": 16781312, "predictions": 4097000}
	for name, n := range published {
		if got := m.Layer(name).Base().CountParams(); got != n {
			t.Errorf("%s: %d params, published %d", name, got, n)
		}
	}
	// Keras's weight shapes: HWIO kernels, Dense (in, out).
	for name, shape := range map[string][]int{"block1_conv1": {3, 3, 3, 64}, "block3_conv1": {3, 3, 128, 256}, "fc1": {25088, 4096}, "predictions": {4096, 1000}} {
		if got := m.Layer(name).Base().Weights()[0].Shape; fmt.Sprint(got) != fmt.Sprint(shape) {
			t.Errorf("%s kernel shape %v, want %v", name, got, shape)
		}
	}
}

// TestOptionErrors checks Keras's argument validation (messages from
// keras/src/applications/vgg16.py and imagenet_utils.obtain_input_shape).
func TestOptionErrors(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{IncludeTop: true, ImageNet: true, Classes: 10}, "classes should be 1000"},
		{Options{IncludeTop: true, ImageNet: true, InputShape: []int{160, 160, 3}}, "input_shape should be (224, 224, 3)"},
		{Options{ImageNet: true, InputShape: []int{64, 64, 1}}, "3 channels"},
		{Options{InputShape: []int{31, 64, 3}}, "at least 32x32"},
		{Options{IncludeTop: true, InputShape: []int{-1, -1, 3}}, "static input_shape"},
		{Options{InputShape: []int{64, 64}}, "(height, width, channels)"},
		{Options{Pooling: "mean"}, "pooling"},
		{Options{IncludeTop: true, ImageNet: true, ClassifierActivation: "relu"}, "classifier_activation"},
		{Options{IncludeTop: true, Classes: -3}, "classes must be positive"},
	} {
		graph.ResetNames()
		_, err := New(c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) error = %v, want it to mention %q", c.opts, err, c.want)
		}
	}
	// Allowed without the ImageNet weights (weights=None).
	graph.ResetNames()
	m, err := New(Options{IncludeTop: true, InputShape: []int{64, 64, 1}, Classes: 10, ClassifierActivation: "sigmoid"})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Layer("fc1").Base().Weights()[0].Shape; got[0] != 2*2*512 {
		t.Errorf("64x64 input: fc1 kernel %v, want (2048, 4096)", got)
	}
}

func TestInitRandomIsGlorotUniform(t *testing.T) {
	graph.ResetNames()
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	InitRandom(m, 7)
	for _, name := range []string{"block1_conv1", "block4_conv2"} {
		ws := m.Layer(name).Base().Weights()
		k, s := ws[0].Data, ws[0].Shape
		// Glorot uniform: U(-l, l), l = sqrt(6 / (9·in + 9·out)); variance l²/3.
		limit := sqrtf(6 / float64(9*s[2]+9*s[3]))
		var sum, sq float64
		for _, v := range k {
			if float64(v) < -limit || float64(v) > limit {
				t.Fatalf("%s: %g outside ±%g", name, v, limit)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(k))
		mean, variance := sum/n, sq/n
		if want := limit * limit / 3; abs(variance-want) > 0.05*want || abs(mean) > 4*limit/sqrtf(3*n) {
			t.Errorf("%s: mean %g variance %g, want 0 and %g", name, mean, variance, want)
		}
		for _, b := range ws[1].Data {
			if b != 0 {
				t.Fatalf("%s: bias %g, Keras initialises biases to zero", name, b)
			}
		}
	}
	// The same seed gives the same model.
	graph.ResetNames()
	m2, _ := New(Options{})
	InitRandom(m2, 7)
	if m2.Layer("block2_conv1").Base().Weights()[0].Data[123] != m.Layer("block2_conv1").Base().Weights()[0].Data[123] {
		t.Error("InitRandom is not deterministic")
	}
}

func sqrtf(x float64) float64 { return math.Sqrt(x) }
func abs(x float64) float64   { return math.Abs(x) }
