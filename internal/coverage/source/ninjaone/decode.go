package ninjaone

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/connauth"
)

// apiDevice is the part of a Device (AgentDevice for agents) of
// /v2/devices-detailed the connector reads, by the API's field names; the
// decoder skips the rest.
type apiDevice struct {
	ID             int       // id
	OrganizationID int       // organizationId
	LocationID     int       // locationId
	NodeClass      string    // nodeClass
	ApprovalStatus string    // approvalStatus
	Offline        *bool     // offline; nil when absent or null
	DisplayName    string    // displayName
	SystemName     string    // systemName
	DNSName        string    // dnsName
	NetbiosName    string    // netbiosName
	LastContact    float64   // lastContact, epoch seconds
	LastUpdate     float64   // lastUpdate, epoch seconds
	Tags           []string  // tags
	IPAddresses    []string  // ipAddresses
	MACAddresses   []string  // macAddresses
	References     apiRefs   // references (zero when absent)
	OS             apiOS     // os (zero when absent)
	System         apiSystem // system (zero when absent)
}

type apiRefs struct {
	Organization apiNamed // organization
	Location     apiNamed // location
}

type apiNamed struct {
	Name string // name
}

type apiOS struct {
	Name string // name
}

type apiSystem struct {
	SerialNumber     string // serialNumber
	BIOSSerialNumber string // biosSerialNumber
}

// decodePage reads one answer of /v2/devices-detailed: a JSON array of
// devices, at most max bytes. An answer that is not such an array, is cut
// short, is bigger than max or has a field of the wrong type is an error
// that says which (naming the field and the device).
//
// A detailed device is about 3 KB of which the mapping reads a few
// fields, so this typed scanner reads those and skips the rest without
// building it: several times faster than encoding/json, which decides the
// cost of a 100,000-device walk.
func decodePage(r io.Reader, max int64) ([]apiDevice, error) {
	var buf bytes.Buffer
	return decodePageSized(r, max, -1, &buf)
}

// decodePageSized is decodePage with the answer's Content-Length (-1:
// unknown), so that the page is read into a buffer of the right size, and
// with buf to read it into: a walk reads many pages of about the same size,
// and reusing one buffer saves allocating and clearing a few MB a page.
// The devices copy what they keep out of buf.
func decodePageSized(r io.Reader, max, size int64, buf *bytes.Buffer) ([]apiDevice, error) {
	if size > max {
		return nil, fmt.Errorf("the page is bigger than %s (Content-Length %d); muster refuses it rather than hold it in memory", sizeText(max), size)
	}
	buf.Reset()
	defer buf.Reset()
	if size > 0 {
		buf.Grow(int(size) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(buf.Len()) > max {
		return nil, fmt.Errorf("the page is bigger than %s; muster refuses it rather than hold it in memory", sizeText(max))
	}
	return parsePage(buf.Bytes())
}

func parsePage(b []byte) ([]apiDevice, error) {
	begins := connauth.Snippet(b[:min(len(b), 200)])
	s := &scanner{b: b}
	s.i = len(b) - len(bytes.TrimPrefix(b, []byte("\ufeff")))
	s.ws()
	switch {
	case s.i == len(b):
		return nil, errors.New("the answer is empty, not the JSON device list")
	case b[s.i] == '<':
		return nil, fmt.Errorf("the answer is an HTML page, not the JSON device list (a proxy, a login page, or url is not the API?): %s", begins)
	case b[s.i] != '[':
		return nil, fmt.Errorf("the answer is not a JSON array of devices, as /v2/devices-detailed answers; it begins: %s", begins)
	}
	s.i++
	f := &fields{s: s}
	// A detailed agent device is 2-4 KB: room for most pages at once.
	out := make([]apiDevice, 0, len(b)/2048+1)
	fail := func(err error) ([]apiDevice, error) {
		var se *syntaxError
		if errors.As(err, &se) && se.eof {
			return nil, fmt.Errorf("the answer ends in the middle of device %d of the page (cut off?); it begins: %s", len(out)+1, begins)
		}
		if errors.As(err, &se) {
			return nil, fmt.Errorf("the answer is not the JSON device list (device %d of the page: %v); it begins: %s", len(out)+1, err, begins)
		}
		return nil, err
	}
	s.ws()
	if s.peek() == ']' {
		s.i++
	} else {
		for {
			d, err := s.device(f, len(out))
			if err != nil {
				return fail(err)
			}
			out = append(out, d)
			s.ws()
			c := s.peek()
			s.i++
			if c == ']' {
				break
			}
			if c != ',' {
				return fail(s.syntax("after device %d: want , or ]", len(out)))
			}
		}
	}
	s.ws()
	if s.i != len(b) {
		return nil, fmt.Errorf("the answer holds more after the device list; it begins: %s", begins)
	}
	return out, nil
}

// scanner walks one JSON document in b from i.
type scanner struct {
	b    []byte
	i    int
	seen map[string]string // common values, by their raw text
}

// syntaxError is malformed JSON at an offset; eof when the input ended.
type syntaxError struct {
	msg string
	off int
	eof bool
}

func (e *syntaxError) Error() string { return e.msg + " at byte " + strconv.Itoa(e.off) }

func (s *scanner) syntax(format string, a ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, a...), off: s.i, eof: s.i >= len(s.b)}
}

