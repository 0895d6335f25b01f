package keras

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

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
