package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// predictDataFlags are the flags predict gets for --data (see predict.go).
func predictDataFlags() []cli.Flag {
	return append(datasetFlags(),
		&cli.StringFlag{Name: "csv", Usage: "with --data: write path,label,predicted,one probability column per class to `FILE` (- for stdout)"},
	)
}

// filePrediction is one row of predict --data.
type filePrediction struct {
	Path          string             `json:"path"`
	Label         string             `json:"label,omitempty"` // the class folder, when the folder has them
	Predicted     string             `json:"predicted"`
	Probabilities map[string]float32 `json:"probabilities"`
	Outputs       []float32          `json:"outputs"`
}

// runPredictData is predict --data DIR: every image of an image folder
// through a classifier trained on such folders (the course's Exercise 5
// model, with its single sigmoid output, included).
//
// Class names are the folder's class sub-folders (sorted, as
// image_dataset_from_directory numbers them when training) unless
// --class-names gives them, in which case every image under DIR is
// predicted, sub-folders or not. A single sigmoid output p is the
// probability of the second class: the first gets 1 - p.
func runPredictData(c *cli.Context) error {
	if len(c.StringSlice("image")) > 0 {
		return errors.New("give either --image or --data, not both")
	}
	if c.String("model") == "" {
		return errors.New("--data needs --model: a classifier trained on folders of images")
	}
	sc, err := parseScaling(c)
	if err != nil {
		return err
	}
	lm, err := loadModel(c, true)
	if err != nil {
		return err
	}
	head, err := newOutputHead(lm.model)
	if err != nil {
		return err
	}
	k := lm.model.Outputs()[0].Shape[0]
	names := classNamesFlag(c)
	mode := "int"
	if names != nil {
		mode = "none"
	}
	ds, err := openDataset(c, lm.model, mode, c.App.ErrWriter)
	if err != nil {
		return err
	}
	labelled := names == nil
	if labelled {
		names = ds.ClassNames
	}
	if want := max(k, 2); len(names) != want {
		return fmt.Errorf("model %q has %d output(s), for %d classes; got %d class names (%s): give --class-names",
			lm.model.Name(), k, want, len(names), strings.Join(names, ", "))
	}
	var rows []filePrediction
	bar := newProgress(c, ds.Len(), "predicting")
	it := ds.Iter(c.Context)
	defer it.Close()
	for it.Next() {
		b := it.Batch()
		if err := sc.apply(b.Images); err != nil {
			return err
		}
		if err := lm.pre.Apply(b.Images); err != nil {
			return fmt.Errorf("--preprocess %s: %w", lm.pre, err)
		}
		probs, _, err := head.run(b.Images)
		if err != nil {
			return err
		}
		for i, p := range b.Paths {
			out := append([]float32(nil), probs.Data[i*k:(i+1)*k]...)
			r := filePrediction{Path: p, Predicted: names[predictedClass(out)], Outputs: out, Probabilities: map[string]float32{}}
			if k == 1 {
				r.Probabilities[names[0]] = 1 - out[0]
				r.Probabilities[names[1]] = out[0]
			} else {
				for j, n := range names {
					r.Probabilities[n] = out[j]
				}
			}
			if labelled {
				r.Label = names[b.Classes[i]]
			}
			rows = append(rows, r)
		}
		if bar != nil {
			bar.Add(len(b.Paths))
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if f := c.String("csv"); f != "" {
		return writePredictionCSV(c, f, names, rows)
	}
	w := c.App.Writer
	if c.Bool("json") {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"model": lm.source, "class_names": names, "scaling": sc.spec, "predictions": rows})
	}
	fmt.Fprintln(w, lm.source)
	fmt.Fprintf(w, "%d images, %dx%d %s, %s\n", ds.Len(), ds.ImageSize[0], ds.ImageSize[1], ds.Interpolation, sc.spec)
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Path))
	}
	for _, r := range rows {
		var ps []string
		for _, n := range names {
			ps = append(ps, fmt.Sprintf("%s %.4f", n, r.Probabilities[n]))
		}
		mark := ""
		if r.Label != "" && r.Label != r.Predicted {
			mark = "  (wrong: in " + r.Label + ")"
		}
		fmt.Fprintf(w, "%-*s  %s  [%s]%s\n", width, r.Path, r.Predicted, strings.Join(ps, ", "), mark)
	}
	return nil
}

func writePredictionCSV(c *cli.Context, path string, names []string, rows []filePrediction) (err error) {
	w := c.App.Writer
	if path != "-" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
		defer func() {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("--csv: %w", cerr)
			}
		}()
		w = f
	}
	cw := csv.NewWriter(w)
	cw.Write(append([]string{"path", "label", "predicted"}, names...))
	for _, r := range rows {
		rec := []string{r.Path, r.Label, r.Predicted}
		for _, n := range names {
			rec = append(rec, strconv.FormatFloat(float64(r.Probabilities[n]), 'g', -1, 32))
		}
		cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("--csv: %w", err)
	}
	return nil
}
