package crowdstrike

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/connauth"
)

// The types below are the parts of Falcon's answers the connector reads.

// envelope is every Falcon answer: meta, resources and errors.
type envelope[T any] struct {
	Meta      meta       `json:"meta"`
	Resources []T        `json:"resources"`
	Errors    []apiError `json:"errors"`
}

type meta struct {
	QueryTime  float64     `json:"query_time"`
	Pagination *pagination `json:"pagination"`
	TraceID    fstr        `json:"trace_id"`
}

// pagination of the scroll query: offset is an opaque token.
type pagination struct {
	Offset    fstr   `json:"offset"`
	Limit     int64  `json:"limit"`
	Total     *int64 `json:"total"`
	ExpiresAt int64  `json:"expires_at"`
}

// apiError is one element of an answer's errors.
type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	ID      string `json:"id"`
}

func (e apiError) String() string {
	s := strconv.Itoa(e.Code) + " " + e.Message
	if e.ID != "" {
		s += " (id " + e.ID + ")"
	}
	return s
}

// errorsText lists up to three errors of an answer.
func errorsText(errs []apiError) string {
	parts := make([]string, 0, 3)
	for i, e := range errs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(errs)-3))
			break
		}
		parts = append(parts, e.String())
	}
	return strings.Join(parts, "; ")
}

// fstr is a string field that also takes a number or a boolean (as text)
// and null (as ""): a harmless oddity in one field must not fail a page. An
// object or array is an error that names the field.
type fstr string

var stringType = reflect.TypeOf("")

// UnmarshalJSON reads a JSON string, number, boolean or null.
func (f *fstr) UnmarshalJSON(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			*f = fstr(b[1 : len(b)-1])
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = fstr(s)
	case 'n':
		*f = ""
	case '{':
		return &json.UnmarshalTypeError{Value: "object", Type: stringType}
	case '[':
		return &json.UnmarshalTypeError{Value: "array", Type: stringType}
	default: // a number, true or false
		*f = fstr(b)
	}
	return nil
}

// fstrs is a list of strings; null is empty and a lone string is a list of one.
type fstrs []string

// UnmarshalJSON reads a JSON array of strings, a string or null.
func (f *fstrs) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || b[0] == 'n':
		*f = nil
		return nil
	case b[0] == '"':
		var s fstr
		if err := s.UnmarshalJSON(b); err != nil {
			return err
		}
		*f = fstrs{string(s)}
		return nil
	case b[0] != '[':
		return &json.UnmarshalTypeError{Value: "non-list", Type: reflect.TypeOf([]string(nil))}
	}
	var items []fstr
	if err := json.Unmarshal(b, &items); err != nil {
		return err
	}
	out := make(fstrs, 0, len(items))
	for _, it := range items {
		if it != "" {
			out = append(out, string(it))
		}
	}
	*f = out
	return nil
}

// answer is a decoded page and when and how it was read.
type answer struct {
	readAt  time.Time
	request string // "GET https://..." (never a secret)
	status  int
}

// errUnauthorized marks a 401: the token was refused.
var errUnauthorized = errors.New("the API refused the bearer token (HTTP 401)")

// call sends one authenticated request and decodes its envelope into out,
// re-authenticating once after a 401. body is nil for a GET.
func (s *Source) call(ctx context.Context, method, rawURL string, body []byte, out any) (answer, error) {
	a, err := connauth.WithToken(ctx, s.cache, func(ctx context.Context, tok connauth.Token) (answer, bool, error) {
		a, err := s.send(ctx, method, rawURL, body, tok.Value, out)
		return a, errors.Is(err, errUnauthorized), err
	})
	if errors.Is(err, errUnauthorized) {
		return a, fmt.Errorf("%w: %s: a freshly issued token was refused too (%v); check that the API client is enabled and belongs to this CID and cloud",
			connauth.ErrLoginRefused, a.request, err)
	}
	return a, err
}

// send runs one request with token and decodes the answer into out.
func (s *Source) send(ctx context.Context, method, rawURL string, body []byte, token string, out any) (answer, error) {
	a := answer{request: method + " " + rawURL}
	resp, err := s.tr.Do(ctx, true, func(ctx context.Context) (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		r, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Accept", "application/json")
		if body != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		r.Header.Set("Authorization", "Bearer "+token)
		return r, nil
	})
	if err != nil {
		return a, fmt.Errorf("%s: %w", a.request, err)
	}
	defer resp.Body.Close()
	a.status = resp.StatusCode
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return a, redirectError(resp, a.request)
	}
	lr := &io.LimitedReader{R: resp.Body, N: s.maxBody + 1}
	br := bufio.NewReaderSize(lr, 64<<10)
	head, _ := br.Peek(512)
	head = bytes.TrimSpace(head)
	a.readAt = s.now()
	if resp.StatusCode != http.StatusOK {
		return a, s.statusError(a, resp, head, br)
	}
	if d, ok := out.(*envelope[device]); ok {
		return a, decodeDetailsAnswer(br, lr, resp.ContentLength, s.maxBody, a.request, d)
	}
	return a, decodeAnswer(br, lr, s.maxBody, a.request, out)
}

