package preprocess

import (
	"fmt"
	"math"
)

// The resize methods of tf.image.resize (antialias=False), which
// image_dataset_from_directory uses. They are not Pillow's filters (see
// Resize): none of them widens its kernel when shrinking, so shrinking a
// picture a lot skips pixels instead of averaging them (except "area").
//
// Every method computes in float32 in TensorFlow's order of operations
// (explicit float32 conversions keep Go from fusing multiply-adds), so that
// results are bit-identical to TensorFlow's CPU kernels:
//
//   - bilinear: ResizeBilinear with half-pixel centres: source coordinate
//     (x + 0.5) * in/out - 0.5, the two neighbours clamped to the image,
//     lerp along x on both rows, then along y.
//   - nearest: ResizeNearestNeighbor with half-pixel centres: source pixel
//     floor((x + 0.5) * in/out), clamped.
//   - bicubic: ResizeBicubic with half-pixel centres and Keys' cubic
//     (a = -0.5) from a 1025-entry weight table, out-of-image taps
//     dropped and the weights renormalised; along y first, then x.
//   - area: ResizeArea: each output pixel averages the input area it
//     covers, partial pixels weighted by their covered fraction.
//   - lanczos3, lanczos5, gaussian, mitchellcubic: ScaleAndTranslate with
//     antialias=False: kernel of fixed radius (3, 5, 1.5, 2) around
//     (x + 0.5) * in/out, weights normalised to sum 1; rows first, then
//     columns. Their sines and exponentials come from Go's math package
//     rather than the C library, so a weight can differ in its last bit
//     and a value by about 1e-5.

// fltMin is C's FLT_MIN, the smallest normal float32.
const fltMin = 0x1p-126

// tfWindow is the part of a decoded image being resized.
type tfWindow struct {
	im        *tfImage
	y0, x0    int // top-left corner
	h, w      int // size
	c         int
	rowStride int // values per image row
}

func window(im *tfImage, y0, x0, h, w int) tfWindow {
	return tfWindow{im: im, y0: y0, x0: x0, h: h, w: w, c: im.c, rowStride: im.w * im.c}
}

// at returns channel ch of window pixel (y, x) as float32.
func (s *tfWindow) at(y, x, ch int) float32 {
	return float32(s.im.pix[(s.y0+y)*s.rowStride+(s.x0+x)*s.c+ch])
}

// resizeScale is TensorFlow's CalculateResizeScale without align_corners.
func resizeScale(in, out int) float32 { return float32(in) / float32(out) }

// tfResize resizes the window to (th, tw) with the named method and writes
// th*tw*c float32 values, row-major, to dst.
func tfResize(dst []float32, s tfWindow, th, tw int, method string) error {
	if th <= 0 || tw <= 0 || s.h <= 0 || s.w <= 0 {
		return fmt.Errorf("resize %dx%d to %dx%d: output dimensions must be positive", s.h, s.w, th, tw)
	}
	switch method {
	case "bilinear":
		resizeBilinearTF(dst, s, th, tw)
	case "nearest":
		resizeNearestTF(dst, s, th, tw)
	case "bicubic":
		resizeBicubicTF(dst, s, th, tw)
	case "area":
		resizeAreaTF(dst, s, th, tw)
	case "lanczos3", "lanczos5", "gaussian", "mitchellcubic":
		scaleAndTranslateTF(dst, s, th, tw, samplingKernels[method])
	default:
		return fmt.Errorf("unknown interpolation %q", method)
	}
	return nil
}

type lerpTap struct {
	lower, upper int
	lerp         float32
}

func bilinearTaps(out, in int) []lerpTap {
	scale := resizeScale(in, out)
	taps := make([]lerpTap, out)
	for i := range taps {
		v := float32(float32(float32(i)+0.5)*scale) - 0.5
		f := float32(math.Floor(float64(v)))
		taps[i] = lerpTap{
			lower: max(int(f), 0),
			upper: min(int(math.Ceil(float64(v))), in-1),
			lerp:  v - f,
		}
	}
	return taps
}

