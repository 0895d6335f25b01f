package preprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kerago/kerago/ops"
)

// The references are written by scripts/dataset_reference.py with NumPy,
// Keras 3 and TensorFlow; the folder tree it generated is committed in
// testdata/dataset/tree.
const (
	treeDir    = "../testdata/dataset/tree"
	ordersJSON = "../testdata/dataset/orders.json"
	refDir     = "testdata/dataset"
)

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reference missing (regenerate with scripts/dataset_reference.py): %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestMT19937VsNumPy(t *testing.T) {
	var ref struct {
		Raw      map[string][]uint32 `json:"raw"`
		Shuffles []struct {
			Seed        int64 `json:"seed"`
			N           int   `json:"n"`
			Perm        []int `json:"perm"`
			Head        []int `json:"head"`
			Tail        []int `json:"tail"`
			WeightedSum int64 `json:"weighted_sum"`
		} `json:"shuffles"`
	}
	readJSON(t, filepath.Join(refDir, "shuffle.json"), &ref)
	if len(ref.Raw) == 0 || len(ref.Shuffles) == 0 {
		t.Fatal("empty reference")
	}
	for seedStr, want := range ref.Raw {
		var seed uint32
		fmt.Sscan(seedStr, &seed)
		r := newMT19937(seed)
		for i, w := range want {
			if got := r.next(); got != w {
				t.Fatalf("RandomState(%d) output %d: got %d, NumPy %d", seed, i, got, w)
			}
		}
	}
	for _, s := range ref.Shuffles {
		perm, err := ShufflePermutation(s.N, s.Seed)
		if err != nil {
			t.Fatal(err)
		}
		if s.Perm != nil {
			if !slices.Equal(perm, s.Perm) {
				t.Errorf("seed %d, n %d: got %v, NumPy %v", s.Seed, s.N, perm, s.Perm)
			}
			continue
		}
		var sum int64
		const mod = 1<<61 - 1
		for i, v := range perm {
			sum = (sum + int64(i)*int64(v)%mod) % mod
		}
		if !slices.Equal(perm[:len(s.Head)], s.Head) || !slices.Equal(perm[len(perm)-len(s.Tail):], s.Tail) || sum != s.WeightedSum {
			t.Errorf("seed %d, n %d: head %v tail %v sum %d; NumPy head %v tail %v sum %d",
				s.Seed, s.N, perm[:5], perm[len(perm)-5:], sum, s.Head[:5], s.Tail[len(s.Tail)-5:], s.WeightedSum)
		}
	}
}

func TestShufflePermutationErrors(t *testing.T) {
	for _, seed := range []int64{-1, 1 << 32} {
		if _, err := ShufflePermutation(3, seed); err == nil || !strings.Contains(err.Error(), "2**32 - 1") {
			t.Errorf("seed %d: error %v", seed, err)
		}
	}
	if p, err := ShufflePermutation(0, 1); err != nil || len(p) != 0 {
		t.Errorf("n=0: %v %v", p, err)
	}
}

// kerasArgs are the keyword arguments of a reference call.
type kerasArgs map[string]json.RawMessage

// options turns the keyword arguments of image_dataset_from_directory into
// DatasetOptions.
func (a kerasArgs) options(t *testing.T) DatasetOptions {
	t.Helper()
	var o DatasetOptions
	for k, raw := range a {
		var err error
		switch k {
		case "shuffle":
			var v bool
			err = json.Unmarshal(raw, &v)
			o.NoShuffle = !v
		case "seed":
			var v int64
			err = json.Unmarshal(raw, &v)
			o.Seed = &v
		case "class_names":
			err = json.Unmarshal(raw, &o.ClassNames)
		case "labels":
			if string(raw) == "null" {
				o.NoLabels = true
			} else {
				err = json.Unmarshal(raw, &o.Labels)
			}
		case "label_mode":
			err = json.Unmarshal(raw, &o.LabelMode)
		case "color_mode":
			err = json.Unmarshal(raw, &o.ColorMode)
		case "interpolation":
			err = json.Unmarshal(raw, &o.Interpolation)
		case "validation_split":
			err = json.Unmarshal(raw, &o.ValidationSplit)
		case "subset":
			err = json.Unmarshal(raw, &o.Subset)
		case "image_size":
			var v []int
			err = json.Unmarshal(raw, &v)
			o.ImageSize = [2]int{v[0], v[1]}
		case "batch_size":
			o.BatchSize = 1000 // unbatched in the reference: one batch here
		case "crop_to_aspect_ratio":
			err = json.Unmarshal(raw, &o.CropToAspectRatio)
		case "pad_to_aspect_ratio":
			err = json.Unmarshal(raw, &o.PadToAspectRatio)
		default:
			t.Fatalf("argument %q not mapped", k)
		}
		if err != nil {
			t.Fatalf("argument %s=%s: %v", k, raw, err)
		}
	}
	return o
}

