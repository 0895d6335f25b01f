package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveConv2D is the definition of Conv2D written as plain loops with a
// float64 accumulator.
func naiveConv2D(in, kernel, bias []float32, p ConvParams) []float32 {
	out := make([]float32, p.N*p.OH*p.OW*p.F)
	for n := 0; n < p.N; n++ {
		for oy := 0; oy < p.OH; oy++ {
			for ox := 0; ox < p.OW; ox++ {
				for f := 0; f < p.F; f++ {
					s := 0.0
					if bias != nil {
						s = float64(bias[f])
					}
					for ky := 0; ky < p.KH; ky++ {
						for kx := 0; kx < p.KW; kx++ {
							iy := oy*p.SH - p.PadTop + ky*p.DH
							ix := ox*p.SW - p.PadLeft + kx*p.DW
							if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
								continue
							}
							for c := 0; c < p.C; c++ {
								s += float64(in[((n*p.H+iy)*p.W+ix)*p.C+c]) * float64(kernel[((ky*p.KW+kx)*p.C+c)*p.F+f])
							}
						}
					}
					out[((n*p.OH+oy)*p.OW+ox)*p.F+f] = float32(s)
				}
			}
		}
	}
	return out
}

// naiveDepthwise is DepthwiseConv2D's definition as loops.
func naiveDepthwise(in, kernel, bias []float32, p ConvParams) []float32 {
	m := p.F / p.C
	out := make([]float32, p.N*p.OH*p.OW*p.F)
	for n := 0; n < p.N; n++ {
		for oy := 0; oy < p.OH; oy++ {
			for ox := 0; ox < p.OW; ox++ {
				for c := 0; c < p.C; c++ {
					for j := 0; j < m; j++ {
						s := 0.0
						if bias != nil {
							s = float64(bias[c*m+j])
						}
						for ky := 0; ky < p.KH; ky++ {
							for kx := 0; kx < p.KW; kx++ {
								iy := oy*p.SH - p.PadTop + ky*p.DH
								ix := ox*p.SW - p.PadLeft + kx*p.DW
								if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
									continue
								}
								s += float64(in[((n*p.H+iy)*p.W+ix)*p.C+c]) * float64(kernel[((ky*p.KW+kx)*p.C+c)*m+j])
							}
						}
						out[((n*p.OH+oy)*p.OW+ox)*p.F+c*m+j] = float32(s)
					}
				}
			}
		}
	}
	return out
}

// naiveTranspose scatters every input pixel as Conv2DTranspose's doc says.
func naiveTranspose(in, kernel, bias []float32, p ConvParams) []float32 {
	acc := make([]float64, p.N*p.OH*p.OW*p.F)
	for n := 0; n < p.N; n++ {
		for y := 0; y < p.H; y++ {
			for x := 0; x < p.W; x++ {
				for ky := 0; ky < p.KH; ky++ {
					for kx := 0; kx < p.KW; kx++ {
						oy := y*p.SH - p.PadTop + ky*p.DH
						ox := x*p.SW - p.PadLeft + kx*p.DW
						if oy < 0 || oy >= p.OH || ox < 0 || ox >= p.OW {
							continue
						}
						for f := 0; f < p.F; f++ {
							for c := 0; c < p.C; c++ {
								acc[((n*p.OH+oy)*p.OW+ox)*p.F+f] += float64(in[((n*p.H+y)*p.W+x)*p.C+c]) * float64(kernel[((ky*p.KW+kx)*p.F+f)*p.C+c])
							}
						}
					}
				}
			}
		}
	}
	out := make([]float32, len(acc))
	for i, v := range acc {
		if bias != nil {
			v += float64(bias[i%p.F])
		}
		out[i] = float32(v)
	}
	return out
}

type convCase struct {
	n, h, w, c, kh, kw, f, sh, sw, dh, dw int
	pad                                   string
}

func (k convCase) String() string {
	return fmt.Sprintf("in%dx%dx%dx%d_k%dx%d_f%d_s%dx%d_d%dx%d_%s", k.n, k.h, k.w, k.c, k.kh, k.kw, k.f, k.sh, k.sw, k.dh, k.dw, k.pad)
}

