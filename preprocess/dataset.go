package preprocess

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// AllowedExtensions are the file name endings image_dataset_from_directory
// reads (compared with the lower-cased name; other files are ignored).
var AllowedExtensions = []string{".bmp", ".gif", ".jpeg", ".jpg", ".png"}

// DatasetInterpolations are the resize methods DatasetFromDirectory
// accepts: tf.image.resize's, without antialiasing.
var DatasetInterpolations = []string{"bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"}

// DatasetOptions are the arguments of keras.utils.image_dataset_from_directory.
// The zero value gives Keras's defaults: labels inferred from the
// sub-folders, label mode "int", RGB, batches of 32, 256x256 images,
// bilinear resizing, shuffled with a random seed.
type DatasetOptions struct {
	// Labels gives one label per file explicitly (labels=[...]): the
	// files are then all the images under the folder, in walk order, and
	// the class names are the sorted distinct labels. Nil means labels
	// inferred from the sub-folders (labels="inferred").
	Labels []int
	// NoLabels yields images only (labels=None): all the images under the
	// folder, sub-folders included, whatever their names.
	NoLabels bool
	// LabelMode is "int" (the default when empty; the class index),
	// "categorical" (one-hot, float32), "binary" (0 or 1, float32, shape
	// (n, 1); exactly two classes) or "none" (label_mode=None, like
	// NoLabels).
	LabelMode string
	// ClassNames picks and orders the class sub-folders (only with
	// inferred labels); nil means every sub-folder not starting with ".",
	// in Python's sorted order (code points: "Zebra" before "apple").
	ClassNames []string
	// ColorMode is "rgb" (the default when empty), "grayscale" or "rgba".
	ColorMode string
	// BatchSize is the number of images per batch; 0 means 32. The last
	// batch may be smaller.
	BatchSize int
	// ImageSize is the (height, width) every image is resized to; zero
	// means (256, 256).
	ImageSize [2]int
	// NoShuffle keeps the files in walk order (shuffle=False). By default
	// they are shuffled once, with NumPy's RandomState(Seed), exactly as
	// Keras shuffles file_paths.
	NoShuffle bool
	// Seed is the shuffle seed (0 to 2^32-1); nil draws one at random in
	// [0, 1000000), as Keras does for seed=None. A validation split of a
	// shuffled dataset needs an explicit seed.
	Seed *int64
	// ValidationSplit is the fraction of the files kept for validation
	// (0 = no split); Subset is then "training", "validation" (or
	// "both" for TrainValidationFromDirectory).
	ValidationSplit float64
	Subset          string
	// Interpolation is the resize method: one of DatasetInterpolations,
	// case-insensitive; "bilinear" when empty.
	Interpolation string
	// FollowLinks descends into symbolic links to folders (follow_links).
	// A link back to a folder being walked is not followed twice.
	FollowLinks bool
	// CropToAspectRatio resizes the largest centred crop with the target
	// aspect ratio (crop_to_aspect_ratio, Keras's smart_resize);
	// PadToAspectRatio instead resizes the whole image to fit and pads it
	// with zeros (pad_to_aspect_ratio, tf.image.resize_with_pad). At most
	// one of them.
	CropToAspectRatio bool
	PadToAspectRatio  bool
	// Log receives Keras's messages ("Found 2000 files belonging to 2
	// classes.", "Using 1600 files for training."); nil is silent.
	Log io.Writer
	// Workers is the number of goroutines decoding images (0: one per
	// CPU); Prefetch the number of batches decoded ahead of the one being
	// used (0: 2). Memory use is bounded by about Prefetch+2 batches.
	Workers, Prefetch int
	// MaxPixels bounds the size of every image (width*height, read from
	// its header before decoding): 0 means DefaultMaxPixels, negative no
	// limit. MaxFileBytes bounds the size of every file: 0 means 1 GiB.
	MaxPixels    int
	MaxFileBytes int64
	// JPEG selects the JPEG colour reconstruction (see JPEGDecoder).
	// TensorFlow's libjpeg uses a faster inverse DCT than Pillow's, so
	// JPEG pixels differ from Keras's by a few levels either way.
	JPEG JPEGDecoder
}

