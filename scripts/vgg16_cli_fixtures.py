#!/usr/bin/env python3
"""Small Keras fixtures for the tests of cmd/vgg16, written into testdata/vgg16/.

A tiny CNN stands in for VGG16 (whose weights are 528 MB) so that every CLI
command can be checked against real Keras on files of a few kB:

  tiny_cnn.h5            tf_keras model.save (legacy HDF5, full model)
  tiny_cnn.keras         the same model and weights saved by Keras 3
  tiny_cnn_alt.weights.h5  other weights for the same model (Keras 3 save_weights)
  tiny_cnn.summary.txt   its model.summary() in the tf.keras 2.0-2.6 format (the real
                         print_summary of keras 2.6.0, via keras_ref_common.classic_summary)
  tiny_classes.json      a 10-class index in Keras's class-index format
  sample.png             a 48x40 synthetic RGB picture (drawn here with NumPy)
  tiny_ref.npz           what Keras computes on sample.png:
      input          load_img(target_size=(32, 32)) (nearest) + img_to_array, (1, 32, 32, 3)
      conv_a         output of layer conv_a with no preprocessing, (1, 32, 32, 4)
      conv_a_kernel  conv_a's kernel (3, 3, 3, 4)
      pred           model output, no preprocessing, (1, 10)
      pred_tf        model output after preprocess_input(mode="tf"), (1, 10)
      pred_alt       model output with tiny_cnn_alt.weights.h5, (1, 10)

Model: Input(32, 32, 3) -> Rescaling(1/255) -> Conv2D(4, 3, same, relu) "conv_a"
-> MaxPooling2D(2) "pool_a" -> Conv2D(6, 3, valid, relu) "conv_b" -> Flatten
-> Dense(10, softmax) "predictions"; seeded random weights N(0, 2/sqrt(fan_in)), biases N(0, 0.1).

Run:  python3 scripts/vgg16_cli_fixtures.py
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "testdata", "vgg16")


def build(K, rng=None):
    L = K.layers
    inp = K.Input((32, 32, 3), name="img")
    x = L.Rescaling(1 / 255, name="rescale")(inp)
    x = L.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
    x = L.MaxPooling2D(2, name="pool_a")(x)
    x = L.Conv2D(6, 3, activation="relu", name="conv_b")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(10, activation="softmax", name="predictions")(x)
    m = K.Model(inp, x, name="tiny_cnn")
    if rng is not None:
        for layer in m.layers:
            w = layer.get_weights()
            if w:
                k, b = w
                fan_in = int(np.prod(k.shape[:-1]))
                k = rng.normal(0, 2 / np.sqrt(fan_in), k.shape)
                b = rng.normal(0, 0.1, b.shape)
                w = [k.astype(np.float32), b.astype(np.float32)]
                layer.set_weights(w)
    return m


def sample_picture():
    h, w = 40, 48
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (x * 255 // (w - 1)).astype(np.uint8)           # red ramp left to right
    img[..., 1] = (y * 255 // (h - 1)).astype(np.uint8)           # green ramp top to bottom
    img[..., 2] = np.where(((x // 4) + (y // 4)) % 2 == 0, 230, 20)  # blue checkerboard
    disc = (x - 30) ** 2 + (y - 18) ** 2 < 64
    img[disc] = [250, 250, 250]
    return img


def main():
    import tf_keras
    import keras

    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)
    m2 = build(tf_keras, rng)
    m2.save(os.path.join(OUT, "tiny_cnn.h5"))
    sys.path.insert(0, HERE)
    from keras_ref_common import classic_summary

    with open(os.path.join(OUT, "tiny_cnn.summary.txt"), "w") as f:
        f.write(classic_summary(m2))
    m3 = build(keras)
    for a, b in zip(m3.layers, m2.layers):
        a.set_weights(b.get_weights())
    m3.save(os.path.join(OUT, "tiny_cnn.keras"))

    alt = build(keras, np.random.default_rng(8))
    alt.save_weights(os.path.join(OUT, "tiny_cnn_alt.weights.h5"))

    classes = {str(i): [f"n{i:08d}", f"tiny_class_{i}"] for i in range(10)}
    with open(os.path.join(OUT, "tiny_classes.json"), "w") as f:
        json.dump(classes, f)

    png = os.path.join(OUT, "sample.png")
    Image.fromarray(sample_picture(), "RGB").save(png)

    x = tf_keras.utils.img_to_array(tf_keras.utils.load_img(png, target_size=(32, 32)))[None]
    probe = tf_keras.Model(m2.input, m2.get_layer("conv_a").output)
    xtf = tf_keras.applications.imagenet_utils.preprocess_input(x.copy(), mode="tf")
    ref = {
        "input": x.astype(np.float32),
        "conv_a": probe.predict(x, verbose=0).astype(np.float32),
        "conv_a_kernel": m2.get_layer("conv_a").get_weights()[0].astype(np.float32),
        "pred": m2.predict(x, verbose=0).astype(np.float32),
        "pred_tf": m2.predict(xtf, verbose=0).astype(np.float32),
        "pred_alt": alt.predict(x, verbose=0).astype(np.float32),
    }
    # Keras 3 must agree with tf_keras on the same weights.
    assert np.allclose(m3.predict(x, verbose=0), ref["pred"], rtol=1e-5, atol=1e-6)
    np.savez(os.path.join(OUT, "tiny_ref.npz"), **ref)
    print({k: (v.shape, float(np.abs(v).max())) for k, v in ref.items()})
    print("pred", ref["pred"], "\npred_tf", ref["pred_tf"], "\npred_alt", ref["pred_alt"])
    for n in sorted(os.listdir(OUT)):
        print(n, os.path.getsize(os.path.join(OUT, n)))


if __name__ == "__main__":
    main()
