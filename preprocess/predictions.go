package preprocess

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kerago/kerago/ops"
)

// ImageNet class index file, as keras.applications.imagenet_utils fetches it.
const (
	ClassIndexURL      = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
	ClassIndexFileName = "imagenet_class_index.json"
	ClassIndexMD5      = "c2c37ea517e94d9795004a39431a14cb"
	// maxClassIndexBytes bounds what LoadClassIndex and DownloadClassIndex
	// read; the real file is 35,363 bytes.
	maxClassIndexBytes = 4 << 20
)

// Class is one entry of the class index: a WordNet id and a readable name.
type Class struct {
	WNID, Name string
}

// ClassIndex maps a class number to its Class; ClassIndex[i] is class i.
type ClassIndex []Class

// Prediction is one (wnid, name, score) tuple of decode_predictions.
type Prediction struct {
	WNID, Name string
	Score      float32
}

// LoadClassIndex reads a Keras class index JSON file: an object mapping
// "0", "1", ... to [wnid, name] pairs, like imagenet_class_index.json.
// The keys must be exactly 0..n-1.
func LoadClassIndex(path string) (ClassIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("preprocess: class index: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxClassIndexBytes+1))
	if err != nil {
		return nil, fmt.Errorf("preprocess: class index %q: %w", path, err)
	}
	idx, err := ParseClassIndex(data)
	if err != nil {
		return nil, fmt.Errorf("preprocess: class index %q: %w", path, err)
	}
	return idx, nil
}

// ParseClassIndex parses the JSON text of a class index (see LoadClassIndex).
func ParseClassIndex(data []byte) (ClassIndex, error) {
	if len(data) > maxClassIndexBytes {
		return nil, fmt.Errorf("file is larger than %d bytes; not a class index", maxClassIndexBytes)
	}
	var raw map[string][]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("want a JSON object {\"0\": [wnid, name], ...}: %w", err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("no classes")
	}
	idx := make(ClassIndex, len(raw))
	seen := make([]bool, len(raw))
	for k, v := range raw {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(raw) || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("key %q: want class numbers 0..%d", k, len(raw)-1)
		}
		if len(v) != 2 {
			return nil, fmt.Errorf("class %s: want [wnid, name], got %d strings", k, len(v))
		}
		idx[i] = Class{WNID: v[0], Name: v[1]}
		seen[i] = true
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("class %d missing", i)
		}
	}
	return idx, nil
}

// KerasHome returns Keras's base directory: $KERAS_HOME if set (a leading
// "~/" is expanded, as get_file does), else ~/.keras, or /tmp/.keras when
// there is no home directory. (Keras also falls back to /tmp/.keras when the
// directory is not writable; ResolveClassIndex looks there too.)
func KerasHome() string {
	if d, ok := os.LookupEnv("KERAS_HOME"); ok {
		if rest, ok := strings.CutPrefix(d, "~/"); ok {
			if home, err := os.UserHomeDir(); err == nil {
				return filepath.Join(home, rest)
			}
		}
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return filepath.Join("/tmp", ".keras")
	}
	return filepath.Join(home, ".keras")
}

// ClassIndexCachePath is where Keras caches the class index:
// <KerasHome()>/models/imagenet_class_index.json.
func ClassIndexCachePath() string {
	return filepath.Join(KerasHome(), "models", ClassIndexFileName)
}

