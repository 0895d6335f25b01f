package keras

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras/internal/h5"
)

// Writing Keras files.
//
// Save writes what model.save writes, SaveWeights what model.save_weights
// writes, in the format the file name asks for:
//
//   - .h5 / .hdf5: the legacy HDF5 layout of tf.keras 2.x (SavedKerasVersion):
//     root attributes keras_version, backend and model_config, and a
//     model_weights group with layer_names, one group per layer whose
//     weight_names lists datasets such as "conv2d/kernel:0", stored at
//     model_weights/conv2d/conv2d/kernel:0 (string lists as fixed-length
//     strings, "no weights" as an empty float64 array). model_config is the
//     JSON text tf.keras writes for the same model, byte for byte (the
//     Functional or Sequential dialect of tf.keras 2.x: batch_input_shape,
//     "dtype": "float32", inbound nodes [layer, node, tensor, {}],
//     input_layers and output_layers lists), with three exceptions that make
//     the file loadable by Keras 3 as well, where Keras 3 cannot read
//     tf.keras's own files: arguments Keras 3 refuses are left out
//     (keras3Rejects: "groups" of DepthwiseConv2D, SeparableConv2D and
//     Conv2DTranspose, ...; tf.keras reads their absence as the same value),
//     a nested model with one input or output names it with a bare
//     [layer, node, tensor] triple rather than a list of one, and
//     BatchNormalization's axis is an integer inside nested models of a
//     Sequential model. No training_config and no optimizer state: the model
//     is saved for inference.
//   - .keras: the Keras 3 archive (SavedKeras3Version): metadata.json,
//     config.json in the Keras 3 dialect (batch_shape, DTypePolicy objects,
//     "__keras_tensor__" call arguments, build_config; equal as JSON to what
//     Keras 3 writes) and model.weights.h5 with the weights of the k-th layer
//     of class Conv2D under layers/conv2d_k/vars/0, 1, ...
//   - .weights.h5 (SaveWeights only): that Keras 3 weight store alone.
//
// One limit comes from Keras 3 itself: it numbers the calls of a nested
// model from 0 when it reads a legacy .h5 file, tf.keras from 1, so a model
// nested inside a functional (not Sequential) model cannot be read from .h5
// by Keras 3 — neither from tf.keras's files nor from these. tf.keras and
// this package read them; Keras 3 users should take the .keras file.
//
// Activations are written under the name the target dialect uses for the
// same function. Two cannot be translated, because their meaning changed
// between Keras 2 and 3: tf.keras 2's hard_sigmoid (0.2x+0.5, clipped) has
// no Keras 3 name, and Keras 3's hard_sigmoid (relu6(x+3)/6, the graph
// name "hard_sigmoid_keras3") and its Keras-3-only activations
// (leaky_relu, hard_silu, log_sigmoid) have no tf.keras 2 name. Save
// refuses such a model for that format, naming the layer and the format
// that can hold it. (A Keras 3 reader of an .h5 file takes hard_sigmoid in
// its own meaning, as it does for files written by tf.keras itself.)
//
// Layers are written as the Keras layer they implement. Weight initializers
// are written as Keras's defaults (GlorotUniform kernels, zero biases),
// since a Go model does not know them; regularizers and constraints as
// null. An axis argument naming the last axis is written as -1. Models
// loaded from channels_first files are written as the channels_last models
// they run as, the Permute layers the loader inserted included. Custom
// layers can be saved by implementing KerasConfigLayer.
//
// scripts/check_go_saved.py (run by TestSaveLoadsInRealKeras) loads files
// written here in tf_keras and Keras 3 and compares their predictions with
// Go's.

// SavedKerasVersion is the keras_version written into .h5 files: the
// tf.keras release whose file layout and config dialect Save reproduces
// (and against whose files the tests compare).
const SavedKerasVersion = "2.21.0"

// SavedKeras3Version is the keras_version written into .keras archives:
// the Keras 3 release whose config dialect Save reproduces.
const SavedKeras3Version = "3.15.1"

// KerasConfigLayer is implemented by custom layers (see RegisterLayer)
// that can be saved. KerasConfig returns the layer's arguments, which Save
// writes as the layer's config after "name", "trainable" and "dtype" (keys
// in sorted order). The layer's class name is Base().Class(). The values
// must be JSON values: nil, bool, int, float64, string, []any, []int,
// []string or map[string]any.
type KerasConfigLayer interface {
	graph.Layer
	KerasConfig() map[string]any
}

// Save writes model to path as Keras's model.save does, in the format the
// extension selects: ".h5" or ".hdf5" for tf.keras 2.x's legacy HDF5
// format, ".keras" for the Keras 3 archive. An existing file is replaced
// (atomically: a failed Save leaves it as it was).
func Save(model *graph.Model, path string) error {
	if err := save(model, path, false); err != nil {
		return fmt.Errorf("keras: save %s: %w", path, err)
	}
	return nil
}

