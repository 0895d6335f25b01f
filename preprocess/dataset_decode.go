package preprocess

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
)

// tfImage is an 8-bit image as tf.io.decode_image returns it: height,
// width, channels, interleaved.
type tfImage struct {
	h, w, c int
	pix     []uint8
}

// decodeTF decodes an image file the way
// tf.io.decode_image(contents, channels=c, expand_animations=False) does,
// which is how image_dataset_from_directory reads files. It differs from
// LoadImg (Pillow) in the places TensorFlow's decoders (libpng, libjpeg,
// giflib, TensorFlow's own BMP reader) differ from Pillow:
//
//   - PNG to grayscale uses libpng's rgb_to_gray with TensorFlow's
//     coefficients (9797 R + 19234 G + 3737 B) >> 15, truncated, on the
//     16-bit samples for 16-bit files; 16-bit samples keep their high
//     byte; an RGBA result of a 1/2/4-bit PNG without transparency gets
//     alpha (1 << depth) - 1 (libpng's filler before expansion).
//   - JPEG to grayscale is the luma plane itself; JPEG to RGBA is refused.
//   - GIF: only RGB; transparent pixels, and the screen outside the first
//     frame, are black.
//   - BMP: only RGB or RGBA; 8-bit files are read as grey levels (their
//     palette index), 32-bit files keep their fourth byte as alpha.
//
// Errors say which rule refused the file, with TensorFlow's wording.
func decodeTF(data []byte, channels, maxPixels int, jpegMode JPEGDecoder) (*tfImage, error) {
	switch {
	case len(data) == 0:
		return nil, errors.New("empty file")
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return decodePNGTF(data, channels, maxPixels)
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return decodeJPEGTF(data, channels, maxPixels, jpegMode)
	case bytes.HasPrefix(data, []byte("GIF8")):
		return decodeGIFTF(data, channels, maxPixels)
	case bytes.HasPrefix(data, []byte("BM")):
		return decodeBMPTF(data, channels, maxPixels)
	}
	return nil, fmt.Errorf("unknown image file format (starts with % x): one of JPEG, PNG, GIF, BMP required", data[:min(len(data), 8)])
}

// checkPixels refuses images over the pixel budget before any allocation.
func checkPixels(format string, w, h, maxPixels int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%s header gives an empty image (%dx%d)", format, w, h)
	}
	if maxPixels > 0 && (w > maxPixels || h > maxPixels/w) {
		return fmt.Errorf("%s image is %dx%d = %d pixels, over the limit of %d (DatasetOptions.MaxPixels)",
			format, w, h, int64(w)*int64(h), maxPixels)
	}
	return nil
}

func decodeConfig(data []byte, format string, maxPixels int, cfg func(*bytes.Reader) (image.Config, error)) error {
	c, err := cfg(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("reading %s header: %w", format, err)
	}
	return checkPixels(format, c.Width, c.Height, maxPixels)
}

// libpng's rgb_to_gray coefficients as TensorFlow sets them
// (png_set_rgb_to_gray(png, 1, 0.299, 0.587)): 15-bit fixed point,
// truncated from 0.299 and 0.587, blue taking the rest.
const (
	pngGrayR = 9797
	pngGrayG = 19234
	pngGrayB = 32768 - pngGrayR - pngGrayG
)

func pngGray8(r, g, b uint32) uint8 {
	if r == g && g == b {
		return uint8(r)
	}
	return uint8((pngGrayR*r + pngGrayG*g + pngGrayB*b) >> 15)
}

func pngGray16(r, g, b uint32) uint8 {
	if r == g && g == b {
		return uint8(r >> 8)
	}
	return uint8(((pngGrayR*r + pngGrayG*g + pngGrayB*b + 16384) >> 15) >> 8)
}

