package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sbinet/npyio"
	"github.com/sbinet/npyio/npz"

	"github.com/kerago/kerago/ops"
)

// The fixtures come from real Keras: scripts/vgg16_cli_fixtures.py writes a
// tiny CNN (tiny_cnn.h5 / .keras), other weights for it, a synthetic
// picture and what Keras computes on it (tiny_ref.npz).
const td = "../../testdata/vgg16"

func runCLI(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var o, e bytes.Buffer
	status = run(append([]string{"vgg16"}, args...), &o, &e)
	if status == 2 || strings.Contains(e.String(), "internal error") {
		t.Fatalf("vgg16 %q crashed:\n%s", args, e.String())
	}
	return o.String(), e.String(), status
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, st := runCLI(t, args...)
	if st != 0 {
		t.Fatalf("vgg16 %q: status %d\n%s%s", args, st, out, errs)
	}
	return out
}

// refArray reads one array of tiny_ref.npz with its shape.
func refArray(t *testing.T, name string) ([]float32, []int) {
	t.Helper()
	f, err := npz.Open(filepath.Join(td, "tiny_ref.npz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v []float32
	if err := f.Read(name+".npy", &v); err != nil {
		t.Fatal(err)
	}
	return v, f.Header(name + ".npy").Descr.Shape
}

// maxRelErr is max|a-b| / max|b|.
func maxRelErr(a, b []float32) float64 {
	var d, m float64
	for i := range b {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / m
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// onlyOut checks that a command wrote nothing in parent but the out folder.
func onlyOut(t *testing.T, parent string, allowed ...string) {
	t.Helper()
	ents, _ := os.ReadDir(parent)
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for _, e := range ents {
		if !ok[e.Name()] {
			t.Errorf("unexpected file %s written outside --out", filepath.Join(parent, e.Name()))
		}
	}
}

func TestSummaryVGG16MatchesKeras(t *testing.T) {
	for _, c := range []struct {
		ref  string
		args []string
	}{
		{"vgg16.txt", nil},
		{"vgg16_notop.txt", []string{"--include-top=false"}},
		{"vgg16_notop_160_avg.txt", []string{"--include-top=false", "--input-shape", "160,160,3", "--pooling", "avg"}},
	} {
		want, err := os.ReadFile(filepath.Join("../../testdata/summary", c.ref))
		if err != nil {
			t.Fatal(err)
		}
		if got := mustRun(t, append([]string{"summary"}, c.args...)...); got != string(want) {
			t.Errorf("summary %v differs from Keras's %s:\n%s", c.args, c.ref, got)
		}
	}
}

func TestSummaryOfModelFile(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(td, "tiny_cnn.summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"tiny_cnn.h5", "tiny_cnn.keras"} {
		if got := mustRun(t, "summary", "--model", filepath.Join(td, f)); got != string(want) {
			t.Errorf("summary --model %s:\n%s\nwant (Keras):\n%s", f, got, want)
		}
	}
}

// TestFiltersMatchKernel checks the drawn kernels against Keras's own
// kernel values, normalised over the layer as the course does and mapped
// to 256 gray levels as matplotlib does.
func TestFiltersMatchKernel(t *testing.T) {
	kernel, shape := refArray(t, "conv_a_kernel") // (3, 3, 3, 4)
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range kernel {
		lo, hi = min(lo, v), max(hi, v)
	}
	level := func(v float32) uint8 {
		return uint8(min(255, int((float64(v)-float64(lo))/(float64(hi)-float64(lo))*256)))
	}
	at := func(y, x, c, f int) float32 { return kernel[((y*shape[1]+x)*shape[2]+c)*shape[3]+f] }

	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	stdout := mustRun(t, "filters", "--model", filepath.Join(td, "tiny_cnn.h5"), "--layer", "conv_a", "--out", out)
	if !strings.Contains(stdout, "conv_a_filters.png") {
		t.Errorf("output does not name the grid:\n%s", stdout)
	}
	for f := range 4 {
		for c := range 3 {
			img := readPNG(t, filepath.Join(out, "conv_a", "filter_00"+string(rune('0'+f))+"_ch00"+string(rune('0'+c))+".png"))
			if b := img.Bounds(); b.Dx() != 48 || b.Dy() != 48 {
				t.Fatalf("kernel image is %v, want 48x48 (3x3 enlarged 16 times)", b)
			}
			for y := range 3 {
				for x := range 3 {
					// The centre of each 16×16 block.
					r, _, _, _ := img.At(x*16+8, y*16+8).RGBA()
					if got, want := uint8(r>>8), level(at(y, x, c, f)); got != want {
						t.Errorf("filter %d channel %d (%d,%d): gray %d, want %d", f, c, y, x, got, want)
					}
				}
			}
		}
		// RGB composite: without caffe preprocessing channel 0 is red.
		img := readPNG(t, filepath.Join(out, "conv_a", "filter_00"+string(rune('0'+f))+"_rgb.png"))
		r, g, b, _ := img.At(8, 8).RGBA()
		if uint8(r>>8) != level(at(0, 0, 0, f)) || uint8(g>>8) != level(at(0, 0, 1, f)) || uint8(b>>8) != level(at(0, 0, 2, f)) {
			t.Errorf("filter %d RGB composite pixel (%d,%d,%d) does not match channels 0,1,2", f, r>>8, g>>8, b>>8)
		}
	}
	grid := readPNG(t, filepath.Join(out, "conv_a_filters.png"))
	if b := grid.Bounds(); b.Dx() < 16*48 || b.Dy() < 48 {
		t.Errorf("grid %v too small for 16 kernels of 48 px", b)
	}
	onlyOut(t, parent, "out")

	// With caffe preprocessing the input channels are B, G, R: red is channel 2.
	out2 := filepath.Join(parent, "out2")
	mustRun(t, "filters", "--model", filepath.Join(td, "tiny_cnn.keras"), "--preprocess", "caffe", "--count", "1", "--size", "3", "--out", out2)
	img := readPNG(t, filepath.Join(out2, "conv_a", "filter_000_rgb.png"))
	if r, _, b, _ := img.At(0, 0).RGBA(); uint8(r>>8) != level(at(0, 0, 2, 0)) || uint8(b>>8) != level(at(0, 0, 0, 0)) {
		t.Errorf("caffe RGB composite: red %d blue %d, want channel 2 as red and 0 as blue", r>>8, b>>8)
	}
	if img.Bounds().Dx() != 3 {
		t.Errorf("--size 3: kernel image %v, want 3x3", img.Bounds())
	}
	if _, err := os.Stat(filepath.Join(out2, "conv_a", "filter_001_ch000.png")); err == nil {
		t.Error("--count 1 drew more than one filter")
	}
}

func TestFeaturemapMatchesKeras(t *testing.T) {
	want, wshape := refArray(t, "conv_a")
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	stdout := mustRun(t, "featuremap", "--model", filepath.Join(td, "tiny_cnn.h5"), "--image", filepath.Join(td, "sample.png"),
		"--layer", "conv_a", "--out", out, "--npy", "conv_a.npy", "--colormap", "viridis", "--cols", "2")
	f, err := os.Open(filepath.Join(out, "conv_a.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	if err := r.Read(&got); err != nil {
		t.Fatal(err)
	}
	if s := r.Header.Descr.Shape; len(s) != 4 || s[0] != wshape[0] || s[1] != wshape[1] || s[2] != wshape[2] || s[3] != wshape[3] || r.Header.Descr.Type != "<f4" {
		t.Fatalf("npy has shape %v type %s, want %v float32", r.Header.Descr.Shape, r.Header.Descr.Type, wshape)
	}
	if e := maxRelErr(got, want); e > 1e-4 {
		t.Errorf("conv_a output differs from Keras by %.3g of max|keras|", e)
	} else {
		t.Logf("conv_a vs Keras: max error %.3g of max|keras|", e)
	}
	grid := readPNG(t, filepath.Join(out, "conv_a_sample.png"))
	// 4 channels of 32×32, enlarged to 64 (--min-size default), 2 per row.
	if b := grid.Bounds(); b.Dx() < 2*64 || b.Dy() < 2*64 {
		t.Errorf("grid is %v, want room for 2x2 tiles of 64 px", b)
	}
	if !strings.Contains(stdout, "conv_a_sample.png") || !strings.Contains(stdout, "(1, 32, 32, 4)") {
		t.Errorf("stdout:\n%s", stdout)
	}
	onlyOut(t, parent, "out")
}

type predictJSON struct {
	Model   string `json:"model"`
	Results []struct {
		Image       string `json:"image"`
		Predictions []struct {
			Class int     `json:"class"`
			WNID  string  `json:"wnid"`
			Name  string  `json:"name"`
			Score float32 `json:"score"`
		} `json:"predictions"`
	} `json:"results"`
}

// checkPredict runs predict --json and compares every score with Keras's
// and the order with a sort of Keras's scores.
func checkPredict(t *testing.T, ref string, args ...string) {
	t.Helper()
	want, _ := refArray(t, ref)
	img := filepath.Join(td, "sample.png")
	out := mustRun(t, append([]string{"predict", "--image", img, "--image", img, "--json", "--top", "10",
		"--class-index", filepath.Join(td, "tiny_classes.json")}, args...)...)
	var p predictJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(p.Results) != 2 {
		t.Fatalf("%d results for 2 images", len(p.Results))
	}
	for _, r := range p.Results {
		if len(r.Predictions) != 10 {
			t.Fatalf("%d rows, want 10", len(r.Predictions))
		}
		for i, row := range r.Predictions {
			if d := math.Abs(float64(row.Score - want[row.Class])); d > 1e-5 {
				t.Errorf("%v: class %d score %g, Keras %g", args, row.Class, row.Score, want[row.Class])
			}
			if row.Name != "tiny_class_"+string(rune('0'+row.Class)) {
				t.Errorf("class %d named %q", row.Class, row.Name)
			}
			if i > 0 && want[r.Predictions[i-1].Class] < want[row.Class] {
				t.Errorf("%v: rows not in Keras's score order", args)
			}
		}
	}
}

func TestPredictMatchesKeras(t *testing.T) {
	checkPredict(t, "pred", "--model", filepath.Join(td, "tiny_cnn.h5"))
	checkPredict(t, "pred", "--model", filepath.Join(td, "tiny_cnn.keras"))
	checkPredict(t, "pred_tf", "--model", filepath.Join(td, "tiny_cnn.h5"), "--preprocess", "tf")
	checkPredict(t, "pred_alt", "--model", filepath.Join(td, "tiny_cnn.keras"), "--weights", filepath.Join(td, "tiny_cnn_alt.weights.h5"))

	// The table: rank, wnid, name, score; top 3.
	out := mustRun(t, "predict", "--model", filepath.Join(td, "tiny_cnn.h5"), "--image", filepath.Join(td, "sample.png"),
		"--class-index", filepath.Join(td, "tiny_classes.json"), "--top", "3")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 5 || strings.Join(strings.Fields(lines[2])[:3], " ") != "1. n00000008 tiny_class_8" {
		t.Errorf("table:\n%s", out)
	}
}

// TestVGG16RandomWeights runs the VGG16 commands offline with an untrained
// VGG16; everything must say the weights are random.
func TestVGG16RandomWeights(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	s := mustRun(t, "filters", "--random-weights", "--count", "2", "--out", out)
	if !strings.Contains(s, "RANDOM") || !strings.Contains(s, "block1_conv1") {
		t.Errorf("filters output:\n%s", s)
	}
	for _, f := range []string{"block1_conv1_filters.png", "block1_conv1/filter_001_ch002.png", "block1_conv1/filter_001_rgb.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	s = mustRun(t, "featuremap", "--random-weights", "--image", filepath.Join(td, "sample.png"), "--layer", "block1_pool", "--out", out)
	if !strings.Contains(s, "(1, 112, 112, 64)") {
		t.Errorf("featuremap output:\n%s", s)
	}
	s = mustRun(t, "predict", "--random-weights", "--image", filepath.Join(td, "sample.png"), "--class-index", "../../../shared/keras-corpus/imagenet_class_index.json")
	if !strings.Contains(s, "RANDOM WEIGHTS") || strings.Count(s, "\n") != 8 {
		t.Errorf("predict output:\n%s", s)
	}
	onlyOut(t, parent, "out")
}

func TestErrors(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	model := filepath.Join(td, "tiny_cnn.h5")
	img := filepath.Join(td, "sample.png")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"nosuchcommand"}, "nosuchcommand"},
		{[]string{"filters", "--bogus"}, "bogus"},
		{[]string{"filters", "--model", model}, "out"},
		{[]string{"filters", "--model", filepath.Join(td, "missing.h5"), "--out", out}, "missing.h5"},
		{[]string{"filters", "--model", model, "--layer", "nope", "--out", out}, `no layer "nope"`},
		{[]string{"filters", "--model", model, "--layer", "flatten", "--out", out}, "no convolution kernel"},
		{[]string{"filters", "--model", model, "--size", "0", "--out", out}, "--size"},
		{[]string{"filters", "--weights", filepath.Join(td, "missing.h5"), "--out", out}, "missing.h5"},
		{[]string{"filters", "--weights", filepath.Join(td, "tiny_cnn.h5"), "--out", out}, "VGG16"},
		{[]string{"filters", "--random-weights", "--weights", model, "--out", out}, "not both"},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv_a"}, "out"},
		{[]string{"featuremap", "--model", model, "--image", filepath.Join(td, "nope.png"), "--layer", "conv_a", "--out", out}, "nope.png"},
		{[]string{"featuremap", "--model", model, "--image", filepath.Join(td, "tiny_classes.json"), "--layer", "conv_a", "--out", out}, "tiny_classes.json"},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "predictions", "--out", out}, "not feature maps"},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv_z", "--out", out}, `no layer "conv_z"`},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv_a", "--out", out, "--npy", "../escape.npy"}, "inside --out"},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv_a", "--out", out, "--colormap", "jet"}, "jet"},
		{[]string{"featuremap", "--model", model, "--image", img, "--layer", "conv_a", "--out", out, "--target-size", "64,64"}, "32x32"},
		{[]string{"predict", "--model", model, "--image", img, "--top", "0"}, "--top"},
		{[]string{"predict", "--model", model, "--image", img, "--preprocess", "caffee"}, "caffee"},
		{[]string{"predict", "--model", model, "--image", img, "--class-index", filepath.Join(td, "nope.json")}, "nope.json"},
		{[]string{"predict", "--model", model, "--image", img, "--class-index", "../../../shared/keras-corpus/imagenet_class_index.json"}, "1000 classes"},
		{[]string{"predict", "--model", model}, "image"},
		{[]string{"summary", "--input-shape", "10,10,3", "--include-top=false"}, "at least 32x32"},
		{[]string{"summary", "--input-shape", "abc"}, "input-shape"},
		{[]string{"summary", "--classes", "10"}, "classes should be 1000"},
		{[]string{"summary", "--pooling", "median", "--include-top=false"}, "pooling"},
		{[]string{"summary", "--model", model, "--pooling", "avg"}, "not to --model"},
		{[]string{"summary", "extra"}, "no arguments"},
		{[]string{"sample-image", "--out", filepath.Join(parent, "s.png"), "--size", "3"}, "--size"},
		{[]string{"filters", "--model", model, "--out", img}, "is a file"},
	} {
		stdout, stderr, st := runCLI(t, c.args...)
		if st != 1 {
			t.Errorf("vgg16 %q: status %d, want 1\n%s%s", c.args, st, stdout, stderr)
			continue
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("vgg16 %q: error %q does not mention %q", c.args, stderr, c.want)
		}
	}
	// Failing commands write nothing, not even --out.
	onlyOut(t, parent)
}

