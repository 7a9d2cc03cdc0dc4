package sentinelone

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func fetch(t *testing.T, s setup) ([]coverage.Record, error) {
	t.Helper()
	return s.src.Fetch(context.Background(), nil)
}

// mustFail checks that a fetch failed with an error holding every want, no
// records and no secret.
func mustFail(t *testing.T, recs []coverage.Record, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Fetch succeeded with %d records, want an error", len(recs))
	}
	if recs != nil {
		t.Errorf("Fetch returned %d records with its error, want none", len(recs))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	for _, secret := range []string{tokenA, tokenB} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error holds the API token: %q", err)
		}
	}
}

func TestFetchPagesEveryAgent(t *testing.T) {
	f := newFake(t, 2500)
	s := open(t, f, "")
	var progress [][2]int
	recs, err := s.src.Fetch(context.Background(), func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2500 {
		t.Fatalf("got %d records, want 2500", len(recs))
	}
	gets := f.requests()
	if len(gets) != 3 {
		t.Fatalf("%d agents requests, want 3 pages of 1000", len(gets))
	}
	for i, want := range []string{"", cursorFor(1000), cursorFor(2000)} {
		if gets[i].cursor != want {
			t.Errorf("request %d: cursor %q, want %q", i+1, gets[i].cursor, want)
		}
		if gets[i].auth != "ApiToken "+tokenA {
			t.Errorf("request %d: Authorization %q, want the ApiToken scheme", i+1, gets[i].auth)
		}
	}
	if _, ok := gets[0].query["cursor"]; ok {
		t.Error("the first page was asked with a cursor parameter")
	}
	if want := [][2]int{{1000, 2500}, {2000, 2500}, {2500, 2500}}; len(progress) != 3 || progress[0] != want[0] || progress[2] != want[2] {
		t.Errorf("progress %v, want %v", progress, want)
	}
	r := recs[1234]
	if r.ID != "1700000000000001234" || r.Hostname != "host-01234" || r.Serial != "SN00001234" || !r.Healthy || r.State != StateActive {
		t.Errorf("record 1234 = %+v", r)
	}
	if r.ReadAt.Before(start) || r.ReadAt.After(f.clock.Now()) {
		t.Errorf("ReadAt %v, want a time of the test's clock (%v to %v)", r.ReadAt, start, f.clock.Now())
	}
	if s.src.tr.RetryCount() != 0 {
		t.Logf("%d retries", s.src.tr.RetryCount())
	}
	if want := "GET " + f.srv.URL + AgentsPath + "?cursor=" + strings.ReplaceAll(cursorFor(1000), "=", "%3D") + "&isDecommissioned=true%2Cfalse&limit=1000"; r.Request != want {
		t.Errorf("Request %q, want %q", r.Request, want)
	}
	for _, rec := range recs {
		if strings.Contains(rec.Request, tokenA) {
			t.Fatal("a Request string holds the token")
		}
	}
	f.mu.Lock()
	details := len(f.details)
	f.mu.Unlock()
	if details != 1 {
		t.Errorf("api-token-details asked %d times, want once per Fetch", details)
	}
}

func TestFiltersAndPageSize(t *testing.T) {
	f := newFake(t, 30)
	f.wantLimit = 7
	f.wantQuery = map[string]string{"siteIds": "225494730938493804,225494730938493915", "accountIds": "433241117337583618",
		"groupIds": "475482421375116388", "isDecommissioned": "false"}
	s := open(t, f, "page_size: 7\nsite_ids: [225494730938493804, \"225494730938493915\", 225494730938493804]\naccount_ids: [433241117337583618]\ngroup_ids: [475482421375116388]\ninclude_decommissioned: false\n")
	recs, err := fetch(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 30 || len(f.requests()) != 5 {
		t.Errorf("%d records in %d requests, want 30 in 5", len(recs), len(f.requests()))
	}
}

// TestBudgetKeepsUnderTheLimit walks 3000 agents 50 a page (60 requests)
// against a server that allows 10 requests in any second of the fake clock:
// the default budget must never trip it.
func TestBudgetKeepsUnderTheLimit(t *testing.T) {
	f := newFake(t, 3000)
	f.perSecond = 10
	f.wantLimit = 50
	s := open(t, f, "page_size: 50\n")
	recs, err := fetch(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3000 {
		t.Fatalf("got %d records", len(recs))
	}
	if f.limited != 0 || s.src.tr.RateLimited() != 0 {
		t.Errorf("the walk caused %d 429s (transport saw %d), want none", f.limited, s.src.tr.RateLimited())
	}
	// 61 requests at 4/s after a burst of 4: the budget did space them out.
	if took := f.clock.Now().Sub(start); took < 14*time.Second {
		t.Errorf("the walk took %v of the clock; the budget did not space requests", took)
	}
}

func TestRateLimitedPagesAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		minWait    time.Duration
	}{{"with Retry-After", "7", 7 * time.Second}, {"without Retry-After", "", time.Nanosecond}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 150)
			f.wantLimit = 100
			f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n != 2 {
					return false
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				writeErrors(w, http.StatusTooManyRequests, 4290010, "Too Many Requests", "")
				return true
			}
			s := open(t, f, "page_size: 100\n")
			before := f.clock.Now()
			recs, err := fetch(t, s)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 150 {
				t.Errorf("%d records, want 150", len(recs))
			}
			if s.src.tr.RateLimited() != 1 || s.src.tr.RetryCount() != 1 {
				t.Errorf("transport saw %d 429s and %d retries, want 1 and 1", s.src.tr.RateLimited(), s.src.tr.RetryCount())
			}
			if waited := f.clock.Now().Sub(before); waited < tc.minWait {
				t.Errorf("waited %v, want at least %v", waited, tc.minWait)
			}
			if gets := f.requests(); len(gets) != 3 || gets[1].cursor != gets[2].cursor {
				t.Errorf("requests %d; the retried page must be asked again with the same cursor", len(gets))
			}
		})
	}
}

