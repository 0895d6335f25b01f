package keras

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/internal/reftest"
	"github.com/kerago/kerago/ops"
)

const synthWeights = "testdata/k1_vgg_style_weights.h5"

// vggStyle builds the architecture of synthWeights with a few knobs.
func vggStyle(withFC1 bool, predUnits int, headName string) (*graph.Model, error) {
	x := graph.InputNamed("input_1", 8, 8, 3)
	y := graph.Call(graph.Conv2D(4, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"), graph.Name("block1_conv1")), x)
	y = graph.Call(graph.Conv2D(4, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"), graph.Name("block1_conv2")), y)
	y = graph.Call(graph.MaxPooling2D([2]int{2, 2}, graph.Name("block1_pool")), y)
	y = graph.Call(graph.Conv2D(6, [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"), graph.Name("block2_conv1")), y)
	y = graph.Call(graph.MaxPooling2D([2]int{2, 2}, graph.Name("block2_pool")), y)
	y = graph.Call(graph.Flatten(graph.Name("flatten")), y)
	if withFC1 {
		y = graph.Call(graph.Dense(5, graph.Activation("relu"), graph.Name("fc1")), y)
	}
	y = graph.Call(graph.Dense(predUnits, graph.Activation("softmax"), graph.Name(headName)), y)
	return graph.NewModel([]*graph.Node{x}, []*graph.Node{y}, "vgg_style")
}

func TestLoadWeightsLayerCountMismatch(t *testing.T) {
	m, err := vggStyle(false, 3, "predictions")
	if err != nil {
		t.Fatal(err)
	}
	err = LoadWeights(m, synthWeights, LoadWeightsOptions{})
	mustContain(t, err, "containing 5 layers with weights", `"fc1"`, "model with 4 layers with weights", "k1_vgg_style_weights.h5")
}

func TestLoadWeightsShapeMismatch(t *testing.T) {
	m, err := vggStyle(true, 4, "predictions")
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float32(nil), m.Layer("block1_conv1").Base().Weights()[0].Data...)
	err = LoadWeights(m, synthWeights, LoadWeightsOptions{})
	mustContain(t, err, `"predictions"`, "(5, 4)", "(5, 3)", "predictions_W_1:0")
	// Nothing was loaded: shapes are checked before any data is copied.
	if got := m.Layer("block1_conv1").Base().Weights()[0].Data; fmt.Sprint(got) != fmt.Sprint(before) {
		t.Error("a failed LoadWeights changed the weights of another layer")
	}
}

func TestLoadWeightsByName(t *testing.T) {
	full, err := vggStyle(true, 3, "predictions")
	if err != nil {
		t.Fatal(err)
	}
	if err := LoadWeights(full, synthWeights, LoadWeightsOptions{}); err != nil {
		t.Fatal(err)
	}
	// A new head under another name, and fc1 with a different shape.
	m, err := vggStyle(true, 7, "new_head")
	if err != nil {
		t.Fatal(err)
	}
	m.Layer("fc1").Base().Weights()[0].Data[0] = 42
	err = LoadWeights(m, synthWeights, LoadWeightsOptions{ByName: true})
	if err != nil {
		t.Fatal(err) // fc1's shapes agree here: only the head is new
	}
	var warnings []string
	// Skip mismatching layers: a model whose "predictions" has 4 units.
	m3, _ := vggStyle(true, 4, "predictions")
	err = LoadWeights(m3, synthWeights, LoadWeightsOptions{ByName: true})
	mustContain(t, err, `"predictions"`, "(5, 4)")
	err = LoadWeights(m3, synthWeights, LoadWeightsOptions{ByName: true, SkipMismatch: true,
		Warnf: func(f string, a ...any) { warnings = append(warnings, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "predictions") {
		t.Errorf("warnings %q, want one about predictions", warnings)
	}
	for _, name := range []string{"block1_conv1", "block1_conv2", "block2_conv1", "fc1"} {
		for _, mm := range []*graph.Model{m, m3} {
			if mm.Layer(name) == nil {
				continue
			}
			got := mm.Layer(name).Base().Weights()
			want := full.Layer(name).Base().Weights()
			for i := range want {
				if fmt.Sprint(got[i].Data) != fmt.Sprint(want[i].Data) {
					t.Errorf("model %s layer %s weight %d: not loaded by name", mm.Name(), name, i)
				}
			}
		}
	}
	// The renamed head kept its (zero) initial weights.
	for _, v := range m.Layer("new_head").Base().Weights()[0].Data {
		if v != 0 {
			t.Fatal("layer new_head, absent from the file, was changed")
		}
	}
}

func TestLoadWeightsKeras3StoreErrors(t *testing.T) {
	needCorpus(t)
	path := filepath.Join(corpusDir, "keras3/himal_mnist_weights.weights.h5")
	// himal: Conv2D 32, MaxPool, Conv2D 64, MaxPool, Flatten, Dense 100, Dense 10.
	build := func(units int, extra bool) *graph.Model {
		layers := []graph.Layer{
			graph.Conv2D(32, [2]int{3, 3}, graph.Activation("relu")),
			graph.MaxPooling2D([2]int{2, 2}),
			graph.Conv2D(64, [2]int{3, 3}, graph.Activation("relu")),
			graph.MaxPooling2D([2]int{2, 2}),
			graph.Flatten(),
			graph.Dense(units, graph.Activation("relu")),
			graph.Dense(10, graph.Activation("softmax")),
		}
		if extra {
			layers = append(layers, graph.Dense(3))
		}
		m, err := graph.Sequential("", []int{28, 28, 1}, layers...)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if err := LoadWeights(build(100, false), path, LoadWeightsOptions{}); err != nil {
		t.Fatal(err)
	}
	mustContain(t, LoadWeights(build(99, false), path, LoadWeightsOptions{}), "shape mismatch", "(1600, 99)", "(1600, 100)", "layers/dense/vars/0")
	mustContain(t, LoadWeights(build(100, true), path, LoadWeightsOptions{}), "layers/dense_2/vars", "2 weights")
	mustContain(t, LoadWeights(build(100, false), path, LoadWeightsOptions{ByName: true}), "by name", "Keras 3")
}

// TestTheanoKernelsMatter shows that the Theano rotation is what makes the
// Keras 1 Theano file agree with its reference: loaded as TensorFlow
// weights, it does not.
func TestTheanoKernelsMatter(t *testing.T) {
	needCorpus(t)
	dir := "testdata/corpus/k1_conv2d_theano"
	x := readNpy(t, dir+"/input_0.npy", 0)
	want := readNpy(t, dir+"/output_0.npy", 0)
	for _, c := range []struct {
		backend string
		agree   bool
	}{{"", true}, {"theano", true}, {"tensorflow", false}} {
		l, err := Load(filepath.Join(corpusDir, "keras1/dl4j_k1_conv2d_theano.h5"), LoadOptions{Backend: c.backend})
		if err != nil {
			t.Fatal(err)
		}
		out, err := l.Model.Predict(x)
		if err != nil {
			t.Fatal(err)
		}
		e, _ := reftest.RelErr(out[0], want)
		if (e <= tolerance) != c.agree {
			t.Errorf("backend %q: relative error %.3g, want agreement %v", c.backend, e, c.agree)
		}
		if c.backend == "" && (len(l.Notes) == 0 || !strings.Contains(strings.Join(l.Notes, " "), "Theano")) {
			t.Errorf("notes %q do not mention the Theano conversion", l.Notes)
		}
	}
}

// TestBrokenFiles checks that truncated, corrupted and foreign files are
// errors, never panics.
func TestBrokenFiles(t *testing.T) {
	needCorpus(t)
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, src := range []string{"keras2/dl4j_cnn_batch_norm.h5", "keras3/krishna_unet_model.keras", "keras1/keras2cpp_my_nn_weights.h5"} {
		data, err := os.ReadFile(filepath.Join(corpusDir, src))
		if err != nil {
			t.Fatal(err)
		}
		for _, frac := range []float64{0, 0.001, 0.1, 0.5, 0.9, 0.999} {
			n := int(float64(len(data)) * frac)
			p := write(fmt.Sprintf("trunc%d%s", n, filepath.Ext(src)), data[:n])
			if _, err := Load(p, LoadOptions{}); err == nil {
				t.Errorf("%s truncated to %d of %d bytes: loaded", src, n, len(data))
			}
			if _, err := Inspect(p); err == nil && n < len(data)/2 {
				t.Errorf("%s truncated to %d bytes: Inspect succeeded", src, n)
			}
		}
	}
	// Corrupted data bytes in a small full model: any outcome but a panic.
	data, _ := os.ReadFile(filepath.Join(corpusDir, "keras2/dl4j_cnn_batch_norm.h5"))
	for i := 0; i < 60; i++ {
		c := append([]byte(nil), data...)
		off := (i*7919 + 1000) % len(c)
		c[off] ^= 0x5a
		p := write(fmt.Sprintf("corrupt%d.h5", i), c)
		if l, err := Load(p, LoadOptions{}); err == nil {
			if _, err := l.Model.Predict(ops.New(1, 10, 10, 3)); err != nil {
				t.Logf("corrupt byte %d: loads, predict fails: %v", off, err)
			}
		}
	}
	for name, content := range map[string]string{
		"empty.h5":     "",
		"text.h5":      "hello, this is not HDF5 at all",
		"fake.keras":   "PK\x03\x04 truncated zip",
		"notzip.keras": "{}",
		"config.json":  `{"class_name": "Sequential"`,
	} {
		p := write(name, []byte(content))
		if _, err := Load(p, LoadOptions{}); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	if _, err := Load(dir, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("loading a directory: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.h5"), LoadOptions{}); err == nil {
		t.Error("loading a missing file succeeded")
	}
}

// rezip rewrites a .keras archive with the given member transformation.
func rezip(t *testing.T, src string, edit func(w *zip.Writer, f *zip.File) bool) string {
	t.Helper()
	r, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range r.File {
		if edit(w, f) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		hdr := f.FileHeader
		out, err := w.CreateHeader(&hdr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, rc); err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "edited.keras")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKerasArchiveChecks(t *testing.T) {
	needCorpus(t)
	src := filepath.Join(corpusDir, "keras3/gosolna_mnist_cnn.keras")
	copyMember := func(w *zip.Writer, f *zip.File, hdr zip.FileHeader) {
		rc, _ := f.Open()
		defer rc.Close()
		out, err := w.CreateHeader(&hdr)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(out, rc)
	}
	// Deflated members load, with the same weights as the stored original.
	deflated := rezip(t, src, func(w *zip.Writer, f *zip.File) bool {
		hdr := f.FileHeader
		hdr.Method = zip.Deflate
		copyMember(w, f, hdr)
		return true
	})
	a, err := Load(src, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(deflated, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wa, wb := a.Model.Weights(), b.Model.Weights()
	for i := range wa {
		if fmt.Sprint(wa[i].Data) != fmt.Sprint(wb[i].Data) {
			t.Fatalf("weight %d differs between the stored and the deflated archive", i)
		}
	}
	cases := map[string]struct {
		edit func(w *zip.Writer, f *zip.File) bool
		want string
	}{
		"path traversal": {func(w *zip.Writer, f *zip.File) bool {
			if f.Name == "metadata.json" {
				hdr := f.FileHeader
				hdr.Name = "../../etc/metadata.json"
				copyMember(w, f, hdr)
				return true
			}
			return false
		}, "unsafe path"},
		"absolute path": {func(w *zip.Writer, f *zip.File) bool {
			if f.Name == "metadata.json" {
				hdr := f.FileHeader
				hdr.Name = "/tmp/x"
				copyMember(w, f, hdr)
				return true
			}
			return false
		}, "unsafe path"},
		"no config":  {func(w *zip.Writer, f *zip.File) bool { return f.Name == "config.json" }, "config.json"},
		"no weights": {func(w *zip.Writer, f *zip.File) bool { return f.Name == "model.weights.h5" }, "model.weights.h5"},
		"bzip2 member": {func(w *zip.Writer, f *zip.File) bool {
			if f.Name == "config.json" {
				hdr := f.FileHeader
				hdr.Method = 12
				out, _ := w.CreateRaw(&hdr)
				rc, _ := f.OpenRaw()
				io.Copy(out, rc)
				return true
			}
			return false
		}, "compression method 12"},
		"config declares 1 TB": {func(w *zip.Writer, f *zip.File) bool {
			if f.Name == "config.json" {
				hdr := f.FileHeader
				hdr.UncompressedSize64 = 1 << 40
				out, _ := w.CreateRaw(&hdr)
				rc, _ := f.OpenRaw()
				io.Copy(out, rc)
				return true
			}
			return false
		}, "declares 1099511627776 bytes"},
		"corrupt config bytes": {func(w *zip.Writer, f *zip.File) bool {
			if f.Name == "config.json" {
				hdr := f.FileHeader
				out, _ := w.CreateRaw(&hdr)
				rc, _ := f.OpenRaw()
				data, _ := io.ReadAll(rc)
				data[10] ^= 1
				out.Write(data)
				return true
			}
			return false
		}, "checksum"},
		"duplicate member": {func(w *zip.Writer, f *zip.File) bool {
			if f.Name == "metadata.json" {
				copyMember(w, f, f.FileHeader)
				copyMember(w, f, f.FileHeader)
				return true
			}
			return false
		}, "two members"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := rezip(t, src, c.edit)
			_, err := Load(p, LoadOptions{})
			mustContain(t, err, c.want)
		})
	}
	// A weights member bigger than the caller's limit is refused unread.
	_, err = Load(src, LoadOptions{MaxWeightsBytes: 1000})
	mustContain(t, err, "model.weights.h5", "more than the limit of 1000")
}

// TestNestedOrders checks the two orders in which Keras versions stored a
// nested model's weights (layer by layer in tf.keras 2.x and Keras 3; all
// trainable weights, then all non-trainable ones, in Keras 2.0-2.3), and
// that the loader picks the one the stored names, or else the stored
// shapes, agree with.
func TestNestedOrders(t *testing.T) {
	x := graph.InputNamed("inner_input", 6, 6, 3)
	y := graph.Call(graph.Conv2D(4, [2]int{3, 3}, graph.Name("c1")), x)
	y = graph.Call(graph.BatchNormalization(graph.Name("bn")), y)
	y = graph.Call(graph.Conv2D(2, [2]int{3, 3}, graph.Name("c2")), y)
	inner, err := graph.NewModel([]*graph.Node{x}, []*graph.Node{y}, "inner")
	if err != nil {
		t.Fatal(err)
	}
	label := func(o []nestedSlot) string {
		var parts []string
		for _, s := range o {
			parts = append(parts, s.layer.Base().Name()+"/"+s.w.Name)
		}
		return strings.Join(parts, " ")
	}
	orders := nestedOrders(inner)
	perLayer := "c1/kernel c1/bias bn/gamma bn/beta bn/moving_mean bn/moving_variance c2/kernel c2/bias"
	split := "c1/kernel c1/bias bn/gamma bn/beta c2/kernel c2/bias bn/moving_mean bn/moving_variance"
	if got := label(orders[0]); got != perLayer {
		t.Errorf("per-layer order %s, want %s", got, perLayer)
	}
	if got := label(orders[1]); got != split {
		t.Errorf("trainable-first order %s, want %s", got, split)
	}
	shapesOf := func(o []nestedSlot) [][]int {
		var out [][]int
		for _, s := range o {
			out = append(out, s.w.Shape)
		}
		return out
	}
	for _, c := range []struct {
		names []string
		order int
		want  string
	}{
		{strings.Fields("c1/kernel:0 c1/bias:0 bn/gamma:0 bn/beta:0 c2/kernel:0 c2/bias:0 bn/moving_mean:0 bn/moving_variance:0"), 1, split},
		{strings.Fields("c1_1/kernel:0 c1_1/bias:0 bn_1/gamma:0 bn_1/beta:0 bn_1/moving_mean:0 bn_1/moving_variance:0 c2_1/kernel:0 c2_1/bias:0"), 0, perLayer},
		{strings.Fields("inner/c1/kernel inner/c1/bias inner/bn/gamma inner/bn/beta inner/bn/moving_mean inner/bn/moving_variance inner/c2/kernel inner/c2/bias"), 0, perLayer},
		// Names that say nothing (Keras 1 style): the shapes decide.
		{strings.Fields("c1_W c1_b g b c2_W c2_b mm mv"), 1, split},
	} {
		got := label(pickOrder(orders, c.names, shapesOf(orders[c.order]), era{version: "2.2.4"}, &weightTarget{}))
		if got != c.want {
			t.Errorf("stored %v: picked %s, want %s", c.names, got, c.want)
		}
	}
}
