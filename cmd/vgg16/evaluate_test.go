package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerago/kerago/keras"
)

// The Exercise 5 fixtures come from real Keras: scripts/train_exercise5.py
// trains the course's Exercise 5 network (64x64 inputs) and two tiny
// softmax models with tf.keras 2, saves them with their training config,
// and records model.evaluate (tf.keras 2 and Keras 3) and per-file outputs
// on a folder of PNG copies of the shared cats and dogs, and on the
// original JPEGs.
const ex5 = "../../testdata/exercise5"

type kerasEval struct {
	ClassNames    []string  `json:"class_names"`
	FilePaths     []string  `json:"file_paths"`
	Labels        []int     `json:"labels"`
	Probabilities []float64 `json:"probabilities"`
	TFKeras       struct {
		Loss     float64 `json:"loss"`
		Accuracy float64 `json:"accuracy"`
	} `json:"tf_keras_evaluate"`
	Keras3 struct {
		Loss     float64 `json:"loss"`
		Accuracy float64 `json:"accuracy"`
	} `json:"keras3_evaluate"`
	FromLogits float64 `json:"loss_from_logits"`
	FromProbs  float64 `json:"loss_from_clipped_probabilities"`
}

func readKerasEval(t *testing.T) map[string]kerasEval {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ex5, "keras_eval.json"))
	if err != nil {
		t.Fatalf("fixture missing (scripts/train_exercise5.py): %v", err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		t.Fatal(err)
	}
	out := map[string]kerasEval{}
	for _, k := range []string{"png", "jpeg", "categorical_crossentropy", "sparse_categorical_crossentropy"} {
		var e kerasEval
		if err := json.Unmarshal(all[k], &e); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		out[k] = e
	}
	return out
}

