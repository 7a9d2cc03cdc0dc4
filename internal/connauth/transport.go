package connauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"
)

// TransportConfig is what a source's connection keys say about its transport.
type TransportConfig struct {
	CAFiles  []string      // PEM files to trust besides the system roots
	Insecure bool          // skip certificate verification
	Timeout  time.Duration // each request, end to end
	Proxy    string        // proxy URL; "" uses the environment (HTTPS_PROXY, NO_PROXY)
}

// Retry tunes the backoff of Transport.Do.
type Retry struct {
	Attempts int           // tries in all, the first included
	Base     time.Duration // first backoff
	Max      time.Duration // longest single wait, Retry-After included
}

// DefaultRetry is five tries, starting at 500 ms, waiting at most 30 s.
var DefaultRetry = Retry{Attempts: 5, Base: 500 * time.Millisecond, Max: 30 * time.Second}

// Transport is an HTTP client with the retry policy.
type Transport struct {
	HTTP  *http.Client
	Retry Retry
	Now   func() time.Time
	// Sleep waits for d or until ctx ends; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries counts the retried requests, for reports.
	Retries int
}

// NewTransport builds the HTTP client the config describes.
func NewTransport(c TransportConfig) (*Transport, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.Insecure}
	if len(c.CAFiles) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, f := range c.CAFiles {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("ca: %w", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("ca %s: no PEM certificate in it", f)
			}
		}
		tc.RootCAs = pool
	}
	proxy := http.ProxyFromEnvironment
	if c.Proxy != "" {
		u, err := url.Parse(c.Proxy)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("proxy %q is not a URL such as http://proxy:3128", c.Proxy)
		}
		proxy = http.ProxyURL(u)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tr := &http.Transport{Proxy: proxy, TLSClientConfig: tc, ForceAttemptHTTP2: true,
		DialContext:         (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 8,
		IdleConnTimeout: 90 * time.Second}
	return &Transport{HTTP: &http.Client{Transport: tr, Timeout: timeout}, Retry: DefaultRetry,
		Now: time.Now, Sleep: sleep}, nil
}

// TLSConfig is the transport's TLS settings, for connectors that dial by
// themselves (websockets).
func (t *Transport) TLSConfig() *tls.Config {
	if tr, ok := t.HTTP.Transport.(*http.Transport); ok {
		return tr.TLSClientConfig
	}
	return nil
}

// StatusError is a final HTTP answer that is not a success.
type StatusError struct {
	Status     int
	RetryAfter time.Duration // what the server asked for, when it did
	Body       string        // the start of the body, for the message
}

func (e *StatusError) Error() string {
	s := "HTTP " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Do sends the request that build makes (once per try: bodies are rebuilt),
// retrying 429s and, when idempotent, 5xx answers and network errors, with
// backoff. A 2xx-4xx other than 429 is returned to the caller as it is; a
// retried status still failing after the last try becomes a *StatusError.
func (t *Transport) Do(ctx context.Context, idempotent bool, build func(ctx context.Context) (*http.Request, error)) (*http.Response, error) {
	attempts := max(t.Retry.Attempts, 1)
	var last error
	for try := range attempts {
		if try > 0 {
			t.Retries++
		}
		req, err := build(ctx)
		if err != nil {
			return nil, err
		}
		resp, err := t.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			last = err
			if !idempotent || try == attempts-1 {
				return nil, err
			}
			if err := t.Sleep(ctx, t.backoff(try)); err != nil {
				return nil, err
			}
			continue
		}
		retryable := resp.StatusCode == http.StatusTooManyRequests || (idempotent && resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
		if !retryable {
			return resp, nil
		}
		wait, asked := RetryAfter(resp.Header, t.now())
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		last = &StatusError{Status: resp.StatusCode, RetryAfter: wait, Body: Snippet(body)}
		if try == attempts-1 {
			break
		}
		if !asked {
			wait = t.backoff(try)
		}
		if wait > t.Retry.Max {
			return nil, fmt.Errorf("%w; the server asks to wait %s, longer than the %s this run waits", last, wait, t.Retry.Max)
		}
		if err := t.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w (gave up after %d tries)", last, attempts)
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// backoff is exponential with full jitter: a random wait in [0, base·2^try], at most Max.
func (t *Transport) backoff(try int) time.Duration {
	base := t.Retry.Base
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	ceil := base << min(try, 16)
	if t.Retry.Max > 0 && ceil > t.Retry.Max {
		ceil = t.Retry.Max
	}
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

// RetryAfter reads how long the server asks to wait: Retry-After in seconds
// or as an HTTP date, else the rate-limit headers vendors send instead
// (X-RateLimit-RetryAfter as seconds or epoch milliseconds, X-RateLimit-Reset
// as epoch seconds, when X-RateLimit-Remaining is 0).
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s >= 0 {
			return time.Duration(s) * time.Second, true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	if v := h.Get("X-RateLimit-RetryAfter"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			if n > 1e11 { // epoch milliseconds
				return max(time.UnixMilli(n).Sub(now), 0), true
			}
			if n > 1e9 { // epoch seconds
				return max(time.Unix(n, 0).Sub(now), 0), true
			}
			return time.Duration(n) * time.Second, true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && n > 1e9 {
			return max(time.Unix(n, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

// Snippet is the start of a body for an error message: one line, at most 200 bytes.
func Snippet(b []byte) string {
	const n = 200
	s := []rune(string(b))
	out := make([]rune, 0, min(len(s), n))
	for _, r := range s {
		if len(out) >= n {
			out = append(out, '…')
			break
		}
		if r == '\n' || r == '\r' || r == '\t' {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrLoginRefused marks a login the vendor refused: wrong credentials, a
// locked account. It is never retried.
var ErrLoginRefused = errors.New("login refused")
