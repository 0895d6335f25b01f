#!/usr/bin/env python3
"""Per-layer reference cases computed with REAL Keras -> testdata/ref/<case>/.

Run via scripts/gen_reference.sh (or directly with a Python that has tensorflow, tf_keras, keras 3,
h5py and numpy). Optional arguments: case names to regenerate only those.

Reference Keras: tf_keras (Keras 2, the `tf.keras` of TF <= 2.15) unless a case says
"keras3_only": true in its manifest, in which case Keras 3 (TensorFlow backend) computed it.

Each case directory holds (all arrays float32, batch-first, batch 2):
  input_<i>.npy            model input i (seeded)
  <layer>.out.npy          output of every layer in model.layers (InputLayer included where the model
                           lists it; a nested model gives its whole output). A layer called more than
                           once inside the model (shared layer) also has <layer>.node<p>.out.npy for its
                           p-th call (p >= 1, in model order). The model outputs are layer outputs:
                           manifest "outputs" names their files.
  <layer>.w<i>.npy         the arrays of layer.get_weights(), Keras order
  keras3.output_<k>.npy    model output k of the Keras 3 twin stored in model.keras (same weights),
                           written only where it differs from the tf_keras output by more than 1e-6
                           (hard_sigmoid changed in Keras 3); manifest "keras3_outputs" names the file
                           to compare model.keras against, "keras3_max_abs_diff" the differences
                           (per output, and per layer called once).
  model.h5                 tf_keras model.save("model.h5") (legacy HDF5; for keras3_only cases the
                           Keras 3 legacy-h5 writer)
  model.keras              Keras 3 model.save("model.keras"); the zip is rewritten with fixed member
                           timestamps and a fixed metadata "date_saved" so reruns are byte-stable
                           (member contents otherwise exactly as Keras wrote them)
  manifest.json            versions, source of the model definition, layers (name, class, config,
                           weights, inbound connections [layer, node_index, tensor_index], output
                           shapes, files), inputs, outputs
  summary.txt              classic tf.keras 2.0-2.6 summary (keras 2.6.0 print_summary, see
                           keras_ref_common.py); for models of at most 16 layers also
                           summary.tfkeras216.txt (tf_keras native, 2.13+ style) and summary.keras3.txt
                           (Keras 3, 76 columns). keras3_only cases: summary.keras3.txt only.
"""

import inspect
import os
import shutil
import sys
import tempfile
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_ref_common as C  # noqa: E402

tf = C.quiet_tf()
import keras as k3  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras as k2  # noqa: E402

OUT = os.path.join(C.REPO, "testdata", "ref")
BATCH = 2
SEED = 20240611
FIXED_DATE = "2000-01-01@00:00:00"
K3_SAME = 1e-6  # keras3.output_<k>.npy is written only when Keras 3 differs by more than this
NATIVE_SUMMARY_MAX_LAYERS = 16  # tf_keras-native / Keras 3 summary texts only for small models

CASES = []


def case(name, inputs, covers, keras3_only=False, note=""):
    """Registers a case. inputs: list of (shape without batch, kind); see make_input."""

    def deco(fn):
        CASES.append(dict(name=name, build=fn, inputs=inputs, covers=covers,
                          keras3_only=keras3_only, note=note))
        return fn

    return deco


ACTIVATIONS = ["linear", "relu", "sigmoid", "hard_sigmoid", "softmax", "tanh", "elu", "selu",
               "softplus", "softsign", "exponential", "swish", "gelu"]

# ---------------------------------------------------------------------------------------------
# Cases. Each builder takes the Keras module (tf_keras or keras 3) and returns the model; the same
# code builds the tf_keras reference and the Keras 3 twin saved as model.keras.
# ---------------------------------------------------------------------------------------------


@case("conv2d_odd", [((9, 11, 3), "normal")],
      ["Conv2D valid", "Conv2D same", "Conv2D use_bias=False", "Conv2D strides 2 same on odd input (9x11->7x9->4x5)",
       "Conv2D dilation 2 same", "Conv2D 1x1", "activation= relu/tanh/elu/gelu/sigmoid"])
def build_conv2d_odd(K):
    L = K.layers
    x = K.Input((9, 11, 3), name="input")
    y = L.Conv2D(6, (3, 3), padding="valid", activation="relu", name="conv_valid")(x)  # 7x9
    y = L.Conv2D(5, (3, 3), padding="same", use_bias=False, activation="tanh", name="conv_same_nobias")(y)
    y = L.Conv2D(4, (3, 3), strides=2, padding="same", activation="elu", name="conv_s2_same_odd")(y)  # 4x5
    y = L.Conv2D(4, (3, 3), dilation_rate=2, padding="same", activation="gelu", name="conv_dil2_same")(y)
    y = L.Conv2D(3, (1, 1), activation="sigmoid", name="conv_1x1")(y)
    return K.Model(x, y, name="conv2d_odd")


@case("conv2d_even", [((12, 14, 3), "normal")],
      ["Conv2D dilation 2 valid", "Conv2D strides 2 same on even input (8x10->4x5)",
       "Conv2D strides (2,1) valid, kernel (2,3)", "Conv2D strides (2,1) same, kernel (3,2)",
       "activation= selu/softsign/softplus/swish"])
