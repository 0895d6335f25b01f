package main

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kerago/kerago/keras"
)

// The Exercise 5 fixtures come from real Keras: scripts/train_exercise5.py
// trains the course's Exercise 5 network (64x64 inputs) on the shared cats
// and dogs, and two tiny softmax models on a committed folder of synthetic
// drawings, with tf.keras 2; saves them with their training config; and
// records model.evaluate (tf.keras 2 and Keras 3) and per-file outputs on
// the synthetic folder, on PNG copies of the photos (written outside the
// repository, see photoPNGDir) and on the original JPEGs.
const ex5 = "../../testdata/exercise5"

// ex5Synthetic is the committed folder of drawings (cats/, dogs/).
var ex5Synthetic = filepath.Join(ex5, "synthetic")

type kerasEval struct {
	ClassNames    []string  `json:"class_names"`
	FilePaths     []string  `json:"file_paths"`
	SHA256        []string  `json:"sha256"`
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

// predicted is the class index Keras's sigmoid output gives file i.
func (k kerasEval) predicted(i int) int {
	if k.Probabilities[i] > 0.5 {
		return 1
	}
	return 0
}

// confusion counts Keras's outputs by true class (rows) and predicted
// class (columns).
func (k kerasEval) confusion() [2][2]int {
	var conf [2][2]int
	for i := range k.Probabilities {
		conf[k.Labels[i]][k.predicted(i)]++
	}
	return conf
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
	for _, k := range []string{"synthetic", "png", "jpeg", "categorical_crossentropy", "sparse_categorical_crossentropy"} {
		var e kerasEval
		if err := json.Unmarshal(all[k], &e); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if len(e.FilePaths) == 0 || len(e.SHA256) != len(e.FilePaths) || len(e.Labels) != len(e.FilePaths) {
			t.Fatalf("%s: %d files, %d hashes, %d labels", k, len(e.FilePaths), len(e.SHA256), len(e.Labels))
		}
		out[k] = e
	}
	return out
}

// sameFiles reports whether dir holds the files Keras evaluated, byte for
// byte.
func sameFiles(dir string, k kerasEval) error {
	for i, rel := range k.FilePaths {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != k.SHA256[i] {
			return fmt.Errorf("%s is not the file Keras evaluated (SHA-256 differs)", filepath.Join(dir, rel))
		}
	}
	return nil
}

// photoPNGDir is where scripts/train_exercise5.py writes its PNG copies of
// the shared photos, outside the repository: $KERAGO_EX5_DIR/png, by
// default /tmp/kerago-exercise5/png. The test skips when they are not
// there, or not the files Keras evaluated.
func photoPNGDir(t *testing.T, k kerasEval) string {
	t.Helper()
	base := os.Getenv("KERAGO_EX5_DIR")
	if base == "" {
		base = "/tmp/kerago-exercise5"
	}
	dir := filepath.Join(base, "png")
	if err := sameFiles(dir, k); err != nil {
		t.Skipf("photo PNGs unavailable (run scripts/train_exercise5.py, or set KERAGO_EX5_DIR): %v", err)
	}
	return dir
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
// within lossTol.
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

// checkExercise5 evaluates the Exercise 5 network on dir, which holds the
// files Keras evaluated for k, and compares everything with Keras's: the
// accuracy exactly, the loss within 1e-6, the per-class figures and the
// confusion matrix with those of Keras's per-file outputs, in JSON and in
// the text report.
func checkExercise5(t *testing.T, name, dir string, k kerasEval) {
	t.Helper()
	model := filepath.Join(ex5, "exercise5.h5")
	r := evalJSON(t, "--model", model, "--data", dir, "--rescale", "1/255", "--batch-size", "8")
	checkAgainstKeras(t, name, r, k, 1e-6)
	if r.LossName != "binary_crossentropy" || r.LossSource != "training config" || !strings.Contains(r.LossFrom, "logits") {
		t.Errorf("%s: loss %q from %q (%s)", name, r.LossName, r.LossSource, r.LossFrom)
	}
	conf := k.confusion()
	if len(r.Confusion) != 2 || len(r.PerClass) != 2 {
		t.Fatalf("%s: confusion %v, per class %+v", name, r.Confusion, r.PerClass)
	}
	for i := range conf {
		for j := range conf[i] {
			if len(r.Confusion[i]) != 2 || r.Confusion[i][j] != conf[i][j] {
				t.Fatalf("%s: confusion %v, Keras's outputs give %v", name, r.Confusion, conf)
			}
		}
		if pc := r.PerClass[i]; pc.Count != conf[i][0]+conf[i][1] || pc.Correct != conf[i][i] || pc.Class != k.ClassNames[i] {
			t.Errorf("%s: class %d: %+v, Keras's outputs give %d of %d right", name, i, pc, conf[i][i], conf[i][0]+conf[i][1])
		}
	}
	// The default batch size gives the same figures.
	r32 := evalJSON(t, "--model", model, "--data", dir, "--rescale", "1/255")
	if math.Abs(r32.Loss-r.Loss) > 1e-6 || r32.Correct != r.Correct { // batched sgemm rounds differently
		t.Errorf("%s: batch 32: loss %v correct %d; batch 8: %v %d", name, r32.Loss, r32.Correct, r.Loss, r.Correct)
	}
	// The text report says the same.
	out := mustRun(t, "evaluate", "--no-progress", "--model", model, "--data", dir, "--rescale", "1/255")
	n, right := len(k.FilePaths), conf[0][0]+conf[1][1]
	want := []string{
		fmt.Sprintf(`(?m)^accuracy  %.4f  \(%d/%d\)$`, float64(right)/float64(n), right, n),
		`binary_crossentropy \(training config\)`,
		`confusion matrix`,
	}
	for i, c := range k.ClassNames {
		count := conf[i][0] + conf[i][1]
		want = append(want, fmt.Sprintf(`(?m)^  %s +%.4f  \(%d/%d\)$`, regexp.QuoteMeta(c), float64(conf[i][i])/float64(count), conf[i][i], count))
	}
	for _, w := range want {
		if !regexp.MustCompile(w).MatchString(out) {
			t.Errorf("%s: report lacks %q:\n%s", name, w, out)
		}
	}
}

// checkPredictions runs predict --data on dir and compares every file's
// probability with Keras's (within 1e-5), its label and predicted class,
// and the text output's marks with Keras's mistakes.
func checkPredictions(t *testing.T, name, dir string, k kerasEval) {
	t.Helper()
	model := filepath.Join(ex5, "exercise5.h5")
	out := mustRun(t, "predict", "--json", "--no-progress", "--model", model, "--data", dir, "--rescale", "1/255")
	var got struct {
		ClassNames  []string         `json:"class_names"`
		Predictions []filePrediction `json:"predictions"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Predictions) != len(k.FilePaths) {
		t.Fatalf("%s: %d predictions, Keras %d files", name, len(got.Predictions), len(k.FilePaths))
	}
	var worst float64
	wrongIn := map[string]int{}
	for i, p := range got.Predictions {
		rel, _ := filepath.Rel(dir, p.Path)
		if rel != filepath.FromSlash(k.FilePaths[i]) {
			t.Fatalf("%s: file %d: %s, Keras %s", name, i, rel, k.FilePaths[i])
		}
		want := k.Probabilities[i]
		d := math.Abs(float64(p.Probabilities["dogs"]) - want)
		worst = max(worst, d)
		if d > 1e-5 {
			t.Errorf("%s: %s: P(dogs) %v, Keras %v", name, rel, p.Probabilities["dogs"], want)
		}
		if p.Probabilities["cats"] != 1-p.Probabilities["dogs"] || p.Label != k.ClassNames[k.Labels[i]] {
			t.Errorf("%s: %s: %+v", name, rel, p)
		}
		if wantPred := k.ClassNames[k.predicted(i)]; p.Predicted != wantPred {
			t.Errorf("%s: %s: predicted %s, Keras %s", name, rel, p.Predicted, wantPred)
		}
		if k.predicted(i) != k.Labels[i] {
			wrongIn[k.ClassNames[k.Labels[i]]]++
		}
	}
	t.Logf("%s: worst |P(dogs) - Keras| = %.2g", name, worst)
	// Text output marks Keras's mistakes.
	text := mustRun(t, "predict", "--no-progress", "--model", model, "--data", dir, "--rescale", "1/255")
	for _, c := range k.ClassNames {
		if got := strings.Count(text, "(wrong: in "+c+")"); got != wrongIn[c] {
			t.Errorf("%s: %d marked wrong in %s, Keras gets %d wrong:\n%s", name, got, c, wrongIn[c], text)
		}
	}
}

func TestEvaluateExercise5VsKeras(t *testing.T) {
	k := readKerasEval(t)["synthetic"]
	if err := sameFiles(ex5Synthetic, k); err != nil {
		t.Fatal(err)
	}
	// The fixture has mistakes in both classes, or the comparison of the
	// confusion matrix would prove little.
	if conf := k.confusion(); conf[0][1] == 0 || conf[1][0] == 0 || conf[0][0] == 0 || conf[1][1] == 0 {
		t.Fatalf("synthetic fixture: Keras's confusion matrix %v has an empty cell", conf)
	}
	checkExercise5(t, "exercise5 synthetic", ex5Synthetic, k)
}

// The photo PNGs are not in the repository (third-party data stays in
// ../shared): this runs where scripts/train_exercise5.py has written them.
func TestEvaluateExercise5PhotoPNGVsKeras(t *testing.T) {
	k := readKerasEval(t)["png"]
	dir := photoPNGDir(t, k)
	checkExercise5(t, "exercise5 photo png", dir, k)
	checkPredictions(t, "exercise5 photo png", dir, k)
}

// The two softmax models saturate (probabilities of exactly 0 or 1 in
// float32): Keras computes their loss from the logits, not from clipped
// probabilities (keras_eval.json holds both; the fixture is checked to set
// them more than 1 apart), and so must evaluate.
func TestEvaluateSoftmaxLossesVsKeras(t *testing.T) {
	ref := readKerasEval(t)
	for _, loss := range []string{"categorical_crossentropy", "sparse_categorical_crossentropy"} {
		k := ref[loss]
		if err := sameFiles(ex5Synthetic, k); err != nil {
			t.Fatal(err)
		}
		if math.Abs(k.FromLogits-k.TFKeras.Loss) > 1e-5 || math.Abs(k.FromProbs-k.TFKeras.Loss) < 1 {
			t.Fatalf("%s: fixture does not separate the two formulas (%v, %v, %v)", loss, k.TFKeras.Loss, k.FromLogits, k.FromProbs)
		}
		r := evalJSON(t, "--model", filepath.Join(ex5, "tiny_"+loss+".h5"), "--data", ex5Synthetic, "--rescale", "1/255", "--batch-size", "8")
		// Keras sums float32 batch means; its loss is off the exact mean by
		// a few 1e-6 at 10 or so.
		checkAgainstKeras(t, loss, r, k, 1e-5)
		if r.LossName != loss {
			t.Errorf("loss name %q", r.LossName)
		}
		// --loss overrides the training config.
		r2 := evalJSON(t, "--model", filepath.Join(ex5, "tiny_"+loss+".h5"), "--data", ex5Synthetic, "--rescale", "1/255", "--loss", "SparseCategoricalCrossentropy")
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
	if err := sameFiles(dir, ref); err != nil {
		t.Fatalf("the shared photos are not those Keras evaluated: %v", err)
	}
	r := evalJSON(t, "--model", filepath.Join(ex5, "exercise5.h5"), "--data", dir, "--rescale", "1/255", "--batch-size", "8")
	checkAgainstKeras(t, "exercise5 jpeg", r, ref, 1e-3)
}

func TestPredictDataVsKeras(t *testing.T) {
	k := readKerasEval(t)["synthetic"]
	checkPredictions(t, "exercise5 synthetic", ex5Synthetic, k)

	// CSV, and --class-names for a folder read without labels.
	dogs := 0
	for _, l := range k.Labels {
		dogs += l
	}
	csvPath := filepath.Join(t.TempDir(), "p.csv")
	mustRun(t, "predict", "--no-progress", "--model", filepath.Join(ex5, "exercise5.h5"), "--data", filepath.Join(ex5Synthetic, "dogs"),
		"--rescale", "1/255", "--class-names", "cat,dog", "--csv", csvPath)
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 1+dogs || strings.Join(recs[0], ",") != "path,label,predicted,cat,dog" || recs[1][1] != "" {
		t.Fatalf("csv %v %v", recs, err)
	}
	// Rows in Keras's order with Keras's probabilities.
	for i, rec := range recs[1:] {
		j := len(k.FilePaths) - dogs + i
		if filepath.Base(rec[0]) != filepath.Base(k.FilePaths[j]) {
			t.Fatalf("csv row %d: %s, Keras %s", i+1, rec[0], k.FilePaths[j])
		}
		if p, err := strconv.ParseFloat(rec[4], 64); err != nil || math.Abs(p-k.Probabilities[j]) > 1e-5 {
			t.Errorf("csv row %d: dog %q, Keras %v (%v)", i+1, rec[4], k.Probabilities[j], err)
		}
	}
}

func TestEvaluateErrors(t *testing.T) {
	model := filepath.Join(ex5, "exercise5.h5")
	data := ex5Synthetic
	k := readKerasEval(t)["synthetic"]
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
		{[]string{"--model", filepath.Join(data, k.FilePaths[0]), "--data", data}, "--model"},
	} {
		_, errs, st := runCLI(t, append([]string{"evaluate", "--no-progress"}, c.args...)...)
		if st != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: status %d, stderr %q, want %q", c.args, st, errs, c.want)
		}
	}
	// The bare model evaluates with --loss.
	r := evalJSON(t, "--model", bare, "--data", data, "--rescale", "1/255", "--loss", "binary_crossentropy")
	if conf := k.confusion(); r.Correct != conf[0][0]+conf[1][1] {
		t.Errorf("bare model: %d right, Keras %d", r.Correct, conf[0][0]+conf[1][1])
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
