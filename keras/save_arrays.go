package keras

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kerago/kerago/keras/internal/h5"
)

// ArrayFile is an HDF5 file of named float32 arrays with string
// attributes: the activation and reference files of the vgg16 command
// (vgg16 activations writes one, scripts/keras_reference.py writes one with
// h5py, vgg16 verify compares them), readable from any language with an
// HDF5 library, e.g. h5py.File("acts.h5")["outputs/conv1"][...].
type ArrayFile struct {
	// Attrs are the root attributes; a scalar string is a list of one.
	Attrs map[string][]string
	// Arrays are the datasets (in the file's order when read: groups and
	// names sorted byte-wise).
	Arrays []Array
}

// Array is one dataset of an ArrayFile.
type Array struct {
	// Path is the dataset's path in the file, groups separated by "/"
	// ("outputs/block1_conv1").
	Path  string
	Shape []int
	Data  []float32
	// Attrs are the dataset's string attributes.
	Attrs map[string]string
}

// Array returns the array at path, or nil.
func (f *ArrayFile) Array(path string) *Array {
	for i := range f.Arrays {
		if f.Arrays[i].Path == path {
			return &f.Arrays[i]
		}
	}
	return nil
}

// Attr returns the first value of a root attribute, or "".
func (f *ArrayFile) Attr(name string) string {
	if v := f.Attrs[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// WriteArrayFile writes f to path as HDF5: root attributes as UTF-8
// strings (lists of more than one value as string arrays), datasets as
// contiguous float32, groups created as needed. An existing file is
// replaced atomically.
func WriteArrayFile(path string, f *ArrayFile) error {
	if err := writeArrayFile(path, f); err != nil {
		return fmt.Errorf("keras: write %s: %w", path, err)
	}
	return nil
}

func writeArrayFile(path string, af *ArrayFile) error {
	seen := map[string]bool{}
	for _, a := range af.Arrays {
		p := strings.Trim(a.Path, "/")
		if p == "" || strings.Contains(p, "//") || strings.ContainsRune(p, 0) {
			return fmt.Errorf("bad dataset path %q", a.Path)
		}
		if seen[p] {
			return fmt.Errorf("two datasets named %q", p)
		}
		seen[p] = true
		n := 1
		for _, d := range a.Shape {
			if d < 0 {
				return fmt.Errorf("dataset %q: negative dimension in shape %v", p, a.Shape)
			}
			n *= d
		}
		if n != len(a.Data) {
			return fmt.Errorf("dataset %q: shape %v holds %d values, got %d", p, a.Shape, n, len(a.Data))
		}
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName)
	if err := writeArrayH5(tmpName, af); err != nil {
		return err
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return err
	}
	return os.Rename(tmpName, path)
}

func writeArrayH5(path string, af *ArrayFile) (err error) {
	f, err := h5.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	root := f.Root()
	for _, k := range sortedAttrNames(af.Attrs) {
		v := af.Attrs[k]
		if len(v) == 1 {
			err = root.SetString(k, v[0], h5.UTF8)
		} else {
			err = root.SetStringList(k, v)
		}
		if err != nil {
			return err
		}
	}
	for _, a := range af.Arrays {
		p := strings.Trim(a.Path, "/")
		ds, err := root.WriteFloat32(p, a.Data, a.Shape)
		if err != nil {
			return err
		}
		for _, k := range sortedAttrNames(a.Attrs) {
			if err := ds.SetString(k, a.Attrs[k], h5.UTF8); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedAttrNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// DefaultMaxArrayBytes bounds the data ReadArrayFile reads (4 GiB).
const DefaultMaxArrayBytes = 4 << 30

// ReadArrayFile reads every dataset of an HDF5 file as float32 (other
// numeric types are converted), with the string attributes of the root and
// of the datasets (other attributes are skipped). maxBytes bounds the total
// data (0: DefaultMaxArrayBytes); a larger file is refused before anything
// is allocated.
func ReadArrayFile(path string, maxBytes int64) (*ArrayFile, error) {
	af, err := readArrayFile(path, maxBytes)
	if err != nil {
		return nil, fmt.Errorf("keras: %s: %w", path, err)
	}
	return af, nil
}

func readArrayFile(path string, maxBytes int64) (*ArrayFile, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxArrayBytes
	}
	f, err := h5.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	f.SetMaxBytes(maxBytes)
	af := &ArrayFile{Attrs: stringAttrs(f.Root().Object)}
	var total int64
	var walk func(g h5.Group, prefix string, depth int) error
	walk = func(g h5.Group, prefix string, depth int) error {
		if depth > 32 {
			return errors.New("groups nested more than 32 deep")
		}
		ms, err := g.Members()
		if err != nil {
			return err
		}
		for _, m := range ms {
			p := strings.TrimPrefix(prefix+"/"+m.Name, "/")
			switch m.Kind {
			case h5.KindGroup:
				sub, err := g.Group(m.Name)
				if err != nil {
					return err
				}
				if err := walk(sub, p, depth+1); err != nil {
					return err
				}
			case h5.KindDataset:
				ds, err := g.Dataset(m.Name)
				if err != nil {
					return err
				}
				info, err := ds.Info()
				if err != nil {
					return err
				}
				total += 4 * int64(info.Len())
				if total > maxBytes {
					return fmt.Errorf("the datasets hold more than %d bytes", maxBytes)
				}
				data, shape, err := ds.ReadFloat32()
				if err != nil {
					return err
				}
				af.Arrays = append(af.Arrays, Array{Path: p, Shape: shape, Data: data, Attrs: firstValues(stringAttrs(ds.Object))})
			}
		}
		return nil
	}
	if err := walk(f.Root(), "", 0); err != nil {
		return nil, err
	}
	return af, nil
}

// stringAttrs reads the string attributes of an object.
func stringAttrs(o h5.Object) map[string][]string {
	out := map[string][]string{}
	names, err := o.AttrNames()
	if err != nil {
		return out
	}
	for _, n := range names {
		if info, err := o.AttrInfo(n); err != nil || !(info.DType == "str" || strings.HasPrefix(info.DType, "S")) {
			continue
		}
		if v, err := o.Strings(n); err == nil {
			out[n] = v
		}
	}
	return out
}

func firstValues(m map[string][]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}