// Dataset is an image dataset read from a folder tree, the Go counterpart
// of the tf.data.Dataset that image_dataset_from_directory returns. The
// file list, labels and class names are known at once; the images are
// decoded batch by batch when iterated (see Iter).
type Dataset struct {
	// Dir is the folder the dataset was read from.
	Dir string
	// ClassNames are the class names (nil without labels): label i is
	// ClassNames[i].
	ClassNames []string
	// FilePaths lists the image files in the order their images come,
	// spelled as Keras spells them (Dir joined with the relative path).
	FilePaths []string
	// Labels holds each file's label (nil without labels).
	Labels []int
	// Seed is the seed the files were shuffled with; Shuffled is false
	// when they were not.
	Seed     int64
	Shuffled bool
	// Subset is "training", "validation" or "" (no split).
	Subset string
	// LabelMode, ColorMode, Interpolation, BatchSize and ImageSize are
	// the resolved options.
	LabelMode     string
	ColorMode     string
	Interpolation string
	BatchSize     int
	ImageSize     [2]int

	opts     DatasetOptions
	channels int
}

// DatasetFromDirectory indexes an image folder the way
// keras.utils.image_dataset_from_directory does and returns the dataset.
//
// The classes are the sub-folders of dir (or ClassNames); a class's files
// are all the images under its folder, nested folders included, found by
// walking the folders in sorted path order with sorted file names; labels
// follow the class order. With a seed, the file order is Keras's exactly
// (NumPy's legacy shuffle, see ShufflePermutation), so are the training
// and validation subsets of a ValidationSplit. The images come in that
// order; Keras's tf.data pipeline additionally reshuffles the files
// within a window of 8 batches on every pass, which no other program can
// reproduce: iterate a Keras dataset built with shuffle=False, or compare
// file_paths, to line results up with Keras.
//
// Images are decoded like tf.io.decode_image (see the package
// documentation for where that differs from load_img) and resized with
// tf.image.resize (no antialiasing) to ImageSize, as float32 in [0, 255].
func DatasetFromDirectory(dir string, opts DatasetOptions) (*Dataset, error) {
	if opts.Subset == "both" {
		return nil, errors.New(`preprocess: image_dataset_from_directory: subset "both" gives two datasets: use TrainValidationFromDirectory`)
	}
	ds, err := fromDirectory(dir, opts)
	if err != nil {
		return nil, err
	}
	return ds[0], nil
}

// TrainValidationFromDirectory is DatasetFromDirectory with subset="both":
// the training and the validation datasets of one ValidationSplit (Subset
// may be "both" or empty). Keras's validation dataset is not reshuffled
// by tf.data, so its image order is the file order.
func TrainValidationFromDirectory(dir string, opts DatasetOptions) (train, validation *Dataset, err error) {
	if opts.Subset != "" && opts.Subset != "both" {
		return nil, nil, fmt.Errorf("preprocess: image_dataset_from_directory: TrainValidationFromDirectory needs subset \"both\", got %q", opts.Subset)
	}
	opts.Subset = "both"
	ds, err := fromDirectory(dir, opts)
	if err != nil {
		return nil, nil, err
	}
	return ds[0], ds[1], nil
}

func dsErrorf(format string, args ...any) error {
	return fmt.Errorf("preprocess: image_dataset_from_directory: "+format, args...)
}

