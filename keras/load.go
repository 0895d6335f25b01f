package keras

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras/internal/h5"
)

// Format is the kind of a Keras file.
type Format string

// The file kinds the loaders recognize.
const (
	// FormatH5Model is a legacy HDF5 file written by model.save: root
	// attribute model_config plus the model_weights group (Keras 1, Keras
	// 2, tf.keras 2, and Keras 3's legacy .h5).
	FormatH5Model Format = "h5-model"
	// FormatH5Weights is a legacy HDF5 weights file written by
	// save_weights (Keras 1, 2, tf.keras 2) or distributed as such (the
	// ImageNet VGG16 files): root attribute layer_names, no config.
	FormatH5Weights Format = "h5-weights"
	// FormatKeras is a .keras zip archive (Keras 3, tf.keras 2.13+):
	// metadata.json, config.json and model.weights.h5.
	FormatKeras Format = "keras"
	// FormatKeras3Weights is a Keras 3 .weights.h5 store (save_weights in
	// Keras 3): layers/<class>/vars/<i>, no config.
	FormatKeras3Weights Format = "keras3-weights"
	// FormatJSON is a model config written by model.to_json().
	FormatJSON Format = "json"
)

// LoadOptions tune LoadModel-style loading.
type LoadOptions struct {
	// MaxParamBytes is the parameter budget: configs whose weights would
	// take more float32 bytes are refused before any allocation. 0 means
	// DefaultMaxParamBytes (4e9 bytes, 1e9 parameters).
	MaxParamBytes int64
	// MaxWeightsBytes bounds the size of the weights member of a .keras
	// archive, which is read into memory. 0 means 16 GiB.
	MaxWeightsBytes int64
	// Backend overrides the backend that wrote the weights: "theano"
	// rotates convolution kernels by 180 degrees (Theano computed true
	// convolutions), "tensorflow" never does. Empty means: as recorded in
	// the file, where a Keras 1 file without a backend attribute whose
	// weight names lack TensorFlow's ":0" suffix counts as Theano.
	Backend string
}

// Loaded is a model read from files, with what was learned on the way.
type Loaded struct {
	// Model is the model, ready for Predict.
	Model *graph.Model
	// Info describes the file (for a config plus weights pair, the
	// weights file, with the config's model details).
	Info *FileInfo
	// NHWC lists the layers of a channels_first model whose graph output
	// holds Keras's NCHW output transposed to NHWC. The model's inputs and
	// outputs are always in Keras's layout; see the package documentation.
	NHWC map[string]bool
	// Notes are conversions and assumptions made while loading.
	Notes []string

	lm    *loadedModel
	hints map[graph.Layer]layerHint
}

// LoadModel reads a whole Keras model (architecture and weights) from a
// legacy .h5/.hdf5 file written by model.save (Keras 1.x, 2.x, tf.keras
// 2.x, Keras 3) or from a .keras archive (Keras 3, tf.keras 2.13+).
// Weights-only files need a model: see LoadWeights and LoadModelFromJSON.
func LoadModel(path string) (*graph.Model, error) {
	l, err := Load(path, LoadOptions{})
	if err != nil {
		return nil, err
	}
	return l.Model, nil
}

// LoadModelFromJSON builds the model described by a model.to_json() file
// and loads its weights from weightsPath: a legacy weights .h5 (save_weights
// of Keras 1/2 or tf.keras 2), a full legacy .h5, a Keras 3 .weights.h5, or
// a .keras archive.
func LoadModelFromJSON(configPath, weightsPath string) (*graph.Model, error) {
	l, err := LoadJSON(configPath, weightsPath, LoadOptions{})
	if err != nil {
		return nil, err
	}
	return l.Model, nil
}

// Load is LoadModel with options and details.
func Load(path string, opts LoadOptions) (*Loaded, error) {
	l, err := load(path, opts)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", path, err)
	}
	return l, nil
}

