package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// answer is one page as it arrived.
type answer struct {
	body   []byte
	header http.Header
	readAt time.Time
	buf    *bytes.Buffer // body's pooled buffer
}

// pages holds read buffers for reuse: growing a fresh buffer for each page
// cost about as much as scanning it.
var pagePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// release returns a's buffer to the pool; a.body must not be used after
// (the scanner copies every value it keeps).
func (a *answer) release() {
	if a.buf != nil && a.buf.Cap() <= 64<<20 {
		a.buf.Reset()
		pagePool.Put(a.buf)
	}
	a.buf, a.body = nil, nil
}

// pageReq is one page's request: its address and its body's paging keys.
type pageReq struct {
	u       *url.URL
	bodyAdd map[string]any // paging.in: body
	label   string         // what identifies the page to coverage.Walk
}

// Fetch reads every record, page by page.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	w := coverage.Walk{Source: s.name}
	w.Declare(-1)
	p := s.paging
	declared := -1
	var out, recs []coverage.Record
	req := s.firstRequest()
	vals := newValues(len(s.page.names))
	recVals := newValues(len(s.m.rec.names))
	longest := 0 // the most records a page held
	offset := 0
	pageNo := 0
	if p.First != nil {
		pageNo = *p.First
	}
	for pages := 1; ; pages++ {
		if pages > p.MaxPages {
			return nil, s.wrap(fmt.Errorf("paging.max_pages (%d) reached and the API still gives a next page (%s); raise max_pages if the inventory is that large, or check the paging settings", p.MaxPages, req.label))
		}
		if err := w.Page(req.label); err != nil {
			return nil, err
		}
		a, err := s.get(ctx, req)
		if err != nil {
			return nil, s.wrap(err)
		}
		request := s.requestString(req)
		vals.reset()
		recs = recs[:0] // reused: each page's records are copied into out
		sc := scanner{b: a.body, page: &vals, rec: &s.m.rec, recVals: &recVals}
		sc.onRecord = func(i int) error {
			r, err := s.m.build(&recVals, "record "+strconv.Itoa(i+1), a.readAt, request)
			if err != nil {
				return err
			}
			recs = append(recs, r)
			return nil
		}
		err = s.decode(&sc)
		a.release() // the values are copies
		if err != nil {
			return nil, s.wrap(fmt.Errorf("%s: %w", request, err))
		}
		if s.slotTotal >= 0 {
			total, err := s.count(&vals)
			if err != nil {
				return nil, s.wrap(fmt.Errorf("%s: %w", request, err))
			}
			if declared >= 0 && total < declared && (p.Style == "offset" || p.Style == "page") {
				return nil, s.wrap(fmt.Errorf("%s: paging.total (%s) went from %d to %d: records were deleted while the list was read, so others may have shifted past the walk; run again", request, p.Total, declared, total))
			}
			declared = total
			w.Declare(total)
		}
		if declared == 0 && len(recs) > 0 {
			return nil, s.wrap(fmt.Errorf("%s: paging.total (%s) is 0 but the page holds %d records", request, p.Total, len(recs)))
		}
		if out == nil {
			out = make([]coverage.Record, 0, max(min(declared, 1<<20), len(recs)))
		}
		for i := range recs {
			if err := w.Record(recs[i].ID); err != nil {
				return nil, err
			}
		}
		if cap(out)-len(out) < len(recs) {
			out = slices.Grow(out, max(len(out), len(recs))) // double, not append's quarter
		}
		out = append(out, recs...)
		progress(w.Count(), declared)

		n := len(recs)
		var next *pageReq
		switch p.Style {
		case "none":
		case "offset", "page":
			short := n == 0 || n < longest || (declared >= 0 && w.Count() >= declared)
			longest = max(longest, n)
			if short {
				break
			}
			offset += n
			pageNo++
			next = s.numbered(offset, pageNo)
		case "cursor":
			c, err := s.single(&vals, s.slotCursor, "paging.cursor_path")
			if err != nil {
				return nil, s.wrap(fmt.Errorf("%s: %w", request, err))
			}
			if c != "" {
				next = s.withCursor(c)
			}
		case "next_link":
			link, err := s.single(&vals, s.slotNext, "paging.next_path")
			if err != nil {
				return nil, s.wrap(fmt.Errorf("%s: %w", request, err))
			}
			if link != "" {
				if next, err = s.follow(req.u, link, "paging.next_path "+p.NextPath); err != nil {
					return nil, s.wrap(fmt.Errorf("%s: %w", request, err))
				}
			}
		case "link_header":
			link, err := nextLink(a.header.Values("Link"))
			if err != nil {
				return nil, s.wrap(fmt.Errorf("%s: %s", request, s.scrub(err.Error())))
			}
			if link != "" {
				if next, err = s.follow(req.u, link, "the Link header's rel=\"next\""); err != nil {
					return nil, s.wrap(fmt.Errorf("%s: %w", request, err))
				}
			}
		}
		if next == nil {
			break
		}
		req = *next
	}
	if err := w.Done(); err != nil {
		return nil, err
	}
	return out, nil
}

