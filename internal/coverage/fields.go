package coverage

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// Fields are a record's raw source fields, by the vendor's own names, held
// as the one JSON object the report writes: names sorted, values strings.
// One string per record instead of a map keeps 100,000 records' evidence in
// a third of the memory, and writing it is a copy. The zero value has none.
type Fields string

// FieldsBuilder collects a record's fields; Build encodes them. A builder
// declared in a function stays on its stack for up to a few dozen fields.
type FieldsBuilder struct {
	pairs []fieldPair
	inl   [24]fieldPair
}

type fieldPair struct{ name, value string }

// Set gives name its value, replacing an earlier one.
func (b *FieldsBuilder) Set(name, value string) {
	if b.pairs == nil {
		b.pairs = b.inl[:0]
	}
	for i := range b.pairs {
		if b.pairs[i].name == name {
			b.pairs[i].value = value
			return
		}
	}
	b.pairs = append(b.pairs, fieldPair{name, value})
}

// SetNonEmpty sets name unless value is empty: most sources omit what the
// vendor left blank.
func (b *FieldsBuilder) SetNonEmpty(name, value string) {
	if value != "" {
		b.Set(name, value)
	}
}

// Build returns the fields set so far ("" when none) and empties b.
func (b *FieldsBuilder) Build() Fields {
	if len(b.pairs) == 0 {
		return ""
	}
	slices.SortFunc(b.pairs, func(x, y fieldPair) int { return strings.Compare(x.name, y.name) })
	n := 2
	for _, p := range b.pairs {
		n += len(p.name) + len(p.value) + 6
	}
	var sb strings.Builder // its String does not copy: one allocation per record
	sb.Grow(n)
	sb.WriteByte('{')
	for i, p := range b.pairs {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeJSONString(&sb, p.name)
		sb.WriteByte(':')
		writeJSONString(&sb, p.value)
	}
	sb.WriteByte('}')
	clear(b.pairs)
	b.pairs = b.pairs[:0]
	return Fields(sb.String())
}

// FieldsOf encodes a map of fields (tests and small sources).
func FieldsOf(m map[string]string) Fields {
	var b FieldsBuilder
	for k, v := range m {
		b.Set(k, v)
	}
	return b.Build()
}

// Map decodes the fields; nil when there are none.
func (f Fields) Map() map[string]string {
	if f == "" {
		return nil
	}
	var m map[string]string
	if json.Unmarshal([]byte(f), &m) != nil {
		return nil // Build only makes valid objects
	}
	return m
}

// Get returns one field's value.
func (f Fields) Get(name string) (string, bool) {
	v, ok := f.Map()[name]
	return v, ok
}

// MarshalJSON writes the object as it is held.
func (f Fields) MarshalJSON() ([]byte, error) {
	if f == "" {
		return []byte("{}"), nil
	}
	return []byte(f), nil
}

// UnmarshalJSON reads an object of string values (a report read back).
func (f *Fields) UnmarshalJSON(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*f = FieldsOf(m)
	return nil
}

// writeJSONString writes s as encoding/json does with its default HTML
// escaping, so a report's bytes do not depend on how fields are held.
func writeJSONString(sb *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			enc, _ := json.Marshal(s) // the rare value that needs escaping
			sb.Write(enc)
			return
		}
	}
	sb.WriteByte('"')
	sb.WriteString(s)
	sb.WriteByte('"')
}
