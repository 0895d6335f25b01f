#!/usr/bin/env python3
"""model.summary() references computed with REAL Keras -> testdata/summary/.

Run via scripts/gen_reference.sh (optional arguments: model names to regenerate only those).

For every model below (built with tf_keras, after clear_session(), so layer names are the fresh-session
names input_1, conv2d, conv2d_1, ...):
  <name>.txt              classic tf.keras 2.0-2.6 summary: the print_summary function of the real
                          keras 2.6.0 wheel (see keras_ref_common.py) run on the tf_keras model; exactly
                          the printed lines (trailing spaces kept), newline-joined, final newline
  <name>.json             params (total/trainable/non-trainable), per-layer name, class, output shape,
                          params, "Connected to" entries, the model source, versions
  <name>.tfkeras216.txt   the installed tf_keras's own summary (2.13+ wrapping format, memory sizes)
  <name>.keras3.txt       Keras 3 summary of the same model rebuilt with Keras 3 (76 columns, the
                          no-terminal default)
The models mirror the course (shared/seed): its Conv2D/MaxPool2D/Flatten/GlobalAveragePooling2D/Dense
steps on a 1000x1500x3 image, Exercise 5, VGG16 variants, plus the toy ResNet of the Keras functional
API guide, a Sequential model with BatchNormalization and a transfer-learning model. Published
facts (VGG16 138,357,544 / 23 rows, notop 14,714,688, course 644 and 3,300,449, toy ResNet 223,242)
are asserted.
"""

import inspect
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_ref_common as C  # noqa: E402

tf = C.quiet_tf()
import keras as k3  # noqa: E402
import numpy as np  # noqa: E402
import tf_keras as k2  # noqa: E402

OUT = os.path.join(C.REPO, "testdata", "summary")

MODELS = []


def model(name, expect=None, note=""):
    """Registers a builder. expect: facts to assert on the classic text ({"total": n, "rows": n, ...})."""

    def deco(fn):
        MODELS.append(dict(name=name, build=fn, expect=expect or {}, note=note))
        return fn

    return deco


IMG_SHAPE = (1000, 1500, 3)  # the course's img.shape[1:] ("Tamaño de imagen original: (1, 1000, 1500, 3)")


@model("course_conv", {"total": 224}, "course: Conv2D(filters=8, kernel_size=(3, 3)), defaults strides 1 / valid")
def build_course_conv(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3))(input_layer)
    model = Model(inputs=[input_layer], outputs=[layer_conv])
    return model


@model("course_conv_stride", {"total": 224}, "course: strides=(2, 2) -> (None, 499, 749, 8)")
def build_course_conv_stride(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2))(input_layer)
    model = Model(inputs=[input_layer], outputs=[layer_conv])
    return model


@model("course_conv_same", {"total": 224}, "course: strides=(2, 2), padding='same' -> (None, 500, 750, 8)")
def build_course_conv_same(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding="same")(input_layer)
    model = Model(inputs=[input_layer], outputs=[layer_conv])
    return model


@model("course_conv_activation_layer", {"total": 224},
       "course: the activation as a separate Activation('relu') layer shows up as its own row")
def build_course_conv_activation_layer(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding="same")(input_layer)
    act = layers.Activation("relu")(layer_conv)
    model = Model(inputs=[input_layer], outputs=[act])
    return model


@model("course_maxpool", {"total": 224}, "course: + MaxPool2D(pool_size=(2, 2)) (class MaxPooling2D)")
def build_course_maxpool(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding="same",
                               activation="relu")(input_layer)
    pool = layers.MaxPool2D(pool_size=(2, 2))(layer_conv)
    model = Model(inputs=[input_layer], outputs=[pool])
    return model


@model("course_flatten", {"total": 224}, "course: + Flatten -> (None, 750000)")
def build_course_flatten(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding="same",
                               activation="relu")(input_layer)
    pool = layers.MaxPool2D(pool_size=(2, 2))(layer_conv)
    # Capa de flatten
    flatten = layers.Flatten()(pool)
    model = Model(inputs=[input_layer], outputs=[flatten])
    return model


