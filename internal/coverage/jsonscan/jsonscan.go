// Package jsonscan is a single-pass JSON reader over a document held in
// memory, shared by the coverage connectors that decode large pages of
// devices of which they keep a small part.
//
// It works on the page's own bytes: keys and strings come back as slices of
// the document when they hold no escape (and are valid UTF-8), and are
// unescaped into new memory only when they do; values a connector does not
// want are skipped with their syntax checked but nothing built. It is strict
// where encoding/json is strict (RFC 8259 grammar, no trailing data, control
// characters in strings, escapes, numbers) and decodes strings as
// encoding/json does (invalid UTF-8 and lone surrogates become U+FFFD), so a
// connector moved onto it accepts exactly the documents it accepted before.
// Nesting is bounded (MaxDepth) so that a hostile answer cannot exhaust the
// stack or the heap.
package jsonscan

import (
	"encoding/binary"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// DefaultMaxDepth bounds nesting when Scanner.MaxDepth is 0. encoding/json
// allows 10,000; no device inventory nests more than a few levels.
const DefaultMaxDepth = 512

// Kind is the JSON type of a value, known from its first byte.
type Kind uint8

const (
	Invalid Kind = iota // no value here: the end of the input or a byte that starts none
	Null
	Bool
	Number
	String
	Object
	Array
)

var kindNames = [...]string{"invalid value", "null", "boolean", "number", "string", "object", "array"}

func (k Kind) String() string { return kindNames[k] }

// Error is malformed JSON at a byte offset. EOF says the input ended inside
// a value: the document was cut short rather than wrong.
type Error struct {
	Offset int
	Msg    string
	EOF    bool
}

func (e *Error) Error() string { return e.Msg + " at byte " + strconv.Itoa(e.Offset) }

// Scanner reads one document. The zero value is not usable; see New.
type Scanner struct {
	// MaxDepth bounds nesting (0: DefaultMaxDepth).
	MaxDepth int

	b     []byte
	i     int
	depth int
	stk   []byte // the skip's open containers
	key   []byte // an unescaped key, reused
}

// New returns a scanner at the start of b. b must not change while it is read.
func New(b []byte) *Scanner { return &Scanner{b: b} }

// Reset makes s read b from its start, keeping its scratch memory.
func (s *Scanner) Reset(b []byte) { s.b, s.i, s.depth = b, 0, 0 }

// Seek moves the scanner to off, for a reader that keeps its own position
// and hands a value to the scanner (to skip it, or read a string).
func (s *Scanner) Seek(off int) { s.i = min(max(off, 0), len(s.b)) }

// Offset is the position of the next byte to read.
func (s *Scanner) Offset() int { return s.i }

// Bytes is the document.
func (s *Scanner) Bytes() []byte { return s.b }

func (s *Scanner) maxDepth() int {
	if s.MaxDepth > 0 {
		return s.MaxDepth
	}
	return DefaultMaxDepth
}

// fail is an error at the current offset, or the end-of-input error there.
func (s *Scanner) fail(msg string) error { return s.failAt(s.i, msg) }

func (s *Scanner) failAt(i int, msg string) error {
	if i >= len(s.b) {
		return &Error{Offset: len(s.b), Msg: "unexpected end of the input", EOF: true}
	}
	return &Error{Offset: i, Msg: msg + ", found " + strconv.QuoteRune(rune(s.b[i]))}
}

// space marks JSON white space.
var space = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (s *Scanner) ws() {
	for s.i < len(s.b) && space[s.b[s.i]] {
		s.i++
	}
}

// Peek skips white space and returns the kind of the next value without
// reading it (Invalid at the end of the input).
func (s *Scanner) Peek() Kind {
	s.ws()
	if s.i >= len(s.b) {
		return Invalid
	}
	return kindOf(s.b[s.i])
}

// PeekByte skips white space and returns the next byte (0 at the end).
func (s *Scanner) PeekByte() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func kindOf(c byte) Kind {
	switch {
	case c == '"':
		return String
	case c == '{':
		return Object
	case c == '[':
		return Array
	case c == 't' || c == 'f':
		return Bool
	case c == 'n':
		return Null
	case c == '-' || (c >= '0' && c <= '9'):
		return Number
	}
	return Invalid
}

// End checks that only white space follows the value read.
func (s *Scanner) End() error {
	s.ws()
	if s.i < len(s.b) {
		return &Error{Offset: s.i, Msg: "data after the JSON value"}
	}
	return nil
}

// Object reads an object, calling member with each key and the scanner at
// that member's value, which member must read or Skip. The key is
// unescaped; it may alias the document or scratch memory and is valid only
// until member returns.
func (s *Scanner) Object(member func(key []byte) error) error {
	if s.Peek() != Object {
		return s.fail("expected an object")
	}
	if s.depth++; s.depth > s.maxDepth() {
		return s.tooDeep()
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		key, err := s.Key()
		if err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or '}' in an object")
		}
	}
}

