package keras

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras/internal/h5"
	"github.com/kerago/kerago/ops"
)

// The references for the writer are files real Keras wrote:
// testdata/ref/<case>/model.h5 (tf_keras 2.21 model.save) and model.keras
// (Keras 3.15), made by scripts/keras_ref_layers.py. A model loaded from
// such a file and saved again must give back the same file content: the
// same attributes with the same encodings, the same groups, weight names
// and arrays, and the same model_config JSON text, byte for byte.

const saveRefDir = "../testdata/ref"

// saveRefCases lists the reference cases whose model.h5 tf_keras wrote.
func saveRefCases(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(saveRefDir, "*", "manifest.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no reference cases in %s (%v)", saveRefDir, err)
	}
	var out []string
	for _, p := range dirs {
		var man struct {
			Keras3Only bool `json:"keras3_only"`
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &man); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !man.Keras3Only {
			out = append(out, filepath.Dir(p))
		}
	}
	return out
}

func TestSaveH5MatchesTFKerasFiles(t *testing.T) {
	for _, dir := range saveRefCases(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ref := filepath.Join(dir, "model.h5")
			m, err := LoadModel(ref)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "go.h5")
			if err := Save(m, out); err != nil {
				t.Fatal(err)
			}
			compareH5Trees(t, ref, out)
		})
	}
}

// compareH5Trees checks that two HDF5 files hold the same groups,
// datasets (shape, dtype, float32 bits) and attributes (type, charset,
// value), ignoring the order in which they were created.
func compareH5Trees(t *testing.T, want, got string) {
	t.Helper()
	fw, err := h5.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	fg, err := h5.Open(got)
	if err != nil {
		t.Fatal(err)
	}
	defer fg.Close()
	var walk func(p string)
	walk = func(p string) {
		gw, err := fw.Group(p)
		if err != nil {
			t.Fatal(err)
		}
		gg, err := fg.Group(p)
		if err != nil {
			t.Errorf("group %s missing: %v", p, err)
			return
		}
		compareAttrs(t, p, gw.Object, gg.Object, true)
		mw, _ := gw.Members()
		mg, _ := gg.Members()
		if !reflect.DeepEqual(mw, mg) {
			t.Errorf("%s: members %v, tf.keras wrote %v", p, mg, mw)
			return
		}
		for _, m := range mw {
			q := strings.TrimPrefix(p+"/"+m.Name, "/")
			if m.Kind == h5.KindGroup {
				walk(q)
				continue
			}
			dw, _ := fw.Dataset(q)
			dg, _ := fg.Dataset(q)
			iw, _ := dw.Info()
			ig, err := dg.Info()
			if err != nil || !reflect.DeepEqual(iw, ig) {
				t.Errorf("dataset %s: %+v (%v), tf.keras wrote %+v", q, ig, err, iw)
				continue
			}
			vw, _, _ := dw.ReadFloat32()
			vg, _, _ := dg.ReadFloat32()
			for i := range vw {
				if math.Float32bits(vw[i]) != math.Float32bits(vg[i]) {
					t.Errorf("dataset %s[%d] = %g, tf.keras wrote %g", q, i, vg[i], vw[i])
					break
				}
			}
			compareAttrs(t, q, dw.Object, dg.Object, true)
		}
	}
	walk("/")
}

