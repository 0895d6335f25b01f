// Package trainingconfig reads the compile settings a Keras model file was
// saved with: the loss, its options and the metrics of model.compile(...).
//
// Keras keeps them next to the model: a legacy .h5 file (model.save in
// Keras 1, 2, tf.keras 2 and Keras 3) has a root attribute
// training_config, a JSON object with "loss", "metrics" and
// "optimizer_config"; a .keras archive (Keras 3, tf.keras 2.13+) has a
// "compile_config" object in its config.json. The loss is written in
// several dialects, all understood here:
//
//	"binary_crossentropy"                                       a function name
//	{"class_name": "BinaryCrossentropy", "config": {...}}        a loss object (tf.keras 2)
//	{"module": "keras.losses", "class_name": "BinaryCrossentropy", ...}  (Keras 3)
//	{"class_name": "function", "config": "binary_crossentropy"}  a function reference (Keras 3)
//
// A command such as `vgg16 evaluate` uses it to compute the loss the model
// was trained with, the way model.evaluate would.
package trainingconfig

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/kerago/kerago/keras/internal/h5"
)

// ErrNoTrainingConfig is returned for a model file saved without compile
// settings (an uncompiled model, include_optimizer=False, a JSON config or
// a weights file).
var ErrNoTrainingConfig = errors.New("the file has no training config (was the model compiled before saving?)")

// Config is a model's compile settings.
type Config struct {
	// Loss is the loss as Keras's function name: "binary_crossentropy",
	// "categorical_crossentropy", "sparse_categorical_crossentropy",
	// "mean_squared_error", ... (class names and aliases such as
	// "BinaryCrossentropy" or "bce" are normalised to it).
	Loss string
	// FromLogits and LabelSmoothing are the loss object's options (false
	// and 0 for a loss given by name).
	FromLogits     bool
	LabelSmoothing float64
	// Metrics are the metric names, in order ("accuracy", ...).
	Metrics []string
	// Optimizer is the optimizer's class name or string ("adam", "Adam").
	Optimizer string
	// JSON is the whole training_config (or compile_config) object.
	JSON []byte
}

// Read returns the compile settings of a Keras model file (.h5/.hdf5 or
// .keras), or ErrNoTrainingConfig.
func Read(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("training config: %w", err)
	}
	var head [8]byte
	n, _ := io.ReadFull(f, head[:])
	f.Close()
	var data []byte
	switch {
	case n >= 4 && string(head[:4]) == "PK\x03\x04":
		data, err = compileConfig(path)
	case n == 8 && string(head[:]) == "\x89HDF\r\n\x1a\n":
		data, err = h5TrainingConfig(path)
	default:
		err = ErrNoTrainingConfig
	}
	if err != nil {
		return nil, fmt.Errorf("training config of %s: %w", path, err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("training config of %s: %w", path, err)
	}
	return c, nil
}

func h5TrainingConfig(path string) ([]byte, error) {
	f, err := h5.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	root := f.Root()
	if ok, err := root.HasAttr("training_config"); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrNoTrainingConfig
	}
	s, err := root.String("training_config")
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// compileConfig reads config.json's compile_config from a .keras archive.
func compileConfig(path string) ([]byte, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer z.Close()
	for _, m := range z.File {
		if m.Name != "config.json" {
			continue
		}
		const limit = 256 << 20
		if m.UncompressedSize64 > limit {
			return nil, fmt.Errorf("config.json is %d bytes, over %d", m.UncompressedSize64, limit)
		}
		r, err := m.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(r, limit))
		r.Close()
		if err != nil {
			return nil, err
		}
		var cfg struct {
			Compile json.RawMessage `json:"compile_config"`
		}
		if err := json.Unmarshal(data, &cfg); err != nil {
			return nil, fmt.Errorf("config.json: %w", err)
		}
		if len(cfg.Compile) == 0 || string(cfg.Compile) == "null" {
			return nil, ErrNoTrainingConfig
		}
		return cfg.Compile, nil
	}
	return nil, errors.New("no config.json in the archive")
}

// Parse reads a training_config or compile_config JSON object.
func Parse(data []byte) (*Config, error) {
	var raw struct {
		Loss      json.RawMessage `json:"loss"`
		Metrics   json.RawMessage `json:"metrics"`
		Optimizer json.RawMessage `json:"optimizer"`
		OptConfig json.RawMessage `json:"optimizer_config"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	c := &Config{JSON: bytes.Clone(data)}
	if err := c.parseLoss(raw.Loss); err != nil {
		return nil, err
	}
	var metrics any
	if len(raw.Metrics) > 0 {
		if err := json.Unmarshal(raw.Metrics, &metrics); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	c.Metrics = metricNames(metrics, nil)
	opt := raw.Optimizer
	if len(opt) == 0 || string(opt) == "null" {
		opt = raw.OptConfig
	}
	c.Optimizer = nameOf(opt)
	return c, nil
}

func (c *Config) parseLoss(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		c.Loss = normalize(s)
		return nil
	}
	var obj struct {
		ClassName string          `json:"class_name"`
		Config    json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil || obj.ClassName == "" {
		return fmt.Errorf("loss %s: one loss per model is supported (a name or a loss object), not a list or a per-output dict", clip(raw))
	}
	if obj.ClassName == "function" {
		if err := json.Unmarshal(obj.Config, &s); err != nil {
			return fmt.Errorf("loss %s: function reference without a name", clip(raw))
		}
		c.Loss = normalize(s)
		return nil
	}
	c.Loss = normalize(obj.ClassName)
	var opts struct {
		FromLogits     bool    `json:"from_logits"`
		LabelSmoothing float64 `json:"label_smoothing"`
	}
	if len(obj.Config) > 0 && string(obj.Config) != "null" {
		if err := json.Unmarshal(obj.Config, &opts); err != nil {
			return fmt.Errorf("loss %s: config: %w", clip(raw), err)
		}
	}
	c.FromLogits, c.LabelSmoothing = opts.FromLogits, opts.LabelSmoothing
	return nil
}

var lossNames = map[string]string{
	"binary_crossentropy": "binary_crossentropy", "bce": "binary_crossentropy", "binarycrossentropy": "binary_crossentropy",
	"categorical_crossentropy": "categorical_crossentropy", "cce": "categorical_crossentropy", "categoricalcrossentropy": "categorical_crossentropy",
	"sparse_categorical_crossentropy": "sparse_categorical_crossentropy", "sparsecategoricalcrossentropy": "sparse_categorical_crossentropy",
	"mse": "mean_squared_error", "mean_squared_error": "mean_squared_error", "meansquarederror": "mean_squared_error",
	"mae": "mean_absolute_error", "mean_absolute_error": "mean_absolute_error", "meanabsoluteerror": "mean_absolute_error",
}

func normalize(s string) string {
	if n, ok := lossNames[strings.ToLower(s)]; ok {
		return n
	}
	return s
}

// metricNames flattens tf.keras's nested metric lists; a metric object
// contributes its config's name.
func metricNames(v any, out []string) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, x := range v {
			out = metricNames(x, out)
		}
	case map[string]any:
		if cfg, ok := v["config"].(map[string]any); ok {
			if n, ok := cfg["name"].(string); ok {
				return append(out, n)
			}
		}
		if n, ok := v["class_name"].(string); ok {
			return append(out, n)
		}
		keys := make([]string, 0, len(v)) // a per-output dict
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = metricNames(v[k], out)
		}
	}
	return out
}

func nameOf(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		ClassName string `json:"class_name"`
	}
	json.Unmarshal(raw, &obj)
	return obj.ClassName
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}
