package agentql

import (
	"fmt"
	"sort"
)

// Kind says how a field's values compare, in SQL and in memory.
type Kind int

// Field kinds.
const (
	KindString  Kind = iota // text; =, !=, <, > ignore ASCII case; ~ is LIKE '%v%'
	KindInt                 // integer; compared as numbers (a non-number sorts after every number, as in SQLite)
	KindDate                // epoch seconds; values are time frames (7d) or dates (2021-07-04)
	KindVersion             // text like KindString; values get Wazuh's "wazuhv4" -> "wazuh v4" spacing
	KindCSV                 // comma-separated names in one text column (agent groups): = and != test membership
	KindBool                // boolean; = and != against true/false
	KindList                // a list held in memory: a condition holds when it holds for any element
	KindAny                 // in memory only: compared according to the Go type of the value found
)

// SearchMode says how the search parameter looks at a field.
type SearchMode int

// Search modes.
const (
	SearchContains SearchMode = iota // LIKE '%term%'
	SearchExact                      // LIKE 'term' on the text form; an all-digit term loses its leading zeros (agent id)
	SearchSkip                       // not searched
)

// Field describes one queryable field of a resource.
type Field struct {
	Name   string     // API name, e.g. "os.name"
	Column string     // SQL expression, e.g. "os_name" or "coalesce(ip, register_ip)"; empty when in memory only
	Kind   Kind       // how values compare
	Search SearchMode // how search uses the field
	Sort   []string   // ORDER BY expressions; default Column
	SortPG []string   // PostgreSQL ORDER BY expressions when they differ from Sort
}

// Schema is the allow-list of fields a resource can be queried, searched
// and sorted by. It is immutable once built and safe for concurrent use.
type Schema struct {
	fields    []Field
	byName    map[string]int
	names     []string
	dateGuard string
	lenient   bool
}

// Option configures a Schema.
type Option func(*Schema)

// DateGuard makes every date condition also require the integer field to be
// non-zero, as Wazuh does for agents (agent 000 never matches a date filter).
func DateGuard(field string) Option { return func(s *Schema) { s.dateGuard = field } }

// Lenient accepts any field name in q, typed KindAny and resolved by the
// item getter, as Wazuh's in-memory lists do; such fields render as false in SQL.
func Lenient() Option { return func(s *Schema) { s.lenient = true } }

// NewSchema builds a schema; it panics on a duplicate or empty field name,
// since schemas are program constants.
func NewSchema(fields []Field, opts ...Option) *Schema {
	s := &Schema{byName: make(map[string]int, len(fields))}
	for _, f := range fields {
		if f.Name == "" {
			panic("agentql: field without a name")
		}
		if _, dup := s.byName[f.Name]; dup {
			panic(fmt.Sprintf("agentql: duplicate field %q", f.Name))
		}
		s.byName[f.Name] = len(s.fields)
		s.fields = append(s.fields, f)
		s.names = append(s.names, f.Name)
	}
	sort.Strings(s.names)
	for _, o := range opts {
		o(s)
	}
	if s.dateGuard != "" {
		if g, ok := s.Field(s.dateGuard); !ok || g.Kind != KindInt || g.Column == "" {
			panic(fmt.Sprintf("agentql: date guard %q is not an integer column", s.dateGuard))
		}
	}
	return s
}

// Field returns the declared field with this API name.
func (s *Schema) Field(name string) (Field, bool) {
	i, ok := s.byName[name]
	if !ok {
		return Field{}, false
	}
	return s.fields[i], true
}

// Fields returns the declared fields in declaration order.
func (s *Schema) Fields() []Field { return append([]Field(nil), s.fields...) }

// Names returns the declared field names sorted as Python's sorted() does,
// the order Wazuh lists them in error messages.
func (s *Schema) Names() []string { return append([]string(nil), s.names...) }

// lookup resolves a field named in q; lenient schemas accept any name.
func (s *Schema) lookup(name string) (Field, bool) {
	if f, ok := s.Field(name); ok {
		return f, true
	}
	if s.lenient {
		return Field{Name: name, Kind: KindAny, Search: SearchSkip}, true
	}
	return Field{}, false
}

func (f Field) isText() bool {
	switch f.Kind {
	case KindString, KindVersion, KindCSV, KindAny:
		return true
	}
	return false
}
