package h5

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// writeOp is one write operation, applied by this package (applyOps) and
// replayed Keras-style with h5py by scripts/h5_dump.py --check-writer.
type writeOp struct {
	Op      string    `json:"op"` // group, str, fixed, list, empty, f32
	Path    string    `json:"path"`
	Name    string    `json:"name,omitempty"`
	Value   string    `json:"value,omitempty"`
	Charset string    `json:"charset,omitempty"`
	Values  []string  `json:"values,omitempty"`
	Shape   []int     `json:"shape,omitempty"`
	Data    []float32 `json:"data,omitempty"`
}

// kerasOps is a Keras 2 style full-model file plus the extra cases.
func kerasOps() []writeOp {
	rng := rand.New(rand.NewSource(7))
	floats := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	longNames := make([]string, 3001) // 3001 × 50 bytes: numpy.array_split into 3 chunks of 1001, 1000, 1000
	for i := range longNames {
		longNames[i] = fmt.Sprintf("block%d_conv%d", i/3, i%3)
	}
	longNames[1234] = strings.Repeat("x", 50)
	config := `{"class_name": "Sequential", "config": [{"class_name": "Conv2D", "config": {"name": "conv2d_1", "filters": 2}}]}`
	return []writeOp{
		{Op: "str", Path: "/", Name: "keras_version", Value: "2.1.3", Charset: "ASCII"},
		{Op: "str", Path: "/", Name: "backend", Value: "theano", Charset: "ASCII"},
		{Op: "str", Path: "/", Name: "backend", Value: "tensorflow", Charset: "ASCII"}, // replaces
		{Op: "str", Path: "/", Name: "model_config", Value: config, Charset: "ASCII"},
		{Op: "str", Path: "/", Name: "note", Value: "Grüße, κόσμε", Charset: "UTF-8"},
		{Op: "group", Path: "/model_weights"},
		{Op: "fixed", Path: "/model_weights", Name: "layer_names", Values: []string{"conv2d_1", "flatten_1", "dense_1"}},
		{Op: "str", Path: "/model_weights", Name: "backend", Value: "tensorflow", Charset: "ASCII"},
		{Op: "group", Path: "/model_weights/conv2d_1"},
		{Op: "fixed", Path: "/model_weights/conv2d_1", Name: "weight_names", Values: []string{"conv2d_1/kernel:0", "conv2d_1/bias:0"}},
		{Op: "f32", Path: "/model_weights/conv2d_1", Name: "conv2d_1/kernel:0", Shape: []int{3, 3, 1, 2}, Data: floats(18)},
		{Op: "f32", Path: "/model_weights/conv2d_1", Name: "conv2d_1/bias:0", Shape: []int{2}, Data: floats(2)},
		{Op: "group", Path: "/model_weights/flatten_1"},
		{Op: "empty", Path: "/model_weights/flatten_1", Name: "weight_names"},
		{Op: "group", Path: "/model_weights/dense_1/dense_1"}, // nested creation
		{Op: "list", Path: "/model_weights/dense_1", Name: "weight_names", Values: []string{"dense_1/kernel:0", "dense_1/bias:0"}},
		{Op: "f32", Path: "/model_weights/dense_1/dense_1", Name: "kernel:0", Shape: []int{4, 3}, Data: floats(12)},
		{Op: "f32", Path: "/model_weights/dense_1/dense_1", Name: "bias:0", Shape: []int{3}, Data: floats(3)},
		{Op: "f32", Path: "/", Name: "scalar", Shape: []int{}, Data: []float32{3.5}},
		{Op: "list", Path: "/model_weights", Name: "long_names", Values: longNames},
		{Op: "list", Path: "/model_weights", Name: "no_names", Values: []string{}},
	}
}