// fieldError is a field of the wrong JSON type.
type fieldError struct {
	field, got, want string
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

// peek is the next byte, 0 at the end.
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// kind names the JSON type of the value that starts at i.
func (s *scanner) kind() string {
	switch c := s.peek(); {
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
	return "value"
}

// null reads a null if one is next.
func (s *scanner) null() (bool, error) {
	if s.peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) {
		s.i = len(s.b)
		return s.syntax("cut-off %s", lit)
	}
	if string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.syntax("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// open enters an object; next then yields its keys.
func (s *scanner) open() error {
	if s.peek() != '{' {
		return s.syntax("want an object")
	}
	s.i++
	return nil
}

// next moves to the object's next member and returns its key, with i at
// its value; false at the object's end. first is true for the first call.
// The caller reads or skips each value before the next call.
func (s *scanner) next(first bool) ([]byte, bool, error) {
	s.ws()
	switch c := s.peek(); {
	case c == '}':
		s.i++
		return nil, false, nil
	case first:
	case c == ',':
		s.i++
		s.ws()
	case c == 0:
		return nil, false, s.syntax("cut-off object")
	default:
		return nil, false, s.syntax("want , or } in an object")
	}
	key, err := s.rawString()
	if err != nil {
		return nil, false, err
	}
	s.ws()
	if s.peek() != ':' {
		return nil, false, s.syntax("want : after a key")
	}
	s.i++
	s.ws()
	return key, true, nil
}

// rawString reads a string and returns its bytes as they are (escapes
// kept); keys the decoder looks for have none.
func (s *scanner) rawString() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.syntax("want a string")
	}
	start := s.i + 1
	// Most strings are short (keys, names): a plain loop finds their end
	// sooner than IndexByte's setup; long ones are searched.
	j := start
	for end := min(start+32, len(s.b)); j < end; j++ {
		switch s.b[j] {
		case '"':
			s.i = j + 1
			return s.b[start:j], nil
		case '\\':
			j++
		}
	}
	if j > len(s.b) {
		j = len(s.b)
	}
	for {
		q := bytes.IndexByte(s.b[j:], '"')
		if q < 0 {
			s.i = len(s.b)
			return nil, s.syntax("cut-off string")
		}
		j += q
		bs := 0 // backslashes right before the quote: odd escapes it
		for k := j - 1; k >= start && s.b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			s.i = j + 1
			return s.b[start:j], nil
		}
		j++
	}
}

// str reads a string value, escapes resolved.
func (s *scanner) str() (string, error) {
	raw, err := s.rawString()
	if err != nil {
		return "", err
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw), nil
	}
	out, ok := unescape(raw)
	if !ok {
		return "", s.syntax("invalid escape in a string")
	}
	return out, nil
}

