package file

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// jsonReader walks one JSON export with a json.Decoder, decoding one record
// at a time.
type jsonReader struct {
	s        *Source
	dec      *json.Decoder
	skip     int          // BOM bytes before the decoder's offsets
	in       *limitReader // counts the bytes read; nil in fuzz tests
	tp       *timeParser
	progress coverage.Progress
	out      []coverage.Record
	found    [numFields]bool // a record had the field's column
	keys     []string        // the first record's keys, for errors
	n        int             // records read
}

// readJSON reads a JSON export: a top-level array of records, an object
// holding one at the path records: gives, or JSON lines (one object per
// line). reopen reads the file again from its start: telling a single
// object with arrays inside from JSON lines takes one look at the whole
// first value.
func (s *Source) readJSON(ctx context.Context, in io.Reader, reopen func() (io.Reader, error), progress coverage.Progress) ([]coverage.Record, error) {
	jr, first, err := s.newJSONReader(in, progress)
	if err != nil {
		return nil, err
	}
	switch {
	case first == '[':
		if s.recordsSet {
			return nil, fmt.Errorf("%s: records: %s is set, but the file's top level is an array, not an object; remove records:", s.path, strings.Join(s.records, "."))
		}
		if _, err := jr.dec.Token(); err != nil {
			return nil, jr.syntax(err)
		}
		if err := jr.array(ctx); err != nil {
			return nil, err
		}
		if err := jr.end(); err != nil {
			return nil, err
		}
	case s.jsonLines:
		if err := jr.lines(ctx); err != nil {
			return nil, err
		}
	case len(s.records) > 0:
		if err := jr.descend(); err != nil {
			return nil, err
		}
		if err := jr.array(ctx); err != nil {
			return nil, err
		}
		if err := jr.end(); err != nil {
			return nil, err
		}
	default:
		// An object and no records path: JSON lines in a .json file, a
		// single record, or an object holding the records somewhere.
		arrays, more, err := jr.survey()
		if err != nil {
			return nil, err
		}
		if len(arrays) > 0 && !more {
			return nil, fmt.Errorf("%s: the top level is an object, not an array of records; set records: to the dotted path of the array holding them (arrays here: %s)", s.path, strings.Join(arrays, ", "))
		}
		in, err := reopen()
		if err != nil {
			return nil, fmt.Errorf("reading %s again: %v", s.path, err)
		}
		if jr, _, err = s.newJSONReader(in, progress); err != nil {
			return nil, err
		}
		if err := jr.lines(ctx); err != nil {
			return nil, err
		}
	}
	if err := jr.check(); err != nil {
		return nil, err
	}
	return jr.out, nil
}

func (s *Source) newJSONReader(in io.Reader, progress coverage.Progress) (*jsonReader, byte, error) {
	br := bufio.NewReaderSize(in, 1<<16)
	skip, err := sniff(br, s.path, "json")
	if err != nil {
		return nil, 0, err
	}
	first := byte(0)
	for i := 1; ; i++ {
		b, err := br.Peek(i)
		if err != nil {
			break
		}
		if c := b[i-1]; c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			first = c
			break
		}
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	lr, _ := in.(*limitReader)
	return &jsonReader{s: s, dec: dec, skip: skip, in: lr, tp: newTimeParser(s.timeFormat), progress: progress}, first, nil
}

// syntax explains a decoding error with its byte offset.
func (jr *jsonReader) syntax(err error) error {
	if errors.Is(err, errTooLarge) {
		return err
	}
	off := jr.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset > off {
		off = se.Offset
	}
	off += int64(jr.skip)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		if jr.in != nil {
			off = jr.in.n
		}
		return fmt.Errorf("%s: the JSON ends early, inside a value, at byte offset %d: the file is truncated; export it again", jr.s.path, off)
	}
	return fmt.Errorf("%s: malformed JSON at byte offset %d: %v", jr.s.path, off, err)
}

