package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"

	"github.com/muster-project/muster/internal/testclock"
)

// TestRealOAuth2Server runs auth: oauth2 against the real OAuth2 server of
// the test machine (MUSTER_TEST_OAUTH2_URL, client graph-id), used as
// token_url, with a local list endpoint that accepts any JWT-shaped bearer
// token. Its tokens live 5 s; the source's clock is a fake one that starts
// at the real time and is moved on instead of waiting.
func TestRealOAuth2Server(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_OAUTH2_URL")
	if base == "" {
		t.Skip("MUSTER_TEST_OAUTH2_URL is not set (e.g. http://127.0.0.1:57010): no real OAuth2 server to test against")
	}
	var pages atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || strings.Count(tok, ".") != 2 || len(tok) < 40 {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		pages.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"items": []any{device(1, time.Now())}, "next_cursor": nil})
	}))
	defer api.Close()
	dir := t.TempDir()
	writeFile(t, dir, "good", "graph-secret")
	writeFile(t, dir, "bad", "not-the-secret")
	doc := func(secret string) string {
		return "name: real\nkind: rest\nurl: " + api.URL + "/devices\nauth: oauth2\nclient_id: graph-id\nclient_secret_file: " + secret +
			"\ntoken_url: " + strings.TrimSuffix(base, "/") + "/token\nrate_limit: 100/s\nrecords: items\npaging: {style: cursor, cursor_path: next_cursor}\n" + fieldsYAML
	}
	c := testclock.New(time.Now())
	s, err := build(t, doc("good"), dir, c)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].ID != "dev-00001" || !recs[0].Healthy {
		t.Fatalf("records %+v", recs)
	}
	c.Advance(3 * time.Second) // past half of the 5 s life: due for renewal
	if _, err := s.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if n := s.cache.Logins(); n != 2 {
		t.Errorf("%d client-credentials logins, want 2: the token is renewed before its 5 s expiry", n)
	}
	bad, err := build(t, doc("bad"), dir, c)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || strings.Contains(err.Error(), "not-the-secret") || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("wrong secret: %v", err)
	}
	if pages.Load() != 2 {
		t.Errorf("%d list requests, want 2 (none with the wrong secret)", pages.Load())
	}
}