func applyOps(t *testing.T, f *File, ops []writeOp) {
	t.Helper()
	for i, op := range ops {
		var err error
		obj := Object{f: f, path: op.Path}
		switch op.Op {
		case "group":
			_, err = f.Root().CreateGroup(op.Path)
		case "str":
			cs := ASCII
			if op.Charset == "UTF-8" {
				cs = UTF8
			}
			err = obj.SetString(op.Name, op.Value, cs)
		case "fixed":
			err = obj.SetFixedStrings(op.Name, op.Values)
		case "list":
			err = obj.SetStringList(op.Name, op.Values)
		case "empty":
			err = obj.SetEmptyFloat64(op.Name)
		case "f32":
			_, err = Group{obj}.WriteFloat32(op.Name, op.Data, op.Shape)
		default:
			t.Fatalf("op %d: unknown %q", i, op.Op)
		}
		if err != nil {
			t.Fatalf("op %d %+v: %v", i, op.Op, err)
		}
	}
}

// h5pyAvailable skips the test when python3 or h5py is missing.
func h5pyAvailable(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; skipping the h5py cross-check")
	}
	if out, err := exec.Command(py, "-c", "import h5py, numpy").CombinedOutput(); err != nil {
		t.Skipf("h5py/numpy not importable (%v: %s); skipping the h5py cross-check", err, strings.TrimSpace(string(out)))
	}
	return py
}

