package malformed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// A configMut edits a decoded model config (numbers as json.Number). It
// returns false when the config has nothing to edit (no such key).
type configMut struct {
	name string
	want Want
	note string
	edit func(root any) bool
	// text, if set, edits the encoded config instead.
	text func(s string) (string, bool)
}

func jsonUnmarshal(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

func jsonMarshal(v any) (string, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// sortedKeys returns a map's keys in order, so walks are deterministic.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// findKey returns the first map (depth first, layers in order, keys
// sorted) that holds key.
func findKey(v any, key string) map[string]any {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x[key]; ok {
			return x
		}
		for _, k := range sortedKeys(x) {
			if m := findKey(x[k], key); m != nil {
				return m
			}
		}
	case []any:
		for _, e := range x {
			if m := findKey(e, key); m != nil {
				return m
			}
		}
	}
	return nil
}

// layersOf returns the top model's list of layer entries.
func layersOf(root any) []any {
	m, _ := root.(map[string]any)
	switch c := m["config"].(type) {
	case map[string]any:
		l, _ := c["layers"].([]any)
		return l
	case []any:
		return c
	}
	return nil
}

// layerName returns a layer entry's name (config.name, else name).
func layerName(l any) string {
	m, _ := l.(map[string]any)
	if c, ok := m["config"].(map[string]any); ok {
		if n, ok := c["name"].(string); ok {
			return n
		}
	}
	n, _ := m["name"].(string)
	return n
}

// setName renames a layer entry everywhere it names itself.
func setName(l any, name string) {
	m, _ := l.(map[string]any)
	if c, ok := m["config"].(map[string]any); ok {
		c["name"] = name
	}
	if _, ok := m["name"]; ok {
		m["name"] = name
	}
}

// replaceStrings replaces every string value equal to from by to inside v.
func replaceStrings(v any, from, to string) int {
	n := 0
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if s, ok := x[k].(string); ok && s == from {
				x[k] = to
				n++
			} else {
				n += replaceStrings(x[k], from, to)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok && s == from {
				x[i] = to
				n++
			} else {
				n += replaceStrings(e, from, to)
			}
		}
	}
	return n
}

// setFirst sets the first occurrence of key (see findKey).
func setFirst(key string, value any) func(any) bool {
	return func(root any) bool {
		m := findKey(layersOf(root), key)
		if m == nil {
			return false
		}
		m[key] = value
		return true
	}
}

// setInputShape sets the model input's declared shape, whichever key the
// config uses (batch_input_shape, batch_shape).
func setInputShape(value any) func(any) bool {
	return func(root any) bool {
		for _, k := range []string{"batch_input_shape", "batch_shape"} {
			if m := findKey(layersOf(root), k); m != nil {
				m[k] = value
				return true
			}
		}
		return false
	}
}

func num(s string) json.Number { return json.Number(s) }

// numberToken sets key to a placeholder and, in the text, replaces it by a
// raw token (NaN, Infinity: Python's json writes them).
func numberToken(name, key, token string) configMut {
	const ph = "@@malformed-token@@"
	return configMut{name: name, want: Fails, note: key + " = " + token,
		edit: setFirst(key, ph),
		text: func(s string) (string, bool) {
			if !strings.Contains(s, `"`+ph+`"`) {
				return s, false
			}
			return strings.Replace(s, `"`+ph+`"`, token, 1), true
		}}
}

// functionalEdit renames the references in the inbound nodes of the first
// layer that has any: to a missing layer, to the model's last layer (a
// cycle) or to itself.
func functionalEdit(kind string) func(any) bool {
	return func(root any) bool {
		layers := layersOf(root)
		if len(layers) < 3 {
			return false
		}
		var names []string
		for _, l := range layers {
			names = append(names, layerName(l))
		}
		for i, l := range layers {
			m, _ := l.(map[string]any)
			in, ok := m["inbound_nodes"].([]any)
			if !ok || len(in) == 0 || i == len(layers)-1 {
				continue
			}
			to := map[string]string{"dangling": "ghost_layer", "cycle": names[len(names)-1], "self": names[i]}[kind]
			n := 0
			for j, other := range names {
				if j != i {
					n += replaceStrings(m["inbound_nodes"], other, to)
				}
			}
			return n > 0
		}
		return false
	}
}

