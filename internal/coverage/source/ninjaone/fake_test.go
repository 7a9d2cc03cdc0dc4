package ninjaone

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/testclock"
)

type clock = testclock.Clock

// epoch0 is the fake clock's start: 2026-12-07 12:00:00 UTC.
var epoch0 = time.Unix(1796644800, 0).UTC()

// fakeNinja serves the NinjaOne wire as the Public API 2.0 reference
// documents it (app.ninjarmm.com/apidocs-beta, operation getDevicesDetailed;
// the OpenAPI document "NinjaOne Public API 2.0") and as NinjaOne's "API
// OAuth Token Configuration" page describes the client-credentials login:
//   - POST /ws/oauth/token, a form with grant_type=client_credentials,
//     client_id, client_secret and scope, answers
//     {"access_token", "token_type": "Bearer", "expires_in", "scope"}, or
//     401 {"error": "invalid_client"};
//   - GET /v2/devices-detailed?pageSize=N&after=<last id>&df=<filter>
//     answers a bare JSON array of devices in ascending id order, those with
//     an id above after, at most pageSize of them; an empty array past the
//     last device. A missing, unknown or expired bearer token gets 401.
//   - NinjaOne documents no rate limit for 2.0; the server enforces an
//     assumed one (limitPerMin requests in any sliding minute, logins
//     included) and answers 429 with Retry-After past it.
//
// It asserts what the connector sends: the form fields and the scope, the
// bearer token, pageSize, after and df, and nothing else in the query.
type fakeNinja struct {
	t     testing.TB
	srv   *httptest.Server
	clock *clock

	clientID, secret string
	wantScope        string
	tokenLife        time.Duration // expires_in; 0 omits it
	wantPageSize     int
	wantDF           string
	limitPerMin      int // 0: no limit
	// hook, when set, may answer a request itself (returning true); kind is
	// "token" or "devices", n the request's number of that kind (from 1).
	hook func(w http.ResponseWriter, r *http.Request, kind string, n int) bool

	mu      sync.Mutex
	ids     []int
	devices map[int]string
	tokens  map[string]time.Time // token -> expiry
	issued  int
	window  []time.Time
	limited int // 429s sent
	refused int // 401s sent
	calls   map[string]int
	afters  []int
}

func newFake(t testing.TB, n int) *fakeNinja {
	t.Helper()
	f := &fakeNinja{t: t, clock: testclock.New(epoch0), clientID: "ninja-client", secret: "s3cr3t-ninja-value",
		wantScope: "monitoring", tokenLife: time.Hour, wantPageSize: PageSize,
		devices: map[int]string{}, tokens: map[string]time.Time{}, calls: map[string]int{}}
	for i := range n {
		f.add(1000+3*i, deviceJSON(1000+3*i, f.clock.Now().Add(-time.Minute)))
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// add puts a device (its JSON) on the server.
func (f *fakeNinja) add(id int, doc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.devices[id]; !ok {
		f.ids = append(f.ids, id)
		slices.Sort(f.ids)
	}
	f.devices[id] = doc
}

// deviceJSON is an agent device as devices-detailed answers it.
func deviceJSON(id int, seen time.Time) string {
	return fmt.Sprintf(`{"id":%d,"uid":"00000000-0000-4000-8000-%012d","organizationId":%d,"locationId":%d,`+
		`"nodeClass":"WINDOWS_WORKSTATION","approvalStatus":"APPROVED","offline":false,"displayName":"PC %d",`+
		`"systemName":"WS-%06d","dnsName":"ws-%06d.corp.example","netbiosName":"WS-%06d","created":1700000000.5,`+
		`"lastContact":%.3f,"lastUpdate":%.3f,"tags":[],"ipAddresses":["10.%d.%d.%d"],`+
		`"macAddresses":["02:00:%02x:%02x:%02x:%02x"],"publicIP":"203.0.113.9","deviceType":"AgentDevice",`+
		`"os":{"manufacturer":"Microsoft Corporation","name":"Windows 11 Professional Edition","architecture":"64-bit","buildNumber":"26100"},`+
		`"system":{"name":"WS-%06d","manufacturer":"Dell Inc.","model":"Latitude 7440","serialNumber":"SN%07d","biosSerialNumber":"SN%07d","virtualMachine":false}}`,
		id, id, 10+id%3, 100+id%7, id, id, id, id, float64(seen.UnixMilli())/1000, float64(seen.UnixMilli())/1000,
		byte(id>>16), byte(id>>8), byte(id), byte(id>>24), byte(id>>16), byte(id>>8), byte(id), id, id, id)
}

func (f *fakeNinja) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[kind]
}

func (f *fakeNinja) serve(w http.ResponseWriter, r *http.Request) {
	kind := map[string]string{"/ws/oauth/token": "token", "/v2/devices-detailed": "devices"}[r.URL.Path]
	if kind == "" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.calls[kind]++
	n := f.calls[kind]
	now := f.clock.Now()
	hook := f.hook
	limited := false
	var wait time.Duration
	if f.limitPerMin > 0 {
		f.window = slices.DeleteFunc(f.window, func(at time.Time) bool { return now.Sub(at) >= time.Minute })
		if len(f.window) >= f.limitPerMin {
			limited = true
			f.limited++
			wait = f.window[0].Add(time.Minute).Sub(now)
		} else {
			f.window = append(f.window, now)
		}
	}
	f.mu.Unlock()
	if limited {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":"rate_limit_exceeded"}`)
		return
	}
	if hook != nil && hook(w, r, kind, n) {
		return
	}
	switch kind {
	case "token":
		f.serveToken(w, r)
	case "devices":
		f.serveDevices(w, r)
	}
}

func (f *fakeNinja) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("token: method %s, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		f.t.Errorf("token: Content-Type %q, want a form", ct)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token: %v", err)
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		f.t.Errorf("token: grant_type %q", g)
	}
	if s := r.PostForm.Get("scope"); s != f.wantScope {
		f.t.Errorf("token: scope %q, want %q", s, f.wantScope)
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
		return
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("ninja-token-%d", f.issued)
	f.tokens[tok] = f.clock.Now().Add(f.tokenLife)
	if f.tokenLife == 0 {
		f.tokens[tok] = f.clock.Now().Add(100 * 365 * 24 * time.Hour)
	}
	f.mu.Unlock()
	ans := map[string]any{"access_token": tok, "token_type": "Bearer", "scope": f.wantScope}
	if f.tokenLife > 0 {
		ans["expires_in"] = int(f.tokenLife / time.Second)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// authorized checks the bearer token; false after answering 401.
func (f *fakeNinja) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	exp, known := f.tokens[tok]
	good := ok && known && f.clock.Now().Before(exp)
	if !good {
		f.refused++
	}
	f.mu.Unlock()
	if !good {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_token","error_description":"Access token expired or invalid"}`)
	}
	return good
}

func (f *fakeNinja) serveDevices(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		f.t.Errorf("devices: method %s, want GET", r.Method)
	}
	if !f.authorized(w, r) {
		return
	}
	after, size := f.params(r)
	f.writePage(w, after, size)
}

