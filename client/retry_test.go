package client_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

const rateLimited = `{"title": "Too Many Requests", "detail": "Maximum number of requests per minute reached", "remediation": "This limit can be changed in api.yaml file.", "error": 6001}`

// failFirst answers the first n requests with status (and optional headers), then ok.
func failFirst(n int32, status int, hdr map[string]string, body string, ok http.HandlerFunc) http.HandlerFunc {
	var seen atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			for k, v := range hdr {
				w.Header().Set(k, v)
			}
			problem(w, status, body)
			return
		}
		ok(w, r)
	}
}

func TestRateLimitBackoffWithoutRetryAfter(t *testing.T) {
	f := newFake(t, newClock())
	f.handle("GET /agents", failFirst(2, 429, nil, rateLimited, okAgents))
	c, s := start(t, f)
	if _, err := c.ListAgents(context.Background(), client.AgentQuery{}); err != nil {
		t.Fatal(err)
	}
	got := s.all()
	if f.hitCount("GET /agents") != 3 || len(got) != 2 {
		t.Fatalf("hits = %d, sleeps = %v; want 3 hits and 2 backoffs", f.hitCount("GET /agents"), got)
	}
	// Full jitter: each delay lies in [0, base*2^(n-1)].
	for i, d := range got {
		if ceil := 100 * time.Millisecond << i; d < 0 || d > ceil {
			t.Fatalf("backoff %d = %v, outside [0, %v]", i, d, ceil)
		}
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	clock := newClock()
	for name, tc := range map[string]struct {
		header string
		want   time.Duration
	}{
		"seconds":   {"7", 7 * time.Second},
		"http date": {clock.Now().Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t, clock)
			f.handle("POST /groups", failFirst(1, 429, map[string]string{"Retry-After": tc.header}, rateLimited,
				func(w http.ResponseWriter, _ *http.Request) {
					writeJSON(w, map[string]any{"message": "Group 'web' created.", "error": 0})
				}))
			c, s := start(t, f)
			if err := c.CreateGroup(context.Background(), "web"); err != nil {
				t.Fatal(err)
			}
			if got := s.all(); len(got) != 1 || got[0] != tc.want {
				t.Fatalf("sleeps = %v, want [%v]", got, tc.want)
			}
			if f.hitCount("POST /groups") != 2 {
				t.Fatalf("a 429 POST is safe to repeat: hits = %d, want 2", f.hitCount("POST /groups"))
			}
		})
	}
}

