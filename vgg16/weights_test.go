package vgg16

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeServer serves body at /w.h5 and counts the requests. No test in this
// file reaches the real network: every one points imagenetFiles at a
// server like this.
func fakeServer(t *testing.T, body []byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/w.h5" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func md5hex(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// useFakeFiles points Weights at url with the given md5 for both files,
// sends its messages to a buffer and makes KERAS_HOME a fresh folder.
func useFakeFiles(t *testing.T, url, sum string) (home string, log *bytes.Buffer) {
	t.Helper()
	saved, savedOut := imagenetFiles, progressOut
	t.Cleanup(func() { imagenetFiles, progressOut = saved, savedOut })
	imagenetFiles.top = File{Name: "top.h5", URL: url, MD5: sum}
	imagenetFiles.notop = File{Name: "notop.h5", URL: url, MD5: sum}
	log = &bytes.Buffer{}
	progressOut = log
	home = t.TempDir()
	t.Setenv("KERAS_HOME", home)
	return home, log
}

func noPartFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".part") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestFileForMatchesKeras(t *testing.T) {
	// Constants of keras/src/applications/vgg16.py.
	if f := FileFor(Options{IncludeTop: true}); f.MD5 != "64373286793e3c8b2b4e3219cbf3544b" ||
		f.URL != "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5" ||
		f.Name != "vgg16_weights_tf_dim_ordering_tf_kernels.h5" {
		t.Errorf("top file = %+v", f)
	}
	if f := FileFor(Options{}); f.MD5 != "6d6bbae143d832006294945121d1f1fc" ||
		f.URL != "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" ||
		f.Name != "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" {
		t.Errorf("notop file = %+v", f)
	}
}

func TestCacheDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("KERAS_HOME", home)
	if got, want := CacheDir(), filepath.Join(home, "models"); got != want {
		t.Errorf("KERAS_HOME=%s: CacheDir() = %s, want %s", home, got, want)
	}

	user := t.TempDir()
	t.Setenv("HOME", user)
	t.Setenv("KERAS_HOME", "~/kh")
	if got, want := CacheDir(), filepath.Join(user, "kh", "models"); got != want {
		t.Errorf("KERAS_HOME=~/kh: CacheDir() = %s, want %s", got, want)
	}

	os.Unsetenv("KERAS_HOME")
	if got, want := CacheDir(), filepath.Join(user, ".keras", "models"); got != want {
		t.Errorf("no KERAS_HOME: CacheDir() = %s, want %s", got, want)
	}

	// A base folder that cannot be created (its parent is a file) sends
	// Keras to /tmp/.keras; this holds even for root.
	blocker := filepath.Join(t.TempDir(), "file")
	os.WriteFile(blocker, []byte("x"), 0o644)
	t.Setenv("KERAS_HOME", filepath.Join(blocker, "keras"))
	if got, want := CacheDir(), filepath.Join("/tmp", ".keras", "models"); got != want {
		t.Errorf("unwritable KERAS_HOME: CacheDir() = %s, want %s", got, want)
	}
}

func TestWeightsDownloads(t *testing.T) {
	body := bytes.Repeat([]byte("vgg16 weights "), 5000)
	srv, hits := fakeServer(t, body)
	home, log := useFakeFiles(t, srv.URL+"/w.h5", md5hex(body))

	path, err := Weights(Options{IncludeTop: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "models", "top.h5"); path != want {
		t.Errorf("path = %s, want %s", path, want)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, body) {
		t.Errorf("downloaded %d bytes, want the %d served", len(got), len(body))
	}
	if !strings.Contains(log.String(), "Downloading data from "+srv.URL+"/w.h5") || !strings.Contains(log.String(), "100%") {
		t.Errorf("progress output %q lacks Keras's message or the bar", log.String())
	}
	noPartFiles(t, filepath.Dir(path))

	// Second call: a cache hit, no request.
	if _, err := Weights(Options{IncludeTop: true}); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (the second call must use the cache)", n)
	}
}

func TestWeightsCacheHitNeedsNoNetwork(t *testing.T) {
	body := []byte("cached notop file")
	srv, hits := fakeServer(t, nil)
	home, _ := useFakeFiles(t, srv.URL+"/w.h5", md5hex(body))
	os.MkdirAll(filepath.Join(home, "models"), 0o755)
	want := filepath.Join(home, "models", "notop.h5")
	os.WriteFile(want, body, 0o644)

	path, err := Weights(Options{})
	if err != nil || path != want {
		t.Fatalf("Weights = %q, %v; want %q", path, err, want)
	}
	if hits.Load() != 0 {
		t.Error("a valid cached file must not be downloaded again")
	}
}

func TestWeightsMismatchRedownloads(t *testing.T) {
	body := []byte("the real weights")
	srv, hits := fakeServer(t, body)
	home, log := useFakeFiles(t, srv.URL+"/w.h5", md5hex(body))
	os.MkdirAll(filepath.Join(home, "models"), 0o755)
	stale := filepath.Join(home, "models", "notop.h5")
	os.WriteFile(stale, []byte("half a file"), 0o644)

	path, err := Weights(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "A local file was found, but it seems to be incomplete or outdated because the md5 file hash does not match") {
		t.Errorf("no mismatch message in %q", log.String())
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) || path != stale || hits.Load() != 1 {
		t.Errorf("after re-download: path %s content %q, %d requests", path, got, hits.Load())
	}
}

func TestWeightsCorruptDownload(t *testing.T) {
	srv, _ := fakeServer(t, []byte("not what was expected"))
	home, _ := useFakeFiles(t, srv.URL+"/w.h5", md5hex([]byte("expected")))
	_, err := Weights(Options{})
	var de *DownloadError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want a *DownloadError", err)
	}
	if !strings.Contains(err.Error(), "corrupted") || !strings.Contains(err.Error(), filepath.Join(home, "models", "notop.h5")) {
		t.Errorf("error %q should say the file is corrupted and where it belongs", err)
	}
	if _, err := os.Stat(filepath.Join(home, "models", "notop.h5")); err == nil {
		t.Error("a corrupted download must not be put in place")
	}
	noPartFiles(t, filepath.Join(home, "models"))
}

func TestWeightsTruncatedDownload(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte("only a few bytes"))
	}))
	defer srv.Close()
	home, _ := useFakeFiles(t, srv.URL+"/w.h5", md5hex([]byte("x")))
	if _, err := Weights(Options{}); err == nil {
		t.Fatal("a truncated download was accepted")
	}
	noPartFiles(t, filepath.Join(home, "models"))
}

func TestWeightsOfflineMessage(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/w.h5"
	srv.Close() // nothing listens there any more: like having no network
	home, _ := useFakeFiles(t, url, md5hex([]byte("x")))
	_, err := Weights(Options{IncludeTop: true})
	if err == nil {
		t.Fatal("no error without a server")
	}
	msg := err.Error()
	for _, want := range []string{url, filepath.Join(home, "models", "top.h5"), md5hex([]byte("x"))} {
		if !strings.Contains(msg, want) {
			t.Errorf("offline error %q does not mention %q", msg, want)
		}
	}

	// An HTTP error is reported too.
	srv404, _ := fakeServer(t, nil)
	useFakeFiles(t, srv404.URL+"/missing.h5", md5hex([]byte("x")))
	if _, err := Weights(Options{}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: err = %v", err)
	}
}