// compareAttrs compares the attributes of two objects. String lists are
// compared as lists: tf.keras 2.21 (with h5py 3) writes them as
// variable-length strings, Save as fixed-length strings (as tf.keras 2.0
// to 2.4 did); every Keras reads both.
func compareAttrs(t *testing.T, where string, w, g h5.Object, strict bool) {
	t.Helper()
	nw, _ := w.AttrNames()
	ng, _ := g.AttrNames()
	slices.Sort(nw)
	slices.Sort(ng)
	if !slices.Equal(nw, ng) {
		t.Errorf("%s: attributes %q, tf.keras wrote %q", where, ng, nw)
		return
	}
	for _, n := range nw {
		iw, _ := w.AttrInfo(n)
		ig, _ := g.AttrInfo(n)
		listW := iw.DType == "str" && len(iw.Shape) == 1 || strings.HasPrefix(iw.DType, "S")
		if !listW && !reflect.DeepEqual(iw, ig) {
			t.Errorf("%s: attribute %s is %+v, tf.keras wrote %+v", where, n, ig, iw)
			continue
		}
		if listW && !(strings.HasPrefix(ig.DType, "S") && len(ig.Shape) == 1) {
			t.Errorf("%s: attribute %s is %+v, want a fixed-length string list", where, n, ig)
			continue
		}
		if iw.DType == "float64" {
			fw, _ := w.Float64s(n)
			fg, _ := g.Float64s(n)
			if !reflect.DeepEqual(fw, fg) {
				t.Errorf("%s: attribute %s = %v, tf.keras wrote %v", where, n, fg, fw)
			}
			continue
		}
		sw, err1 := w.Strings(n)
		sg, err2 := g.Strings(n)
		if n == "model_config" && len(sw) == 1 {
			sw[0] = compatConfig(t, sw[0])
		}
		if err1 != nil || err2 != nil || !slices.Equal(sw, sg) {
			if n == "model_config" && len(sw) == 1 && len(sg) == 1 {
				t.Errorf("%s: model_config differs from tf.keras's:\n%s", where, firstDiff(sw[0], sg[0]))
				continue
			}
			t.Errorf("%s: attribute %s = %q (%v), tf.keras wrote %q (%v)", where, n, sg, err2, sw, err1)
		}
	}
}

// firstDiff shows where two long strings start to differ.
func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-150)
	return "tf.keras: ..." + want[lo:min(len(want), i+150)] + "\nGo:       ..." + got[lo:min(len(got), i+150)]
}

// ---- helpers shared by the save tests ----

// saveTestInput returns a deterministic batch for a model input.
func saveTestInput(shape graph.Shape, batch int, seed uint64) *ops.Tensor {
	dims := []int{batch}
	for _, d := range shape {
		if d < 0 {
			d = 5
		}
		dims = append(dims, d)
	}
	t := ops.New(dims...)
	s := seed*2654435761 + 12345
	for i := range t.Data {
		s = s*6364136223846793005 + 1442695040888963407
		t.Data[i] = float32(int64(s>>33)%2001-1000) / 500
	}
	return t
}

func TestSaveKerasMatchesKeras3Files(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(saveRefDir, "*", "model.keras"))
	if len(dirs) == 0 {
		t.Fatalf("no model.keras under %s", saveRefDir)
	}
	for _, ref := range dirs {
		t.Run(filepath.Base(filepath.Dir(ref)), func(t *testing.T) {
			m, err := LoadModel(ref)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "go.keras")
			if err := Save(m, out); err != nil {
				t.Fatal(err)
			}
			want, err := openKerasZip(ref)
			if err != nil {
				t.Fatal(err)
			}
			defer want.Close()
			got, err := openKerasZip(out)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Close()
			// Members, their order and compression.
			var mw, mg []string
			for _, f := range want.zr.File {
				mw = append(mw, fmt.Sprintf("%s/%d", f.Name, f.Method))
			}
			for _, f := range got.zr.File {
				mg = append(mg, fmt.Sprintf("%s/%d", f.Name, f.Method))
			}
			if !slices.Equal(mw, mg) {
				t.Errorf("members %v, Keras wrote %v", mg, mw)
			}
			if v := got.version(); v != SavedKeras3Version {
				t.Errorf("metadata keras_version %q", v)
			}
			if _, err := time.Parse("2006-01-02@15:04:05", fmt.Sprint(got.metadata["date_saved"])); err != nil {
				t.Errorf("metadata date_saved: %v", err)
			}
			// config.json, as JSON values; Keras's shared_object_id
			// markers (which object instances are shared) are left out.
			var cw, cg any
			if err := json.Unmarshal(want.config, &cw); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got.config, &cg); err != nil {
				t.Fatalf("config.json is not JSON: %v", err)
			}
			dropKey(cw, "shared_object_id")
			if d := jsonDiff("", cw, cg); d != "" {
				t.Errorf("config.json differs from Keras 3's: %s", d)
			}
			// model.weights.h5: the same tree.
			dir := t.TempDir()
			for name, a := range map[string]*kerasArchive{"want.h5": want, "got.h5": got} {
				data, err := a.read("model.weights.h5", 1<<30)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			compareH5Trees(t, filepath.Join(dir, "want.h5"), filepath.Join(dir, "got.h5"))
		})
	}
}

