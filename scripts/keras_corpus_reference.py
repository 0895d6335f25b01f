"""keras_corpus_reference.py: real-Keras outputs for the model files of shared/keras-corpus.

Run:  python3 scripts/keras_corpus_reference.py   (needs tensorflow, tf_keras, keras 3, h5py;
      scripts/keras_reference_env.sh --python prints a suitable interpreter)

For every model file of the corpus (shared/keras-corpus, read in place; override with
$KERAS_CORPUS) this writes keras/testdata/corpus/<case>/:

  manifest.json        what was run and how: files, reference ("tf_keras 2.x", "keras 3.x" or
                       "hand-built ..."), layout, inputs, layers and outputs with their files
  input_<i>.npy        the seeded model input i, in the model's own layout (NCHW for
                       channels_first / Keras 1 "th" models)
  <layer>.npy          the output of layer <layer> (first call), in Keras's layout
  output_<k>.npy       model output k

How each file is run (the Go tests in keras/corpus_test.go load the same file with this package
and compare every stored layer within 1e-4 * max|keras|):

  * tf.keras / Keras 2.x .h5 files and JSON + weights pairs: tf_keras (the Keras 2 API on current
    TensorFlow) load_model / model_from_json + load_weights.
  * Keras 3 files (.keras, Keras 3 legacy .h5, Keras 3 JSON + .weights.h5): Keras 3 (TensorFlow
    backend). The tf.keras 2.13 .keras archive is read by tf_keras (Keras 3 refuses its config).
  * Keras 1 files cannot be loaded by modern Keras (Convolution2D, nb_filter, ...). Their models
    are rebuilt by hand here with tf_keras layers from the file's config, and the weights are
    copied from the file with h5py, converted as Keras 2's preprocess_weights_for_loading does.
    Files written by the Theano backend (weight names without ":0") computed true convolutions:
    their reference uses each kernel rotated by 180 degrees (Keras's convert_kernel). The
    "th"-ordered keras2cpp model is computed by a plain numpy NCHW implementation written below
    (TensorFlow's CPU kernels do not run NCHW convolutions).
  * keras2/dl4j_simpleconv2d_channels_first.hdf5 is loaded by tf_keras, but TensorFlow's CPU
    kernels cannot run its channels_first Conv2D: the layers are called one by one, that one
    Conv2D being computed by the numpy NCHW convolution below.
  * keras3/bestakdv_mnist_cnn.weights.h5 has no architecture file: the model is rebuilt in
    Keras 3 as its notebook describes (Conv2D 32 relu, MaxPool, Conv2D 64 relu, MaxPool, Flatten,
    Dropout, Dense 10 softmax; the activations are an assumption, the layer classes and order are
    what the file's group names say) and its weights loaded with Keras 3's load_weights.
  * A synthetic VGG16-style Keras-1 weights file (keras/testdata/k1_vgg_style_weights.h5, written
    here with h5py exactly like the ImageNet vgg16_weights_tf_dim_ordering_tf_kernels.h5 files:
    root attribute layer_names only, datasets <layer>_W_1:0 / <layer>_b_1:0) with its reference
    computed by tf_keras from the same arrays.
  * keras1/dl4j_keras1_functional_mlp_config.json has no weights: the equivalent tf_keras model
    gets seeded random weights, stored as <layer>.w<i>.npy.

Batch size is 1 or 2; large per-layer outputs are skipped (final outputs are always stored) to
keep the directory small.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_ref_common as C  # noqa: E402

tf = C.quiet_tf()
import h5py  # noqa: E402
import keras as k3  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras as k2  # noqa: E402

REPO = C.REPO
CORPUS = os.environ.get("KERAS_CORPUS", os.path.join(REPO, "..", "shared", "keras-corpus"))
OUT = os.path.join(REPO, "keras", "testdata", "corpus")
SYNTH = os.path.join(REPO, "keras", "testdata", "k1_vgg_style_weights.h5")
LAYER_BUDGET = 24000  # floats of per-layer outputs stored per case (outputs always stored)

CASES = []


def case(name, files, reference, layout="NHWC", note=""):
    def deco(fn):
        CASES.append(dict(name=name, files=files, reference=reference, layout=layout, note=note, fn=fn))
        return fn
    return deco


def cp(rel):
    """A corpus file, or a file this script writes under keras/testdata."""
    if rel.startswith("keras/"):
        return os.path.join(REPO, rel)
    return os.path.join(CORPUS, rel)


def rng_for(name):
    """A generator seeded from the name (stable across runs and machines)."""
    return np.random.default_rng(sum((i + 1) * ord(ch) for i, ch in enumerate(name)))


def uniform(name, shape, lo=0.0, hi=1.0):
    """Seeded uniform values in [lo, hi); large [0, 1) inputs are k/255 (like scaled pixels), so
    that they can be stored exactly as uint8."""
    r = rng_for(name)
    if lo == 0.0 and hi == 1.0 and int(np.prod(shape)) >= 20000:
        return (r.integers(0, 256, size=shape).astype(np.float32) / np.float32(255)).astype(np.float32)
    return r.uniform(lo, hi, size=shape).astype(np.float32)


def h5str(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def k1_weights(path, layer):
    """The arrays of a Keras 1 layer, in weight_names order."""
    with h5py.File(path, "r") as f:
        g = f["model_weights"] if "model_weights" in f else f
        lg = g[layer]
        return [np.array(lg[h5str(n)]) for n in lg.attrs["weight_names"]]


def per_layer(model, inputs, module):
    """Runs a Keras model (tf_keras or Keras 3) and returns {layer name: first-call output}."""
    layers = [l for l in model.layers if l.__class__.__name__ != "InputLayer"]
    probe = module.Model(model.inputs, [l.output for l in layers])
    outs = probe.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if not isinstance(outs, list):
        outs = [outs]
    res = {}
    for l, o in zip(layers, outs):
        res[l.name] = np.asarray(o, dtype=np.float32)
    finals = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if not isinstance(finals, list):
        finals = [finals]
    return res, [np.asarray(f, dtype=np.float32) for f in finals]


# ---- numpy NCHW reference kernels (for what TensorFlow's CPU kernels cannot run) ----

def np_conv_nchw(x, kernel, bias, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Cross-correlation of x (N, C, H, W) with a Keras kernel (kh, kw, C, F): out (N, F, OH, OW).
    "same" pads as TensorFlow: total = max((out-1)*s + keff - n, 0), extra at the bottom/right."""
    n, c, h, w = x.shape
    kh, kw, _, f = kernel.shape
    sh, sw = strides
    dh, dw = dilation
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + eh - h, 0), max((ow - 1) * sw + ew - w, 0)
        x = np.pad(x, ((0, 0), (0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))
    else:
        oh, ow = (h - eh) // sh + 1, (w - ew) // sw + 1
    out = np.zeros((n, f, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * dh: i * dh + (oh - 1) * sh + 1: sh, j * dw: j * dw + (ow - 1) * sw + 1: sw]
            out += np.einsum("nchw,cf->nfhw", patch.astype(np.float64), kernel[i, j].astype(np.float64))
    if bias is not None:
        out += bias.reshape(1, f, 1, 1)
    return out.astype(np.float32)


def np_maxpool_nchw(x, pool, strides):
    n, c, h, w = x.shape
    oh, ow = (h - pool[0]) // strides[0] + 1, (w - pool[1]) // strides[1] + 1
    out = np.full((n, c, oh, ow), -np.inf, dtype=np.float32)
    for i in range(pool[0]):
        for j in range(pool[1]):
            out = np.maximum(out, x[:, :, i: i + (oh - 1) * strides[0] + 1: strides[0], j: j + (ow - 1) * strides[1] + 1: strides[1]])
    return out


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ---- Keras 1 files (rebuilt by hand) ----

@case("k1_batchnorm_conv2d_tf", {"model": "keras1/dl4j_k1_batchnorm_conv2d_tf.h5"},
      "hand-built tf_keras model from the Keras 1.2.2 config; weights copied with h5py (running_std is the variance)")
def k1_bn():
    p = cp("keras1/dl4j_k1_batchnorm_conv2d_tf.h5")
    L = k2.layers
    x = k2.Input((100,))
    d = L.Dense(490, name="dense_1")
    r = L.Reshape((7, 7, 10), name="reshape_1")
    bn = L.BatchNormalization(axis=-1, epsilon=1e-3, name="batchnormalization_1")
    cv = L.Conv2D(5, (3, 3), padding="valid", name="convolution2d_1")
    m = k2.Model(x, cv(bn(r(d(x)))))
    d.set_weights(k1_weights(p, "dense_1"))
    bn.set_weights(k1_weights(p, "batchnormalization_1"))  # gamma, beta, running_mean, running_std(=variance)
    cv.set_weights(k1_weights(p, "convolution2d_1"))
    xs = [uniform("k1bn", (2, 100), -1, 1)]
    return m, xs, k2


@case("k1_conv2d_reshape_tf", {"model": "keras1/dl4j_k1_conv2d_reshape_tf.h5"},
      "hand-built tf_keras model from the Keras 1.2.2 config; weights copied with h5py")
def k1_reshape():
    p = cp("keras1/dl4j_k1_conv2d_reshape_tf.h5")
    L = k2.layers
    x = k2.Input((5, 5, 5))
    c1 = L.Conv2D(6, (3, 2), name="convolution2d_1")
    r = L.Reshape((4, 3, 6), name="reshape_1")
    c2 = L.Conv2D(6, (1, 1), name="convolution2d_2")
    fl = L.Flatten(name="flatten_1")
    d = L.Dense(12, name="dense_1")
    m = k2.Model(x, d(fl(c2(r(c1(x))))))
    for l in (c1, c2, d):
        l.set_weights(k1_weights(p, l.name))
    return m, [uniform("k1reshape", (2, 5, 5, 5), -1, 1)], k2


@case("k1_conv2d_theano", {"model": "keras1/dl4j_k1_conv2d_theano.h5"},
      "hand-built tf_keras Conv2D; the Theano kernel is rotated 180 degrees (Theano computed a true convolution)")
def k1_theano():
    p = cp("keras1/dl4j_k1_conv2d_theano.h5")
    L = k2.layers
    x = k2.Input((5, 5, 5))
    c = L.Conv2D(6, (3, 3), name="convolution2d_1")
    m = k2.Model(x, c(x))
    w, b = k1_weights(p, "convolution2d_1")
    c.set_weights([w[::-1, ::-1, :, :].copy(), b])
    return m, [uniform("k1theano", (2, 5, 5, 5), -1, 1)], k2


@case("k1_keras2cpp", {"config": "keras1/keras2cpp_my_nn_arch.json", "weights": "keras1/keras2cpp_my_nn_weights.h5"},
      "numpy NCHW forward pass written here (Theano semantics: kernels (out,in,kh,kw) flipped, 'th' flatten order)",
      layout="NCHW")
def k1_keras2cpp():
    p = cp("keras1/keras2cpp_my_nn_weights.h5")
    with open(cp("testvectors/keras2cpp_sample_mnist_input.json")) as f:
        tv = json.load(f)
    key = [k for k in tv if isinstance(tv[k], list) and k not in ("model", "shape")][0]
    x = np.asarray(tv[key], dtype=np.float32).reshape([1] + tv["shape"])

    def conv(x, name):
        w, b = k1_weights(p, name)  # Theano (out, in, kh, kw), true convolution
        w = w[:, :, ::-1, ::-1]  # flip: convolution -> cross-correlation
        k = np.transpose(w, (2, 3, 1, 0))  # -> (kh, kw, in, out)
        return np_conv_nchw(x, k, b, padding="same")

    outs = {}
    y = conv(x, "convolution2d_1"); outs["convolution2d_1"] = y
    y = np.maximum(y, 0); outs["activation_1"] = y
    y = conv(y, "convolution2d_2"); outs["convolution2d_2"] = y
    y = np.maximum(y, 0); outs["activation_2"] = y
    y = np_maxpool_nchw(y, (2, 2), (2, 2)); outs["maxpooling2d_1"] = y
    outs["dropout_1"] = y
    y = y.reshape(y.shape[0], -1); outs["flatten_1"] = y
    w, b = k1_weights(p, "dense_1")
    y = (y.astype(np.float64) @ w + b).astype(np.float32); outs["dense_1"] = y
    y = np.maximum(y, 0); outs["activation_3"] = y
    outs["dropout_2"] = y
    w, b = k1_weights(p, "dense_2")
    y = (y.astype(np.float64) @ w + b).astype(np.float32); outs["dense_2"] = y
    y = np_softmax(y.astype(np.float64)).astype(np.float32); outs["activation_4"] = y
    return None, [x], (outs, [y])


@case("k1_functional_mlp", {"config": "keras1/dl4j_keras1_functional_mlp_config.json"},
      "hand-built tf_keras model from the Keras 1.1.2 functional config (Merge concat -> Concatenate) "
      "with seeded random weights, stored as <layer>.w<i>.npy")
def k1_mlp():
    L = k2.layers
    a = k2.Input((4,), name="input1")
    b = k2.Input((4,), name="input2")
    y = L.Dense(3, name="dense_1")(a)
    y = L.Activation("relu", name="activation_1")(y)
    y = L.Dropout(0.2, name="dropout_1")(y)
    y = L.Concatenate(axis=-1, name="merge_1")([y, b])
    y = L.Dense(2, activation="tanh", name="dense_2")(y)
    y = L.Dropout(0.2, name="dropout_2")(y)
    y = L.Dense(3, name="dense_3")(y)
    o1 = L.Activation("sigmoid", name="output1")(y)
    o2 = L.Activation("sigmoid", name="output2")(y)
    m = k2.Model([a, b], [o1, o2])
    rng = rng_for("k1mlp")
    for l in m.layers:
        ws = l.get_weights()
        if ws:
            l.set_weights([rng.normal(0, 0.7, size=w.shape).astype(np.float32) for w in ws])
    return m, [uniform("k1mlp_a", (2, 4), -1, 1), uniform("k1mlp_b", (2, 4), -1, 1)], k2


@case("k1_vgg_style_weights", {"weights": "keras/testdata/k1_vgg_style_weights.h5"},
      "tf_keras model with the arrays written to the synthetic Keras-1/ImageNet-style weights file")
def k1_vgg():
    L = k2.layers
    x = k2.Input((8, 8, 3), name="input_1")
    y = L.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(x)
    y = L.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv2")(y)
    y = L.MaxPooling2D(2, name="block1_pool")(y)
    y = L.Conv2D(6, 3, padding="same", activation="relu", name="block2_conv1")(y)
    y = L.MaxPooling2D(2, name="block2_pool")(y)
    y = L.Flatten(name="flatten")(y)
    y = L.Dense(5, activation="relu", name="fc1")(y)
    y = L.Dense(3, activation="softmax", name="predictions")(y)
    m = k2.Model(x, y)
    rng = rng_for("k1vgg")
    names = []
    with h5py.File(SYNTH, "w") as f:
        for l in m.layers:
            if l.__class__.__name__ == "InputLayer":
                continue
            names.append(l.name)
            g = f.create_group(l.name)
            ws = l.get_weights()
            if not ws:
                g.attrs["weight_names"] = np.array([], dtype=np.float64)
                continue
            ws = [rng.normal(0, 0.5, size=w.shape).astype(np.float32) for w in ws]
            l.set_weights(ws)
            wn = [f"{l.name}_{s}_1:0".encode() for s in ("W", "b")]
            g.attrs["weight_names"] = np.array(wn, dtype=f"S{max(map(len, wn))}")
            for n, w in zip(wn, ws):
                g.create_dataset(n.decode(), data=w)
        f.attrs["layer_names"] = np.array([n.encode() for n in names], dtype=f"S{max(map(len, names))}")
    return m, [uniform("k1vgg", (2, 8, 8, 3), 0, 1)], k2


# ---- Keras 2 / tf.keras files ----

def tfk_file(name, rel, inputs_fn, note=""):
    @case(name, {"model": rel}, "tf_keras load_model", note=note)
    def run():
        m = k2.models.load_model(cp(rel), compile=False)
        return m, inputs_fn(m), k2
    return run


def tfk_json(name, cfg, weights, inputs_fn):
    @case(name, {"config": cfg, "weights": weights}, "tf_keras model_from_json + load_weights")
    def run():
        with open(cp(cfg)) as f:
            m = k2.models.model_from_json(f.read())
        m.load_weights(cp(weights))
        return m, inputs_fn(m), k2
    return run


def shape_inputs(name, batch=2, lo=0.0, hi=1.0, fixed=None):
    def fn(m):
        xs = []
        for i, t in enumerate(m.inputs):
            s = [d if d is not None else (fixed[i] if fixed else 12) for d in t.shape[1:]]
            xs.append(uniform(f"{name}_{i}", [batch] + list(s), lo, hi))
        return xs
    return fn


tfk_file("k2_cnn_batch_norm", "keras2/dl4j_cnn_batch_norm.h5", shape_inputs("cnnbn"))
tfk_file("k2_wgan_discriminator", "keras2/dl4j_wgan_discriminator.h5", shape_inputs("wgan", 1, -1, 1))
tfk_file("k2_sepconv2d", "keras2/dl4j_sepconv2d_tf2.h5", shape_inputs("sep", 2, -1, 1))
tfk_file("k2_12net", "keras2/dl4j_12net_mtcnn_pnet.h5", shape_inputs("12net", 1, -1, 1),
         note="fully convolutional model, run on a 12x12 input")
tfk_json("k2_hls4ml_conv2d", "keras2/hls4ml_KERAS_conv2d_model.json", "keras2/hls4ml_KERAS_conv2d_model_weights.h5",
         shape_inputs("hlsconv", 2, -1, 1))
tfk_json("k2_hls4ml_jettagger", "keras2/hls4ml_jetTagger_Conv2D_Small.json", "keras2/hls4ml_jetTagger_Conv2D_Small_weights.h5",
         shape_inputs("jet", 1, 0, 1))
tfk_file("tf_adv_act_relu", "tfkeras/dl4j_tfkeras_adv_act_3_relu.h5", shape_inputs("relu", 2, -1, 1))
tfk_file("tf_cnn2d_conv2dtranspose", "tfkeras/dl4j_tfkeras_cnn2d_113_conv2dtranspose.h5", shape_inputs("ct", 2, -1, 1))
tfk_file("tf_cnn2d_separableconv2d", "tfkeras/dl4j_tfkeras_cnn2d_77_separableconv2d.h5", shape_inputs("sc", 2, -1, 1))
tfk_file("tf_cnn2d_depthwise_channels_first", "tfkeras/dl4j_tfkeras_cnn2d_40_depthwise_channels_first.h5",
         shape_inputs("dwcf", 2, -1, 1))
tfk_json("tf_ayk_mnist", "tfkeras/ayk_mnist_cnn.json", "tfkeras/ayk_mnist_cnn_weights.h5", shape_inputs("ayk", 1, 0, 1))
tfk_file("tf_resnet_cifar10", "tfkeras/mlperftiny_pretrainedResnet_cifar10.h5", shape_inputs("resnet", 1, 0, 255))
tfk_file("tf_vww_96", "tfkeras/mlperftiny_vww_96.h5", shape_inputs("vww", 1, 0, 1))
tfk_file("tf_str_ww", "tfkeras/mlperftiny_str_ww_ref_model.h5", shape_inputs("strww", 1, -1, 1))


@case("k2_simpleconv2d_channels_first", {"model": "keras2/dl4j_simpleconv2d_channels_first.hdf5"},
      "tf_keras load_model; layers called one by one, the channels_first Conv2D (which TensorFlow's CPU "
      "kernels cannot run) computed by the numpy NCHW convolution of this script", layout="NCHW")
def k2_cf():
    m = k2.models.load_model(cp("keras2/dl4j_simpleconv2d_channels_first.hdf5"), compile=False)
    x = uniform("simplecf", (2, 1, 28, 28), 0, 1)
    outs = {}
    y = x
    for l in m.layers:
        if l.__class__.__name__ == "Conv2D" and l.data_format == "channels_first":
            k, b = l.get_weights()
            y = np_conv_nchw(y, k, b, l.strides, l.padding, l.dilation_rate)
            y = k2.activations.get(l.activation)(tf.constant(y)).numpy()
        else:
            y = l(tf.constant(y), training=False).numpy()
        outs[l.name] = np.asarray(y, dtype=np.float32)
    return None, [x], (outs, [outs[m.layers[-1].name]])


# ---- Keras 3 files ----

def k3_file(name, rel, inputs_fn, note=""):
    @case(name, {"model": rel}, "keras 3 load_model", note=note)
    def run():
        m = k3.saving.load_model(cp(rel), compile=False)
        return m, inputs_fn(m), k3
    return run


k3_file("k3_himal_mnist_h5", "keras3/himal_mnist_cnn.h5", shape_inputs("himal", 1, 0, 1))
k3_file("k3_gosolna_mnist", "keras3/gosolna_mnist_cnn.keras", shape_inputs("gosolna", 1, 0, 1))
k3_file("k3_aryan_denoise", "keras3/aryan_denoise_autoencoder.keras", shape_inputs("aryan", 1, 0, 1))
k3_file("k3_krishna_unet", "keras3/krishna_unet_model.keras", shape_inputs("krishna", 1, 0, 1))
@case("tf213_gan_generator", {"model": "tfkeras/mpnunez_gan_generator_tfkeras2.13.keras"},
      "tf_keras model_from_config of config.json; weights copied with h5py from model.weights.h5",
      note="neither Keras 3 (rejects Conv2DTranspose's groups argument) nor tf_keras 2.21 (looks for other "
           "weight paths) loads this tf.keras 2.13 archive; every class occurs once, so the weight groups "
           "_layer_checkpoint_dependencies/<snake_case(class)>/vars/<i> are unambiguous")
def tf213_gan():
    import io
    import zipfile
    z = zipfile.ZipFile(cp("tfkeras/mpnunez_gan_generator_tfkeras2.13.keras"))
    conf = json.loads(z.read("config.json"))
    m = k2.models.model_from_json(json.dumps({"class_name": conf["class_name"], "config": conf["config"]}))
    snake = {"Dense": "dense", "Reshape": "reshape", "Conv2DTranspose": "conv2d_transpose"}
    with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
        for l in m.layers:
            g = f["_layer_checkpoint_dependencies"][snake[l.__class__.__name__]]["vars"]
            ws = [np.array(g[str(i)]) for i in range(len(g))]
            if ws:
                l.set_weights(ws)
    return m, [uniform("gan", (2, 50), -1, 1)], k2


@case("k3_himal_json_weights", {"config": "keras3/himal_model_architecture.json", "weights": "keras3/himal_mnist_weights.weights.h5"},
      "keras 3 model_from_json + load_weights")
def k3_himal_json():
    with open(cp("keras3/himal_model_architecture.json")) as f:
        m = k3.models.model_from_json(f.read())
    m.load_weights(cp("keras3/himal_mnist_weights.weights.h5"))
    return m, [uniform("himaljson", (1, 28, 28, 1), 0, 1)], k3


@case("k3_bestakdv_weights", {"weights": "keras3/bestakdv_mnist_cnn.weights.h5"},
      "keras 3 model rebuilt as the notebook describes (activations assumed: relu convs, softmax output) + load_weights",
      note="Go side builds the same architecture with the graph package and calls LoadWeights")
def k3_bestakdv():
    L = k3.layers
    m = k3.Sequential([
        k3.Input((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])
    m.load_weights(cp("keras3/bestakdv_mnist_cnn.weights.h5"))
    return m, [uniform("bestakdv", (1, 28, 28, 1), 0, 1)], k3


# ---- channels_first conversions (a model made here) ----

CF_MODEL = "keras/testdata/channels_first_layers"


def cf_model():
    """A Keras 3 model mixing channels_first layers with layout-dependent ones. TensorFlow's CPU
    kernels run channels_first Conv2D and Conv2DTranspose in neither Keras, so they are absent
    (keras2/dl4j_simpleconv2d_channels_first.hdf5 covers Conv2D); Keras 3 transposes for the
    others."""
    L = k3.layers
    cf = "channels_first"
    x = k3.Input((3, 8, 9), name="img")
    a = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, data_format=cf, name="dw")(x)
    a = L.BatchNormalization(axis=1, name="bn_c")(a)
    a = L.Activation("relu", name="relu")(a)
    b = L.SeparableConv2D(4, 3, padding="same", data_format=cf, name="sep")(x)
    c = L.Concatenate(axis=1, name="cat_c")([a, b])
    c = L.ZeroPadding2D(((1, 2), (0, 1)), data_format=cf, name="pad")(c)
    c = L.Cropping2D(((0, 1), (1, 0)), data_format=cf, name="crop")(c)
    p = L.MaxPooling2D(2, padding="same", data_format=cf, name="maxp")(c)
    q = L.AveragePooling2D(2, padding="same", data_format=cf, name="avgp")(c)
    s = L.Add(name="add")([p, q])
    u = L.UpSampling2D((2, 1), data_format=cf, name="up")(s)
    w = L.Concatenate(axis=2, name="cat_h")([u, u])
    r = L.PReLU(shared_axes=[2, 3], name="prelu")(w)
    sm = L.Softmax(axis=1, name="softmax_c")(r)
    lastfmt = L.MaxPooling2D((2, 1), data_format="channels_last", name="pool_last")(sm)
    f = L.Flatten(data_format=cf, name="flat_cf")(s)
    g = L.GlobalAveragePooling2D(data_format=cf, name="gap")(sm)
    d = L.Dense(5, activation="tanh", name="head")(L.Concatenate(name="cat_flat")([f, g]))
    m = k3.Model(x, [d, lastfmt, L.Flatten(name="flat_last")(sm)], name="channels_first_layers")
    rng = rng_for("cfmodel")
    for l in m.layers:
        ws = l.get_weights()
        if ws:
            ws = [rng.normal(0, 0.5, size=w.shape).astype(np.float32) for w in ws]
            if l.name == "bn_c":
                ws[3] = np.abs(ws[3]) + 0.5  # a variance
            l.set_weights(ws)
    return m


@case("k3_channels_first_layers", {"model": CF_MODEL + ".keras"},
      "keras 3 model built by this script (channels_first layers, BatchNormalization axis 1, Concatenate axis 1 and 2, "
      "Softmax axis 1, PReLU shared_axes [2, 3], a channels_last pool on an NCHW tensor, Flatten channels_first)",
      layout="NCHW")
def cf_keras():
    m = cf_model()
    m.save(cp(CF_MODEL + ".keras"))
    m.save(cp(CF_MODEL + ".h5"))
    return m, [uniform("cf", (2, 3, 8, 9), -1, 1)], k3


@case("k3_channels_first_layers_h5", {"model": CF_MODEL + ".h5"},
      "the same model saved by keras 3 as a legacy .h5, reloaded by keras 3", layout="NCHW")
def cf_h5():
    m = k3.saving.load_model(cp(CF_MODEL + ".h5"), compile=False)
    return m, [uniform("cf", (2, 3, 8, 9), -1, 1)], k3


# ---- writing ----

FULL_MAX = 4096      # floats: layer outputs up to this size are stored whole
CROP = 3             # larger 4-D NHWC outputs: two CROP x CROP windows (top-left, bottom-right), all channels
OUT_MAX = 70000      # floats: model outputs up to this size are stored whole, else cropped too
U8_INPUT_MIN = 20000  # inputs with at least this many values are drawn as k/255 and stored as uint8
CASE_BUDGET = 60000  # floats of layer outputs per case; bigger models keep every k-th layer


def crop_axes(layout):
    """The two axes of a 4-D array that crops cut: the spatial axes in the model's layout."""
    return (2, 3) if layout == "NCHW" else (1, 2)


def store(d, base, arr, entry, limit, layout):
    """Stores arr whole, or for 4-D arrays as two CROP x CROP windows over the crop axes (top-left
    and bottom-right; everything else whole); fills entry; returns floats written (0: skipped)."""
    if arr.size <= limit:
        fn = f"{base}.npy"
        np.save(os.path.join(d, fn), arr)
        entry["file"] = fn
        return arr.size
    if arr.ndim != 4:
        return 0
    a, b = crop_axes(layout)
    h, w = arr.shape[a], arr.shape[b]
    ch, cw = min(CROP, h), min(CROP, w)
    entry["crops"] = []
    total = 0
    for k, (y0, x0) in enumerate([(0, 0), (h - ch, w - cw)]):
        idx = [slice(None)] * 4
        idx[a], idx[b] = slice(y0, y0 + ch), slice(x0, x0 + cw)
        part = np.ascontiguousarray(arr[tuple(idx)])
        if part.size > limit:
            entry.pop("crops")
            return 0
        fn = f"{base}.crop{k}.npy"
        np.save(os.path.join(d, fn), part)
        entry["crops"].append({"file": fn, "axes": [a, b], "start": [y0, x0], "shape": list(part.shape)})
        total += part.size
    return total


def write_case(c):
    d = os.path.join(OUT, c["name"])
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    model, inputs, module = c["fn"]()
    weights_meta = []
    if model is None:
        layer_outs, finals = module
        classes = {}
    else:
        layer_outs, finals = per_layer(model, inputs, module)
        classes = {l.name: l.__class__.__name__ for l in model.layers}
        if c["name"] == "k1_functional_mlp":
            for l in model.layers:
                for i, w in enumerate(l.get_weights()):
                    fn = f"{l.name}.w{i}.npy"
                    np.save(os.path.join(d, fn), w.astype(np.float32))
                    weights_meta.append({"layer": l.name, "index": i, "file": fn, "shape": list(w.shape)})
    man = {
        "case": c["name"],
        "files": c["files"],
        "reference": c["reference"],
        "layout": c["layout"],
        "note": c["note"],
        "versions": C.versions(),
        "inputs": [],
        "outputs": [],
        "layers": [],
        "skipped_layers": [],
    }
    if weights_meta:
        man["weights"] = weights_meta
    for i, x in enumerate(inputs):
        e = {"shape": list(x.shape)}
        q = np.round(x * 255)
        if x.size >= U8_INPUT_MIN and np.array_equal((q / 255).astype(np.float32), x):
            e["file"], e["scale"] = f"input_{i}.u8.npy", 1 / 255
            np.save(os.path.join(d, e["file"]), q.astype(np.uint8))
        else:
            e["file"] = f"input_{i}.npy"
            np.save(os.path.join(d, e["file"]), x)
        man["inputs"].append(e)
    for k, o in enumerate(finals):
        e = {"shape": list(o.shape)}
        if not store(d, f"output_{k}", o, e, OUT_MAX, c["layout"]):
            raise SystemExit(f"{c['name']}: output {k} of shape {o.shape} cannot be stored")
        man["outputs"].append(e)
    def cost(o):
        if o.size <= FULL_MAX:
            return o.size
        if o.ndim == 4:
            a, b = crop_axes(c["layout"])
            return 2 * o.size // (o.shape[a] * o.shape[b]) * min(CROP, o.shape[a]) * min(CROP, o.shape[b])
        return 0
    total = sum(cost(o) for o in layer_outs.values())
    every = max(1, -(-total // CASE_BUDGET))
    if every > 1 and every % 3 == 0:  # avoid always picking the same layer of conv/bn/act triples
        every += 1
    for i, (name, o) in enumerate(layer_outs.items()):
        e = {"name": name, "class": classes.get(name, ""), "shape": list(o.shape)}
        if (i % every == 0 or i == len(layer_outs) - 1) and store(d, name, o, e, FULL_MAX, c["layout"]):
            man["layers"].append(e)
        else:
            man["skipped_layers"].append(e)
    C.write_json(os.path.join(d, "manifest.json"), man)
    print(f"{c['name']}: {len(man['layers'])} layers stored, {len(man['skipped_layers'])} skipped")


def main():
    if not os.path.isdir(CORPUS):
        raise SystemExit(f"corpus not found at {CORPUS} (set KERAS_CORPUS)")
    os.makedirs(OUT, exist_ok=True)
    only = set(sys.argv[1:])
    # The synthetic weights file is written by its case; run it first.
    for c in CASES:
        if only and c["name"] not in only:
            continue
        write_case(c)


if __name__ == "__main__":
    main()