func decodePNGTF(data []byte, channels, maxPixels int) (*tfImage, error) {
	if err := decodeConfig(data, "png", maxPixels, func(r *bytes.Reader) (image.Config, error) { return png.DecodeConfig(r) }); err != nil {
		return nil, err
	}
	if len(data) < 26 || string(data[12:16]) != "IHDR" {
		return nil, errors.New("png: no IHDR chunk first")
	}
	depth, colorType := int(data[24]), data[25]
	m, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decoding png: %w", err)
	}
	b := m.Bounds()
	out := &tfImage{h: b.Dy(), w: b.Dx(), c: channels}
	out.pix = make([]uint8, out.h*out.w*channels)
	isGray := colorType == 0 || colorType == 4
	// libpng adds a filler alpha of (1 << depth) - 1 to images without
	// alpha before it expands low bit depths to 8 bits.
	filler := uint8(255)
	if depth < 8 {
		filler = uint8(1<<depth - 1)
	}
	at, hasAlpha, err := pngPixels(m)
	if err != nil {
		return nil, err
	}
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := at(x, y)
			px := out.pix[i : i+channels]
			i += channels
			switch channels {
			case 1:
				switch {
				case isGray:
					px[0] = uint8(r >> 8)
				case depth == 16:
					px[0] = pngGray16(r, g, bl)
				default:
					px[0] = pngGray8(r>>8, g>>8, bl>>8)
				}
			case 3, 4:
				px[0], px[1], px[2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
				if channels == 4 {
					px[3] = filler
					if hasAlpha {
						px[3] = uint8(a >> 8)
					}
				}
			}
		}
	}
	return out, nil
}

// pngPixels returns a reader of the straight (not premultiplied) 16-bit
// samples of an image decoded by image/png, and whether the file has
// alpha (an alpha channel or a tRNS chunk; Go's decoder returns NRGBA,
// NRGBA64 or a palette with NRGBA entries exactly then).
func pngPixels(m image.Image) (at func(x, y int) (r, g, b, a uint32), hasAlpha bool, err error) {
	switch p := m.(type) {
	case *image.RGBA: // 8-bit RGB without tRNS: always opaque
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			s := p.Pix[p.PixOffset(x, y):]
			return uint32(s[0]) * 0x101, uint32(s[1]) * 0x101, uint32(s[2]) * 0x101, 0xffff
		}, false, nil
	case *image.NRGBA:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			s := p.Pix[p.PixOffset(x, y):]
			return uint32(s[0]) * 0x101, uint32(s[1]) * 0x101, uint32(s[2]) * 0x101, uint32(s[3]) * 0x101
		}, true, nil
	case *image.Gray:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			v := uint32(p.Pix[p.PixOffset(x, y)]) * 0x101
			return v, v, v, 0xffff
		}, false, nil
	case *image.Gray16:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			s := p.Pix[p.PixOffset(x, y):]
			v := uint32(s[0])<<8 | uint32(s[1])
			return v, v, v, 0xffff
		}, false, nil
	case *image.RGBA64: // 16-bit RGB without tRNS
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			s := p.Pix[p.PixOffset(x, y):]
			return uint32(s[0])<<8 | uint32(s[1]), uint32(s[2])<<8 | uint32(s[3]), uint32(s[4])<<8 | uint32(s[5]), 0xffff
		}, false, nil
	case *image.NRGBA64:
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			s := p.Pix[p.PixOffset(x, y):]
			return uint32(s[0])<<8 | uint32(s[1]), uint32(s[2])<<8 | uint32(s[3]), uint32(s[4])<<8 | uint32(s[5]), uint32(s[6])<<8 | uint32(s[7])
		}, true, nil
	case *image.Paletted:
		var pal [256][4]uint32
		for i, c := range p.Palette {
			if i >= len(pal) {
				break
			}
			switch c := c.(type) {
			case color.NRGBA: // an entry listed in tRNS
				pal[i] = [4]uint32{uint32(c.R) * 0x101, uint32(c.G) * 0x101, uint32(c.B) * 0x101, uint32(c.A) * 0x101}
				hasAlpha = true
			case color.RGBA:
				pal[i] = [4]uint32{uint32(c.R) * 0x101, uint32(c.G) * 0x101, uint32(c.B) * 0x101, 0xffff}
			default:
				return nil, false, fmt.Errorf("png: unexpected palette entry %T", c)
			}
		}
		return func(x, y int) (uint32, uint32, uint32, uint32) {
			e := &pal[p.Pix[p.PixOffset(x, y)]]
			return e[0], e[1], e[2], e[3]
		}, hasAlpha, nil
	}
	return nil, false, fmt.Errorf("png: unexpected image type %T", m)
}

