package trainingconfig

import (
	"errors"
	"os"
	"slices"
	"testing"
)

// Files written by real Keras: the committed Exercise 5 fixtures
// (scripts/train_exercise5.py, tf.keras 2.21) and, when the shared corpus is
// there, files from other projects and Keras versions. The expected values
// were read with h5py / zipfile from the same files.
func TestReadKerasFiles(t *testing.T) {
	cases := []struct {
		path, loss string
		metrics    []string
		optimizer  string
		fromLogits bool
		shared     bool
	}{
		{"../../testdata/exercise5/exercise5.h5", "binary_crossentropy", []string{"accuracy"}, "Custom>Adam", false, false},
		{"../../testdata/exercise5/tiny_sparse_categorical_crossentropy.h5", "sparse_categorical_crossentropy", []string{"accuracy"}, "Custom>Adam", false, false},
		{"../../../shared/keras-corpus/keras3/gosolna_mnist_cnn.keras", "sparse_categorical_crossentropy", []string{"accuracy"}, "Adam", false, true},
		{"../../../shared/keras-corpus/keras3/aryan_denoise_autoencoder.keras", "binary_crossentropy", nil, "adam", false, true},
		{"../../../shared/keras-corpus/keras3/himal_mnist_cnn.h5", "categorical_crossentropy", []string{"accuracy"}, "", false, true},
		{"../../../shared/keras-corpus/keras1/dl4j_k1_batchnorm_conv2d_tf.h5", "mean_squared_error", nil, "SGD", false, true},
		{"../../../shared/keras-corpus/tfkeras/mlperftiny_str_ww_ref_model.h5", "categorical_crossentropy", nil, "", false, true},
	}
	for _, c := range cases {
		if c.shared {
			if _, err := os.Stat(c.path); err != nil {
				t.Logf("skipping %s: shared corpus absent (%v)", c.path, err)
				continue
			}
		}
		got, err := Read(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if got.Loss != c.loss || got.FromLogits != c.fromLogits {
			t.Errorf("%s: loss %q from_logits %v, want %q %v", c.path, got.Loss, got.FromLogits, c.loss, c.fromLogits)
		}
		if c.metrics != nil && !slices.Equal(got.Metrics, c.metrics) {
			t.Errorf("%s: metrics %q, want %q", c.path, got.Metrics, c.metrics)
		}
		if c.optimizer != "" && got.Optimizer != c.optimizer {
			t.Errorf("%s: optimizer %q, want %q", c.path, got.Optimizer, c.optimizer)
		}
	}
}

func TestParseDialects(t *testing.T) {
	for _, c := range []struct {
		json, loss string
		logits     bool
		smooth     float64
	}{
		{`{"loss": "bce"}`, "binary_crossentropy", false, 0},
		{`{"loss": {"class_name": "BinaryCrossentropy", "config": {"from_logits": true, "label_smoothing": 0.1}}}`, "binary_crossentropy", true, 0.1},
		{`{"loss": {"module": "keras.losses", "class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": false}, "registered_name": null}}`, "sparse_categorical_crossentropy", false, 0},
		{`{"loss": {"module": "builtins", "class_name": "function", "config": "categorical_crossentropy", "registered_name": "function"}}`, "categorical_crossentropy", false, 0},
		{`{"loss": "my_custom_loss"}`, "my_custom_loss", false, 0},
	} {
		got, err := Parse([]byte(c.json))
		if err != nil || got.Loss != c.loss || got.FromLogits != c.logits || got.LabelSmoothing != c.smooth {
			t.Errorf("%s: %+v %v", c.json, got, err)
		}
	}
	for _, bad := range []string{`{"loss": ["a", "b"]}`, `{"loss": {"out1": "mse"}}`, `not json`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	got, err := Parse([]byte(`{"metrics": {"b": ["mae"], "a": [{"class_name": "MeanMetricWrapper", "config": {"name": "acc"}}]}}`))
	if err != nil || !slices.Equal(got.Metrics, []string{"acc", "mae"}) {
		t.Errorf("per-output metrics: %v %v", got, err)
	}
}

func TestReadWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/m.json"
	os.WriteFile(p, []byte(`{"class_name": "Sequential"}`), 0o644)
	if _, err := Read(p); !errors.Is(err, ErrNoTrainingConfig) {
		t.Errorf("JSON config: %v", err)
	}
	if _, err := Read(dir + "/missing.h5"); err == nil {
		t.Error("missing file accepted")
	}
	w := "../../../shared/keras-corpus/keras3/himal_mnist_weights.weights.h5"
	if _, err := os.Stat(w); err == nil {
		if _, err := Read(w); !errors.Is(err, ErrNoTrainingConfig) {
			t.Errorf("weights file: %v", err)
		}
	}
}
