package preprocess

import (
	"fmt"
	"math"
)

// Resizing as Pillow's Image.resize does it, which is what load_img calls.
//
// "nearest" (load_img's default) samples source pixel
// floor(box0 + (x+0.5)*(box1-box0)/outW) (libImaging/Geometry.c,
// ImagingScaleAffine). The coordinate is accumulated in float64, starting at
// box0 + scale/2 and adding scale per pixel, exactly as Pillow does, so
// that rounding at pixel boundaries agrees.
//
// The other filters are Pillow's antialiased two-pass convolution
// (libImaging/Resample.c): for every output pixel a window of source pixels
// centred on box0 + (x+0.5)*scale is weighted by the filter evaluated at
// (distance/max(scale, 1)), so when shrinking the filter is stretched by
// the shrink factor and averages all source pixels it covers (no aliasing).
// The weights of each output pixel are normalised to sum to 1 and, for
// 8-bit images, turned into 22-bit fixed point. The horizontal pass runs
// first and is rounded back to 8 bits before the vertical pass.
//
// RGBA images are premultiplied by alpha before a non-nearest resize and
// divided again afterwards (Pillow converts RGBA -> RGBa -> RGBA), so
// fully transparent pixels do not bleed their colour into neighbours.

// Filter names a resampling filter, with load_img's spelling.
type Filter string

// The interpolations of keras.utils.load_img (PIL filters).
const (
	Nearest  Filter = "nearest"
	Bilinear Filter = "bilinear" // triangle, support 1
	Bicubic  Filter = "bicubic"  // Keys cubic a = -0.5, support 2
	Hamming  Filter = "hamming"  // Hamming-windowed sinc, support 1
	Box      Filter = "box"      // box, support 0.5
	Lanczos  Filter = "lanczos"  // Lanczos-3 windowed sinc, support 3
)

// Filters lists the supported filters in the order Keras lists them.
var Filters = []Filter{Nearest, Bilinear, Bicubic, Hamming, Box, Lanczos}

type kernel struct {
	f       func(x float64) float64
	support float64
}

func boxKernel(x float64) float64 {
	if x > -0.5 && x <= 0.5 {
		return 1
	}
	return 0
}

func bilinearKernel(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}

// Pillow writes the Hamming constants as C floats (0.54f, 0.46f); they are
// used here with the same float32 values.
var hamA, hamB = float64(float32(0.54)), float64(float32(0.46))

func hammingKernel(x float64) float64 {
	x = math.Abs(x)
	if x == 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	x *= math.Pi
	return float64(math.Sin(x)/x) * (hamA + float64(hamB*math.Cos(x)))
}

