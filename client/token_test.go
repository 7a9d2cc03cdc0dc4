package client_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

func TestTokenCachedThenRefreshedBeforeExpiry(t *testing.T) {
	for _, skew := range []time.Duration{0, 2 * time.Hour, -3 * time.Hour} {
		t.Run(fmt.Sprintf("server clock %+v", skew), func(t *testing.T) {
			clock := newClock()
			f := newFake(t, clock)
			f.skew = skew
			c, _ := start(t, f)
			ctx := context.Background()

			first, err := c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// 900 s lifetime: refresh lead is max(10%, 30 s) = 90 s, so the token is reused until 810 s.
			clock.Advance(800 * time.Second)
			again, err := c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if again != first || c.Logins() != 1 {
				t.Fatalf("token reused = %v, logins = %d; want the cached token and 1 login", again == first, c.Logins())
			}
			clock.Advance(20 * time.Second)
			fresh, err := c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if fresh == first || c.Logins() != 2 {
				t.Fatalf("after 820 s: new token = %v, logins = %d; want a refresh (2 logins)", fresh != first, c.Logins())
			}
		})
	}
}

func TestShortLifetimeKeepsHalfOfIt(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.lifetime = 30 // the minimum auth_token_exp_timeout
	c, _ := start(t, f)
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Advance(14 * time.Second)
	_, _ = c.Token(ctx)
	if c.Logins() != 1 {
		t.Fatalf("logins after 14 s of a 30 s token = %d, want 1", c.Logins())
	}
	clock.Advance(2 * time.Second)
	_, _ = c.Token(ctx)
	if c.Logins() != 2 {
		t.Fatalf("logins after 16 s of a 30 s token = %d, want 2", c.Logins())
	}
}

func TestOpaqueTokenGetsAssumedLifetime(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.loginHandler = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "opaque-token-value")
	}
	c, _ := start(t, f)
	ctx := context.Background()
	tok, err := c.Token(ctx)
	if err != nil || tok != "opaque-token-value" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	clock.Advance(4 * time.Minute)
	_, _ = c.Token(ctx)
	if c.Logins() != 1 {
		t.Fatalf("logins = %d before the assumed 5 min lifetime ran out, want 1", c.Logins())
	}
	clock.Advance(40 * time.Second)
	_, _ = c.Token(ctx)
	if c.Logins() != 2 {
		t.Fatalf("logins = %d near the end of the assumed lifetime, want 2", c.Logins())
	}
}

func TestFiftyConcurrentCallersShareOneLogin(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	gate := make(chan struct{})
	f.loginGate = gate
	f.handle("GET /agents", okAgents)
	c, _ := start(t, f)

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ListAgents(context.Background(), client.AgentQuery{})
			errs <- err
		}()
	}
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.Logins() != 1 || f.loginHits.Load() != 1 {
		t.Fatalf("logins = %d (server saw %d), want exactly 1", c.Logins(), f.loginHits.Load())
	}
	if got := f.hitCount("GET /agents"); got != 50 {
		t.Fatalf("GET /agents hits = %d, want 50", got)
	}
}

