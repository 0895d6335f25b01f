package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/preprocess"
	"github.com/kerago/kerago/vgg16"
)

// modelFlags are the flags of every command that runs or inspects a model.
func modelFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "a Keras model `FILE` (.h5 or .keras) to use instead of VGG16"},
		&cli.StringFlag{Name: "weights", Usage: "an explicit weights `FILE` (no hash check); default: Keras's ImageNet file from Keras's cache, downloaded if missing"},
		&cli.BoolFlag{Name: "random-weights", Usage: "use an untrained VGG16 (Keras's random initialisation, seeded) instead of the ImageNet weights"},
		&cli.StringFlag{Name: "preprocess", Usage: "input preprocessing: caffe, tf, torch, rescale:1/255 or none (default caffe for VGG16, none with --model)"},
	}
}

// loadedModel is a model ready to run, with what the user should be told
// about where it came from.
type loadedModel struct {
	model  *graph.Model
	vgg    bool   // the built-in VGG16 (not --model)
	random bool   // untrained weights
	source string // one line: which model and weights
	pre    preprocess.Preprocess
}

// loadModel builds the model a command works on. needTop asks for VGG16's
// classifier (predict); otherwise the convolutional base is enough and only
// the 58 MB notop weights are read.
func loadModel(c *cli.Context, needTop bool) (*loadedModel, error) {
	lm := &loadedModel{}
	pre, err := preprocessFlag(c)
	if err != nil {
		return nil, err
	}
	modelPath, weightsPath := c.String("model"), c.String("weights")
	if modelPath != "" {
		if c.Bool("random-weights") {
			return nil, errors.New("--random-weights applies to VGG16 only, not to --model")
		}
		m, err := keras.LoadModel(modelPath)
		if err != nil {
			return nil, fmt.Errorf("--model %s: %w", modelPath, err)
		}
		lm.model, lm.source = m, fmt.Sprintf("model %q from %s", m.Name(), modelPath)
		if weightsPath != "" {
			if err := keras.LoadWeights(m, weightsPath, keras.LoadWeightsOptions{}); err != nil {
				return nil, fmt.Errorf("--weights %s: %w", weightsPath, err)
			}
			lm.source += ", weights from " + weightsPath
		}
		lm.pre = preprocess.Preprocess{Mode: "none"}
		if pre != nil {
			lm.pre = *pre
		}
		return lm, nil
	}
	lm.vgg = true
	lm.pre = preprocess.Preprocess{Mode: "caffe"}
	if pre != nil {
		lm.pre = *pre
	}
	opts := vgg16.Options{IncludeTop: needTop}
	graph.ResetNames()
	switch {
	case c.Bool("random-weights"):
		if weightsPath != "" {
			return nil, errors.New("give either --weights or --random-weights, not both")
		}
		m, err := vgg16.New(opts)
		if err != nil {
			return nil, err
		}
		vgg16.InitRandom(m, 1)
		lm.model, lm.random = m, true
		lm.source = "VGG16 with RANDOM weights (untrained, Keras's Glorot-uniform initialisation, seed 1)"
	case weightsPath != "":
		m, err := loadExplicit(opts, weightsPath)
		if err != nil {
			return nil, err
		}
		lm.model, lm.source = m, "VGG16, weights from "+weightsPath
	default:
		path, err := vgg16.Weights(opts)
		if err != nil {
			return nil, fmt.Errorf("VGG16 ImageNet weights: %w\n(or run with --random-weights to try the tool with an untrained VGG16)", err)
		}
		m, err := vgg16.Load(opts, path)
		if err != nil {
			return nil, err
		}
		lm.model, lm.source = m, "VGG16, ImageNet weights from "+path
	}
	return lm, nil
}

// loadExplicit loads a user's weights file into VGG16. A command that only
// needs the convolutional base first tries the notop architecture, then the
// full one, so either ImageNet file works.
func loadExplicit(opts vgg16.Options, path string) (*graph.Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("--weights: %w", err)
	}
	m, err := vgg16.Load(opts, path)
	if err == nil || opts.IncludeTop {
		return m, err
	}
	graph.ResetNames()
	top := opts
	top.IncludeTop = true
	m2, err2 := vgg16.Load(top, path)
	if err2 != nil {
		return nil, fmt.Errorf("--weights %s fits neither VGG16 without its top (%v) nor with it (%v)", path, err, err2)
	}
	return m2, nil
}

// preprocessFlag parses --preprocess; nil means "use the default".
func preprocessFlag(c *cli.Context) (*preprocess.Preprocess, error) {
	s := c.String("preprocess")
	if s == "" {
		return nil, nil
	}
	p, err := preprocess.ParsePreprocess(s)
	if err != nil {
		return nil, fmt.Errorf("--preprocess: %w", err)
	}
	return &p, nil
}

// imageFlags are the flags that say how images are read.
func imageFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "target-size", Usage: "resize images to `H,W` (nearest, as keras.utils.load_img); default: the model's input size, or 224,224; \"none\" keeps the image's size when the model accepts any"},
	}
}

