package h5

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpusDir is the shared corpus of real Keras files, read in place
// (/work/shared next to the repository root /work/main).
const corpusDir = "../../../../shared/keras-corpus"

// dump mirrors testdata/corpus_dump.json, written by scripts/h5_dump.py with
// h5py (the independent reference).
type dump struct {
	H5py  string                           `json:"h5py"`
	HDF5  string                           `json:"hdf5"`
	Files map[string]map[string]dumpObject `json:"files"`
}

type dumpObject struct {
	Kind     string              `json:"kind"`
	Members  []dumpMember        `json:"members"`
	Attrs    map[string]dumpAttr `json:"attrs"`
	DType    string              `json:"dtype"`
	Shape    []int               `json:"shape"`
	Chunked  bool                `json:"chunked"`
	Filtered bool                `json:"filtered"`
	SHA256   string              `json:"sha256_f32le"`
	First    []uint32            `json:"first_bits"`
	Sum      *float64            `json:"sum"`
}

type dumpMember struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	Soft bool   `json:"soft"`
}

type dumpAttr struct {
	DType   string    `json:"dtype"`
	Shape   []int     `json:"shape"`
	Charset string    `json:"charset"`
	Count   int       `json:"count"`
	SHA256  string    `json:"sha256"`
	Values  []any     `json:"values"`
	Floats  []float64 `json:"-"`
}

