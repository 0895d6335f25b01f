package keras

import (
	"archive/zip"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras/internal/h5"
)

// The Keras 3 side of Save: .keras archives and .weights.h5 stores.

// writeKerasArchive writes a .keras zip as Keras 3's saving_lib does:
// STORED members metadata.json, config.json and model.weights.h5.
func writeKerasArchive(m *graph.Model, path string) (err error) {
	cfg, err := k3ModelEntry(m, true, m.Trainable(), 0)
	if err != nil {
		return err
	}
	config, err := pyJSON(cfg)
	if err != nil {
		return err
	}
	meta, err := pyJSON(obj("keras_version", SavedKeras3Version, "date_saved", time.Now().Format("2006-01-02@15:04:05")))
	if err != nil {
		return err
	}
	// The weight store is written by libhdf5 to a file first.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".model.weights.*.h5")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	if err := writeKeras3Store(m, tmpName); err != nil {
		return err
	}

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	now := time.Now()
	for _, member := range []struct {
		name string
		data []byte
	}{{"metadata.json", []byte(meta)}, {"config.json", []byte(config)}} {
		// Raw STORED members with sizes and CRC in the local header, as
		// Python's zipfile writes them (no data descriptors).
		n := uint64(len(member.data))
		w, err := zw.CreateRaw(&zip.FileHeader{Name: member.name, Method: zip.Store, Modified: now,
			CRC32: crc32.ChecksumIEEE(member.data), CompressedSize64: n, UncompressedSize64: n})
		if err != nil {
			return err
		}
		if _, err := w.Write(member.data); err != nil {
			return err
		}
	}
	// The weights are streamed from the temporary file (they can be
	// gigabytes): a first pass for the CRC, as Python's zipfile writes it
	// in the local header, then the copy.
	wf, err := os.Open(tmpName)
	if err != nil {
		return err
	}
	defer wf.Close()
	crc := crc32.NewIEEE()
	size, err := io.Copy(crc, wf)
	if err != nil {
		return err
	}
	if _, err := wf.Seek(0, io.SeekStart); err != nil {
		return err
	}
	hdr := &zip.FileHeader{Name: "model.weights.h5", Method: zip.Store, CRC32: crc.Sum32(),
		CompressedSize64: uint64(size), UncompressedSize64: uint64(size)}
	hdr.Modified = now
	w, err := zw.CreateRaw(hdr)
	if err != nil {
		return err
	}
	if n, err := io.Copy(w, wf); err != nil {
		return err
	} else if n != size {
		return fmt.Errorf("weights file changed while being copied (%d of %d bytes)", n, size)
	}
	return zw.Close()
}

// k3Module returns the module, registered name, build_config presence and
// call kwargs Keras 3.15 writes for a layer class.
func k3Traits(l graph.Layer, class string) (module string, registered any, build bool, kwargs pyObj) {
	module, kwargs = "keras.layers", pyObj{}
	switch class {
	case "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "Dense", "PReLU", "BatchNormalization",
		"Flatten", "Permute", "UpSampling2D", "ZeroPadding2D", "Cropping2D", "Rescaling",
		"Add", "Multiply", "Average", "Maximum", "Minimum", "Subtract", "Concatenate":
		build = true
	}
	switch class {
	case "Softmax", "BatchNormalization", "Functional", "Sequential":
		kwargs = obj("mask", nil)
	case "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout":
		kwargs = obj("training", false)
	}
	switch class {
	case "Functional":
		module, registered = "keras.src.models.functional", "Functional"
	case "Sequential":
		module = "keras"
	}
	if _, ok := l.(KerasConfigLayer); ok {
		module, registered, build = "", "Custom>"+class, true
	}
	return module, registered, build, kwargs
}

// k3ModelEntry serializes a model as serialization_lib.serialize_keras_object
// does: {module, class_name, config, registered_name, build_config,
// compile_config}.
func k3ModelEntry(m *graph.Model, top, on bool, depth int) (pyObj, error) {
	if depth > maxSaveNesting {
		return nil, fmt.Errorf("models nested more than %d deep", maxSaveNesting)
	}
	on = on && m.Trainable()
	class, _ := classOf(m)
	module, registered, _, _ := k3Traits(m, class)
	var cfg pyObj
	var build any
	if m.IsSequential() {
		var layers []any
		for _, l := range modelLayers(m) {
			e, err := k3LayerEntry(l, on, depth)
			if err != nil {
				return nil, err
			}
			layers = append(layers, e)
		}
		in := shapeJSON(m.Inputs()[0].Shape)
		cfg = obj("name", m.Name(), "trainable", on,
			"dtype", obj("module", "keras", "class_name", "DTypePolicy", "config", obj("name", "float32"), "registered_name", nil),
			"layers", layers, "build_input_shape", in)
		build = in
	} else {
		var err error
		if cfg, err = k3FunctionalConfig(m, on, depth); err != nil {
			return nil, err
		}
	}
	return obj("module", module, "class_name", class, "config", cfg, "registered_name", registered,
		"build_config", obj("input_shape", build), "compile_config", pyObj{}), nil
}

