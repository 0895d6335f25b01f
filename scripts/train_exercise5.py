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

The photos are the 10 cat.*.jpg and 10 dog.*.jpg of
../shared/keras-corpus/images (Kaggle "Dogs vs. Cats" test photos, see its
MANIFEST.md), in classes "cats" and "dogs" as in the course. Third-party
data stays in ../shared: nothing derived from the photos is written into
the repository.

  $KERAGO_EX5_DIR/png/{cats,dogs}/*.png   (default /tmp/kerago-exercise5;
      must be outside the repository) Pillow's RGB decoding of each JPEG,
      reduced with Image.thumbnail to at most 80x80 (LANCZOS) and stored
      as PNG: lossless, so Keras and Go see the same pixels. The network
      is trained on these. Not committed; the Go test that reads them
      skips when they are absent.
  testdata/exercise5/synthetic/{cats,dogs}/*.png   8 + 8 small images
      drawn here with NumPy and Pillow (gradients, shapes, smooth noise,
      speckles; 60 to 96 pixels a side; RGB, grayscale, RGBA and palette
      PNGs), committed. They are picked, deterministically, from a seeded
      pool of drawings by the trained network's outputs: every
      probability at least 0.02 away from 0.5, and a few "wrong" in each
      class, so that an evaluation has mistakes and no decision hangs on
      rounding.
  testdata/exercise5/exercise5.h5            the trained network
  testdata/exercise5/tiny_*.h5               two 16x16 two-class softmax
      models (categorical and sparse categorical crossentropy), trained on
      the synthetic folder, whose output layer is scaled up to saturate
      the softmax
  testdata/exercise5/keras_eval.json         Keras's evaluation (image_size
      (64, 64) or (16, 16), bilinear, shuffle=False, batch 8, x / 255):
      loss and accuracy from model.evaluate in tf.keras 2 and Keras 3, the
      per-file probabilities and logits and SHA-256 of the files, and the
      loss recomputed from the logits and from the clipped probabilities
      (which of the two Keras reports). Keys: "synthetic" (the network on
      the committed drawings), "png" (on the photo PNGs), "jpeg" (on the
      original JPEGs, read in place), "categorical_crossentropy" and
      "sparse_categorical_crossentropy" (the tiny models on the drawings).

Usage:
    python3 scripts/train_exercise5.py
    KERAGO_EX5_DIR=/some/where python3 scripts/train_exercise5.py
"""

import glob
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tf.keras is Keras 2 (tf_keras)

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "testdata", "exercise5")
SYNTH = os.path.join(OUT, "synthetic")
PHOTOS = os.path.join(ROOT, "..", "shared", "keras-corpus", "images")
EX5_DIR = os.path.abspath(os.environ.get("KERAGO_EX5_DIR") or "/tmp/kerago-exercise5")
SIZE = (64, 64)
BATCH = 8
SEED = 5
PER_CLASS = 8  # synthetic images per class
WRONG = {"cats": 2, "dogs": 3}  # of which the network gets wrong
MARGIN = 0.02  # least |probability - 0.5| of a synthetic image


def photos():
    files = sorted(glob.glob(os.path.join(PHOTOS, "cat.*.jpg")) + glob.glob(os.path.join(PHOTOS, "dog.*.jpg")))
    if len(files) != 20:
        sys.exit(f"expected 20 cat/dog photos in {PHOTOS}, found {len(files)}")
    return [(f, "cats" if os.path.basename(f).startswith("cat.") else "dogs") for f in files]


def build_png_folder():
    """The photos as small PNGs under $KERAGO_EX5_DIR/png (never in the
    repository). Only the PNGs this script writes are replaced."""
    if os.path.commonpath([EX5_DIR, ROOT]) == ROOT:
        sys.exit(f"KERAGO_EX5_DIR={EX5_DIR} is inside the repository; the photo PNGs must stay outside it")
    dst = os.path.join(EX5_DIR, "png")
    for cls in ("cats", "dogs"):
        for old in glob.glob(os.path.join(dst, cls, "*.png")):
            os.remove(old)
    for f, cls in photos():
        os.makedirs(os.path.join(dst, cls), exist_ok=True)
        im = Image.open(f).convert("RGB")
        im.thumbnail((80, 80), Image.LANCZOS)
        im.save(os.path.join(dst, cls, os.path.basename(f)[:-4] + ".png"), optimize=True)
    return dst


def build_jpeg_folder(tmp):
    """The original photos, linked into a class-folder layout."""
    dst = os.path.join(tmp, "jpeg")
    for f, cls in photos():
        os.makedirs(os.path.join(dst, cls), exist_ok=True)
        os.symlink(os.path.abspath(f), os.path.join(dst, cls, os.path.basename(f)))
    return dst


# Synthetic drawings. The sizes cover down- and up-sampling to 64x64 and
# 16x16 along either axis; the modes cover the decoders' conversions to RGB
# (grey replicated, alpha dropped, palette looked up).
SIZES = [(80, 80), (96, 64), (64, 88), (80, 60), (72, 72), (60, 96), (88, 80)]
MODES = ["rgb", "rgb", "gray", "rgb", "rgba", "rgb", "palette"]


def draw(rng, cls, i):
    """One drawing: a two-colour gradient in a random direction, smooth
    noise, two to five shapes, a few hundred speckles. Cats lean to warm
    ellipses, dogs to cool polygons, weakly (each shape follows its class
    with probability 0.7), so that a tiny model learns something and still
    makes mistakes."""
    w, h = SIZES[i % len(SIZES)]
    mode = MODES[i % len(MODES)]
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    a = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    t = xx * math.cos(a) + yy * math.sin(a)
    t = (t - t.min()) / (t.max() - t.min())
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    coarse = rng.normal(0, 24, (h // 12 + 2, w // 12 + 2, 3))
    smooth = np.stack([np.asarray(Image.fromarray(coarse[..., k].astype(np.float32), "F").resize((w, h), Image.BILINEAR))
                       for k in range(3)], axis=-1)
    im = Image.fromarray(np.clip(img + smooth, 0, 255).round().astype(np.uint8), "RGB")
    d = ImageDraw.Draw(im)
    for _ in range(rng.integers(2, 6)):
        own = rng.uniform() < 0.7
        warm = (cls == "cats") == own
        hue = rng.uniform(0, 255, 3)
        hue[0 if warm else 2] = rng.uniform(170, 255)
        hue[2 if warm else 0] = rng.uniform(0, 90)
        colour = tuple(int(v) for v in hue)
        x0, y0 = rng.uniform(-10, w - 10), rng.uniform(-10, h - 10)
        x1, y1 = x0 + rng.uniform(10, w / 1.5), y0 + rng.uniform(10, h / 1.5)
        if warm:
            d.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            pts = [(float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))) for _ in range(rng.integers(3, 6))]
            d.polygon(pts, fill=colour)
    px = np.asarray(im).copy()
    n = int(rng.integers(100, 300))
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    px[ys, xs] = np.clip(px[ys, xs].astype(int) + rng.integers(-60, 61, (n, 1)), 0, 255)
    im = Image.fromarray(px, "RGB")
    if mode == "gray":
        im = im.convert("L")
    elif mode == "rgba":
        alpha = (255 * (1 - t)).round().astype(np.uint8)  # 0 in one corner: colour kept, not composited
        im = Image.fromarray(np.dstack([px, alpha]), "RGBA")
    elif mode == "palette":
        im = im.quantize(colors=48)
    return im, mode


def probabilities(tf, model, folder, size=SIZE):
    raw = tf.keras.utils.image_dataset_from_directory(folder, image_size=size, batch_size=BATCH, shuffle=False)
    p = np.concatenate([np.asarray(model.predict_on_batch(x)).ravel() for x, _ in raw.map(scaling)])
    return [os.path.relpath(f, folder) for f in raw.file_paths], p


def build_synthetic_folder(tf, model_path, tmp):
    """Draws a seeded pool of 48 images per class and keeps PER_CLASS of
    each class: first one of each non-RGB mode, then in pool order, every
    network probability at least MARGIN from 0.5, WRONG[cls] of them on the
    wrong side."""
    pool = os.path.join(tmp, "pool")
    modes = {}
    for k, cls in enumerate(("cats", "dogs")):
        rng = np.random.default_rng([SEED, k])
        os.makedirs(os.path.join(pool, cls))
        for i in range(48):
            im, mode = draw(rng, cls, i)
            name = f"{cls}/{i:02d}.png"
            im.save(os.path.join(pool, name), optimize=True)
            modes[name] = mode
    model = tf.keras.models.load_model(model_path)
    paths, p = probabilities(tf, model, pool)
    shutil.rmtree(SYNTH, ignore_errors=True)
    for k, cls in enumerate(("cats", "dogs")):
        cands = [(path, prob) for path, prob in zip(paths, p) if path.startswith(cls + "/") and abs(prob - 0.5) >= MARGIN]
        first = []
        for m in ("gray", "rgba", "palette"):
            first += [c for c in cands if modes[c[0]] == m][:1]
        chosen, wrong = [], 0
        for c in first + [c for c in cands if c not in first]:
            is_wrong = (c[1] > 0.5) != (k == 1)
            if is_wrong and wrong < WRONG[cls]:
                chosen.append(c)
                wrong += 1
            elif not is_wrong and len(chosen) - wrong < PER_CLASS - WRONG[cls]:
                chosen.append(c)
        if len(chosen) != PER_CLASS:
            sys.exit(f"synthetic {cls}: only {len(chosen)} usable drawings ({wrong} wrong) in the pool")
        chosen.sort()
        os.makedirs(os.path.join(SYNTH, cls))
        for j, (path, prob) in enumerate(chosen):
            name = f"{cls[:3]}_{j + 1}_{modes[path]}.png"
            shutil.copy(os.path.join(pool, path), os.path.join(SYNTH, cls, name))
            print(f"synthetic {cls}/{name}: pool {path}, P(dogs) {prob:.4f}", file=sys.stderr)
    return SYNTH


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
    """Trains on all 20 photos, stopping early: the first seed and epoch
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
    """A 16x16 softmax classifier (2 classes) compiled with loss, trained on
    half the folder; its output layer is then scaled up 25 times so that
    many probabilities round to 0 or 1 in float32: Keras's loss then
    depends on whether it is computed from the logits or from clipped
    probabilities. The first seed whose model gets some but not all of the
    folder right, with the two formulas at least 1 apart and no two logits
    within 0.01 of each other, is kept."""
    mode = "categorical" if loss == "categorical_crossentropy" else "int"
    path = os.path.join(OUT, f"tiny_{loss}.h5")
    for seed in range(SEED, SEED + 50):
        tf.keras.utils.set_random_seed(seed)
        inp = tf.keras.Input(shape=(16, 16, 3))
        x = tf.keras.layers.Conv2D(4, 3, activation="relu")(inp)
        x = tf.keras.layers.MaxPooling2D()(x)
        x = tf.keras.layers.Flatten()(x)
        out = tf.keras.layers.Dense(2, activation="softmax")(x)
        model = tf.keras.Model(inp, out, name="tiny_" + loss)
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
        model.fit(dataset(tf, folder, True, size=(16, 16), label_mode=mode, subset="training"), epochs=3, verbose=0)
        w, b = model.layers[-1].get_weights()
        model.layers[-1].set_weights([w * 25, b * 25])
        # Saved as trained, not compiled again: a model compiled but never
        # fit stores "accuracy" resolved from the output shape alone
        # (categorical_accuracy), which tf.keras then applies to the sparse
        # labels, reporting nonsense.
        model.save(path, include_optimizer=True)
        r = evaluate(tf, path, folder, size=(16, 16), label_mode=mode)
        z = np.array(r["logits"]).reshape(-1, 2)
        acc = np.mean(np.argmax(z, axis=1) == np.array(r["labels"]))
        if 0 < acc < 1 and abs(r["loss_from_clipped_probabilities"] - r["loss_from_logits"]) >= 1 and np.min(np.abs(z[:, 0] - z[:, 1])) >= 0.01:
            print(f"{loss}: seed {seed}, accuracy {acc}", file=sys.stderr)
            return path, mode, r
    sys.exit(f"{loss}: no seed gave a usable tiny model")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def evaluate(tf, model_path, folder, size=SIZE, label_mode="int"):
    """Keras's evaluation plus per-file outputs, in file_paths order."""
    model = tf.keras.models.load_model(model_path)
    raw = tf.keras.utils.image_dataset_from_directory(folder, image_size=size, batch_size=BATCH, shuffle=False,
                                                      label_mode=label_mode)
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
        "sha256": [sha256(os.path.join(folder, q)) for q in paths],
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


def report(name, r):
    print(name, r["tf_keras_evaluate"], r["keras3_evaluate"], "logits", r["loss_from_logits"],
          "probs", r["loss_from_clipped_probabilities"], file=sys.stderr)


def main():
    import tensorflow as tf
    os.makedirs(OUT, exist_ok=True)
    png = build_png_folder()
    path = train(tf, png)
    result = {"tf_version": tf.__version__, "image_size": list(SIZE), "batch_size": BATCH}
    with tempfile.TemporaryDirectory() as tmp:
        synth = build_synthetic_folder(tf, path, tmp)
        for loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
            tiny, mode, r = train_tiny(tf, synth, loss)
            r["keras3_evaluate"] = keras3_evaluate(tiny, synth, (16, 16), mode, loss)
            result[loss] = r
            report(loss, r)
        jpeg = build_jpeg_folder(tmp)
        for name, folder in (("synthetic", synth), ("png", png), ("jpeg", jpeg)):
            r = evaluate(tf, path, folder)
            r["keras3_evaluate"] = keras3_evaluate(path, folder)
            result[name] = r
            report(name, r)
    with open(os.path.join(OUT, "keras_eval.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(README)


README = """# Exercise 5 fixtures

Written by `scripts/train_exercise5.py` (see its docstring).

* `synthetic/cats`, `synthetic/dogs`: 8 + 8 small PNGs drawn by the script
  (gradients, shapes, smooth noise, speckles; RGB, grayscale, RGBA and
  palette files, 60 to 96 pixels a side), picked from a seeded pool so
  that the network below gets a few wrong and no probability is within
  0.02 of 0.5. The mode is in each file name.
* `exercise5.h5`: the course's Exercise 5 network with 64x64 inputs (the
  course uses 160x160), trained a few seeded epochs with tf.keras 2 on the
  10 `cat.*.jpg` and 10 `dog.*.jpg` photos of
  `../shared/keras-corpus/images` (Kaggle "Dogs vs. Cats" test photos via
  `sudarshan-koirala/CNN-for-image-Classification`, see that corpus's
  MANIFEST.md), decoded by Pillow and reduced to at most 80x80 pixels as
  PNG, saved with its training config (adam, binary_crossentropy,
  accuracy). Those PNGs are written outside the repository, to
  `$KERAGO_EX5_DIR/png` (default `/tmp/kerago-exercise5/png`); the photos
  are third-party data and stay in `../shared`.
* `tiny_categorical_crossentropy.h5`, `tiny_sparse_categorical_crossentropy.h5`:
  16x16 two-class softmax models trained on the synthetic folder (output
  layer scaled up so that the softmax saturates) for the categorical
  losses.
* `keras_eval.json`: Keras's `model.evaluate` (tf.keras 2 and Keras 3) with
  per-file outputs and SHA-256: `synthetic` (the network on the synthetic
  folder), `png` (on the photo PNGs), `jpeg` (on the original JPEGs),
  `categorical_crossentropy` / `sparse_categorical_crossentropy` (the tiny
  models on the synthetic folder).
"""


if __name__ == "__main__":
    main()
