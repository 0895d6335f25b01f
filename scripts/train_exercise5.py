#!/usr/bin/env python3
"""Trains the course's Exercise 5 network on the shared cats and dogs and
writes what `vgg16 evaluate` / `vgg16 predict --data` are checked against.

The network is Exercise 5's (course text in ../shared/seed): Conv2D 16, 32,
64 filters of 3x3, padding "same", ReLU, max pooling after the first two;
Flatten; Dense 32 ReLU; Dense 1 sigmoid; compiled with adam,
binary_crossentropy and accuracy; inputs scaled by the course's
dataset.map(image / 255.). The course uses 160x160 inputs (3.3 million
parameters, 13 MB); here the input is 64x64 (541,000 parameters, 2.2 MB)
so that the checkpoint can be committed. It is trained for a few seeded
epochs with tf.keras 2 (tf_keras) and saved as a tf.keras 2 .h5 with its
training config. The optimizer is re-created before saving so that no
Adam slots (twice the weights) are stored; the training config still
says adam / binary_crossentropy / accuracy.

The images are the 10 cat.*.jpg and 10 dog.*.jpg photos of
../shared/keras-corpus/images (Kaggle "Dogs vs. Cats" test photos, see
its MANIFEST.md), in classes "cats" and "dogs" as in the course:

  testdata/exercise5/png/{cats,dogs}/*.png   Pillow's RGB decoding of each
      JPEG, reduced with Image.thumbnail to at most 80x80 (LANCZOS) and
      stored as PNG: lossless, so Keras and Go see the same pixels. These
      small copies are committed; the photos themselves are read in place.
  testdata/exercise5/exercise5.h5            the trained model
  testdata/exercise5/tiny_*.h5               two 16x16 two-class softmax
      models (categorical and sparse categorical crossentropy) whose output
      layer is scaled up to saturate the softmax
  testdata/exercise5/keras_eval.json         Keras's evaluation of the PNG
      folder and of a folder of the original JPEGs (image_size (64, 64),
      bilinear, shuffle=False, batch 8, x / 255): loss and accuracy from
      model.evaluate in tf.keras 2 and Keras 3, the per-file probabilities
      and logits, and the loss recomputed from the logits and from the
      clipped probabilities (which of the two Keras reports).

Usage:
    python3 scripts/train_exercise5.py
"""

import glob
import json
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2 (tf_keras)

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "exercise5")
PHOTOS = os.path.join(ROOT, "..", "shared", "keras-corpus", "images")
SIZE = (64, 64)
BATCH = 8
SEED = 5


def build_png_folder():
    dst = os.path.join(OUT, "png")
    shutil.rmtree(dst, ignore_errors=True)
    files = sorted(glob.glob(os.path.join(PHOTOS, "cat.*.jpg")) + glob.glob(os.path.join(PHOTOS, "dog.*.jpg")))
    if len(files) != 20:
        sys.exit(f"expected 20 cat/dog photos in {PHOTOS}, found {len(files)}")
    for f in files:
        name = os.path.basename(f)
        cls = "cats" if name.startswith("cat.") else "dogs"
        os.makedirs(os.path.join(dst, cls), exist_ok=True)
        im = Image.open(f).convert("RGB")
        im.thumbnail((80, 80), Image.LANCZOS)
        im.save(os.path.join(dst, cls, name[:-4] + ".png"), optimize=True)
    return dst


def build_jpeg_folder(tmp):
    dst = os.path.join(tmp, "jpeg")
    for f in sorted(glob.glob(os.path.join(PHOTOS, "cat.*.jpg")) + glob.glob(os.path.join(PHOTOS, "dog.*.jpg"))):
        name = os.path.basename(f)
        cls = "cats" if name.startswith("cat.") else "dogs"
        os.makedirs(os.path.join(dst, cls), exist_ok=True)
        shutil.copy(f, os.path.join(dst, cls, name))
    return dst


def scaling(image, label):
    return image / 255.0, label


def dataset(tf, folder, shuffle, size=SIZE, label_mode="int", subset=None):
    return tf.keras.utils.image_dataset_from_directory(
        folder, image_size=size, batch_size=BATCH, shuffle=shuffle, seed=SEED, label_mode=label_mode,
        validation_split=0.5 if subset else None, subset=subset).map(scaling)


