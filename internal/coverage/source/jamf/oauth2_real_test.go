package jamf

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"

	"github.com/muster-project/muster/internal/testclock"
)

// TestRealOAuth2Server runs API-client mode against the real OAuth2 server
// of the test machine (MUSTER_TEST_OAUTH2_URL, client graph-id), used as
// token_url, with a local computers-inventory that accepts any JWT-shaped
// bearer token. Its tokens live 5 s; the source's clock is a fake one that
// starts at the real time and is moved on instead of waiting.
func TestRealOAuth2Server(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_OAUTH2_URL")
	if base == "" {
		t.Skip("MUSTER_TEST_OAUTH2_URL is not set (e.g. http://127.0.0.1:57010): no real OAuth2 server to test against")
	}
	var seen atomic.Value
	var pages atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if r.URL.Path != "/api/v3/computers-inventory" || !ok || strings.Count(tok, ".") != 2 || len(tok) < 40 {
			jamfError(w, http.StatusUnauthorized)
			return
		}
		seen.Store(tok)
		pages.Add(1)
		w.Write([]byte(`{"totalCount":1,"results":[` + string(genComputer(2, time.Now())) + `]}`))
	}))
	defer api.Close()
	dir := t.TempDir()
	for name, v := range map[string]string{"good": "graph-secret", "bad": "not-the-secret"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	doc := func(secret string) string {
		return "name: jamf-real\nkind: jamf\nurl: " + api.URL + "\nclient_id: graph-id\nclient_secret_file: " + secret +
			"\ntoken_url: " + strings.TrimSuffix(base, "/") + "/token\nrate_limit: 100/s\n"
	}
	c := testclock.New(time.Now())
	src := realSource(t, doc("good"), dir, c)
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := seen.Load().(string)
	if len(recs) != 1 || recs[0].ID != "2" || !recs[0].Healthy || first == "" {
		t.Fatalf("records %+v, token %q", recs, first)
	}
	c.Advance(3 * time.Second) // past half of the 5 s life: due for renewal
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := src.(*Source).cache.Logins(); n != 2 {
		t.Errorf("%d client-credentials logins, want 2: the token is renewed before its 5 s expiry", n)
	}

	bad := realSource(t, doc("bad"), dir, c)
	_, err = bad.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || strings.Contains(err.Error(), "not-the-secret") || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret: %v", err)
	}
	if pages.Load() != 2 {
		t.Errorf("%d inventory requests, want 2 (none with the wrong secret)", pages.Load())
	}
}

func realSource(t *testing.T, doc, dir string, c *clock) coverage.Source {
	t.Helper()
	s, err := build(t, doc, dir, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