def build_conv2d_even(K):
    L = K.layers
    x = K.Input((12, 14, 3), name="input")
    y = L.Conv2D(6, 3, dilation_rate=2, activation="selu", name="conv_dil2_valid")(x)  # 8x10
    y = L.Conv2D(6, 3, strides=2, padding="same", activation="softsign", name="conv_s2_same_even")(y)  # 4x5
    y = L.Conv2D(5, (2, 3), strides=(2, 1), padding="valid", activation="softplus", name="conv_s21_valid")(y)  # 2x3
    y = L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="swish", name="conv_s21_same")(y)  # 1x3
    return K.Model(x, y, name="conv2d_even")


@case("pooling", [((9, 11, 3), "shifted")],
      ["MaxPooling2D valid (default strides = pool size)", "MaxPooling2D same (odd input: pads bottom/right)",
       "MaxPooling2D (3,3) strides 2 same", "MaxPooling2D (3,2) strides (1,2) valid", "MaxPool2D alias",
       "AveragePooling2D valid", "AveragePooling2D same (padding excluded from the mean)",
       "AveragePooling2D (3,3) strides (2,1) same", "AveragePooling2D (3,2) strides (2,3) valid",
       "GlobalAveragePooling2D", "GlobalMaxPooling2D", "multi-output model",
       "input is normal-0.5 so all-negative windows show that max-pool padding never wins"])
def build_pooling(K):
    L = K.layers
    x = K.Input((9, 11, 3), name="input")
    outs = [
        L.MaxPooling2D((2, 2), name="max_valid")(x),  # 4x5
        L.MaxPool2D((2, 2), padding="same", name="max_same")(x),  # 5x6
        L.MaxPooling2D((3, 3), strides=(2, 2), padding="same", name="max_k3_s2_same")(x),  # 5x6
        L.MaxPooling2D((3, 2), strides=(1, 2), name="max_k32_s12_valid")(x),  # 7x5
        L.AveragePooling2D((2, 2), name="avg_valid")(x),  # 4x5
        L.AveragePooling2D((2, 2), padding="same", name="avg_same")(x),  # 5x6
        L.AveragePooling2D((3, 3), strides=(2, 1), padding="same", name="avg_k3_s21_same")(x),  # 5x11
        L.AveragePooling2D((3, 2), strides=(2, 3), name="avg_k32_s23_valid")(x),  # 4x4
        L.GlobalAveragePooling2D(name="gap")(x),
        L.GlobalMaxPooling2D(name="gmp")(x),
    ]
    return K.Model(x, outs, name="pooling")


@case("dense_flatten_reshape", [((5, 6, 3), "normal")],
      ["Dense on 4-D input (last axis)", "Flatten (4-D and 3-D)", "Dropout (inference: identity)",
       "Dense on 2-D", "Dense on 3-D", "Reshape", "activation= relu/hard_sigmoid/softmax (3-D, last axis)/linear"])
def build_dense_flatten_reshape(K):
    L = K.layers
    x = K.Input((5, 6, 3), name="input")
    y = L.Dense(4, activation="relu", name="dense_4d")(x)  # (5,6,4)
    y = L.Flatten(name="flatten")(y)  # 120
    y = L.Dropout(0.5, name="dropout")(y)
    y = L.Dense(12, activation="hard_sigmoid", name="dense_hard_sigmoid")(y)
    y = L.Reshape((3, 4), name="reshape")(y)
    y = L.Dense(5, activation="softmax", name="dense_3d_softmax")(y)  # (3,5)
    y = L.Flatten(name="flatten_3d")(y)
    y = L.Dense(2, name="dense_linear")(y)
    return K.Model(x, y, name="dense_flatten_reshape")


@case("batchnorm", [((6, 7, 4), "normal")],
      ["BatchNormalization (gamma, beta, random moving_mean, moving_variance)",
       "BatchNormalization center=False scale=False epsilon=0.01", "BatchNormalization scale=False",
       "BatchNormalization center=False", "BatchNormalization on 2-D input", "Activation relu"])
def build_batchnorm(K):
    L = K.layers
    x = K.Input((6, 7, 4), name="input")
    y = L.BatchNormalization(name="bn_input")(x)
    y = L.Conv2D(5, 3, padding="same", use_bias=False, name="conv")(y)
    y = L.BatchNormalization(center=False, scale=False, epsilon=0.01, name="bn_no_center_scale")(y)
    y = L.Activation("relu", name="relu")(y)
    y = L.BatchNormalization(scale=False, name="bn_no_scale")(y)
    y = L.BatchNormalization(center=False, name="bn_no_center")(y)
    y = L.GlobalAveragePooling2D(name="gap")(y)
    y = L.Dense(6, name="dense")(y)
    y = L.BatchNormalization(name="bn_2d")(y)
    return K.Model(x, y, name="batchnorm")


@case("pad_crop_reshape", [((5, 6, 3), "normal")],
      ["ZeroPadding2D(1)", "ZeroPadding2D((2,1))", "ZeroPadding2D(((1,2),(3,0)))", "Conv2D valid over padding",
       "Cropping2D(((1,0),(2,1)))", "Cropping2D(1)", "Cropping2D((2,1))", "Reshape", "Reshape with -1"])
