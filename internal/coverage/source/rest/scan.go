package rest

import (
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The page decoder is a single pass over the answer's bytes that checks the
// whole document is JSON (RFC 8259) and keeps only the values the
// configured paths reach: the records, and in each record the mapped
// fields; everything else is skipped without being built. Decoding an
// unknown API's answer into generic maps would cost several times more CPU
// and memory per record.

// maxDepth bounds nesting, so that a hostile answer cannot exhaust the stack.
const maxDepth = 512

// values are what a trie's paths reached in one document or record.
type values struct {
	vals [][]string // by slot: the scalars reached, as text; null and "" are left out
	obj  []string   // by slot: a key of an object the path reached instead of a value
}

func newValues(n int) values {
	return values{vals: make([][]string, n), obj: make([]string, n)}
}

func (v *values) reset() {
	for i := range v.vals {
		v.vals[i] = v.vals[i][:0]
		v.obj[i] = ""
	}
}

// scanner decodes one page.
type scanner struct {
	b     []byte
	i     int
	depth int

	page    *values // the page trie's slots
	rec     *trie   // the record paths
	recRoot []*node
	recVals *values // the current record's slots
	sink    *values // where scalars go: page or recVals

	onRecord     func(i int) error // called after each record is read into recVals
	recordArrays int               // records arrays met
	records      int               // records read
	scratch      [][]*node         // per depth: the nodes of the next value
}

// errTruncated marks a document that ends inside a value.
var errTruncated = errors.New("the JSON ends early")

// syntaxError is malformed JSON at an offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte offset %d: %s", e.off, e.msg)
}

// recordError is a record that cannot be read (not an object).
type recordError struct{ msg string }

func (e *recordError) Error() string { return e.msg }

func (s *scanner) fail(msg string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w, inside a value, at byte offset %d: the answer was cut off", errTruncated, len(s.b))
	}
	return &syntaxError{off: s.i, msg: msg}
}

// document reads the whole answer with the page trie's root.
func (s *scanner) document(root *node) error {
	s.sink = s.page
	if err := s.value([]*node{root}); err != nil {
		return err
	}
	s.ws()
	if s.i < len(s.b) {
		return &syntaxError{off: s.i, msg: "more data after the JSON value"}
	}
	return nil
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next returns a scratch slice for the nodes of a value one level down.
func (s *scanner) next() []*node {
	for len(s.scratch) <= s.depth {
		s.scratch = append(s.scratch, make([]*node, 0, 4))
	}
	return s.scratch[s.depth][:0]
}

func (s *scanner) value(ns []*node) error {
	s.ws()
	if s.i >= len(s.b) {
		return s.fail("")
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(ns)
	case c == '[':
		return s.array(ns)
	case c == '"':
		if len(ns) == 0 {
			_, err := s.str(false)
			return err
		}
		v, err := s.str(true)
		if err != nil {
			return err
		}
		s.emit(ns, v)
		return nil
	case c == 't':
		return s.literal(ns, "true")
	case c == 'f':
		return s.literal(ns, "false")
	case c == 'n':
		if err := s.literal(nil, "null"); err != nil {
			return err
		}
		for _, n := range ns {
			if n.records && s.sink == s.page && s.recordArrays >= 0 {
				s.recordArrays++ // null: no records
			}
		}
		return nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		if err := s.number(); err != nil {
			return err
		}
		if len(ns) > 0 {
			s.emit(ns, string(s.b[start:s.i]))
		}
		return nil
	}
	return s.fail("unexpected character " + strconv.QuoteRune(rune(s.b[s.i])))
}

func (s *scanner) emit(ns []*node, v string) {
	for _, n := range ns {
		for _, slot := range n.slots {
			if v != "" {
				s.sink.vals[slot] = append(s.sink.vals[slot], v)
			}
		}
		if n.records && s.sink == s.page && s.recordArrays == 0 {
			s.recordArrays = -1 // a value where the records' array should be
		}
	}
}

func (s *scanner) literal(ns []*node, lit string) error {
	if len(s.b)-s.i < len(lit) {
		if string(s.b[s.i:]) == lit[:len(s.b)-s.i] {
			s.i = len(s.b)
			return s.fail("")
		}
		return s.fail("invalid literal")
	}
	if string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.fail("invalid literal")
	}
	s.i += len(lit)
	if len(ns) > 0 {
		s.emit(ns, lit)
	}
	return nil
}

func (s *scanner) number() error {
	b := s.b
	if s.i < len(b) && b[s.i] == '-' {
		s.i++
	}
	digits := func() int {
		n := 0
		for s.i < len(b) && b[s.i] >= '0' && b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	switch {
	case s.i >= len(b):
		return s.fail("")
	case b[s.i] == '0':
		s.i++
	case b[s.i] >= '1' && b[s.i] <= '9':
		digits()
	default:
		return s.fail("invalid number")
	}
	if s.i < len(b) && b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return s.fail("invalid number: no digit after the decimal point")
		}
	}
	if s.i < len(b) && (b[s.i] == 'e' || b[s.i] == 'E') {
		s.i++
		if s.i < len(b) && (b[s.i] == '+' || b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return s.fail("invalid number: no digit in the exponent")
		}
	}
	return nil
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return &syntaxError{off: s.i, msg: fmt.Sprintf("nested more than %d levels deep", maxDepth)}
	}
	return nil
}

