package keras

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kerago/kerago/internal/reftest"
	"github.com/kerago/kerago/ops"
)

// refManifest is the part of testdata/ref/<case>/manifest.json (written by
// scripts/keras_ref_layers.py with real Keras) that these tests use.
type refManifest struct {
	Case          string   `json:"case"`
	Reference     string   `json:"reference"`
	Keras3Only    bool     `json:"keras3_only"`
	Keras3Outputs []string `json:"keras3_outputs"`
	Inputs        []struct {
		File string `json:"file"`
	} `json:"inputs"`
	Outputs []struct {
		File  string `json:"file"`
		Layer string `json:"layer"`
	} `json:"outputs"`
	Layers []struct {
		Name      string   `json:"name"`
		ClassName string   `json:"class_name"`
		K3Diff    *float64 `json:"keras3_max_abs_diff"`
		Nodes     []struct {
			Outputs []struct {
				File  string `json:"file"`
				Shape []int  `json:"shape"`
			} `json:"outputs"`
		} `json:"nodes"`
	} `json:"layers"`
}

// TestReferenceCases loads the model files of testdata/ref/<case>/
// (model.h5 from tf.keras 2 or Keras 3, model.keras from Keras 3) with this
// package and compares every layer's output (first call) and every model
// output with what real Keras computed.
func TestReferenceCases(t *testing.T) {
	manifests, _ := filepath.Glob("../testdata/ref/*/manifest.json")
	if len(manifests) == 0 {
		t.Skip("no reference cases in ../testdata/ref (scripts/gen_reference.sh makes them): skipping")
	}
	for _, mf := range manifests {
		dir := filepath.Dir(mf)
		var m refManifest
		data, err := os.ReadFile(mf)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", mf, err)
		}
		for _, file := range []string{"model.h5", "model.keras"} {
			path := filepath.Join(dir, file)
			if _, err := os.Stat(path); err != nil {
				continue
			}
			t.Run(m.Case+"/"+file, func(t *testing.T) {
				l, err := Load(path, LoadOptions{})
				if err != nil {
					t.Fatal(err)
				}
				var inputs []*ops.Tensor
				for _, in := range m.Inputs {
					inputs = append(inputs, readNpy(t, filepath.Join(dir, in.File), 0))
				}
				acts, err := l.Model.Activations(inputs)
				if err != nil {
					t.Fatal(err)
				}
				// The per-layer files hold the reference Keras's outputs;
				// for model.keras of a tf_keras case, Keras 3's layers
				// are compared where Keras 3 agrees with tf_keras.
				keras3File := file == "model.keras" && m.Reference != "keras3"
				worst, n, skipped := 0.0, 0, 0
				for _, layer := range m.Layers {
					if len(layer.Nodes) == 0 || len(layer.Nodes[0].Outputs) == 0 {
						continue
					}
					if keras3File && (layer.K3Diff == nil || *layer.K3Diff > 1e-6) {
						skipped++
						continue
					}
					got := acts[layer.Name]
					if got == nil {
						t.Errorf("layer %q: no output", layer.Name)
						continue
					}
					want := readNpy(t, filepath.Join(dir, layer.Nodes[0].Outputs[0].File), 0)
					e, err := reftest.RelErr(got, want)
					if err != nil || e > tolerance {
						t.Errorf("layer %q (%s): error %.3g (%v)", layer.Name, layer.ClassName, e, err)
					}
					worst = max(worst, e)
					n++
				}
				outs, err := l.Model.Predict(inputs...)
				if err != nil {
					t.Fatal(err)
				}
				if len(outs) != len(m.Outputs) {
					t.Fatalf("%d outputs, Keras has %d", len(outs), len(m.Outputs))
				}
				for k, o := range m.Outputs {
					f := o.File
					if keras3File && k < len(m.Keras3Outputs) {
						f = m.Keras3Outputs[k]
					}
					e, err := reftest.RelErr(outs[k], readNpy(t, filepath.Join(dir, f), 0))
					if err != nil || e > tolerance {
						t.Errorf("output %d (%s): error %.3g (%v)", k, o.Layer, e, err)
					}
					worst = max(worst, e)
					n++
				}
				t.Logf("%s/%s (%s): %d arrays, worst relative error %.2g, %d layers skipped (Keras 3 differs from tf_keras)", m.Case, file, l.Info.Era(), n, worst, skipped)
			})
		}
	}
}
