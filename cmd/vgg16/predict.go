package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/kerago/kerago/ops"
	"github.com/kerago/kerago/preprocess"
)

func init() { register(predictCommand) }

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:  "predict",
		Usage: "classify images: the top ImageNet classes with their scores",
		Description: `Loads each image as keras.utils.load_img(target_size=(224, 224)) does
(nearest-neighbour resize), preprocesses it (caffe for VGG16) and prints
keras.applications.imagenet_utils.decode_predictions rows: WordNet id, class
name, score. The class index is --class-index FILE, else Keras's cached
imagenet_class_index.json (downloaded like Keras when missing); without it,
or for a model whose output is not 1000 ImageNet classes, classes are shown
by number.`,
		Flags: append(append(append(modelFlags(), imageFlags()...), predictDataFlags()...),
			&cli.StringSliceFlag{Name: "image", Usage: "image `FILE` to classify (repeat for several)"},
			&cli.IntFlag{Name: "top", Usage: "number of classes per image", Value: 5},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.StringFlag{Name: "class-index", Usage: "class index JSON `FILE` ({\"0\": [wnid, name], ...})"},
		),
		Action: runPredict,
	}
}

// predictionRow is one decode_predictions tuple; Class is the class number.
type predictionRow struct {
	Class int     `json:"class"`
	WNID  string  `json:"wnid"`
	Name  string  `json:"name"`
	Score float32 `json:"score"`
}

type imagePredictions struct {
	Image       string          `json:"image"`
	Predictions []predictionRow `json:"predictions"`
}

func runPredict(c *cli.Context) error {
	if c.IsSet("data") { // a folder through a trained classifier: predict_data.go
		return runPredictData(c)
	}
	if len(c.StringSlice("image")) == 0 {
		return fmt.Errorf("predict needs --image FILE (or --data DIR with --model)")
	}
	if c.NArg() > 0 {
		return fmt.Errorf("predict takes images with --image, got extra arguments %q", c.Args().Slice())
	}
	top := c.Int("top")
	if top < 1 {
		return fmt.Errorf("--top %d: want at least 1", top)
	}
	images := c.StringSlice("image")
	for _, p := range images {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("--image: %w", err)
		}
	}
	var index preprocess.ClassIndex
	if p := c.String("class-index"); p != "" {
		idx, err := preprocess.LoadClassIndex(p)
		if err != nil {
			return fmt.Errorf("--class-index: %w", err)
		}
		index = idx
	}
	lm, err := loadModel(c, true)
	if err != nil {
		return err
	}
	if len(lm.model.Outputs()) != 1 {
		return fmt.Errorf("model %q has %d outputs; predict needs one", lm.model.Name(), len(lm.model.Outputs()))
	}
	if s := lm.model.Outputs()[0].Shape; len(s) != 1 {
		return fmt.Errorf("model %q outputs shape %s, not a vector of class scores", lm.model.Name(), s)
	}
	size, err := inputSize(c, lm.model)
	if err != nil {
		return err
	}
	x, err := loadImages(images, size, lm.model, lm.pre)
	if err != nil {
		return err
	}
	ys, err := lm.model.Predict(x)
	if err != nil {
		return err
	}
	y := ys[0]
	classes := y.Shape[1]
	if index == nil && classes == 1000 {
		index = imagenetIndex(c)
	}
	if index != nil && len(index) != classes {
		return fmt.Errorf("--class-index has %d classes, the model predicts %d", len(index), classes)
	}
	results := make([]imagePredictions, len(images))
	for i, p := range images {
		results[i] = imagePredictions{Image: p, Predictions: topK(y, i, top, index)}
	}
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"model": lm.source, "preprocess": lm.pre.String(), "results": results})
	}
	fmt.Fprintln(w, lm.source)
	if lm.random {
		fmt.Fprintln(w, "RANDOM WEIGHTS: these predictions mean nothing")
	}
	for _, r := range results {
		fmt.Fprintln(w, r.Image)
		for k, p := range r.Predictions {
			fmt.Fprintf(w, "  %d. %-10s %-28s %.6f\n", k+1, p.WNID, p.Name, p.Score)
		}
	}
	return nil
}

// imagenetIndex finds Keras's ImageNet class index, downloading it the way
// Keras would when missing; without it, it warns and returns nil.
func imagenetIndex(c *cli.Context) preprocess.ClassIndex {
	path, err := preprocess.ResolveClassIndex()
	if err != nil {
		dest := preprocess.ClassIndexCachePath()
		if derr := preprocess.DownloadClassIndex(c.Context, preprocess.ClassIndexURL, dest); derr != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: %v\nwarning: %v\nwarning: showing class numbers; give --class-index FILE for names\n", err, derr)
			return nil
		}
		path = dest
	}
	idx, err := preprocess.LoadClassIndex(path)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "warning: %v; showing class numbers\n", err)
		return nil
	}
	return idx
}

// topK returns the top classes of row n of y, as decode_predictions orders
// them: by score, highest first; equal scores highest class number first;
// NaN above everything (numpy sorts NaN last, Keras reverses the order).
func topK(y *ops.Tensor, n, top int, index preprocess.ClassIndex) []predictionRow {
	k := y.Shape[1]
	row := y.Data[n*k : (n+1)*k]
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		sa, sb := row[order[a]], row[order[b]]
		na, nb := sa != sa, sb != sb
		switch {
		case na != nb:
			return na
		case !na && sa != sb:
			return sa > sb
		}
		return order[a] > order[b]
	})
	out := make([]predictionRow, min(top, k))
	for i := range out {
		cl := order[i]
		out[i] = predictionRow{Class: cl, Score: row[cl], WNID: "-", Name: fmt.Sprintf("class_%d", cl)}
		if index != nil {
			out[i].WNID, out[i].Name = index[cl].WNID, index[cl].Name
		}
	}
	return out
}