func TestSampleImage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "s.png")
	mustRun(t, "sample-image", "--out", p, "--size", "64")
	img := readPNG(t, p)
	if img.Bounds().Dx() != 64 {
		t.Fatalf("size %v", img.Bounds())
	}
	// The red disc is centred at (0.3, 0.3) of the picture.
	if r, g, b, _ := img.At(19, 19).RGBA(); r>>8 != 220 || g>>8 != 30 || b>>8 != 30 {
		t.Errorf("disc centre is (%d,%d,%d), want red", r>>8, g>>8, b>>8)
	}
}

// TestTopKOrder checks predict's ranking on ties and NaN.
func TestTopKOrder(t *testing.T) {
	// Keras: argsort ascending (NaN last, ties by index), take the last
	// top, reverse: NaN first, then scores descending, ties highest index
	// first.
	y := []float32{0.5, float32(math.NaN()), 0.9, 0.5, 0.1}
	got := topK(&ops.Tensor{Shape: []int{1, 5}, Data: y}, 0, 5, nil)
	want := []int{1, 2, 3, 0, 4}
	for i, r := range got {
		if r.Class != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

// TestBinary builds the command and checks the exit status of a real
// process.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "vgg16")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out, err := exec.Command(bin, "summary", "--include-top=false").Output()
	if err != nil || !strings.Contains(string(out), "Total params: 14,714,688") {
		t.Errorf("summary: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "featuremap", "--layer", "x")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "Required flag") {
		t.Errorf("missing flags: %v, stderr %q", err, stderr.String())
	}
}

// TestFullSizeCLI runs featuremap and predict on the full-size VGG16 files
// of scripts/vgg16_check.sh (ImageNet layout, random weights) and compares
// with Keras's outputs there.
func TestFullSizeCLI(t *testing.T) {
	dir := os.Getenv("KERAGO_VGG16_DIR")
	if dir == "" {
		t.Skip("KERAGO_VGG16_DIR is not set: run scripts/vgg16_check.sh to write the full-size Keras reference")
	}
	var man struct {
		Images []struct {
			PNG  string    `json:"png"`
			Stem string    `json:"stem"`
			Top5 []int     `json:"top5"`
			Sc   []float32 `json:"top5_scores"`
		} `json:"images"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &man); err != nil {
		t.Fatal(err)
	}
	im := man.Images[0]
	out := t.TempDir()
	mustRun(t, "featuremap", "--weights", filepath.Join(dir, "vgg16_notop.h5"), "--image", im.PNG,
		"--layer", "block1_conv2", "--out", out, "--npy", "b.npy")
	got := readNpyFile(t, filepath.Join(out, "b.npy"))
	want := readNpyFile(t, filepath.Join(dir, "outputs", im.Stem, "block1_conv2.npy"))
	if e := maxRelErr(got, want); e > 1e-4 {
		t.Errorf("block1_conv2 via the CLI: error %.3g of max|keras|", e)
	} else {
		t.Logf("featuremap block1_conv2 vs Keras: %.3g of max|keras|", e)
	}
	s := mustRun(t, "predict", "--weights", filepath.Join(dir, "vgg16_top.h5"), "--image", im.PNG, "--json",
		"--class-index", "../../../shared/keras-corpus/imagenet_class_index.json")
	var p predictJSON
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatal(err)
	}
	for i, r := range p.Results[0].Predictions {
		if r.Class != im.Top5[i] || math.Abs(float64(r.Score-im.Sc[i])) > 1e-4*float64(im.Sc[0]) {
			t.Errorf("row %d: class %d score %g, Keras class %d score %g", i, r.Class, r.Score, im.Top5[i], im.Sc[i])
		}
	}
}

func readNpyFile(t *testing.T, path string) []float32 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var v []float32
	if err := npyio.Read(f, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
