package malformed

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// zipMember is one member of a zip archive, kept compressed.
type zipMember struct {
	hdr zip.FileHeader
	raw []byte // the stored (compressed) bytes
}

// content decompresses the member.
func (m zipMember) content() ([]byte, error) {
	switch m.hdr.Method {
	case zip.Store:
		return m.raw, nil
	case zip.Deflate:
		return io.ReadAll(flate.NewReader(bytes.NewReader(m.raw)))
	}
	return nil, fmt.Errorf("malformed: zip member %s: method %d", m.hdr.Name, m.hdr.Method)
}

// set replaces the member's content, stored or deflated, with correct sizes
// and checksum.
func (m *zipMember) set(data []byte, method uint16) error {
	m.hdr.Method = method
	m.hdr.CRC32 = crc32.ChecksumIEEE(data)
	m.hdr.UncompressedSize64 = uint64(len(data))
	switch method {
	case zip.Store:
		m.raw = data
	case zip.Deflate:
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		w.Write(data)
		if err := w.Close(); err != nil {
			return err
		}
		m.raw = buf.Bytes()
	default:
		return fmt.Errorf("malformed: method %d", method)
	}
	m.hdr.CompressedSize64 = uint64(len(m.raw))
	return nil
}

func newMember(name string, data []byte, method uint16) zipMember {
	m := zipMember{hdr: zip.FileHeader{Name: name}}
	m.set(data, method)
	return m
}

// readZip reads every member of an archive.
func readZip(path string) ([]zipMember, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	var ms []zipMember
	for _, f := range zr.File {
		r, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		ms = append(ms, zipMember{hdr: f.FileHeader, raw: raw})
	}
	return ms, nil
}

