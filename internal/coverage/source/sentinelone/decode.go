package sentinelone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/muster-project/muster/internal/coverage/jsonscan"
)

// A page of 1000 agents is a few MB of which the connector reads a tenth;
// encoding/json scans it twice (validation, then decoding) and costs more
// than the 10 µs an agent this connector allows itself. scanner reads it
// once: it decodes the fields of apiPage and skips the rest, checking the
// skipped values' syntax as it goes (the skipping and the numbers are
// jsonscan's, about three times faster over a page than the recursive skip
// it replaced). Its errors name the field (data[3].isActive) or the byte
// offset.

// maxDepth bounds the nesting of skipped values.
const maxDepth = 64

type scanner struct {
	b      []byte
	i      int
	intern map[string]string // values that repeat from agent to agent (site, OS, version)
	js     jsonscan.Scanner  // over b: strings, numbers and skipped values
}

// scan hands the value at s.i to s.js and takes back the position after it.
func (s *scanner) scan(read func(js *jsonscan.Scanner) error) error {
	s.js.Seek(s.i)
	if err := read(&s.js); err != nil {
		var e *jsonscan.Error
		if errors.As(err, &e) {
			s.i = e.Offset
			return &syntaxError{off: e.Offset, msg: e.Msg, eof: e.EOF}
		}
		return err
	}
	s.i = s.js.Offset()
	return nil
}

// syntaxError is malformed JSON at an offset; eof says the body ended first.
type syntaxError struct {
	off int
	msg string
	eof bool
}

func (e *syntaxError) Error() string { return e.msg + " at byte " + strconv.Itoa(e.off) }

// loc names a field for an error, built only when one happens: data[n].field,
// with [i] and [j] for elements of arrays within it (-1: none).
type loc struct {
	top   string // "data" or "pagination" or ""
	n     int    // the agent's index; -1: none
	field string
	i, j  int
	sub   string // a field of element i
}

func (l loc) String() string {
	s := l.top
	if l.n >= 0 {
		s += "[" + strconv.Itoa(l.n) + "]"
	}
	if l.field != "" {
		if s != "" {
			s += "."
		}
		s += l.field
	}
	if l.i >= 0 {
		s += "[" + strconv.Itoa(l.i) + "]"
	}
	if l.sub != "" {
		s += "." + l.sub
	}
	if l.j >= 0 {
		s += "[" + strconv.Itoa(l.j) + "]"
	}
	return s
}

func at(n int, field string) loc { return loc{top: "data", n: n, field: field, i: -1, j: -1} }

// typeError is a field whose JSON type is not the one the API documents.
type typeError struct {
	path, got, want string
	off             int
}

func (e *typeError) Error() string {
	return fmt.Sprintf("the field %s is a JSON %s where %s was expected (byte %d)", e.path, e.got, e.want, e.off)
}

func (s *scanner) fail(msg string) error {
	if s.i >= len(s.b) {
		return &syntaxError{off: s.i, msg: "unexpected end of the body", eof: true}
	}
	return &syntaxError{off: s.i, msg: fmt.Sprintf("%s, found %q", msg, s.b[s.i])}
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

// peek skips white space and returns the next byte (0 at the end).
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// kind names the JSON type of the value starting with c.
func kind(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return "invalid value"
}

// rawString scans a string at s.i and returns its contents, still escaped,
// and whether it holds escapes.
func (s *scanner) rawString() ([]byte, bool, error) {
	if s.peek() != '"' {
		return nil, false, s.fail("expected a string")
	}
	s.i++
	start, escaped := s.i, false
	// Fast path: the closing quote with no escape before it (control
	// characters inside are tolerated there; they harm nothing here).
	if j := bytes.IndexByte(s.b[start:], '"'); j >= 0 && bytes.IndexByte(s.b[start:start+j], '\\') < 0 {
		s.i = start + j + 1
		return s.b[start : start+j], false, nil
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], escaped, nil
		case c == '\\':
			escaped = true
			s.i += 2
		case c < 0x20:
			return nil, false, s.fail("control character in a string")
		default:
			s.i++
		}
	}
	return nil, false, s.fail("unterminated string")
}

