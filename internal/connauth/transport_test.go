package connauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// writePEM writes the certificate to a PEM file in a temporary directory.
func writePEM(t *testing.T, der []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// otherCA is a self-signed CA that signed nothing the test servers use.
func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over TLS")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fetchOnce sends one non-idempotent GET (no retries on network errors).
func fetchOnce(t *testing.T, tr *Transport, url string) (string, error) {
	t.Helper()
	resp, err := tr.Do(context.Background(), false, get(url))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestNewTransportTrustsCAFile(t *testing.T) {
	srv := tlsServer(t)
	ca := writePEM(t, srv.Certificate().Raw)
	tr, err := NewTransport(TransportConfig{CAFiles: []string{ca}})
	if err != nil {
		t.Fatal(err)
	}
	body, err := fetchOnce(t, tr, srv.URL)
	if err != nil || body != "hello over TLS" {
		t.Fatalf("got %q, %v", body, err)
	}
	tc := tr.TLSConfig()
	if tc == nil || tc.RootCAs == nil || tc.InsecureSkipVerify || tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS config %+v: want RootCAs set, verification on, TLS 1.2 at least", tc)
	}
}

func TestNewTransportSeveralCAFiles(t *testing.T) {
	srv := tlsServer(t)
	tr, err := NewTransport(TransportConfig{CAFiles: []string{writePEM(t, otherCA(t)), writePEM(t, srv.Certificate().Raw)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fetchOnce(t, tr, srv.URL); err != nil {
		t.Fatalf("the second CA file was not trusted: %v", err)
	}
}

func TestNewTransportRefusesUntrustedServer(t *testing.T) {
	srv := tlsServer(t)
	for name, cfg := range map[string]TransportConfig{
		"system roots only": {},
		"unrelated CA file": {CAFiles: []string{writePEM(t, otherCA(t))}},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := NewTransport(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fetchOnce(t, tr, srv.URL)
			var unknown x509.UnknownAuthorityError
			if !errors.As(err, &unknown) {
				t.Fatalf("err = %v, want an unknown-authority error", err)
			}
		})
	}
}

func TestNewTransportInsecure(t *testing.T) {
	srv := tlsServer(t)
	tr, err := NewTransport(TransportConfig{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if body, err := fetchOnce(t, tr, srv.URL); err != nil || body != "hello over TLS" {
		t.Fatalf("got %q, %v", body, err)
	}
	if !tr.TLSConfig().InsecureSkipVerify {
		t.Error("InsecureSkipVerify not set")
	}
}

func TestNewTransportBadCAFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	garbage := filepath.Join(dir, "garbage.pem")
	empty := filepath.Join(dir, "empty.pem")
	if err := os.WriteFile(garbage, []byte("this is not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := writePEM(t, otherCA(t))
	t.Run("missing", func(t *testing.T) {
		_, err := NewTransport(TransportConfig{CAFiles: []string{good, missing}})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("err = %v, want a not-exist error naming %s", err, missing)
		}
	})
	for _, f := range []string{garbage, empty} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tr, err := NewTransport(TransportConfig{CAFiles: []string{f}})
			if err == nil || tr != nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), f) || !strings.Contains(err.Error(), "no PEM certificate") {
				t.Fatalf("err = %q, want it to name %s and say it holds no PEM certificate", err, f)
			}
		})
	}
}