func TestRevokedTokenMidWalk(t *testing.T) {
	f := newFake(t, 250)
	f.wantLimit = 100
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 {
			f.mu.Lock()
			delete(f.tokens, tokenA) // revoked in the console
			f.mu.Unlock()
		}
		return false
	}
	s := open(t, f, "page_size: 100\n")
	recs, err := fetch(t, s)
	mustFail(t, recs, err, "HTTP 401", "Authentication Failed", "token_file", "expired")
	if !errors.Is(err, connauth.ErrLoginRefused) {
		t.Errorf("error %v does not wrap connauth.ErrLoginRefused", err)
	}
	// The token was revoked while page 2 was served: page 3 is refused,
	// and the refused token is not sent again.
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d agents requests, want 3: a refused token is not sent again", n)
	}
	// --watch: the next run tries once more, and fails the same way.
	recs, err = fetch(t, s)
	mustFail(t, recs, err, "HTTP 401")
	if n := len(f.requests()); n != 4 {
		t.Errorf("%d agents requests after the second run, want 4", n)
	}
}

func TestRotatedTokenFileMidWalk(t *testing.T) {
	f := newFake(t, 250)
	f.wantLimit = 100
	var s setup
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 {
			f.mu.Lock()
			delete(f.tokens, tokenA)
			f.tokens[tokenB] = true
			f.mu.Unlock()
			if err := os.WriteFile(s.tokenFile, []byte(tokenB+"\n"), 0o600); err != nil {
				t.Error(err)
			}
		}
		return false
	}
	s = open(t, f, "page_size: 100\n")
	recs, err := fetch(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 250 {
		t.Fatalf("%d records, want 250", len(recs))
	}
	gets := f.requests()
	if len(gets) != 4 || gets[2].auth != "ApiToken "+tokenA || gets[3].auth != "ApiToken "+tokenB || gets[3].cursor != gets[2].cursor {
		t.Errorf("requests after the rotation: %+v", gets)
	}
	if s.src.cache.Logins() != 2 {
		t.Errorf("%d logins, want 2 (one re-read of the token file)", s.src.cache.Logins())
	}
}

func TestPagingFaults(t *testing.T) {
	agents := makeAgents(t, 20)
	five, hundred := 5, 100
	cases := []struct {
		name  string
		total *int
		hook  func(w http.ResponseWriter, r *http.Request, n int) bool
		want  []string
	}{
		{"cursor that loops", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				writePage(w, agents[:10], "Y3Vyc29yLTE=", 30)
			} else {
				writePage(w, agents[10*(n-1):10*n], "Y3Vyc29yLTE=", 30)
			}
			return true
		}, []string{"loops", "Y3Vyc29yLTE="}},
		{"page repeating ids", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			if n == 1 {
				writePage(w, agents[:10], "next", 20)
			} else {
				writePage(w, agents[5:15], nil, 20)
			}
			return true
		}, []string{"came twice", "1700000000000000005"}},
		{"totalItems smaller than the records", &five, nil, []string{"holds 5 records but sent more"}},
		{"totalItems larger than the records", &hundred, nil, []string{"holds 100 records but the pages held 20", "incomplete"}},
		{"empty page with a next cursor", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			writePage(w, agents[:0], "more-"+string(rune('a'+n)), 20)
			return true
		}, []string{"holds no agents but names a next page"}},
		{"HTML page", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
			return true
		}, []string{"not a SentinelOne API answer", "<!DOCTYPE html>", "management console"}},
		{"truncated JSON", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			io.WriteString(w, `{"data":[`+string(agents[0])[:200])
			return true
		}, []string{"cut short"}},
		{"networkInterfaces as a string", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			io.WriteString(w, `{"data":[{"id":"1","computerName":"x","networkInterfaces":"eth0"}],"pagination":{"nextCursor":null,"totalItems":1}}`)
			return true
		}, []string{"networkInterfaces", "string", "array"}},
		{"isActive as a string", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			io.WriteString(w, `{"data":[{"id":"1","isActive":"yes"}],"pagination":{"nextCursor":null,"totalItems":1}}`)
			return true
		}, []string{"isActive", "string"}},
		{"no pagination", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			io.WriteString(w, `{"data":[]}`)
			return true
		}, []string{"pagination"}},
		{"agent without id", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			io.WriteString(w, `{"data":[{"computerName":"ghost"}],"pagination":{"nextCursor":null,"totalItems":1}}`)
			return true
		}, []string{"no id", "ghost"}},
		{"errors answer", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			writeErrors(w, http.StatusBadRequest, 4000010, "Validation Error", "siteIds: invalid id")
			return true
		}, []string{"HTTP 400", "Validation Error: siteIds: invalid id (code 4000010)"}},
		{"forbidden", nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
			writeErrors(w, http.StatusForbidden, 4030010, "Insufficient permissions", "")
			return true
		}, []string{"HTTP 403", "Insufficient permissions", "Viewer"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 20)
			f.total, f.hook = tc.total, tc.hook
			recs, err := fetch(t, open(t, f, ""))
			mustFail(t, recs, err, tc.want...)
		})
	}
}

