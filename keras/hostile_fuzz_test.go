package keras

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kerago/kerago/keras/internal/h5"
	"github.com/kerago/kerago/ops"
)

// Reproducers of the hostile inputs that hostile/hostile_test.go found
// mishandled (large allocations, a crash, a misleading "internal error"),
// and FuzzLoad, which feeds byte-mutated model files to Load and Inspect.

// allocated returns the bytes fn allocates on the Go heap.
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// writeLegacyModel writes a tf.keras-style full .h5 model: config, and for
// every layer its weights (name -> data, shape).
func writeLegacyModel(t *testing.T, path, config string, layers []string, weights map[string][][2]any) {
	t.Helper()
	f, err := h5.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	root := f.Root()
	for _, kv := range [][2]string{{"model_config", config}, {"keras_version", "2.4.0"}, {"backend", "tensorflow"}} {
		if err := root.SetString(kv[0], kv[1], h5.UTF8); err != nil {
			t.Fatal(err)
		}
	}
	mw, err := root.CreateGroup("model_weights")
	if err != nil {
		t.Fatal(err)
	}
	if err := mw.SetStringList("layer_names", layers); err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		g, err := mw.CreateGroup(l)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, w := range weights[l] {
			names = append(names, w[0].(string))
		}
		if len(names) == 0 {
			err = g.SetEmptyFloat64("weight_names")
		} else {
			err = g.SetStringList("weight_names", names)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range weights[l] {
			shape := w[1].([]int)
			if _, err := g.WriteFloat32(w[0].(string), make([]float32, ops.NumElements(shape)), shape); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConfigLargerThanItsWeights: a config whose Dense layer needs 720
// million parameters (2.9 GB, under the 4 GB default budget), stored next
// to weights of 111 values, used to allocate the 2.9 GB before finding the
// mismatch, in Load, Inspect and LoadModelFromJSON. Now the file's stored
// values bound the model before anything is allocated.
func TestConfigLargerThanItsWeights(t *testing.T) {
	dir := t.TempDir()
	config := func(units int) string {
		return seqConfig([]any{6, 6, 1}, [2]any{"Flatten", map[string]any{"name": "f"}}, [2]any{"Dense", map[string]any{"name": "d", "units": units}})
	}
	weights := map[string][][2]any{"d": {{"d/kernel:0", []int{36, 3}}, {"d/bias:0", []int{3}}}}
	ok := filepath.Join(dir, "ok.h5")
	writeLegacyModel(t, ok, config(3), []string{"f", "d"}, weights)
	if _, err := Load(ok, LoadOptions{}); err != nil {
		t.Fatalf("control: %v", err)
	}
	big := filepath.Join(dir, "big.h5")
	writeLegacyModel(t, big, config(20000000), []string{"f", "d"}, weights)
	cfgPath := filepath.Join(dir, "big.json")
	if err := os.WriteFile(cfgPath, []byte(config(20000000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, fn := range map[string]func() error{
		"Load":    func() error { _, err := Load(big, LoadOptions{}); return err },
		"Inspect": func() error { _, err := Inspect(big); return err },
		"LoadModelFromJSON": func() error {
			_, err := LoadModelFromJSON(cfgPath, ok)
			return err
		},
	} {
		var err error
		if a := allocated(func() { err = fn() }); a > 64<<20 {
			t.Errorf("%s allocated %d MB", name, a>>20)
		}
		mustContain(t, err, `layer "d"`, "needs at least 720000000 weight values", "stores only 111 values")
	}

	// The same through a .keras archive (Keras 3 store): sequential's
	// Dense layer made 20 million units wide.
	src := filepath.Join("..", "testdata", "ref", "sequential", "model.keras")
	k := filepath.Join(dir, "big.keras")
	rewriteKeras(t, src, k, func(name string, data []byte, h *zip.FileHeader) []byte {
		if name != "config.json" {
			return data
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		for _, l := range v["config"].(map[string]any)["layers"].([]any) {
			if c := l.(map[string]any)["config"].(map[string]any); c["units"] != nil {
				c["units"] = 20000000
			}
		}
		out, _ := json.Marshal(v)
		return out
	})
	for name, fn := range map[string]func() error{
		"Load .keras":    func() error { _, err := Load(k, LoadOptions{}); return err },
		"Inspect .keras": func() error { _, err := Inspect(k); return err },
	} {
		var err error
		if a := allocated(func() { err = fn() }); a > 64<<20 {
			t.Errorf("%s allocated %d MB", name, a>>20)
		}
		mustContain(t, err, `layer "dense"`, "needs at least 720000108 weight values", "stores only 223 values")
	}
}

// rewriteKeras copies a .keras archive through edit, which may also change
// the member's header (sizes are set from the new data first).
func rewriteKeras(t *testing.T, src, dst string, edit func(name string, data []byte, h *zip.FileHeader) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		h := zip.FileHeader{Name: f.Name, Method: zip.Store}
		data = edit(f.Name, data, &h)
		h.CRC32 = crc32.ChecksumIEEE(data)
		h.CompressedSize64 = uint64(len(data))
		if h.UncompressedSize64 == 0 {
			h.UncompressedSize64 = uint64(len(data))
		}
		w, err := zw.CreateRaw(&h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKerasMemberLargerThanStored: a .keras member may declare any size;
// model.weights.h5 declaring 15 GiB (under the 16 GiB limit) made the
// loader allocate 15 GiB (through cgo's C.malloc, which aborts the program
// where the memory is not there), and config.json declaring 60 MB
// allocated 60 MB, before reading a few KB. A stored member's size must
// now equal its stored bytes, a deflated one's be at most 1032 times them.
func TestKerasMemberLargerThanStored(t *testing.T) {
	src := filepath.Join("..", "testdata", "ref", "sequential", "model.keras")
	dir := t.TempDir()
	for _, c := range []struct {
		member string
		size   uint64
	}{{"model.weights.h5", 15 << 30}, {"config.json", 60 << 20}, {"metadata.json", 900 << 10}} {
		p := filepath.Join(dir, strings.ReplaceAll(c.member, ".", "_")+".keras")
		rewriteKeras(t, src, p, func(name string, data []byte, h *zip.FileHeader) []byte {
			if name == c.member {
				h.UncompressedSize64 = c.size
			}
			return data
		})
		var err error
		if a := allocated(func() { _, err = Load(p, LoadOptions{}) }); a > 16<<20 {
			t.Errorf("%s: allocated %d MB", c.member, a>>20)
		}
		mustContain(t, err, c.member, "cannot hold")
	}
}

// TestStoreWeightsOfAnotherLayer: a .keras archive whose config names a
// layer differently from its weight store used to fail with "internal
// error: ..." (a message for bugs); it is the file's fault, and said so.
func TestStoreWeightsOfAnotherLayer(t *testing.T) {
	src := filepath.Join("..", "testdata", "ref", "branching", "model.keras")
	p := filepath.Join(t.TempDir(), "renamed.keras")
	rewriteKeras(t, src, p, func(name string, data []byte, h *zip.FileHeader) []byte {
		if name == "config.json" {
			return bytes.ReplaceAll(data, []byte(`"img_b"`), []byte(`"renamed"`))
		}
		return data
	})
	_, err := Load(p, LoadOptions{})
	mustContain(t, err, `layer "renamed"`, `saved for a layer named "img_b"`, "do not match")
	if strings.Contains(err.Error(), "internal error") {
		t.Errorf("error claims a bug: %v", err)
	}
}

// FuzzLoad writes byte-mutated model files (seeds: the sequential and
// branching reference models, .h5 and .keras) to a temporary file and
// loads and inspects them: any error is fine, a panic, crash, hang or
// large allocation is not. A model that loads runs on zeros.
func FuzzLoad(f *testing.F) {
	for _, c := range []string{"sequential", "branching"} {
		for _, ext := range []string{"h5", "keras"} {
			if b, err := os.ReadFile(filepath.Join("..", "testdata", "ref", c, "model."+ext)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "model")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := LoadOptions{MaxParamBytes: 1 << 26, MaxWeightsBytes: 1 << 26}
		l, err := Load(p, opts)
		if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
			Inspect(p) // a JSON file would be built with the default budget
		}
		if err != nil {
			return
		}
		var xs []*ops.Tensor
		for _, in := range l.Model.Inputs() {
			shape := append([]int{1}, in.Shape...)
			if n := ops.NumElements(shape); n <= 0 || n > 1<<16 || slicesContainsNeg(shape) {
				return
			}
			xs = append(xs, ops.New(shape...))
		}
		l.Model.Predict(xs...)
	})
}

func slicesContainsNeg(s []int) bool {
	for _, d := range s {
		if d < 0 {
			return true
		}
	}
	return false
}