func TestNewTransportProxy(t *testing.T) {
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		io.WriteString(w, "via proxy")
	}))
	defer proxy.Close()
	tr, err := NewTransport(TransportConfig{Proxy: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	body, err := fetchOnce(t, tr, "http://inventory.example.invalid/api?x=1")
	if err != nil || body != "via proxy" {
		t.Fatalf("got %q, %v", body, err)
	}
	if got := seen.Load(); got != "http://inventory.example.invalid/api?x=1" {
		t.Errorf("the proxy saw %v", got)
	}
}

func TestNewTransportBadProxy(t *testing.T) {
	for _, p := range []string{"proxy:3128", "http://", "://nope", "/just/a/path"} {
		if _, err := NewTransport(TransportConfig{Proxy: p}); err == nil || !strings.Contains(err.Error(), "http://proxy:3128") {
			t.Errorf("proxy %q: err = %v, want a hint at the expected form", p, err)
		}
	}
	// A mistyped proxy URL with credentials must not print the password.
	for _, p := range []string{"alice:s3cr3t@proxy:3128", "http://alice:s3cr3t@"} {
		_, err := NewTransport(TransportConfig{Proxy: p})
		if err == nil {
			t.Fatalf("proxy %q: no error", p)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error echoes the proxy password: %v", err)
		}
	}
}

func TestNewTransportTimeout(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{0: 30 * time.Second, -time.Second: 30 * time.Second, 5 * time.Second: 5 * time.Second} {
		tr, err := NewTransport(TransportConfig{Timeout: in})
		if err != nil {
			t.Fatal(err)
		}
		if tr.HTTP.Timeout != want {
			t.Errorf("Timeout %s: client timeout %s, want %s", in, tr.HTTP.Timeout, want)
		}
		if tr.Retry != DefaultRetry || tr.Now == nil || tr.Sleep == nil {
			t.Errorf("NewTransport left Retry %+v, Now or Sleep unset", tr.Retry)
		}
	}
}

func TestTLSConfigOfForeignTransport(t *testing.T) {
	tr := &Transport{HTTP: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })}}
	if tr.TLSConfig() != nil {
		t.Error("TLSConfig of a non-*http.Transport is not nil")
	}
}

// script is a test server answering the scripted statuses in turn (200 "ok"
// once they are used up) and counting requests.
type script struct {
	mu       sync.Mutex
	steps    []func(w http.ResponseWriter)
	requests int
	bodies   []string
	headers  []http.Header
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := s.requests
	s.requests++
	s.bodies = append(s.bodies, string(b))
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	if n < len(s.steps) {
		s.steps[n](w)
		return
	}
	io.WriteString(w, "ok")
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

func status(code int, headers ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d", code)
	}
}

func serve(t *testing.T, steps ...func(w http.ResponseWriter)) (*script, string) {
	t.Helper()
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func readOK(t *testing.T, resp *http.Response, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("got %d %q, want 200 ok", resp.StatusCode, b)
	}
}

func TestDoRetries429WithRetryAfterSeconds(t *testing.T) {
	tr, _, sl := testTransport(t, Retry{Attempts: 5, Base: time.Second, Max: 10 * time.Second})
	s, url := serve(t, status(429, "Retry-After", "3"), status(429, "Retry-After", "0"))
	resp, err := tr.Do(context.Background(), true, get(url))
	readOK(t, resp, err)
	if got, want := sl.Waits(), []time.Duration{3 * time.Second, 0}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if s.count() != 3 || tr.Retries != 2 || tr.RetryCount() != 2 {
		t.Errorf("%d requests, Retries %d, want 3 and 2", s.count(), tr.Retries)
	}
}

func TestDoRetryAfterHTTPDate(t *testing.T) {
	tr, clk, sl := testTransport(t, Retry{Attempts: 3, Base: time.Second, Max: 10 * time.Second})
	s, url := serve(t, status(503, "Retry-After", clk.Now().Add(7*time.Second).Format(http.TimeFormat)))
	resp, err := tr.Do(context.Background(), true, get(url))
	readOK(t, resp, err)
	if got, want := sl.Waits(), []time.Duration{7 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v", got, want)
	}
	if s.count() != 2 {
		t.Errorf("%d requests, want 2", s.count())
	}
}