// Key reads an object's key and the colon after it (Object calls it; it is
// exported for readers that walk objects themselves).
func (s *Scanner) Key() ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.fail("expected a key in quotes")
	}
	start := s.i + 1
	end, unq, err := s.scanString(s.i)
	if err != nil {
		return nil, err
	}
	raw := s.b[start : end-1]
	s.i = end
	if unq {
		s.key = appendUnquoted(s.key[:0], raw)
		raw = s.key
	}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return nil, s.fail("expected ':' after an object key")
	}
	s.i++
	return raw, nil
}

// Array reads an array, calling elem with each element's index and the
// scanner at the element, which elem must read or Skip.
func (s *Scanner) Array(elem func(i int) error) error {
	if s.Peek() != Array {
		return s.fail("expected an array")
	}
	if s.depth++; s.depth > s.maxDepth() {
		return s.tooDeep()
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for n := 0; ; n++ {
		if err := elem(n); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.fail("")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return nil
		default:
			return s.fail("expected ',' or ']' in an array")
		}
	}
}

func (s *Scanner) tooDeep() error {
	return &Error{Offset: s.i, Msg: "values nested more than " + strconv.Itoa(s.maxDepth()) + " levels deep"}
}

// StringBytes reads a string. Without escapes (and valid UTF-8) it is a
// slice of the document; otherwise it is unescaped into new memory.
func (s *Scanner) StringBytes() ([]byte, error) {
	if s.Peek() != String {
		return nil, s.fail("expected a string")
	}
	start := s.i + 1
	end, unq, err := s.scanString(s.i)
	if err != nil {
		return nil, err
	}
	s.i = end
	raw := s.b[start : end-1]
	if unq {
		return appendUnquoted(make([]byte, 0, len(raw)), raw), nil
	}
	return raw, nil
}

// RawString reads a string and returns its bytes between the quotes, still
// escaped, and whether they need unescaping (an escape, or invalid UTF-8):
// for a reader that compares or interns the bytes before copying them.
func (s *Scanner) RawString() (raw []byte, needsUnquote bool, err error) {
	if s.Peek() != String {
		return nil, false, s.fail("expected a string")
	}
	start := s.i + 1
	end, unq, err := s.scanString(s.i)
	if err != nil {
		return nil, false, err
	}
	s.i = end
	return s.b[start : end-1], unq, nil
}

// Str reads a string into a new string.
func (s *Scanner) Str() (string, error) {
	raw, unq, err := s.RawString()
	if err != nil {
		return "", err
	}
	if unq {
		return Unquote(raw), nil
	}
	return string(raw), nil
}

// Unquote decodes the escapes of a string's raw bytes (as RawString returns
// them) as encoding/json does.
func Unquote(raw []byte) string { return string(appendUnquoted(make([]byte, 0, len(raw)), raw)) }

// Number reads a number and returns its text, checked against JSON's grammar.
func (s *Scanner) Number() ([]byte, error) {
	if s.Peek() != Number {
		return nil, s.fail("expected a number")
	}
	start := s.i
	end, err := s.scanNumber(s.i)
	if err != nil {
		return nil, err
	}
	s.i = end
	return s.b[start:end], nil
}

// Bool reads true or false.
func (s *Scanner) Bool() (bool, error) {
	switch s.PeekByte() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, s.fail("expected a boolean")
}

// Null reads a null if one is next and reports whether it did.
func (s *Scanner) Null() (bool, error) {
	if s.PeekByte() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *Scanner) literal(word string) error {
	end, err := s.scanLiteral(s.i, word)
	if err != nil {
		return err
	}
	s.i = end
	return nil
}

func (s *Scanner) scanLiteral(i int, word string) (int, error) {
	b := s.b
	for k := 0; k < len(word); k++ {
		if i+k >= len(b) {
			return 0, s.failAt(len(b), "")
		}
		if b[i+k] != word[k] {
			return 0, s.failAt(i+k, "invalid literal (expected "+word+")")
		}
	}
	return i + len(word), nil
}

// Skip reads one value of any kind, checking its syntax, and builds nothing.
func (s *Scanner) Skip() error {
	_, err := s.SkipRaw()
	return err
}

// SkipRaw is Skip that returns the value's bytes.
func (s *Scanner) SkipRaw() ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, s.fail("")
	}
	start := s.i
	var end int
	var err error
	switch c := s.b[s.i]; c {
	case '"':
		end, _, err = s.scanString(s.i)
	case '{', '[':
		end, err = s.skipContainer(s.i)
	case 't':
		end, err = s.scanLiteral(s.i, "true")
	case 'f':
		end, err = s.scanLiteral(s.i, "false")
	case 'n':
		end, err = s.scanLiteral(s.i, "null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			end, err = s.scanNumber(s.i)
		} else {
			err = s.fail("expected a value")
		}
	}
	if err != nil {
		return nil, err
	}
	s.i = end
	return s.b[start:end], nil
}

