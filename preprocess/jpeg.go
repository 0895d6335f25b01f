package preprocess

import "image"

// libjpeg-style colour reconstruction for JPEGDecoder JPEGLibjpeg.
//
// image/jpeg returns the decoded Y, Cb and Cr planes with the chroma planes
// at their stored (subsampled) resolution. Pillow hands the file to
// libjpeg-turbo, which (with its defaults, which Pillow keeps) upsamples
// chroma with a triangle filter ("fancy upsampling", jdsample.c) and then
// converts with 16-bit fixed-point tables (jdcolor.c). Doing the same on
// Go's planes removes most of the difference between the two decoders; what
// remains comes from the inverse DCTs (Go's differs from libjpeg's
// JDCT_ISLOW by a level here and there).
//
// The triangle filter weighs the nearer chroma sample 3/4 and the farther
// 1/4 in each subsampled direction, with libjpeg's alternating rounding
// biases so that errors do not accumulate in one direction.

// FIX(x) of jdcolor.c: x in 16-bit fixed point, rounded.
const (
	fix1402  = 91881  // FIX(1.40200)
	fix1772  = 116130 // FIX(1.77200)
	fix71414 = 46802  // FIX(0.71414)
	fix34414 = 22554  // FIX(0.34414)
	oneHalf  = 1 << 15
)

func clampU8(v int) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// libjpegYCbCrToRGB converts an image/jpeg YCbCr image to packed RGB the way
// libjpeg-turbo's decoder does after the IDCT.
func libjpegYCbCrToRGB(m *image.YCbCr) []uint8 {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	var hf, vf int
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
		hf, vf = 1, 1
	case image.YCbCrSubsampleRatio422:
		hf, vf = 2, 1
	case image.YCbCrSubsampleRatio420:
		hf, vf = 2, 2
	case image.YCbCrSubsampleRatio440:
		hf, vf = 1, 2
	case image.YCbCrSubsampleRatio411:
		hf, vf = 4, 1
	case image.YCbCrSubsampleRatio410:
		hf, vf = 4, 2
	default:
		return goYCbCrToRGB(m)
	}
	cw, ch := (w+hf-1)/hf, (h+vf-1)/vf // libjpeg's downsampled_width/height
	// Chroma sample (cx, cy), clamped to the stored plane as libjpeg's edge
	// replication does.
	base := m.COffset(b.Min.X, b.Min.Y)
	at := func(p []uint8, cx, cy int) int {
		cx = min(max(cx, 0), cw-1)
		cy = min(max(cy, 0), ch-1)
		return int(p[base+cy*m.CStride+cx])
	}
	cb := make([]uint8, w*h)
	cr := make([]uint8, w*h)
	for _, pl := range [2]struct{ in, out []uint8 }{{m.Cb, cb}, {m.Cr, cr}} {
		upsample(pl.in, pl.out, w, h, cw, hf, vf, at)
	}
	out := make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		yrow := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			yy := int(yrow[x])
			cbv := int(cb[y*w+x]) - 128
			crv := int(cr[y*w+x]) - 128
			o := 3 * (y*w + x)
			out[o] = clampU8(yy + (fix1402*crv+oneHalf)>>16)
			out[o+1] = clampU8(yy + (-fix34414*cbv+oneHalf-fix71414*crv)>>16)
			out[o+2] = clampU8(yy + (fix1772*cbv+oneHalf)>>16)
		}
	}
	return out
}

// upsample fills the full-resolution plane out (w x h) from the chroma
// plane read through at.
func upsample(in, out []uint8, w, h, cw, hf, vf int, at func([]uint8, int, int) int) {
	fancyH := hf == 2 && cw > 2 // libjpeg: fancy only when downsampled_width > 2
	switch {
	case hf == 2 && vf == 1 && fancyH: // h2v1_fancy_upsample
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				cx := x / 2
				c := 3 * at(in, cx, y)
				switch {
				case x%2 == 0 && cx == 0:
					out[y*w+x] = uint8(c / 3)
				case x%2 == 0:
					out[y*w+x] = uint8((c + at(in, cx-1, y) + 1) >> 2)
				case cx == cw-1:
					out[y*w+x] = uint8(c / 3)
				default:
					out[y*w+x] = uint8((c + at(in, cx+1, y) + 2) >> 2)
				}
			}
		}
	case hf == 1 && vf == 2: // h1v2_fancy_upsample
		for y := 0; y < h; y++ {
			cy, nb, bias := y/2, y/2-1, 1
			if y%2 == 1 {
				nb, bias = cy+1, 2
			}
			for x := 0; x < w; x++ {
				out[y*w+x] = uint8((3*at(in, x, cy) + at(in, x, nb) + bias) >> 2)
			}
		}
	case hf == 2 && vf == 2 && fancyH: // h2v2_fancy_upsample
		colsum := make([]int, cw)
		for y := 0; y < h; y++ {
			cy, nb := y/2, y/2-1
			if y%2 == 1 {
				nb = cy + 1
			}
			for cx := range colsum {
				colsum[cx] = 3*at(in, cx, cy) + at(in, cx, nb)
			}
			row := out[y*w : (y+1)*w]
			for x := range row {
				cx := x / 2
				this := colsum[cx]
				switch {
				case x%2 == 0 && cx == 0:
					row[x] = uint8((this*4 + 8) >> 4)
				case x%2 == 0:
					row[x] = uint8((this*3 + colsum[cx-1] + 8) >> 4)
				case cx == cw-1:
					row[x] = uint8((this*4 + 7) >> 4)
				default:
					row[x] = uint8((this*3 + colsum[cx+1] + 7) >> 4)
				}
			}
		}
	default: // 4:4:4, or plain replication (int_upsample, h2v1/h2v2_upsample)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out[y*w+x] = uint8(at(in, x/hf, y/vf))
			}
		}
	}
}

