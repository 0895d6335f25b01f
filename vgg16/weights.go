package vgg16

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File is one of Keras's ImageNet weight files for VGG16: where Keras
// downloads it from, the name it has in Keras's cache and the md5 hash
// keras.utils.get_file checks it against.
type File struct {
	Name string // file name in the cache's "models" folder
	URL  string // Keras's download URL
	MD5  string // hex md5 of the file, as in keras/src/applications/vgg16.py
	Size int64  // size in bytes (for messages; the hash is what is checked)
}

// The two ImageNet files of keras.applications.VGG16.
var (
	// TopFile holds all 16 weighted layers (528 MiB): weights="imagenet"
	// with include_top=True.
	TopFile = File{
		Name: "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
		URL:  "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
		MD5:  "64373286793e3c8b2b4e3219cbf3544b",
		Size: 553467096,
	}
	// NoTopFile holds the 13 convolutions (56 MiB): include_top=False.
	NoTopFile = File{
		Name: "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
		URL:  "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
		MD5:  "6d6bbae143d832006294945121d1f1fc",
		Size: 58889256,
	}
)

// imagenetFiles is what Weights resolves; tests point it at a local server.
var imagenetFiles = struct{ top, notop File }{TopFile, NoTopFile}

// progressOut receives the download messages and progress bar of Weights.
var progressOut io.Writer = os.Stderr

// FileFor returns the ImageNet file Keras uses for these options (TopFile
// with IncludeTop, else NoTopFile).
func FileFor(o Options) File {
	if o.IncludeTop {
		return imagenetFiles.top
	}
	return imagenetFiles.notop
}

// Weights returns the path of the ImageNet weights file for o, resolved as
// keras.utils.get_file does for keras.applications.VGG16(weights="imagenet"):
//
//   - the file is looked up in Keras's cache, <KERAS_HOME or ~/.keras>/models
//     (see CacheDir), under Keras's own file name, so Go and Python share one
//     cache;
//   - a cached file is used only if its md5 matches; otherwise a message says
//     so and the file is downloaded again;
//   - a download goes into a temporary file in the same folder, with a
//     progress bar on stderr, and is renamed into place only once its md5
//     matches.
//
// When the download fails (no network), the error is a *DownloadError that
// names the URL and the exact path to put a copy of the file at.
func Weights(o Options) (string, error) {
	f := &Fetcher{Progress: progressOut}
	return f.Get(FileFor(o))
}

// DownloadError reports a file that is neither in the cache nor
// downloadable. Its message tells the user how to install the file by hand.
type DownloadError struct {
	File File
	Path string // where the file must be put
	Err  error  // why the download failed
}

func (e *DownloadError) Error() string {
	size := ""
	if e.File.Size > 0 {
		size = fmt.Sprintf("%d bytes, ", e.File.Size)
	}
	return fmt.Sprintf("cannot download %s: %v\n"+
		"To work offline, download that URL on another machine and copy it to\n"+
		"    %s\n"+
		"(%smd5 %s), or give the path of a weights file explicitly",
		e.File.URL, e.Err, e.Path, size, e.File.MD5)
}

func (e *DownloadError) Unwrap() error { return e.Err }

// Fetcher resolves weight files in a Keras cache folder, downloading what
// is missing. The zero value uses CacheDir and prints nothing.
type Fetcher struct {
	// Dir is the folder that holds the files (Keras's "models" folder);
	// empty means CacheDir().
	Dir string
	// Progress, if not nil, receives Keras's messages ("Downloading data
	// from ...", hash mismatches) and a progress bar.
	Progress io.Writer
	// Client makes the requests; nil means a client with connection
	// timeouts (the download itself may take as long as it needs).
	Client *http.Client
}

// Get returns the path of f in the cache, checking its md5, and downloads
// it when it is missing or does not match.
func (ft *Fetcher) Get(f File) (string, error) {
	dir := ft.Dir
	if dir == "" {
		dirs := cacheDirs()
		// A valid copy in the primary cache is used even when that folder
		// is read-only (Keras would look in /tmp/.keras instead).
		for _, d := range dirs {
			p := filepath.Join(d, f.Name)
			if ok, _ := fileHasMD5(p, f.MD5); ok {
				return p, nil
			}
		}
		dir = dirs[len(dirs)-1]
	}
	path := filepath.Join(dir, f.Name)
	out := ft.Progress
	if out == nil {
		out = io.Discard
	}
	if _, err := os.Stat(path); err == nil {
		ok, err := fileHasMD5(path, f.MD5)
		if err != nil {
			return "", fmt.Errorf("checking cached weights %s: %w", path, err)
		}
		if ok {
			return path, nil
		}
		fmt.Fprintf(out, "A local file was found, but it seems to be incomplete or outdated because the md5 file hash does not match the original value of %s so we will re-download the data.\n", f.MD5)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", &DownloadError{File: f, Path: path, Err: fmt.Errorf("cannot create the cache folder: %w", err)}
	}
	fmt.Fprintf(out, "Downloading data from %s\n", f.URL)
	if err := ft.download(f, path, out); err != nil {
		return "", &DownloadError{File: f, Path: path, Err: err}
	}
	return path, nil
}

