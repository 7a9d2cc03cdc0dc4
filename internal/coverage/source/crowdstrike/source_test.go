package crowdstrike

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// open builds a source on f from YAML (url and credentials are added), on
// f's clock.
func open(t testing.TB, f *fakeFalcon, extra string) *Source {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(f.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := fmt.Sprintf("name: cs\nkind: crowdstrike\nurl: %s\nclient_id: %s\nclient_secret_file: secret\n%s", f.srv.URL, f.clientID, extra)
	src, err := build(t, doc, dir, f.clock.Now)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	src.tr.Sleep, src.tr.Now = f.clock.Sleep, f.clock.Now
	return src
}

func build(t testing.TB, doc, dir string, now func() time.Time) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
	}
	env := coverage.Env{Dir: dir, Now: now, Window: 24 * time.Hour, Stderr: &strings.Builder{}}
	s, err := New(node.Content[0], env)
	if err != nil {
		return nil, err
	}
	return s.(*Source), nil
}

func TestFetchPages(t *testing.T) {
	f := newFake(t, 7)
	f.memberCID = "9a8b7c6d5e4f30112233445566778899"
	f.wantLimit, f.wantFilter = 3, "platform_name:'Windows'+status:'normal'"
	src := open(t, f, "member_cid: 9a8b7c6d5e4f30112233445566778899\nfilter: \"platform_name:'Windows'+status:'normal'\"\n")
	src.pageSize, src.batch = 3, 2
	src.tr.Budget = connauth.Rate{} // every record read at the same instant of the test clock
	var progress [][2]int
	recs, err := src.Fetch(context.Background(), func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("got %d records, want 7", len(recs))
	}
	want := wantRecorded("cs", readAt, "")
	for _, r := range recs {
		if !strings.HasPrefix(r.Request, "POST "+f.srv.URL+"/devices/entities/devices/v2 (") {
			t.Errorf("record %s: request %q", r.ID, r.Request)
		}
		w, ok := want[r.ID]
		if !ok {
			continue
		}
		r.Request = ""
		if d := cmp.Diff(w, r); d != "" {
			t.Errorf("record %s (-want +got):\n%s", r.ID, d)
		}
	}
	if d := cmp.Diff([][2]int{{3, 7}, {6, 7}, {7, 7}}, progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	if f.offsets[0] != "" || f.offsets[1] == "" || f.offsets[1] == f.offsets[2] || len(f.offsets) != 3 {
		t.Errorf("offsets sent: %q; want none first, then each page's token", f.offsets)
	}
	if f.count("token") != 1 || f.count("details") != 5 || f.maxIDs != 2 {
		t.Errorf("calls %v, largest details batch %d", f.calls, f.maxIDs)
	}
}

func TestDefaultsAskTheMaximumPage(t *testing.T) {
	f := newFake(t, 4)
	src := open(t, f, "")
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// newFake's wantLimit is PageSize, and there is no filter.
	if f.count("scroll") != 1 || f.count("details") != 1 {
		t.Errorf("calls %v; 4 hosts need one page and one details call", f.calls)
	}
	if src.tr.Budget != DefaultBudget {
		t.Errorf("budget %v, want %v", src.tr.Budget, DefaultBudget)
	}
}

// TestBudgetKeepsUnderTheLimit walks more requests than the account's
// limit allows in a minute (one id per page and per details call) against
// a server enforcing 6,000 requests per sliding minute on the fake clock:
// the default budget must keep every request under it.
func TestBudgetKeepsUnderTheLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("6,000 requests")
	}
	const n = 3100
	f := newFake(t, n)
	f.wantLimit = 1
	src := open(t, f, "")
	src.pageSize, src.batch = 1, 1
	start := f.clock.Now()
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	if f.limited != 0 || src.tr.RateLimited() != 0 {
		t.Errorf("the server answered %d 429s (the transport saw %d); want none", f.limited, src.tr.RateLimited())
	}
	if el := f.clock.Now().Sub(start); el < time.Minute {
		t.Errorf("%d requests took %s of fake time; the budget did not space them", 2*n, el)
	}
}