func bicubicKernel(x float64) float64 {
	const a = -0.5
	x = math.Abs(x)
	// Each product is converted explicitly so that Go never fuses it into
	// a multiply-add: Pillow's x86-64 build rounds every step.
	if x < 1 {
		t := float64((a+2)*x) - (a + 3)
		t = float64(t * x)
		return float64(t*x) + 1
	}
	if x < 2 {
		t := float64(float64(x-5)*x) + 8
		t = float64(t*x) - 4
		return float64(t * a)
	}
	return 0
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

func lanczosKernel(x float64) float64 {
	if x >= -3 && x < 3 {
		return sinc(x) * sinc(x/3)
	}
	return 0
}

var kernels = map[Filter]kernel{
	Box:      {boxKernel, 0.5},
	Bilinear: {bilinearKernel, 1},
	Hamming:  {hammingKernel, 1},
	Bicubic:  {bicubicKernel, 2},
	Lanczos:  {lanczosKernel, 3},
}

// ParseFilter checks a load_img interpolation name.
func ParseFilter(s string) (Filter, error) {
	if s == "" {
		return Nearest, nil
	}
	for _, f := range Filters {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("invalid interpolation method %q; supported methods are nearest, bilinear, bicubic, hamming, box, lanczos", s)
}

// coeffs holds one pass's weights: output pixel i reads source pixels
// start[i] .. start[i]+n[i]-1 with weights w[i*ksize : i*ksize+n[i]].
type coeffs struct {
	ksize    int
	start, n []int
	w        []float64
}

// precompute returns the normalised filter weights for resampling the
// source span [in0, in1) of a line of inSize pixels to outSize pixels.
func precompute(inSize int, in0, in1 float32, outSize int, k kernel) coeffs {
	scale := float64(in1-in0) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := k.support * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, start: make([]int, outSize), n: make([]int, outSize), w: make([]float64, outSize*ksize)}
	for xx := 0; xx < outSize; xx++ {
		center := float64(in0) + float64((float64(xx)+0.5)*scale)
		ss := 1 / filterscale
		xmin := int(center - support + 0.5) // C's (int) truncates toward zero, as Go does
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		if xmax < 0 {
			xmax = 0
		}
		if xmax > ksize { // cannot happen for a valid box; guards the slice below
			xmax = ksize
		}
		w := c.w[xx*ksize : xx*ksize+xmax]
		ww := 0.0
		for x := range w {
			v := k.f(float64(float64(x+xmin)-center+0.5) * ss)
			w[x] = v
			ww += v
		}
		if ww != 0 {
			for x := range w {
				w[x] /= ww
			}
		}
		c.start[xx], c.n[xx] = xmin, xmax
	}
	return c
}

const precisionBits = 32 - 8 - 2

// fixed converts the weights to Pillow's 22-bit fixed point, rounding half
// away from zero.
func (c coeffs) fixed() []int32 {
	out := make([]int32, len(c.w))
	for i, v := range c.w {
		if v < 0 {
			out[i] = int32(-0.5 + float64(v*(1<<precisionBits)))
		} else {
			out[i] = int32(0.5 + float64(v*(1<<precisionBits)))
		}
	}
	return out
}

func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// clip16 rounds half away from zero and clamps to [0, 65535], as Pillow's
// 16bpc resampler does (CLIP16(ROUND_UP(ss))).
func clip16(ss float64) uint16 {
	var v int
	if ss >= 0 {
		v = int(ss + 0.5)
	} else {
		v = int(ss - 0.5)
	}
	return uint16(min(max(v, 0), 65535))
}

// Resize returns im resized to width x height with filter, reading the
// source rectangle box = [x0, y0, x1, y1] (nil means the whole image), as
// PIL's Image.resize(size, resample, box). Box coordinates may be
// fractional; they are float32 as in Pillow.
func Resize(im *Image, width, height int, filter Filter, box *[4]float32) (*Image, error) {
	if err := im.validate(); err != nil {
		return nil, err
	}
	if width < 1 || height < 1 {
		return nil, fmt.Errorf("preprocess: resize to %dx%d: height and width must be > 0", width, height)
	}
	if _, err := ParseFilter(string(filter)); err != nil {
		return nil, err
	}
	if filter == "" {
		filter = Nearest
	}
	b := [4]float32{0, 0, float32(im.Width), float32(im.Height)}
	if box != nil {
		b = *box
		for _, v := range b {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("preprocess: resize box %v is not finite", b)
			}
		}
		if b[0] < 0 || b[1] < 0 {
			return nil, fmt.Errorf("preprocess: resize box %v: box offset can't be negative", b)
		}
		if b[2] > float32(im.Width) || b[3] > float32(im.Height) {
			return nil, fmt.Errorf("preprocess: resize box %v: box can't exceed original image size %dx%d", b, im.Width, im.Height)
		}
		if b[2]-b[0] < 0 || b[3]-b[1] < 0 {
			return nil, fmt.Errorf("preprocess: resize box %v: box can't be empty", b)
		}
	}
	if box == nil && width == im.Width && height == im.Height {
		return im.clone(), nil // Image.resize returns a copy
	}
	src := im
	premultiplied := im.Mode == ModeRGBA && filter != Nearest
	if premultiplied {
		src = premultiply(im)
	}
	var out *Image
	switch {
	case isInt(b[0]) && isInt(b[1]) && b[2]-b[0] == float32(width) && b[3]-b[1] == float32(height):
		out = crop(src, int(b[0]), int(b[1]), width, height)
	case filter == Nearest:
		out = resizeNearest(src, width, height, b)
	default:
		out = resample(src, width, height, kernels[filter], b)
	}
	if premultiplied {
		unpremultiply(out)
	}
	return out, nil
}

