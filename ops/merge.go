package ops

import "fmt"

// Add computes Keras's Add layer: out[i] = ins[0][i] + ins[1][i] + ...,
// summed left to right in float32. All slices have out's length; out may be
// one of the inputs. With no inputs out is zeroed. It panics on a length
// mismatch.
func Add(out []float32, ins ...[]float32) {
	for i, x := range ins {
		if len(x) != len(out) {
			panic(fmt.Sprintf("ops.Add: input %d has %d values, output has %d", i, len(x), len(out)))
		}
	}
	if len(ins) == 0 {
		clear(out)
		return
	}
	first := ins[0]
	rest := ins[1:]
	for i := range out {
		s := first[i]
		for _, x := range rest {
			s += x[i]
		}
		out[i] = s
	}
}

// Concat computes Keras's Concatenate along one axis. Input i is viewed as
// an (outer, widths[i]) matrix, where outer is the product of the
// dimensions before the axis and widths[i] = axisLen_i * inner (inner is
// the product of the dimensions after it); out is (outer, sum of widths),
// each row the inputs' rows side by side. For the channel axis of NHWC
// tensors outer = N*H*W and widths[i] = C_i. It panics on a length
// mismatch.
func Concat(out []float32, ins [][]float32, outer int, widths []int) {
	if len(ins) != len(widths) {
		panic(fmt.Sprintf("ops.Concat: %d inputs but %d widths", len(ins), len(widths)))
	}
	if outer < 0 {
		panic(fmt.Sprintf("ops.Concat: negative outer size %d", outer))
	}
	total := 0
	for i, wd := range widths {
		sz, ok := size(outer, wd)
		if !ok {
			panic(fmt.Sprintf("ops.Concat: bad width %d of input %d", wd, i))
		}
		if len(ins[i]) != sz {
			panic(fmt.Sprintf("ops.Concat: input %d has %d values, want %d = %d rows of %d", i, len(ins[i]), sz, outer, wd))
		}
		total += wd
	}
	if len(out) != outer*total {
		panic(fmt.Sprintf("ops.Concat: output has %d values, want %d = %d rows of %d", len(out), outer*total, outer, total))
	}
	for r := 0; r < outer; r++ {
		off := r * total
		for i, wd := range widths {
			copy(out[off:off+wd], ins[i][r*wd:(r+1)*wd])
			off += wd
		}
	}
}
