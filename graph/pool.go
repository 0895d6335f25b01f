package graph

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// Pooling2DLayer is keras.layers.MaxPooling2D or AveragePooling2D. Strides
// default to the pool size. With "same" padding, max pooling ignores the
// padded cells and average pooling divides by the number of real cells.
type Pooling2DLayer struct {
	LayerBase
	PoolSize [2]int
	Strides  [2]int
	Padding  string
	max      bool
}

// MaxPooling2D returns keras.layers.MaxPooling2D(pool_size, strides=None, padding="valid").
func MaxPooling2D(poolSize [2]int, opts ...Opt) *Pooling2DLayer {
	return newPool("MaxPooling2D", true, poolSize, opts)
}

// AveragePooling2D returns keras.layers.AveragePooling2D(pool_size, strides=None, padding="valid").
func AveragePooling2D(poolSize [2]int, opts ...Opt) *Pooling2DLayer {
	return newPool("AveragePooling2D", false, poolSize, opts)
}

func newPool(class string, isMax bool, poolSize [2]int, opts []Opt) *Pooling2DLayer {
	k := parseOpts(opts)
	l := &Pooling2DLayer{PoolSize: poolSize, Strides: poolSize, Padding: "valid", max: isMax}
	if k.has("strides") {
		l.Strides = k.strides
	}
	if k.has("padding") {
		l.Padding = k.padding
	}
	k.common(&l.LayerBase, l, class, "strides", "padding", "data_format")
	if poolSize[0] <= 0 || poolSize[1] <= 0 || l.Strides[0] <= 0 || l.Strides[1] <= 0 {
		l.SetError(fmt.Errorf("pool_size %v and strides %v must be positive", poolSize, l.Strides))
	}
	if err := checkPadding(l.Padding); err != nil {
		l.SetError(err)
	}
	return l
}

func (l *Pooling2DLayer) geometry(in Shape) (ops.PoolParams, error) {
	p, _, _, err := convGeometry(in, l.PoolSize, l.Strides, [2]int{1, 1}, l.Padding)
	return ops.PoolParams{H: p.H, W: p.W, C: p.C, PH: p.KH, PW: p.KW, SH: p.SH, SW: p.SW,
		PadTop: p.PadTop, PadLeft: p.PadLeft, OH: p.OH, OW: p.OW}, err
}

// Build implements Layer.
func (l *Pooling2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	p, err := l.geometry(in[0])
	if err != nil {
		return nil, err
	}
	return Shape{p.OH, p.OW, p.C}, nil
}

// Forward implements Layer.
func (l *Pooling2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	return l.forwardBuffered(in, nil)
}

// forwardBuffered implements bufferedLayer: the output comes from a.
func (l *Pooling2DLayer) forwardBuffered(in []*ops.Tensor, a *arena) (*ops.Tensor, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("expects a 4-D input, got shape %v", x.Shape)
	}
	p, err := l.geometry(Shape(x.Shape[1:]))
	if err != nil {
		return nil, err
	}
	p.N = x.Shape[0]
	out := a.tensor(p.N, p.OH, p.OW, p.C)
	if l.max {
		ops.MaxPool2D(out.Data, x.Data, p)
	} else {
		ops.AvgPool2D(out.Data, x.Data, p)
	}
	return out, nil
}

// GlobalPooling2DLayer is keras.layers.GlobalAveragePooling2D or
// GlobalMaxPooling2D: (batch, H, W, C) -> (batch, C).
type GlobalPooling2DLayer struct {
	LayerBase
	max bool
}

// GlobalAveragePooling2D returns keras.layers.GlobalAveragePooling2D().
func GlobalAveragePooling2D(opts ...Opt) *GlobalPooling2DLayer {
	return newGlobalPool("GlobalAveragePooling2D", false, opts)
}

// GlobalMaxPooling2D returns keras.layers.GlobalMaxPooling2D().
func GlobalMaxPooling2D(opts ...Opt) *GlobalPooling2DLayer {
	return newGlobalPool("GlobalMaxPooling2D", true, opts)
}

func newGlobalPool(class string, isMax bool, opts []Opt) *GlobalPooling2DLayer {
	k := parseOpts(opts)
	l := &GlobalPooling2DLayer{max: isMax}
	k.common(&l.LayerBase, l, class, "data_format")
	return l
}

// Build implements Layer.
func (l *GlobalPooling2DLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if err := rankIs(in[0], 3, "a 4-D"); err != nil {
		return nil, err
	}
	return Shape{in[0][2]}, nil
}

// Forward implements Layer.
func (l *GlobalPooling2DLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("expects a 4-D input, got shape %v", x.Shape)
	}
	n, hw, c := x.Shape[0], x.Shape[1]*x.Shape[2], x.Shape[3]
	out := ops.New(n, c)
	if l.max {
		ops.GlobalMaxPool2D(out.Data, x.Data, n, hw, c)
	} else {
		ops.GlobalAvgPool2D(out.Data, x.Data, n, hw, c)
	}
	return out, nil
}
