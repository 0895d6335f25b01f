package preprocess

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif"  // registers GIF with image.Decode
	_ "image/jpeg" // registers JPEG
	_ "image/png"  // registers PNG
	"io"
	"os"

	_ "golang.org/x/image/bmp"  // registers BMP
	_ "golang.org/x/image/webp" // registers WebP
)

// DefaultMaxPixels is the largest image (width*height, read from the file
// header before decoding) that LoadImg accepts unless
// LoadImgOptions.MaxPixels says otherwise. It is Pillow's
// Image.MAX_IMAGE_PIXELS (1024*1024*1024/4/3): Pillow warns
// (DecompressionBombWarning) above it and refuses above twice it. An RGB
// image this size takes about 1 GiB as a float32 tensor.
const DefaultMaxPixels = 1024 * 1024 * 1024 / 4 / 3

// LoadImgOptions are the arguments of keras.utils.load_img.
type LoadImgOptions struct {
	// ColorMode is "rgb" (the default when empty), "grayscale" or "rgba".
	ColorMode string
	// TargetSize is (height, width), Keras's order. The zero value keeps
	// the image's own size; otherwise both must be positive.
	TargetSize [2]int
	// Interpolation is the resampling filter used when TargetSize differs
	// from the image size: "nearest" (the default when empty), "bilinear",
	// "bicubic", "hamming", "box" or "lanczos" (see Filter).
	Interpolation string
	// KeepAspectRatio crops the largest centred box with the target's
	// aspect ratio before resizing, as load_img(keep_aspect_ratio=True).
	KeepAspectRatio bool
	// MaxPixels bounds width*height, checked on the header before any
	// pixel is decoded: 0 means DefaultMaxPixels, a negative value means
	// no limit.
	MaxPixels int
	// JPEG selects how JPEG colour is reconstructed from the decoded
	// YCbCr planes; the zero value, JPEGLibjpeg, is the one closest to
	// Pillow.
	JPEG JPEGDecoder
}

// JPEGDecoder chooses how the YCbCr planes decoded by image/jpeg become RGB.
// The entropy decoding and inverse DCT are always Go's image/jpeg, whose
// IDCT rounds differently from libjpeg-turbo's (Pillow's), so JPEG pixels
// can differ from Keras's by a level or two whatever the choice; see the
// package documentation for measurements.
type JPEGDecoder int

const (
	// JPEGLibjpeg (the default) upsamples subsampled chroma with libjpeg's
	// "fancy" triangle filter and converts with libjpeg's fixed-point
	// YCbCr->RGB tables, what libjpeg-turbo does with the defaults Pillow
	// keeps.
	JPEGLibjpeg JPEGDecoder = iota
	// JPEGGo is image/jpeg's own rendering: nearest-neighbour (replicated)
	// chroma and Go's color.YCbCrToRGB. Tens of levels off Pillow along
	// colour edges in 4:2:0 photos.
	JPEGGo
)

// LoadImg reads an image file the way keras.utils.load_img does (Pillow
// open, convert to ColorMode, optional resize) and returns it as an Image.
// JPEG, PNG, GIF (first frame), BMP and WebP files are read with Go's
// image/* and golang.org/x/image decoders. Like Keras, LoadImg ignores EXIF
// orientation: a phone photo tagged "rotate 90" comes out as stored.
//
// Errors name the file: missing, empty, truncated or unrecognised files and
// images over the pixel budget (checked on the header) are reported, never
// decoded halfway.
func LoadImg(path string, opts LoadImgOptions) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("preprocess: load_img: %w", err)
	}
	defer f.Close()
	im, err := decodeImg(f, opts)
	if err != nil {
		return nil, fmt.Errorf("preprocess: load_img %q: %w", path, err)
	}
	return im, nil
}

// DecodeImg is LoadImg for an image file already in memory.
func DecodeImg(data []byte, opts LoadImgOptions) (*Image, error) {
	im, err := decodeImg(bytes.NewReader(data), opts)
	if err != nil {
		return nil, fmt.Errorf("preprocess: decode image: %w", err)
	}
	return im, nil
}

