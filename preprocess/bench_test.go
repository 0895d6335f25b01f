package preprocess

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoadImgPhoto224 is the classification path for one real photo:
// decode (700x466 JPEG), convert, resize to 224x224 nearest.
func BenchmarkLoadImgPhoto224(b *testing.B) {
	path := filepath.Join(sharedPhotos, "elephant.jpg")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("shared photo not present: %v", err)
	}
	for _, dec := range []struct {
		name string
		d    JPEGDecoder
	}{{"libjpeg", JPEGLibjpeg}, {"go", JPEGGo}} {
		b.Run(dec.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := LoadImg(path, LoadImgOptions{TargetSize: [2]int{224, 224}, JPEG: dec.d}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResize shrinks a 1024x768 RGB image to 224x224 with each filter.
func BenchmarkResize(b *testing.B) {
	im := newImage(ModeRGB, 1024, 768)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range im.Pix {
		im.Pix[i] = uint8(r.IntN(256))
	}
	for _, f := range Filters {
		b.Run(string(f), func(b *testing.B) {
			for b.Loop() {
				if _, err := Resize(im, 224, 224, f, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
