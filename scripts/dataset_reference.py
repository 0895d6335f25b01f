#!/usr/bin/env python3
"""Writes the Keras references for preprocess.DatasetFromDirectory.

Everything expected by the Go tests comes from the real libraries:
NumPy (np.random.RandomState: MT19937 outputs and legacy shuffles), Keras 3
(keras.utils.image_dataset_from_directory: class names, file order, labels,
messages, errors, pixels) on TensorFlow (tf.io.decode_image, tf.image.resize).

The test folder tree is generated here, deterministically, from seeded
random noise (no third-party pictures), and committed: it is small
(testdata/dataset/tree, about 20 KB), and committing it means the Go test
reads exactly the bytes Keras read. It has nested sub-folders, a
dot-folder class (skipped by Keras), a dot-folder inside a class (walked),
dot-files, mixed-case extensions, non-image files, a class folder with no
images, a file at the top level, an upper-case class name (sorted before
the lower-case ones), root paths whose sort order differs from a
depth-first walk ("sub-b" < "sub/deeper"), and PNG, JPEG, GIF and BMP
files in the colour layouts TensorFlow converts differently (16-bit,
palette with and without tRNS, 1/2/4-bit, grey+alpha, 32-bit BMP,
palette BMP, GIF with a transparent index and a first frame smaller than
its screen).

Usage:
    python3 scripts/dataset_reference.py

Outputs:
    testdata/dataset/tree/...            the folder tree (committed)
    testdata/dataset/orders.json         class names, file paths (relative to
                                         the tree), labels and messages for
                                         shuffle off, three seeds, explicit
                                         class names, labels=None, explicit
                                         labels and validation splits; the
                                         error messages of invalid calls
    preprocess/testdata/dataset/shuffle.json
                                         RandomState raw outputs and shuffled
                                         orders for several seeds and sizes
    preprocess/testdata/dataset/pixels.json + pixels.npz
                                         dataset pixels (float32) for every
                                         interpolation, colour mode,
                                         crop_to_aspect_ratio and
                                         pad_to_aspect_ratio
    preprocess/testdata/dataset/standardize.npz
                                         ImageDataGenerator.standardize
                                         (rescale, samplewise centre/std)
"""

import contextlib
import copy
import io
import json
import os
import shutil
import struct
import sys
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, "testdata", "dataset", "tree")
ORDERS = os.path.join(ROOT, "testdata", "dataset", "orders.json")
PRE = os.path.join(ROOT, "preprocess", "testdata", "dataset")


# ---------------------------------------------------------------- the tree

def png16(arr, color_type):
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit RGB)."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\0" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(t, b):
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def gif_small_frame(rng):
    """A GIF whose first frame (4x3 at (2, 1)) is smaller than its 8x6
    screen, with a transparent index: Pillow writes the frame, the header
    fields are then patched."""
    idx = rng.randint(0, 4, (3, 4)).astype(np.uint8)
    im = Image.fromarray(idx, "P")
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 50] + [0] * (252 * 3))
    b = io.BytesIO()
    im.save(b, "GIF", transparency=1)
    data = bytearray(b.getvalue())
    data[6:10] = struct.pack("<HH", 8, 6)
    i = data.index(b"\x2c")  # image descriptor (after the header, table and GCE)
    data[i + 1:i + 5] = struct.pack("<HH", 2, 1)
    return bytes(data)


def noise(rng, h, w, c):
    return rng.randint(0, 256, (h, w, c)).astype(np.uint8)


def save(rel, data):
    p = os.path.join(TREE, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)


def enc(im, fmt, **kw):
    b = io.BytesIO()
    im.save(b, fmt, **kw)
    return b.getvalue()