func isInt(v float32) bool { return v == float32(int(v)) }

func (im *Image) clone() *Image {
	out := &Image{Mode: im.Mode, Width: im.Width, Height: im.Height}
	if im.Pix != nil {
		out.Pix = append([]uint8(nil), im.Pix...)
	}
	if im.Pix16 != nil {
		out.Pix16 = append([]uint16(nil), im.Pix16...)
	}
	return out
}

func crop(im *Image, x0, y0, w, h int) *Image {
	out := newImage(im.Mode, w, h)
	c := im.Channels()
	for y := 0; y < h; y++ {
		if im.Mode == ModeI16 {
			copy(out.Pix16[y*w:(y+1)*w], im.Pix16[(y0+y)*im.Width+x0:])
		} else {
			copy(out.Pix[y*w*c:(y+1)*w*c], im.Pix[((y0+y)*im.Width+x0)*c:])
		}
	}
	return out
}

// coord is Pillow's COORD macro: -1 for negative values, else truncation.
func coord(v float64) int {
	if v < 0 {
		return -1
	}
	return int(v)
}

func resizeNearest(im *Image, w, h int, b [4]float32) *Image {
	a0 := float64(b[2]-b[0]) / float64(w)
	a4 := float64(b[3]-b[1]) / float64(h)
	a2, a5 := float64(b[0]), float64(b[1])
	xs := make([]int, w)
	ys := make([]int, h)
	if im.Mode == ModeI16 {
		// Pillow sends I;16 through its generic transform, which computes
		// each coordinate directly instead of accumulating it.
		for x := range xs {
			xs[x] = coord(float64(a0*(float64(x)+0.5)) + a2)
		}
		for y := range ys {
			ys[y] = coord(float64(a4*(float64(y)+0.5)) + a5)
		}
	} else {
		xo := a2 + float64(a0*0.5)
		for x := range xs {
			xs[x] = coord(xo)
			xo += a0
		}
		yo := a5 + float64(a4*0.5)
		for y := range ys {
			ys[y] = coord(yo)
			yo += a4
		}
	}
	out := newImage(im.Mode, w, h)
	c := im.Channels()
	for y, sy := range ys {
		if sy < 0 || sy >= im.Height {
			continue // Pillow fills with zeros; unreachable for in-range boxes
		}
		for x, sx := range xs {
			if sx < 0 || sx >= im.Width {
				continue
			}
			if im.Mode == ModeI16 {
				out.Pix16[y*w+x] = im.Pix16[sy*im.Width+sx]
				continue
			}
			copy(out.Pix[(y*w+x)*c:(y*w+x+1)*c], im.Pix[(sy*im.Width+sx)*c:])
		}
	}
	return out
}

// resample is Pillow's ImagingResampleInner. Normally a horizontal pass
// over just the source rows the vertical pass needs, then a vertical pass;
// but when the height shrinks by more than twice as many pixels as the
// width does, Pillow (13; older releases always went horizontal first) runs
// the vertical pass first. Each pass rounds to the pixel type, so the order
// changes results by a level here and there and has to be followed.
func resample(im *Image, w, h int, k kernel, b [4]float32) *Image {
	needH := w != im.Width || b[0] != 0 || b[2] != float32(w)
	needV := h != im.Height || b[1] != 0 || b[3] != float32(h)
	dh, dw := im.Height-h, im.Width-w
	horizontalFirst := !(dh > 0 && dh > dw*2)
	if !needH && !needV {
		return im.clone()
	}
	cur := im
	if horizontalFirst {
		if needH {
			cv := precompute(im.Height, b[1], b[3], h, k)
			first := cv.start[0]
			last := cv.start[h-1] + cv.n[h-1]
			ch := precompute(im.Width, b[0], b[2], w, k)
			cur = resampleH(cur, w, first, last-first, ch)
			if needV {
				for i := range cv.start {
					cv.start[i] -= first
				}
				cur = resampleV(cur, h, cv)
			}
			return cur
		}
		return resampleV(cur, h, precompute(im.Height, b[1], b[3], h, k))
	}
	if needV {
		cur = resampleV(cur, h, precompute(im.Height, b[1], b[3], h, k))
	}
	if needH {
		cur = resampleH(cur, w, 0, cur.Height, precompute(im.Width, b[0], b[2], w, k))
	}
	return cur
}

