package sentinelone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// login hands the API token to the token cache. The token is read from
// token_file/token_env each time, so that a token rotated while muster runs
// (--watch) is picked up; a token the API has just refused is not tried again.
func (s *Source) login(context.Context) (connauth.Token, error) {
	tok, err := s.conn.Token(s.env)
	if err != nil {
		return connauth.Token{}, s.wrap(err)
	}
	if tok == "" {
		return connauth.Token{}, s.wrap(fmt.Errorf("%w: token_file/token_env holds no API token", coverage.ErrNoCredentials))
	}
	s.mu.Lock()
	refused, why := s.refused, s.why
	s.mu.Unlock()
	if refused != "" && tok == refused {
		return connauth.Token{}, s.refusedError(why)
	}
	return connauth.Token{Value: tok}, nil
}

// refusedError is the error for a 401: the token is expired, revoked or regenerated.
func (s *Source) refusedError(why string) error {
	if why != "" {
		why = " (" + why + ")"
	}
	return fmt.Errorf("sentinelone source %s: %w: %s refused the API token with HTTP 401%s; it has expired or was revoked or regenerated: generate a new one (console: My User or the service user > Actions > API Token Operations) and put it in token_file/token_env",
		s.name, connauth.ErrLoginRefused, s.base, why)
}

func (s *Source) wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sentinelone source %s: %w", s.name, err)
}

// statusError is a final answer that is not a success, with what the API said.
type statusError struct {
	status int
	why    string // the errors array, or the start of the body
}

func (e *statusError) Error() string {
	s := "HTTP " + strconv.Itoa(e.status) + " " + http.StatusText(e.status)
	if e.why != "" {
		s += ": " + e.why
	}
	return s
}

// answer is a successful body and when it arrived.
type answer struct {
	body   []byte
	readAt time.Time
	buf    *bytes.Buffer // body's pooled buffer; released once the page is mapped
}

// pages holds read buffers for reuse: a page is about a megabyte, and reading
// each into a fresh, growing buffer cost more than decoding it.
var pages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// release returns a's buffer to the pool; a.body must not be used after.
func (a *answer) release() {
	if a.buf != nil && a.buf.Cap() <= 64<<20 {
		a.buf.Reset()
		pages.Put(a.buf)
	}
	a.buf, a.body = nil, nil
}

// send makes one request with the token; body, when set, builds the request
// body from the token (api-token-details carries it). Every request is a read,
// so the transport may resend it.
func (s *Source) send(ctx context.Context, method, u string, body func(tok string) []byte, tok string) (answer, error) {
	resp, err := s.tr.Do(ctx, true, func(ctx context.Context) (*http.Request, error) {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body(tok))
		}
		r, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "ApiToken "+tok)
		r.Header.Set("Accept", "application/json")
		if body != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		return r, nil
	})
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	buf := pages.Get().(*bytes.Buffer)
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, s.maxBody+1))
	raw := buf.Bytes()
	a := answer{body: raw, readAt: s.now(), buf: buf}
	if err != nil {
		return a, fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if int64(len(raw)) > s.maxBody {
		return a, fmt.Errorf("%s %s: the answer is larger than %d MiB; lower page_size, or check that url is the management console", method, u, s.maxBody>>20)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		why := errorsOf(raw)
		if why == "" {
			why = connauth.Snippet(raw)
		}
		return a, fmt.Errorf("%s %s: %w", method, u, &statusError{status: resp.StatusCode, why: why})
	}
	return a, nil
}

// authed sends a request with the cached token; after a 401 the token file is
// read once more and, when it holds a new token, the request is sent again
// with it (connauth.WithToken: exactly one retry).
func (s *Source) authed(ctx context.Context, method, u string, body func(tok string) []byte) (answer, error) {
	a, err := connauth.WithToken(ctx, &s.cache, func(ctx context.Context, tok connauth.Token) (answer, bool, error) {
		a, err := s.send(ctx, method, u, body, tok.Value)
		var se *statusError
		if errors.As(err, &se) && se.status == http.StatusUnauthorized {
			s.mu.Lock()
			s.refused, s.why = tok.Value, se.why
			s.mu.Unlock()
			return a, true, s.refusedError(se.why)
		}
		return a, false, err
	})
	if err == nil {
		return a, nil
	}
	var se *statusError
	switch {
	case errors.Is(err, connauth.ErrLoginRefused):
		return a, err // already says which source and what to do
	case errors.As(err, &se) && se.status == http.StatusForbidden:
		return a, s.wrap(fmt.Errorf("%w; the token's user may not view endpoints in this scope: give it a role with endpoint view rights (Viewer suffices) at the account or site scope", err))
	case errors.As(err, &se) && se.status == http.StatusNotFound:
		return a, s.wrap(fmt.Errorf("%w; is url the management console's address, e.g. https://usea1-partners.sentinelone.net?", err))
	}
	return a, s.wrap(err)
}