func resizeBilinearTF(dst []float32, s tfWindow, th, tw int) {
	ys, xs := bilinearTaps(th, s.h), bilinearTaps(tw, s.w)
	i := 0
	for _, yt := range ys {
		for _, xt := range xs {
			for c := 0; c < s.c; c++ {
				tl, tr := s.at(yt.lower, xt.lower, c), s.at(yt.lower, xt.upper, c)
				bl, br := s.at(yt.upper, xt.lower, c), s.at(yt.upper, xt.upper, c)
				top := tl + float32((tr-tl)*xt.lerp)
				bottom := bl + float32((br-bl)*xt.lerp)
				dst[i] = top + float32((bottom-top)*yt.lerp)
				i++
			}
		}
	}
}

func nearestTaps(out, in int) []int {
	scale := resizeScale(in, out)
	taps := make([]int, out)
	for i := range taps {
		v := float32(float32(i)+0.5) * scale
		taps[i] = max(min(int(math.Floor(float64(v))), in-1), 0)
	}
	return taps
}

func resizeNearestTF(dst []float32, s tfWindow, th, tw int) {
	ys, xs := nearestTaps(th, s.h), nearestTaps(tw, s.w)
	i := 0
	for _, y := range ys {
		for _, x := range xs {
			for c := 0; c < s.c; c++ {
				dst[i] = s.at(y, x, c)
				i++
			}
		}
	}
}

// Bicubic: TensorFlow's table of Keys' cubic weights, a = -0.5, sampled at
// 1/1024 steps: entry 2i is the weight of a tap at distance i/1024, entry
// 2i+1 of a tap at distance 1 + i/1024. Computed in float64, stored float32.
const bicubicTableDensity = 1024

var keysCubicTable = func() []float32 {
	const a = -0.5
	t := make([]float32, (bicubicTableDensity+1)*2)
	for i := 0; i <= bicubicTableDensity; i++ {
		x := float64(float32(float64(i) * 1.0 / bicubicTableDensity))
		// The conversions keep Go from fusing multiply-adds.
		t[2*i] = float32(float64(float64(float64((a+2)*x)-(a+3))*x)*x + 1)
		x = float64(float32(x + 1.0))
		t[2*i+1] = float32(float64(float64(float64(float64(a*x)-5*a)*x)+8*a)*x - 4*a)
	}
	return t
}()

type cubicTaps struct {
	index  [4]int
	weight [4]float32
}

func bicubicTaps(out, in int) []cubicTaps {
	scale := resizeScale(in, out)
	t := keysCubicTable
	taps := make([]cubicTaps, out)
	bound := func(v int) int { return min(in-1, max(0, v)) }
	for i := range taps {
		v := float32(float32(float32(i)+0.5)*scale) - 0.5
		loc := int(math.Floor(float64(v)))
		delta := v - float32(loc)
		off := int(math.RoundToEven(float64(float32(delta * bicubicTableDensity))))
		tp := &taps[i]
		want := [4]int{loc - 1, loc, loc + 1, loc + 2}
		w := [4]float32{t[off*2+1], t[off*2], t[(bicubicTableDensity-off)*2], t[(bicubicTableDensity-off)*2+1]}
		for k := range want {
			tp.index[k] = bound(want[k])
			if tp.index[k] == want[k] {
				tp.weight[k] = w[k]
			}
		}
		sum := tp.weight[0] + tp.weight[1] + tp.weight[2] + tp.weight[3]
		if float32(math.Abs(float64(sum))) >= 1000*fltMin {
			inv := 1 / sum
			for k := range tp.weight {
				tp.weight[k] *= inv
			}
		}
	}
	return taps
}