// unescape resolves JSON's escapes.
func unescape(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
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
			r, ok := hex4(raw[i+1:])
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(raw[min(i+3, len(raw)):]); ok && i+2 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", false
		}
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads a number's text, checking its syntax.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	j := s.i
	if j < len(s.b) && s.b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(s.b) && s.b[j] >= '0' && s.b[j] <= '9' {
			j++
		}
		return j - k
	}
	if digits() == 0 {
		s.i = j
		return nil, s.syntax("invalid number")
	}
	if j < len(s.b) && s.b[j] == '.' {
		j++
		if digits() == 0 {
			s.i = j
			return nil, s.syntax("invalid number")
		}
	}
	if j < len(s.b) && (s.b[j] == 'e' || s.b[j] == 'E') {
		j++
		if j < len(s.b) && (s.b[j] == '+' || s.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			s.i = j
			return nil, s.syntax("invalid number")
		}
	}
	s.i = j
	return s.b[start:j], nil
}

// skip reads any value and drops it. Scalars are checked; an object or
// array is only scanned for its end (strings jumped over, brackets
// matched), since a value the connector does not read cannot make a record
// wrong, and a full check of the ~90% of a page it skips would cost most
// of the decoding time.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '"':
		_, err := s.rawString()
		return err
	case c == '{' || c == '[':
		return s.skipCompound()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return err
	case c == 0:
		return s.syntax("cut-off value")
	}
	return s.syntax("invalid character %q", s.peek())
}

// skipCompound scans from an opening bracket to its matching close.
func (s *scanner) skipCompound() error {
	var stack [128]byte
	n := 0
	b := s.b
	for i := s.i; i < len(b); {
		c := b[i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			s.i = i
			if _, err := s.rawString(); err != nil {
				return err
			}
			i = s.i
			continue
		case '{', '[':
			if n == len(stack) {
				s.i = i
				return s.syntax("nested too deep")
			}
			stack[n] = c + 2 // '{'+2 is '}', '['+2 is ']'
			n++
		case '}', ']':
			if n == 0 || stack[n-1] != c {
				s.i = i
				return s.syntax("mismatched %q", c)
			}
			n--
			if n == 0 {
				s.i = i + 1
				return nil
			}
		}
		i++
	}
	s.i = len(b)
	return s.syntax("cut-off value")
}

// structural marks the bytes skipCompound stops at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// fields reads the typed values of one object; the first value of a wrong
// type is noted in bad (and skipped) so that the device's id, which may come
// later, can name it.
type fields struct {
	s   *scanner
	bad *fieldError
	// raw holds, while a device is read, the names and serials of which
	// only one is kept (see keep): their text in the page, unconverted.
	raw [rawCount][]byte
}

// The raw values of a device, in the order keep prefers them.
const (
	rawSystemName = iota
	rawDNSName
	rawNetbiosName
	rawDisplayName
	rawSerial
	rawBIOSSerial
	rawCount
)

// lazy notes a string value's raw text in f.raw[i] (a null leaves it empty).
func (f *fields) lazy(name string, i int) error {
	if f.s.peek() == '"' {
		raw, err := f.s.rawString()
		f.raw[i] = raw
		return err
	}
	if null, err := f.s.null(); null || err != nil {
		return err
	}
	return f.wrong(name, "a string")
}

// keep converts, of the device's names, only the one the mapping uses
// (systemName, else dnsName, netbiosName, displayName) and, of its
// serials, serialNumber, else biosSerialNumber: the others are not read, so
// they are not copied out of the page.
func (f *fields) keep(d *apiDevice) error {
	names := [...]*string{&d.SystemName, &d.DNSName, &d.NetbiosName, &d.DisplayName}
	for i, dst := range names {
		if ok, err := f.convert(rawSystemName+i, dst); ok || err != nil {
			break
		}
	}
	ok, err := f.convert(rawSerial, &d.System.SerialNumber)
	if ok || err != nil {
		return err
	}
	_, err = f.convert(rawBIOSSerial, &d.System.BIOSSerialNumber)
	return err
}

// convert sets dst from f.raw[i] when that holds more than white space.
func (f *fields) convert(i int, dst *string) (bool, error) {
	raw := f.raw[i]
	if len(bytes.TrimSpace(raw)) == 0 {
		return false, nil
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		*dst = string(raw)
		return true, nil
	}
	v, ok := unescape(raw)
	if !ok {
		return false, f.s.syntax("invalid escape in a string")
	}
	*dst = v
	return strings.TrimSpace(v) != "", nil
}

