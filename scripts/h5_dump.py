#!/usr/bin/env python3
"""h5_dump.py - independent reference for keras/internal/h5 (Go), produced with h5py.

Usage (from the repository root):

    python3 scripts/h5_dump.py            # writes keras/internal/h5/testdata/{synthetic.h5,corpus_dump.json}
    python3 scripts/h5_dump.py --check-writer GO_FILE OPS.json   # used by the Go writer test

0. Writes keras/internal/h5/testdata/huge_decl.h5 (datasets declaring 256 GiB / 4 GiB in a tiny file)
   and extlink.h5 (an external link to synthetic.h5:/data, which the Go reader must not follow).
1. Writes keras/internal/h5/testdata/synthetic.h5 with h5py: dtypes and encodings the corpus lacks
   (float64, float16, ints, big-endian float32, bfloat16 the way Keras 3 stores it, gzip-chunked,
   scalar and empty datasets, UTF-8 / NULLTERM / SPACEPAD strings, chunked layer_names0/1, numeric
   attrs, a soft link).
2. Dumps, for each listed corpus file (read in place from ../shared/keras-corpus) and for the
   model.weights.h5 member of some .keras zips, every group (members in h5py order), every attribute
   (type, shape, charset, decoded values) and every dataset (shape, dtype, and a SHA-256 of the data
   converted by numpy to little-endian float32, plus the first values' float32 bit patterns and the
   float64 sum) into keras/internal/h5/testdata/corpus_dump.json.

The Go tests compare the Go reader against this file; nothing in it comes from the Go code.

--check-writer replays a list of write operations (JSON, made by the Go test) with h5py the way Keras
writes them (Keras's own save_attributes_to_hdf5_group when importable) and prints, as JSON, a
low-level description (HDF5 type class/size/charset/padding, shapes, storage layout, values) of both
the Go-written file and that Keras-style file, for the Go test to compare.
Type names follow the Go package: "str" (variable-length string), "S<n>" (fixed), "float32",
"int64", "uint16", "V<n>" (opaque), and "bfloat16" for a 2-byte dataset with attr dtype="bfloat16".
"""

import hashlib
import io
import json
import os
import sys
import zipfile

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.normpath(os.path.join(ROOT, "..", "shared", "keras-corpus"))
OUTDIR = os.path.join(ROOT, "keras", "internal", "h5", "testdata")

# Corpus files (relative to keras-corpus), one per era/encoding. "x.keras!member" = a zip member.
FILES = [
    "keras1/dl4j_k1_batchnorm_conv2d_tf.h5",  # Keras 1.2.2: |S20 layer_names, vlen ASCII model_config
    "keras1/keras2cpp_my_nn_weights.h5",  # root layer_names only, float64[0] weight_names
    "keras1/dl4j_k1_conv2d_theano.h5",
    "keras2/hls4ml_KERAS_conv2d_model_weights.h5",  # Keras 2.0.0 weights-only, nested scope groups
    "keras2/dl4j_12net_mtcnn_pnet.h5",  # Keras 2.2.0, PReLU1_1 scope
    "keras2/dl4j_sepconv2d_tf2.h5",
    "tfkeras/dl4j_tfkeras_cnn2d_113_conv2dtranspose.h5",  # UTF-8 root keras_version
    "tfkeras/mlperftiny_str_ww_ref_model.h5",  # tf.keras 2.14: vlen string arrays
    "keras3/himal_mnist_cnn.h5",  # Keras 3.10 legacy h5
    "keras3/himal_mnist_weights.weights.h5",  # Keras 3 weights store: no root attrs, vars groups
    "keras3/krishna_unet_model.keras!model.weights.h5",
    "tfkeras/mpnunez_gan_generator_tfkeras2.13.keras!model.weights.h5",
]

MAX_INLINE = 4000  # string attributes longer than this (in total) are given by hash only
FIRST = 6  # number of leading dataset values recorded


