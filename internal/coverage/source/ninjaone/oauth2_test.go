package ninjaone

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"
)

// TestRealOAuth2Server logs in at the OAuth2 server named by
// MUSTER_TEST_OAUTH2_URL (client graph-id/graph-secret; RS256 JWTs that
// expire in 5 s; a wrong secret gets 401 invalid_client) as token_url, and
// reads devices from the test server, which accepts any JWT-shaped bearer
// token (as NinjaOne accepts the tokens its own endpoint issued).
func TestRealOAuth2Server(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_OAUTH2_URL")
	if base == "" {
		t.Skip("MUSTER_TEST_OAUTH2_URL is not set (e.g. http://127.0.0.1:57010); skipping the test against a real OAuth2 server")
	}
	f := newFake(t, 2500)
	var mu sync.Mutex
	seen := map[string]bool{}
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "token" {
			t.Error("the test server's own token endpoint was used")
			return false
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.Count(tok, ".") != 2 || !strings.HasPrefix(tok, "eyJ") {
			t.Errorf("bearer token %q is not a JWT from the OAuth2 server", tok)
		}
		mu.Lock()
		seen[tok] = true
		mu.Unlock()
		f.mu.Lock()
		f.tokens[tok] = f.clock.Now().Add(time.Hour) // accepted as the API accepts its own tokens
		f.mu.Unlock()
		return false
	}
	f.secret = "graph-secret"
	f.t.Setenv("NINJA_TEST_SECRET", "graph-secret")
	doc := "name: n1\nkind: ninjaone\nurl: " + f.srv.URL + "\nclient_id: graph-id\nclient_secret_env: NINJA_TEST_SECRET\ntoken_url: " + strings.TrimRight(base, "/") + "/token\n"
	s, err := build(t, doc, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 2500 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	// The token lasts 5 s: 10 s later (on the source's clock) it is renewed.
	f.clock.Advance(10 * time.Second)
	if _, err := s.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if s.cache.Logins() != 2 {
		t.Errorf("%d logins, want 2 (the 5 s token renewed)", s.cache.Logins())
	}
	if len(seen) < 1 {
		t.Error("no token reached the API")
	}

	t.Setenv("NINJA_TEST_SECRET", "wrong-secret")
	bad, err := build(t, doc, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("err = %v, want a refused login (invalid_client)", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("the error shows the secret: %v", err)
	}
}