func TestDoRateLimitHeaders(t *testing.T) {
	now := newClock().Now()
	for _, tc := range []struct {
		name    string
		headers []string
		want    time.Duration
	}{
		{"X-RateLimit-Reset epoch seconds", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()+4, 10)}, 4 * time.Second},
		{"X-RateLimit-RetryAfter seconds", []string{"X-RateLimit-RetryAfter", "2"}, 2 * time.Second},
		{"X-RateLimit-RetryAfter epoch ms", []string{"X-RateLimit-RetryAfter", strconv.FormatInt(now.UnixMilli()+1500, 10)}, 1500 * time.Millisecond},
		{"Retry-After wins", []string{"Retry-After", "1", "X-RateLimit-RetryAfter", "9"}, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, _, sl := testTransport(t, Retry{Attempts: 3, Base: time.Minute, Max: 10 * time.Second})
			_, url := serve(t, status(429, tc.headers...))
			resp, err := tr.Do(context.Background(), false, get(url))
			readOK(t, resp, err)
			if got := sl.Waits(); !slices.Equal(got, []time.Duration{tc.want}) {
				t.Errorf("waits %v, want [%s]", got, tc.want)
			}
		})
	}
}

func TestDoRetries5xxWithBoundedBackoff(t *testing.T) {
	r := Retry{Attempts: 5, Base: 100 * time.Millisecond, Max: 250 * time.Millisecond}
	tr, _, sl := testTransport(t, r)
	s, url := serve(t, status(500), status(502), status(503), status(504))
	resp, err := tr.Do(context.Background(), true, get(url))
	readOK(t, resp, err)
	waits := sl.Waits()
	if len(waits) != 4 || s.count() != 5 || tr.Retries != 4 {
		t.Fatalf("waits %v, %d requests, Retries %d; want 4 waits, 5 requests", waits, s.count(), tr.Retries)
	}
	for try, w := range waits {
		if ceil := min(r.Base<<try, r.Max); w <= 0 || w > ceil {
			t.Errorf("wait %d is %s, want in (0, %s]", try, w, ceil)
		}
	}
}

func TestDoNonIdempotent5xxNotRetried(t *testing.T) {
	for _, code := range []int{500, 502, 503, 504} {
		tr, _, sl := testTransport(t, DefaultRetry)
		s, url := serve(t, status(code, "Retry-After", "1"))
		resp, err := tr.Do(context.Background(), false, func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("create"))
		})
		if err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != code || string(b) != fmt.Sprintf("status %d", code) {
			t.Errorf("got %d %q, want the %d answer as it is", resp.StatusCode, b, code)
		}
		if s.count() != 1 || len(sl.Waits()) != 0 || tr.Retries != 0 {
			t.Errorf("%d: %d requests, waits %v; a POST was retried", code, s.count(), sl.Waits())
		}
	}
}

func TestDoNonIdempotent429RetriedWithRebuiltBody(t *testing.T) {
	tr, _, sl := testTransport(t, DefaultRetry)
	s, url := serve(t, status(429, "Retry-After", "2"))
	builds := 0
	resp, err := tr.Do(context.Background(), false, func(ctx context.Context) (*http.Request, error) {
		builds++
		return http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("payload"))
	})
	readOK(t, resp, err)
	if builds != 2 || !slices.Equal(s.bodies, []string{"payload", "payload"}) {
		t.Errorf("%d builds, bodies %q; want the body sent whole on both tries", builds, s.bodies)
	}
	if !slices.Equal(sl.Waits(), []time.Duration{2 * time.Second}) {
		t.Errorf("waits %v", sl.Waits())
	}
}

func TestDoReturnsOtherStatusesAsTheyAre(t *testing.T) {
	for _, code := range []int{200, 201, 204, 301, 400, 401, 403, 404, 409, 501} {
		tr, _, sl := testTransport(t, DefaultRetry)
		s, url := serve(t, status(code, "Retry-After", "1"))
		resp, err := tr.Do(context.Background(), true, get(url))
		if err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		resp.Body.Close()
		if resp.StatusCode != code || s.count() != 1 || len(sl.Waits()) != 0 {
			t.Errorf("%d: got %d after %d requests and waits %v; want it returned at once", code, resp.StatusCode, s.count(), sl.Waits())
		}
	}
}