func (s *Source) now() time.Time {
	if s.env.Now != nil {
		return s.env.Now()
	}
	return time.Now()
}

// pageURL is the address of the page at cursor ("" for the first).
func (s *Source) pageURL(cursor string) string {
	q := url.Values{}
	for k, v := range s.filters {
		q[k] = v
	}
	q.Set("limit", strconv.Itoa(s.pageSize))
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return s.base + AgentsPath + "?" + q.Encode()
}

// Fetch reads every agent the token's scope sees, filtered by site_ids,
// account_ids, group_ids and include_decommissioned, one page of page_size
// agents at a time, following nextCursor until it is null.
func (s *Source) Fetch(ctx context.Context, progress coverage.Progress) ([]coverage.Record, error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	s.mu.Lock()
	s.refused, s.why = "", "" // each run tries the token once more
	s.mu.Unlock()
	s.checkExpiry(ctx)

	walk := coverage.Walk{Source: s.name}
	walk.Declare(-1)
	var out []coverage.Record
	cursor := ""
	for page := 1; ; page++ {
		if err := walk.Page(cursor); err != nil {
			return nil, err
		}
		u := s.pageURL(cursor)
		a, err := s.authed(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, fmt.Errorf("%w (page %d, after %d agents)", err, page, walk.Count())
		}
		p, err := decodePage(a.body)
		if err != nil {
			return nil, s.wrap(fmt.Errorf("GET %s: %w (page %d)", u, err, page))
		}
		total := -1
		if p.Pagination.TotalItems != nil && *p.Pagination.TotalItems >= 0 {
			total = *p.Pagination.TotalItems
		}
		walk.Declare(total)
		if out == nil {
			out = make([]coverage.Record, 0, max(total, len(p.Data)))
		}
		request := "GET " + u
		for _, ag := range p.Data {
			if err := walk.Record(ag.ID); err != nil {
				return nil, err
			}
			out = append(out, mapAgent(s.name, ag, a.readAt, request, s.env))
		}
		a.release() // the records hold copies of what they use
		progress(walk.Count(), total)
		next := ""
		if p.Pagination.NextCursor != nil {
			next = *p.Pagination.NextCursor
		}
		if next == "" {
			break
		}
		if len(p.Data) == 0 {
			return nil, s.wrap(fmt.Errorf("GET %s: page %d holds no agents but names a next page; the API's paging is broken, so the walk stopped rather than report a partial list", u, page))
		}
		cursor = next
	}
	if err := walk.Done(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkExpiry asks when the token expires (once per Fetch) and warns when
// that is within ExpiryWarning. It is advisory: any failure is only logged,
// and a refused token is left to the agents request to report.
func (s *Source) checkExpiry(ctx context.Context) {
	tok, err := s.cache.Get(ctx)
	if err != nil {
		return // the agents request reports it
	}
	u := s.base + TokenDetailsPath
	a, err := s.send(ctx, http.MethodPost, u, tokenDetailsBody, tok.Value)
	if err != nil {
		s.log.Debug("sentinelone: api-token-details failed; the token's expiry is not checked", "source", s.name, "err", err)
		return
	}
	var d apiTokenDetails
	if err := looksJSON(a.body); err != nil || json.Unmarshal(a.body, &d) != nil || d.Data.ExpiresAt == "" {
		s.log.Debug("sentinelone: api-token-details gave no expiresAt", "source", s.name)
		return
	}
	exp, err := parseTime(d.Data.ExpiresAt)
	if err != nil {
		s.log.Debug("sentinelone: api-token-details: expiresAt is not a time", "source", s.name, "expiresAt", d.Data.ExpiresAt)
		return
	}
	left := exp.Sub(a.readAt)
	s.log.Debug("sentinelone: API token expiry", "source", s.name, "expiresAt", exp, "left", left)
	if left < ExpiryWarning && s.stderr != nil {
		when := "expires in " + left.Truncate(time.Hour).String()
		if left <= 0 {
			when = "has expired"
		}
		fmt.Fprintf(s.stderr, "muster: warning: source %s: the SentinelOne API token %s (expiresAt %s); generate a new one and update token_file/token_env\n",
			s.name, when, exp.UTC().Format(time.RFC3339))
	}
}

// tokenDetailsBody is api-token-details' request: the token to describe.
func tokenDetailsBody(tok string) []byte {
	b, _ := json.Marshal(map[string]any{"data": map[string]string{"apiToken": tok}})
	return b
}
