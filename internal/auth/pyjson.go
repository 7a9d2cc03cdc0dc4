package auth

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// maxPyIntDigits is the longest integer literal Python's json.loads converts
// (sys.get_int_max_str_digits); longer ones make it fail.
const maxPyIntDigits = 4300

// HashAuthContext returns the hash_auth_context claim of a run_as login: the
// 16-byte BLAKE2b hex digest of the body re-serialised the way Python's
// json.dumps(json.loads(body)) does (", " and ": " separators, keys in
// received order, later duplicates replacing the value in place, ASCII-only
// output, Python float repr).
//
// Known differences from Python: NaN/Infinity literals in the input are
// rejected, and unpaired surrogate escapes or invalid UTF-8 are hashed as
// U+FFFD (Python keeps or rejects them).
func HashAuthContext(rawJSON []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(rawJSON))
	dec.UseNumber()
	v, err := readPyValue(dec)
	if err != nil {
		return "", fmt.Errorf("auth: auth context: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("auth: auth context: data after the JSON value")
	}
	out, err := appendPyValue(nil, v)
	if err != nil {
		return "", fmt.Errorf("auth: auth context: %w", err)
	}
	h, err := blake2b.New(16, nil)
	if err != nil {
		return "", err
	}
	h.Write(out)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pyObject is a JSON object with Python dict semantics: insertion order,
// and a repeated key keeps its first position but takes the last value.
type pyObject struct {
	keys []string
	vals []any
	idx  map[string]int
}

// readPyValue reads one JSON value from dec into nil, bool, string,
// json.Number, []any or *pyObject.
func readPyValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			list := []any{}
			for dec.More() {
				v, err := readPyValue(dec)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token() // ']'
			return list, err
		case '{':
			obj := &pyObject{idx: map[string]int{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ := kt.(string)
				v, err := readPyValue(dec)
				if err != nil {
					return nil, err
				}
				if i, ok := obj.idx[key]; ok {
					obj.vals[i] = v
					continue
				}
				obj.idx[key] = len(obj.keys)
				obj.keys = append(obj.keys, key)
				obj.vals = append(obj.vals, v)
			}
			_, err := dec.Token() // '}'
			return obj, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return tok, nil
	}
}

// appendPyValue appends v formatted as Python's json.dumps default output.
func appendPyValue(b []byte, v any) ([]byte, error) {
	var err error
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case string:
		return appendPyString(b, t), nil
	case json.Number:
		return appendPyNumber(b, string(t))
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ", "...)
			}
			if b, err = appendPyValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case *pyObject:
		b = append(b, '{')
		for i, k := range t.keys {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPyString(b, k)
			b = append(b, ": "...)
			if b, err = appendPyValue(b, t.vals[i]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("unexpected value %T", v)
}

// appendPyNumber appends a JSON number literal the way Python re-serialises
// it: integers keep their digits, other numbers become floats in repr form.
func appendPyNumber(b []byte, lit string) ([]byte, error) {
	if !strings.ContainsAny(lit, ".eE") {
		digits := strings.TrimPrefix(lit, "-")
		if len(digits) > maxPyIntDigits {
			return nil, errors.New("integer literal too long")
		}
		if strings.Trim(digits, "0") == "" {
			return append(b, '0'), nil // -0 is the integer 0
		}
		return append(b, lit...), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, err
	}
	return appendPyFloat(b, f), nil
}

// appendPyFloat appends Python's repr of f: the shortest round-tripping
// digits, in positional form when the decimal exponent is in [-4, 16) and in
// scientific form ("1e+16", "1.5e-05") otherwise.
func appendPyFloat(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	}
	if math.Signbit(f) {
		b = append(b, '-')
		f = -f
	}
	// 'e' format: d[.ddd]e±XX, value = 0.digits * 10^decpt.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	decpt := exp + 1
	if decpt <= -4 || decpt > 16 {
		b = append(b, digits[0])
		if len(digits) > 1 {
			b = append(b, '.')
			b = append(b, digits[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	switch {
	case decpt <= 0:
		b = append(b, "0."...)
		b = append(b, strings.Repeat("0", -decpt)...)
		b = append(b, digits...)
	case decpt >= len(digits):
		b = append(b, digits...)
		b = append(b, strings.Repeat("0", decpt-len(digits))...)
		b = append(b, ".0"...)
	default:
		b = append(b, digits[:decpt]...)
		b = append(b, '.')
		b = append(b, digits[decpt:]...)
	}
	return b
}

// appendPyString appends s as a JSON string with Python's ensure_ascii
// escaping: everything outside printable ASCII becomes \uXXXX (lower-case
// hex, surrogate pairs above U+FFFF). Invalid UTF-8 becomes U+FFFD.
func appendPyString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch r {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if r >= 0x20 && r <= 0x7e {
				b = append(b, byte(r))
				continue
			}
			if r > 0xffff {
				r -= 0x10000
				b = appendUnicodeEscape(b, 0xd800+(r>>10)&0x3ff)
				b = appendUnicodeEscape(b, 0xdc00+r&0x3ff)
			} else {
				b = appendUnicodeEscape(b, r)
			}
		}
	}
	return append(b, '"')
}

// appendUnicodeEscape appends the escape \uXXXX of one UTF-16 code unit.
func appendUnicodeEscape(b []byte, u rune) []byte {
	const hexDigits = "0123456789abcdef"
	return append(b, '\\', 'u', hexDigits[u>>12&0xf], hexDigits[u>>8&0xf], hexDigits[u>>4&0xf], hexDigits[u&0xf])
}
