package h5

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// badFiles builds, in a temporary directory, files that must be refused with
// an error naming them: missing, directory, empty, text, garbage after a
// valid signature, and truncated copies of real files at several offsets.
func badFiles(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"missing":   filepath.Join(dir, "missing.h5"),
		"directory": filepath.Join(dir, "adir.h5"),
	}
	if err := os.Mkdir(files["directory"], 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(key string, b []byte) {
		p := filepath.Join(dir, key+".h5")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files[key] = p
	}
	write("empty", nil)
	write("text", []byte("this is not HDF5, just a text file named .h5\n"))
	write("zip", []byte("PK\x03\x04 a .keras archive is a zip, not HDF5"))
	write("signature-only", signature)
	write("signature-garbage", append(append([]byte{}, signature...), []byte(strings.Repeat("\xff\x00garbage", 200))...))

	sources := []string{"testdata/synthetic.h5"}
	for _, rel := range []string{"keras1/dl4j_k1_batchnorm_conv2d_tf.h5", "keras3/himal_mnist_weights.weights.h5", "tfkeras/mlperftiny_str_ww_ref_model.h5"} {
		if p := filepath.Join(corpusDir, rel); fileExists(p) {
			sources = append(sources, p)
		} else {
			t.Logf("corpus file %s absent; truncating testdata only", rel)
		}
	}
	for _, src := range sources {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		n := len(b)
		for _, cut := range []int{1, 7, 8, 100, 511, 1000, 2048, 4096, n / 4, n / 2, 3 * n / 4, n - 4096, n - 100, n - 1} {
			if cut <= 0 || cut >= n {
				continue
			}
			write(filepath.Base(src)+"-cut"+itoa(cut), b[:cut])
		}
	}
	return files
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}

// TestBadFiles checks that every bad file gives an error that names it, that
// non-HDF5 content is reported as ErrNotHDF5, and that libhdf5 prints nothing
// on stderr while failing.
func TestBadFiles(t *testing.T) {
	files := badFiles(t)
	stderr := captureStderr(t, func() {
		for key, p := range files {
			f, err := Open(p)
			if err == nil {
				f.Close()
				t.Errorf("%s: Open succeeded", key)
				continue
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q does not name the file", key, err)
			}
			switch key {
			case "empty", "text", "zip":
				if !errors.Is(err, ErrNotHDF5) {
					t.Errorf("%s: error %q is not ErrNotHDF5", key, err)
				}
			case "directory":
				if !strings.Contains(err.Error(), "directory") {
					t.Errorf("%s: error %q does not say directory", key, err)
				}
			case "missing":
				if !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: error %q is not ErrNotExist", key, err)
				}
			}
			if strings.Contains(key, "-cut") && !strings.Contains(err.Error(), "truncated") && !errors.Is(err, ErrNotHDF5) {
				t.Errorf("%s: error %q mentions neither truncation nor a missing signature", key, err)
			}
			t.Logf("%s: %v", key, err)

			// The same bytes as an in-memory image.
			if b, rerr := os.ReadFile(p); rerr == nil {
				if f, err := OpenImage(b); err == nil {
					f.Close()
					t.Errorf("%s: OpenImage succeeded", key)
				} else if !strings.Contains(err.Error(), "<memory image>") {
					t.Errorf("%s: OpenImage error %q does not say it is an image", key, err)
				}
			}
		}
	})
	if stderr != "" {
		t.Errorf("libhdf5 wrote to stderr:\n%s", stderr)
	}
}

// TestLibraryErrorsAreGoErrors checks that failures detected inside libhdf5
// come back as Go errors carrying the innermost message of its error stack,
// with nothing printed.
func TestLibraryErrorsAreGoErrors(t *testing.T) {
	f, err := Open("testdata/synthetic.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := captureStderr(t, func() {
		// A path through a dataset: libhdf5 itself rejects the traversal.
		_, err = f.Kind("data/f32/below")
	})
	if err == nil || !strings.Contains(err.Error(), "libhdf5: ") || !strings.Contains(err.Error(), "synthetic.h5") {
		t.Errorf("Kind through a dataset: %v; want a libhdf5 error naming the file", err)
	}
	t.Log(err)
	if out != "" {
		t.Errorf("stderr: %q", out)
	}
}

