package ops

import (
	"fmt"
	"strings"
)

// ZeroPad2D computes Keras's ZeroPadding2D:
//
//	in  (N, H, W, C)
//	out (N, top+H+bottom, left+W+right, C)
//
// with zeros in the border. It panics on negative sizes or slice lengths
// that disagree with them.
func ZeroPad2D(out, in []float32, n, h, w, c, top, bottom, left, right int) {
	if n < 0 || h < 0 || w < 0 || c < 0 || top < 0 || bottom < 0 || left < 0 || right < 0 {
		panic(fmt.Sprintf("ops.ZeroPad2D: negative size in input (%d, %d, %d, %d) or padding (%d, %d, %d, %d)", n, h, w, c, top, bottom, left, right))
	}
	oh, ow := h+top+bottom, w+left+right
	insz, ok1 := size(n, h, w, c)
	outsz, ok2 := size(n, oh, ow, c)
	if !ok1 || !ok2 {
		panic(fmt.Sprintf("ops.ZeroPad2D: input (%d, %d, %d, %d) padded to (%d, %d) too large", n, h, w, c, oh, ow))
	}
	mustLen("ZeroPad2D", "in", in, insz, shape4(n, h, w, c))
	mustLen("ZeroPad2D", "out", out, outsz, shape4(n, oh, ow, c))
	clear(out)
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			src := in[((b*h+y)*w)*c : ((b*h+y)*w+w)*c]
			dst := out[((b*oh+y+top)*ow+left)*c:]
			copy(dst[:w*c], src)
		}
	}
}

// Crop2D computes Keras's Cropping2D:
//
//	in  (N, H, W, C)
//	out (N, H-top-bottom, W-left-right, C)
//
// It panics on negative sizes, crops larger than the image, or slice
// lengths that disagree with the sizes.
func Crop2D(out, in []float32, n, h, w, c, top, bottom, left, right int) {
	if n < 0 || h < 0 || w < 0 || c < 0 || top < 0 || bottom < 0 || left < 0 || right < 0 {
		panic(fmt.Sprintf("ops.Crop2D: negative size in input (%d, %d, %d, %d) or cropping (%d, %d, %d, %d)", n, h, w, c, top, bottom, left, right))
	}
	oh, ow := h-top-bottom, w-left-right
	if oh < 0 || ow < 0 {
		panic(fmt.Sprintf("ops.Crop2D: cropping (%d, %d, %d, %d) is larger than the %dx%d image", top, bottom, left, right, h, w))
	}
	insz, ok := size(n, h, w, c)
	if !ok {
		panic(fmt.Sprintf("ops.Crop2D: input (%d, %d, %d, %d) too large", n, h, w, c))
	}
	mustLen("Crop2D", "in", in, insz, shape4(n, h, w, c))
	mustLen("Crop2D", "out", out, n*oh*ow*c, shape4(n, oh, ow, c))
	for b := 0; b < n; b++ {
		for y := 0; y < oh; y++ {
			src := in[((b*h+y+top)*w+left)*c:]
			copy(out[((b*oh+y)*ow)*c:((b*oh+y)*ow+ow)*c], src[:ow*c])
		}
	}
}