def build_tree():
    shutil.rmtree(TREE, ignore_errors=True)
    rng = np.random.RandomState(20240601)
    rgb = lambda h, w: Image.fromarray(noise(rng, h, w, 3), "RGB")
    # A smooth picture compresses (JPEG) without wild ringing.
    def smooth(h, w):
        y, x = np.mgrid[0:h, 0:w]
        a = np.stack([(x * 255 // max(w - 1, 1)), (y * 255 // max(h - 1, 1)),
                      ((x + y) * 127 // max(w + h - 2, 1))], -1)
        return Image.fromarray(a.astype(np.uint8), "RGB")

    # Class "Zebra": PNG only, every colour layout.
    save("Zebra/rgb8.png", enc(rgb(7, 9), "PNG"))
    save("Zebra/rgba8.png", enc(Image.fromarray(noise(rng, 6, 5, 4), "RGBA"), "PNG"))
    save("Zebra/gray8.png", enc(Image.fromarray(noise(rng, 5, 8, 1)[..., 0], "L"), "PNG"))
    save("Zebra/la8.png", enc(Image.fromarray(noise(rng, 9, 4, 4), "RGBA").convert("LA"), "PNG"))
    save("Zebra/pal4bit.png", enc(rgb(6, 7).convert("P", palette=Image.ADAPTIVE, colors=16), "PNG"))
    save("Zebra/pal8_trns.png", enc(rgb(5, 6).convert("P", palette=Image.ADAPTIVE, colors=200), "PNG", transparency=3))
    save("Zebra/gray16.png", enc(Image.fromarray(rng.randint(0, 65536, (4, 6)).astype(np.uint16)), "PNG"))
    a16 = rng.randint(0, 65536, (5, 5, 3)).astype(np.uint16)
    a16[0, :3] = a16[0, :3, :1]  # some grey pixels (libpng keeps them exact)
    save("Zebra/rgb16.png", png16(a16, 2))
    save("Zebra/rgba16.png", png16(rng.randint(0, 65536, (3, 4, 4)).astype(np.uint16), 6))
    save("Zebra/bilevel.png", enc(rgb(8, 10).convert("1"), "PNG"))
    save("Zebra/gray2bit.png", enc(Image.fromarray((noise(rng, 4, 7, 1)[..., 0] & 0xC0), "L"), "PNG", bits=2))
    # Class "cats": every format, nested folders, names that do not count.
    save("cats/c01.png", enc(rgb(12, 16), "PNG"))
    save("cats/C02.PNG", enc(rgb(16, 12), "PNG"))
    save("cats/c03.jpg", enc(smooth(20, 15), "JPEG", quality=90))
    save("cats/c04.Jpeg", enc(smooth(11, 23).convert("L"), "JPEG", quality=90))
    save("cats/c05.gif", enc(rgb(6, 6).convert("P", palette=Image.ADAPTIVE, colors=8), "GIF", transparency=2))
    save("cats/c06.bmp", enc(rgb(5, 7), "BMP"))
    save("cats/c07.BMP", enc(Image.fromarray(noise(rng, 6, 3, 4), "RGBA"), "BMP"))
    save("cats/c08.bmp", enc(rgb(7, 5).convert("P", palette=Image.ADAPTIVE, colors=50), "BMP"))
    save("cats/c09.GIF", gif_small_frame(rng))
    save("cats/.dotfile.png", enc(rgb(4, 4), "PNG"))
    save("cats/notes.txt", b"not an image\n")
    save("cats/archive.png.bak", enc(rgb(3, 3), "PNG"))
    save("cats/noextension", enc(rgb(3, 3), "PNG"))
    save("cats/sub/s1.png", enc(rgb(10, 3), "PNG"))
    save("cats/sub/deeper/d1.png", enc(rgb(3, 10), "PNG"))
    save("cats/sub/deeper/d0.png", enc(rgb(2, 2), "PNG"))
    save("cats/sub-b/x.png", enc(rgb(1, 1), "PNG"))
    save("cats/.hiddensub/h.png", enc(rgb(5, 5), "PNG"))
    # Class "dogs": PNG only (so that grayscale/rgba work), one upper-case ext.
    for i, (h, w) in enumerate([(13, 8), (8, 13), (9, 11), (11, 9), (1, 17), (17, 1)]):
        save(f"dogs/d{i:02d}.png", enc(rgb(h, w), "PNG"))
    save("dogs/Big.PnG", enc(rgb(31, 24), "PNG"))
    # Skipped or empty.
    save(".hidden_class/a.png", enc(rgb(3, 3), "PNG"))
    save("empty_class/README.txt", b"no images here\n")
    save("top_level.png", enc(rgb(3, 3), "PNG"))


# --------------------------------------------------------------- helpers

def keras_call(**kw):
    """Runs image_dataset_from_directory on the tree; returns a dict with
    class_names, file_paths (relative), labels, messages, or the error."""
    import keras
    out = io.StringIO()
    # Keras shuffles an explicit `labels` list in place: pass a copy.
    kw = copy.deepcopy(kw)
    try:
        with contextlib.redirect_stdout(out):
            ds = keras.utils.image_dataset_from_directory(TREE, **kw)
    except Exception as e:  # noqa: BLE001 - the message is the reference
        # The folder is spelled "<tree>" so the reference holds no path of
        # the machine that wrote it; the Go test puts its own folder back.
        return {"error": str(e).replace(TREE, "<tree>"), "messages": out.getvalue()}
    dss = ds if isinstance(ds, list) else [ds]
    res = []
    for d in dss:
        paths = [os.path.relpath(p, TREE) for p in d.file_paths]
        res.append({"class_names": d.class_names, "file_paths": paths})
    return {"datasets": res, "messages": out.getvalue()}


def jsonable(v):
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


def file_order_refs():
    from keras.src.utils import dataset_utils
    from keras.src.utils.image_dataset_utils import ALLOWLIST_FORMATS
    cases = []

    def case(name, **kw):
        entry = {"name": name, "args": copy.deepcopy(kw)}
        r = keras_call(**kw)
        entry.update(r)
        # The labels of each dataset, in file_paths order, from the same
        # index_directory / split functions Keras calls.
        if "datasets" in r and kw.get("labels", "inferred") is not None:
            labels = copy.deepcopy(kw.get("labels", "inferred"))
            seed = kw.get("seed")
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                paths, labs, _ = dataset_utils.index_directory(
                    TREE, labels, formats=ALLOWLIST_FORMATS,
                    class_names=kw.get("class_names"), shuffle=kw.get("shuffle", True),
                    seed=seed, follow_links=False, verbose=False)
                subsets = [kw.get("subset")]
                if kw.get("subset") == "both":
                    subsets = ["training", "validation"]
                for d, sub in zip(entry["datasets"], subsets):
                    p, l = dataset_utils.get_training_or_validation_split(
                        paths, labs, kw.get("validation_split"), sub)
                    assert [os.path.relpath(x, TREE) for x in p] == d["file_paths"], name
                    d["labels"] = [int(x) for x in l]
        cases.append(jsonable(entry))
        print(name, "->", r.get("error") or [len(d["file_paths"]) for d in r["datasets"]], file=sys.stderr)

    case("no_shuffle", shuffle=False)
    for s in (1, 42, 1337):
        case(f"seed_{s}", seed=s)
    case("seed_0", seed=0)
    case("class_names_given", class_names=["dogs", "cats"], seed=3)
    case("no_labels", labels=None, shuffle=False)
    case("no_labels_seed", labels=None, seed=5)
    # Explicit labels: one per file of the whole-tree walk.
    n = len(cases[-2]["datasets"][0]["file_paths"])
    case("explicit_labels", labels=[(i * 7) % 3 for i in range(n)], seed=11)
    case("split_training", validation_split=0.25, subset="training", seed=7)
    case("split_validation", validation_split=0.25, subset="validation", seed=7)
    case("split_both", validation_split=0.3, subset="both", seed=1337)
    case("split_no_shuffle", validation_split=0.2, subset="training", shuffle=False)
    case("split_tiny_validation", validation_split=0.01, subset="validation", seed=2)
    case("binary", class_names=["cats", "dogs"], label_mode="binary", seed=9)
    case("example", class_names=["cats", "dogs"], validation_split=0.25, subset="training", seed=42)
    # Errors.
    case("err_tiny_training", validation_split=0.01, subset="training", seed=2)
    case("err_split_without_seed", validation_split=0.2, subset="training")
    case("err_subset_without_split", subset="training", seed=1)
    case("err_split_range", validation_split=1.5, subset="training", seed=1)
    case("err_bad_subset", validation_split=0.2, subset="test", seed=1)
    case("err_binary_4_classes", label_mode="binary", seed=1)
    case("err_class_names", class_names=["cats", "birds"], seed=1)
    case("err_label_mode", label_mode="sparse", seed=1)
    case("err_color_mode", color_mode="bgr", seed=1)
    case("err_interpolation", interpolation="cubic", seed=1)
    case("err_explicit_count", labels=[0, 1], seed=1)
    case("err_class_names_with_labels", labels=[0] * n, class_names=["a"], seed=1)
    with open(ORDERS, "w") as f:
        json.dump({"keras_version": __import__("keras").__version__, "cases": cases}, f, indent=1)
        f.write("\n")


def shuffle_refs():
    raw = {}
    for seed in (0, 42, 2**31, 2**32 - 1):
        raw[str(seed)] = [int(v) for v in np.random.RandomState(seed)._bit_generator.random_raw(700)]
    perms = []
    for seed, n in ((0, 1), (0, 2), (1, 10), (42, 33), (7, 100), (999999, 257), (2**32 - 1, 1000), (123, 70000)):
        x = list(range(n))
        np.random.RandomState(seed).shuffle(x)
        arr = np.random.RandomState(seed).permutation(n)
        assert list(arr) == x
        # Store big ones as a checksum plus the head and tail.
        entry = {"seed": seed, "n": n}
        if n <= 1000:
            entry["perm"] = x
        else:
            entry["head"] = x[:50]
            entry["tail"] = x[-50:]
            entry["weighted_sum"] = int(sum(i * v for i, v in enumerate(x)) % (2**61 - 1))
        perms.append(entry)
    with open(os.path.join(PRE, "shuffle.json"), "w") as f:
        json.dump({"numpy_version": np.__version__, "raw": raw, "shuffles": perms}, f)
        f.write("\n")


def pixel_refs():
    import keras
    import tensorflow as tf
    arrays = {}
    cases = []

    def case(name, **kw):
        kw.setdefault("shuffle", False)
        kw.setdefault("batch_size", None)
        out = io.StringIO()
        entry = {"name": name, "args": {k: v for k, v in kw.items()}}
        try:
            with contextlib.redirect_stdout(out):
                ds = keras.utils.image_dataset_from_directory(TREE, **kw)
                xs = []
                it = ds if kw.get("labels", "inferred") is None else ds.map(lambda x, y: x)
                for x in it:
                    xs.append(np.asarray(x, dtype=np.float32))
            x = np.stack(xs)
            entry["file_paths"] = [os.path.relpath(p, TREE) for p in ds.file_paths]
            entry["dtype"] = str(ds.element_spec[0].dtype.name) if isinstance(ds.element_spec, tuple) else str(ds.element_spec.dtype.name)
            arrays[name] = x
            entry["shape"] = list(x.shape)
        except Exception as e:  # noqa: BLE001
            entry["error"] = str(e).split("\n")[0]
        cases.append(entry)
        print(name, entry.get("error") or entry["shape"], file=sys.stderr)

    interps = ["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"]
    for ip in interps:
        case(f"rgb_{ip}", image_size=(5, 6), interpolation=ip)
    for ip in ("bilinear", "nearest", "bicubic", "area", "lanczos3"):
        case(f"rgb_{ip}_up", image_size=(16, 13), interpolation=ip, class_names=["Zebra"])
    for ip in ("bilinear", "nearest", "area"):
        case(f"crop_{ip}", image_size=(4, 5), interpolation=ip, crop_to_aspect_ratio=True)
        case(f"pad_{ip}", image_size=(4, 5), interpolation=ip, pad_to_aspect_ratio=True, class_names=["Zebra", "cats"])
        case(f"err_pad_{ip}", image_size=(4, 5), interpolation=ip, pad_to_aspect_ratio=True)
    for cm in ("grayscale", "rgba"):
        case(f"{cm}_bilinear", image_size=(7, 8), color_mode=cm, class_names=["Zebra", "dogs"])
        case(f"{cm}_nearest", image_size=(5, 5), color_mode=cm, class_names=["Zebra"], interpolation="nearest")
    case("grayscale_all", image_size=(5, 5), color_mode="grayscale")
    case("rgba_all", image_size=(5, 5), color_mode="rgba")
    case("rgb_same_size", image_size=(7, 9), class_names=["Zebra"])
    np.savez_compressed(os.path.join(PRE, "pixels.npz"), **arrays)
    with open(os.path.join(PRE, "pixels.json"), "w") as f:
        json.dump({"keras_version": keras.__version__, "tf_version": tf.__version__, "cases": cases}, f, indent=1)
        f.write("\n")


def standardize_refs():
    from tf_keras.preprocessing.image import ImageDataGenerator
    rng = np.random.RandomState(3)
    x = rng.randint(0, 256, (4, 6, 5, 3)).astype(np.float32)
    x[3] = 17  # a constant image: std 0
    out = {"x": x}
    for name, kw in {
        "rescale": dict(rescale=1 / 255.0),
        "center": dict(samplewise_center=True),
        "std": dict(samplewise_std_normalization=True),  # implies centring
        "rescale_center_std": dict(rescale=1 / 255.0, samplewise_center=True, samplewise_std_normalization=True),
    }.items():
        g = ImageDataGenerator(**kw)
        out[name] = np.stack([g.standardize(np.copy(v)) for v in x])
    # The course's tf.data map: image / 255.
    out["div255"] = (x / np.float32(255.0)).astype(np.float32)
    np.savez_compressed(os.path.join(PRE, "standardize.npz"), **out)


def main():
    os.makedirs(PRE, exist_ok=True)
    build_tree()
    shuffle_refs()
    file_order_refs()
    pixel_refs()
    standardize_refs()


if __name__ == "__main__":
    main()
