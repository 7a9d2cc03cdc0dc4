package jamf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/connauth"
)

// A page is read whole (at most maxBody bytes) and decoded in one pass by a
// typed decoder that reads the fields the mapping needs and skips the rest
// without building them: encoding/json spends about 30 µs on one computer's
// three sections, this decoder a fraction of that.

// errTooBig marks a page larger than the source accepts.
var errTooBig = errors.New("page too big")

// maxDepth bounds the nesting of skipped values.
const maxDepth = 200

var pagePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodePage reads and decodes one computers-inventory answer.
// The page is read into a pooled buffer: a page is about 1.5 MB, and
// growing a fresh one for each cost more than decoding it. The decoder
// copies what it keeps, so the buffer is reused once the page is decoded.
func decodePage(r io.Reader, maxBody int64) (*page, error) {
	buf := pagePool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<20 {
			buf.Reset()
			pagePool.Put(buf)
		}
	}()
	_, err := buf.ReadFrom(io.LimitReader(r, maxBody+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > maxBody {
		return nil, fmt.Errorf("the answer is larger than %d MiB; lower page_size", maxBody>>20)
	}
	return parsePage(data)
}

// parsePage decodes one answer held in data.
func parsePage(data []byte) (*page, error) {
	d := &decoder{b: data}
	d.ws()
	if d.i == len(d.b) {
		return nil, errors.New("the answer is empty; is url the Jamf Pro server?")
	}
	if d.b[d.i] != '{' {
		return nil, fmt.Errorf("the answer is not a computers-inventory page (it starts with %q); is url the Jamf Pro server, not a login page or a proxy's error page?",
			connauth.Snippet(data[d.i:min(len(data), d.i+60)]))
	}
	var p page
	var total int
	seen := false
	err := d.object("the answer", func(key []byte) error {
		switch string(key) {
		case "totalCount":
			n, err := d.int("totalCount")
			total, seen = n, err == nil
			return err
		case "results":
			return d.results(&p.Results)
		}
		return d.skip(0)
	})
	if err == nil {
		if d.ws(); d.i != len(d.b) {
			err = d.syntax("after the page's end")
		}
	}
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, errors.New("the answer has no totalCount; is url the Jamf Pro API?")
	}
	if total < 0 {
		return nil, fmt.Errorf("the answer's totalCount is %d", total)
	}
	p.TotalCount = &total
	return &p, nil
}

func (d *decoder) results(out *[]computer) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		return d.typeError("results", "an array")
	}
	d.i++
	list := make([]computer, 0, 64)
	for n := 0; ; n++ {
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == ']' && n == 0 {
			d.i++
			break
		}
		list = append(list, computer{})
		if err := d.computer(&list[n], n); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.eof()
		}
		if d.b[d.i] == ',' {
			d.i++
			continue
		}
		if d.b[d.i] == ']' {
			d.i++
			break
		}
		return d.syntax("in results")
	}
	*out = list
	return nil
}

