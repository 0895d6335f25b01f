package vgg16_test

import (
	"fmt"

	"github.com/kerago/kerago/vgg16"
)

// The architecture alone needs no weights: here the convolutional base the
// course uses for transfer learning, on 160×160 images, pooled to a vector.
func ExampleNew() {
	m, err := vgg16.New(vgg16.Options{InputShape: []int{160, 160, 3}, Pooling: "avg"})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.CountParams(), m.Outputs()[0].Shape)
	fmt.Println(m.Layer("block5_pool").Base().Output().Shape)
	// Output:
	// 14714688 (None, 512)
	// (None, 5, 5, 512)
}

// Keras's ImageNet files: Load finds them in Keras's cache or downloads
// them; offline, the error names this URL and the cache path.
func ExampleFileFor() {
	f := vgg16.FileFor(vgg16.Options{IncludeTop: false})
	fmt.Println(f.Name)
	fmt.Println(f.URL)
	fmt.Println(f.MD5)
	// Output:
	// vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
	// https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5
	// 6d6bbae143d832006294945121d1f1fc
}
