package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/kerago/kerago/ops"
)

// refConvSame is a 3×3 "same" convolution with bias as plain loops
// (float64 sums), for (h, w, c) images and a (3, 3, c, f) kernel.
func refConvSame(x []float32, h, w, c int, kernel, bias []float32, f int, relu bool) []float32 {
	out := make([]float32, h*w*f)
	for y := range h {
		for xx := range w {
			for o := range f {
				s := float64(bias[o])
				for ky := range 3 {
					for kx := range 3 {
						iy, ix := y+ky-1, xx+kx-1
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						for i := range c {
							s += float64(x[(iy*w+ix)*c+i]) * float64(kernel[((ky*3+kx)*c+i)*f+o])
						}
					}
				}
				if relu {
					s = math.Max(s, 0)
				}
				out[(y*w+xx)*f+o] = float32(s)
			}
		}
	}
	return out
}

func randFill(r *rand.Rand, s []float32) {
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
}

// arenaModel is a small graph where buffer reuse could go wrong: c1 feeds
// two layers, c2's buffer is also an output through a Flatten view, and a
// Dense layer reads another view.
//
//	x -> c1 (relu) -> c2 -> add(c1, c2) -> c3 (relu) -> flatten -> dense   (output 0)
//	                   \-> flatten                                        (output 1)
func arenaModel(t *testing.T, r *rand.Rand) (*Model, func(x []float32) [2][]float32) {
	t.Helper()
	const h, w, c, f, units = 9, 7, 3, 20, 5
	in := Input(h, w, c)
	c1 := Call(Conv2D(f, [2]int{3, 3}, Padding("same"), Activation("relu")), in)
	c2 := Call(Conv2D(f, [2]int{3, 3}, Padding("same")), c1)
	sum := Call(Add(), c1, c2)
	c3 := Call(Conv2D(f, [2]int{3, 3}, Padding("same"), Activation("relu")), sum)
	d := Call(Dense(units), Call(Flatten(), c3))
	m, err := NewModel([]*Node{in}, []*Node{d, Call(Flatten(), c2)}, "arena")
	if err != nil {
		t.Fatal(err)
	}
	for _, wt := range m.Weights() {
		randFill(r, wt.Data)
	}
	k := func(i int) []float32 { return m.Weights()[i].Data }
	ref := func(x []float32) [2][]float32 {
		a := refConvSame(x, h, w, c, k(0), k(1), f, true)
		b := refConvSame(a, h, w, f, k(2), k(3), f, false)
		s := make([]float32, len(a))
		for i := range s {
			s[i] = a[i] + b[i]
		}
		e := refConvSame(s, h, w, f, k(4), k(5), f, true)
		out := make([]float32, units)
		for j := range units {
			v := float64(k(7)[j])
			for i, ev := range e {
				v += float64(ev) * float64(k(6)[i*units+j])
			}
			out[j] = float32(v)
		}
		return [2][]float32{out, b}
	}
	return m, ref
}

// closeTo checks |got - want| <= tol · max|want| element-wise.
func closeTo(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - float64(want[i])); !(d <= tol*scale) {
			return fmt.Errorf("value %d = %v, want %v (scale %v)", i, got[i], want[i], scale)
		}
	}
	return nil
}