// str decodes a string value.
func (s *scanner) str() (string, error) {
	start := s.i
	raw, escaped, err := s.rawString()
	if err != nil || !escaped {
		return string(raw), err
	}
	var out string
	if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
		s.i = start
		return "", s.fail("invalid escape in a string")
	}
	return out, nil
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.i += len(word)
	return nil
}

func (s *scanner) number() error {
	return s.scan(func(js *jsonscan.Scanner) error {
		_, err := js.Number()
		return err
	})
}

// skip scans one value of any type, checking its syntax (jsonscan: values
// nested below maxDepth in all are refused).
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return s.fail("values nested too deep")
	}
	s.js.MaxDepth = maxDepth - depth + 1
	return s.scan((*jsonscan.Scanner).Skip)
}

// object scans an object, calling member for each key with s at its value.
func (s *scanner) object(member func(key []byte) error) error {
	if s.peek() != '{' {
		return s.fail("expected an object")
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		key, escaped, err := s.rawString()
		if err != nil {
			return err
		}
		if escaped { // keys the connector reads have no escapes: decode for the skip path
			var k string
			if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &k) == nil {
				key = []byte(k)
			}
		}
		if s.peek() != ':' {
			return s.fail("expected ':' after an object key")
		}
		s.i++
		if err := member(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or '}' in an object")
		}
	}
}

// array scans an array, calling elem for each element with s at it.
func (s *scanner) array(elem func(i int) error) error {
	if s.peek() != '[' {
		return s.fail("expected an array")
	}
	s.i++
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		if err := elem(n); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.fail("expected ',' or ']' in an array")
		}
	}
}

// null consumes a null and reports whether there was one.
func (s *scanner) null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

// typed checks that the next value is null or of type want (by its first
// byte); it returns false for null.
func (s *scanner) typed(path loc, first byte, want string) (bool, error) {
	c := s.peek()
	if c == 'n' {
		_, err := s.null()
		return false, err
	}
	if c != first {
		if kind(c) == "invalid value" {
			return false, s.fail("expected a value")
		}
		return false, &typeError{path: path.String(), got: kind(c), want: want, off: s.i}
	}
	return true, nil
}

// internField is strField for values most agents share: one copy a page.
func (s *scanner) internField(path loc, dst *string) error {
	ok, err := s.typed(path, '"', "a string")
	if !ok || err != nil {
		return err
	}
	start := s.i
	raw, escaped, err := s.rawString()
	if err != nil || escaped {
		s.i = start
		*dst, err = s.str()
		return err
	}
	if v, ok := s.intern[string(raw)]; ok {
		*dst = v
		return nil
	}
	v := string(raw)
	if s.intern == nil {
		s.intern = map[string]string{}
	}
	if len(s.intern) < 4096 {
		s.intern[v] = v
	}
	*dst = v
	return nil
}

func (s *scanner) strField(path loc, dst *string) error {
	ok, err := s.typed(path, '"', "a string")
	if !ok || err != nil {
		return err
	}
	*dst, err = s.str()
	return err
}

// The values boolField points at: shared, never written.
var valTrue, valFalse = true, false

func (s *scanner) boolField(path loc, dst **bool) error {
	c := s.peek()
	v := &valFalse
	switch c {
	case 'n':
		_, err := s.null()
		*dst = nil
		return err
	case 't':
		v = &valTrue
		if err := s.literal("true"); err != nil {
			return err
		}
	case 'f':
		if err := s.literal("false"); err != nil {
			return err
		}
	default:
		if kind(c) == "invalid value" {
			return s.fail("expected a value")
		}
		return &typeError{path: path.String(), got: kind(c), want: "a boolean", off: s.i}
	}
	*dst = v
	return nil
}

