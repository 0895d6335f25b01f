package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The F(4×4, 3×3) matrices as printed in Lavin & Gray (2015), used here as
// plain matrices: the transforms' factored formulas must agree with them.
var (
	refBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	refG = [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	refAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// TestWinogradIdentity1D checks the matrices themselves: Aᵀ[(G g) ⊙ (Bᵀ d)]
// is the valid correlation of 6 inputs with a 3-tap filter, exactly (in
// float64, on small integers).
func TestWinogradIdentity1D(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for range 100 {
		var d [6]float64
		var g [3]float64
		for i := range d {
			d[i] = float64(r.IntN(19) - 9)
		}
		for i := range g {
			g[i] = float64(r.IntN(19) - 9)
		}
		var prod [6]float64
		for i := range 6 {
			var gg, bd float64
			for k := range 3 {
				gg += refG[i][k] * g[k]
			}
			for k := range 6 {
				bd += refBT[i][k] * d[k]
			}
			prod[i] = gg * bd
		}
		for j := range 4 {
			var y, want float64
			for i := range 6 {
				y += refAT[j][i] * prod[i]
			}
			for k := range 3 {
				want += d[j+k] * g[k]
			}
			if math.Abs(y-want) > 1e-9 {
				t.Fatalf("d=%v g=%v: output %d = %v, correlation %v", d, g, j, y, want)
			}
		}
	}
}

// withGoTransforms runs f with the plain-Go transforms.
func withGoTransforms(f func()) {
	old := useAVX2
	useAVX2 = false
	defer func() { useAVX2 = old }()
	f()
}

// transformPaths names the transform implementations to test: plain Go,
// and the assembly when the machine has it.
func transformPaths() []bool {
	if useAVX2 {
		return []bool{false, true}
	}
	return []bool{false}
}

func runPath(asm bool, f func()) {
	if asm {
		f()
	} else {
		withGoTransforms(f)
	}
}

// TestWinogradTransforms checks each transform, on lane counts that are and
// are not multiples of 8 and on padded strides, against the matrix products
// computed in float64 from the matrices above.
func TestWinogradTransforms(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, asm := range transformPaths() {
		for _, n := range []int{1, 7, 8, 9, 16, 24, 37} {
			name := fmt.Sprintf("asm=%v lanes=%d", asm, n)
			// Input: patch with row stride 6n+5, pixel stride n+3.
			srcPix, srcRow := n+3, 6*(n+3)+5
			src := randSlice(r, 5*srcRow+5*srcPix+n)
			dstStride := n + 2
			dst := make([]float32, 35*dstStride+n)
			runPath(asm, func() { wgInput(dst, src, srcRow, srcPix, dstStride, n) })
			for c := range n {
				for a := range 6 {
					for b := range 6 {
						want := 0.0
						for i := range 6 {
							for j := range 6 {
								want += refBT[a][i] * float64(src[i*srcRow+j*srcPix+c]) * refBT[b][j]
							}
						}
						if got := float64(dst[(a*6+b)*dstStride+c]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
							t.Fatalf("%s: input transform (%d,%d) lane %d = %v, want %v", name, a, b, c, got, want)
						}
					}
				}
			}
			// Kernel: taps srcTap apart.
			srcTap := n + 4
			g := randSlice(r, 8*srcTap+n)
			u := make([]float32, 35*dstStride+n)
			runPath(asm, func() { wgKernel(u, g, srcTap, dstStride, n) })
			for c := range n {
				for a := range 6 {
					for b := range 6 {
						want := 0.0
						for i := range 3 {
							for j := range 3 {
								want += refG[a][i] * float64(g[(i*3+j)*srcTap+c]) * refG[b][j]
							}
						}
						if got := float64(u[(a*6+b)*dstStride+c]); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
							t.Fatalf("%s: kernel transform (%d,%d) lane %d = %v, want %v", name, a, b, c, got, want)
						}
					}
				}
			}
			// Output, with and without ReLU.
			m := randSlice(r, 35*dstStride+n)
			bias := randSlice(r, n)
			dstPix, dstRow := n+1, 4*(n+1)+3
			for _, relu := range []bool{false, true} {
				out := make([]float32, 3*dstRow+3*dstPix+n)
				runPath(asm, func() { wgOutput(out, m, bias, dstStride, dstRow, dstPix, n, relu) })
				for c := range n {
					for a := range 4 {
						for b := range 4 {
							want := float64(bias[c])
							for i := range 6 {
								for j := range 6 {
									want += refAT[a][i] * float64(m[(i*6+j)*dstStride+c]) * refAT[b][j]
								}
							}
							if relu {
								want = math.Max(want, 0)
							}
							if got := float64(out[a*dstRow+b*dstPix+c]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
								t.Fatalf("%s relu=%v: output transform (%d,%d) lane %d = %v, want %v", name, relu, a, b, c, got, want)
							}
						}
					}
				}
			}
		}
	}
}

// naiveConvReLU is naiveConv2D followed by max(·, 0).
func naiveConvReLU(in, kernel, bias []float32, p ConvParams) []float32 {
	out := naiveConv2D(in, kernel, bias, p)
	for i, v := range out {
		out[i] = max(v, 0)
	}
	return out
}

// relErr returns max|got-want| / max|want| (NaN differences count as +Inf).
func relErr(t *testing.T, got, want []float32) float64 {
	d, _ := maxAbsDiff(t, got, want)
	scale := 0.0
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	if scale == 0 {
		return d
	}
	return d / scale
}

var winogradCases = []struct {
	n, h, w, c, f int
	pad           string
}{
	{1, 8, 8, 8, 8, "same"},
	{1, 4, 4, 8, 8, "valid"},      // output 2×2: one partial tile
	{1, 6, 6, 8, 8, "valid"},      // output 4×4: exactly one tile
	{1, 1, 1, 16, 16, "same"},     // one pixel
	{1, 3, 3, 16, 16, "valid"},    // one output pixel
	{2, 7, 9, 5, 3, "same"},       // odd everything, C and F below 8
	{3, 13, 11, 9, 17, "same"},    // remainder lanes in C and F, batch 3
	{2, 13, 11, 9, 17, "valid"},   // valid: OH, OW = 11, 9
	{1, 17, 23, 24, 40, "same"},   // tiles crossing the right and bottom edges
	{1, 28, 28, 64, 64, "same"},   // VGG-like, multiples of 8
	{2, 14, 14, 32, 48, "same"},   // 14: tiles overhang by 2
	{1, 10, 30, 16, 24, "valid"},  // wide
	{4, 5, 5, 13, 11, "same"},     // small images, several per block
	{1, 40, 3, 8, 8, "same"},      // narrow: every tile crosses an edge
	{1, 22, 22, 128, 136, "same"}, // larger C, F
}

// TestWinogradMatchesNaive compares conv2DWinograd with the naive loops on
// many shapes, with and without bias and ReLU, with the default budgets and
// with tiny ones (many tile and filter blocks), with both transform
// implementations and both product schedules. It reports the worst error
// relative to the largest output.
func TestWinogradMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	worst := 0.0
	for _, wc := range winogradCases {
		p, err := NewConvParams(wc.n, wc.h, wc.w, wc.c, 3, 3, wc.f, 1, 1, 1, 1, wc.pad)
		if err != nil {
			t.Fatalf("%+v: %v", wc, err)
		}
		in := randSlice(r, p.N*p.H*p.W*p.C)
		kernel := randSlice(r, 9*p.C*p.F)
		bias := randSlice(r, p.F)
		for _, b := range [][]float32{bias, nil} {
			for _, relu := range []bool{false, true} {
				want := naiveConv2D(in, kernel, b, p)
				if relu {
					want = naiveConvReLU(in, kernel, b, p)
				}
				for _, asm := range transformPaths() {
					for _, threaded := range []bool{false, true} {
						for _, budgets := range [][2]int{{wgKernelBudget, wgTileBudget}, {wgT * p.C * 16, wgT * (p.C + 16)}} {
							got := make([]float32, len(want))
							for i := range got {
								got[i] = float32(math.NaN()) // every output must be written
							}
							runPath(asm, func() {
								withScheduler(threaded, func() {
									withWgBudgets(budgets[0], budgets[1], func() {
										conv2DWinograd(got, in, kernel, b, p, relu)
									})
								})
							})
							e := relErr(t, got, want)
							worst = max(worst, e)
							if e > 1e-5 || math.IsNaN(e) {
								t.Errorf("%+v bias=%v relu=%v asm=%v threaded=%v budgets=%v: relative error %.3g",
									wc, b != nil, relu, asm, threaded, budgets, e)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("Winograd vs naive over %d shapes: worst error %.3g of max|output|", len(winogradCases), worst)
}

// withWgBudgets runs f with the Winograd scratch budgets set.
func withWgBudgets(kernel, tiles int, f func()) {
	ok, ot := wgKernelBudget, wgTileBudget
	wgKernelBudget, wgTileBudget = kernel, tiles
	defer func() { wgKernelBudget, wgTileBudget = ok, ot }()
	f()
}

// TestWinogradVGG16Layers runs the VGG16 block shapes at reduced size (same
// channels, 16×16 images) through the Winograd path and checks against the
// naive loops with Glorot-scaled kernels and ReLU-like (non-negative)
// inputs, as in the real network. For scale it also reports
// im2col's error on the same data: with 9·512 terms per sum, the float32
// products alone are off by about 1e-6 of the output (1e-5 with gonum's
// pure-Go sgemm, which sums in order).
func TestWinogradVGG16Layers(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	worst, worstIm2col := 0.0, 0.0
	for _, s := range vgg16ConvShapes[1:] {
		p, err := NewConvParams(1, 16, 16, s.c, 3, 3, s.f, 1, 1, 1, 1, "same")
		if err != nil {
			t.Fatal(err)
		}
		in := randSlice(r, p.N*p.H*p.W*p.C)
		for i, v := range in {
			in[i] = max(v, 0)
		}
		kernel := randSlice(r, 9*p.C*p.F)
		limit := float32(math.Sqrt(6 / float64(9*p.C+9*p.F)))
		for i := range kernel {
			kernel[i] *= limit
		}
		bias := randSlice(r, p.F)
		want := naiveConvReLU(in, kernel, bias, p)
		got := make([]float32, len(want))
		conv2DWinograd(got, in, kernel, bias, p, true)
		e := relErr(t, got, want)
		worst = max(worst, e)
		if e > 3e-5 {
			t.Errorf("%+v: relative error %.3g", s, e)
		}
		conv2DIm2col(got, in, kernel, bias, p, true)
		worstIm2col = max(worstIm2col, relErr(t, got, want))
	}
	t.Logf("VGG16 channel counts: worst error %.3g of max|output| (im2col on the same data: %.3g)", worst, worstIm2col)
}

// TestChooseWinograd: the real VGG16 convolutions use Winograd except the
// first (3 input channels) and, for a single image, the 14×14 ones (16
// tiles, where im2col is faster).
func TestChooseWinograd(t *testing.T) {
	for _, n := range []int{1, 8} {
		for _, s := range vgg16ConvShapes {
			p, err := NewConvParams(n, s.hw, s.hw, s.c, 3, 3, s.f, 1, 1, 1, 1, "same")
			if err != nil {
				t.Fatal(err)
			}
			want := convWinograd
			if s.c == 3 || (n == 1 && s.hw == 14) {
				want = convIm2col
			}
			if got := chooseConvAlgorithm(p); got != want {
				t.Errorf("batch %d, %+v: algorithm %d, want %d", n, s, got, want)
			}
		}
	}
	// Not 3×3 stride 1: never.
	for _, p := range []ConvParams{
		mustConvParams(t, 8, 56, 56, 64, 3, 3, 64, 2, 1, "same"),
		mustConvParams(t, 8, 56, 56, 64, 3, 3, 64, 1, 2, "same"),
		mustConvParams(t, 8, 56, 56, 64, 5, 5, 64, 1, 1, "same"),
	} {
		if useWinograd(p) {
			t.Errorf("%+v: Winograd chosen", p)
		}
	}
}

// TestWinogradNaN: a NaN in the input reaches exactly the outputs whose
// window contains it (through the transforms' sums it may reach the whole
// 4×4 tile, which is what TF's Winograd does too), and the ReLU does not
// hide it.
func TestWinogradNaN(t *testing.T) {
	p, _ := NewConvParams(1, 8, 8, 8, 3, 3, 8, 1, 1, 1, 1, "same")
	in := make([]float32, p.N*p.H*p.W*p.C)
	kernel := make([]float32, 9*p.C*p.F)
	for i := range kernel {
		kernel[i] = 1
	}
	in[(3*8+3)*8] = float32(math.NaN())
	for _, asm := range transformPaths() {
		out := make([]float32, p.N*p.OH*p.OW*p.F)
		runPath(asm, func() { conv2DWinograd(out, in, kernel, nil, p, true) })
		// Output (3,3) reads input (3,3).
		if v := out[(3*8+3)*8]; !math.IsNaN(float64(v)) {
			t.Errorf("asm=%v: output over the NaN = %v, want NaN", asm, v)
		}
	}
}

// TestConv2DReLUAllPaths checks Conv2DReLU against the naive loops plus
// max(·, 0) on each algorithm's path (pointwise, im2col, Winograd), and
// that a NaN input stays NaN through the fused ReLU.
func TestConv2DReLUAllPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	for _, tc := range []struct {
		p    ConvParams
		algo convAlgorithm
	}{
		{mustConvParams(t, 2, 5, 6, 7, 1, 1, 9, 1, 1, "same"), convPointwise},
		{mustConvParams(t, 1, 9, 8, 3, 3, 3, 10, 2, 1, "same"), convIm2col},
		{mustConvParams(t, 1, 9, 8, 3, 3, 3, 10, 1, 1, "same"), convIm2col},
		{mustConvParams(t, 2, 16, 16, 16, 3, 3, 16, 1, 1, "same"), convWinograd},
	} {
		p := tc.p
		if got := chooseConvAlgorithm(p); got != tc.algo {
			t.Fatalf("%+v: algorithm %d, want %d", p, got, tc.algo)
		}
		in := randSlice(r, p.N*p.H*p.W*p.C)
		kernel := randSlice(r, p.KH*p.KW*p.C*p.F)
		bias := randSlice(r, p.F)
		want := naiveConvReLU(in, kernel, bias, p)
		got := make([]float32, len(want))
		Conv2DReLU(got, in, kernel, bias, p)
		if e := relErr(t, got, want); e > 1e-5 {
			t.Errorf("%+v: relative error %.3g", p, e)
		}
		in[0] = float32(math.NaN())
		Conv2DReLU(got, in, kernel, bias, p)
		if !math.IsNaN(float64(got[0])) {
			t.Errorf("%+v: output 0 reads a NaN input but is %v after the ReLU", p, got[0])
		}
	}
}

func mustConvParams(t *testing.T, n, h, w, c, kh, kw, f, s, d int, pad string) ConvParams {
	t.Helper()
	p, err := NewConvParams(n, h, w, c, kh, kw, f, s, s, d, d, pad)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
