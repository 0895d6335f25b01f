package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Typed access to Keras JSON configs. Configs are decoded with
// json.Decoder.UseNumber, so numbers arrive as json.Number and can be range
// checked before they are converted: a hostile "units": 1e12 becomes an
// error, never an allocation.

// maxDim bounds every size read from a config (units, filters, kernel
// sizes, shapes): 2^31-1, so that products computed in int64 or float64
// cannot overflow before the parameter budget check sees them.
const maxDim = math.MaxInt32

// maxConfigBytes bounds a JSON model config (model_config attribute,
// config.json, to_json file).
const maxConfigBytes = 64 << 20

// decodeJSON decodes a JSON document keeping numbers as json.Number.
func decodeJSON(data []byte) (any, error) {
	if len(data) > maxConfigBytes {
		return nil, fmt.Errorf("config of %d bytes is larger than the %d-byte limit", len(data), maxConfigBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("config is not valid JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("config has data after the JSON value")
	}
	return v, nil
}

// cfg is one JSON object of a config with a description of where it is,
// for error messages (`layer "conv2d_1" (Conv2D)`).
type cfg struct {
	m     map[string]any
	where string
}

func newCfg(v any, where string) (cfg, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return cfg{}, fmt.Errorf("%s: config must be a JSON object, got %s", where, jsonKind(v))
	}
	return cfg{m: m, where: where}, nil
}

func (c cfg) errorf(key, format string, args ...any) error {
	return fmt.Errorf("%s: config %q: %s", c.where, key, fmt.Sprintf(format, args...))
}

// has reports whether key is present and not null.
func (c cfg) has(key string) bool {
	v, ok := c.m[key]
	return ok && v != nil
}

func (c cfg) get(key string) any { return c.m[key] }

// str returns a string value (def if absent or null).
func (c cfg) str(key, def string) (string, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", c.errorf(key, "want a string, got %s", jsonKind(v))
	}
	return s, nil
}

// boolean returns a bool; 0 and 1 are accepted as Python's bool subclass
// (tf.keras 2.14 wrote "scale": 1).
func (c cfg) boolean(key string, def bool) (bool, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	switch t := v.(type) {
	case bool:
		return t, nil
	case json.Number:
		switch t.String() {
		case "0", "0.0":
			return false, nil
		case "1", "1.0":
			return true, nil
		}
	}
	return false, c.errorf(key, "want true or false, got %s", jsonKind(v))
}

// float returns a finite number.
func (c cfg) float(key string, def float64) (float64, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	f, err := toFloat(v)
	if err != nil {
		return 0, c.errorf(key, "%v", err)
	}
	return f, nil
}

// integer returns an integer in [lo, maxDim].
func (c cfg) integer(key string, def, lo int) (int, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return def, nil
	}
	n, err := toInt(v, lo)
	if err != nil {
		return 0, c.errorf(key, "%v", err)
	}
	return n, nil
}

// tuple returns n integers in [lo, maxDim]; a single integer is repeated n
// times, as Keras's conv_utils.normalize_tuple does.
func (c cfg) tuple(key string, n int, def []int, lo int) ([]int, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		if def == nil {
			return nil, c.errorf(key, "missing")
		}
		return append([]int(nil), def...), nil
	}
	if _, isNum := v.(json.Number); isNum {
		x, err := toInt(v, lo)
		if err != nil {
			return nil, c.errorf(key, "%v", err)
		}
		out := make([]int, n)
		for i := range out {
			out[i] = x
		}
		return out, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, c.errorf(key, "want an integer or a list of %d integers, got %s", n, jsonKind(v))
	}
	if len(list) != n {
		return nil, c.errorf(key, "want %d integers, got %d", n, len(list))
	}
	out := make([]int, n)
	for i, e := range list {
		x, err := toInt(e, lo)
		if err != nil {
			return nil, c.errorf(key, "element %d: %v", i, err)
		}
		out[i] = x
	}
	return out, nil
}

