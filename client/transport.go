package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// maxRetryAfterWait is the longest Retry-After the client waits for by itself.
const maxRetryAfterWait = 5 * time.Minute

// request is one API call as the transport sees it.
type request struct {
	method      string
	path        string // escaped, starting with "/"
	query       url.Values
	body        []byte
	contentType string
	accept      string
	login       bool // the login endpoint: Basic auth, counted, safe to repeat on 5xx
}

// idempotent reports whether a 5xx answer or a failure after sending may be retried.
func (r *request) idempotent() bool {
	return r.method == http.MethodGet || r.method == http.MethodHead || r.login
}

// response is a fully read HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// roundTrip sends req with retries and returns the final answer, whatever its status.
func (c *Client) roundTrip(ctx context.Context, req *request, token string) (*response, error) {
	for attempt := 1; ; attempt++ {
		resp, sent, err := c.attempt(ctx, req, token)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s %s: %w", req.method, req.path, ctx.Err())
			}
			var apiErr *Error
			if errors.As(err, &apiErr) {
				return nil, apiErr
			}
			if !retryableConn(err) || (sent && !req.idempotent()) || attempt >= c.maxAttempts {
				return nil, connError(req.method, req.path, err)
			}
			d := c.backoff(attempt)
			c.log.Warn("request failed, retrying", "method", req.method, "path", req.path, "attempt", attempt, "delay", d, "err", err)
			if err := c.sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
			}
			continue
		}
		d, retry := c.retryDelay(ctx, req, resp, attempt)
		if !retry {
			return resp, nil
		}
		c.log.Warn("retrying after error answer", "method", req.method, "path", req.path, "status", resp.status, "attempt", attempt, "delay", d)
		if err := c.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
		}
	}
}

// retryDelay decides whether an answer is worth another attempt and after how long.
func (c *Client) retryDelay(ctx context.Context, req *request, resp *response, attempt int) (time.Duration, bool) {
	if attempt >= c.maxAttempts {
		return 0, false
	}
	switch s := resp.status; {
	case s == http.StatusTooManyRequests:
		// The rate limiter runs before anything else, so nothing was done: any method may repeat.
		d, ok := retryAfter(resp.header, c.now())
		if !ok {
			d = c.backoff(attempt)
		}
		if d > maxRetryAfterWait {
			return 0, false
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < d {
			return 0, false
		}
		return d, true
	case s >= 500 && s != http.StatusNotImplemented && s != http.StatusHTTPVersionNotSupported:
		return c.backoff(attempt), req.idempotent()
	}
	return 0, false
}

// backoff returns a full-jitter delay in [0, min(maxDelay, baseDelay*2^(attempt-1))].
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.baseDelay
	for i := 1; i < attempt && ceil < c.maxDelay; i++ {
		ceil *= 2
	}
	ceil = min(ceil, c.maxDelay)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

// retryAfter parses a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(secs)*time.Second, 0), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// attempt performs one HTTP exchange; sent reports whether the request left the client.
func (c *Client) attempt(ctx context.Context, req *request, token string) (*response, bool, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var sent atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaderField: func(string, []string) { sent.Store(true) },
		WroteHeaders:     func() { sent.Store(true) },
	})
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hreq, err := http.NewRequestWithContext(actx, req.method, c.endpoint(req.path, req.query), body)
	if err != nil {
		return nil, false, &Error{Method: req.method, Path: req.path, Title: "Invalid request", Err: err}
	}
	hreq.Header.Set("User-Agent", c.userAgent)
	hreq.Header.Set("Accept", req.accept)
	if req.contentType != "" {
		hreq.Header.Set("Content-Type", req.contentType)
	}
	switch {
	case req.login:
		hreq.Header.Set("Authorization", "Basic "+basicCredentials(c.user, c.password))
		c.tokens.logins.Add(1)
	case token != "":
		hreq.Header.Set("Authorization", "Bearer "+token)
	}
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, sent.Load(), err
	}
	defer hresp.Body.Close()
	data, err := c.readCapped(hresp.Body)
	if err != nil {
		if errors.Is(err, ErrResponseTooLarge) {
			return nil, true, &Error{
				Status: hresp.StatusCode, Method: req.method, Path: req.path,
				ContentType: hresp.Header.Get("Content-Type"), Title: "Response too large",
				Detail:      fmt.Sprintf("the response body exceeds the %d-byte limit", c.maxBody),
				Remediation: "request smaller pages (limit, select) or raise the cap with WithMaxBodySize",
				kind:        kindTooLarge,
			}
		}
		return nil, true, err
	}
	return &response{status: hresp.StatusCode, header: hresp.Header, body: data}, true, nil
}

// readCapped reads at most maxBody bytes and fails if there are more.
func (c *Client) readCapped(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, c.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > c.maxBody {
		return nil, ErrResponseTooLarge
	}
	return data, nil
}

// basicCredentials encodes user:password the way Wazuh decodes it: as Latin-1
// when every character fits, so passwords such as "contraseña1!" work; other
// passwords are sent as UTF-8.
func basicCredentials(user, password string) string {
	s := user + ":" + password
	latin := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return base64.StdEncoding.EncodeToString([]byte(s))
		}
		latin = append(latin, byte(r))
	}
	return base64.StdEncoding.EncodeToString(latin)
}
