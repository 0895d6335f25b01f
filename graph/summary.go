package graph

import (
	"fmt"
	"strings"
)

// Summary returns the text of Keras's model.summary() in the classic format
// of tf.keras 2.0–2.6: a narrow three-column table for sequential-like
// models (a chain of single-input calls, no shared layers — VGG16 is one),
// else a 98-column table with "Connected to". Rows have trailing spaces and
// over-long cells are cut, exactly as Keras prints them.
func (m *Model) Summary() string {
	var b strings.Builder
	seq := m.sequentialLike()
	lineLength := 98
	positions := []int{32, 53, 65, 98} // int([.33, .55, .67, 1] * 98)
	header := []string{"Layer (type)", "Output Shape", "Param #", "Connected to"}
	if seq {
		lineLength = 65
		positions = []int{29, 55, 65} // int([.45, .85, 1] * 65)
		header = header[:3]
	}
	relevant := map[*Node]bool{}
	for _, n := range m.order {
		relevant[n] = true
	}
	println := func(s string) { b.WriteString(s); b.WriteByte('\n') }
	println(fmt.Sprintf("Model: %q", m.name))
	println(strings.Repeat("_", lineLength))
	println(summaryRow(header, positions))
	println(strings.Repeat("=", lineLength))
	layers := m.Layers()
	for i, l := range layers {
		base := l.Base()
		fields := []string{base.name + " (" + base.class + ")", outputShapeString(l), fmt.Sprint(countParams(l))}
		var conns []string
		if !seq {
			for _, n := range base.nodes {
				if !relevant[n] {
					continue
				}
				for _, p := range n.Inputs {
					conns = append(conns, fmt.Sprintf("%s[%d][0]", p.Layer.Base().name, p.Index))
				}
			}
			first := ""
			if len(conns) > 0 {
				first = conns[0]
			}
			fields = append(fields, first)
		}
		println(summaryRow(fields, positions))
		for _, c := range conns[min(1, len(conns)):] {
			println(summaryRow([]string{"", "", "", c}, positions))
		}
		if i == len(layers)-1 {
			println(strings.Repeat("=", lineLength))
		} else {
			println(strings.Repeat("_", lineLength))
		}
	}
	trainable, frozen := m.ParamCounts()
	println("Total params: " + thousands(trainable+frozen))
	println("Trainable params: " + thousands(trainable))
	println("Non-trainable params: " + thousands(frozen))
	println(strings.Repeat("_", lineLength))
	return b.String()
}

// sequentialLike is Keras's test: every depth of the graph holds one node,
// no node has several inputs, and no layer is called twice in the model.
func (m *Model) sequentialLike() bool {
	if m.sequential {
		return true
	}
	perDepth := map[int]int{}
	for _, n := range m.order {
		perDepth[m.depth[n]]++
		if perDepth[m.depth[n]] > 1 || len(n.Inputs) > 1 {
			return false
		}
	}
	calls := map[Layer]int{}
	for _, n := range m.order {
		calls[n.Layer]++
		if calls[n.Layer] > 1 {
			return false
		}
	}
	return true
}

// summaryRow is Keras's print_row: each field is appended after replacing
// the line's last character by a space, then the line is cut or padded to
// the field's end position.
func summaryRow(fields []string, positions []int) string {
	var line []rune
	for i, f := range fields {
		if i > 0 && len(line) > 0 {
			line = append(line[:len(line)-1], ' ')
		}
		line = append(line, []rune(f)...)
		if len(line) > positions[i] {
			line = line[:positions[i]]
		}
		for len(line) < positions[i] {
			line = append(line, ' ')
		}
	}
	return string(line)
}

// outputShapeString is str(layer.output_shape): an InputLayer's shape is a
// one-element list in tf.keras, and a layer called with different output
// shapes prints "multiple".
func outputShapeString(l Layer) string {
	nodes := l.Base().nodes
	if len(nodes) == 0 {
		return "multiple"
	}
	s := nodes[0].Shape.String()
	for _, n := range nodes[1:] {
		if n.Shape.String() != s {
			return "multiple"
		}
	}
	if _, ok := l.(*InputLayer); ok {
		return "[" + s + "]"
	}
	return s
}

func countParams(l Layer) int {
	if m, ok := l.(*Model); ok {
		return m.CountParams()
	}
	return l.Base().CountParams()
}

// thousands formats n with comma separators, like Python's "{:,}".
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