func (d *decoder) computer(c *computer, n int) error {
	d.rec = n // the field names below are completed on error only
	at := func(f string) string { return f }
	return d.object(at(""), func(key []byte) error {
		switch string(key) {
		case "id":
			return d.id(at(".id"), &c.ID)
		case "udid":
			return d.str(at(".udid"), &c.UDID)
		case "general":
			g := &c.General
			return d.object(at(".general"), func(key []byte) error {
				switch string(key) {
				case "name":
					return d.str(at(".general.name"), &g.Name)
				case "lastIpAddress":
					return d.str(at(".general.lastIpAddress"), &g.LastIPAddress)
				case "lastReportedIp":
					return d.str(at(".general.lastReportedIp"), &g.LastReportedIP)
				case "reportDate":
					return d.str(at(".general.reportDate"), &g.ReportDate)
				case "lastContactTime":
					return d.str(at(".general.lastContactTime"), &g.LastContactTime)
				case "remoteManagement":
					return d.object(at(".general.remoteManagement"), func(key []byte) error {
						if string(key) == "managed" {
							return d.bool(at(".general.remoteManagement.managed"), &g.RemoteManagement.Managed)
						}
						return d.skip(0)
					})
				case "mdmCapable":
					return d.object(at(".general.mdmCapable"), func(key []byte) error {
						if string(key) == "capable" {
							return d.bool(at(".general.mdmCapable.capable"), &g.MDMCapable.Capable)
						}
						return d.skip(0)
					})
				case "site":
					return d.object(at(".general.site"), func(key []byte) error {
						switch string(key) {
						case "id":
							return d.id(at(".general.site.id"), &g.Site.ID)
						case "name":
							return d.str(at(".general.site.name"), &g.Site.Name)
						}
						return d.skip(0)
					})
				}
				return d.skip(0)
			})
		case "hardware":
			h := &c.Hardware
			return d.object(at(".hardware"), func(key []byte) error {
				switch string(key) {
				case "serialNumber":
					return d.str(at(".hardware.serialNumber"), &h.SerialNumber)
				case "macAddress":
					return d.str(at(".hardware.macAddress"), &h.MacAddress)
				case "altMacAddress":
					return d.str(at(".hardware.altMacAddress"), &h.AltMacAddress)
				}
				return d.skip(0)
			})
		case "operatingSystem":
			o := &c.OperatingSystem
			return d.object(at(".operatingSystem"), func(key []byte) error {
				switch string(key) {
				case "name":
					return d.str(at(".operatingSystem.name"), &o.Name)
				case "version":
					return d.str(at(".operatingSystem.version"), &o.Version)
				case "build":
					return d.str(at(".operatingSystem.build"), &o.Build)
				}
				return d.skip(0)
			})
		}
		return d.skip(0)
	})
}

// decoder reads JSON from b at i.
type decoder struct {
	b   []byte
	i   int
	rec int // the computer being read, for field names
}

// name completes a field name relative to the computer being read.
func (d *decoder) name(field string) string {
	if field == "" || field[0] == '.' {
		return "results[" + strconv.Itoa(d.rec) + "]" + field
	}
	return field
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eof() error {
	return errors.New("the answer ends before its JSON does: it was cut short; try again")
}

func (d *decoder) syntax(where string) error {
	if d.i >= len(d.b) {
		return d.eof()
	}
	return fmt.Errorf("the answer is not valid JSON at byte %d (%s: %q)", d.i, d.name(where), connauth.Snippet(d.b[d.i:min(len(d.b), d.i+20)]))
}

// kind names the JSON type of the value at i.
func (d *decoder) kind() string {
	if d.i >= len(d.b) {
		return "end"
	}
	switch c := d.b[d.i]; {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "bool"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return "invalid value"
}

func (d *decoder) typeError(field, want string) error {
	k := d.kind()
	if k == "end" {
		return d.eof()
	}
	if k == "invalid value" {
		return d.syntax(field)
	}
	return fmt.Errorf("the field %s is a JSON %s, not %s as Jamf documents it", d.name(field), k, want)
}

// null consumes a null.
func (d *decoder) null() bool {
	d.ws()
	if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// object reads an object (or null), calling field for each key with i at
// the key's value; field must consume the value.
func (d *decoder) object(name string, field func(key []byte) error) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		return d.typeError(name, "an object")
	}
	d.i++
	for first := true; ; first = false {
		d.ws()
		if d.i >= len(d.b) {
			return d.eof()
		}
		if d.b[d.i] == '}' && first {
			d.i++
			return nil
		}
		if d.b[d.i] != '"' {
			return d.syntax(name)
		}
		key, err := d.rawString()
		if err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return d.syntax(name)
		}
		d.i++
		d.ws()
		if err := field(key); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.b) {
			return d.eof()
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.syntax(name)
		}
	}
}

// rawString reads a string at i; its bytes are unescaped only when needed.
func (d *decoder) rawString() ([]byte, error) {
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return d.b[start:j], nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			d.i = j
			return nil, d.syntax("in a string")
		}
	}
	d.i = len(d.b)
	return nil, d.eof()
}