func (f *fields) wrong(name, want string) error {
	if f.bad == nil {
		f.bad = &fieldError{field: name, got: f.s.kind(), want: want}
	}
	return f.s.skip()
}

func (f *fields) str(name string, dst *string) error {
	if f.s.peek() == '"' {
		v, err := f.s.str()
		*dst = v
		return err
	}
	if null, err := f.s.null(); null || err != nil {
		return err
	}
	return f.wrong(name, "a string")
}

// common reads a string that many devices share (a node class, an OS
// name), keeping one copy of each value per page.
func (f *fields) common(name string, dst *string) error {
	if f.s.peek() != '"' {
		return f.str(name, dst)
	}
	start := f.s.i
	raw, err := f.s.rawString()
	if err != nil {
		return err
	}
	if v, ok := f.s.seen[string(raw)]; ok {
		*dst = v
		return nil
	}
	f.s.i = start
	if err := f.str(name, dst); err != nil {
		return err
	}
	if f.s.seen == nil {
		f.s.seen = map[string]string{}
	}
	if len(f.s.seen) < 1000 {
		f.s.seen[string(raw)] = *dst
	}
	return nil
}

func (f *fields) float(name string, dst *float64) error {
	if c := f.s.peek(); c == '-' || (c >= '0' && c <= '9') {
		raw, err := f.s.number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(v, 0) {
			if f.bad == nil {
				f.bad = &fieldError{field: name, got: "number " + string(raw), want: "a number of seconds"}
			}
			return nil
		}
		*dst = v
		return nil
	}
	if null, err := f.s.null(); null || err != nil {
		return err
	}
	return f.wrong(name, "a number")
}

func (f *fields) int(name string, dst *int) error {
	if c := f.s.peek(); c == '-' || (c >= '0' && c <= '9') {
		raw, err := f.s.number()
		if err != nil {
			return err
		}
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || v < math.MinInt32 || v > math.MaxInt64>>1 {
			if f.bad == nil {
				f.bad = &fieldError{field: name, got: "number " + string(raw), want: "an integer"}
			}
			return nil
		}
		*dst = int(v)
		return nil
	}
	if null, err := f.s.null(); null || err != nil {
		return err
	}
	return f.wrong(name, "an integer")
}

func (f *fields) bool(name string, dst **bool) error {
	switch f.s.peek() {
	case 't', 'f':
		v := f.s.peek() == 't'
		lit := "false"
		if v {
			lit = "true"
		}
		if err := f.s.literal(lit); err != nil {
			return err
		}
		*dst = &v
		return nil
	}
	if null, err := f.s.null(); null || err != nil {
		return err
	}
	return f.wrong(name, "true or false")
}

func (f *fields) strs(name string, dst *[]string) error {
	if null, err := f.s.null(); null || err != nil {
		return err
	}
	s := f.s
	if s.peek() != '[' {
		return f.wrong(name, "an array of strings")
	}
	s.i++
	s.ws()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		var v string
		if err := f.str(name, &v); err != nil {
			return err
		}
		if v != "" {
			if *dst == nil {
				*dst = make([]string, 0, 2)
			}
			*dst = append(*dst, v)
		}
		s.ws()
		c := s.peek()
		if c == 0 {
			return s.syntax("cut-off array")
		}
		s.i++
		if c == ']' {
			return nil
		}
		if c != ',' {
			s.i--
			return s.syntax("want , or ] in an array")
		}
	}
}

// obj enters a nested object and reports true, or reads a null and
// reports false; another type is noted as wrong, skipped, and false.
func (f *fields) obj(name string) (bool, error) {
	if null, err := f.s.null(); null || err != nil {
		return false, err
	}
	if f.s.peek() != '{' {
		return false, f.wrong(name, "an object")
	}
	return true, f.s.open()
}

// members reads the members of the object just entered with one, which
// reads or skips the value of key.
func (f *fields) members(one func(f *fields, key []byte) error) error {
	for first := true; ; first = false {
		key, ok, err := f.s.next(first)
		if err != nil || !ok {
			return err
		}
		if err := one(f, key); err != nil {
			return err
		}
	}
}

