package rest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
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

type clock = testclock.Clock

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// device is one inventory record as the fake API holds it.
func device(i int, now time.Time) map[string]any {
	status, seen := "online", now.Add(-time.Duration(i)*time.Minute)
	if i%7 == 0 {
		status, seen = "offline", now.Add(-72*time.Hour)
	}
	return map[string]any{
		"id":   fmt.Sprintf("dev-%05d", i),
		"name": fmt.Sprintf("host-%d.corp.example", i),
		"hw":   map[string]any{"serial": fmt.Sprintf("SN%08d", i), "vendor": "Dell"},
		"interfaces": []any{
			map[string]any{"name": "eth0", "mac": fmt.Sprintf("00:11:22:33:%02x:%02x", i/256%256, i%256), "ips": []any{fmt.Sprintf("10.0.%d.%d", i/256%256, i%256)}},
			map[string]any{"name": "wlan0", "mac": fmt.Sprintf("00:aa:bb:cc:%02x:%02x", i/256%256, i%256), "ips": []any{}},
		},
		"os":        map[string]any{"name": "Ubuntu 22.04"},
		"tags":      []any{"prod", "linux"},
		"status":    status,
		"last_seen": seen.Format(time.RFC3339),
		"notes":     "free text the mapping never reads",
	}
}

// fakeAPI is a JSON inventory API serving GET (or POST) /devices in each of
// the paging conventions the connector speaks, as they are documented:
// offset/limit and page/per_page query parameters with a total beside the
// records; an opaque cursor in the answer sent back as a parameter; an
// OData @odata.nextLink (OData JSON Format 4.01, 4.5.5); and the Link
// header's rel="next" (RFC 8288, as GitHub's "Using pagination in the REST
// API" shows it). Its OAuth2 token endpoint follows RFC 6749 section 4.4
// (form grant_type=client_credentials, client_id, client_secret, scope;
// answers access_token, token_type, expires_in). It asserts what the
// connector sends: credentials, paging parameters and page size.
type fakeAPI struct {
	t     testing.TB
	srv   *httptest.Server
	clock *clock

	// Settings; set them before the first request.
	style        string // none, offset, page, cursor, next_link, link_header
	first        int    // page: the first page's number
	size         int    // the page size the connector must ask for; 0: it must not send one
	cap          int    // > 0: the server sends at most this many records a page
	auth         string // none, basic, bearer, api_key, api_key_param, oauth2
	user         string
	password     string
	token        string
	keyHeader    string
	keyPrefix    string
	clientID     string
	clientSecret string
	scope        string        // the scope the token request must carry
	tokenLife    time.Duration // 0: no expires_in
	perSecond    int           // > 0: at most this many requests in any second (429 beyond)
	noRetryAfter bool          // 429 without Retry-After
	method       string        // the method /devices must get (default GET)
	inBody       bool          // paging parameters in the JSON body

	mu      sync.Mutex
	devices []map[string]any
	// encoded, when set, holds the devices already encoded: offset pages
	// copy them instead of encoding devices again (the benchmark's server).
	encoded  []json.RawMessage
	tokens   map[string]time.Time // live token -> expiry
	nTok     int
	logins   int
	requests int // /devices requests
	limited  int
	hits     []time.Time
	queries  []url.Values
	bodies   []map[string]any
	// hook may answer a /devices request itself (return true); n counts the
	// requests from 1. It runs with mu held.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool
	// tokenHook may answer a token request itself.
	tokenHook func(w http.ResponseWriter, r *http.Request) bool
}