func (s *scanner) object(ns []*node) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // {
	first := true
	for {
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if first && s.b[s.i] == '}' {
			s.i++
			break
		}
		if s.b[s.i] != '"' {
			return s.fail("expected a key in quotes")
		}
		raw, plain, err := s.strBytes()
		if err != nil {
			return err
		}
		var kids []*node
		if len(ns) > 0 {
			key := ""
			if !plain {
				key = unquote(raw)
			}
			kids = s.next()
			for _, n := range ns {
				if first && (len(n.slots) > 0 || n.records) {
					if plain {
						key = string(raw)
					}
					s.objectAt(n, key)
				}
				var k *node
				if plain {
					k = n.kids[string(raw)] // no copy of the key
				} else {
					k = n.kids[key]
				}
				if k != nil {
					kids = append(kids, k)
				}
			}
			s.scratch[s.depth] = kids
		}
		first = false
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if s.b[s.i] != ':' {
			return s.fail("expected a colon after the key")
		}
		s.i++
		if err := s.value(kids); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == '}' {
			s.i++
			break
		}
		return s.fail("expected a comma or a closing brace")
	}
	if first { // {}: an object even without keys
		for _, n := range ns {
			s.objectAt(n, "KEY")
		}
	}
	s.depth--
	return nil
}

// objectAt notes that the paths ending at n reached an object.
func (s *scanner) objectAt(n *node, key string) {
	if key == "" {
		key = `""`
	}
	for _, slot := range n.slots {
		if s.sink.obj[slot] == "" {
			s.sink.obj[slot] = key
		}
	}
	if n.records && s.sink == s.page && s.recordArrays == 0 {
		s.recordArrays = -2 // an object where the records' array should be
	}
}

func (s *scanner) array(ns []*node) error {
	if err := s.enter(); err != nil {
		return err
	}
	s.i++ // [
	records := false
	if s.sink == s.page {
		for _, n := range ns {
			if n.records {
				records = true
			}
		}
	}
	if records {
		if s.recordArrays > 0 {
			return &recordError{msg: "records: the path reaches more than one array; point it at one (use an index such as data.0.items)"}
		}
		s.recordArrays = 1
	}
	for idx := 0; ; idx++ {
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if idx == 0 && s.b[s.i] == ']' {
			s.i++
			break
		}
		if records {
			if err := s.record(idx); err != nil {
				return err
			}
		} else {
			kids := ns
			if len(ns) > 0 {
				kids = append(s.next(), ns...)
				for _, n := range ns {
					if n.index {
						if k := n.kids[strconv.Itoa(idx)]; k != nil {
							kids = append(kids, k)
						}
					}
				}
				s.scratch[s.depth] = kids
			}
			if err := s.value(kids); err != nil {
				return err
			}
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] == ']' {
			s.i++
			break
		}
		return s.fail("expected a comma or a closing bracket")
	}
	s.depth--
	return nil
}

// record reads one element of the records' array.
func (s *scanner) record(idx int) error {
	s.ws()
	if s.i >= len(s.b) {
		return s.fail("")
	}
	if s.b[s.i] != '{' {
		start := s.i
		if err := s.value(nil); err != nil {
			return err
		}
		return &recordError{msg: fmt.Sprintf("record %d is %s, not an object; records: must name the array of the records themselves", idx+1, kindAt(s.b[start]))}
	}
	s.recVals.reset()
	s.sink = s.recVals
	if s.recRoot == nil {
		s.recRoot = []*node{&s.rec.root}
	}
	err := s.object(s.recRoot)
	s.sink = s.page
	if err != nil {
		return err
	}
	s.records++
	if s.onRecord != nil {
		return s.onRecord(idx)
	}
	return nil
}

func kindAt(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == '[':
		return "an array"
	case c == '{':
		return "an object"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "a number"
}

// str reads a string; with keep, its value (as encoding/json unquotes it:
// invalid UTF-8 and lone surrogates become U+FFFD).
func (s *scanner) str(keep bool) (string, error) {
	raw, plain, err := s.strBytes()
	if err != nil || !keep {
		return "", err
	}
	if plain {
		return string(raw), nil
	}
	return unquote(raw), nil
}

// strBytes reads a string and returns its bytes between the quotes; plain
// says they hold no escape and no byte beyond ASCII (they are the value).
func (s *scanner) strBytes() ([]byte, bool, error) {
	s.i++ // "
	start := s.i
	b := s.b
	plain := true
	for {
		if s.i >= len(b) {
			return nil, false, s.fail("")
		}
		c := b[s.i]
		if c == '"' {
			break
		}
		if c < 0x20 {
			return nil, false, s.fail("a control character inside a string")
		}
		if c == '\\' {
			plain = false
			s.i++
			if s.i >= len(b) {
				return nil, false, s.fail("")
			}
			switch b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				for k := 1; k <= 4; k++ {
					if s.i+k >= len(b) {
						s.i = len(b)
						return nil, false, s.fail("")
					}
					if unhex(b[s.i+k]) < 0 {
						s.i += k
						return nil, false, s.fail("invalid \\u escape")
					}
				}
				s.i += 5
			default:
				return nil, false, s.fail("invalid escape in a string")
			}
			continue
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
		s.i++
	}
	raw := b[start:s.i]
	s.i++ // "
	return raw, plain, nil
}

func unhex(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

func getu4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		h := unhex(c)
		if h < 0 {
			return -1
		}
		r = r<<4 | h
	}
	return r
}

// unquote decodes a string's escapes; raw is known to be well formed.
func unquote(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\':
			switch raw[i+1] {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := getu4(raw[i:])
				i += 6
				if utf16.IsSurrogate(r) {
					if r2 := getu4(raw[i:]); r2 >= 0 {
						if d := utf16.DecodeRune(r, r2); d != unicode.ReplacementChar {
							out = utf8.AppendRune(out, d)
							i += 6
							continue
						}
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
				continue
			default: // " \ /
				out = append(out, raw[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
		}
	}
	return string(out)
}