// skipContainer passes over the object or array at i without recursion: the
// open containers are a stack of their opening bytes.
func (s *Scanner) skipContainer(i int) (int, error) {
	b := s.b
	stk := s.stk[:0]
	limit := s.maxDepth() - s.depth
	defer func() { s.stk = stk[:0] }()
	for {
		// b[i] opens a container.
		if len(stk) >= limit {
			s.i = i
			return 0, s.tooDeep()
		}
		stk = append(stk, b[i])
		i++
		for i < len(b) && space[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, s.failAt(i, "")
		}
		if b[i] == stk[len(stk)-1]+2 { // '{'+2 is '}', '['+2 is ']'
			i++
			goto closed
		}
	member:
		if stk[len(stk)-1] == '{' {
			if b[i] != '"' {
				return 0, s.failAt(i, "expected a key in quotes")
			}
			var err error
			if i, _, err = s.scanString(i); err != nil {
				return 0, err
			}
			for i < len(b) && space[b[i]] {
				i++
			}
			if i >= len(b) || b[i] != ':' {
				return 0, s.failAt(i, "expected ':' after an object key")
			}
			i++
			for i < len(b) && space[b[i]] {
				i++
			}
			if i >= len(b) {
				return 0, s.failAt(i, "")
			}
		}
		{
			var err error
			switch c := b[i]; c {
			case '{', '[':
				continue // open it
			case '"':
				i, _, err = s.scanString(i)
			case 't':
				i, err = s.scanLiteral(i, "true")
			case 'f':
				i, err = s.scanLiteral(i, "false")
			case 'n':
				i, err = s.scanLiteral(i, "null")
			default:
				if c == '-' || (c >= '0' && c <= '9') {
					i, err = s.scanNumber(i)
				} else {
					err = s.failAt(i, "expected a value")
				}
			}
			if err != nil {
				return 0, err
			}
		}
	after:
		for i < len(b) && space[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, s.failAt(i, "")
		}
		switch c := b[i]; {
		case c == ',':
			i++
			for i < len(b) && space[b[i]] {
				i++
			}
			if i >= len(b) {
				return 0, s.failAt(i, "")
			}
			goto member
		case c == stk[len(stk)-1]+2:
			i++
			goto closed
		case stk[len(stk)-1] == '{':
			return 0, s.failAt(i, "expected ',' or '}' in an object")
		default:
			return 0, s.failAt(i, "expected ',' or ']' in an array")
		}
	closed:
		stk = stk[:len(stk)-1]
		if len(stk) == 0 {
			return i, nil
		}
		goto after
	}
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special marks the bytes that end a run of plain string bytes.
var special = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanString passes over the string whose quote is at i and returns the
// offset after its closing quote and whether its bytes need unescaping: an
// escape, or bytes beyond ASCII that are not valid UTF-8.
func (s *Scanner) scanString(i int) (int, bool, error) {
	b := s.b
	i++
	start := i
	esc := false
	var hiWords uint64 // bytes seen, or-ed, to tell whether any was beyond ASCII
	var hiBytes byte
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lsb * '"')
			bs := x ^ (lsb * '\\')
			if ((q-lsb)&^q|(bs-lsb)&^bs|(x-lsb*0x20)&^x)&msb != 0 {
				break
			}
			hiWords |= x
			i += 8
		}
		for i < len(b) && !special[b[i]] {
			hiBytes |= b[i]
			i++
		}
		if i >= len(b) {
			return 0, false, s.failAt(i, "")
		}
		switch c := b[i]; {
		case c == '"':
			unq := esc
			if !unq && (hiWords&msb != 0 || hiBytes >= utf8.RuneSelf) {
				unq = !utf8.Valid(b[start:i])
			}
			return i + 1, unq, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, s.failAt(len(b), "")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := 2; k < 6; k++ {
					if i+k >= len(b) {
						return 0, false, s.failAt(len(b), "")
					}
					if unhex(b[i+k]) < 0 {
						return 0, false, s.failAt(i+k, "invalid \\u escape in a string")
					}
				}
				i += 6
			default:
				return 0, false, s.failAt(i+1, "invalid escape in a string")
			}
		default:
			return 0, false, s.failAt(i, "control character in a string")
		}
	}
}

// scanNumber passes over the number at i, checking JSON's grammar.
func (s *Scanner) scanNumber(i int) (int, error) {
	b := s.b
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, s.failAt(i, "")
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, s.failAt(i, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, s.failAt(i, "invalid number: no digit after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, s.failAt(i, "invalid number: no digit in the exponent")
		}
	}
	return i, nil
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

// getu4 decodes the \uXXXX at the start of b, or returns -1.
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

// appendUnquoted appends raw with its escapes decoded; raw is a string's
// well-formed contents. Invalid UTF-8 and lone surrogates become U+FFFD.
func appendUnquoted(out, raw []byte) []byte {
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
	return out
}

// Valid reports whether b is one JSON value (with white space around it).
func Valid(b []byte) bool {
	s := New(b)
	return s.Skip() == nil && s.End() == nil
}