def build_pad_crop_reshape(K):
    L = K.layers
    x = K.Input((5, 6, 3), name="input")
    y = L.ZeroPadding2D(1, name="pad_sym")(x)  # 7x8
    y = L.ZeroPadding2D((2, 1), name="pad_hw")(y)  # 11x10
    y = L.ZeroPadding2D(((1, 2), (3, 0)), name="pad_asym")(y)  # 14x13
    y = L.Conv2D(4, 3, name="conv")(y)  # 12x11
    y = L.Cropping2D(((1, 0), (2, 1)), name="crop_asym")(y)  # 11x8
    y = L.Cropping2D(1, name="crop_sym")(y)  # 9x6
    y = L.Cropping2D((2, 1), name="crop_hw")(y)  # 5x4
    y = L.Reshape((5, 16), name="reshape")(y)
    y = L.Reshape((-1, 8, 2), name="reshape_infer")(y)  # (5,8,2)
    return K.Model(x, y, name="pad_crop_reshape")


@case("upsampling", [((4, 5, 3), "normal")],
      ["UpSampling2D size (2,3) nearest", "UpSampling2D size (2,3) bilinear", "UpSampling2D size 2 bilinear"])
def build_upsampling(K):
    L = K.layers
    x = K.Input((4, 5, 3), name="input")
    outs = [
        L.UpSampling2D((2, 3), name="up_nearest_23")(x),
        L.UpSampling2D((2, 3), interpolation="bilinear", name="up_bilinear_23")(x),
        L.UpSampling2D(2, interpolation="bilinear", name="up_bilinear_2")(x),
    ]
    return K.Model(x, outs, name="upsampling")


@case("conv_transpose", [((4, 5, 3), "normal")],
      ["Conv2DTranspose valid strides 2", "Conv2DTranspose same strides 2",
       "Conv2DTranspose valid strides (3,2) kernel (4,3) output_padding (1,1)",
       "Conv2DTranspose same strides 2 kernel 4 output_padding 1 use_bias=False (output 7x9, not 8x10)",
       "Conv2DTranspose strides 1 same", "activation= relu"])
def build_conv_transpose(K):
    L = K.layers
    x = K.Input((4, 5, 3), name="input")
    outs = [
        L.Conv2DTranspose(4, 3, strides=2, padding="valid", activation="relu", name="convT_valid_s2")(x),  # 9x11
        L.Conv2DTranspose(4, 3, strides=2, padding="same", name="convT_same_s2")(x),  # 8x10
        L.Conv2DTranspose(3, (4, 3), strides=(3, 2), padding="valid", output_padding=(1, 1),
                          name="convT_valid_outpad")(x),  # 14x12
        L.Conv2DTranspose(3, 4, strides=2, padding="same", output_padding=1, use_bias=False,
                          name="convT_same_outpad")(x),  # 7x9
        L.Conv2DTranspose(2, 3, padding="same", name="convT_s1_same")(x),  # 4x5
    ]
    return K.Model(x, outs, name="conv_transpose")


@case("depthwise_separable", [((9, 10, 3), "normal")],
      ["DepthwiseConv2D depth_multiplier 2 same", "DepthwiseConv2D strides 2 same use_bias=False",
       "SeparableConv2D depth_multiplier 2 same", "SeparableConv2D strides 2 valid", "activation= relu/tanh"])
def build_depthwise_separable(K):
    L = K.layers
    x = K.Input((9, 10, 3), name="input")
    y = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu", name="dw_same_dm2")(x)  # 9x10x6
    y = L.DepthwiseConv2D((3, 3), strides=2, padding="same", use_bias=False, name="dw_s2_same")(y)  # 5x5x6
    y = L.SeparableConv2D(5, 3, padding="same", depth_multiplier=2, activation="tanh", name="sep_same_dm2")(y)
    y = L.SeparableConv2D(4, 3, strides=2, padding="valid", name="sep_s2_valid")(y)  # 2x2x4
    return K.Model(x, y, name="depthwise_separable")


@case("activation_layers", [((3, 4, 5), "normal2")],
      ["Activation(x) for " + ", ".join(ACTIVATIONS), "ReLU default", "ReLU(max_value=2, negative_slope=0.1, threshold=0.5)",
       "ReLU(max_value=6)", "LeakyReLU default alpha", "LeakyReLU(alpha=0.15)", "PReLU (alpha per element)",
       "PReLU(shared_axes=[1,2])", "ELU default", "ELU(alpha=0.7)", "Softmax (axis -1)", "Softmax(axis=1)",
       "Concatenate of 25 branches (axis -1)"])
