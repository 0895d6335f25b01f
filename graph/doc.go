// Package graph is Keras's functional API in Go: symbolic nodes, layers that
// are called on them, and models that run the resulting graph.
//
// A model is built exactly as in Keras:
//
//	x := graph.Input(160, 160, 3)                       // keras.Input(shape=(160, 160, 3))
//	h := graph.Call(graph.Conv2D(16, [2]int{3, 3},       // layers.Conv2D(16, (3, 3),
//		graph.Padding("same"), graph.Activation("relu")), x) //   padding="same", activation="relu")(x)
//	h = graph.Call(graph.MaxPooling2D([2]int{2, 2}), h)
//	m, err := graph.NewModel([]*graph.Node{x}, []*graph.Node{h}, "")
//
// Shapes are inferred when a layer is called, with Keras's arithmetic: a k×k
// window with stride s over n pixels gives floor((n-k)/s)+1 outputs with
// "valid" padding and ceil(n/s) with "same" padding, where TensorFlow puts the
// odd extra padding row or column at the bottom/right. A layer creates its
// weights on its first call, in Keras's layout and order (a Conv2D kernel is
// (kh, kw, in, out) and holds kh·kw·in·out + out parameters with its bias).
//
// Errors do not interrupt building: a call that cannot work (a 5×5 "valid"
// kernel on a 3×3 image) returns a node carrying an error that names the
// layer, and NewModel returns it.
//
// Summary prints what tf.keras 2.0–2.6's model.summary() prints, byte for
// byte. Predict, Activations and Trace run the model on batch-first NHWC
// tensors (package ops); a model is safe for concurrent use once built.
package graph
