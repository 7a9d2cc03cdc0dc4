package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Value is a decoded JSON value as Python's json.loads keeps it: object keys
// in received order (a repeated key keeps its first place and takes its last
// value) and numbers as their literal text.
type Value struct {
	Kind  Kind
	Keys  []string // object
	Vals  []*Value // object, one per key
	Items []*Value // array
	Text  string   // string value or number literal
}

// Kind is the JSON type of a Value.
type Kind byte

// The kinds of Value.
const (
	Null Kind = iota
	Object
	Array
	String
	Number
	True
	False
)

// Parse decodes one JSON value, and nothing after it. maxIntDigits, when
// positive, refuses longer integer literals as json.loads does
// (sys.get_int_max_str_digits).
func Parse(raw []byte, maxIntDigits int) (*Value, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := read(dec, maxIntDigits)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func read(dec *json.Decoder, maxIntDigits int) (*Value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &Value{Kind: Object}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				val, err := read(dec, maxIntDigits)
				if err != nil {
					return nil, err
				}
				v.set(k, val)
			}
			_, err := dec.Token()
			return v, err
		case '[':
			v := &Value{Kind: Array}
			for dec.More() {
				el, err := read(dec, maxIntDigits)
				if err != nil {
					return nil, err
				}
				v.Items = append(v.Items, el)
			}
			_, err := dec.Token()
			return v, err
		}
	case string:
		return &Value{Kind: String, Text: t}, nil
	case json.Number:
		lit := string(t)
		if maxIntDigits > 0 && !strings.ContainsAny(lit, ".eE") && len(strings.TrimPrefix(lit, "-")) > maxIntDigits {
			return nil, errors.New("integer literal too long")
		}
		return &Value{Kind: Number, Text: lit}, nil
	case bool:
		if t {
			return &Value{Kind: True}, nil
		}
		return &Value{Kind: False}, nil
	case nil:
		return &Value{Kind: Null}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// set assigns a key with Python dict semantics.
func (v *Value) set(k string, val *Value) {
	for i, key := range v.Keys {
		if key == k {
			v.Vals[i] = val
			return
		}
	}
	v.Keys = append(v.Keys, k)
	v.Vals = append(v.Vals, val)
}

// Get returns the value of key k of an object.
func (v *Value) Get(k string) (*Value, bool) {
	for i, key := range v.Keys {
		if key == k {
			return v.Vals[i], true
		}
	}
	return nil, false
}

// Dumps renders the value as json.dumps does with its defaults: ", " and
// ": " separators, ASCII-only output, integers as they came and other
// numbers in float repr.
func (v *Value) Dumps() []byte { return v.appendTo(nil, AppendString, dumpsScalar) }

// Repr renders the value as Python's repr of what json.loads made of it:
// strings in single quotes, True, False, None, dicts in received key order,
// inf for infinite floats. Wazuh quotes values this way in its messages.
func (v *Value) Repr() []byte { return v.appendTo(nil, appendReprString, reprScalar) }

// appendTo writes containers the way json.dumps and repr both do (", " and
// ": " separators); str writes strings and keys, scalar the other values.
func (v *Value) appendTo(b []byte, str func([]byte, string) []byte, scalar func([]byte, *Value) []byte) []byte {
	switch v.Kind {
	case Object:
		b = append(b, '{')
		for i, k := range v.Keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = str(b, k)
			b = append(b, ": "...)
			b = v.Vals[i].appendTo(b, str, scalar)
		}
		return append(b, '}')
	case Array:
		b = append(b, '[')
		for i, el := range v.Items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = el.appendTo(b, str, scalar)
		}
		return append(b, ']')
	case String:
		return str(b, v.Text)
	}
	return scalar(b, v)
}

func dumpsScalar(b []byte, v *Value) []byte {
	switch v.Kind {
	case Number:
		return appendNumber(b, v.Text)
	case True:
		return append(b, "true"...)
	case False:
		return append(b, "false"...)
	}
	return append(b, "null"...)
}

func reprScalar(b []byte, v *Value) []byte {
	switch v.Kind {
	case Number:
		out := appendNumber(nil, v.Text)
		switch string(out) {
		case "Infinity":
			out = []byte("inf")
		case "-Infinity":
			out = []byte("-inf")
		}
		return append(b, out...)
	case True:
		return append(b, "True"...)
	case False:
		return append(b, "False"...)
	}
	return append(b, "None"...)
}

// appendNumber writes a JSON number literal as Python prints what
// json.loads made of it: an integer keeps its digits (-0 is 0), anything
// else is a float in repr form (out of range: Infinity).
func appendNumber(b []byte, lit string) []byte {
	if !strings.ContainsAny(lit, ".eE") {
		if strings.Trim(strings.TrimPrefix(lit, "-"), "0") == "" {
			return append(b, '0')
		}
		return append(b, lit...)
	}
	f, _ := strconv.ParseFloat(lit, 64) // a decoded JSON number: at worst out of range, ±Inf
	return AppendFloat(b, f)
}

// appendReprString writes Python's repr of a string.
func appendReprString(b []byte, s string) []byte {
	quote := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	b = append(b, quote)
	for _, r := range s {
		switch {
		case r == '\\':
			b = append(b, `\\`...)
		case r == rune(quote):
			b = append(b, '\\', quote)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r < 0x20 || r == 0x7f || (r >= utf8.RuneSelf && !unicode.IsPrint(r)):
			switch {
			case r < 0x100:
				b = append(b, fmt.Sprintf(`\x%02x`, r)...)
			case r < 0x10000:
				b = append(b, fmt.Sprintf(`\u%04x`, r)...)
			default:
				b = append(b, fmt.Sprintf(`\U%08x`, r)...)
			}
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, quote)
}
