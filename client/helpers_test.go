package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

// fakeClock is a settable clock shared by the fake server and the client.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// makeJWT builds an unsigned token with Wazuh's claims.
func makeJWT(sub string, nbf, exp int64, seq int) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"alg":"ES512","typ":"JWT"}`))
	payload := fmt.Sprintf(`{"iss":"wazuh","aud":"Wazuh API REST","nbf":%d,"exp":%d,"sub":%q,"run_as":false,"rbac_roles":[1],"rbac_mode":"white","seq":%d}`, nbf, exp, sub, seq)
	return head + "." + enc.EncodeToString([]byte(payload)) + ".c2ln"
}

// fakeWazuh imitates the login and token checks of a Wazuh manager.
type fakeWazuh struct {
	t        *testing.T
	clock    *fakeClock
	skew     time.Duration // server clock = client clock + skew
	lifetime int64         // auth_token_exp_timeout in seconds
	user     string
	password string

	mu           sync.Mutex
	seq          int
	revokedUpTo  int // tokens with seq <= revokedUpTo are invalid
	tokens       map[string]int
	loginGate    chan struct{} // when set, logins wait for it to close
	loginHandler http.HandlerFunc
	hits         map[string]int
	mux          *http.ServeMux
	loginHits    atomic.Int64
}

func newFake(t *testing.T, clock *fakeClock) *fakeWazuh {
	f := &fakeWazuh{t: t, clock: clock, lifetime: 900, user: "wazuh", password: "Secr3t.pw",
		tokens: map[string]int{}, hits: map[string]int{}, mux: http.NewServeMux()}
	f.mux.HandleFunc("POST /security/user/authenticate", f.login)
	return f
}

func (f *fakeWazuh) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.Method+" "+r.URL.Path]++
	f.mu.Unlock()
	f.mux.ServeHTTP(w, r)
}

// hitCount returns how many requests reached "METHOD /path".
func (f *fakeWazuh) hitCount(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[key]
}

func (f *fakeWazuh) login(w http.ResponseWriter, r *http.Request) {
	f.loginHits.Add(1)
	f.mu.Lock()
	gate, custom := f.loginGate, f.loginHandler
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if custom != nil {
		custom(w, r)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != f.user || pass != f.password {
		problem(w, 401, `{"title": "Unauthorized", "detail": "Invalid credentials"}`)
		return
	}
	now := f.clock.Now().Add(f.skew).Unix()
	f.mu.Lock()
	f.seq++
	tok := makeJWT(user, now, now+f.lifetime, f.seq)
	f.tokens[tok] = f.seq
	f.mu.Unlock()
	if r.URL.Query().Get("raw") == "true" {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, tok)
		return
	}
	writeJSON(w, map[string]any{"data": map[string]string{"token": tok}, "error": 0})
}

// authed wraps h with Wazuh's bearer checks.
func (f *fakeWazuh) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			problem(w, 401, `{"title": "Unauthorized", "detail": "No authorization token provided"}`)
			return
		}
		f.mu.Lock()
		seq, known := f.tokens[tok]
		revoked := seq <= f.revokedUpTo
		f.mu.Unlock()
		cl, err := client.ParseClaims(tok)
		expired := err != nil || f.clock.Now().Add(f.skew).Unix() >= cl.ExpiresAt
		if !known || revoked || expired {
			problem(w, 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
			return
		}
		h(w, r)
	}
}

// handle registers an authenticated route such as "GET /agents".
func (f *fakeWazuh) handle(pattern string, h http.HandlerFunc) {
	f.mux.HandleFunc(pattern, f.authed(h))
}

// revokeAll invalidates every token issued so far.
func (f *fakeWazuh) revokeAll() {
	f.mu.Lock()
	f.revokedUpTo = f.seq
	f.mu.Unlock()
}

func problem(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// affected renders Wazuh's affected-items envelope.
func affected(items any, total int) map[string]any {
	return map[string]any{"data": map[string]any{"affected_items": items, "total_affected_items": total,
		"total_failed_items": 0, "failed_items": []any{}}, "message": "ok", "error": 0}
}

// sleeps records the backoff delays a client asked for.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// start serves f over plain HTTP and returns a client for it with recorded sleeps.
func start(t *testing.T, f *fakeWazuh, opts ...client.Option) (*client.Client, *sleeps) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	base := []client.Option{client.WithCredentials(f.user, f.password), client.WithClock(f.clock.Now),
		client.WithRetry(4, 100*time.Millisecond, time.Second)}
	c, err := client.New(srv.URL, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	client.SetSleep(c, s.sleep)
	return c, s
}

func okAgents(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, affected([]map[string]any{{"id": "001", "name": "web"}}, 1))
}