// TestFakeEnforcesLimit checks the test server's limiter itself: request
// 6,001 within a minute is refused with Falcon's headers.
func TestFakeEnforcesLimit(t *testing.T) {
	f := newFake(t, 0)
	var last *httptest.ResponseRecorder
	for i := 0; i <= AccountLimit; i++ {
		last = httptest.NewRecorder()
		f.admit(last)
		if i == AccountLimit-1 && last.Header().Get("X-RateLimit-Remaining") != "0" {
			t.Fatalf("request %d: remaining %q", i+1, last.Header().Get("X-RateLimit-Remaining"))
		}
	}
	if last.Code != http.StatusTooManyRequests || f.limited != 1 {
		t.Fatalf("request 6001: HTTP %d, %d refused", last.Code, f.limited)
	}
	at, err := strconv.ParseInt(last.Header().Get("X-RateLimit-RetryAfter"), 10, 64)
	if err != nil || time.Unix(at, 0).Before(f.clock.Now().Add(59*time.Second)) {
		t.Errorf("X-RateLimit-RetryAfter %q, want the epoch second the window frees", last.Header().Get("X-RateLimit-RetryAfter"))
	}
	f.clock.Advance(61 * time.Second)
	rec := httptest.NewRecorder()
	if !f.admit(rec) {
		t.Error("a request after the window was refused")
	}
}

func TestRateLimited429(t *testing.T) {
	for _, withHeader := range []bool{true, false} {
		t.Run(strconv.FormatBool(withHeader), func(t *testing.T) {
			f := newFake(t, 4)
			src := open(t, f, "")
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind == "scroll" && n == 1 {
					w.Header().Set("X-RateLimit-Limit", "6000")
					w.Header().Set("X-RateLimit-Remaining", "0")
					if withHeader {
						w.Header().Set("X-RateLimit-RetryAfter", strconv.FormatInt(f.clock.Now().Add(7*time.Second).Unix(), 10))
					}
					f.write(w, http.StatusTooManyRequests, []any{}, []apiError{{Code: 429, Message: "API rate limit exceeded."}}, nil)
					return true
				}
				return false
			}
			start := f.clock.Now()
			recs, err := src.Fetch(context.Background(), nil)
			if err != nil || len(recs) != 4 {
				t.Fatalf("%d records, %v", len(recs), err)
			}
			if src.tr.RateLimited() != 1 || f.count("scroll") != 2 {
				t.Errorf("429s seen %d, scroll calls %d; want 1 and a retry", src.tr.RateLimited(), f.count("scroll"))
			}
			if waited := f.clock.Now().Sub(start); withHeader && waited < 7*time.Second {
				t.Errorf("waited %s, want the 7 s X-RateLimit-RetryAfter asked", waited)
			}
		})
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFake(t, 7)
	f.tokenLife = 120 * time.Second
	f.wantLimit = 2
	src := open(t, f, "")
	src.pageSize = 2
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "details" {
			f.clock.Advance(50 * time.Second) // each page takes long: the token nears its end
		}
		return false
	}
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.issued < 2 || f.refused != 0 {
		t.Errorf("%d tokens issued, %d requests refused; want renewals before expiry and no 401", f.issued, f.refused)
	}
}

func TestTokenKeptAcrossFetches(t *testing.T) {
	f := newFake(t, 4)
	src := open(t, f, "")
	for range 3 {
		if _, err := src.Fetch(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if f.issued != 1 {
		t.Errorf("three fetches logged in %d times, want 1", f.issued)
	}
}

func TestRevokedMidWalk(t *testing.T) {
	f := newFake(t, 7)
	f.wantLimit = 3
	src := open(t, f, "")
	src.pageSize = 3
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "scroll" && n == 2 {
			f.revokeAll()
		}
		return false
	}
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 7 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if f.issued != 2 || f.refused != 1 {
		t.Errorf("%d logins, %d refusals; want exactly one re-authentication", f.issued, f.refused)
	}
}

func TestRefusedTwice(t *testing.T) {
	f := newFake(t, 4)
	src := open(t, f, "")
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "scroll" {
			f.revokeAll()
		}
		return false
	}
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "refused too") {
		t.Fatalf("err = %v, want a second refusal", err)
	}
	if f.issued != 2 {
		t.Errorf("%d logins, want 2 (one renewal, no loop)", f.issued)
	}
	noSecret(t, f, err)
}