func (s *scanner) strArray(path loc, dst *[]string) error {
	ok, err := s.typed(path, '[', "an array of strings")
	if !ok || err != nil {
		return err
	}
	return s.array(func(i int) error {
		var v string
		el := path
		if el.i >= 0 {
			el.j = i
		} else {
			el.i = i
		}
		if err := s.strField(el, &v); err != nil {
			return err
		}
		if v != "" {
			*dst = append(*dst, v)
		}
		return nil
	})
}

// decodeAgents reads the data array.
func (s *scanner) decodeAgents(dst *[]apiAgent) error {
	ok, err := s.typed(loc{top: "data", n: -1, i: -1, j: -1}, '[', "an array of agents")
	if err != nil {
		return err
	}
	*dst = make([]apiAgent, 0, min(len(s.b)/1024, MaxPageSize)+1)
	if !ok {
		*dst = nil
		return nil
	}
	return s.array(func(n int) error {
		*dst = append(*dst, apiAgent{})
		return s.decodeAgent(n, &(*dst)[len(*dst)-1])
	})
}

func (s *scanner) decodeAgent(n int, a *apiAgent) error {
	ok, err := s.typed(at(n, ""), '{', "an agent object")
	if !ok || err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		switch string(key) {
		case "id":
			return s.idField(at(n, "id"), &a.ID)
		case "uuid":
			return s.strField(at(n, "uuid"), &a.UUID)
		case "computerName":
			return s.strField(at(n, "computerName"), &a.ComputerName)
		case "serialNumber":
			return s.strField(at(n, "serialNumber"), &a.SerialNumber)
		case "lastIpToMgmt":
			return s.strField(at(n, "lastIpToMgmt"), &a.LastIPToMgmt)
		case "externalIp":
			return s.strField(at(n, "externalIp"), &a.ExternalIP)
		case "osName":
			return s.internField(at(n, "osName"), &a.OSName)
		case "osType":
			return s.internField(at(n, "osType"), &a.OSType)
		case "osRevision":
			return s.internField(at(n, "osRevision"), &a.OSRevision)
		case "accountName":
			return s.internField(at(n, "accountName"), &a.AccountName)
		case "siteId":
			return s.idField(at(n, "siteId"), &a.SiteID)
		case "siteName":
			return s.internField(at(n, "siteName"), &a.SiteName)
		case "groupName":
			return s.internField(at(n, "groupName"), &a.GroupName)
		case "lastActiveDate":
			return s.strField(at(n, "lastActiveDate"), &a.LastActiveDate)
		case "networkStatus":
			return s.internField(at(n, "networkStatus"), &a.NetworkStatus)
		case "agentVersion":
			return s.internField(at(n, "agentVersion"), &a.AgentVersion)
		case "operationalState":
			return s.internField(at(n, "operationalState"), &a.OperationalState)
		case "isActive":
			return s.boolField(at(n, "isActive"), &a.IsActive)
		case "infected":
			return s.boolField(at(n, "infected"), &a.Infected)
		case "isDecommissioned":
			return s.boolField(at(n, "isDecommissioned"), &a.IsDecommissioned)
		case "isUninstalled":
			return s.boolField(at(n, "isUninstalled"), &a.IsUninstalled)
		case "isPendingUninstall":
			return s.boolField(at(n, "isPendingUninstall"), &a.IsPendingUninstall)
		case "networkInterfaces":
			return s.decodeInterfaces(at(n, "networkInterfaces"), &a.NetworkInterfaces)
		}
		return s.skip(1)
	})
}

// idField reads an id: SentinelOne sends ids as strings; a number is taken
// as it is written.
func (s *scanner) idField(path loc, dst *string) error {
	if c := s.peek(); c == '-' || (c >= '0' && c <= '9') {
		start := s.i
		if err := s.number(); err != nil {
			return err
		}
		*dst = string(s.b[start:s.i])
		return nil
	}
	return s.strField(path, dst)
}