// descend walks the records path from the top-level object to the array.
func (jr *jsonReader) descend() error {
	if err := jr.delim('{', "the top level"); err != nil {
		return err
	}
	for i, seg := range jr.s.records {
		where := "the top level"
		if i > 0 {
			where = strings.Join(jr.s.records[:i], ".")
		}
		var keys []string
		for {
			if !jr.dec.More() {
				return fmt.Errorf("%s: records: %s: %s has no key %q (its keys: %s)", jr.s.path, strings.Join(jr.s.records, "."), where, seg, quoteList(keys))
			}
			tok, err := jr.dec.Token()
			if err != nil {
				return jr.syntax(err)
			}
			key, _ := tok.(string)
			if key == seg || strings.EqualFold(key, seg) {
				break
			}
			keys = append(keys, key)
			if err := jr.skipValue(); err != nil {
				return err
			}
		}
		want, what := byte('{'), "an object"
		if i == len(jr.s.records)-1 {
			want, what = '[', "an array"
		}
		path := strings.Join(jr.s.records[:i+1], ".")
		tok, err := jr.dec.Token()
		if err != nil {
			return jr.syntax(err)
		}
		if d, ok := tok.(json.Delim); !ok || byte(d) != want {
			return fmt.Errorf("%s: records: %s is %s, not %s", jr.s.path, path, kindOf(tok), what)
		}
	}
	return nil
}

