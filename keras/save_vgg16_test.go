package keras_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/kerago/kerago/keras"
	"github.com/kerago/kerago/vgg16"
)

// TestSaveVGG16 saves the full-size VGG16 convolutional base (random
// weights) and reads it back: 14.7 million parameters, the shape of the
// course's main model.
func TestSaveVGG16(t *testing.T) {
	m, err := vgg16.New(vgg16.Options{IncludeTop: false})
	if err != nil {
		t.Fatal(err)
	}
	vgg16.InitRandom(m, 1)
	path := filepath.Join(t.TempDir(), "vgg16_notop.h5")
	if err := keras.Save(m, path); err != nil {
		t.Fatal(err)
	}
	back, err := keras.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}
	ww, wg := m.Weights(), back.Weights()
	if len(ww) != 26 || len(wg) != 26 {
		t.Fatalf("%d and %d weights, want 26", len(ww), len(wg))
	}
	for i := range ww {
		if !slices.Equal(ww[i].Shape, wg[i].Shape) || !slices.Equal(ww[i].Data, wg[i].Data) {
			t.Errorf("weight %d (%s) differs", i, ww[i].Name)
		}
	}
	info, err := keras.Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.ModelName != "vgg16" || len(info.Layers) != 19 || info.Layers[1].Weights[0].Name != "block1_conv1/kernel:0" {
		t.Errorf("Inspect: %s, %d layers, %+v", info.ModelName, len(info.Layers), info.Layers[1])
	}
}

// BenchmarkSaveVGG16 writes VGG16's convolutional base (58 MB of float32)
// as .h5 and as .keras.
func BenchmarkSaveVGG16(b *testing.B) {
	m, err := vgg16.New(vgg16.Options{IncludeTop: false})
	if err != nil {
		b.Fatal(err)
	}
	vgg16.InitRandom(m, 1)
	for _, ext := range []string{".h5", ".keras"} {
		b.Run(ext, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "vgg16"+ext)
			b.SetBytes(int64(4 * m.CountParams()))
			for b.Loop() {
				if err := keras.Save(m, path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