func TestDoRetryBound(t *testing.T) {
	tr, _, sl := testTransport(t, Retry{Attempts: 3, Base: time.Second, Max: 10 * time.Second})
	steps := make([]func(http.ResponseWriter), 10)
	for i := range steps {
		steps[i] = func(w http.ResponseWriter) { w.WriteHeader(503); io.WriteString(w, "busy\nplease wait") }
	}
	s, url := serve(t, steps...)
	resp, err := tr.Do(context.Background(), true, get(url))
	if resp != nil {
		t.Fatal("a response with the error")
	}
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *StatusError", err)
	}
	if se.Status != 503 || se.Body != "busy please wait" || se.RetryAfter != 0 {
		t.Errorf("StatusError %+v", se)
	}
	if !strings.Contains(err.Error(), "HTTP 503 Service Unavailable: busy please wait") || !strings.Contains(err.Error(), "gave up after 3 tries") {
		t.Errorf("message %q", err)
	}
	if s.count() != 3 || len(sl.Waits()) != 2 || tr.Retries != 2 {
		t.Errorf("%d requests, waits %v, Retries %d; want 3 tries, 2 waits", s.count(), sl.Waits(), tr.Retries)
	}
}

func TestDoRetryBound429(t *testing.T) {
	tr, _, _ := testTransport(t, Retry{Attempts: 2, Base: time.Second, Max: 10 * time.Second})
	s, url := serve(t, status(429, "Retry-After", "4"), status(429, "Retry-After", "5"), status(429))
	_, err := tr.Do(context.Background(), false, get(url))
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 429 || se.RetryAfter != 5*time.Second {
		t.Fatalf("err = %v (%+v), want the last 429 asking for 5s", err, se)
	}
	if s.count() != 2 {
		t.Errorf("%d requests, want 2", s.count())
	}
}

func TestDoAttemptsBelowOneMeansOneTry(t *testing.T) {
	for _, n := range []int{0, -3, 1} {
		tr, _, sl := testTransport(t, Retry{Attempts: n})
		s, url := serve(t, status(503), status(503))
		_, err := tr.Do(context.Background(), true, get(url))
		if err == nil || !strings.Contains(err.Error(), "gave up after 1 tries") || s.count() != 1 || len(sl.Waits()) != 0 {
			t.Errorf("Attempts %d: %v after %d requests", n, err, s.count())
		}
	}
}

func TestDoRetryAfterLongerThanMax(t *testing.T) {
	tr, _, sl := testTransport(t, Retry{Attempts: 5, Base: time.Second, Max: 10 * time.Second})
	s, url := serve(t, status(429, "Retry-After", "120"))
	_, err := tr.Do(context.Background(), true, get(url))
	var se *StatusError
	if !errors.As(err, &se) || se.RetryAfter != 2*time.Minute {
		t.Fatalf("err = %v, want a StatusError with RetryAfter 2m", err)
	}
	if !strings.Contains(err.Error(), "asks to wait 2m0s, longer than the 10s") {
		t.Errorf("message %q", err)
	}
	if s.count() != 1 || len(sl.Waits()) != 0 {
		t.Errorf("%d requests, waits %v; want no wait and no retry", s.count(), sl.Waits())
	}
}

// A Retry without Max must not refuse every Retry-After (it used to compare
// with a Max of 0) nor back off for hours: it waits at most DefaultRetry.Max.
func TestDoUnsetMaxMeansDefault(t *testing.T) {
	tr, _, sl := testTransport(t, Retry{Attempts: 3})
	_, url := serve(t, status(429, "Retry-After", "5"))
	resp, err := tr.Do(context.Background(), true, get(url))
	readOK(t, resp, err)
	if !slices.Equal(sl.Waits(), []time.Duration{5 * time.Second}) {
		t.Errorf("waits %v, want [5s]", sl.Waits())
	}

	tr, _, _ = testTransport(t, Retry{Attempts: 3})
	_, url = serve(t, status(429, "Retry-After", "31"))
	if _, err := tr.Do(context.Background(), true, get(url)); err == nil || !strings.Contains(err.Error(), "longer than the 30s") {
		t.Errorf("err = %v, want the 30 s default limit", err)
	}
	for try := range 40 {
		if d := tr.backoff(try); d <= 0 || d > DefaultRetry.Max {
			t.Fatalf("backoff(%d) = %s with Max unset", try, d)
		}
	}
}

