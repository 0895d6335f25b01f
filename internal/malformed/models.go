package malformed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// genTruncate cuts every model file short: half and all but the last byte
// (the first two committed files also at 7 bytes, inside the signature,
// and at 600, inside the first metadata; corpus files at half only).
func genTruncate(g *gen, src Sources) error {
	for i := range src.Models {
		s := &src.Models[i]
		data, err := os.ReadFile(s.Path)
		if err != nil {
			return err
		}
		n := len(data)
		offs := []int{n / 2, n - 1}
		switch {
		case src.Extra:
			offs = offs[:1]
		case i < 2:
			offs = append([]int{7, 600}, offs...)
		}
		for _, off := range offs {
			c := Case{Name: fmt.Sprintf("truncate/%s/%d", s.Label, off), Family: "truncate", Kind: Model, Want: Fails,
				Source: s, Note: fmt.Sprintf("first %d of %d bytes", off, n)}
			if err := g.write(c, filepath.Ext(s.Path), data[:off]); err != nil {
				return err
			}
		}
	}
	return nil
}

// genBitflip flips 8 random bits of every model file.
func genBitflip(g *gen, src Sources) error {
	flips := []int{8}
	for i := range src.Models {
		s := &src.Models[i]
		data, err := os.ReadFile(s.Path)
		if err != nil {
			return err
		}
		for _, k := range flips {
			name := fmt.Sprintf("bitflip/%s/%d", s.Label, k)
			r := rng(name)
			b := slices.Clone(data)
			var at []string
			for range k {
				p := r.IntN(len(b))
				b[p] ^= 1 << r.IntN(8)
				at = append(at, fmt.Sprint(p))
			}
			c := Case{Name: name, Family: "bitflip", Kind: Model, Want: Either, Source: s,
				Note: "bits flipped at bytes " + strings.Join(at, ",")}
			if err := g.write(c, filepath.Ext(s.Path), b); err != nil {
				return err
			}
		}
	}
	return nil
}

// h5Edit is one edit of a copy of a real .h5 model.
type h5Edit struct {
	name string
	want Want
	note string
	// edit changes file; kernel and bias are the paths of a convolution's
	// (or the first layer's) weight datasets, layer its group under
	// model_weights.
	edit func(file string, w h5Weights) error
}

// h5Weights locates the first layer's weights in a Keras 2 .h5 model.
type h5Weights struct {
	layer        string // model_weights/<layer>
	kernel, bias string // full dataset paths
	kshape       []int  // the kernel's shape
}

// findWeights finds the datasets of the given layer's kernel and bias
// under model_weights.
func findWeights(file, layer string, kshape []int) (h5Weights, error) {
	ds, err := h5Datasets(file)
	if err != nil {
		return h5Weights{}, err
	}
	prefix := "model_weights/" + layer + "/"
	for _, d := range ds {
		if !strings.HasPrefix(d, prefix) || !strings.HasSuffix(d, "/kernel:0") {
			continue
		}
		bias := strings.TrimSuffix(d, "kernel:0") + "bias:0"
		if !slices.Contains(ds, bias) {
			continue
		}
		return h5Weights{layer: "/model_weights/" + layer, kernel: "/" + d, bias: "/" + bias, kshape: kshape}, nil
	}
	return h5Weights{}, fmt.Errorf("malformed: %s: no kernel and bias under %s", file, prefix)
}