func load(path string, opts LoadOptions) (*Loaded, error) {
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindZip:
		a, err := openKerasZip(path)
		if err != nil {
			return nil, err
		}
		defer a.Close()
		b := newBuilder(opts.MaxParamBytes)
		v, err := decodeJSON(a.config)
		if err != nil {
			return nil, fmt.Errorf("config.json: %w", err)
		}
		f, err := a.weights(opts.MaxWeightsBytes)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b.fileValues = storeValues(f)
		b.detectEra(a.version(), v)
		lm, err := b.modelFromConfig(v)
		if err != nil {
			return nil, err
		}
		t := &weightTarget{model: lm.model, lm: lm, hints: b.hints, strict: true}
		if err := t.loadStore(f, LoadWeightsOptions{}); err != nil {
			return nil, err
		}
		info := &FileInfo{Path: path, Format: FormatKeras, KerasVersion: a.version()}
		info.DateSaved, _ = a.metadata["date_saved"].(string)
		info.HasTrainingConfig = hasCompileConfig(v)
		fillModelInfo(info, v, lm)
		if err := storeWeightInfo(info, f); err != nil {
			return nil, err
		}
		return newLoaded(lm, b, info), nil
	case kindHDF5:
		f, err := h5.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		root := f.Root()
		if ok, _ := root.HasAttr("model_config"); !ok {
			return nil, errNotAModel(f)
		}
		text, err := root.String("model_config")
		if err != nil {
			return nil, fmt.Errorf("reading model_config: %w", err)
		}
		v, err := decodeJSON([]byte(text))
		if err != nil {
			return nil, fmt.Errorf("model_config: %w", err)
		}
		version := attrString(root, "keras_version")
		mw, err := f.Group("model_weights")
		if err != nil {
			return nil, fmt.Errorf("the file has a model_config but no model_weights group: %w", err)
		}
		lf, err := readLegacy(f, mw, opts.Backend)
		if err != nil {
			return nil, fmt.Errorf("model_weights: %w", err)
		}
		b := newBuilder(opts.MaxParamBytes)
		b.fileValues = lf.values()
		b.detectEra(version, v)
		lm, err := b.modelFromConfig(v)
		if err != nil {
			return nil, err
		}
		t := &weightTarget{model: lm.model, lm: lm, hints: b.hints, strict: true}
		if err := t.loadLegacy(lf, LoadWeightsOptions{}); err != nil {
			return nil, err
		}
		info, err := inspectH5(path, f)
		if err != nil {
			return nil, err
		}
		fillModelInfo(info, v, lm)
		l := newLoaded(lm, b, info)
		l.noteEra(lf.era)
		return l, nil
	case kindJSON:
		return nil, errors.New("this is a JSON model config without weights: use keras.LoadModelFromJSON(config, weights), or keras.LoadConfig for the architecture alone")
	}
	return nil, errors.New("not a Keras file: neither HDF5 (.h5, .hdf5, .weights.h5), a .keras zip archive nor JSON")
}

// errNotAModel explains what to do with a weights-only HDF5 file.
func errNotAModel(f *h5.File) error {
	root := f.Root()
	if _, ok := storeContainer(root); ok {
		return errors.New("this is a Keras 3 weights file (.weights.h5) without the model's architecture: build the model " +
			"(in Go, or from its config with keras.LoadConfig) and call keras.LoadWeights, or use keras.LoadModelFromJSON(config, weights)")
	}
	if ok, _ := root.HasAttr("layer_names"); ok {
		return errors.New("this is a weights-only file (written by save_weights, like the ImageNet VGG16 files) without the model's architecture: " +
			"build the model (e.g. with the vgg16 package) and call keras.LoadWeights, or use keras.LoadModelFromJSON(config, weights)")
	}
	return errors.New("the HDF5 file has neither a model_config attribute (model.save) nor weights in a Keras layout")
}

