package ops

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDenseMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, sz := range [][3]int{{1, 25088, 7}, {3, 7, 5}, {17, 33, 65}, {0, 4, 3}, {128, 1, 9}} {
		m, k, n := sz[0], sz[1], sz[2]
		in, kernel, bias := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, n)
		want := make([]float32, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := float64(bias[j])
				for l := 0; l < k; l++ {
					s += float64(in[i*k+l]) * float64(kernel[l*n+j])
				}
				want[i*n+j] = float32(s)
			}
		}
		got := make([]float32, m*n)
		Dense(got, in, kernel, bias, m, k, n)
		expectClose(t, "dense", got, want, 1e-6*float64(k)+1e-6)
	}
}

func TestBatchNormMatchesFormula(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	rows, c := 6, 5
	in := randSlice(r, rows*c)
	gamma, beta, mean := randSlice(r, c), randSlice(r, c), randSlice(r, c)
	variance := randSlice(r, c)
	for i := range variance {
		variance[i] = variance[i]*variance[i] + 0.1
	}
	eps := float32(1e-3)
	for _, g := range [][]float32{gamma, nil} {
		for _, b := range [][]float32{beta, nil} {
			want := make([]float32, rows*c)
			for i, v := range in {
				ch := i % c
				y := (float64(v) - float64(mean[ch])) / math.Sqrt(float64(variance[ch])+float64(eps))
				if g != nil {
					y *= float64(g[ch])
				}
				if b != nil {
					y += float64(b[ch])
				}
				want[i] = float32(y)
			}
			got := append([]float32(nil), in...)
			BatchNorm(got, got, g, b, mean, variance, rows, c, eps) // in place
			expectClose(t, "batchnorm", got, want, 1e-6)
		}
	}
}

func TestZeroPadAndCrop(t *testing.T) {
	// (1, 2, 2, 1) padded by top 1, bottom 0, left 0, right 2.
	in := []float32{1, 2, 3, 4}
	out := make([]float32, 3*4)
	for i := range out {
		out[i] = 9 // must be overwritten
	}
	ZeroPad2D(out, in, 1, 2, 2, 1, 1, 0, 0, 2)
	expectClose(t, "pad", out, []float32{0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}, 0)
	// Crop it back.
	back := make([]float32, 4)
	Crop2D(back, out, 1, 3, 4, 1, 1, 0, 0, 2)
	expectClose(t, "crop", back, in, 0)
	// Two channels, batch 2: crop one pixel from every side of a 3x3.
	r := rand.New(rand.NewPCG(19, 20))
	x := randSlice(r, 2*3*3*2)
	c := make([]float32, 2*1*1*2)
	Crop2D(c, x, 2, 3, 3, 2, 1, 1, 1, 1)
	want := []float32{x[(0*9+4)*2], x[(0*9+4)*2+1], x[(1*9+4)*2], x[(1*9+4)*2+1]}
	expectClose(t, "crop centre", c, want, 0)
}

func TestAddConcat(t *testing.T) {
	a, b, c := []float32{1, 2, 3}, []float32{10, 20, 30}, []float32{100, 200, 300}
	out := make([]float32, 3)
	Add(out, a, b, c)
	expectClose(t, "add", out, []float32{111, 222, 333}, 0)
	Add(a, a, b) // in place
	expectClose(t, "add in place", a, []float32{11, 22, 33}, 0)
	// Concatenate (2, 1) and (2, 3) on the last axis: outer 2, widths 1 and 3.
	cat := make([]float32, 8)
	Concat(cat, [][]float32{{1, 2}, {3, 4, 5, 6, 7, 8}}, 2, []int{1, 3})
	expectClose(t, "concat", cat, []float32{1, 3, 4, 5, 2, 6, 7, 8}, 0)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "input 1 has 5 values") {
			t.Errorf("Concat with a short input: panic %v", r)
		}
	}()
	Concat(cat, [][]float32{{1, 2}, {3, 4, 5, 6, 7}}, 2, []int{1, 3})
}

func TestUpSamplingNearestHand(t *testing.T) {
	in := []float32{1, 2, 3, 4} // (1, 2, 2, 1)
	out := make([]float32, 4*6)
	if err := UpSampling2D(out, in, 1, 2, 2, 1, 2, 3, "nearest"); err != nil {
		t.Fatal(err)
	}
	expectClose(t, "nearest", out, []float32{
		1, 1, 1, 2, 2, 2,
		1, 1, 1, 2, 2, 2,
		3, 3, 3, 4, 4, 4,
		3, 3, 3, 4, 4, 4,
	}, 0)
}

// Bilinear by hand for a 1x2 row [0, 4] doubled: output columns sample
// input x = (j+0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped at the
// edges: 0, 1, 3, 4.
func TestUpSamplingBilinearHand(t *testing.T) {
	out := make([]float32, 2*4)
	if err := UpSampling2D(out, []float32{0, 4}, 1, 1, 2, 1, 2, 2, "bilinear"); err != nil {
		t.Fatal(err)
	}
	expectClose(t, "bilinear", out, []float32{0, 1, 3, 4, 0, 1, 3, 4}, 0)
}

func TestUpSamplingErrors(t *testing.T) {
	out := make([]float32, 16)
	if err := UpSampling2D(out, make([]float32, 4), 1, 2, 2, 1, 2, 2, "bicubic"); err == nil || !strings.Contains(err.Error(), `"bicubic"`) {
		t.Errorf("bicubic: %v", err)
	}
	if err := UpSampling2D(out, make([]float32, 3), 1, 2, 2, 1, 2, 2, "nearest"); err == nil || !strings.Contains(err.Error(), "input has 3 values") {
		t.Errorf("short input: %v", err)
	}
	if err := UpSampling2D(out, make([]float32, 4), 1, 2, 2, 1, 0, 2, "nearest"); err == nil {
		t.Error("factor 0 accepted")
	}
}