// escaped reads a string with escapes from start, after its opening quote.
func (d *decoder) escaped(start int) ([]byte, error) {
	out := make([]byte, 0, 32)
	j := start
	for j < len(d.b) {
		c := d.b[j]
		switch {
		case c == '"':
			d.i = j + 1
			return out, nil
		case c < 0x20:
			d.i = j
			return nil, d.syntax("in a string")
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(d.b) {
			break
		}
		switch e := d.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
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
			r, n := d.hex4(j + 2)
			if n < 0 {
				d.i = j
				return nil, d.syntax("in a string escape")
			}
			j += 2 + 4
			if utf16.IsSurrogate(r) {
				if r2, n2 := d.hex4(j + 2); n2 >= 0 && j+1 < len(d.b) && d.b[j] == '\\' && d.b[j+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			d.i = j
			return nil, d.syntax("in a string escape")
		}
		j += 2
	}
	d.i = len(d.b)
	return nil, d.eof()
}

func (d *decoder) hex4(at int) (rune, int) {
	if at+4 > len(d.b) {
		return 0, -1
	}
	n, err := strconv.ParseUint(string(d.b[at:at+4]), 16, 32)
	if err != nil {
		return 0, -1
	}
	return rune(n), 4
}

// str reads a string or null into out.
func (d *decoder) str(field string, out *string) error {
	if d.null() {
		return nil
	}
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return d.typeError(field, "a string")
	}
	s, err := d.rawString()
	if err != nil {
		return err
	}
	*out = string(s)
	return nil
}

// id reads an id: a string as Jamf sends it, or a number.
func (d *decoder) id(field string, out *jsonID) error {
	if d.kind() == "number" {
		start := d.i
		if err := d.number(); err != nil {
			return err
		}
		*out = jsonID(d.b[start:d.i])
		return nil
	}
	var s string
	if err := d.str(field, &s); err != nil {
		if d.kind() != "end" && d.kind() != "invalid value" {
			return fmt.Errorf("the field %s is a JSON %s, not an id", d.name(field), d.kind())
		}
		return err
	}
	*out = jsonID(s)
	return nil
}

// bool reads true, false or null (nil).
func (d *decoder) bool(field string, out **bool) error {
	switch {
	case d.null():
		return nil
	case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		v := true
		*out = &v
		return nil
	case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
		v := false
		*out = &v
		return nil
	}
	return d.typeError(field, "a bool")
}

// int reads an integer.
func (d *decoder) int(field string) (int, error) {
	if d.kind() != "number" {
		return 0, d.typeError(field, "a number")
	}
	start := d.i
	if err := d.number(); err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(d.b[start:d.i]))
	if err != nil {
		return 0, fmt.Errorf("the field %s is %s, not a whole number", field, d.b[start:d.i])
	}
	return n, nil
}

// number consumes a JSON number.
func (d *decoder) number() error {
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.i++
			continue
		}
		break
	}
	if _, err := strconv.ParseFloat(string(d.b[start:d.i]), 64); err != nil {
		d.i = start
		return d.syntax("in a number")
	}
	return nil
}

// skip consumes one value of any kind.
func (d *decoder) skip(depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("the answer nests deeper than %d levels at byte %d", maxDepth, d.i)
	}
	d.ws()
	if d.i >= len(d.b) {
		return d.eof()
	}
	switch c := d.b[d.i]; {
	case c == '"':
		_, err := d.rawString()
		return err
	case c == '{':
		return d.object("a value", func([]byte) error { return d.skip(depth + 1) })
	case c == '[':
		d.i++
		for first := true; ; first = false {
			d.ws()
			if d.i >= len(d.b) {
				return d.eof()
			}
			if d.b[d.i] == ']' && first {
				d.i++
				return nil
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.b) {
				return d.eof()
			}
			switch d.b[d.i] {
			case ',':
				d.i++
			case ']':
				d.i++
				return nil
			default:
				return d.syntax("in an array")
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return d.syntax("a value")
}

func (d *decoder) literal(s string) error {
	if d.i+len(s) <= len(d.b) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return nil
	}
	if len(d.b)-d.i < len(s) && string(d.b[d.i:]) == s[:len(d.b)-d.i] {
		d.i = len(d.b)
		return d.eof()
	}
	return d.syntax("a value")
}