def build_activation_layers(K):
    L = K.layers
    x = K.Input((3, 4, 5), name="input")
    acts = ["linear", "relu", "sigmoid", "hard_sigmoid", "softmax", "tanh", "elu", "selu",
            "softplus", "softsign", "exponential", "swish", "gelu"]
    branches = [L.Activation(a, name="act_" + a)(x) for a in acts]
    branches += [
        L.ReLU(name="relu_default")(x),
        L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5, name="relu_params")(x),
        L.ReLU(max_value=6.0, name="relu_max6")(x),
        L.LeakyReLU(name="leaky_default")(x),
        L.LeakyReLU(alpha=0.15, name="leaky_015")(x),
        L.PReLU(name="prelu_full")(x),
        L.PReLU(shared_axes=[1, 2], name="prelu_shared12")(x),
        L.ELU(name="elu_default")(x),
        L.ELU(alpha=0.7, name="elu_07")(x),
        L.Softmax(name="softmax_last")(x),
        L.Softmax(axis=1, name="softmax_axis1")(x),
    ]
    y = L.Concatenate(axis=-1, name="concat")(branches)
    return K.Model(x, y, name="activation_layers")


@case("activation_args_dense", [((10,), "normal2")],
      ["Dense(activation=x) for " + ", ".join(ACTIVATIONS), "Concatenate of 2-D tensors"])
def build_activation_args_dense(K):
    L = K.layers
    x = K.Input((10,), name="input")
    acts = ["linear", "relu", "sigmoid", "hard_sigmoid", "softmax", "tanh", "elu", "selu",
            "softplus", "softsign", "exponential", "swish", "gelu"]
    branches = [L.Dense(4, activation=a, name="dense_" + a)(x) for a in acts]
    y = L.Concatenate(name="concat")(branches)
    return K.Model(x, y, name="activation_args_dense")


@case("activation_args_conv", [((4, 5, 3), "normal")],
      ["Conv2D(activation=x) for " + ", ".join(ACTIVATIONS) + " (softmax over channels)"])
def build_activation_args_conv(K):
    L = K.layers
    x = K.Input((4, 5, 3), name="input")
    acts = ["linear", "relu", "sigmoid", "hard_sigmoid", "softmax", "tanh", "elu", "selu",
            "softplus", "softsign", "exponential", "swish", "gelu"]
    branches = [L.Conv2D(3, 3, padding="same", activation=a, name="conv_" + a)(x) for a in acts]
    y = L.Concatenate(name="concat")(branches)
    return K.Model(x, y, name="activation_args_conv")


@case("rescaling_merge", [((4, 5, 3), "pixels")],
      ["Rescaling(1/255)", "Rescaling(1/127.5, offset=-1)", "Add", "Concatenate axis 1",
       "Concatenate axis -1 of three tensors", "two outputs", "input: integer pixel values 0..255"])
def build_rescaling_merge(K):
    L = K.layers
    x = K.Input((4, 5, 3), name="input")
    a = L.Rescaling(1.0 / 255, name="rescale_01")(x)
    b = L.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale_pm1")(x)
    s = L.Add(name="add")([a, b])
    c1 = L.Concatenate(axis=1, name="concat_axis1")([s, b])  # (8,5,3)
    c2 = L.Concatenate(axis=-1, name="concat_last")([a, b, s])  # (4,5,9)
    return K.Model(x, [c1, c2], name="rescaling_merge")


@case("branching", [((6, 7, 3), "normal"), ((6, 7, 3), "normal")],
      ["two inputs", "shared Conv2D used twice (files shared_conv.out.npy and shared_conv.node1.out.npy)",
       "Add", "Concatenate of three tensors", "GlobalAveragePooling2D", "two outputs"])
def build_branching(K):
    L = K.layers
    a = K.Input((6, 7, 3), name="img_a")
    b = K.Input((6, 7, 3), name="img_b")
    shared = L.Conv2D(4, 3, padding="same", activation="relu", name="shared_conv")
    fa = shared(a)
    fb = shared(b)
    s = L.Add(name="add")([fa, fb])
    c = L.Concatenate(name="concat")([fa, fb, s])
    p = L.GlobalAveragePooling2D(name="gap")(s)
    out_class = L.Dense(3, activation="softmax", name="out_class")(p)
    out_map = L.Conv2D(2, 1, name="out_map")(c)
    return K.Model([a, b], [out_class, out_map], name="branching")


@case("nested_model", [((6, 7, 3), "normal")],
      ["functional model used as a layer inside a functional model (inner.out.npy = its whole output;"
       " inner.w<i>.npy = inner.get_weights())", "BatchNormalization inside the nested model",
       "MaxPooling2D default pool on odd size"])
def build_nested_model(K):
    L = K.layers
    inner_in = K.Input((6, 7, 3), name="inner_input")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="inner_conv")(inner_in)
    h = L.BatchNormalization(name="inner_bn")(h)
    h = L.MaxPooling2D(name="inner_pool")(h)  # 3x3
    inner = K.Model(inner_in, h, name="inner")

    x = K.Input((6, 7, 3), name="input")
    y = L.Conv2D(3, 1, name="pre_conv")(x)
    y = inner(y)
    y = L.Flatten(name="flatten")(y)
    y = L.Dense(3, activation="softmax", name="head")(y)
    return K.Model(x, y, name="nested_model")


@case("sequential", [((8, 8, 3), "normal")],
      ["Sequential model (model.layers has no InputLayer)", "Conv2D", "MaxPooling2D", "Flatten", "Dropout",
       "Dense softmax"])
def build_sequential(K):
    L = K.layers
    return K.Sequential([
        K.Input((8, 8, 3)),
        L.Conv2D(4, 3, activation="relu", name="conv"),
        L.MaxPooling2D(name="pool"),
        L.Flatten(name="flatten"),
        L.Dropout(0.25, name="dropout"),
        L.Dense(3, activation="softmax", name="dense"),
    ], name="sequential")


