#!/usr/bin/env python3
"""Writes ops/testdata/*.json: reference outputs of real Keras/TensorFlow for
the Go ops tests (padding conventions, pooling, transposed convolutions,
bilinear upsampling, activations).

Run from the repository root:  python3 scripts/ops_reference.py
Needs tensorflow (2.x), keras (3.x) and tf_keras (the Keras 2 API).
Inputs are seeded, so rerunning gives the same files.
"""
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import tensorflow as tf
import keras
import tf_keras

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ops", "testdata")
rng = np.random.RandomState(20240601)


def rand(*shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, size=shape).astype(np.float32)


def flat(a):
    # float32 values printed with enough digits to round-trip.
    return [float("%.9g" % v) for v in np.asarray(a, dtype=np.float32).ravel()]


def write(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


def run_layer(layer, x, weights=None):
    layer.build(x.shape)
    if weights is not None:
        layer.set_weights(weights)
    return np.asarray(layer(x))


# ---------------------------------------------------------------- layers
cases = []


def case(name, op, layer, x, weights=None, **cfg):
    y = run_layer(layer, x, weights)
    c = {"name": name, "op": op, "in_shape": list(x.shape), "in": flat(x),
         "out_shape": list(y.shape), "out": flat(y)}
    c.update(cfg)
    if weights is not None:
        c["kernel_shape"] = list(weights[0].shape)
        c["kernel"] = flat(weights[0])
        if len(weights) > 1:
            c["bias"] = flat(weights[1])
    cases.append(c)


L = keras.layers
x = rand(1, 6, 7, 3)
case("conv same stride 2 even/odd", "conv2d",
     L.Conv2D(2, 3, strides=2, padding="same"), x, [rand(3, 3, 3, 2), rand(2)],
     strides=[2, 2], dilation=[1, 1], padding="same")
x = rand(1, 7, 6, 2)
case("conv same dilation (2,1) kernel 3x2", "conv2d",
     L.Conv2D(3, (3, 2), dilation_rate=(2, 1), padding="same"), x, [rand(3, 2, 2, 3), rand(3)],
     strides=[1, 1], dilation=[2, 1], padding="same")
x = rand(2, 7, 8, 3)
case("conv valid strides (2,3) batch 2", "conv2d",
     L.Conv2D(4, 3, strides=(2, 3), padding="valid"), x, [rand(3, 3, 3, 4), rand(4)],
     strides=[2, 3], dilation=[1, 1], padding="valid")
x = rand(1, 5, 6, 4)
case("conv 1x1", "conv2d",
     L.Conv2D(3, 1), x, [rand(1, 1, 4, 3), rand(3)],
     strides=[1, 1], dilation=[1, 1], padding="valid")
x = rand(1, 6, 7, 3)
case("depthwise same stride 2 multiplier 2", "depthwise",
     L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2), x,
     [rand(3, 3, 3, 2), rand(6)], strides=[2, 2], dilation=[1, 1], padding="same")
x = rand(1, 7, 7, 2)
case("depthwise valid dilation 2", "depthwise",
     L.DepthwiseConv2D(3, dilation_rate=2, padding="valid"), x,
     [rand(3, 3, 2, 1), rand(2)], strides=[1, 1], dilation=[2, 2], padding="valid")
x = rand(1, 3, 4, 2)
case("transpose same stride 2 kernel 3", "transpose",
     L.Conv2DTranspose(3, 3, strides=2, padding="same"), x, [rand(3, 3, 3, 2), rand(3)],
     strides=[2, 2], dilation=[1, 1], padding="same", output_padding=[-1, -1])
case("transpose valid strides (2,1) kernel 3x2", "transpose",
     L.Conv2DTranspose(3, (3, 2), strides=(2, 1), padding="valid"), x, [rand(3, 2, 3, 2), rand(3)],
     strides=[2, 1], dilation=[1, 1], padding="valid", output_padding=[-1, -1])
case("transpose same stride 2 kernel 4", "transpose",
     L.Conv2DTranspose(2, 4, strides=2, padding="same"), x, [rand(4, 4, 2, 2), rand(2)],
     strides=[2, 2], dilation=[1, 1], padding="same", output_padding=[-1, -1])
case("transpose same stride 3 kernel 5 batch 2", "transpose",
     L.Conv2DTranspose(2, 5, strides=3, padding="same"), rand(2, 3, 2, 2), [rand(5, 5, 2, 2), rand(2)],
     strides=[3, 3], dilation=[1, 1], padding="same", output_padding=[-1, -1])
case("transpose same stride 2 output_padding 1", "transpose",
     L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1), x, [rand(3, 3, 2, 2), rand(2)],
     strides=[2, 2], dilation=[1, 1], padding="same", output_padding=[1, 1])
# Pools. All-negative input: a max pool that let padding (0) win would fail.
x = rand(1, 6, 7, 2, lo=-2.0, hi=-0.5)
case("maxpool same 3x3 stride 2 negative input", "maxpool",
     L.MaxPooling2D(3, strides=2, padding="same"), x, pool=[3, 3], strides=[2, 2], padding="same")
x = rand(1, 6, 7, 2, lo=0.5, hi=2.0)
case("avgpool same 3x3 stride 2", "avgpool",
     L.AveragePooling2D(3, strides=2, padding="same"), x, pool=[3, 3], strides=[2, 2], padding="same")
