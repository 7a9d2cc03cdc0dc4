package crowdstrike

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/testclock"
)

type clock = testclock.Clock

// fakeFalcon serves the Falcon wire as documented on falconpy's Hosts and
// OAuth2 pages and developer.crowdstrike.com's Hosts collection:
//   - POST /oauth2/token (form client_id, client_secret, member_cid) answers
//     201 {"access_token", "token_type": "bearer", "expires_in"};
//   - GET /devices/queries/devices-scroll/v1 (limit 1-5000, filter, an
//     opaque offset token valid for 2 minutes) answers host ids with
//     meta.pagination {offset, limit, total, expires_at};
//   - POST /devices/entities/devices/v2 ({"ids": [...]}, at most 5000)
//     answers host records;
//   - every answer is the {meta, resources, errors} envelope and carries
//     X-RateLimit-Limit and X-RateLimit-Remaining; past 6,000 requests in a
//     sliding minute (per account) it answers 429 with
//     X-RateLimit-RetryAfter (epoch seconds), as the Falcon API
//     documentation quoted in gofalcon issue 364 describes.
//
// It asserts what the connector sends: the bearer token, the paging
// parameters and page size, the filter, the member CID, and no scopes.
type fakeFalcon struct {
	t     testing.TB
	srv   *httptest.Server
	clock *clock

	clientID, secret string
	memberCID        string        // required member_cid; "" for none
	tokenLife        time.Duration // expires_in; 0 omits it
	wantLimit        int           // the page size the connector must ask for
	wantFilter       string
	limitPerMin      int // the account's limit
	expiresPointer   time.Duration

	mu       sync.Mutex
	ids      []string
	hosts    map[string]json.RawMessage
	tokens   map[string]time.Time // token -> expiry
	issued   int
	pointers map[string]pointer
	window   []time.Time // request times in the last minute
	limited  int         // 429s sent
	refused  int         // 401s sent
	calls    map[string]int
	forms    []map[string][]string
	offsets  []string
	maxIDs   int
	// copyPages writes a details answer of raw (compact) hosts by copying
	// them rather than encoding them again (the benchmark's server).
	copyPages bool
	// hook may answer a request itself (true); kind is "token", "scroll" or
	// "details", n the request's number of that kind.
	hook func(w http.ResponseWriter, r *http.Request, kind string, n int) bool
}

type pointer struct {
	pos     int
	expires time.Time
}

func newFake(t testing.TB, n int) *fakeFalcon {
	f := &fakeFalcon{t: t, clock: testclock.New(readAt), clientID: "0123456789abcdef0123456789abcdef",
		secret: "s3cret-Falcon-Client-Secret-40chars-abcd", tokenLife: 1799 * time.Second, wantLimit: PageSize,
		limitPerMin: AccountLimit, expiresPointer: 2 * time.Minute,
		hosts: map[string]json.RawMessage{}, tokens: map[string]time.Time{}, pointers: map[string]pointer{},
		calls: map[string]int{}}
	f.setHosts(n)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// setHosts makes n hosts: the recorded ones first, then synthetic ones.
func (f *fakeFalcon) setHosts(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = f.ids[:0]
	clear(f.hosts)
	rec := recordedDevices(f.t)
	raw := recordedRaw(f.t)
	for i := range n {
		var id string
		var body json.RawMessage
		if i < len(rec) {
			id, body = string(rec[i].DeviceID), raw[i]
		} else {
			id = fmt.Sprintf("%032x", 0xfeed0000+i)
			body, _ = json.Marshal(map[string]any{"device_id": id, "hostname": fmt.Sprintf("host-%05d", i),
				"serial_number": fmt.Sprintf("SN%06d", i), "mac_address": fmt.Sprintf("02-00-00-%02x-%02x-%02x", byte(i>>16), byte(i>>8), byte(i)),
				"local_ip": fmt.Sprintf("10.1.%d.%d", byte(i>>8), byte(i)), "os_version": "Windows 11", "platform_name": "Windows",
				"status": "normal", "reduced_functionality_mode": "no", "last_seen": "2026-12-07T11:30:00Z",
				"groups": []string{"g1"}, "tags": []string{}, "device_policies": map[string]any{"prevention": map[string]any{"applied": true}}})
		}
		f.ids = append(f.ids, id)
		f.hosts[id] = body
	}
}

func (f *fakeFalcon) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[kind]
}

