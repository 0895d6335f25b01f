package h5

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestOpenImageFromKerasZip reads model.weights.h5 out of a real .keras
// archive both ways (OpenImage of the bytes, OpenImageReader streaming the zip
// member) and checks the two agree with each other and with h5py (through the
// dump) on one dataset; TestAgainstH5py covers every object of the image.
func TestOpenImageFromKerasZip(t *testing.T) {
	zpath := filepath.Join(corpusDir, "keras3/krishna_unet_model.keras")
	if !fileExists(zpath) {
		t.Skipf("corpus file %s absent", zpath)
	}
	data := zipMember(t, zpath, "model.weights.h5")
	f1, err := OpenImage(data)
	if err != nil {
		t.Fatal(err)
	}
	defer f1.Close()
	// The image was copied: scribbling on the caller's bytes changes nothing.
	for i := range data {
		data[i] = 0xAA
	}

	zr, err := zip.OpenReader(zpath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var zf *zip.File
	for _, e := range zr.File {
		if e.Name == "model.weights.h5" {
			zf = e
		}
	}
	rc, err := zf.Open()
	if err != nil {
		t.Fatal(err)
	}
	f2, err := OpenImageReader("krishna_unet_model.keras/model.weights.h5", rc, int64(zf.UncompressedSize64))
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	if f2.Name() != "krishna_unet_model.keras/model.weights.h5" {
		t.Errorf("Name() = %q", f2.Name())
	}

	const kernel = "/layers/conv2d/vars/0"
	want := loadDump(t).Files["keras3/krishna_unet_model.keras!model.weights.h5"][kernel]
	for i, f := range []*File{f1, f2} {
		v, shape, err := f.ReadFloat32(kernel)
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if !slices.Equal(shape, want.Shape) {
			t.Errorf("image %d: shape %v, h5py %v", i, shape, want.Shape)
		}
		for j, b := range want.First {
			if got := float32bits(v[j]); got != b {
				t.Errorf("image %d: %s[%d] bits %#x, h5py %#x", i, kernel, j, got, b)
			}
		}
		name, err := f.Root().Group("layers/conv2d/vars")
		if err != nil {
			t.Fatal(err)
		}
		if s, err := name.String("name"); err != nil || s == "" {
			t.Errorf("image %d: vars name %q, %v", i, s, err)
		}
	}
}

func TestOpenImageReaderShort(t *testing.T) {
	b := []byte("\x89HDF\r\n\x1a\n and not much more")
	_, err := OpenImageReader("x.keras/model.weights.h5", bytes.NewReader(b), 1<<20)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "x.keras/model.weights.h5") {
		t.Errorf("size larger than the stream: %v; want ErrUnexpectedEOF", err)
	}
	if _, err := OpenImageReader("e", strings.NewReader(""), 0); !errors.Is(err, ErrNotHDF5) {
		t.Errorf("empty image: %v", err)
	}
	if _, err := OpenImageReader("big", strings.NewReader(""), 1<<50); !errors.Is(err, ErrTooLarge) {
		t.Errorf("absurd size: %v", err)
	}
}

// TestConcurrentReads reads every dataset of several files from many
// goroutines at once (run with -race) and compares with a serial read.
func TestConcurrentReads(t *testing.T) {
	files := []string{"testdata/synthetic.h5"}
	for _, rel := range []string{"keras1/dl4j_k1_batchnorm_conv2d_tf.h5", "keras3/himal_mnist_weights.weights.h5"} {
		if p := filepath.Join(corpusDir, rel); fileExists(p) {
			files = append(files, p)
		}
	}
	serial := map[string][]float32{}
	var order []string
	for _, p := range files {
		f, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range allDatasets(t, f.Root()) {
			v, _, err := ds.ReadFloat32()
			if err != nil {
				continue // non-numeric datasets
			}
			key := p + ":" + ds.Path()
			serial[key] = v
			order = append(order, key)
		}
		f.Close()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 3 {
				p := files[(w+round)%len(files)]
				f, err := Open(p)
				if err != nil {
					errs <- err
					return
				}
				for _, key := range order {
					path, ok := strings.CutPrefix(key, p+":")
					if !ok {
						continue
					}
					v, _, err := f.ReadFloat32(path)
					if err != nil || !slices.Equal(v, serial[key]) && !hasNaN(v) {
						errs <- errors.New("concurrent read of " + key + " differs")
					}
				}
				f.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func allDatasets(t *testing.T, g Group) []Dataset {
	t.Helper()
	ms, err := g.Members()
	if err != nil {
		t.Fatal(err)
	}
	var out []Dataset
	for _, m := range ms {
		switch m.Kind {
		case KindGroup:
			sub, err := g.Group(m.Name)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, allDatasets(t, sub)...)
		case KindDataset:
			d, err := g.Dataset(m.Name)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
		}
	}
	return out
}

func hasNaN(v []float32) bool {
	for _, x := range v {
		if x != x {
			return true
		}
	}
	return false
}
