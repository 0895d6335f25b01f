// Package malformed makes hostile inputs for kerago's loaders and its CLI:
// damaged and deliberately absurd Keras files, images and .npy arrays,
// written at test time into a temporary folder from the real files the
// repository commits (and, where present, the shared Keras corpus).
//
// The families, each built from every suitable source file:
//
//   - truncate, bitflip: real .h5 and .keras files cut short at several
//     offsets or with random bits flipped;
//   - h5data: a real .h5 model edited through libhdf5: weights stored as
//     float16, float64, big-endian float32, integers or strings, of wrong,
//     empty or huge (declared, unstored) shapes, missing, replaced by groups
//     or dangling links, group cycles through hard links, and broken
//     layer_names / weight_names / model_config attributes;
//   - config: the model config (.h5 attribute, .keras config.json, or a
//     .json file) edited into absurd sizes (units 1e12, kernel 1e6, zero,
//     negative, strings or null where numbers belong), unknown and Lambda
//     layers, duplicate names, dangling references, cycles, nesting too
//     deep, Python's NaN and Infinity, and a few valid-but-odd shapes;
//   - zip: .keras archives with huge or false declared sizes, unsafe
//     member paths, duplicate members, unknown compression, bad checksums,
//     missing or foreign members, too many members;
//   - notkeras: empty, text, JSON, PNG and zip files named .h5, directories,
//     dangling symlinks and symlink loops, signature-only HDF5 files;
//   - image: every committed test image (CMYK JPEG, 16-bit PNG, paletted,
//     grayscale+alpha, GIF, BMP, WebP) as valid input, plus truncations,
//     bit flips, 1x1 images of each encoder, and headers that declare
//     100000x100000 (or each format's largest) images;
//   - npy: .npy inputs with wrong dtypes, shapes, byte orders, header
//     versions, lengths and overflowing dimensions.
//
// Each Case says what should happen (Want): Fails for inputs that must be
// refused, Works for valid-but-odd inputs that must load, Either where
// random damage may hit bytes nothing reads. What "refused" means, and the
// run through the library and the CLI, is the business of the test that
// uses the cases (hostile/hostile_test.go).
//
// The HDF5 edits call libhdf5 directly (serial builds of it are not
// thread-safe): generate every case before loading any of them.
package malformed

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Kind says which API takes an input.
type Kind string

// The kinds of input.
const (
	// Model is a Keras model file: keras.LoadModel, keras.Inspect, and the
	// CLI's --model (inspect, summary, predict, featuremap, activations).
	Model Kind = "model"
	// Config is a model.to_json() file: keras.LoadConfig,
	// keras.LoadModelFromJSON with the source's weights, vgg16 inspect.
	Config Kind = "config"
	// Image is an image file: preprocess.LoadImg, the CLI's --image.
	Image Kind = "image"
	// Npy is a NumPy array file: the CLI's activations --input.
	Npy Kind = "npy"
)

// Want is the expected outcome of loading a case.
type Want int

// The outcomes.
const (
	// Fails: the input must be refused with an error.
	Fails Want = iota
	// Works: the input is valid (if odd) and must load.
	Works
	// Either: random damage may or may not matter; anything but a crash,
	// a hang or a huge allocation is fine.
	Either
)

func (w Want) String() string {
	switch w {
	case Fails:
		return "fails"
	case Works:
		return "works"
	}
	return "either"
}

// Source is a real, valid model file cases are made from.
type Source struct {
	// Path is a Keras model file that loads (.h5 or .keras).
	Path string
	// Label names the source in case names ("ref-sequential.h5").
	Label string
	// Inputs are .npy files (batch first) the model accepts, in
	// model.inputs order; empty when unknown.
	Inputs []string
	// Layer is a layer with a (batch, height, width, channels) output, for
	// featuremap; empty when unknown.
	Layer string
	// Weights is a file with this model's weights (Path itself for full
	// models), used with Config cases.
	Weights string
}

// Sources are the files cases are made from.
type Sources struct {
	Models []Source
	// Images are valid image files.
	Images []string
	// Npy is a valid .npy input, NpyModel the model it fits.
	Npy      string
	NpyModel *Source
	// Extra marks sources that may be absent (the shared corpus): their
	// cases are fewer (truncations and bit flips only).
	Extra bool
}

// Case is one hostile input.
type Case struct {
	// Name is unique: family/source/detail.
	Name string
	// Family is the generator that made it (truncate, bitflip, ...).
	Family string
	Kind   Kind
	// Path is the input file (or folder, or link) in the output folder.
	Path string
	Want Want
	// Source is the file the case was made from (nil for cases made from
	// scratch); for Image and Npy cases, the model to run them through.
	Source *Source
	// Note explains the case in a few words.
	Note string
}