func newFake(t testing.TB, n int, style string) *fakeAPI {
	f := &fakeAPI{t: t, clock: testclock.New(t0), style: style, first: 1, size: 5, auth: "bearer",
		user: "reader", password: "pw-S3cret", token: "tok-S3cret-0123", keyHeader: "X-API-Key",
		clientID: "muster-client", clientSecret: "cs-S3cret", tokenLife: time.Hour, tokens: map[string]time.Time{}}
	for i := range n {
		f.devices = append(f.devices, device(i+1, t0))
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	if f.perSecond > 0 {
		recent := 0
		for _, h := range f.hits {
			if now.Sub(h) < time.Second {
				recent++
			}
		}
		if recent >= f.perSecond {
			f.limited++
			if !f.noRetryAfter {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
			return
		}
		f.hits = append(f.hits, now)
	}
	switch r.URL.Path {
	case "/oauth/token":
		f.serveToken(w, r, now)
	case "/devices":
		f.requests++
		if f.hook != nil && f.hook(w, r, f.requests) {
			return
		}
		if !f.authorized(r, now) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		f.serveDevices(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeAPI) serveToken(w http.ResponseWriter, r *http.Request, now time.Time) {
	if f.tokenHook != nil && f.tokenHook(w, r) {
		return
	}
	if r.Method != http.MethodPost || r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.clientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client","error_description":"bad client credentials"}`))
		return
	}
	if got := r.PostForm.Get("scope"); got != f.scope {
		f.t.Errorf("token request scope %q, want %q", got, f.scope)
	}
	f.logins++
	f.nTok++
	tok := "at-" + strconv.Itoa(f.nTok)
	f.tokens[tok] = now.Add(f.tokenLife)
	ans := map[string]any{"access_token": tok, "token_type": "Bearer"}
	if f.tokenLife > 0 {
		ans["expires_in"] = int(f.tokenLife / time.Second)
	} else {
		f.tokens[tok] = now.Add(100 * 365 * 24 * time.Hour)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

func (f *fakeAPI) authorized(r *http.Request, now time.Time) bool {
	h := r.Header.Get("Authorization")
	switch f.auth {
	case "none":
		return h == ""
	case "basic":
		return h == "Basic "+base64.StdEncoding.EncodeToString([]byte(f.user+":"+f.password))
	case "bearer":
		return h == "Bearer "+f.token
	case "api_key":
		return h == "" && r.Header.Get(f.keyHeader) == f.keyPrefix+f.token
	case "api_key_param":
		return h == "" && r.URL.Query().Get("api_key") == f.token
	case "oauth2":
		tok, ok := strings.CutPrefix(h, "Bearer ")
		exp, live := f.tokens[tok]
		return ok && live && now.Before(exp)
	}
	return false
}

// params reads the paging parameters from the query or the body.
func (f *fakeAPI) params(r *http.Request) url.Values {
	q := r.URL.Query()
	f.queries = append(f.queries, q)
	if !f.inBody {
		return q
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("body: %v", err)
	}
	f.bodies = append(f.bodies, body)
	out := url.Values{}
	for k, v := range body {
		switch x := v.(type) {
		case float64:
			out.Set(k, strconv.Itoa(int(x)))
		case string:
			out.Set(k, x)
		}
	}
	return out
}

// fakePages holds the copying server's answer buffers for reuse.
var fakePages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// copyPage answers an offset page of encoded devices as serveDevices does
// (the same members, in encoding/json's order).
func (f *fakeAPI) copyPage(w http.ResponseWriter, items []json.RawMessage) {
	b := fakePages.Get().(*bytes.Buffer)
	defer func() { b.Reset(); fakePages.Put(b) }()
	b.WriteString(`{"data":{"items":[`)
	for i, d := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(d)
	}
	b.WriteString(`]},"meta":{"total":` + strconv.Itoa(len(f.devices)) + "}}\n")
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

func (f *fakeAPI) num(w http.ResponseWriter, q url.Values, k string, def int) (int, bool) {
	v := q.Get(k)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		http.Error(w, "bad "+k, http.StatusBadRequest)
		return 0, false
	}
	return n, true
}

func (f *fakeAPI) serveDevices(w http.ResponseWriter, r *http.Request) {
	want := f.method
	if want == "" {
		want = http.MethodGet
	}
	if r.Method != want {
		f.t.Errorf("method %s, want %s", r.Method, want)
	}
	q := f.params(r)
	sizeKey := map[string]string{"offset": "limit", "page": "per_page", "cursor": "limit", "next_link": "$top", "link_header": "per_page"}[f.style]
	size := len(f.devices)
	if sizeKey != "" {
		if f.size == 0 {
			if q.Has(sizeKey) {
				f.t.Errorf("%s sent, but no page size was configured", sizeKey)
			}
			size = 3 // the server's default page size
		} else if got := q.Get(sizeKey); got != strconv.Itoa(f.size) && !(f.style == "next_link" || f.style == "link_header") {
			f.t.Errorf("%s=%q, want %d", sizeKey, got, f.size)
		} else {
			size = f.size
		}
	}
	if f.cap > 0 {
		size = min(size, f.cap)
	}
	start := 0
	var ok bool
	switch f.style {
	case "offset":
		if start, ok = f.num(w, q, "offset", -1); !ok || start < 0 {
			f.t.Errorf("offset missing: %v", q)
			return
		}
	case "page":
		p, ok := f.num(w, q, "page", -1)
		if !ok || p < f.first {
			f.t.Errorf("page %v < first %d", q, f.first)
			return
		}
		start = (p - f.first) * size
	case "cursor":
		if c := q.Get("cursor"); c != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(c, "c-"))
			if err != nil {
				http.Error(w, "bad cursor", http.StatusBadRequest)
				return
			}
			start = n
		}
	case "next_link":
		if s := q.Get("$skiptoken"); s != "" {
			start, _ = strconv.Atoi(s)
		}
		if q.Get("$top") != "" {
			size = min(size, atoi(q.Get("$top")))
		}
	case "link_header":
		if s := q.Get("since"); s != "" {
			start, _ = strconv.Atoi(s)
		}
		if q.Get("per_page") != "" {
			size = min(size, atoi(q.Get("per_page")))
		}
	}
	start = min(start, len(f.devices))
	end := min(start+size, len(f.devices))
	items := f.devices[start:end]
	more := end < len(f.devices)
	if f.encoded != nil && f.style == "offset" {
		f.copyPage(w, f.encoded[start:min(end, len(f.encoded))])
		return
	}
	var ans any
	base := "http://" + r.Host + "/devices"
	switch f.style {
	case "none":
		ans = items
	case "offset":
		ans = map[string]any{"data": map[string]any{"items": items}, "meta": map[string]any{"total": len(f.devices)}}
	case "page":
		ans = map[string]any{"items": items, "total": len(f.devices)}
	case "cursor":
		next := any(nil)
		if more {
			next = "c-" + strconv.Itoa(end)
		}
		ans = map[string]any{"items": items, "next_cursor": next}
	case "next_link":
		a := map[string]any{"value": items, "@odata.count": len(f.devices)}
		if more {
			a["@odata.nextLink"] = base + "?$skiptoken=" + strconv.Itoa(end)
		}
		ans = a
	case "link_header":
		if more {
			// a relative reference, resolved against the request (RFC 8288 3.1)
			w.Header().Add("Link", `</devices?since=0>; rel="first"`)
			w.Header().Add("Link", fmt.Sprintf(`</devices?since=%d&per_page=%d>; rel="next", <%s?since=%d>; rel="last"`, end, size, base, len(f.devices)-1))
		}
		ans = items
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// revokeAll ends every token, as an administrator would.
func (f *fakeAPI) revokeAll() {
	for k := range f.tokens {
		delete(f.tokens, k)
	}
}

func (f *fakeAPI) count() (requests, logins, limited int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.logins, f.limited
}

// styleYAML is the paging and records configuration matching the fake's style.
func (f *fakeAPI) styleYAML() string {
	size := ""
	switch f.style {
	case "none":
		return "records: \"\"\n"
	case "offset":
		if f.size > 0 {
			size = fmt.Sprintf("  size: %d\n", f.size)
		}
		return "records: data.items\npaging:\n  style: offset\n  total: meta.total\n" + size
	case "page":
		if f.size > 0 {
			size = fmt.Sprintf("  size: %d\n  size_param: per_page\n", f.size)
		}
		return fmt.Sprintf("records: items\npaging:\n  style: page\n  first: %d\n  total: total\n", f.first) + size
	case "cursor":
		if f.size > 0 {
			size = fmt.Sprintf("  size: %d\n  size_param: limit\n", f.size)
		}
		return "records: items\npaging:\n  style: cursor\n  cursor_path: next_cursor\n" + size
	case "next_link":
		if f.size > 0 {
			size = fmt.Sprintf("  size: %d\n  size_param: $top\n", f.size)
		}
		return "records: value\npaging:\n  style: next_link\n  next_path: \"@odata.nextLink\"\n  total: \"@odata.count\"\n" + size
	case "link_header":
		if f.size > 0 {
			size = fmt.Sprintf("  size: %d\n  size_param: per_page\n", f.size)
		}
		return "records: \"\"\npaging:\n  style: link_header\n" + size
	}
	f.t.Fatalf("style %q", f.style)
	return ""
}

const fieldsYAML = `fields:
  id: id
  hostname: name
  serial: hw.serial
  mac: interfaces.mac
  ip: interfaces.ips
  os: os.name
  groups: tags
  state: status
  last_seen: last_seen
`

// authYAML is the auth configuration matching the fake's auth; dir holds
// the secret files.
func (f *fakeAPI) authYAML(t testing.TB, dir string) string {
	write := func(name, v string) string {
		t.Helper()
		writeFile(t, dir, name, v)
		return name
	}
	switch f.auth {
	case "none":
		return ""
	case "basic":
		return "auth: basic\nuser: " + f.user + "\npassword_file: " + write("pw", f.password) + "\n"
	case "bearer":
		return "auth: bearer\ntoken_file: " + write("tok", f.token) + "\n"
	case "api_key":
		s := "auth: api_key\ntoken_file: " + write("tok", f.token) + "\n"
		if f.keyHeader != "X-API-Key" {
			s += "api_key_header: " + f.keyHeader + "\n"
		}
		if f.keyPrefix != "" {
			s += "api_key_prefix: \"" + f.keyPrefix + "\"\n"
		}
		return s
	case "api_key_param":
		return "auth: api_key\napi_key_param: api_key\ntoken_file: " + write("tok", f.token) + "\n"
	case "oauth2":
		s := "auth: oauth2\nclient_id: " + f.clientID + "\nclient_secret_file: " + write("cs", f.clientSecret) +
			"\ntoken_url: " + f.srv.URL + "/oauth/token\n"
		if f.scope != "" {
			s += "scopes: [" + f.scope + "]\n"
		}
		return s
	}
	t.Fatalf("auth %q", f.auth)
	return ""
}

// config is the whole source mapping for the fake, plus extra lines.
func (f *fakeAPI) config(t testing.TB, dir, extra string) string {
	return "name: inv\nkind: rest\nurl: " + f.srv.URL + "/devices\nrate_limit: 1000/s\n" + f.authYAML(t, dir) + f.styleYAML() + fieldsYAML + extra
}

func build(t testing.TB, doc, dir string, c *clock) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatalf("yaml: %v\n%s", err, doc)
	}
	env := coverage.Env{Dir: dir, Now: c.Now, Window: 24 * time.Hour}
	s, err := New(node.Content[0], env)
	if err != nil {
		return nil, err
	}
	src := s.(*Source)
	src.tr.Now, src.tr.Sleep = c.Now, c.Sleep
	return src, nil
}

// open builds the source for the fake with extra config lines.
func open(t testing.TB, f *fakeAPI, extra string) *Source {
	t.Helper()
	dir := t.TempDir()
	s, err := build(t, f.config(t, dir, extra), dir, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeFile(t testing.TB, dir, name, v string) {
	t.Helper()
	if err := writeFileErr(dir, name, v); err != nil {
		t.Fatal(err)
	}
}

func writeFileErr(dir, name, v string) error {
	return os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600)
}
