package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func fetch(t *testing.T, s *Source) []coverage.Record {
	t.Helper()
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func checkAll(t *testing.T, recs []coverage.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("dev-%05d", i+1); r.ID != want {
			t.Fatalf("record %d is %s, want %s", i, r.ID, want)
		}
	}
}

func TestPagingStyles(t *testing.T) {
	for _, tc := range []struct {
		style string
		first int
		size  int
		pages int    // requests for 23 devices
		req   string // the second page's Request, after the host
	}{
		{"none", 0, 0, 1, ""},
		{"offset", 0, 5, 5, "/devices?limit=5&offset=5"},
		{"page", 1, 5, 5, "/devices?page=2&per_page=5"},
		{"page", 0, 5, 5, "/devices?page=1&per_page=5"},
		{"page", 1, 0, 8, "/devices?page=2"}, // the server's own size (3); the last, short page ends it
		{"cursor", 0, 5, 5, "/devices?cursor=c-5&limit=5"},
		{"next_link", 0, 5, 5, "/devices?$skiptoken=5"},
		{"link_header", 0, 5, 5, "/devices?since=5&per_page=5"}, // the link as the server gave it
	} {
		t.Run(fmt.Sprintf("%s-%d-%d", tc.style, tc.first, tc.size), func(t *testing.T) {
			f := newFake(t, 23, tc.style)
			f.first, f.size = tc.first, tc.size
			s := open(t, f, "")
			var progress [][2]int
			recs, err := s.Fetch(context.Background(), func(d, n int) { progress = append(progress, [2]int{d, n}) })
			if err != nil {
				t.Fatal(err)
			}
			checkAll(t, recs, 23)
			if n, _, _ := f.count(); n != tc.pages {
				t.Errorf("%d requests, want %d", n, tc.pages)
			}
			if len(progress) != tc.pages || progress[len(progress)-1][0] != 23 {
				t.Errorf("progress %v", progress)
			}
			if tc.req != "" {
				var second string
				for _, r := range recs {
					if r.Request != recs[0].Request {
						second = r.Request
						break
					}
				}
				if want := "GET " + f.srv.URL + tc.req; second != want {
					t.Errorf("second page's Request %q, want %q", second, want)
				}
			}
		})
	}
}

func TestRecordMapping(t *testing.T) {
	f := newFake(t, 7, "offset")
	recs := fetch(t, open(t, f, ""))
	r := recs[0]
	if r.Source != "inv" || r.Hostname != "host-1.corp.example" || r.Serial != "SN00000001" || r.OS != "Ubuntu 22.04" ||
		strings.Join(r.MACs, " ") != "00:11:22:33:00:01 00:aa:bb:cc:00:01" || strings.Join(r.IPs, " ") != "10.0.0.1" ||
		strings.Join(r.Groups, ",") != "prod,linux" || r.State != "online" || !r.Healthy ||
		!r.LastSeen.Equal(t0.Add(-time.Minute)) || !r.ReadAt.Equal(t0) {
		t.Errorf("record %+v", r)
	}
	if r.Fields.Map()["interfaces.mac"] != "00:11:22:33:00:01, 00:aa:bb:cc:00:01" || r.Fields.Map()["status"] != "online" || r.Fields.Map()["hw.serial"] != "SN00000001" {
		t.Errorf("fields %v", r.Fields.Map())
	}
	if want := "GET " + f.srv.URL + "/devices?limit=5&offset=0"; r.Request != want {
		t.Errorf("Request %q, want %q", r.Request, want)
	}
	if off := recs[6]; off.State != "offline" || off.Healthy {
		t.Errorf("offline device %+v", off)
	}
}

func TestAuthModes(t *testing.T) {
	for _, tc := range []struct {
		auth, header, prefix string
	}{
		{"none", "", ""}, {"basic", "", ""}, {"bearer", "", ""}, {"api_key", "X-API-Key", ""},
		{"api_key", "Authorization-Token", "ApiToken "}, {"api_key_param", "", ""}, {"oauth2", "", ""},
	} {
		t.Run(tc.auth+tc.header, func(t *testing.T) {
			f := newFake(t, 12, "cursor")
			f.auth = tc.auth
			if tc.header != "" {
				f.keyHeader, f.keyPrefix = tc.header, tc.prefix
			}
			if tc.auth == "oauth2" {
				f.scope = "inventory.read"
			}
			recs := fetch(t, open(t, f, ""))
			checkAll(t, recs, 12)
			for _, r := range recs {
				if strings.Contains(r.Request, f.token) || strings.Contains(r.Request, f.clientSecret) {
					t.Fatalf("Request %q holds a secret", r.Request)
				}
			}
			if tc.auth == "api_key_param" && !strings.Contains(recs[0].Request, "api_key=xxxxx") {
				t.Errorf("Request %q: the key parameter is not shown redacted", recs[0].Request)
			}
			if _, logins, _ := f.count(); (tc.auth == "oauth2") != (logins == 1) {
				t.Errorf("%d logins", logins)
			}
		})
	}
}

