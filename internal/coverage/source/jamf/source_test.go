package jamf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// open builds a source on f from YAML (url and, unless extra gives some,
// the user account's credentials are added), on f's clock.
func open(t testing.TB, f *fakeJamf, extra string) *Source {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string]string{"pw": f.password, "secret": f.clientSecret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	doc := fmt.Sprintf("name: jamf-test\nkind: jamf\nurl: %s\n%s", f.srv.URL, extra)
	if !strings.Contains(extra, "client_") && !strings.Contains(extra, "user:") {
		doc += "user: " + f.user + "\npassword_file: pw\n"
	}
	src, err := build(t, doc, dir, f.clock)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func build(t testing.TB, doc, dir string, c *clock) (*Source, error) {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &node); err != nil {
		t.Fatal(err)
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

func fetch(t *testing.T, s *Source) []coverage.Record {
	t.Helper()
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestUserAccountPagedWalk(t *testing.T) {
	f := newFake(t, 7)
	f.pageSize = 3
	f.filter = `general.site.name=="Paris"`
	src := open(t, f, "page_size: 3\nfilter: 'general.site.name==\"Paris\"'\n")
	var progress [][2]int
	recs, err := src.Fetch(context.Background(), func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("%d records, want 7", len(recs))
	}
	if d := cmp.Diff([][2]int{{3, 7}, {6, 7}, {7, 7}}, progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	if f.count("/api/v1/auth/token") != 1 || f.count("/api/v3/computers-inventory") != 3 {
		t.Errorf("calls %v, want one login and three pages", f.calls)
	}
	r := recs[1] // computer 2: managed, in Paris, seen 2 minutes ago
	want := fmt.Sprintf("GET %s/api/v3/computers-inventory?filter=general.site.name%%3D%%3D%%22Paris%%22&page=0&page-size=3&section=GENERAL&section=HARDWARE&section=OPERATING_SYSTEM&sort=id%%3Aasc", f.srv.URL)
	if r.ID != "2" || r.Hostname != "mac-00002" || r.State != StateManaged || !r.Healthy || r.Request != want ||
		!cmp.Equal(r.Groups, []string{"Paris"}) || r.Serial != "C02X000002Q6L" || r.OS != "macOS 14.2.1" ||
		!r.LastSeen.Equal(t0.Add(-2*time.Minute)) || !r.ReadAt.Equal(t0.Add(time.Second)) { // the login, one budget second, the page
		t.Errorf("record 2: %+v\nrequest %s", r, want)
	}
	if recs[4].State != StateStale || recs[4].Healthy { // computer 5: not seen for 30 days
		t.Errorf("record 5: %+v", recs[4])
	}
	if recs[6].State != StateUnmanaged || recs[6].Healthy || recs[6].Groups != nil { // computer 7
		t.Errorf("record 7: %+v", recs[6])
	}
}

func TestAPIVersion(t *testing.T) {
	f := newFake(t, 2)
	f.version = "v1" // an older server
	if recs := fetch(t, open(t, f, "api_version: v1\n")); len(recs) != 2 || !strings.Contains(recs[0].Request, "/api/v1/computers-inventory?") {
		t.Errorf("v1: %d records, %+v", len(recs), recs)
	}
	_, err := open(t, f, "").Fetch(context.Background(), nil) // the default v3 is not on this server
	if err == nil || !strings.Contains(err.Error(), "set api_version") || !strings.Contains(err.Error(), "404") {
		t.Errorf("err = %v, want a 404 that suggests api_version", err)
	}
}

func TestKeepAliveRenewsBeforeExpiry(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "")
	fetch(t, src)
	first := strings.TrimPrefix(fmt.Sprint(keys(f)), "[")
	f.clock.Advance(10 * time.Minute)
	fetch(t, src)
	if len(f.keepAlives) != 0 {
		t.Fatalf("renewed a token 20 minutes before its expiry: %v", f.keepAlives)
	}
	f.clock.Advance(19*time.Minute + 30*time.Second) // 30 s before expiry: due
	fetch(t, src)
	if f.count("/api/v1/auth/token") != 1 || len(f.keepAlives) != 1 {
		t.Fatalf("%d logins, keep-alives %v; want the token renewed with keep-alive, not a new login", f.count("/api/v1/auth/token"), f.keepAlives)
	}
	if !strings.HasPrefix(first, f.keepAlives[0]) {
		t.Errorf("keep-alive renewed %q, want the first token %q", f.keepAlives[0], first)
	}
	if len(f.tokens) != 1 || f.tokens[f.keepAlives[0]] != (time.Time{}) {
		t.Errorf("live tokens %v; want only the renewed one", f.tokens)
	}
}

func keys(f *fakeJamf) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.tokens {
		out = append(out, k)
	}
	return out
}

func TestKeepAliveRefusedFallsBackToOneLogin(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "")
	fetch(t, src)
	f.revokeAll()
	f.clock.Advance(29*time.Minute + 30*time.Second)
	if recs := fetch(t, src); len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	if len(f.keepAlives) != 1 || f.count("/api/v1/auth/token") != 2 {
		t.Errorf("keep-alives %v, %d logins; want a refused keep-alive, then one login", f.keepAlives, f.count("/api/v1/auth/token"))
	}
}

func TestTokenRevokedMidWalk(t *testing.T) {
	f := newFake(t, 7)
	f.pageSize = 3
	src := open(t, f, "page_size: 3\n")
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 {
			clear(f.tokens) // revoked between pages
		}
		return false
	}
	if recs := fetch(t, src); len(recs) != 7 {
		t.Fatalf("%d records", len(recs))
	}
	if f.count("/api/v1/auth/token") != 2 || len(f.keepAlives) != 0 {
		t.Errorf("%d logins, keep-alives %v; want exactly one new login and no keep-alive of a refused token", f.count("/api/v1/auth/token"), f.keepAlives)
	}
}

