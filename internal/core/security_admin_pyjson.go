package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/pyjson"
)

// pyValue is a decoded JSON value that keeps what Python's json.loads
// keeps: object keys in received order (a repeated key keeps its first
// place and takes its last value) and numbers as their literal text.
type pyValue struct {
	kind  byte // 'o' object, 'a' array, 's' string, 'n' number, 't' true, 'f' false, 'z' null
	keys  []string
	vals  []*pyValue
	items []*pyValue
	text  string // string value or number literal
}

// parsePyJSON decodes one JSON value (and nothing after it).
func parsePyJSON(raw []byte) (*pyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readPy(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

func readPy(dec *json.Decoder) (*pyValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v := &pyValue{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				val, err := readPy(dec)
				if err != nil {
					return nil, err
				}
				v.set(k, val)
			}
			_, err := dec.Token()
			return v, err
		case '[':
			v := &pyValue{kind: 'a'}
			for dec.More() {
				el, err := readPy(dec)
				if err != nil {
					return nil, err
				}
				v.items = append(v.items, el)
			}
			_, err := dec.Token()
			return v, err
		}
	case string:
		return &pyValue{kind: 's', text: t}, nil
	case json.Number:
		return &pyValue{kind: 'n', text: string(t)}, nil
	case bool:
		if t {
			return &pyValue{kind: 't'}, nil
		}
		return &pyValue{kind: 'f'}, nil
	case nil:
		return &pyValue{kind: 'z'}, nil
	}
	return nil, errors.New("unexpected JSON token")
}

// set assigns a key with Python dict semantics.
func (v *pyValue) set(k string, val *pyValue) {
	for i, key := range v.keys {
		if key == k {
			v.vals[i] = val
			return
		}
	}
	v.keys = append(v.keys, k)
	v.vals = append(v.vals, val)
}

// get returns the value of key k of an object.
func (v *pyValue) get(k string) (*pyValue, bool) {
	for i, key := range v.keys {
		if key == k {
			return v.vals[i], true
		}
	}
	return nil, false
}

// dumps renders the value as Python's json.dumps does with its defaults:
// ", " and ": " separators, ASCII-only output, Python's float repr.
func (v *pyValue) dumps() []byte { return v.appendTo(nil) }

func (v *pyValue) appendTo(b []byte) []byte {
	switch v.kind {
	case 'o':
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pyjson.AppendString(b, k)
			b = append(b, ": "...)
			b = v.vals[i].appendTo(b)
		}
		return append(b, '}')
	case 'a':
		b = append(b, '[')
		for i, el := range v.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = el.appendTo(b)
		}
		return append(b, ']')
	case 's':
		return pyjson.AppendString(b, v.text)
	case 'n':
		return appendPyNum(b, v.text)
	case 't':
		return append(b, "true"...)
	case 'f':
		return append(b, "false"...)
	}
	return append(b, "null"...)
}

// appendPyNum writes a JSON number as Python prints what json.loads made
// of it: integers exactly, other numbers as float repr.
func appendPyNum(b []byte, lit string) []byte {
	if !strings.ContainsAny(lit, ".eE") {
		n, ok := new(big.Int).SetString(lit, 10)
		if ok {
			return n.Append(b, 10)
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !math.IsInf(f, 0) {
		return append(b, lit...)
	}
	return pyjson.AppendFloat(b, f)
}

// PyRepr returns Python's repr of what json.loads makes of raw (strings in
// single quotes, True, False, None, dicts in received key order), the way
// Wazuh quotes values in its validation errors. Invalid JSON is returned
// as it is.
func PyRepr(raw []byte) string {
	v, err := parsePyJSON(raw)
	if err != nil {
		return string(raw)
	}
	return string(v.appendRepr(nil))
}

func (v *pyValue) appendRepr(b []byte) []byte {
	switch v.kind {
	case 'o':
		b = append(b, '{')
		for i, k := range v.keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendReprStr(b, k)
			b = append(b, ": "...)
			b = v.vals[i].appendRepr(b)
		}
		return append(b, '}')
	case 'a':
		b = append(b, '[')
		for i, el := range v.items {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = el.appendRepr(b)
		}
		return append(b, ']')
	case 's':
		return appendReprStr(b, v.text)
	case 'n':
		out := appendPyNum(nil, v.text)
		switch string(out) {
		case "Infinity":
			out = []byte("inf")
		case "-Infinity":
			out = []byte("-inf")
		}
		return append(b, out...)
	case 't':
		return append(b, "True"...)
	case 'f':
		return append(b, "False"...)
	}
	return append(b, "None"...)
}

// appendReprStr writes Python's repr of a string.
func appendReprStr(b []byte, s string) []byte {
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
