package auth

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/blake2b"

	"github.com/muster-project/muster/internal/pyjson"
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
		return pyjson.AppendString(b, t), nil
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
			b = pyjson.AppendString(b, k)
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
	return pyjson.AppendFloat(b, f), nil
}