@case("sequential_transfer", [((8, 8, 3), "normal")],
      ["course transfer-learning pattern: frozen functional base model as the first layer of a Sequential",
       "non-trainable weights", "Dense sigmoid"])
def build_sequential_transfer(K):
    L = K.layers
    base_in = K.Input((8, 8, 3), name="base_input")
    h = L.Conv2D(4, 3, padding="same", activation="relu", name="base_conv1")(base_in)
    h = L.MaxPooling2D(name="base_pool")(h)
    h = L.Conv2D(6, 3, padding="same", activation="relu", name="base_conv2")(h)
    base = K.Model(base_in, h, name="base")
    base.trainable = False
    return K.Sequential([
        base,
        L.Flatten(name="flatten"),
        L.Dense(1, activation="sigmoid", name="dense"),
    ], name="sequential_transfer")


@case("keras3_semantics", [((3, 4, 5), "normal2")],
      ["Keras 3 hard_sigmoid (relu6(x+3)/6) as Activation and as Dense activation=",
       "Keras 3 LeakyReLU default (negative_slope 0.3)", "Activation('leaky_relu') (0.2)",
       "Activation relu6/silu/mish/hard_silu/log_softmax/gelu", "Keras 3 UpSampling2D bilinear"],
      keras3_only=True,
      note="computed with Keras 3 (TensorFlow backend); compare with tf_keras in manifest tf_keras_max_abs_diff")
def build_keras3_semantics(K):
    L = K.layers
    x = K.Input((3, 4, 5), name="input")
    acts = ["hard_sigmoid", "leaky_relu", "relu6", "silu", "mish", "hard_silu", "log_softmax", "gelu"]
    branches = [L.Activation(a, name="act_" + a)(x) for a in acts]
    branches.append(L.LeakyReLU(name="leaky_default")(x))
    branches.append(L.Dense(4, activation="hard_sigmoid", name="dense_hard_sigmoid")(x))
    y = L.Concatenate(name="concat")(branches)
    up = L.UpSampling2D((2, 3), interpolation="bilinear", name="up_bilinear_23")(x)
    return K.Model(x, [y, up], name="keras3_semantics")


# ---------------------------------------------------------------------------------------------
# Machinery.
# ---------------------------------------------------------------------------------------------


def case_rng(name, salt):
    return np.random.default_rng([SEED, zlib.crc32(name.encode()), salt])


def make_input(name, i, shape, kind):
    rng = case_rng(name, 1000 + i)
    full = (BATCH,) + tuple(shape)
    if kind == "normal":
        a = rng.standard_normal(full)
    elif kind == "normal2":
        a = 2.0 * rng.standard_normal(full)
    elif kind == "shifted":
        a = rng.standard_normal(full) - 0.5
    elif kind == "pixels":
        a = rng.integers(0, 256, size=full)
    else:
        raise ValueError(kind)
    return a.astype(np.float32)


def random_weight(rng, wname, shape):
    """Non-trivial random values by weight role (name as Keras 2 / Keras 3 spell it)."""
    base = wname.split("/")[-1].split(":")[0]
    shape = tuple(shape)
    if base == "moving_variance":
        a = rng.uniform(0.5, 2.0, shape)
    elif base == "moving_mean":
        a = rng.normal(0.0, 0.5, shape)
    elif base == "gamma":
        a = rng.uniform(0.5, 1.5, shape)
    elif base == "beta":
        a = rng.normal(0.0, 0.3, shape)
    elif base == "alpha":  # PReLU
        a = rng.uniform(0.05, 0.5, shape)
    elif base == "bias":
        a = rng.normal(0.0, 0.3, shape)
    else:  # kernel, depthwise_kernel, pointwise_kernel
        if base == "depthwise_kernel":
            fan_in = int(np.prod(shape[:2]))
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape)) // shape[-1]
        else:
            fan_in = 1
        a = rng.normal(0.0, 1.0, shape) * np.sqrt(1.5 / max(fan_in, 1))
    return a.astype(np.float32)


def set_random_weights(model, name):
    rng = case_rng(name, 1)
    vals = [random_weight(rng, w.name if "/" in w.name else getattr(w, "path", w.name), w.shape)
            for w in model.weights]
    model.set_weights(vals)


def save_npy(d, fname, arr, written):
    arr = np.asarray(arr, dtype=np.float32)
    np.save(os.path.join(d, fname), arr)
    written.append(fname)
    return fname


def tfk_node_positions(model, layer):
    """Keras node indices of `layer` that belong to `model` (tf_keras)."""
    return [i for i in range(len(layer._inbound_nodes))
            if f"{layer.name}_ib-{i}" in model._network_nodes]


def shape_list(t):
    return [None if d is None else int(d) for d in t.shape]


def layer_output_shape_str(layer):
    try:
        return str(layer.output_shape)
    except AttributeError:
        return "multiple"