func TestSizeLimits(t *testing.T) {
	f, err := Open("testdata/huge_decl.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// 2^36 float32 (256 GiB) declared in a file of a few KB, never written.
	d, err := f.Dataset("declared_256GiB")
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.Info()
	if err != nil || info.Len() != 1<<36 {
		t.Fatalf("Info %+v, %v", info, err)
	}
	f.SetMaxBytes(1 << 40) // the budget alone would allow it: the file-size check must refuse
	if _, _, err := d.ReadFloat32(); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "file has only") {
		t.Errorf("ReadFloat32 of a 256 GiB declaration: %v; want ErrTooLarge (file size)", err)
	}
	// Compressed data may legitimately exceed the file size, so only the
	// budget protects: 2^30 float32 = 4 GiB > DefaultMaxBytes.
	f.SetMaxBytes(DefaultMaxBytes)
	g, err := f.Dataset("gzip_4GiB")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.ReadFloat32(); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "budget") {
		t.Errorf("ReadFloat32 of a 4 GiB gzip declaration: %v; want ErrTooLarge (budget)", err)
	}
	// A small real dataset against a tiny budget.
	s, err := Open("testdata/synthetic.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetMaxBytes(100)
	if _, _, err := s.ReadFloat32("data/f32"); !errors.Is(err, ErrTooLarge) { // 60 floats = 240 bytes
		t.Errorf("budget 100 bytes, 240-byte dataset: %v; want ErrTooLarge", err)
	}
	s.SetMaxBytes(240)
	if _, _, err := s.ReadFloat32("data/f32"); err != nil {
		t.Errorf("budget equal to the size: %v", err)
	}
}

func TestClosedFile(t *testing.T) {
	f, err := Open("testdata/synthetic.h5")
	if err != nil {
		t.Fatal(err)
	}
	g := f.Root()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := g.Members(); !errors.Is(err, ErrClosed) {
		t.Errorf("Members after Close: %v", err)
	}
	if _, err := g.Strings("utf8_scalar"); !errors.Is(err, ErrClosed) {
		t.Errorf("Strings after Close: %v", err)
	}
	if _, _, err := f.ReadFloat32("data/f32"); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadFloat32 after Close: %v", err)
	}
}

// TestCaptureStderrWorks makes sure the stderr checks above can fail.
func TestCaptureStderrWorks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("stderr capture is implemented for Linux only")
	}
	if out := captureStderr(t, func() { os.Stderr.WriteString("probe\n") }); out != "probe\n" {
		t.Errorf("captured %q, want the probe", out)
	}
}

// TestExternalLinksNotFollowed opens a file whose member "ext" is an external
// link to testdata/synthetic.h5:/data (h5py follows it): this package must
// not open the other file.
func TestExternalLinksNotFollowed(t *testing.T) {
	f, err := Open("testdata/extlink.h5")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := f.Root().Members()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0] != (Member{"ext", KindOther}) || ms[1] != (Member{"local", KindGroup}) {
		t.Errorf("members %v", ms)
	}
	if _, err := f.Group("ext"); err == nil {
		t.Error("Group opened an external link")
	}
	if _, _, err := f.ReadFloat32("ext/f32"); err == nil {
		t.Error("ReadFloat32 read through an external link")
	}
	if _, err := (Object{f: f, path: "/ext"}).AttrNames(); err == nil {
		t.Error("AttrNames opened an external link")
	}
	if n := f.openObjects(); n != 0 {
		t.Errorf("%d handles open", n)
	}
}

func TestZeroValues(t *testing.T) {
	var g Group
	var d Dataset
	if _, err := g.Members(); err == nil {
		t.Error("zero Group: Members succeeded")
	}
	if _, err := g.Group("x"); err == nil {
		t.Error("zero Group: Group succeeded")
	}
	if _, err := g.CreateGroup("x"); err == nil {
		t.Error("zero Group: CreateGroup succeeded")
	}
	if _, err := g.WriteFloat32("x", []float32{1}, []int{1}); err == nil {
		t.Error("zero Group: WriteFloat32 succeeded")
	}
	if err := g.SetString("x", "y", ASCII); err == nil {
		t.Error("zero Group: SetString succeeded")
	}
	if _, _, err := d.ReadFloat32(); err == nil {
		t.Error("zero Dataset: ReadFloat32 succeeded")
	}
	if _, err := d.Strings("x"); err == nil {
		t.Error("zero Dataset: Strings succeeded")
	}
}
