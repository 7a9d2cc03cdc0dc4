package intune

// The page decoder as it was on encoding/json, kept as the reference the
// jsonscan decoder must agree with (FuzzDecodersAgree).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/muster-project/muster/internal/connauth"
)

// decodePage decodes one page from body, reading at most maxBody bytes. It
// streams: the devices are decoded one at a time as they arrive.
func refDecodePage(body io.Reader, maxBody int64) (page, error) {
	lr := &io.LimitedReader{R: body, N: maxBody + 1}
	br := &refPeekReader{r: lr}
	dec := json.NewDecoder(br)
	pg, err := refStreamPage(dec)
	if lr.N <= 0 {
		return page{}, fmt.Errorf("the page is larger than %d MiB; lower page_size", maxBody>>20)
	}
	if err != nil {
		return page{}, refDecodeError(err, br.first)
	}
	if _, err := dec.Token(); err != io.EOF {
		return page{}, errors.New("the page holds more than one JSON value; is url the Microsoft Graph root?")
	}
	if lr.N <= 0 {
		return page{}, fmt.Errorf("the page is larger than %d MiB; lower page_size", maxBody>>20)
	}
	return pg, nil
}

// refFieldError is a page field of the wrong JSON type.
type refFieldError struct{ field, got, want string }

func (e *refFieldError) Error() string {
	return fmt.Sprintf("field %s is a JSON %s, not %s as Graph documents it", e.field, e.got, e.want)
}

// streamPage reads {"value":[...],"@odata.nextLink":"..."} token by token.
func refStreamPage(dec *json.Decoder) (page, error) {
	var pg page
	if err := refExpectDelim(dec, '{', "the page"); err != nil {
		return pg, err
	}
	haveValue := false
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return pg, err
		}
		key, _ := t.(string)
		switch key {
		case "value":
			t, err := dec.Token()
			if err != nil {
				return pg, err
			}
			if t == nil {
				continue // null: reported as missing below
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return pg, &refFieldError{"value", refTokenKind(t), "an array"}
			}
			haveValue = true
			for i := 0; dec.More(); i++ {
				pg.Value = append(pg.Value, apiDevice{})
				if err := dec.Decode(&pg.Value[len(pg.Value)-1]); err != nil {
					var te *json.UnmarshalTypeError
					if errors.As(err, &te) {
						field := "value[" + fmt.Sprint(i) + "]"
						if te.Field != "" {
							field += "." + te.Field
						}
						return pg, &refFieldError{field, te.Value, "a " + refJSONKind(te.Type.String())}
					}
					return pg, err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return pg, err
			}
		case "@odata.nextLink":
			var link any
			if err := dec.Decode(&link); err != nil {
				return pg, err
			}
			switch l := link.(type) {
			case string:
				pg.NextLink = l
			case nil:
			default:
				return pg, &refFieldError{"@odata.nextLink", refTokenKind(l), "a string"}
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return pg, err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return pg, err
	}
	if !haveValue {
		return pg, errors.New(`the answer has no "value" array of devices; is url the Microsoft Graph root?`)
	}
	return pg, nil
}

// expectDelim reads the opening delimiter of what.
func refExpectDelim(dec *json.Decoder, want json.Delim, what string) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return &refFieldError{what, refTokenKind(t), "an object"}
	}
	return nil
}

// tokenKind names a JSON token's kind as the error messages do.
func refTokenKind(t any) string {
	switch v := t.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	case json.Delim:
		if v == '[' {
			return "array"
		}
		return "object"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "value"
}

// decodeError says what is wrong with a page in the user's terms.
func refDecodeError(err error, first []byte) error {
	var fe *refFieldError
	var se *json.SyntaxError
	trimmed := bytes.TrimLeft(first, " \t\r\n\ufeff")
	switch {
	case errors.As(err, &fe):
		return err
	case len(trimmed) > 0 && trimmed[0] == '<':
		return fmt.Errorf("the answer is HTML, not JSON (%s); is url the Microsoft Graph root, or is a proxy answering?", connauth.Snippet(first))
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("the page ends before its JSON does (cut short in transit); run again")
	case errors.As(err, &se):
		return fmt.Errorf("the page is not valid JSON at byte %d: %v", se.Offset, err)
	}
	return fmt.Errorf("the page cannot be read: %w", err)
}

func refJSONKind(goType string) string {
	switch {
	case goType == "string":
		return "string"
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "*[]"):
		return "array"
	}
	return "object"
}

// refPeekReader keeps the first bytes read, for the error of a page that is
// not JSON.
type refPeekReader struct {
	r     io.Reader
	first []byte
}

func (p *refPeekReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if len(p.first) < 256 && n > 0 {
		p.first = append(p.first, b[:min(n, 256-len(p.first))]...)
	}
	return n, err
}