def type_name(t):
    """Name an h5py low-level TypeID like the Go package does."""
    cls = t.get_class()
    size = t.get_size()
    if cls == h5py.h5t.STRING:
        return "str" if t.is_variable_str() else "S%d" % size
    if cls == h5py.h5t.FLOAT:
        return "float%d" % (8 * size)
    if cls == h5py.h5t.INTEGER:
        return ("int%d" if t.get_sign() == h5py.h5t.SGN_2 else "uint%d") % (8 * size)
    if cls == h5py.h5t.OPAQUE:
        return "V%d" % size
    return "class%d" % cls


def to_str(x):
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def dump_attr(obj, name):
    aid = obj.attrs.get_id(name)
    t = aid.get_type()
    shape = aid.shape
    out = {"dtype": type_name(t), "shape": None if shape is None else list(shape)}
    cls = t.get_class()
    value = obj.attrs[name]
    if cls == h5py.h5t.STRING:
        out["charset"] = "UTF-8" if t.get_cset() == h5py.h5t.CSET_UTF8 else "ASCII"
        vals = [to_str(v) for v in np.asarray(value, dtype=object).reshape(-1)]
        if t.get_strpad() == h5py.h5t.STR_SPACEPAD and not t.is_variable_str():
            out["strpad"] = "space"
        joined = "\x00".join(vals)
        out["count"] = len(vals)
        out["sha256"] = hashlib.sha256(joined.encode("utf-8")).hexdigest()
        if len(joined) <= MAX_INLINE:
            out["values"] = vals
    elif cls in (h5py.h5t.FLOAT, h5py.h5t.INTEGER):
        out["values"] = [float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1)]
    return out


def dump_dataset(ds):
    t = ds.id.get_type()
    dtype = type_name(t)
    base = {"dtype": dtype, "shape": None if ds.shape is None else list(ds.shape),
            "chunked": ds.chunks is not None, "filtered": ds.compression is not None}
    if t.get_class() not in (h5py.h5t.FLOAT, h5py.h5t.INTEGER, h5py.h5t.OPAQUE):
        return base  # not numeric: the Go reader must refuse it
    is_bf16 = "dtype" in ds.attrs and to_str(ds.attrs["dtype"]) == "bfloat16"
    raw = ds[()]
    if is_bf16 and t.get_size() == 2:
        dtype = "bfloat16"
        import ml_dtypes  # only needed for files with bfloat16 datasets

        raw = np.asarray(raw).view(np.uint16).view(ml_dtypes.bfloat16)
    with np.errstate(over="ignore", invalid="ignore"):  # 1e300 -> inf, as a float32 cast does
        f32 = np.ascontiguousarray(np.asarray(raw).astype("<f4"))
    flat = f32.reshape(-1)
    with np.errstate(invalid="ignore"):
        s = float(np.sum(flat, dtype=np.float64))
    if t.get_class() == h5py.h5t.OPAQUE and dtype != "bfloat16":
        return base
    base["dtype"] = dtype
    base.update({
        "sha256_f32le": hashlib.sha256(f32.tobytes()).hexdigest(),
        "first_bits": [int(b) for b in flat[:FIRST].view("<u4")],
        "sum": s if np.isfinite(s) else None,
    })
    return base


def dump_file(f):
    objs = {}

    def attrs_of(obj):
        return {n: dump_attr(obj, n) for n in sorted(obj.attrs.keys())}

    def visit(name, obj):
        path = "/" + name if name else "/"
        if isinstance(obj, h5py.Group):
            members = []
            for k in obj.keys():
                link = obj.get(k, getlink=True)
                child = obj.get(k)
                kind = "group" if isinstance(child, h5py.Group) else "dataset" if isinstance(child, h5py.Dataset) else "other"
                members.append({"name": k, "kind": kind, "soft": isinstance(link, h5py.SoftLink)})
            objs[path] = {"kind": "group", "members": members, "attrs": attrs_of(obj)}
        elif isinstance(obj, h5py.Dataset):
            d = dump_dataset(obj)
            d.update({"kind": "dataset", "attrs": attrs_of(obj)})
            objs[path] = d

    visit("", f)
    f.visititems(visit)  # visits each object once (not through soft links)
    return objs