func TestLoginRefused(t *testing.T) {
	f := newFake(t, 4)
	src := open(t, f, "")
	f.secret = "the-secret-was-reset-in-the-console-xyz"
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) {
		t.Fatalf("err = %v, want ErrLoginRefused", err)
	}
	for _, want := range []string{"403", "Not Authorized", f.clientID} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if f.count("token") != 1 || f.count("scroll") != 0 {
		t.Errorf("calls %v, want one token request and nothing else", f.calls)
	}
	noSecret(t, f, err)
	if strings.Contains(err.Error(), "s3cret-Falcon") {
		t.Errorf("error shows the configured secret: %v", err)
	}
}

// noSecret fails when err shows the client secret or a token.
func noSecret(t *testing.T, f *fakeFalcon, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{f.secret, "eyJhbGciOiJSUzI1NiJ9"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows a secret %q: %v", s, err)
		}
	}
}

func TestTokenEndpointFaults(t *testing.T) {
	tests := []struct {
		name string
		hook func(w http.ResponseWriter)
		want string
	}{
		{"down", func(w http.ResponseWriter) {
			http.Error(w, "<html><body>502 Bad Gateway</body></html>", http.StatusBadGateway)
		}, "502"},
		{"html", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
		}, "not a JSON token answer"},
		{"no token", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			fmt.Fprint(w, `{"token_type":"bearer","expires_in":1799}`)
		}, "access_token"},
		{"wrong cloud", func(w http.ResponseWriter) {
			w.Header().Set("Location", "https://api.us-2.crowdstrike.com/oauth2/token")
			w.Header().Set("X-Cs-Region", "us-2")
			w.WriteHeader(http.StatusPermanentRedirect)
		}, "set cloud: us-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 4)
			src := open(t, f, "")
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind == "token" {
					tc.hook(w)
					return true
				}
				return false
			}
			_, err := src.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if f.count("scroll") != 0 {
				t.Error("hosts were read without a token")
			}
			noSecret(t, f, err)
		})
	}
}

