package agentql

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Getter returns the value of a field (API name, e.g. "os.name") of the
// item being matched; ok=false or a nil value is SQL's NULL. Values may be
// strings, numbers, bools, time.Time (dates) or lists (a list of names is
// read as the comma-separated text of a CSV field such as group).
type Getter func(field string) (value any, ok bool)

// MapGetter reads fields from a decoded JSON-like item: an exact key first,
// then a dotted path through nested maps; lists met on the way yield the
// list of what each element holds.
func MapGetter(item map[string]any) Getter {
	return func(field string) (any, bool) {
		if v, ok := item[field]; ok {
			return v, true
		}
		return walk(item, strings.Split(field, "."))
	}
}

func walk(v any, path []string) (any, bool) {
	if len(path) == 0 {
		return v, true
	}
	switch t := v.(type) {
	case map[string]any:
		next, ok := t[path[0]]
		if !ok {
			return nil, false
		}
		return walk(next, path[1:])
	case []any:
		var out []any
		for _, el := range t {
			if got, ok := walk(el, path); ok {
				out = append(out, got)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// Match evaluates a node against one item with the same semantics as the
// SQL Render writes (a nil node matches everything). now is the instant
// relative date values count back from.
func Match(n Node, s *Schema, get Getter, now time.Time) (bool, error) {
	if n == nil {
		return true, nil
	}
	e, err := compile(n, s)
	if err != nil {
		return false, err
	}
	return e.eval(get, now.Unix()), nil
}

// MatchMap is Match over a JSON-like item, read with MapGetter.
func MatchMap(n Node, s *Schema, item map[string]any, now time.Time) (bool, error) {
	return Match(n, s, MapGetter(item), now)
}

func (e *cexpr) eval(get Getter, now int64) bool {
	if e.leaf != nil {
		return e.leaf.eval(get, now)
	}
	for _, k := range e.kids {
		if k.eval(get, now) == e.or {
			return e.or
		}
	}
	return !e.or
}

func (p *pred) eval(get Getter, now int64) bool {
	raw, _ := get(p.f.Name)
	if p.kind == pDyn || p.f.Kind == KindList {
		return p.evalDyn(raw)
	}
	if list, ok := asList(raw); ok {
		raw = nil
		if len(list) > 0 {
			parts := make([]string, len(list))
			for i, el := range list {
				parts[i] = textOf(el)
			}
			raw = strings.Join(parts, ",")
		}
	}
	null := raw == nil
	switch p.kind {
	case pNull:
		return null
	case pFalse:
		return false
	case pNotNull:
		return !null
	}
	if null {
		return false
	}
	switch p.kind {
	case pCmp:
		if p.numeric {
			return opHolds(p.op, cmpToNumber(raw, p.num))
		}
		return opHolds(p.op, cmpFold(textOf(raw), p.text))
	case pLike:
		return like(p.text, sqlText(p.f, raw))
	case pCSV:
		return like(p.text, ","+textOf(raw)+",") != p.neg
	case pBool:
		b, ok := boolOf(raw)
		return ok && opHolds(p.op, boolCmp(b, p.b))
	case pDate:
		epoch, ok := epochOf(raw)
		if !ok {
			return false
		}
		ref := p.epoch
		if p.rel {
			ref = now - p.secs
		}
		if !opHolds(p.op, cmpNumber(number{isInt: true, i: epoch}, number{isInt: true, i: ref})) {
			return false
		}
		if p.guard != nil {
			g, _ := get(p.guard.Name)
			return g != nil && cmpToNumber(g, number{isInt: true}) != 0
		}
		return true
	}
	return false
}

// evalDyn compares by the type of the value found; for a list it holds
// when it holds for any element (Wazuh's in-memory lists). Only pDyn and
// pNull predicates reach it.
func (p *pred) evalDyn(raw any) bool {
	if list, ok := asList(raw); ok {
		if p.kind == pNull {
			return len(list) == 0
		}
		for _, el := range list {
			if p.evalDyn(el) {
				return true
			}
		}
		return false
	}
	switch {
	case p.kind == pNull:
		return raw == nil
	case raw == nil:
		return false
	case p.op == OpLike:
		return like("%"+p.text+"%", textOf(raw))
	}
	if _, isNum := numberOf(raw); isNum {
		if n, ok := parseNumber(p.text); ok {
			return opHolds(p.op, cmpToNumber(raw, n))
		}
		return opHolds(p.op, -1) // numbers sort before text
	}
	return opHolds(p.op, cmpFold(textOf(raw), p.text))
}

func opHolds(op Op, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpGt:
		return c > 0
	}
	return false
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// cmpToNumber orders a value against a number as SQLite does for an
// integer column: numeric text converts, other text sorts after numbers.
func cmpToNumber(raw any, n number) int {
	if v, ok := numberOf(raw); ok {
		return cmpNumber(v, n)
	}
	if v, ok := parseNumber(textOf(raw)); ok {
		return cmpNumber(v, n)
	}
	return 1
}

// cmpFold compares ignoring ASCII case, like SQLite's NOCASE collation.
func cmpFold(a, b string) int { return strings.Compare(foldASCII(a), foldASCII(b)) }

func foldASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func asList(v any) ([]any, bool) {
	switch t := v.(type) {
	case []any:
		return t, true
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out, true
	case []int:
		out := make([]any, len(t))
		for i, n := range t {
			out[i] = n
		}
		return out, true
	case []int64:
		out := make([]any, len(t))
		for i, n := range t {
			out[i] = n
		}
		return out, true
	}
	return nil, false
}

func numberOf(v any) (number, bool) {
	switch t := v.(type) {
	case int:
		return number{isInt: true, i: int64(t)}, true
	case int32:
		return number{isInt: true, i: int64(t)}, true
	case int64:
		return number{isInt: true, i: t}, true
	case uint32:
		return number{isInt: true, i: int64(t)}, true
	case float64:
		return number{f: t}, true
	case json.Number:
		return parseNumber(string(t))
	}
	return number{}, false
}

// textOf is the text form of a value, as SQL's CAST(x AS TEXT) gives it.
func textOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		if t == float64(int64(t)) && t < 1e15 && t > -1e15 {
			return strconv.FormatFloat(t, 'f', 1, 64)
		}
		return strconv.FormatFloat(t, 'g', 15, 64)
	case time.Time:
		return strconv.FormatInt(t.Unix(), 10)
	}
	if n, ok := numberOf(v); ok && n.isInt {
		return strconv.FormatInt(n.i, 10)
	}
	return fmt.Sprint(v)
}

// sqlText is the text LIKE sees: an integer or date field holds a number,
// so "001" reads as "1".
func sqlText(f Field, v any) string {
	if f.Kind == KindInt || f.Kind == KindDate {
		if n, ok := parseNumber(textOf(v)); ok && n.isInt {
			return strconv.FormatInt(n.i, 10)
		}
	}
	return textOf(v)
}

func boolOf(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	if n, ok := numberOf(v); ok {
		return n.float() != 0, true
	}
	return parseBool(textOf(v))
}

// epochOf reads a date as epoch seconds: a number, a time.Time, or text
// holding either digits or an RFC 3339 timestamp (the API's ISO form).
func epochOf(v any) (int64, bool) {
	if t, ok := v.(time.Time); ok {
		return t.Unix(), true
	}
	if n, ok := numberOf(v); ok {
		if n.isInt {
			return n.i, true
		}
		return int64(n.f), true
	}
	s := textOf(v)
	if n, ok := parseNumber(s); ok && n.isInt {
		return n.i, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.Unix(), true
	}
	return 0, false
}

// like matches SQLite's LIKE: % is any run, _ one character, ASCII letters
// match either case, no escape character.
func like(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	if !utf8.ValidString(s) {
		t = []rune(strings.ToValidUTF8(s, "\uFFFD"))
	}
	pi, ti, star, mark := 0, 0, -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && p[pi] == '%':
			star, mark = pi, ti
			pi++
		case pi < len(p) && (p[pi] == '_' || foldRune(p[pi]) == foldRune(t[ti])):
			pi++
			ti++
		case star >= 0:
			pi, mark = star+1, mark+1
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

func foldRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + 'a' - 'A'
	}
	return r
}
