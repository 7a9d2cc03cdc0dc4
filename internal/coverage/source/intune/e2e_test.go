package intune

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// TestRealOAuth2Server logs in at the OAuth2 server the test environment
// runs (MUSTER_TEST_OAUTH2_URL, client graph-id/graph-secret, RS256 JWTs
// that expire in 5 s) and reads a fake Graph that accepts any JWT-shaped
// bearer token: the real token endpoint, the connector's own Graph walk.
func TestRealOAuth2Server(t *testing.T) {
	base := os.Getenv("MUSTER_TEST_OAUTH2_URL")
	if base == "" {
		t.Skip("MUSTER_TEST_OAUTH2_URL is not set: no real OAuth2 server to log in at (e.g. MUSTER_TEST_OAUTH2_URL=http://127.0.0.1:57010)")
	}
	devices := makeDevices(5, start)
	var mu sync.Mutex
	var bearers []string
	var graph *httptest.Server
	graph = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if parts := strings.Split(tok, "."); len(parts) != 3 || !strings.HasPrefix(tok, "eyJ") {
			graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
			return
		}
		mu.Lock()
		bearers = append(bearers, tok)
		mu.Unlock()
		off := 0
		fmt.Sscan(r.URL.Query().Get("$skiptoken"), &off)
		end := min(off+2, len(devices))
		w.Header().Set("Content-Type", "application/json")
		next := ""
		if end < len(devices) {
			next = fmt.Sprintf(`,"@odata.nextLink":"%s/v1.0/deviceManagement/managedDevices?$top=2&$skiptoken=%d"`, graph.URL, end)
		}
		fmt.Fprintf(w, `{"value":[`)
		for i, d := range devices[off:end] {
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprintf(w, `{"id":%q,"deviceName":%q,"lastSyncDateTime":%q}`, d["id"], d["deviceName"], d["lastSyncDateTime"])
		}
		fmt.Fprintf(w, `]%s}`, next)
	}))
	defer graph.Close()
	open := func(secret string) coverage.Source {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf("name: real\nkind: intune\nurl: %s\ntoken_url: %s/token\nclient_id: graph-id\nclient_secret_file: secret\nscopes: [https://graph.microsoft.com/.default]\npage_size: 2\n", graph.URL, strings.TrimSuffix(base, "/"))
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
			t.Fatal(err)
		}
		src, err := New(node.Content[0], coverage.Env{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	recs, err := open("graph-secret").Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || recs[4].Hostname != "DESKTOP-00005" {
		t.Fatalf("got %d records: %+v", len(recs), recs)
	}
	mu.Lock()
	if len(bearers) != 3 {
		t.Errorf("%d page requests, want 3", len(bearers))
	}
	mu.Unlock()
	_, err = open("wrong-secret").Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "invalid_client") || strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("a wrong secret: %v; want a refused login naming invalid_client, without the secret", err)
	}
}
