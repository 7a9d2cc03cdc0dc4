package intune

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
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

// start is the fake clock's first reading.
var start = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

type clock = testclock.Clock

// fakeGraph serves the Microsoft identity platform's v2.0 token endpoint
// (client credentials, https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow)
// and Graph's List managedDevices
// (https://learn.microsoft.com/graph/api/intune-devices-manageddevice-list)
// with @odata.nextLink paging (https://learn.microsoft.com/graph/paging),
// Graph's error body (https://learn.microsoft.com/graph/errors) and the
// Intune devices service limit of 2,000 requests per 20 s per app per
// tenant (https://learn.microsoft.com/graph/throttling-limits), answered
// with 429 and, when retryAfter is set, Retry-After
// (https://learn.microsoft.com/graph/throttling). It asserts what the
// connector sends: the form of the token request, the bearer token, the
// $select, $top and $filter of every page.
type fakeGraph struct {
	t   testing.TB
	srv *httptest.Server
	clk *clock

	mu         sync.Mutex
	tenant     string
	clientID   string
	secret     string
	scope      string
	expiresIn  int // 0: the answer has no expires_in
	devices    []map[string]any
	version    string
	wantSelect string
	wantTop    int
	wantFilter string
	step       time.Duration // the clock's advance per API request
	// encoded, when set, holds the devices already encoded: pages copy them
	// instead of encoding devices again (the benchmark's server).
	encoded []json.RawMessage

	limit      int           // requests per window; 0: no limit
	window     time.Duration // the limit's window
	retryAfter bool          // send Retry-After with a 429
	hits       []time.Time

	tokens   map[string]time.Time // issued tokens and their expiry; zero: none
	issued   int
	logins   int
	calls    int // API requests
	limited  int // 429s sent
	refused  int // 401s sent
	urls     []string
	hook     func(w http.ResponseWriter, r *http.Request, n int) bool // n: the API request's number; true: answered
	tokHook  func(w http.ResponseWriter, r *http.Request) bool
	revokeAt func(n int) bool // revoke every token before answering request n
}

const testTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

func newFake(t testing.TB, n int) *fakeGraph {
	t.Helper()
	f := &fakeGraph{t: t, clk: testclock.New(start), tenant: testTenant, clientID: "app-1234",
		secret: "s3cret-Graph~value", scope: "", expiresIn: 3599, version: "v1.0",
		wantSelect: strings.Join(v1Fields, ","), wantTop: MaxPageSize,
		tokens: map[string]time.Time{}}
	f.devices = makeDevices(n, start)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	f.scope = f.srv.URL + "/.default"
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) tokenURL() string { return f.srv.URL + "/" + f.tenant + "/oauth2/v2.0/token" }

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/"+f.tenant+"/oauth2/v2.0/token" {
		f.token(w, r)
		return
	}
	f.api(w, r)
}

