package keras

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/kerago/kerago/ops"
)

// TestMergeModes builds a Keras 1.1-style functional config (Merge layers
// with every supported mode, 3-element inbound nodes, input_dtype) and a
// Keras 2 one (Add, Multiply, Average, Maximum, Minimum, Subtract,
// Concatenate), and checks the outputs against the definitions.
func TestMergeModes(t *testing.T) {
	a := []float32{1, -2, 3.5, 0}
	b := []float32{-4, 5, 0.25, 2}
	naive := map[string]func(x, y float32) float32{
		"sum": func(x, y float32) float32 { return x + y },
		"mul": func(x, y float32) float32 { return x * y },
		"ave": func(x, y float32) float32 { return (x + y) / 2 },
		"max": func(x, y float32) float32 { return float32(math.Max(float64(x), float64(y))) },
		"min": func(x, y float32) float32 { return float32(math.Min(float64(x), float64(y))) },
		"sub": func(x, y float32) float32 { return x - y },
	}
	input := func(name string) map[string]any {
		return map[string]any{"class_name": "InputLayer", "name": name, "inbound_nodes": []any{},
			"config": map[string]any{"batch_input_shape": []any{nil, 4}, "input_dtype": "float32", "name": name}}
	}
	in3 := []any{[]any{[]any{"a", 0, 0}, []any{"b", 0, 0}}}
	in4 := []any{[]any{[]any{"a", 0, 0, map[string]any{}}, []any{"b", 0, 0, map[string]any{}}}}
	keras1 := map[string]string{"m_sum": "sum", "m_mul": "mul", "m_ave": "ave", "m_max": "max", "m_concat": "concat"}
	keras2 := map[string]string{"Add": "sum", "Multiply": "mul", "Average": "ave", "Maximum": "max", "Minimum": "min", "Subtract": "sub", "Concatenate": "concat"}
	for era, table := range map[string]map[string]string{"keras1": keras1, "keras2": keras2} {
		layers := []any{input("a"), input("b")}
		var outs []any
		var names, modes []string
		for k, mode := range table {
			var l map[string]any
			if era == "keras1" {
				l = map[string]any{"class_name": "Merge", "name": k, "inbound_nodes": in3,
					"config": map[string]any{"name": k, "mode": mode, "concat_axis": -1, "mode_type": "raw", "dot_axes": -1}}
			} else {
				l = map[string]any{"class_name": k, "name": "l_" + k, "inbound_nodes": in4, "config": map[string]any{"name": "l_" + k}}
				k = "l_" + k
			}
			layers = append(layers, l)
			outs = append(outs, []any{k, 0, 0})
			names = append(names, k)
			modes = append(modes, mode)
		}
		class := "Model"
		if era == "keras2" {
			class = "Functional"
		}
		cfg, _ := json.Marshal(map[string]any{"class_name": class, "config": map[string]any{"name": "m", "layers": layers,
			"input_layers": []any{[]any{"a", 0, 0}, []any{"b", 0, 0}}, "output_layers": outs}})
		l, err := ModelFromJSON(cfg, LoadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", era, err)
		}
		ta, _ := ops.FromData(append([]float32(nil), a...), 1, 4)
		tb, _ := ops.FromData(append([]float32(nil), b...), 1, 4)
		got, err := l.Model.Predict(ta, tb)
		if err != nil {
			t.Fatal(err)
		}
		for i, mode := range modes {
			var want []float32
			if mode == "concat" {
				want = append(append(want, a...), b...)
			} else {
				for j := range a {
					want = append(want, naive[mode](a[j], b[j]))
				}
			}
			if len(got[i].Data) != len(want) {
				t.Fatalf("%s %s: %v, want %v", era, names[i], got[i].Data, want)
			}
			for j := range want {
				if got[i].Data[j] != want[j] {
					t.Errorf("%s %s (%s): %v, want %v", era, names[i], mode, got[i].Data, want)
					break
				}
			}
		}
	}
	// Unsupported Keras 1 modes are refused by name.
	cfg, _ := json.Marshal(map[string]any{"class_name": "Model", "config": map[string]any{"name": "m",
		"layers": []any{input("a"), input("b"), map[string]any{"class_name": "Merge", "name": "cos", "inbound_nodes": in3,
			"config": map[string]any{"name": "cos", "mode": "cos"}}},
		"input_layers": []any{[]any{"a", 0, 0}, []any{"b", 0, 0}}, "output_layers": []any{[]any{"cos", 0, 0}}}})
	_, err := ModelFromJSON(cfg, LoadOptions{})
	mustContain(t, err, `"cos"`, "not supported")
}