func h5Edits() []h5Edit {
	put := func(dt h5Dtype, gzip bool, shape func([]int) []int) func(string, h5Weights) error {
		return func(f string, w h5Weights) error {
			return h5PutDataset(f, w.kernel, dt, shape(w.kshape), nil, gzip)
		}
	}
	same := func(s []int) []int { return s }
	fixed := func(s ...int) func([]int) []int { return func([]int) []int { return s } }
	edits := []h5Edit{
		{"identity", Works, "unchanged copy (control)", func(string, h5Weights) error { return nil }},
		{"reversed-shape", Fails, "kernel of reversed shape", put(dtF32, false, func(s []int) []int {
			r := slices.Clone(s)
			slices.Reverse(r)
			return r
		})},
		{"extra-dim", Fails, "kernel with an extra leading 1", put(dtF32, false, func(s []int) []int { return append([]int{1}, s...) })},
		{"dropped-dim", Fails, "kernel missing its last axis", put(dtF32, false, func(s []int) []int { return s[:len(s)-1] })},
		{"scalar", Fails, "kernel as a scalar", put(dtF32, false, fixed())},
		{"empty", Fails, "kernel of shape (0, ...)", put(dtF32, false, func(s []int) []int { return append([]int{0}, s[1:]...) })},
		{"huge-declared", Fails, "kernel declared (1e6, 1e6, 3, 4), nothing stored", put(dtF32, false, fixed(1000000, 1000000, 3, 4))},
		{"huge-chunked", Fails, "gzip-chunked kernel declared 32768x32768 (4 GiB as float32), nothing stored", put(dtF32, true, fixed(1<<15, 1<<15))},
		{"chunked-600MB", Fails, "gzip-chunked kernel declared 12500x12500 float32, nothing stored", put(dtF32, true, fixed(12500, 12500))},
		{"bias-as-kernel", Fails, "bias dataset linked in place of the kernel", func(f string, w h5Weights) error {
			if err := h5DeleteLink(f, w.kernel); err != nil {
				return err
			}
			return h5HardLink(f, w.bias, w.kernel)
		}},
		{"missing-kernel", Fails, "kernel dataset deleted", func(f string, w h5Weights) error { return h5DeleteLink(f, w.kernel) }},
		{"kernel-group", Fails, "kernel replaced by a group", func(f string, w h5Weights) error {
			if err := h5DeleteLink(f, w.kernel); err != nil {
				return err
			}
			return h5CreateGroup(f, w.kernel)
		}},
		{"dangling-softlink", Fails, "kernel replaced by a soft link to nothing", func(f string, w h5Weights) error {
			if err := h5DeleteLink(f, w.kernel); err != nil {
				return err
			}
			return h5SoftLink(f, "/no/such/dataset", w.kernel)
		}},
		{"softlink-loop", Fails, "kernel replaced by a soft link to itself", func(f string, w h5Weights) error {
			if err := h5DeleteLink(f, w.kernel); err != nil {
				return err
			}
			return h5SoftLink(f, w.kernel, w.kernel)
		}},
		{"group-cycle", Either, "hard link from a layer group back to /model_weights (a cycle)", func(f string, w h5Weights) error {
			return h5HardLink(f, "/model_weights", w.layer+"/loop")
		}},
		{"root-cycle", Either, "hard link from a layer group to the root", func(f string, w h5Weights) error {
			return h5HardLink(f, "/", w.layer+"/up")
		}},
		{"weight-names-ghost", Fails, "weight_names lists a dataset that does not exist", func(f string, w h5Weights) error {
			return h5SetFixedStringsAttr(f, w.layer, "weight_names", []string{"ghost/kernel:0", "ghost/bias:0"})
		}},
		{"weight-names-float", Fails, "weight_names stored as float64 numbers", func(f string, w h5Weights) error {
			return h5SetFloat64Attr(f, w.layer, "weight_names", 1, 2)
		}},
		{"weight-names-missing", Either, "weight_names attribute deleted", func(f string, w h5Weights) error {
			return h5DeleteAttr(f, w.layer, "weight_names")
		}},
		{"weight-names-dotdot", Fails, "weight_names with ../ paths", func(f string, w h5Weights) error {
			return h5SetFixedStringsAttr(f, w.layer, "weight_names", []string{"../../model_weights", "../.."})
		}},
		{"layer-names-missing", Fails, "layer_names attribute deleted", func(f string, _ h5Weights) error {
			return h5DeleteAttr(f, "/model_weights", "layer_names")
		}},
		{"layer-names-float", Fails, "layer_names stored as float64 numbers", func(f string, _ h5Weights) error {
			return h5SetFloat64Attr(f, "/model_weights", "layer_names", 3, 4, 5)
		}},
		{"layer-names-5000", Fails, "layer_names lists 5000 layers that do not exist", func(f string, _ h5Weights) error {
			names := make([]string, 5000)
			for i := range names {
				names[i] = fmt.Sprintf("ghost_%d", i)
			}
			return h5SetFixedStringsAttr(f, "/model_weights", "layer_names", names)
		}},
		{"model-config-missing", Fails, "model_config deleted (a weights file without layer_names at the root)", func(f string, _ h5Weights) error {
			return h5DeleteAttr(f, "/", "model_config")
		}},
		{"model-config-float", Fails, "model_config stored as a float64", func(f string, _ h5Weights) error {
			return h5SetFloat64Attr(f, "/", "model_config", 42)
		}},
		{"model-config-empty", Fails, "model_config is an empty string", func(f string, _ h5Weights) error {
			return h5SetStringAttr(f, "/", "model_config", "")
		}},
		{"model-config-strings", Fails, "model_config as an array of fixed strings", func(f string, _ h5Weights) error {
			return h5SetFixedStringsAttr(f, "/", "model_config", []string{"{", "}"})
		}},
		{"keras-version-long", Either, "keras_version of 100000 characters", func(f string, _ h5Weights) error {
			return h5SetStringAttr(f, "/", "keras_version", strings.Repeat("9.", 50000))
		}},
		{"keras-version-float", Either, "keras_version stored as a float64", func(f string, _ h5Weights) error {
			return h5SetFloat64Attr(f, "/", "keras_version", 2.5)
		}},
		{"backend-theano", Either, "backend attribute says theano", func(f string, _ h5Weights) error {
			return h5SetStringAttr(f, "/", "backend", "theano")
		}},
		{"model-weights-missing", Fails, "model_weights group deleted", func(f string, _ h5Weights) error {
			return h5DeleteLink(f, "/model_weights")
		}},
		{"model-weights-dataset", Fails, "model_weights is a dataset", func(f string, _ h5Weights) error {
			if err := h5DeleteLink(f, "/model_weights"); err != nil {
				return err
			}
			return h5PutDataset(f, "/model_weights", dtF32, []int{2}, []float64{1, 2}, false)
		}},
	}
	// The kernel in other element types, same shape (no stored values:
	// reads give zeros). libhdf5 converts numbers as h5py does, so these
	// load; strings do not.
	for _, dt := range []h5Dtype{dtF16, dtF64, dtF32BE, dtI8, dtI32, dtU8, dtI64} {
		edits = append(edits, h5Edit{"dtype-" + dt.String(), Works, "kernel stored as " + dt.String(), put(dt, false, same)})
	}
	edits = append(edits, h5Edit{"dtype-string", Fails, "kernel stored as 4-byte strings", put(dtStr, false, same)})
	edits = append(edits, h5Edit{"dtype-f64-gzip", Works, "kernel stored as gzip-chunked float64", put(dtF64, true, same)})
	return edits
}

