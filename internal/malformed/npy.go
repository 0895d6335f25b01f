package malformed

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
)

// npyFile builds a .npy file: magic, version, header length (2 bytes for
// version 1, 4 for 2 and 3), the header text padded with spaces and a
// newline to a multiple of 64 bytes, then data.
func npyFile(major byte, header string, data []byte) []byte {
	lenBytes := 2
	if major >= 2 {
		lenBytes = 4
	}
	pre := 6 + 2 + lenBytes
	total := pre + len(header) + 1
	pad := (64 - total%64) % 64
	h := header + strings.Repeat(" ", pad) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.Write([]byte{major, 0})
	if lenBytes == 2 {
		binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(h)))
	}
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

// rawNpy is a version 1 .npy file with the header text exactly as given
// (no padding, no newline).
func rawNpy(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(header)))
	return append(append(b, header...), data...)
}

func npyHeader(descr string, fortran bool, shape string) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
}

// npyData returns the data bytes of a version 1 .npy file.
func npyData(b []byte) ([]byte, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		return nil, fmt.Errorf("malformed: not a version 1 .npy file")
	}
	end := 10 + int(binary.LittleEndian.Uint16(b[8:10]))
	if end > len(b) {
		return nil, fmt.Errorf("malformed: truncated .npy header")
	}
	return b[end:], nil
}