func decodeImg(rs io.ReadSeeker, opts LoadImgOptions) (*Image, error) {
	mode, err := parseColorMode(opts.ColorMode)
	if err != nil {
		return nil, err
	}
	filter, err := ParseFilter(opts.Interpolation)
	if err != nil {
		return nil, err
	}
	th, tw := opts.TargetSize[0], opts.TargetSize[1]
	resize := th != 0 || tw != 0
	if resize && (th <= 0 || tw <= 0) {
		return nil, fmt.Errorf("target size (height, width) = (%d, %d): both must be positive (or both zero for no resize)", th, tw)
	}
	if maxPixels := budget(opts.MaxPixels); resize && maxPixels > 0 && (tw > maxPixels || th > maxPixels/tw) {
		return nil, fmt.Errorf("target size (%d, %d) is over the limit of %d pixels (LoadImgOptions.MaxPixels)", th, tw, maxPixels)
	}
	m, format, err := decodeGo(rs, budget(opts.MaxPixels))
	if err != nil {
		return nil, err
	}
	ycc := goYCbCrToRGB
	switch {
	case format == "jpeg" && opts.JPEG != JPEGGo:
		ycc = libjpegYCbCrToRGB
	case format == "webp":
		ycc = webpYCbCrToRGB
	}
	im := fromImage(m, mode, ycc)
	if !resize || (im.Width == tw && im.Height == th) {
		return im, nil
	}
	var box *[4]float32
	if opts.KeepAspectRatio {
		b := keepAspectBox(im.Width, im.Height, tw, th)
		box = &b
	}
	return Resize(im, tw, th, filter, box)
}

// budget resolves LoadImgOptions.MaxPixels: 0 is the default, negative
// is no limit (returned as -1).
func budget(n int) int {
	switch {
	case n == 0:
		return DefaultMaxPixels
	case n < 0:
		return -1
	}
	return n
}

// keepAspectBox is load_img's centre crop for keep_aspect_ratio=True, with
// Python's floor division: the largest box with the target's aspect ratio.
func keepAspectBox(w, h, tw, th int) [4]float32 {
	cropH := min(h, w*th/tw)
	cropW := min(w, h*tw/th)
	x0 := (w - cropW) / 2
	y0 := (h - cropH) / 2
	return [4]float32{float32(x0), float32(y0), float32(x0 + cropW), float32(y0 + cropH)}
}

// decodeGo checks the header against the pixel budget, decodes, and fixes
// up the few places where Go's decoders report something other than what
// Pillow opens (see fixPNG and fixGIF).
func decodeGo(rs io.ReadSeeker, maxPixels int) (image.Image, string, error) {
	var head [64]byte
	n, err := io.ReadFull(rs, head[:])
	if n == 0 {
		if err == io.EOF {
			return nil, "", errors.New("empty file")
		}
		return nil, "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(rs))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, "", fmt.Errorf("unknown image format (file starts with % x); supported: JPEG, PNG, GIF, BMP, WebP", head[:min(n, 8)])
		}
		return nil, "", fmt.Errorf("reading %s header: %w", format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, "", fmt.Errorf("%s header gives an empty image (%dx%d)", format, cfg.Width, cfg.Height)
	}
	if maxPixels > 0 && (cfg.Width > maxPixels || cfg.Height > maxPixels/cfg.Width) {
		return nil, "", fmt.Errorf("%s image is %dx%d = %d pixels, over the limit of %d (LoadImgOptions.MaxPixels)",
			format, cfg.Width, cfg.Height, int64(cfg.Width)*int64(cfg.Height), maxPixels)
	}
	if format == "png" && n >= 26 && string(head[12:16]) == "IHDR" {
		if err := checkPNGSize(rs, cfg, head[24], head[25]); err != nil {
			return nil, "", err
		}
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, "", err
	}
	m, _, err := image.Decode(bufio.NewReader(rs))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, "", fmt.Errorf("decoding %s: %w (truncated file?)", format, err)
		}
		return nil, "", fmt.Errorf("decoding %s: %w", format, err)
	}
	switch format {
	case "png":
		m = fixPNG(m, head[:n])
	case "gif":
		if _, err := rs.Seek(0, io.SeekStart); err != nil {
			return nil, "", err
		}
		m, err = fixGIF(m, cfg, bufio.NewReader(rs))
		if err != nil {
			return nil, "", fmt.Errorf("decoding gif: %w", err)
		}
	}
	return m, format, nil
}

// maxDeflateRatio is the most deflate can compress (1032:1).
const maxDeflateRatio = 1032

// checkPNGSize refuses a PNG whose pixels, at the bit depth and colour type
// of its header, could not fit in the file even at deflate's highest
// compression: a truncated file (or a forged header) would otherwise make
// the decoder allocate the whole image before finding out.
func checkPNGSize(rs io.ReadSeeker, cfg image.Config, depth, colorType byte) error {
	size, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	channels := map[byte]float64{0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colorType]
	pixelBytes := float64(cfg.Width) * float64(cfg.Height) * channels * float64(depth) / 8
	if pixelBytes > float64(size)*maxDeflateRatio {
		return fmt.Errorf("decoding png: the header declares %dx%d pixels (%.0f bytes), more than the file's %d bytes can hold (truncated file?)",
			cfg.Width, cfg.Height, pixelBytes, size)
	}
	return nil
}

