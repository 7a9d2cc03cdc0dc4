package crowdstrike

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
// MUSTER_TEST_OAUTH2_URL (client falcon-id/falcon-secret, RS256 JWTs that
// expire in 5 s) as token_url, and reads hosts from the test server, which
// accepts any JWT-shaped bearer token that server issued.
func TestRealOAuth2Server(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_OAUTH2_URL")
	if base == "" {
		t.Skip("MUSTER_TEST_OAUTH2_URL is not set (e.g. http://127.0.0.1:57010); skipping the test against a real OAuth2 server")
	}
	f := newFake(t, 4)
	var mu sync.Mutex
	var seen []string
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.Count(tok, ".") != 2 || strings.HasPrefix(tok, "eyJhbGciOiJSUzI1NiJ9.tok") {
			f.t.Errorf("%s: bearer token %q is not a JWT from the OAuth2 server", kind, tok)
		}
		mu.Lock()
		seen = append(seen, tok)
		mu.Unlock()
		// Accept it as Falcon would accept its own token.
		f.mu.Lock()
		f.tokens[tok] = f.clock.Now().Add(time.Hour)
		f.mu.Unlock()
		return false
	}
	t.Setenv("FALCON_TEST_SECRET", "falcon-secret")
	doc := "name: cs\nkind: crowdstrike\nurl: " + f.srv.URL + "\nclient_id: falcon-id\nclient_secret_env: FALCON_TEST_SECRET\ntoken_url: " + strings.TrimRight(base, "/") + "/token\n"
	src, err := build(t, doc, t.TempDir(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	src.tr.Sleep, src.tr.Now = f.clock.Sleep, f.clock.Now
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	// The token lasts 5 s: 10 s later the cache must log in again.
	f.clock.Advance(10 * time.Second)
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if src.cache.Logins() != 2 {
		t.Errorf("%d logins, want 2 (the 5 s token renewed)", src.cache.Logins())
	}
	if f.count("token") != 0 {
		t.Error("the test server's own token endpoint was used")
	}

	t.Setenv("FALCON_TEST_SECRET", "wrong-secret")
	bad, err := build(t, doc, t.TempDir(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("err = %v, want a refused login (invalid_client)", err)
	}
	if err != nil && strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error shows the secret: %v", err)
	}
}
