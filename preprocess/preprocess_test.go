package preprocess

import (
	"strings"
	"testing"

	"github.com/kerago/kerago/ops"
)

// TestPreprocessInputMatchesKeras compares every mode with the float32
// output of keras.applications.imagenet_utils.preprocess_input (and
// keras.layers.Rescaling for the rescale specs), bit for bit.
func TestPreprocessInputMatchesKeras(t *testing.T) {
	ref := openNPZ(t, "testdata/preprocess.npz")
	x, shape := ref.array("x")
	for _, c := range []struct{ spec, key string }{
		{"caffe", "caffe"},
		{"tf", "tf"},
		{"torch", "torch"},
		{"caffe", "vgg16"},
		{"rescale:1/255", "rescale_1_255"},
		{"rescale:1/127.5,-1", "rescale_127_5_off"},
		{" rescale: 1 / 127.5 , -1 ", "rescale_127_5_off"},
	} {
		t.Run(c.spec+"="+c.key, func(t *testing.T) {
			want, wshape := ref.array(c.key)
			if !shapeEq(wshape, shape) {
				t.Fatalf("reference shape %v, input %v", wshape, shape)
			}
			tt, err := ops.FromData(append([]float32(nil), x...), shape...)
			if err != nil {
				t.Fatal(err)
			}
			if err := PreprocessInput(tt, c.spec); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if tt.Data[i] != want[i] {
					t.Fatalf("value %d (input %g): got %g, Keras %g", i, x[i], tt.Data[i], want[i])
				}
			}
		})
	}
	// A single (H, W, 3) image works the same way.
	x3, s3 := ref.array("x3")
	want3, _ := ref.array("caffe3")
	tt, _ := ops.FromData(x3, s3...)
	if err := PreprocessInput(tt, "caffe"); err != nil {
		t.Fatal(err)
	}
	for i := range want3 {
		if tt.Data[i] != want3[i] {
			t.Fatalf("3-D caffe value %d: got %g, Keras %g", i, tt.Data[i], want3[i])
		}
	}
	// "none" leaves the data alone.
	tn, _ := ops.FromData(append([]float32(nil), x...), shape...)
	if err := PreprocessInput(tn, "none"); err != nil {
		t.Fatal(err)
	}
	for i := range x {
		if tn.Data[i] != x[i] {
			t.Fatal("none changed the data")
		}
	}
}

// TestCaffeByHand spells out caffe mode on one pixel.
func TestCaffeByHand(t *testing.T) {
	tt, _ := ops.FromData([]float32{10, 20, 30}, 1, 1, 1, 3) // R, G, B
	if err := PreprocessInput(tt, "caffe"); err != nil {
		t.Fatal(err)
	}
	want := []float32{30 - 103.939, 20 - 116.779, 10 - 123.68} // B, G, R minus the BGR mean
	for i := range want {
		if tt.Data[i] != want[i] {
			t.Fatalf("got %v, want %v", tt.Data, want)
		}
	}
}

func TestParsePreprocess(t *testing.T) {
	for _, c := range []struct {
		in    string
		want  Preprocess
		round string
	}{
		{"caffe", Preprocess{Mode: "caffe"}, "caffe"},
		{"tf", Preprocess{Mode: "tf"}, "tf"},
		{"torch", Preprocess{Mode: "torch"}, "torch"},
		{"none", Preprocess{Mode: "none"}, "none"},
		{"rescale:0.5", Preprocess{Mode: "rescale", Scale: 0.5}, "rescale:0.5"},
		{"rescale:1/255", Preprocess{Mode: "rescale", Scale: float32(1.0 / 255)}, "rescale:0.003921569"},
		{"rescale:2e-1,3", Preprocess{Mode: "rescale", Scale: 0.2, Offset: 3}, "rescale:0.2,3"},
	} {
		got, err := ParsePreprocess(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q: got %+v, want %+v", c.in, got, c.want)
		}
		if got.String() != c.round {
			t.Errorf("%q: String() = %q, want %q", c.in, got.String(), c.round)
		}
		back, err := ParsePreprocess(got.String())
		if err != nil || back != got {
			t.Errorf("%q: round trip gives %+v, %v", c.in, back, err)
		}
	}
	for _, bad := range []string{"", "Caffe", "rescale", "rescale:", "rescale:x", "rescale:1/0", "rescale:1/2/3",
		"rescale:1,", "rescale:nan", "rescale:inf", "scale:2"} {
		if _, err := ParsePreprocess(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestPreprocessErrors(t *testing.T) {
	gray := ops.New(2, 4, 4, 1)
	for _, mode := range []string{"caffe", "torch"} {
		err := PreprocessInput(gray, mode)
		if err == nil || !strings.Contains(err.Error(), "size 1") {
			t.Errorf("%s on 1 channel: %v", mode, err)
		}
	}
	if err := PreprocessInput(gray, "tf"); err != nil {
		t.Errorf("tf on 1 channel: %v", err)
	}
	if err := PreprocessInput(nil, "tf"); err == nil {
		t.Error("nil tensor accepted")
	}
	bad := &ops.Tensor{Shape: []int{2, 3}, Data: make([]float32, 5)}
	if err := PreprocessInput(bad, "tf"); err == nil {
		t.Error("inconsistent tensor accepted")
	}
	if err := (Preprocess{Mode: "bogus"}).Apply(ops.New(1, 3)); err == nil {
		t.Error("unknown mode accepted by Apply")
	}
}

func TestImgToArrayAndStack(t *testing.T) {
	im := &Image{Mode: ModeRGB, Width: 2, Height: 1, Pix: []uint8{1, 2, 3, 250, 251, 255}}
	x, err := ImgToArray(im)
	if err != nil {
		t.Fatal(err)
	}
	if !shapeEq(x.Shape, []int{1, 2, 3}) || x.Data[5] != 255 || x.Data[0] != 1 {
		t.Fatalf("got %v %v", x.Shape, x.Data)
	}
	g := &Image{Mode: ModeI16, Width: 1, Height: 2, Pix16: []uint16{65535, 7}}
	xg, err := ImgToArray(g)
	if err != nil {
		t.Fatal(err)
	}
	if !shapeEq(xg.Shape, []int{2, 1, 1}) || xg.Data[0] != 65535 || xg.Data[1] != 7 {
		t.Fatalf("I;16: got %v %v", xg.Shape, xg.Data)
	}
	if _, err := ImgToArray(&Image{Mode: ModeRGB, Width: 2, Height: 2, Pix: make([]uint8, 5)}); err == nil {
		t.Error("short Pix accepted")
	}
	if _, err := ImgToArray(&Image{Mode: "CMYK", Width: 1, Height: 1, Pix: make([]uint8, 4)}); err == nil {
		t.Error("unknown mode accepted")
	}

	b, err := Stack(x, x)
	if err != nil {
		t.Fatal(err)
	}
	if !shapeEq(b.Shape, []int{2, 1, 2, 3}) || b.Data[6] != 1 || b.Data[11] != 255 {
		t.Fatalf("stack: %v %v", b.Shape, b.Data)
	}
	if _, err := Stack(x, xg); err == nil {
		t.Error("stack of different shapes accepted")
	}
	if _, err := Stack(); err == nil {
		t.Error("empty stack accepted")
	}
	e, err := ExpandDims(x)
	if err != nil || !shapeEq(e.Shape, []int{1, 1, 2, 3}) || &e.Data[0] != &x.Data[0] {
		t.Fatalf("expand dims: %v %v", e, err)
	}
}