x = rand(2, 5, 5, 1, lo=0.5, hi=2.0)
case("avgpool same 2x2 stride 2 odd size", "avgpool",
     L.AveragePooling2D(2, strides=2, padding="same"), x, pool=[2, 2], strides=[2, 2], padding="same")
x = rand(1, 5, 7, 2)
case("avgpool valid 2x3 strides (1,2)", "avgpool",
     L.AveragePooling2D((2, 3), strides=(1, 2), padding="valid"), x, pool=[2, 3], strides=[1, 2], padding="valid")
case("maxpool valid 2x2 default strides", "maxpool",
     L.MaxPooling2D(2), x, pool=[2, 2], strides=[2, 2], padding="valid")
x = rand(2, 3, 4, 5)
case("global average pool", "gap", L.GlobalAveragePooling2D(), x)
case("global max pool", "gmp", L.GlobalMaxPooling2D(), x)
x = rand(3, 7)
case("dense", "dense", L.Dense(5), x, [rand(7, 5), rand(5)])
x = rand(2, 3, 4)
bn = [rand(4, lo=0.5, hi=1.5), rand(4), rand(4), rand(4, lo=0.1, hi=2.0)]
case("batchnorm eps 1e-3", "batchnorm", L.BatchNormalization(epsilon=1e-3), x, bn, eps=1e-3)
# All four weights (gamma, beta, moving_mean, moving_variance) as one (4, C) "kernel".
cases[-1]["kernel_shape"] = [4, 4]
cases[-1]["kernel"] = flat(np.stack(bn))
del cases[-1]["bias"]
x = rand(2, 3, 4, 2)
for size, interp in [((2, 2), "bilinear"), ((3, 2), "bilinear"), ((1, 3), "bilinear"), ((2, 3), "nearest")]:
    y3 = run_layer(L.UpSampling2D(size, interpolation=interp), x)
    y2 = run_layer(tf_keras.layers.UpSampling2D(size, interpolation=interp), x)
    assert np.array_equal(y2, y3), "tf.keras and Keras 3 UpSampling2D differ"
    cases.append({"name": "upsampling %s %dx%d" % (interp, size[0], size[1]), "op": "upsampling",
                  "size": list(size), "interpolation": interp, "in_shape": list(x.shape), "in": flat(x),
                  "out_shape": list(y3.shape), "out": flat(y3)})
write("layers.json", {"generator": "scripts/ops_reference.py", "tensorflow": tf.__version__,
                      "keras": keras.__version__, "cases": cases})

# ----------------------------------------------------------- activations
xs = np.concatenate([np.linspace(-6, 6, 49), [-30, -10, -3, -2.5, -1e-3, 1e-3, 2.5, 3, 10, 30]]).astype(np.float32)
K2 = tf_keras.activations
K3 = keras.activations
acts = {}
for name in ["linear", "relu", "sigmoid", "hard_sigmoid", "tanh", "elu", "selu", "softplus",
             "softsign", "exponential", "swish", "gelu"]:
    acts["tf_keras/" + name] = flat(K2.get(name)(tf.constant(xs)))
acts["tf_keras/gelu approximate"] = flat(K2.gelu(tf.constant(xs), approximate=True))
for name in ["relu", "relu6", "leaky_relu", "sigmoid", "hard_sigmoid", "tanh", "elu", "selu",
             "softplus", "softsign", "swish", "silu", "gelu", "mish", "hard_silu", "hard_swish",
             "log_sigmoid"]:
    acts["keras/" + name] = flat(K3.get(name)(xs))
acts["keras/gelu approximate"] = flat(K3.gelu(xs, approximate=True))
relus = []
for mv, ns, th in [(None, 0.0, 0.0), (6.0, 0.0, 0.0), (None, 0.1, 0.0), (4.0, 0.2, 1.0),
                   (None, 0.3, -1.0), (2.0, 0.0, -1.0), (None, 0.0, 0.5), (3.0, 0.5, 0.0)]:
    # The ReLU layers reject a negative threshold; the activation functions
    # (which the layers call) accept it.
    y2 = np.asarray(K2.relu(tf.constant(xs), alpha=ns, max_value=mv, threshold=th))
    y3 = np.asarray(K3.relu(xs, negative_slope=ns, max_value=mv, threshold=th))
    assert np.array_equal(y2, y3), (mv, ns, th)
    if th >= 0:
        for layer in (L.ReLU(max_value=mv, negative_slope=ns, threshold=th),
                      tf_keras.layers.ReLU(max_value=mv, negative_slope=ns, threshold=th)):
            assert np.array_equal(np.asarray(layer(xs)), y2), (mv, ns, th)
    relus.append({"max_value": -1 if mv is None else mv, "negative_slope": ns, "threshold": th, "out": flat(y2)})
sm_in = rand(3, 5, lo=-5, hi=5)
write("activations.json", {
    "generator": "scripts/ops_reference.py", "tensorflow": tf.__version__, "keras": keras.__version__,
    "x": flat(xs), "activations": acts, "relu_layer": relus,
    "elu_layer_alpha_0.5": flat(L.ELU(alpha=0.5)(xs)),
    "leaky_relu_layer_0.3": flat(tf_keras.layers.LeakyReLU(alpha=0.3)(xs)),
    "softmax_in": flat(sm_in), "softmax_out": flat(tf.nn.softmax(sm_in, axis=-1)),
})
