// Package vgg16 builds Keras's VGG16 application (keras.applications.VGG16)
// on the graph package: the same layer names, shapes, parameter counts and
// argument checks, so Keras's ImageNet weight files load into it.
//
// VGG16 (Simonyan & Zisserman, 2014) is five blocks of 3×3 "same" ReLU
// convolutions (64, 128, 256, 512, 512 filters; 2, 2, 3, 3, 3 layers), each
// block ending in a 2×2 max pooling that halves the image, then a classifier
// of two 4096-unit Dense layers and a 1000-way softmax: 138,357,544
// parameters, 15.5 G multiply-adds for a 224×224 image.
//
// New builds the architecture (zero weights) for the arguments of
// keras.applications.VGG16, with Keras's checks. Load adds the weights:
// Keras's ImageNet files, found in and shared with Keras's own cache
// (~/.keras/models) and downloaded like keras.utils.get_file does when
// missing (Weights, CacheDir), or any weights file given explicitly.
// InitRandom gives the untrained weights of VGG16(weights=None).
//
// The ImageNet files are weights-only HDF5 files in Keras 1's layout
// (no keras_version attribute, datasets named block1_conv1_W_1:0); the
// keras package reads them. The weights expect caffe preprocessing
// (preprocess.PreprocessInput(x, "caffe")): BGR channels minus the ImageNet
// mean pixel.
package vgg16

import (
	"fmt"

	"github.com/kerago/kerago/graph"
)

// Options are the arguments of keras.applications.VGG16. Keras's default
// model is Options{IncludeTop: true}: 224×224×3, 1000 softmax classes.
type Options struct {
	// IncludeTop keeps the classifier: flatten, fc1, fc2 and predictions.
	IncludeTop bool
	// InputShape is (height, width, channels); nil means Keras's default:
	// (224, 224, 3) with the top, (None, None, 3) without.
	InputShape []int
	// Pooling applies to the notop model: "" (4-D output), "avg" or "max"
	// (global pooling to a vector).
	Pooling string
	// Classes is the number of classes of the top (default 1000).
	Classes int
	// ClassifierActivation is the activation of "predictions" (default
	// "softmax"; "linear" for logits).
	ClassifierActivation string
	// ImageNet says the model is meant for the ImageNet weights, which
	// enforces Keras's checks: 1000 classes and a 224×224×3 input with the
	// top, 3 channels without it, a softmax (or linear) classifier.
	ImageNet bool
}

// Shape returns the input shape Keras would use for these options, checking
// it as keras.applications' obtain_input_shape does.
func (o Options) Shape() ([]int, error) {
	top := o.IncludeTop
	if o.InputShape == nil {
		if top {
			return []int{224, 224, 3}, nil
		}
		return []int{-1, -1, 3}, nil
	}
	s := o.InputShape
	if len(s) != 3 {
		return nil, fmt.Errorf("input_shape must be (height, width, channels), got %v", s)
	}
	if o.ImageNet && top && (s[0] != 224 || s[1] != 224 || s[2] != 3) {
		return nil, fmt.Errorf("when setting include_top=True and loading imagenet weights, input_shape should be (224, 224, 3); received input_shape=%v", s)
	}
	if o.ImageNet && s[2] != 3 {
		return nil, fmt.Errorf("the input must have 3 channels; received input_shape=%v", s)
	}
	for _, d := range s[:2] {
		if d >= 0 && d < 32 {
			return nil, fmt.Errorf("input size must be at least 32x32; received input_shape=%v", s)
		}
		if d < 0 && top {
			return nil, fmt.Errorf("if include_top is True, you should specify a static input_shape; received input_shape=%v", s)
		}
	}
	if s[2] <= 0 {
		return nil, fmt.Errorf("input_shape channels must be known and positive; received input_shape=%v", s)
	}
	return append([]int(nil), s...), nil
}

// New builds VGG16 with zero weights; Load builds it with weights. Layer names are Keras's: block1_conv1 … block5_pool,
// flatten, fc1, fc2, predictions.
func New(o Options) (*graph.Model, error) {
	shape, err := o.Shape()
	if err != nil {
		return nil, fmt.Errorf("vgg16: %w", err)
	}
	classes := o.Classes
	if classes == 0 {
		classes = 1000
	}
	act := o.ClassifierActivation
	if act == "" {
		act = "softmax"
	}
	if o.ImageNet && o.IncludeTop && classes != 1000 {
		return nil, fmt.Errorf("vgg16: if using weights as \"imagenet\" with include_top as true, classes should be 1000; received classes=%d", classes)
	}
	if o.ImageNet && act != "softmax" && act != "linear" {
		return nil, fmt.Errorf("vgg16: only \"softmax\" or \"linear\" (None) are allowed as classifier_activation with the imagenet weights; received %q", act)
	}
	if classes <= 0 {
		return nil, fmt.Errorf("vgg16: classes must be positive, got %d", classes)
	}
	switch o.Pooling {
	case "", "avg", "max":
	default:
		return nil, fmt.Errorf("vgg16: pooling must be \"\", \"avg\" or \"max\", got %q", o.Pooling)
	}
	in := graph.Input(shape...)
	x := in
	filters := []int{64, 128, 256, 512, 512}
	convs := []int{2, 2, 3, 3, 3}
	for b := range filters {
		for c := 1; c <= convs[b]; c++ {
			x = graph.Call(graph.Conv2D(filters[b], [2]int{3, 3}, graph.Padding("same"), graph.Activation("relu"),
				graph.Name(fmt.Sprintf("block%d_conv%d", b+1, c))), x)
		}
		x = graph.Call(graph.MaxPooling2D([2]int{2, 2}, graph.Strides(2, 2), graph.Name(fmt.Sprintf("block%d_pool", b+1))), x)
	}
	if o.IncludeTop {
		x = graph.Call(graph.Flatten(graph.Name("flatten")), x)
		x = graph.Call(graph.Dense(4096, graph.Activation("relu"), graph.Name("fc1")), x)
		x = graph.Call(graph.Dense(4096, graph.Activation("relu"), graph.Name("fc2")), x)
		x = graph.Call(graph.Dense(classes, graph.Activation(act), graph.Name("predictions")), x)
	} else if o.Pooling == "avg" {
		x = graph.Call(graph.GlobalAveragePooling2D(), x)
	} else if o.Pooling == "max" {
		x = graph.Call(graph.GlobalMaxPooling2D(), x)
	}
	m, err := graph.NewModel([]*graph.Node{in}, []*graph.Node{x}, "vgg16")
	if err != nil {
		return nil, fmt.Errorf("vgg16: %w", err)
	}
	return m, nil
}
