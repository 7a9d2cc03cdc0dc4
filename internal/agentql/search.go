package agentql

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Search is the search parameter: a term looked for in every searchable
// field, or, with a leading "-", rows where it appears in none.
type Search struct {
	Term   string
	Negate bool
}

// ParseSearch splits the leading "-" (complementary search) from the term.
func ParseSearch(s string) Search {
	if strings.HasPrefix(s, "-") {
		return Search{Term: s[1:], Negate: true}
	}
	return Search{Term: s}
}

func (sr Search) check() error {
	if len(sr.Term) > MaxQueryLength {
		return limitError(fmt.Sprintf("search longer than %d bytes", MaxQueryLength))
	}
	return nil
}

// exactTerm is the pattern of a SearchExact field: an all-digit term is
// compared as the integer it spells ("006" finds agent 6).
func (sr Search) exactTerm() string {
	if isDigits(sr.Term) {
		if t := strings.TrimLeft(sr.Term, "0"); t != "" {
			return t
		}
		return "0"
	}
	return sr.Term
}

// RenderSearch writes the search as a parenthesised SQL expression over
// the schema's searchable fields: each non-NULL field LIKE '%term%' (% and _
// in the term are wildcards, ASCII case ignored), OR-ed, negated for "-".
func RenderSearch(sr Search, s *Schema, d Dialect) (string, []any, error) {
	if err := sr.check(); err != nil {
		return "", nil, err
	}
	w := &sqlw{d: d}
	w.s("(")
	if sr.Negate {
		w.s("NOT ")
	}
	w.s("(")
	n := 0
	for _, f := range s.fields {
		if f.Column == "" || f.Search == SearchSkip {
			continue
		}
		if n > 0 {
			w.s(" OR ")
		}
		n++
		pattern := "%" + sr.Term + "%"
		if f.Search == SearchExact {
			pattern = sr.exactTerm()
		}
		w.s("(", f.Column, " IS NOT NULL AND ")
		w.like(f.Column, f.isText(), pattern)
		w.s(")")
	}
	if n == 0 {
		w.s("1=0")
	}
	w.s("))")
	return w.b.String(), w.args, nil
}

// MatchSearch evaluates the search on one item with RenderSearch's semantics.
func MatchSearch(sr Search, s *Schema, get Getter) (bool, error) {
	if err := sr.check(); err != nil {
		return false, err
	}
	found := false
	for _, f := range s.fields {
		if f.Column == "" || f.Search == SearchSkip {
			continue
		}
		raw, _ := get(f.Name)
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
		if raw == nil {
			continue
		}
		pattern := "%" + sr.Term + "%"
		if f.Search == SearchExact {
			pattern = sr.exactTerm()
		}
		if like(pattern, sqlText(f, raw)) {
			found = true
			break
		}
	}
	return found != sr.Negate, nil
}

// SearchItem is Wazuh's search over in-memory lists (security users, roles,
// policies, rules; security.md §9.8): the lower-cased term is a plain
// substring (no wildcards) of some value of the item, nested maps and lists
// included. Strings are lower-cased; other values use Python's text forms
// (True, False, None), which are not, so "true" never finds a boolean.
func SearchItem(sr Search, item any) bool {
	term := strings.ToLower(sr.Term)
	return searchValues(item, term) != sr.Negate
}

func searchValues(v any, term string) bool {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if searchValues(t[k], term) {
				return true
			}
		}
		return false
	case string:
		return strings.Contains(strings.ToLower(t), term)
	}
	if list, ok := asList(v); ok {
		for _, el := range list {
			if searchValues(el, term) {
				return true
			}
		}
		return false
	}
	return strings.Contains(pythonText(v), term)
}

// pythonText is Python's str() of a scalar.
func pythonText(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e16 {
			return strconv.FormatFloat(t, 'f', 1, 64)
		}
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	return textOf(v)
}
