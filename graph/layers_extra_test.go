package graph_test

import (
	"math"
	"strings"
	"testing"

	g "github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/ops"
)

// TestPermute compares Permute with the definition: out[n][i1][i2][i3] =
// in[n][j1][j2][j3] where j[dims[k]-1] = i[k].
func TestPermute(t *testing.T) {
	shape := []int{2, 3, 4, 5}
	x := ops.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(i)
	}
	for _, dims := range [][]int{{1, 2, 3}, {2, 3, 1}, {3, 1, 2}, {3, 2, 1}, {1, 3, 2}, {2, 1, 3}} {
		in := g.Input(shape[1:]...)
		p := g.Permute(dims)
		out := g.Call(p, in)
		m, err := g.NewModel([]*g.Node{in}, []*g.Node{out}, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		y := got[0]
		for k, d := range dims {
			if y.Shape[k+1] != shape[d] {
				t.Fatalf("dims %v: shape %v", dims, y.Shape)
			}
		}
		for n := 0; n < shape[0]; n++ {
			for a := 0; a < y.Shape[1]; a++ {
				for b := 0; b < y.Shape[2]; b++ {
					for c := 0; c < y.Shape[3]; c++ {
						src := []int{n, 0, 0, 0}
						src[dims[0]], src[dims[1]], src[dims[2]] = a, b, c
						if y.At(n, a, b, c) != x.At(src...) {
							t.Fatalf("dims %v: out[%d,%d,%d,%d] = %v, want in%v = %v", dims, n, a, b, c, y.At(n, a, b, c), src, x.At(src...))
						}
					}
				}
			}
		}
	}
	for _, bad := range [][]int{{1, 1, 2}, {0, 1, 2}, {1, 2, 4}} {
		n := g.Call(g.Permute(bad), g.Input(3, 4, 5))
		if n.Err() == nil {
			t.Errorf("Permute(%v) accepted", bad)
		}
	}
	if n := g.Call(g.Permute([]int{2, 1}), g.Input(3, 4, 5)); n.Err() == nil {
		t.Error("Permute of rank 2 accepted a rank-3 input")
	}
}

func TestElementwiseMerges(t *testing.T) {
	a := []float32{1, -2, 3, 0.5, -7, 0}
	b := []float32{4, 2, -3, 0.25, 7, -1}
	c := []float32{0, 1, 2, 3, 4, 5}
	want := map[string]func(x, y, z float32) float32{
		"Multiply": func(x, y, z float32) float32 { return x * y * z },
		"Average":  func(x, y, z float32) float32 { return (x + y + z) / 3 },
		"Maximum":  func(x, y, z float32) float32 { return float32(math.Max(math.Max(float64(x), float64(y)), float64(z))) },
		"Minimum":  func(x, y, z float32) float32 { return float32(math.Min(math.Min(float64(x), float64(y)), float64(z))) },
	}
	ctor := map[string]func(...g.Opt) *g.ElementwiseMergeLayer{"Multiply": g.Multiply, "Average": g.Average, "Maximum": g.Maximum, "Minimum": g.Minimum}
	for name, f := range want {
		i1, i2, i3 := g.Input(2, 3), g.Input(2, 3), g.Input(2, 3)
		l := ctor[name]()
		if l.Base().Class() != name {
			t.Errorf("class %q, want %q", l.Base().Class(), name)
		}
		m, err := g.NewModel([]*g.Node{i1, i2, i3}, []*g.Node{g.Call(l, i1, i2, i3)}, "")
		if err != nil {
			t.Fatal(err)
		}
		ta, _ := ops.FromData(a, 1, 2, 3)
		tb, _ := ops.FromData(b, 1, 2, 3)
		tc, _ := ops.FromData(c, 1, 2, 3)
		out, err := m.Predict(ta, tb, tc)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if w := f(a[i], b[i], c[i]); out[0].Data[i] != w {
				t.Errorf("%s[%d] = %v, want %v", name, i, out[0].Data[i], w)
			}
		}
	}
	i1, i2 := g.Input(3), g.Input(3)
	m, err := g.NewModel([]*g.Node{i1, i2}, []*g.Node{g.Call(g.Subtract(), i1, i2)}, "")
	if err != nil {
		t.Fatal(err)
	}
	ta, _ := ops.FromData([]float32{1, 2, 3}, 1, 3)
	tb, _ := ops.FromData([]float32{0.5, 4, -1}, 1, 3)
	out, _ := m.Predict(ta, tb)
	if s := out[0].Data; s[0] != 0.5 || s[1] != -2 || s[2] != 4 {
		t.Errorf("Subtract: %v", s)
	}
	if n := g.Call(g.Subtract(), g.Input(3), g.Input(3), g.Input(3)); n.Err() == nil || !strings.Contains(n.Err().Error(), "exactly 2") {
		t.Errorf("Subtract of 3 inputs: %v", n.Err())
	}
	if n := g.Call(g.Maximum(), g.Input(3), g.Input(4)); n.Err() == nil {
		t.Error("Maximum of shapes 3 and 4 accepted")
	}
}

func TestIdentityAndMarkSequential(t *testing.T) {
	in := g.InputNamed("x_in", 4)
	sd := g.Identity("SpatialDropout2D", g.Name("sd"))
	d := g.Dense(2, g.Name("d"))
	y := g.Call(d, g.Call(sd, in))
	m, err := g.NewModel([]*g.Node{in}, []*g.Node{y}, "chain")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.MarkSequential(m); err != nil {
		t.Fatal(err)
	}
	if m.Base().Class() != "Sequential" || len(m.Layers()) != 2 || m.Layers()[0].Base().Class() != "SpatialDropout2D" {
		t.Errorf("class %s, layers %d", m.Base().Class(), len(m.Layers()))
	}
	x, _ := ops.FromData([]float32{1, 2, 3, 4}, 1, 4)
	out, err := m.Activations([]*ops.Tensor{x}, "sd")
	if err != nil || out["sd"].Data[3] != 4 {
		t.Errorf("identity output %v (%v)", out["sd"], err)
	}
	// A branching graph is not a chain.
	a := g.Input(4)
	b1 := g.Call(g.Dense(2), a)
	b2 := g.Call(g.Dense(2), a)
	br, err := g.NewModel([]*g.Node{a}, []*g.Node{g.Call(g.Add(), b1, b2)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.MarkSequential(br); err == nil {
		t.Error("MarkSequential accepted a branching model")
	}
}
