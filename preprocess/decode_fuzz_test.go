package preprocess

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pngHeaderIDAT is pngHeader followed by an IDAT chunk holding an empty
// zlib stream and IEND: a 57-byte file.
func pngHeaderIDAT(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return b.Bytes()
	}
	out := append(pngHeader(w, h), chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// TestPNGHeaderLargerThanFile: a 57-byte PNG whose header declares
// 9000x9000 pixels (under the pixel budget) made image/png allocate the
// whole 324 MB image before finding no pixel data. A PNG cannot hold more
// than 1032 pixel bytes per file byte (deflate's limit), so such a header is
// refused before decoding; a large but highly compressible valid PNG still
// decodes.
func TestPNGHeaderLargerThanFile(t *testing.T) {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	_, err := DecodeImg(pngHeaderIDAT(9000, 9000), LoadImgOptions{})
	runtime.ReadMemStats(&b)
	if err == nil || !strings.Contains(err.Error(), "9000x9000") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("9000x9000 header alone: %v", err)
	}
	if d := b.TotalAlloc - a.TotalAlloc; d > 8<<20 {
		t.Errorf("allocated %d MB for a 57-byte file", d>>20)
	}
	// All zeros compresses about as well as deflate can: 4000x4000 gray
	// (16 MB of pixels) in about 16 KB, a ratio near 1000.
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, 4000, 4000))); err != nil {
		t.Fatal(err)
	}
	t.Logf("4000x4000 zeros: %d bytes, ratio %.0f", buf.Len(), 16e6/float64(buf.Len()))
	im, err := DecodeImg(buf.Bytes(), LoadImgOptions{ColorMode: "grayscale"})
	if err != nil || im.Width != 4000 || im.Height != 4000 {
		t.Fatalf("valid compressible PNG: %v", err)
	}
}

// FuzzDecodeImg decodes byte-mutated images (seeds: the test images of
// testdata/images under 4 KB, and a 1x1 PNG) in the three colour modes, at
// their size and resized: errors are fine, a panic, hang or allocation
// beyond the (lowered) pixel budget is not, and a decoded image is
// consistent.
func FuzzDecodeImg(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "images", "*"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) <= 4096 {
			f.Add(b, uint8(0))
		}
	}
	var one bytes.Buffer
	m := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	m.Set(0, 0, color.NRGBA{1, 2, 3, 4})
	png.Encode(&one, m)
	f.Add(one.Bytes(), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		opts := LoadImgOptions{
			ColorMode: []string{"rgb", "grayscale", "rgba"}[sel%3],
			MaxPixels: 1 << 20,
			JPEG:      JPEGDecoder(sel / 3 % 2),
		}
		if sel&8 != 0 {
			opts.TargetSize = [2]int{7, 5}
			opts.Interpolation = []string{"nearest", "bilinear", "bicubic", "lanczos"}[sel>>4%4]
			opts.KeepAspectRatio = sel&64 != 0
		}
		im, err := DecodeImg(data, opts)
		if err != nil {
			return
		}
		if im.Width <= 0 || im.Height <= 0 || im.Width*im.Height > 1<<20 {
			t.Fatalf("decoded a %dx%d image", im.Width, im.Height)
		}
		if opts.TargetSize != [2]int{} && (im.Height != 7 || im.Width != 5) {
			t.Fatalf("resized to %dx%d, want 5x7", im.Width, im.Height)
		}
		if im.Mode == ModeI16 {
			if len(im.Pix16) != im.Width*im.Height {
				t.Fatalf("%dx%d I;16 image with %d values", im.Width, im.Height, len(im.Pix16))
			}
		} else if len(im.Pix) != im.Width*im.Height*im.Channels() {
			t.Fatalf("%dx%d %s image with %d bytes", im.Width, im.Height, im.Mode, len(im.Pix))
		}
		if _, err := ImgToArray(im); err != nil {
			t.Fatalf("ImgToArray of a decoded image: %v", err)
		}
	})
}
