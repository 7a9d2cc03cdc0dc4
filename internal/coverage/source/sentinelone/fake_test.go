package sentinelone

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/testclock"
)

type fakeClock = testclock.Clock

var start = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// fakeS1 is a SentinelOne management console's API as documented for Get
// Agents (GET /web/api/v2.1/agents: webApiAgentsGet, its limit, cursor,
// siteIds, accountIds, groupIds and isDecommissioned parameters and the
// AgentsSchemasAgentViewSchemaMany200 answer, in the swagger-generated client
// docs at github.com/Dirt-Diver/s1-api api/docs/AgentsApi.md) and for
// api-token-details (POST /web/api/v2.1/users/api-token-details with
// {"data":{"apiToken":...}}, answering data.expiresAt). Errors are
// {"errors":[{"code","detail","title"}]}. It asserts what the connector sends.
type fakeS1 struct {
	t     testing.TB
	srv   *httptest.Server
	clock *fakeClock

	mu        sync.Mutex
	agents    []json.RawMessage
	tokens    map[string]bool // the API tokens it accepts
	wantLimit int
	wantQuery map[string]string // filter parameters every agents request must carry
	total     *int              // totalItems to declare instead of the real count
	expiresAt string            // api-token-details' answer; "" answers 404
	perSecond int               // the rate limit it enforces (0: none)
	recent    []time.Time       // the requests in the last second
	limited   int               // 429s it sent
	gets      []fakeGet
	details   []string // the apiToken of each api-token-details request
	// hook may answer an agents request itself (return true); n counts them from 1.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool
}

// fakeGet is one agents request as the server saw it.
type fakeGet struct {
	auth, cursor string
	query        map[string][]string
}

const (
	tokenA = "s1tokA-7Hq2mZx91LkPa0c3VbnE4rTy6UiO8pAsDfGhJkL5zXcVbNm1QwErTyUiOp2AsDfGhJkL3ZxCvBnM"
	tokenB = "s1tokB-Zq8wX7cE6vR5tB4yN3uM2iK1oL0pPaSdFgHjKlZxCvBnMqWeRtYuIoPaSdFgHjKlZxCvBnMqWe"
)

func newFake(t testing.TB, n int) *fakeS1 {
	f := &fakeS1{t: t, clock: testclock.New(start), tokens: map[string]bool{tokenA: true},
		wantLimit: MaxPageSize, wantQuery: map[string]string{"isDecommissioned": "true,false"},
		expiresAt: start.Add(90 * 24 * time.Hour).Format("2006-01-02T15:04:05.000000Z")}
	f.agents = makeAgents(t, n)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

var (
	agentsOnce sync.Once
	agentsMade []json.RawMessage
	agentsErr  error
)

// makeAgents returns n agents built from the first recorded one, each with
// its own id, name, serial and MAC, last active a minute before start (built
// once for all tests: the race detector makes JSON slow).
func makeAgents(t testing.TB, n int) []json.RawMessage {
	t.Helper()
	agentsOnce.Do(func() { agentsMade, agentsErr = buildAgents(3000) })
	if agentsErr != nil {
		t.Fatal(agentsErr)
	}
	if n > len(agentsMade) {
		t.Fatalf("makeAgents(%d): at most %d", n, len(agentsMade))
	}
	return agentsMade[:n:n]
}

func buildAgents(n int) ([]json.RawMessage, error) {
	var page struct {
		Data []map[string]any `json:"data"`
	}
	b, err := os.ReadFile("testdata/agents.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, err
	}
	tmpl := page.Data[0]
	out := make([]json.RawMessage, n)
	for i := range n {
		tmpl["id"] = strconv.Itoa(1_700_000_000_000_000_000 + i)
		tmpl["uuid"] = fmt.Sprintf("%032x", i)
		tmpl["computerName"] = fmt.Sprintf("host-%05d", i)
		tmpl["serialNumber"] = fmt.Sprintf("SN%08d", i)
		tmpl["lastActiveDate"] = start.Add(-time.Minute).Format("2006-01-02T15:04:05.000000Z")
		tmpl["networkInterfaces"] = []any{map[string]any{"name": "eth0", "physical": fmt.Sprintf("02:00:00:%02x:%02x:%02x", i>>16&255, i>>8&255, i&255),
			"inet": []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}, "inet6": []string{}}}
		raw, err := json.Marshal(tmpl)
		if err != nil {
			return nil, err
		}
		out[i] = raw
	}
	return out, nil
}

func cursorFor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("agent_id:" + strconv.Itoa(i)))
}

func indexOf(cursor string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(cursor)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "agent_id:"))
	return n, err == nil && strings.HasPrefix(string(b), "agent_id:")
}

func writeErrors(w http.ResponseWriter, status, code int, title, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"code": code, "title": title, "detail": detail}}})
}

// overLimit notes a request and says whether it is over the per-second limit.
func (f *fakeS1) overLimit() bool {
	if f.perSecond == 0 {
		return false
	}
	now := f.clock.Now()
	keep := f.recent[:0]
	for _, t := range f.recent {
		if now.Sub(t) < time.Second {
			keep = append(keep, t)
		}
	}
	f.recent = append(keep, now)
	return len(f.recent) > f.perSecond
}

