#!/usr/bin/env bash
# Full-size VGG16 check against real Keras.
#
# 1. Unless it is already there, writes the reference with real Keras
#    (tf_keras) into $KERAGO_VGG16_DIR (default /tmp/kerago-vgg16, outside the
#    repository, ~0.7 GB): a random-weight VGG16 saved in the exact layout of
#    Keras's ImageNet files (553 MB with the top, 59 MB without), two photos
#    of shared/keras-corpus converted to PNG, and Keras's output of every layer
#    on them (scripts/vgg16_imagenet_layout.py).
# 2. Runs the Go test that loads those files and compares every layer, from
#    block1_conv1 to predictions, within 1e-4 * max|keras|, printing the worst
#    error per layer, the load time and the peak RSS.
#
# Needs python3 with tensorflow, tf_keras, h5py and pillow.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${KERAGO_VGG16_DIR:-/tmp/kerago-vgg16}"
if [ ! -f "$DIR/manifest.json" ]; then
  echo "writing the Keras reference into $DIR (a minute or two)"
  python3 scripts/vgg16_imagenet_layout.py --out "$DIR"
fi
KERAGO_VGG16_DIR="$DIR" go test -count=1 -timeout 30m -run 'TestFullSize' -v ./vgg16/ ./cmd/vgg16/