def open_entry(entry):
    if "!" in entry:
        zpath, member = entry.split("!", 1)
        with zipfile.ZipFile(os.path.join(CORPUS, zpath)) as z:
            data = z.read(member)
        return h5py.File(io.BytesIO(data), "r")
    return h5py.File(os.path.join(CORPUS, entry), "r")


def write_synthetic(path):
    rng = np.random.default_rng(20240611)
    with h5py.File(path, "w") as f:
        f.attrs["utf8_scalar"] = "Grüße, κόσμε"  # str -> vlen UTF-8
        f.attrs["ascii_scalar"] = b"plain bytes"  # bytes -> vlen ASCII
        f.attrs["fixed_scalar"] = np.bytes_(b"fixed")  # numpy |S5 scalar
        f.attrs["fixed_array"] = np.array([b"conv2d_1", b"", b"dense"], dtype="S12")
        f.attrs["vlen_utf8_array"] = np.array(["a", "ß", "日本"], dtype=h5py.string_dtype("utf-8"))
        f.attrs["vlen_ascii_array"] = np.array([b"x", b"yz"], dtype=h5py.string_dtype("ascii"))
        f.attrs["empty_f64"] = np.array([])
        f.attrs["empty_fixed"] = np.array([], dtype="S3")
        f.attrs["int_scalar"] = np.int64(-7)
        f.attrs["int_array"] = np.array([1, 2, 3], dtype=np.int32)
        f.attrs["float_matrix"] = np.array([[1.5, -2.0], [3.25, 1e300]])
        # Keras's chunked attribute lists.
        f.attrs["layer_names0"] = np.array([b"a", b"bb"], dtype="S2")
        f.attrs["layer_names1"] = np.array([b"c"], dtype="S2")
        # NULLTERM and SPACEPAD fixed strings, via the low-level API.
        for name, pad in (("nullterm", h5py.h5t.STR_NULLTERM), ("spacepad", h5py.h5t.STR_SPACEPAD)):
            t = h5py.h5t.C_S1.copy()
            t.set_size(6)
            t.set_strpad(pad)
            space = h5py.h5s.create_simple((2,))
            a = h5py.h5a.create(f.id, name.encode(), t, space)
            data = [b"ab", b"cdefgh"] if pad == h5py.h5t.STR_NULLTERM else [b"ab    ", b"cd    "]
            a.write(np.array(data, dtype="S6"), mtype=t)

        g = f.create_group("data")
        g.create_dataset("f32", data=rng.standard_normal((3, 4, 5)).astype(np.float32))
        g.create_dataset("f64", data=rng.standard_normal((7, 3)) * 1e3)
        g.create_dataset("f64_extreme", data=np.array([1e300, -1e300, 1e-300, 0.1, np.inf, -np.inf, np.nan]))
        g.create_dataset("f16", data=np.array([0.0, -0.0, 1.5, 65504, 6e-8, -2.5e-5, np.inf, 0.1], dtype=np.float16))
        g.create_dataset("i64", data=np.array([-(2**40) - 1, -1, 0, 3, 2**24 + 1], dtype=np.int64))
        g.create_dataset("u8", data=np.arange(250, 256, dtype=np.uint8))
        g.create_dataset("i16", data=np.array([[-32768, 32767], [5, -5]], dtype=np.int16))
        g.create_dataset("f32_be", data=rng.standard_normal((4, 2)).astype(">f4"))
        g.create_dataset("gzip", data=rng.standard_normal((32, 16)).astype(np.float32), chunks=(8, 8), compression="gzip")
        g.create_dataset("scalar", data=np.float32(3.5))
        g.create_dataset("scalar_i64", data=np.int64(42))
        g.create_dataset("empty", data=np.zeros((0, 3), dtype=np.float32))
        g.create_dataset("strings", data=np.array([b"no", b"floats"], dtype="S6"))
        g.create_dataset("nested/deeper/w:0", data=np.array([1.0, 2.0], dtype=np.float32))
        try:
            import ml_dtypes

            bf = np.array([1.5, -2.25, 3.0e38, 1e-40, -0.0, 7.0, 0.333], dtype=np.float32).astype(ml_dtypes.bfloat16)
            # Exactly Keras 3 H5IOStore.__setitem__: create_dataset(data=bf16 array) + attrs["dtype"].
            ds = g.create_dataset("bf16", data=bf)
            ds.attrs["dtype"] = "bfloat16"
            # The same bits as uint16 + dtype attr (another plausible writer).
            ds = g.create_dataset("bf16_u16", data=bf.view(np.uint16).reshape(7, 1))
            ds.attrs["dtype"] = "bfloat16"
        except ImportError:
            print("h5_dump.py: ml_dtypes missing, no bfloat16 datasets", file=sys.stderr)
        g["link_to_f32"] = h5py.SoftLink("/data/f32")
        f.create_group("empty_group")


