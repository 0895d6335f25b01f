package keras

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/kerago/kerago/keras/internal/h5"
)

// Limits for .keras archives: a member larger than its limit is refused
// from its declared size, before anything is decompressed, and archive/zip
// fails a member that inflates past its declared size.
const (
	maxZipMembers      = 10000
	maxMetadataBytes   = 1 << 20
	defaultMaxZipBytes = 16 << 30 // model.weights.h5
	// maxDeflateRatio is the most deflate can compress (1032:1, a stream
	// of maximal matches): a member cannot inflate to more than this many
	// times its stored size.
	maxDeflateRatio = 1032
)

// kerasArchive is an open .keras zip.
type kerasArchive struct {
	name     string // the archive's path, for messages
	size     int64  // the archive's size in bytes
	zr       *zip.ReadCloser
	members  map[string]*zip.File
	metadata map[string]any
	config   []byte
}

// openKerasZip opens a .keras archive and reads its metadata and config.
func openKerasZip(p string) (*kerasArchive, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return nil, fmt.Errorf("reading .keras archive: %w", err)
	}
	st, err := os.Stat(p)
	if err != nil {
		zr.Close()
		return nil, err
	}
	a := &kerasArchive{name: p, size: st.Size(), zr: zr, members: map[string]*zip.File{}}
	if err := a.index(); err != nil {
		zr.Close()
		return nil, err
	}
	if _, ok := a.members["config.json"]; !ok {
		zr.Close()
		if _, ok := a.members["model.weights.json"]; ok {
			return nil, errors.New("the .keras archive has no config.json")
		}
		return nil, errors.New("not a Keras archive: no config.json member")
	}
	if a.config, err = a.read("config.json", maxConfigBytes); err != nil {
		zr.Close()
		return nil, err
	}
	if _, ok := a.members["metadata.json"]; ok {
		data, err := a.read("metadata.json", maxMetadataBytes)
		if err != nil {
			zr.Close()
			return nil, err
		}
		v, err := decodeJSON(data)
		if err != nil {
			zr.Close()
			return nil, fmt.Errorf("metadata.json: %w", err)
		}
		a.metadata, _ = v.(map[string]any)
	}
	return a, nil
}

func (a *kerasArchive) Close() error { return a.zr.Close() }

// index checks every member: at most maxZipMembers, names without absolute
// paths or "..", STORED or DEFLATED, no duplicates.
func (a *kerasArchive) index() error {
	if len(a.zr.File) > maxZipMembers {
		return fmt.Errorf(".keras archive has %d members, more than %d", len(a.zr.File), maxZipMembers)
	}
	for _, f := range a.zr.File {
		name := f.Name
		clean := path.Clean(name)
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(name, "\x00") {
			return fmt.Errorf(".keras archive member %q has an unsafe path", name)
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return fmt.Errorf(".keras archive member %q uses compression method %d (only stored and deflated are supported)", name, f.Method)
		}
		if _, dup := a.members[clean]; dup {
			return fmt.Errorf(".keras archive has two members named %q", name)
		}
		a.members[clean] = f
	}
	return nil
}

// open opens a member after checking its declared size against limit.
func (a *kerasArchive) open(name string, limit int64) (io.ReadCloser, int64, error) {
	f := a.members[name]
	if f == nil {
		return nil, 0, fmt.Errorf(".keras archive has no member %q", name)
	}
	size := f.UncompressedSize64
	if size > uint64(limit) {
		return nil, 0, fmt.Errorf(".keras archive member %q declares %d bytes, more than the limit of %d", name, size, limit)
	}
	// The declared size is what we allocate: it must fit the stored bytes.
	stored := f.CompressedSize64
	if stored > uint64(a.size) || f.Method == zip.Store && size != stored ||
		f.Method == zip.Deflate && size > stored*maxDeflateRatio+maxDeflateRatio {
		return nil, 0, fmt.Errorf(".keras archive member %q declares %d bytes, which its %d stored bytes cannot hold (damaged archive)", name, size, stored)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, 0, fmt.Errorf(".keras archive member %q: %w", name, err)
	}
	return rc, int64(size), nil
}

// read reads a whole member of at most limit bytes.
func (a *kerasArchive) read(name string, limit int64) ([]byte, error) {
	rc, size, err := a.open(name, limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, size)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf(".keras archive member %q: %w", name, err)
	}
	// The checksum is verified when the reader reaches the end.
	var one [1]byte
	if n, err := rc.Read(one[:]); n != 0 || (err != nil && err != io.EOF) {
		if err == nil {
			err = errors.New("longer than declared")
		}
		return nil, fmt.Errorf(".keras archive member %q: %w", name, err)
	}
	return buf, nil
}

// weights opens model.weights.h5 as an in-memory HDF5 file.
func (a *kerasArchive) weights(limit int64) (*h5.File, error) {
	if limit <= 0 {
		limit = defaultMaxZipBytes
	}
	if _, ok := a.members["model.weights.h5"]; !ok {
		if _, sharded := a.members["model.weights.json"]; sharded {
			return nil, errors.New("the .keras archive stores sharded weights (model.weights.json), which are not supported")
		}
		return nil, errors.New("the .keras archive has no model.weights.h5")
	}
	rc, size, err := a.open("model.weights.h5", limit)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	f, err := h5.OpenImageReader(a.name+"/model.weights.h5", rc, size)
	if err != nil {
		return nil, fmt.Errorf(".keras archive member model.weights.h5: %w", err)
	}
	// Reaching the end verifies the member's CRC-32.
	var one [1]byte
	if n, err := rc.Read(one[:]); n != 0 || (err != nil && err != io.EOF) {
		f.Close()
		if err == nil {
			err = errors.New("longer than declared")
		}
		return nil, fmt.Errorf(".keras archive member model.weights.h5: %w", err)
	}
	return f, nil
}

// version returns metadata.json's keras_version.
func (a *kerasArchive) version() string {
	s, _ := a.metadata["keras_version"].(string)
	return s
}
