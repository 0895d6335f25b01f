package ops_test

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// The example of the CNN course: a 5x5 binary image filtered with a 3x3
// vertical-edge kernel, without padding ("valid"), at strides 1 and 2.
func ExampleConv2D() {
	image := []float32{ // (1, 5, 5, 1)
		1, 1, 1, 0, 0,
		0, 1, 1, 1, 0,
		0, 0, 1, 1, 1,
		0, 0, 1, 1, 0,
		0, 1, 1, 0, 0,
	}
	kernel := []float32{ // (3, 3, 1, 1)
		1, 0, -1,
		1, 0, -1,
		1, 0, -1,
	}
	for _, stride := range []int{1, 2} {
		p, err := ops.NewConvParams(1, 5, 5, 1, 3, 3, 1, stride, stride, 1, 1, "valid")
		if err != nil {
			fmt.Println(err)
			return
		}
		out := make([]float32, p.N*p.OH*p.OW*p.F)
		ops.Conv2D(out, image, kernel, nil, p)
		fmt.Printf("stride %d -> %dx%d\n", stride, p.OH, p.OW)
		for y := 0; y < p.OH; y++ {
			fmt.Println(out[y*p.OW : (y+1)*p.OW])
		}
	}
	// Output:
	// stride 1 -> 3x3
	// [-2 0 2]
	// [-3 -2 2]
	// [-3 -1 2]
	// stride 2 -> 2x2
	// [-2 2]
	// [-3 2]
}

// ConvOutput gives Keras's output size and padding along one axis.
func ExampleConvOutput() {
	for _, n := range []int{5, 6} {
		out, before, after, _ := ops.ConvOutput(n, 3, 2, 1, "same")
		fmt.Printf("n=%d: out %d, pad %d before, %d after\n", n, out, before, after)
	}
	_, _, _, err := ops.ConvOutput(2, 3, 1, 1, "valid")
	fmt.Println(err)
	// Output:
	// n=5: out 3, pad 1 before, 1 after
	// n=6: out 3, pad 0 before, 1 after
	// padding "valid": input size 2 is smaller than the kernel size 3
}