func TestRateLimitGivesUpAfterMaxAttempts(t *testing.T) {
	f := newFake(t, newClock())
	f.handle("GET /agents", failFirst(100, 429, nil, rateLimited, okAgents))
	c, _ := start(t, f)
	_, err := c.ListAgents(context.Background(), client.AgentQuery{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !client.IsRateLimited(err) || apiErr.Code != 6001 {
		t.Fatalf("err = %v, want a 429/6001 *Error", err)
	}
	if f.hitCount("GET /agents") != 4 {
		t.Fatalf("hits = %d, want maxAttempts = 4", f.hitCount("GET /agents"))
	}
}

func TestRetryAfterBeyondDeadlineFailsAtOnce(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.handle("GET /agents", failFirst(1, 429, map[string]string{"Retry-After": "120"}, rateLimited, okAgents))
	c, s := start(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.ListAgents(ctx, client.AgentQuery{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !client.IsRateLimited(err) {
		t.Fatalf("err = %v, want rate limited", err)
	}
	if len(s.all()) != 0 || !apiErr.RetryAt.Equal(clock.Now().Add(120*time.Second)) {
		t.Fatalf("sleeps = %v, RetryAt = %v; want no wait and RetryAt = now+120s", s.all(), apiErr.RetryAt)
	}
}

func TestServerErrorsRetriedOnlyForGET(t *testing.T) {
	unavailable := `{"title": "Wazuh Internal Error", "detail": "Some Wazuh daemons are not ready yet", "error": 1017}`
	f := newFake(t, newClock())
	f.handle("GET /agents", failFirst(2, 503, nil, unavailable, okAgents))
	f.handle("POST /agents", failFirst(1, 500, nil, unavailable, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"data": map[string]string{"id": "001", "key": "k"}, "error": 0})
	}))
	c, _ := start(t, f)
	ctx := context.Background()
	if _, err := c.ListAgents(ctx, client.AgentQuery{}); err != nil {
		t.Fatalf("GET should survive two 503s: %v", err)
	}
	if f.hitCount("GET /agents") != 3 {
		t.Fatalf("GET hits = %d, want 3", f.hitCount("GET /agents"))
	}
	_, err := c.AddAgent(ctx, client.NewAgent{Name: "web"})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != 500 || apiErr.Code != 1017 {
		t.Fatalf("POST err = %v, want the 500/1017", err)
	}
	if f.hitCount("POST /agents") != 1 {
		t.Fatalf("POST hits = %d, want 1 (never repeated after a 5xx)", f.hitCount("POST /agents"))
	}
}

// flakyTransport fails the first n round trips, before or after "sending" the request.
type flakyTransport struct {
	n         atomic.Int32
	fail      int32
	afterSend bool
	base      http.RoundTripper
}

func (t *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/security/user/authenticate" && t.n.Add(1) <= t.fail {
		if t.afterSend {
			if tr := httptrace.ContextClientTrace(r.Context()); tr != nil && tr.WroteHeaders != nil {
				tr.WroteHeaders()
			}
			return nil, io.ErrUnexpectedEOF
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return t.base.RoundTrip(r)
}

func TestConnectionErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		afterSend bool
		method    string
		wantHits  int
		wantErr   bool
	}{
		{"POST refused before sending is retried", false, http.MethodPost, 1, false},
		{"POST failing after sending is not retried", true, http.MethodPost, 0, true},
		{"GET failing after sending is retried", true, http.MethodGet, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, newClock())
			f.handle("POST /agents", func(w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, map[string]any{"data": map[string]string{"id": "001", "key": "k"}, "error": 0})
			})
			f.handle("GET /agents", okAgents)
			ft := &flakyTransport{fail: 1, afterSend: tc.afterSend, base: http.DefaultTransport}
			c, s := start(t, f, client.WithHTTPClient(&http.Client{Transport: ft}))
			var err error
			if tc.method == http.MethodPost {
				_, err = c.AddAgent(context.Background(), client.NewAgent{Name: "web"})
			} else {
				_, err = c.ListAgents(context.Background(), client.AgentQuery{})
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr && !errors.Is(err, client.ErrConnection) {
				t.Fatalf("err = %v, want ErrConnection", err)
			}
			if got := f.hitCount(tc.method + " /agents"); got != tc.wantHits {
				t.Fatalf("server hits = %d, want %d (sleeps %v)", got, tc.wantHits, s.all())
			}
		})
	}
}

func TestConnectionRefusedIsDiagnosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := client.New("http://"+addr, client.WithCredentials("wazuh", "x"), client.WithRetry(3, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	client.SetSleep(c, s.sleep)
	_, err = c.Token(context.Background())
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrConnection) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want a connection *Error wrapping ECONNREFUSED", err)
	}
	if !strings.Contains(apiErr.Remediation, "nothing listens") || len(s.all()) != 2 {
		t.Fatalf("remediation = %q, backoffs = %d; want a diagnosis and 2 backoffs for 3 attempts", apiErr.Remediation, len(s.all()))
	}
}

func TestContextCancellation(t *testing.T) {
	f := newFake(t, newClock())
	entered := make(chan struct{}, 1)
	f.handle("GET /agents", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
	})
	f.handle("GET /groups", failFirst(100, 503, nil, `{"title": "x"}`, okAgents))
	c, s := start(t, f)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	if _, err := c.ListAgents(ctx, client.AgentQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("in-flight cancel: err = %v, want context.Canceled", err)
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	client.SetSleep(c, func(context.Context, time.Duration) error { cancel2(); return context.Canceled })
	if _, err := c.ListGroups(ctx2, client.GroupQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel during backoff: err = %v, want context.Canceled", err)
	}
	if f.hitCount("GET /groups") != 1 || len(s.all()) != 0 {
		t.Fatalf("hits = %d, want 1: no attempt after cancellation", f.hitCount("GET /groups"))
	}
}

func TestTimeoutPerAttempt(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	c, err := client.New(srv.URL, client.WithCredentials("wazuh", "x"), client.WithTimeout(50*time.Millisecond), client.WithRetry(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Token(context.Background())
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.Remediation, "WithTimeout") {
		t.Fatalf("err = %v, want a timeout diagnosis", err)
	}
}