// ResolveClassIndex finds a cached imagenet_class_index.json where Keras's
// get_file would have put it: ClassIndexCachePath(), or
// /tmp/.keras/models/ (get_file's fallback when the cache directory is not
// writable). It never downloads; if the file is missing, the error names the
// URL and the path to put it at (or call DownloadClassIndex).
func ResolveClassIndex() (string, error) {
	primary := ClassIndexCachePath()
	candidates := []string{primary, filepath.Join("/tmp", ".keras", "models", ClassIndexFileName)}
	for _, p := range candidates {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("preprocess: ImageNet class index not found at %s; download %s (md5 %s) to that path, or call DownloadClassIndex",
		primary, ClassIndexURL, ClassIndexMD5)
}

// DownloadClassIndex downloads url (normally ClassIndexURL) to dest, checks
// the md5 against ClassIndexMD5 as Keras's get_file does, and only then
// moves the file into place (creating dest's directory). An existing dest
// with the right md5 is kept without downloading.
func DownloadClassIndex(ctx context.Context, url, dest string) error {
	return downloadVerified(ctx, url, dest, ClassIndexMD5)
}

func downloadVerified(ctx context.Context, url, dest, wantMD5 string) error {
	if data, err := os.ReadFile(dest); err == nil && md5Hex(data) == wantMD5 {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("preprocess: download class index: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("preprocess: download class index from %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("preprocess: download class index from %s: HTTP %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxClassIndexBytes+1))
	if err != nil {
		return fmt.Errorf("preprocess: download class index from %s: %w", url, err)
	}
	if len(data) > maxClassIndexBytes {
		return fmt.Errorf("preprocess: download class index from %s: more than %d bytes", url, maxClassIndexBytes)
	}
	if got := md5Hex(data); got != wantMD5 {
		return fmt.Errorf("preprocess: download class index from %s: incomplete or corrupted file: md5 %s, want %s", url, got, wantMD5)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("preprocess: download class index: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return fmt.Errorf("preprocess: download class index: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), dest)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("preprocess: download class index to %s: %w", dest, werr)
	}
	return nil
}

func md5Hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// DecodePredictions is imagenet_utils.decode_predictions: for each row of
// preds (shape (N, 1000)), the top classes, highest score first.
//
// top == 0 means Keras's default, 5; top above the number of classes gives
// all of them. Keras takes the last top entries of numpy's argsort and
// reverses them. For exactly equal scores numpy's default (non-stable)
// sort order is an implementation detail that even varies with the CPU's
// SIMD support; here equal scores come out highest class number first,
// which is what a stable argsort gives. NaN scores sort above everything,
// as numpy sorts NaN last.
func DecodePredictions(preds *ops.Tensor, top int, index ClassIndex) ([][]Prediction, error) {
	if preds == nil {
		return nil, fmt.Errorf("preprocess: decode_predictions: nil predictions")
	}
	if len(preds.Shape) != 2 || preds.Shape[1] != 1000 {
		return nil, fmt.Errorf("preprocess: decode_predictions expects a batch of predictions "+
			"(i.e. a 2D array of shape (samples, 1000)); received shape %s", ops.ShapeString(preds.Shape))
	}
	if len(preds.Data) != ops.NumElements(preds.Shape) {
		return nil, fmt.Errorf("preprocess: decode_predictions: shape %s needs %d values, tensor has %d",
			ops.ShapeString(preds.Shape), ops.NumElements(preds.Shape), len(preds.Data))
	}
	if len(index) != preds.Shape[1] {
		return nil, fmt.Errorf("preprocess: decode_predictions: class index has %d classes, predictions have %d", len(index), preds.Shape[1])
	}
	if top < 0 {
		return nil, fmt.Errorf("preprocess: decode_predictions: top = %d, want > 0 (0 means 5)", top)
	}
	if top == 0 {
		top = 5
	}
	k := preds.Shape[1]
	top = min(top, k)
	out := make([][]Prediction, preds.Shape[0])
	order := make([]int, k)
	for n := range out {
		row := preds.Data[n*k : (n+1)*k]
		for i := range order {
			order[i] = i
		}
		// Descending by score, ties by descending class number: the reverse
		// of a stable ascending argsort with NaN last.
		sort.SliceStable(order, func(a, b int) bool {
			return greater(row[order[a]], order[a], row[order[b]], order[b])
		})
		res := make([]Prediction, top)
		for i, c := range order[:top] {
			res[i] = Prediction{WNID: index[c].WNID, Name: index[c].Name, Score: row[c]}
		}
		out[n] = res
	}
	return out, nil
}

// greater orders (score, class) pairs for DecodePredictions.
func greater(sa float32, ia int, sb float32, ib int) bool {
	na, nb := math.IsNaN(float64(sa)), math.IsNaN(float64(sb))
	switch {
	case na && nb:
		return ia > ib
	case na != nb:
		return na
	case sa != sb:
		return sa > sb
	}
	return ia > ib
}