func TestTokenWithoutExpiresIn(t *testing.T) {
	f := newFake(t, 4)
	f.tokenLife = 0
	src := open(t, f, "")
	for range 2 {
		if _, err := src.Fetch(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	f.revokeAll()
	if _, err := src.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if f.issued != 2 || f.refused != 1 {
		t.Errorf("%d logins, %d refusals; want the token kept until the API refused it, then one new login", f.issued, f.refused)
	}
}

func TestAPIFaults(t *testing.T) {
	tests := []struct {
		name string
		kind string
		hook func(f *fakeFalcon, w http.ResponseWriter)
		want string
	}{
		{"html page", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Proxy login</body></html>")
		}, "not Falcon's JSON"},
		{"truncated scroll", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			fmt.Fprint(w, `{"meta":{"pagination":{"offset":"x","total":4}},"resources":["4f1c8e2a9b7d`)
		}, "not complete JSON"},
		{"truncated details", "details", func(f *fakeFalcon, w http.ResponseWriter) {
			fmt.Fprint(w, `{"meta":{},"errors":[],"resources":[{"device_id":"4f1c8e2a9b7d4c3e8a6f5b2d1e0c9a87","device_policies":{"prevention":{`)
		}, "not complete JSON"},
		{"wrong type", "details", func(f *fakeFalcon, w http.ResponseWriter) {
			fmt.Fprint(w, `{"meta":{},"errors":[],"resources":[{"device_id":"4f1c8e2a9b7d4c3e8a6f5b2d1e0c9a87","hostname":{"name":"x"}}]}`)
		}, "field resources[0].hostname holds a JSON object"},
		{"wrong total type", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			fmt.Fprint(w, `{"meta":{"pagination":{"offset":"x","total":"many"}},"resources":[],"errors":[]}`)
		}, `field "meta.pagination.total"`},
		{"no pagination", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			fmt.Fprint(w, `{"meta":{},"resources":[],"errors":[]}`)
		}, "no meta.pagination"},
		{"errors array", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			f.write(w, http.StatusOK, []string{}, []apiError{{Code: 500, Message: "internal error: query failed"}}, map[string]any{"offset": "", "total": 0})
		}, "500 internal error: query failed"},
		{"forbidden", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			f.write(w, http.StatusForbidden, []any{}, []apiError{{Code: 403, Message: "access denied, authorization failed"}}, nil)
		}, "Hosts: Read"},
		{"wrong cloud", "scroll", func(f *fakeFalcon, w http.ResponseWriter) {
			w.Header().Set("Location", "https://api.eu-1.crowdstrike.com/devices/queries/devices-scroll/v1")
			w.Header().Set("X-Cs-Region", "eu-1")
			w.WriteHeader(http.StatusPermanentRedirect)
		}, "set cloud: eu-1"},
		{"details missing", "details", func(f *fakeFalcon, w http.ResponseWriter) {
			f.write(w, http.StatusOK, recordedRaw(f.t)[:3], nil, nil)
		}, "did not come back"},
		{"details not asked", "details", func(f *fakeFalcon, w http.ResponseWriter) {
			f.write(w, http.StatusOK, []map[string]string{{"device_id": "ffff"}}, nil, nil)
		}, "not asked for"},
		{"details errors", "details", func(f *fakeFalcon, w http.ResponseWriter) {
			f.write(w, http.StatusOK, recordedRaw(f.t)[:3], []apiError{{Code: 404, Message: "Device not found", ID: "c4d5e6f7a8b94c0d1e2f3a4b5c6d7e8f"}}, nil)
		}, "404 Device not found (id c4d5e6f7a8b94c0d1e2f3a4b5c6d7e8f)"},
		{"two values", "details", func(f *fakeFalcon, w http.ResponseWriter) {
			fmt.Fprint(w, `{"resources":[]} {"resources":[]}`)
		}, "more data after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 4)
			src := open(t, f, "")
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind == tc.kind {
					tc.hook(f, w)
					return true
				}
				return false
			}
			recs, err := src.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
			if recs != nil {
				t.Errorf("%d records returned with the error", len(recs))
			}
			if !strings.Contains(err.Error(), "crowdstrike source cs") {
				t.Errorf("error does not name the source: %v", err)
			}
			noSecret(t, f, err)
		})
	}
}

func TestTooBig(t *testing.T) {
	f := newFake(t, 4)
	src := open(t, f, "")
	src.maxBody = 2048
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a refusal of the big answer", err)
	}
}

