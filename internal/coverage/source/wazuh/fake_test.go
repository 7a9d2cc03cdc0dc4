package wazuh

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/coverage"
)

// fixtureAt is when the 4.14.7 fixture's agent list was recorded.
var fixtureAt = time.Date(2026, 11, 25, 9, 37, 39, 0, time.UTC)

// fixturePath is the real manager's GET /agents answer, in the shared tree
// next to the repository.
const fixturePath = "../../../../../shared/fixtures/wazuh-4.14.7/api-responses/agents_all.json"

// fixtureAgents returns the agent items of the recorded answer; the test is
// skipped when the shared tree is not there.
func fixtureAgents(t testing.TB) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Skipf("the Wazuh 4.14.7 fixture is not available (%v); it lives in ../shared next to the repository", err)
	}
	var doc struct {
		Body struct {
			Data struct {
				Items []map[string]any `json:"affected_items"`
			} `json:"data"`
		} `json:"body"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Body.Data.Items
}

// fake is a manager answering as Wazuh 4.14.7 does: login, GET /,
// GET /groups and GET /agents with limit and the keyset clause "id>N";
// /manager/* answer 404, so the scanner uses its documented defaults.
type fake struct {
	t      testing.TB
	srv    *httptest.Server
	now    func() time.Time
	agents []map[string]any // sorted by id
	groups []string

	logins     atomic.Int64
	agentCalls atomic.Int64
	mu         sync.Mutex
	queries    []string // GET /agents raw queries, in order
	// agentsAnswer, when set, answers GET /agents call n (from 1) instead.
	agentsAnswer func(w http.ResponseWriter, call int) bool
}

func newFake(t testing.TB, agents []map[string]any) *fake {
	f := &fake{t: t, now: func() time.Time { return fixtureAt }, agents: agents, groups: []string{"db", "default", "web"}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func jwtFor(now time.Time) string {
	enc := base64.RawURLEncoding
	claims := fmt.Sprintf(`{"iss":"wazuh","aud":"Wazuh API REST","nbf":%d,"exp":%d,"sub":"wazuh","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`,
		now.Unix(), now.Unix()+900)
	return enc.EncodeToString([]byte(`{"alg":"ES512","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(claims)) + ".c2ln"
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/security/user/authenticate" {
		f.logins.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != "wazuh" || p != "secret" {
			problem(w, 401, `{"title": "Unauthorized", "detail": "Invalid credentials"}`)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, jwtFor(f.now()))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		problem(w, 401, `{"title": "Unauthorized", "detail": "No authorization token provided"}`)
		return
	}
	switch r.URL.Path {
	case "/":
		answer(w, map[string]any{"data": map[string]any{"title": "Wazuh API REST", "api_version": "4.14.7",
			"hostname": "wazuh-manager", "timestamp": f.now().UTC().Format(time.RFC3339)}, "error": 0})
	case "/groups":
		items := []map[string]any{}
		for _, g := range f.groups {
			items = append(items, map[string]any{"name": g, "count": 1})
		}
		answer(w, items2(items, len(items)))
	case "/agents":
		f.listAgents(w, r)
	default:
		problem(w, 404, `{"title": "Not Found", "detail": "404: Not Found"}`)
	}
}

var keysetClause = regexp.MustCompile(`id>(\d+)`)

func (f *fake) listAgents(w http.ResponseWriter, r *http.Request) {
	call := int(f.agentCalls.Add(1))
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.RawQuery)
	f.mu.Unlock()
	if f.agentsAnswer != nil && f.agentsAnswer(w, call) {
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 500
	}
	after := -1
	if m := keysetClause.FindStringSubmatch(q.Get("q")); m != nil {
		after, _ = strconv.Atoi(m[1])
	}
	var match []map[string]any
	for _, a := range f.agents {
		if id, _ := strconv.Atoi(a["id"].(string)); id > after {
			match = append(match, a)
		}
	}
	answer(w, items2(match[:min(limit, len(match))], len(match)))
}

func problem(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func items2(items any, total int) map[string]any {
	return map[string]any{"data": map[string]any{"affected_items": items, "total_affected_items": total,
		"total_failed_items": 0, "failed_items": []any{}}, "message": "All selected agents information was returned", "error": 0}
}

// openYAML builds a source from a YAML mapping, the way New does, with the
// client's retries shortened to milliseconds.
func openYAML(t testing.TB, doc string, env coverage.Env) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	var cfg Config
	if err := coverage.DecodeStrict(node.Content[0], &cfg); err != nil {
		return nil, err
	}
	return newSource(cfg, env, client.WithRetry(2, time.Millisecond, 5*time.Millisecond))
}

// openFake is a source on f with password "secret" (or the one given) and extra YAML.
func openFake(t testing.TB, f *fake, password, extra string) *Source {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("name: wz\nkind: wazuh\nurl: %s\nuser: wazuh\npassword_file: pw\n%s", f.srv.URL, extra)
	s, err := openYAML(t, doc, coverage.Env{Dir: dir, Now: f.now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func fetch(t testing.TB, s *Source) ([]coverage.Record, error) {
	t.Helper()
	return s.Fetch(context.Background(), nil)
}
