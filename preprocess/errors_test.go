package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pngHeader returns a PNG signature and IHDR claiming w x h RGB pixels,
// with no image data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.WriteString("IHDR")
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("IHDR"), ihdr...)))
	return b.Bytes()
}

func TestLoadImgBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "images", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	png, jpg, gif, bmp, webp := read("rgb.png"), read("photo420.jpg"), read("p.gif"), read("rgb24.bmp"), read("lossy.webp")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.png", nil, "empty file"},
		{"text.jpg", []byte("<html>not an image</html>"), "unknown image format"},
		{"trunc.png", png[:len(png)/2], "decoding png"},
		{"trunc.jpg", jpg[:len(jpg)/2], "decoding jpeg"},
		{"trunc.gif", gif[:len(gif)/2], "decoding gif"},
		{"trunc.bmp", bmp[:len(bmp)/2], "decoding bmp"},
		{"trunc.webp", webp[:len(webp)/2], "webp"},
		{"header_only.jpg", jpg[:20], "jpeg"},
		{"huge.png", pngHeader(40000, 40000), "over the limit"},
		{"zero.png", pngHeader(0, 10), "png"},
	} {
		p := write(c.name, c.data)
		_, err := LoadImg(p, LoadImgOptions{})
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		}
	}
	if _, err := LoadImg(filepath.Join(dir, "nope.png"), LoadImgOptions{}); err == nil || !strings.Contains(err.Error(), "nope.png") {
		t.Errorf("missing file: %v", err)
	}
	// The budget is checked on the header: a 5000x5000 header fails a
	// 1-megapixel budget there, and with no limit passes the header check
	// and fails on the missing pixel data instead.
	big := write("big5000.png", pngHeader(5000, 5000))
	if _, err := LoadImg(big, LoadImgOptions{MaxPixels: 1e6}); err == nil || !strings.Contains(err.Error(), "25000000 pixels") {
		t.Errorf("1 MP limit: %v", err)
	}
	if _, err := LoadImg(big, LoadImgOptions{MaxPixels: -1}); err == nil || !strings.Contains(err.Error(), "decoding png") {
		t.Errorf("no limit: %v", err)
	}
	if _, err := LoadImg(filepath.Join("testdata", "images", "rgb.png"), LoadImgOptions{MaxPixels: 390}); err == nil ||
		!strings.Contains(err.Error(), "23x17 = 391 pixels") {
		t.Errorf("small limit: %v", err)
	}
	if _, err := DecodeImg(nil, LoadImgOptions{}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("DecodeImg(nil): %v", err)
	}
}

func TestLoadImgBadOptions(t *testing.T) {
	p := filepath.Join("testdata", "images", "rgb.png")
	for _, c := range []struct {
		o    LoadImgOptions
		want string
	}{
		{LoadImgOptions{ColorMode: "RGB"}, "color_mode"},
		{LoadImgOptions{ColorMode: "bgr"}, "color_mode"},
		{LoadImgOptions{Interpolation: "cubic"}, "interpolation"},
		{LoadImgOptions{TargetSize: [2]int{0, 5}}, "target size"},
		{LoadImgOptions{TargetSize: [2]int{-3, 5}}, "target size"},
		{LoadImgOptions{TargetSize: [2]int{100000, 100000}}, "over the limit"},
		{LoadImgOptions{TargetSize: [2]int{20, 20}, MaxPixels: 399}, "over the limit"},
	} {
		if _, err := LoadImg(p, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.o, err)
		}
	}
}