def build_model(tf):
    inp = tf.keras.Input(shape=SIZE + (3,))
    x = tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
    x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(32, activation="relu")(x)
    out = tf.keras.layers.Dense(1, activation="sigmoid")(x)
    model = tf.keras.Model(inp, out, name="exercise5")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def train(tf, folder):
    """Trains on all 20 images, stopping early: the first seed and epoch
    whose model gets between 60% and 90% right, with every probability at
    least 0.005 away from the 0.5 threshold, is kept, so the evaluation has
    mistakes and no decision hangs on rounding."""
    for seed in range(1, 50):
        tf.keras.utils.set_random_seed(seed)
        model = build_model(tf)
        data = dataset(tf, folder, True)
        for epoch in range(8):
            model.fit(data, epochs=1, verbose=0)
            p = np.concatenate([model.predict_on_batch(x).ravel() for x, _ in dataset(tf, folder, False)])
            y = np.concatenate([np.asarray(l).ravel() for _, l in dataset(tf, folder, False)])
            acc = np.mean((p > 0.5) == (y == 1))
            if 0.6 <= acc <= 0.9 and np.min(np.abs(p - 0.5)) >= 0.005:
                print(f"seed {seed}, {epoch + 1} epochs: accuracy {acc}", file=sys.stderr)
                # A fresh optimizer: the training config is kept, Adam's
                # slots are not.
                model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
                path = os.path.join(OUT, "exercise5.h5")
                model.save(path)
                return path
    sys.exit("no seed gave a usable model")


def train_tiny(tf, folder, loss):
    """A 16x16 softmax classifier (2 classes) compiled with loss; its output
    layer is then scaled up 25 times so that many probabilities round to 0
    or 1 in float32: Keras's loss then depends on whether it is computed
    from the logits or from clipped probabilities."""
    tf.keras.utils.set_random_seed(SEED)
    inp = tf.keras.Input(shape=(16, 16, 3))
    x = tf.keras.layers.Conv2D(4, 3, activation="relu")(inp)
    x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Flatten()(x)
    out = tf.keras.layers.Dense(2, activation="softmax")(x)
    model = tf.keras.Model(inp, out, name="tiny_" + loss)
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    mode = "categorical" if loss == "categorical_crossentropy" else "int"
    model.fit(dataset(tf, folder, True, size=(16, 16), label_mode=mode, subset="training"), epochs=3, verbose=0)
    w, b = model.layers[-1].get_weights()
    model.layers[-1].set_weights([w * 25, b * 25])
    # Saved as trained, not compiled again: a model compiled but never fit
    # stores "accuracy" resolved from the output shape alone
    # (categorical_accuracy), which tf.keras then applies to the sparse
    # labels, reporting nonsense.
    path = os.path.join(OUT, f"tiny_{loss}.h5")
    model.save(path, include_optimizer=True)
    return path, mode


def evaluate(tf, model_path, folder, size=SIZE, label_mode="int"):
    """Keras's evaluation plus per-file outputs, in file_paths order."""
    model = tf.keras.models.load_model(model_path)
    raw = tf.keras.utils.image_dataset_from_directory(folder, image_size=size, batch_size=BATCH, shuffle=False, label_mode=label_mode)
    paths = [os.path.relpath(p, folder) for p in raw.file_paths]
    loss, acc = model.evaluate(raw.map(scaling), verbose=0)
    logit_model = tf.keras.Model(model.input, model.layers[-2].output)
    w, b = model.layers[-1].get_weights()
    probs, logits, labels = [], [], []
    for x, y in raw.map(scaling):
        p = model.predict_on_batch(x)
        h = logit_model.predict_on_batch(x)
        z = h @ w + b
        probs += [float(v) for v in np.asarray(p).ravel()]
        logits += [float(v) for v in np.asarray(z, dtype=np.float32).ravel()]
        labels += [int(v) for v in np.asarray(y).ravel()]
    k = model.output_shape[-1]
    if label_mode == "categorical":
        labels = [int(np.argmax(labels[i:i + k])) for i in range(0, len(labels), k)]
    z = np.array(logits, dtype=np.float64).reshape(-1, k)
    y = np.array(labels)
    p = np.clip(np.array(probs, dtype=np.float64).reshape(-1, k), 1e-7, 1 - 1e-7)
    if k == 1:
        z, p, y = z[:, 0], p[:, 0], y.astype(np.float64)
        from_logits = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        from_probs = np.mean(-(y * np.log(p + 1e-7) + (1 - y) * np.log(1 - p + 1e-7)))
    else:
        zmax = z.max(axis=1, keepdims=True)
        lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
        from_logits = np.mean(lse - z[np.arange(len(y)), y])
        from_probs = np.mean(-np.log(p[np.arange(len(y)), y]))
    return {
        "class_names": raw.class_names,
        "file_paths": paths,
        "labels": labels,
        "probabilities": probs,
        "logits": logits,
        "tf_keras_evaluate": {"loss": float(loss), "accuracy": float(acc)},
        "loss_from_logits": float(from_logits),
        "loss_from_clipped_probabilities": float(from_probs),
    }


