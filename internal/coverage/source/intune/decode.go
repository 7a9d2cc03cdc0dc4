package intune

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage/jsonscan"
)

// A page is read whole into a pooled buffer and scanned once with jsonscan:
// encoding/json's streaming decoder cost more per device than the rest of
// the walk together. The decoder keeps encoding/json's rules for the
// apiDevice struct, so a page reads as it did: keys match a field exactly
// or else case-insensitively, null leaves a field as it was, a value of the
// wrong type is reported once the device is read (a syntax error in that
// device wins), and unknown keys are skipped with their syntax checked.

// pages holds read buffers for reuse: a page of 500 devices is about
// 300 KB, and growing a fresh buffer for each cost more than scanning it.
var pages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodePage decodes one page from body, reading at most maxBody bytes.
func decodePage(body io.Reader, maxBody int64) (page, error) {
	buf := pages.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<20 {
			buf.Reset()
			pages.Put(buf)
		}
	}()
	_, err := buf.ReadFrom(io.LimitReader(body, maxBody+1))
	raw := buf.Bytes()
	if int64(len(raw)) > maxBody {
		return page{}, fmt.Errorf("the page is larger than %d MiB; lower page_size", maxBody>>20)
	}
	if err != nil {
		return page{}, fmt.Errorf("the page cannot be read: %w", err)
	}
	pg, err := parsePage(raw)
	if err != nil {
		return page{}, decodeError(err, raw[:min(len(raw), 256)])
	}
	return pg, nil
}

// errMoreValues is a page with something after its object.
var errMoreValues = errors.New("the page holds more than one JSON value; is url the Microsoft Graph root?")

// parsePage reads {"value":[...],"@odata.nextLink":"..."}; the strings it
// keeps are copies, so raw may be reused after.
func parsePage(raw []byte) (page, error) {
	var pg page
	s := jsonscan.New(raw)
	if k := s.Peek(); k != jsonscan.Object {
		if k != jsonscan.Array { // a scalar is read whole before it is judged
			if err := s.Skip(); err != nil {
				return pg, err
			}
		}
		return pg, &fieldError{"the page", tokenKind(k), "an object"}
	}
	d := deviceReader{s: s}
	haveValue := false
	err := s.Object(func(key []byte) error {
		switch string(key) {
		case "value":
			switch k := s.Peek(); k {
			case jsonscan.Null:
				_, err := s.Null()
				return err // reported as missing below
			case jsonscan.Array:
			case jsonscan.Object:
				return &fieldError{"value", tokenKind(k), "an array"}
			default: // a scalar is read whole before it is judged
				if err := s.Skip(); err != nil {
					return err
				}
				return &fieldError{"value", tokenKind(k), "an array"}
			}
			haveValue = true
			if pg.Value == nil {
				pg.Value = make([]apiDevice, 0, min(len(raw)/256, MaxPageSize)+1)
			}
			return s.Array(func(i int) error {
				pg.Value = append(pg.Value, apiDevice{})
				return d.device(i, &pg.Value[len(pg.Value)-1])
			})
		case "@odata.nextLink":
			switch k := s.Peek(); k {
			case jsonscan.String:
				v, err := s.Str()
				pg.NextLink = v
				return err
			case jsonscan.Null:
				pg.NextLink = "" // as decoding into an interface does
				_, err := s.Null()
				return err
			case jsonscan.Invalid:
				return s.Skip()
			default:
				// encoding/json reads the whole value before it is judged
				if err := s.Skip(); err != nil {
					return err
				}
				return &fieldError{"@odata.nextLink", tokenKind(k), "a string"}
			}
		}
		return s.Skip()
	})
	if err != nil {
		return pg, err
	}
	if !haveValue {
		return pg, errors.New(`the answer has no "value" array of devices; is url the Microsoft Graph root?`)
	}
	if s.End() != nil {
		return pg, errMoreValues
	}
	return pg, nil
}

// deviceReader reads managedDevice objects; intern keeps one copy a page of
// the values devices share (operating system, version, states).
type deviceReader struct {
	s      *jsonscan.Scanner
	intern map[string]string
}