func TestResizeErrors(t *testing.T) {
	im, err := LoadImg(filepath.Join("testdata", "images", "rgb.png"), LoadImgOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		w, h int
		box  *[4]float32
		f    Filter
	}{
		{0, 5, nil, Bilinear},
		{5, -1, nil, Nearest},
		{5, 5, &[4]float32{-1, 0, 5, 5}, Bilinear},
		{5, 5, &[4]float32{0, 0, 24, 5}, Bilinear},
		{5, 5, &[4]float32{5, 0, 4, 5}, Bilinear},
		{5, 5, nil, "cubic"},
	} {
		if _, err := Resize(im, c.w, c.h, c.f, c.box); err == nil {
			t.Errorf("Resize(%d, %d, %v, %v) accepted", c.w, c.h, c.f, c.box)
		}
	}
	// An empty (zero-width) box is allowed, as in Pillow, and must not panic.
	for _, f := range Filters {
		out, err := Resize(im, 4, 3, f, &[4]float32{7, 2, 7, 9})
		if err != nil || out.Width != 4 || out.Height != 3 {
			t.Errorf("%s with empty box: %v", f, err)
		}
	}
	if _, err := Resize(&Image{Mode: ModeL, Width: 3, Height: 3}, 2, 2, Bilinear, nil); err == nil {
		t.Error("image without pixels accepted")
	}
}

// TestDecodeImgSameAsLoadImg checks the in-memory entry point.
func TestDecodeImgSameAsLoadImg(t *testing.T) {
	p := filepath.Join("testdata", "images", "rgba.png")
	data, _ := os.ReadFile(p)
	o := LoadImgOptions{ColorMode: "rgba", TargetSize: [2]int{9, 12}, Interpolation: "lanczos"}
	a, err := LoadImg(p, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := DecodeImg(data, o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Pix, b.Pix) || a.Width != b.Width {
		t.Error("DecodeImg differs from LoadImg")
	}
}

// TestFromImage converts Go images of several concrete types by hand.
func TestFromImage(t *testing.T) {
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(n.Pix, []uint8{200, 100, 50, 128, 10, 20, 30, 0})
	rgb, err := FromImage(n, "rgb")
	if err != nil {
		t.Fatal(err)
	}
	// Alpha is dropped, colour kept (no compositing, no premultiplication).
	if !bytes.Equal(rgb.Pix, []uint8{200, 100, 50, 10, 20, 30}) {
		t.Errorf("NRGBA -> RGB: %v", rgb.Pix)
	}
	l, _ := FromImage(n, "grayscale")
	// (200*19595 + 100*38470 + 50*7471 + 32768) >> 16 = 8172318 >> 16 = 124
	if l.Pix[0] != 124 {
		t.Errorf("NRGBA -> L: %v", l.Pix)
	}
	g16 := image.NewGray16(image.Rect(0, 0, 3, 1))
	for i, v := range []uint16{7, 255, 4000} {
		g16.SetGray16(i, 0, color.Gray16{Y: v})
	}
	keep, _ := FromImage(g16, "grayscale")
	if keep.Mode != ModeI16 || keep.Pix16[2] != 4000 {
		t.Errorf("Gray16 grayscale: %+v", keep)
	}
	clip, _ := FromImage(g16, "rgb")
	if !bytes.Equal(clip.Pix, []uint8{7, 7, 7, 255, 255, 255, 255, 255, 255}) {
		t.Errorf("Gray16 -> RGB should clip: %v", clip.Pix)
	}
	// A sub-image (Bounds not at the origin) converts its own pixels.
	big := image.NewRGBA(image.Rect(0, 0, 4, 4))
	big.Set(2, 3, color.RGBA{9, 8, 7, 255})
	sub := big.SubImage(image.Rect(2, 3, 4, 4))
	s, _ := FromImage(sub, "rgb")
	if s.Width != 2 || s.Height != 1 || !bytes.Equal(s.Pix[:3], []uint8{9, 8, 7}) {
		t.Errorf("sub-image: %+v", s)
	}
	if _, err := FromImage(n, "cmyk"); err == nil {
		t.Error("bad colour mode accepted")
	}
	// Image implements image.Image.
	var _ image.Image = rgb
	if c := rgb.At(1, 0).(color.RGBA); c != (color.RGBA{10, 20, 30, 255}) {
		t.Errorf("At: %v", c)
	}
}
