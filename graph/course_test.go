package graph

import (
	"strings"
	"testing"
)

// The course's conv arithmetic (Tema 3), checked by hand:
// a 3×3 kernel over 1000×1500×3 with 8 filters has 3*3*3*8 + 8 = 224
// parameters; "valid" gives 1000-3+1 = 998 by 1500-3+1 = 1498; stride 2
// gives floor((1000-3)/2)+1 = 499 by floor((1500-3)/2)+1 = 749; "same" with
// stride 2 gives ceil(1000/2) = 500 by 750.
func TestCourseConvArithmetic(t *testing.T) {
	cases := []struct {
		name   string
		layer  Layer
		want   Shape
		params int
	}{
		{"valid", Conv2D(8, [2]int{3, 3}), Shape{998, 1498, 8}, 224},
		{"stride2", Conv2D(8, [2]int{3, 3}, Strides(2, 2)), Shape{499, 749, 8}, 224},
		{"stride2same", Conv2D(8, [2]int{3, 3}, Strides(2, 2), Padding("same")), Shape{500, 750, 8}, 224},
	}
	for _, c := range cases {
		x := Input(1000, 1500, 3)
		y := Call(c.layer, x)
		if y.Err() != nil {
			t.Fatalf("%s: %v", c.name, y.Err())
		}
		if !y.Shape.equal(c.want) {
			t.Errorf("%s: shape %s, want %s", c.name, y.Shape, c.want)
		}
		if got := c.layer.Base().CountParams(); got != c.params {
			t.Errorf("%s: %d params, want %d", c.name, got, c.params)
		}
	}
}

func TestCourseSmallHead(t *testing.T) {
	x := Input(1000, 1500, 3)
	c := Call(Conv2D(8, [2]int{3, 3}, Strides(2, 2), Padding("same")), x)
	p := Call(MaxPooling2D([2]int{2, 2}), c)
	if want := (Shape{250, 375, 8}); !p.Shape.equal(want) {
		t.Fatalf("MaxPool2D: %s, want %s", p.Shape, want)
	}
	f := Call(Flatten(), p)
	if want := (Shape{750000}); !f.Shape.equal(want) {
		t.Fatalf("Flatten: %s, want %s", f.Shape, want)
	}
	g := Call(GlobalAveragePooling2D(), p)
	if want := (Shape{8}); !g.Shape.equal(want) {
		t.Fatalf("GlobalAveragePooling2D: %s, want %s", g.Shape, want)
	}
	d1 := Dense(32, Activation("relu"))
	d2 := Dense(4, Activation("softmax"))
	out := Call(d2, Call(d1, g))
	m, err := NewModel([]*Node{x}, []*Node{out}, "")
	if err != nil {
		t.Fatal(err)
	}
	if d1.CountParams() != 288 || d2.CountParams() != 132 {
		t.Errorf("Dense params %d, %d; want 288 (8*32+32), 132 (32*4+4)", d1.CountParams(), d2.CountParams())
	}
	if m.CountParams() != 644 {
		t.Errorf("total params %d, want 644 (224+288+132)", m.CountParams())
	}
	if s := m.Summary(); !strings.Contains(s, "Total params: 644\n") {
		t.Errorf("summary lacks the total:\n%s", s)
	}
}

// Exercise 5: 160×160×3 → Conv 16, 32, 64 (3×3 same relu), pools after the
// first two, Flatten, Dense 32 relu, Dense 1 sigmoid. By hand: 448 + 4,640 +
// 18,496 + (40*40*64)*32+32 = 3,276,832 + 33 = 3,300,449.
func TestCourseExercise5(t *testing.T) {
	m, err := Sequential("", []int{160, 160, 3},
		Conv2D(16, [2]int{3, 3}, Padding("same"), Activation("relu")),
		MaxPooling2D([2]int{2, 2}),
		Conv2D(32, [2]int{3, 3}, Padding("same"), Activation("relu")),
		MaxPooling2D([2]int{2, 2}),
		Conv2D(64, [2]int{3, 3}, Padding("same"), Activation("relu")),
		Flatten(),
		Dense(32, Activation("relu")),
		Dense(1, Activation("sigmoid")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.CountParams(); got != 3300449 {
		t.Errorf("total params %d, want 3,300,449", got)
	}
	if s := m.Summary(); !strings.Contains(s, "Total params: 3,300,449\n") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestShapeErrorNamesLayer(t *testing.T) {
	x := Input(3, 3, 1)
	y := Call(Conv2D(1, [2]int{5, 5}, Name("too_big")), x)
	if y.Err() == nil {
		t.Fatal("5×5 valid kernel on a 3×3 input: no error")
	}
	if !strings.Contains(y.Err().Error(), `"too_big"`) {
		t.Errorf("error does not name the layer: %v", y.Err())
	}
	if _, err := NewModel([]*Node{x}, []*Node{y}, ""); err == nil || !strings.Contains(err.Error(), "too_big") {
		t.Errorf("NewModel: %v", err)
	}
	// Errors propagate through later calls.
	z := Call(Flatten(), y)
	if z.Err() == nil {
		t.Error("error did not propagate")
	}
}

func TestAutomaticNames(t *testing.T) {
	ResetNames()
	a, b := Conv2D(1, [2]int{1, 1}), Conv2D(1, [2]int{1, 1})
	p := MaxPooling2D([2]int{2, 2})
	in1, in2 := Input(4, 4, 1), Input(4, 4, 1)
	if a.Name() != "conv2d" || b.Name() != "conv2d_1" || p.Name() != "max_pooling2d" {
		t.Errorf("names %q %q %q", a.Name(), b.Name(), p.Name())
	}
	if in1.Layer.Base().Name() != "input_1" || in2.Layer.Base().Name() != "input_2" {
		t.Errorf("input names %q %q", in1.Layer.Base().Name(), in2.Layer.Base().Name())
	}
	for in, want := range map[string]string{"BatchNormalization": "batch_normalization", "GlobalAveragePooling2D": "global_average_pooling2d", "Conv2DTranspose": "conv2d_transpose", "ReLU": "re_lu", "PReLU": "p_re_lu", "ZeroPadding2D": "zero_padding2d"} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
