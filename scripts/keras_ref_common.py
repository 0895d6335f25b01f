"""Shared helpers for the Keras reference generators (keras_ref_layers.py, keras_ref_summary.py).

Run the generators through scripts/gen_reference.sh; this module is not a script.

What lives here:
  * environment setup (quiet TensorFlow, CPU only, tensorflow backend for Keras 3);
  * `classic_summary(model)`: the model.summary() text of tf.keras 2.0-2.6, produced by the REAL
    `print_summary` function of the keras 2.6.0 wheel from PyPI (downloaded once into
    .venv/keras-2.6.0/, sha256-checked, never committed), executed on tf_keras model objects;
  * `native_summary(model)`: the summary text the installed Keras (tf_keras or Keras 3) prints;
  * small JSON / file helpers.
"""

import ast
import hashlib
import json
import os
import subprocess
import sys
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
os.environ.setdefault("PYTHONHASHSEED", "0")
# Keras 3 sizes its summary table from the terminal width; pin the "no terminal" width (80 -> 76
# columns) so the output does not depend on who runs the script.
os.environ["COLUMNS"] = "80"
os.environ["LINES"] = "24"

import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KERAS26_VERSION = "2.6.0"
KERAS26_WHEEL = "keras-2.6.0-py2.py3-none-any.whl"
KERAS26_SHA256 = "504af5656a9829fe803ce48a8580ef16916e89906aceddad9e098614269437e7"
KERAS26_DIR = os.environ.get("KERAS26_DIR", os.path.join(REPO, ".venv", "keras-2.6.0"))


def quiet_tf():
    """Imports TensorFlow with its logging silenced and returns the module."""
    import logging

    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass
    import warnings

    warnings.filterwarnings("ignore")
    return tf


def versions():
    """Versions of everything that influences the reference data."""
    import platform

    import h5py
    import keras
    import tensorflow as tf
    import tf_keras

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "tf_keras": tf_keras.__version__,
        "keras3": keras.__version__,
        "h5py": h5py.__version__,
        "keras3_backend": keras.backend.backend(),
    }


def _keras26_wheel_path():
    path = os.path.join(KERAS26_DIR, KERAS26_WHEEL)
    if not os.path.exists(path):
        os.makedirs(KERAS26_DIR, exist_ok=True)
        print(f"downloading keras=={KERAS26_VERSION} wheel into {KERAS26_DIR}", file=sys.stderr)
        subprocess.check_call(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "-d", KERAS26_DIR, f"keras=={KERAS26_VERSION}"],
            stdout=sys.stderr,
        )
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != KERAS26_SHA256:
        raise SystemExit(f"{path}: sha256 {digest} != expected {KERAS26_SHA256}")
    return path


_classic = None


def classic_print_summary():
    """Returns keras 2.6.0's own `print_summary` (keras/utils/layer_utils.py), loaded from the wheel.

    Only the two functions `print_summary` and `count_params` are taken from the file (with the
    ast module); they are compiled with the file name, so tracebacks point into the wheel's
    source, and run with `tf` = tensorflow.compat.v2 and `np` = numpy, the only globals they use.
    """
    global _classic
    if _classic is None:
        tf = quiet_tf()
        with zipfile.ZipFile(_keras26_wheel_path()) as z:
            src = z.read("keras/utils/layer_utils.py").decode("utf-8")
        tree = ast.parse(src)
        keep = [n for n in tree.body
                if isinstance(n, ast.FunctionDef) and n.name in ("print_summary", "count_params")]
        if len(keep) != 2:
            raise SystemExit("keras 2.6.0 layer_utils.py: print_summary/count_params not found")
        for n in keep:  # drop the @keras_export decorators (TF API registration only)
            n.decorator_list = []
        mod = ast.Module(body=keep, type_ignores=[])
        ns = {"tf": tf.compat.v2, "np": np, "__name__": "keras26_layer_utils"}
        exec(compile(mod, f"keras-{KERAS26_VERSION}/keras/utils/layer_utils.py", "exec"), ns)
        _classic = ns["print_summary"]
    return _classic


def _join(lines):
    return "\n".join(lines) + "\n"


def classic_summary(model):
    """The tf.keras 2.0-2.6 summary text of a tf_keras model (newline-joined, final newline)."""
    lines = []
    classic_print_summary()(model, print_fn=lines.append)
    return _join(lines)


def native_summary(model):
    """The summary text the model's own Keras prints (tf_keras 2.16+ or Keras 3)."""
    chunks = []

    def print_fn(text, *args, **kwargs):
        if kwargs.get("line_break", True):
            text = text + "\n"
        chunks.append(text)

    model.summary(print_fn=print_fn)
    # Keras 3 hands print_fn the whole table as one string that already ends in a newline; keep
    # exactly one final newline, as the console shows it.
    return "".join(chunks).rstrip("\n") + "\n"


def json_safe(obj):
    """Converts Keras config values (numpy scalars/arrays, tuples) into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) or obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if hasattr(obj, "numpy"):
        return json_safe(np.asarray(obj.numpy()))
    return repr(obj)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=False)
        f.write("\n")


def write_text(path, text):
    with open(path, "w", newline="\n") as f:
        f.write(text)


def rel(path):
    return os.path.relpath(path, REPO)