// device reads one device object; index is its place on the page.
func (s *scanner) device(f *fields, index int) (apiDevice, error) {
	var d apiDevice
	s.ws()
	if s.peek() != '{' {
		if s.peek() == 0 {
			return d, s.syntax("cut-off list")
		}
		return d, fmt.Errorf("device %d of the page is a JSON %s, not an object", index+1, s.kind())
	}
	s.i++
	f.bad = nil
	f.raw = [rawCount][]byte{}
	for first := true; ; first = false {
		key, ok, err := s.next(first)
		if err != nil {
			return d, err
		}
		if !ok {
			break
		}
		if err := f.deviceField(&d, key); err != nil {
			return d, err
		}
	}
	if err := f.keep(&d); err != nil {
		return d, err
	}
	if b := f.bad; b != nil {
		who := "device " + strconv.Itoa(index+1) + " of the page"
		if d.ID > 0 {
			who += " (id " + strconv.Itoa(d.ID) + ")"
		}
		return d, fmt.Errorf("%s: field %s is a JSON %s, where the API documents %s", who, b.field, b.got, b.want)
	}
	if d.ID <= 0 {
		return d, fmt.Errorf("device %d of the page has no id (or id %d); every NinjaOne device has a positive id", index+1, d.ID)
	}
	return d, nil
}

// deviceField reads the value of one member of a device.
func (f *fields) deviceField(d *apiDevice, key []byte) error {
	switch string(key) {
	case "id":
		return f.int("id", &d.ID)
	case "organizationId":
		return f.int("organizationId", &d.OrganizationID)
	case "locationId":
		return f.int("locationId", &d.LocationID)
	case "nodeClass":
		return f.common("nodeClass", &d.NodeClass)
	case "approvalStatus":
		return f.common("approvalStatus", &d.ApprovalStatus)
	case "offline":
		return f.bool("offline", &d.Offline)
	case "displayName":
		return f.lazy("displayName", rawDisplayName)
	case "systemName":
		return f.lazy("systemName", rawSystemName)
	case "dnsName":
		return f.lazy("dnsName", rawDNSName)
	case "netbiosName":
		return f.lazy("netbiosName", rawNetbiosName)
	case "lastContact":
		return f.float("lastContact", &d.LastContact)
	case "lastUpdate":
		return f.float("lastUpdate", &d.LastUpdate)
	case "tags":
		return f.strs("tags", &d.Tags)
	case "ipAddresses":
		return f.strs("ipAddresses", &d.IPAddresses)
	case "macAddresses":
		return f.strs("macAddresses", &d.MACAddresses)
	case "references":
		if ok, err := f.obj("references"); !ok || err != nil {
			return err
		}
		return f.members(func(f *fields, k []byte) error {
			switch string(k) {
			case "organization":
				return f.named("references.organization", "references.organization.name", &d.References.Organization)
			case "location":
				return f.named("references.location", "references.location.name", &d.References.Location)
			}
			return f.s.skip()
		})
	case "os":
		if ok, err := f.obj("os"); !ok || err != nil {
			return err
		}
		return f.members(func(f *fields, k []byte) error {
			if string(k) == "name" {
				return f.common("os.name", &d.OS.Name)
			}
			return f.s.skip()
		})
	case "system":
		if ok, err := f.obj("system"); !ok || err != nil {
			return err
		}
		return f.members(func(f *fields, k []byte) error {
			switch string(k) {
			case "serialNumber":
				return f.lazy("system.serialNumber", rawSerial)
			case "biosSerialNumber":
				return f.lazy("system.biosSerialNumber", rawBIOSSerial)
			}
			return f.s.skip()
		})
	}
	return f.s.skip()
}

// named reads an expanded reference (an organization, a location) for its
// name; nameField is that name's field, for messages.
func (f *fields) named(field, nameField string, n *apiNamed) error {
	if ok, err := f.obj(field); !ok || err != nil {
		return err
	}
	for first := true; ; first = false {
		key, ok, err := f.s.next(first)
		if err != nil || !ok {
			return err
		}
		if string(key) == "name" {
			err = f.common(nameField, &n.Name)
		} else {
			err = f.s.skip()
		}
		if err != nil {
			return err
		}
	}
}

// sizeText is n bytes in MiB or KiB.
func sizeText(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n>>10, 10) + " KiB"
}
