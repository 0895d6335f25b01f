package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naivePool computes max or average pooling from the definition: loop over
// the whole window, skip cells outside the input.
func naivePool(in []float32, p PoolParams, isMax bool) []float32 {
	out := make([]float32, p.N*p.OH*p.OW*p.C)
	for n := 0; n < p.N; n++ {
		for oy := 0; oy < p.OH; oy++ {
			for ox := 0; ox < p.OW; ox++ {
				for c := 0; c < p.C; c++ {
					best, sum, count := math.Inf(-1), 0.0, 0
					for ky := 0; ky < p.PH; ky++ {
						for kx := 0; kx < p.PW; kx++ {
							iy, ix := oy*p.SH-p.PadTop+ky, ox*p.SW-p.PadLeft+kx
							if iy < 0 || iy >= p.H || ix < 0 || ix >= p.W {
								continue
							}
							v := float64(in[((n*p.H+iy)*p.W+ix)*p.C+c])
							best = math.Max(best, v)
							sum += v
							count++
						}
					}
					var r float64
					switch {
					case count == 0:
						r = 0
					case isMax:
						r = best
					default:
						r = sum / float64(count)
					}
					out[((n*p.OH+oy)*p.OW+ox)*p.C+c] = float32(r)
				}
			}
		}
	}
	return out
}

func TestPoolsMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []struct {
		n, h, w, c, ph, pw, sh, sw int
		pad                        string
	}{
		{1, 8, 8, 3, 2, 2, 2, 2, "valid"}, // VGG
		{2, 7, 7, 5, 2, 2, 2, 2, "valid"}, // odd size drops the last row
		{2, 7, 7, 5, 2, 2, 2, 2, "same"},
		{1, 6, 7, 2, 3, 3, 2, 2, "same"},
		{1, 5, 5, 1, 3, 3, 1, 1, "same"},
		{3, 9, 4, 3, 3, 2, 3, 1, "valid"},
		{1, 4, 4, 2, 5, 5, 1, 1, "same"}, // window larger than image
		{1, 1, 1, 7, 3, 3, 2, 2, "same"},
		{1, 112, 112, 3, 3, 3, 2, 2, "same"},
		{2, 10, 11, 17, 4, 3, 3, 2, "same"},
	} {
		p, err := NewPoolParams(tc.n, tc.h, tc.w, tc.c, tc.ph, tc.pw, tc.sh, tc.sw, tc.pad)
		if err != nil {
			t.Fatal(err)
		}
		in := randSlice(r, p.N*p.H*p.W*p.C)
		// All-negative input: a max pool that let a padded zero win would show.
		for i := range in {
			in[i] = in[i] - 2
		}
		name := fmt.Sprintf("%+v", tc)
		got := make([]float32, p.N*p.OH*p.OW*p.C)
		MaxPool2D(got, in, p)
		expectClose(t, "max "+name, got, naivePool(in, p, true), 0)
		AvgPool2D(got, in, p)
		expectClose(t, "avg "+name, got, naivePool(in, p, false), 2e-7)
	}
}

// Hand check: a 3x3 input, 2x2 window, stride 2, "same" (pads 0 before, 1
// after): windows hold 4, 2, 2 and 1 real cells.
func TestAvgPoolSameCountsRealCells(t *testing.T) {
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	p, err := NewPoolParams(1, 3, 3, 1, 2, 2, 2, 2, "same")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 4)
	AvgPool2D(out, in, p)
	expectClose(t, "avg", out, []float32{(1 + 2 + 4 + 5) / 4.0, (3 + 6) / 2.0, (7 + 8) / 2.0, 9}, 0)
	MaxPool2D(out, []float32{-1, -2, -3, -4, -5, -6, -7, -8, -9}, p)
	expectClose(t, "max", out, []float32{-1, -3, -7, -9}, 0)
}

func TestGlobalPools(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	n, hw, c := 3, 49, 5
	in := randSlice(r, n*hw*c)
	avg := make([]float32, n*c)
	mx := make([]float32, n*c)
	GlobalAvgPool2D(avg, in, n, hw, c)
	GlobalMaxPool2D(mx, in, n, hw, c)
	wantAvg := make([]float32, n*c)
	wantMax := make([]float32, n*c)
	for b := 0; b < n; b++ {
		for ch := 0; ch < c; ch++ {
			s, m := 0.0, math.Inf(-1)
			for q := 0; q < hw; q++ {
				v := float64(in[(b*hw+q)*c+ch])
				s += v
				m = math.Max(m, v)
			}
			wantAvg[b*c+ch] = float32(s / float64(hw))
			wantMax[b*c+ch] = float32(m)
		}
	}
	expectClose(t, "global avg", avg, wantAvg, 0)
	expectClose(t, "global max", mx, wantMax, 0)
}
