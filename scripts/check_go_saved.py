#!/usr/bin/env python3
"""check_go_saved.py - load files written by Go's keras.Save / keras.SaveWeights in REAL Keras.

Usage:
    python3 scripts/check_go_saved.py DIR [--tolerance 1e-5] [--keep-going]

DIR is made by the Go test TestSaveLoadsInRealKeras (keras/save_keras_test.go; run it with
KERAGO_SAVE_DIR=DIR to keep the files). DIR/manifest.json lists the cases; for each case <c>:

    <c>.h5            keras.Save, tf.keras 2.x legacy HDF5 (when the model has a tf.keras 2 form)
    <c>.keras         keras.Save, Keras 3 archive (when the model has a Keras 3 form)
    <c>_weights.h5    keras.SaveWeights, tf.keras 2.x legacy weights-only HDF5
    <c>.weights.h5    keras.SaveWeights, Keras 3 weight store
    <c>.in<i>.npy     the inputs (float32, batch first)
    <c>.out<k>.npy    what the Go model predicted on them

What is checked, per case:
  * tf_keras (tf.keras 2.x): load_model(<c>.h5) predicts the Go outputs; re-saving the loaded
    model with tf_keras gives the same model_config text, byte for byte, once the changes Go makes
    for Keras 3's sake are applied to tf_keras's text (keras3_compatible below); a clone of the
    model loads <c>_weights.h5 with load_weights and predicts the Go outputs.
  * Keras 3: load_model(<c>.h5) predicts the Go outputs (where the manifest names a known Keras 3
    issue - hard_sigmoid's new meaning, nested models in functional models of legacy .h5 files,
    which tf_keras's own files share - the outcome is reported, not judged);
    load_model(<c>.keras) predicts the Go outputs and re-saving it gives the same config.json
    (Keras's shared_object_id markers aside); clones load <c>.weights.h5 and <c>_weights.h5 and
    predict the Go outputs.

Error measure: max|go - keras| / max|keras| per output (absolute if keras is all zero); a check
fails above --tolerance. Prints one line per check with the versions used and the worst error,
and exits 1 if any check failed, 0 otherwise.
"""

import argparse
import json
import os
import sys
import tempfile
import warnings
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402


def quiet():
    import logging

    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass
    return tf


def rel_error(got, want):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf"), f"shape {got.shape} vs {want.shape}"
    diff = float(np.max(np.abs(got - want))) if want.size else 0.0
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    if np.isnan(diff):
        return float("inf"), "NaN"
    return (diff / scale if scale > 0 else diff), f"max|diff| {diff:.3g}"


# Arguments tf.keras writes into .h5 configs that Keras 3 refuses; Go's Save leaves them out (each
# has the value tf.keras uses when absent). Must match keras3Rejects in keras/save_config.go.
KERAS3_REJECTS = {
    "DepthwiseConv2D": ["groups"],
    "Conv2DTranspose": ["groups"],
    "SeparableConv2D": ["groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"],
    "SpatialDropout2D": ["trainable", "noise_shape"],
}


def keras3_compatible(cfg, nested=False):
    """Applies to a tf_keras model_config the changes Go's Save makes so that Keras 3 can read
    its .h5 files: no KERAS3_REJECTS arguments, BatchNormalization's axis as an integer in entries
    with a "module" key, and a bare [name, node, tensor] triple as
    input_layers/output_layers of a nested model with one input/output (tf_keras writes a list of
    one triple, which makes Keras 3's nested model return a list)."""
    if isinstance(cfg, list):
        for x in cfg:
            keras3_compatible(x, nested)
    elif isinstance(cfg, dict):
        cls = cfg.get("class_name")
        c = cfg.get("config")
        if cls in KERAS3_REJECTS and isinstance(c, dict):
            for k in KERAS3_REJECTS[cls]:
                c.pop(k, None)
        if cls == "BatchNormalization" and "module" in cfg and isinstance(c.get("axis"), list) and len(c["axis"]) == 1:
            c["axis"] = c["axis"][0]  # Keras 3 reads an axis list only in legacy (module-less) entries
        if cls in ("Functional", "Model") and nested and isinstance(c, dict):
            for k in ("input_layers", "output_layers"):
                if isinstance(c.get(k), list) and len(c[k]) == 1 and isinstance(c[k][0], list):
                    c[k] = c[k][0]
        for k, x in cfg.items():
            keras3_compatible(x, nested or k == "layers")
    return cfg