// download fetches f.URL into a temporary file next to path and renames it
// to path once its md5 is f.MD5.
func (ft *Fetcher) download(f File, path string, out io.Writer) (err error) {
	client := ft.Client
	if client == nil {
		client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		}}
	}
	resp, err := client.Get(f.URL)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP status %s", resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+f.Name+".*.part")
	if err != nil {
		return fmt.Errorf("cannot create a temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := md5.New()
	bar := &progressBar{out: out, total: resp.ContentLength, start: time.Now()}
	n, err := io.Copy(io.MultiWriter(tmp, h, bar), resp.Body)
	bar.finish()
	if err != nil {
		return fmt.Errorf("after %d bytes: %w", n, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("got %d bytes, the server announced %d", n, resp.ContentLength)
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, f.MD5) {
		return fmt.Errorf("incomplete or corrupted file detected: the md5 file hash %s does not match the provided value of %s", got, f.MD5)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// fileHasMD5 reports whether the file at path exists and hashes to want.
func fileHasMD5(path, want string) (bool, error) {
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer fh.Close()
	h := md5.New()
	if _, err := io.Copy(h, fh); err != nil {
		return false, err
	}
	return strings.EqualFold(hex.EncodeToString(h.Sum(nil)), want), nil
}

// CacheDir returns the folder where Keras keeps downloaded models:
// <base>/models, where base is $KERAS_HOME if set, else ~/.keras (/tmp/.keras
// when the home folder is not writable), and /tmp/.keras again when base
// cannot be created or written to (keras.utils.get_file's fallback).
func CacheDir() string {
	d := cacheDirs()
	return d[len(d)-1]
}

// cacheDirs returns Keras's preferred models folder and, when that is not
// writable, the /tmp/.keras/models fallback after it.
func cacheDirs() []string {
	base, ok := os.LookupEnv("KERAS_HOME")
	if ok {
		base = expandUser(base)
	} else {
		home, err := os.UserHomeDir()
		if err != nil || !writable(home) {
			home = "/tmp"
		}
		base = filepath.Join(home, ".keras")
	}
	primary := filepath.Join(base, "models")
	// keras/src/backend/config.py creates the base folder on import.
	os.MkdirAll(base, 0o755)
	if writable(base) {
		return []string{primary}
	}
	tmp := "/tmp"
	if st, err := os.Stat(tmp); err != nil || !st.IsDir() {
		tmp = os.TempDir()
	}
	return []string{primary, filepath.Join(tmp, ".keras", "models")}
}

// expandUser replaces a leading ~ by the home folder, as os.path.expanduser.
func expandUser(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// progressBar draws a one-line progress bar, at most every 200 ms.
type progressBar struct {
	out   io.Writer
	total int64 // -1 when unknown
	done  int64
	last  time.Time
	start time.Time
}

func (p *progressBar) Write(b []byte) (int, error) {
	now := time.Now()
	p.done += int64(len(b))
	if now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		p.draw()
	}
	return len(b), nil
}

func (p *progressBar) draw() {
	const width = 30
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
	if p.total <= 0 {
		fmt.Fprintf(p.out, "\r%s", mb(p.done))
		return
	}
	k := int(float64(width) * float64(p.done) / float64(p.total))
	k = min(max(k, 0), width)
	bar := strings.Repeat("=", k)
	if k < width {
		bar += ">" + strings.Repeat(".", width-k-1)
	}
	fmt.Fprintf(p.out, "\r%s / %s [%s] %3d%%", mb(p.done), mb(p.total), bar, 100*p.done/p.total)
}

func (p *progressBar) finish() {
	p.draw()
	fmt.Fprintf(p.out, " %.1fs\n", time.Since(p.start).Seconds())
}
