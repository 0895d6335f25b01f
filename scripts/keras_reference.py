#!/usr/bin/env python3
"""keras_reference.py - what REAL Keras computes, layer by layer, for a model file.

Usage:
    python3 scripts/keras_reference.py MODEL [--input X.npy ...] [--out REF.h5]
                                       [--keras 2|3] [--batch N] [--seed S] [--layers a,b]

Loads MODEL (.h5/.hdf5 written by model.save, or a .keras archive) in Keras, runs it on the
inputs and writes every layer's output to REF.h5 (default: MODEL's name + ".reference.h5").
Then, in Go:

    vgg16 verify --model MODEL --reference REF.h5

compares Go's output of every layer with Keras's (see cmd/vgg16/keras_cmds.go).

Which Keras: .keras archives and .h5 files whose keras_version is 3.x are run by Keras 3
(`import keras`, TensorFlow backend); other .h5 files by tf.keras 2.x (`import tf_keras`),
which gives the Keras 2 meaning to activations such as hard_sigmoid. --keras 2|3 overrides.

Inputs: --input X.npy once per model input, in model.inputs order, batch first (float32 or
float64 arrays shaped like the input, e.g. (1, 224, 224, 3)). Without --input, seeded
standard-normal inputs of batch --batch (default 2) are generated; they need a fully known
input shape.

REF.h5 layout ("kerago-activations/1", the layout `vgg16 activations` writes too):
    /                  attrs: format = "kerago-activations/1", model = MODEL's file name,
                       keras_module = "tf_keras" | "keras", keras_version, backend,
                       layer_names = the stored layers, in model.layers order
    /inputs/<i>        float32, the i-th model input; attr name = the input layer's name
    /outputs/<layer>   float32, batch first, the layer's output exactly as Keras returns it
                       (channels_first layers stay NCHW); attr class_name.
                       For a layer called several times inside the model (a shared layer),
                       the output of its first call; a nested model gives its whole output.
"""

import argparse
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

FORMAT = "kerago-activations/1"


def which_keras(path, forced):
    if forced:
        return forced
    if path.lower().endswith(".keras"):
        return "3"
    import h5py

    with h5py.File(path, "r") as f:
        v = f.attrs.get("keras_version", b"")
    v = v.decode() if isinstance(v, bytes) else str(v)
    return "3" if v.startswith("3") else "2"


def layer_outputs_tf_keras(model, names):
    """First in-model call output of each layer (tf_keras)."""
    nodes = model._network_nodes
    outs = []
    for layer in model.layers:
        if names and layer.name not in names:
            continue
        for i, node in enumerate(layer._inbound_nodes):
            if f"{layer.name}_ib-{i}" in nodes:
                outs.append((layer, node.outputs))
                break
    return outs


def layer_outputs_keras3(model, names):
    """First in-model call output of each layer (Keras 3)."""
    from keras.src.models.functional import make_node_key

    func = getattr(model, "_functional", None) or model
    nodes = func._nodes
    outs = []
    for layer in model.layers:
        if names and layer.name not in names:
            continue
        for i, node in enumerate(layer._inbound_nodes):
            if make_node_key(layer, i) in nodes:
                outs.append((layer, node.output_tensors[0] if len(node.output_tensors) == 1 else node.output_tensors))
                break
    return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[], help="input .npy, once per model input")
    ap.add_argument("--out", help="reference file to write (default MODEL.reference.h5)")
    ap.add_argument("--keras", choices=["2", "3"], help="force tf.keras 2.x (2) or Keras 3 (3)")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--layers", help="comma-separated layer names (default: all)")
    args = ap.parse_args()

    import h5py

    kv = which_keras(args.model, args.keras)
    if kv == "3":
        import keras as K

        module = "keras"
        model = K.saving.load_model(args.model, compile=False)
    else:
        import tf_keras as K

        module = "tf_keras"
        model = K.models.load_model(args.model, compile=False)
    backend = K.backend.backend()

    if args.input:
        if len(args.input) != len(model.inputs):
            sys.exit(f"the model has {len(model.inputs)} inputs, {len(args.input)} --input given")
        xs = [np.load(p).astype(np.float32) for p in args.input]
    else:
        rng = np.random.default_rng(args.seed)
        xs = []
        for t in model.inputs:
            shape = [int(d) if d is not None else None for d in t.shape[1:]]
            if None in shape:
                sys.exit(f"input {t.name} has shape {t.shape}: give --input")
            xs.append(rng.standard_normal([args.batch] + shape).astype(np.float32))

    names = [n for n in (args.layers or "").split(",") if n]
    known = {l.name for l in model.layers}
    for n in names:
        if n not in known:
            sys.exit(f"the model has no layer {n!r}")
    pairs = layer_outputs_keras3(model, names) if kv == "3" else layer_outputs_tf_keras(model, names)
    probe = K.Model(model.inputs, [t for _, t in pairs])
    outs = probe.predict(xs, verbose=0)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]

    out = args.out or os.path.splitext(args.model)[0] + ".reference.h5"
    with h5py.File(out, "w") as f:
        f.attrs["format"] = FORMAT
        f.attrs["model"] = os.path.basename(args.model)
        f.attrs["keras_module"] = module
        f.attrs["keras_version"] = K.__version__
        f.attrs["backend"] = backend
        f.attrs["layer_names"] = [l.name.encode() for l, _ in pairs]
        for i, (x, t) in enumerate(zip(xs, model.inputs)):
            d = f.create_dataset(f"inputs/{i}", data=x)
            d.attrs["name"] = t.name.split(":")[0] if module == "tf_keras" else t._keras_history[0].name
        for (layer, _), y in zip(pairs, outs):
            d = f.create_dataset(f"outputs/{layer.name}", data=np.asarray(y, dtype=np.float32))
            d.attrs["class_name"] = layer.__class__.__name__
    print(f"{out}: {len(pairs)} layer outputs from {module} {K.__version__} ({backend}), "
          f"inputs {[list(x.shape) for x in xs]}")


if __name__ == "__main__":
    main()
