package malformed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/bmp"
)

// genImages uses every image of src: as a valid input, cut in half, cut
// by one byte and with 4 bits flipped (the corpus photos: halves only),
// then, for committed sources, adds images made here.
func genImages(g *gen, src Sources) error {
	for _, p := range src.Images {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		ext := filepath.Ext(p)
		label := filepath.Base(p)
		if src.Extra {
			label = "corpus-" + label
		}
		model := src.NpyModel
		n := len(data)
		type variant struct {
			name string
			want Want
			data []byte
			note string
		}
		vs := []variant{
			{"half", Fails, data[:n/2], fmt.Sprintf("first %d of %d bytes", n/2, n)},
		}
		if !src.Extra {
			vs = append(vs,
				variant{"valid", Works, data, "the file as it is"},
				variant{"minus-one", Either, data[:n-1], "the last byte cut"})
		}
		r := rng("image/" + label)
		flipped := slices.Clone(data)
		var at []string
		for range 4 {
			i := r.IntN(n)
			flipped[i] ^= 1 << r.IntN(8)
			at = append(at, fmt.Sprint(i))
		}
		if !src.Extra {
			vs = append(vs, variant{"bitflip", Either, flipped, "bits flipped at bytes " + strings.Join(at, ",")})
		}
		for _, v := range vs {
			c := Case{Name: "image/" + label + "/" + v.name, Family: "image", Kind: Image, Want: v.want, Source: model, Note: v.note}
			if err := g.write(c, ext, v.data); err != nil {
				return err
			}
		}
	}
	if src.Extra {
		return nil
	}
	return genMadeImages(g, src)
}

func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// pngHeader is a PNG whose IHDR declares w x h (8-bit RGB) and whose only
// IDAT holds an empty zlib stream.
func pngHeader(w, h uint32) []byte {
	var ihdr bytes.Buffer
	binary.Write(&ihdr, binary.BigEndian, w)
	binary.Write(&ihdr, binary.BigEndian, h)
	ihdr.Write([]byte{8, 2, 0, 0, 0})
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr.Bytes())...)
	out = append(out, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, pngChunk("IEND", nil)...)
}

// patchJPEGSize sets the height and width of a JPEG's first SOF segment.
func patchJPEGSize(b []byte, h, w uint16) ([]byte, error) {
	b = slices.Clone(b)
	for i := 2; i+9 < len(b); {
		if b[i] != 0xff {
			return nil, fmt.Errorf("malformed: JPEG marker expected at %d", i)
		}
		m := b[i+1]
		l := int(binary.BigEndian.Uint16(b[i+2:]))
		if m >= 0xc0 && m <= 0xc2 {
			binary.BigEndian.PutUint16(b[i+5:], h)
			binary.BigEndian.PutUint16(b[i+7:], w)
			return b, nil
		}
		i += 2 + l
	}
	return nil, fmt.Errorf("malformed: no SOF segment")
}

// patchWebPSize makes a WebP file declare a huge canvas, whichever header
// it has (VP8X canvas, VP8L or VP8 frame size).
func patchWebPSize(b []byte) ([]byte, error) {
	b = slices.Clone(b)
	if len(b) < 30 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return nil, fmt.Errorf("malformed: not a WebP file")
	}
	switch string(b[12:16]) {
	case "VP8X":
		copy(b[24:30], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	case "VP8L":
		// 14 bits width-1, 14 bits height-1, alpha, version.
		v := binary.LittleEndian.Uint32(b[21:25])
		v = v&^(1<<28-1) | (1<<14 - 1) | (1<<14-1)<<14
		binary.LittleEndian.PutUint32(b[21:25], v)
	case "VP8 ":
		binary.LittleEndian.PutUint16(b[26:28], 0x3fff)
		binary.LittleEndian.PutUint16(b[28:30], 0x3fff)
	default:
		return nil, fmt.Errorf("malformed: WebP chunk %q", b[12:16])
	}
	return b, nil
}

