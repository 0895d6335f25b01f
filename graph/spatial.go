package graph

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// ZeroPadding2DLayer is keras.layers.ZeroPadding2D: Padding is
// ((top, bottom), (left, right)).
type ZeroPadding2DLayer struct {
	LayerBase
	Padding [2][2]int
}

// ZeroPadding2D returns keras.layers.ZeroPadding2D(padding=((top, bottom), (left, right))).
func ZeroPadding2D(padding [2][2]int, opts ...Opt) *ZeroPadding2DLayer {
	k := parseOpts(opts)
	l := &ZeroPadding2DLayer{Padding: padding}
	k.common(&l.LayerBase, l, "ZeroPadding2D", "data_format")
	if padding[0][0] < 0 || padding[0][1] < 0 || padding[1][0] < 0 || padding[1][1] < 0 {
		l.SetError(fmt.Errorf("padding %v must be non-negative", padding))
	}
	return l
}

// Build implements Layer.
func (l *ZeroPadding2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if err := rankIs(in[0], 3, "a 4-D"); err != nil {
		return nil, err
	}
	out := in[0].clone()
	p := l.Padding
	if out[0] >= 0 {
		out[0] += p[0][0] + p[0][1]
	}
	if out[1] >= 0 {
		out[1] += p[1][0] + p[1][1]
	}
	return out, nil
}

// Forward implements Layer.
func (l *ZeroPadding2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("expects a 4-D input, got shape %v", x.Shape)
	}
	p := l.Padding
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := ops.New(n, h+p[0][0]+p[0][1], w+p[1][0]+p[1][1], c)
	ops.ZeroPad2D(out.Data, x.Data, n, h, w, c, p[0][0], p[0][1], p[1][0], p[1][1])
	return out, nil
}

// Cropping2DLayer is keras.layers.Cropping2D: Cropping is
// ((top, bottom), (left, right)).
type Cropping2DLayer struct {
	LayerBase
	Cropping [2][2]int
}

// Cropping2D returns keras.layers.Cropping2D(cropping=((top, bottom), (left, right))).
func Cropping2D(cropping [2][2]int, opts ...Opt) *Cropping2DLayer {
	k := parseOpts(opts)
	l := &Cropping2DLayer{Cropping: cropping}
	k.common(&l.LayerBase, l, "Cropping2D", "data_format")
	if cropping[0][0] < 0 || cropping[0][1] < 0 || cropping[1][0] < 0 || cropping[1][1] < 0 {
		l.SetError(fmt.Errorf("cropping %v must be non-negative", cropping))
	}
	return l
}

// Build implements Layer.
func (l *Cropping2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if err := rankIs(in[0], 3, "a 4-D"); err != nil {
		return nil, err
	}
	out := in[0].clone()
	c := l.Cropping
	for i := 0; i < 2; i++ {
		if out[i] >= 0 {
			out[i] -= c[i][0] + c[i][1]
			if out[i] <= 0 {
				return nil, fmt.Errorf("cropping %v leaves nothing of input shape %s", c, in[0])
			}
		}
	}
	return out, nil
}

// Forward implements Layer.
func (l *Cropping2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("expects a 4-D input, got shape %v", x.Shape)
	}
	c := l.Cropping
	n, h, w, ch := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	oh, ow := h-c[0][0]-c[0][1], w-c[1][0]-c[1][1]
	if oh <= 0 || ow <= 0 {
		return nil, fmt.Errorf("cropping %v leaves nothing of input shape %v", c, x.Shape)
	}
	out := ops.New(n, oh, ow, ch)
	ops.Crop2D(out.Data, x.Data, n, h, w, ch, c[0][0], c[0][1], c[1][0], c[1][1])
	return out, nil
}

// UpSampling2DLayer is keras.layers.UpSampling2D: repeats rows and columns
// (interpolation "nearest") or resizes bilinearly ("bilinear").
type UpSampling2DLayer struct {
	LayerBase
	Size          [2]int
	Interpolation string
}

// UpSampling2D returns keras.layers.UpSampling2D(size, interpolation="nearest").
func UpSampling2D(size [2]int, opts ...Opt) *UpSampling2DLayer {
	k := parseOpts(opts)
	l := &UpSampling2DLayer{Size: size, Interpolation: "nearest"}
	if k.has("interpolation") {
		l.Interpolation = k.interpolation
	}
	k.common(&l.LayerBase, l, "UpSampling2D", "interpolation", "data_format")
	if size[0] <= 0 || size[1] <= 0 {
		l.SetError(fmt.Errorf("size %v must be positive", size))
	}
	if l.Interpolation != "nearest" && l.Interpolation != "bilinear" {
		l.SetError(fmt.Errorf("interpolation must be \"nearest\" or \"bilinear\", got %q", l.Interpolation))
	}
	return l
}

// Build implements Layer.
func (l *UpSampling2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if err := rankIs(in[0], 3, "a 4-D"); err != nil {
		return nil, err
	}
	out := in[0].clone()
	for i := 0; i < 2; i++ {
		if out[i] >= 0 {
			out[i] *= l.Size[i]
		}
	}
	return out, nil
}

// Forward implements Layer.
func (l *UpSampling2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("expects a 4-D input, got shape %v", x.Shape)
	}
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := ops.New(n, h*l.Size[0], w*l.Size[1], c)
	if err := ops.UpSampling2D(out.Data, x.Data, n, h, w, c, l.Size[0], l.Size[1], l.Interpolation); err != nil {
		return nil, err
	}
	return out, nil
}
