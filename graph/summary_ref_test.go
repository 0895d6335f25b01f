package graph_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	g "github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/vgg16"
)

// Each builder mirrors, line for line, the Keras model of the same name in
// scripts/keras_ref_summary.py; testdata/summary/<name>.txt is what real
// Keras (tf.keras 2.6's print_summary) printed for it.
var summaryModels = map[string]func() (*g.Model, error){
	"course_conv": func() (*g.Model, error) {
		in := g.Input(1000, 1500, 3)
		x := g.Call(g.Conv2D(8, [2]int{3, 3}), in)
		return g.NewModel([]*g.Node{in}, []*g.Node{x}, "")
	},
	"course_conv_stride": func() (*g.Model, error) {
		in := g.Input(1000, 1500, 3)
		x := g.Call(g.Conv2D(8, [2]int{3, 3}, g.Strides(2, 2)), in)
		return g.NewModel([]*g.Node{in}, []*g.Node{x}, "")
	},
	"course_conv_same": func() (*g.Model, error) {
		in := g.Input(1000, 1500, 3)
		x := g.Call(g.Conv2D(8, [2]int{3, 3}, g.Strides(2, 2), g.Padding("same")), in)
		return g.NewModel([]*g.Node{in}, []*g.Node{x}, "")
	},
	"course_conv_activation_layer": func() (*g.Model, error) {
		in := g.Input(1000, 1500, 3)
		x := g.Call(g.Conv2D(8, [2]int{3, 3}, g.Strides(2, 2), g.Padding("same")), in)
		x = g.Call(g.NewActivation("relu"), x)
		return g.NewModel([]*g.Node{in}, []*g.Node{x}, "")
	},
	"course_maxpool":   func() (*g.Model, error) { return courseHead(0) },
	"course_flatten":   func() (*g.Model, error) { return courseHead(1) },
	"course_gap":       func() (*g.Model, error) { return courseHead(2) },
	"course_dense":     func() (*g.Model, error) { return courseHead(3) },
	"course_exercise5": exercise5,
	"vgg16":            func() (*g.Model, error) { return vgg16.New(vgg16.Options{IncludeTop: true}) },
	"vgg16_notop":      func() (*g.Model, error) { return vgg16.New(vgg16.Options{}) },
	"vgg16_notop_160_avg": func() (*g.Model, error) {
		return vgg16.New(vgg16.Options{InputShape: []int{160, 160, 3}, Pooling: "avg"})
	},
	"toy_resnet": func() (*g.Model, error) {
		conv := func(f int, o ...g.Opt) *g.Conv2DLayer {
			return g.Conv2D(f, [2]int{3, 3}, append([]g.Opt{g.Activation("relu")}, o...)...)
		}
		inputs := g.InputNamed("img", 32, 32, 3)
		x := g.Call(conv(32), inputs)
		x = g.Call(conv(64), x)
		block1 := g.Call(g.MaxPooling2D([2]int{3, 3}), x)
		x = g.Call(conv(64, g.Padding("same")), block1)
		x = g.Call(conv(64, g.Padding("same")), x)
		block2 := g.Call(g.Add(), x, block1)
		x = g.Call(conv(64, g.Padding("same")), block2)
		x = g.Call(conv(64, g.Padding("same")), x)
		block3 := g.Call(g.Add(), x, block2)
		x = g.Call(conv(64), block3)
		x = g.Call(g.GlobalAveragePooling2D(), x)
		x = g.Call(g.Dense(256, g.Activation("relu")), x)
		x = g.Call(g.Dropout(0.5), x)
		out := g.Call(g.Dense(10), x)
		return g.NewModel([]*g.Node{inputs}, []*g.Node{out}, "toy_resnet")
	},
	"sequential_batchnorm": func() (*g.Model, error) {
		return g.Sequential("", []int{160, 160, 3},
			g.Rescaling(1.0/255),
			g.Conv2D(16, [2]int{3, 3}, g.Padding("same"), g.Activation("relu")),
			g.BatchNormalization(),
			g.MaxPooling2D([2]int{2, 2}),
			g.Conv2D(32, [2]int{3, 3}, g.Padding("same"), g.Activation("relu")),
			g.BatchNormalization(),
			g.MaxPooling2D([2]int{2, 2}),
			g.Flatten(),
			g.Dropout(0.5),
			g.Dense(1, g.Activation("sigmoid")),
		)
	},
	"transfer_vgg16": func() (*g.Model, error) {
		base, err := vgg16.New(vgg16.Options{InputShape: []int{160, 160, 3}})
		if err != nil {
			return nil, err
		}
		base.SetTrainable(false)
		return g.Sequential("", []int{160, 160, 3}, base, g.Flatten(), g.Dense(1, g.Activation("sigmoid")))
	},
}

// courseHead builds the course's steps on a 1000×1500×3 image: conv (stride
// 2, same, relu), MaxPool2D, then Flatten (1), GlobalAveragePooling2D (2) or
// GlobalAveragePooling2D + Dense 32 relu + Dense 4 softmax (3).
func courseHead(step int) (*g.Model, error) {
	in := g.Input(1000, 1500, 3)
	x := g.Call(g.Conv2D(8, [2]int{3, 3}, g.Strides(2, 2), g.Padding("same"), g.Activation("relu")), in)
	x = g.Call(g.MaxPooling2D([2]int{2, 2}), x)
	switch step {
	case 1:
		x = g.Call(g.Flatten(), x)
	case 2:
		x = g.Call(g.GlobalAveragePooling2D(), x)
	case 3:
		x = g.Call(g.GlobalAveragePooling2D(), x)
		x = g.Call(g.Dense(32, g.Activation("relu")), x)
		x = g.Call(g.Dense(4, g.Activation("softmax")), x)
	}
	return g.NewModel([]*g.Node{in}, []*g.Node{x}, "")
}

func exercise5() (*g.Model, error) {
	in := g.Input(160, 160, 3)
	x := g.Call(g.Conv2D(16, [2]int{3, 3}, g.Padding("same"), g.Activation("relu")), in)
	x = g.Call(g.MaxPooling2D([2]int{2, 2}), x)
	x = g.Call(g.Conv2D(32, [2]int{3, 3}, g.Padding("same"), g.Activation("relu")), x)
	x = g.Call(g.MaxPooling2D([2]int{2, 2}), x)
	x = g.Call(g.Conv2D(64, [2]int{3, 3}, g.Padding("same"), g.Activation("relu")), x)
	x = g.Call(g.Flatten(), x)
	x = g.Call(g.Dense(32, g.Activation("relu")), x)
	out := g.Call(g.Dense(1, g.Activation("sigmoid")), x)
	return g.NewModel([]*g.Node{in}, []*g.Node{out}, "")
}

func TestSummaryMatchesKeras(t *testing.T) {
	files, _ := filepath.Glob("../testdata/summary/*.txt")
	n := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		if strings.Contains(name, ".") { // other eras' formats
			continue
		}
		n++
		build, ok := summaryModels[name]
		if !ok {
			t.Errorf("%s: no Go mirror of this Keras model", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			g.ResetNames()
			m, err := build()
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Summary(); got != string(want) {
				t.Errorf("summary differs from Keras's\n--- got\n%s\n--- want\n%s", got, want)
			}
		})
	}
	if n < len(summaryModels) {
		t.Errorf("found %d reference summaries, want %d (run scripts/gen_reference.sh)", n, len(summaryModels))
	}
}
