package preprocess

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func seedOf(v int64) *int64 { return &v }

// writePNG writes a w×h RGB PNG whose pixel (x, y) is (v, x, y).
func writePNG(t *testing.T, path string, w, h int, v uint8) {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{v, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeFolder builds classes a (n files) and b (n files) of 4x3 PNGs whose
// red value is the file's number.
func makeFolder(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		writePNG(t, filepath.Join(dir, "a", fmt1("a", i)), 4, 3, uint8(i))
		writePNG(t, filepath.Join(dir, "b", fmt1("b", i)), 4, 3, uint8(100+i))
	}
	return dir
}

func fmt1(p string, i int) string {
	return p + string(rune('0'+i/10)) + string(rune('0'+i%10)) + ".png"
}

func TestDatasetBatchesAndLabels(t *testing.T) {
	dir := makeFolder(t, 5)
	for _, mode := range []string{"int", "categorical", "binary"} {
		d, err := DatasetFromDirectory(dir, DatasetOptions{
			LabelMode: mode, BatchSize: 3, ImageSize: [2]int{3, 4}, Seed: seedOf(4), Workers: 2, Prefetch: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		if d.Len() != 10 || d.NumBatches() != 4 || d.Channels() != 3 {
			t.Fatalf("len %d batches %d channels %d", d.Len(), d.NumBatches(), d.Channels())
		}
		it := d.Iter(context.Background())
		seen := 0
		for it.Next() {
			b := it.Batch()
			n := len(b.Paths)
			if b.Index != seen/3 || b.Start != seen || !slices.Equal(b.Images.Shape, []int{n, 3, 4, 3}) {
				t.Fatalf("batch %d start %d shape %v", b.Index, b.Start, b.Images.Shape)
			}
			for k, p := range b.Paths {
				// Same size as the target: bilinear returns the pixels.
				red := b.Images.Data[k*36]
				class := 0
				if strings.Contains(p, "/b/") {
					class = 1
				}
				if b.Classes[k] != class || (class == 0) != (red < 100) {
					t.Fatalf("%s: class %d red %v", p, b.Classes[k], red)
				}
				switch mode {
				case "int":
					if b.Labels.Data[k] != float32(class) || len(b.Labels.Shape) != 1 {
						t.Fatalf("int label %v", b.Labels)
					}
				case "categorical":
					if b.Labels.Data[2*k+class] != 1 || b.Labels.Data[2*k+1-class] != 0 {
						t.Fatalf("one-hot %v", b.Labels.Data)
					}
				case "binary":
					if b.Labels.Data[k] != float32(class) || !slices.Equal(b.Labels.Shape, []int{n, 1}) {
						t.Fatalf("binary %v %v", b.Labels.Shape, b.Labels.Data)
					}
				}
			}
			seen += n
		}
		if it.Err() != nil || seen != 10 {
			t.Fatalf("%v after %d images", it.Err(), seen)
		}
		it.Close() // after the end: harmless
		img, err := d.LoadImage(9)
		if err != nil || !slices.Equal(img.Shape, []int{3, 4, 3}) {
			t.Fatalf("LoadImage: %v %v", img, err)
		}
		if _, err := d.LoadImage(10); err == nil {
			t.Fatal("LoadImage out of range accepted")
		}
	}
}

// A file that cannot be decoded stops the iteration with an error naming
// it; batches before it come through.
func TestDatasetBadFiles(t *testing.T) {
	cases := map[string][]byte{
		"empty.png":     {},
		"garbage.png":   []byte("this is not an image at all"),
		"truncated.png": nil, // filled below
		"bad.bmp":       []byte("BM\x00\x00"),
		"huge.bmp": append([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00"+
			"\xff\xff\xff\x3f\xff\xff\xff\x3f\x01\x00\x18\x00"), make([]byte, 30)...),
		"gif.gif": []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00"),
	}
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 40, 40)))
	cases["truncated.png"] = b.Bytes()[:b.Len()/2]
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writePNG(t, filepath.Join(dir, "c", "0ok.png"), 2, 2, 1)
			p := filepath.Join(dir, "c", "1"+name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := DatasetFromDirectory(dir, DatasetOptions{NoShuffle: true, BatchSize: 1, ImageSize: [2]int{2, 2}, MaxPixels: 1 << 20})
			if err != nil {
				t.Fatal(err)
			}
			it := d.Iter(context.Background())
			defer it.Close()
			n := 0
			for it.Next() {
				n++
			}
			if n != 1 || it.Err() == nil || !strings.Contains(it.Err().Error(), "1"+name) {
				t.Fatalf("%d batches, error %v", n, it.Err())
			}
			t.Log(it.Err())
		})
	}
}