// nest wraps the model's layers in depth nested Sequential models.
func nest(depth int) func(any) bool {
	return func(root any) bool {
		top, _ := root.(map[string]any)
		cfg, ok := top["config"].(map[string]any)
		if !ok || top["class_name"] != "Sequential" {
			return false
		}
		layers, _ := cfg["layers"].([]any)
		if len(layers) == 0 {
			return false
		}
		inner, innerCfg := map[string]any{}, map[string]any{}
		for k, v := range top {
			inner[k] = v
		}
		for k, v := range cfg {
			innerCfg[k] = v
		}
		innerCfg["name"] = "innermost"
		inner["config"] = innerCfg
		cur := inner
		for d := range depth {
			c := map[string]any{"name": fmt.Sprintf("nest_%d", d), "layers": []any{cur}}
			cur = map[string]any{"class_name": "Sequential", "config": c}
			if m, ok := top["module"]; ok {
				cur["module"] = m
			}
		}
		cfg["layers"] = []any{cur}
		return true
	}
}

func configMuts() []configMut {
	ms := []configMut{
		{name: "identity", want: Works, note: "decoded and encoded again (control)", edit: func(any) bool { return true }},
	}
	type v struct {
		name string
		val  any
		want Want
	}
	bad := func(key string, vals ...v) {
		for _, x := range vals {
			ms = append(ms, configMut{name: key + "-" + x.name, want: x.want, note: fmt.Sprintf("%s = %v", key, x.val), edit: setFirst(key, x.val)})
		}
	}
	bad("units", v{"1e12", num("1e12"), Fails}, v{"neg", num("-1"), Fails}, v{"zero", num("0"), Fails},
		v{"string", "3", Fails}, v{"frac", num("2.5"), Fails}, v{"null", nil, Fails}, v{"bool", true, Fails},
		v{"1e308", num("1e308"), Fails}, v{"1e400", num("1e400"), Fails}, v{"3M", num("3000000"), Fails}, v{"list", []any{num("3")}, Fails})
	bad("filters", v{"1e12", num("1e12"), Fails}, v{"neg", num("-4"), Fails}, v{"zero", num("0"), Fails},
		v{"string", "4", Fails}, v{"1e6", num("1000000"), Fails})
	bad("kernel_size", v{"1e6", num("1000000"), Fails}, v{"1e6x1e6", []any{num("1000000"), num("1000000")}, Fails},
		v{"zero", []any{num("0"), num("0")}, Fails}, v{"neg", []any{num("-3"), num("3")}, Fails},
		v{"string", "3", Fails}, v{"rank1", []any{num("3")}, Fails}, v{"rank3", []any{num("3"), num("3"), num("3")}, Fails},
		v{"nested", []any{[]any{num("3")}}, Fails}, v{"empty", []any{}, Fails})
	bad("strides", v{"zero", []any{num("0"), num("0")}, Fails}, v{"neg", num("-1"), Fails}, v{"1e9", num("1000000000"), Either})
	bad("pool_size", v{"zero", []any{num("0"), num("0")}, Fails}, v{"1e9", num("1000000000"), Fails})
	bad("dilation_rate", v{"zero", num("0"), Fails}, v{"1e9", num("1000000000"), Either})
	bad("padding", v{"bogus", "bogus", Fails}, v{"number", num("3"), Fails})
	bad("activation", v{"unknown", "no_such_activation", Fails}, v{"number", num("7"), Fails},
		v{"object", map[string]any{"class_name": "NoSuch", "config": map[string]any{}}, Fails})
	bad("rate", v{"neg", num("-1"), Either}, v{"string", "x", Fails})
	bad("target_shape", v{"1e12", []any{num("1000000000000")}, Fails}, v{"two-minus-one", []any{num("-1"), num("-1")}, Fails},
		v{"zero", []any{num("0")}, Fails})
	bad("axis", v{"99", num("99"), Fails}, v{"-99", num("-99"), Fails}, v{"string", "x", Fails})
	bad("use_bias", v{"string", "yes", Fails})
	bad("data_format", v{"bogus", "channels_middle", Fails})
	for _, x := range []v{
		{"1e9", []any{nil, num("1000000000"), num("1000000000"), num("3")}, Fails},
		{"neg", []any{nil, num("-5"), num("8"), num("3")}, Fails},
		{"zero", []any{nil, num("0"), num("8"), num("3")}, Fails},
		{"string", "x", Fails},
		{"no-dims", []any{}, Fails},
		{"rank40", append([]any{nil}, slices.Repeat([]any{num("2")}, 40)...), Fails},
		{"100000-square", []any{nil, num("100000"), num("100000"), num("3")}, Either},
	} {
		ms = append(ms, configMut{name: "input-shape-" + x.name, want: x.want, note: fmt.Sprintf("input shape %v", x.val), edit: setInputShape(x.val)})
	}
	ms = append(ms,
		numberToken("units-nan", "units", "NaN"), numberToken("units-inf", "units", "Infinity"), numberToken("units-neginf", "units", "-Infinity"),
		configMut{name: "class-unknown", want: Fails, note: "a layer class that does not exist", edit: setFirst("class_name", "NoSuchLayer")},
		configMut{name: "class-lambda", want: Fails, note: "a Lambda layer", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) < 2 {
				return false
			}
			ls[len(ls)-1].(map[string]any)["class_name"] = "Lambda"
			return true
		}},
		configMut{name: "class-number", want: Fails, note: "class_name is a number", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) == 0 {
				return false
			}
			ls[len(ls)-1].(map[string]any)["class_name"] = num("42")
			return true
		}},
		configMut{name: "layer-config-string", want: Fails, note: "a layer's config is a string", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) == 0 {
				return false
			}
			ls[len(ls)-1].(map[string]any)["config"] = "x"
			return true
		}},
		configMut{name: "layer-config-null", want: Fails, note: "a layer's config is null", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) == 0 {
				return false
			}
			ls[len(ls)-1].(map[string]any)["config"] = nil
			return true
		}},
		configMut{name: "layer-not-object", want: Fails, note: "a layer entry is a number", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) == 0 {
				return false
			}
			ls[len(ls)-1] = num("42")
			return true
		}},
		configMut{name: "layers-string", want: Fails, note: "layers is a string", edit: func(root any) bool {
			c, ok := root.(map[string]any)["config"].(map[string]any)
			if !ok {
				return false
			}
			c["layers"] = "x"
			return true
		}},
		configMut{name: "layers-empty", want: Fails, note: "no layers", edit: func(root any) bool {
			c, ok := root.(map[string]any)["config"].(map[string]any)
			if !ok {
				return false
			}
			c["layers"] = []any{}
			return true
		}},
		configMut{name: "config-missing", want: Fails, note: "the model has no config", edit: func(root any) bool {
			delete(root.(map[string]any), "config")
			return true
		}},
		configMut{name: "top-array", want: Fails, note: "the config is an array", text: func(string) (string, bool) { return "[1, 2, 3]", true }},
		configMut{name: "top-number", want: Fails, note: "the config is a number", text: func(string) (string, bool) { return "42", true }},
		configMut{name: "deep-nesting", want: Fails, note: "100000 nested arrays", text: func(string) (string, bool) {
			return strings.Repeat("[", 100000) + strings.Repeat("]", 100000), true
		}},
		configMut{name: "truncated-json", want: Fails, note: "the config text cut in half", text: func(s string) (string, bool) { return s[:len(s)/2], true }},
		configMut{name: "trailing-garbage", want: Either, note: "garbage after the config", text: func(s string) (string, bool) { return s + "}}}]]", true }},
		configMut{name: "duplicate-name", want: Fails, note: "two layers with the same name", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) < 3 {
				return false
			}
			setName(ls[2], layerName(ls[1]))
			return true
		}},
		configMut{name: "long-name", want: Either, note: "a layer name of 1 MB", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) < 2 {
				return false
			}
			old := layerName(ls[1])
			replaceStrings(root, old, strings.Repeat("n", 1<<20))
			return true
		}},
		configMut{name: "slash-name", want: Either, note: "a layer renamed ../../etc/passwd (with its references)", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) < 2 {
				return false
			}
			replaceStrings(root, layerName(ls[1]), "../../etc/passwd")
			return true
		}},
		configMut{name: "nul-name", want: Either, note: "a layer name holding NUL and newline characters (with its references)", edit: func(root any) bool {
			ls := layersOf(root)
			if len(ls) < 2 {
				return false
			}
			replaceStrings(root, layerName(ls[1]), "a\x00b\nc")
			return true
		}},
		configMut{name: "dangling-ref", want: Fails, note: "an inbound node names a layer that does not exist", edit: functionalEdit("dangling")},
		configMut{name: "cycle", want: Fails, note: "a layer takes its input from the model's last layer", edit: functionalEdit("cycle")},
		configMut{name: "self-loop", want: Fails, note: "a layer takes its input from itself", edit: functionalEdit("self")},
		configMut{name: "output-ghost", want: Fails, note: "output_layers names a missing layer", edit: func(root any) bool {
			m := findKey(root, "output_layers")
			if m == nil {
				return false
			}
			m["output_layers"] = []any{[]any{"ghost", num("0"), num("0")}}
			return true
		}},
		configMut{name: "input-bad-index", want: Fails, note: "input_layers with node and tensor indices out of range", edit: func(root any) bool {
			m := findKey(root, "input_layers")
			if m == nil {
				return false
			}
			in, _ := m["input_layers"].([]any)
			if len(in) == 0 {
				return false
			}
			first, _ := in[0].([]any)
			if len(first) < 3 {
				return false
			}
			m["input_layers"] = []any{[]any{first[0], num("7"), num("99")}}
			return true
		}},
		configMut{name: "nest-40", want: Fails, note: "the layers wrapped in 40 nested Sequential models", edit: nest(40)},
		configMut{name: "nest-3", want: Either, note: "the layers wrapped in 3 nested Sequential models", edit: nest(3)},
		configMut{name: "many-layers", want: Either, note: "5000 linear Activation layers appended", edit: func(root any) bool {
			top, _ := root.(map[string]any)
			c, ok := top["config"].(map[string]any)
			if !ok || top["class_name"] != "Sequential" {
				return false
			}
			ls, _ := c["layers"].([]any)
			for i := range 5000 {
				l := map[string]any{"class_name": "Activation", "config": map[string]any{"name": fmt.Sprintf("lin_%d", i), "activation": "linear", "trainable": true, "dtype": "float32"}}
				if m, ok := ls[0].(map[string]any)["module"]; ok {
					l["module"] = m
				}
				ls = append(ls, l)
			}
			c["layers"] = ls
			return true
		}},
	)
	return ms
}