func TestServerErrorsAreRetried(t *testing.T) {
	f := newFake(t, 10)
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>502 Bad Gateway</html>")
			return true
		}
		return false
	}
	s := open(t, f, "")
	recs, err := fetch(t, s)
	if err != nil || len(recs) != 10 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if s.src.tr.RetryCount() != 1 {
		t.Errorf("%d retries, want 1", s.src.tr.RetryCount())
	}
}

func TestAnswerTooLarge(t *testing.T) {
	f := newFake(t, 50)
	s := open(t, f, "")
	s.src.maxBody = 4096
	recs, err := fetch(t, s)
	mustFail(t, recs, err, "larger than", "page_size")
}

func TestTokenExpiry(t *testing.T) {
	for _, tc := range []struct {
		name, expiresAt string
		warn            string // "" for none
	}{
		{"far", start.Add(60 * 24 * time.Hour).Format(time.RFC3339Nano), ""},
		{"soon", start.Add(50 * time.Hour).Format("2006-01-02T15:04:05.000000Z"), "expires in 50h0m0s"},
		{"past", start.Add(-time.Hour).Format(time.RFC3339), "has expired"},
		{"not answered", "", ""},
		{"not a time", "tomorrow", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 3)
			f.expiresAt = tc.expiresAt
			s := open(t, f, "")
			if _, err := fetch(t, s); err != nil {
				t.Fatal(err)
			}
			got := s.stderr.String()
			if tc.warn == "" && got != "" || tc.warn != "" && !strings.Contains(got, tc.warn) {
				t.Errorf("stderr %q, want %q", got, tc.warn)
			}
			if strings.Contains(got, tokenA) {
				t.Error("the warning holds the token")
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.details) != 1 || f.details[0] != tokenA {
				t.Errorf("api-token-details requests %d, want 1 with the token in its body", len(f.details))
			}
		})
	}
}

// TestWatchReusesTheSource runs two fetches on one source, as --watch does.
func TestWatchReusesTheSource(t *testing.T) {
	f := newFake(t, 120)
	f.wantLimit = 100
	s := open(t, f, "page_size: 100\n")
	for range 2 {
		recs, err := fetch(t, s)
		if err != nil || len(recs) != 120 {
			t.Fatalf("%d records, %v", len(recs), err)
		}
	}
	if s.src.cache.Logins() != 1 {
		t.Errorf("%d token reads, want 1: the token is kept between runs", s.src.cache.Logins())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.details) != 2 || len(f.gets) != 4 {
		t.Errorf("%d api-token-details and %d agents requests, want 2 and 4", len(f.details), len(f.gets))
	}
}

func TestCanceledContext(t *testing.T) {
	f := newFake(t, 10)
	s := open(t, f, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	recs, err := s.src.Fetch(ctx, nil)
	if err == nil || recs != nil {
		t.Fatalf("Fetch on a canceled context: %d records, %v", len(recs), err)
	}
}

func TestRecordsFromRecordedPage(t *testing.T) {
	raw, err := os.ReadFile("testdata/agents.json")
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(t, 0)
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Write(raw)
		return true
	}
	recs, err := fetch(t, open(t, f, ""))
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range recs {
		states = append(states, r.State)
	}
	if got := strings.Join(states, ","); got != "active,decommissioned,contained,auto_partially_disabled" {
		t.Errorf("states %s", got)
	}
	var page apiPage
	if err := json.Unmarshal(raw, &page); err != nil || len(page.Data) != len(recs) {
		t.Fatalf("the recorded page has %d agents, %v", len(page.Data), err)
	}
}