func (f *fakeS1) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if f.overLimit() {
		f.limited++
		f.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		writeErrors(w, http.StatusTooManyRequests, 4290010, "Too Many Requests", "rate limit exceeded")
		return
	}
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "ApiToken ")
	accepted := ok && f.tokens[tok]
	f.mu.Unlock()
	if r.Header.Get("Accept") != "application/json" {
		f.t.Errorf("fake: Accept %q, want application/json", r.Header.Get("Accept"))
	}
	switch {
	case r.URL.Path == TokenDetailsPath:
		f.serveDetails(w, r, tok, accepted)
	case r.URL.Path == AgentsPath:
		f.serveAgents(w, r, auth, accepted)
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body>Not found</body></html>")
	}
}

func (f *fakeS1) serveDetails(w http.ResponseWriter, r *http.Request, tok string, accepted bool) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("fake: api-token-details %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	var body struct {
		Data struct {
			APIToken string `json:"apiToken"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Data.APIToken != tok {
		f.t.Errorf("fake: api-token-details body does not carry the header's token (err %v)", err)
	}
	f.mu.Lock()
	f.details = append(f.details, body.Data.APIToken)
	exp := f.expiresAt
	f.mu.Unlock()
	switch {
	case !accepted:
		writeErrors(w, http.StatusUnauthorized, 4010010, "Authentication Failed", "")
	case exp == "":
		writeErrors(w, http.StatusNotFound, 4040010, "Not Found", "")
	default:
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"expiresAt": exp, "createdAt": "2026-01-01T00:00:00.000000Z"}})
	}
}

func (f *fakeS1) serveAgents(w http.ResponseWriter, r *http.Request, auth string, accepted bool) {
	if r.Method != http.MethodGet {
		f.t.Errorf("fake: agents %s, want GET", r.Method)
	}
	q := r.URL.Query()
	f.mu.Lock()
	f.gets = append(f.gets, fakeGet{auth: auth, cursor: q.Get("cursor"), query: q})
	n := len(f.gets)
	hook, want, wantLimit := f.hook, f.wantQuery, f.wantLimit
	f.mu.Unlock()
	for k, v := range want {
		if q.Get(k) != v {
			f.t.Errorf("fake: request %d: %s=%q, want %q", n, k, q.Get(k), v)
		}
	}
	for k := range q {
		if _, ok := want[k]; !ok && k != "limit" && k != "cursor" {
			f.t.Errorf("fake: request %d: unexpected parameter %s", n, k)
		}
	}
	if hook != nil && hook(w, r, n) {
		return
	}
	if !accepted {
		writeErrors(w, http.StatusUnauthorized, 4010010, "Authentication Failed", "")
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > MaxPageSize {
		writeErrors(w, http.StatusBadRequest, 4000010, "Validation Error", "limit: must be between 1 and 1000")
		return
	}
	if limit != wantLimit {
		f.t.Errorf("fake: limit=%d, want %d", limit, wantLimit)
	}
	from := 0
	if c := q.Get("cursor"); c != "" {
		i, ok := indexOf(c)
		if !ok {
			writeErrors(w, http.StatusBadRequest, 4000010, "Validation Error", "cursor: invalid")
			return
		}
		from = i
	}
	f.mu.Lock()
	page := f.agents[min(from, len(f.agents)):min(from+limit, len(f.agents))]
	total := len(f.agents)
	if f.total != nil {
		total = *f.total
	}
	f.mu.Unlock()
	var next any
	if from+limit < len(f.agents) {
		next = cursorFor(from + limit)
	}
	writePage(w, page, next, total)
}

// fakePages holds the server's answer buffers for reuse.
var fakePages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writePage answers a page; the agents are copied as they are (encoding
// them again would only cost time).
func writePage(w http.ResponseWriter, agents []json.RawMessage, next any, total int) {
	b := fakePages.Get().(*bytes.Buffer)
	defer func() { b.Reset(); fakePages.Put(b) }()
	b.WriteString(`{"data":[`)
	for i, a := range agents {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(a)
	}
	pg, _ := json.Marshal(map[string]any{"nextCursor": next, "totalItems": total})
	b.WriteString(`],"errors":null,"pagination":`)
	b.Write(pg)
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

func (f *fakeS1) requests() []fakeGet {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeGet(nil), f.gets...)
}

// setup is what open made besides the source.
type setup struct {
	src       *Source
	stderr    *bytes.Buffer
	tokenFile string
}

// open builds a source on f from YAML (url and token_file are added), on
// f's clock.
func open(t testing.TB, f *fakeS1, extra string) setup {
	t.Helper()
	dir := t.TempDir()
	tf := filepath.Join(dir, "s1.token")
	if err := os.WriteFile(tf, []byte(tokenA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("name: s1\nkind: sentinelone\nurl: %s\ntoken_file: s1.token\n%s", f.srv.URL, extra)
	var stderr bytes.Buffer
	src, err := build(doc, coverage.Env{Dir: dir, Now: f.clock.Now, Stderr: &stderr, Window: 24 * time.Hour})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	src.tr.Sleep, src.tr.Now = f.clock.Sleep, f.clock.Now
	return setup{src: src, stderr: &stderr, tokenFile: tf}
}

// build runs New on a YAML document.
func build(doc string, env coverage.Env) (*Source, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		return nil, err
	}
	s, err := New(n.Content[0], env)
	if err != nil {
		return nil, err
	}
	return s.(*Source), nil
}