func evalJSON(t *testing.T, args ...string) evalResult {
	t.Helper()
	out := mustRun(t, append([]string{"evaluate", "--json", "--no-progress"}, args...)...)
	var r evalResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// checkAgainstKeras compares an evaluation with Keras's: the same number of
// images right (Keras's accuracy is a float32 count/total) and the loss
// within 1e-4.
func checkAgainstKeras(t *testing.T, name string, r evalResult, k kerasEval, lossTol float64) {
	t.Helper()
	n := len(k.FilePaths)
	if r.Images != n {
		t.Fatalf("%s: %d images, Keras %d", name, r.Images, n)
	}
	if want := int(math.Round(k.TFKeras.Accuracy * float64(n))); r.Correct != want || float32(r.Accuracy) != float32(k.TFKeras.Accuracy) {
		t.Errorf("%s: accuracy %v (%d right), Keras %v (%d)", name, r.Accuracy, r.Correct, k.TFKeras.Accuracy, want)
	}
	if d := math.Abs(r.Loss - k.TFKeras.Loss); d > lossTol {
		t.Errorf("%s: loss %.8f, Keras %.8f (|diff| %.2g > %g)", name, r.Loss, k.TFKeras.Loss, d, lossTol)
	}
	t.Logf("%s: loss %.8f vs tf.keras %.8f (|diff| %.2g), Keras 3 %.8f; accuracy %v vs %v", name, r.Loss, k.TFKeras.Loss,
		math.Abs(r.Loss-k.TFKeras.Loss), k.Keras3.Loss, r.Accuracy, k.TFKeras.Accuracy)
}

func TestEvaluateExercise5VsKeras(t *testing.T) {
	ref := readKerasEval(t)
	png := ref["png"]
	r := evalJSON(t, "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255", "--batch-size", "8")
	checkAgainstKeras(t, "exercise5 png", r, png, 1e-6)
	if r.LossName != "binary_crossentropy" || r.LossSource != "training config" || !strings.Contains(r.LossFrom, "logits") {
		t.Errorf("loss %q from %q (%s)", r.LossName, r.LossSource, r.LossFrom)
	}
	// Confusion matrix and per-class accuracy from Keras's own outputs.
	var conf [2][2]int
	for i, p := range png.Probabilities {
		pred := 0
		if p > 0.5 {
			pred = 1
		}
		conf[png.Labels[i]][pred]++
	}
	for i := range conf {
		for j := range conf[i] {
			if r.Confusion[i][j] != conf[i][j] {
				t.Fatalf("confusion %v, Keras's outputs give %v", r.Confusion, conf)
			}
		}
		if pc := r.PerClass[i]; pc.Count != conf[i][0]+conf[i][1] || pc.Correct != conf[i][i] || pc.Class != png.ClassNames[i] {
			t.Errorf("class %d: %+v", i, pc)
		}
	}
	// The default batch size gives the same figures.
	r32 := evalJSON(t, "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255")
	if math.Abs(r32.Loss-r.Loss) > 1e-6 || r32.Correct != r.Correct { // batched sgemm rounds differently
		t.Errorf("batch 32: loss %v correct %d; batch 8: %v %d", r32.Loss, r32.Correct, r.Loss, r.Correct)
	}
	// The text report says the same.
	out := mustRun(t, "evaluate", "--no-progress", "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255")
	for _, want := range []string{"accuracy  0.9000  (18/20)", "binary_crossentropy (training config)", "cats   0.8000  (8/10)", "confusion matrix"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// The two softmax models saturate (probabilities of exactly 0 or 1 in
// float32): Keras computes their loss from the logits (13.495), not from
// clipped probabilities (7.01), and so must evaluate.
func TestEvaluateSoftmaxLossesVsKeras(t *testing.T) {
	ref := readKerasEval(t)
	for _, loss := range []string{"categorical_crossentropy", "sparse_categorical_crossentropy"} {
		k := ref[loss]
		if math.Abs(k.FromLogits-k.TFKeras.Loss) > 1e-5 || math.Abs(k.FromProbs-k.TFKeras.Loss) < 1 {
			t.Fatalf("%s: fixture does not separate the two formulas (%v, %v, %v)", loss, k.TFKeras.Loss, k.FromLogits, k.FromProbs)
		}
		r := evalJSON(t, "--model", filepath.Join(ex5, "tiny_"+loss+".h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255", "--batch-size", "8")
		// Keras sums float32 batch means; its loss is off the exact mean by
		// a few 1e-6 at 13.5.
		checkAgainstKeras(t, loss, r, k, 1e-5)
		if r.LossName != loss {
			t.Errorf("loss name %q", r.LossName)
		}
		// --loss overrides the training config.
		r2 := evalJSON(t, "--model", filepath.Join(ex5, "tiny_"+loss+".h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255", "--loss", "SparseCategoricalCrossentropy")
		if r2.LossSource != "--loss" || math.Abs(r2.Loss-r.Loss) > 1e-12 {
			t.Errorf("--loss: %v from %q", r2.Loss, r2.LossSource)
		}
	}
}

// The same photos as JPEG, read in place from the shared corpus: Go's JPEG
// decoder differs from TensorFlow's libjpeg by a few levels, so the loss
// differs a little; the figures are reported.
func TestEvaluateExercise5JPEG(t *testing.T) {
	photos := "../../../shared/keras-corpus/images"
	matches, _ := filepath.Glob(filepath.Join(photos, "[cd][ao][tg].*.jpg"))
	if len(matches) != 20 {
		t.Skipf("shared corpus photos absent (%s: %d cat/dog JPEGs)", photos, len(matches))
	}
	dir := t.TempDir()
	for _, m := range matches {
		cls := "dogs"
		if strings.HasPrefix(filepath.Base(m), "cat.") {
			cls = "cats"
		}
		os.MkdirAll(filepath.Join(dir, cls), 0o755)
		abs, _ := filepath.Abs(m)
		if err := os.Symlink(abs, filepath.Join(dir, cls, filepath.Base(m))); err != nil {
			t.Skip("no symlinks:", err)
		}
	}
	ref := readKerasEval(t)["jpeg"]
	r := evalJSON(t, "--model", filepath.Join(ex5, "exercise5.h5"), "--data", dir, "--rescale", "1/255", "--batch-size", "8")
	checkAgainstKeras(t, "exercise5 jpeg", r, ref, 1e-3)
}

func TestPredictDataVsKeras(t *testing.T) {
	ref := readKerasEval(t)["png"]
	out := mustRun(t, "predict", "--json", "--no-progress", "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255")
	var got struct {
		ClassNames  []string         `json:"class_names"`
		Predictions []filePrediction `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Predictions) != len(ref.FilePaths) {
		t.Fatalf("%d predictions, Keras %d files", len(got.Predictions), len(ref.FilePaths))
	}
	var worst float64
	for i, p := range got.Predictions {
		rel, _ := filepath.Rel(filepath.Join(ex5, "png"), p.Path)
		if rel != ref.FilePaths[i] {
			t.Fatalf("file %d: %s, Keras %s", i, rel, ref.FilePaths[i])
		}
		want := ref.Probabilities[i]
		worst = max(worst, math.Abs(float64(p.Probabilities["dogs"])-want))
		if d := math.Abs(float64(p.Probabilities["dogs"]) - want); d > 1e-5 {
			t.Errorf("%s: P(dogs) %v, Keras %v", rel, p.Probabilities["dogs"], want)
		}
		if p.Probabilities["cats"] != 1-p.Probabilities["dogs"] || p.Label != ref.ClassNames[ref.Labels[i]] {
			t.Errorf("%s: %+v", rel, p)
		}
		if wantPred := ref.ClassNames[map[bool]int{false: 0, true: 1}[want > 0.5]]; p.Predicted != wantPred {
			t.Errorf("%s: predicted %s, Keras %s", rel, p.Predicted, wantPred)
		}
	}
	t.Logf("worst |P(dogs) - Keras| = %.2g", worst)

	// CSV, and --class-names for a folder read without labels.
	csvPath := filepath.Join(t.TempDir(), "p.csv")
	mustRun(t, "predict", "--no-progress", "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5, "png", "dogs"),
		"--rescale", "1/255", "--class-names", "cat,dog", "--csv", csvPath)
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 11 || strings.Join(recs[0], ",") != "path,label,predicted,cat,dog" || recs[1][1] != "" {
		t.Fatalf("csv %v %v", recs, err)
	}
	// Text output marks the mistakes.
	text := mustRun(t, "predict", "--no-progress", "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5, "png"), "--rescale", "1/255")
	if strings.Count(text, "(wrong: in cats)") != 2 {
		t.Errorf("text output:\n%s", text)
	}
}

func TestEvaluateErrors(t *testing.T) {
	model := filepath.Join(ex5, "exercise5.h5")
	data := filepath.Join(ex5, "png")
	// A model saved without a training config (Go's Save writes none).
	m, err := keras.LoadModel(model)
	if err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(t.TempDir(), "bare.h5")
	if err := keras.Save(m, bare); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", bare, "--data", data}, "give --loss"},
		{[]string{"--model", model, "--data", data, "--loss", "mse"}, "mean_squared_error"},
		{[]string{"--model", model, "--data", data, "--loss", "categorical_crossentropy"}, "predicts 1 classes"},
		{[]string{"--model", model}, "--data DIR is required"},
		{[]string{"--model", model, "--data", filepath.Join(data, "cats")}, "exactly 2 class_names"},
		{[]string{"--model", model, "--data", data, "--image-size", "32,32"}, "the model's input is 64x64"},
		{[]string{"--model", model, "--data", data, "--rescale", "1/0"}, "--rescale"},
		{[]string{"--model", model, "--data", data, "--batch-size", "0"}, "--batch-size"},
		{[]string{"--model", model, "--data", data, "--class-names", "cats,birds"}, "did not match"},
		{[]string{"--model", model, "--data", data, "--interpolation", "cubic"}, "interpolation"},
		{[]string{"--model", filepath.Join(data, "cats", "cat.4001.png"), "--data", data}, "--model"},
	} {
		_, errs, st := runCLI(t, append([]string{"evaluate", "--no-progress"}, c.args...)...)
		if st != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: status %d, stderr %q, want %q", c.args, st, errs, c.want)
		}
	}
	// The bare model evaluates with --loss.
	r := evalJSON(t, "--model", bare, "--data", data, "--rescale", "1/255", "--loss", "binary_crossentropy")
	if r.Correct != 18 {
		t.Errorf("bare model: %d right", r.Correct)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", data}, "--data needs --model"},
		{[]string{"--model", model, "--data", data, "--image", "x.png"}, "not both"},
		{[]string{"--model", model, "--data", data, "--class-names", "a,b,c"}, "give --class-names"},
		{[]string{"--model", model}, "predict needs --image"},
	} {
		_, errs, st := runCLI(t, append([]string{"predict", "--no-progress"}, c.args...)...)
		if st != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("predict %q: status %d, stderr %q, want %q", c.args, st, errs, c.want)
		}
	}
}
