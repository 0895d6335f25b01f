#!/usr/bin/env python3
"""Cross-checks testdata/ref against plain NumPy formulas, one per layer kind.

This is the executable statement of the exact Keras semantics the reference data show (padding
split, pooling borders, bilinear half-pixel sampling, Conv2DTranspose placement, activation
formulas in tf_keras vs Keras 3, ...). It needs only numpy, reads only the .npy files and
manifest.json written by keras_ref_layers.py, and exits non-zero if any layer output disagrees
with its formula by more than 1e-5 (relative to max(1, |value|)). Every layer of every case is
checked; a layer kind without a formula here is an error, so new cases cannot slip through.
"""

import json
import math
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(REPO, "testdata", "ref")
TOL = 1e-5

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def activation(name, x, keras3=False):
    """Activation formulas. keras3: Keras 3 semantics where they differ (hard_sigmoid)."""
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "sigmoid":
        return sigmoid(x)
    if name == "hard_sigmoid":
        # tf_keras: clip(0.2x + 0.5, 0, 1); Keras 3: relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1).
        return np.clip(x / 6.0 + 0.5, 0, 1) if keras3 else np.clip(0.2 * x + 0.5, 0, 1)
    if name == "softmax":
        return softmax(x, -1)
    if name == "log_softmax":
        return np.log(softmax(x, -1))
    if name == "tanh":
        return np.tanh(x)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(x))
    if name == "selu":
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))
    if name == "softplus":
        return np.log1p(np.exp(x))
    if name == "softsign":
        return x / (1 + np.abs(x))
    if name == "exponential":
        return np.exp(x)
    if name in ("swish", "silu"):
        return x * sigmoid(x)
    if name == "gelu":  # approximate=False in both tf_keras and Keras 3
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    if name == "leaky_relu":  # activation function: negative slope 0.2
        return np.where(x >= 0, x, 0.2 * x)
    if name == "relu6":
        return np.clip(x, 0, 6)
    if name == "mish":
        return x * np.tanh(np.log1p(np.exp(x)))
    if name == "hard_silu":
        return x * np.clip(x / 6.0 + 0.5, 0, 1)
    raise KeyError(name)