// revokeAll forgets every token, as a revocation or an expiry would.
func (f *fakeFalcon) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeFalcon) write(w http.ResponseWriter, status int, resources any, errs []apiError, pag map[string]any) {
	m := map[string]any{"query_time": 0.01, "powered_by": "device-api", "trace_id": "trace-" + strconv.Itoa(status)}
	if pag != nil {
		m["pagination"] = pag
	}
	if errs == nil {
		errs = []apiError{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"meta": m, "resources": resources, "errors": errs})
}

// admit applies the account's sliding-window limit; false when it answered 429.
func (f *fakeFalcon) admit(w http.ResponseWriter) bool {
	now := f.clock.Now()
	f.mu.Lock()
	cut := 0
	for cut < len(f.window) && !f.window[cut].After(now.Add(-time.Minute)) {
		cut++
	}
	f.window = f.window[cut:]
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(f.limitPerMin))
	if len(f.window) >= f.limitPerMin {
		retry := f.window[0].Add(time.Minute)
		f.limited++
		f.mu.Unlock()
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-RetryAfter", strconv.FormatInt(retry.Unix()+1, 10))
		f.write(w, http.StatusTooManyRequests, []any{}, []apiError{{Code: 429, Message: "API rate limit exceeded."}}, nil)
		return false
	}
	f.window = append(f.window, now)
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.limitPerMin-len(f.window)))
	f.mu.Unlock()
	return true
}