def restore_trainable(model, cfg):
    """Sets trainable=False on the (nested) models whose config says so. Both tf_keras (.h5) and
    Keras 3 (.keras, nested Sequential) lose a nested model's own trainable flag when loading
    (their layers keep theirs), so a model must get it back before it is re-saved for comparison."""
    c = cfg.get("config", {}) if isinstance(cfg, dict) else {}
    if not isinstance(c, dict):
        return
    if c.get("trainable") is False and model.trainable:
        model.trainable = False
    for entry in c.get("layers", []) or []:
        if isinstance(entry, dict) and entry.get("class_name") in ("Functional", "Sequential", "Model"):
            name = entry.get("name") or entry.get("config", {}).get("name")
            sub = next((l for l in model.layers if l.name == name), None)
            if sub is not None:
                restore_trainable(sub, entry)


def drop_key(v, key):
    if isinstance(v, dict):
        v.pop(key, None)
        for x in v.values():
            drop_key(x, key)
    elif isinstance(v, list):
        for x in v:
            drop_key(x, key)
    return v


class Checker:
    def __init__(self, args):
        self.dir = args.dir
        self.tol = args.tolerance
        self.keep_going = args.keep_going
        self.failures = 0
        self.checks = 0
        self.worst = 0.0
        self.tmp = tempfile.mkdtemp(prefix="check_go_saved_")

    def report(self, case, what, ok, detail):
        self.checks += 1
        status = "ok  " if ok else "FAIL"
        print(f"{status} {case:24s} {what:44s} {detail}", flush=True)
        if not ok:
            self.failures += 1
            if not self.keep_going:
                raise SystemExit(1)

    def compare(self, case, what, preds, want):
        if not isinstance(preds, (list, tuple)):
            preds = [preds]
        if len(preds) != len(want):
            self.report(case, what, False, f"{len(preds)} outputs, Go has {len(want)}")
            return
        worst, notes = 0.0, []
        for k, (p, w) in enumerate(zip(preds, want)):
            e, note = rel_error(p, w)
            worst = max(worst, e)
            notes.append(f"out{k} {e:.2e} ({note})")
        self.worst = max(self.worst, worst)
        self.report(case, what, worst <= self.tol, f"rel err {worst:.2e}: " + "; ".join(notes))

    def path(self, name):
        return os.path.join(self.dir, name)


def run_tf_keras(ck, case, inputs, want):
    import tf_keras

    name = case["name"]
    if case.get("h5"):
        m = tf_keras.models.load_model(ck.path(name + ".h5"), compile=False)
        ck.compare(name, f"tf_keras {tf_keras.__version__} load_model(.h5)", m.predict(inputs, verbose=0), want)
        # Re-save with tf_keras: the model_config must be the text Go wrote.
        import h5py

        again = os.path.join(ck.tmp, name + ".tfkeras.h5")
        with h5py.File(ck.path(name + ".h5"), "r") as f:
            go_cfg = f.attrs["model_config"]
        restore_trainable(m, json.loads(go_cfg))
        m.save(again)
        with h5py.File(again, "r") as f:
            tf_cfg = f.attrs["model_config"]
        go_cfg = go_cfg.decode() if isinstance(go_cfg, bytes) else go_cfg
        tf_cfg = tf_cfg.decode() if isinstance(tf_cfg, bytes) else tf_cfg
        tf_cfg_raw = tf_cfg
        top = json.loads(tf_cfg)
        keras3_compatible(top.get("config"))
        tf_cfg = json.dumps(top)
        if case.get("tf_keras_cannot_resave"):
            ck.report(name, "tf_keras re-save: model_config", True,
                      f"not compared: {case['tf_keras_cannot_resave']}")
        elif go_cfg == tf_cfg:
            note = "identical" if tf_cfg == tf_cfg_raw else "identical after the Keras 3 compatibility changes"
            ck.report(name, "tf_keras re-save: model_config", True, f"{note} ({len(go_cfg)} bytes)")
        else:
            i = next((i for i, (a, b) in enumerate(zip(go_cfg, tf_cfg)) if a != b), min(len(go_cfg), len(tf_cfg)))
            ck.report(name, "tf_keras re-save: model_config", False,
                      f"differs at byte {i}:\n  go:       ...{go_cfg[max(0, i - 120):i + 120]}\n  tf_keras: ...{tf_cfg[max(0, i - 120):i + 120]}")
        if case.get("tf_keras_cannot_resave"):
            # clone_model serializes the model too: load the weights into a second copy instead.
            m2 = tf_keras.models.load_model(ck.path(name + ".h5"), compile=False)
            for w in m2.weights:
                w.assign(np.zeros(w.shape, w.dtype.as_numpy_dtype))
        else:
            m2 = tf_keras.models.clone_model(m)
        m2.load_weights(ck.path(name + "_weights.h5"))
        ck.compare(name, "tf_keras clone + load_weights(_weights.h5)", m2.predict(inputs, verbose=0), want)


