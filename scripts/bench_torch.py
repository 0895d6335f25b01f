#!/usr/bin/env python3
"""Time PyTorch's VGG16 forward pass on random weights, one configuration
per process (so that the peak RSS printed is that configuration's).

The network is Keras's VGG16 (keras.applications.VGG16, include_top=True)
written in torch.nn: 13 3x3 "same" ReLU convolutions in 5 blocks, 2x2 max
pooling, fc1/fc2 (4096, ReLU) and a 1000-way softmax, 138,357,544
parameters. Weights are random (the speed does not depend on them).

Configurations (--config):
  eager           NCHW tensors, torch.inference_mode
  channels_last   NHWC memory format (oneDNN's preferred layout for convs)
  mkldnn          torch.utils.mkldnn.to_mkldnn: weights and activations as
                  oneDNN blocked tensors (convolutions only; the classifier
                  runs on dense tensors)
  jit             torch.jit.trace + torch.jit.freeze +
                  torch.jit.optimize_for_inference (folds in oneDNN)
  jit_cl          jit on channels_last input

Prints one JSON line: config, batch, threads, ms per image (best of
--repeat timed runs after warm-up, and the median), peak RSS in MiB
(ru_maxrss), torch version.
"""
import argparse
import json
import resource
import statistics
import sys
import time


def build(torch):
    nn = torch.nn
    layers = []
    c = 3
    for f, n in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        for _ in range(n):
            layers += [nn.Conv2d(c, f, 3, padding=1), nn.ReLU(inplace=True)]
            c = f
        layers.append(nn.MaxPool2d(2, 2))
    features = nn.Sequential(*layers)
    classifier = nn.Sequential(
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, 1000), nn.Softmax(dim=1))
    return features, classifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="eager",
                    choices=["eager", "channels_last", "mkldnn", "jit", "jit_cl"])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()

    import torch
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    features, classifier = build(torch)
    features.eval()
    classifier.eval()
    x = torch.rand(a.batch, 3, 224, 224)

    if a.config in ("channels_last", "jit_cl"):
        features = features.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    if a.config == "mkldnn":
        from torch.utils import mkldnn as mkldnn_utils
        features = mkldnn_utils.to_mkldnn(features)

        def fwd(inp):
            y = features(inp.to_mkldnn()).to_dense()
            return classifier(y)
    elif a.config in ("jit", "jit_cl"):
        full = torch.nn.Sequential(features, classifier).eval()
        with torch.inference_mode(False), torch.no_grad():
            traced = torch.jit.trace(full, x)
            traced = torch.jit.freeze(traced)
            traced = torch.jit.optimize_for_inference(traced)
        fwd = traced
    else:
        def fwd(inp):
            return classifier(features(inp))

    times = []
    ctx = torch.no_grad if a.config.startswith("jit") else torch.inference_mode
    with ctx():
        for i in range(a.warmup + a.repeat):
            t0 = time.perf_counter()
            y = fwd(x)
            dt = time.perf_counter() - t0
            if i >= a.warmup:
                times.append(dt)
    assert tuple(y.shape) == (a.batch, 1000), y.shape
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({
        "impl": "pytorch",
        "config": a.config,
        "batch": a.batch,
        "threads": torch.get_num_threads(),
        "ms_per_image": round(min(times) * 1000 / a.batch, 2),
        "median_ms_per_image": round(statistics.median(times) * 1000 / a.batch, 2),
        "peak_rss_mib": round(rss, 1),
        "torch": torch.__version__,
        "mkldnn": torch.backends.mkldnn.is_available(),
    }))


if __name__ == "__main__":
    sys.exit(main())