func decodeJPEGTF(data []byte, channels, maxPixels int, mode JPEGDecoder) (*tfImage, error) {
	if channels == 4 {
		return nil, errors.New("JPEG does not support 4 channels")
	}
	if err := decodeConfig(data, "jpeg", maxPixels, func(r *bytes.Reader) (image.Config, error) { return jpeg.DecodeConfig(r) }); err != nil {
		return nil, err
	}
	if channels == 1 {
		// libjpeg's JCS_GRAYSCALE output is the luma plane as decoded.
		m, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decoding jpeg: %w", err)
		}
		b := m.Bounds()
		out := &tfImage{h: b.Dy(), w: b.Dx(), c: 1, pix: make([]uint8, b.Dx()*b.Dy())}
		switch p := m.(type) {
		case *image.YCbCr:
			for y := 0; y < out.h; y++ {
				copy(out.pix[y*out.w:(y+1)*out.w], p.Y[p.YOffset(b.Min.X, b.Min.Y+y):])
			}
			return out, nil
		case *image.Gray:
			for y := 0; y < out.h; y++ {
				copy(out.pix[y*out.w:(y+1)*out.w], p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):])
			}
			return out, nil
		}
		// CMYK and the like: Pillow's conversion.
	}
	cm := "rgb"
	if channels == 1 {
		cm = "grayscale"
	}
	im, err := DecodeImg(data, LoadImgOptions{ColorMode: cm, MaxPixels: maxPixels, JPEG: mode})
	if err != nil {
		return nil, err
	}
	return &tfImage{h: im.Height, w: im.Width, c: channels, pix: im.Pix}, nil
}

// decodeGIFTF is TensorFlow's DecodeGif for the first frame: the canvas is
// as large as the largest frame of the file (not the GIF's logical
// screen), black; the first frame is drawn at its offset, clipped to the
// canvas, its transparent pixels left black.
func decodeGIFTF(data []byte, channels, maxPixels int) (*tfImage, error) {
	if channels != 3 {
		return nil, fmt.Errorf("channels must be 0 or 3 for GIF, got %d", channels)
	}
	frames, err := gifFrames(data)
	if err != nil {
		return nil, fmt.Errorf("gif: %w", err)
	}
	var w, h, right, bottom int
	for _, f := range frames {
		w, h = max(w, f.Dx()), max(h, f.Dy())
		right, bottom = max(right, f.Max.X), max(bottom, f.Max.Y)
	}
	if err := checkPixels("gif", w, h, maxPixels); err != nil {
		return nil, err
	}
	// Go's decoder refuses frames outside the logical screen, which
	// TensorFlow ignores: widen the screen in a copy of the header.
	sw, sh := int(binary.LittleEndian.Uint16(data[6:])), int(binary.LittleEndian.Uint16(data[8:]))
	if right > sw || bottom > sh {
		data = bytes.Clone(data)
		binary.LittleEndian.PutUint16(data[6:], uint16(max(sw, right)))
		binary.LittleEndian.PutUint16(data[8:], uint16(max(sh, bottom)))
	}
	m, err := gif.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decoding gif: %w", err)
	}
	p, ok := m.(*image.Paletted)
	if !ok {
		return nil, fmt.Errorf("gif: unexpected frame type %T", m)
	}
	out := &tfImage{h: h, w: w, c: 3, pix: make([]uint8, w*h*3)}
	// Go's decoder turns the transparent index into transparent black,
	// which is what TensorFlow draws for it.
	fr := p.Bounds().Intersect(image.Rect(0, 0, w, h))
	for y := fr.Min.Y; y < fr.Max.Y; y++ {
		for x := fr.Min.X; x < fr.Max.X; x++ {
			r, g, b, _ := p.Palette[p.ColorIndexAt(x, y)].RGBA()
			o := (y*w + x) * 3
			out.pix[o], out.pix[o+1], out.pix[o+2] = uint8(r>>8), uint8(g>>8), uint8(b>>8)
		}
	}
	return out, nil
}

