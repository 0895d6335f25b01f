package preprocess

import (
	"fmt"
	"image"
	"image/color"
)

// Mode names a pixel layout, with Pillow's spelling (Image.mode).
type Mode string

// The modes LoadImg returns. They are the modes keras.utils.load_img can
// hand to img_to_array: "L", "RGB", "RGBA" after img.convert, and "I;16",
// which load_img keeps as is for color_mode="grayscale" (a 16-bit grayscale
// PNG then gives values up to 65535, not 255).
const (
	ModeL    Mode = "L"    // 8-bit grayscale, 1 channel
	ModeI16  Mode = "I;16" // 16-bit unsigned grayscale, 1 channel (Pix16)
	ModeRGB  Mode = "RGB"  // 8-bit red, green, blue
	ModeRGBA Mode = "RGBA" // 8-bit red, green, blue, straight (not premultiplied) alpha
)

// Channels returns the number of channels of m (0 for an unknown mode).
func (m Mode) Channels() int {
	switch m {
	case ModeL, ModeI16:
		return 1
	case ModeRGB:
		return 3
	case ModeRGBA:
		return 4
	}
	return 0
}

// Image is a decoded image in one of Pillow's modes: the Go counterpart of
// the PIL.Image that keras.utils.load_img returns.
//
// Pixels are stored row-major and interleaved: the value of channel c of
// pixel (x, y) is Pix[(y*Width+x)*Channels+c] for the 8-bit modes and
// Pix16[y*Width+x] for ModeI16 (whose Pix is nil).
//
// Image implements image.Image, so it can be handed to image/png and friends.
type Image struct {
	Mode          Mode
	Width, Height int
	Pix           []uint8
	Pix16         []uint16
}

// NewImage returns a zero (black, transparent) image of the given mode and size.
func NewImage(mode Mode, width, height int) (*Image, error) {
	c := mode.Channels()
	if c == 0 {
		return nil, fmt.Errorf("preprocess: unknown image mode %q (want L, I;16, RGB or RGBA)", mode)
	}
	if width < 0 || height < 0 {
		return nil, fmt.Errorf("preprocess: negative image size %dx%d", width, height)
	}
	return newImage(mode, width, height), nil
}

func newImage(mode Mode, w, h int) *Image {
	im := &Image{Mode: mode, Width: w, Height: h}
	if mode == ModeI16 {
		im.Pix16 = make([]uint16, w*h)
	} else {
		im.Pix = make([]uint8, w*h*mode.Channels())
	}
	return im
}

// Channels returns the number of channels of the image's mode.
func (im *Image) Channels() int { return im.Mode.Channels() }

// ColorModel implements image.Image.
func (im *Image) ColorModel() color.Model {
	switch im.Mode {
	case ModeL:
		return color.GrayModel
	case ModeI16:
		return color.Gray16Model
	case ModeRGBA:
		return color.NRGBAModel
	}
	return color.RGBAModel
}

// Bounds implements image.Image: (0, 0)-(Width, Height).
func (im *Image) Bounds() image.Rectangle { return image.Rect(0, 0, im.Width, im.Height) }

// At implements image.Image.
func (im *Image) At(x, y int) color.Color {
	if x < 0 || y < 0 || x >= im.Width || y >= im.Height {
		return color.Transparent
	}
	i := y*im.Width + x
	switch im.Mode {
	case ModeL:
		return color.Gray{Y: im.Pix[i]}
	case ModeI16:
		return color.Gray16{Y: im.Pix16[i]}
	case ModeRGB:
		p := im.Pix[3*i:]
		return color.RGBA{R: p[0], G: p[1], B: p[2], A: 255}
	case ModeRGBA:
		p := im.Pix[4*i:]
		return color.NRGBA{R: p[0], G: p[1], B: p[2], A: p[3]}
	}
	return color.Transparent
}

// validate checks that the buffers match the mode and size, so that code
// given a hand-built Image reports an error instead of indexing out of range.
func (im *Image) validate() error {
	if im == nil {
		return fmt.Errorf("preprocess: nil image")
	}
	c := im.Mode.Channels()
	if c == 0 {
		return fmt.Errorf("preprocess: unknown image mode %q (want L, I;16, RGB or RGBA)", im.Mode)
	}
	if im.Width < 0 || im.Height < 0 {
		return fmt.Errorf("preprocess: negative image size %dx%d", im.Width, im.Height)
	}
	n := im.Width * im.Height
	if im.Mode == ModeI16 {
		if len(im.Pix16) != n {
			return fmt.Errorf("preprocess: %s image %dx%d needs %d values in Pix16, has %d", im.Mode, im.Width, im.Height, n, len(im.Pix16))
		}
		return nil
	}
	if len(im.Pix) != n*c {
		return fmt.Errorf("preprocess: %s image %dx%d needs %d bytes in Pix, has %d", im.Mode, im.Width, im.Height, n*c, len(im.Pix))
	}
	return nil
}
