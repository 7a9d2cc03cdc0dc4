package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kind is the Python type a JSON value decodes to.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNum
	kStr
	kList
	kDict
)

// pyValue is a decoded JSON value with Python's semantics: objects keep key order (a repeated key keeps its
// first position and its last value), integers are exact, and booleans behave as the integers 0 and 1.
type pyValue struct {
	kind  kind
	b     bool
	isInt bool
	i     *big.Int
	f     float64
	s     string
	list  []*pyValue
	keys  []string
	vals  map[string]*pyValue
}

var errNotJSON = errors.New("rbac: invalid JSON")

// parsePy decodes one JSON document.
func parsePy(data []byte) (*pyValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodePy(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNotJSON
	}
	return v, nil
}

func decodePy(dec *json.Decoder) (*pyValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errNotJSON
	}
	switch t := tok.(type) {
	case nil:
		return &pyValue{kind: kNull}, nil
	case bool:
		return &pyValue{kind: kBool, b: t}, nil
	case string:
		return &pyValue{kind: kStr, s: t}, nil
	case json.Number:
		return parseNumber(string(t))
	case json.Delim:
		if t == '[' {
			v := &pyValue{kind: kList}
			for dec.More() {
				e, err := decodePy(dec)
				if err != nil {
					return nil, err
				}
				v.list = append(v.list, e)
			}
			_, err := dec.Token()
			return v, err
		}
		v := &pyValue{kind: kDict, vals: map[string]*pyValue{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, errNotJSON
			}
			k, _ := kt.(string)
			e, err := decodePy(dec)
			if err != nil {
				return nil, err
			}
			if _, dup := v.vals[k]; !dup {
				v.keys = append(v.keys, k)
			}
			v.vals[k] = e
		}
		_, err := dec.Token()
		return v, err
	}
	return nil, errNotJSON
}

func parseNumber(s string) (*pyValue, error) {
	if !strings.ContainsAny(s, ".eE") {
		i, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return nil, errNotJSON
		}
		return &pyValue{kind: kNum, isInt: true, i: i}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nil, errNotJSON
	}
	return &pyValue{kind: kNum, f: f}, nil
}

// number returns a numeric view of a bool or number.
func (v *pyValue) number() *pyValue {
	if v.kind == kBool {
		n := int64(0)
		if v.b {
			n = 1
		}
		return &pyValue{kind: kNum, isInt: true, i: big.NewInt(n)}
	}
	return v
}

func numeric(v *pyValue) bool { return v.kind == kNum || v.kind == kBool }

// cmpNum compares two numeric values exactly, as Python compares int and float.
func cmpNum(a, b *pyValue) int {
	a, b = a.number(), b.number()
	if a.isInt && b.isInt {
		return a.i.Cmp(b.i)
	}
	fa, fb := toBig(a), toBig(b)
	return fa.Cmp(fb)
}

func toBig(v *pyValue) *big.Float {
	if v.isInt {
		return new(big.Float).SetInt(v.i)
	}
	return big.NewFloat(v.f)
}

// pyEqual is Python's ==.
func pyEqual(a, b *pyValue) bool {
	switch {
	case numeric(a) && numeric(b):
		return cmpNum(a, b) == 0
	case a.kind != b.kind:
		return false
	}
	switch a.kind {
	case kNull:
		return true
	case kStr:
		return a.s == b.s
	case kList:
		if len(a.list) != len(b.list) {
			return false
		}
		for i := range a.list {
			if !pyEqual(a.list[i], b.list[i]) {
				return false
			}
		}
		return true
	case kDict:
		if len(a.keys) != len(b.keys) {
			return false
		}
		for _, k := range a.keys {
			bv, ok := b.vals[k]
			if !ok || !pyEqual(a.vals[k], bv) {
				return false
			}
		}
		return true
	}
	return false
}

// pyLess is Python's <, failing where Python raises TypeError.
func pyLess(a, b *pyValue) (bool, error) {
	switch {
	case numeric(a) && numeric(b):
		return cmpNum(a, b) < 0, nil
	case a.kind == kStr && b.kind == kStr:
		return a.s < b.s, nil
	case a.kind == kList && b.kind == kList:
		for i := 0; i < len(a.list) && i < len(b.list); i++ {
			if !pyEqual(a.list[i], b.list[i]) {
				return pyLess(a.list[i], b.list[i])
			}
		}
		return len(a.list) < len(b.list), nil
	}
	return false, &EvalError{Reason: "'<' not supported between " + a.typeName() + " and " + b.typeName()}
}

func (v *pyValue) typeName() string {
	return [...]string{"NoneType", "bool", "number", "str", "list", "dict"}[v.kind]
}

// pySorted returns a sorted copy of a list the way CPython's sort does for short lists: the leading run is
// found first, then binary insertion; comparisons Python cannot make are errors.
func pySorted(in []*pyValue) ([]*pyValue, error) {
	s := append([]*pyValue(nil), in...)
	n := len(s)
	if n < 2 {
		return s, nil
	}
	run := 2
	desc, err := pyLess(s[1], s[0])
	if err != nil {
		return nil, err
	}
	for ; run < n; run++ {
		lt, err := pyLess(s[run], s[run-1])
		if err != nil {
			return nil, err
		}
		if lt != desc {
			break
		}
	}
	if desc {
		for i, j := 0, run-1; i < j; i, j = i+1, j-1 {
			s[i], s[j] = s[j], s[i]
		}
	}
	for start := run; start < n; start++ {
		pivot := s[start]
		lo, hi := 0, start
		for lo < hi {
			mid := lo + (hi-lo)/2
			lt, err := pyLess(pivot, s[mid])
			if err != nil {
				return nil, err
			}
			if lt {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		copy(s[lo+1:start+1], s[lo:start])
		s[lo] = pivot
	}
	return s, nil
}

// pyLen is Python's len for the values a rule can hold; numbers, booleans and null have none.
func pyLen(v *pyValue) (int, error) {
	switch v.kind {
	case kStr:
		return utf8.RuneCountInString(v.s), nil
	case kList:
		return len(v.list), nil
	case kDict:
		return len(v.keys), nil
	}
	return 0, &EvalError{Reason: "object of type " + v.typeName() + " has no len()"}
}