func TestTokenRefusedTwice(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "")
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		jamfError(w, http.StatusUnauthorized)
		return true
	}
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "refused too") || !strings.Contains(err.Error(), "Read Computers") {
		t.Fatalf("err = %v", err)
	}
	if f.count("/api/v1/auth/token") != 2 || f.count("/api/v3/computers-inventory") != 2 {
		t.Errorf("calls %v; want two logins and two tries, no loop", f.calls)
	}
}

func TestBasicLoginRefusedOnce(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "")
	f.password = "changed-on-the-server"
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) {
		t.Fatalf("err = %v, want ErrLoginRefused", err)
	}
	for _, want := range []string{"muster-reader", "HTTP 401", "lock", "jamf source jamf-test"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error shows the password: %v", err)
	}
	if f.count("/api/v1/auth/token") != 1 || f.count("/api/v3/computers-inventory") != 0 {
		t.Errorf("calls %v; want exactly one login and nothing else", f.calls)
	}
}

func TestCloseInvalidatesTheToken(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "")
	fetch(t, src)
	live := keys(f)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.invalidated) != 1 || len(live) != 1 || f.invalidated[0] != live[0] || len(keys(f)) != 0 {
		t.Errorf("invalidated %v of live tokens %v; left %v", f.invalidated, live, keys(f))
	}
	if err := src.Close(); err != nil || len(f.invalidated) != 1 {
		t.Errorf("a second Close: %v, %d invalidations", err, len(f.invalidated))
	}
	fetch(t, src) // a source is reusable after Close
	if f.count("/api/v1/auth/token") != 2 || len(f.keepAlives) != 0 {
		t.Errorf("after Close: %d logins, keep-alives %v", f.count("/api/v1/auth/token"), f.keepAlives)
	}
	f.revokeAll()
	if err := src.Close(); err != nil { // already ended on the server: 401 is fine
		t.Errorf("Close of a revoked token: %v", err)
	}
}

func TestClockSkew(t *testing.T) {
	t.Run("server ahead, Date header", func(t *testing.T) {
		f := newFake(t, 2)
		f.skew = 2 * time.Hour
		src := open(t, f, "")
		fetch(t, src)
		f.clock.Advance(20 * time.Minute)
		fetch(t, src)
		f.clock.Advance(9*time.Minute + 30*time.Second)
		fetch(t, src)
		if f.count("/api/v1/auth/token") != 1 || len(f.keepAlives) != 1 {
			t.Errorf("%d logins, %d keep-alives; want the 30 min lifetime counted on the server's clock", f.count("/api/v1/auth/token"), len(f.keepAlives))
		}
	})
	t.Run("server behind, no Date header", func(t *testing.T) {
		f := newFake(t, 2)
		f.skew, f.noDate = -time.Hour, true
		src := open(t, f, "")
		fetch(t, src) // expires before the local now: the expiry is unknown
		f.clock.Advance(29*time.Minute + 30*time.Second)
		fetch(t, src)
		f.clock.Advance(time.Minute) // the server ends it
		fetch(t, src)
		if f.count("/api/v1/auth/token") != 2 || len(f.keepAlives) != 0 || f.count("/api/v3/computers-inventory") != 4 {
			t.Errorf("calls %v, keep-alives %v; want the token used until refused, then one login", f.calls, f.keepAlives)
		}
	})
}