def write_huge_decl(path):
    """Datasets declaring far more data than the file holds (storage never allocated)."""
    with h5py.File(path, "w") as f:
        f.create_dataset("declared_256GiB", shape=(2**36,), dtype="<f4")
        f.create_dataset("gzip_4GiB", shape=(2**30,), dtype="<f4", chunks=(2**20,), compression="gzip")


# ---- --check-writer: used by the Go test TestWriteReadableByH5py --------------------------------


def describe_type(t):
    d = {"class": int(t.get_class()), "size": int(t.get_size())}
    if t.get_class() == h5py.h5t.STRING:
        d["vlen"] = bool(t.is_variable_str())
        d["cset"] = int(t.get_cset())
        d["strpad"] = int(t.get_strpad())
    if t.get_class() in (h5py.h5t.INTEGER, h5py.h5t.FLOAT):
        d["order"] = int(t.get_order())
    return d


def describe(path):
    """Low-level description of every object: HDF5 type properties, shapes, layout, values."""
    objs = {}
    with h5py.File(path, "r") as f:

        def attrs_of(obj):
            out = {}
            for n in obj.attrs.keys():
                aid = obj.attrs.get_id(n)
                v = obj.attrs[n]
                arr = np.asarray(v, dtype=object if aid.get_type().get_class() == h5py.h5t.STRING else np.float64)
                vals = [to_str(x) if isinstance(x, (bytes, str)) else float(x) for x in arr.reshape(-1)]
                out[n] = {"type": describe_type(aid.get_type()), "shape": list(aid.shape), "values": vals}
            return out

        def visit(name, obj):
            p = "/" + name if name else "/"
            if isinstance(obj, h5py.Group):
                objs[p] = {"kind": "group", "attrs": attrs_of(obj)}
            else:
                dcpl = obj.id.get_create_plist()
                objs[p] = {
                    "kind": "dataset",
                    "attrs": attrs_of(obj),
                    "type": describe_type(obj.id.get_type()),
                    "numpy": obj.dtype.str,
                    "shape": list(obj.shape),
                    "layout": int(dcpl.get_layout()),
                    "nfilters": int(dcpl.get_nfilters()),
                    "values": [float(x) for x in np.asarray(obj[()], dtype=np.float64).reshape(-1)],
                }

        visit("", f)
        f.visititems(visit)
    return objs


def keras_save_attributes():
    """Keras's own save_attributes_to_hdf5_group if importable, else a transcription of it."""
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from keras.src.legacy.saving.legacy_h5_format import save_attributes_to_hdf5_group

        import keras

        return save_attributes_to_hdf5_group, "keras %s legacy_h5_format.save_attributes_to_hdf5_group" % keras.__version__
    except Exception as e:  # noqa: BLE001 - any import failure: use the transcription
        limit = 64512  # HDF5_OBJECT_HEADER_LIMIT

        def save(group, name, data):
            if any(len(x) > limit for x in data):
                raise RuntimeError("attribute too large")
            data_npy = np.asarray(data)
            num_chunks = 1
            chunked = np.array_split(data_npy, num_chunks)
            while any(x.nbytes > limit for x in chunked):
                num_chunks += 1
                chunked = np.array_split(data_npy, num_chunks)
            if num_chunks > 1:
                for i, c in enumerate(chunked):
                    group.attrs["%s%d" % (name, i)] = c
            else:
                group.attrs[name] = data

        return save, "transcription of Keras's save_attributes_to_hdf5_group (keras not importable: %s)" % e