// genNpy makes .npy inputs for the sequential model from its (2, 8, 8, 3)
// float32 input.
func genNpy(g *gen, src Sources) error {
	base, err := os.ReadFile(src.Npy)
	if err != nil {
		return err
	}
	data, err := npyData(base)
	if err != nil {
		return err
	}
	if len(data) != 2*8*8*3*4 {
		return fmt.Errorf("malformed: %s is not (2, 8, 8, 3) float32", src.Npy)
	}
	const shape = "(2, 8, 8, 3)"
	f32 := func(descr string) string { return npyHeader(descr, false, shape) }
	f64 := make([]byte, 0, 2*len(data))
	be := make([]byte, len(data))
	nan := slices.Clone(data)
	for i := 0; i < len(data); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(data[i:]))
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(float64(v)))
		binary.BigEndian.PutUint32(be[i:], math.Float32bits(v))
	}
	binary.LittleEndian.PutUint32(nan[0:], math.Float32bits(float32(math.NaN())))
	binary.LittleEndian.PutUint32(nan[4:], math.Float32bits(float32(math.Inf(1))))
	binary.LittleEndian.PutUint32(nan[8:], math.Float32bits(float32(math.Inf(-1))))
	valid := npyFile(1, f32("<f4"), data)
	cases := []struct {
		name string
		want Want
		b    []byte
		note string
	}{
		{"valid", Works, valid, "rebuilt (2, 8, 8, 3) float32 input (control)"},
		{"float64", Works, npyFile(1, f32("<f8"), f64), "float64"},
		{"big-endian", Works, npyFile(1, f32(">f4"), be), "big-endian float32"},
		{"version-2", Works, npyFile(2, f32("<f4"), data), "format version 2.0"},
		{"version-3", Either, npyFile(3, f32("<f4"), data), "format version 3.0"},
		{"nan-inf", Works, npyFile(1, f32("<f4"), nan), "NaN and infinities among the values"},
		{"fortran", Fails, npyFile(1, npyHeader("<f4", true, shape), data), "Fortran order"},
		{"int32", Fails, npyFile(1, f32("<i4"), data), "int32"},
		{"float16", Fails, npyFile(1, f32("<f2"), data[:len(data)/2]), "float16"},
		{"bool", Fails, npyFile(1, f32("|b1"), data[:len(data)/4]), "bool"},
		{"object", Fails, npyFile(1, f32("|O"), data[:len(data)/4]), "Python objects (pickle)"},
		{"complex64", Fails, npyFile(1, f32("<c8"), append(slices.Clone(data), data...)), "complex64"},
		{"unicode", Fails, npyFile(1, f32("<U1"), data), "unicode strings"},
		{"structured", Fails, npyFile(1, fmt.Sprintf("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': %s, }", shape), data), "a structured dtype"},
		{"scalar", Fails, npyFile(1, npyHeader("<f4", false, "()"), data[:4]), "a scalar"},
		{"no-batch", Fails, npyFile(1, npyHeader("<f4", false, "(8, 8, 3)"), data[:8*8*3*4]), "shape (8, 8, 3): no batch axis"},
		{"wrong-channels", Fails, npyFile(1, npyHeader("<f4", false, "(2, 8, 8, 1)"), data[:2*8*8*4]), "shape (2, 8, 8, 1)"},
		{"rank5", Fails, npyFile(1, npyHeader("<f4", false, "(2, 8, 8, 3, 1)"), data), "shape (2, 8, 8, 3, 1)"},
		{"rank9", Fails, npyFile(1, npyHeader("<f4", false, "(2, 8, 8, 3, 1, 1, 1, 1, 1)"), data), "rank 9"},
		{"rank64", Fails, npyFile(1, npyHeader("<f4", false, "("+strings.Repeat("1, ", 63)+"2)"), data[:8]), "rank 64"},
		{"zero-dim", Fails, npyFile(1, npyHeader("<f4", false, "(0, 8, 8, 3)"), nil), "shape (0, 8, 8, 3)"},
		{"negative-dim", Fails, npyFile(1, npyHeader("<f4", false, "(-1, 8, 8, 3)"), data), "shape (-1, 8, 8, 3)"},
		{"overflow-2^64", Fails, npyFile(1, npyHeader("<f4", false, "(4294967296, 4294967296, 1)"), nil), "shape whose product is 2^64 (0 modulo 2^64), no data"},
		{"overflow-2^64-data", Fails, npyFile(1, npyHeader("<f4", false, "(4294967296, 4294967296, 1, 1)"), data[:16]), "shape whose product is 2^64, 16 bytes of data"},
		{"overflow-wrap-4", Fails, npyFile(1, npyHeader("<f4", false, "(4611686018427387905, 4, 1)"), data[:16]), "shape whose product in bytes wraps to 16"},
		{"huge-dim", Fails, npyFile(1, npyHeader("<f4", false, "(99999999999999999999999, 8, 8, 3)"), data), "a dimension beyond 64 bits"},
		{"data-short", Fails, valid[:len(valid)-1], "the last byte cut"},
		{"data-long", Fails, append(slices.Clone(valid), 0, 0, 0, 0), "4 bytes too many"},
		{"header-only", Fails, valid[:len(valid)-len(data)], "no data"},
		{"empty", Fails, nil, "empty file"},
		{"magic-only", Fails, []byte("\x93NUMPY"), "the magic string only"},
		{"no-magic", Fails, append([]byte("\x94NUMPY"), valid[6:]...), "a wrong magic string"},
		{"header-len-past-end", Fails, append([]byte("\x93NUMPY\x01\x00\xff\xff"), "{'descr'"...), "header length 65535, file shorter"},
		{"v2-header-len-4G", Fails, append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\xff"), "{'descr'"...), "version 2 header length 2^32-1"},
		{"header-1MB", Fails, npyFile(2, npyHeader("<f4", false, shape)+strings.Repeat(" ", 1<<20), data), "a header of 1 MB"},
		{"header-not-dict", Fails, npyFile(1, "[1, 2, 3]", data), "header is a list"},
		{"header-unclosed", Fails, npyFile(1, "{'descr': '<f4', 'shape': (2, 8", data), "header dict not closed"},
		{"header-no-shape", Fails, npyFile(1, "{'descr': '<f4', 'fortran_order': False}", data), "header without shape"},
		{"header-code", Fails, npyFile(1, "{'descr': __import__('os').getcwd(), 'fortran_order': False, 'shape': (2, 8, 8, 3)}", data), "Python code in the header"},
		{"header-binary", Fails, npyFile(1, "{'descr': '<f4\xff\xfe\x00', 'fortran_order': False, 'shape': (2, 8, 8, 3)}", data), "binary bytes in the header"},
		{"header-no-newline", Fails, rawNpy(f32("<f4"), data), "a header without its closing newline"},
		{"header-keys-reordered", Fails, npyFile(1, "{'shape': (2, 8, 8, 3), 'fortran_order': False, 'descr': '<f4', }", data), "header keys in another order"},
		{"header-extra-keys", Either, npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 8, 8, 3), 'x': 1}", data), "an extra header key"},
	}
	for _, c := range cases {
		if err := g.write(Case{Name: "npy/" + c.name, Family: "npy", Kind: Npy, Want: c.want, Source: src.NpyModel, Note: c.note}, ".npy", c.b); err != nil {
			return err
		}
	}
	return nil
}