// pages holds read buffers for reuse: a details answer of 500 hosts is
// about 2 MB, and growing a fresh buffer for each (when the answer is
// chunked, without a Content-Length) cost more than decoding it.
var pages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func releasePage(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<20 {
		buf.Reset()
		pages.Put(buf)
	}
}

// decodeDetailsAnswer reads a whole details answer (bounded) and scans it.
// size is the answer's Content-Length (-1 when unknown), to read it into
// one buffer.
func decodeDetailsAnswer(br *bufio.Reader, lr *io.LimitedReader, size, limit int64, request string, out *envelope[device]) error {
	head, _ := br.Peek(512)
	head = bytes.TrimSpace(head)
	if len(head) == 0 || head[0] != '{' {
		return notJSON(request, head)
	}
	buf := pages.Get().(*bytes.Buffer)
	defer releasePage(buf) // the decoder copies what it keeps
	if size > 0 {
		buf.Grow(int(min(size, limit)) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(br)
	raw := buf.Bytes()
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", request, err)
	}
	if int64(len(raw)) > limit {
		return fmt.Errorf("%s: the answer is larger than %d MiB; refusing it", request, limit>>20)
	}
	if err := decodeDetails(raw, out); err != nil {
		if isFieldError(err) {
			return fmt.Errorf("%s: %w; is url the Falcon API?", request, err)
		}
		return fmt.Errorf("%s: the answer (%d bytes) is not complete JSON (%v); it may have been cut short, run again", request, len(raw), err)
	}
	return nil
}

func notJSON(request string, head []byte) error {
	return fmt.Errorf("%s: the answer is not Falcon's JSON (it starts with %q); is url the Falcon API, not a web page or a proxy's error page?",
		request, connauth.Snippet(head[:min(len(head), 80)]))
}

// decodeAnswer decodes one JSON answer from br into out; lr is the limit
// under br (max+1 bytes), which tells a cut answer from a too big one.
func decodeAnswer(br *bufio.Reader, lr *io.LimitedReader, max int64, request string, out any) error {
	head, _ := br.Peek(512)
	head = bytes.TrimSpace(head)
	if len(head) == 0 || head[0] != '{' {
		return notJSON(request, head)
	}
	dec := json.NewDecoder(br)
	if err := dec.Decode(out); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("%s: the answer is larger than %d MiB; refusing it", request, max>>20)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: field %q holds a JSON %s where Falcon documents %s; is url the Falcon API?", request, te.Field, te.Value, typeName(te.Type))
		}
		return fmt.Errorf("%s: the answer is not complete JSON (%v); it may have been cut short, run again", request, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if lr.N <= 0 {
			return fmt.Errorf("%s: the answer is larger than %d MiB; refusing it", request, max>>20)
		}
		return fmt.Errorf("%s: the answer holds more than one JSON value; is url the Falcon API?", request)
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch {
	case t == nil:
		return "another type"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Slice:
		return "a list"
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// statusError explains an answer other than 200 (429s and 5xx have already
// been retried by the transport).
func (s *Source) statusError(a answer, resp *http.Response, head []byte, br io.Reader) error {
	raw, _ := io.ReadAll(io.LimitReader(br, 64<<10))
	var env envelope[json.RawMessage]
	detail := ""
	if json.Unmarshal(raw, &env) == nil && len(env.Errors) > 0 {
		detail = errorsText(env.Errors)
	} else {
		detail = connauth.Snippet(head)
	}
	se := &connauth.StatusError{Status: resp.StatusCode, Body: detail}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w: %s", errUnauthorized, detail)
	case http.StatusForbidden:
		return fmt.Errorf("%s: %w; the API client lacks the Hosts: Read scope: add it to the client in the Falcon console (Support and resources > API clients and keys)", a.request, se)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w; is url the Falcon API's base address (such as https://api.crowdstrike.com)?", a.request, se)
	}
	return fmt.Errorf("%s: %w", a.request, se)
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}
