#!/usr/bin/env python3
"""Full-size VGG16 reference for kerago, written by real Keras (tf_keras).

Writes into OUT (default /tmp/kerago-vgg16/, outside the repository; about
0.7 GB):

  vgg16_top.h5, vgg16_notop.h5
      VGG16(weights=None) random weights (seeded) saved in the exact layout of
      Keras's ImageNet files vgg16_weights_tf_dim_ordering_tf_kernels{,_notop}.h5:
      weights-only, root attribute `layer_names` (fixed-length byte strings,
      no input layer), no `keras_version` / `backend` attributes, one group per
      layer whose attribute `weight_names` lists `<layer>_W_1:0`, `<layer>_b_1:0`
      (datasets in that group, kernel HWIO / Dense (in, out), float32), and for
      pooling / flatten layers an EMPTY float64 `weight_names` array (what
      Keras 1 wrote for layers without weights).  Biases are replaced by small
      random values (Keras initialises them to zero, which would not test that
      they are loaded) and the `predictions` kernel is scaled by 50 so that the
      softmax is far from uniform.
  images/<name>.png
      the photos of shared/keras-corpus/images/ converted to PNG by Pillow
      (so Go decodes exactly the pixels Keras sees).
  outputs/<name>/input.npy
      keras.utils.load_img(png, target_size=(224, 224)) (nearest),
      img_to_array, vgg16.preprocess_input (caffe): shape (1, 224, 224, 3).
  outputs/<name>/<layer>.npy
      Keras's output of every layer (block1_conv1 ... predictions), float32.
  outputs/<name>/notop_<layer>.npy is not written: the notop model shares the
      top model's convolutions, so the same files serve both.
  manifest.json
      versions, seed, md5 of both .h5 files, layer list, images.

The script also reloads both files with Keras's own VGG16(weights=<file>) and
checks that the predictions are unchanged, proving Keras accepts the layout.

Run:  python3 scripts/vgg16_imagenet_layout.py [--out DIR] [--force]
"""
import argparse
import hashlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "shared", "keras-corpus", "images")
DEFAULT_IMAGES = ["elephant.jpg", "cat.4001.jpg"]