var convCases = []convCase{
	{1, 8, 8, 3, 3, 3, 5, 2, 2, 1, 1, "same"},      // stride 2 same, even size: pads 0,1
	{1, 7, 7, 3, 3, 3, 5, 2, 2, 1, 1, "same"},      // stride 2 same, odd size: pads 1,1
	{2, 9, 7, 5, 3, 3, 7, 1, 1, 2, 2, "same"},      // dilation, batch 2
	{1, 6, 10, 4, 1, 1, 6, 1, 1, 1, 1, "valid"},    // 1x1: pointwise fast path
	{3, 5, 5, 13, 1, 1, 11, 1, 1, 1, 1, "same"},    // 1x1 same, batch 3
	{1, 9, 9, 3, 1, 1, 4, 2, 2, 1, 1, "same"},      // 1x1 stride 2: im2col
	{2, 11, 13, 7, 5, 3, 9, 3, 2, 1, 1, "valid"},   // odd everything
	{1, 10, 9, 6, 4, 4, 5, 2, 3, 1, 1, "same"},     // even kernel, same
	{2, 12, 12, 5, 3, 3, 3, 1, 1, 3, 2, "valid"},   // dilation valid
	{1, 15, 17, 37, 3, 3, 19, 1, 1, 1, 1, "same"},  // C, F primes
	{1, 4, 4, 2, 5, 5, 3, 1, 1, 1, 1, "same"},      // kernel larger than image
	{1, 3, 20, 1, 3, 7, 2, 1, 4, 1, 2, "same"},     // wide, strided dilated columns
	{2, 6, 6, 3, 2, 2, 4, 2, 2, 1, 1, "valid"},     // VGG-style 2x2 stride 2
	{1, 1, 1, 3, 3, 3, 2, 1, 1, 1, 1, "same"},      // single pixel
	{1, 13, 11, 3, 7, 7, 8, 2, 2, 1, 1, "same"},    // ResNet-stem-like
	{1, 5, 5, 64, 3, 3, 130, 1, 1, 1, 1, "valid"},  // F > 128
	{4, 3, 5, 2, 3, 1, 3, 1, 1, 1, 1, "same"},      // 3x1 kernel, batch 4
	{1, 6, 6, 1, 3, 3, 1, 2, 2, 1, 1, "same"},      // C = F = 1
	{1, 16, 16, 8, 3, 3, 8, 1, 1, 1, 1, "same"},    // enough pixels for several tiles
	{2, 9, 10, 3, 3, 3, 4, 2, 2, 2, 2, "same"},     // stride and dilation together
	{1, 7, 9, 5, 2, 3, 6, 1, 2, 1, 1, "same"},      // odd pad totals both axes
	{1, 2000, 3, 1, 3, 3, 1, 1, 1, 1, 1, "same"},   // tall thin
	{1, 5, 5, 3, 3, 3, 2, 5, 5, 1, 1, "same"},      // stride = size
	{1, 5, 5, 3, 3, 3, 2, 3, 2, 1, 1, "valid"},     // different strides
	{2, 6, 8, 4, 3, 5, 3, 1, 1, 1, 1, "valid"},     // rectangular kernel
	{1, 224, 3, 3, 3, 3, 4, 2, 1, 1, 1, "same"},    // even n, stride 2 one axis
	{1, 9, 9, 16, 3, 3, 32, 1, 1, 4, 4, "same"},    // dilation > half the image
	{1, 17, 17, 3, 11, 11, 5, 4, 4, 1, 1, "valid"}, // AlexNet-like
}

