package preprocess

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sbinet/npyio"
)

const sharedPhotos = "../../shared/keras-corpus/images"

// TestJPEGPhotosVsPillow measures, for the real JPEG photos of the shared
// corpus, how far this package's decoding is from Keras's (Pillow's), at
// full size and after load_img(target_size=(224, 224)) (nearest). It needs
// Pillow's decodes, which are not committed:
//
//	python3 scripts/preprocess_reference.py --photos /tmp/pillow-photos
//	KERAGO_PILLOW_PHOTOS=/tmp/pillow-photos go test ./preprocess -run Photos -v
func TestJPEGPhotosVsPillow(t *testing.T) {
	ref := os.Getenv("KERAGO_PILLOW_PHOTOS")
	if ref == "" {
		t.Skip("set KERAGO_PILLOW_PHOTOS to the output of scripts/preprocess_reference.py --photos DIR to run")
	}
	names, err := filepath.Glob(filepath.Join(ref, "*.full.npy"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no *.full.npy in %s (%v)", ref, err)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-24s %-10s | %-23s | %-23s | %-23s | %-23s\n", "photo", "size", "Go full: max/mean", "libjpeg full: max/mean",
		"Go 224 nn: max/mean", "libjpeg 224 nn: max/mean")
	var worst [4]float64
	var meanSum [4]float64
	for _, full := range names {
		photo := strings.TrimSuffix(filepath.Base(full), ".full.npy")
		path := filepath.Join(sharedPhotos, photo)
		if _, err := os.Stat(path); err != nil {
			t.Skipf("shared photos not present (%v)", err)
		}
		var stats [4][2]float64
		var size string
		for k, target := range [][2]int{{0, 0}, {224, 224}} {
			want, shape := readNPYUint8(t, strings.TrimSuffix(full, ".full.npy")+map[int]string{0: ".full.npy", 1: ".224.npy"}[k])
			for d, dec := range []JPEGDecoder{JPEGGo, JPEGLibjpeg} {
				im, err := LoadImg(path, LoadImgOptions{TargetSize: target, JPEG: dec})
				if err != nil {
					t.Fatal(err)
				}
				x, err := ImgToArray(im)
				if err != nil {
					t.Fatal(err)
				}
				if !shapeEq(x.Shape, shape) {
					t.Fatalf("%s: shape %v, Pillow %v", photo, x.Shape, shape)
				}
				mx, mean, _ := diffStats(x.Data, want)
				i := 2*k + d
				stats[i] = [2]float64{mx, mean}
				worst[i] = max(worst[i], mx)
				meanSum[i] += mean
			}
			if k == 0 {
				size = fmt.Sprintf("%dx%d", shape[1], shape[0])
			}
		}
		fmt.Fprintf(&b, "%-24s %-10s |", photo, size)
		for _, s := range stats {
			fmt.Fprintf(&b, " %8.0f / %-12.4f|", s[0], s[1])
		}
		b.WriteString("\n")
		// The default decoding stays within the IDCT differences.
		if stats[1][0] > 8 || stats[1][1] > 0.25 {
			t.Errorf("%s: default decoding off Pillow by max %g, mean %g", photo, stats[1][0], stats[1][1])
		}
	}
	n := float64(len(names))
	fmt.Fprintf(&b, "%-35s |", "worst max / average mean")
	for i := range worst {
		fmt.Fprintf(&b, " %8.0f / %-12.4f|", worst[i], meanSum[i]/n)
	}
	t.Log(b.String())
}

func readNPYUint8(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(bufio.NewReader(f)) // npyio reads in tiny pieces
	if err != nil {
		t.Fatal(err)
	}
	var v []uint8
	if err := r.Read(&v); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out, r.Header.Descr.Shape
}