func encode(fn func(*bytes.Buffer) error) []byte {
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func genMadeImages(g *gen, src Sources) error {
	model := src.NpyModel
	read := func(name string) ([]byte, error) {
		for _, p := range src.Images {
			if filepath.Base(p) == name {
				return os.ReadFile(p)
			}
		}
		return nil, fmt.Errorf("malformed: image %s missing", name)
	}
	one := image.Rect(0, 0, 1, 1)
	rgba := image.NewRGBA(one)
	rgba.Set(0, 0, color.RGBA{200, 100, 50, 255})
	nrgba := image.NewNRGBA(one)
	nrgba.Set(0, 0, color.NRGBA{200, 100, 50, 7})
	gray := image.NewGray(one)
	gray.Set(0, 0, color.Gray{77})
	g16 := image.NewGray16(one)
	g16.Set(0, 0, color.Gray16{60000})
	r64 := image.NewRGBA64(one)
	r64.Set(0, 0, color.RGBA64{1000, 30000, 65535, 65535})
	pal := image.NewPaletted(one, color.Palette{color.RGBA{1, 2, 3, 255}, color.RGBA{250, 0, 0, 255}})
	pal.SetColorIndex(0, 0, 1)
	strip := image.NewGray(image.Rect(0, 0, 1, 65535))
	for y := range 65535 {
		strip.SetGray(0, y, color.Gray{uint8(y)})
	}
	type made struct {
		name, ext string
		want      Want
		data      func() ([]byte, error)
		note      string
	}
	ok := func(b []byte) func() ([]byte, error) { return func() ([]byte, error) { return b, nil } }
	pngOf := func(m image.Image) []byte { return encode(func(b *bytes.Buffer) error { return png.Encode(b, m) }) }
	jpegOf := func(m image.Image) []byte {
		return encode(func(b *bytes.Buffer) error { return jpeg.Encode(b, m, nil) })
	}
	patch := func(name string, fn func([]byte) ([]byte, error)) func() ([]byte, error) {
		return func() ([]byte, error) {
			b, err := read(name)
			if err != nil {
				return nil, err
			}
			return fn(b)
		}
	}
	le32 := func(off int, v int32) func([]byte) ([]byte, error) {
		return func(b []byte) ([]byte, error) {
			b = slices.Clone(b)
			binary.LittleEndian.PutUint32(b[off:], uint32(v))
			return b, nil
		}
	}
	list := []made{
		{"1x1-rgba", ".png", Works, ok(pngOf(rgba)), "1x1 RGBA PNG"},
		{"1x1-nrgba", ".png", Works, ok(pngOf(nrgba)), "1x1 PNG with alpha 7"},
		{"1x1-gray", ".png", Works, ok(pngOf(gray)), "1x1 grayscale PNG"},
		{"1x1-gray16", ".png", Works, ok(pngOf(g16)), "1x1 16-bit grayscale PNG"},
		{"1x1-rgba64", ".png", Works, ok(pngOf(r64)), "1x1 16-bit RGBA PNG"},
		{"1x1-paletted", ".png", Works, ok(pngOf(pal)), "1x1 paletted PNG"},
		{"1x1-color", ".jpg", Works, ok(jpegOf(rgba)), "1x1 colour JPEG"},
		{"1x1-gray", ".jpg", Works, ok(jpegOf(gray)), "1x1 grayscale JPEG"},
		{"1x1", ".gif", Works, ok(encode(func(b *bytes.Buffer) error { return gif.Encode(b, pal, nil) })), "1x1 GIF"},
		{"1x1", ".bmp", Works, ok(encode(func(b *bytes.Buffer) error { return bmp.Encode(b, rgba) })), "1x1 BMP"},
		{"1x65535", ".png", Works, ok(pngOf(strip)), "a 1-pixel-wide strip 65535 high"},
		{"header-100000x100000", ".png", Fails, ok(pngHeader(100000, 100000)), "PNG header declaring 100000x100000"},
		{"header-0x0", ".png", Fails, ok(pngHeader(0, 0)), "PNG header declaring 0x0"},
		{"header-2147483647x1", ".png", Fails, ok(pngHeader(1<<31-1, 1)), "PNG header declaring 2^31-1 x 1"},
		{"header-9000x9000", ".png", Fails, ok(pngHeader(9000, 9000)), "PNG header declaring 9000x9000 (under the pixel budget), no pixel data"},
		{"header-65535x65535", ".jpg", Fails, patch("photo420.jpg", func(b []byte) ([]byte, error) { return patchJPEGSize(b, 65535, 65535) }), "JPEG SOF declaring 65535x65535"},
		{"header-0-high", ".jpg", Fails, patch("photo420.jpg", func(b []byte) ([]byte, error) { return patchJPEGSize(b, 0, 16) }), "JPEG SOF declaring height 0"},
		{"header-65535x65535", ".gif", Fails, patch("p.gif", func(b []byte) ([]byte, error) {
			b = slices.Clone(b)
			copy(b[6:10], []byte{0xff, 0xff, 0xff, 0xff})
			return b, nil
		}), "GIF screen 65535x65535"},
		{"header-100000x100000", ".bmp", Fails, patch("rgb24.bmp", func(b []byte) ([]byte, error) {
			b, _ = le32(18, 100000)(b)
			return le32(22, 100000)(b)
		}), "BMP header declaring 100000x100000"},
		{"header-negative-width", ".bmp", Fails, patch("rgb24.bmp", le32(18, -5)), "BMP header declaring width -5"},
		{"header-top-down", ".bmp", Either, patch("rgb24.bmp", func(b []byte) ([]byte, error) {
			h := int32(binary.LittleEndian.Uint32(b[22:]))
			return le32(22, -h)(b)
		}), "BMP with a negative (top-down) height"},
		{"header-huge-lossless", ".webp", Fails, patch("lossless.webp", patchWebPSize), "lossless WebP declaring 16384x16384 (or a 2^24 canvas)"},
		{"header-huge-lossy", ".webp", Fails, patch("lossy.webp", patchWebPSize), "lossy WebP declaring 16383x16383 (or a 2^24 canvas)"},
		{"empty", ".jpg", Fails, ok(nil), "empty file"},
		{"one-byte", ".png", Fails, ok([]byte{0x89}), "one byte"},
		{"text", ".jpg", Fails, ok([]byte("not an image\n")), "text named .jpg"},
		{"svg", ".png", Fails, ok([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)), "SVG text named .png"},
		{"tiff", ".tif", Fails, ok([]byte("II*\x00\x08\x00\x00\x00\x00\x00")), "a TIFF header (unsupported)"},
		{"h5", ".png", Fails, func() ([]byte, error) { return os.ReadFile(model.Path) }, "an HDF5 model named .png"},
		{"zip", ".jpg", Fails, func() ([]byte, error) {
			if s := src.find("ref-sequential.keras"); s != nil {
				return os.ReadFile(s.Path)
			}
			return nil, fmt.Errorf("malformed: no .keras source")
		}, "a .keras zip named .jpg"},
	}
	for _, m := range list {
		b, err := m.data()
		if err != nil {
			return fmt.Errorf("image %s: %w", m.name, err)
		}
		c := Case{Name: "image/made/" + m.name + m.ext, Family: "image", Kind: Image, Want: m.want, Source: model, Note: m.note}
		if err := g.write(c, m.ext, b); err != nil {
			return err
		}
	}
	d := g.path("image/made/directory", ".png")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	g.add(Case{Name: "image/made/directory", Family: "image", Kind: Image, Path: d, Want: Fails, Source: model, Note: "a directory named .png"})
	g.add(Case{Name: "image/made/missing", Family: "image", Kind: Image, Path: filepath.Join(g.dir, "no-such-image.png"), Want: Fails, Source: model, Note: "a file that does not exist"})
	return nil
}
