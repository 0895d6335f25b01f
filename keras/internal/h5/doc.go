// Package h5 is the small HDF5 layer under package keras: it reads and writes
// the parts of HDF5 that Keras files use, through the libhdf5 C library.
//
// # What Keras puts in HDF5
//
// An HDF5 file is a tree of groups (directories) holding datasets
// (n-dimensional arrays) and attributes (small named values attached to any
// group or dataset). Keras uses it in three ways:
//
//   - legacy full models (.h5): root attributes model_config (JSON), keras_version,
//     backend; a group model_weights with one group per layer whose attribute
//     weight_names lists datasets such as "conv2d_1/kernel:0";
//   - legacy weights-only files: the same layer groups at the root;
//   - Keras 3 weight stores (.weights.h5, and model.weights.h5 inside a .keras zip):
//     groups layers/<name>/vars holding datasets "0", "1", ...
//
// The string attributes come in several encodings, depending on the Keras,
// h5py and numpy versions that wrote them: scalar variable-length strings
// (ASCII or UTF-8), arrays of fixed-length NUL-padded strings (numpy |S<n>),
// arrays of variable-length strings, and — for "no weights" — an empty float64
// array. Object.Strings reads all of them as []string, and Object.StringList
// also joins the name0, name1, ... chunks Keras writes for long lists.
//
// # API in brief
//
//	f, err := h5.Open("model.h5")             // or OpenImage(bytes), Create(path)
//	defer f.Close()
//	mw, err := f.Group("model_weights")
//	layers, err := mw.StringList("layer_names")
//	g, err := mw.Group(layers[0])
//	names, err := g.StringList("weight_names")
//	w, shape, err := f.ReadFloat32("model_weights/" + layers[0] + "/" + names[0])
//
// Group and Dataset are values naming a path in an open File; they hold no
// library handles (each call opens and closes what it needs) and need no
// closing. Every dataset is read as float32: float32 data goes straight into
// the result, float64/float16/integer data is converted by libhdf5 while
// reading, and Keras 3's bfloat16 (2-byte opaque data with attribute
// dtype="bfloat16") is widened in place. ReadFloat32Into fills a caller's
// buffer instead of allocating.
//
// Writing (Create, Group.CreateGroup, Group.WriteFloat32, Object.SetString,
// SetFixedStrings, SetEmptyFloat64, SetStringList) produces the layout Keras 2
// files have when written through h5py: contiguous little-endian float32
// datasets, vlen string scalars, |S<n> string arrays, float64[0] for empty
// lists, and Keras's chunking of long lists. A test compares, property by
// property, a file written here with the same content written by h5py and
// Keras's own save_attributes_to_hdf5_group.
//
// # Safety
//
//   - Errors: libhdf5's automatic printing of its error stack to stderr is
//     turned off; failures come back as Go errors that name the file, the
//     object path and the operation, and end with libhdf5's outermost and
//     innermost messages ("unable to open file: truncated file: eof = 1000,
//     ..."). ErrNotHDF5, ErrNotFound, ErrTooLarge, ErrCorrupt and ErrClosed can
//     be tested with errors.Is.
//   - Open checks the HDF5 signature before calling the library, so text files,
//     zips, directories and empty files get a clear error; truncated files are
//     caught by libhdf5's end-of-file check.
//   - Sizes: before allocating, a read is checked against a budget
//     (DefaultMaxBytes, File.SetMaxBytes) and, for uncompressed data, against
//     the file size, so a small corrupt file cannot make us allocate gigabytes.
//   - External links are never followed, so a file cannot make us open another.
//   - Concurrency: all calls into libhdf5 are serialised by one package mutex,
//     so a File may be shared between goroutines.
//
// Damaged files: libhdf5 1.10 (Debian's) trusts some structures that newer
// releases check. Corrupting bytes of real Keras files showed that damaged
// variable-length strings — their global heap collections, or the references
// to them stored in attributes — make it crash or loop forever. Before
// libhdf5 reads such a string, this package checks the collections (once per
// File, about 3 GB/s) and the attribute's stored references, and reports
// ErrCorrupt instead (heapcheck.go). With these checks, 1,600 copies of four
// corpus files with 1 to 8 random bytes changed all gave errors or readable
// files, no crash or hang (without them: 3 crashes and 2 hangs in 1,700).
// Fuzzing (FuzzOpen, FuzzLoad) found more, all fixed, reproducers kept in
// testdata/fuzz: files and images are read through a read-only driver of
// this package (vfd.c) that keeps libhdf5's metadata accumulator off, since
// its address arithmetic wraps around on a damaged address near 2^64, and
// checks every read's range itself; attributes and links are walked once
// without a table before H5Aiterate2 and H5Literate build one (shim.c);
// and before libhdf5 decodes a version-1 object header's attribute or link
// messages, this package checks them (parts inside the message, data no
// larger than the message, known link types, well-formed external links,
// variable-length base types of sane size, string references that name
// real collections). Deliberately crafted files may still find other
// libhdf5 bugs; only open files from sources you trust with a library of
// that age.
//
// # Building
//
// The package links libhdf5 and libhdf5_hl (Debian/Ubuntu: apt install
// libhdf5-dev). The cgo flags in cgo.go point at Debian's serial flavour; set
// CGO_CFLAGS / CGO_LDFLAGS for other layouts.
//
// It talks to the C API directly rather than through gonum.org/v1/hdf5, whose
// handles cannot be built from a raw hid_t (needed for in-memory images) and
// which lacks attribute iteration, character sets, vlen string arrays and
// typed reads with conversion.
package h5