func newLoaded(lm *loadedModel, b *builder, info *FileInfo) *Loaded {
	l := &Loaded{Model: lm.model, Info: info, NHWC: lm.nhwc, lm: lm, hints: b.hints}
	if len(lm.nhwc) > 0 {
		l.Notes = append(l.Notes, "channels_first layers run on NHWC tensors between inserted Permute layers; inputs and outputs keep Keras's NCHW layout")
	}
	l.Notes = append(l.Notes, b.notes...)
	return l
}

func (l *Loaded) noteEra(e era) {
	if e.theano {
		l.Notes = append(l.Notes, "convolution kernels rotated by 180 degrees for the Theano backend ("+e.note+")")
	}
}

// LoadJSON is LoadModelFromJSON with options and details.
func LoadJSON(configPath, weightsPath string, opts LoadOptions) (*Loaded, error) {
	values, err := weightsFileValues(weightsPath, opts.MaxWeightsBytes)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", weightsPath, err)
	}
	l, err := loadConfig(configPath, opts, values)
	if err != nil {
		return nil, err
	}
	info := l.Info
	if err := l.loadWeights(weightsPath, LoadWeightsOptions{Backend: opts.Backend}, opts.MaxWeightsBytes); err != nil {
		return nil, fmt.Errorf("keras: %s: %w", weightsPath, err)
	}
	l.Info.ConfigPath = configPath
	l.Info.ModelClass, l.Info.ModelName, l.Info.Layers = info.ModelClass, info.ModelName, info.Layers
	return l, nil
}

// LoadConfig builds the model described by a model.to_json() file (or any
// file holding a Keras model config as JSON, such as a .keras archive's
// config.json) without weights: Keras's model_from_json. The weights keep
// their initial values (zeros; ones for BatchNormalization's gamma and
// moving variance) until LoadWeights.
func LoadConfig(configPath string, opts LoadOptions) (*Loaded, error) {
	return loadConfig(configPath, opts, -1)
}

// loadConfig is LoadConfig for a config whose weights file stores
// fileValues values (-1: unknown).
func loadConfig(configPath string, opts LoadOptions, fileValues float64) (*Loaded, error) {
	data, err := readLimited(configPath, maxConfigBytes)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	l, err := configFromJSON(data, opts, fileValues)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", configPath, err)
	}
	l.Info.Path = configPath
	return l, nil
}

// ModelFromJSON builds a model from the JSON text of a model config
// (model.to_json(), config.json of a .keras archive, or the model_config
// attribute of an .h5 file), without weights.
func ModelFromJSON(config []byte, opts LoadOptions) (*Loaded, error) {
	l, err := configFromJSON(config, opts, -1)
	if err != nil {
		return nil, fmt.Errorf("keras: %w", err)
	}
	return l, nil
}

func configFromJSON(data []byte, opts LoadOptions, fileValues float64) (*Loaded, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	top, _ := v.(map[string]any)
	version, _ := top["keras_version"].(string)
	backend, _ := top["backend"].(string)
	b := newBuilder(opts.MaxParamBytes)
	b.fileValues = fileValues
	b.detectEra(version, v)
	lm, err := b.modelFromConfig(v)
	if err != nil {
		return nil, err
	}
	info := &FileInfo{Format: FormatJSON, KerasVersion: version, Backend: backend}
	fillModelInfo(info, v, lm)
	return newLoaded(lm, b, info), nil
}

// values counts the values of the weights a legacy file lists (from
// their declared shapes; no data is read). A model whose weights all come
// from the file cannot need more, so the builder refuses configs that do
// before allocating their weights.
func (lf *legacyFile) values() float64 {
	n := 0.0
	for _, l := range lf.layers {
		for _, s := range l.shapes {
			v := 1.0
			for _, d := range s {
				v *= float64(d)
			}
			n += v
		}
	}
	return n
}