func TestDatasetCancelAndClose(t *testing.T) {
	dir := makeFolder(t, 30)
	before := runtime.NumGoroutine()
	d, err := DatasetFromDirectory(dir, DatasetOptions{BatchSize: 2, ImageSize: [2]int{8, 8}, Seed: seedOf(1), Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Close after one batch.
	it := d.Iter(context.Background())
	if !it.Next() {
		t.Fatal(it.Err())
	}
	it.Close()
	it.Close()
	if it.Next() {
		t.Fatal("Next after Close")
	}
	// Cancel the context.
	ctx, cancel := context.WithCancel(context.Background())
	it = d.Iter(ctx)
	it.Next()
	cancel()
	for it.Next() {
	}
	if !errors.Is(it.Err(), context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", it.Err())
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Fatalf("%d goroutines left running (%d before)", g, before)
	}
}

func TestDatasetOptionErrors(t *testing.T) {
	dir := makeFolder(t, 2)
	for _, c := range []struct {
		opts DatasetOptions
		want string
	}{
		{DatasetOptions{ImageSize: [2]int{0, 5}}, "both sizes must be positive"},
		{DatasetOptions{ImageSize: [2]int{100000, 100000}}, "over the limit"},
		{DatasetOptions{BatchSize: -1}, "batch size"},
		{DatasetOptions{Seed: seedOf(-3)}, "2**32 - 1"},
		{DatasetOptions{CropToAspectRatio: true, PadToAspectRatio: true}, "Only one of"},
		{DatasetOptions{Subset: "both", ValidationSplit: 0.5, Seed: seedOf(1)}, "TrainValidationFromDirectory"},
		{DatasetOptions{ClassNames: []string{"a", "a"}}, "twice"},
		{DatasetOptions{Labels: []int{1}, NoLabels: true}, "not both"},
		{DatasetOptions{NoLabels: true, ClassNames: []string{"a"}}, "cannot be specified"},
	} {
		if _, err := DatasetFromDirectory(dir, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.opts, err, c.want)
		}
	}
	if _, err := DatasetFromDirectory(filepath.Join(dir, "missing"), DatasetOptions{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing folder: %v", err)
	}
	if _, err := DatasetFromDirectory(filepath.Join(dir, "a", "a00.png"), DatasetOptions{}); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("file as folder: %v", err)
	}
	if _, _, err := TrainValidationFromDirectory(dir, DatasetOptions{Subset: "training", ValidationSplit: 0.5, Seed: seedOf(1)}); err == nil {
		t.Error("TrainValidationFromDirectory accepted subset training")
	}
	tr, va, err := TrainValidationFromDirectory(dir, DatasetOptions{ValidationSplit: 0.5, Seed: seedOf(1)})
	if err != nil || tr.Len() != 2 || va.Len() != 2 || tr.Subset != "training" || va.Subset != "validation" {
		t.Fatalf("%v %v %v", tr, va, err)
	}
	// A random seed is drawn when none is given, in [0, 1e6).
	d, err := DatasetFromDirectory(dir, DatasetOptions{})
	if err != nil || !d.Shuffled || d.Seed < 0 || d.Seed >= 1000000 {
		t.Fatalf("random seed: %v %v", d, err)
	}
}

func TestDatasetSymlinks(t *testing.T) {
	dir := makeFolder(t, 1)
	other := t.TempDir()
	writePNG(t, filepath.Join(other, "x", "linked.png"), 2, 2, 5)
	// A link to a folder at the top is a class; inside a class it is only
	// walked with FollowLinks; a link to an ancestor is not walked twice.
	if err := os.Symlink(filepath.Join(other, "x"), filepath.Join(dir, "c")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	os.Symlink(filepath.Join(other, "x"), filepath.Join(dir, "a", "sub"))
	os.Symlink(dir, filepath.Join(other, "x", "loop"))
	for _, follow := range []bool{false, true} {
		d, err := DatasetFromDirectory(dir, DatasetOptions{NoShuffle: true, FollowLinks: follow})
		if err != nil {
			t.Fatal(err)
		}
		var rel []string
		for _, p := range d.FilePaths {
			rel = append(rel, strings.TrimPrefix(p, dir+"/"))
		}
		want := []string{"a/a00.png", "b/b00.png", "c/linked.png"}
		if follow {
			// Folders already being walked (a, then x) are skipped.
			want = []string{"a/a00.png", "a/sub/linked.png", "a/sub/loop/b/b00.png", "b/b00.png",
				"c/linked.png", "c/loop/a/a00.png", "c/loop/b/b00.png"}
		}
		if !slices.Equal(d.ClassNames, []string{"a", "b", "c"}) || !slices.Equal(rel, want) {
			t.Errorf("follow %v: classes %q files %q, want %q", follow, d.ClassNames, rel, want)
		}
	}
}