// dropKey removes key from every object in a decoded JSON value.
func dropKey(v any, key string) {
	switch t := v.(type) {
	case map[string]any:
		delete(t, key)
		for _, x := range t {
			dropKey(x, key)
		}
	case []any:
		for _, x := range t {
			dropKey(x, key)
		}
	}
}

// jsonDiff describes the first difference between two decoded JSON values.
func jsonDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: %v, want an object", path, got)
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if _, ok := g[k]; !ok {
				return fmt.Sprintf("%s: key %q missing (want %v)", path, k, w[k])
			}
			if d := jsonDiff(path+"."+k, w[k], g[k]); d != "" {
				return d
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s: extra key %q = %v", path, k, g[k])
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: %v, want %v", path, got, want)
		}
		for i := range w {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("%s: %v, want %v", path, got, want)
	}
	return ""
}

// buildSaveCase builds a case model with its test weights.
func buildSaveCase(t *testing.T, c saveCase) *graph.Model {
	t.Helper()
	m, err := c.build()
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	setSaveWeights(m, 7)
	return m
}

// saveCaseInputs returns deterministic inputs for a model (batch 2).
func saveCaseInputs(m *graph.Model) []*ops.Tensor {
	var ins []*ops.Tensor
	for i, n := range m.Inputs() {
		ins = append(ins, saveTestInput(n.Shape, 2, uint64(i+1)))
	}
	return ins
}