func TestRevokedTokenReloginOnceAndRetry(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.handle("GET /agents", okAgents)
	c, _ := start(t, f)
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	f.revokeAll()

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.ListAgents(ctx, client.AgentQuery{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if c.Logins() != 2 {
		t.Fatalf("logins = %d, want 2 (the first and one re-login shared by all 20 callers)", c.Logins())
	}
}

func TestSecond401IsTokenRejectedNotCredentials(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.mux.HandleFunc("GET /agents", func(w http.ResponseWriter, _ *http.Request) {
		problem(w, 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	})
	c, _ := start(t, f)
	_, err := c.ListAgents(context.Background(), client.AgentQuery{})
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v, want *client.Error", err)
	}
	if !client.IsUnauthorized(err) || !errors.Is(err, client.ErrTokenRejected) || errors.Is(err, client.ErrInvalidCredentials) {
		t.Fatalf("classification wrong: %v", err)
	}
	if !strings.Contains(apiErr.Remediation, "revoked") || !strings.Contains(apiErr.Remediation, "credentials are valid") {
		t.Fatalf("remediation = %q", apiErr.Remediation)
	}
	if got := f.hitCount("GET /agents"); got != 2 {
		t.Fatalf("GET /agents hits = %d, want 2 (one retry, no loop)", got)
	}
	if c.Logins() != 2 {
		t.Fatalf("logins = %d, want 2", c.Logins())
	}
}

func TestFailedLoginIsNotRetriedAndCoolsDown(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	c, _ := start(t, f, client.WithCredentials("wazuh", "wrong password"))
	ctx := context.Background()

	_, err := c.Token(ctx)
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || !errors.Is(err, client.ErrInvalidCredentials) || !client.IsUnauthorized(err) {
		t.Fatalf("err = %v, want invalid credentials", err)
	}
	if !strings.Contains(apiErr.Remediation, "check the user name and password") {
		t.Fatalf("remediation = %q", apiErr.Remediation)
	}
	if f.loginHits.Load() != 1 {
		t.Fatalf("login hits = %d, want 1 (never retried)", f.loginHits.Load())
	}
	_, err = c.Token(ctx)
	if !errors.Is(err, client.ErrInvalidCredentials) || f.loginHits.Load() != 1 {
		t.Fatalf("during cooldown: err = %v, hits = %d; want the held error and no new login", err, f.loginHits.Load())
	}
	clock.Advance(client.DefaultLoginCooldown + time.Second)
	_, _ = c.Token(ctx)
	if f.loginHits.Load() != 2 {
		t.Fatalf("after cooldown: login hits = %d, want 2", f.loginHits.Load())
	}
}

func TestIPBlockStopsAllLogins(t *testing.T) {
	for _, block := range []time.Duration{0, 10 * time.Minute} {
		t.Run(fmt.Sprint(block), func(t *testing.T) {
			clock := newClock()
			f := newFake(t, clock)
			f.loginHandler = func(w http.ResponseWriter, _ *http.Request) {
				problem(w, 403, `{"title": "Permission Denied", "detail": "Limit of login attempts reached. The current IP has been blocked due to a high number of login attempts", "error": 6000}`)
			}
			var opts []client.Option
			want := client.DefaultBlockTime
			if block > 0 {
				opts, want = append(opts, client.WithBlockTime(block)), block
			}
			c, _ := start(t, f, opts...)
			ctx := context.Background()
			_, err := c.Token(ctx)
			var apiErr *client.Error
			if !errors.As(err, &apiErr) || !client.IsBlocked(err) || !client.IsForbidden(err) || apiErr.Code != 6000 {
				t.Fatalf("err = %v, want a 403/6000 *Error", err)
			}
			if !apiErr.RetryAt.Equal(clock.Now().Add(want)) {
				t.Fatalf("RetryAt = %v, want now+%v", apiErr.RetryAt, want)
			}
			if !strings.Contains(apiErr.Remediation, want.String()) || !strings.Contains(apiErr.Remediation, "block_time") {
				t.Fatalf("remediation does not state the assumption: %q", apiErr.Remediation)
			}
			clock.Advance(want - time.Second)
			_, err = c.Token(ctx)
			if !client.IsBlocked(err) || f.loginHits.Load() != 1 {
				t.Fatalf("while blocked: err = %v, login hits = %d; want no new login", err, f.loginHits.Load())
			}
			if !strings.Contains(err.Error(), "suspended") {
				t.Fatalf("held error does not say logins are suspended: %v", err)
			}
			clock.Advance(2 * time.Second)
			_, _ = c.Token(ctx)
			if f.loginHits.Load() != 2 {
				t.Fatalf("after the block: login hits = %d, want 2", f.loginHits.Load())
			}
		})
	}
}

func TestLoginFallsBackToJSONEnvelope(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	tok := makeJWT("wazuh", clock.Now().Unix(), clock.Now().Unix()+900, 1)
	f.loginHandler = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("raw") {
			problem(w, 400, `{"title": "Bad Request", "detail": "Extra query parameter(s) raw not in spec"}`)
			return
		}
		writeJSON(w, map[string]any{"data": map[string]string{"token": tok}, "error": 0})
	}
	c, _ := start(t, f)
	got, err := c.Token(context.Background())
	if err != nil || got != tok {
		t.Fatalf("Token = %q, %v; want the enveloped token", got, err)
	}
	if f.loginHits.Load() != 2 {
		t.Fatalf("login hits = %d, want 2 (raw, then JSON)", f.loginHits.Load())
	}
}

func TestLatin1Credentials(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.password = "contraseña1!"
	var header string
	f.loginHandler = func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Authorization")
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, makeJWT("wazuh", clock.Now().Unix(), clock.Now().Unix()+900, 1))
	}
	c, _ := start(t, f)
	if _, err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(header, "Basic "))
	if want := []byte("wazuh:contrase\xf1a1!"); string(raw) != string(want) {
		t.Fatalf("Basic payload = %q, want Latin-1 %q", raw, want)
	}
}

func TestCancelledWaiterDoesNotCancelSharedLogin(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	gate := make(chan struct{})
	f.loginGate = gate
	c, _ := start(t, f)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Token(ctx)
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Token = %v, want context.Canceled", err)
	}
	close(gate)
	if _, err := c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Logins() != 1 {
		t.Fatalf("logins = %d, want 1: the cancelled caller's login is finished and shared", c.Logins())
	}
}

func TestLogoutForgetsToken(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	f.handle("DELETE /security/user/authenticate", func(w http.ResponseWriter, _ *http.Request) {
		f.revokeAll()
		writeJSON(w, map[string]any{"message": "User wazuh was successfully logged out", "error": 0})
	})
	f.handle("GET /agents", okAgents)
	c, _ := start(t, f)
	ctx := context.Background()
	if err := c.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListAgents(ctx, client.AgentQuery{}); err != nil {
		t.Fatal(err)
	}
	if c.Logins() != 2 || f.hitCount("GET /agents") != 1 {
		t.Fatalf("logins = %d, agents hits = %d; want a fresh login and no wasted 401", c.Logins(), f.hitCount("GET /agents"))
	}
}

func TestRunAsLoginIsNotCached(t *testing.T) {
	clock := newClock()
	f := newFake(t, clock)
	var body string
	f.mux.HandleFunc("POST /security/user/authenticate/run_as", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body = r.URL.Query().Get("raw") + " " + string(b)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, makeJWT("wazuh-wui", clock.Now().Unix(), clock.Now().Unix()+900, 99))
	})
	c, _ := start(t, f)
	ctx := context.Background()
	own, err := c.Token(ctx)
	must(t, err)
	runAs, err := c.RunAsLogin(ctx, map[string]string{"username": "elastic"})
	must(t, err)
	if cl, _ := client.ParseClaims(runAs); cl.Subject != "wazuh-wui" || body != `true {"username":"elastic"}` {
		t.Fatalf("run_as token %+v, request %q", cl, body)
	}
	if again, _ := c.Token(ctx); again != own {
		t.Fatal("RunAsLogin replaced the client's own cached token")
	}
}
