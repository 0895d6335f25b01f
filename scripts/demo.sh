#!/usr/bin/env bash
# The kerago demo: builds the vgg16 CLI into ./bin/ and shows what VGG16 does
# to a picture, writing everything into ./out/:
#
#   out/sample.png                      a synthetic picture drawn by the CLI (no photo needed)
#   out/summary.txt                     VGG16's model.summary()
#   out/block1_conv1_filters.png        the 64 first-layer filters (+ one PNG per kernel in out/block1_conv1/)
#   out/block1_conv1_sample.png         the first layer's 64 feature maps on the picture
#   out/block5_conv3_sample.png         the last convolution's 512 feature maps
#   out/block5_conv3_sample.npy         the raw block5_conv3 output, shape (1, 14, 14, 512)
#   out/predictions.txt                 the top-5 ImageNet classes
#
# Weights: VGG16_WEIGHTS=FILE uses that file (e.g. a copy of Keras's
# vgg16_weights_tf_dim_ordering_tf_kernels.h5). Otherwise Keras's ImageNet
# weights are taken from Keras's cache (~/.keras/models, or $KERAS_HOME/models)
# and downloaded like Keras does when missing. Without network and without a
# cached copy, the demo says where to put the file and carries on with an
# UNTRAINED (random-weight) VGG16, labelled as such everywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

mkdir -p bin out
echo "== building the CLI into bin/vgg16"
go build -o bin/vgg16 ./cmd/vgg16
V=bin/vgg16

echo "== drawing a sample picture"
$V sample-image --out out/sample.png

echo "== VGG16 summary (keras.applications.VGG16(), no weights needed)"
$V summary | tee out/summary.txt

# Which weights: an explicit file, Keras's ImageNet files, or random.
conv_w=() top_w=() note=""
if [ -n "${VGG16_WEIGHTS:-}" ]; then
  echo "== using VGG16_WEIGHTS=$VGG16_WEIGHTS"
  conv_w=(--weights "$VGG16_WEIGHTS") top_w=(--weights "$VGG16_WEIGHTS")
else
  echo "== looking for Keras's ImageNet weights (convolutional base, 56 MB)"
  if notop=$($V weights --include-top=false); then
    conv_w=(--weights "$notop")
    echo "== looking for Keras's ImageNet weights with the classifier (528 MB)"
    if top=$($V weights); then
      top_w=(--weights "$top")
    else
      top_w=(--random-weights)
      note="predictions use RANDOM weights (the 528 MB ImageNet file is not available)"
    fi
  else
    conv_w=(--random-weights) top_w=(--random-weights)
    note="no ImageNet weights available (offline?): the demo uses an UNTRAINED VGG16 with RANDOM weights; its filters are noise and its predictions mean nothing. Put the files where the message above says, or run VGG16_WEIGHTS=/path/to/vgg16_weights_tf_dim_ordering_tf_kernels.h5 $0"
  fi
fi
[ -n "$note" ] && printf '\n!! %s\n\n' "$note"

echo "== first-layer filters"
$V filters "${conv_w[@]}" --layer block1_conv1 --out out
echo "== feature maps of an early layer (block1_conv1)"
$V featuremap "${conv_w[@]}" --image out/sample.png --layer block1_conv1 --out out
echo "== feature maps of a deep layer (block5_conv3)"
$V featuremap "${conv_w[@]}" --image out/sample.png --layer block5_conv3 --out out --colormap viridis --npy block5_conv3_sample.npy
echo "== predictions"
ci=()
if [ -f ../shared/keras-corpus/imagenet_class_index.json ]; then
  ci=(--class-index ../shared/keras-corpus/imagenet_class_index.json)
fi
$V predict "${top_w[@]}" "${ci[@]}" --image out/sample.png | tee out/predictions.txt

echo
echo "== done; files written:"
for f in out/sample.png out/summary.txt out/block1_conv1_filters.png out/block1_conv1/ \
         out/block1_conv1_sample.png out/block5_conv3_sample.png out/block5_conv3_sample.npy out/predictions.txt; do
  echo "  $PWD/$f"
done
[ -n "$note" ] && printf '\nNOTE: %s\n' "$note"
exit 0