// A Retry-After too big for a time.Duration used to overflow into a negative
// wait, and the request was retried at once.
func TestDoHugeRetryAfterIsNotRetriedAtOnce(t *testing.T) {
	for _, v := range []string{"9223372037", "99999999999999999999"} {
		tr, _, sl := testTransport(t, DefaultRetry)
		s, url := serve(t, status(429, "Retry-After", v))
		_, err := tr.Do(context.Background(), true, get(url))
		if err == nil || !strings.Contains(err.Error(), "longer than the 30s") {
			t.Errorf("Retry-After %s: err = %v", v, err)
		}
		if s.count() != 1 || len(sl.Waits()) != 0 {
			t.Errorf("Retry-After %s: %d requests, waits %v", v, s.count(), sl.Waits())
		}
	}
}

func TestDoContextCanceledDuringBackoff(t *testing.T) {
	tr, _, _ := testTransport(t, DefaultRetry)
	s, url := serve(t, status(503), status(503))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeping := make(chan time.Duration, 1)
	tr.Sleep = func(ctx context.Context, d time.Duration) error {
		sleeping <- d
		<-ctx.Done()
		return ctx.Err()
	}
	go func() { <-sleeping; cancel() }()
	resp, err := tr.Do(ctx, true, get(url))
	if resp != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %v; want context.Canceled", resp, err)
	}
	if s.count() != 1 {
		t.Errorf("%d requests after the cancellation, want 1", s.count())
	}
}

// The default Sleep (a timer) ends as soon as the context does.
func TestDoDefaultSleepHonoursContext(t *testing.T) {
	tr, err := NewTransport(TransportConfig{})
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "25") // within DefaultRetry.Max: it would wait
		w.WriteHeader(429)
		arrived <- struct{}{}
	}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	start := time.Now()
	_, err = tr.Do(ctx, true, get(srv.URL))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Do took %s after the cancellation", d)
	}
}

func TestSleep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	if err := sleep(ctx, 0); err != nil {
		t.Errorf("sleep(0) = %v", err)
	}
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep on a canceled context = %v", err)
	}
}

func TestDoCanceledContextBeforeStart(t *testing.T) {
	tr, _, sl := testTransport(t, DefaultRetry)
	s, url := serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := tr.Do(ctx, true, get(url))
	if !errors.Is(err, context.Canceled) || s.count() != 0 || len(sl.Waits()) != 0 {
		t.Errorf("err %v, %d requests, waits %v", err, s.count(), sl.Waits())
	}
}

func TestDoNetworkErrors(t *testing.T) {
	errDown := errors.New("connection refused (test)")
	flaky := func(fails int, calls *int) *http.Client {
		return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			*calls++
			if *calls <= fails {
				return nil, errDown
			}
			return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: r}, nil
		})}
	}
	t.Run("idempotent retried", func(t *testing.T) {
		tr, _, sl := testTransport(t, Retry{Attempts: 3, Base: time.Second, Max: 5 * time.Second})
		calls := 0
		tr.HTTP = flaky(2, &calls)
		resp, err := tr.Do(context.Background(), true, get("http://h.invalid/"))
		readOK(t, resp, err)
		if calls != 3 || len(sl.Waits()) != 2 || tr.Retries != 2 {
			t.Errorf("%d calls, waits %v", calls, sl.Waits())
		}
	})
	t.Run("idempotent bounded", func(t *testing.T) {
		tr, _, sl := testTransport(t, Retry{Attempts: 3, Base: time.Second, Max: 5 * time.Second})
		calls := 0
		tr.HTTP = flaky(100, &calls)
		_, err := tr.Do(context.Background(), true, get("http://h.invalid/"))
		if !errors.Is(err, errDown) || calls != 3 || len(sl.Waits()) != 2 {
			t.Errorf("err %v, %d calls, waits %v", err, calls, sl.Waits())
		}
	})
	t.Run("non-idempotent not retried", func(t *testing.T) {
		tr, _, sl := testTransport(t, DefaultRetry)
		calls := 0
		tr.HTTP = flaky(1, &calls)
		_, err := tr.Do(context.Background(), false, get("http://h.invalid/"))
		if !errors.Is(err, errDown) || calls != 1 || len(sl.Waits()) != 0 {
			t.Errorf("err %v, %d calls, waits %v", err, calls, sl.Waits())
		}
	})
}