// TestWriteReadableByH5py writes a Keras-style file with this package, has
// h5py describe it and a file written from the same operations by h5py the
// way Keras does, and requires identical descriptions (HDF5 type class, size,
// charset, padding, byte order; shapes; contiguous unfiltered storage; values)
// and values equal to those written.
func TestWriteReadableByH5py(t *testing.T) {
	py := h5pyAvailable(t)
	dir := t.TempDir()
	goFile := filepath.Join(dir, "go_written.h5")
	ops := kerasOps()
	f, err := Create(goFile)
	if err != nil {
		t.Fatal(err)
	}
	applyOps(t, f, ops)
	if n := f.openObjects(); n != 0 {
		t.Errorf("%d handles left open after writing", n)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	opsFile := filepath.Join(dir, "ops.json")
	b, _ := json.Marshal(ops)
	if err := os.WriteFile(opsFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "../../../scripts/h5_dump.py", "--check-writer", goFile, opsFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("h5_dump.py --check-writer: %v\n%s", err, stderr.String())
	}
	var res struct {
		Go, Keras   map[string]map[string]any
		KerasSource string `json:"keras_source"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	t.Logf("reference writer: %s", res.KerasSource)

	// 1. Same layout as the Keras-style h5py file.
	paths := func(m map[string]map[string]any) []string {
		var p []string
		for k := range m {
			p = append(p, k)
		}
		sort.Strings(p)
		return p
	}
	if !slices.Equal(paths(res.Go), paths(res.Keras)) {
		t.Errorf("objects differ:\n go    %q\n keras %q", paths(res.Go), paths(res.Keras))
	}
	for _, p := range paths(res.Keras) {
		g, k := res.Go[p], res.Keras[p]
		if reflect.DeepEqual(g, k) {
			continue
		}
		ga, _ := g["attrs"].(map[string]any)
		ka, _ := k["attrs"].(map[string]any)
		for name := range mergeKeys(ga, ka) {
			if !reflect.DeepEqual(ga[name], ka[name]) {
				t.Errorf("%s@%s:\n go    %s\n keras %s", p, name, short(ga[name]), short(ka[name]))
			}
		}
		for key := range mergeKeys(g, k) {
			if key != "attrs" && !reflect.DeepEqual(g[key], k[key]) {
				t.Errorf("%s %s:\n go    %s\n keras %s", p, key, short(g[key]), short(k[key]))
			}
		}
	}

	// 2. h5py reads back exactly what was written.
	for _, op := range ops {
		switch op.Op {
		case "str", "fixed":
			if op.Op == "str" && op.Name == "backend" && op.Value == "theano" {
				continue // replaced by the next op
			}
			want := op.Values
			if op.Op == "str" {
				want = []string{op.Value}
			}
			got := attrValues(res.Go, op.Path, op.Name)
			if !reflect.DeepEqual(got, toAny(want)) {
				t.Errorf("h5py reads %s@%s = %s, wrote %q", op.Path, op.Name, short(got), want)
			}
		case "f32":
			p := joinPath(op.Path, op.Name)
			vals, _ := res.Go[p]["values"].([]any)
			if len(vals) != len(op.Data) {
				t.Errorf("h5py reads %d values from %s, wrote %d", len(vals), p, len(op.Data))
				continue
			}
			for i, v := range vals {
				if float32(v.(float64)) != op.Data[i] {
					t.Errorf("h5py reads %s[%d] = %v, wrote %v", p, i, v, op.Data[i])
				}
			}
		}
	}

	// 3. This package reads its own file back, including the chunked list.
	r, err := Open(goFile)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mw, err := r.Group("model_weights")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := mw.StringList("long_names")
	if err != nil || !slices.Equal(ln, ops[19].Values) {
		t.Errorf("StringList(long_names): %d names, %v", len(ln), err)
	}
	if names, _ := mw.AttrNames(); !slices.Contains(names, "long_names2") || slices.Contains(names, "long_names3") {
		t.Errorf("chunk attributes %q, want long_names0..2", names)
	}
	if nn, err := mw.StringList("no_names"); err != nil || len(nn) != 0 {
		t.Errorf("StringList(no_names) = %q, %v", nn, err)
	}
	k, shape, err := r.ReadFloat32("model_weights/dense_1/dense_1/kernel:0")
	if err != nil || !slices.Equal(shape, []int{4, 3}) || !slices.Equal(k, ops[16].Data) {
		t.Errorf("dense kernel read back: %v %v %v", k, shape, err)
	}
	s, shape, err := r.ReadFloat32("scalar")
	if err != nil || len(shape) != 0 || shape == nil || !slices.Equal(s, []float32{3.5}) {
		t.Errorf("scalar read back: %v %v %v", s, shape, err)
	}
}

func mergeKeys(a, b map[string]any) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

func attrValues(desc map[string]map[string]any, path, name string) any {
	attrs, _ := desc[path]["attrs"].(map[string]any)
	a, _ := attrs[name].(map[string]any)
	return a["values"]
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "w.h5"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := f.Root()
	if _, err := root.WriteFloat32("x", []float32{1, 2, 3}, []int{2, 2}); err == nil {
		t.Error("WriteFloat32 accepted 3 values for shape [2 2]")
	}
	if _, err := root.WriteFloat32("x", nil, []int{-1}); err == nil {
		t.Error("WriteFloat32 accepted a negative dimension")
	}
	if _, err := root.WriteFloat32("d", []float32{1}, []int{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.WriteFloat32("d", []float32{1}, []int{1}); err == nil || !strings.Contains(err.Error(), "/d") {
		t.Errorf("second dataset with the same name: %v", err)
	}
	if _, err := root.CreateGroup("g/h"); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateGroup("g/h"); err == nil {
		t.Error("CreateGroup of an existing group succeeded")
	}
	if err := root.SetFixedStrings("bad", []string{"a\x00b"}); err == nil {
		t.Error("SetFixedStrings accepted a NUL byte")
	}
	if err := root.SetString("bad", "a\x00b", ASCII); err == nil {
		t.Error("SetString accepted a NUL byte")
	}
	if err := root.SetStringList("huge", []string{strings.Repeat("y", HeaderLimit+1)}); err == nil {
		t.Error("SetStringList accepted a value above the header limit")
	}
	if _, err := Create(filepath.Join(dir, "no/such/dir/x.h5")); err == nil || !strings.Contains(err.Error(), "no/such/dir") {
		t.Errorf("Create in a missing directory: %v", err)
	}

	// Read-only files refuse writes.
	r, err := Open("testdata/synthetic.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Root().SetString("x", "y", UTF8); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("SetString on a read-only file: %v", err)
	}
	if _, err := r.Root().CreateGroup("x"); err == nil {
		t.Error("CreateGroup on a read-only file succeeded")
	}
	_ = errors.Is
	_ = math.Inf
}
