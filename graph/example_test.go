package graph_test

import (
	"fmt"
	"strings"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/ops"
)

// The course's first convolution: 8 filters of 3×3 over a 1000×1500 RGB
// image, stride 2, "same" padding.
func ExampleModel_Summary() {
	graph.ResetNames()
	x := graph.Input(1000, 1500, 3)
	y := graph.Call(graph.Conv2D(8, [2]int{3, 3}, graph.Strides(2, 2), graph.Padding("same")), x)
	m, err := graph.NewModel([]*graph.Node{x}, []*graph.Node{y}, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Keras pads every row with spaces to the table's width; they are
	// trimmed here only because examples cannot show trailing spaces.
	for _, line := range strings.Split(strings.TrimSuffix(m.Summary(), "\n"), "\n") {
		fmt.Println(strings.TrimRight(line, " "))
	}
	// Output:
	// Model: "model"
	// _________________________________________________________________
	// Layer (type)                 Output Shape              Param #
	// =================================================================
	// input_1 (InputLayer)         [(None, 1000, 1500, 3)]   0
	// _________________________________________________________________
	// conv2d (Conv2D)              (None, 500, 750, 8)       224
	// =================================================================
	// Total params: 224
	// Trainable params: 224
	// Non-trainable params: 0
	// _________________________________________________________________
}

// A vertical-edge filter on the course's 5×5 image: the kernel's rows are
// 1 0 -1, so each output is (left column) - (right column) of its window.
func ExampleModel_Predict() {
	x := graph.Input(5, 5, 1)
	conv := graph.Conv2D(1, [2]int{3, 3}, graph.UseBias(false))
	y := graph.Call(conv, x)
	m, _ := graph.NewModel([]*graph.Node{x}, []*graph.Node{y}, "")
	kernel := []float32{1, 0, -1, 1, 0, -1, 1, 0, -1} // (3, 3, 1, 1)
	if err := conv.SetWeights([][]float32{kernel}, [][]int{{3, 3, 1, 1}}); err != nil {
		fmt.Println(err)
		return
	}
	img, _ := ops.FromData([]float32{
		1, 1, 1, 0, 0,
		0, 1, 1, 1, 0,
		0, 0, 1, 1, 1,
		0, 0, 1, 1, 0,
		0, 1, 1, 0, 0,
	}, 1, 5, 5, 1)
	out, _ := m.Predict(img)
	for i := 0; i < 3; i++ {
		fmt.Println(out[0].Data[i*3 : i*3+3])
	}
	// Output:
	// [-2 0 2]
	// [-3 -2 2]
	// [-3 -1 2]
}