func TestTokenExpiry(t *testing.T) {
	sent := t0
	date := func(d time.Duration) string { return t0.Add(d).Format(http.TimeFormat) }
	tests := []struct {
		name, expires, date string
		want                time.Time
	}{
		{"same clocks", `"2026-12-07T09:30:00.000Z"`, date(0), t0.Add(30 * time.Minute)},
		{"server ahead", `"2026-12-07T11:30:00Z"`, date(2 * time.Hour), t0.Add(30 * time.Minute)},
		{"server behind", `"2026-12-07T08:30:00Z"`, date(-time.Hour), t0.Add(30 * time.Minute)},
		{"no Date", `"2026-12-07T09:20:00Z"`, "", t0.Add(20 * time.Minute)},
		{"no Date, far ahead", `"2026-12-09T09:20:00Z"`, "", time.Time{}},
		{"already expired", `"2026-12-07T08:59:00Z"`, "", time.Time{}},
		{"epoch ms", fmt.Sprint(t0.Add(25 * time.Minute).UnixMilli()), "", t0.Add(25 * time.Minute)},
		{"garbage", `"soon"`, "", time.Time{}},
		{"missing", ``, "", time.Time{}},
	}
	for _, tc := range tests {
		if got := tokenExpiry([]byte(tc.expires), tc.date, sent); !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestAPIClient(t *testing.T) {
	f := newFake(t, 3)
	f.clientLife = 60 * time.Second
	src := open(t, f, "client_id: c0ffee-client\nclient_secret_file: secret\n")
	fetch(t, src)
	f.clock.Advance(20 * time.Second)
	fetch(t, src)
	if f.count("/api/oauth/token") != 1 {
		t.Errorf("%d token requests after 20 s of a 60 s token, want 1", f.count("/api/oauth/token"))
	}
	f.clock.Advance(15 * time.Second) // within the last 30 s (half its life): renewed
	fetch(t, src)
	if f.count("/api/oauth/token") != 2 || f.count("/api/v1/auth/token") != 0 {
		t.Errorf("calls %v; want a second client-credentials token and no user login", f.calls)
	}
	if err := src.Close(); err != nil || len(f.invalidated) != 0 {
		t.Errorf("Close of an API client: %v, invalidated %v", err, f.invalidated)
	}
}

func TestAPIClientTokenWithoutExpiresIn(t *testing.T) {
	f := newFake(t, 3)
	f.clientLife = 0
	src := open(t, f, "client_id: c0ffee-client\nclient_secret_file: secret\n")
	fetch(t, src)
	f.clock.Advance(3 * time.Hour)
	fetch(t, src)
	if f.count("/api/oauth/token") != 1 {
		t.Errorf("%d token requests; a token without expires_in is kept until refused", f.count("/api/oauth/token"))
	}
	f.revokeAll()
	fetch(t, src)
	if f.count("/api/oauth/token") != 2 {
		t.Errorf("%d token requests after a revocation, want 2", f.count("/api/oauth/token"))
	}
}

func TestAPIClientRefused(t *testing.T) {
	f := newFake(t, 3)
	f.clientSecret = "rotated-secret"
	src := open(t, f, "client_id: c0ffee-client\nclient_secret_file: secret\n")
	f.clientSecret = "rotated-again" // the file holds "rotated-secret"
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || strings.Contains(err.Error(), "rotated-secret") {
		t.Fatalf("err = %v; want a refusal without the secret", err)
	}
	if f.count("/api/oauth/token") != 1 {
		t.Errorf("%d token requests; a refusal is never retried", f.count("/api/oauth/token"))
	}
}

func TestTokenEndpointFaults(t *testing.T) {
	html := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!DOCTYPE html><html><body>Jamf Pro login</body></html>"))
	}
	for _, tc := range []struct {
		name, extra, path, want string
		answer                  func(w http.ResponseWriter)
	}{
		{"user login answers HTML", "", "/api/v1/auth/token", "not a Jamf Pro token", html},
		{"user login down", "", "/api/v1/auth/token", "HTTP 503", func(w http.ResponseWriter) { jamfError(w, 503) }},
		{"client token answers HTML", "client_id: c0ffee-client\nclient_secret_file: secret\n", "/api/oauth/token", "not a JSON token answer", html},
		{"client token down", "client_id: c0ffee-client\nclient_secret_file: secret\n", "/api/oauth/token", "gave up after 5 tries", func(w http.ResponseWriter) { jamfError(w, 503) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 1)
			src := open(t, f, tc.extra)
			mux := http.NewServeMux()
			mux.HandleFunc(tc.path, func(w http.ResponseWriter, r *http.Request) { tc.answer(w) })
			mux.HandleFunc("/", f.serve)
			f.srv.Config.Handler = mux
			_, err := src.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if errors.Is(err, connauth.ErrLoginRefused) {
				t.Errorf("a fault is not a refusal: %v", err)
			}
			if f.count("/api/v3/computers-inventory") != 0 {
				t.Error("the inventory was read without a token")
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "rate_limit: 1000/s\n") // no budget waits among the ones asked for
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "7")
			jamfError(w, http.StatusTooManyRequests)
			return true
		case 2:
			jamfError(w, http.StatusTooManyRequests) // no Retry-After: backoff
			return true
		case 3:
			w.Header().Set("Retry-After", "2")
			jamfError(w, http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	if recs := fetch(t, src); len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	w := f.clock.Slept()
	if len(w) != 3 || w[0] != 7*time.Second || w[1] <= 0 || w[1] > time.Second || w[2] != 2*time.Second {
		t.Errorf("waits %v; want 7 s, a backoff of at most 1 s, 2 s", w)
	}
	if src.tr.RateLimited() != 2 || f.count("/api/v1/auth/token") != 1 {
		t.Errorf("%d 429s seen, %d logins", src.tr.RateLimited(), f.count("/api/v1/auth/token"))
	}
}

// TestFullWalkWithinTheLimit reads 3,000 computers in 150 pages from a
// server that refuses more than 60 requests in any minute (Jamf documents
// no hard limit; this is the default budget's own rate, so any burst above
// it would show) and at most 5 at once (Jamf's guidance): the default
// budget must cause no 429.
func TestFullWalkWithinTheLimit(t *testing.T) {
	f := newFake(t, 3000)
	f.pageSize, f.perMinute = 20, 60
	src := open(t, f, "page_size: 20\n")
	recs := fetch(t, src)
	if len(recs) != 3000 || f.limited != 0 || src.tr.RateLimited() != 0 || f.maxInflight > 5 {
		t.Errorf("%d records, %d 429s, %d at once", len(recs), f.limited, f.maxInflight)
	}
	if f.count("/api/v3/computers-inventory") != 150 {
		t.Errorf("%d pages, want 150", f.count("/api/v3/computers-inventory"))
	}
	if took := f.clock.Now().Sub(t0); took < 150*time.Second || took > 160*time.Second {
		t.Errorf("the walk took %s on the fake clock, want about one request a second", took)
	}
}

func TestConcurrentFetchesShareOneLogin(t *testing.T) {
	f := newFake(t, 5)
	f.pageSize = 2
	src := open(t, f, "page_size: 2\n")
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			recs, err := src.Fetch(context.Background(), nil)
			if err == nil && len(recs) != 5 {
				err = fmt.Errorf("%d records", len(recs))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if f.count("/api/v1/auth/token") != 1 {
		t.Errorf("6 concurrent fetches logged in %d times, want 1", f.count("/api/v1/auth/token"))
	}
}

func TestSecretsStayOut(t *testing.T) {
	f := newFake(t, 2)
	src := open(t, f, "")
	recs := fetch(t, src)
	tok := keys(f)[0]
	for _, r := range recs {
		s := fmt.Sprintf("%+v", r)
		if strings.Contains(s, tok) || strings.Contains(s, f.password) {
			t.Errorf("a record holds a secret: %s", s)
		}
	}
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		jamfError(w, http.StatusInternalServerError)
		return true
	}
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || strings.Contains(err.Error(), tok) || strings.Contains(err.Error(), f.password) {
		t.Errorf("err = %v; want an error without the token or the password", err)
	}
}