// SaveWeights writes the model's weights alone, as Keras's
// model.save_weights does: ".h5" or ".hdf5" for the legacy layout of
// tf.keras 2.x (root attributes layer_names, backend, keras_version, one
// group per layer; what LoadWeights and Keras's load_weights read back into
// a model of the same architecture, by layer order), ".weights.h5" for a
// Keras 3 weight store.
func SaveWeights(model *graph.Model, path string) error {
	if err := save(model, path, true); err != nil {
		return fmt.Errorf("keras: save weights %s: %w", path, err)
	}
	return nil
}

func save(model *graph.Model, path string, weightsOnly bool) error {
	if model == nil {
		return errors.New("nil model")
	}
	lower := strings.ToLower(path)
	var write func(tmp string) error
	switch {
	case weightsOnly && strings.HasSuffix(lower, ".weights.h5"):
		write = func(tmp string) error { return writeKeras3Store(model, tmp) }
	case strings.HasSuffix(lower, ".h5") || strings.HasSuffix(lower, ".hdf5"):
		write = func(tmp string) error { return writeLegacyH5(model, tmp, weightsOnly) }
	case !weightsOnly && strings.HasSuffix(lower, ".keras"):
		write = func(tmp string) error { return writeKerasArchive(model, tmp) }
	case weightsOnly:
		return errors.New("the file name must end in .h5 or .hdf5 (tf.keras 2.x legacy weights) or .weights.h5 (Keras 3 weight store)")
	default:
		return errors.New("the file name must end in .h5 or .hdf5 (tf.keras 2.x legacy HDF5) or .keras (Keras 3 archive)")
	}
	// Check the whole model before touching the file system.
	if err := checkSavable(model); err != nil {
		return err
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // no-op after a successful rename
	if err := write(tmpName); err != nil {
		return err
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return err
	}
	return os.Rename(tmpName, path)
}

// checkSavable reports problems that make a model impossible to save in any
// format: unbuilt or unnamed layers, layer kinds without a Keras config.
func checkSavable(m *graph.Model) error {
	return walkModels(m, func(mm *graph.Model) error {
		if mm.Name() == "" {
			return errors.New("a model has an empty name")
		}
		for _, l := range modelLayers(mm) {
			b := l.Base()
			if b.Name() == "" {
				return fmt.Errorf("model %q: a %s layer has an empty name", mm.Name(), b.Class())
			}
			if strings.ContainsRune(b.Name(), 0) || strings.Contains(b.Name(), "/") {
				return fmt.Errorf("layer %q: Keras layer names cannot contain %q", b.Name(), "/")
			}
			if !b.Built() {
				return fmt.Errorf("layer %q (%s) is not built", b.Name(), b.Class())
			}
			if _, ok := l.(*graph.Model); ok {
				continue
			}
			if _, err := classOf(l); err != nil {
				return err
			}
		}
		return nil
	})
}

// walkModels calls fn for m and every model nested in it.
func walkModels(m *graph.Model, fn func(*graph.Model) error) error {
	seen := map[*graph.Model]bool{}
	var walk func(m *graph.Model, depth int) error
	walk = func(m *graph.Model, depth int) error {
		if depth > maxSaveNesting {
			return fmt.Errorf("models nested more than %d deep", maxSaveNesting)
		}
		if seen[m] {
			return nil
		}
		seen[m] = true
		if err := fn(m); err != nil {
			return err
		}
		for _, l := range modelLayers(m) {
			if sub, ok := l.(*graph.Model); ok {
				if err := walk(sub, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(m, 0)
}

const maxSaveNesting = 64

// modelLayers returns every layer of m in Keras's tracking order: the
// InputLayer first for a Sequential model, then model.layers.
func modelLayers(m *graph.Model) []graph.Layer {
	if m.IsSequential() {
		return append([]graph.Layer{m.Inputs()[0].Layer}, m.Layers()...)
	}
	return m.Layers()
}

// ---- weights in Keras's order ----

// legacyWeights returns what tf.keras's _legacy_weights(layer) returns:
// layer.trainable_weights + layer.non_trainable_weights. For a plain layer
// that is its weights in creation order; for a nested model, the trainable
// weights of all its (trainable) layers first, then the others. on says
// whether every model containing l is trainable.
func legacyWeights(l graph.Layer, on bool) []*graph.Weight {
	tr, nt := splitWeights(l, on, 0)
	return dedupWeights(append(tr, nt...))
}

// splitWeights returns layer.trainable_weights and
// layer.non_trainable_weights as tf.keras computes them.
func splitWeights(l graph.Layer, on bool, depth int) (tr, nt []*graph.Weight) {
	on = on && l.Base().Trainable()
	if m, ok := l.(*graph.Model); ok {
		if depth > maxSaveNesting {
			return nil, nil
		}
		for _, c := range modelLayers(m) {
			ctr, cnt := splitWeights(c, on, depth+1)
			if on {
				tr = append(tr, ctr...)
				nt = append(nt, cnt...)
			} else {
				nt = append(nt, ctr...)
				nt = append(nt, cnt...)
			}
		}
		return dedupWeights(tr), dedupWeights(nt)
	}
	ws := l.Base().Weights()
	for _, w := range ws {
		if w.Trainable && on {
			tr = append(tr, w)
		}
	}
	if !on {
		// A frozen layer: _trainable_weights + _non_trainable_weights.
		for _, w := range ws {
			if w.Trainable {
				nt = append(nt, w)
			}
		}
	}
	for _, w := range ws {
		if !w.Trainable {
			nt = append(nt, w)
		}
	}
	return tr, nt
}

func dedupWeights(ws []*graph.Weight) []*graph.Weight {
	seen := make(map[*graph.Weight]bool, len(ws))
	out := ws[:0:0]
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// weightOwners maps every weight of m (nested models included) to the
// name of the layer that created it, which names the TensorFlow variable
// ("conv2d/kernel:0").
func weightOwners(m *graph.Model) map[*graph.Weight]string {
	owners := map[*graph.Weight]string{}
	_ = walkModels(m, func(mm *graph.Model) error {
		for _, l := range modelLayers(mm) {
			if _, ok := l.(*graph.Model); ok {
				continue
			}
			for _, w := range l.Base().Weights() {
				if _, ok := owners[w]; !ok {
					owners[w] = l.Base().Name()
				}
			}
		}
		return nil
	})
	return owners
}

// ---- legacy HDF5 (tf.keras 2.x model.save / save_weights) ----

// writeLegacyH5 writes the tf.keras 2.x legacy layout: save_model_to_hdf5
// (full model) or save_weights_to_hdf5_group at the root (weights only).
func writeLegacyH5(m *graph.Model, path string, weightsOnly bool) (err error) {
	var configJSON string
	if !weightsOnly {
		cfg, err := tfModelConfig(m)
		if err != nil {
			return err
		}
		if configJSON, err = pyJSON(cfg); err != nil {
			return err
		}
	}
	// Weight names and datasets, planned before the file is created.
	owners := weightOwners(m)
	type plannedLayer struct {
		name    string
		names   []string
		weights []*graph.Weight
	}
	var layers []plannedLayer
	for _, l := range m.Layers() {
		pl := plannedLayer{name: l.Base().Name()}
		seen := map[string]bool{}
		for _, w := range legacyWeights(l, m.Trainable()) {
			n := owners[w] + "/" + w.Name + ":0"
			if seen[n] {
				return fmt.Errorf("layer %q: two weights would be stored as %q (nested layers with the same name); rename one", pl.name, n)
			}
			seen[n] = true
			pl.names = append(pl.names, n)
			pl.weights = append(pl.weights, w)
		}
		layers = append(layers, pl)
	}
	for i := range layers {
		for j := range i {
			if layers[i].name == layers[j].name {
				return fmt.Errorf("two layers are named %q", layers[i].name)
			}
		}
		if layers[i].name == "top_level_model_weights" {
			return errors.New(`a layer named "top_level_model_weights" clashes with the group Keras writes for model-level weights`)
		}
	}

	f, err := h5.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	root := f.Root()
	g := root
	if !weightsOnly {
		// Keras sets these from Python str values (UTF-8) and the config
		// from bytes (ASCII).
		if err := root.SetString("keras_version", SavedKerasVersion, h5.UTF8); err != nil {
			return err
		}
		if err := root.SetString("backend", "tensorflow", h5.UTF8); err != nil {
			return err
		}
		if err := root.SetString("model_config", configJSON, h5.ASCII); err != nil {
			return err
		}
		if g, err = root.CreateGroup("model_weights"); err != nil {
			return err
		}
	}
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.name
	}
	if len(names) == 0 {
		err = g.SetEmptyFloat64("layer_names")
	} else {
		err = g.SetStringList("layer_names", names)
	}
	if err != nil {
		return err
	}
	if err := g.SetString("backend", "tensorflow", h5.ASCII); err != nil {
		return err
	}
	if err := g.SetString("keras_version", SavedKerasVersion, h5.ASCII); err != nil {
		return err
	}
	// Keras creates the groups in sorted name order.
	sorted := append([]plannedLayer(nil), layers...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, l := range sorted {
		lg, err := g.CreateGroup(l.name)
		if err != nil {
			return err
		}
		if err := setWeightNames(lg, l.names); err != nil {
			return err
		}
		for i, w := range l.weights {
			if _, err := lg.WriteFloat32(l.names[i], w.Data, w.Shape); err != nil {
				return err
			}
		}
	}
	top, err := g.CreateGroup("top_level_model_weights")
	if err != nil {
		return err
	}
	return top.SetEmptyFloat64("weight_names")
}

// setWeightNames writes a weight_names attribute: Keras's chunked
// fixed-length strings, or an empty float64 array for no weights.
func setWeightNames(g h5.Group, names []string) error {
	if len(names) == 0 {
		return g.SetEmptyFloat64("weight_names")
	}
	return g.SetStringList("weight_names", names)
}
