package keras

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// JSON as Python's json.dumps writes it, which is how Keras stores model
// configs: objects keep their key order (Python dicts are ordered), ", "
// and ": " separate items, non-ASCII characters are escaped as \uXXXX
// (ensure_ascii), and floats are written as Python's repr writes them
// (1.0, 0.001, 1e-05, 1e+16). With these rules a config built here is
// byte-for-byte what Keras would write for the same model.

// pyObj is a JSON object with ordered keys.
type pyObj []pyKV

type pyKV struct {
	k string
	v any
}

// set appends a key (keys are never repeated by the builders).
func (o *pyObj) set(k string, v any) { *o = append(*o, pyKV{k, v}) }

// get returns the value of key k, or nil.
func (o pyObj) get(k string) any {
	for _, kv := range o {
		if kv.k == k {
			return kv.v
		}
	}
	return nil
}

// obj builds a pyObj from alternating keys and values.
func obj(kv ...any) pyObj {
	o := make(pyObj, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		o = append(o, pyKV{kv[i].(string), kv[i+1]})
	}
	return o
}

// pyJSON encodes v the way json.dumps does. Supported values: nil, bool,
// int, float64 (Python float), float32 (widened as numpy's float() does),
// string, []any, []int, []string, pyObj and map[string]any (keys sorted).
func pyJSON(v any) (string, error) {
	var b strings.Builder
	if err := writePyJSON(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writePyJSON(b *strings.Builder, v any, depth int) error {
	if depth > 200 {
		return fmt.Errorf("config nested more than 200 levels deep")
	}
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case float64:
		b.WriteString(pyFloat(t))
	case float32:
		b.WriteString(pyFloat(float64(t)))
	case string:
		writePyString(b, t)
	case []int:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Itoa(x))
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, x)
		}
		b.WriteByte(']')
	case []any:
		b.WriteByte('[')
		for i, x := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writePyJSON(b, x, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case pyObj:
		b.WriteByte('{')
		for i, kv := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, kv.k)
			b.WriteString(": ")
			if err := writePyJSON(b, kv.v, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case map[string]any:
		return writePyJSON(b, sortedObj(t), depth)
	default:
		return fmt.Errorf("cannot write a %T into a Keras config", v)
	}
	return nil
}

// sortedObj turns a map into a pyObj with sorted keys.
func sortedObj(m map[string]any) pyObj {
	o := make(pyObj, 0, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o = append(o, pyKV{k, m[k]})
	}
	return o
}

// pyFloat formats f as Python's repr(float) does: the shortest digits that
// round-trip, in positional notation for exponents -4..15 (with ".0" for
// integral values), else d.ddde±XX. json.dumps writes NaN and Infinity as
// bare words.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
			} else {
				out = digits[:exp+1] + "." + digits[exp+1:]
			}
		} else {
			out = "0." + strings.Repeat("0", -exp-1) + digits
		}
	} else {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out = fmt.Sprintf("%se%s%02d", m, sign, exp)
	}
	if neg {
		return "-" + out
	}
	return out
}

// writePyString writes s as a JSON string with json.dumps's escapes and
// ensure_ascii: \" \\ \n \r \t \b \f, everything else outside ' '..'~' as
// \uXXXX (UTF-16 surrogate pairs above U+FFFF).
// Invalid UTF-8 bytes are written as U+FFFD.
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || (r >= 0x7f && r < 0x10000):
				fmt.Fprintf(b, `\u%04x`, r)
			case r >= 0x10000:
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