func relPaths(t *testing.T, paths []string) []string {
	t.Helper()
	out := make([]string, len(paths))
	for i, p := range paths {
		rel, ok := strings.CutPrefix(p, treeDir+"/")
		if !ok {
			t.Fatalf("path %q is not under %s", p, treeDir)
		}
		out[i] = rel
	}
	return out
}

func TestDatasetOrderVsKeras(t *testing.T) {
	var ref struct {
		Cases []struct {
			Name     string    `json:"name"`
			Args     kerasArgs `json:"args"`
			Messages string    `json:"messages"`
			Error    string    `json:"error"`
			Datasets []struct {
				ClassNames []string `json:"class_names"`
				FilePaths  []string `json:"file_paths"`
				Labels     []int    `json:"labels"`
			} `json:"datasets"`
		} `json:"cases"`
	}
	readJSON(t, ordersJSON, &ref)
	if len(ref.Cases) < 20 {
		t.Fatalf("only %d reference cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			opts := c.Args.options(t)
			var log bytes.Buffer
			opts.Log = &log
			var got []*Dataset
			var err error
			if opts.Subset == "both" {
				var tr, va *Dataset
				tr, va, err = TrainValidationFromDirectory(treeDir, opts)
				got = []*Dataset{tr, va}
			} else {
				var d *Dataset
				d, err = DatasetFromDirectory(treeDir, opts)
				got = []*Dataset{d}
			}
			if c.Error != "" {
				// Keras's message, with the folder spelled as given
				// (the reference writes it as "<tree>").
				want := strings.ReplaceAll(c.Error, "<tree>", treeDir)
				if err == nil {
					t.Fatalf("no error; Keras: %s", want)
				}
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error\n  %v\nKeras\n  %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if log.String() != c.Messages {
				t.Errorf("messages %q, Keras %q", log.String(), c.Messages)
			}
			if len(got) != len(c.Datasets) {
				t.Fatalf("%d datasets, Keras %d", len(got), len(c.Datasets))
			}
			for i, want := range c.Datasets {
				d := got[i]
				if !slices.Equal(d.ClassNames, want.ClassNames) {
					t.Errorf("dataset %d: class names %q, Keras %q", i, d.ClassNames, want.ClassNames)
				}
				if rel := relPaths(t, d.FilePaths); !slices.Equal(rel, want.FilePaths) {
					t.Errorf("dataset %d: file order\n  %q\nKeras\n  %q", i, rel, want.FilePaths)
				}
				if !slices.Equal(d.Labels, want.Labels) {
					t.Errorf("dataset %d: labels %v, Keras %v", i, d.Labels, want.Labels)
				}
			}
		})
	}
}