func TestPOSTBodyPaging(t *testing.T) {
	f := newFake(t, 11, "offset")
	f.method, f.inBody = http.MethodPost, true
	dir := t.TempDir()
	doc := strings.Replace(f.config(t, dir, "method: POST\nbody:\n  filter: {kind: server}\n"), "  style: offset\n", "  style: offset\n  in: body\n", 1)
	s, err := build(t, doc, dir, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	recs := fetch(t, s)
	checkAll(t, recs, 11)
	if len(f.bodies) != 3 || f.bodies[1]["offset"] != float64(5) || f.bodies[1]["limit"] != float64(5) ||
		fmt.Sprint(f.bodies[1]["filter"]) != "map[kind:server]" || f.queries[1].Encode() != "" {
		t.Errorf("bodies %v, queries %v", f.bodies, f.queries)
	}
	if want := "POST " + f.srv.URL + `/devices {"limit":5,"offset":5}`; recs[5].Request != want {
		t.Errorf("Request %q, want %q", recs[5].Request, want)
	}
}

func TestFixedQueryAndHeaders(t *testing.T) {
	f := newFake(t, 4, "offset")
	var seen http.Header
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		seen = r.Header.Clone()
		if r.URL.Query().Get("status") != "any" || r.URL.Query().Get("view") != "full" {
			t.Errorf("query %v", r.URL.Query())
		}
		return false
	}
	dir := t.TempDir()
	doc := strings.Replace(f.config(t, dir, "query:\n  status: any\nheaders:\n  X-Tenant: acme\n"), "/devices\n", "/devices?view=full\n", 1)
	s, err := build(t, doc, dir, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	checkAll(t, fetch(t, s), 4)
	if seen.Get("X-Tenant") != "acme" || seen.Get("Accept") != "application/json" {
		t.Errorf("headers %v", seen)
	}
}

func TestServerCapsPageSize(t *testing.T) {
	// Asked for 50, the server sends 4 a page: a page shorter than the size
	// asked for must not end the walk.
	for _, style := range []string{"offset", "page"} {
		f := newFake(t, 19, style)
		f.size, f.cap = 50, 4
		dir := t.TempDir()
		doc := strings.Replace(f.config(t, dir, ""), "  total: meta.total\n", "", 1)
		doc = strings.Replace(doc, "  total: total\n", "", 1)
		s, err := build(t, doc, dir, f.clock)
		if err != nil {
			t.Fatal(err)
		}
		checkAll(t, fetch(t, s), 19)
		if n, _, _ := f.count(); n != 5 {
			t.Errorf("%s: %d requests, want 5 (the fifth page, 3 records, is shorter than the others)", style, n)
		}
	}
}

func TestOAuth2RenewsShortTokens(t *testing.T) {
	f := newFake(t, 40, "offset")
	f.auth, f.tokenLife = "oauth2", 10*time.Second
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		f.clock.Advance(3 * time.Second) // each page takes 3 s
		return false
	}
	s := open(t, f, "")
	checkAll(t, fetch(t, s), 40)
	reqs, logins, _ := f.count()
	if logins < 3 || reqs != 8 {
		t.Errorf("%d logins, %d requests: a 10 s token over 24 s of paging is renewed before it expires, and no page is refused", logins, reqs)
	}
	// --watch: the next Fetch reuses the cache
	before := logins
	checkAll(t, fetch(t, s), 40)
	if _, logins, _ := f.count(); logins-before >= 8 {
		t.Errorf("%d more logins for the second run's 8 pages: the token is not shared", logins-before)
	}
}

func TestOAuth2RevokedMidWalk(t *testing.T) {
	f := newFake(t, 20, "page")
	f.auth, f.first = "oauth2", 1
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 3 {
			f.revokeAll()
		}
		return false
	}
	checkAll(t, fetch(t, open(t, f, "")), 20)
	if reqs, logins, _ := f.count(); logins != 2 || reqs != 5 {
		t.Errorf("%d logins, %d requests; want one re-auth after the 401 (2 logins) and 5 requests", logins, reqs)
	}
}

func TestOAuth2RefusedAgain(t *testing.T) {
	f := newFake(t, 20, "page")
	f.auth = "oauth2"
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n >= 2 {
			f.revokeAll()
		}
		return false
	}
	_, err := open(t, f, "").Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "refused too") || strings.Contains(err.Error(), f.clientSecret) {
		t.Fatalf("err = %v", err)
	}
	if _, logins, _ := f.count(); logins != 2 {
		t.Errorf("%d logins, want 2 (exactly one re-auth)", logins)
	}
}

