package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/ops"
)

// The references are what real Keras computed: keras/testdata/save holds
// Go-saved models and, for each, scripts/keras_reference.py's output (every
// layer's output from tf_keras 2.21 or Keras 3.15), see its README.md.
const saveTD = "../../keras/testdata/save"

// The shared corpus (real Keras files from elsewhere) and per-layer Keras
// outputs for one of its channels_first models, made by
// scripts/keras_corpus_reference.py.
const (
	corpusDir = "../../../shared/keras-corpus"
	cfRefDir  = "../../keras/testdata/corpus/k2_simpleconv2d_channels_first"
)

func readRef(t *testing.T, name string) *keras.ArrayFile {
	t.Helper()
	ref, err := keras.ReadArrayFile(filepath.Join(saveTD, name), 0)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestVerifyAgainstKeras(t *testing.T) {
	for _, c := range []struct{ model, ref, keras string }{
		{"convs.h5", "convs.reference.h5", "tf_keras 2.21.0"},
		{"convs.keras", "convs.keras.reference.h5", "keras 3.15.1"},
		{"merges.h5", "merges.reference.h5", "tf_keras 2.21.0"},
	} {
		t.Run(c.model, func(t *testing.T) {
			out := mustRun(t, "verify", "--model", filepath.Join(saveTD, c.model), "--reference", filepath.Join(saveTD, c.ref))
			ref := readRef(t, c.ref)
			names := ref.Attrs["layer_names"]
			if len(names) < 10 {
				t.Fatalf("reference has only %d layers", len(names))
			}
			for _, n := range names {
				// One line per layer, with its Keras output shape and "ok".
				want := ref.Array("outputs/" + n)
				line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n) + ` \(.*$`).FindString(out)
				if line == "" || !strings.Contains(line, kerasShapeString(want.Shape)) || !strings.HasSuffix(strings.TrimSpace(line), "ok") {
					t.Errorf("layer %s: line %q", n, line)
				}
			}
			if !strings.Contains(out, "PASS") || !strings.Contains(out, c.keras) {
				t.Errorf("output:\n%s", out)
			}
			t.Logf("\n%s", out)
		})
	}
}

func TestVerifyFailsWhenKerasDiffers(t *testing.T) {
	ref := readRef(t, "convs.reference.h5")
	// Change one layer's reference output by 1% of its largest value.
	a := ref.Array("outputs/sep")
	if a == nil {
		t.Fatal("no outputs/sep in the reference")
	}
	a.Data[7] += 0.01 * absMax(a.Data)
	bad := filepath.Join(t.TempDir(), "bad.h5")
	if err := keras.WriteArrayFile(bad, ref); err != nil {
		t.Fatal(err)
	}
	out, errs, st := runCLI(t, "verify", "--model", filepath.Join(saveTD, "convs.h5"), "--reference", bad)
	if st != 1 {
		t.Fatalf("status %d, want 1\n%s%s", st, out, errs)
	}
	if !regexp.MustCompile(`(?m)^sep \(SeparableConv2D\).*FAIL$`).MatchString(out) || !strings.Contains(errs, "sep") {
		t.Errorf("the failing layer is not named:\n%s%s", out, errs)
	}
	// The layers before it still pass.
	if !regexp.MustCompile(`(?m)^conv \(Conv2D\).* ok$`).MatchString(out) {
		t.Errorf("conv should pass:\n%s", out)
	}
	// A looser tolerance accepts the change.
	mustRun(t, "verify", "--model", filepath.Join(saveTD, "convs.h5"), "--reference", bad, "--tolerance", "0.02")

	// A reference of another model: missing layers.
	out, errs, st = runCLI(t, "verify", "--model", filepath.Join(saveTD, "convs.h5"), "--reference", filepath.Join(saveTD, "merges.reference.h5"))
	if st != 1 || !strings.Contains(out+errs, "takes 1 inputs") {
		t.Errorf("status %d:\n%s%s", st, out, errs)
	}
}