// A dataset given "tree/" (trailing slash) spells its paths like Keras:
// os.path.join("tree/", "cats/x.png").
func TestDatasetPathSpelling(t *testing.T) {
	seed := int64(1)
	a, err := DatasetFromDirectory(treeDir+"/", DatasetOptions{Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	b, err := DatasetFromDirectory(treeDir, DatasetOptions{Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.FilePaths, b.FilePaths) {
		t.Errorf("%q vs %q", a.FilePaths[:3], b.FilePaths[:3])
	}
	if !strings.HasPrefix(a.FilePaths[0], treeDir+"/") || strings.Contains(a.FilePaths[0], "//") {
		t.Errorf("path %q", a.FilePaths[0])
	}
}

type pixelCase struct {
	Name      string    `json:"name"`
	Args      kerasArgs `json:"args"`
	FilePaths []string  `json:"file_paths"`
	Shape     []int     `json:"shape"`
	Error     string    `json:"error"`
}

func TestDatasetPixelsVsKeras(t *testing.T) {
	var ref struct {
		Cases []pixelCase `json:"cases"`
	}
	readJSON(t, filepath.Join(refDir, "pixels.json"), &ref)
	npz := openNPZ(t, filepath.Join(refDir, "pixels.npz"))
	if len(ref.Cases) < 20 {
		t.Fatalf("only %d cases", len(ref.Cases))
	}
	worst := map[string]float64{}
	for _, c := range ref.Cases {
		t.Run(c.Name, func(t *testing.T) {
			opts := c.Args.options(t)
			opts.Workers = 3
			d, err := DatasetFromDirectory(treeDir, opts)
			if err != nil {
				t.Fatal(err)
			}
			it := d.Iter(context.Background())
			defer it.Close()
			var batches []*Batch
			for it.Next() {
				batches = append(batches, it.Batch())
			}
			if c.Error != "" {
				// Keras's error comes from TensorFlow's op; ours names the
				// file and quotes the same rule.
				msg := c.Error[strings.LastIndex(c.Error, ": ")+2:]
				if it.Err() == nil || !strings.Contains(it.Err().Error(), msg) {
					t.Fatalf("error %v, Keras: %s", it.Err(), msg)
				}
				return
			}
			if it.Err() != nil {
				t.Fatal(it.Err())
			}
			if len(batches) != 1 {
				t.Fatalf("%d batches", len(batches))
			}
			b := batches[0]
			if rel := relPaths(t, b.Paths); !slices.Equal(rel, c.FilePaths) {
				t.Fatalf("files %q, Keras %q", rel, c.FilePaths)
			}
			want, shape := npz.array(c.Name)
			if !slices.Equal(b.Images.Shape, shape) {
				t.Fatalf("shape %v, Keras %v", b.Images.Shape, shape)
			}
			// Exact, except JPEG files (TensorFlow's libjpeg IDCT differs
			// from Go's) and the kernels using sin/exp (see
			// dataset_resize.go).
			approx := strings.Contains(c.Name, "lanczos") || strings.Contains(c.Name, "gaussian")
			per := len(want) / shape[0]
			for i, p := range c.FilePaths {
				isJPEG := strings.HasSuffix(strings.ToLower(p), ".jpg") || strings.HasSuffix(strings.ToLower(p), ".jpeg")
				var maxd float64
				at := -1
				for j := i * per; j < (i+1)*per; j++ {
					if d := math.Abs(float64(b.Images.Data[j] - want[j])); d > maxd {
						maxd, at = d, j
					}
				}
				tol := 0.0
				switch {
				case isJPEG:
					tol = 8
					if maxd > worst["jpeg"] {
						worst["jpeg"] = maxd
					}
				case approx:
					tol = 2e-4
					if maxd > worst["sin/exp kernels"] {
						worst["sin/exp kernels"] = maxd
					}
				}
				if maxd > tol {
					t.Errorf("%s: max |diff| %g > %g at value %d: got %v, Keras %v", p, maxd, tol, at-i*per, b.Images.Data[at], want[at])
				}
			}
		})
	}
	t.Logf("worst differences from Keras: %v (everything else exact)", worst)
}

func TestStandardizeVsKeras(t *testing.T) {
	npz := openNPZ(t, filepath.Join(refDir, "standardize.npz"))
	x, shape := npz.array("x")
	cases := map[string]Standardize{
		"rescale":            {Rescale: 1.0 / 255},
		"center":             {SamplewiseCenter: true},
		"std":                {SamplewiseStdNormalization: true},
		"rescale_center_std": {Rescale: 1.0 / 255, SamplewiseCenter: true, SamplewiseStdNormalization: true},
	}
	for name, s := range cases {
		want, _ := npz.array(name)
		in := mustTensor(t, slices.Clone(x), shape)
		if err := s.Apply(in); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if in.Data[i] != want[i] {
				t.Errorf("%s: value %d: %v, Keras %v", name, i, in.Data[i], want[i])
				break
			}
		}
	}
	want, _ := npz.array("div255")
	in := mustTensor(t, slices.Clone(x), shape)
	if err := DivideBy(in, 255); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in.Data, want) {
		t.Error("x / 255 differs from NumPy's float32 division")
	}
	if err := (Standardize{}).Apply(nil); err == nil {
		t.Error("nil tensor accepted")
	}
	if err := DivideBy(in, 0); err == nil {
		t.Error("division by zero accepted")
	}
}

func mustTensor(t *testing.T, data []float32, shape []int) *ops.Tensor {
	t.Helper()
	x, err := ops.FromData(data, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