func fromDirectory(dir string, opts DatasetOptions) ([]*Dataset, error) {
	explicit := opts.Labels != nil
	if explicit && opts.ClassNames != nil {
		return nil, dsErrorf("You can only pass `class_names` if `labels=\"inferred\"`. Received: labels=%s, and class_names=%s",
			pyInts(opts.Labels), pyStrings(opts.ClassNames))
	}
	if explicit && opts.NoLabels {
		return nil, dsErrorf("give either Labels or NoLabels, not both")
	}
	mode := opts.LabelMode
	switch mode {
	case "":
		mode = "int"
	case "int", "categorical", "binary", "none":
	default:
		return nil, dsErrorf("`label_mode` argument must be one of \"int\", \"categorical\", \"binary\", or None. Received: label_mode=%s", mode)
	}
	noLabels := opts.NoLabels || mode == "none"
	if noLabels {
		mode, explicit = "none", false
	}
	channels := 0
	color := opts.ColorMode
	switch color {
	case "", "rgb":
		color, channels = "rgb", 3
	case "rgba":
		channels = 4
	case "grayscale":
		channels = 1
	default:
		return nil, dsErrorf("`color_mode` must be one of {\"rgb\", \"rgba\", \"grayscale\"}. Received: color_mode=%s", color)
	}
	size := opts.ImageSize
	if size == [2]int{} {
		size = [2]int{256, 256}
	}
	if size[0] <= 0 || size[1] <= 0 {
		return nil, dsErrorf("image_size (%d, %d): both sizes must be positive", size[0], size[1])
	}
	if maxPixels := budget(opts.MaxPixels); maxPixels > 0 && (size[1] > maxPixels || size[0] > maxPixels/size[1]) {
		return nil, dsErrorf("image_size (%d, %d) is over the limit of %d pixels (MaxPixels)", size[0], size[1], maxPixels)
	}
	batch := opts.BatchSize
	switch {
	case batch == 0:
		batch = 32
	case batch < 0:
		return nil, dsErrorf("batch size %d: must be positive (0 means 32)", batch)
	}
	interp := strings.ToLower(opts.Interpolation)
	if interp == "" {
		interp = "bilinear"
	}
	if !slices.Contains(DatasetInterpolations, interp) {
		return nil, dsErrorf("Argument `interpolation` should be one of %s. Received: interpolation=%s", pyTuple(DatasetInterpolations), opts.Interpolation)
	}
	if opts.CropToAspectRatio && opts.PadToAspectRatio {
		return nil, dsErrorf("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")
	}
	split, subset, shuffle := opts.ValidationSplit, opts.Subset, !opts.NoShuffle
	if split != 0 && !(split > 0 && split < 1) {
		return nil, dsErrorf("`validation_split` must be between 0 and 1, received: %s", pyFloat(split))
	}
	if (split != 0 || subset != "") && !(split != 0 && subset != "") {
		return nil, dsErrorf("If `subset` is set, `validation_split` must be set, and inversely.")
	}
	switch subset {
	case "training", "validation", "both", "":
	default:
		return nil, dsErrorf("`subset` must be either \"training\", \"validation\" or \"both\", received: %s", subset)
	}
	if split != 0 && shuffle && opts.Seed == nil {
		return nil, dsErrorf("If using `validation_split` and shuffling the data, you must provide a `seed` argument, to make sure that there is no overlap between the training and validation subset.")
	}
	var seed int64
	if opts.Seed != nil {
		seed = *opts.Seed
		if seed < 0 || seed > 0xffffffff {
			return nil, dsErrorf("seed %d: Seed must be between 0 and 2**32 - 1", seed)
		}
	} else {
		seed = rand.Int64N(1000000)
	}

	paths, labels, classes, err := indexDirectory(dir, opts, noLabels, explicit)
	if err != nil {
		return nil, err
	}
	if opts.Log != nil {
		if noLabels {
			fmt.Fprintf(opts.Log, "Found %d files.\n", len(paths))
		} else {
			fmt.Fprintf(opts.Log, "Found %d files belonging to %d classes.\n", len(paths), len(classes))
		}
	}
	if shuffle {
		perm, err := ShufflePermutation(len(paths), seed)
		if err != nil {
			return nil, dsErrorf("%w", err)
		}
		paths = permute(paths, perm)
		if labels != nil {
			labels = permute(labels, perm)
		}
	}
	if mode == "binary" && len(classes) != 2 {
		return nil, dsErrorf("When passing `label_mode=\"binary\"`, there must be exactly 2 class_names. Received: class_names=%s", pyStrings(classes))
	}
	newDS := func(sub string, p []string, l []int) *Dataset {
		return &Dataset{
			Dir: dir, ClassNames: classes, FilePaths: p, Labels: l, Seed: seed, Shuffled: shuffle, Subset: sub,
			LabelMode: mode, ColorMode: color, Interpolation: interp, BatchSize: batch, ImageSize: size,
			opts: opts, channels: channels,
		}
	}
	allowed := "('.bmp', '.gif', '.jpeg', '.jpg', '.png')"
	if subset == "both" {
		tp, tl := splitSamples(paths, labels, split, "training", opts.Log)
		vp, vl := splitSamples(paths, labels, split, "validation", opts.Log)
		if len(tp) == 0 {
			return nil, dsErrorf("No training images found in directory %s. Allowed formats: %s", dir, allowed)
		}
		if len(vp) == 0 {
			return nil, dsErrorf("No validation images found in directory %s. Allowed formats: %s", dir, allowed)
		}
		return []*Dataset{newDS("training", tp, tl), newDS("validation", vp, vl)}, nil
	}
	paths, labels = splitSamples(paths, labels, split, subset, opts.Log)
	if len(paths) == 0 {
		return nil, dsErrorf("No images found in directory %s. Allowed formats: %s", dir, allowed)
	}
	return []*Dataset{newDS(subset, paths, labels)}, nil
}

