package preprocess

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerago/kerago/ops"
)

// The real class index, read in place from the shared corpus.
const sharedClassIndex = "../../shared/keras-corpus/imagenet_class_index.json"

func loadSharedIndex(t *testing.T) ClassIndex {
	t.Helper()
	if _, err := os.Stat(sharedClassIndex); err != nil {
		t.Skipf("shared class index not present (%v); skipping", err)
	}
	idx, err := LoadClassIndex(sharedClassIndex)
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestLoadClassIndex(t *testing.T) {
	idx := loadSharedIndex(t)
	if len(idx) != 1000 {
		t.Fatalf("%d classes", len(idx))
	}
	// Facts from the Keras docs' elephant example.
	if idx[386] != (Class{"n02504458", "African_elephant"}) || idx[101] != (Class{"n01871265", "tusker"}) {
		t.Errorf("got %v, %v", idx[386], idx[101])
	}
	// The shared copy is a re-serialisation (MANIFEST.md: md5
	// d14bc224...), not the byte-identical file Keras downloads.
	data, _ := os.ReadFile(sharedClassIndex)
	t.Logf("shared copy md5 %s (Keras's download: %s)", md5Hex(data), ClassIndexMD5)
}

func TestParseClassIndexErrors(t *testing.T) {
	for _, bad := range []string{
		``, `[]`, `{}`, `{"0": ["a"]}`, `{"1": ["a", "b"]}`, `{"0": ["a", "b"], "2": ["c", "d"]}`,
		`{"00": ["a", "b"]}`, `{"-0": ["a", "b"]}`, `{"0": "ab"}`, `{"0": ["a", "b", "c"]}`,
	} {
		if _, err := ParseClassIndex([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := LoadClassIndex(filepath.Join(t.TempDir(), "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestDecodePredictionsMatchesKeras compares with
// imagenet_utils.decode_predictions on a fixed random softmax batch.
func TestDecodePredictionsMatchesKeras(t *testing.T) {
	idx := loadSharedIndex(t)
	ref := openNPZ(t, "testdata/preprocess.npz")
	p, shape := ref.array("preds")
	preds, err := ops.FromData(p, shape...)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/decode.json")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for _, top := range []int{5, 1, 10, 20} {
		var rows [][][3]any
		if err := json.Unmarshal(want[itoa(top)], &rows); err != nil {
			t.Fatal(err)
		}
		got, err := DecodePredictions(preds, top, idx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) {
			t.Fatalf("top %d: %d rows, Keras %d", top, len(got), len(rows))
		}
		for n := range rows {
			if len(got[n]) != len(rows[n]) {
				t.Fatalf("top %d row %d: %d results, Keras %d", top, n, len(got[n]), len(rows[n]))
			}
			for i, w := range rows[n] {
				g := got[n][i]
				if g.WNID != w[0].(string) || g.Name != w[1].(string) || g.Score != float32(w[2].(float64)) {
					t.Errorf("top %d row %d #%d: got %+v, Keras %v", top, n, i, g, w)
				}
			}
		}
	}
	// top 0 means Keras's default, 5.
	got, _ := DecodePredictions(preds, 0, idx)
	if len(got[0]) != 5 {
		t.Errorf("top 0 gave %d", len(got[0]))
	}
	// The shape error carries Keras's wording.
	var kerasMsg string
	json.Unmarshal(want["error_message"], &kerasMsg)
	bad, _ := ops.FromData(p[:3*999], 3, 999)
	_, err = DecodePredictions(bad, 5, idx)
	if err == nil || !strings.Contains(err.Error(), "(samples, 1000)") || !strings.Contains(kerasMsg, "(samples, 1000)") {
		t.Errorf("shape error %v (Keras: %s)", err, kerasMsg)
	}
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// TestDecodePredictionsTiesAndNaN checks the documented order for equal
// scores and NaN against a naive selection written out here.
func TestDecodePredictionsTiesAndNaN(t *testing.T) {
	idx := make(ClassIndex, 1000)
	for i := range idx {
		idx[i] = Class{WNID: "w" + itoa(i), Name: "c" + itoa(i)}
	}
	row := make([]float32, 1000)
	for _, i := range []int{3, 7, 500, 999} {
		row[i] = 0.25
	}
	row[42] = float32(math.NaN())
	preds, _ := ops.FromData(row, 1, 1000)
	got, err := DecodePredictions(preds, 6, idx)
	if err != nil {
		t.Fatal(err)
	}
	// NaN first (numpy sorts it last, Keras reverses), then the 0.25 ties
	// highest class first, then the zeros highest class first.
	want := []int{42, 999, 500, 7, 3, 998}
	for i, w := range want {
		if got[0][i].WNID != idx[w].WNID {
			t.Fatalf("position %d: got %s, want %s (all: %+v)", i, got[0][i].WNID, idx[w].WNID, got[0])
		}
	}
	all, _ := DecodePredictions(preds, 5000, idx)
	if len(all[0]) != 1000 {
		t.Errorf("top above 1000 gave %d results", len(all[0]))
	}
	if _, err := DecodePredictions(preds, -1, idx); err == nil {
		t.Error("negative top accepted")
	}
	if _, err := DecodePredictions(preds, 5, idx[:10]); err == nil {
		t.Error("short class index accepted")
	}
	if _, err := DecodePredictions(nil, 5, idx); err == nil {
		t.Error("nil predictions accepted")
	}
	if _, err := DecodePredictions(&ops.Tensor{Shape: []int{2, 1000}, Data: row}, 5, idx); err == nil {
		t.Error("inconsistent tensor accepted")
	}
}

func TestResolveClassIndex(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KERAS_HOME", dir)
	want := filepath.Join(dir, "models", ClassIndexFileName)
	if ClassIndexCachePath() != want {
		t.Fatalf("cache path %s, want %s", ClassIndexCachePath(), want)
	}
	if _, err := os.Stat(filepath.Join("/tmp", ".keras", "models", ClassIndexFileName)); err == nil {
		t.Skip("/tmp/.keras/models/imagenet_class_index.json exists; the not-found case cannot be tested here")
	}
	_, err := ResolveClassIndex()
	if err == nil || !strings.Contains(err.Error(), ClassIndexURL) || !strings.Contains(err.Error(), want) {
		t.Fatalf("missing index: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(want), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(want, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ResolveClassIndex()
	if err != nil || got != want {
		t.Fatalf("got %q, %v", got, err)
	}
	home, err := os.UserHomeDir()
	if err == nil {
		t.Setenv("KERAS_HOME", "~/kh")
		if KerasHome() != filepath.Join(home, "kh") {
			t.Errorf("~ not expanded: %s", KerasHome())
		}
	}
}

func TestDownloadClassIndex(t *testing.T) {
	good, err := os.ReadFile(sharedClassIndex)
	if err != nil {
		t.Skipf("shared class index not present (%v); skipping", err)
	}
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		switch r.URL.Path {
		case "/good.json":
			w.Write(good)
		case "/truncated.json":
			w.Write(good[:1000])
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dest := filepath.Join(t.TempDir(), "models", ClassIndexFileName)
	ctx := context.Background()

	// The shared copy's bytes differ from Keras's download (see
	// TestLoadClassIndex), so the public function must refuse them ...
	err = DownloadClassIndex(ctx, srv.URL+"/good.json", dest)
	if err == nil || !strings.Contains(err.Error(), "md5 "+md5Hex(good)) || !strings.Contains(err.Error(), ClassIndexMD5) {
		t.Errorf("wrong bytes: %v", err)
	}
	// ... and the mechanics are tested with the served file's own md5.
	wantMD5 := md5Hex(good)
	if err := downloadVerified(ctx, srv.URL+"/truncated.json", dest, wantMD5); err == nil || !strings.Contains(err.Error(), "md5") {
		t.Errorf("truncated download: %v", err)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Error("a corrupted download was left in place")
	}
	if err := downloadVerified(ctx, srv.URL+"/missing.json", dest, wantMD5); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	if err := downloadVerified(ctx, srv.URL+"/good.json", dest, wantMD5); err != nil {
		t.Fatal(err)
	}
	idx, err := LoadClassIndex(dest)
	if err != nil || len(idx) != 1000 {
		t.Fatalf("downloaded index: %d classes, %v", len(idx), err)
	}
	n := hits
	if err := downloadVerified(ctx, srv.URL+"/good.json", dest, wantMD5); err != nil || hits != n {
		t.Errorf("valid cached file downloaded again (%v)", err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".download-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