func TestConv2DMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for _, cc := range convCases {
		p, err := NewConvParams(cc.n, cc.h, cc.w, cc.c, cc.kh, cc.kw, cc.f, cc.sh, cc.sw, cc.dh, cc.dw, cc.pad)
		if err != nil {
			t.Fatalf("%v: %v", cc, err)
		}
		in := randSlice(r, p.N*p.H*p.W*p.C)
		kernel := randSlice(r, p.KH*p.KW*p.C*p.F)
		bias := randSlice(r, p.F)
		k := p.KH * p.KW * p.C
		tol := 1e-6*float64(k) + 1e-6
		for _, withBias := range []bool{true, false} {
			b := bias
			if !withBias {
				b = nil
			}
			want := naiveConv2D(in, kernel, b, p)
			// Default tiling, then tiles of 1, 3 and 7 pixels (crossing
			// rows and batch items), through both tile schedulers.
			for _, threaded := range []bool{false, true} {
				for _, budget := range []int{im2colBudget, k, 3 * k, 7*k + 1} {
					got := make([]float32, len(want))
					for i := range got {
						got[i] = float32(math.NaN()) // every output must be written
					}
					withScheduler(threaded, func() {
						withBudget(budget, func() { Conv2D(got, in, kernel, b, p) })
					})
					d := expectClose(t, fmt.Sprintf("%v bias=%v budget=%d threaded=%v", cc, withBias, budget, threaded), got, want, tol)
					worst = max(worst, d)
				}
			}
		}
	}
	t.Logf("Conv2D vs naive over %d cases: worst max abs error %.3g (backend %s)", len(convCases), worst, Backend())
}

// TestConv2DCustomPadding covers parameters that follow no Keras rule:
// padding on one side only, windows running past the bottom/right.
func TestConv2DCustomPadding(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []ConvParams{
		{N: 1, H: 5, W: 6, C: 2, KH: 3, KW: 3, F: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 2, PadLeft: 0, OH: 7, OW: 3},
		{N: 2, H: 4, W: 4, C: 3, KH: 2, KW: 2, F: 2, SH: 2, SW: 1, DH: 2, DW: 1, PadTop: 0, PadLeft: 3, OH: 3, OW: 9},
		{N: 1, H: 3, W: 3, C: 1, KH: 1, KW: 1, F: 2, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, OH: 5, OW: 5},
		{N: 1, H: 3, W: 3, C: 1, KH: 1, KW: 1, F: 2, SH: 1, SW: 1, DH: 1, DW: 1, OH: 2, OW: 2}, // 1x1 but cropped: not the fast path
	} {
		in := randSlice(r, p.N*p.H*p.W*p.C)
		kernel := randSlice(r, p.KH*p.KW*p.C*p.F)
		want := naiveConv2D(in, kernel, nil, p)
		got := make([]float32, len(want))
		Conv2D(got, in, kernel, nil, p)
		expectClose(t, fmt.Sprintf("%+v", p), got, want, 1e-5)
	}
}

func TestDepthwiseConv2DMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	worst := 0.0
	for _, cc := range convCases {
		for _, m := range []int{1, 3} {
			p, err := NewConvParams(cc.n, cc.h, cc.w, cc.c, cc.kh, cc.kw, cc.c*m, cc.sh, cc.sw, cc.dh, cc.dw, cc.pad)
			if err != nil {
				t.Fatal(err)
			}
			in := randSlice(r, p.N*p.H*p.W*p.C)
			kernel := randSlice(r, p.KH*p.KW*p.F)
			bias := randSlice(r, p.F)
			want := naiveDepthwise(in, kernel, bias, p)
			got := make([]float32, len(want))
			DepthwiseConv2D(got, in, kernel, bias, p)
			worst = max(worst, expectClose(t, fmt.Sprintf("%v m=%d", cc, m), got, want, 1e-5))
		}
	}
	t.Logf("DepthwiseConv2D vs naive: worst max abs error %.3g", worst)
}

var transposeCases = []struct {
	convCase
	outPad int
}{
	{convCase{1, 3, 4, 2, 3, 3, 3, 2, 2, 1, 1, "same"}, -1},
	{convCase{2, 3, 4, 2, 3, 2, 3, 2, 1, 1, 1, "valid"}, -1},
	{convCase{1, 5, 5, 7, 4, 4, 5, 2, 2, 1, 1, "same"}, -1},
	{convCase{2, 3, 2, 2, 5, 5, 2, 3, 3, 1, 1, "same"}, -1},
	{convCase{1, 4, 3, 3, 3, 3, 2, 2, 2, 1, 1, "same"}, 1},
	{convCase{1, 6, 5, 3, 3, 3, 4, 1, 1, 2, 2, "same"}, -1},
	{convCase{1, 6, 5, 3, 3, 3, 4, 1, 1, 2, 3, "valid"}, -1},
	{convCase{3, 7, 9, 11, 3, 3, 13, 3, 2, 1, 1, "valid"}, -1},
	{convCase{1, 1, 1, 4, 2, 2, 3, 2, 2, 1, 1, "valid"}, -1},
	{convCase{1, 20, 20, 16, 3, 3, 8, 2, 2, 1, 1, "same"}, -1},
}