// Committed finds the sources the repository commits, given the path of the
// repository root: testdata/ref/*/model.{h5,keras} with their inputs,
// keras/testdata's models and preprocess/testdata/images.
func Committed(root string) (Sources, error) {
	var s Sources
	dirs, err := filepath.Glob(filepath.Join(root, "testdata", "ref", "*", "manifest.json"))
	if err != nil || len(dirs) == 0 {
		return s, fmt.Errorf("malformed: no testdata/ref/*/manifest.json under %s", root)
	}
	slices.Sort(dirs)
	for _, mf := range dirs {
		dir := filepath.Dir(mf)
		var m struct {
			Inputs []struct {
				File string `json:"file"`
			} `json:"inputs"`
			Layers []struct {
				Name  string `json:"name"`
				Class string `json:"class_name"`
				Nodes []struct {
					Outputs []struct {
						Shape []int `json:"shape"`
					} `json:"outputs"`
				} `json:"nodes"`
			} `json:"layers"`
		}
		b, err := os.ReadFile(mf)
		if err != nil {
			return s, err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return s, fmt.Errorf("malformed: %s: %w", mf, err)
		}
		var inputs []string
		for _, in := range m.Inputs {
			inputs = append(inputs, filepath.Join(dir, in.File))
		}
		layer := ""
		for _, l := range m.Layers {
			if l.Class == "InputLayer" || len(l.Nodes) == 0 || len(l.Nodes[0].Outputs) == 0 {
				continue
			}
			if len(l.Nodes[0].Outputs[0].Shape) == 4 {
				layer = l.Name
				break
			}
		}
		for _, f := range []string{"model.h5", "model.keras"} {
			p := filepath.Join(dir, f)
			if _, err := os.Stat(p); err != nil {
				continue
			}
			src := Source{Path: p, Label: "ref-" + filepath.Base(dir) + filepath.Ext(f), Inputs: inputs, Layer: layer, Weights: p}
			s.Models = append(s.Models, src)
			if filepath.Base(dir) == "sequential" && f == "model.h5" {
				s.Npy = inputs[0]
				c := src
				s.NpyModel = &c
			}
		}
	}
	for _, f := range []string{"channels_first_layers.h5", "channels_first_layers.keras"} {
		p := filepath.Join(root, "keras", "testdata", f)
		if _, err := os.Stat(p); err == nil {
			s.Models = append(s.Models, Source{Path: p, Label: "keras-" + f, Weights: p})
		}
	}
	imgs, _ := filepath.Glob(filepath.Join(root, "preprocess", "testdata", "images", "*"))
	slices.Sort(imgs)
	s.Images = imgs
	if s.NpyModel == nil {
		return s, fmt.Errorf("malformed: testdata/ref/sequential is missing under %s", root)
	}
	return s, nil
}

// Corpus finds the model files and photos of the shared Keras corpus at dir
// (shared/keras-corpus); an error when it is absent.
func Corpus(dir string) (Sources, error) {
	s := Sources{Extra: true}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return s, fmt.Errorf("malformed: no Keras corpus at %s", dir)
	}
	var files []string
	for _, pat := range []string{"*/*.h5", "*/*.hdf5", "*/*.keras"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	slices.Sort(files)
	for _, p := range files {
		if filepath.Base(filepath.Dir(p)) == "images" || strings.Contains(filepath.Base(p), "weights") {
			continue // weights-only files are no models
		}
		s.Models = append(s.Models, Source{Path: p, Label: "corpus-" + filepath.Base(p), Weights: p})
	}
	imgs, _ := filepath.Glob(filepath.Join(dir, "images", "*"))
	slices.Sort(imgs)
	s.Images = imgs
	return s, nil
}

// gen collects cases written into one folder.
type gen struct {
	dir   string
	cases []Case
	seen  map[string]bool
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// path returns a fresh file name in the output folder for a case; ext is
// the file's extension (with the dot).
func (g *gen) path(name, ext string) string {
	base := strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_")
	if len(base) > 100 {
		base = base[:100]
	}
	p := filepath.Join(g.dir, fmt.Sprintf("%04d_%s%s", len(g.cases), base, ext))
	return p
}

// add records a case whose file exists at p.
func (g *gen) add(c Case) {
	if g.seen[c.Name] {
		panic("malformed: duplicate case name " + c.Name)
	}
	g.seen[c.Name] = true
	g.cases = append(g.cases, c)
}

// write writes data as a new case file and records the case.
func (g *gen) write(c Case, ext string, data []byte) error {
	c.Path = g.path(c.Name, ext)
	if err := os.WriteFile(c.Path, data, 0o644); err != nil {
		return err
	}
	g.add(c)
	return nil
}

// rng is a generator seeded from a name, so every run makes the same cases.
func rng(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(h.Sum64(), 0x6d616c666f726d))
}

// Generate writes every case made from src into dir (which should be empty,
// such as a t.TempDir()) and returns them in a fixed order.
func Generate(dir string, src Sources) ([]Case, error) {
	g := &gen{dir: dir, seen: map[string]bool{}}
	steps := []func(*gen, Sources) error{genTruncate, genBitflip}
	if !src.Extra {
		steps = append(steps, genH5Data, genConfig, genZip, genNotKeras, genImages, genNpy)
	} else {
		steps = append(steps, genImages)
	}
	for _, step := range steps {
		if err := step(g, src); err != nil {
			return g.cases, err
		}
	}
	return g.cases, nil
}

// find returns the source with the given label.
func (s Sources) find(label string) *Source {
	for i := range s.Models {
		if s.Models[i].Label == label {
			return &s.Models[i]
		}
	}
	return nil
}
