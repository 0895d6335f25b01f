package preprocess_test

import (
	"fmt"

	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/preprocess"
)

// VGG16 expects "caffe" preprocessing: the network was trained in Caffe,
// which loads images as BGR and only subtracts the mean pixel of the
// training set, so the input must be BGR with that mean removed, with no
// scaling to [0, 1].
func ExamplePreprocessInput() {
	// One image of one pixel: pure orange, R=255 G=128 B=0, channels last.
	x, _ := ops.FromData([]float32{255, 128, 0}, 1, 1, 1, 3)

	if err := preprocess.PreprocessInput(x, "caffe"); err != nil {
		fmt.Println(err)
		return
	}
	// Channel 0 is now blue: 0 - 103.939; then green 128 - 116.779 and
	// red 255 - 123.68.
	fmt.Printf("caffe: %.3f\n", x.Data)

	y, _ := ops.FromData([]float32{255, 128, 0}, 1, 1, 1, 3)
	preprocess.PreprocessInput(y, "tf") // x/127.5 - 1
	fmt.Printf("tf:    %.3f\n", y.Data)
	// Output:
	// caffe: [-103.939 11.221 131.320]
	// tf:    [1.000 0.004 -1.000]
}

// The whole Keras recipe for one image: load_img, img_to_array, a batch
// axis, preprocess_input.
func ExampleLoadImg() {
	img, err := preprocess.LoadImg("testdata/images/big.png", preprocess.LoadImgOptions{
		TargetSize:    [2]int{224, 224}, // (height, width)
		Interpolation: "nearest",        // load_img's default; Pillow's rule
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, _ := preprocess.ImgToArray(img) // (224, 224, 3), values 0..255
	batch, _ := preprocess.ExpandDims(x)
	preprocess.PreprocessInput(batch, "caffe")
	fmt.Println(img.Mode, img.Width, img.Height, batch.Shape)
	// Output:
	// RGB 224 224 [1 224 224 3]
}

func ExampleParsePreprocess() {
	for _, s := range []string{"torch", "rescale:1/255", "rescale:1/127.5,-1"} {
		p, err := preprocess.ParsePreprocess(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-20s mode=%s scale=%g offset=%g\n", s, p.Mode, p.Scale, p.Offset)
	}
	_, err := preprocess.ParsePreprocess("caffee")
	fmt.Println(err)
	// Output:
	// torch                mode=torch scale=0 offset=0
	// rescale:1/255        mode=rescale scale=0.003921569 offset=0
	// rescale:1/127.5,-1   mode=rescale scale=0.007843138 offset=-1
	// preprocess mode "caffee": want caffe, tf, torch, none or rescale:<scale>[,<offset>]
}