// TestPagingFaults: the guards of coverage.Walk on Falcon's paging.
func TestPagingFaults(t *testing.T) {
	ids := func(f *fakeFalcon) []string { return append([]string{}, f.ids...) }
	tests := []struct {
		name string
		page func(f *fakeFalcon, n int) (resources []string, offset string, total int)
		want string
	}{
		{"loop", func(f *fakeFalcon, n int) ([]string, string, int) { return ids(f)[n-1 : n], "same-token", 4 }, "again"},
		{"repeat", func(f *fakeFalcon, n int) ([]string, string, int) { return ids(f)[:2], "t" + strconv.Itoa(n), 4 }, "came twice"},
		{"more than declared", func(f *fakeFalcon, n int) ([]string, string, int) { return ids(f)[:3], "t", 2 }, "sent more"},
		{"fewer than declared", func(f *fakeFalcon, n int) ([]string, string, int) {
			if n == 1 {
				return ids(f)[:2], "t1", 10
			}
			return []string{}, "t2", 10
		}, "the pages held 2"},
		{"empty id", func(f *fakeFalcon, n int) ([]string, string, int) { return []string{""}, "t", 1 }, "empty id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 4)
			src := open(t, f, "")
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind != "scroll" {
					return false
				}
				res, off, total := tc.page(f, n)
				f.write(w, http.StatusOK, res, nil, map[string]any{"offset": off, "limit": PageSize, "total": total})
				return true
			}
			_, err := src.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

func TestScrollPointerExpired(t *testing.T) {
	f := newFake(t, 4)
	f.wantLimit = 2
	src := open(t, f, "")
	src.pageSize = 2
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "details" {
			f.clock.Advance(3 * time.Minute)
		}
		return false
	}
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "2 minutes") || !strings.Contains(err.Error(), "expired offset") {
		t.Fatalf("err = %v, want an expired scroll token", err)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const cred = "client_id: 0123456789abcdef0123456789abcdef\nclient_secret_file: secret\n"
	tests := []struct {
		doc, want, base, tokenURL string
	}{
		{doc: cred, base: "https://api.crowdstrike.com", tokenURL: "https://api.crowdstrike.com/oauth2/token"},
		{doc: cred + "cloud: eu-1\n", base: "https://api.eu-1.crowdstrike.com", tokenURL: "https://api.eu-1.crowdstrike.com/oauth2/token"},
		{doc: cred + "cloud: US-GOV-1\n", base: "https://api.laggar.gcw.crowdstrike.com"},
		{doc: cred + "url: https://proxy.example/falcon/\n", base: "https://proxy.example/falcon", tokenURL: "https://proxy.example/falcon/oauth2/token"},
		{doc: cred + "url: http://127.0.0.1:9\ntoken_url: http://127.0.0.1:57010/token\n", base: "http://127.0.0.1:9", tokenURL: "http://127.0.0.1:57010/token"},
		{doc: cred + "cloud: us-2\nurl: https://x\n", want: "cloud or url, not both"},
		{doc: cred + "cloud: us-3\n", want: `cloud "us-3" is not a Falcon cloud; give one of eu-1, us-1, us-2, us-gov-1, us-gov-2`},
		{doc: cred + "url: ftp://x\n", want: "not an http(s) address"},
		{doc: cred + "url: https://u:p@x\n", want: "must not hold a user"},
		{doc: cred + "url: https://x/?a=1\n", want: "query"},
		{doc: cred + "user: admin\n", want: "Falcon logs in with an API client"},
		{doc: cred + "token_env: X\n", want: "token_file/token_env do not apply"},
		{doc: cred + "scopes: [hosts:read]\n", want: "scopes do not apply"},
		{doc: cred + "member_cid: nope\n", want: "member_cid \"nope\" is not a CID"},
		{doc: cred + "member_cid: 9A8B7C6D5E4F30112233445566778899-A1\n"},
		{doc: cred + "filter: \"\"\n", want: "filter is empty"},
		{doc: cred + "filter: \"a\\tb\"\n", want: "control characters"},
		{doc: cred + "rate_limit: 10/s\n"},
		{doc: "client_secret_file: secret\n", want: "client_id is not set"},
		{doc: "client_id: x\n", want: "no client_secret_file or client_secret_env"},
		{doc: "client_id: \"a b\"\nclient_secret_file: secret\n", want: "spaces"},
		{doc: cred + "colud: us-1\n", want: `unknown key "colud"`},
	}
	for _, tc := range tests {
		src, err := build(t, "name: cs\nkind: crowdstrike\n"+tc.doc, dir, nil)
		switch {
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: err = %v, want %q", tc.doc, err, tc.want)
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.doc, err)
		case tc.want == "" && tc.base != "" && src.base != tc.base:
			t.Errorf("%q: base %q, want %q", tc.doc, src.base, tc.base)
		case tc.want == "" && tc.tokenURL != "" && src.tokenURL != tc.tokenURL:
			t.Errorf("%q: token URL %q, want %q", tc.doc, src.tokenURL, tc.tokenURL)
		}
	}
}

func TestRateLimitWarning(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("abc\n"), 0o600)
	var node yaml.Node
	yaml.Unmarshal([]byte("name: cs\nkind: crowdstrike\nclient_id: x\nclient_secret_file: secret\nrate_limit: 200/s\n"), &node)
	var stderr strings.Builder
	if _, err := New(node.Content[0], coverage.Env{Dir: dir, Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "up to 12000 requests into one minute") {
		t.Errorf("stderr %q, want a warning about the budget", stderr.String())
	}
}
