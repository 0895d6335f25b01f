// Package keras reads Keras model files into models of the graph package:
// whole models (architecture and weights), architectures alone, and weights
// into models built in Go.
//
//	m, err := keras.LoadModel("mnist_cnn.h5")             // or a .keras archive
//	m, err := keras.LoadModelFromJSON("arch.json", "weights.h5")
//	err := keras.LoadWeights(vgg, "vgg16_weights_tf_dim_ordering_tf_kernels.h5", keras.LoadWeightsOptions{})
//	info, err := keras.Inspect("model.h5")                // who wrote it, what is in it
//
// # Files and eras
//
// Keras has written models in four generations, and this package reads all
// of them (see the support table in README.md):
//
//   - Keras 1 (2015-2017): HDF5 files without a backend attribute, layer
//     configs with Convolution2D, nb_filter, border_mode, subsample and
//     dim_ordering ("th" for channels first), Merge layers, weight names
//     such as convolution2d_1_W:0. A file without a keras_version
//     attribute is a Keras 1 file, as Keras 2 decides too.
//   - Keras 2.0-2.3 and tf.keras 2.x: HDF5 files (model.save writes
//     model_config plus a model_weights group; save_weights writes the
//     weights alone), JSON from model.to_json(), Conv2D/filters/padding,
//     functional models called "Model" (until 2.3) or "Functional".
//   - tf.keras 2.13+: also .keras zip archives.
//   - Keras 3: .keras zip archives (config.json, model.weights.h5), the
//     legacy .h5 format, and .weights.h5 weight stores; configs with
//     batch_shape, DTypePolicy objects and "__keras_tensor__" call
//     arguments.
//
// The loaders recognize a file by its content, not its name: a zip archive
// is a .keras file, an HDF5 file with a model_config attribute a full
// model, one with a layer_names attribute a legacy weights file, one with a
// "layers" group and no attributes a Keras 3 weight store.
//
// # How weights find their layers
//
// Legacy HDF5 files (everything but Keras 3's weight stores) are matched as
// Keras's load_weights does: the model's layers that have weights, in
// Keras's model.layers order, are paired one by one with the file's layers
// whose weight_names list is not empty, in the order of the file's
// layer_names attribute; then each layer's arrays, in weight_names order,
// go to the layer's weights in get_weights() order. Layer names do not
// matter (unless LoadWeightsOptions.ByName), so a Go model whose layers have
// other names loads fine, and counts or shapes that differ are errors that
// name the layer and both shapes. The arrays are read straight into the
// model's weights after every count and shape has been checked.
//
// Keras 3 weight stores (.weights.h5, and model.weights.h5 inside .keras
// archives) do not use layer names at all: the weights of the k-th layer of
// class Conv2D (in model.layers order) are in the group layers/conv2d_k
// (layers/conv2d for the first), in vars/0, vars/1, ... in creation order.
// tf.keras 2.13 archives use _layer_checkpoint_dependencies instead of
// layers. Nested models (a model used as a layer, such as a frozen VGG16
// base in a transfer-learning model) nest the same scheme.
//
// Weights of nested models in legacy files are stored as one list; Keras
// 2.0-2.3 wrote all trainable weights first, later versions layer by layer.
// The loader takes the order the stored names agree with (or else the one
// the shapes fit).
//
// # Conversions of old files
//
// Weights of Keras 1 files are converted as Keras 2's
// preprocess_weights_for_loading does: convolution kernels of "th"
// (channels_first) layers are transposed from (out, in, rows, cols) to
// (rows, cols, in, out). BatchNormalization's running_std holds the
// variance (Keras 1 passed it as such) and is loaded as moving_variance.
//
// Theano computed true convolutions, so kernels trained with the Theano
// backend are rotated by 180 degrees. Keras 1 did not record the backend:
// a Keras 1 file whose weight names all lack TensorFlow's ":0" suffix is
// taken to come from Theano (TensorFlow variable names always end in ":0",
// Theano's never). LoadOptions.Backend overrides the decision. The ImageNet
// VGG16 files of keras.applications have no keras_version either, but
// their names end in ":0" and their kernels are already (rows, cols, in,
// out): they are loaded unchanged, as Keras does.
//
// # Channels-first models
//
// The graph package computes channels_last (NHWC) tensors. A model with
// channels_first layers (Keras 2's data_format="channels_first", Keras 1's
// dim_ordering="th") keeps Keras's layout at its boundaries: its inputs
// are given as NCHW, its outputs come back exactly as Keras returns them.
// Inside, each Keras tensor is stored either in Keras's layout or, for 4-D
// tensors produced or consumed by channels_first layers, transposed to
// NHWC, and the loader inserts graph.Permute layers (marked Auto, named
// "<layer>_to_nhwc" / "<layer>_to_nchw") only where a layer needs the
// other one:
//
//   - channels_first convolutions, pooling, padding, cropping, upsampling
//     and global pooling run on the transposed tensor with the ordinary
//     kernels (their weights have the same layout in both formats);
//   - layers that index axes of the Keras tensor (Dense, Reshape, Flatten
//     with channels_last, PReLU, channels_last spatial layers) get Keras's
//     layout, so Flatten keeps Keras's element order and the Dense layer
//     after it needs no weight permutation;
//   - BatchNormalization, Softmax and Concatenate over axis 1 of a 4-D
//     tensor work on the channel axis of the transposed tensor;
//     elementwise layers (activations, Add, Dropout, ...) keep whatever
//     layout they get.
//
// Loaded.NHWC names the layers whose outputs are stored transposed, so
// Model.Activations of those layers is NHWC.
//
// # Safety
//
// Files are untrusted input. Every number read from a config is range
// checked; before a layer creates its weights, the parameters it needs are
// added up and the model is refused above LoadOptions.MaxParamBytes
// (4e9 bytes by default); tensor shapes are bounded; .keras members are
// checked for unsafe paths, compression methods and declared sizes before
// they are read; truncated and corrupt files give errors.
//
// # Custom layers
//
// A class the package does not know is an error that names the layer and
// the class and lists the supported classes. Write the layer in Go and
// register it with RegisterLayer before loading. Lambda layers hold Python
// bytecode and cannot be loaded; Rescaling covers the usual x/255.
package keras