func TestDoBuildError(t *testing.T) {
	tr, _, sl := testTransport(t, DefaultRetry)
	errBuild := errors.New("cannot build")
	_, err := tr.Do(context.Background(), true, func(context.Context) (*http.Request, error) { return nil, errBuild })
	if !errors.Is(err, errBuild) || len(sl.Waits()) != 0 {
		t.Errorf("err %v, waits %v", err, sl.Waits())
	}
}

// A Transport is shared by a source's concurrent calls; -race checks the
// Retries counter.
func TestDoConcurrentRetriesCounted(t *testing.T) {
	tr, _, _ := testTransport(t, Retry{Attempts: 3, Base: time.Millisecond, Max: time.Second})
	var seen sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, again := seen.LoadOrStore(r.URL.Path, true); !again {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := tr.Do(context.Background(), true, get(fmt.Sprintf("%s/%d", srv.URL, i)))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			_ = tr.RetryCount()
		})
	}
	wg.Wait()
	if tr.Retries != n {
		t.Errorf("Retries %d, want %d", tr.Retries, n)
	}
}

// A Transport literal without Now and Sleep works.
func TestDoZeroTransport(t *testing.T) {
	s, url := serve(t, status(429, "Retry-After", "0"))
	tr := &Transport{HTTP: &http.Client{}, Retry: Retry{Attempts: 2}}
	resp, err := tr.Do(context.Background(), true, get(url))
	readOK(t, resp, err)
	if s.count() != 2 {
		t.Errorf("%d requests", s.count())
	}
}

func TestBackoff(t *testing.T) {
	tr := &Transport{Retry: Retry{Base: 100 * time.Millisecond, Max: 3 * time.Second}}
	for try := range 24 {
		ceil := min(tr.Retry.Base<<min(try, 16), tr.Retry.Max)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := tr.backoff(try)
			if d <= 0 || d > ceil {
				t.Fatalf("backoff(%d) = %s, want in (0, %s]", try, d, ceil)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("backoff(%d): only %d distinct waits in 200; no jitter?", try, len(seen))
		}
	}
	// Defaults, and a base so large that doubling it overflows.
	for _, tr := range []*Transport{{}, {Retry: Retry{Base: math.MaxInt64 / 3, Max: time.Hour}}, {Retry: Retry{Base: time.Duration(math.MaxInt64)}}} {
		for try := range 20 {
			if d := tr.backoff(try); d <= 0 || d > tr.maxWait() {
				t.Errorf("Retry %+v: backoff(%d) = %s", tr.Retry, try, d)
			}
		}
	}
	if d := (&Transport{}).backoff(0); d > 500*time.Millisecond {
		t.Errorf("default first backoff %s, want at most 500ms", d)
	}
}

func TestStatusErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		e    StatusError
		want string
	}{
		{StatusError{Status: 503}, "HTTP 503 Service Unavailable"},
		{StatusError{Status: 429, RetryAfter: time.Second, Body: "slow down"}, "HTTP 429 Too Many Requests: slow down"},
		{StatusError{Status: 599, Body: "x"}, "HTTP 599 : x"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

// The error of a failed request shows the status and the start of the body,
// never the request's credentials nor more of the body than Snippet keeps.
func TestDoStatusErrorEchoesNoSecret(t *testing.T) {
	tr, _, _ := testTransport(t, Retry{Attempts: 2, Base: time.Millisecond, Max: time.Second})
	body := strings.Repeat("overloaded ", 30) + "BODY-SECRET" + strings.Repeat("z", 5000)
	steps := []func(http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(503); io.WriteString(w, body) },
		func(w http.ResponseWriter) { w.WriteHeader(503); io.WriteString(w, body) },
	}
	s, url := serve(t, steps...)
	_, err := tr.Do(context.Background(), true, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api?api_key=QUERY-SECRET", nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer HEADER-SECRET")
			req.SetBasicAuth("alice", "BASIC-SECRET")
		}
		return req, err
	})
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	for _, secret := range []string{"QUERY-SECRET", "HEADER-SECRET", "BASIC-SECRET", "BODY-SECRET", "api_key"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error echoes %s: %q", secret, err)
		}
	}
	if len(se.Body) > 200+len("…") || !strings.HasPrefix(se.Body, "overloaded overloaded") || !strings.HasSuffix(se.Body, "…") {
		t.Errorf("Body %q (%d bytes)", se.Body, len(se.Body))
	}
	if s.count() != 2 || s.headers[1].Get("Authorization") == "" {
		t.Errorf("%d requests; the retry carried headers %v", s.count(), s.headers)
	}
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("a", 500)
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"short", "not found", "not found"},
		{"one line", "line one\r\nline two\tend\n", "line one  line two end "},
		{"other controls", "a\x00b\x1bc\vd\fe\u2028f\u0085g", "a b c d e f g"},
		{"exactly 200 bytes", long[:200], long[:200]},
		{"201 bytes", long[:201], long[:200] + "…"},
		{"two-byte runes fit", strings.Repeat("é", 100), strings.Repeat("é", 100)},
		{"two-byte runes cut", strings.Repeat("é", 101), strings.Repeat("é", 100) + "…"},
		{"four-byte runes cut", strings.Repeat("😀", 60), strings.Repeat("😀", 50) + "…"},
		{"rune across the limit", long[:199] + "é", long[:199] + "…"},
		{"invalid UTF-8", "ok\xff\xfe", "ok\uFFFD\uFFFD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Snippet([]byte(tc.in)); got != tc.want {
				t.Errorf("Snippet(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSnippetProperties(t *testing.T) {
	inputs := []string{strings.Repeat("日本語\n", 300), strings.Repeat("\xff", 300), strings.Repeat("x\r", 1000), "\xe6\x97"}
	for _, in := range inputs {
		s := Snippet([]byte(in))
		body := strings.TrimSuffix(s, "…")
		if len(body) > 200 || !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\t") {
			t.Errorf("Snippet(%.20q…) = %q: %d bytes before the ellipsis, valid %v", in, s, len(body), utf8.ValidString(s))
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := newClock().Now()
	epoch := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	epochMS := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	huge := time.Duration(math.MaxInt64)
	for _, tc := range []struct {
		name    string
		headers []string
		want    time.Duration
		ok      bool
	}{
		{"nothing", nil, 0, false},
		{"seconds", []string{"Retry-After", "5"}, 5 * time.Second, true},
		{"zero", []string{"Retry-After", "0"}, 0, true},
		{"negative", []string{"Retry-After", "-5"}, 0, false},
		{"fraction", []string{"Retry-After", "1.5"}, 0, false},
		{"garbage", []string{"Retry-After", "soon"}, 0, false},
		{"empty", []string{"Retry-After", ""}, 0, false},
		{"largest that fits", []string{"Retry-After", "9223372036"}, 9223372036 * time.Second, true},
		{"overflows a Duration", []string{"Retry-After", "9223372037"}, huge, true},
		{"overflows an int64", []string{"Retry-After", "99999999999999999999"}, huge, true},
		{"negative overflow", []string{"Retry-After", "-99999999999999999999"}, 0, false},
		{"HTTP date", []string{"Retry-After", now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, true},
		{"RFC 850 date", []string{"Retry-After", now.Add(time.Minute).Format(time.RFC850)}, time.Minute, true},
		{"asctime date", []string{"Retry-After", now.Add(2 * time.Second).Format(time.ANSIC)}, 2 * time.Second, true},
		{"past date", []string{"Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)}, 0, true},
		{"far future date", []string{"Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"}, huge, true},
		{"garbage falls through", []string{"Retry-After", "soon", "X-RateLimit-RetryAfter", "7"}, 7 * time.Second, true},
		{"Retry-After first", []string{"Retry-After", "3", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(time.Hour)}, 3 * time.Second, true},
		{"x seconds", []string{"X-RateLimit-RetryAfter", "7"}, 7 * time.Second, true},
		{"x negative", []string{"X-RateLimit-RetryAfter", "-1"}, 0, false},
		{"x garbage", []string{"X-RateLimit-RetryAfter", "7s"}, 0, false},
		{"x epoch ms", []string{"X-RateLimit-RetryAfter", epochMS(2500 * time.Millisecond)}, 2500 * time.Millisecond, true},
		{"x epoch ms past", []string{"X-RateLimit-RetryAfter", epochMS(-time.Minute)}, 0, true},
		{"x epoch s", []string{"X-RateLimit-RetryAfter", epoch(30 * time.Second)}, 30 * time.Second, true},
		{"x max int64", []string{"X-RateLimit-RetryAfter", "9223372036854775807"}, huge, true},
		{"reset", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(45 * time.Second)}, 45 * time.Second, true},
		{"reset past", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(-45 * time.Second)}, 0, true},
		{"reset with calls left", []string{"X-RateLimit-Remaining", "1", "X-RateLimit-Reset", epoch(45 * time.Second)}, 0, false},
		{"reset without remaining", []string{"X-RateLimit-Reset", epoch(45 * time.Second)}, 0, false},
		{"reset not epoch", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "30"}, 0, false},
		{"reset garbage", []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "later"}, 0, false},
		{"remaining without reset", []string{"X-RateLimit-Remaining", "0"}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				h.Set(tc.headers[i], tc.headers[i+1])
			}
			got, ok := RetryAfter(h, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("RetryAfter(%v) = %s, %v; want %s, %v", h, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func FuzzRetryAfter(f *testing.F) {
	f.Add("5", "", "", "")
	f.Add("-5", "", "", "")
	f.Add("99999999999999999999", "", "", "")
	f.Add("Wed, 21 Oct 2015 07:28:00 GMT", "", "", "")
	f.Add("", "1741964966000", "", "")
	f.Add("", "-1", "0", "1741964999")
	f.Add("garbage", "7", "0", "9223372036854775807")
	now := newClock().Now()
	f.Fuzz(func(t *testing.T, ra, xra, remaining, reset string) {
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": ra, "X-RateLimit-RetryAfter": xra, "X-RateLimit-Remaining": remaining, "X-RateLimit-Reset": reset} {
			if v != "" {
				h[k] = []string{v}
			}
		}
		d, ok := RetryAfter(h, now)
		if d < 0 {
			t.Fatalf("RetryAfter(%v) = %s: negative", h, d)
		}
		if !ok && d != 0 {
			t.Fatalf("RetryAfter(%v) = %s without asking", h, d)
		}
		if n, err := strconv.ParseInt(ra, 10, 64); err == nil && n >= 0 && n < 1e9 && d != time.Duration(n)*time.Second {
			t.Fatalf("Retry-After %q read as %s", ra, d)
		}
		if ra == "" && xra == "" && remaining != "0" && ok {
			t.Fatalf("RetryAfter(%v) = %s from no header that asks", h, d)
		}
	})
}