// decode reads one page and checks the records' array was where records: says.
func (s *Source) decode(sc *scanner) error {
	if b := bytes.TrimLeft(sc.b, " \t\r\n"); len(b) == 0 {
		return errors.New("the answer is empty, not JSON")
	} else if b[0] != '{' && b[0] != '[' {
		return fmt.Errorf("the answer is not JSON (it starts %q); is url the API's JSON list endpoint?", connauth.Snippet(b[:min(len(b), 60)]))
	}
	if err := sc.document(&s.page.root); err != nil {
		return err
	}
	where := "records: " + strconv.Quote(s.recordsPath())
	switch sc.recordArrays {
	case 0:
		return fmt.Errorf("%s is not in the answer; set records: to the dotted path of the records' array", where)
	case -1:
		return fmt.Errorf("%s holds a value, not an array of records", where)
	case -2:
		if s.recordsPath() == "" {
			return errors.New("the answer is an object, not an array of records; set records: to the dotted path of the array that holds them")
		}
		return fmt.Errorf("%s holds an object, not an array of records", where)
	}
	return nil
}

func (s *Source) recordsPath() string { return s.records }

// count reads the declared total.
func (s *Source) count(v *values) (int, error) {
	t, err := s.single(v, s.slotTotal, "paging.total")
	if err != nil {
		return 0, err
	}
	if t == "" {
		return 0, fmt.Errorf("paging.total (%s) is not in the answer; fix the path or remove paging.total", s.paging.Total)
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("paging.total (%s) is %q, not a count of records", s.paging.Total, t)
	}
	return n, nil
}

// single reads a page value that must be one scalar; "" when absent or null.
func (s *Source) single(v *values, slot int, key string) (string, error) {
	if v.obj[slot] != "" {
		return "", fmt.Errorf("%s (%s) holds an object, not a value; point it at a value inside it, e.g. %s.%s", key, s.page.names[slot], s.page.names[slot], v.obj[slot])
	}
	switch vs := v.vals[slot]; len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(vs[0]), nil
	default:
		return "", fmt.Errorf("%s (%s) gives %d values; point it at one", key, s.page.names[slot], len(vs))
	}
}

// firstRequest is the first page's request.
func (s *Source) firstRequest() pageReq {
	p := s.paging
	switch p.Style {
	case "offset", "page":
		first := 0
		if p.First != nil {
			first = *p.First
		}
		return *s.numbered(0, first)
	}
	r := pageReq{u: s.clone(), label: "first page"}
	if p.SizeParam != "" {
		r.set(s.inBody, p.SizeParam, p.Size)
	}
	return r
}

func (s *Source) clone() *url.URL {
	u := *s.base
	return &u
}