func absMax(d []float32) float32 {
	var m float32
	for _, v := range d {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

// TestActivationsMatchKeras: vgg16 activations writes what Keras computes
// for every layer.
func TestActivationsMatchKeras(t *testing.T) {
	for _, c := range []struct{ model, ref string }{
		{"convs.h5", "convs.reference.h5"},
		{"convs.keras", "convs.keras.reference.h5"},
		{"merges.h5", "merges.reference.h5"},
	} {
		t.Run(c.model, func(t *testing.T) {
			ref := readRef(t, c.ref)
			dir := t.TempDir()
			args := []string{"activations", "--model", filepath.Join(saveTD, c.model), "--out", filepath.Join(dir, "acts.h5")}
			for i := 0; ; i++ {
				a := ref.Array("inputs/" + string(rune('0'+i)))
				if a == nil {
					break
				}
				p := filepath.Join(dir, "x"+string(rune('0'+i))+".npy")
				if err := writeNpy(p, &ops.Tensor{Shape: a.Shape, Data: a.Data}); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--input", p)
			}
			out := mustRun(t, args...)
			got, err := keras.ReadArrayFile(filepath.Join(dir, "acts.h5"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Attrs["layer_names"], ref.Attrs["layer_names"]) {
				t.Errorf("layer_names %q, Keras's model.layers %q", got.Attrs["layer_names"], ref.Attrs["layer_names"])
			}
			if got.Attr("format") != "kerago-activations/1" {
				t.Errorf("format %q", got.Attr("format"))
			}
			for _, n := range ref.Attrs["layer_names"] {
				w, g := ref.Array("outputs/"+n), got.Array("outputs/"+n)
				if g == nil {
					t.Errorf("no outputs/%s", n)
					continue
				}
				if !slices.Equal(g.Shape, w.Shape) {
					t.Errorf("%s: shape %v, Keras %v", n, g.Shape, w.Shape)
					continue
				}
				if e := maxRelErr(g.Data, w.Data); e > 1e-5 || math.IsNaN(e) {
					t.Errorf("%s: differs from Keras by %.3g of max|keras|", n, e)
				}
				if g.Attrs["class_name"] != w.Attrs["class_name"] {
					t.Errorf("%s: class %q, Keras %q", n, g.Attrs["class_name"], w.Attrs["class_name"])
				}
			}
			if !strings.Contains(out, "wrote ") {
				t.Errorf("stdout:\n%s", out)
			}
		})
	}
}

func TestActivationsSomeLayers(t *testing.T) {
	ref := readRef(t, "convs.reference.h5")
	dir := t.TempDir()
	x := ref.Array("inputs/0")
	if err := writeNpy(filepath.Join(dir, "x.npy"), &ops.Tensor{Shape: x.Shape, Data: x.Data}); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "activations", "--model", filepath.Join(saveTD, "convs.h5"), "--input", filepath.Join(dir, "x.npy"),
		"--layers", "head, sep", "--out", filepath.Join(dir, "acts.h5"))
	got, err := keras.ReadArrayFile(filepath.Join(dir, "acts.h5"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, a := range got.Arrays {
		paths = append(paths, a.Path)
	}
	if !slices.Equal(paths, []string{"inputs/0", "outputs/head", "outputs/sep"}) || !slices.Equal(got.Attrs["layer_names"], []string{"head", "sep"}) {
		t.Errorf("datasets %q, layer_names %q", paths, got.Attrs["layer_names"])
	}
	if e := maxRelErr(got.Array("outputs/head").Data, ref.Array("outputs/head").Data); e > 1e-5 {
		t.Errorf("head differs from Keras by %.3g", e)
	}
}

// TestActivationsChannelsFirst: a channels_first model's layers come out
// in Keras's NCHW layout.
func TestActivationsChannelsFirst(t *testing.T) {
	model := filepath.Join(corpusDir, "keras2/dl4j_simpleconv2d_channels_first.hdf5")
	if _, err := os.Stat(model); err != nil {
		t.Skipf("shared Keras corpus not found (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(cfRefDir, "manifest.json")); err != nil {
		t.Skipf("corpus references not found (%v)", err)
	}
	dir := t.TempDir()
	mustRun(t, "activations", "--model", model, "--input", filepath.Join(cfRefDir, "input_0.npy"), "--out", filepath.Join(dir, "acts.h5"))
	got, err := keras.ReadArrayFile(filepath.Join(dir, "acts.h5"), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"max_pooling2d_2", "dropout_1", "flatten_1", "dense_1", "dense_4"} {
		want, err := readInputNpy(filepath.Join(cfRefDir, n+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		g := got.Array("outputs/" + n)
		if g == nil || !slices.Equal(g.Shape, want.Shape) {
			t.Errorf("%s: %v, Keras has shape %v", n, g, want.Shape)
			continue
		}
		if e := maxRelErr(g.Data, want.Data); e > 1e-5 {
			t.Errorf("%s differs from Keras by %.3g", n, e)
		}
	}
	// conv2d_1 is (2, 30, 26, 26), NCHW; its top-left 3x3 window is
	// stored by the reference script.
	crop, err := readInputNpy(filepath.Join(cfRefDir, "conv2d_1.crop0.npy"))
	if err != nil {
		t.Fatal(err)
	}
	g := got.Array("outputs/conv2d_1")
	if !slices.Equal(g.Shape, []int{2, 30, 26, 26}) {
		t.Fatalf("conv2d_1 shape %v, want Keras's (2, 30, 26, 26)", g.Shape)
	}
	n, c, h, w := crop.Shape[0], crop.Shape[1], crop.Shape[2], crop.Shape[3]
	var worst float64
	for b := range n {
		for k := range c {
			for y := range h {
				for x := range w {
					d := math.Abs(float64(g.Data[((b*30+k)*26+y)*26+x] - crop.Data[((b*c+k)*h+y)*w+x]))
					worst = max(worst, d)
				}
			}
		}
	}
	if worst > 1e-5 {
		t.Errorf("conv2d_1 window differs from Keras by %.3g", worst)
	}
}

func TestInspectGoSavedFile(t *testing.T) {
	out := mustRun(t, "inspect", filepath.Join(saveTD, "convs.h5"))
	for _, want := range []string{
		"legacy HDF5 full model",
		"tf.keras 2 (keras_version 2.21.0), backend tensorflow",
		`Functional "convs"`,
		"no training config, no optimizer state",
		"conv/kernel:0 (3, 3, 3, 4), conv/bias:0 (4,)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
	// Every layer with its Keras class and Keras's output shape.
	ref := readRef(t, "convs.reference.h5")
	for _, n := range ref.Attrs["layer_names"] {
		a := ref.Array("outputs/" + n)
		shape := append([]int{-1}, a.Shape[1:]...)
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n+" ("+a.Attrs["class_name"]+")") + ` +` + regexp.QuoteMeta(kerasShapeString(shape)) + ` `)
		if !re.MatchString(out) {
			t.Errorf("no line for %s (%s) %s:\n%s", n, a.Attrs["class_name"], kerasShapeString(shape), out)
		}
	}
	out = mustRun(t, "inspect", filepath.Join(saveTD, "convs.keras"))
	if !strings.Contains(out, ".keras archive") || !strings.Contains(out, "Keras 3 (keras_version 3.15.1)") {
		t.Errorf("inspect .keras:\n%s", out)
	}
}

func TestInspectTrainedKeras3File(t *testing.T) {
	p := filepath.Join(corpusDir, "keras3/himal_mnist_cnn.h5")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared Keras corpus not found (%v)", err)
	}
	out := mustRun(t, "inspect", p)
	// h5py: root attributes include training_config; optimizer_weights
	// lists 18 weight names (see shared/notes/keras-file-layouts.md 3.8).
	for _, want := range []string{"Keras 3 (keras_version 3.10.0)", "training config present", "optimizer state: 18 variables", "Sequential"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect lacks %q:\n%s", want, out)
		}
	}
}

func TestKerasCommandErrors(t *testing.T) {
	dir := t.TempDir()
	ref := readRef(t, "convs.reference.h5")
	x := ref.Array("inputs/0")
	good := filepath.Join(dir, "x.npy")
	if err := writeNpy(good, &ops.Tensor{Shape: x.Shape, Data: x.Data}); err != nil {
		t.Fatal(err)
	}
	noBatch := filepath.Join(dir, "nobatch.npy")
	if err := writeNpy(noBatch, &ops.Tensor{Shape: x.Shape[1:], Data: x.Data[:len(x.Data)/x.Shape[0]]}); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "text.npy")
	os.WriteFile(text, []byte("hello, I am not an array\n"), 0o644)
	data, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.npy")
	os.WriteFile(truncated, data[:len(data)-7], 0o644)
	huge := filepath.Join(dir, "huge.npy")
	os.WriteFile(huge, npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 1000), }", 16), 0o644)
	ints := filepath.Join(dir, "ints.npy")
	os.WriteFile(ints, npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 16), 0o644)
	fortran := filepath.Join(dir, "fortran.npy")
	os.WriteFile(fortran, npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16), 0o644)
	model := filepath.Join(saveTD, "convs.h5")
	acts := filepath.Join(dir, "acts.h5")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"inspect", filepath.Join(dir, "missing.h5")}, "no such file"},
		{[]string{"inspect", text}, "not a Keras file"},
		{[]string{"inspect"}, "one FILE"},
		{[]string{"activations", "--model", filepath.Join(dir, "missing.h5"), "--input", good, "--out", acts}, "--model: stat"},
		{[]string{"activations", "--model", model, "--input", filepath.Join(dir, "missing.npy"), "--out", acts}, "--input " + filepath.Join(dir, "missing.npy")},
		{[]string{"activations", "--model", model, "--input", text, "--out", acts}, "not a NumPy .npy file"},
		{[]string{"activations", "--model", model, "--input", truncated, "--out", acts}, "needs 2160 bytes of data, the file has 2153"},
		{[]string{"activations", "--model", model, "--input", huge, "--out", acts}, "needs more data than the file's"},
		{[]string{"activations", "--model", model, "--input", ints, "--out", acts}, "dtype <i8: want float32 or float64"},
		{[]string{"activations", "--model", model, "--input", fortran, "--out", acts}, "Fortran-ordered"},
		{[]string{"activations", "--model", model, "--input", noBatch, "--out", acts}, "the batch axis is missing"},
		{[]string{"activations", "--model", model, "--input", good, "--input", good, "--out", acts}, `takes 1 inputs (image (None, 9, 10, 3)), 2 given`},
		{[]string{"activations", "--model", model, "--input", good, "--layers", "conv,nope", "--out", acts}, `--layers: model "convs" has no layer "nope"; its layers are: image, conv,`},
		{[]string{"activations", "--model", model, "--input", good, "--layers", "conv,conv", "--out", acts}, `--layers names "conv" twice`},
		{[]string{"activations", "--model", model, "--input", good, "--out", dir}, "is a folder"},
		{[]string{"activations", "--model", model, "--input", good, "--out", filepath.Join(dir, "no", "acts.h5")}, "does not exist"},
		{[]string{"activations", "--model", model, "--out", acts}, `"input" not set`},
		{[]string{"verify", "--model", model, "--reference", filepath.Join(dir, "missing.h5")}, "--reference: stat"},
		{[]string{"verify", "--model", model, "--reference", model}, "not a reference file"},
		{[]string{"verify", "--model", model, "--reference", text}, "--reference"},
		{[]string{"verify", "--model", model, "--reference", filepath.Join(saveTD, "convs.reference.h5"), "--tolerance", "-1"}, "--tolerance -1"},
	} {
		out, errs, st := runCLI(t, c.args...)
		if st != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("vgg16 %q: status %d, stderr %q, want %q\n%s", c.args, st, errs, c.want, out)
		}
	}
	if _, err := os.Stat(acts); !os.IsNotExist(err) {
		t.Errorf("a failed activations command left %s", acts)
	}
}

