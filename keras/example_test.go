package keras_test

import (
	"fmt"
	"log"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
)

// Load a whole model from a Keras 3 .keras archive. This one has
// channels_first layers: its input is given in Keras's NCHW layout. (Keras 3
// reports the same parameter count and output shapes.)
func ExampleLoadModel() {
	m, err := keras.LoadModel("testdata/channels_first_layers.keras")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Name(), "input", m.Inputs()[0].Shape, "params", m.CountParams())
	for _, o := range m.Outputs() {
		fmt.Println("output", o.Shape)
	}
	// Output:
	// channels_first_layers input (None, 3, 8, 9) params 1442
	// output (None, 5)
	// output (None, 5, 20, 5)
	// output (None, 1000)
}

// Load the weights of a Keras 1 style weights file, like the ImageNet
// VGG16 files, into a model built in Go: layers are paired by position,
// not by name.
func ExampleLoadWeights() {
	x := graph.InputNamed("input_1", 8, 8, 3)
	y := graph.Call(graph.Conv2D(4, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"), graph.Name("conv_a")), x)
	y = graph.Call(graph.Conv2D(4, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"), graph.Name("conv_b")), y)
	y = graph.Call(graph.MaxPooling2D([2]int{2, 2}), y)
	y = graph.Call(graph.Conv2D(6, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu")), y)
	y = graph.Call(graph.MaxPooling2D([2]int{2, 2}), y)
	y = graph.Call(graph.Flatten(), y)
	y = graph.Call(graph.Dense(5, graph.Activation("relu")), y)
	y = graph.Call(graph.Dense(3, graph.Activation("softmax")), y)
	m, err := graph.NewModel([]*graph.Node{x}, []*graph.Node{y}, "small_vgg")
	if err != nil {
		log.Fatal(err)
	}
	if err := keras.LoadWeights(m, "testdata/k1_vgg_style_weights.h5", keras.LoadWeightsOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded", m.CountParams(), "parameters")

	// A model whose last layer has the wrong size is refused, naming it.
	z := graph.Call(graph.Dense(4, graph.Name("head")), m.Layers()[len(m.Layers())-2].Base().Output())
	bad, _ := graph.NewModel([]*graph.Node{x}, []*graph.Node{z}, "bad")
	fmt.Println(keras.LoadWeights(bad, "testdata/k1_vgg_style_weights.h5", keras.LoadWeightsOptions{}) != nil)
	// Output:
	// loaded 625 parameters
	// true
}

// Inspect tells who wrote a file and what is in it, without loading the
// weights' values.
func ExampleInspect() {
	fi, err := keras.Inspect("testdata/k1_vgg_style_weights.h5")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fi.Format, "|", fi.Era())
	for _, l := range fi.Layers[:3] {
		fmt.Println(l.Name, l.Weights)
	}
	// Output:
	// h5-weights | Keras 1 (version not recorded)
	// block1_conv1 [{block1_conv1_W_1:0 [3 3 3 4]} {block1_conv1_b_1:0 [4]}]
	// block1_conv2 [{block1_conv2_W_1:0 [3 3 4 4]} {block1_conv2_b_1:0 [4]}]
	// block1_pool []
}
