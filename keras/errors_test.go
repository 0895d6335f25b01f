package keras

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kerago/kerago/graph"
	"github.com/kerago/kerago/ops"
)

// seqConfig returns a tf.keras 2.x Sequential config with an input of the
// given shape and the given layer entries (class, config).
func seqConfig(input []any, layers ...[2]any) string {
	var ls []map[string]any
	ls = append(ls, map[string]any{"class_name": "InputLayer", "config": map[string]any{"batch_input_shape": append([]any{nil}, input...), "name": "in"}})
	for _, l := range layers {
		ls = append(ls, map[string]any{"class_name": l[0], "config": l[1]})
	}
	b, _ := json.Marshal(map[string]any{"class_name": "Sequential", "config": map[string]any{"name": "s", "layers": ls}})
	return string(b)
}

// mustContain checks that err is non-nil and mentions every part.
func mustContain(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestUnknownLayerError(t *testing.T) {
	_, err := ModelFromJSON([]byte(seqConfig([]any{4}, [2]any{"MyFancyNorm", map[string]any{"name": "norm_1"}})), LoadOptions{})
	mustContain(t, err, `layer "norm_1"`, `"MyFancyNorm"`, "Supported classes", "Conv2D", "keras.RegisterLayer")
}

func TestLambdaError(t *testing.T) {
	_, err := ModelFromJSON([]byte(seqConfig([]any{4}, [2]any{"Lambda", map[string]any{"name": "scale", "function": []any{"4wEAAAAAAAAA", nil, nil}}})), LoadOptions{})
	mustContain(t, err, `layer "scale"`, "Python code", "Rescaling", "RegisterLayer")
}

// TestHostileConfigs feeds configs that must be refused with an error
// naming the problem, before any large allocation.
func TestHostileConfigs(t *testing.T) {
	dense := func(units any) [2]any { return [2]any{"Dense", map[string]any{"name": "d", "units": units}} }
	conv := func(c map[string]any) [2]any {
		m := map[string]any{"name": "c", "filters": 4, "kernel_size": []any{3, 3}}
		for k, v := range c {
			m[k] = v
		}
		return [2]any{"Conv2D", m}
	}
	cases := []struct {
		name   string
		config string
		want   []string
	}{
		{"units 1e12", seqConfig([]any{8}, dense(1e12)), []string{`layer "d"`, `"units"`, "out of range"}},
		{"units negative", seqConfig([]any{8}, dense(-3)), []string{`"units"`, "out of range"}},
		{"units zero", seqConfig([]any{8}, dense(0)), []string{`"units"`}},
		{"units string", seqConfig([]any{8}, dense("64")), []string{`"units"`, `string "64"`}},
		{"units fraction", seqConfig([]any{8}, dense(2.5)), []string{`"units"`, "integer"}},
		{"units bool", seqConfig([]any{8}, dense(true)), []string{`"units"`, "boolean"}},
		{"units over budget", seqConfig([]any{100000}, dense(1<<30)), []string{`layer "d"`, "parameters", "MaxParamBytes"}},
		{"kernel 1e6 valid", seqConfig([]any{32, 32, 3}, conv(map[string]any{"kernel_size": []any{1e6, 1e6}})), []string{`layer "c"`, "parameters"}},
		{"kernel 1000 valid", seqConfig([]any{32, 32, 3}, conv(map[string]any{"kernel_size": []any{1000, 1000}})), []string{`layer "c"`, "kernel size"}},
		{"kernel 1e6 same", seqConfig([]any{32, 32, 3}, conv(map[string]any{"kernel_size": []any{1e6, 1e6}, "padding": "same", "filters": 64})), []string{`layer "c"`, "parameters"}},
		{"kernel 1e10", seqConfig([]any{32, 32, 3}, conv(map[string]any{"kernel_size": 1e10})), []string{`"kernel_size"`, "out of range"}},
		{"filters negative", seqConfig([]any{8, 8, 3}, conv(map[string]any{"filters": -1})), []string{`"filters"`}},
		{"strides zero", seqConfig([]any{8, 8, 3}, conv(map[string]any{"strides": []any{0, 1}})), []string{`"strides"`}},
		{"kernel_size list of 3", seqConfig([]any{8, 8, 3}, conv(map[string]any{"kernel_size": []any{3, 3, 3}})), []string{`"kernel_size"`, "want 2"}},
		{"padding bogus", seqConfig([]any{8, 8, 3}, conv(map[string]any{"padding": "causal"})), []string{`"padding"`}},
		{"groups", seqConfig([]any{8, 8, 4}, conv(map[string]any{"groups": 2})), []string{"groups"}},
		{"huge input", seqConfig([]any{1e9, 1e9, 3}), []string{"input shape"}},
		{"input dim string", seqConfig([]any{"28", 28}), []string{"batch_input_shape"}},
		{"upsampling blow-up", seqConfig([]any{100, 100, 3}, [2]any{"UpSampling2D", map[string]any{"name": "u", "size": []any{2e9, 2e9}}}), []string{`layer "u"`}},
		{"padding blow-up", seqConfig([]any{100, 100, 3}, [2]any{"ZeroPadding2D", map[string]any{"name": "z", "padding": 2147483647}}), []string{`layer "z"`}},
		{"reshape mismatch", seqConfig([]any{10}, [2]any{"Reshape", map[string]any{"name": "r", "target_shape": []any{3, 3}}}), []string{`layer "r"`, "total size"}},
		{"reshape zero", seqConfig([]any{10}, [2]any{"Reshape", map[string]any{"name": "r", "target_shape": []any{0, 10}}}), []string{"target_shape"}},
		{"bn mode 2", seqConfig([]any{10}, [2]any{"BatchNormalization", map[string]any{"name": "bn", "mode": 2}}), []string{"mode 2"}},
		{"bn axis 2 of 4-D", seqConfig([]any{4, 4, 3}, [2]any{"BatchNormalization", map[string]any{"name": "bn", "axis": 2}}), []string{`layer "bn"`, "axis 2"}},
		{"no layers", `{"class_name": "Sequential", "config": {"name": "s", "layers": []}}`, []string{"no layers"}},
		{"no input shape", `{"class_name": "Sequential", "config": [{"class_name": "Dense", "config": {"name": "d", "units": 3}}]}`, []string{"input shape"}},
		{"not JSON", `{"class_name": `, []string{"JSON"}},
		{"trailing data", `{} {}`, []string{"after the JSON"}},
		{"not a model", `{"class_name": "Dense", "config": {}}`, []string{"not a Sequential or Functional"}},
		{"config not object", `{"class_name": "Sequential", "config": 3}`, []string{`"config"`}},
		{"layer not object", `{"class_name": "Sequential", "config": [3]}`, []string{"layer 0"}},
		{"layer without class", `{"class_name": "Sequential", "config": [{"config": {"name": "x"}}]}`, []string{"class_name"}},
		{"subclassed model", `{"class_name": "MyModel", "config": {}}`, []string{"MyModel"}},
		{"duplicate names", seqConfig([]any{4}, dense(3), dense(3)), []string{`"d"`, "unique"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, err := ModelFromJSON([]byte(c.config), LoadOptions{})
			if err == nil {
				t.Fatalf("loaded a model with %d parameters", l.Model.CountParams())
			}
			mustContain(t, err, c.want...)
		})
	}
}

// functional returns a tf.keras 2 functional config with one input "in" of
// shape (4,) and the given layers (name, class, config, inbound).
func functional(outputs string, layers ...[4]any) string {
	ls := []any{map[string]any{"class_name": "InputLayer", "name": "in", "config": map[string]any{"batch_input_shape": []any{nil, 4}, "name": "in"}, "inbound_nodes": []any{}}}
	for _, l := range layers {
		ls = append(ls, map[string]any{"name": l[0], "class_name": l[1], "config": l[2], "inbound_nodes": l[3]})
	}
	b, _ := json.Marshal(map[string]any{"class_name": "Functional", "config": map[string]any{
		"name": "f", "layers": ls, "input_layers": []any{[]any{"in", 0, 0}}, "output_layers": []any{[]any{outputs, 0, 0}}}})
	return string(b)
}

func call(refs ...string) []any {
	var node []any
	for _, r := range refs {
		node = append(node, []any{r, 0, 0, map[string]any{}})
	}
	return []any{node}
}

func TestGraphErrors(t *testing.T) {
	d := func(name string) map[string]any { return map[string]any{"name": name, "units": 4} }
	cases := []struct {
		name, config string
		want         []string
	}{
		{"cycle", functional("b",
			[4]any{"a", "Dense", d("a"), call("b")},
			[4]any{"b", "Dense", d("b"), call("a")}), []string{"cycle"}},
		{"self loop", functional("a", [4]any{"a", "Dense", d("a"), call("a")}), []string{`"a"`, "never computed"}},
		{"dangling", functional("a", [4]any{"a", "Dense", d("a"), call("nowhere")}), []string{`"nowhere"`, "unknown layer"}},
		{"bad node index", functional("b",
			[4]any{"a", "Dense", d("a"), call("in")},
			[4]any{"b", "Dense", d("b"), []any{[]any{[]any{"a", 3, 0, map[string]any{}}}}}), []string{"call 3", `"a"`}},
		{"multi-output ref", functional("b",
			[4]any{"a", "Dense", d("a"), call("in")},
			[4]any{"b", "Dense", d("b"), []any{[]any{[]any{"a", 0, 2, map[string]any{}}}}}), []string{"output 2"}},
		{"output unknown", functional("zzz", [4]any{"a", "Dense", d("a"), call("in")}), []string{`"zzz"`}},
		{"inbound not list", functional("a", [4]any{"a", "Dense", d("a"), "in"}), []string{"inbound_nodes"}},
		{"inbound ref malformed", functional("a", [4]any{"a", "Dense", d("a"), []any{[]any{[]any{"in", "x", 0}}}}), []string{"node index"}},
		{"call without inputs", functional("a", [4]any{"a", "Dense", d("a"), []any{[]any{}}}), []string{"no input tensors"}},
		{"duplicate", functional("a", [4]any{"a", "Dense", d("a"), call("in")}, [4]any{"a", "Dense", d("a"), call("in")}), []string{"unique"}},
		{"input called", functional("a", [4]any{"a", "InputLayer", map[string]any{"name": "a", "batch_input_shape": []any{nil, 4}}, call("in")}), []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ModelFromJSON([]byte(c.config), LoadOptions{})
			if c.name == "input called" {
				// An InputLayer entry with inbound nodes is an input; the
				// model output "a" is then not computed from "in".
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			mustContain(t, err, c.want...)
		})
	}
}

func TestDeepNesting(t *testing.T) {
	inner := `{"class_name": "Sequential", "config": {"name": "s0", "layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [null, 2]}}]}}`
	for i := 1; i < 40; i++ {
		inner = fmt.Sprintf(`{"class_name": "Sequential", "config": {"name": "s%d", "layers": [%s]}}`, i, inner)
	}
	_, err := ModelFromJSON([]byte(inner), LoadOptions{})
	mustContain(t, err, "nested more than")
}

func TestParamBudget(t *testing.T) {
	cfg := []byte(seqConfig([]any{10}, [2]any{"Dense", map[string]any{"name": "d", "units": 30}}))
	// 10*30+30 = 330 parameters = 1320 bytes.
	if _, err := ModelFromJSON(cfg, LoadOptions{MaxParamBytes: 1319}); err == nil {
		t.Fatal("a 1320-byte model loaded under a 1319-byte budget")
	} else {
		mustContain(t, err, "330 parameters", "MaxParamBytes")
	}
	l, err := ModelFromJSON(cfg, LoadOptions{MaxParamBytes: 1320})
	if err != nil {
		t.Fatal(err)
	}
	if n := l.Model.CountParams(); n != 330 {
		t.Fatalf("%d parameters, want 330", n)
	}
}

// myScale is a custom layer for TestRegisterLayer: x * factor.
type myScale struct {
	graph.LayerBase
	factor float32
}

func (l *myScale) Build(in []graph.Shape) (graph.Shape, error) { return in[0], nil }
func (l *myScale) Forward(in []*ops.Tensor) (*ops.Tensor, error) {
	out := in[0].Clone()
	for i := range out.Data {
		out.Data[i] *= l.factor
	}
	return out, nil
}

func TestRegisterLayer(t *testing.T) {
	cfg := []byte(seqConfig([]any{3}, [2]any{"MyScale", map[string]any{"name": "scale", "factor": 2.5}}))
	RegisterLayer("MyScale", func(c map[string]any) (graph.Layer, error) {
		f, ok := c["factor"].(float64)
		if !ok {
			return nil, fmt.Errorf("factor is %T", c["factor"])
		}
		l := &myScale{factor: float32(f)}
		l.Init(l, "MyScale", c["name"].(string))
		return l, nil
	})
	defer RegisterLayer("MyScale", nil)
	l, err := ModelFromJSON(cfg, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := ops.FromData([]float32{1, -2, 4}, 1, 3)
	out, err := l.Model.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{2.5, -5, 10}; fmt.Sprint(out[0].Data) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", out[0].Data, want)
	}
	// Errors and panics of the registered function name the layer.
	RegisterLayer("MyScale", func(c map[string]any) (graph.Layer, error) { panic("boom") })
	_, err = ModelFromJSON(cfg, LoadOptions{})
	mustContain(t, err, `layer "scale"`, "boom")
	RegisterLayer("MyScale", nil)
	_, err = ModelFromJSON(cfg, LoadOptions{})
	mustContain(t, err, "unknown layer class")
}

// FuzzModelFromJSON checks that no config makes the builder panic or
// allocate without bound (the seeds run in every go test).
func FuzzModelFromJSON(f *testing.F) {
	f.Add([]byte(seqConfig([]any{8, 8, 3}, [2]any{"Conv2D", map[string]any{"name": "c", "filters": 4, "kernel_size": 3, "padding": "same"}},
		[2]any{"Flatten", map[string]any{"name": "f"}}, [2]any{"Dense", map[string]any{"name": "d", "units": 3}})))
	f.Add([]byte(functional("b", [4]any{"a", "Dense", map[string]any{"name": "a", "units": 4}, call("in")},
		[4]any{"b", "Concatenate", map[string]any{"name": "b"}, call("a", "in")})))
	for _, p := range []string{"keras1/keras2cpp_my_nn_arch.json", "keras1/dl4j_keras1_functional_mlp_config.json", "keras3/himal_model_architecture.json"} {
		if b, err := os.ReadFile(filepath.Join(corpusDir, p)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ModelFromJSON(data, LoadOptions{MaxParamBytes: 1 << 26})
	})
}