// inputSize decides the (height, width) images are loaded at: --target-size,
// else the model's input size, else 224×224. (0, 0) means "as is".
func inputSize(c *cli.Context, m *graph.Model) ([2]int, error) {
	in := m.Inputs()[0].Shape
	fixed := len(in) == 3 && in[0] > 0 && in[1] > 0
	s := strings.TrimSpace(c.String("target-size"))
	switch {
	case s == "" && fixed:
		return [2]int{in[0], in[1]}, nil
	case s == "":
		return [2]int{224, 224}, nil
	case strings.EqualFold(s, "none"):
		if fixed {
			return [2]int{in[0], in[1]}, fmt.Errorf("--target-size none: the model needs %dx%d images", in[0], in[1])
		}
		return [2]int{}, nil
	}
	dims, err := parseDims(s, 2, false)
	if err != nil {
		return [2]int{}, fmt.Errorf("--target-size %q: %w", s, err)
	}
	if fixed && (dims[0] != in[0] || dims[1] != in[1]) {
		return [2]int{}, fmt.Errorf("--target-size %q: the model's input is %dx%d", s, in[0], in[1])
	}
	return [2]int{dims[0], dims[1]}, nil
}

// loadImages reads images as load_img + img_to_array + preprocess_input do
// and stacks them into one batch (N, H, W, C).
func loadImages(paths []string, size [2]int, m *graph.Model, pre preprocess.Preprocess) (*ops.Tensor, error) {
	in := m.Inputs()[0].Shape
	if len(in) != 3 {
		return nil, fmt.Errorf("model %q takes inputs of shape %s, not images", m.Name(), in)
	}
	mode := "rgb"
	switch in[2] {
	case 1:
		mode = "grayscale"
	case 4:
		mode = "rgba"
	case 3, -1:
	default:
		return nil, fmt.Errorf("model %q takes %d-channel inputs, not images", m.Name(), in[2])
	}
	var ts []*ops.Tensor
	for _, p := range paths {
		im, err := preprocess.LoadImg(p, preprocess.LoadImgOptions{
			ColorMode: mode, TargetSize: size, Interpolation: "nearest", JPEG: preprocess.JPEGLibjpeg})
		if err != nil {
			return nil, err
		}
		t, err := preprocess.ImgToArray(im)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if len(ts) > 0 && !slices.Equal(t.Shape, ts[0].Shape) {
			return nil, fmt.Errorf("%s is %v, %s is %v: give --target-size to batch them", p, t.Shape, paths[0], ts[0].Shape)
		}
		ts = append(ts, t)
	}
	x, err := preprocess.Stack(ts...)
	if err != nil {
		return nil, err
	}
	if err := pre.Apply(x); err != nil {
		return nil, fmt.Errorf("--preprocess %s: %w", pre, err)
	}
	return x, nil
}

// parseDims parses "224,224,3"; "None" (or -1) stands for an unknown size
// when allowNone.
func parseDims(s string, n int, allowNone bool) ([]int, error) {
	parts := strings.Split(s, ",")
	if len(parts) != n {
		return nil, fmt.Errorf("want %d comma-separated sizes", n)
	}
	out := make([]int, n)
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if allowNone && (strings.EqualFold(p, "none") || p == "-1") {
			out[i] = -1
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v <= 0 || v > 1<<16 {
			return nil, fmt.Errorf("%q is not a size between 1 and 65536", p)
		}
		out[i] = v
	}
	return out, nil
}

// outFlag returns --out (checked, not created yet: a failing command leaves
// no trace); makeOut creates it. Every file a command writes goes under it.
func outFlag(c *cli.Context) (string, error) {
	d := c.String("out")
	if d == "" {
		return "", errors.New("--out DIR is required")
	}
	if st, err := os.Stat(d); err == nil && !st.IsDir() {
		return "", fmt.Errorf("--out %s is a file, not a folder", d)
	}
	return d, nil
}

func makeOut(d string) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

// insideOut resolves a file name given on the command line relative to the
// output folder and refuses names that would leave it.
func insideOut(out, name, flag string) (string, error) {
	if filepath.IsAbs(name) {
		rel, err := filepath.Rel(out, name)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("--%s %s: files are only written inside --out %s", flag, name, out)
		}
		name = rel
	}
	p := filepath.Join(out, name)
	rel, err := filepath.Rel(out, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("--%s %s: files are only written inside --out %s", flag, name, out)
	}
	return p, nil
}

// layerOrError finds a layer by name, listing the model's layers if absent.
func layerOrError(m *graph.Model, name string) (graph.Layer, error) {
	if l := m.Layer(name); l != nil {
		return l, nil
	}
	var names []string
	for _, l := range m.Layers() {
		names = append(names, l.Base().Name())
	}
	return nil, fmt.Errorf("model %q has no layer %q; its layers are: %s", m.Name(), name, strings.Join(names, ", "))
}