def describe_sublayers(model):
    out = []
    for l in model.layers:
        out.append({
            "name": l.name,
            "class_name": l.__class__.__name__,
            "config": C.json_safe(l.get_config()),
            "weights": [{"name": w.name, "shape": list(map(int, w.shape)), "trainable": bool(w.trainable)}
                        for w in l.weights],
        })
    return out


def normalize_keras_zip(path):
    """Rewrites a .keras zip so that reruns give the same bytes.

    Keras 3 writes three run-dependent things: the zip member timestamps, metadata.json
    "date_saved", and in config.json "shared_object_id" values that are Python id()s of shared
    objects (e.g. the DTypePolicy several layers share). Timestamps and date_saved are fixed;
    shared_object_id values are renumbered 1, 2, ... in order of first appearance (they only tie
    the occurrences of one shared object together). Everything else is kept byte for byte.
    """
    import json
    import re

    ids = {}

    def renumber(m):
        return '"shared_object_id": %d' % ids.setdefault(m.group(1), len(ids) + 1)

    with zipfile.ZipFile(path) as z:
        members = [(i, z.read(i.filename)) for i in z.infolist()]
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        for info, data in members:
            if info.filename == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = FIXED_DATE
                data = json.dumps(meta).encode()
            elif info.filename == "config.json":
                data = re.sub(rb'"shared_object_id": (\d+)', lambda m: renumber(m).encode(), data)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            z.writestr(zi, data)
    os.replace(tmp, path)


def save_model_file(model, d, fname):
    """model.save into a temp dir, then move (Keras insists on the extension)."""
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, fname)
        model.save(p)
        shutil.move(p, os.path.join(d, fname))


def reload_check(loader, path, inputs, want, what):
    """Loads a saved file back with Keras and checks it reproduces the outputs written."""
    m = loader(path, compile=False)
    got = m(inputs if len(inputs) > 1 else inputs[0], training=False)
    got = got if isinstance(got, (list, tuple)) else [got]
    err = max(float(np.max(np.abs(np.asarray(g) - w))) for g, w in zip(got, want))
    if len(got) != len(want) or err > 1e-6:
        raise SystemExit(f"{path}: reloaded with {what} differs from the reference by {err}")
    return f"reloaded with {what}: max abs diff {err:.3g}"