def keras3_evaluate(model_path, folder, size=SIZE, label_mode="int", loss="binary_crossentropy"):
    """The same evaluation in Keras 3 (a separate process: TF_USE_LEGACY_KERAS
    is set here), after compiling the loaded model again (see below)."""
    import subprocess
    code = f"""
import os, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, tensorflow as tf
m = keras.saving.load_model({model_path!r})
# Keras 3.15 restores the tf.keras metric "accuracy" as a plain string and
# fails in evaluate ('str' object is not callable): compile again, same
# loss and metric.
m.compile(optimizer="adam", loss={loss!r}, metrics=["accuracy"])
ds = keras.utils.image_dataset_from_directory({folder!r}, image_size={size!r}, batch_size={BATCH}, shuffle=False, verbose=False, label_mode={label_mode!r})
loss, acc = m.evaluate(ds.map(lambda x, y: (x / 255.0, y)), verbose=0)
print(json.dumps({{"loss": float(loss), "accuracy": float(acc), "keras_version": keras.__version__}}))
"""
    env = dict(os.environ)
    env.pop("TF_USE_LEGACY_KERAS", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    import tensorflow as tf
    os.makedirs(OUT, exist_ok=True)
    png = build_png_folder()
    path = train(tf, png)
    result = {"tf_version": tf.__version__, "image_size": list(SIZE), "batch_size": BATCH}
    for loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        tiny, mode = train_tiny(tf, png, loss)
        r = evaluate(tf, tiny, png, size=(16, 16), label_mode=mode)
        r["keras3_evaluate"] = keras3_evaluate(tiny, png, (16, 16), mode, loss)
        result[loss] = r
        print(loss, r["tf_keras_evaluate"], r["keras3_evaluate"], "logits", r["loss_from_logits"],
              "probs", r["loss_from_clipped_probabilities"], file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        jpeg = build_jpeg_folder(tmp)
        for name, folder in (("png", png), ("jpeg", jpeg)):
            r = evaluate(tf, path, folder)
            r["keras3_evaluate"] = keras3_evaluate(path, folder)
            result[name] = r
            print(name, r["tf_keras_evaluate"], r["keras3_evaluate"], "logits", r["loss_from_logits"],
                  "probs", r["loss_from_clipped_probabilities"], file=sys.stderr)
    with open(os.path.join(OUT, "keras_eval.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(README)


README = """# Exercise 5 fixtures

Written by `scripts/train_exercise5.py` (see its docstring).

* `png/cats`, `png/dogs`: the 10 `cat.*.jpg` and 10 `dog.*.jpg` photos of
  `../shared/keras-corpus/images` (Kaggle "Dogs vs. Cats" test photos via
  `sudarshan-koirala/CNN-for-image-Classification`, see that corpus's
  MANIFEST.md), decoded by Pillow and reduced to at most 80x80 pixels,
  stored losslessly as PNG.
* `exercise5.h5`: the course's Exercise 5 network with 64x64 inputs (the
  course uses 160x160), trained a few seeded epochs on those images with
  tf.keras 2, saved with its training config (adam, binary_crossentropy,
  accuracy).
* `tiny_categorical_crossentropy.h5`, `tiny_sparse_categorical_crossentropy.h5`:
  16x16 two-class softmax models (output layer scaled up so that the
  softmax saturates) for the categorical losses.
* `keras_eval.json`: Keras's `model.evaluate` on the PNG folder and on the
  original JPEGs, with per-file outputs.
"""


if __name__ == "__main__":
    main()
