package hostile

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/kerago/kerago/internal/reftest"
	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/ops"
)

// TestConcurrentPredict loads every testdata/ref model (.h5 and .keras:
// every layer type the loader supports, shared layers, nested models, two
// inputs and outputs) and calls Predict on each from 8 goroutines at once,
// 3 times each, checking every output against what Keras computed
// (manifest.json: "outputs" for tf_keras's .h5, "keras3_outputs" for
// .keras) within 1e-5 of max(1, max|keras|), and that the inputs are left
// unchanged. Run with -race (scripts/test.sh does) it also proves the calls
// share no unsynchronised state.
func TestConcurrentPredict(t *testing.T) {
	manifests, err := filepath.Glob(filepath.Join(root, "testdata", "ref", "*", "manifest.json"))
	if err != nil || len(manifests) == 0 {
		t.Fatalf("no testdata/ref cases: %v", err)
	}
	for _, mf := range manifests {
		dir := filepath.Dir(mf)
		var m struct {
			Inputs []struct {
				File string `json:"file"`
			} `json:"inputs"`
			Outputs []struct {
				File string `json:"file"`
			} `json:"outputs"`
			Keras3Outputs []string `json:"keras3_outputs"`
		}
		b, err := os.ReadFile(mf)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		var xs []*ops.Tensor
		for _, in := range m.Inputs {
			x, err := reftest.ReadNpy(filepath.Join(dir, in.File))
			if err != nil {
				t.Fatal(err)
			}
			xs = append(xs, x)
		}
		h5Out := []string{}
		for _, o := range m.Outputs {
			h5Out = append(h5Out, o.File)
		}
		k3Out := m.Keras3Outputs
		if k3Out == nil {
			k3Out = h5Out
		}
		for _, f := range []struct{ file string }{{"model.h5"}, {"model.keras"}} {
			outs := h5Out
			if f.file == "model.keras" {
				outs = k3Out
			}
			name := filepath.Base(dir) + "/" + f.file
			t.Run(name, func(t *testing.T) {
				model, err := keras.LoadModel(filepath.Join(dir, f.file))
				if err != nil {
					t.Fatal(err)
				}
				var want []*ops.Tensor
				for _, o := range outs {
					w, err := reftest.ReadNpy(filepath.Join(dir, o))
					if err != nil {
						t.Fatal(err)
					}
					want = append(want, w)
				}
				before := make([][]float32, len(xs))
				for i, x := range xs {
					before[i] = slices.Clone(x.Data)
				}
				var wg sync.WaitGroup
				errs := make(chan error, 24)
				for g := range 8 {
					wg.Go(func() {
						for call := range 3 {
							ys, err := model.Predict(xs...)
							if err != nil {
								errs <- err
								return
							}
							if err := compare(ys, want); err != nil {
								errs <- fmt.Errorf("goroutine %d, call %d: %w", g, call, err)
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Error(err)
				}
				for i, x := range xs {
					if !slices.Equal(x.Data, before[i]) {
						t.Errorf("input %d changed by Predict", i)
					}
				}
			})
		}
	}
}

// compare checks outputs against Keras's within 1e-5 of max(1, max|want|).
func compare(got, want []*ops.Tensor) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, Keras has %d", len(got), len(want))
	}
	for i := range got {
		if !slices.Equal(got[i].Shape, want[i].Shape) {
			return fmt.Errorf("output %d: shape %v, Keras %v", i, got[i].Shape, want[i].Shape)
		}
		scale := 1.0
		for _, v := range want[i].Data {
			scale = math.Max(scale, math.Abs(float64(v)))
		}
		for j, v := range want[i].Data {
			if d := math.Abs(float64(got[i].Data[j]) - float64(v)); !(d <= 1e-5*scale) {
				return fmt.Errorf("output %d, value %d: %v, Keras %v", i, j, got[i].Data[j], v)
			}
		}
	}
	return nil
}