// npyBytes builds a .npy file (format 1.0) with the given header text and
// n bytes of zero data.
func npyBytes(header string, n int) []byte {
	h := header
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = append(b, byte(len(h)), byte(len(h)>>8))
	b = append(b, h...)
	return append(b, make([]byte, n)...)
}

// TestVerifyFreshReference runs scripts/keras_reference.py (real Keras) on
// models written by tf_keras and by Keras 3, then vgg16 verify on its
// output. It needs a Python with tensorflow, tf_keras and keras 3
// (scripts/keras_reference_env.sh); without one it skips.
func TestVerifyFreshReference(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the real-Keras run (it starts TensorFlow)")
	}
	py := ""
	for _, c := range []string{os.Getenv("KERAS_REF_PYTHON"), "../../.venv/bin/python", "python3"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			check := exec.Command(p, "-c", "import os; os.environ['TF_CPP_MIN_LOG_LEVEL']='3'; import h5py, tensorflow, tf_keras, keras; assert keras.__version__.startswith('3')")
			if check.Run() == nil {
				py = p
				break
			}
		}
	}
	if py == "" {
		t.Skip("no Python with tensorflow, tf_keras and keras 3 (scripts/keras_reference_env.sh installs them)")
	}
	dir := t.TempDir()
	x := &ops.Tensor{Shape: []int{3, 6, 7, 3}, Data: make([]float32, 3*6*7*3)}
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i) * 0.37))
	}
	xPath := filepath.Join(dir, "x.npy")
	if err := writeNpy(xPath, x); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		model string
		args  []string
		who   string
	}{
		// tf_keras's own file with a nested model, given inputs.
		{"nested_tfkeras", "../../testdata/ref/nested_model/model.h5", []string{"--input", xPath}, "tf_keras"},
		// Keras 3's legacy .h5 (a trained Sequential CNN), seeded inputs.
		{"keras3_h5", filepath.Join(corpusDir, "keras3/himal_mnist_cnn.h5"), nil, "keras 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := os.Stat(c.model); err != nil {
				t.Skipf("model file not found (%v)", err)
			}
			ref := filepath.Join(dir, c.name+".ref.h5")
			cmd := exec.Command(py, append([]string{"../../scripts/keras_reference.py", c.model, "--out", ref}, c.args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("keras_reference.py: %v\n%s", err, out)
			}
			out := mustRun(t, "verify", "--model", c.model, "--reference", ref)
			if !strings.Contains(out, "PASS") || !strings.Contains(out, c.who) {
				t.Errorf("verify:\n%s", out)
			}
			t.Logf("\n%s", out)
		})
	}
}
