package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/pyjson"
)

// encode marshals v the way Wazuh's Python API prints JSON: ", " and ": "
// separators, non-ASCII escaped as \uXXXX, and with pretty a 3-space indent.
// Objects, slices, strings and numbers are written in one pass; other values
// go through encoding/json and are re-spaced.
func encode(v any, pretty bool) ([]byte, error) {
	out, err := appendValue(make([]byte, 0, 512), v)
	if err != nil || !pretty {
		return out, err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "   "); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// objecter is implemented by the envelopes, which render as Objects.
type objecter interface{ object() Object }

func appendValue(b []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case Object:
		b = append(b, '{')
		for i, f := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pyjson.AppendString(b, f.Key)
			b = append(b, ": "...)
			if b, err = appendValue(b, f.Value); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case objecter:
		return appendValue(b, x.object())
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case string:
		return pyjson.AppendString(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case json.RawMessage:
		// Stored JSON (policy and rule bodies) was validated when written.
		return appendSpaced(b, x), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return appendSpaced(b, bytes.TrimRight(buf.Bytes(), "\n")), nil
}

// pythonSpacing adds a space after every ',' and ':' outside strings and
// escapes non-ASCII characters.
func pythonSpacing(in []byte) []byte {
	return appendSpaced(make([]byte, 0, len(in)+len(in)/8), in)
}

// appendSpaced re-spaces valid JSON the Python way: whitespace outside
// strings is dropped, ", " and ": " are written, non-ASCII is escaped.
func appendSpaced(out, in []byte) []byte {
	inString := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case inString:
			switch {
			case c == '\\' && i+1 < len(in):
				out = append(out, c, in[i+1])
				i++
				continue
			case c == '"':
				inString = false
			case c >= utf8.RuneSelf:
				r, n := utf8.DecodeRune(in[i:])
				out = pyjson.AppendEscapedRune(out, r)
				i += n - 1
				continue
			}
			out = append(out, c)
		case c == '"':
			inString = true
			out = append(out, c)
		case c == ',' || c == ':':
			out = append(out, c, ' ')
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			out = append(out, c)
		}
	}
	return out
}

// asciiOnly escapes the non-ASCII characters of already formatted JSON.
func asciiOnly(in []byte) []byte {
	if !bytes.ContainsFunc(in, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return in
	}
	out := make([]byte, 0, len(in)+16)
	for i := 0; i < len(in); {
		r, n := utf8.DecodeRune(in[i:])
		if r < utf8.RuneSelf {
			out = append(out, in[i])
		} else {
			out = pyjson.AppendEscapedRune(out, r)
		}
		i += n
	}
	return out
}

// Object is a JSON object that keeps its keys in insertion order.
type Object []Field

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// MarshalJSON implements json.Marshaler.
func (o Object) MarshalJSON() ([]byte, error) { return appendValue(nil, o) }