def run_tfkeras_case(c, d, vers):
    name = c["name"]
    k2.backend.clear_session()
    k2.utils.set_random_seed(SEED)
    model = c["build"](k2)
    set_random_weights(model, name)
    inputs = [make_input(name, i, s, k) for i, (s, k) in enumerate(c["inputs"])]
    written = []
    for i, a in enumerate(inputs):
        save_npy(d, f"input_{i}.npy", a, written)

    # One probe model that returns every (layer, node) output of the model.
    probes, plan = [], []
    for layer in model.layers:
        for p, ni in enumerate(tfk_node_positions(model, layer)):
            outs = layer.get_output_at(ni)
            outs = outs if isinstance(outs, (list, tuple)) else [outs]
            for t, tensor in enumerate(outs):
                plan.append((layer, p, ni, t, len(outs)))
                probes.append(tensor)
    probe = k2.Model(model.inputs, probes)
    vals = probe(inputs if len(inputs) > 1 else inputs[0], training=False)
    vals = vals if isinstance(vals, (list, tuple)) else [vals]
    vals = [np.asarray(v) for v in vals]

    layers_info, by_history = {}, {}
    for (layer, p, ni, t, nt), v in zip(plan, vals):
        info = layers_info.setdefault(layer.name, {"nodes": {}})
        node = info["nodes"].setdefault(p, {"keras_node_index": ni, "inbound": [], "outputs": []})
        if t == 0:
            for il, inode, itensor, _ in layer._inbound_nodes[ni].iterate_inbound():
                node["inbound"].append([il.name, int(inode), int(itensor)])
        fname = layer.name + ("" if p == 0 else f".node{p}") + ("" if nt == 1 else f".t{t}") + ".out.npy"
        node["outputs"].append({"file": save_npy(d, fname, v, written), "shape": list(v.shape)})
        by_history[(layer.name, ni, t)] = (fname, v)

    manifest_layers = []
    for layer in model.layers:
        weights = []
        for i, (w, arr) in enumerate(zip(layer.weights, layer.get_weights())):
            weights.append({"file": save_npy(d, f"{layer.name}.w{i}.npy", arr, written),
                            "name": w.name, "shape": list(arr.shape), "trainable": bool(w.trainable)})
        entry = {
            "name": layer.name,
            "class_name": layer.__class__.__name__,
            "output_shape": layer_output_shape_str(layer),
            "params": int(layer.count_params()),
            "trainable": bool(layer.trainable),
            "weights": weights,
            "nodes": [layers_info[layer.name]["nodes"][p] for p in sorted(layers_info[layer.name]["nodes"])],
            "config": C.json_safe(layer.get_config()),
        }
        if hasattr(layer, "layers") and layer.__class__.__name__ in ("Functional", "Sequential", "Model"):
            entry["sublayers"] = describe_sublayers(layer)
        manifest_layers.append(entry)

    # Model outputs are layer outputs: the manifest names the layer file.
    outputs, outs = [], []
    for t in model.outputs:
        h = t._keras_history
        fname, v = by_history[(h.layer.name, h.node_index, h.tensor_index)]
        outputs.append({"file": fname, "layer": h.layer.name, "shape": list(v.shape)})
        outs.append(v)

    save_model_file(model, d, "model.h5")
    written.append("model.h5")
    summaries = {
        "summary.txt": C.classic_summary(model),
        "summary.tfkeras216.txt": C.native_summary(model),
    }

    # Keras 3 twin with the same weights -> model.keras and keras3.output_<k>.npy.
    k3.backend.clear_session()
    k3.utils.set_random_seed(SEED)
    m3 = c["build"](k3)
    w2 = model.get_weights()
    w3 = m3.get_weights()
    if [a.shape for a in w2] != [a.shape for a in w3]:
        raise SystemExit(f"{name}: Keras 3 twin weight shapes differ: "
                         f"{[a.shape for a in w2]} vs {[a.shape for a in w3]}")
    m3.set_weights(w2)
    o3 = m3(inputs if len(inputs) > 1 else inputs[0], training=False)
    o3 = [np.asarray(o) for o in (o3 if isinstance(o3, (list, tuple)) else [o3])]
    k3diff, k3files = [], []
    for k, o in enumerate(o3):
        diff = float(np.max(np.abs(o - outs[k])))
        k3diff.append(diff)
        if diff > K3_SAME:
            k3files.append(save_npy(d, f"keras3.output_{k}.npy", o, written))
        else:
            k3files.append(outputs[k]["file"])
    # Per-layer comparison for layers called once (Keras 3 twin, same names).
    once = [l for l in m3.layers if len(l._inbound_nodes) == 1 and len(l._inbound_nodes[0].outputs) == 1]
    p3 = k3.Model(m3.inputs, [l._inbound_nodes[0].outputs[0] for l in once])
    v3 = p3(inputs if len(inputs) > 1 else inputs[0], training=False)
    v3 = v3 if isinstance(v3, (list, tuple)) else [v3]
    for l, v in zip(once, v3):
        for entry in manifest_layers:
            if entry["name"] == l.name and len(entry["nodes"]) == 1:
                ref = np.load(os.path.join(d, entry["nodes"][0]["outputs"][0]["file"]))
                entry["keras3_max_abs_diff"] = float(np.max(np.abs(np.asarray(v) - ref)))
    save_model_file(m3, d, "model.keras")
    normalize_keras_zip(os.path.join(d, "model.keras"))
    written.append("model.keras")
    reloads = {
        "model.h5": reload_check(k2.models.load_model, os.path.join(d, "model.h5"), inputs, outs,
                                 "tf_keras " + vers["tf_keras"]),
        "model.keras": reload_check(k3.saving.load_model, os.path.join(d, "model.keras"), inputs, o3,
                                    "keras " + vers["keras3"] + " (compared with the keras3 outputs)"),
    }
    if len(model.layers) <= NATIVE_SUMMARY_MAX_LAYERS:
        summaries["summary.keras3.txt"] = C.native_summary(m3)
    else:
        del summaries["summary.tfkeras216.txt"]

    for fn, text in summaries.items():
        C.write_text(os.path.join(d, fn), text)
        written.append(fn)

    manifest = {
        "case": name,
        "reference": "tf_keras",
        "reference_version": vers["tf_keras"],
        "keras3_only": False,
        "versions": vers,
        "covers": c["covers"],
        "note": c["note"],
        "batch": BATCH,
        "seed": [SEED, zlib.crc32(name.encode())],
        "source": inspect.getsource(c["build"]).splitlines(),
        "model_name": model.name,
        "model_class": model.__class__.__name__,
        "inputs": [{"file": f"input_{i}.npy", "name": t._keras_history.layer.name, "shape": list(a.shape),
                    "kind": c["inputs"][i][1]} for i, (a, t) in enumerate(zip(inputs, model.inputs))],
        "outputs": outputs,
        "keras3_outputs": k3files,
        "reload_check": reloads,
        "keras3_max_abs_diff": k3diff,
        "params": {"total": int(model.count_params()),
                   "trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
                   "non_trainable": int(sum(np.prod(w.shape) for w in model.non_trainable_weights))},
        "layers": manifest_layers,
    }
    return manifest, written


def tfkeras_equivalent(layer, x):
    """tf_keras's output for a Keras 3 layer of the keras3_semantics case applied to the model input x
    (every such layer reads the model input directly); None where not comparable."""
    cfg = layer.get_config()
    cls = layer.__class__.__name__
    if cls == "Activation":
        return k2.activations.get(cfg["activation"])(tf.constant(x))
    if cls == "LeakyReLU":
        return k2.layers.LeakyReLU(alpha=cfg["negative_slope"])(tf.constant(x))
    if cls == "Dense":
        w, b = layer.get_weights()
        return k2.activations.get(cfg["activation"])(tf.constant(x @ w + b))
    if cls == "UpSampling2D":
        return k2.layers.UpSampling2D(cfg["size"], interpolation=cfg["interpolation"])(tf.constant(x))
    return None