func TestOAuth2TokenEndpointFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		hook func(w http.ResponseWriter, r *http.Request) bool
		want string
	}{
		{"down", func(w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "upstream down", http.StatusServiceUnavailable)
			return true
		}, "gave up after 5 tries"},
		{"html", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>Sign in</body></html>"))
			return true
		}, "token endpoint"},
		{"wrong secret", nil, "invalid_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 3, "none")
			f.auth, f.tokenHook = "oauth2", tc.hook
			s := open(t, f, "")
			if tc.hook == nil {
				f.clientSecret = "the-server-wants-another"
			}
			_, err := s.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "cs-S3cret") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if tc.hook == nil && !errors.Is(err, connauth.ErrLoginRefused) {
				t.Errorf("a refused login is not ErrLoginRefused: %v", err)
			}
			if reqs, _, _ := f.count(); reqs != 0 {
				t.Errorf("%d API requests without a token", reqs)
			}
		})
	}
}

func TestOAuth2TokenWithoutExpiry(t *testing.T) {
	f := newFake(t, 6, "cursor")
	f.auth, f.tokenLife = "oauth2", 0
	s := open(t, f, "")
	checkAll(t, fetch(t, s), 6)
	f.clock.Advance(48 * time.Hour)
	checkAll(t, fetch(t, s), 6)
	if _, logins, _ := f.count(); logins != 1 {
		t.Errorf("%d logins: a token without expires_in is kept until the API refuses it", logins)
	}
	f.mu.Lock()
	f.revokeAll()
	f.mu.Unlock()
	checkAll(t, fetch(t, s), 6)
	if _, logins, _ := f.count(); logins != 2 {
		t.Errorf("%d logins after the 401, want 2", logins)
	}
}

func TestStaticCredentialsRefused(t *testing.T) {
	for _, auth := range []string{"bearer", "api_key", "api_key_param", "basic", "none"} {
		t.Run(auth, func(t *testing.T) {
			f := newFake(t, 3, "none")
			f.auth = auth
			s := open(t, f, "")
			f.token, f.password = "rotated", "changed"
			if auth == "none" {
				f.auth = "bearer"
			}
			_, err := s.Fetch(context.Background(), nil)
			if !errors.Is(err, connauth.ErrLoginRefused) || strings.Contains(err.Error(), "tok-S3cret") || strings.Contains(err.Error(), "pw-S3cret") {
				t.Fatalf("err = %v", err)
			}
			want := map[string]string{"bearer": "token_file", "api_key": "token_file", "api_key_param": "token_file", "basic": "password_file", "none": "set auth"}[auth]
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err %v does not say %q", err, want)
			}
			if n, _, _ := f.count(); n != 1 {
				t.Errorf("%d requests: a refused static credential is not retried", n)
			}
		})
	}
}

func TestSecretNotInErrors(t *testing.T) {
	f := newFake(t, 3, "none")
	f.auth = "api_key_param"
	// the server echoes the request line, key and all, in its error
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		http.Error(w, "bad request: "+r.URL.String(), http.StatusBadRequest)
		return true
	}
	_, err := open(t, f, "").Fetch(context.Background(), nil)
	if err == nil || strings.Contains(err.Error(), f.token) || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("err = %v", err)
	}
}

func TestRateLimit429(t *testing.T) {
	for _, noRetryAfter := range []bool{false, true} {
		f := newFake(t, 10, "offset")
		f.noRetryAfter = noRetryAfter
		f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 2 {
				f.limited++
				if !noRetryAfter {
					w.Header().Set("Retry-After", "7")
				}
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return true
			}
			return false
		}
		s := open(t, f, "")
		checkAll(t, fetch(t, s), 10)
		if s.tr.RateLimited() != 1 || s.tr.RetryCount() != 1 {
			t.Errorf("retry-after %v: %d 429s, %d retries", !noRetryAfter, s.tr.RateLimited(), s.tr.RetryCount())
		}
		waits := f.clock.Slept()
		if !noRetryAfter && (len(waits) == 0 || waits[len(waits)-1] != 7*time.Second) {
			t.Errorf("waits %v, want the 7 s Retry-After", waits)
		}
		if noRetryAfter && len(waits) == 0 {
			t.Errorf("no backoff after a 429 without Retry-After")
		}
	}
}

// TestBudgetStaysUnderLimit walks 3,000 devices at 100 a page against a
// server that allows 10 requests in any second, with the default budget:
// not one 429.
func TestBudgetStaysUnderLimit(t *testing.T) {
	f := newFake(t, 3000, "offset")
	f.size, f.perSecond = 100, 10
	dir := t.TempDir()
	doc := strings.Replace(f.config(t, dir, ""), "rate_limit: 1000/s\n", "", 1)
	s, err := build(t, doc, dir, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	if s.tr.Budget != DefaultBudget {
		t.Fatalf("budget %v", s.tr.Budget)
	}
	checkAll(t, fetch(t, s), 3000)
	if _, _, limited := f.count(); limited != 0 || s.tr.RateLimited() != 0 {
		t.Errorf("%d 429s", limited)
	}
	if el := f.clock.Now().Sub(t0); el < 5*time.Second {
		t.Errorf("30 pages in %v: the budget did not space them", el)
	}
}
