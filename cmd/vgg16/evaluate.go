package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/keras/trainingconfig"
	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/preprocess"
)

func init() { register(evaluateCommand) }

func evaluateCommand() *cli.Command {
	return &cli.Command{
		Name:  "evaluate",
		Usage: "evaluate a trained classifier on an image folder: loss, accuracy, per-class accuracy, confusion matrix",
		Description: `Reads --data as keras.utils.image_dataset_from_directory does (one
sub-folder per class, classes in sorted order, images resized with
TensorFlow's bilinear filter), scales the images (--rescale 1/255 is the
course's dataset.map(image / 255.)) and computes what model.evaluate reports:
the loss the model was compiled with (from the file's training config, or
--loss) and the accuracy, plus the accuracy of each class and the confusion
matrix. Like Keras, the loss of a model ending in sigmoid or softmax is
computed from the logits. A progress bar goes to stderr.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "the trained Keras model `FILE` (.h5 or .keras)", Required: true},
			&cli.StringFlag{Name: "weights", Usage: "load the weights from this `FILE` instead"},
			&cli.StringFlag{Name: "loss", Usage: "binary_crossentropy, categorical_crossentropy or sparse_categorical_crossentropy (default: the file's training config)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a report"},
		}, datasetFlags()...),
		Action: runEvaluate,
	}
}

// datasetFlags are the flags that say how an image folder is read; they
// are shared by evaluate and predict --data.
func datasetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "data", Usage: "image `DIR` with one sub-folder per class (image_dataset_from_directory)"},
		&cli.StringFlag{Name: "image-size", Usage: "resize images to `H,W` (default: the model's input size)"},
		&cli.IntFlag{Name: "batch-size", Usage: "images per batch", Value: 32},
		&cli.StringFlag{Name: "interpolation", Usage: "bilinear, nearest, bicubic, area, lanczos3, lanczos5, gaussian or mitchellcubic (TensorFlow's, no antialiasing)", Value: "bilinear"},
		&cli.BoolFlag{Name: "crop-to-aspect-ratio", Usage: "resize the largest centred crop with the target aspect ratio"},
		&cli.StringFlag{Name: "class-names", Usage: "comma-separated class `NAMES`: the sub-folders to use, in label order (default: all, sorted)"},
		&cli.StringFlag{Name: "rescale", Usage: "scale the pixels: 1/255 divides by 255 (the course's image / 255.), a plain number multiplies"},
		&cli.BoolFlag{Name: "samplewise-center", Usage: "subtract each image's mean (ImageDataGenerator samplewise_center)"},
		&cli.BoolFlag{Name: "samplewise-std-normalization", Usage: "divide each centred image by its standard deviation (ImageDataGenerator; implies --samplewise-center)"},
		&cli.IntFlag{Name: "workers", Usage: "decoding goroutines (default: one per CPU)"},
		&cli.BoolFlag{Name: "no-progress", Usage: "no progress bar"},
	}
}

// scaling is the pixel scaling of --rescale and the samplewise flags.
type scaling struct {
	divide float32 // x / divide when > 0
	std    preprocess.Standardize
	spec   string
}

func parseScaling(c *cli.Context) (scaling, error) {
	s := scaling{std: preprocess.Standardize{
		SamplewiseCenter:           c.Bool("samplewise-center"),
		SamplewiseStdNormalization: c.Bool("samplewise-std-normalization"),
	}}
	var parts []string
	if r := strings.TrimSpace(c.String("rescale")); r != "" {
		num, den, frac := strings.Cut(r, "/")
		a, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsInf(a, 0) || math.IsNaN(a) || a == 0 {
			return s, fmt.Errorf("--rescale %q: want 1/255 or a number", r)
		}
		switch {
		case frac:
			d, err := strconv.ParseFloat(strings.TrimSpace(den), 64)
			if err != nil || d == 0 || a != 1 || math.IsInf(d, 0) || math.IsNaN(d) {
				return s, fmt.Errorf("--rescale %q: want 1/D (D nonzero) or a number", r)
			}
			s.divide = float32(d)
			parts = append(parts, "x / "+strconv.FormatFloat(d, 'g', -1, 32))
		default:
			s.std.Rescale = float32(a)
			parts = append(parts, "x * "+strconv.FormatFloat(a, 'g', -1, 32))
		}
	}
	if s.std.SamplewiseCenter || s.std.SamplewiseStdNormalization {
		parts = append(parts, "minus its mean")
	}
	if s.std.SamplewiseStdNormalization {
		parts = append(parts, "divided by its std + 1e-6")
	}
	s.spec = "pixels 0..255"
	if len(parts) > 0 {
		s.spec = strings.Join(parts, ", ")
	}
	return s, nil
}

func (s scaling) apply(x *ops.Tensor) error {
	if s.divide > 0 {
		if err := preprocess.DivideBy(x, s.divide); err != nil {
			return err
		}
	}
	return s.std.Apply(x)
}

// openDataset reads --data for a model whose input is (H, W, C). Label
// mode "none" reads every image under the folder, without labels;
// otherwise --class-names picks the class sub-folders.
func openDataset(c *cli.Context, m *graph.Model, labelMode string, log io.Writer) (*preprocess.Dataset, error) {
	dir := c.String("data")
	if dir == "" {
		return nil, errors.New("--data DIR is required")
	}
	in := m.Inputs()[0].Shape
	if len(in) != 3 {
		return nil, fmt.Errorf("model %q takes inputs of shape %s, not images", m.Name(), in)
	}
	var size [2]int
	if s := strings.TrimSpace(c.String("image-size")); s != "" {
		d, err := parseDims(s, 2, false)
		if err != nil {
			return nil, fmt.Errorf("--image-size %q: %w", s, err)
		}
		size = [2]int{d[0], d[1]}
		if in[0] > 0 && in[1] > 0 && (size[0] != in[0] || size[1] != in[1]) {
			return nil, fmt.Errorf("--image-size %q: the model's input is %dx%d", s, in[0], in[1])
		}
	} else if in[0] > 0 && in[1] > 0 {
		size = [2]int{in[0], in[1]}
	} else {
		return nil, fmt.Errorf("model %q accepts any image size: give --image-size H,W", m.Name())
	}
	color := ""
	switch in[2] {
	case 1:
		color = "grayscale"
	case 3, -1:
		color = "rgb"
	case 4:
		color = "rgba"
	default:
		return nil, fmt.Errorf("model %q takes %d-channel inputs, not images", m.Name(), in[2])
	}
	var classes []string
	if labelMode != "none" {
		classes = classNamesFlag(c)
	}
	if c.Int("batch-size") <= 0 {
		return nil, fmt.Errorf("--batch-size %d: must be positive", c.Int("batch-size"))
	}
	ds, err := preprocess.DatasetFromDirectory(dir, preprocess.DatasetOptions{
		LabelMode: labelMode, ClassNames: classes, ColorMode: color, BatchSize: c.Int("batch-size"),
		ImageSize: size, NoShuffle: true, Interpolation: c.String("interpolation"),
		CropToAspectRatio: c.Bool("crop-to-aspect-ratio"), Log: log, Workers: c.Int("workers"),
	})
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	return ds, nil
}

// classNamesFlag splits --class-names; nil when not given.
func classNamesFlag(c *cli.Context) []string {
	var classes []string
	if s := strings.TrimSpace(c.String("class-names")); s != "" {
		for _, n := range strings.Split(s, ",") {
			classes = append(classes, strings.TrimSpace(n))
		}
	}
	return classes
}

// newProgress returns a progress bar over n images on w, or nil.
func newProgress(c *cli.Context, n int, what string) *progressbar.ProgressBar {
	if c.Bool("no-progress") {
		return nil
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(c.App.ErrWriter),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.App.ErrWriter) }),
	)
}

// outputHead describes how a model's output is computed, so that the loss
// can use the logits as Keras does.
type outputHead struct {
	model      *graph.Model // outputs: the model's output, then its last layer's input (when logits are known)
	activation string       // "sigmoid", "softmax" or "" (no logits available)
	dense      *graph.DenseLayer
	layer      string
}

func newOutputHead(m *graph.Model) (*outputHead, error) {
	if len(m.Inputs()) != 1 || len(m.Outputs()) != 1 {
		return nil, fmt.Errorf("model %q has %d inputs and %d outputs; one of each is needed", m.Name(), len(m.Inputs()), len(m.Outputs()))
	}
	out := m.Outputs()[0]
	if len(out.Shape) != 1 || out.Shape[0] <= 0 {
		return nil, fmt.Errorf("model %q outputs shape %s, not a vector of class scores", m.Name(), out.Shape)
	}
	h := &outputHead{model: m, layer: out.Layer.Base().Name()}
	switch l := out.Layer.(type) {
	case *graph.DenseLayer:
		if l.Activation == "sigmoid" || l.Activation == "softmax" {
			h.activation, h.dense = l.Activation, l
		}
	case *graph.ActivationLayer:
		if l.Activation == "sigmoid" || l.Activation == "softmax" {
			h.activation = l.Activation
		}
	case *graph.SoftmaxLayer:
		h.activation = "softmax"
	}
	if h.activation == "" || len(out.Inputs) != 1 {
		h.activation = ""
		return h, nil
	}
	two, err := graph.NewModel(m.Inputs(), []*graph.Node{out, out.Inputs[0]}, m.Name()+"_with_logits")
	if err != nil {
		return nil, err
	}
	h.model = two
	return h, nil
}

// run returns the model's outputs (n, k) and, when known, its logits.
func (h *outputHead) run(x *ops.Tensor) (probs, logits *ops.Tensor, err error) {
	ys, err := h.model.Predict(x)
	if err != nil {
		return nil, nil, err
	}
	if h.activation == "" {
		return ys[0], nil, nil
	}
	probs, pre := ys[0], ys[1]
	if h.dense == nil {
		return probs, pre, nil
	}
	w := h.dense.Weights()
	k := w[0].Shape[0]
	n := len(pre.Data) / k
	logits = ops.New(probs.Shape...)
	var bias []float32
	if h.dense.UseBias {
		bias = w[1].Data
	}
	ops.Dense(logits.Data, pre.Data, w[0].Data, bias, n, k, h.dense.Units)
	return probs, logits, nil
}

// lossSpec is the loss to compute.
type lossSpec struct {
	name           string // binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy
	fromLogits     bool   // the model outputs logits (the loss's from_logits)
	labelSmoothing float64
	source         string // where the loss came from
	keras3         bool   // Keras 3's probability formula (no extra epsilon inside the log)
}

func (l lossSpec) labelMode() string {
	switch l.name {
	case "binary_crossentropy":
		return "binary"
	case "categorical_crossentropy":
		return "categorical"
	}
	return "int"
}

func lossOf(c *cli.Context, path string, info *keras.FileInfo) (lossSpec, error) {
	l := lossSpec{keras3: info != nil && strings.HasPrefix(info.KerasVersion, "3")}
	if s := c.String("loss"); s != "" {
		cfg, err := trainingconfig.Parse([]byte(fmt.Sprintf(`{"loss": %q}`, s)))
		if err != nil {
			return l, fmt.Errorf("--loss: %w", err)
		}
		l.name, l.source = cfg.Loss, "--loss"
	} else {
		cfg, err := trainingconfig.Read(path)
		if errors.Is(err, trainingconfig.ErrNoTrainingConfig) {
			return l, fmt.Errorf("--model %s was saved without a training config: give --loss", path)
		}
		if err != nil {
			return l, err
		}
		l.name, l.fromLogits, l.labelSmoothing, l.source = cfg.Loss, cfg.FromLogits, cfg.LabelSmoothing, "training config"
	}
	switch l.name {
	case "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy":
		return l, nil
	}
	return l, fmt.Errorf("loss %q (%s): evaluate computes binary_crossentropy, categorical_crossentropy and sparse_categorical_crossentropy; give --loss", l.name, l.source)
}

const epsilon = 1e-7 // keras.backend.epsilon()

// sampleLoss is the loss of one sample: outputs p (and logits z when the
// model's last activation is known), label y.
func (l lossSpec) sampleLoss(p, z []float32, y int) float64 {
	k := len(p)
	if z == nil && l.fromLogits {
		z = p
	}
	switch l.name {
	case "binary_crossentropy":
		t := float64(y)
		if l.labelSmoothing != 0 {
			t = t*(1-l.labelSmoothing) + 0.5*l.labelSmoothing
		}
		if z != nil { // tf.nn.sigmoid_cross_entropy_with_logits
			x := float64(z[0])
			return math.Max(x, 0) - x*t + math.Log1p(math.Exp(-math.Abs(x)))
		}
		q := math.Min(math.Max(float64(p[0]), epsilon), 1-epsilon)
		if l.keras3 {
			return -(t*math.Log(q) + (1-t)*math.Log(1-q))
		}
		return -(t*math.Log(q+epsilon) + (1-t)*math.Log(1-q+epsilon))
	default: // categorical and sparse categorical
		target := make([]float64, k)
		if y >= 0 && y < k {
			target[y] = 1
		}
		if l.labelSmoothing != 0 && l.name == "categorical_crossentropy" {
			for i := range target {
				target[i] = target[i]*(1-l.labelSmoothing) + l.labelSmoothing/float64(k)
			}
		}
		var logp []float64
		if z != nil {
			logp = logSoftmax64(z)
		} else if l.name == "sparse_categorical_crossentropy" {
			// log of the clipped probabilities, then softmax cross-entropy
			// on them as if they were logits.
			lp := make([]float32, k)
			for i, v := range p {
				lp[i] = float32(math.Log(math.Min(math.Max(float64(v), epsilon), 1-epsilon)))
			}
			logp = logSoftmax64(lp)
		} else {
			var sum float64
			for _, v := range p {
				sum += float64(v)
			}
			logp = make([]float64, k)
			for i, v := range p {
				logp[i] = math.Log(math.Min(math.Max(float64(v)/sum, epsilon), 1-epsilon))
			}
		}
		var loss float64
		for i := range target {
			loss -= target[i] * logp[i]
		}
		return loss
	}
}

func logSoftmax64(z []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(s)
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = float64(v) - lse
	}
	return out
}

// predictedClass is the class the accuracy metric credits: output > 0.5
// for a single output (binary_accuracy), the first largest output
// otherwise (argmax, as categorical_accuracy).
func predictedClass(p []float32) int {
	if len(p) == 1 {
		if p[0] > 0.5 {
			return 1
		}
		return 0
	}
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// classResult is one class's line of the report.
type classResult struct {
	Class    string  `json:"class"`
	Count    int     `json:"count"`
	Correct  int     `json:"correct"`
	Accuracy float64 `json:"accuracy"`
}

type evalResult struct {
	Model           string        `json:"model"`
	Data            string        `json:"data"`
	Images          int           `json:"images"`
	ClassNames      []string      `json:"class_names"`
	ImageSize       [2]int        `json:"image_size"`
	Interpolation   string        `json:"interpolation"`
	Scaling         string        `json:"scaling"`
	LossName        string        `json:"loss_name"`
	LossSource      string        `json:"loss_source"`
	LossFrom        string        `json:"loss_from"`
	Loss            float64       `json:"loss"`
	Accuracy        float64       `json:"accuracy"`
	Correct         int           `json:"correct"`
	PerClass        []classResult `json:"per_class"`
	Confusion       [][]int       `json:"confusion_matrix"`
	Seconds         float64       `json:"seconds"`
	ImagesPerSecond float64       `json:"images_per_second"`
}

func runEvaluate(c *cli.Context) error {
	if c.NArg() > 0 {
		return fmt.Errorf("evaluate takes no arguments, got %q", c.Args().Slice())
	}
	sc, err := parseScaling(c)
	if err != nil {
		return err
	}
	path := c.String("model")
	l, err := keras.Load(path, keras.LoadOptions{})
	if err != nil {
		return fmt.Errorf("--model: %w", err)
	}
	if w := c.String("weights"); w != "" {
		if err := l.LoadWeights(w, keras.LoadWeightsOptions{}); err != nil {
			return fmt.Errorf("--weights: %w", err)
		}
	}
	loss, err := lossOf(c, path, l.Info)
	if err != nil {
		return err
	}
	head, err := newOutputHead(l.Model)
	if err != nil {
		return err
	}
	k := l.Model.Outputs()[0].Shape[0]
	ds, err := openDataset(c, l.Model, loss.labelMode(), c.App.ErrWriter)
	if err != nil {
		return err
	}
	nc := len(ds.ClassNames)
	switch {
	case loss.name == "binary_crossentropy" && k != 1:
		return fmt.Errorf("binary_crossentropy needs one output, model %q has %d", l.Model.Name(), k)
	case loss.name != "binary_crossentropy" && k != nc:
		return fmt.Errorf("model %q predicts %d classes, --data has %d (%s)", l.Model.Name(), k, nc, strings.Join(ds.ClassNames, ", "))
	}
	res, err := evaluate(c.Context, ds, head, loss, sc, newProgress(c, ds.Len(), "evaluating"))
	if err != nil {
		return err
	}
	res.Model = fmt.Sprintf("%s (%q)", path, l.Model.Name())
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	printEvaluation(w, res)
	return nil
}

// evaluate runs the model over the dataset and accumulates the report.
func evaluate(ctx context.Context, ds *preprocess.Dataset, head *outputHead, loss lossSpec, sc scaling, bar *progressbar.ProgressBar) (*evalResult, error) {
	nc := len(ds.ClassNames)
	res := &evalResult{
		Data: ds.Dir, Images: ds.Len(), ClassNames: ds.ClassNames, ImageSize: ds.ImageSize,
		Interpolation: ds.Interpolation, Scaling: sc.spec, LossName: loss.name, LossSource: loss.source,
		Confusion: make([][]int, nc),
	}
	for i := range res.Confusion {
		res.Confusion[i] = make([]int, nc)
	}
	useLogits := head.activation != "" && (loss.keras3 || // Keras 3 keeps the logits of either activation
		(head.activation == "sigmoid") == (loss.name == "binary_crossentropy")) // tf.keras: the matching op only
	switch {
	case useLogits:
		res.LossFrom = fmt.Sprintf("the logits of %s's %s, as Keras does", head.layer, head.activation)
	case loss.fromLogits:
		res.LossFrom = "the model's outputs (from_logits=True)"
	default:
		res.LossFrom = "the clipped outputs (no sigmoid/softmax found at the end of the model)"
	}
	start := time.Now()
	it := ds.Iter(ctx)
	defer it.Close()
	var total float64
	for it.Next() {
		b := it.Batch()
		if err := sc.apply(b.Images); err != nil {
			return nil, err
		}
		probs, logits, err := head.run(b.Images)
		if err != nil {
			return nil, err
		}
		k := probs.Shape[1]
		for i, y := range b.Classes {
			p := probs.Data[i*k : (i+1)*k]
			var z []float32
			if logits != nil && useLogits {
				z = logits.Data[i*k : (i+1)*k]
			}
			total += loss.sampleLoss(p, z, y)
			pred := predictedClass(p)
			if y >= 0 && y < nc && pred < nc {
				res.Confusion[y][pred]++
			}
			if pred == y {
				res.Correct++
			}
		}
		if bar != nil {
			bar.Add(len(b.Paths))
		}
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.ImagesPerSecond = float64(res.Images) / res.Seconds
	}
	res.Loss = total / float64(res.Images)
	res.Accuracy = float64(res.Correct) / float64(res.Images)
	for ci, name := range ds.ClassNames {
		cr := classResult{Class: name}
		for pj, n := range res.Confusion[ci] {
			cr.Count += n
			if pj == ci {
				cr.Correct = n
			}
		}
		if cr.Count > 0 {
			cr.Accuracy = float64(cr.Correct) / float64(cr.Count)
		}
		res.PerClass = append(res.PerClass, cr)
	}
	return res, nil
}

func printEvaluation(w io.Writer, r *evalResult) {
	fmt.Fprintf(w, "model     %s\n", r.Model)
	fmt.Fprintf(w, "data      %s: %d images, %d classes, %dx%d %s, %s\n", r.Data, r.Images, len(r.ClassNames),
		r.ImageSize[0], r.ImageSize[1], r.Interpolation, r.Scaling)
	fmt.Fprintf(w, "loss      %.6f  %s (%s), from %s\n", r.Loss, r.LossName, r.LossSource, r.LossFrom)
	fmt.Fprintf(w, "accuracy  %.4f  (%d/%d)\n", r.Accuracy, r.Correct, r.Images)
	width := 5
	for _, n := range r.ClassNames {
		width = max(width, len(n))
	}
	fmt.Fprintln(w, "per class:")
	for _, cr := range r.PerClass {
		if cr.Count == 0 {
			fmt.Fprintf(w, "  %-*s  no images\n", width, cr.Class)
			continue
		}
		fmt.Fprintf(w, "  %-*s  %.4f  (%d/%d)\n", width, cr.Class, cr.Accuracy, cr.Correct, cr.Count)
	}
	fmt.Fprintln(w, "confusion matrix (rows: true class, columns: predicted class):")
	fmt.Fprintf(w, "  %-*s", width, "")
	for _, n := range r.ClassNames {
		fmt.Fprintf(w, "  %*s", width, n)
	}
	fmt.Fprintln(w)
	for i, row := range r.Confusion {
		fmt.Fprintf(w, "  %-*s", width, r.ClassNames[i])
		for _, v := range row {
			fmt.Fprintf(w, "  %*d", width, v)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%.1f images/s\n", r.ImagesPerSecond)
}
