package crowdstrike

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// decodeDetails reads an answer of /devices/entities/devices/v2 into out.
//
// A host record is 2-4 KB of which the mapping reads a tenth (policies,
// hardware and meta are skipped), so this scanner reads the envelope and
// the fields the mapping needs and skips the rest without building it:
// about four times faster than encoding/json on real records. It accepts
// what encoding/json accepts for the fields it reads (with fstr's
// tolerance: numbers and booleans as text, null as empty) and fails on
// JSON that is cut short or malformed where it reads; a malformed value in
// a field it skips is skipped too.
func decodeDetails(b []byte, out *envelope[device]) error {
	p := &scanner{b: b}
	if err := p.object(func(key []byte) error {
		switch string(key) {
		case "resources":
			return p.devices(&out.Resources)
		case "errors":
			raw, err := p.skipRaw()
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &out.Errors); err != nil {
				return p.fail("errors: %v", err)
			}
			return nil
		case "meta":
			raw, err := p.skipRaw()
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &out.Meta); err != nil {
				return p.fail("meta: %v", err)
			}
			return nil
		}
		return p.skip()
	}); err != nil {
		return err
	}
	p.ws()
	if p.i != len(p.b) {
		return p.fail("more data after the answer's object")
	}
	return nil
}

// scanner walks one JSON document.
type scanner struct {
	b      []byte
	i      int
	path   string            // the field being read, for messages
	intern map[string]string // shared values, one copy an answer
}

func (p *scanner) interned(b []byte) string {
	if v, ok := p.intern[string(b)]; ok {
		return v
	}
	v := string(b)
	if p.intern == nil {
		p.intern = make(map[string]string, 64)
	}
	if len(p.intern) < 1024 {
		p.intern[v] = v
	}
	return v
}

// syntaxError is malformed or cut-short JSON at an offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return "offset " + strconv.Itoa(e.off) + ": " + e.msg }

// fieldError is a value of the wrong kind in a field the mapping reads.
type fieldError struct {
	field, got, want string
}

func (e *fieldError) Error() string {
	return fmt.Sprintf("field %s holds a JSON %s where Falcon documents %s", e.field, e.got, e.want)
}

func (p *scanner) fail(format string, a ...any) error {
	return &syntaxError{off: p.i, msg: fmt.Sprintf(format, a...)}
}

func (p *scanner) ws() {
	i, b := p.i, p.b
	for i < len(b) && space[b[i]] {
		i++
	}
	p.i = i
}

var space = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// object reads {"key": value, ...}, calling field for each key with the
// scanner at the value; field must consume it.
func (p *scanner) object(field func(key []byte) error) error {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return p.fail("expected an object")
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.ws()
		// Keys are compared as they are sent: Falcon's keys are plain
		// ASCII, and a key spelled with escapes is no key the mapping reads.
		ks := p.i
		ke, err := p.strEnd()
		if err != nil {
			return err
		}
		key := p.b[ks+1 : ke-1]
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return p.fail("expected ':' after a key")
		}
		p.i++
		p.ws()
		if err := field(key); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.fail("the answer ends inside an object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}' in an object")
		}
	}
}

// array reads [value, ...], calling item with the scanner at each value.
func (p *scanner) array(item func(n int) error) error {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return p.fail("expected an array")
	}
	p.i++
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for n := 0; ; n++ {
		p.ws()
		if err := item(n); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.fail("the answer ends inside an array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or ']' in an array")
		}
	}
}

// str reads a string and returns its contents (unescaped; the bytes may
// alias the input when it has no escapes).
func (p *scanner) str() ([]byte, error) {
	start := p.i
	end, err := p.strEnd()
	if err != nil {
		return nil, err
	}
	body := p.b[start+1 : end-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return body, nil
	}
	var s string
	if err := json.Unmarshal(p.b[start:end], &s); err != nil {
		p.i = start
		return nil, p.fail("a malformed string")
	}
	return []byte(s), nil
}

