package scan_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
)

// fixtureT0 is the reference time of the 4.14.7 fixture's agent data.
var fixtureT0 = time.Date(2026, 11, 25, 9, 37, 39, 0, time.UTC)

const fixtureAgents = "../../../shared/fixtures/wazuh-4.14.7/api-responses/agents_all.json"

// loadFixture returns the raw agent items of agents_all.json.
func loadFixture(t testing.TB) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(fixtureAgents)
	if err != nil {
		t.Skipf("fixture not available: %v", err)
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

// fakeManager serves Wazuh-shaped answers: login, GET /, /manager/* and paged GET /agents.
type fakeManager struct {
	now        func() time.Time
	agents     []map[string]any // sorted by id
	pages      [][]byte         // pre-encoded pages, when set (benchmarks)
	version    string           // served by /manager/info; "" answers 404
	disconnect string           // agents_disconnection_time; "" answers 404
	lifetime   int64
	logins     atomic.Int64
	agentCalls atomic.Int64
	onAgents   func(call int) // runs after each GET /agents is answered
	mu         sync.Mutex
	rejectSel  bool
	failFrom   int // GET /agents calls from this one on answer 500
}

func newFakeManager(agents []map[string]any) *fakeManager {
	return &fakeManager{now: func() time.Time { return fixtureT0 }, agents: agents, lifetime: 900}
}

func fakeJWT(nbf, exp int64) string {
	enc := base64.RawURLEncoding
	p := fmt.Sprintf(`{"iss":"wazuh","aud":"Wazuh API REST","nbf":%d,"exp":%d,"sub":"wazuh","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`, nbf, exp)
	return enc.EncodeToString([]byte(`{"alg":"ES512","typ":"JWT"}`)) + "." + enc.EncodeToString([]byte(p)) + ".c2ln"
}

func (f *fakeManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "Wazuh")
	if r.URL.Path == "/security/user/authenticate" {
		f.logins.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != "wazuh" || p != "wazuh" {
			problem(w, 401, `{"title": "Unauthorized", "detail": "Invalid credentials"}`)
			return
		}
		now := f.now().Unix()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, fakeJWT(now, now+f.lifetime))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		problem(w, 401, `{"title": "Unauthorized", "detail": "No authorization token provided"}`)
		return
	}
	switch r.URL.Path {
	case "/":
		writeJSON(w, map[string]any{"data": map[string]any{"title": "Wazuh API REST", "api_version": "4.14.7",
			"hostname": "fake", "timestamp": f.now().UTC().Format("2006-01-02T15:04:05Z")}, "error": 0})
	case "/manager/info":
		if f.version == "" {
			problem(w, 404, `{"title": "Not Found", "detail": "404: Not Found"}`)
			return
		}
		writeJSON(w, affected([]map[string]any{{"version": f.version, "type": "server"}}, 1))
	case "/manager/configuration":
		if f.disconnect == "" {
			problem(w, 404, `{"title": "Not Found", "detail": "404: Not Found"}`)
			return
		}
		writeJSON(w, affected([]map[string]any{{"global": map[string]any{"agents_disconnection_time": f.disconnect}}}, 1))
	case "/agents":
		f.listAgents(w, r)
	default:
		problem(w, 404, `{"title": "Not Found", "detail": "404: Not Found"}`)
	}
}

var idGT = regexp.MustCompile(`id>(\d+)`)

// listAgents implements limit, offset and the keyset clause "id>N" of GET /agents.
func (f *fakeManager) listAgents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	call := int(f.agentCalls.Add(1))
	if f.onAgents != nil {
		defer f.onAgents(call)
	}
	if f.failFrom > 0 && call >= f.failFrom {
		problem(w, 500, `{"title": "Wazuh Internal Error", "detail": "Timeout executing API request", "error": 3021}`)
		return
	}
	f.mu.Lock()
	reject := f.rejectSel
	f.mu.Unlock()
	if reject && q.Get("select") != "" {
		problem(w, 400, `{"title": "Bad Request", "detail": "Not a valid select field: disconnection_time", "error": 1724}`)
		return
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit == 0 {
		limit = 500
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	after := -1
	if m := idGT.FindStringSubmatch(q.Get("q")); m != nil {
		after, _ = strconv.Atoi(m[1])
	}
	if f.pages != nil { // pre-encoded pages of exactly limit agents each
		page := (after + 1) / limit
		if after < 0 {
			page = 0
		}
		w.Header().Set("Content-Type", "application/json")
		if page < len(f.pages) {
			w.Write(f.pages[page])
			return
		}
		writeJSON(w, affected([]any{}, 0))
		return
	}
	var match []map[string]any
	for _, a := range f.agents {
		id, _ := strconv.Atoi(a["id"].(string))
		if id > after {
			match = append(match, a)
		}
	}
	total := len(match)
	match = match[min(offset, total):min(offset+limit, total)]
	writeJSON(w, affected(match, total))
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

func affected(items any, total int) map[string]any {
	return map[string]any{"data": map[string]any{"affected_items": items, "total_affected_items": total,
		"total_failed_items": 0, "failed_items": []any{}}, "message": "All selected agents information was returned", "error": 0}
}

// startFake serves f and returns a client for it.
func startFake(t testing.TB, f *fakeManager, opts ...client.Option) *client.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	base := []client.Option{client.WithCredentials("wazuh", "wazuh"), client.WithClock(f.now),
		client.WithRetry(2, time.Millisecond, 10*time.Millisecond)}
	c, err := client.New(srv.URL, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
