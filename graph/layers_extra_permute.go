package graph

import (
	"fmt"

	"github.com/kerago/kerago/ops"
)

// PermuteLayer is keras.layers.Permute(dims): it reorders the non-batch axes
// of its input. Dims is 1-based over the batch-first shape, as in Keras:
// Permute([2, 3, 1]) turns (batch, C, H, W) into (batch, H, W, C).
//
// The keras package also inserts Permute layers to run channels_first
// models on this package's channels_last layers; those have Auto set, are
// named after the layer they serve, and are not part of the Keras model
// (they own no weights and are skipped when weights are matched by
// position).
type PermuteLayer struct {
	LayerBase
	Dims []int
	// Auto marks a layer inserted by a loader to convert between
	// channels_first and channels_last layouts.
	Auto bool
}

// Permute returns keras.layers.Permute(dims).
func Permute(dims []int, opts ...Opt) *PermuteLayer {
	k := parseOpts(opts)
	l := &PermuteLayer{Dims: append([]int(nil), dims...)}
	k.common(&l.LayerBase, l, "Permute")
	seen := make([]bool, len(dims)+1)
	for _, d := range dims {
		if d < 1 || d > len(dims) || seen[d] {
			l.SetError(fmt.Errorf("dims %v must be a permutation of 1..%d", dims, len(dims)))
			break
		}
		seen[d] = true
	}
	return l
}

// Build implements Layer.
func (l *PermuteLayer) Build(in []Shape) (Shape, error) {
	if err := oneInput(in); err != nil {
		return nil, err
	}
	if len(in[0]) != len(l.Dims) {
		return nil, fmt.Errorf("dims %v do not match input shape %s (rank %d without the batch axis)", l.Dims, in[0], len(in[0]))
	}
	out := make(Shape, len(l.Dims))
	for i, d := range l.Dims {
		out[i] = in[0][d-1]
	}
	return out, nil
}

// Forward implements Layer.
func (l *PermuteLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	x := in[0]
	if len(x.Shape) != len(l.Dims)+1 {
		return nil, fmt.Errorf("input shape %v does not match dims %v", x.Shape, l.Dims)
	}
	perm := make([]int, len(x.Shape))
	for i, d := range l.Dims {
		perm[i+1] = d
	}
	return transpose(x, perm), nil
}

// transpose returns x with its axes reordered: output axis i is input axis
// perm[i]. It walks the output in row-major order, keeping for every input
// axis the stride by which the input offset moves.
func transpose(x *ops.Tensor, perm []int) *ops.Tensor {
	rank := len(x.Shape)
	inStride := make([]int, rank)
	s := 1
	for i := rank - 1; i >= 0; i-- {
		inStride[i] = s
		s *= x.Shape[i]
	}
	shape := make([]int, rank)
	stride := make([]int, rank) // input stride of each output axis
	for i, p := range perm {
		shape[i] = x.Shape[p]
		stride[i] = inStride[p]
	}
	out := ops.New(shape...)
	if len(out.Data) == 0 {
		return out
	}
	// The innermost output axis is copied in a tight loop.
	last := rank - 1
	n, st := shape[last], stride[last]
	idx := make([]int, rank)
	off := 0
	for o := 0; o < len(out.Data); o += n {
		src := off
		dst := out.Data[o : o+n]
		for j := range dst {
			dst[j] = x.Data[src]
			src += st
		}
		// Advance the outer index (all axes but the last).
		for d := last - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < shape[d] {
				break
			}
			off -= stride[d] * shape[d]
			idx[d] = 0
		}
	}
	return out
}