// params checks and returns the query's after and pageSize.
func (f *fakeNinja) params(r *http.Request) (int, int) {
	q := r.URL.Query()
	for k := range q {
		if k != "pageSize" && k != "after" && k != "df" {
			f.t.Errorf("devices: unexpected query parameter %q", k)
		}
	}
	size, err := strconv.Atoi(q.Get("pageSize"))
	if err != nil || size != f.wantPageSize {
		f.t.Errorf("devices: pageSize %q, want %d", q.Get("pageSize"), f.wantPageSize)
	}
	if df := q.Get("df"); df != f.wantDF {
		f.t.Errorf("devices: df %q, want %q", df, f.wantDF)
	}
	after := 0
	if q.Has("after") {
		if after, err = strconv.Atoi(q.Get("after")); err != nil || after <= 0 {
			f.t.Errorf("devices: after %q is not a device id", q.Get("after"))
		}
	}
	f.mu.Lock()
	f.afters = append(f.afters, after)
	f.mu.Unlock()
	return after, size
}

// writePage answers the devices after the id after, at most size of them.
func (f *fakeNinja) writePage(w http.ResponseWriter, after, size int) {
	f.mu.Lock()
	var docs []string
	for _, id := range f.ids {
		if id > after && len(docs) < size {
			docs = append(docs, f.devices[id])
		}
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, "["+strings.Join(docs, ",")+"]")
}

// build makes a source from a YAML mapping, on the fake clock.
func build(t testing.TB, doc string, c *clock) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	var env coverage.Env
	env.Dir = t.TempDir()
	if c != nil {
		env.Now = c.Now
	}
	src, err := New(node.Content[0], env)
	if err != nil {
		return nil, err
	}
	s := src.(*Source)
	if c != nil {
		s.tr.Sleep, s.tr.Now = c.Sleep, c.Now
	}
	return s, nil
}

// source is the usual source of a test on f.
func (f *fakeNinja) source(extra string) *Source {
	f.t.Helper()
	f.t.Setenv("NINJA_TEST_SECRET", f.secret)
	doc := "name: n1\nkind: ninjaone\nurl: " + f.srv.URL + "\nclient_id: " + f.clientID + "\nclient_secret_env: NINJA_TEST_SECRET\n" + extra
	s, err := build(f.t, doc, f.clock)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}