// UpSampling2D computes Keras's UpSampling2D:
//
//	in  (N, H, W, C)
//	out (N, H*SH, W*SW, C)
//
// interpolation "nearest" repeats each pixel SH×SW times. "bilinear"
// matches what Keras's UpSampling2D does in both tf.keras 2.x and Keras 3
// (tf.image.resize with method "bilinear", antialias off), which is TF's
// ResizeBilinear with half_pixel_centers=True: output row y samples input
// coordinate (y+0.5)/SH - 0.5, clamped to the image, interpolating between
// the two nearest rows (likewise for columns). This is not the
// align_corners or half_pixel_centers=False resize of TF 1.x. The
// arithmetic follows TF's in float32. Other Keras interpolations (bicubic,
// area, lanczos...) return an error, as do bad sizes.
func UpSampling2D(out, in []float32, n, h, w, c, sh, sw int, interpolation string) error {
	if n < 0 || h < 1 || w < 1 || c < 1 || sh < 1 || sw < 1 {
		return fmt.Errorf("upsampling: bad sizes: input (%d, %d, %d, %d), factors (%d, %d)", n, h, w, c, sh, sw)
	}
	oh, ow := h*sh, w*sw
	insz, ok1 := size(n, h, w, c)
	outsz, ok2 := size(n, h, sh, w, sw, c)
	if !ok1 || !ok2 {
		return fmt.Errorf("upsampling: input (%d, %d, %d, %d) by (%d, %d) is too large", n, h, w, c, sh, sw)
	}
	if len(in) != insz {
		return fmt.Errorf("upsampling: input has %d values, want %d for shape %s", len(in), insz, shape4(n, h, w, c))
	}
	if len(out) != outsz {
		return fmt.Errorf("upsampling: output has %d values, want %d for shape %s", len(out), outsz, shape4(n, oh, ow, c))
	}
	switch strings.ToLower(interpolation) {
	case "nearest":
		for b := 0; b < n; b++ {
			for y := 0; y < oh; y++ {
				src := in[(b*h+y/sh)*w*c : (b*h+y/sh+1)*w*c]
				dst := out[(b*oh+y)*ow*c : (b*oh+y+1)*ow*c]
				for x := 0; x < ow; x++ {
					copy(dst[x*c:(x+1)*c], src[(x/sw)*c:(x/sw+1)*c])
				}
			}
		}
		return nil
	case "bilinear":
		ys := halfPixelWeights(h, oh)
		xs := halfPixelWeights(w, ow)
		for b := 0; b < n; b++ {
			img := in[b*h*w*c : (b+1)*h*w*c]
			for y, wy := range ys {
				top := img[wy.lo*w*c : (wy.lo+1)*w*c]
				bot := img[wy.hi*w*c : (wy.hi+1)*w*c]
				dst := out[(b*oh+y)*ow*c : (b*oh+y+1)*ow*c]
				for x, wx := range xs {
					tl, tr := top[wx.lo*c:(wx.lo+1)*c], top[wx.hi*c:(wx.hi+1)*c]
					bl, br := bot[wx.lo*c:(wx.lo+1)*c], bot[wx.hi*c:(wx.hi+1)*c]
					d := dst[x*c : (x+1)*c]
					for i := range d {
						t := tl[i] + float32((tr[i]-tl[i])*wx.lerp)
						u := bl[i] + float32((br[i]-bl[i])*wx.lerp)
						d[i] = t + float32((u-t)*wy.lerp)
					}
				}
			}
		}
		return nil
	default:
		return fmt.Errorf("upsampling: unsupported interpolation %q (want \"nearest\" or \"bilinear\")", interpolation)
	}
}

// lerpWeight is one output row's (or column's) pair of input rows and the
// weight of the second.
type lerpWeight struct {
	lo, hi int
	lerp   float32
}

// halfPixelWeights computes TF's bilinear interpolation weights for a
// resize from n to out with half-pixel centers, in float32 as TF does.
func halfPixelWeights(n, out int) []lerpWeight {
	scale := float32(n) / float32(out)
	ws := make([]lerpWeight, out)
	for i := range ws {
		in := (float32(i)+0.5)*scale - 0.5
		fl := float32(floor32(in))
		ws[i] = lerpWeight{
			lo:   max(int(fl), 0),
			hi:   min(int(ceil32(in)), n-1),
			lerp: in - fl,
		}
	}
	return ws
}

func floor32(x float32) float32 {
	t := float32(int64(x))
	if t > x {
		t--
	}
	return t
}

func ceil32(x float32) float32 {
	t := float32(int64(x))
	if t < x {
		t++
	}
	return t
}