def run_keras3(ck, case, inputs, want):
    import keras

    name = case["name"]
    v = keras.__version__
    h5_model = None
    if case.get("h5"):
        why = case.get("keras3_h5_known_issue")
        try:
            h5_model = keras.saving.load_model(ck.path(name + ".h5"), compile=False)
            preds = h5_model.predict(inputs, verbose=0)
        except Exception as e:  # noqa: BLE001 - reported
            if not why:
                raise
            msg = str(e).strip().splitlines()[0][:100]
            ck.report(name, f"keras {v} load_model(.h5)", True, f"KNOWN ISSUE, fails as expected: {why} ({msg})")
            h5_model = None
        else:
            if why:
                preds_l = preds if isinstance(preds, (list, tuple)) else [preds]
                e = max(rel_error(p, w)[0] for p, w in zip(preds_l, want))
                ck.report(name, f"keras {v} load_model(.h5)", True,
                          f"KNOWN ISSUE: {why}; it loaded anyway, rel err {e:.2e}")
            else:
                ck.compare(name, f"keras {v} load_model(.h5)", preds, want)
    k3_model = None
    if case.get("keras"):
        k3_model = keras.saving.load_model(ck.path(name + ".keras"), compile=False)
        ck.compare(name, f"keras {v} load_model(.keras)", k3_model.predict(inputs, verbose=0), want)
        again = os.path.join(ck.tmp, name + ".k3.keras")
        with zipfile.ZipFile(ck.path(name + ".keras")) as z:
            go_cfg = json.loads(z.read("config.json"))
        restore_trainable(k3_model, go_cfg)
        k3_model.save(again)
        with zipfile.ZipFile(again) as z:
            k3_cfg = json.loads(z.read("config.json"))
        drop_key(go_cfg, "shared_object_id")
        drop_key(k3_cfg, "shared_object_id")
        if go_cfg == k3_cfg:
            ck.report(name, "keras re-save: config.json", True, "identical (as JSON values)")
        else:
            a, b = json.dumps(go_cfg, sort_keys=True), json.dumps(k3_cfg, sort_keys=True)
            i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            ck.report(name, "keras re-save: config.json", False,
                      f"differs:\n  go:    ...{a[max(0, i - 150):i + 150]}\n  keras: ...{b[max(0, i - 150):i + 150]}")
        m2 = keras.models.clone_model(k3_model)
        m2.load_weights(ck.path(name + ".weights.h5"))
        ck.compare(name, f"keras {v} clone + load_weights(.weights.h5)", m2.predict(inputs, verbose=0), want)
    # The legacy weights file, into a Keras 3 model of the architecture.
    base = h5_model if h5_model is not None else k3_model
    if case.get("h5") and base is not None:
        m3 = keras.models.clone_model(base)
        m3.load_weights(ck.path(name + "_weights.h5"))
        preds = m3.predict(inputs, verbose=0)
        if case.get("keras3_reads_h5_differently") and base is h5_model:
            ck.report(name, f"keras {v} clone + load_weights(_weights.h5)", True, "loads (predictions not compared: hard_sigmoid)")
        else:
            ck.compare(name, f"keras {v} clone + load_weights(_weights.h5)", preds, want)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dir")
    ap.add_argument("--tolerance", type=float, default=1e-5)
    ap.add_argument("--keep-going", action="store_true", help="report every failure instead of stopping at the first")
    args = ap.parse_args()
    quiet()
    import keras
    import tf_keras

    ck = Checker(args)
    with open(ck.path("manifest.json")) as f:
        manifest = json.load(f)
    print(f"checking {len(manifest['cases'])} Go-saved models with tf_keras {tf_keras.__version__} and "
          f"keras {keras.__version__} (backend {keras.backend.backend()}), tolerance {ck.tol:g} relative",
          flush=True)
    for case in manifest["cases"]:
        name = case["name"]
        inputs = [np.load(ck.path(f"{name}.in{i}.npy")) for i in range(case["inputs"])]
        want = [np.load(ck.path(f"{name}.out{k}.npy")) for k in range(case["outputs"])]
        for label, fn in (("tf_keras", run_tf_keras), ("keras 3", run_keras3)):
            try:
                fn(ck, case, inputs, want)
            except SystemExit:
                raise
            except Exception as e:  # noqa: BLE001 - every failure is reported
                msg = " ".join(str(e).split())[:600]
                ck.report(name, f"{label}: exception", False, f"{type(e).__name__}: {msg}")
    print(f"{ck.checks} checks, {ck.failures} failed; worst prediction error {ck.worst:.2e} (relative to max|keras|)")
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