func TestConv2DTransposeMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	worst := 0.0
	for _, tc := range transposeCases {
		cc := tc.convCase
		p, err := NewConvTransposeParams(cc.n, cc.h, cc.w, cc.c, cc.kh, cc.kw, cc.f, cc.sh, cc.sw, cc.dh, cc.dw, cc.pad, tc.outPad, tc.outPad)
		if err != nil {
			t.Fatalf("%v: %v", cc, err)
		}
		in := randSlice(r, p.N*p.H*p.W*p.C)
		kernel := randSlice(r, p.KH*p.KW*p.F*p.C)
		bias := randSlice(r, p.F)
		want := naiveTranspose(in, kernel, bias, p)
		for _, budget := range []int{im2colBudget, p.KH * p.KW * p.F, 5 * p.KH * p.KW * p.F} {
			got := make([]float32, len(want))
			withBudget(budget, func() { Conv2DTranspose(got, in, kernel, bias, p) })
			worst = max(worst, expectClose(t, fmt.Sprintf("%v outpad=%d budget=%d", cc, tc.outPad, budget), got, want, 1e-5*float64(p.C*p.KH*p.KW)))
		}
	}
	t.Logf("Conv2DTranspose vs naive: worst max abs error %.3g", worst)
}

// TestConv2DTransposeIsAdjoint checks <Conv2D(x), y> == <x, Conv2DTranspose(y)>
// for the same kernel and window geometry: the transposed convolution is
// the adjoint of the convolution, which ties both implementations together.
func TestConv2DTransposeIsAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, cc := range convCases[:12] {
		p, err := NewConvParams(cc.n, cc.h, cc.w, cc.c, cc.kh, cc.kw, cc.f, cc.sh, cc.sw, cc.dh, cc.dw, cc.pad)
		if err != nil {
			t.Fatal(err)
		}
		// Transposed geometry: input is the conv output, output the conv input.
		pt := ConvParams{N: p.N, H: p.OH, W: p.OW, C: p.F, KH: p.KH, KW: p.KW, F: p.C,
			SH: p.SH, SW: p.SW, DH: p.DH, DW: p.DW, PadTop: p.PadTop, PadLeft: p.PadLeft, OH: p.H, OW: p.W}
		x := randSlice(r, p.N*p.H*p.W*p.C)
		y := randSlice(r, p.N*p.OH*p.OW*p.F)
		kernel := randSlice(r, p.KH*p.KW*p.C*p.F) // (KH,KW,C,F) is (KH,KW,F',C') for the transpose
		cx := make([]float32, len(y))
		Conv2D(cx, x, kernel, nil, p)
		ty := make([]float32, len(x))
		Conv2DTranspose(ty, y, kernel, nil, pt)
		var a, b, mag float64
		for i := range y {
			a += float64(cx[i]) * float64(y[i])
			mag += math.Abs(float64(cx[i]) * float64(y[i]))
		}
		for i := range x {
			b += float64(x[i]) * float64(ty[i])
		}
		if math.Abs(a-b) > 1e-5*(mag+1) {
			t.Errorf("%v: <conv x, y> = %g, <x, convT y> = %g", cc, a, b)
		}
	}
}

// The course's example (seed text, "Filtro convolucional"): a 5x5 binary
// image and a vertical-edge kernel whose rows are all 1 0 -1.
var (
	courseImage = []float32{
		1, 1, 1, 0, 0,
		0, 1, 1, 1, 0,
		0, 0, 1, 1, 1,
		0, 0, 1, 1, 0,
		0, 1, 1, 0, 0,
	}
	courseKernel = []float32{
		1, 0, -1,
		1, 0, -1,
		1, 0, -1,
	}
)

