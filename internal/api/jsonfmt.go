package api

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// encode marshals v the way Wazuh's Python API prints JSON: ", " and ": "
// separators, non-ASCII escaped as \uXXXX, and with pretty a 3-space indent.
func encode(v any, pretty bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	compact := bytes.TrimRight(buf.Bytes(), "\n")
	if pretty {
		var out bytes.Buffer
		if err := json.Indent(&out, compact, "", "   "); err != nil {
			return nil, err
		}
		return asciiOnly(out.Bytes()), nil
	}
	return pythonSpacing(compact), nil
}

// pythonSpacing adds a space after every ',' and ':' outside strings and
// escapes non-ASCII characters.
func pythonSpacing(in []byte) []byte {
	out := make([]byte, 0, len(in)+len(in)/8)
	inString := false
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case inString:
			switch {
			case c == '\\':
				out = append(out, c, in[i+1])
				i++
				continue
			case c == '"':
				inString = false
			case c >= utf8.RuneSelf:
				r, n := utf8.DecodeRune(in[i:])
				out = appendEscaped(out, r)
				i += n - 1
				continue
			}
			out = append(out, c)
		case c == '"':
			inString = true
			out = append(out, c)
		case c == ',' || c == ':':
			out = append(out, c, ' ')
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
			out = appendEscaped(out, r)
		}
		i += n
	}
	return out
}

const hexDigits = "0123456789abcdef"

func appendEscaped(out []byte, r rune) []byte {
	if r > 0xFFFF {
		r -= 0x10000
		out = appendU(out, 0xD800+(r>>10))
		return appendU(out, 0xDC00+(r&0x3FF))
	}
	return appendU(out, r)
}

func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
}

// Object is a JSON object that keeps its keys in insertion order.
type Object []Field

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// MarshalJSON implements json.Marshaler.
func (o Object) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		buf.Write(k)
		buf.WriteByte(':')
		var vb bytes.Buffer
		enc := json.NewEncoder(&vb)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(f.Value); err != nil {
			return nil, err
		}
		buf.Write(bytes.TrimRight(vb.Bytes(), "\n"))
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