func (s *scanner) decodeInterfaces(path loc, dst *[]apiInterface) error {
	ok, err := s.typed(path, '[', "an array of interfaces")
	if !ok || err != nil {
		return err
	}
	return s.array(func(i int) error {
		elem := path
		elem.i = i
		ok, err := s.typed(elem, '{', "an interface object")
		if !ok || err != nil {
			return err
		}
		var n apiInterface
		err = s.object(func(key []byte) error {
			switch string(key) {
			case "physical":
				el := elem
				el.sub = "physical"
				return s.strField(el, &n.Physical)
			case "inet":
				el := elem
				el.sub = "inet"
				return s.strArray(el, &n.Inet)
			}
			return s.skip(2)
		})
		*dst = append(*dst, n)
		return err
	})
}

func (s *scanner) decodePagination(dst **apiPagination) error {
	path := func(k string) loc { return loc{top: "pagination", n: -1, field: k, i: -1, j: -1} }
	ok, err := s.typed(path(""), '{', "an object")
	if !ok || err != nil {
		return err
	}
	p := &apiPagination{}
	*dst = p
	return s.object(func(key []byte) error {
		switch string(key) {
		case "nextCursor":
			ok, err := s.typed(path("nextCursor"), '"', "a string")
			if !ok || err != nil {
				return err
			}
			v, err := s.str()
			p.NextCursor = &v
			return err
		case "totalItems":
			c := s.peek()
			if c == 'n' {
				_, err := s.null()
				return err
			}
			if c != '-' && (c < '0' || c > '9') {
				return &typeError{path: "pagination.totalItems", got: kind(c), want: "a number", off: s.i}
			}
			start := s.i
			if err := s.number(); err != nil {
				return err
			}
			n, err := strconv.Atoi(string(s.b[start:s.i]))
			if err != nil {
				return &typeError{path: "pagination.totalItems", got: "number " + string(s.b[start:s.i]), want: "a whole number", off: start}
			}
			p.TotalItems = &n
			return nil
		}
		return s.skip(2)
	})
}

// parsePage scans a whole page.
func parsePage(raw []byte) (*apiPage, error) {
	s := &scanner{b: raw}
	s.js.Reset(raw)
	var p apiPage
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "data":
			return s.decodeAgents(&p.Data)
		case "pagination":
			return s.decodePagination(&p.Pagination)
		case "errors":
			start := s.i
			if err := s.skip(1); err != nil {
				return err
			}
			if err := json.Unmarshal(s.b[start:s.i], &p.Errors); err != nil {
				return &typeError{path: "errors", got: kind(s.b[start+countWS(s.b[start:])]), want: "an array of errors", off: start}
			}
			return nil
		}
		return s.skip(1)
	})
	if err == nil && s.peek() != 0 {
		err = s.fail("data after the JSON object")
	}
	return &p, err
}

func countWS(b []byte) int {
	n := 0
	for n < len(b)-1 && (b[n] == ' ' || b[n] == '\t' || b[n] == '\n' || b[n] == '\r') {
		n++
	}
	return n
}

// explainScan turns a scanner error into the connector's message.
func explainScan(err error, size int) error {
	var se *syntaxError
	var te *typeError
	switch {
	case errors.As(err, &te):
		return fmt.Errorf("%w: %v", errNotAPI, te)
	case errors.As(err, &se) && se.eof:
		return fmt.Errorf("%w: the body (%d bytes) ends before its JSON does; the answer was cut short, try again", errNotAPI, size)
	case errors.As(err, &se):
		return fmt.Errorf("%w: the body (%d bytes) is not valid JSON (%v); the answer may have been cut short, try again", errNotAPI, size, se)
	}
	return fmt.Errorf("%w: %v", errNotAPI, err)
}