func resampleH(im *Image, w, y0, rows int, c coeffs) *Image {
	out := newImage(im.Mode, w, rows)
	if im.Mode == ModeI16 {
		for y := 0; y < rows; y++ {
			src := im.Pix16[(y0+y)*im.Width:]
			for x := 0; x < w; x++ {
				kw := c.w[x*c.ksize : x*c.ksize+c.n[x]]
				s := src[c.start[x]:]
				ss := 0.0
				for i, kv := range kw {
					ss += float64(float64(s[i]) * kv)
				}
				out.Pix16[y*w+x] = clip16(ss)
			}
		}
		return out
	}
	kk := c.fixed()
	ch := im.Channels()
	for y := 0; y < rows; y++ {
		src := im.Pix[(y0+y)*im.Width*ch:]
		dst := out.Pix[y*w*ch:]
		for x := 0; x < w; x++ {
			kw := kk[x*c.ksize : x*c.ksize+c.n[x]]
			s := src[c.start[x]*ch:]
			for j := 0; j < ch; j++ {
				ss := int32(1 << (precisionBits - 1))
				for i, kv := range kw {
					ss += int32(s[i*ch+j]) * kv
				}
				dst[x*ch+j] = clip8(ss)
			}
		}
	}
	return out
}

func resampleV(im *Image, h int, c coeffs) *Image {
	w := im.Width
	out := newImage(im.Mode, w, h)
	if im.Mode == ModeI16 {
		for y := 0; y < h; y++ {
			kw := c.w[y*c.ksize : y*c.ksize+c.n[y]]
			for x := 0; x < w; x++ {
				ss := 0.0
				for i, kv := range kw {
					ss += float64(float64(im.Pix16[(c.start[y]+i)*w+x]) * kv)
				}
				out.Pix16[y*w+x] = clip16(ss)
			}
		}
		return out
	}
	kk := c.fixed()
	ch := im.Channels()
	stride := w * ch
	for y := 0; y < h; y++ {
		kw := kk[y*c.ksize : y*c.ksize+c.n[y]]
		base := c.start[y] * stride
		dst := out.Pix[y*stride : (y+1)*stride]
		for i := range dst {
			ss := int32(1 << (precisionBits - 1))
			for j, kv := range kw {
				ss += int32(im.Pix[base+j*stride+i]) * kv
			}
			dst[i] = clip8(ss)
		}
	}
	return out
}

// premultiply is Pillow's RGBA -> RGBa conversion.
func premultiply(im *Image) *Image {
	out := im.clone()
	p := out.Pix
	for i := 0; i+3 < len(p); i += 4 {
		a := uint32(p[i+3])
		p[i] = uint8(muldiv255(uint32(p[i]), a))
		p[i+1] = uint8(muldiv255(uint32(p[i+1]), a))
		p[i+2] = uint8(muldiv255(uint32(p[i+2]), a))
	}
	return out
}

// unpremultiply is Pillow's RGBa -> RGBA conversion (truncating division).
func unpremultiply(im *Image) {
	p := im.Pix
	for i := 0; i+3 < len(p); i += 4 {
		a := uint32(p[i+3])
		if a == 0 || a == 255 {
			continue
		}
		for j := 0; j < 3; j++ {
			p[i+j] = uint8(min(255*uint32(p[i+j])/a, 255))
		}
	}
}
