package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sbinet/npyio"
	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/ops"
)

// Commands for any Keras file: inspect it, dump every layer's output, and
// check Go's outputs against what Keras computed
// (scripts/keras_reference.py).

func init() {
	register(inspectCommand)
	register(activationsCommand)
	register(verifyCommand)
}

// activationsFormat names the layout of activation and reference files:
//
//	/                 attrs format, model (file name), layer_names (stored
//	                  layers in model.layers order), keras_module,
//	                  keras_version, backend (reference files) or writer
//	/inputs/<i>       float32, the i-th model input; attr name
//	/outputs/<layer>  float32, batch first, the layer's output as Keras
//	                  returns it; attr class_name
const activationsFormat = "kerago-activations/1"

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "describe a Keras file: who wrote it, the model class, every layer with its output and weight shapes",
		ArgsUsage: "FILE",
		Description: `Reads a Keras file without loading its weights: a legacy .h5/.hdf5 (full
model or weights only), a .keras archive, a Keras 3 .weights.h5 store, or a
model.to_json() config. Prints the Keras generation and version that wrote
it and the backend, the model class, whether a training configuration or
optimizer state is stored, and for every layer its class, output shape (batch
dimension as None, Keras's layout) and weights as stored (name and shape).`,
		Action: runInspect,
	}
}

func runInspect(c *cli.Context) error {
	if c.NArg() != 1 {
		return fmt.Errorf("inspect takes one FILE, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	if _, err := os.Stat(path); err != nil {
		return err
	}
	info, err := keras.Inspect(path)
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "file:        %s\n", path)
	fmt.Fprintf(w, "format:      %s\n", formatDescription(info))
	writer := "keras_version not recorded"
	if info.KerasVersion != "" {
		writer = "keras_version " + info.KerasVersion
	}
	backend := "backend not recorded"
	if info.Backend != "" {
		backend = "backend " + info.Backend
	}
	fmt.Fprintf(w, "written by:  %s (%s), %s\n", info.Era(), writer, backend)
	if info.DateSaved != "" {
		fmt.Fprintf(w, "saved:       %s\n", info.DateSaved)
	}
	params := 0
	for _, l := range info.Layers {
		for _, wt := range l.Weights {
			params += numElements(wt.Shape)
		}
	}
	if info.ModelClass != "" {
		fmt.Fprintf(w, "model:       %s %q, %d layers, %s parameters\n", info.ModelClass, info.ModelName, len(info.Layers), thousandsSep(params))
	} else {
		fmt.Fprintf(w, "model:       none (weights only), %d weight groups, %s parameters\n", len(info.Layers), thousandsSep(params))
	}
	training := "no training config"
	if info.HasTrainingConfig {
		training = "training config present"
	}
	opt := "no optimizer state"
	if info.OptimizerWeights > 0 {
		opt = fmt.Sprintf("optimizer state: %d variables", info.OptimizerWeights)
	}
	fmt.Fprintf(w, "training:    %s, %s\n\n", training, opt)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Layer (class)\tOutput shape\tWeights")
	for _, l := range info.Layers {
		name := l.Name
		if l.Class != "" {
			name += " (" + l.Class + ")"
		}
		shape := "?"
		if l.OutputShape != nil {
			shape = kerasShapeString(append([]int{-1}, l.OutputShape...))
		}
		var ws []string
		for _, wt := range l.Weights {
			ws = append(ws, wt.Name+" "+kerasShapeString(wt.Shape))
		}
		weights := "-"
		if len(ws) > 0 {
			weights = strings.Join(ws, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, shape, weights)
	}
	return tw.Flush()
}

func formatDescription(info *keras.FileInfo) string {
	switch info.Format {
	case keras.FormatH5Model:
		return "legacy HDF5 full model (model.save to .h5)"
	case keras.FormatH5Weights:
		return "legacy HDF5 weights only (model.save_weights to .h5)"
	case keras.FormatKeras:
		return ".keras archive (config.json + model.weights.h5)"
	case keras.FormatKeras3Weights:
		return "Keras 3 weight store (model.save_weights to .weights.h5)"
	case keras.FormatJSON:
		return "JSON model config (model.to_json), no weights"
	}
	return string(info.Format)
}

// kerasShapeString writes a shape as Python prints a tuple, -1 as None.
func kerasShapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "None"
		} else {
			parts[i] = strconv.Itoa(d)
		}
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func numElements(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func thousandsSep(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// ---- activations ----

func activationsCommand() *cli.Command {
	return &cli.Command{
		Name:  "activations",
		Usage: "run a Keras model on .npy inputs and save every layer's output to an HDF5 file",
		Description: `Runs the model on the inputs (NumPy .npy files, float32 or float64, batch
first, one --input per model input in model.inputs order) and writes the
output of every layer of model.layers (or of the --layers named) as float32
datasets outputs/<layer>, shaped as Keras returns them: batch first, and
channels first for layers of a channels_first model. A layer called several
times inside the model gives its first call's output, a nested model its
whole output. The inputs are stored as inputs/0, inputs/1, ... Read the file
with h5py: h5py.File("acts.h5")["outputs/conv1"][...].`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "Keras model `FILE` (.h5 or .keras)", Required: true},
			&cli.StringSliceFlag{Name: "input", Usage: "input `X.npy` (repeat for a model with several inputs)", Required: true},
			&cli.StringFlag{Name: "layers", Usage: "comma-separated layer `NAMES` (default: all)"},
			&cli.StringFlag{Name: "out", Usage: "HDF5 `FILE` to write", Required: true},
		},
		Action: runActivations,
	}
}

