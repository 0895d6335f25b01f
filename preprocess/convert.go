package preprocess

import (
	"fmt"
	"image"
	"image/color"
)

// This file turns a decoded Go image into the Image load_img would return,
// following Pillow's Image.convert rules (libImaging/Convert.c):
//
//   - RGB -> L uses ITU-R 601-2 luma in 16-bit fixed point,
//     L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16
//     (19595/65536 = 0.299, 38470/65536 = 0.587, 7471/65536 = 0.114).
//     Palette, CMYK and RGBA images go to L through their RGB values.
//   - RGBA -> RGB drops alpha; the colour is not composited onto anything.
//   - P (palette) -> RGB/RGBA looks the index up; PNG tRNS and GIF
//     transparency give the palette entry alpha 0 but keep its colour.
//   - 16-bit RGB/RGBA/LA PNGs are opened by Pillow with the high byte of
//     each sample (v >> 8). 16-bit grayscale opens as mode "I;16" with the
//     full value; converting I;16 to L/RGB/RGBA clips to 255 (it does not
//     scale), so a typical 16-bit grayscale photo converts to nearly white.
//   - CMYK -> RGB: R = clip(255-K - MULDIV255(C, 255-K)), likewise G, B,
//     with MULDIV255(a, b) = ((a*b+128) + ((a*b+128) >> 8)) >> 8.

// l24 is Pillow's RGB -> L conversion.
func l24(r, g, b uint8) uint8 {
	return uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

// muldiv255 is Pillow's rounded a*b/255 for 8-bit values.
func muldiv255(a, b uint32) uint32 {
	t := a*b + 128
	return ((t >> 8) + t) >> 8
}

// cmykToRGB is Pillow's cmyk2rgb for one pixel.
func cmykToRGB(c, m, y, k uint8) (uint8, uint8, uint8) {
	nk := 255 - uint32(k)
	f := func(v uint8) uint8 {
		// nk - MULDIV255(v, nk) is in [0, 255], so CLIP8 never bites.
		return uint8(nk - muldiv255(uint32(v), nk))
	}
	return f(c), f(m), f(y)
}

// straight returns c as 8-bit straight (non-premultiplied) RGBA.
func straight(c color.Color) [4]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [4]uint8{c.R, c.G, c.B, c.A}
	case color.RGBA:
		if c.A == 255 || (c.R == 0 && c.G == 0 && c.B == 0) {
			return [4]uint8{c.R, c.G, c.B, c.A}
		}
	case color.Gray:
		return [4]uint8{c.Y, c.Y, c.Y, 255}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [4]uint8{n.R, n.G, n.B, n.A}
}

// rowFunc writes row y of an image (in image coordinates relative to its
// Bounds().Min) into dst as 8-bit straight RGBA, 4 bytes per pixel.
type rowFunc func(y int, dst []uint8)

// rgbaRows returns a rowFunc for m. ycc converts a whole YCbCr image to
// packed RGB; it lets JPEG decoding choose its colour conversion.
func rgbaRows(m image.Image, ycc func(*image.YCbCr) []uint8) rowFunc {
	b := m.Bounds()
	w := b.Dx()
	switch m := m.(type) {
	case *image.Gray:
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				v := row[x]
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 255
			}
		}
	case *image.Gray16:
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				v := uint16(row[2*x])<<8 | uint16(row[2*x+1])
				c := uint8(255)
				if v < 255 {
					c = uint8(v)
				}
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = c, c, c, 255
			}
		}
	case *image.NRGBA:
		return func(y int, dst []uint8) { copy(dst[:4*w], m.Pix[y*m.Stride:]) }
	case *image.NRGBA64:
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for i := 0; i < 4*w; i++ {
				dst[i] = row[2*i] // high byte of each big-endian sample
			}
		}
	case *image.RGBA:
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				if p[3] == 255 {
					copy(dst[4*x:], p)
					continue
				}
				s := straight(color.RGBA{p[0], p[1], p[2], p[3]})
				copy(dst[4*x:], s[:])
			}
		}
	case *image.RGBA64:
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				p := row[8*x : 8*x+8]
				if p[6] == 0xff && p[7] == 0xff {
					dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = p[0], p[2], p[4], 255
					continue
				}
				c := color.RGBA64{uint16(p[0])<<8 | uint16(p[1]), uint16(p[2])<<8 | uint16(p[3]),
					uint16(p[4])<<8 | uint16(p[5]), uint16(p[6])<<8 | uint16(p[7])}
				n := color.NRGBA64Model.Convert(c).(color.NRGBA64)
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = uint8(n.R>>8), uint8(n.G>>8), uint8(n.B>>8), uint8(n.A>>8)
			}
		}
	case *image.Paletted:
		var pal [256][4]uint8 // indices beyond the palette read as transparent black
		for i, c := range m.Palette {
			if i < 256 {
				pal[i] = straight(c)
			}
		}
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				copy(dst[4*x:4*x+4], pal[row[x]][:])
			}
		}
	case *image.CMYK:
		return func(y int, dst []uint8) {
			row := m.Pix[y*m.Stride:]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+4]
				r, g, bb := cmykToRGB(p[0], p[1], p[2], p[3])
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = r, g, bb, 255
			}
		}
	case *image.YCbCr:
		rgb := ycc(m)
		return func(y int, dst []uint8) {
			row := rgb[3*w*y:]
			for x := 0; x < w; x++ {
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], 255
			}
		}
	case *image.NYCbCrA:
		rgb := ycc(&m.YCbCr)
		return func(y int, dst []uint8) {
			row := rgb[3*w*y:]
			arow := m.A[y*m.AStride:]
			for x := 0; x < w; x++ {
				dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = row[3*x], row[3*x+1], row[3*x+2], arow[x]
			}
		}
	}
	return func(y int, dst []uint8) {
		for x := 0; x < w; x++ {
			s := straight(m.At(b.Min.X+x, b.Min.Y+y))
			copy(dst[4*x:], s[:])
		}
	}
}