// numbered is the request of an offset or page walk.
func (s *Source) numbered(offset, page int) *pageReq {
	p := s.paging
	r := &pageReq{u: s.clone()}
	if p.Style == "offset" {
		r.set(s.inBody, p.OffsetParam, offset)
		r.set(s.inBody, p.LimitParam, p.Size)
		r.label = p.OffsetParam + "=" + strconv.Itoa(offset)
		return r
	}
	r.set(s.inBody, p.PageParam, page)
	if p.SizeParam != "" {
		r.set(s.inBody, p.SizeParam, p.Size)
	}
	r.label = p.PageParam + "=" + strconv.Itoa(page)
	return r
}

func (s *Source) withCursor(c string) *pageReq {
	p := s.paging
	r := &pageReq{u: s.clone(), label: p.CursorParam + "=" + c}
	r.set(s.inBody, p.CursorParam, c)
	if p.SizeParam != "" {
		r.set(s.inBody, p.SizeParam, p.Size)
	}
	return r
}

// set puts one paging parameter into the query or the body.
func (r *pageReq) set(inBody bool, k string, v any) {
	if inBody {
		if r.bodyAdd == nil {
			r.bodyAdd = map[string]any{}
		}
		r.bodyAdd[k] = v
		return
	}
	q := r.u.Query()
	switch x := v.(type) {
	case int:
		q.Set(k, strconv.Itoa(x))
	case string:
		q.Set(k, x)
	}
	r.u.RawQuery = q.Encode()
}

// follow resolves a next link against the page that gave it, refusing
// another host or scheme: the source's credentials would go there.
func (s *Source) follow(from *url.URL, link, what string) (*pageReq, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("%s %q is not a URL", what, s.redactString(link))
	}
	u := from.ResolveReference(ref)
	u.Fragment, u.RawFragment = "", ""
	if u.User != nil {
		return nil, fmt.Errorf("%s holds a user or password; muster does not follow it", what)
	}
	if !strings.EqualFold(u.Scheme, s.base.Scheme) || !strings.EqualFold(u.Host, s.base.Host) {
		return nil, fmt.Errorf("%s points to %s://%s, not to %s://%s (url): muster does not send the source's credentials to another host or scheme; if the API really moves, set url to that host", what, u.Scheme, u.Host, s.base.Scheme, s.base.Host)
	}
	if s.keyParam != "" {
		q := u.Query()
		q.Del(s.keyParam) // set again when sent
		u.RawQuery = q.Encode()
	}
	return &pageReq{u: u, label: u.String()}, nil
}

// requestString is a page's Request: the method and address, never a secret.
func (s *Source) requestString(r pageReq) string {
	out := s.method + " " + s.redact(r.u)
	if len(r.bodyAdd) > 0 {
		b, _ := json.Marshal(r.bodyAdd)
		out += " " + string(b)
	}
	return out
}

// redact is u with the api_key_param's value (sent with every request) hidden.
func (s *Source) redact(u *url.URL) string {
	if s.keyParam == "" {
		return u.String()
	}
	c := *u
	q := c.Query()
	q.Set(s.keyParam, "xxxxx")
	c.RawQuery = q.Encode()
	return c.String()
}

func (s *Source) redactString(link string) string {
	if s.token != "" {
		link = strings.ReplaceAll(link, s.token, "xxxxx")
		link = strings.ReplaceAll(link, url.QueryEscape(s.token), "xxxxx")
	}
	return redactUserinfo(link)
}

// get sends one page's request with the source's credentials.
func (s *Source) get(ctx context.Context, r pageReq) (*answer, error) {
	if s.cache == nil {
		a, status, err := s.send(ctx, r, "")
		if status == http.StatusUnauthorized {
			return nil, s.refused(err)
		}
		return a, err
	}
	a, err := connauth.WithToken(ctx, s.cache, func(ctx context.Context, tok connauth.Token) (*answer, bool, error) {
		a, status, err := s.send(ctx, r, tok.Value)
		return a, status == http.StatusUnauthorized, err
	})
	var se *connauth.StatusError
	if errors.As(err, &se) && se.Status == http.StatusUnauthorized {
		return nil, fmt.Errorf("%w: a fresh token of OAuth2 client %s from %s was refused too (%v); check that the client may read %s (its scopes or roles)", connauth.ErrLoginRefused, s.clientID, s.tokenURL, err, s.base.Path)
	}
	return a, err
}