// interp4 is TensorFlow's Interpolate1D: v0*w0 + v1*w1 + v2*w2 + v3*w3,
// summed left to right in float32.
func interp4(w *[4]float32, v0, v1, v2, v3 float32) float32 {
	s := float32(v0 * w[0])
	s += float32(v1 * w[1])
	s += float32(v2 * w[2])
	s += float32(v3 * w[3])
	return s
}

func resizeBicubicTF(dst []float32, s tfWindow, th, tw int) {
	ys, xs := bicubicTaps(th, s.h), bicubicTaps(tw, s.w)
	i := 0
	var col [4]float32
	for _, yt := range ys {
		for _, xt := range xs {
			for c := 0; c < s.c; c++ {
				for k, x := range xt.index {
					col[k] = interp4(&yt.weight, s.at(yt.index[0], x, c), s.at(yt.index[1], x, c), s.at(yt.index[2], x, c), s.at(yt.index[3], x, c))
				}
				dst[i] = interp4(&xt.weight, col[0], col[1], col[2], col[3])
				i++
			}
		}
	}
}

// areaSpan is one output pixel's input range along an axis for ResizeArea:
// input pixels start..end-1, the first weighted startScale, the last
// endScale, those in between 1.
type areaSpan struct {
	start, end           int
	startScale, endScale float32
}

func areaFraction(v int, lo, hi, scale float32) float32 {
	fv := float32(v)
	if fv < lo {
		if fv+1 > hi {
			return scale
		}
		return fv + 1 - lo
	}
	if fv+1 > hi {
		return hi - fv
	}
	return 1
}

func areaSpans(out, in int) ([]areaSpan, float32) {
	scale := resizeScale(in, out)
	spans := make([]areaSpan, out)
	for x := range spans {
		lo := float32(x) * scale
		hi := float32(x+1) * scale
		sp := &spans[x]
		sp.start = int(math.Floor(float64(lo)))
		sp.end = int(math.Ceil(float64(hi)))
		sp.startScale = areaFraction(sp.start, lo, hi, scale)
		sp.endScale = areaFraction(sp.end-1, lo, hi, scale)
	}
	return spans, scale
}

func resizeAreaTF(dst []float32, s tfWindow, th, tw int) {
	ys, hs := areaSpans(th, s.h)
	xs, ws := areaSpans(tw, s.w)
	norm := float32(1.0 / float64(float32(hs*ws)))
	bound := func(v, n int) int { return min(n-1, max(0, v)) }
	var yScales []float32
	var yRows []int
	i := 0
	for y, ysp := range ys {
		lo := float32(y) * hs
		hi := float32(y+1) * hs
		yScales, yRows = yScales[:0], yRows[:0]
		for r := ysp.start; r < ysp.end; r++ {
			yScales = append(yScales, areaFraction(r, lo, hi, hs))
			yRows = append(yRows, bound(r, s.h))
		}
		for _, xsp := range xs {
			for c := 0; c < s.c; c++ {
				var sum float32
				for k, row := range yRows {
					sumY := float32(s.at(row, bound(xsp.start, s.w), c) * xsp.startScale)
					if xsp.start+1 != xsp.end {
						for x := xsp.start + 1; x < xsp.end-1; x++ {
							sumY += s.at(row, bound(x, s.w), c)
						}
						sumY += float32(s.at(row, bound(xsp.end-1, s.w), c) * xsp.endScale)
					}
					sum += float32(sumY * yScales[k])
				}
				dst[i] = sum * norm
				i++
			}
		}
	}
}

// samplingKernel is one of TensorFlow's sampling_kernels.h functions.
type samplingKernel struct {
	radius float32
	f      func(x float32) float32
}

func lanczos(radius float32) samplingKernel {
	return samplingKernel{radius, func(x float32) float32 {
		const pi = float32(3.14159265359)
		x = float32(math.Abs(float64(x)))
		if x > radius {
			return 0
		}
		if x <= 1e-3 {
			return 1
		}
		s1 := float32(math.Sin(float64(pi * x)))
		s2 := float32(math.Sin(float64(float32(pi*x) / radius)))
		return float32(float32(radius*s1)*s2) / float32(float32(float32(pi*pi)*x)*x)
	}}
}