def pad_amounts(n, k, s, d, padding):
    """(before, after, out) along one axis. 'same': out = ceil(n/s), total pad
    max((out-1)*s + k_eff - n, 0), the odd pixel goes after (bottom/right)."""
    ke = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0, (n - ke) // s + 1
    out = -(-n // s)
    total = max((out - 1) * s + ke - n, 0)
    return total // 2, total - total // 2, out


def windows(x, k, s, d, padding, fill):
    """Yields (ky, kx, patch) with patch[n, i, j, c] = padded x at the window tap (ky, kx)."""
    n, h, w, c = x.shape
    pt, pb, oh = pad_amounts(h, k[0], s[0], d[0], padding)
    pl, pr, ow = pad_amounts(w, k[1], s[1], d[1], padding)
    xp = np.full((n, h + pt + pb, w + pl + pr, c), fill, dtype=np.float64)
    xp[:, pt:pt + h, pl:pl + w, :] = x
    for ky in range(k[0]):
        for kx in range(k[1]):
            y0, x0 = ky * d[0], kx * d[1]
            yield ky, kx, xp[:, y0:y0 + (oh - 1) * s[0] + 1:s[0], x0:x0 + (ow - 1) * s[1] + 1:s[1], :]


def conv2d(x, w, b, cfg):
    out = 0
    for ky, kx, p in windows(x, w.shape[:2], cfg["strides"], cfg["dilation_rate"], cfg["padding"], 0.0):
        out = out + np.einsum("nhwc,co->nhwo", p, w[ky, kx])
    return out if b is None else out + b


def depthwise(x, w, cfg):
    out = 0
    for ky, kx, p in windows(x, w.shape[:2], cfg["strides"], cfg["dilation_rate"], cfg["padding"], 0.0):
        out = out + p[..., :, None] * w[ky, kx]  # (n,h,w,c,m)
    n, h, wd, c, m = out.shape
    return out.reshape(n, h, wd, c * m)  # output channel = c*depth_multiplier + m


def pool(x, cfg, op):
    k, s = cfg["pool_size"], cfg["strides"]
    taps = np.stack([p for _, _, p in windows(x, k, s, (1, 1), cfg["padding"], np.nan)])
    # Padding never takes part: max over real pixels only, mean divides by the real-pixel count.
    return np.nanmax(taps, axis=0) if op == "max" else np.nanmean(taps, axis=0)


def conv_transpose(x, w, b, cfg):
    """Keras Conv2DTranspose = gradient of Conv2D. Output length per axis:
    output_padding None: valid n*s + max(k - s, 0), same n*s;
    otherwise (n-1)*s + k - 2*(k//2 if same else 0) + output_padding.
    Placement: out[i*s + t - before] += x[i] * w[t] with before = total//2 for 'same', where
    total = max((n-1)*s + k - out, 0), else 0; taps falling outside [0, out) are dropped."""
    n, h, wd, _ = x.shape
    kh, kw, co, _ = w.shape
    s, padding, op = cfg["strides"], cfg["padding"], cfg["output_padding"]

    def length(nn, k, st, o):
        if o is None:
            return nn * st + max(k - st, 0) if padding == "valid" else nn * st
        return (nn - 1) * st + k - 2 * (k // 2 if padding == "same" else 0) + o

    oh = length(h, kh, s[0], None if op is None else op[0])
    ow = length(wd, kw, s[1], None if op is None else op[1])
    bt = max((h - 1) * s[0] + kh - oh, 0) // 2 if padding == "same" else 0
    bl = max((wd - 1) * s[1] + kw - ow, 0) // 2 if padding == "same" else 0
    big = np.zeros((n, (h - 1) * s[0] + kh + oh, (wd - 1) * s[1] + kw + ow, co))
    for ky in range(kh):
        for kx in range(kw):
            contrib = np.einsum("nhwc,oc->nhwo", x, w[ky, kx])
            big[:, ky:ky + (h - 1) * s[0] + 1:s[0], kx:kx + (wd - 1) * s[1] + 1:s[1], :] += contrib
    out = big[:, bt:bt + oh, bl:bl + ow, :]
    return out if b is None else out + b


def bilinear_axis(n_in, n_out):
    """TF resize bilinear, half_pixel_centers=True, no antialias (what UpSampling2D uses):
    src = (dst + 0.5) * n_in/n_out - 0.5; lo = max(floor(src), 0); hi = min(ceil(src), n_in-1);
    weight of hi = src - floor(src)."""
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    f = np.floor(src)
    lo = np.maximum(f, 0).astype(int)
    hi = np.minimum(np.ceil(src), n_in - 1).astype(int)
    return lo, hi, src - f


def upsample(x, cfg):
    sh, sw = cfg["size"]
    if cfg["interpolation"] == "nearest":
        return x.repeat(sh, axis=1).repeat(sw, axis=2)
    n, h, w, c = x.shape
    lo, hi, t = bilinear_axis(h, h * sh)
    rows = x[:, lo] * (1 - t)[None, :, None, None] + x[:, hi] * t[None, :, None, None]
    lo, hi, t = bilinear_axis(w, w * sw)
    return rows[:, :, lo] * (1 - t)[None, None, :, None] + rows[:, :, hi] * t[None, None, :, None]


def batchnorm(x, ws, cfg):
    ws = list(ws)
    gamma = ws.pop(0) if cfg["scale"] else 1.0
    beta = ws.pop(0) if cfg["center"] else 0.0
    mean, var = ws
    return (x - mean) / np.sqrt(var + cfg["epsilon"]) * gamma + beta


def relu_layer(x, cfg):
    mx, slope, thr = cfg["max_value"], cfg["negative_slope"], cfg["threshold"]
    # x >= max_value -> max_value; threshold <= x < max_value -> x; x < threshold -> slope*(x - threshold)
    y = np.where(x >= thr, x, slope * (x - thr))
    return y if mx is None else np.where(x >= mx, mx, y)


def as_pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def crop_or_pad(x, cfg, pad):
    key = "padding" if pad else "cropping"
    (t, b), (l, r) = [as_pair(v) for v in cfg[key]]
    if pad:
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    return x[:, t:x.shape[1] - b, l:x.shape[2] - r, :]


def compute(layer, ins, ws, keras3):
    cls, cfg = layer["class_name"], layer["config"]
    x = ins[0] if ins else None
    act = lambda y: activation(cfg.get("activation", "linear"), y, keras3)  # noqa: E731
    if cls == "Conv2D":
        return act(conv2d(x, ws[0], ws[1] if cfg["use_bias"] else None, cfg))
    if cls == "DepthwiseConv2D":
        y = depthwise(x, ws[0], cfg)
        return act(y + ws[1] if cfg["use_bias"] else y)
    if cls == "SeparableConv2D":
        y = depthwise(x, ws[0], cfg)
        y = np.einsum("nhwc,co->nhwo", y, ws[1][0, 0])
        return act(y + ws[2] if cfg["use_bias"] else y)
    if cls == "Conv2DTranspose":
        return act(conv_transpose(x, ws[0], ws[1] if cfg["use_bias"] else None, cfg))
    if cls == "Dense":
        return act(np.tensordot(x, ws[0], axes=([-1], [0])) + (ws[1] if cfg["use_bias"] else 0))
    if cls == "Activation":
        return act(x)
    if cls == "MaxPooling2D":
        return pool(x, cfg, "max")
    if cls == "AveragePooling2D":
        return pool(x, cfg, "avg")
    if cls == "GlobalAveragePooling2D":
        return x.mean(axis=(1, 2))
    if cls == "GlobalMaxPooling2D":
        return x.max(axis=(1, 2))
    if cls in ("Flatten",):
        return x.reshape(x.shape[0], -1)  # row-major over (H, W, C)
    if cls == "Reshape":
        return x.reshape((x.shape[0],) + tuple(cfg["target_shape"]))
    if cls == "Dropout":
        return x
    if cls == "BatchNormalization":
        return batchnorm(x, ws, cfg)
    if cls == "ZeroPadding2D":
        return crop_or_pad(x, cfg, True)
    if cls == "Cropping2D":
        return crop_or_pad(x, cfg, False)
    if cls == "UpSampling2D":
        return upsample(x, cfg)
    if cls == "Rescaling":
        return x * cfg["scale"] + cfg["offset"]
    if cls == "Add":
        return sum(ins)
    if cls == "Concatenate":
        return np.concatenate(ins, axis=cfg["axis"])
    if cls == "ReLU":
        return relu_layer(x, cfg)
    if cls == "LeakyReLU":
        a = cfg.get("alpha", cfg.get("negative_slope"))
        return np.where(x >= 0, x, a * x)
    if cls == "PReLU":
        return np.maximum(x, 0) + ws[0] * np.minimum(x, 0)
    if cls == "ELU":
        return np.where(x > 0, x, cfg["alpha"] * np.expm1(x))
    if cls == "Softmax":
        return softmax(x, cfg["axis"])
    return None


def check_case(d):
    m = json.load(open(os.path.join(d, "manifest.json")))
    keras3 = m["keras3_only"]
    load = lambda f: np.load(os.path.join(d, f)).astype(np.float64)  # noqa: E731
    # (layer name, keras node index, tensor index) -> file, to resolve inbound connections.
    files = {(i["name"], 0, 0): i["file"] for i in m["inputs"]}
    for layer in m["layers"]:
        for node in layer["nodes"]:
            for t, o in enumerate(node["outputs"]):
                files[(layer["name"], node["keras_node_index"], t)] = o["file"]
    worst, bad = 0.0, []
    for layer in m["layers"]:
        ws = [load(w["file"]) for w in layer["weights"]]
        for node in layer["nodes"]:
            got = load(node["outputs"][0]["file"])
            ins = [load(files[tuple(i)]) for i in node["inbound"]]
            if layer["class_name"] == "InputLayer":
                want = load(files[(layer["name"], 0, 0)])  # == the input_<i>.npy of that name
                files[(layer["name"], 0, 0)] = node["outputs"][0]["file"]
            elif "sublayers" in layer:
                want = run_nested(layer, ws, ins)
            else:
                want = compute(layer, ins, ws, keras3)
            if want is None:
                bad.append(f"{layer['name']}: no formula for {layer['class_name']}")
                continue
            if want.shape != got.shape:
                bad.append(f"{layer['name']}: shape {want.shape} vs Keras {got.shape}")
                continue
            err = float(np.max(np.abs(want - got) / np.maximum(1.0, np.abs(got)))) if got.size else 0.0
            worst = max(worst, err)
            if err > TOL:
                bad.append(f"{layer['name']} ({layer['class_name']}): rel err {err:.3g}")
    return m, worst, bad


def run_nested(layer, ws, ins):
    """Runs a nested Sequential/Functional chain (sublayers in order) with the flat weight list."""
    x = ins[0]
    ws = list(ws)
    for sub in layer["sublayers"]:
        if sub["class_name"] == "InputLayer":
            continue
        mine = [ws.pop(0) for _ in sub["weights"]]
        x = compute(sub, [x], mine, False)
    return x


def main():
    failed = False
    for name in sorted(os.listdir(REF)):
        d = os.path.join(REF, name)
        if not os.path.isfile(os.path.join(d, "manifest.json")):
            continue
        m, worst, bad = check_case(d)
        print(f"check {name}: {len(m['layers'])} layers ({m['reference']}), worst rel err {worst:.2e}"
              + ("" if not bad else " FAIL"))
        for b in bad:
            print("   ", b)
        failed |= bool(bad)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