// fixPNG adjusts 16-bit PNGs with a tRNS chunk, which Go decodes as
// NRGBA64 with alpha 0 wherever a pixel equals the 16-bit tRNS value.
// Pillow opens them as "I;16" (grayscale) or "RGB" (8-bit high bytes) and
// compares the tRNS value with the converted 8-bit values instead, which
// in practice makes no pixel transparent. So: grayscale becomes Gray16
// again, and RGB loses the alpha Go derived. (Pillow does make pixels
// transparent in "rgba" mode when the tRNS values are below 256 and equal
// the clipped or high-byte values; that corner is not reproduced.)
func fixPNG(m image.Image, head []byte) image.Image {
	// Signature (8), IHDR length (4), "IHDR", width, height, depth, colour type.
	if len(head) < 26 || string(head[12:16]) != "IHDR" || head[24] != 16 {
		return m
	}
	n, ok := m.(*image.NRGBA64)
	if !ok {
		return m
	}
	b := n.Bounds()
	switch head[25] {
	case 0: // grayscale
		g := image.NewGray16(b)
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				copy(g.Pix[y*g.Stride+2*x:y*g.Stride+2*x+2], n.Pix[y*n.Stride+8*x:])
			}
		}
		return g
	case 2: // RGB
		for y := 0; y < b.Dy(); y++ {
			for x := 0; x < b.Dx(); x++ {
				n.Pix[y*n.Stride+8*x+6], n.Pix[y*n.Stride+8*x+7] = 0xff, 0xff
			}
		}
	}
	return m
}

// fixGIF makes Go's first GIF frame look like Pillow's:
//   - Go replaces the transparent palette entry by transparent black;
//     Pillow keeps its colour (visible after convert("RGB") and as the
//     colour of alpha-0 pixels in RGBA). The colour is read back from the
//     colour table by gifTransparency.
//   - A first frame smaller than the logical screen is placed on a canvas
//     of the screen size filled with the transparent index (or index 0).
func fixGIF(m image.Image, cfg image.Config, r *bufio.Reader) (image.Image, error) {
	p, ok := m.(*image.Paletted)
	if !ok {
		return m, nil
	}
	tidx, rgb, hasT, err := gifTransparency(r)
	if err != nil {
		return nil, err
	}
	pal := append(color.Palette(nil), p.Palette...)
	if hasT && tidx < len(pal) {
		pal[tidx] = color.NRGBA{R: rgb[0], G: rgb[1], B: rgb[2], A: 0}
	}
	screen := image.Rect(0, 0, cfg.Width, cfg.Height)
	out := image.NewPaletted(screen, pal)
	if hasT {
		for i := range out.Pix {
			out.Pix[i] = uint8(tidx)
		}
	}
	fr := p.Bounds().Intersect(screen)
	for y := fr.Min.Y; y < fr.Max.Y; y++ {
		copy(out.Pix[out.PixOffset(fr.Min.X, y):out.PixOffset(fr.Max.X, y)], p.Pix[p.PixOffset(fr.Min.X, y):])
	}
	return out, nil
}

// gifTransparency walks the GIF block structure (headers, extension blocks
// and colour tables only; no pixel data is decoded) up to the first image
// descriptor. It returns the transparent index of the graphic control
// extension that applies to the first image, if any, and that index's
// colour in the colour table the image uses.
func gifTransparency(r *bufio.Reader) (idx int, rgb [3]uint8, ok bool, err error) {
	var hdr [13]byte
	if _, err = io.ReadFull(r, hdr[:]); err != nil {
		return 0, rgb, false, err
	}
	readTable := func(flags byte) ([]byte, error) {
		if flags&0x80 == 0 {
			return nil, nil
		}
		t := make([]byte, 3<<((flags&7)+1))
		_, err := io.ReadFull(r, t)
		return t, err
	}
	table, err := readTable(hdr[10])
	if err != nil {
		return 0, rgb, false, err
	}
	for {
		c, err := r.ReadByte()
		if err != nil {
			return 0, rgb, false, err
		}
		switch c {
		case 0x21: // extension
			label, err := r.ReadByte()
			if err != nil {
				return 0, rgb, false, err
			}
			first := true
			for {
				n, err := r.ReadByte()
				if err != nil {
					return 0, rgb, false, err
				}
				if n == 0 {
					break
				}
				blk := make([]byte, n)
				if _, err := io.ReadFull(r, blk); err != nil {
					return 0, rgb, false, err
				}
				if label == 0xF9 && first && n >= 4 {
					ok = blk[0]&1 != 0
					idx = int(blk[3])
				}
				first = false
			}
		case 0x2C: // image descriptor
			var d [9]byte
			if _, err := io.ReadFull(r, d[:]); err != nil {
				return 0, rgb, false, err
			}
			local, err := readTable(d[8])
			if err != nil {
				return 0, rgb, false, err
			}
			if local != nil {
				table = local
			}
			if ok && 3*idx+2 < len(table) {
				copy(rgb[:], table[3*idx:])
			}
			return idx, rgb, ok, nil
		default: // trailer or garbage: Go's decoder has already judged the file
			return 0, rgb, false, nil
		}
	}
}