// gifFrames walks a GIF's block structure (no pixel data is decoded) and
// returns every frame's rectangle from its image descriptor.
func gifFrames(data []byte) ([]image.Rectangle, error) {
	if len(data) < 13 {
		return nil, errors.New("file too short for its header")
	}
	pos := 13
	table := func(flags byte) int {
		if flags&0x80 == 0 {
			return 0
		}
		return 3 << ((flags & 7) + 1)
	}
	skipBlocks := func() error {
		for {
			if pos >= len(data) {
				return errors.New("unexpected end of file (truncated?)")
			}
			n := int(data[pos])
			pos += 1 + n
			if n == 0 {
				return nil
			}
		}
	}
	pos += table(data[10])
	var frames []image.Rectangle
	for {
		if pos >= len(data) {
			if len(frames) > 0 {
				return frames, nil // a missing trailer, as decoders tolerate
			}
			return nil, errors.New("unexpected end of file before the first image (truncated?)")
		}
		switch data[pos] {
		case 0x21: // extension: label, then sub-blocks
			pos += 2
			if err := skipBlocks(); err != nil {
				return nil, err
			}
		case 0x2C: // image descriptor
			if pos+10 > len(data) {
				return nil, errors.New("truncated image descriptor")
			}
			d := data[pos+1:]
			l, t := int(binary.LittleEndian.Uint16(d)), int(binary.LittleEndian.Uint16(d[2:]))
			w, h := int(binary.LittleEndian.Uint16(d[4:])), int(binary.LittleEndian.Uint16(d[6:]))
			frames = append(frames, image.Rect(l, t, l+w, t+h))
			pos += 10 + table(d[8]) + 1 // descriptor, local table, LZW code size
			if err := skipBlocks(); err != nil {
				return nil, err
			}
		case 0x3B: // trailer
			if len(frames) == 0 {
				return nil, errors.New("no image in the file")
			}
			return frames, nil
		default:
			return nil, fmt.Errorf("unknown block type 0x%02x at byte %d", data[pos], pos)
		}
	}
}

// decodeBMPTF reads a BMP file as TensorFlow's DecodeBmp does: the pixel
// data offset, width, height and bits per pixel from the headers; 8, 24
// or 32 bits per pixel stored as grey, BGR or BGRA bytes (no palette, no
// compression); rows bottom-up unless the height is negative; rows padded
// to 4 bytes.
func decodeBMPTF(data []byte, channels, maxPixels int) (*tfImage, error) {
	if channels != 3 && channels != 4 {
		return nil, fmt.Errorf("`channels` must be 0, 3 or 4 for BMP, but got %d", channels)
	}
	if len(data) < 30 {
		return nil, fmt.Errorf("bmp: file of %d bytes is too short for its headers", len(data))
	}
	offset := int64(int32(binary.LittleEndian.Uint32(data[10:])))
	width := int64(int32(binary.LittleEndian.Uint32(data[18:])))
	height := int64(int32(binary.LittleEndian.Uint32(data[22:])))
	bpp := int(int16(binary.LittleEndian.Uint16(data[28:])))
	imgChannels := bpp / 8
	if imgChannels != 1 && imgChannels != 3 && imgChannels != 4 {
		return nil, fmt.Errorf("bmp: number of channels inherent in the image must be 1, 3 or 4, was %d (%d bits per pixel)", imgChannels, bpp)
	}
	if width <= 0 {
		return nil, fmt.Errorf("bmp: width must be positive, got %d", width)
	}
	if height == 0 {
		return nil, errors.New("bmp: height must be nonzero")
	}
	topDown := height < 0
	if topDown {
		height = -height
	}
	if width > 1<<30 || height > 1<<30 {
		return nil, fmt.Errorf("bmp: image of %dx%d pixels is too large", width, height)
	}
	if err := checkPixels("bmp", int(width), int(height), maxPixels); err != nil {
		return nil, err
	}
	rowSize := (int64(imgChannels)*width + 3) / 4 * 4
	if offset < 0 || offset > int64(len(data)) || int64(len(data))-offset < rowSize*(height-1)+int64(imgChannels)*width {
		return nil, fmt.Errorf("bmp: %d bytes of pixel data at offset %d, need %d (truncated file?)",
			max(int64(len(data))-offset, 0), offset, rowSize*height)
	}
	w, h := int(width), int(height)
	out := &tfImage{h: h, w: w, c: channels, pix: make([]uint8, w*h*channels)}
	src := data[offset:]
	for i := 0; i < h; i++ {
		row := h - 1 - i
		if topDown {
			row = i
		}
		in := src[int64(row)*rowSize:]
		dst := out.pix[i*w*channels:]
		for j := 0; j < w; j++ {
			s := in[j*imgChannels:]
			d := dst[j*channels:]
			if imgChannels == 1 {
				d[0], d[1], d[2] = s[0], s[0], s[0]
			} else {
				d[0], d[1], d[2] = s[2], s[1], s[0]
			}
			if channels == 4 {
				d[3] = 255
				if imgChannels == 4 {
					d[3] = s[3]
				}
			}
		}
	}
	return out, nil
}