func permute[T any](xs []T, perm []int) []T {
	out := make([]T, len(xs))
	for i, p := range perm {
		out[i] = xs[p]
	}
	return out
}

// splitSamples is get_training_or_validation_split: the last
// int(split*n) samples are the validation set, the others the training
// set. Keras quirk kept: when int(split*n) is 0 the training set is empty
// and the validation set is everything.
func splitSamples(paths []string, labels []int, split float64, subset string, log io.Writer) ([]string, []int) {
	if split == 0 {
		return paths, labels
	}
	nVal := int(split * float64(len(paths)))
	cut := len(paths) - nVal
	if nVal == 0 {
		cut = 0
	}
	if subset == "training" {
		if log != nil {
			fmt.Fprintf(log, "Using %d files for training.\n", len(paths)-nVal)
		}
		if nVal == 0 {
			return nil, nil
		}
		return paths[:cut], sliceOrNil(labels, 0, cut)
	}
	if log != nil {
		fmt.Fprintf(log, "Using %d files for validation.\n", nVal)
	}
	return paths[cut:], sliceOrNil(labels, cut, len(paths))
}

func sliceOrNil(l []int, a, b int) []int {
	if l == nil {
		return nil
	}
	return l[a:b]
}

// pyJoin is os.path.join for two parts on POSIX.
func pyJoin(a, b string) string {
	if a == "" || strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

// indexDirectory is dataset_utils.index_directory without the shuffle:
// the file paths (spelled like Keras's), their labels and the class
// names.
func indexDirectory(dir string, opts DatasetOptions, noLabels, explicit bool) ([]string, []int, []string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, nil, dsErrorf("%w", err)
	}
	if !st.IsDir() {
		return nil, nil, nil, dsErrorf("%s is not a folder", dir)
	}
	var subdirs []string
	switch {
	case noLabels || explicit:
		if opts.ClassNames != nil {
			if noLabels {
				return nil, nil, nil, dsErrorf("When `labels=None` (no labels), argument `class_names` cannot be specified.")
			}
			return nil, nil, nil, dsErrorf("When argument `labels` is specified, argument `class_names` cannot be specified (the `class_names` will be the sorted list of labels).")
		}
		subdirs = []string{""}
	default:
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, nil, nil, dsErrorf("%w", err)
		}
		for _, e := range entries { // os.ReadDir sorts by name, like sorted(os.listdir)
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			if isDir, _ := isDirFollow(filepath.Join(dir, name), e); isDir {
				subdirs = append(subdirs, name)
			}
		}
		if opts.ClassNames != nil {
			seen := map[string]bool{}
			for _, c := range opts.ClassNames {
				if !slices.Contains(subdirs, c) {
					return nil, nil, nil, dsErrorf("The `class_names` passed did not match the names of the subdirectories of the target directory. Expected: %s (or a subset of it), but received: class_names=%s",
						pyStrings(subdirs), pyStrings(opts.ClassNames))
				}
				if seen[c] {
					return nil, nil, nil, dsErrorf("class_names=%s names %q twice", pyStrings(opts.ClassNames), c)
				}
				seen[c] = true
			}
			subdirs = slices.Clone(opts.ClassNames)
		}
	}
	var paths []string
	var labels []int
	for i, sub := range subdirs {
		top := pyJoin(dir, sub)
		rels, err := walkImages(top, opts.FollowLinks)
		if err != nil {
			return nil, nil, nil, dsErrorf("%w", err)
		}
		for _, rel := range rels {
			paths = append(paths, pyJoin(dir, pyJoin(sub, rel)))
			labels = append(labels, i)
		}
	}
	switch {
	case noLabels:
		return paths, nil, nil, nil
	case explicit:
		if len(opts.Labels) != len(paths) {
			return nil, nil, nil, dsErrorf("Expected the lengths of `labels` to match the number of files in the target directory. len(labels) is %d while we found %d files in directory %s.",
				len(opts.Labels), len(paths), dir)
		}
		distinct := slices.Clone(opts.Labels)
		slices.Sort(distinct)
		distinct = slices.Compact(distinct)
		classes := make([]string, len(distinct))
		for i, v := range distinct {
			classes[i] = strconv.Itoa(v)
		}
		return paths, slices.Clone(opts.Labels), classes, nil
	}
	return paths, labels, subdirs, nil
}