// TestPredictReusesBuffersSafely runs Predict repeatedly and from several
// goroutines at once on the model above and checks every output against
// the plain-loop computation, and that outputs of earlier calls are not
// overwritten by later ones (their buffers are the caller's).
func TestPredictReusesBuffersSafely(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m, ref := arenaModel(t, r)
	type result struct {
		x    *ops.Tensor
		outs []*ops.Tensor
	}
	var kept []result
	for range 4 {
		x := ops.New(2, 9, 7, 3)
		randFill(r, x.Data)
		outs, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, result{x, outs})
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := range 4 {
		x := ops.New(1, 9, 7, 3)
		rr := rand.New(rand.NewPCG(uint64(g), 9))
		randFill(rr, x.Data)
		wg.Go(func() {
			for range 5 {
				outs, err := m.Predict(x)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				kept = append(kept, result{x, outs})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, k := range kept {
		n := k.x.Shape[0]
		per := len(k.x.Data) / n
		for b := range n {
			want := ref(k.x.Data[b*per : (b+1)*per])
			for o := range 2 {
				sz := len(want[o])
				if err := closeTo(k.outs[o].Data[b*sz:(b+1)*sz], want[o], 1e-5); err != nil {
					t.Errorf("call %d, item %d, output %d: %v", i, b, o, err)
				}
			}
		}
	}
}

// TestPredictSteadyStateAllocations: after a warm-up call, Predict on a
// stack of convolutions allocates about the returned output only, not
// the intermediate tensors (nor the convolutions' scratch space), even
// with garbage collections in between.
func TestPredictSteadyStateAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	const hw, f = 32, 64
	layers := []Layer{}
	for range 4 {
		layers = append(layers, Conv2D(f, [2]int{3, 3}, Padding("same"), Activation("relu")))
	}
	m, err := Sequential("", []int{hw, hw, 3}, layers...)
	if err != nil {
		t.Fatal(err)
	}
	for _, wt := range m.Weights() {
		randFill(r, wt.Data)
	}
	x := ops.New(1, hw, hw, 3)
	randFill(r, x.Data)
	if _, err := m.Predict(x); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const calls = 5
	for range calls {
		runtime.GC()
		if _, err := m.Predict(x); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	outBytes := uint64(hw * hw * f * 4)
	perCall := (after.TotalAlloc - before.TotalAlloc) / calls
	t.Logf("steady state: %d bytes allocated per Predict, output %d bytes, intermediates 3 × %d bytes", perCall, outBytes, outBytes)
	if perCall > outBytes+outBytes/2 {
		t.Errorf("Predict allocates %d bytes per call; want about the output's %d (intermediate buffers should be reused)", perCall, outBytes)
	}
}

// TestPredictVaryingSizes calls a model with unknown spatial size on
// images of changing sizes: buffers are reused when large enough, results
// stay right, and an idle arena keeps only what its last call used.
func TestPredictVaryingSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const c, f = 3, 8
	in := Input(-1, -1, c)
	c1 := Call(Conv2D(f, [2]int{3, 3}, Padding("same"), Activation("relu")), in)
	c2 := Call(Conv2D(f, [2]int{3, 3}, Padding("same")), c1)
	m, err := NewModel([]*Node{in}, []*Node{c2}, "sizes")
	if err != nil {
		t.Fatal(err)
	}
	for _, wt := range m.Weights() {
		randFill(r, wt.Data)
	}
	k := func(i int) []float32 { return m.Weights()[i].Data }
	for _, hw := range [][2]int{{8, 8}, {16, 12}, {5, 7}, {16, 12}, {30, 2}, {1, 1}, {9, 9}, {3, 40}, {8, 8}, {17, 17}, {2, 2}, {6, 6}} {
		x := ops.New(1, hw[0], hw[1], c)
		randFill(r, x.Data)
		out, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		want := refConvSame(refConvSame(x.Data, hw[0], hw[1], c, k(0), k(1), f, true), hw[0], hw[1], f, k(2), k(3), f, false)
		if err := closeTo(out[0].Data, want, 1e-5); err != nil {
			t.Errorf("%v: %v", hw, err)
		}
	}
	// The last call (6×6) used two buffers: c1's, free again, and c2's,
	// the caller's now. The larger ones of earlier calls are dropped.
	for _, a := range m.arenas.idle {
		if len(a.free) > 1 || len(a.inUse) != 0 {
			t.Errorf("idle arena keeps %d free and %d in-use buffers", len(a.free), len(a.inUse))
		}
	}
}

// TestPredictSteadyStateVGGLike: a VGG-like stack (convolution blocks,
// max pooling, Flatten, Dense, a small softmax output) allocates little
// per call once warm, and the returned output has a buffer of its own
// size: it is not one of the large intermediate buffers, which the caller
// would otherwise keep alive (and which the next call would allocate
// again).
func TestPredictSteadyStateVGGLike(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const hw, classes = 64, 10
	var layers []Layer
	for _, f := range []int{32, 64, 64} {
		layers = append(layers,
			Conv2D(f, [2]int{3, 3}, Padding("same"), Activation("relu")),
			Conv2D(f, [2]int{3, 3}, Padding("same"), Activation("relu")),
			MaxPooling2D([2]int{2, 2}))
	}
	layers = append(layers, Flatten(), Dense(64, Activation("relu")), Dense(classes, Activation("softmax")))
	m, err := Sequential("", []int{hw, hw, 3}, layers...)
	if err != nil {
		t.Fatal(err)
	}
	for _, wt := range m.Weights() {
		randFill(r, wt.Data)
		for i := range wt.Data {
			wt.Data[i] *= 0.2
		}
	}
	x := ops.New(1, hw, hw, 3)
	randFill(r, x.Data)
	first, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const calls = 5
	for range calls {
		runtime.GC()
		out, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		if o := out[0]; cap(o.Data) != classes {
			t.Fatalf("output of %d values sits in a buffer of %d", len(o.Data), cap(o.Data))
		}
		if err := closeTo(out[0].Data, first[0].Data, 1e-6); err != nil {
			t.Fatalf("repeated call differs: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	largest := uint64(hw * hw * 32 * 4)
	perCall := (after.TotalAlloc - before.TotalAlloc) / calls
	t.Logf("steady state: %d bytes allocated per Predict (largest intermediate %d bytes)", perCall, largest)
	if perCall > largest/4 {
		t.Errorf("Predict allocates %d bytes per call; the intermediates (largest %d bytes) should be reused", perCall, largest)
	}
}