func (f *fakeGraph) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hook := f.tokHook
	f.mu.Unlock()
	if hook != nil && hook(w, r) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.t.Errorf("token request: %s with Content-Type %q, want a form POST", r.Method, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token request: %v", err)
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		f.t.Errorf("grant_type = %q", g)
	}
	if s := r.PostForm.Get("scope"); s != f.scope {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_scope","error_description":"AADSTS1002012: The provided value for scope %s is not valid."}`, s)
		f.t.Errorf("scope = %q, want %q", s, f.scope)
		return
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.","error_codes":[7000215]}`)
		return
	}
	f.issued++
	tok := fmt.Sprintf("eyJ0eXAiOiJKV1QifQ.eyJuIjo%dfQ.sig%d", f.issued, f.issued)
	ans := map[string]any{"token_type": "Bearer", "access_token": tok, "ext_expires_in": f.expiresIn}
	if f.expiresIn > 0 {
		ans["expires_in"] = f.expiresIn
		f.tokens[tok] = f.clk.Now().Add(time.Duration(f.expiresIn) * time.Second)
	} else {
		f.tokens[tok] = time.Time{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

func graphErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q,"innerError":{"date":"2026-03-02T12:00:00","request-id":"a9e02079-efcb-4f51-8302-c20a76c4fa0e"}}}`, code, msg)
}

func (f *fakeGraph) api(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.urls = append(f.urls, r.URL.String())
	hook, revoke := f.hook, f.revokeAt
	f.clk.Advance(f.step)
	now := f.clk.Now()
	if f.limit > 0 {
		f.hits = slices.DeleteFunc(f.hits, func(h time.Time) bool { return now.Sub(h) >= f.window })
		if len(f.hits) >= f.limit {
			f.limited++
			if f.retryAfter {
				w.Header().Set("Retry-After", strconv.Itoa(int((f.window-now.Sub(f.hits[0])+time.Second-1)/time.Second)))
			}
			f.mu.Unlock()
			graphErr(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
			return
		}
		f.hits = append(f.hits, now)
	}
	if revoke != nil && revoke(n) {
		clear(f.tokens)
	}
	f.mu.Unlock()
	if hook != nil && hook(w, r, n) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	exp, known := f.tokens[tok]
	if !ok || !known || (!exp.IsZero() && !now.Before(exp)) {
		f.refused++
		graphErr(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/"+f.version+"/deviceManagement/managedDevices" {
		graphErr(w, http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+r.URL.Path+"'.")
		f.t.Errorf("request %s %s", r.Method, r.URL.Path)
		return
	}
	if a := r.Header.Get("Accept"); a != "application/json" {
		f.t.Errorf("Accept = %q", a)
	}
	q := r.URL.Query()
	if s := q.Get("$select"); s != f.wantSelect {
		f.t.Errorf("$select = %q, want %q", s, f.wantSelect)
	}
	top, err := strconv.Atoi(q.Get("$top"))
	if err != nil || top != f.wantTop || top > MaxPageSize {
		f.t.Errorf("$top = %q, want %d", q.Get("$top"), f.wantTop)
	}
	if fl := q.Get("$filter"); fl != f.wantFilter {
		f.t.Errorf("$filter = %q, want %q", fl, f.wantFilter)
	}
	if q.Has("$count") || q.Has("$skip") {
		f.t.Errorf("unexpected query %s", r.URL.RawQuery)
	}
	off := 0
	if st := q.Get("$skiptoken"); st != "" {
		off, err = strconv.Atoi(strings.TrimPrefix(st, "RFNwdAIAAQAAAC"))
		if err != nil {
			f.t.Errorf("$skiptoken %q is not one the server issued", st)
		}
	}
	if f.encoded != nil {
		f.copyPage(w, r, q, off, top)
		return
	}
	end := min(off+top, len(f.devices))
	ans := map[string]any{"@odata.context": f.srv.URL + "/" + f.version + "/$metadata#deviceManagement/managedDevices(" + q.Get("$select") + ")",
		"@odata.count": end - off, "value": f.devices[off:end]}
	if end < len(f.devices) {
		q.Set("$skiptoken", "RFNwdAIAAQAAAC"+strconv.Itoa(end))
		ans["@odata.nextLink"] = f.srv.URL + r.URL.Path + "?" + q.Encode()
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	json.NewEncoder(w).Encode(ans)
}

// fakePages holds the copying server's answer buffers for reuse.
var fakePages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// copyPage answers a page of f.encoded as api does of f.devices (the same
// members, in encoding/json's order).
func (f *fakeGraph) copyPage(w http.ResponseWriter, r *http.Request, q url.Values, off, top int) {
	end := min(off+top, len(f.encoded))
	b := fakePages.Get().(*bytes.Buffer)
	defer func() { b.Reset(); fakePages.Put(b) }()
	ctx, _ := json.Marshal(f.srv.URL + "/" + f.version + "/$metadata#deviceManagement/managedDevices(" + q.Get("$select") + ")")
	b.WriteString(`{"@odata.context":`)
	b.Write(ctx)
	b.WriteString(`,"@odata.count":` + strconv.Itoa(end-off))
	if end < len(f.encoded) {
		q.Set("$skiptoken", "RFNwdAIAAQAAAC"+strconv.Itoa(end))
		next, _ := json.Marshal(f.srv.URL + r.URL.Path + "?" + q.Encode())
		b.WriteString(`,"@odata.nextLink":`)
		b.Write(next)
	}
	b.WriteString(`,"value":[`)
	for i, d := range f.encoded[off:end] {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(d)
	}
	b.WriteString("]}\n")
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Write(b.Bytes())
}

// counts reads the server's counters.
func (f *fakeGraph) counts() (logins, calls, limited, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logins, f.calls, f.limited, f.refused
}

// makeDevices builds n managedDevices as Graph lists them with the source's $select.
func makeDevices(n int, now time.Time) []map[string]any {
	out := make([]map[string]any, n)
	for i := range n {
		d := map[string]any{
			"id":                        fmt.Sprintf("%08x-34c3-4f6b-9a1e-%012x", i+1, i+1),
			"deviceName":                fmt.Sprintf("DESKTOP-%05d", i+1),
			"serialNumber":              fmt.Sprintf("PF3K%06d", i+1),
			"wiFiMacAddress":            fmt.Sprintf("3c22fb%06x", i+1),
			"ethernetMacAddress":        nil,
			"operatingSystem":           "Windows",
			"osVersion":                 "10.0.22631.3447",
			"lastSyncDateTime":          now.Add(-time.Duration(i%5) * time.Hour).Format("2006-01-02T15:04:05.0000000Z"),
			"complianceState":           "compliant",
			"managementAgent":           "mdm",
			"azureADDeviceId":           fmt.Sprintf("%08x-aaaa-4bbb-8ccc-%012x", i+1, i+1),
			"managedDeviceOwnerType":    "company",
			"deviceCategoryDisplayName": "Laptops",
		}
		out[i] = d
	}
	return out
}

// open builds a source on f from YAML (url, token_url, client_id and the
// secret file are added unless extra sets them), on the fake clock.
func open(t testing.TB, f *fakeGraph, extra string) *Source {
	t.Helper()
	src, err := build(t, f, extra)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func build(t testing.TB, f *fakeGraph, extra string) (*Source, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(f.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := "name: corp-intune\nkind: intune\n"
	ownURL := strings.Contains("\n"+extra, "\nurl:")
	if !ownURL {
		doc += "url: " + f.srv.URL + "\n"
	}
	if !ownURL && !strings.Contains(extra, "token_url:") && !strings.Contains(extra, "tenant:") {
		doc += "token_url: " + f.tokenURL() + "\n"
	}
	if !strings.Contains(extra, "client_id:") {
		doc += "client_id: " + f.clientID + "\n"
	}
	if !strings.Contains(extra, "client_secret") {
		doc += "client_secret_file: secret\n"
	}
	doc += extra
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	env := coverage.Env{Dir: dir, Now: f.clk.Now, Window: 24 * time.Hour}
	s, err := New(node.Content[0], env)
	if err != nil {
		return nil, err
	}
	src := s.(*Source)
	src.tr.Now, src.tr.Sleep = f.clk.Now, f.clk.Sleep
	return src, nil
}