// genH5Data applies h5Edits to the committed sequential .h5 model, and a
// few of them to the branching one (two inputs, a shared layer).
func genH5Data(g *gen, src Sources) error {
	few := map[string]bool{"identity": true, "huge-declared": true, "group-cycle": true, "root-cycle": true,
		"dtype-float64": true, "dtype-string": true, "layer-names-5000": true, "weight-names-ghost": true}
	for _, label := range []string{"ref-sequential.h5", "ref-branching.h5"} {
		s := src.find(label)
		if s == nil {
			return fmt.Errorf("malformed: source %s missing", label)
		}
		layer, kshape, err := kernelShape(s)
		if err != nil {
			return err
		}
		for _, e := range h5Edits() {
			if label == "ref-branching.h5" && !few[e.name] {
				continue
			}
			c := Case{Name: "h5data/" + label + "/" + e.name, Family: "h5data", Kind: Model, Want: e.want, Source: s, Note: e.note}
			c.Path = g.path(c.Name, ".h5")
			if err := copyFile(s.Path, c.Path); err != nil {
				return err
			}
			w, err := findWeights(c.Path, layer, kshape)
			if err != nil {
				return err
			}
			if err := e.edit(c.Path, w); err != nil {
				return fmt.Errorf("h5data %s: %w", c.Name, err)
			}
			g.add(c)
		}
	}
	return nil
}

// kernelShape finds, in the manifest.json next to the source, the first
// layer with a kernel and the kernel's shape.
func kernelShape(s *Source) (string, []int, error) {
	dir := filepath.Dir(s.Path)
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return "", nil, err
	}
	var m struct {
		Layers []struct {
			Name    string `json:"name"`
			Weights []struct {
				Name  string `json:"name"`
				Shape []int  `json:"shape"`
			} `json:"weights"`
		} `json:"layers"`
	}
	if err := jsonUnmarshal(b, &m); err != nil {
		return "", nil, err
	}
	for _, l := range m.Layers {
		for _, w := range l.Weights {
			if strings.HasSuffix(w.Name, "kernel:0") {
				return l.Name, w.Shape, nil
			}
		}
	}
	return "", nil, fmt.Errorf("malformed: %s: no kernel in manifest.json", s.Path)
}