// device reads element i of value into d.
func (r *deviceReader) device(i int, d *apiDevice) error {
	s := r.s
	switch k := s.Peek(); k {
	case jsonscan.Object:
	case jsonscan.Null:
		_, err := s.Null()
		return err
	case jsonscan.Invalid:
		return s.Skip()
	default:
		if err := s.Skip(); err != nil {
			return err
		}
		return &fieldError{"value[" + strconv.Itoa(i) + "]", structKind(k), "a object"}
	}
	var typeErr error // the first, returned once the device is read
	err := s.Object(func(key []byte) error {
		dst, shared := d.field(key)
		if dst == nil {
			return s.Skip()
		}
		switch k := s.Peek(); k {
		case jsonscan.String:
			raw, unq, err := s.RawString()
			switch {
			case err != nil:
				return err
			case unq:
				*dst = jsonscan.Unquote(raw)
			case shared:
				*dst = r.interned(raw)
			default:
				*dst = string(raw)
			}
			return nil
		case jsonscan.Null:
			_, err := s.Null() // leaves the field as it was
			return err
		case jsonscan.Invalid:
			return s.Skip()
		default:
			if err := s.Skip(); err != nil {
				return err
			}
			if typeErr == nil {
				typeErr = &fieldError{"value[" + strconv.Itoa(i) + "]." + fieldName(key), structKind(k), "a string"}
			}
			return nil
		}
	})
	if err != nil {
		return err
	}
	return typeErr
}

func (r *deviceReader) interned(raw []byte) string {
	if v, ok := r.intern[string(raw)]; ok {
		return v
	}
	v := string(raw)
	if r.intern == nil {
		r.intern = make(map[string]string, 64)
	}
	if len(r.intern) < 1024 {
		r.intern[v] = v
	}
	return v
}

// apiFields are apiDevice's JSON names, for the case-insensitive match.
var apiFields = []string{"id", "deviceName", "serialNumber", "wiFiMacAddress", "ethernetMacAddress",
	"operatingSystem", "osVersion", "lastSyncDateTime", "complianceState", "managementAgent",
	"managementState", "azureADDeviceId", "managedDeviceOwnerType", "deviceCategoryDisplayName"}

// field is the string a key decodes into (nil: none) and whether its values
// repeat across devices. It matches as encoding/json does: the exact name,
// else the name that equals key under Unicode case folding.
func (d *apiDevice) field(key []byte) (*string, bool) {
	switch string(key) {
	case "id":
		return &d.ID, false
	case "deviceName":
		return &d.DeviceName, false
	case "serialNumber":
		return &d.SerialNumber, false
	case "wiFiMacAddress":
		return &d.WiFiMacAddress, false
	case "ethernetMacAddress":
		return &d.EthernetMacAddress, false
	case "operatingSystem":
		return &d.OperatingSystem, true
	case "osVersion":
		return &d.OSVersion, true
	case "lastSyncDateTime":
		return &d.LastSyncDateTime, false
	case "complianceState":
		return &d.ComplianceState, true
	case "managementAgent":
		return &d.ManagementAgent, true
	case "managementState":
		return &d.ManagementState, true
	case "azureADDeviceId":
		return &d.AzureADDeviceID, false
	case "managedDeviceOwnerType":
		return &d.ManagedDeviceOwnerType, true
	case "deviceCategoryDisplayName":
		return &d.DeviceCategoryDisplayName, true
	}
	for _, name := range apiFields {
		if bytes.EqualFold(key, []byte(name)) {
			return d.field([]byte(name))
		}
	}
	return nil, false
}

// fieldName is the struct field's JSON name for key, as encoding/json
// names it in a type error.
func fieldName(key []byte) string {
	for _, name := range apiFields {
		if bytes.EqualFold(key, []byte(name)) {
			return name
		}
	}
	return string(key)
}

// fieldError is a page field of the wrong JSON type.
type fieldError struct{ field, got, want string }

func (e *fieldError) Error() string {
	return fmt.Sprintf("field %s is a JSON %s, not %s as Graph documents it", e.field, e.got, e.want)
}

// tokenKind names a JSON kind as the error messages do.
func tokenKind(k jsonscan.Kind) string {
	if k == jsonscan.Invalid {
		return "value"
	}
	return k.String()
}

// structKind names a JSON kind as encoding/json's type errors do.
func structKind(k jsonscan.Kind) string {
	if k == jsonscan.Bool {
		return "bool"
	}
	return k.String()
}

// decodeError says what is wrong with a page in the user's terms.
func decodeError(err error, first []byte) error {
	var fe *fieldError
	var se *jsonscan.Error
	trimmed := bytes.TrimLeft(first, " \t\r\n\ufeff")
	switch {
	case errors.As(err, &fe):
		return err
	case len(trimmed) > 0 && trimmed[0] == '<':
		return fmt.Errorf("the answer is HTML, not JSON (%s); is url the Microsoft Graph root, or is a proxy answering?", connauth.Snippet(first))
	case errors.As(err, &se) && se.EOF:
		return errors.New("the page ends before its JSON does (cut short in transit); run again")
	case errors.As(err, &se):
		return fmt.Errorf("the page is not valid JSON at byte %d: %v", se.Offset, err)
	}
	return err
}