// writeZip writes members as they are: headers (sizes, checksums, names,
// methods) are not checked or fixed.
func writeZip(dst string, ms []zipMember) error {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := range ms {
		h := ms[i].hdr
		w, err := zw.CreateRaw(&h)
		if err != nil {
			return err
		}
		if _, err := w.Write(ms[i].raw); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// rewriteZip copies an archive through edit.
func rewriteZip(src, dst string, edit func([]zipMember) ([]zipMember, error)) error {
	ms, err := readZip(src)
	if err != nil {
		return err
	}
	if ms, err = edit(ms); err != nil {
		return err
	}
	return writeZip(dst, ms)
}

// member returns the member called name.
func member(ms []zipMember, name string) *zipMember {
	for i := range ms {
		if ms[i].hdr.Name == name {
			return &ms[i]
		}
	}
	return nil
}

func without(ms []zipMember, name string) []zipMember {
	var out []zipMember
	for _, m := range ms {
		if m.hdr.Name != name {
			out = append(out, m)
		}
	}
	return out
}

type zipEdit struct {
	name string
	want Want
	note string
	edit func(ms []zipMember) ([]zipMember, error)
}

func zipEdits(other string) []zipEdit {
	onMember := func(name string, fn func(m *zipMember) error) func([]zipMember) ([]zipMember, error) {
		return func(ms []zipMember) ([]zipMember, error) {
			m := member(ms, name)
			if m == nil {
				return nil, fmt.Errorf("malformed: no member %s", name)
			}
			return ms, fn(m)
		}
	}
	add := func(extra ...zipMember) func([]zipMember) ([]zipMember, error) {
		return func(ms []zipMember) ([]zipMember, error) { return append(ms, extra...), nil }
	}
	return []zipEdit{
		{"identity", Works, "members copied as they are (control)", func(ms []zipMember) ([]zipMember, error) { return ms, nil }},
		{"config-deflated", Works, "config.json deflated", onMember("config.json", func(m *zipMember) error {
			c, err := m.content()
			if err != nil {
				return err
			}
			return m.set(c, zip.Deflate)
		})},
		{"weights-deflated", Works, "model.weights.h5 deflated", onMember("model.weights.h5", func(m *zipMember) error {
			c, err := m.content()
			if err != nil {
				return err
			}
			return m.set(c, zip.Deflate)
		})},
		{"config-declares-1TiB", Fails, "config.json declares 2^40 bytes", onMember("config.json", func(m *zipMember) error {
			m.hdr.UncompressedSize64 = 1 << 40
			return nil
		})},
		{"weights-declare-1TiB", Fails, "model.weights.h5 declares 2^40 bytes", onMember("model.weights.h5", func(m *zipMember) error {
			m.hdr.UncompressedSize64 = 1 << 40
			return nil
		})},
		{"weights-declare-15GiB", Fails, "model.weights.h5 declares 15 GiB (under the 16 GiB limit) but stores a few KB", onMember("model.weights.h5", func(m *zipMember) error {
			m.hdr.UncompressedSize64 = 15 << 30
			return nil
		})},
		{"weights-declare-60MB-deflated", Fails, "deflated model.weights.h5 declares 60 MB but inflates to a few KB", onMember("model.weights.h5", func(m *zipMember) error {
			c, err := m.content()
			if err != nil {
				return err
			}
			if err := m.set(c, zip.Deflate); err != nil {
				return err
			}
			m.hdr.UncompressedSize64 = 60 << 20
			return nil
		})},
		{"config-declares-60MB", Fails, "config.json declares 60 MB (under the 64 MB limit) but stores a few KB", onMember("config.json", func(m *zipMember) error {
			m.hdr.UncompressedSize64 = 60 << 20
			return nil
		})},
		{"weights-compressed-size-1TiB", Fails, "model.weights.h5's compressed size claims 2^40 bytes", onMember("model.weights.h5", func(m *zipMember) error {
			m.hdr.CompressedSize64 = 1 << 40
			return nil
		})},
		{"config-declares-less", Fails, "config.json declares 10 bytes fewer than it holds", onMember("config.json", func(m *zipMember) error {
			m.hdr.UncompressedSize64 -= 10
			return nil
		})},
		{"config-bad-crc", Fails, "config.json with a wrong CRC-32", onMember("config.json", func(m *zipMember) error {
			m.hdr.CRC32 ^= 0xdeadbeef
			return nil
		})},
		{"weights-bad-crc", Fails, "model.weights.h5 with a wrong CRC-32", onMember("model.weights.h5", func(m *zipMember) error {
			m.hdr.CRC32 ^= 0xdeadbeef
			return nil
		})},
		{"config-bzip2", Fails, "config.json compressed with method 12 (bzip2)", onMember("config.json", func(m *zipMember) error {
			m.hdr.Method = 12
			return nil
		})},
		{"member-method-99", Fails, "an extra member with compression method 99", add(zipMember{hdr: zip.FileHeader{Name: "extra.bin", Method: 99, CompressedSize64: 4, UncompressedSize64: 4}, raw: []byte("abcd")})},
		{"member-dotdot", Fails, "an extra member ../../evil.txt", add(newMember("../../evil.txt", []byte("evil"), zip.Store))},
		{"member-absolute", Fails, "an extra member /tmp/evil.txt", add(newMember("/tmp/evil.txt", []byte("evil"), zip.Store))},
		{"member-backslash", Fails, `an extra member ..\evil.txt`, add(newMember(`..\evil.txt`, []byte("evil"), zip.Store))},
		{"member-nul", Fails, "an extra member whose name holds a NUL", add(newMember("a\x00b", []byte("evil"), zip.Store))},
		{"config-duplicate", Fails, "two config.json members", func(ms []zipMember) ([]zipMember, error) {
			return append(ms, newMember("config.json", []byte("{}"), zip.Store)), nil
		}},
		{"config-dot-slash", Fails, "config.json and ./config.json", add(newMember("./config.json", []byte("{}"), zip.Store))},
		{"config-missing", Fails, "no config.json", func(ms []zipMember) ([]zipMember, error) { return without(ms, "config.json"), nil }},
		{"config-is-directory", Fails, "config.json replaced by a directory entry config.json/", func(ms []zipMember) ([]zipMember, error) {
			return append(without(ms, "config.json"), newMember("config.json/", nil, zip.Store)), nil
		}},
		{"weights-missing", Fails, "no model.weights.h5", func(ms []zipMember) ([]zipMember, error) { return without(ms, "model.weights.h5"), nil }},
		{"weights-sharded", Fails, "model.weights.json instead of model.weights.h5", func(ms []zipMember) ([]zipMember, error) {
			return append(without(ms, "model.weights.h5"), newMember("model.weights.json", []byte(`{"weight_map": {}}`), zip.Store)), nil
		}},
		{"weights-text", Fails, "model.weights.h5 is text", onMember("model.weights.h5", func(m *zipMember) error {
			return m.set([]byte("not hdf5\n"), zip.Store)
		})},
		{"weights-truncated", Fails, "model.weights.h5 cut in half (sizes and checksum fixed)", onMember("model.weights.h5", func(m *zipMember) error {
			c, err := m.content()
			if err != nil {
				return err
			}
			return m.set(c[:len(c)/2], zip.Store)
		})},
		{"weights-foreign", Fails, "model.weights.h5 of another model", onMember("model.weights.h5", func(m *zipMember) error {
			oms, err := readZip(other)
			if err != nil {
				return err
			}
			o := member(oms, "model.weights.h5")
			if o == nil {
				return fmt.Errorf("malformed: %s has no weights", other)
			}
			*m = *o
			return nil
		})},
		{"weights-zip", Fails, "model.weights.h5 is itself a zip archive", onMember("model.weights.h5", func(m *zipMember) error {
			b, err := os.ReadFile(other)
			if err != nil {
				return err
			}
			return m.set(b, zip.Store)
		})},
		{"metadata-garbage", Either, "metadata.json is not JSON", onMember("metadata.json", func(m *zipMember) error {
			return m.set([]byte("{{{{"), zip.Store)
		})},
		{"metadata-old-version", Either, `metadata.json says keras_version "1.0.0"`, onMember("metadata.json", func(m *zipMember) error {
			return m.set([]byte(`{"keras_version": "1.0.0", "date_saved": "x"}`), zip.Store)
		})},
		{"members-10001", Fails, "10001 extra empty members", func(ms []zipMember) ([]zipMember, error) {
			for i := range 10001 {
				ms = append(ms, newMember(fmt.Sprintf("e/%d", i), nil, zip.Store))
			}
			return ms, nil
		}},
		{"encrypted-flag", Either, "config.json flagged as encrypted", onMember("config.json", func(m *zipMember) error {
			m.hdr.Flags |= 1
			return nil
		})},
	}
}

// genZip applies zipEdits to the sequential .keras archive (and the
// identity edit plus a few size edits to the branching one), and adds a
// .keras archive with garbage before the first member.
func genZip(g *gen, src Sources) error {
	seq, br := src.find("ref-sequential.keras"), src.find("ref-branching.keras")
	if seq == nil || br == nil {
		return fmt.Errorf("malformed: .keras sources missing")
	}
	for _, e := range zipEdits(br.Path) {
		c := Case{Name: "zip/" + seq.Label + "/" + e.name, Family: "zip", Kind: Model, Want: e.want, Source: seq, Note: e.note}
		c.Path = g.path(c.Name, ".keras")
		if err := rewriteZip(seq.Path, c.Path, e.edit); err != nil {
			return fmt.Errorf("zip %s: %w", c.Name, err)
		}
		g.add(c)
	}
	b, err := os.ReadFile(seq.Path)
	if err != nil {
		return err
	}
	c := Case{Name: "zip/" + seq.Label + "/prefixed", Family: "zip", Kind: Model, Want: Either, Source: seq, Note: "1000 bytes of garbage before the archive"}
	return g.write(c, ".keras", append(bytes.Repeat([]byte{0xab}, 1000), b...))
}
