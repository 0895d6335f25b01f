package h5

// #include <stdlib.h>
// #include "shim.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// Kind is the kind of object a path names.
type Kind int

const (
	KindNone     Kind = iota // nothing at that path
	KindGroup                // a group
	KindDataset              // a dataset
	KindDatatype             // a committed (named) datatype
	KindOther                // anything else, e.g. an external link (never followed)
)

func (k Kind) String() string {
	switch k {
	case KindNone:
		return "none"
	case KindGroup:
		return "group"
	case KindDataset:
		return "dataset"
	case KindDatatype:
		return "datatype"
	}
	return "other"
}

// Object is a group or dataset of a File, named by its absolute path. It
// carries the attribute methods; Group and Dataset embed it.
type Object struct {
	f    *File
	path string
}

// Path returns the absolute path of the object, e.g. "/model_weights/dense_1".
func (o Object) Path() string { return o.path }

// File returns the file the object belongs to.
func (o Object) File() *File { return o.f }

// errorf formats an error about o: "h5: FILE: PATH: MSG".
func (o Object) errorf(format string, args ...any) error {
	name := "<no file>"
	if o.f != nil {
		name = o.f.name
	}
	return fmt.Errorf("h5: %s: %s: %w", name, o.path, fmt.Errorf(format, args...))
}

// libError describes a failed libhdf5 call about o. mu must be held; call it
// straight after the failure.
func (o Object) libError(op string) error {
	return fmt.Errorf("h5: %s: %s: %s: %s", o.f.name, o.path, op, takeError())
}

// open opens the object and returns its handle, to be closed with H5Oclose.
// mu must be held.
func (o Object) open() (C.hid_t, error) {
	if err := o.f.check(); err != nil {
		return -1, err
	}
	if err := o.f.checkLinks(o.path, false); err != nil {
		return -1, err
	}
	p, free, err := cstr(o.path)
	if err != nil {
		return -1, o.errorf("%w", err)
	}
	defer free()
	id := C.H5Oopen(o.f.id, p, C.h5go_lapl())
	if id < 0 {
		return -1, o.libError("open")
	}
	return id, nil
}

// kind reports what the absolute path names. mu must be held.
func (f *File) kind(path string) (Kind, error) {
	if err := f.check(); err != nil {
		return KindNone, err
	}
	if err := f.checkLinks(path, false); err != nil {
		return KindNone, err
	}
	p, free, err := cstr(path)
	if err != nil {
		return KindNone, fmt.Errorf("h5: %s: %q: %w", f.name, path, err)
	}
	defer free()
	k := C.h5go_kind(f.id, p)
	if k < 0 {
		return KindNone, fmt.Errorf("h5: %s: %s: lookup: %s", f.name, path, takeError())
	}
	return Kind(k), nil
}

// Group is a group of a File.
type Group struct{ Object }

// Dataset is a dataset of a File.
type Dataset struct{ Object }

// Member is an entry of a group.
type Member struct {
	Name string
	Kind Kind
}

// Kind reports what name (a path relative to g, may contain "/") refers to,
// KindNone if nothing.
func (g Group) Kind(name string) (Kind, error) {
	defer lock()()
	return g.f.kind(joinPath(g.path, name))
}

// Has reports whether name (a path relative to g) exists; errors count as
// absence.
func (g Group) Has(name string) bool {
	k, err := g.Kind(name)
	return err == nil && k != KindNone
}

// Group returns the group at name, a path relative to g.
func (g Group) Group(name string) (Group, error) {
	defer lock()()
	p := joinPath(g.path, name)
	if err := g.expect(p, KindGroup); err != nil {
		return Group{}, err
	}
	return Group{Object{f: g.f, path: p}}, nil
}

// Dataset returns the dataset at name, a path relative to g.
func (g Group) Dataset(name string) (Dataset, error) {
	defer lock()()
	p := joinPath(g.path, name)
	if err := g.expect(p, KindDataset); err != nil {
		return Dataset{}, err
	}
	return Dataset{Object{f: g.f, path: p}}, nil
}

// expect checks that the absolute path p names an object of kind want.
func (g Group) expect(p string, want Kind) error {
	k, err := g.f.kind(p)
	if err != nil {
		return err
	}
	if k == KindNone {
		return fmt.Errorf("h5: %s: %s %s: %w", g.f.name, want, p, ErrNotFound)
	}
	if k != want {
		return fmt.Errorf("h5: %s: %s is a %s, not a %s", g.f.name, p, k, want)
	}
	return nil
}

// Members lists the entries of g in increasing byte order of their names (the
// order h5py's keys() gives for files written without track_order).
func (g Group) Members() ([]Member, error) {
	defer lock()()
	id, err := g.open()
	if err != nil {
		return nil, err
	}
	defer C.H5Oclose(id)
	if err := g.f.checkLinks(g.path, true); err != nil {
		return nil, err
	}
	l := C.h5go_names{limit: C.size_t(g.f.limit())}
	if C.h5go_link_names(id, &l) < 0 {
		err := g.libError("list members")
		C.free(unsafe.Pointer(l.buf))
		return nil, err
	}
	ns := names(&l)
	out := make([]Member, len(ns))
	for i, n := range ns {
		k, err := g.f.kind(joinPath(g.path, n))
		if err != nil {
			return nil, err
		}
		out[i] = Member{Name: n, Kind: k}
	}
	return out, nil
}

// limit bounds the number of names read from one group or object header: no
// more than the file has bytes (each name occupies at least one).
func (f *File) limit() int64 {
	if f.size > 0 {
		return f.size
	}
	return 1 << 40
}

// CreateGroup creates the group name (a path relative to g), creating missing
// intermediate groups as h5py does. It fails if name already exists.
func (g Group) CreateGroup(name string) (Group, error) {
	defer lock()()
	p := joinPath(g.path, name)
	o := Object{f: g.f, path: p}
	if err := g.f.checkWritable(); err != nil {
		return Group{}, err
	}
	cp, free, err := cstr(p)
	if err != nil {
		return Group{}, o.errorf("%w", err)
	}
	defer free()
	id := C.h5go_create_group(g.f.id, cp)
	if id < 0 {
		return Group{}, o.libError("create group")
	}
	C.H5Gclose(id)
	return Group{o}, nil
}

// checkWritable fails for closed files and files not made by Create. mu must
// be held.
func (f *File) checkWritable() error {
	if err := f.check(); err != nil {
		return err
	}
	if !f.writable {
		return fmt.Errorf("h5: %s: opened read-only", f.name)
	}
	return nil
}