func runActivations(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("activations takes no arguments, got %q", c.Args().Slice())
	}
	out := c.String("out")
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return fmt.Errorf("--out %s is a folder; give a file name such as acts.h5", out)
	}
	if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
		return fmt.Errorf("--out %s: the folder %s does not exist", out, filepath.Dir(out))
	}
	var inputs []*ops.Tensor
	for _, p := range c.StringSlice("input") {
		t, err := readInputNpy(p)
		if err != nil {
			return fmt.Errorf("--input %s: %w", p, err)
		}
		inputs = append(inputs, t)
	}
	lm, err := loadKerasModel(c.String("model"))
	if err != nil {
		return err
	}
	if err := checkInputs(lm.Model, inputs, c.StringSlice("input")); err != nil {
		return err
	}
	layers := lm.kerasLayers()
	if s := strings.TrimSpace(c.String("layers")); s != "" {
		var pick []kerasLayer
		for _, n := range strings.Split(s, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				continue
			}
			l, ok := findKerasLayer(layers, n)
			if !ok {
				return fmt.Errorf("--layers: %w", unknownLayer(lm.Model, layers, n))
			}
			if _, dup := findKerasLayer(pick, n); dup {
				return fmt.Errorf("--layers names %q twice", n)
			}
			pick = append(pick, l)
		}
		layers = pick
	}
	outs, err := lm.outputs(inputs, layers)
	if err != nil {
		return err
	}
	af := &keras.ArrayFile{Attrs: map[string][]string{
		"format": {activationsFormat},
		"model":  {filepath.Base(c.String("model"))},
		"writer": {"kerago vgg16 activations"},
	}}
	var names []string
	for i, x := range inputs {
		af.Arrays = append(af.Arrays, keras.Array{Path: fmt.Sprintf("inputs/%d", i), Shape: x.Shape, Data: x.Data,
			Attrs: map[string]string{"name": lm.Model.Inputs()[i].Layer.Base().Name()}})
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Layer (class)\tOutput shape\tRange\n")
	for i, l := range layers {
		y := outs[i]
		names = append(names, l.name)
		af.Arrays = append(af.Arrays, keras.Array{Path: "outputs/" + l.name, Shape: y.Shape, Data: y.Data,
			Attrs: map[string]string{"class_name": l.class}})
		lo, hi := minMax(y.Data)
		fmt.Fprintf(tw, "%s (%s)\t%s\t[%.4g, %.4g]\n", l.name, l.class, kerasShapeString(y.Shape), lo, hi)
	}
	af.Attrs["layer_names"] = names
	if err := keras.WriteArrayFile(out, af); err != nil {
		return err
	}
	tw.Flush()
	fmt.Fprintf(c.App.Writer, "wrote %d layer outputs to %s\n", len(layers), out)
	return nil
}