@model("course_gap", {"total": 224}, "course: GlobalAveragePooling2D instead of Flatten -> (None, 8)")
def build_course_gap(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding="same",
                               activation="relu")(input_layer)
    pool = layers.MaxPool2D(pool_size=(2, 2))(layer_conv)
    # Capa de GlobalAveragePooling
    global_avg = layers.GlobalAveragePooling2D()(pool)
    model = Model(inputs=[input_layer], outputs=[global_avg])
    return model


@model("course_dense", {"total": 644}, "course: GlobalAveragePooling2D, Dense(32, relu), Dense(4, softmax)")
def build_course_dense(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=IMG_SHAPE)
    layer_conv = layers.Conv2D(filters=8, kernel_size=(3, 3), strides=(2, 2), padding="same",
                               activation="relu")(input_layer)
    pool = layers.MaxPool2D(pool_size=(2, 2))(layer_conv)

    global_avg = layers.GlobalAveragePooling2D()(pool)

    # Capa oculta
    dense_hidden = layers.Dense(32, activation='relu')(global_avg)
    # Capa de salida: suponemos problema de clasificación multiclas con 4 salidas
    dense_output = layers.Dense(4, activation='softmax')(dense_hidden)

    model = Model(inputs=[input_layer], outputs=[dense_output])
    return model


@model("course_exercise5", {"total": 3300449},
       "course Exercise 5 (the course shows only the expected summary; functional API as in its other examples)")
def build_course_exercise5(K):
    layers, Model = K.layers, K.Model
    input_layer = layers.Input(shape=(160, 160, 3))
    x = layers.Conv2D(16, (3, 3), padding="same", activation="relu")(input_layer)
    x = layers.MaxPool2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(32, (3, 3), padding="same", activation="relu")(x)
    x = layers.MaxPool2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(64, (3, 3), padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(32, activation="relu")(x)
    output = layers.Dense(1, activation="sigmoid")(x)
    model = Model(inputs=[input_layer], outputs=[output])
    return model


@model("vgg16", {"total": 138357544, "rows": 23, "input_row": "[(None, 224, 224, 3)]"})
def build_vgg16(K):
    return K.applications.VGG16(weights=None)


@model("vgg16_notop", {"total": 14714688, "rows": 19})
def build_vgg16_notop(K):
    return K.applications.VGG16(include_top=False, weights=None)


@model("vgg16_notop_160_avg", {"total": 14714688, "rows": 20})
def build_vgg16_notop_160_avg(K):
    return K.applications.VGG16(include_top=False, weights=None, input_shape=(160, 160, 3), pooling="avg")


@model("toy_resnet", {"total": 223242, "width": 98}, "Keras functional API guide, 'A toy ResNet model'")
def build_toy_resnet(K):
    keras, layers = K, K.layers
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)

    model = keras.Model(inputs, outputs, name="toy_resnet")
    return model


@model("sequential_batchnorm", {"total": 56481, "non_trainable": 96},
       "Sequential with Rescaling and BatchNormalization (moving mean/variance are non-trainable)")
def build_sequential_batchnorm(K):
    layers = K.layers
    model = K.Sequential([
        K.Input(shape=(160, 160, 3)),
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(1, activation="sigmoid"),
    ])
    return model


@model("transfer_vgg16", {"total": 14727489, "non_trainable": 14714688},
       "transfer learning: frozen VGG16 notop (160x160) as the first layer of a Sequential")
def build_transfer_vgg16(K):
    layers = K.layers
    base_model = K.applications.VGG16(include_top=False, weights=None, input_shape=(160, 160, 3))
    base_model.trainable = False
    model = K.Sequential([
        base_model,
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])
    return model


# ---------------------------------------------------------------------------------------------