def replay_keras_style(ops, path):
    """Write the ops with h5py exactly as Keras 2 / legacy Keras 3 code does."""
    save_attrs, source = keras_save_attributes()
    with h5py.File(path, "w") as f:
        for op in ops:
            kind = op["op"]
            if kind == "group":
                f.create_group(op["path"])
                continue
            obj = f[op["path"]]
            name = op["name"]
            if kind == "str":
                # Keras 2: attrs["keras_version"] = str(v).encode("utf8") (bytes -> ASCII);
                # tf.keras >= 2.2.4-tf root attrs: a Python str (-> UTF-8).
                v = op["value"]
                obj.attrs[name] = v if op["charset"] == "UTF-8" else v.encode("utf8")
            elif kind in ("fixed", "list"):
                # Keras 2: save_attributes_to_hdf5_group(g, "weight_names", [n.encode("utf8") ...]).
                # The h5py 2.x of that era stored a list of bytes as numpy.asarray(list), dtype |S<n>;
                # h5py 3.x stores a list as variable-length strings instead (the vlen layer_names of
                # tf.keras 2.14 files). We write the Keras 2 form, so pass the numpy array.
                data = np.asarray([v.encode("utf8") for v in op.get("values", [])])
                if kind == "list":
                    save_attrs(obj, name, data)
                else:
                    obj.attrs[name] = data
            elif kind == "empty":
                obj.attrs[name] = []  # what Keras stores for a layer without weights
            elif kind == "f32":
                # Keras 2 save_weights_to_hdf5_group: create_dataset(name, val.shape, dtype=val.dtype), then assign.
                val = np.array(op["data"], dtype=np.float32).reshape(op.get("shape", []))
                d = obj.create_dataset(name, val.shape, dtype=val.dtype)
                if not val.shape:
                    d[()] = val
                else:
                    d[:] = val
            else:
                raise ValueError("unknown op %r" % kind)
    return source


def check_writer(go_file, ops_file):
    with open(ops_file) as fp:
        ops = json.load(fp)
    ref = go_file + ".keras_style.h5"
    source = replay_keras_style(ops, ref)
    json.dump({"go": describe(go_file), "keras": describe(ref), "keras_source": source}, sys.stdout)


def write_extlink(path):
    """A file whose member "ext" is an external link to synthetic.h5:/data (must not be followed)."""
    with h5py.File(path, "w") as f:
        f["ext"] = h5py.ExternalLink("synthetic.h5", "/data")
        f.create_group("local")
    with h5py.File(path, "r") as f:  # h5py itself does follow it
        assert f["ext/f32"].shape == (3, 4, 5)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check-writer":
        check_writer(sys.argv[2], sys.argv[3])
        return
    os.makedirs(OUTDIR, exist_ok=True)
    write_huge_decl(os.path.join(OUTDIR, "huge_decl.h5"))
    synth = os.path.join(OUTDIR, "synthetic.h5")
    write_synthetic(synth)
    out = {"h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version, "files": {}}
    for entry in FILES:
        if not os.path.exists(os.path.join(CORPUS, entry.split("!")[0])):
            print("h5_dump.py: skipping missing", entry, file=sys.stderr)
            continue
        with open_entry(entry) as f:
            out["files"][entry] = dump_file(f)
    write_extlink(os.path.join(OUTDIR, "extlink.h5"))
    with h5py.File(synth, "r") as f:
        out["files"]["synthetic.h5"] = dump_file(f)
    dst = os.path.join(OUTDIR, "corpus_dump.json")
    with open(dst, "w") as fp:
        json.dump(out, fp, sort_keys=True, separators=(",", ":"))
        fp.write("\n")
    print("wrote", dst, os.path.getsize(dst), "bytes and", synth, os.path.getsize(synth), "bytes")


if __name__ == "__main__":
    main()