// storeValues is legacyFile.values for a Keras 3 weight store: the values
// of every dataset under its layers container. It returns -1 (no bound)
// when the container cannot be walked: no container, nested over 72 deep
// or with over 65536 objects (such as a group cycle made of hard links), or
// unreadable (the loader then reports the error).
func storeValues(f *h5.File) float64 {
	const maxDepth, maxObjects = 2*maxNesting + 8, 1 << 16
	container, ok := storeContainer(f.Root())
	if !ok {
		return -1
	}
	objects := 0
	var walk func(g h5.Group, depth int) (float64, bool)
	walk = func(g h5.Group, depth int) (float64, bool) {
		if depth > maxDepth {
			return 0, false
		}
		ms, err := g.Members()
		if err != nil {
			return 0, false
		}
		total := 0.0
		for _, m := range ms {
			if objects++; objects > maxObjects {
				return 0, false
			}
			switch m.Kind {
			case h5.KindGroup:
				sub, err := g.Group(m.Name)
				if err != nil {
					return 0, false
				}
				v, ok := walk(sub, depth+1)
				if !ok {
					return 0, false
				}
				total += v
			case h5.KindDataset:
				ds, err := g.Dataset(m.Name)
				if err != nil {
					return 0, false
				}
				info, err := ds.Info()
				if err != nil {
					return 0, false
				}
				total += float64(info.Len())
			}
		}
		return total, true
	}
	g, err := f.Group(container)
	if err != nil {
		return -1
	}
	v, ok := walk(g, 0)
	if !ok {
		return -1
	}
	return v
}

// weightsFileValues is the number of weight values a weights file stores
// (-1 if unknown): legacyFile.values or storeValues. Errors are those of
// opening the file.
func weightsFileValues(path string, maxWeightsBytes int64) (float64, error) {
	kind, err := sniff(path)
	if err != nil {
		return -1, err
	}
	var f *h5.File
	switch kind {
	case kindHDF5:
		if f, err = h5.Open(path); err != nil {
			return -1, err
		}
	case kindZip:
		a, err := openKerasZip(path)
		if err != nil {
			return -1, err
		}
		defer a.Close()
		if f, err = a.weights(maxWeightsBytes); err != nil {
			return -1, err
		}
	default:
		return -1, nil
	}
	defer f.Close()
	root := f.Root()
	if _, ok := storeContainer(root); ok {
		return storeValues(f), nil
	}
	g := root
	if ok, _ := root.HasAttr("model_config"); ok {
		if g, err = f.Group("model_weights"); err != nil {
			return -1, nil
		}
	}
	lf, err := readLegacy(f, g, "")
	if err != nil {
		return -1, nil
	}
	return lf.values(), nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than the %d-byte limit for a config", path, limit)
	}
	return data, nil
}

// LoadWeights loads the weights stored at path into model, which must have
// the architecture the weights were saved from (built in Go, like the vgg16
// package's models, or loaded with LoadConfig):
//
//   - legacy .h5 weights files (Keras 1, Keras 2, tf.keras 2: save_weights,
//     or the ImageNet application files) and full legacy .h5 models: as
//     Keras's load_weights, the layers of the model that have weights are
//     paired in order with the file's layers that have weights, unless
//     opts.ByName; counts and shapes must match. Files of Keras 1 (no
//     keras_version attribute) are converted as Keras 2 does.
//   - Keras 3 .weights.h5 files and .keras archives: layers are found by
//     class name and position, as Keras 3 does.
func LoadWeights(model *graph.Model, path string, opts LoadWeightsOptions) error {
	t := &weightTarget{model: model}
	if err := t.loadFile(path, opts, 0); err != nil {
		return fmt.Errorf("keras: %s: %w", path, err)
	}
	return nil
}

// LoadWeights loads weights into a loaded model, using what the loader
// knows about its Keras config (data formats, Keras's layer order).
func (l *Loaded) LoadWeights(path string, opts LoadWeightsOptions) error {
	if err := l.loadWeights(path, opts, 0); err != nil {
		return fmt.Errorf("keras: %s: %w", path, err)
	}
	return nil
}

