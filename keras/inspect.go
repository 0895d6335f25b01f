package keras

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras/internal/h5"
)

// FileInfo describes a Keras file: who wrote it, what kind it is, and the
// model or weights in it.
type FileInfo struct {
	// Path is the file (for LoadJSON, the weights file; ConfigPath is
	// the config).
	Path       string
	ConfigPath string
	Format     Format
	// KerasVersion is the keras_version attribute (metadata.json's for
	// .keras archives, the "keras_version" key of a JSON config); empty
	// when the writer did not record it, which means Keras 1.
	KerasVersion string
	// Backend is the backend attribute ("tensorflow", "theano", ...),
	// empty when not recorded.
	Backend string
	// DateSaved is metadata.json's date_saved (.keras archives).
	DateSaved string
	// ModelClass is the model config's class_name: "Sequential", "Model"
	// (Keras 1 to tf.keras 2.3) or "Functional"; empty without a config.
	ModelClass string
	ModelName  string
	// Layers lists the model's layers in Keras's order (with a config), or
	// the file's weight groups (weights-only files).
	Layers []LayerInfo
	// HasTrainingConfig reports a training_config attribute (legacy .h5)
	// or compile_config (.keras).
	HasTrainingConfig bool
	// OptimizerWeights is the number of stored optimizer variables.
	OptimizerWeights int

	layerPaths []string // Keras 3 store group names of Layers (under the container)
}

// Era names the Keras generation that wrote the file, from KerasVersion
// and Format: "Keras 1", "Keras 2", "tf.keras 2", "Keras 3" (or "Keras 3
// (version not recorded)" for Keras 3 weight stores).
func (fi *FileInfo) Era() string {
	v := fi.KerasVersion
	switch {
	case v == "" && fi.Format == FormatKeras3Weights:
		return "Keras 3 (version not recorded)"
	case v == "" && fi.Format == FormatJSON:
		return "unknown (version not recorded)"
	case v == "":
		return "Keras 1 (version not recorded)"
	case strings.HasPrefix(v, "1"):
		return "Keras 1"
	case strings.HasPrefix(v, "3"):
		return "Keras 3"
	case strings.HasSuffix(v, "-tf") || fi.Format == FormatKeras || versionAtLeast(v, 2, 4):
		return "tf.keras 2"
	case strings.HasPrefix(v, "2"):
		return "Keras 2"
	}
	return "Keras " + v
}

// versionAtLeast compares a "major.minor..." version string.
func versionAtLeast(v string, major, minor int) bool {
	var a, b int
	if _, err := fmt.Sscanf(v, "%d.%d", &a, &b); err != nil {
		return false
	}
	return a > major || (a == major && b >= minor)
}

// LayerInfo describes one layer.
type LayerInfo struct {
	Name  string
	Class string
	// OutputShape is the Keras output shape without the batch dimension
	// (-1 for None), nil when unknown (weights-only files).
	OutputShape []int
	Weights     []WeightInfo
}

// WeightInfo describes one weight: its stored name and shape.
type WeightInfo struct {
	Name  string
	Shape []int
}

// Inspect describes a Keras file without loading its weights' values:
// legacy .h5 (full model or weights), .keras archive, Keras 3 .weights.h5,
// or JSON config. For files with a config the model is built (to know the
// output shapes); weight shapes are read from the file.
func Inspect(path string) (*FileInfo, error) {
	fi, err := inspect(path)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", path, err)
	}
	return fi, nil
}

