package vgg16

import (
	"fmt"
	"os"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/keras"
)

// Load builds VGG16 for o and fills it with weights, as
// keras.applications.VGG16(weights=...) does:
//
//   - weightsPath == "": weights="imagenet". Keras's checks for the ImageNet
//     weights apply (o.ImageNet is set), and the file comes from Weights:
//     Keras's cache, checked by md5, downloaded when missing.
//   - otherwise weights=weightsPath: that file is loaded as given (no hash
//     check), with Keras's load_weights rules (layers with weights are
//     matched in order; counts and shapes must agree). Any Keras weights
//     file of the same architecture works, including the ImageNet files.
func Load(o Options, weightsPath string) (*graph.Model, error) {
	if weightsPath == "" {
		o.ImageNet = true
	}
	// Check the options before fetching 528 MB.
	m, err := New(o)
	if err != nil {
		return nil, err
	}
	if weightsPath == "" {
		if weightsPath, err = Weights(o); err != nil {
			return nil, fmt.Errorf("vgg16: ImageNet weights: %w", err)
		}
	} else if _, err := os.Stat(weightsPath); err != nil {
		return nil, fmt.Errorf("vgg16: the weights argument should be the path to a weights file: %w", err)
	}
	if err := keras.LoadWeights(m, weightsPath, keras.LoadWeightsOptions{}); err != nil {
		return nil, fmt.Errorf("vgg16: loading weights from %s: %w", weightsPath, err)
	}
	return m, nil
}