// goYCbCrToRGB converts with Go's color.YCbCrToRGB and nearest-neighbour
// chroma upsampling (what image/jpeg's At method does).
func goYCbCrToRGB(m *image.YCbCr) []uint8 {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
			ci := m.COffset(b.Min.X+x, b.Min.Y+y)
			r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			o := 3 * (y*w + x)
			out[o], out[o+1], out[o+2] = r, g, bb
		}
	}
	return out
}

// colorModes maps Keras's color_mode names to the modes load_img converts to.
var colorModes = map[string]Mode{"rgb": ModeRGB, "grayscale": ModeL, "rgba": ModeRGBA}

func parseColorMode(s string) (Mode, error) {
	if s == "" {
		return ModeRGB, nil
	}
	m, ok := colorModes[s]
	if !ok {
		return "", fmt.Errorf(`color_mode must be "grayscale", "rgb", or "rgba", got %q`, s)
	}
	return m, nil
}

// FromImage converts a decoded Go image to what load_img's conversion step
// gives for colorMode ("rgb" or "" -> RGB, "grayscale" -> L, "rgba" -> RGBA),
// using Pillow's rules (see the comment at the top of convert.go). As in
// load_img, "grayscale" keeps a 16-bit grayscale image (*image.Gray16) as
// ModeI16 instead of converting it to 8 bits.
//
// The conversion reads Go's concrete image types directly, so alpha is never
// premultiplied on the way; YCbCr images use Go's color.YCbCrToRGB.
func FromImage(m image.Image, colorMode string) (*Image, error) {
	mode, err := parseColorMode(colorMode)
	if err != nil {
		return nil, err
	}
	return fromImage(m, mode, goYCbCrToRGB), nil
}

func fromImage(m image.Image, mode Mode, ycc func(*image.YCbCr) []uint8) *Image {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if g, ok := m.(*image.Gray16); ok && mode == ModeL {
		out := newImage(ModeI16, w, h)
		for y := 0; y < h; y++ {
			row := g.Pix[y*g.Stride:]
			for x := 0; x < w; x++ {
				out.Pix16[y*w+x] = uint16(row[2*x])<<8 | uint16(row[2*x+1])
			}
		}
		return out
	}
	out := newImage(mode, w, h)
	rows := rgbaRows(m, ycc)
	buf := make([]uint8, 4*w)
	c := mode.Channels()
	for y := 0; y < h; y++ {
		rows(y, buf)
		dst := out.Pix[y*w*c : (y+1)*w*c]
		switch mode {
		case ModeRGBA:
			copy(dst, buf)
		case ModeRGB:
			for x := 0; x < w; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = buf[4*x], buf[4*x+1], buf[4*x+2]
			}
		case ModeL:
			for x := 0; x < w; x++ {
				dst[x] = l24(buf[4*x], buf[4*x+1], buf[4*x+2])
			}
		}
	}
	return out
}