func (f *fakeFalcon) serve(w http.ResponseWriter, r *http.Request) {
	kind := map[string]string{"/oauth2/token": "token", "/devices/queries/devices-scroll/v1": "scroll",
		"/devices/entities/devices/v2": "details"}[r.URL.Path]
	f.mu.Lock()
	f.calls[kind]++
	n := f.calls[kind]
	hook := f.hook
	f.mu.Unlock()
	w.Header().Set("X-Cs-Traceid", "trace")
	if hook != nil && hook(w, r, kind, n) {
		return
	}
	switch kind {
	case "token":
		f.token(w, r)
		return
	case "":
		f.write(w, http.StatusNotFound, []any{}, []apiError{{Code: 404, Message: "Not Found"}}, nil)
		return
	}
	if !f.admit(w) {
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	exp, known := f.tokens[tok]
	f.mu.Unlock()
	if !ok || !known || !f.clock.Now().Before(exp) {
		f.mu.Lock()
		f.refused++
		f.mu.Unlock()
		f.write(w, http.StatusUnauthorized, []any{}, []apiError{{Code: 401, Message: "access denied, invalid bearer token"}}, nil)
		return
	}
	switch kind {
	case "scroll":
		f.scroll(w, r)
	case "details":
		f.details(w, r)
	}
}

func (f *fakeFalcon) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		f.t.Errorf("token: method %s", r.Method)
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("token: %v", err)
	}
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	f.mu.Unlock()
	if r.PostForm.Has("scope") {
		f.t.Errorf("token: the connector sent scopes %q; Falcon takes none", r.PostForm.Get("scope"))
	}
	if r.Header.Get("Authorization") != "" {
		f.t.Errorf("token: credentials sent in a header, want form fields")
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret {
		f.write(w, http.StatusForbidden, []any{}, []apiError{{Code: 403, Message: "Failed to issue access token - Not Authorized"}}, nil)
		return
	}
	if got := r.PostForm.Get("member_cid"); got != f.memberCID {
		f.t.Errorf("token: member_cid %q, want %q", got, f.memberCID)
	}
	f.mu.Lock()
	f.issued++
	tok := fmt.Sprintf("eyJhbGciOiJSUzI1NiJ9.tok%d.sig", f.issued)
	life := f.tokenLife
	if life == 0 {
		life = 30 * time.Minute // the server's own lifetime, not told to the client
	}
	f.tokens[tok] = f.clock.Now().Add(life)
	f.mu.Unlock()
	ans := map[string]any{"access_token": tok, "token_type": "bearer"}
	if f.tokenLife > 0 {
		ans["expires_in"] = int(f.tokenLife / time.Second)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(ans)
}

func (f *fakeFalcon) scroll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 5000 {
		f.write(w, http.StatusBadRequest, []any{}, []apiError{{Code: 400, Message: "limit must be 1-5000"}}, nil)
		return
	}
	if limit != f.wantLimit {
		f.t.Errorf("scroll: limit %d, want %d", limit, f.wantLimit)
	}
	if got := q.Get("filter"); got != f.wantFilter {
		f.t.Errorf("scroll: filter %q, want %q", got, f.wantFilter)
	}
	now := f.clock.Now()
	f.mu.Lock()
	off := q.Get("offset")
	f.offsets = append(f.offsets, off)
	pos := 0
	if off != "" {
		p, ok := f.pointers[off]
		if !ok || now.After(p.expires) {
			f.mu.Unlock()
			f.write(w, http.StatusBadRequest, []any{}, []apiError{{Code: 400, Message: "Invalid or expired offset"}}, nil)
			return
		}
		pos = p.pos
	}
	end := min(pos+limit, len(f.ids))
	page := append([]string{}, f.ids[pos:end]...)
	next := fmt.Sprintf("FQluY2x1ZGVfY29udGV4dF91dWlk%08x", len(f.pointers)+1)
	f.pointers[next] = pointer{pos: end, expires: now.Add(f.expiresPointer)}
	total := len(f.ids)
	f.mu.Unlock()
	f.write(w, http.StatusOK, page, nil, map[string]any{"offset": next, "limit": limit, "total": total,
		"expires_at": now.Add(f.expiresPointer).UnixNano()})
}

// fakePages holds the copying server's answer buffers for reuse.
var fakePages = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (f *fakeFalcon) details(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		f.t.Errorf("details: %s with Content-Type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
	}
	var body struct {
		IDs []string `json:"ids"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.IDs) == 0 || len(body.IDs) > 5000 {
		f.write(w, http.StatusBadRequest, []any{}, []apiError{{Code: 400, Message: "ids: 1-5000 ids required"}}, nil)
		return
	}
	f.mu.Lock()
	f.maxIDs = max(f.maxIDs, len(body.IDs))
	out := make([]json.RawMessage, 0, len(body.IDs))
	var errs []apiError
	for _, id := range body.IDs {
		if h, ok := f.hosts[id]; ok {
			out = append(out, h)
		} else {
			errs = append(errs, apiError{Code: 404, Message: "Device not found", ID: id})
		}
	}
	copyPages := f.copyPages
	f.mu.Unlock()
	if copyPages && len(errs) == 0 && len(out) > 0 {
		b := fakePages.Get().(*bytes.Buffer)
		defer func() { b.Reset(); fakePages.Put(b) }()
		b.WriteString(`{"errors":[],"meta":{"powered_by":"device-api","query_time":0.01,"trace_id":"trace-200"},"resources":[`)
		for i, h := range out {
			if i > 0 {
				b.WriteByte(',')
			}
			b.Write(h)
		}
		b.WriteString("]}\n")
		w.Header().Set("Content-Type", "application/json")
		w.Write(b.Bytes())
		return
	}
	f.write(w, http.StatusOK, out, errs, nil)
}