// ---- verify ----

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check that a Keras model runs the same in Go as in Keras, layer by layer",
		Description: `Compares Go's output of every layer with a reference file written where
Keras is installed by

    python3 scripts/keras_reference.py MODEL [--input X.npy] --out REF.h5

(the file holds the inputs and every layer's output as Keras computed them).
For each layer it prints the largest difference, the largest Keras value and
their ratio; it fails (exit status 1) if a ratio exceeds --tolerance, if a
shape differs, or if a layer of the reference is missing from the Go model.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "Keras model `FILE` (.h5 or .keras)", Required: true},
			&cli.StringFlag{Name: "reference", Usage: "reference `REF.h5` written by scripts/keras_reference.py", Required: true},
			&cli.Float64Flag{Name: "tolerance", Usage: "largest allowed max|Go-Keras| / max|Keras| per layer", Value: 1e-4},
		},
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("verify takes no arguments, got %q", c.Args().Slice())
	}
	tol := c.Float64("tolerance")
	if !(tol >= 0) {
		return fmt.Errorf("--tolerance %g: want a number >= 0", tol)
	}
	refPath := c.String("reference")
	if _, err := os.Stat(refPath); err != nil {
		return fmt.Errorf("--reference: %w", err)
	}
	ref, err := keras.ReadArrayFile(refPath, 0)
	if err != nil {
		return fmt.Errorf("--reference: %w", err)
	}
	if f := ref.Attr("format"); f != activationsFormat {
		return fmt.Errorf("--reference %s: not a reference file (format %q, want %q); write one with scripts/keras_reference.py", refPath, f, activationsFormat)
	}
	lm, err := loadKerasModel(c.String("model"))
	if err != nil {
		return err
	}
	var inputs []*ops.Tensor
	for i := 0; ; i++ {
		a := ref.Array(fmt.Sprintf("inputs/%d", i))
		if a == nil {
			break
		}
		inputs = append(inputs, &ops.Tensor{Shape: a.Shape, Data: a.Data})
	}
	var names []string
	for i := range inputs {
		names = append(names, fmt.Sprintf("%s:inputs/%d", refPath, i))
	}
	if err := checkInputs(lm.Model, inputs, names); err != nil {
		return fmt.Errorf("--reference: %w", err)
	}
	refNames := ref.Attrs["layer_names"]
	if len(refNames) == 0 {
		for _, a := range ref.Arrays {
			if n, ok := strings.CutPrefix(a.Path, "outputs/"); ok {
				refNames = append(refNames, n)
			}
		}
	}
	if len(refNames) == 0 {
		return fmt.Errorf("--reference %s holds no layer outputs", refPath)
	}
	all := lm.kerasLayers()
	var layers []kerasLayer
	var missing []string
	for _, n := range refNames {
		if l, ok := findKerasLayer(all, n); ok {
			layers = append(layers, l)
		} else {
			missing = append(missing, n)
		}
	}
	outs, err := lm.outputs(inputs, layers)
	if err != nil {
		return err
	}
	w := c.App.Writer
	who := ref.Attr("keras_module")
	if v := ref.Attr("keras_version"); v != "" {
		who += " " + v
	}
	if b := ref.Attr("backend"); b != "" {
		who += " (" + b + ")"
	}
	var inShapes []string
	for _, x := range inputs {
		inShapes = append(inShapes, kerasShapeString(x.Shape))
	}
	fmt.Fprintf(w, "model:      %s (model %q)\n", c.String("model"), lm.Model.Name())
	fmt.Fprintf(w, "reference:  %s, computed by %s on inputs %s\n\n", refPath, strings.TrimSpace(who), strings.Join(inShapes, ", "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Layer (class)\tOutput shape\tmax|Go-Keras|\tmax|Keras|\trelative\t")
	worst, worstName := 0.0, ""
	var failed []string
	for i, l := range layers {
		want := ref.Array("outputs/" + l.name)
		if want == nil {
			failed = append(failed, l.name)
			fmt.Fprintf(tw, "%s (%s)\t-\t-\t-\t-\tFAIL: no outputs/%s in the reference\n", l.name, l.class, l.name)
			continue
		}
		got := outs[i]
		if !slices.Equal(got.Shape, want.Shape) {
			failed = append(failed, l.name)
			fmt.Fprintf(tw, "%s (%s)\t%s\t-\t-\t-\tFAIL: Keras's output is %s\n", l.name, l.class, kerasShapeString(got.Shape), kerasShapeString(want.Shape))
			continue
		}
		diff, scale := maxDiff(got.Data, want.Data)
		rel := diff
		if scale > 0 {
			rel = diff / scale
		}
		status := "ok"
		if !(rel <= tol) {
			status = "FAIL"
			failed = append(failed, l.name)
		}
		if rel > worst || math.IsNaN(rel) || worstName == "" {
			worst, worstName = rel, l.name
		}
		fmt.Fprintf(tw, "%s (%s)\t%s\t%.3g\t%.4g\t%.3g\t%s\n", l.name, l.class, kerasShapeString(got.Shape), diff, scale, rel, status)
	}
	for _, n := range missing {
		fmt.Fprintf(tw, "%s\t-\t-\t-\t-\tFAIL: the Go model has no such layer\n", n)
	}
	tw.Flush()
	failed = append(failed, missing...)
	fmt.Fprintf(w, "\n%d layers compared; worst %s: %.3g of max|Keras| (tolerance %g)\n", len(layers), worstName, worst, tol)
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d layers do not match Keras within %g: %s", len(failed), len(refNames), tol, strings.Join(failed, ", "))
	}
	fmt.Fprintln(w, "PASS: Go computes what Keras computes")
	return nil
}

// maxDiff returns max|a-b| and max|b| (over finite b). Where only one side
// is NaN, or infinities differ, the difference is +Inf.
func maxDiff(a, b []float32) (diff, scale float64) {
	for i := range b {
		x, y := float64(a[i]), float64(b[i])
		if !math.IsInf(y, 0) && !math.IsNaN(y) {
			scale = math.Max(scale, math.Abs(y))
		}
		switch {
		case x == y || math.IsNaN(x) && math.IsNaN(y):
		case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0):
			diff = math.Inf(1)
		default:
			diff = math.Max(diff, math.Abs(x-y))
		}
	}
	return diff, scale
}

// ---- shared: models, layers, inputs ----

// kerasModel is a model loaded from a Keras file with what is needed to
// show its layers' outputs in Keras's layout.
type kerasModel struct {
	*keras.Loaded
}

// kerasLayer is one layer of Keras's model.layers.
type kerasLayer struct {
	name, class string
	layer       graph.Layer
}

func loadKerasModel(path string) (*kerasModel, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("--model: %w", err)
	}
	l, err := keras.Load(path, keras.LoadOptions{})
	if err != nil {
		return nil, fmt.Errorf("--model %s: %w", path, err)
	}
	return &kerasModel{l}, nil
}

// kerasLayers lists the model's layers as Keras's model.layers does (the
// Permute layers a loader inserts for channels_first models left out),
// with their Keras class names.
func (m *kerasModel) kerasLayers() []kerasLayer {
	classes := map[string]string{}
	for _, li := range m.Info.Layers {
		classes[li.Name] = li.Class
	}
	var out []kerasLayer
	for _, l := range m.Model.Layers() {
		if p, ok := l.(*graph.PermuteLayer); ok && p.Auto {
			continue
		}
		name := l.Base().Name()
		class := classes[name]
		if class == "" {
			class = l.Base().Class()
		}
		out = append(out, kerasLayer{name, class, l})
	}
	return out
}

func findKerasLayer(ls []kerasLayer, name string) (kerasLayer, bool) {
	for _, l := range ls {
		if l.name == name {
			return l, true
		}
	}
	return kerasLayer{}, false
}

func unknownLayer(m *graph.Model, ls []kerasLayer, name string) error {
	var names []string
	for _, l := range ls {
		names = append(names, l.name)
	}
	return fmt.Errorf("model %q has no layer %q; its layers are: %s", m.Name(), name, strings.Join(names, ", "))
}

// outputs runs the model and returns the first in-model call output of
// each layer, in Keras's layout (NCHW for the channels_first layers the
// loader runs as NHWC).
func (m *kerasModel) outputs(inputs []*ops.Tensor, layers []kerasLayer) ([]*ops.Tensor, error) {
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = l.name
	}
	acts, err := m.Model.Activations(inputs, names...)
	if err != nil {
		return nil, err
	}
	out := make([]*ops.Tensor, len(layers))
	for i, l := range layers {
		t := acts[l.name]
		if t == nil {
			return nil, fmt.Errorf("layer %q has no output in the model's graph", l.name)
		}
		if m.NHWC[l.name] && len(t.Shape) == 4 {
			t = nhwcToNCHW(t)
		}
		out[i] = t
	}
	return out, nil
}

// nhwcToNCHW transposes (N, H, W, C) to (N, C, H, W).
func nhwcToNCHW(t *ops.Tensor) *ops.Tensor {
	n, h, w, c := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	out := ops.New(n, c, h, w)
	for b := 0; b < n; b++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				src := t.Data[((b*h+y)*w+x)*c:][:c]
				for k, v := range src {
					out.Data[((b*c+k)*h+y)*w+x] = v
				}
			}
		}
	}
	return out
}

// checkInputs compares the inputs with the model's, with a hint when the
// batch axis is missing.
func checkInputs(m *graph.Model, inputs []*ops.Tensor, names []string) error {
	ins := m.Inputs()
	if len(inputs) != len(ins) {
		var want []string
		for _, n := range ins {
			want = append(want, fmt.Sprintf("%s %s", n.Layer.Base().Name(), n.Shape))
		}
		return fmt.Errorf("model %q takes %d inputs (%s), %d given", m.Name(), len(ins), strings.Join(want, ", "), len(inputs))
	}
	for i, x := range inputs {
		want := ins[i].Shape
		ok := len(x.Shape) == len(want)+1
		for j := 0; ok && j < len(want); j++ {
			ok = want[j] < 0 || want[j] == x.Shape[j+1]
		}
		if ok {
			continue
		}
		hint := ""
		if len(x.Shape) == len(want) {
			hint = " (the batch axis is missing: np.expand_dims(x, 0) adds it)"
		}
		return fmt.Errorf("%s has shape %s, the model's input %q takes %s%s", names[i], kerasShapeString(x.Shape), ins[i].Layer.Base().Name(), want, hint)
	}
	return nil
}

// newNpyReader is npyio.NewReader, whose header parser panics on some
// malformed headers (e.g. one without its closing newline); the panic
// becomes an error.
func newNpyReader(r io.Reader) (rd *npyio.Reader, err error) {
	defer func() {
		if recover() != nil {
			rd, err = nil, errors.New("the header dictionary cannot be parsed (write the file with numpy.save)")
		}
	}()
	return npyio.NewReader(r)
}

// readInputNpy reads a float32 or float64 .npy file as a float32 tensor,
// checking its header against the file size before reading.
func readInputNpy(path string) (*ops.Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// The header: magic, version, header length (2 bytes in format 1, 4 in
	// 2 and 3), then the header text.
	var pre [12]byte
	if _, err := io.ReadFull(f, pre[:10]); err != nil || string(pre[:6]) != "\x93NUMPY" {
		return nil, errors.New("not a NumPy .npy file (no \\x93NUMPY magic)")
	}
	hdrEnd := int64(10) + int64(binary.LittleEndian.Uint16(pre[8:10]))
	if pre[6] >= 2 {
		if _, err := io.ReadFull(f, pre[10:12]); err != nil {
			return nil, errors.New("truncated .npy header")
		}
		hdrEnd = 12 + int64(binary.LittleEndian.Uint32(pre[8:12]))
	}
	if hdrEnd > st.Size() || hdrEnd > 1<<20 {
		return nil, errors.New("truncated or damaged .npy header")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	r, err := newNpyReader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("bad .npy header: %w", err)
	}
	d := r.Header.Descr
	if d.Fortran {
		return nil, errors.New("Fortran-ordered array: save it with np.save(path, np.ascontiguousarray(x))")
	}
	var size int64
	switch d.Type {
	case "<f4", ">f4", "|f4":
		size = 4
	case "<f8", ">f8", "|f8":
		size = 8
	default:
		return nil, fmt.Errorf("dtype %s: want float32 or float64 (x.astype(np.float32))", d.Type)
	}
	if len(d.Shape) == 0 || len(d.Shape) > 8 {
		return nil, fmt.Errorf("array of rank %d: want a batch-first array of rank 1 to 8", len(d.Shape))
	}
	n := int64(1)
	for _, s := range d.Shape {
		if s <= 0 {
			return nil, fmt.Errorf("shape %v has an empty dimension", d.Shape)
		}
		n *= int64(s)
		if n*size > st.Size() {
			return nil, fmt.Errorf("shape %v needs more data than the file's %d bytes", d.Shape, st.Size())
		}
	}
	if hdrEnd+n*size != st.Size() {
		return nil, fmt.Errorf("shape %v needs %d bytes of data, the file has %d", d.Shape, n*size, st.Size()-hdrEnd)
	}
	var data []float32
	if size == 4 {
		if err := r.Read(&data); err != nil {
			return nil, err
		}
	} else {
		var d64 []float64
		if err := r.Read(&d64); err != nil {
			return nil, err
		}
		data = make([]float32, len(d64))
		for i, v := range d64 {
			data[i] = float32(v)
		}
	}
	if int64(len(data)) != n {
		return nil, fmt.Errorf("read %d values, shape %v needs %d", len(data), d.Shape, n)
	}
	return ops.FromData(data, d.Shape...)
}
