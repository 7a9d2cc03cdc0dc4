package agentql

import (
	"slices"
	"sort"
	"strings"
)

// SortField is one field of the sort parameter.
type SortField struct {
	Field string
	Desc  bool
}

// ParseSort reads the sort parameter of database-backed lists (GET /agents):
// an optional leading "-" (descending) or "+" (ascending) applying to every
// field, then comma-separated field names (an unencoded "+" arrives as a
// space and makes the name invalid, as in Wazuh). An unknown field is 1403
// "Not a valid sort field: Allowed sort fields: <sorted list>. Fields: <bad>".
// An empty s returns nil: the caller applies its default (id ascending).
func ParseSort(s string, allowed []string) ([]SortField, error) {
	out, bad := splitSort(s, allowed)
	if len(bad) > 0 {
		return nil, newError(CodeSortField, msgSort,
			"Allowed sort fields: "+strings.Join(sorted(allowed), ", ")+". Fields: "+strings.Join(bad, ", "), remSort)
	}
	return out, nil
}

// ParseSortList is ParseSort for Wazuh's in-memory lists (security users,
// roles, policies, rules), whose 1403 keeps the plain message and lists the
// fields in the remediation: "Please, use only allowed sort fields: Allowed
// sort fields: id, username. Wrong fields: <bad>".
func ParseSortList(s string, allowed []string) ([]SortField, error) {
	out, bad := splitSort(s, allowed)
	if len(bad) > 0 {
		return nil, &Error{Code: CodeSortField, Msg: msgSort, Remediation: remSort +
			": Allowed sort fields: " + strings.Join(sorted(allowed), ", ") + ". Wrong fields: " + strings.Join(bad, ", ")}
	}
	return out, nil
}

func splitSort(s string, allowed []string) (out []SortField, bad []string) {
	if s == "" {
		return nil, nil
	}
	desc := false
	switch s[0] {
	case '-':
		desc, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	for _, f := range strings.Split(s, ",") {
		if !slices.Contains(allowed, f) {
			if !slices.Contains(bad, f) {
				bad = append(bad, f)
			}
			continue
		}
		out = append(out, SortField{Field: f, Desc: desc})
	}
	return out, bad
}

// OrderBy renders sort fields as an ORDER BY list (without the keyword) from
// the schema's sort expressions. NULLs come first ascending and last
// descending, as in SQLite; on PostgreSQL text sorts by bytes like SQLite.
func OrderBy(sorts []SortField, s *Schema, d Dialect) (string, error) {
	var parts []string
	for _, sf := range sorts {
		f, ok := s.Field(sf.Field)
		if !ok || f.Column == "" {
			return "", newError(CodeSortField, msgSort,
				"Allowed sort fields: "+strings.Join(s.Names(), ", ")+". Fields: "+sf.Field, remSort)
		}
		exprs := f.Sort
		if d.Postgres && f.SortPG != nil {
			exprs = f.SortPG
		}
		if exprs == nil {
			col := f.Column
			if d.Postgres && f.isText() {
				col += ` COLLATE "C"`
			}
			exprs = []string{col}
		}
		dir := " ASC"
		if sf.Desc {
			dir = " DESC"
		}
		if d.Postgres {
			if sf.Desc {
				dir += " NULLS LAST"
			} else {
				dir += " NULLS FIRST"
			}
		}
		for _, e := range exprs {
			parts = append(parts, e+dir)
		}
	}
	return strings.Join(parts, ", "), nil
}

// ParseSelect reads the select parameter of database-backed lists: comma
// separated field names (dotted for nested ones, e.g. os.name), duplicates
// dropped. An unknown field is 1724 "Not a valid select field: Allowed
// select fields: <sorted list>. Fields: <bad>". The caller adds the fields
// it always returns (id) and checks the names format first.
func ParseSelect(s string, allowed []string) ([]string, error) {
	out, bad := splitSelect(s, func(f string) bool { return slices.Contains(allowed, f) })
	if len(bad) > 0 {
		return nil, newError(CodeSelectField, msgSelect,
			"Allowed select fields: "+strings.Join(sorted(allowed), ", ")+". Fields: "+strings.Join(bad, ", "), remSelect)
	}
	return out, nil
}

// ParseSelectList is ParseSelect for Wazuh's in-memory lists, which check
// only the names without a dot and answer 1724 "Not a valid select field: <bad>".
func ParseSelectList(s string, allowed []string) ([]string, error) {
	out, bad := splitSelect(s, func(f string) bool {
		return strings.Contains(f, ".") || slices.Contains(allowed, f)
	})
	if len(bad) > 0 {
		return nil, newError(CodeSelectField, msgSelect, strings.Join(bad, ", "), remSelect)
	}
	return out, nil
}

func splitSelect(s string, ok func(string) bool) (out, bad []string) {
	for _, f := range strings.Split(s, ",") {
		switch {
		case !ok(f):
			if !slices.Contains(bad, f) {
				bad = append(bad, f)
			}
		case !slices.Contains(out, f):
			out = append(out, f)
		}
	}
	return out, bad
}

func sorted(list []string) []string {
	out := append([]string(nil), list...)
	sort.Strings(out)
	return slices.Compact(out)
}