// genNotKeras makes files that are not Keras models at all, named like
// them, and paths that are not regular files.
func genNotKeras(g *gen, src Sources) error {
	seq := src.find("ref-sequential.h5")
	seqK := src.find("ref-sequential.keras")
	if seq == nil || seqK == nil {
		return fmt.Errorf("malformed: sequential sources missing")
	}
	h5sig := []byte("\x89HDF\r\n\x1a\n")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")
	files := []struct {
		name, ext string
		want      Want
		data      []byte
		note      string
	}{
		{"empty", ".h5", Fails, nil, "empty file"},
		{"one-byte", ".h5", Fails, []byte{0x89}, "one byte"},
		{"text", ".h5", Fails, []byte("this is not a model\n"), "text"},
		{"json", ".h5", Fails, []byte(`{"class_name": "Sequential", "config": {"layers": []}}`), "a JSON config named .h5"},
		{"png", ".h5", Fails, png, "a PNG header named .h5"},
		{"signature-only", ".h5", Fails, h5sig, "only the HDF5 signature"},
		{"signature-zeros", ".h5", Fails, append(slices.Clone(h5sig), make([]byte, 4096)...), "HDF5 signature then zeros"},
		{"userblock-garbage", ".h5", Fails, append(append(bytes.Repeat([]byte("x"), 512), h5sig...), bytes.Repeat([]byte{0xff}, 600)...), "HDF5 signature at 512 after garbage, then garbage"},
		{"zip-empty", ".keras", Fails, []byte("PK\x05\x06" + strings.Repeat("\x00", 18)), "an empty zip archive"},
		{"zip-garbage", ".keras", Fails, append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xee}, 200)...), "zip local header magic then garbage"},
	}
	for _, f := range files {
		if err := g.write(Case{Name: "notkeras/" + f.name, Family: "notkeras", Kind: Model, Want: f.want, Note: f.note}, f.ext, f.data); err != nil {
			return err
		}
	}
	// Valid files under misleading names: loaders go by content.
	for _, c := range []struct {
		name string
		s    *Source
		file string
	}{
		{"keras-named-h5", seqK, "model.h5"},
		{"h5-named-keras", seq, "model.keras"},
		{"unicode-name", seq, "mödel ünïcode — copy (1).h5"},
		{"dash-name", seq, "-model.h5"},
	} {
		d := g.path("notkeras/"+c.name, "")
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		p := filepath.Join(d, c.file)
		if err := copyFile(c.s.Path, p); err != nil {
			return err
		}
		g.add(Case{Name: "notkeras/" + c.name, Family: "notkeras", Kind: Model, Path: p, Want: Works, Source: c.s, Note: "a valid model named " + c.file})
	}
	// Paths that are not regular files.
	d := g.path("notkeras/directory", ".h5")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	g.add(Case{Name: "notkeras/directory", Family: "notkeras", Kind: Model, Path: d, Want: Fails, Note: "a directory named .h5"})
	dk := g.path("notkeras/directory-keras", ".keras")
	if err := os.MkdirAll(filepath.Join(dk, "config.json"), 0o755); err != nil {
		return err
	}
	g.add(Case{Name: "notkeras/directory-keras", Family: "notkeras", Kind: Model, Path: dk, Want: Fails, Note: "a directory named .keras holding a directory config.json"})
	links := []struct{ name, target, note string }{
		{"dangling-symlink", "/no/such/file.h5", "a symlink to nothing"},
		{"symlink-loop", "", "a symlink to itself"},
	}
	if runtime.GOOS == "linux" {
		links = append(links, struct{ name, target, note string }{"dev-zero", "/dev/zero", "a symlink to /dev/zero"})
	}
	for _, l := range links {
		p := g.path("notkeras/"+l.name, ".h5")
		t := l.target
		if t == "" {
			t = p
		}
		if err := os.Symlink(t, p); err != nil {
			return err
		}
		g.add(Case{Name: "notkeras/" + l.name, Family: "notkeras", Kind: Model, Path: p, Want: Fails, Note: l.note})
	}
	missing := filepath.Join(g.dir, "no-such-file.h5")
	g.add(Case{Name: "notkeras/missing", Family: "notkeras", Kind: Model, Path: missing, Want: Fails, Note: "a file that does not exist"})
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