func TestConv2DCourseExample(t *testing.T) {
	for _, tc := range []struct {
		stride int
		want   []float32
	}{
		{1, []float32{-2, 0, 2, -3, -2, 2, -3, -1, 2}},
		{2, []float32{-2, 2, -3, 2}},
	} {
		p, err := NewConvParams(1, 5, 5, 1, 3, 3, 1, tc.stride, tc.stride, 1, 1, "valid")
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float32, p.OH*p.OW)
		Conv2D(out, courseImage, courseKernel, nil, p)
		expectClose(t, fmt.Sprintf("stride %d", tc.stride), out, tc.want, 0)
	}
}

// TestConv2DCourseX: the course's 10x9 "X" image (pixels ±1) filtered by
// its diagonal feature [[1,-1,-1],[-1,1,-1],[-1,-1,1]] gives 9 (all nine
// products +1) exactly where the patch equals the filter, less elsewhere.
func TestConv2DCourseX(t *testing.T) {
	x := []float32{
		-1, -1, -1, -1, -1, -1, -1, -1, -1,
		-1, 1, -1, -1, -1, -1, -1, 1, -1,
		-1, -1, 1, -1, -1, -1, 1, -1, -1,
		-1, -1, -1, 1, -1, 1, -1, -1, -1,
		-1, -1, -1, -1, 1, -1, -1, -1, -1,
		-1, -1, -1, -1, 1, -1, -1, -1, -1,
		-1, -1, -1, 1, -1, 1, -1, -1, -1,
		-1, -1, 1, -1, -1, -1, 1, -1, -1,
		-1, 1, -1, -1, -1, -1, -1, 1, -1,
		-1, -1, -1, -1, -1, -1, -1, -1, -1,
	}
	filter := []float32{1, -1, -1, -1, 1, -1, -1, -1, 1}
	p, err := NewConvParams(1, 10, 9, 1, 3, 3, 1, 1, 1, 1, 1, "valid")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, p.OH*p.OW)
	Conv2D(out, x, filter, nil, p)
	if out[1*p.OW+1] != 9 {
		t.Errorf("output at (1,1), the X's upper-left arm, = %v, want 9", out[1*p.OW+1])
	}
	matches := 0
	for oy := 0; oy < p.OH; oy++ {
		for ox := 0; ox < p.OW; ox++ {
			match := true
			for ky := 0; ky < 3; ky++ {
				for kx := 0; kx < 3; kx++ {
					if x[(oy+ky)*9+ox+kx] != filter[ky*3+kx] {
						match = false
					}
				}
			}
			got := out[oy*p.OW+ox]
			if match {
				matches++
				if got != 9 {
					t.Errorf("(%d,%d): patch equals the filter, got %v, want 9", oy, ox, got)
				}
			} else if got >= 9 {
				t.Errorf("(%d,%d): patch differs from the filter, got %v, want < 9", oy, ox, got)
			}
		}
	}
	if matches < 2 {
		t.Errorf("found %d matching patches, expected the X's diagonal arms", matches)
	}
}

func TestConvPanicsOnBadLengths(t *testing.T) {
	p, _ := NewConvParams(1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, "valid")
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic on a short output slice")
		}
		if msg := fmt.Sprint(r); msg != "ops.Conv2D: out has 8 values, want 9 for shape (1, 3, 3, 1)" {
			t.Errorf("panic message %q", msg)
		}
	}()
	Conv2D(make([]float32, 8), courseImage, courseKernel, nil, p)
}

func TestChooseConvAlgorithm(t *testing.T) {
	p, _ := NewConvParams(1, 7, 7, 4, 1, 1, 8, 1, 1, 1, 1, "same")
	if chooseConvAlgorithm(p) != convPointwise {
		t.Error("1x1 stride 1 same conv should use the pointwise path")
	}
	p, _ = NewConvParams(1, 7, 7, 4, 1, 1, 8, 2, 2, 1, 1, "same")
	if chooseConvAlgorithm(p) != convIm2col {
		t.Error("1x1 stride 2 conv should use im2col")
	}
}