// k3FunctionalConfig is Keras 3's Functional.get_config.
func k3FunctionalConfig(m *graph.Model, on bool, depth int) (pyObj, error) {
	// Call arguments count only the calls inside this model
	// (serialize_node); input_layers/output_layers count a Functional
	// model's own node 0 too (node_reindexing_map).
	args := nodeIndexes(m, func(graph.Layer) int { return 0 })
	io := nodeIndexes(m, func(l graph.Layer) int {
		if sub, ok := l.(*graph.Model); ok && !sub.IsSequential() {
			return 1
		}
		return 0
	})
	inGraph := graphNodeSet(m)
	var layers []any
	for _, l := range m.Layers() {
		e, err := k3LayerEntry(l, on, depth)
		if err != nil {
			return nil, err
		}
		class, _ := classOf(l)
		_, _, _, kwargs := k3Traits(l, class)
		inbound := []any{}
		if _, isInput := l.(*graph.InputLayer); !isInput {
			for _, n := range l.Base().Nodes() {
				if !inGraph[n] {
					continue
				}
				var ts []any
				for _, in := range n.Inputs {
					ts = append(ts, obj("class_name", "__keras_tensor__", "config", obj(
						"shape", shapeJSON(in.Shape), "dtype", "float32",
						"keras_history", []any{in.Layer.Base().Name(), args[in], 0})))
				}
				var a []any
				if len(ts) == 1 {
					a = ts
				} else {
					a = []any{ts}
				}
				inbound = append(inbound, obj("args", a, "kwargs", kwargs))
			}
		}
		e = append(e, pyKV{"name", l.Base().Name()}, pyKV{"inbound_nodes", inbound})
		layers = append(layers, e)
	}
	refs := func(ns []*graph.Node) any {
		var out []any
		for _, n := range ns {
			out = append(out, []any{n.Layer.Base().Name(), io[n], 0})
		}
		if len(out) == 1 {
			return out[0]
		}
		return out
	}
	return obj("name", m.Name(), "trainable", on, "layers", layers,
		"input_layers", refs(m.Inputs()), "output_layers", refs(m.Outputs())), nil
}

// k3LayerEntry serializes a layer (or nested model) of a model, without
// the name and inbound_nodes a Functional parent adds.
func k3LayerEntry(l graph.Layer, on bool, depth int) (pyObj, error) {
	if sub, ok := l.(*graph.Model); ok {
		return k3ModelEntry(sub, false, on, depth+1)
	}
	class, err := classOf(l)
	if err != nil {
		return nil, err
	}
	cfg, err := layerConfig(l, keras3, on && l.Base().Trainable())
	if err != nil {
		return nil, err
	}
	module, registered, build, _ := k3Traits(l, class)
	e := obj("module", module, "class_name", class, "config", cfg, "registered_name", registered)
	if _, isInput := l.(*graph.InputLayer); build && !isInput {
		e.set("build_config", obj("input_shape", buildInputShape(l)))
	}
	return e, nil
}

var (
	k3Snake0 = regexp.MustCompile(`\W+`)
	k3Snake1 = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	k3Snake2 = regexp.MustCompile(`([a-z])([A-Z])`)
)

// k3Snake is Keras 3's naming.to_snake_case, which names the groups of a
// weight store after the classes: Conv2D -> conv2d, PReLU -> p_re_lu.
func k3Snake(class string) string {
	s := k3Snake0.ReplaceAllString(class, "")
	s = k3Snake1.ReplaceAllString(s, "${1}_${2}")
	return strings.ToLower(k3Snake2.ReplaceAllString(s, "${1}_${2}"))
}

// writeKeras3Store writes a Keras 3 weight store (H5IOStore): per layer of
// model.layers a group layers/<snake class>[_k]/vars with attribute name
// and datasets 0, 1, ... (the layer's variables, trainable ones first);
// nested models recurse; the model's own vars group at the root.
func writeKeras3Store(m *graph.Model, path string) (err error) {
	f, err := h5.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	visited := map[graph.Layer]bool{}
	var save func(l graph.Layer, g h5.Group, depth int) error
	save = func(l graph.Layer, g h5.Group, depth int) error {
		if depth > maxSaveNesting {
			return fmt.Errorf("models nested more than %d deep", maxSaveNesting)
		}
		visited[l] = true
		vars, err := g.CreateGroup("vars")
		if err != nil {
			return err
		}
		if err := vars.SetString("name", l.Base().Name(), h5.UTF8); err != nil {
			return err
		}
		sub, isModel := l.(*graph.Model)
		if !isModel {
			var ws []*graph.Weight
			for _, w := range l.Base().Weights() {
				if w.Trainable {
					ws = append(ws, w)
				}
			}
			for _, w := range l.Base().Weights() {
				if !w.Trainable {
					ws = append(ws, w)
				}
			}
			for i, w := range ws {
				if _, err := vars.WriteFloat32(strconv.Itoa(i), w.Data, w.Shape); err != nil {
					return err
				}
			}
			return nil
		}
		layers, err := g.CreateGroup("layers")
		if err != nil {
			return err
		}
		used := map[string]int{}
		for _, c := range sub.Layers() {
			class, err := classOf(c)
			if err != nil {
				return err
			}
			name := k3Snake(class)
			if n, ok := used[name]; ok {
				used[name] = n + 1
				name = fmt.Sprintf("%s_%d", name, n+1)
			} else {
				used[name] = 0
			}
			if visited[c] {
				continue // a shared layer is stored where it is met first
			}
			cg, err := layers.CreateGroup(name)
			if err != nil {
				return err
			}
			if err := save(c, cg, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := save(m, f.Root(), 0); err != nil {
		return err
	}
	if len(visited) == 0 {
		return errors.New("empty model")
	}
	return nil
}