// strEnd passes over a string, without unescaping or checking its
// contents, and returns the offset after its closing quote.
func (p *scanner) strEnd() (int, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return 0, p.fail("expected a string")
	}
	// Keys and most values are short: a plain loop ends them before a call
	// to IndexByte would have paid off.
	i, end := p.i+1, min(p.i+32, len(p.b))
	for ; i < end; i++ {
		if c := p.b[i]; c == '"' {
			p.i = i + 1
			return p.i, nil
		} else if c == '\\' {
			i++ // the escaped byte
		}
	}
	from := min(i, len(p.b))
	for {
		q := bytes.IndexByte(p.b[from:], '"')
		if q < 0 {
			return 0, p.fail("the answer ends inside a string")
		}
		q += from
		n := 0 // backslashes right before the quote: an odd count escapes it
		for k := q - 1; k > p.i && p.b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			p.i = q + 1
			return p.i, nil
		}
		from = q + 1
	}
}

// literal reads a number, true, false or null and returns its text.
func (p *scanner) literal() ([]byte, error) {
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c == '-', c == '+', c == '.', c == 'E':
			p.i++
			continue
		}
		break
	}
	lit := p.b[start:p.i]
	switch string(lit) {
	case "":
		return nil, p.fail("expected a value")
	case "true", "false", "null":
		return lit, nil
	}
	if !json.Valid(lit) {
		p.i = start
		return nil, p.fail("a malformed value %q", lit[:min(len(lit), 20)])
	}
	return lit, nil
}

// structural marks the bytes that matter when passing over a container.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skip passes over one value of any kind.
func (p *scanner) skip() error {
	_, err := p.skipRaw()
	return err
}

// skipRaw passes over one value and returns its bytes. Containers are
// matched bracket for bracket with strings respected, not validated inside.
func (p *scanner) skipRaw() ([]byte, error) {
	p.ws()
	start := p.i
	if p.i >= len(p.b) {
		return nil, p.fail("expected a value")
	}
	switch p.b[p.i] {
	case '"':
		if _, err := p.strEnd(); err != nil {
			return nil, err
		}
	case '{', '[':
		depth := 0
		b := p.b
		for i := p.i; i < len(b); {
			for i < len(b) && !structural[b[i]] {
				i++
			}
			if i == len(b) {
				break
			}
			switch b[i] {
			case '"':
				p.i = i
				if _, err := p.strEnd(); err != nil {
					return nil, err
				}
				i = p.i
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			i++
			if depth == 0 {
				p.i = i
				return b[start:i], nil
			}
		}
		p.i = len(b)
		return nil, p.fail("the answer ends inside a value")
	default:
		// A number, true, false or null nobody reads: passed over, not
		// checked (what the mapping reads is checked by literal).
		for p.i < len(p.b) && literalByte[p.b[p.i]] {
			p.i++
		}
		if p.i == start {
			return nil, p.fail("expected a value")
		}
	}
	return p.b[start:p.i], nil
}

// literalByte marks the bytes a number, true, false or null is made of.
var literalByte = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	t['-'], t['+'], t['.'], t['E'] = true, true, true, true
	return t
}()

// scalar reads a field the mapping takes as text: a string, number or
// boolean as its text, null as "".
func (p *scanner) scalar() (fstr, error) { return p.scalarOf(false) }

// scalarOf is scalar; shared strings (values hosts have in common: status,
// platform, versions) are kept once an answer.
func (p *scanner) scalarOf(shared bool) (fstr, error) {
	if p.i >= len(p.b) {
		return "", p.fail("expected a value")
	}
	switch p.b[p.i] {
	case '"':
		s, err := p.str()
		if shared && err == nil {
			return fstr(p.interned(s)), nil
		}
		return fstr(s), err
	case '{':
		return "", &fieldError{got: "object", want: "a string"}
	case '[':
		return "", &fieldError{got: "array", want: "a string"}
	}
	lit, err := p.literal()
	if err != nil || string(lit) == "null" {
		return "", err
	}
	return fstr(lit), nil
}

