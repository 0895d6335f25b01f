package vgg16

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/internal/reftest"
	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/preprocess"
)

// checkManifest is the manifest.json written by
// scripts/vgg16_imagenet_layout.py.
type checkManifest struct {
	TF      string   `json:"tensorflow"`
	TFKeras string   `json:"tf_keras"`
	Layers  []string `json:"layers"`
	Images  []struct {
		PNG  string `json:"png"`
		Stem string `json:"stem"`
		Top5 []int  `json:"top5"`
	} `json:"images"`
}

// worst returns max|got - want| and max|want|.
func worst(got, want *ops.Tensor) (diff, scale float64) {
	for i, w := range want.Data {
		diff = math.Max(diff, math.Abs(float64(got.Data[i])-float64(w)))
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	return diff, scale
}

// procStatus returns a field of /proc/self/status ("VmHWM", "VmRSS") in MiB,
// or -1 where there is no such file.
func procStatus(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb / 1024
		}
	}
	return -1
}

// TestFullSizeVGG16MatchesKeras loads a full-size (553 MB) VGG16 file in
// the exact layout of Keras's ImageNet file and compares every layer's
// output on real photos with real Keras's. The reference is too big to
// commit: scripts/vgg16_check.sh writes it with tf_keras and runs this test
// with KERAGO_VGG16_DIR pointing at it.
func TestFullSizeVGG16MatchesKeras(t *testing.T) {
	dir := os.Getenv("KERAGO_VGG16_DIR")
	if dir == "" {
		t.Skip("KERAGO_VGG16_DIR is not set: run scripts/vgg16_check.sh (writes the full-size Keras reference, ~0.7 GB in /tmp)")
	}
	var man checkManifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("KERAGO_VGG16_DIR=%s: %v (run scripts/vgg16_imagenet_layout.py)", dir, err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("reference: tensorflow %s, tf_keras %s, %s\n", man.TF, man.TFKeras, dir)

	runtime.GC()
	graph.ResetNames()
	start := time.Now()
	m, err := Load(Options{IncludeTop: true}, filepath.Join(dir, "vgg16_top.h5"))
	if err != nil {
		t.Fatal(err)
	}
	loadTime := time.Since(start)
	fmt.Printf("load vgg16_top.h5 (553 MB): %v; RSS after load %.0f MiB, peak so far %.0f MiB\n",
		loadTime.Round(time.Millisecond), procStatus("VmRSS"), procStatus("VmHWM"))

	for _, im := range man.Images {
		refDir := filepath.Join(dir, "outputs", im.Stem)
		x := reftest.MustReadNpy(t, filepath.Join(refDir, "input.npy"))

		// Go's load_img + img_to_array + preprocess_input must give Keras's input.
		img, err := preprocess.LoadImg(im.PNG, preprocess.LoadImgOptions{TargetSize: [2]int{224, 224}})
		if err != nil {
			t.Fatal(err)
		}
		gx, err := preprocess.ImgToArray(img)
		if err != nil {
			t.Fatal(err)
		}
		if err := preprocess.PreprocessInput(gx, "caffe"); err != nil {
			t.Fatal(err)
		}
		gx.Shape = append([]int{1}, gx.Shape...)
		if d, _ := worst(gx, x); d != 0 {
			t.Errorf("%s: Go's preprocessed input differs from Keras's by %g", im.Stem, d)
		}

		start := time.Now()
		acts, err := m.Activations([]*ops.Tensor{x})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s: forward pass with all activations kept %v\n", im.Stem, time.Since(start).Round(time.Millisecond))
		fmt.Printf("  %-14s %-22s %12s %12s %10s\n", "layer", "shape", "max|keras|", "max|diff|", "diff/max")
		for _, name := range man.Layers {
			want := reftest.MustReadNpy(t, filepath.Join(refDir, name+".npy"))
			got := acts[name]
			if got == nil || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
				t.Errorf("%s %s: got %v, Keras shape %v", im.Stem, name, got, want.Shape)
				continue
			}
			d, s := worst(got, want)
			fmt.Printf("  %-14s %-22s %12.6g %12.4g %10.3g\n", name, fmt.Sprint(want.Shape), s, d, d/s)
			if d > 1e-4*s {
				t.Errorf("%s %s: max error %g > 1e-4 · max|keras| (%g)", im.Stem, name, d, s)
			}
		}
		// decode_predictions order: same top 5 classes as Keras.
		p := acts["predictions"].Data
		top := make([]int, 0, 5)
		for range 5 {
			best := -1
			for i, v := range p {
				taken := false
				for _, c := range top {
					taken = taken || c == i
				}
				if !taken && (best < 0 || v > p[best]) {
					best = i
				}
			}
			top = append(top, best)
		}
		if fmt.Sprint(top) != fmt.Sprint(im.Top5) {
			t.Errorf("%s: top-5 classes %v, Keras %v", im.Stem, top, im.Top5)
		}
	}
	fmt.Printf("peak RSS (VmHWM) of the test process: %.0f MiB\n", procStatus("VmHWM"))

	// The notop file loads into the notop model and gives the same
	// convolutional features.
	graph.ResetNames()
	start = time.Now()
	nm, err := Load(Options{}, filepath.Join(dir, "vgg16_notop.h5"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("load vgg16_notop.h5 (59 MB): %v\n", time.Since(start).Round(time.Millisecond))
	im := man.Images[0]
	x := reftest.MustReadNpy(t, filepath.Join(dir, "outputs", im.Stem, "input.npy"))
	out, err := nm.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	want := reftest.MustReadNpy(t, filepath.Join(dir, "outputs", im.Stem, "block5_pool.npy"))
	if d, s := worst(out[0], want); d > 1e-4*s {
		t.Errorf("notop block5_pool: max error %g > 1e-4 · %g", d, s)
	} else {
		fmt.Printf("notop model block5_pool on %s: max|diff| %.4g (%.3g of max|keras|)\n", im.Stem, d, d/s)
	}
}

// BenchmarkLoadFullSize measures loading the 553 MB file (needs the
// reference of scripts/vgg16_check.sh; skipped otherwise).
func BenchmarkLoadFullSize(b *testing.B) {
	dir := os.Getenv("KERAGO_VGG16_DIR")
	if dir == "" {
		b.Skip("KERAGO_VGG16_DIR is not set: run scripts/vgg16_check.sh first")
	}
	path := filepath.Join(dir, "vgg16_top.h5")
	b.SetBytes(553466688)
	for b.Loop() {
		graph.ResetNames()
		if _, err := Load(Options{IncludeTop: true}, path); err != nil {
			b.Fatal(err)
		}
	}
}