func (jr *jsonReader) delim(want byte, where string) error {
	tok, err := jr.dec.Token()
	if err != nil {
		return jr.syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || byte(d) != want {
		return fmt.Errorf("%s: %s is %s, not %q", jr.s.path, where, kindOf(tok), string(want))
	}
	return nil
}

// skipValue skips the next value, however deep.
func (jr *jsonReader) skipValue() error {
	depth := 0
	for {
		tok, err := jr.dec.Token()
		if err != nil {
			return jr.syntax(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// array reads the records of an array whose '[' was read, and its ']'.
func (jr *jsonReader) array(ctx context.Context) error {
	for jr.dec.More() {
		if err := jr.next(ctx); err != nil {
			return err
		}
	}
	if _, err := jr.dec.Token(); err != nil {
		return jr.syntax(err)
	}
	return nil
}

// lines reads JSON lines: top-level objects one after another.
func (jr *jsonReader) lines(ctx context.Context) error {
	for jr.dec.More() {
		if err := jr.next(ctx); err != nil {
			return err
		}
	}
	return jr.eof()
}

// end reads what follows the records' array: the rest of the enclosing
// objects, then the end of the file.
func (jr *jsonReader) end() error {
	for range len(jr.s.records) {
		for jr.dec.More() {
			if _, err := jr.dec.Token(); err != nil { // a key
				return jr.syntax(err)
			}
			if err := jr.skipValue(); err != nil {
				return err
			}
		}
		if _, err := jr.dec.Token(); err != nil {
			return jr.syntax(err)
		}
	}
	return jr.eof()
}

func (jr *jsonReader) eof() error {
	tok, err := jr.dec.Token()
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return jr.syntax(err)
	}
	return fmt.Errorf("%s: unexpected %s at byte %d after the end of the JSON value", jr.s.path, kindOf(tok), jr.dec.InputOffset()+int64(jr.skip))
}

// survey reads the first top-level object and says which of its keys hold
// arrays, and whether another value follows it (JSON lines).
func (jr *jsonReader) survey() (arrays []string, more bool, err error) {
	if err := jr.delim('{', "the top level"); err != nil {
		return nil, false, err
	}
	for jr.dec.More() {
		tok, err := jr.dec.Token()
		if err != nil {
			return nil, false, jr.syntax(err)
		}
		key, _ := tok.(string)
		tok, err = jr.dec.Token()
		if err != nil {
			return nil, false, jr.syntax(err)
		}
		switch tok {
		case json.Delim('['):
			arrays = append(arrays, key)
			fallthrough
		case json.Delim('{'):
			if err := jr.skipRest(); err != nil {
				return nil, false, err
			}
		}
	}
	if _, err := jr.dec.Token(); err != nil {
		return nil, false, jr.syntax(err)
	}
	return arrays, jr.dec.More(), nil
}

// skipRest skips the rest of a value whose opening delimiter was read.
func (jr *jsonReader) skipRest() error {
	depth := 1
	for depth > 0 {
		tok, err := jr.dec.Token()
		if err != nil {
			return jr.syntax(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// next decodes and maps one record.
func (jr *jsonReader) next(ctx context.Context) error {
	jr.n++
	if jr.n%4096 == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	where := "item " + strconv.Itoa(jr.n)
	var v any
	if err := jr.dec.Decode(&v); err != nil {
		return jr.syntax(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s: %s is %s, not an object; each record must be a JSON object", jr.s.path, where, kindOf(v))
	}
	if jr.keys == nil {
		jr.keys = slices.Sorted(mapKeys(m))
	}
	var r row
	for f := range numFields {
		if err := jr.fill(&r, m, field(f), where); err != nil {
			return err
		}
	}
	rec, err := jr.s.build(&r, where, jr.tp)
	if err != nil {
		return fmt.Errorf("%s %w", jr.s.path, err)
	}
	jr.out = append(jr.out, rec)
	if len(jr.out)%progressEvery == 0 {
		jr.progress(len(jr.out), -1)
	}
	return nil
}

// fill reads one field of a record from the first of its columns the record has.
func (jr *jsonReader) fill(r *row, m map[string]any, f field, where string) error {
	for _, name := range jr.s.cols[f].names {
		name = strings.TrimSpace(name)
		key, vals, ok, obj := lookup(m, name)
		if !ok {
			continue
		}
		jr.found[f] = true
		if obj != "" {
			return fmt.Errorf("%s: %s: column %q (for %s) holds an object; map a value inside it with a dotted column such as %s.%s", jr.s.path, where, key, f, key, obj)
		}
		r.cols[f] = key
		switch {
		case len(vals) == 0:
		case f.multi():
			r.multi[f] = vals
		default:
			r.vals[f] = vals[0]
		}
		return nil
	}
	return nil
}

// lookup finds a column in a record: a key (case-insensitive), else a dotted
// path through nested objects and lists. obj is set (to one of the object's
// keys) when the column holds objects rather than values.
func lookup(m map[string]any, name string) (key string, vals []string, ok bool, obj string) {
	if v, k, found := getFold(m, name); found {
		vals, obj = flatten(v, nil)
		return k, vals, true, obj
	}
	if !strings.Contains(name, ".") {
		return "", nil, false, ""
	}
	cur := []any{m}
	for _, seg := range strings.Split(name, ".") {
		var next []any
		for _, c := range cur {
			for _, e := range spread(c) {
				if mm, isMap := e.(map[string]any); isMap {
					if v, _, found := getFold(mm, seg); found {
						next = append(next, v)
					}
				}
			}
		}
		if len(next) == 0 {
			return "", nil, false, ""
		}
		cur = next
	}
	for _, c := range cur {
		var o string
		vals, o = flatten(c, vals)
		if obj == "" {
			obj = o
		}
	}
	return name, vals, true, obj
}

func spread(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

func getFold(m map[string]any, name string) (any, string, bool) {
	if v, ok := m[name]; ok {
		return v, name, true
	}
	for k, v := range m {
		if strings.EqualFold(strings.TrimSpace(k), name) {
			return v, k, true
		}
	}
	return nil, "", false
}

// flatten turns a JSON value into its non-empty values; obj names a key of
// the first object found where a value was expected.
func flatten(v any, out []string) ([]string, string) {
	obj := ""
	switch x := v.(type) {
	case string:
		if s := strings.TrimSpace(x); s != "" {
			out = append(out, s)
		}
	case json.Number:
		out = append(out, x.String())
	case bool:
		out = append(out, strconv.FormatBool(x))
	case []any:
		for _, e := range x {
			var o string
			out, o = flatten(e, out)
			if obj == "" {
				obj = o
			}
		}
	case map[string]any:
		obj = "KEY"
		if keys := slices.Sorted(mapKeys(x)); len(keys) > 0 {
			obj = keys[0]
		}
		for _, pref := range []string{"name", "value", "address", "display"} {
			if _, ok := x[pref]; ok {
				obj = pref
				break
			}
		}
	}
	return out, obj
}

// check fails when a column from columns: was in no record at all: a typo,
// or the wrong export.
func (jr *jsonReader) check() error {
	if jr.n == 0 {
		return nil
	}
	for f := range numFields {
		c := jr.s.cols[f]
		if c.explicit && !jr.found[f] {
			return fmt.Errorf("%s: column %q (columns: %s) is in none of the %d records; the first record's keys are %s", jr.s.path, c.names[0], field(f), jr.n, quoteList(jr.keys))
		}
	}
	if jr.s.preset != "" && !jr.s.anyExplicit() && !slices.Contains(jr.found[:], true) {
		return fmt.Errorf("%s does not look like a %s export: none of the preset's columns is in any record; the first record's keys are %s", jr.s.path, jr.s.preset, quoteList(jr.keys))
	}
	if !jr.found[fHostname] && !jr.found[fSerial] && !jr.found[fMAC] {
		return fmt.Errorf("%s: no record has a column for hostname, serial or mac (%s), so none could be matched; the first record's keys are %s", jr.s.path, strings.Join(jr.s.identifierColumns(), ", "), quoteList(jr.keys))
	}
	return nil
}

func kindOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case json.Delim:
		switch x {
		case '[':
			return "an array"
		case '{':
			return "an object"
		}
		return strconv.Quote(x.String())
	}
	return fmt.Sprintf("%T", v)
}

func quoteList(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	return listColumns(keys)
}