// configText returns a source's model config: the model_config attribute
// of an .h5 file or config.json of a .keras archive.
func configText(s *Source) (string, error) {
	if strings.HasSuffix(s.Path, ".keras") {
		ms, err := readZip(s.Path)
		if err != nil {
			return "", err
		}
		for _, m := range ms {
			if m.hdr.Name == "config.json" {
				b, err := m.content()
				return string(b), err
			}
		}
		return "", fmt.Errorf("malformed: %s: no config.json", s.Path)
	}
	return h5ReadStringAttr(s.Path, "/", "model_config")
}

// mutate applies a mutation to config text.
func (m configMut) mutate(text string) (string, bool, error) {
	var root any
	if err := jsonUnmarshal([]byte(text), &root); err != nil {
		return "", false, err
	}
	if m.edit != nil {
		if _, ok := root.(map[string]any); !ok || !m.edit(root) {
			return "", false, nil
		}
	}
	out, err := jsonMarshal(root)
	if err != nil {
		return "", false, err
	}
	if m.text != nil {
		s, ok := m.text(out)
		return s, ok, nil
	}
	return out, true, nil
}

// genConfig applies configMuts to the sequential .h5 model (attribute
// model_config), the branching .keras archive (config.json), the nested
// model's .h5 for the nesting edits, and writes the sequential model's
// config as .json files.
func genConfig(g *gen, src Sources) error {
	targets := []struct {
		label string
		json  bool
	}{{"ref-sequential.h5", false}, {"ref-branching.keras", false}, {"ref-sequential.h5", true}}
	for _, tg := range targets {
		s := src.find(tg.label)
		if s == nil {
			return fmt.Errorf("malformed: source %s missing", tg.label)
		}
		text, err := configText(s)
		if err != nil {
			return err
		}
		for _, m := range configMuts() {
			out, ok, err := m.mutate(text)
			if err != nil {
				return fmt.Errorf("config %s on %s: %w", m.name, s.Label, err)
			}
			if !ok {
				continue
			}
			switch {
			case tg.json:
				c := Case{Name: "config/" + s.Label + ".json/" + m.name, Family: "config", Kind: Config, Want: m.want, Source: s, Note: m.note}
				if err := g.write(c, ".json", []byte(out)); err != nil {
					return err
				}
			case strings.HasSuffix(s.Path, ".keras"):
				c := Case{Name: "config/" + s.Label + "/" + m.name, Family: "config", Kind: Model, Want: m.want, Source: s, Note: m.note}
				c.Path = g.path(c.Name, ".keras")
				if err := rewriteZip(s.Path, c.Path, func(ms []zipMember) ([]zipMember, error) {
					for i := range ms {
						if ms[i].hdr.Name == "config.json" {
							if err := ms[i].set([]byte(out), ms[i].hdr.Method); err != nil {
								return nil, err
							}
						}
					}
					return ms, nil
				}); err != nil {
					return err
				}
				g.add(c)
			default:
				c := Case{Name: "config/" + s.Label + "/" + m.name, Family: "config", Kind: Model, Want: m.want, Source: s, Note: m.note}
				if strings.IndexByte(out, 0) >= 0 {
					continue
				}
				c.Path = g.path(c.Name, ".h5")
				if err := copyFile(s.Path, c.Path); err != nil {
					return err
				}
				if err := h5SetStringAttr(c.Path, "/", "model_config", out); err != nil {
					return err
				}
				g.add(c)
			}
		}
	}
	return nil
}
