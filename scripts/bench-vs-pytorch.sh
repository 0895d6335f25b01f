#!/usr/bin/env bash
# VGG16 inference speed and memory: this project's Go forward pass next to
# PyTorch's, measured in one run, interleaved (the machine may be shared).
#
#   scripts/bench-vs-pytorch.sh [--batches 1,8] [--rounds 5] [--repeat 3]
#                               [--threads N] [--go-variants]
#                               [--weights FILE] [--json-out FILE]
#
# Both run VGG16 with the classifier on random 224×224×3 inputs and random
# weights, with the same number of threads (default: all cores; Go through
# GOMAXPROCS, PyTorch through torch.set_num_threads). PyTorch is tried in
# each configuration of scripts/bench_torch.py (eager, channels_last,
# oneDNN/mkldnn tensors, TorchScript trace+freeze+optimize_for_inference,
# the latter on channels_last) and the fastest is kept. The table gives
# ms/image, peak RSS and the Go/PyTorch ratios (scripts/bench_compare.py).
# --weights FILE also times loading a real weights file into Go (e.g.
# /tmp/kerago-vgg16/vgg16_top.h5 from scripts/vgg16_imagenet_layout.py);
# without it, that file is used when present.
#
# PyTorch: the Debian package python3-torch (system /usr/bin/python3) is
# used when importable, else any python3 with torch; when neither is found
# the script installs python3-torch with apt-get (as root), else falls back
# to `pip install torch` (large: PyPI's default wheel pulls CUDA libraries).
set -euo pipefail
cd "$(dirname "$0")/.."

args=("$@")
has_weights=0
for a in "$@"; do [ "$a" = "--weights" ] && has_weights=1; done
if [ "$has_weights" = 0 ] && [ -f /tmp/kerago-vgg16/vgg16_top.h5 ]; then
  args+=(--weights /tmp/kerago-vgg16/vgg16_top.h5)
fi

find_torch_python() {
  for py in /usr/bin/python3 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import torch' 2>/dev/null; then
      command -v "$py"
      return 0
    fi
  done
  return 1
}

if ! PY=$(find_torch_python); then
  echo "PyTorch not found; installing it" >&2
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch >&2
  else
    python3 -m pip install torch >&2
  fi
  PY=$(find_torch_python) || { echo "could not install PyTorch" >&2; exit 1; }
fi
echo "PyTorch: $("$PY" -c 'import torch; print(torch.__version__, "from", torch.__file__)') via $PY"
if command -v dpkg-query >/dev/null; then
  dpkg-query -W -f='         Debian package ${Package} ${Version}\n' python3-torch 2>/dev/null || true
fi

BIN=$(mktemp -d)/vgg16
trap 'rm -rf "$(dirname "$BIN")"' EXIT
go build -o "$BIN" ./cmd/vgg16
echo "Go:      $(go version), binary $BIN"
echo "CPU:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"

"$PY" scripts/bench_compare.py --go-bin "$BIN" --python "$PY" "${args[@]}"
