package keras

import (
	"fmt"
	"path/filepath"
	"testing"
)

// The expected facts below were read from the files with h5py / zipfile
// (see shared/keras-corpus/MANIFEST.md and the notes' keras-file-layouts.md).
func TestInspect(t *testing.T) {
	needCorpus(t)
	type want struct {
		format     Format
		version    string
		backend    string
		era        string
		class      string
		layers     int
		training   bool
		optimizer  int
		layer      string // a layer to check
		layerClass string
		outShape   string
		weights    string // its weight shapes
	}
	cases := map[string]want{
		"keras3/himal_mnist_cnn.h5": {FormatH5Model, "3.10.0", "tensorflow", "Keras 3", "Sequential", 7, true, 18,
			"conv2d_1", "Conv2D", "[11 11 64]", "[sequential/conv2d_1/kernel [3 3 32 64]] [sequential/conv2d_1/bias [64]]"},
		"keras1/dl4j_k1_batchnorm_conv2d_tf.h5": {FormatH5Model, "1.2.2", "", "Keras 1", "Sequential", 4, true, 0,
			"batchnormalization_1", "BatchNormalization", "[7 7 10]",
			"[batchnormalization_1_gamma:0 [10]] [batchnormalization_1_beta:0 [10]] [batchnormalization_1_running_mean:0 [10]] [batchnormalization_1_running_std:0 [10]]"},
		"keras2/dl4j_simpleconv2d_channels_first.hdf5": {FormatH5Model, "2.3.1", "tensorflow", "Keras 2", "Sequential", 10, false, 0,
			"conv2d_1", "Conv2D", "[30 26 26]", "[conv2d_1/kernel:0 [3 3 1 30]] [conv2d_1/bias:0 [30]]"},
		"tfkeras/mlperftiny_vww_96.h5": {FormatH5Model, "2.4.0", "tensorflow", "tf.keras 2", "Functional", 85, true, 221,
			"dense", "Dense", "[2]", "[dense/kernel:0 [256 2]] [dense/bias:0 [2]]"},
		"keras1/keras2cpp_my_nn_weights.h5": {FormatH5Weights, "", "", "Keras 1 (version not recorded)", "", 12, false, 0,
			"convolution2d_1", "", "[]", "[convolution2d_1_W [4 1 3 3]] [convolution2d_1_b [4]]"},
		"tfkeras/ayk_mnist_cnn_weights.h5": {FormatH5Weights, "2.3.0-tf", "tensorflow", "tf.keras 2", "", 7, false, 0,
			"dense_1", "", "[]", "[dense_1/kernel:0 [128 10]] [dense_1/bias:0 [10]]"},
		"keras3/krishna_unet_model.keras": {FormatKeras, "3.8.0", "", "Keras 3", "Functional", 16, true, 2,
			"conv2d_17", "Conv2D", "[128 128 1]", "[layers/conv2d_8/vars/0 [1 1 16 1]] [layers/conv2d_8/vars/1 [1]]"},
		"tfkeras/mpnunez_gan_generator_tfkeras2.13.keras": {FormatKeras, "2.13.1", "", "tf.keras 2", "Sequential", 3, false, 0,
			"conv2d_transpose", "Conv2DTranspose", "[28 28 1]", "[_layer_checkpoint_dependencies/conv2d_transpose/vars/0 [4 4 1 8]] [_layer_checkpoint_dependencies/conv2d_transpose/vars/1 [1]]"},
		"keras3/himal_mnist_weights.weights.h5": {FormatKeras3Weights, "", "", "Keras 3 (version not recorded)", "", 7, false, 2,
			"layers/dense", "(layer dense)", "[]", "[layers/dense/vars/0 [1600 100]] [layers/dense/vars/1 [100]]"},
		"tfkeras/ayk_mnist_cnn.json": {FormatJSON, "2.3.0-tf", "tensorflow", "tf.keras 2", "Sequential", 7, false, 0,
			"max_pooling2d_1", "MaxPooling2D", "[5 5 128]", ""},
	}
	for file, w := range cases {
		t.Run(file, func(t *testing.T) {
			fi, err := Inspect(filepath.Join(corpusDir, file))
			if err != nil {
				t.Fatal(err)
			}
			got := want{fi.Format, fi.KerasVersion, fi.Backend, fi.Era(), fi.ModelClass, len(fi.Layers), fi.HasTrainingConfig, fi.OptimizerWeights, w.layer, "", "", ""}
			found := false
			for _, l := range fi.Layers {
				if l.Name == w.layer {
					found = true
					got.layerClass = l.Class
					got.outShape = fmt.Sprint(l.OutputShape)
					s := ""
					for i, wi := range l.Weights {
						if i > 0 {
							s += " "
						}
						s += fmt.Sprintf("[%s %v]", wi.Name, wi.Shape)
					}
					got.weights = s
				}
			}
			if !found {
				t.Fatalf("no layer %q among %d", w.layer, len(fi.Layers))
			}
			if got != w {
				t.Errorf("got  %+v\nwant %+v", got, w)
			}
		})
	}
}