var samplingKernels = map[string]samplingKernel{
	"lanczos3": lanczos(3),
	"lanczos5": lanczos(5),
	"gaussian": {1.5, func(x float32) float32 {
		const sigma = float32(1.5) / 3
		x = float32(math.Abs(float64(x)))
		if x >= 1.5 {
			return 0
		}
		return float32(math.Exp(float64(-x*x) / (2.0 * float64(sigma) * float64(sigma))))
	}},
	"mitchellcubic": {2, func(x float32) float32 {
		x = float32(math.Abs(float64(x)))
		switch {
		case x >= 2:
			return 0
		case x >= 1:
			return float32(float32(float32(float32(float32(float32(-7.0/18.0)*x)+2)*x)-10.0/3.0)*x) + 16.0/9.0
		}
		return float32(float32(float32(float32(float32(7.0/6.0)*x)-2)*x)*x) + 8.0/9.0
	}},
}

// kernelSpans is ScaleAndTranslate's ComputeSpans without antialiasing
// and without translation: for each output position the first input
// index and the span's normalised weights (span entries past the input's
// end stay zero).
func kernelSpans(out, in int, k samplingKernel) (starts []int, weights []float32, size int) {
	scale := float32(out) / float32(in)
	inv := float32(1.0 / float64(scale))
	size = min(2*int(math.Ceil(float64(k.radius)))+1, in)
	starts = make([]int, out)
	weights = make([]float32, out*size)
	for x := 0; x < out; x++ {
		sample := float32(float32(x)+0.5) * inv
		if sample < 0 || sample > float32(in) {
			continue
		}
		start := int(math.Ceil(float64(sample - k.radius - 0.5)))
		end := int(math.Floor(float64(sample + k.radius - 0.5)))
		start = min(max(start, 0), in-1)
		end = min(max(end, 0), in-1) + 1
		ws := weights[x*size : (x+1)*size]
		var total float32
		for src := start; src < end; src++ {
			w := k.f(float32(float32(src)+0.5) - sample)
			total += w
			ws[src-start] = w
		}
		if float32(math.Abs(float64(total))) >= 1000*fltMin {
			inv := 1 / total
			for j := range ws[:end-start] {
				ws[j] *= inv
			}
		}
		starts[x] = start
	}
	return starts, weights, size
}

func scaleAndTranslateTF(dst []float32, s tfWindow, th, tw int, k samplingKernel) {
	rowStarts, rowW, rowSize := kernelSpans(th, s.h, k)
	colStarts, colW, colSize := kernelSpans(tw, s.w, k)
	// Rows first: (th, s.w, c) intermediate.
	mid := make([]float32, th*s.w*s.c)
	rowLen := s.w * s.c
	for y := 0; y < th; y++ {
		out := mid[y*rowLen : (y+1)*rowLen]
		n := min(rowStarts[y]+rowSize, s.h) - rowStarts[y]
		for j := 0; j < n; j++ {
			w := rowW[y*rowSize+j]
			r := rowStarts[y] + j
			for x := 0; x < s.w; x++ {
				for c := 0; c < s.c; c++ {
					out[x*s.c+c] += float32(w * s.at(r, x, c))
				}
			}
		}
	}
	// Then columns.
	i := 0
	for y := 0; y < th; y++ {
		in := mid[y*rowLen:]
		for x := 0; x < tw; x++ {
			n := min(colStarts[x]+colSize, s.w) - colStarts[x]
			for c := 0; c < s.c; c++ {
				var v float32
				for j := 0; j < n; j++ {
					v += float32(colW[x*colSize+j] * in[(colStarts[x]+j)*s.c+c])
				}
				dst[i] = v
				i++
			}
		}
	}
}