def md5sum(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_imagenet_layout(model, path):
    """Saves model's weights as Keras's ImageNet VGG16 files are laid out."""
    import tf_keras

    layers = [l for l in model.layers if not isinstance(l, tf_keras.layers.InputLayer)]
    with h5py.File(path, "w") as f:
        # np.array of bytes -> fixed-length 'S<n>' strings, as in the real file.
        f.attrs["layer_names"] = np.array([l.name.encode("utf8") for l in layers])
        for l in layers:
            g = f.create_group(l.name)
            values = l.get_weights()
            if not values:
                # Keras 1 assigned the empty Python list: h5py stores a
                # float64 array of shape (0,).
                g.attrs["weight_names"] = np.array([], dtype=np.float64)
                continue
            assert len(values) == 2, l.name
            names = [f"{l.name}_W_1:0", f"{l.name}_b_1:0"]
            g.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
            for n, v in zip(names, values):
                d = g.create_dataset(n, v.shape, dtype=np.float32)
                d[...] = v.astype(np.float32)


def describe(path):
    lines = []
    with h5py.File(path, "r") as f:
        lines.append(f"root attrs: {sorted(f.attrs.keys())}")
        ln = f.attrs["layer_names"]
        lines.append(f"layer_names: dtype={ln.dtype} shape={ln.shape}")
        for name in ln:
            g = f[name.decode()]
            wn = g.attrs["weight_names"]
            shapes = [g[w.decode()].shape for w in wn] if wn.dtype.kind == "S" else []
            lines.append(f"  {name.decode()}: weight_names dtype={wn.dtype} shape={wn.shape} {list(wn)} {shapes}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/kerago-vgg16")
    ap.add_argument("--images", nargs="*", default=DEFAULT_IMAGES)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--force", action="store_true", help="rewrite even if manifest.json exists")
    args = ap.parse_args()

    out = os.path.abspath(args.out)
    repo = os.path.abspath(os.path.join(HERE, ".."))
    if out == repo or out.startswith(repo + os.sep):
        sys.exit(f"refusing to write {out}: the output must be outside the repository ({repo})")
    if os.path.exists(os.path.join(out, "manifest.json")) and not args.force:
        print(f"{out}/manifest.json exists; use --force to rewrite")
        return
    os.makedirs(os.path.join(out, "images"), exist_ok=True)

    import tensorflow as tf
    import tf_keras
    from tf_keras.applications import vgg16

    tf_keras.utils.set_random_seed(args.seed)
    model = vgg16.VGG16(weights=None, include_top=True)
    rng = np.random.default_rng(args.seed)
    for l in model.layers:
        w = l.get_weights()
        if w:
            w[1] = rng.uniform(-0.05, 0.05, size=w[1].shape).astype(np.float32)
            if l.name == "predictions":
                w[0] = w[0] * 50  # logits of a few units: a softmax far from uniform
            l.set_weights(w)

    top = os.path.join(out, "vgg16_top.h5")
    notop = os.path.join(out, "vgg16_notop.h5")
    write_imagenet_layout(model, top)
    notop_model = vgg16.VGG16(weights=None, include_top=False)
    for l in notop_model.layers:
        if l.get_weights():
            l.set_weights(model.get_layer(l.name).get_weights())
    write_imagenet_layout(notop_model, notop)
    print(describe(notop))
    print(describe(top))

    names = [l.name for l in model.layers[1:]]
    probe = tf_keras.Model(model.input, [model.get_layer(n).output for n in names])
    images = []
    for img in args.images:
        src = os.path.join(CORPUS, img)
        stem = os.path.splitext(img)[0]
        png = os.path.join(out, "images", stem + ".png")
        with Image.open(src) as im:
            im.save(png)  # lossless copy of the decoded pixels (mode kept)
        x = tf_keras.utils.img_to_array(tf_keras.utils.load_img(png, target_size=(224, 224)))
        x = vgg16.preprocess_input(x[None].copy())
        d = os.path.join(out, "outputs", stem)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "input.npy"), x.astype(np.float32))
        ys = probe.predict(x, verbose=0)
        stats = {}
        for n, y in zip(names, ys):
            np.save(os.path.join(d, n + ".npy"), y.astype(np.float32))
            stats[n] = {"shape": list(y.shape), "max_abs": float(np.abs(y).max()), "frac_pos": float((y > 0).mean())}
        top5 = np.argsort(ys[-1][0])[::-1][:5]
        images.append({"source": src, "png": png, "stem": stem, "top5": top5.tolist(),
                       "top5_scores": [float(ys[-1][0][i]) for i in top5], "layers": stats})
        print(img, {n: round(s["max_abs"], 4) for n, s in stats.items()})

    # Keras itself must accept both files (weights-only, Keras-1 layout).
    x0 = np.load(os.path.join(out, "outputs", images[0]["stem"], "input.npy"))
    want = model.predict(x0, verbose=0)
    again = vgg16.VGG16(weights=top, include_top=True).predict(x0, verbose=0)
    assert np.array_equal(want, again), "Keras reloading vgg16_top.h5 changed the predictions"
    want_conv = notop_model.predict(x0, verbose=0)
    again_conv = vgg16.VGG16(weights=notop, include_top=False).predict(x0, verbose=0)
    assert np.array_equal(want_conv, again_conv), "Keras reloading vgg16_notop.h5 changed the output"

    manifest = {
        "tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "h5py": h5py.__version__,
        "numpy": np.__version__, "pillow": Image.__version__, "seed": args.seed,
        "files": {"top": {"path": top, "md5": md5sum(top), "size": os.path.getsize(top)},
                  "notop": {"path": notop, "md5": md5sum(notop), "size": os.path.getsize(notop)}},
        "layers": names, "images": images,
        "load_img": {"target_size": [224, 224], "interpolation": "nearest"}, "preprocess": "caffe",
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
