package preprocess

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkDatasetIter measures decoding and resizing alone: 64 JPEG
// photos-sized images (400x350, like the course's cats and dogs) read as
// 160x160 bilinear batches of 32. scripts/bench_dataset.sh measures a
// whole evaluation.
func BenchmarkDatasetIter(b *testing.B) {
	dir := b.TempDir()
	for i := 0; i < 64; i++ {
		m := image.NewRGBA(image.Rect(0, 0, 400, 350))
		for y := 0; y < 350; y++ {
			for x := 0; x < 400; x++ {
				m.Set(x, y, color.RGBA{uint8(x + i), uint8(y), uint8(x * y >> 6), 255})
			}
		}
		p := filepath.Join(dir, []string{"cats", "dogs"}[i%2], strconv.Itoa(i)+".jpg")
		os.MkdirAll(filepath.Dir(p), 0o755)
		f, err := os.Create(p)
		if err != nil {
			b.Fatal(err)
		}
		jpeg.Encode(f, m, &jpeg.Options{Quality: 90})
		f.Close()
	}
	d, err := DatasetFromDirectory(dir, DatasetOptions{ImageSize: [2]int{160, 160}, NoShuffle: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		it := d.Iter(context.Background())
		for it.Next() {
		}
		if it.Err() != nil {
			b.Fatal(it.Err())
		}
	}
	b.ReportMetric(float64(b.N*d.Len())/b.Elapsed().Seconds(), "images/s")
}
