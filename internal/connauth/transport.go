package connauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// TransportConfig is what a source's connection keys say about its transport.
type TransportConfig struct {
	CAFiles  []string      // PEM files to trust besides the system roots
	Insecure bool          // skip certificate verification
	Timeout  time.Duration // each request, end to end
	Proxy    string        // proxy URL; "" uses the environment (HTTPS_PROXY, NO_PROXY)
	Budget   Rate          // the most requests this source sends; zero: no budget of its own
}

// Rate is at most N requests in any window of length Per (a burst of N/10,
// then evenly spaced): a source's request budget, kept below the vendor's
// documented limit so that a run never causes a 429.
type Rate struct {
	N   int
	Per time.Duration
}

func (r Rate) String() string {
	if r.N <= 0 || r.Per <= 0 {
		return "unlimited"
	}
	return strconv.Itoa(r.N) + " per " + r.Per.String()
}

// Retry tunes the backoff of Transport.Do.
type Retry struct {
	Attempts int           // tries in all, the first included
	Base     time.Duration // first backoff
	Max      time.Duration // longest single wait, Retry-After included; <= 0: DefaultRetry.Max
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
	// Budget spaces requests out (every request, retries and logins
	// included); zero: no spacing of its own.
	Budget Rate
	// Retries counts the retried requests, for reports. Do updates it under
	// a lock, so concurrent calls may share the Transport; read it once they
	// are done, or use RetryCount meanwhile.
	Retries int

	mu          sync.Mutex // guards the fields below and Retries
	limited     int        // 429 answers seen
	pausedUntil time.Time  // no request before this: the server asked for a pause
	tat         time.Time  // the budget's theoretical arrival time (GCRA)
}

// RetryCount is Retries, safe to read while requests are running.
func (t *Transport) RetryCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.Retries
}

// RateLimited is how many 429 answers the transport has seen.
func (t *Transport) RateLimited() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limited
}

// gate waits until the next request may go: after any pause a server asked
// for (one 429 pauses every request of the source, not only the one that got
// it, so the limit is not tripped again by the others) and within Budget.
func (t *Transport) gate(ctx context.Context) error {
	t.mu.Lock()
	now := t.now()
	at := now
	if r := t.Budget; r.N > 0 && r.Per > 0 {
		// Generic cell rate: a burst of b, then one request every
		// Per/(N-b+1), so that no window of length Per, wherever it starts,
		// holds more than N (a vendor's sliding window included).
		b := max(1, r.N/10)
		d := time.Duration(r.N - b + 1)
		interval := (r.Per + d - 1) / d // rounded up: never a request early
		tat := t.tat
		if tat.Before(now) {
			tat = now
		}
		t.tat = tat.Add(interval)
		if allowed := tat.Add(-time.Duration(b-1) * interval); allowed.After(at) {
			at = allowed
		}
	}
	if t.pausedUntil.After(at) {
		at = t.pausedUntil
	}
	t.mu.Unlock()
	if wait := at.Sub(now); wait > 0 {
		return t.sleep(ctx, wait)
	}
	return nil
}

// count notes a retry.
func (t *Transport) count() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.Retries++
}

// noteLimit reads the wait a response asks for and, for a 429 or an answer
// saying no requests remain, pauses the whole source until then.
func (t *Transport) noteLimit(h http.Header, status int) (time.Duration, bool) {
	now := t.now()
	wait, asked := RetryAfter(h, now)
	if status == http.StatusTooManyRequests {
		t.mu.Lock()
		t.limited++
		t.mu.Unlock()
	}
	if asked && (status == http.StatusTooManyRequests || h.Get("X-RateLimit-Remaining") == "0") && wait <= t.maxWait() {
		t.mu.Lock()
		if until := now.Add(wait); until.After(t.pausedUntil) {
			t.pausedUntil = until
		}
		t.mu.Unlock()
	}
	return wait, asked
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
			return nil, fmt.Errorf("proxy %q is not a URL such as http://proxy:3128", redactUserinfo(c.Proxy))
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
		Now: time.Now, Sleep: sleep, Budget: c.Budget}, nil
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
		if err := t.gate(ctx); err != nil {
			return nil, err
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
			t.count()
			if err := t.sleep(ctx, t.backoff(try)); err != nil {
				return nil, err
			}
			continue
		}
		retryable := resp.StatusCode == http.StatusTooManyRequests || (idempotent && resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented)
		if !retryable {
			if resp.StatusCode < 300 {
				t.noteLimit(resp.Header, resp.StatusCode) // the last request of a window: wait for the next one
			}
			return resp, nil
		}
		wait, asked := t.noteLimit(resp.Header, resp.StatusCode)
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		last = &StatusError{Status: resp.StatusCode, RetryAfter: wait, Body: Snippet(body)}
		if try == attempts-1 {
			break
		}
		t.count()
		if !asked {
			wait = t.backoff(try)
		}
		if limit := t.maxWait(); wait > limit {
			return nil, fmt.Errorf("%w; the server asks to wait %s, longer than the %s this run waits", last, wait, limit)
		}
		if err := t.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w (gave up after %d tries)", last, attempts)
}

// sleep is Sleep, or a plain context-bounded timer when Sleep is unset (a
// Transport not made by NewTransport).
func (t *Transport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	return sleep(ctx, d)
}

// maxWait is Retry.Max, or DefaultRetry.Max when that is unset.
func (t *Transport) maxWait() time.Duration {
	if t.Retry.Max > 0 {
		return t.Retry.Max
	}
	return DefaultRetry.Max
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
	shift := min(max(try, 0), 16)
	ceil := base << shift
	if ceil>>shift != base { // overflowed
		ceil = math.MaxInt64 - 1
	}
	ceil = min(ceil, t.maxWait())
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

// RetryAfter reads how long the server asks to wait: Retry-After in seconds
// or as an HTTP date, else the rate-limit headers vendors send instead
// (X-RateLimit-RetryAfter as seconds or epoch milliseconds, X-RateLimit-Reset
// as epoch seconds, when X-RateLimit-Remaining is 0).
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
			return seconds(s), true
		} else if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(v, "-") {
			return time.Duration(math.MaxInt64), true // asks for longer than a Duration holds
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
			return seconds(n), true
		}
	}
	if h.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil && n > 1e9 {
			return max(time.Unix(n, 0).Sub(now), 0), true
		}
	}
	return 0, false
}

// seconds is n seconds, saturating instead of overflowing.
func seconds(n int64) time.Duration {
	if n > int64(math.MaxInt64/time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(n) * time.Second
}

// Snippet is the start of a body for an error message: one line, at most 200 bytes.
// Control characters (line breaks, tabs) become spaces, invalid UTF-8 becomes
// U+FFFD, and a cut body ends in "…" after its 200 bytes.
func Snippet(b []byte) string {
	const n = 200
	var out strings.Builder
	out.Grow(min(len(b), n))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		if out.Len()+utf8.RuneLen(r) > n {
			out.WriteRune('…')
			break
		}
		out.WriteRune(r)
	}
	return out.String()
}

// redactUserinfo hides what comes before the last '@' of a URL, where a
// password may be.
func redactUserinfo(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		scheme := ""
		if j := strings.Index(s[:i], "://"); j >= 0 {
			scheme = s[:j+3]
		}
		return scheme + "xxxxx@" + s[i+1:]
	}
	return s
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