func loadDump(t *testing.T) dump {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus_dump.json")
	if err != nil {
		t.Fatalf("reference dump missing (run python3 scripts/h5_dump.py): %v", err)
	}
	var d dump
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// openEntry opens a dump entry: "synthetic.h5" from testdata, a corpus file,
// or "x.keras!member" as an in-memory image of a zip member.
func openEntry(t *testing.T, entry string) *File {
	t.Helper()
	if entry == "synthetic.h5" {
		f, err := Open("testdata/synthetic.h5")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	zpath, member, isZip := strings.Cut(entry, "!")
	full := filepath.Join(corpusDir, zpath)
	if _, err := os.Stat(full); err != nil {
		t.Skipf("corpus file %s absent (%v); the shared corpus is read in place from %s", entry, err, corpusDir)
	}
	if !isZip {
		f, err := Open(full)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	data := zipMember(t, full, member)
	f, err := OpenImage(data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func zipMember(t *testing.T, zpath, member string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(zpath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(member)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAgainstH5py walks every object h5py saw in each dumped file and checks
// that this package sees the same members, attributes (types, shapes,
// charsets, decoded values) and datasets (shape, dtype, float32 data by
// SHA-256 of the little-endian bytes and by leading values).
func TestAgainstH5py(t *testing.T) {
	d := loadDump(t)
	entries := make([]string, 0, len(d.Files))
	for e := range d.Files {
		entries = append(entries, e)
	}
	slices.Sort(entries)
	for _, entry := range entries {
		t.Run(strings.ReplaceAll(entry, "/", "_"), func(t *testing.T) {
			f := openEntry(t, entry)
			defer f.Close()
			objs := d.Files[entry]
			paths := make([]string, 0, len(objs))
			for p := range objs {
				paths = append(paths, p)
			}
			slices.Sort(paths)
			for _, p := range paths {
				checkObject(t, f, p, objs[p])
			}
			if n := f.openObjects(); n != 0 {
				t.Errorf("%d library handles left open", n)
			}
			if err := f.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}

func checkObject(t *testing.T, f *File, path string, want dumpObject) {
	t.Helper()
	k, err := f.Kind(path)
	if err != nil {
		t.Errorf("%s: Kind: %v", path, err)
		return
	}
	if k.String() != want.Kind {
		t.Errorf("%s: kind %s, h5py says %s", path, k, want.Kind)
		return
	}
	var obj Object
	switch k {
	case KindGroup:
		g, err := f.Group(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		obj = g.Object
		ms, err := g.Members()
		if err != nil {
			t.Errorf("%s: Members: %v", path, err)
			return
		}
		var got, exp []string
		for _, m := range ms {
			got = append(got, m.Name+":"+m.Kind.String())
		}
		for _, m := range want.Members {
			exp = append(exp, m.Name+":"+m.Kind)
		}
		if !slices.Equal(got, exp) {
			t.Errorf("%s: members\n got %v\nwant %v", path, got, exp)
		}
	case KindDataset:
		ds, err := f.Dataset(path)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		obj = ds.Object
		checkDataset(t, ds, want)
	}
	checkAttrs(t, obj, want.Attrs)
}

func checkAttrs(t *testing.T, obj Object, want map[string]dumpAttr) {
	t.Helper()
	names, err := obj.AttrNames()
	if err != nil {
		t.Errorf("%s: AttrNames: %v", obj.Path(), err)
		return
	}
	var exp []string
	for n := range want {
		exp = append(exp, n)
	}
	slices.Sort(exp)
	if !slices.Equal(names, exp) && !(len(names) == 0 && len(exp) == 0) {
		t.Errorf("%s: attributes %q, h5py %q", obj.Path(), names, exp)
	}
	for _, n := range exp {
		w := want[n]
		where := obj.Path() + "@" + n
		info, err := obj.AttrInfo(n)
		if err != nil {
			t.Errorf("%s: AttrInfo: %v", where, err)
			continue
		}
		if info.DType != w.DType || !sameShape(info.Shape, w.Shape) {
			t.Errorf("%s: AttrInfo %s %v, h5py %s %v", where, info.DType, info.Shape, w.DType, w.Shape)
		}
		if w.Charset != "" && info.Charset.String() != w.Charset {
			t.Errorf("%s: charset %s, h5py %s", where, info.Charset, w.Charset)
		}
		isString := w.Charset != ""
		numeric := strings.HasPrefix(w.DType, "float") || strings.HasPrefix(w.DType, "int") || strings.HasPrefix(w.DType, "uint")
		switch {
		case isString:
			ss, err := obj.Strings(n)
			if err != nil {
				t.Errorf("%s: Strings: %v", where, err)
				continue
			}
			if len(ss) != w.Count {
				t.Errorf("%s: %d strings, h5py %d", where, len(ss), w.Count)
			}
			sum := sha256.Sum256([]byte(strings.Join(ss, "\x00")))
			if hex.EncodeToString(sum[:]) != w.SHA256 {
				t.Errorf("%s: strings differ from h5py's (sha256); got %q", where, truncate(ss))
			}
			if w.Values != nil {
				for i, v := range w.Values {
					if i < len(ss) && ss[i] != v.(string) {
						t.Errorf("%s[%d] = %q, h5py %q", where, i, ss[i], v)
					}
				}
			}
			if len(ss) == 1 {
				s, err := obj.String(n)
				if err != nil || s != ss[0] {
					t.Errorf("%s: String = %q, %v", where, s, err)
				}
			}
		case numeric:
			fs, err := obj.Float64s(n)
			if err != nil {
				t.Errorf("%s: Float64s: %v", where, err)
				continue
			}
			if len(fs) != len(w.Values) {
				t.Errorf("%s: %d values, h5py %d", where, len(fs), len(w.Values))
				continue
			}
			for i := range fs {
				if fs[i] != w.Values[i].(float64) {
					t.Errorf("%s[%d] = %v, h5py %v", where, i, fs[i], w.Values[i])
				}
			}
			if len(fs) == 0 {
				// Keras's "no weights": an empty numeric array is an empty list.
				ss, err := obj.Strings(n)
				if err != nil || ss == nil || len(ss) != 0 {
					t.Errorf("%s: Strings of an empty %s array = %q, %v; want empty list", where, w.DType, ss, err)
				}
			} else if _, err := obj.Strings(n); err == nil {
				t.Errorf("%s: Strings accepted a non-empty %s attribute", where, w.DType)
			}
		}
	}
}

func checkDataset(t *testing.T, ds Dataset, want dumpObject) {
	t.Helper()
	path := ds.Path()
	info, err := ds.Info()
	if err != nil {
		t.Errorf("%s: Info: %v", path, err)
		return
	}
	if info.DType != want.DType || !sameShape(info.Shape, want.Shape) || info.Chunked != want.Chunked || info.Filtered != want.Filtered {
		t.Errorf("%s: Info %+v, h5py dtype %s shape %v chunked %v filtered %v", path, info, want.DType, want.Shape, want.Chunked, want.Filtered)
	}
	data, shape, err := ds.ReadFloat32()
	if want.SHA256 == "" {
		// Not numeric for h5py either (strings, opaque): must be refused cleanly.
		if err == nil {
			t.Errorf("%s: ReadFloat32 accepted dtype %s", path, info.DType)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: ReadFloat32: %v", path, err)
		return
	}
	if !sameShape(shape, want.Shape) || len(data) != info.Len() {
		t.Errorf("%s: shape %v (%d values), h5py %v", path, shape, len(data), want.Shape)
	}
	le := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(le[4*i:], math.Float32bits(v))
	}
	sum := sha256.Sum256(le)
	if hex.EncodeToString(sum[:]) != want.SHA256 {
		t.Errorf("%s: float32 data differs from numpy's astype(float32) (sha256)", path)
		for i, b := range want.First {
			if i < len(data) && math.Float32bits(data[i]) != b {
				t.Errorf("%s[%d] = %v (%#x), numpy %v (%#x)", path, i, data[i], math.Float32bits(data[i]), math.Float32frombits(b), b)
			}
		}
	}
	// The same through the caller-buffer variant.
	buf := make([]float32, info.Len())
	if err := ds.ReadFloat32Into(buf); err != nil {
		t.Errorf("%s: ReadFloat32Into: %v", path, err)
	} else if !slices.EqualFunc(buf, data, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
		t.Errorf("%s: ReadFloat32Into differs from ReadFloat32", path)
	}
	if err := ds.ReadFloat32Into(make([]float32, info.Len()+1)); err == nil {
		t.Errorf("%s: ReadFloat32Into accepted a wrong-sized buffer", path)
	}
}

func sameShape(a, b []int) bool {
	return (a == nil) == (b == nil) && slices.Equal(a, b)
}

func truncate(ss []string) []string {
	if len(ss) > 5 {
		return ss[:5]
	}
	return ss
}

// TestCorpusSpotChecks pins facts about named corpus files that the brief and
// the notes (shared/notes/keras-file-layouts.md) state, independently of the
// dump.
func TestCorpusSpotChecks(t *testing.T) {
	open := func(rel string) *File {
		t.Helper()
		p := filepath.Join(corpusDir, rel)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("corpus absent: %v", err)
		}
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}

	f := open("keras1/dl4j_k1_batchnorm_conv2d_tf.h5")
	defer f.Close()
	mw, err := f.Group("model_weights")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := mw.StringList("layer_names")
	if want := []string{"dense_1", "reshape_1", "batchnormalization_1", "convolution2d_1"}; err != nil || !slices.Equal(ln, want) {
		t.Errorf("layer_names = %q, %v; want %q", ln, err, want)
	}
	if info, _ := mw.AttrInfo("layer_names"); info.DType != "S20" {
		t.Errorf("layer_names dtype %s, want S20", info.DType)
	}
	wn, err := f.Root().Strings("model_weights/reshape_1") // not an attribute name on root
	if err == nil || !errors.Is(err, ErrNotFound) {
		t.Errorf("missing attribute: %q, %v; want ErrNotFound", wn, err)
	}
	g, err := f.Group("model_weights/reshape_1")
	if err != nil {
		t.Fatal(err)
	}
	if wn, err := g.StringList("weight_names"); err != nil || len(wn) != 0 {
		t.Errorf("reshape_1 weight_names = %q, %v; want empty", wn, err)
	}
	cfg, err := f.Root().String("model_config")
	if err != nil || !strings.HasPrefix(cfg, `{"class_name": "Sequential"`) {
		t.Errorf("model_config = %.40q, %v", cfg, err)
	}
	if v, err := f.Root().String("keras_version"); err != nil || v != "1.2.2" {
		t.Errorf("keras_version = %q, %v", v, err)
	}
	w, shape, err := f.ReadFloat32("model_weights/convolution2d_1/convolution2d_1_W:0")
	if err != nil || !slices.Equal(shape, []int{3, 3, 10, 5}) || len(w) != 450 {
		t.Errorf("conv kernel: shape %v len %d err %v", shape, len(w), err)
	}
	if _, err := f.Group("model_weights/nope/deeper"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing nested group: %v, want ErrNotFound", err)
	}
	if _, err := f.Dataset("model_weights/dense_1"); err == nil || !strings.Contains(err.Error(), "is a group") {
		t.Errorf("Dataset on a group: %v", err)
	}
	if !mw.Has("dense_1/dense_1_W:0") || mw.Has("dense_1/nope") || mw.Has("nope/nope") {
		t.Error("Has gives wrong answers")
	}

	f2 := open("keras3/himal_mnist_weights.weights.h5")
	defer f2.Close()
	if names, err := f2.Root().AttrNames(); err != nil || len(names) != 0 {
		t.Errorf("Keras 3 weights root attrs = %q, %v; want none", names, err)
	}
	v, err := f2.Group("layers/conv2d/vars")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := v.String("name"); err != nil || n != "conv2d" {
		t.Errorf("vars name = %q, %v", n, err)
	}
	if info, _ := v.AttrInfo("name"); info.Charset != UTF8 || info.DType != "str" || len(info.Shape) != 0 || info.Shape == nil {
		t.Errorf("vars name info %+v, want scalar UTF-8 str", info)
	}
	it, err := f2.Dataset("optimizer/vars/0")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := it.Info(); err != nil || info.DType != "int64" || info.Shape == nil || len(info.Shape) != 0 || info.Len() != 1 {
		t.Errorf("iteration info %+v, %v; want scalar int64", info, err)
	}

	f3 := open("tfkeras/mlperftiny_str_ww_ref_model.h5")
	defer f3.Close()
	mw3, _ := f3.Group("model_weights")
	if info, err := mw3.AttrInfo("layer_names"); err != nil || info.DType != "str" || !slices.Equal(info.Shape, []int{23}) {
		t.Errorf("str_ww layer_names info %+v, %v; want vlen str of 23", info, err)
	}

	f4 := open("keras1/keras2cpp_my_nn_weights.h5")
	defer f4.Close()
	if names, err := f4.Root().AttrNames(); err != nil || !slices.Equal(names, []string{"layer_names"}) {
		t.Errorf("keras2cpp root attrs %q, %v", names, err)
	}
	if ln, err := f4.Root().StringList("layer_names"); err != nil || len(ln) != 12 || ln[0] != "convolution2d_1" {
		t.Errorf("keras2cpp layer_names %q, %v", ln, err)
	}
}

func float32bits(v float32) uint32 { return math.Float32bits(v) }