func (l *Loaded) loadWeights(path string, opts LoadWeightsOptions, maxZip int64) error {
	t := &weightTarget{model: l.Model, lm: l.lm, hints: l.hints}
	if err := t.loadFile(path, opts, maxZip); err != nil {
		return err
	}
	if t.info != nil {
		cfgInfo := l.Info
		l.Info = t.info
		l.Info.ModelClass, l.Info.ModelName, l.Info.Layers = cfgInfo.ModelClass, cfgInfo.ModelName, cfgInfo.Layers
	}
	l.noteEra(t.era)
	return nil
}

// loadFile loads any weights file into t.
func (t *weightTarget) loadFile(path string, opts LoadWeightsOptions, maxZip int64) error {
	kind, err := sniff(path)
	if err != nil {
		return err
	}
	switch kind {
	case kindZip:
		a, err := openKerasZip(path)
		if err != nil {
			return err
		}
		defer a.Close()
		f, err := a.weights(maxZip)
		if err != nil {
			return err
		}
		defer f.Close()
		t.info = &FileInfo{Path: path, Format: FormatKeras, KerasVersion: a.version()}
		return t.loadStore(f, opts)
	case kindHDF5:
		f, err := h5.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		root := f.Root()
		if _, ok := storeContainer(root); ok {
			if has, _ := root.HasAttr("layer_names"); !has {
				t.info = &FileInfo{Path: path, Format: FormatKeras3Weights}
				return t.loadStore(f, opts)
			}
		}
		g := root
		if has, _ := root.HasAttr("layer_names"); !has {
			// A full model file (Keras 3's load_weights descends into
			// model_weights too).
			if g, err = f.Group("model_weights"); err != nil {
				return errors.New("the HDF5 file holds no Keras weights (no layer_names attribute, no model_weights group, no Keras 3 layers group)")
			}
		}
		lf, err := readLegacy(f, g, opts.Backend)
		if err != nil {
			return err
		}
		t.era = lf.era
		if t.info, err = inspectH5(path, f); err != nil {
			return err
		}
		return t.loadLegacy(lf, opts)
	case kindJSON:
		return errors.New("this is a JSON model config, not a weights file")
	}
	return errors.New("not a Keras weights file: neither HDF5 nor a .keras zip archive")
}

// file kinds recognized from the first bytes.
const (
	kindUnknown = iota
	kindHDF5
	kindZip
	kindJSON
)

// sniff recognizes a file from its first bytes (HDF5 may start after a
// user block at 512, 1024, ... bytes; h5.Open looks there).
func sniff(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.IsDir() {
		return 0, errors.New("is a directory (a Keras 3 .keras directory or a TensorFlow SavedModel is not supported; save the model as a .keras file or .h5)")
	}
	var head [8]byte
	n, _ := io.ReadFull(f, head[:])
	b := head[:n]
	switch {
	case n == 0:
		return 0, errors.New("empty file")
	case bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("PK\x05\x06")):
		return kindZip, nil
	case bytes.HasPrefix(b, []byte("\x89HDF\r\n\x1a\n")):
		return kindHDF5, nil
	}
	if t := bytes.TrimLeft(b, " \t\r\n\xef\xbb\xbf"); len(t) > 0 && t[0] == '{' {
		return kindJSON, nil
	}
	// HDF5 with a user block.
	for off := int64(512); off+8 <= st.Size(); off *= 2 {
		if _, err := f.ReadAt(head[:], off); err != nil {
			break
		}
		if bytes.Equal(head[:], []byte("\x89HDF\r\n\x1a\n")) {
			return kindHDF5, nil
		}
	}
	if strings.HasSuffix(strings.ToLower(path), ".keras") {
		return 0, errors.New("not a zip archive, so not a .keras file")
	}
	return kindUnknown, nil
}