func inspect(path string) (*FileInfo, error) {
	kind, err := sniff(path)
	if err != nil {
		return nil, err
	}
	switch kind {
	case kindJSON:
		l, err := LoadConfig(path, LoadOptions{})
		if err != nil {
			return nil, err
		}
		return l.Info, nil
	case kindZip:
		a, err := openKerasZip(path)
		if err != nil {
			return nil, err
		}
		defer a.Close()
		v, err := decodeJSON(a.config)
		if err != nil {
			return nil, fmt.Errorf("config.json: %w", err)
		}
		f, err := a.weights(0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		b := newBuilder(0)
		b.fileValues = storeValues(f)
		b.detectEra(a.version(), v)
		lm, err := b.modelFromConfig(v)
		if err != nil {
			return nil, err
		}
		fi := &FileInfo{Path: path, Format: FormatKeras, KerasVersion: a.version()}
		fi.DateSaved, _ = a.metadata["date_saved"].(string)
		fi.HasTrainingConfig = hasCompileConfig(v)
		fillModelInfo(fi, v, lm)
		if err := storeWeightInfo(fi, f); err != nil {
			return nil, err
		}
		return fi, nil
	case kindHDF5:
		f, err := h5.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		fi, err := inspectH5(path, f)
		if err != nil {
			return nil, err
		}
		root := f.Root()
		if fi.Format == FormatH5Model {
			text, err := root.String("model_config")
			if err != nil {
				return nil, err
			}
			v, err := decodeJSON([]byte(text))
			if err != nil {
				return nil, fmt.Errorf("model_config: %w", err)
			}
			b := newBuilder(0)
			if g, err := f.Group("model_weights"); err == nil {
				if lf, err := readLegacy(f, g, ""); err == nil {
					b.fileValues = lf.values()
				}
			}
			b.detectEra(fi.KerasVersion, v)
			lm, err := b.modelFromConfig(v)
			if err != nil {
				return nil, err
			}
			fillModelInfo(fi, v, lm)
		}
		switch fi.Format {
		case FormatH5Model, FormatH5Weights:
			g := root
			if fi.Format == FormatH5Model {
				if g, err = f.Group("model_weights"); err != nil {
					return nil, err
				}
			}
			lf, err := readLegacy(f, g, "")
			if err != nil {
				return nil, err
			}
			byName := map[string]*legacyLayer{}
			for _, l := range lf.layers {
				byName[l.name] = l
			}
			if fi.Layers == nil {
				for _, l := range lf.layers {
					fi.Layers = append(fi.Layers, LayerInfo{Name: l.name})
				}
			}
			for i := range fi.Layers {
				if l := byName[fi.Layers[i].Name]; l != nil {
					fi.Layers[i].Weights = nil
					for j, n := range l.names {
						fi.Layers[i].Weights = append(fi.Layers[i].Weights, WeightInfo{Name: n, Shape: l.shapes[j]})
					}
				}
			}
		case FormatKeras3Weights:
			if err := storeWeightInfo(fi, f); err != nil {
				return nil, err
			}
		}
		return fi, nil
	}
	return nil, errors.New("not a Keras file")
}

// inspectH5 reads the root attributes of a legacy or Keras 3 HDF5 file.
func inspectH5(path string, f *h5.File) (*FileInfo, error) {
	root := f.Root()
	fi := &FileInfo{Path: path}
	hasConfig, _ := root.HasAttr("model_config")
	hasNames, _ := root.HasAttr("layer_names")
	_, isStore := storeContainer(root)
	switch {
	case hasConfig:
		fi.Format = FormatH5Model
	case hasNames:
		fi.Format = FormatH5Weights
	case isStore:
		fi.Format = FormatKeras3Weights
	default:
		if k, _ := root.Kind("model_weights"); k == h5.KindGroup {
			fi.Format = FormatH5Weights
		} else {
			return nil, errors.New("the HDF5 file holds no Keras model or weights (no model_config, layer_names or layers group)")
		}
	}
	fi.KerasVersion = attrString(root, "keras_version")
	fi.Backend = attrString(root, "backend")
	if fi.KerasVersion == "" || fi.Backend == "" {
		if g, err := f.Group("model_weights"); err == nil {
			if fi.KerasVersion == "" {
				fi.KerasVersion = attrString(g, "keras_version")
			}
			if fi.Backend == "" {
				fi.Backend = attrString(g, "backend")
			}
		}
	}
	fi.HasTrainingConfig, _ = root.HasAttr("training_config")
	if g, err := f.Group("optimizer_weights"); err == nil {
		if names, err := g.StringList("weight_names"); err == nil {
			fi.OptimizerWeights = len(names)
		}
	}
	if fi.Format == FormatKeras3Weights {
		if g, err := f.Group("optimizer/vars"); err == nil {
			if ms, err := g.Members(); err == nil {
				fi.OptimizerWeights = len(ms)
			}
		}
	}
	return fi, nil
}

// storeWeightInfo fills the weights of a Keras 3 store: into the config's
// layers when they are known, else as one entry per vars group.
func storeWeightInfo(fi *FileInfo, f *h5.File) error {
	root := f.Root()
	container, ok := storeContainer(root)
	if !ok {
		return errors.New("no layers group")
	}
	if g, err := f.Group("optimizer/vars"); err == nil {
		if ms, err := g.Members(); err == nil {
			fi.OptimizerWeights = len(ms)
		}
	}
	// Walk the vars groups in store order.
	var walk func(prefix string, depth int) ([]LayerInfo, error)
	walk = func(prefix string, depth int) ([]LayerInfo, error) {
		if depth > maxNesting {
			return nil, errors.New("weight store nested too deeply")
		}
		g, err := f.Group(prefix)
		if err != nil {
			return nil, err
		}
		ms, err := g.Members()
		if err != nil {
			return nil, err
		}
		var out []LayerInfo
		for _, m := range ms {
			if m.Kind != h5.KindGroup {
				continue
			}
			p := prefix + "/" + m.Name
			li := LayerInfo{Name: p}
			if vg, err := f.Group(p + "/vars"); err == nil {
				if n := attrString(vg, "name"); n != "" {
					li.Class = "(layer " + n + ")"
				}
				vs, _ := vg.Members()
				for i := 0; i < len(vs); i++ {
					ds, err := vg.Dataset(fmt.Sprint(i))
					if err != nil {
						break
					}
					info, err := ds.Info()
					if err != nil {
						return nil, err
					}
					li.Weights = append(li.Weights, WeightInfo{Name: fmt.Sprintf("%s/vars/%d", p, i), Shape: info.Shape})
				}
			}
			out = append(out, li)
			if k, _ := f.Kind(p + "/" + container); k == h5.KindGroup {
				sub, err := walk(p+"/"+container, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, sub...)
			}
		}
		return out, nil
	}
	groups, err := walk(container, 0)
	if err != nil {
		return err
	}
	if fi.Layers == nil {
		fi.Layers = groups
		return nil
	}
	byPath := map[string]LayerInfo{}
	for _, g := range groups {
		byPath[g.Name] = g
	}
	for i := range fi.Layers {
		if i < len(fi.layerPaths) {
			if g, ok := byPath[container+"/"+fi.layerPaths[i]]; ok {
				fi.Layers[i].Weights = g.Weights
			}
		}
	}
	return nil
}

// fillModelInfo describes the model built from config v.
func fillModelInfo(fi *FileInfo, v any, lm *loadedModel) {
	top, _ := v.(map[string]any)
	fi.ModelClass, _ = top["class_name"].(string)
	fi.ModelName = lm.model.Name()
	fi.Layers = nil
	fi.layerPaths = nil
	layers, classes := (&weightTarget{}).layersOf(lm.model, lm)
	used := map[string]int{}
	for i, l := range layers {
		li := LayerInfo{Name: l.Base().Name(), Class: classes[i]}
		if out := l.Base().Output(); out != nil {
			li.OutputShape = kerasShape(out, lm)
		}
		if sub, ok := l.(*graph.Model); ok {
			li.OutputShape = []int(sub.Outputs()[0].Shape)
		}
		for _, w := range layerWeights(l) {
			li.Weights = append(li.Weights, WeightInfo{Name: w.Name, Shape: w.Shape})
		}
		fi.Layers = append(fi.Layers, li)
		name := snakeCase(classes[i])
		if n, ok := used[name]; ok {
			used[name] = n + 1
			name = fmt.Sprintf("%s_%d", name, n+1)
		} else {
			used[name] = 0
		}
		fi.layerPaths = append(fi.layerPaths, name)
	}
}

// kerasShape returns the Keras-layout shape of a layer's first output.
func kerasShape(n *graph.Node, lm *loadedModel) []int {
	s := append([]int(nil), n.Shape...)
	if lm.nhwc[n.Layer.Base().Name()] && len(s) == 3 {
		return []int{s[2], s[0], s[1]}
	}
	return s
}

// hasCompileConfig reports whether a .keras config records a compiled model:
// Keras 3 writes "compile_config": {} (or null) for one never compiled.
func hasCompileConfig(v any) bool {
	top, ok := v.(map[string]any)
	if !ok {
		return false
	}
	cc, ok := top["compile_config"].(map[string]any)
	return ok && len(cc) > 0
}