// isDirFollow reports whether a directory entry is a folder, following a
// symbolic link (os.path.isdir, DirEntry.is_dir()).
func isDirFollow(path string, e os.DirEntry) (bool, error) {
	if e.Type()&os.ModeSymlink == 0 {
		return e.IsDir(), nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return false, nil // a broken link counts as a file, as in os.walk
	}
	return st.IsDir(), nil
}

// walkImages lists the image files under top as dataset_utils'
// iter_valid_files does: os.walk(top) sorted by folder path, file names
// sorted within each folder, names whose lower-cased form ends in an
// allowed extension. The paths are relative to top. Unlike os.walk, an
// unreadable folder is an error rather than silently skipped.
func walkImages(top string, followLinks bool) ([]string, error) {
	type dirFiles struct {
		rel   string
		files []string
	}
	var all []dirFiles
	var visiting []os.FileInfo
	var walk func(rel string) error
	walk = func(rel string) error {
		path := top
		if rel != "" {
			path = pyJoin(top, rel)
		}
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		for _, v := range visiting {
			if os.SameFile(v, st) {
				return nil // a link cycle: os.walk would loop forever
			}
		}
		visiting = append(visiting, st)
		defer func() { visiting = visiting[:len(visiting)-1] }()
		entries, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		df := dirFiles{rel: rel}
		var subs []string
		for _, e := range entries {
			isDir, _ := isDirFollow(filepath.Join(path, e.Name()), e)
			if !isDir {
				df.files = append(df.files, e.Name())
				continue
			}
			if e.Type()&os.ModeSymlink == 0 || followLinks {
				subs = append(subs, e.Name())
			}
		}
		all = append(all, df)
		for _, s := range subs {
			if err := walk(pyJoin(rel, s)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, err
	}
	// sorted(walk, key=root): the roots share top as prefix, and "" (top
	// itself) sorts first, so sorting the relative paths is the same.
	slices.SortStableFunc(all, func(a, b dirFiles) int { return strings.Compare(a.rel, b.rel) })
	var out []string
	for _, d := range all {
		slices.Sort(d.files)
		for _, f := range d.files {
			if hasAllowedExt(f) {
				out = append(out, pyJoin(d.rel, f))
			}
		}
	}
	return out, nil
}

func hasAllowedExt(name string) bool {
	low := strings.ToLower(name)
	for _, ext := range AllowedExtensions {
		if strings.HasSuffix(low, ext) {
			return true
		}
	}
	return false
}

// Python reprs for messages that quote Keras's.

func pyStr(s string) string {
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\' || string(r) == q:
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}

func pyStrings(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = pyStr(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func pyTuple(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = pyStr(s)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func pyInts(vs []int) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func pyFloat(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") { // integral: Python writes 2.0
		s += ".0"
	}
	return s
}
