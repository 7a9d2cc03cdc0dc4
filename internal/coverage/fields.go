package coverage

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Fields are a record's raw source fields, by the vendor's own names. They
// are held in one string per record: the sorted names once per process (a
// shape, shared by every record of a source that names the same fields)
// and the values, already escaped as the report writes them. The names are
// most of a record's fields (a Wazuh agent's are 130 of 310 bytes), so
// 100,000 records hold them once instead of 100,000 times. The zero value
// has none; JSON returns the object the report writes.
type Fields string

// A Fields string is "" (none), an object's JSON text (the few records
// whose shape did not fit in the table), or compactTag, the shape's index
// as a uvarint, and each value's escaped text after its length as a uvarint.
const compactTag = '\x00'

// maxShapes bounds the shape table: a source whose records each name other
// fields (a sparse export) gets the JSON text form past it.
const maxShapes = 1 << 12

// shape is one sorted list of names, with each one's `"name":` written as
// encoding/json writes it (a comma in front of all but the first).
type shape struct {
	names, prefix []string
}

var shapes = struct {
	sync.RWMutex
	index map[string]uint32 // by the names, each after its length
	list  []*shape
}{index: map[string]uint32{}}

// shapeOf returns the index of the shape of sorted pairs, adding it; false
// when the table is full.
func shapeOf(pairs []fieldPair) (uint32, bool) {
	var stack [256]byte
	key := stack[:0]
	for _, p := range pairs {
		key = binary.AppendUvarint(key, uint64(len(p.name)))
		key = append(key, p.name...)
	}
	shapes.RLock()
	id, ok := shapes.index[string(key)]
	shapes.RUnlock()
	if ok {
		return id, true
	}
	shapes.Lock()
	defer shapes.Unlock()
	if id, ok := shapes.index[string(key)]; ok {
		return id, true
	}
	if len(shapes.list) == maxShapes {
		return 0, false
	}
	sh := &shape{names: make([]string, len(pairs)), prefix: make([]string, len(pairs))}
	for i, p := range pairs {
		var sb strings.Builder
		if i > 0 {
			sb.WriteByte(',')
		}
		writeJSONString(&sb, p.name)
		sb.WriteByte(':')
		sh.names[i], sh.prefix[i] = p.name, sb.String()
	}
	id = uint32(len(shapes.list))
	shapes.list = append(shapes.list, sh)
	shapes.index[string(key)] = id
	return id, true
}

func shapeAt(id uint64) *shape {
	shapes.RLock()
	defer shapes.RUnlock()
	if id >= uint64(len(shapes.list)) {
		return nil
	}
	return shapes.list[id]
}

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
	defer func() {
		clear(b.pairs)
		b.pairs = b.pairs[:0]
	}()
	byName := func(x, y fieldPair) int { return strings.Compare(x.name, y.name) }
	if !slices.IsSortedFunc(b.pairs, byName) { // connectors that set names in order skip the sort
		slices.SortFunc(b.pairs, byName)
	}
	for i := range b.pairs {
		if needsEscape(b.pairs[i].value) { // rare: held escaped, so writing is a copy
			enc, _ := json.Marshal(b.pairs[i].value)
			b.pairs[i].value = string(enc[1 : len(enc)-1])
		}
	}
	id, ok := shapeOf(b.pairs)
	if !ok {
		return b.object()
	}
	n := 1 + binary.MaxVarintLen32
	for _, p := range b.pairs {
		n += binary.MaxVarintLen32 + len(p.value)
	}
	out := make([]byte, 0, n)
	out = append(out, compactTag)
	out = binary.AppendUvarint(out, uint64(id))
	for _, p := range b.pairs {
		out = binary.AppendUvarint(out, uint64(len(p.value)))
		out = append(out, p.value...)
	}
	return Fields(out)
}

// object writes the sorted pairs, whose values are escaped, as JSON text.
func (b *FieldsBuilder) object() Fields {
	var sb strings.Builder
	sb.WriteByte('{')
	for i, p := range b.pairs {
		if i > 0 {
			sb.WriteByte(',')
		}
		writeJSONString(&sb, p.name)
		sb.WriteString(`:"`)
		sb.WriteString(p.value)
		sb.WriteByte('"')
	}
	sb.WriteByte('}')
	return Fields(sb.String())
}

// each calls fn with every name and its escaped value, in name order; false
// when f is not one Build made.
func (f Fields) each(fn func(prefix, name, escaped string)) bool {
	if f == "" || f[0] != compactTag {
		return false
	}
	s := string(f[1:])
	id, n := uvarint(s)
	sh := shapeAt(id)
	if n <= 0 || sh == nil {
		return false
	}
	s = s[n:]
	for i, name := range sh.names {
		l, n := uvarint(s)
		if n <= 0 || uint64(len(s)-n) < l {
			return false
		}
		fn(sh.prefix[i], name, s[n:n+int(l)])
		s = s[n+int(l):]
	}
	return true
}

// uvarint is binary.Uvarint reading a string, which it would copy.
func uvarint(s string) (uint64, int) {
	var x uint64
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<(7*i), i + 1
		}
		x |= uint64(c&0x7f) << (7 * i)
	}
	return 0, 0
}

// JSON is the fields as the report writes them: an object, names sorted,
// values strings, byte for byte what encoding/json writes for their map;
// "{}" when there are none.
func (f Fields) JSON() string { return string(f.appendJSON(nil)) }

func (f Fields) appendJSON(dst []byte) []byte {
	switch {
	case f == "":
		return append(dst, "{}"...)
	case f[0] != compactTag:
		return append(dst, f...)
	}
	if dst == nil {
		dst = make([]byte, 0, 2*len(f)+16)
	}
	dst = append(dst, '{')
	f.each(func(prefix, _, escaped string) {
		dst = append(dst, prefix...)
		dst = append(dst, '"')
		dst = append(dst, escaped...)
		dst = append(dst, '"')
	})
	return append(dst, '}')
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
	if json.Unmarshal([]byte(f.JSON()), &m) != nil {
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
	return f.appendJSON(nil), nil
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
	if needsEscape(s) {
		enc, _ := json.Marshal(s) // the rare value that needs escaping
		sb.Write(enc)
		return
	}
	sb.WriteByte('"')
	sb.WriteString(s)
	sb.WriteByte('"')
}

// needsEscape reports a string encoding/json does not write as it is.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return true
		}
	}
	return false
}