def run_keras3_case(c, d, vers):
    name = c["name"]
    k3.backend.clear_session()
    k3.utils.set_random_seed(SEED)
    model = c["build"](k3)
    set_random_weights(model, name)
    inputs = [make_input(name, i, s, k) for i, (s, k) in enumerate(c["inputs"])]
    written = []
    for i, a in enumerate(inputs):
        save_npy(d, f"input_{i}.npy", a, written)
    probe = k3.Model(model.inputs, [l.output for l in model.layers])
    vals = [np.asarray(v) for v in probe(inputs if len(inputs) > 1 else inputs[0], training=False)]

    # What tf_keras computes for the same layer on the same input (where tf_keras has it).
    x_in = inputs[0]
    tfk_diff = {}
    for layer, v in zip(model.layers, vals):
        try:
            ref = tfkeras_equivalent(layer, x_in)
        except Exception as e:  # noqa: BLE001 - e.g. activations tf_keras does not know
            tfk_diff[layer.name] = f"tf_keras: {type(e).__name__}: {str(e).splitlines()[0][:120]}"
            continue
        if ref is not None:
            tfk_diff[layer.name] = float(np.max(np.abs(np.asarray(ref) - v)))

    manifest_layers = []
    for layer, v in zip(model.layers, vals):
        fname = save_npy(d, f"{layer.name}.out.npy", v, written)
        weights = []
        for i, (w, arr) in enumerate(zip(layer.weights, layer.get_weights())):
            weights.append({"file": save_npy(d, f"{layer.name}.w{i}.npy", arr, written),
                            "name": w.path, "shape": list(arr.shape), "trainable": bool(w.trainable)})
        inbound = []
        for node in layer._inbound_nodes[:1]:
            for t in node.input_tensors:
                h = t._keras_history
                inbound.append([h.operation.name, int(h.node_index), int(h.tensor_index)])
        entry = {
            "name": layer.name,
            "class_name": layer.__class__.__name__,
            "output_shape": str(tuple(layer.output.shape)),
            "params": int(layer.count_params()),
            "weights": weights,
            "nodes": [{"keras_node_index": 0, "inbound": inbound,
                       "outputs": [{"file": fname, "shape": list(v.shape)}]}],
            "config": C.json_safe(layer.get_config()),
        }
        if layer.name in tfk_diff:
            entry["tf_keras_max_abs_diff"] = tfk_diff[layer.name]
        manifest_layers.append(entry)

    outputs = []
    for t in model.outputs:
        lname = t._keras_history.operation.name
        outputs.append({"file": f"{lname}.out.npy", "layer": lname,
                        "shape": [BATCH] + [int(x) for x in t.shape[1:]]})
    save_model_file(model, d, "model.keras")
    normalize_keras_zip(os.path.join(d, "model.keras"))
    written.append("model.keras")
    save_model_file(model, d, "model.h5")  # Keras 3's legacy HDF5 writer
    written.append("model.h5")
    want = [np.load(os.path.join(d, o["file"])) for o in outputs]
    reloads = {f: reload_check(k3.saving.load_model, os.path.join(d, f), inputs, want, "keras " + vers["keras3"])
               for f in ("model.keras", "model.h5")}
    text = C.native_summary(model)
    C.write_text(os.path.join(d, "summary.keras3.txt"), text)
    written.append("summary.keras3.txt")
    manifest = {
        "case": name,
        "reference": "keras3",
        "reference_version": vers["keras3"],
        "keras3_only": True,
        "versions": vers,
        "covers": c["covers"],
        "note": c["note"],
        "batch": BATCH,
        "seed": [SEED, zlib.crc32(name.encode())],
        "source": inspect.getsource(c["build"]).splitlines(),
        "model_name": model.name,
        "model_class": model.__class__.__name__,
        "inputs": [{"file": f"input_{i}.npy", "name": t._keras_history.operation.name,
                    "shape": list(a.shape), "kind": c["inputs"][i][1]}
                   for i, (a, t) in enumerate(zip(inputs, model.inputs))],
        "outputs": outputs,
        "model_h5_writer": "keras " + vers["keras3"] + " legacy h5 (model.save('model.h5'))",
        "reload_check": reloads,
        "tf_keras_comparison": "per layer tf_keras_max_abs_diff: the same layer built with tf_keras "
                               + vers["tf_keras"] + " (same config and weights) on the same input",
        "params": {"total": int(model.count_params())},
        "layers": manifest_layers,
    }
    return manifest, written


def main(argv):
    vers = C.versions()
    want = set(argv)
    unknown = want - {c["name"] for c in CASES}
    if unknown:
        raise SystemExit(f"unknown case(s): {sorted(unknown)}; known: {[c['name'] for c in CASES]}")
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for c in CASES:
        if want and c["name"] not in want:
            continue
        d = os.path.join(OUT, c["name"])
        if os.path.isdir(d):
            shutil.rmtree(d)
        os.makedirs(d)
        run = run_keras3_case if c["keras3_only"] else run_tfkeras_case
        manifest, written = run(c, d, vers)
        C.write_json(os.path.join(d, "manifest.json"), manifest)
        written.append("manifest.json")
        size = sum(os.path.getsize(os.path.join(d, f)) for f in written)
        total += size
        print(f"wrote {C.rel(d)}/: {len(written)} files, {size} bytes "
              f"({'keras ' + vers['keras3'] if c['keras3_only'] else 'tf_keras ' + vers['tf_keras']})")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