// list reads a list of strings; null is empty, a lone string a list of one.
func (p *scanner) list() (fstrs, error) {
	if p.i < len(p.b) && p.b[p.i] != '[' {
		s, err := p.scalar()
		if err != nil || s == "" {
			return nil, err
		}
		if p.b[p.i-1] != '"' {
			return nil, &fieldError{got: "number or boolean", want: "a list of strings"}
		}
		return fstrs{string(s)}, nil
	}
	var out fstrs
	err := p.array(func(n int) error {
		s, err := p.scalar()
		if s != "" {
			out = append(out, string(s))
		}
		if fe, ok := err.(*fieldError); ok {
			fe.field = "[" + strconv.Itoa(n) + "]"
		}
		return err
	})
	return out, err
}

// devices reads the resources array of host records.
func (p *scanner) devices(out *[]device) error {
	p.ws()
	if p.i+4 <= len(p.b) && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return nil
	}
	return p.array(func(n int) error {
		var d device
		err := p.object(func(key []byte) error {
			err := p.field(&d, key)
			if fe, ok := err.(*fieldError); ok {
				fe.field = "resources[" + strconv.Itoa(n) + "]." + string(key) + fe.field
			}
			return err
		})
		*out = append(*out, d)
		return err
	})
}

// field reads one key of a host record into d.
func (p *scanner) field(d *device, key []byte) error {
	var f *fstr
	shared := false
	switch string(key) {
	case "device_id":
		f = &d.DeviceID
	case "hostname":
		f = &d.Hostname
	case "serial_number":
		f = &d.SerialNumber
	case "mac_address":
		f = &d.MACAddress
	case "local_ip":
		f = &d.LocalIP
	case "external_ip":
		f, shared = &d.ExternalIP, true
	case "os_version":
		f, shared = &d.OSVersion, true
	case "platform_name":
		f, shared = &d.PlatformName, true
	case "product_type_desc":
		f, shared = &d.ProductTypeDesc, true
	case "agent_version":
		f, shared = &d.AgentVersion, true
	case "status":
		f, shared = &d.Status, true
	case "reduced_functionality_mode":
		f, shared = &d.RFM, true
	case "last_seen":
		f = &d.LastSeen
	case "first_seen":
		f = &d.FirstSeen
	case "machine_domain":
		f, shared = &d.MachineDomain, true
	case "groups", "tags":
		l, err := p.list()
		if string(key) == "groups" {
			d.Groups = l
		} else {
			d.Tags = l
		}
		return err
	default:
		if name, ok := foldedName(key); ok {
			return p.field(d, []byte(name))
		}
		return p.skip()
	}
	v, err := p.scalarOf(shared)
	*f = v
	return err
}

// fieldNames are the keys field reads.
var fieldNames = []string{"device_id", "hostname", "serial_number", "mac_address", "local_ip", "external_ip",
	"os_version", "platform_name", "product_type_desc", "agent_version", "status", "reduced_functionality_mode",
	"last_seen", "first_seen", "machine_domain", "groups", "tags"}

// nameLens marks the lengths of fieldNames: an ASCII key of another length
// folds to none of them.
var nameLens = func() (t [32]bool) {
	for _, n := range fieldNames {
		t[len(n)] = true
	}
	return t
}()

// foldedName is the field name key matches under case folding, as
// encoding/json matches a struct's keys when none matches exactly.
//
// Falcon's keys are lower case: a key without upper case or non-ASCII
// bytes that matched no name exactly folds to none either, which settles
// nearly every key in one pass over its bytes.
func foldedName(key []byte) (string, bool) {
	ascii, upper := true, false
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		upper = upper || ('A' <= c && c <= 'Z')
	}
	if ascii && (!upper || len(key) >= len(nameLens) || !nameLens[len(key)]) {
		return "", false
	}
	for _, n := range fieldNames {
		if bytes.EqualFold(key, []byte(n)) {
			return n, true
		}
	}
	return "", false
}

// isFieldError reports whether err is a value of the wrong kind (as
// opposed to malformed JSON).
func isFieldError(err error) bool {
	var fe *fieldError
	return errors.As(err, &fe)
}
