package ops

import (
	"fmt"
	"strings"
)

// Tensor is a dense float32 array in row-major (C) order, like Go's
// image.RGBA: a data slice plus a shape.
//
// The element at index (i0, i1, ..., ik) lives at
//
//	Data[((i0*Shape[1]+i1)*Shape[2]+i2)*...*Shape[k] + ik]
//
// For the 4-D image tensors of this project the layout is NHWC
// (batch, height, width, channels), Keras's channels_last, so pixel
// (n, y, x, c) is Data[((n*H+y)*W+x)*C+c].
//
// Views (Reshape, Batch) share Data with the tensor they come from: writing
// through one is visible through the other.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NumElements returns the product of shape's dimensions (1 for a scalar).
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Tensor {
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("ops.New: negative dimension in shape %v", shape))
		}
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, NumElements(shape))}
}

// FromData wraps data (not copied) as a tensor of the given shape.
func FromData(data []float32, shape ...int) (*Tensor, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension in shape %v", shape)
		}
	}
	if n := NumElements(shape); n != len(data) {
		return nil, fmt.Errorf("shape %v needs %d values, got %d", shape, n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.Shape) }

// Offset returns the index into Data of the element at idx (one index per
// dimension), using the formula in the type's documentation.
func (t *Tensor) Offset(idx ...int) int {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("ops.Tensor.Offset: %d indices for shape %v", len(idx), t.Shape))
	}
	off := 0
	for i, v := range idx {
		if v < 0 || v >= t.Shape[i] {
			panic(fmt.Sprintf("ops.Tensor.Offset: index %v out of range for shape %v", idx, t.Shape))
		}
		off = off*t.Shape[i] + v
	}
	return off
}

// At returns the element at idx.
func (t *Tensor) At(idx ...int) float32 { return t.Data[t.Offset(idx...)] }

// Set stores v at idx.
func (t *Tensor) Set(v float32, idx ...int) { t.Data[t.Offset(idx...)] = v }

// Reshape returns a view with a new shape and the same data. One dimension
// may be -1; it is inferred.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s := append([]int(nil), shape...)
	infer := -1
	known := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return nil, fmt.Errorf("reshape %v to %v: bad dimension %d", t.Shape, shape, d)
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || len(t.Data)%known != 0 {
			return nil, fmt.Errorf("reshape %v to %v: cannot infer dimension", t.Shape, shape)
		}
		s[infer] = len(t.Data) / known
	}
	if NumElements(s) != len(t.Data) {
		return nil, fmt.Errorf("reshape %v (%d values) to %v (%d values)", t.Shape, len(t.Data), shape, NumElements(s))
	}
	return &Tensor{Shape: s, Data: t.Data}, nil
}

// Batch returns a view of items [i, j) along the first axis.
func (t *Tensor) Batch(i, j int) *Tensor {
	if len(t.Shape) == 0 || i < 0 || j > t.Shape[0] || i > j {
		panic(fmt.Sprintf("ops.Tensor.Batch(%d, %d) on shape %v", i, j, t.Shape))
	}
	inner := NumElements(t.Shape[1:])
	s := append([]int{j - i}, t.Shape[1:]...)
	return &Tensor{Shape: s, Data: t.Data[i*inner : j*inner : j*inner]}
}

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// ShapeString formats a shape as Keras prints it, with "None" for
// negative (unknown) dimensions: (None, 224, 224, 3).
func ShapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		if d < 0 {
			b.WriteString("None")
		} else {
			fmt.Fprintf(&b, "%d", d)
		}
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}