// TestSaveRoundTrip: a model saved and loaded back by this package
// predicts exactly what it predicted before, with the same layers and
// weights.
func TestSaveRoundTrip(t *testing.T) {
	for _, c := range saveCases {
		for _, ext := range []string{".h5", ".keras"} {
			t.Run(c.name+ext, func(t *testing.T) {
				m := buildSaveCase(t, c)
				path := filepath.Join(t.TempDir(), "m"+ext)
				err := Save(m, path)
				if ok := (ext == ".h5" && c.h5) || (ext == ".keras" && c.keras); !ok {
					if err == nil || !strings.Contains(err.Error(), "save as") {
						t.Fatalf("saving %s as %s: want an error naming the other format, got %v", c.name, ext, err)
					}
					if _, serr := os.Stat(path); !os.IsNotExist(serr) {
						t.Errorf("a failed Save left %s behind", path)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				back, err := LoadModel(path)
				if err != nil {
					t.Fatal(err)
				}
				if c.loaderIssue != "" && ext == ".keras" {
					if d := modelDiffs(m, back); len(d) > 0 {
						t.Logf("KNOWN LOADER ISSUE, not a Save bug: %s", c.loaderIssue)
					} else {
						t.Errorf("the loader issue %q seems fixed: remove the note", c.loaderIssue)
					}
					return
				}
				sameModel(t, m, back)
			})
		}
	}
}

// sameModel checks that two models have the same layers, weights and
// predictions (bit for bit).
func sameModel(t *testing.T, want, got *graph.Model) {
	t.Helper()
	for _, d := range modelDiffs(want, got) {
		t.Error(d)
	}
}

// modelDiffs lists the differences between two models: name, layers,
// weights, predictions on saveCaseInputs.
func modelDiffs(want, got *graph.Model) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if got.Name() != want.Name() || got.IsSequential() != want.IsSequential() {
		add("model %q (sequential %v), want %q (%v)", got.Name(), got.IsSequential(), want.Name(), want.IsSequential())
	}
	lw, lg := want.Layers(), got.Layers()
	if len(lw) != len(lg) {
		add("%d layers, want %d", len(lg), len(lw))
		return out
	}
	for i := range lw {
		bw, bg := lw[i].Base(), lg[i].Base()
		if bw.Name() != bg.Name() || bw.Class() != bg.Class() {
			add("layer %d is %s (%s), want %s (%s)", i, bg.Name(), bg.Class(), bw.Name(), bw.Class())
		}
	}
	ww, wg := want.Weights(), got.Weights()
	if len(ww) != len(wg) {
		add("%d weights, want %d", len(wg), len(ww))
		return out
	}
	for i := range ww {
		if !slices.Equal(ww[i].Shape, wg[i].Shape) || !slices.Equal(ww[i].Data, wg[i].Data) {
			add("weight %d (%s %v) differs", i, ww[i].Name, ww[i].Shape)
		}
	}
	ins := saveCaseInputs(want)
	pw, err := want.Predict(ins...)
	if err != nil {
		add("original model: %v", err)
		return out
	}
	pg, err := got.Predict(ins...)
	if err != nil {
		add("saved model: %v", err)
		return out
	}
	for k := range pw {
		if !slices.Equal(pw[k].Shape, pg[k].Shape) || !slices.Equal(pw[k].Data, pg[k].Data) {
			add("output %d differs after the round trip", k)
		}
	}
	return out
}

// TestSaveWeightsRoundTrip: weights saved alone load back into a fresh
// model of the same architecture.
func TestSaveWeightsRoundTrip(t *testing.T) {
	for _, c := range saveCases {
		for _, ext := range []string{".h5", ".weights.h5"} {
			t.Run(c.name+ext, func(t *testing.T) {
				m := buildSaveCase(t, c)
				path := filepath.Join(t.TempDir(), "w"+ext)
				if err := SaveWeights(m, path); err != nil {
					t.Fatal(err)
				}
				fresh, err := c.build()
				if err != nil {
					t.Fatal(err)
				}
				if err := LoadWeights(fresh, path, LoadWeightsOptions{}); err != nil {
					t.Fatal(err)
				}
				sameModel(t, m, fresh)
			})
		}
	}
}

func TestSaveLegacyWeightsLayout(t *testing.T) {
	// Keras's save_weights: layer_names, backend and keras_version at the
	// root, no model_config, the same layer groups as model_weights.
	c := saveCases[0]
	m := buildSaveCase(t, c)
	dir := t.TempDir()
	if err := SaveWeights(m, filepath.Join(dir, "w.h5")); err != nil {
		t.Fatal(err)
	}
	f, err := h5.Open(filepath.Join(dir, "w.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names, _ := f.Root().AttrNames()
	slices.Sort(names)
	if !slices.Equal(names, []string{"backend", "keras_version", "layer_names"}) {
		t.Errorf("root attributes %q", names)
	}
	ln, _ := f.Root().StringList("layer_names")
	var want []string
	for _, l := range m.Layers() {
		want = append(want, l.Base().Name())
	}
	if !slices.Equal(ln, want) {
		t.Errorf("layer_names %q, want %q", ln, want)
	}
	info, err := Inspect(filepath.Join(dir, "w.h5"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != FormatH5Weights || info.KerasVersion != SavedKerasVersion || info.Backend != "tensorflow" {
		t.Errorf("Inspect: format %s, version %q, backend %q", info.Format, info.KerasVersion, info.Backend)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	m := buildSaveCase(t, saveCases[0])
	existing := filepath.Join(dir, "existing.keras")
	if err := os.WriteFile(existing, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	var hs *graph.Model
	for _, c := range saveCases {
		if c.name == "hard_sigmoid_tf2" {
			hs = buildSaveCase(t, c)
		}
	}
	for _, tc := range []struct {
		name    string
		run     func() error
		wantErr string
	}{
		{"nil model", func() error { return Save(nil, filepath.Join(dir, "x.h5")) }, "nil model"},
		{"unknown extension", func() error { return Save(m, filepath.Join(dir, "x.onnx")) }, ".h5 or .hdf5"},
		{"weights as .keras", func() error { return SaveWeights(m, filepath.Join(dir, "x.keras")) }, ".weights.h5"},
		{"directory", func() error { return Save(m, dir+"/sub.h5/") }, ""},
		{"missing folder", func() error { return Save(m, filepath.Join(dir, "no", "such", "x.h5")) }, "no such file"},
		{"is a directory", func() error {
			p := filepath.Join(dir, "adir.h5")
			os.Mkdir(p, 0o755)
			return Save(m, p)
		}, "is a directory"},
		{"untranslatable activation keeps the old file", func() error { return Save(hs, existing) }, `layer "dense": activation hard_sigmoid`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
			if !strings.HasPrefix(err.Error(), "keras: save") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
	if data, _ := os.ReadFile(existing); string(data) != "keep me" {
		t.Errorf("a failed Save changed the existing file")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestPyFloat compares with Python's repr(float) (the values were printed
// by CPython 3.11).
func TestPyFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-2, "-2.0"}, {0.1, "0.1"}, {1.0 / 255, "0.00392156862745098"},
		{0.001, "0.001"}, {0.0001, "0.0001"}, {1e-05, "1e-05"}, {1.5e-07, "1.5e-07"}, {123456789.0, "123456789.0"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {1.2345e16, "1.2345e+16"}, {2.5e-300, "2.5e-300"},
		{float64(float32(0.3)), "0.30000001192092896"}, {float64(float32(0.1)), "0.10000000149011612"},
		{0.99, "0.99"}, {123.456, "123.456"}, {1e22, "1e+22"}, {math.MaxFloat64, "1.7976931348623157e+308"},
		{5e-324, "5e-324"}, {math.Inf(1), "Infinity"}, {math.NaN(), "NaN"},
	} {
		if got := pyFloat(tc.v); got != tc.want {
			t.Errorf("pyFloat(%v) = %q, Python writes %q", tc.v, got, tc.want)
		}
	}
}

// TestPyJSONStrings compares with json.dumps (ensure_ascii=True; the
// expected strings were printed by CPython 3.11).
func TestPyJSONStrings(t *testing.T) {
	for in, want := range map[string]string{
		"conv2d":        `"conv2d"`,
		"a\"b\\c/d":     `"a\"b\\c/d"`,
		"tab\tnl\ncr\r": `"tab\tnl\ncr\r"`,
		"\x01\x1f\x7f":  `"\u0001\u001f\u007f"`,
		"é中":            `"\u00e9\u4e2d"`,
		"😀":             `"\ud83d\ude00"`,
		"<&>":           `"<&>"`,
	} {
		got, err := pyJSON(in)
		if err != nil || got != want {
			t.Errorf("pyJSON(%q) = %s (%v), json.dumps writes %s", in, got, err, want)
		}
	}
	got, _ := pyJSON(obj("a", []any{1, 2.5, nil, true}, "b", pyObj{}, "c", []int{}))
	if want := `{"a": [1, 2.5, null, true], "b": {}, "c": []}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// compatConfig applies to a model_config written by tf.keras the changes
// Save makes so that Keras 3 can read its files too (see the comments in
// save_config.go): no arguments Keras 3 refuses (keras3Rejects),
// BatchNormalization's axis as an integer in entries with a "module" key,
// and a bare [name, node,
// tensor] triple as input_layers / output_layers of a nested model with one
// input / output. Everything else must stay byte for byte as tf.keras wrote
// it, so the JSON is decoded preserving key order and number spelling and
// written again with pyJSON.
func compatConfig(t *testing.T, text string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		t.Fatalf("model_config: %v", err)
	}
	var fix func(v any, nested bool)
	fix = func(v any, nested bool) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				fix(e, nested)
			}
		case pyObj:
			class, _ := x.get("class_name").(string)
			cfg, _ := x.get("config").(pyObj)
			switch class {
			case "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose":
				for i := range x {
					if x[i].k == "config" {
						x[i].v = dropKeras3Rejects(class, cfg)
					}
				}
			case "BatchNormalization":
				if x.get("module") != nil {
					for i := range cfg {
						if a, ok := cfg[i].v.([]any); ok && cfg[i].k == "axis" && len(a) == 1 {
							cfg[i].v = a[0]
						}
					}
				}
			case "Functional", "Model":
				if nested {
					for i := range cfg {
						if l, ok := cfg[i].v.([]any); ok && (cfg[i].k == "input_layers" || cfg[i].k == "output_layers") && len(l) == 1 {
							cfg[i].v = l[0]
						}
					}
				}
			}
			for _, kv := range x {
				fix(kv.v, nested || (kv.k == "layers"))
			}
		}
	}
	top, _ := v.(pyObj)
	fix(top.get("config"), false)
	out, err := pyJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeOrdered decodes JSON into pyObj / []any / string / bool / nil and
// numbers as int (no fraction or exponent) or float64, keeping key order.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			o := pyObj{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o = append(o, pyKV{k.(string), v})
			}
			_, err := dec.Token()
			return o, err
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			_, err := dec.Token()
			return l, err
		}
	case json.Number:
		if !strings.ContainsAny(x.String(), ".eE") {
			n, err := x.Int64()
			return int(n), err
		}
		return x.Float64()
	}
	return tok, nil
}

// goScale is a custom layer (y = factor*x) that can be saved.
type goScale struct {
	graph.LayerBase
	Factor float64
}

func newGoScale(name string, factor float64) *goScale {
	l := &goScale{Factor: factor}
	l.Init(l, "GoScale", name)
	return l
}

func (l *goScale) Build(in []graph.Shape) (graph.Shape, error) { return in[0], nil }

func (l *goScale) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	for i := range out.Data {
		out.Data[i] *= float32(l.Factor)
	}
	return out, nil
}

func (l *goScale) KerasConfig() map[string]any {
	return map[string]any{"factor": l.Factor, "name": "ignored"}
}

func TestSaveCustomLayer(t *testing.T) {
	RegisterLayer("GoScale", func(cfg map[string]any) (graph.Layer, error) {
		f, _ := cfg["factor"].(float64)
		return newGoScale(cfg["name"].(string), f), nil
	})
	defer RegisterLayer("GoScale", nil)
	x := graph.InputNamed("x", 3)
	y := graph.Call(newGoScale("scale", 2.5), x)
	y = graph.Call(graph.Dense(2, graph.Name("dense")), y)
	m, err := graph.NewModel([]*graph.Node{x}, []*graph.Node{y}, "custom")
	if err != nil {
		t.Fatal(err)
	}
	setSaveWeights(m, 3)
	for _, ext := range []string{".h5", ".keras"} {
		path := filepath.Join(t.TempDir(), "m"+ext)
		if err := Save(m, path); err != nil {
			t.Fatal(err)
		}
		back, err := LoadModel(path)
		if err != nil {
			t.Fatal(err)
		}
		sameModel(t, m, back)
	}
	cfg, err := tfModelConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	text, _ := pyJSON(cfg)
	if want := `{"class_name": "GoScale", "config": {"name": "scale", "trainable": true, "dtype": "float32", "factor": 2.5}, "name": "scale"`; !strings.Contains(text, want) {
		t.Errorf("config lacks %s:\n%s", want, text)
	}
	// A layer type without a Keras config is refused, with its name.
	x = graph.InputNamed("x", 3)
	b := &bareLayer{}
	b.Init(b, "Bare", "bare")
	m2, err := graph.NewModel([]*graph.Node{x}, []*graph.Node{graph.Call(b, x)}, "bare_model")
	if err != nil {
		t.Fatal(err)
	}
	err = Save(m2, filepath.Join(t.TempDir(), "b.h5"))
	if err == nil || !strings.Contains(err.Error(), `layer "bare"`) || !strings.Contains(err.Error(), "KerasConfigLayer") {
		t.Errorf("got %v, want an error naming the layer and KerasConfigLayer", err)
	}
}

// bareLayer is a custom layer without KerasConfig.
type bareLayer struct{ graph.LayerBase }

func (l *bareLayer) Build(in []graph.Shape) (graph.Shape, error)   { return in[0], nil }
func (l *bareLayer) Forward(in []*ops.Tensor) (*ops.Tensor, error) { return in[0], nil }