// refused says what to do when static credentials were refused.
func (s *Source) refused(err error) error {
	switch s.auth {
	case "basic":
		return fmt.Errorf("%w: the API refused user %s's password (%v); check user and password_file/password_env, and that the account may use the API", connauth.ErrLoginRefused, s.user, err)
	case "bearer", "api_key":
		return fmt.Errorf("%w: the API refused the token (%v); it may be expired, revoked or for another API: generate a new one and update token_file/token_env", connauth.ErrLoginRefused, err)
	}
	return fmt.Errorf("%w: the API asks for credentials (%v); set auth: and its keys", connauth.ErrLoginRefused, err)
}

// send makes one request (retried by the transport) and reads the answer.
func (s *Source) send(ctx context.Context, r pageReq, bearer string) (*answer, int, error) {
	u := r.u
	if s.keyParam != "" {
		c := *r.u
		q := c.Query()
		q.Set(s.keyParam, s.token)
		c.RawQuery = q.Encode()
		u = &c
	}
	target := u.String()
	var body []byte
	if s.method == http.MethodPost {
		m := make(map[string]any, len(s.body)+len(r.bodyAdd))
		for k, v := range s.body {
			m[k] = v
		}
		for k, v := range r.bodyAdd {
			m[k] = v
		}
		var err error
		if body, err = json.Marshal(m); err != nil {
			return nil, 0, err
		}
	}
	shown := s.method + " " + s.redact(r.u)
	resp, err := s.tr.Do(ctx, true, func(ctx context.Context) (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, s.method, target, rd)
		if err != nil {
			return nil, err
		}
		for k, v := range s.headers {
			req.Header[k] = v
		}
		req.Header.Set("Accept", "application/json")
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		switch {
		case bearer != "":
			req.Header.Set("Authorization", "Bearer "+bearer)
		case s.auth == "basic":
			req.SetBasicAuth(s.user, s.password)
		case s.auth == "bearer":
			req.Header.Set("Authorization", "Bearer "+s.token)
		case s.keyHeader != "":
			req.Header.Set(s.keyHeader, s.keyPrefix+s.token)
		}
		return req, nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %s", shown, s.scrub(err.Error()))
	}
	defer resp.Body.Close()
	readAt := s.now()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		se := &connauth.StatusError{Status: resp.StatusCode, Body: s.scrub(connauth.Snippet(b))}
		return nil, resp.StatusCode, s.statusError(shown, se)
	}
	buf := pagePool.Get().(*bytes.Buffer)
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, s.maxBody+1))
	a := &answer{body: buf.Bytes(), header: resp.Header, readAt: readAt, buf: buf}
	if err != nil {
		a.release()
		return nil, resp.StatusCode, fmt.Errorf("%s: reading the answer: %s", shown, s.scrub(err.Error()))
	}
	if int64(len(a.body)) > s.maxBody {
		a.release()
		return nil, resp.StatusCode, fmt.Errorf("%s: the answer is larger than %d MiB; lower paging.size", shown, s.maxBody>>20)
	}
	return a, resp.StatusCode, nil
}

func (s *Source) statusError(shown string, se *connauth.StatusError) error {
	switch se.Status {
	case http.StatusForbidden:
		return fmt.Errorf("%s: %w; the credentials may not read this list: give them the API's read permission for it", shown, se)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w; check url (the list endpoint)", shown, se)
	}
	return fmt.Errorf("%s: %w", shown, se)
}

// scrub removes the secrets from a message (an error may quote the URL, in
// which an api_key_param travels).
func (s *Source) scrub(msg string) string {
	for _, sec := range []string{s.token, s.password} {
		if sec != "" {
			msg = strings.ReplaceAll(msg, sec, "xxxxx")
			msg = strings.ReplaceAll(msg, url.QueryEscape(sec), "xxxxx")
		}
	}
	return msg
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

func (s *Source) wrap(err error) error {
	return fmt.Errorf("rest source %s: %w", s.name, err)
}
