#!/usr/bin/env bash
# Measures `vgg16 evaluate` on a generated 10,000-image folder: peak memory
# (RSS) and images per second, and checks that memory stays flat by
# comparing with a 1,000-image subset. Not part of CI.
#
#   scripts/bench_dataset.sh [WORKDIR]     (default: a temporary folder)
#
# The images are JPEGs like the course's cats and dogs (random crops of the
# 20 cat/dog photos of ../shared/keras-corpus/images, 300 to 500 pixels a
# side, quality 90; synthetic gradients when the corpus is absent), in two
# class folders. The model is the course's Exercise 5 network at its real
# size, 160x160 (3.3 million parameters, untrained: speed does not depend on
# the weights), written by tf.keras with a training config.
# Needs: Go, /usr/bin/time, python3 with Pillow and tf_keras (or the
# TF_USE_LEGACY_KERAS tf.keras).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
mkdir -p "$work"
echo "work folder: $work"

python3 - "$work" <<'EOF'
import glob, os, sys
import numpy as np
from PIL import Image
work = sys.argv[1]
photos = sorted(glob.glob("../shared/keras-corpus/images/cat.*.jpg") + glob.glob("../shared/keras-corpus/images/dog.*.jpg"))
rng = np.random.RandomState(0)
def make(n, dst):
    if os.path.isdir(dst) and sum(len(f) for _, _, f in os.walk(dst)) == n:
        return
    for c in ("cats", "dogs"):
        os.makedirs(os.path.join(dst, c), exist_ok=True)
    srcs = [Image.open(p).convert("RGB") for p in photos]
    for i in range(n):
        cls = ("cats", "dogs")[i % 2]
        if srcs:
            im = srcs[(i // 2) % 10 + (10 if cls == "dogs" and len(srcs) == 20 else 0)]
            w, h = im.size
            cw, ch = rng.randint(w * 3 // 4, w + 1), rng.randint(h * 3 // 4, h + 1)
            x, y = rng.randint(0, w - cw + 1), rng.randint(0, h - ch + 1)
            out = im.crop((x, y, x + cw, y + ch))
            if rng.rand() < 0.5:
                out = out.transpose(Image.FLIP_LEFT_RIGHT)
        else:
            w, h = rng.randint(300, 501), rng.randint(300, 501)
            yy, xx = np.mgrid[0:h, 0:w]
            a = np.stack([xx * 255 // w, yy * 255 // h, (xx + yy + i) % 256], -1).astype(np.uint8)
            out = Image.fromarray(a, "RGB")
        out.save(os.path.join(dst, cls, f"{cls[:-1]}.{i:05d}.jpg"), quality=90)
make(1000, os.path.join(work, "data1k"))
make(10000, os.path.join(work, "data10k"))
EOF

if [ ! -f "$work/exercise5_160.h5" ]; then
TF_CPP_MIN_LOG_LEVEL=3 TF_USE_LEGACY_KERAS=1 python3 - "$work/exercise5_160.h5" <<'EOF' 2>/dev/null
import sys
import tensorflow as tf
tf.keras.utils.set_random_seed(1)
inp = tf.keras.Input(shape=(160, 160, 3))
x = tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inp)
x = tf.keras.layers.MaxPooling2D()(x)
x = tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
x = tf.keras.layers.MaxPooling2D()(x)
x = tf.keras.layers.Conv2D(64, 3, padding="same", activation="relu")(x)
x = tf.keras.layers.Flatten()(x)
x = tf.keras.layers.Dense(32, activation="relu")(x)
out = tf.keras.layers.Dense(1, activation="sigmoid")(x)
m = tf.keras.Model(inp, out)
m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
m.save(sys.argv[1])
EOF
fi

go build -o "$work/vgg16" ./cmd/vgg16
for n in 1k 10k; do
	/usr/bin/time -v "$work/vgg16" evaluate --no-progress --json --model "$work/exercise5_160.h5" \
		--data "$work/data$n" --rescale 1/255 >"$work/eval$n.json" 2>"$work/time$n.txt"
	rss=$(grep "Maximum resident" "$work/time$n.txt" | awk '{print $NF}')
	ips=$(python3 -c "import json; print('%.1f' % json.load(open('$work/eval$n.json'))['images_per_second'])")
	echo "$n images: peak RSS $((rss / 1024)) MiB, $ips images/s (GOMAXPROCS $(nproc))"
done
# Decoding and resizing alone (no model): the dataset pipeline's share.
(cd preprocess && go test -run '^$' -bench 'BenchmarkDatasetIter' -benchtime 2x . | grep -E 'Benchmark|ok')