def count(weights):
    return int(sum(int(np.prod(w.shape)) for w in {id(w): w for w in weights}.values()))


def connections(model, layer):
    relevant = [n for v in model._nodes_by_depth.values() for n in v]
    out = []
    for node in layer._inbound_nodes:
        if relevant and node not in relevant:
            continue
        for il, ni, ti, _ in node.iterate_inbound():
            out.append(f"{il.name}[{ni}][{ti}]")
    return out


def output_shape(layer):
    try:
        return layer.output_shape
    except AttributeError:
        return "multiple"


def check(name, text, info, expect):
    lines = text.splitlines()
    width = len(lines[1])
    rows = len(info["layers"])
    got = {"total": info["total_params"], "non_trainable": info["non_trainable_params"], "rows": rows,
           "width": width}
    for k, v in expect.items():
        if k == "input_row":
            if not any(line.startswith("input_1 (InputLayer)") and v in line for line in lines):
                raise SystemExit(f"{name}: no input row with {v}")
        elif got[k] != v:
            raise SystemExit(f"{name}: {k} = {got[k]}, expected {v}")
    if f"Total params: {info['total_params']:,}" not in lines:
        raise SystemExit(f"{name}: classic text lacks 'Total params: {info['total_params']:,}'")


def main(argv):
    vers = C.versions()
    want = set(argv)
    unknown = want - {m["name"] for m in MODELS}
    if unknown:
        raise SystemExit(f"unknown model(s): {sorted(unknown)}; known: {[m['name'] for m in MODELS]}")
    os.makedirs(OUT, exist_ok=True)
    total = 0
    for m in MODELS:
        if want and m["name"] not in want:
            continue
        name = m["name"]
        k2.backend.clear_session()
        mod = m["build"](k2)
        text = C.classic_summary(mod)
        layers = []
        for layer in mod.layers:
            shp = output_shape(layer)
            layers.append({
                "name": layer.name,
                "class_name": layer.__class__.__name__,
                "output_shape": str(shp),
                "output_shape_json": C.json_safe(shp) if shp != "multiple" else None,
                "params": int(layer.count_params()),
                "trainable": bool(layer.trainable),
                "connected_to": connections(mod, layer),
            })
        trainable = count(mod.trainable_weights)
        non_trainable = count(mod.non_trainable_weights)
        info = {
            "name": name,
            "note": m["note"],
            "model_name": mod.name,
            "model_class": mod.__class__.__name__,
            "classic_format": "tf.keras 2.0-2.6: keras " + C.KERAS26_VERSION
                              + " print_summary run on tf_keras " + vers["tf_keras"] + " model objects",
            "line_length": len(text.splitlines()[1]),
            "total_params": trainable + non_trainable,
            "trainable_params": trainable,
            "non_trainable_params": non_trainable,
            "layers": layers,
            "expect_asserted": m["expect"],
            "versions": vers,
            "source": inspect.getsource(m["build"]).splitlines(),
            "files": {"classic": name + ".txt", "tf_keras_native": name + ".tfkeras216.txt",
                      "keras3": name + ".keras3.txt"},
        }
        check(name, text, info, m["expect"])
        files = {name + ".txt": text, name + ".tfkeras216.txt": C.native_summary(mod)}
        del mod
        k2.backend.clear_session()
        k3.backend.clear_session()
        m3 = m["build"](k3)
        files[name + ".keras3.txt"] = C.native_summary(m3)
        info["keras3_total_params"] = int(m3.count_params())
        del m3
        k3.backend.clear_session()
        for fn, t in files.items():
            C.write_text(os.path.join(OUT, fn), t)
        C.write_json(os.path.join(OUT, name + ".json"), info)
        size = sum(os.path.getsize(os.path.join(OUT, f)) for f in list(files) + [name + ".json"])
        total += size
        print(f"wrote {C.rel(OUT)}/{name}.{{txt,json,tfkeras216.txt,keras3.txt}}: {size} bytes, "
              f"Total params {info['total_params']:,}")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