// WebP (lossy, VP8) stores limited-range ("studio swing", Y in 16..235)
// BT.601 YCbCr, but golang.org/x/image/webp returns it as an image.YCbCr,
// whose color model is JPEG's full-range YCbCr: drawn through Go's colour
// conversion the picture loses contrast (levels off by up to ~60). libwebp,
// which Pillow uses, upsamples chroma with its own "fancy" 9-3-3-1 filter
// and converts with 14-bit fixed-point VP8 constants; webpYCbCrToRGB does
// the same on x/image/webp's planes.

// webpClip8 is libwebp's VP8Clip8 (YUV_FIX2 = 6 fractional bits).
func webpClip8(v int) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

func multHi(v, c int) int { return (v * c) >> 8 }

func webpYCbCrToRGB(m *image.YCbCr) []uint8 {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return goYCbCrToRGB(m) // VP8 is always 4:2:0
	}
	cw, ch := (w+1)/2, (h+1)/2
	base := m.COffset(b.Min.X, b.Min.Y)
	out := make([]uint8, 3*w*h)
	u := make([]int, w)
	v := make([]int, w)
	for y := 0; y < h; y++ {
		// Output row y interpolates between a "near" and a "far" chroma
		// row (libwebp EmitFancyRGB): row 0 and the last row of an even
		// height use one chroma row twice.
		var top, cur int
		isTop := true
		switch {
		case y == 0:
			top, cur = 0, 0
		case y%2 == 1:
			k := (y + 1) / 2
			if k < ch {
				top, cur = k-1, k
			} else {
				top, cur = ch-1, ch-1
			}
		default:
			top, cur, isTop = y/2-1, y/2, false
		}
		for _, pl := range [2]struct {
			p   []uint8
			dst []int
		}{{m.Cb, u}, {m.Cr, v}} {
			t := pl.p[base+top*m.CStride:]
			c := pl.p[base+cur*m.CStride:]
			webpUpsampleRow(t[:cw], c[:cw], pl.dst, isTop)
		}
		yrow := m.Y[m.YOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			yy := multHi(int(yrow[x]), 19077)
			o := 3 * (y*w + x)
			out[o] = webpClip8(yy + multHi(v[x], 26149) - 14234)
			out[o+1] = webpClip8(yy - multHi(u[x], 6419) - multHi(v[x], 13320) + 8708)
			out[o+2] = webpClip8(yy + multHi(u[x], 33050) - 17685)
		}
	}
	return out
}

// webpUpsampleRow is one output row of libwebp's fancy upsampler: near is
// the chroma row closer to the output row (weight 3/4), far the other one.
// topRow says whether the output row is the upper one of its pair, which
// decides which chroma row is near.
func webpUpsampleRow(top, cur []uint8, dst []int, topRow bool) {
	n := len(dst)
	tl, l := int(top[0]), int(cur[0])
	edge := func(tl, l int) int {
		if topRow {
			return (3*tl + l + 2) >> 2
		}
		return (3*l + tl + 2) >> 2
	}
	dst[0] = edge(tl, l)
	for x := 1; x <= (n-1)>>1; x++ {
		t, c := int(top[x]), int(cur[x])
		avg := tl + t + l + c + 8
		d12 := (avg + 2*(t+l)) >> 3
		d03 := (avg + 2*(tl+c)) >> 3
		if topRow {
			dst[2*x-1] = (d12 + tl) >> 1
			dst[2*x] = (d03 + t) >> 1
		} else {
			dst[2*x-1] = (d03 + l) >> 1
			dst[2*x] = (d12 + c) >> 1
		}
		tl, l = t, c
	}
	if n%2 == 0 {
		dst[n-1] = edge(tl, l)
	}
}