// pair is tuple for 2 values.
func (c cfg) pair(key string, def int, lo int) ([2]int, error) {
	t, err := c.tuple(key, 2, []int{def, def}, lo)
	if err != nil {
		return [2]int{}, err
	}
	return [2]int{t[0], t[1]}, nil
}

// shape reads a shape list: integers >= 1 or null (unknown, -1). With
// batch, the first element is the batch dimension and is dropped.
func (c cfg) shape(key string, batch bool) ([]int, error) {
	v := c.m[key]
	list, ok := v.([]any)
	if !ok {
		return nil, c.errorf(key, "want a list of dimensions, got %s", jsonKind(v))
	}
	if batch {
		if len(list) == 0 {
			return nil, c.errorf(key, "empty shape has no batch dimension")
		}
		list = list[1:]
	}
	if len(list) > 16 {
		return nil, c.errorf(key, "rank %d is too large", len(list))
	}
	out := make([]int, len(list))
	for i, e := range list {
		if e == nil {
			out[i] = -1
			continue
		}
		n, err := toInt(e, 1)
		if err != nil {
			return nil, c.errorf(key, "dimension %d: %v", i, err)
		}
		out[i] = n
	}
	return out, nil
}

// list returns a JSON array value (nil if absent or null).
func (c cfg) list(key string) ([]any, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, c.errorf(key, "want a list, got %s", jsonKind(v))
	}
	return l, nil
}

// object returns a JSON object value (nil map if absent or null).
func (c cfg) object(key string) (map[string]any, error) {
	v, ok := c.m[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, c.errorf(key, "want an object, got %s", jsonKind(v))
	}
	return m, nil
}

func toFloat(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("want a number, got %s", jsonKind(v))
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("number %s is out of range", n)
	}
	return f, nil
}

func toInt(v any, lo int) (int, error) {
	f, err := toFloat(v)
	if err != nil {
		return 0, fmt.Errorf("want an integer: %v", err)
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("want an integer, got %v", f)
	}
	if f < float64(lo) || f > maxDim {
		return 0, fmt.Errorf("value %v is out of range [%d, %d]", f, lo, maxDim)
	}
	return int(f), nil
}

// jsonKind describes a JSON value for messages: `string "abc"`, `number 3`.
func jsonKind(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		if len(t) > 40 {
			t = t[:40] + "..."
		}
		return fmt.Sprintf("string %q", t)
	case json.Number:
		return "number " + t.String()
	case float64:
		return fmt.Sprintf("number %v", t)
	case bool:
		return fmt.Sprintf("boolean %v", t)
	case []any:
		return fmt.Sprintf("a list of %d elements", len(t))
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// plainJSON converts a decoded config (json.Number numbers) into what
// encoding/json produces by default (float64 numbers), for RegisterLayer
// functions.
func plainJSON(v any) any {
	switch t := v.(type) {
	case json.Number:
		f, _ := t.Float64()
		return f
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = plainJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = plainJSON(e)
		}
		return out
	}
	return v
}

// sortedKeys returns the keys of a map, sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dataFormat reads data_format (Keras 2/3) or dim_ordering (Keras 1) and
// reports whether it is channels_first.
func (c cfg) channelsFirst() (bool, error) {
	if c.has("data_format") {
		f, err := c.str("data_format", "channels_last")
		if err != nil {
			return false, err
		}
		switch f {
		case "channels_last":
			return false, nil
		case "channels_first":
			return true, nil
		}
		return false, c.errorf("data_format", "want \"channels_last\" or \"channels_first\", got %q", f)
	}
	if c.has("dim_ordering") {
		f, err := c.str("dim_ordering", "tf")
		if err != nil {
			return false, err
		}
		switch f {
		case "tf", "default":
			return false, nil
		case "th":
			return true, nil
		}
		return false, c.errorf("dim_ordering", "want \"tf\" or \"th\", got %q", f)
	}
	return false, nil
}

// quoteList formats names for messages: "a", "b", "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
