package ninjaone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

// id is the fake's id of its i-th device.
func id(i int) int { return 1000 + 3*i }

func TestFetchWalksEveryPage(t *testing.T) {
	f := newFake(t, 2500)
	s := f.source("")
	type call struct{ done, total int }
	var calls []call
	recs, err := s.Fetch(context.Background(), func(done, total int) { calls = append(calls, call{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2500 {
		t.Fatalf("%d records, want 2500", len(recs))
	}
	// Pages of 1000, 1000, 500, then the empty page that ends the walk.
	if want := []int{0, id(999), id(1999), id(2499)}; !slices.Equal(f.afters, want) {
		t.Errorf("after = %v, want %v", f.afters, want)
	}
	if want := []call{{1000, -1}, {2000, -1}, {2500, -1}, {2500, 2500}}; !slices.Equal(calls, want) {
		t.Errorf("progress %v, want %v", calls, want)
	}
	if f.count("token") != 1 {
		t.Errorf("%d logins, want 1", f.count("token"))
	}
	r := recs[1]
	if r.ID != "1003" || r.Hostname != "WS-001003" || r.Serial != "SN0001003" || r.State != StateOnline || !r.Healthy ||
		r.Source != "n1" || !slices.Equal(r.MACs, []string{"02:00:00:00:03:eb"}) || r.OS != "Windows 11 Professional Edition" {
		t.Errorf("record %+v", r)
	}
	if want := "GET " + f.srv.URL + "/v2/devices-detailed?pageSize=1000"; r.Request != want {
		t.Errorf("request %q, want %q", r.Request, want)
	}
	if last := recs[2499]; last.Request != fmt.Sprintf("GET %s/v2/devices-detailed?after=%d&pageSize=1000", f.srv.URL, id(1999)) {
		t.Errorf("last record's request %q", last.Request)
	}
	if !r.ReadAt.Equal(f.clock.Now()) && r.ReadAt.After(f.clock.Now()) {
		t.Errorf("ReadAt %v after the clock %v", r.ReadAt, f.clock.Now())
	}
}

func TestFetchSendsTheDeviceFilter(t *testing.T) {
	f := newFake(t, 3)
	f.wantDF = "class in (WINDOWS_WORKSTATION, MAC) AND org = 12"
	s := f.source(`df: "class in (WINDOWS_WORKSTATION, MAC) AND org = 12"` + "\n")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if !strings.Contains(recs[0].Request, "df=class+in+%28WINDOWS_WORKSTATION%2C+MAC%29+AND+org+%3D+12") {
		t.Errorf("request %q lacks the encoded df", recs[0].Request)
	}
}

func TestShortTokensAreRenewed(t *testing.T) {
	f := newFake(t, 1000)
	f.tokenLife = 10 * time.Second
	f.wantPageSize = 100
	s := f.source("")
	s.pageSize = 100
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 1000 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	// 11 requests about 2 s apart take over 20 s: a 10 s token is renewed
	// (5 s before it expires) without the API ever refusing one.
	if f.refused != 0 {
		t.Errorf("the API refused %d tokens; the cache should renew them before they expire", f.refused)
	}
	if f.issued < 3 {
		t.Errorf("%d tokens issued over %s, want renewals", f.issued, f.clock.Now().Sub(epoch0))
	}
}

func TestWatchReusesTheToken(t *testing.T) {
	f := newFake(t, 10)
	s := f.source("")
	for range 3 {
		if _, err := s.Fetch(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if f.issued != 1 {
		t.Errorf("%d logins for three runs, want 1", f.issued)
	}
}

func TestRevokedTokenMidWalkLogsInOnce(t *testing.T) {
	f := newFake(t, 2500)
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "devices" && n == 2 {
			f.mu.Lock()
			clear(f.tokens) // revoked: the next check answers 401
			f.mu.Unlock()
		}
		return false
	}
	s := f.source("")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 2500 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if f.issued != 2 || f.refused != 1 {
		t.Errorf("%d logins and %d refusals, want 2 and 1", f.issued, f.refused)
	}
}

func TestTokenRefusedTwiceIsAnError(t *testing.T) {
	f := newFake(t, 10)
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "devices" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_token"}`)
			return true
		}
		return false
	}
	s := f.source("")
	_, err := s.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "Monitoring scope") {
		t.Fatalf("err = %v, want a refusal naming the scope", err)
	}
	if f.count("devices") != 2 || f.count("token") != 2 {
		t.Errorf("%d reads and %d logins, want 2 and 2 (one re-login)", f.count("devices"), f.count("token"))
	}
}

func TestWrongSecretIsRefusedOnce(t *testing.T) {
	f := newFake(t, 10)
	s := f.source("")
	f.secret = "the-right-one" // the source sends the old value now
	_, err := s.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "invalid_client") || !strings.Contains(err.Error(), "ninja-client") {
		t.Fatalf("err = %v, want a refused login naming the client", err)
	}
	if f.count("token") != 1 || f.count("devices") != 0 {
		t.Errorf("%d logins, %d reads: a refused login must not be retried", f.count("token"), f.count("devices"))
	}
	if strings.Contains(err.Error(), "s3cr3t-ninja-value") {
		t.Errorf("the error shows the secret: %v", err)
	}
}

func TestSecretEchoedByTheTokenEndpointIsCut(t *testing.T) {
	f := newFake(t, 1)
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind != "token" {
			return false
		}
		r.ParseForm()
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad request: %s", r.PostForm.Encode()) // echoes client_secret
		return true
	}
	s := f.source("")
	_, err := s.Fetch(context.Background(), nil)
	if err == nil || !errors.Is(err, connauth.ErrLoginRefused) {
		t.Fatalf("err = %v, want a refused login", err)
	}
	if strings.Contains(err.Error(), f.secret) {
		t.Errorf("the error shows the secret: %v", err)
	}
	if !strings.Contains(err.Error(), "[client secret]") {
		t.Errorf("err = %v, want the secret's place marked", err)
	}
}

func TestRateLimitedAnswerIsRetriedAfterItsWait(t *testing.T) {
	f := newFake(t, 2500)
	var at []time.Time
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind != "devices" {
			return false
		}
		at = append(at, f.clock.Now())
		if n == 2 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	}
	s := f.source("")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 2500 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if s.tr.RateLimited() != 1 {
		t.Errorf("%d 429s seen, want 1", s.tr.RateLimited())
	}
	if gap := at[2].Sub(at[1]); gap < 7*time.Second {
		t.Errorf("retried %s after the 429, want at least the 7 s of Retry-After", gap)
	}
}

func TestRateLimitedAnswerWithoutRetryAfterBacksOff(t *testing.T) {
	f := newFake(t, 1500)
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "devices" && (n == 1 || n == 2) {
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"too many requests"}`)
			return true
		}
		return false
	}
	s := f.source("")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 1500 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if s.tr.RetryCount() != 2 {
		t.Errorf("%d retries, want 2", s.tr.RetryCount())
	}
}

// TestBudgetKeepsAFullWalkUnderTheLimit reads 5,000 devices 50 a page (101
// requests and a login, what 100,000 devices take at pageSize 1000) from a
// server that allows 40 requests in any sliding minute: the default budget
// of 30 a minute must never trip it.
func TestBudgetKeepsAFullWalkUnderTheLimit(t *testing.T) {
	f := newFake(t, 5000)
	f.limitPerMin = 40
	f.wantPageSize = 50
	s := f.source("")
	s.pageSize = 50
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 5000 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if f.limited != 0 || s.tr.RateLimited() != 0 {
		t.Errorf("%d 429s, want none", f.limited)
	}
	if f.count("devices") != 101 {
		t.Errorf("%d page requests, want 101", f.count("devices"))
	}
	if took := f.clock.Now().Sub(epoch0); took < 3*time.Minute || took > 4*time.Minute {
		t.Errorf("the walk took %s of fake time, want about 3.4 min (102 requests at 30/min)", took)
	}
}

func TestRateLimitKeyOverridesTheBudget(t *testing.T) {
	f := newFake(t, 1)
	s := f.source("rate_limit: 10/min\n")
	if s.tr.Budget != (connauth.Rate{N: 10, Per: time.Minute}) {
		t.Errorf("budget %v", s.tr.Budget)
	}
	if s2 := newFake(t, 1).source(""); s2.tr.Budget != DefaultBudget {
		t.Errorf("default budget %v", s2.tr.Budget)
	}
}

func TestBadPagesAreErrors(t *testing.T) {
	cases := []struct {
		name, status, body, want string
	}{
		{"html", "200", "<!DOCTYPE html><html><body>Sign in to NinjaOne</body></html>", "HTML page"},
		{"truncated", "200", `[{"id":1,"systemName":"WS-1"},{"id":2,"sys`, "ends in the middle"},
		{"object", "200", `{"error":"something","errorCode":1}`, "not a JSON array"},
		{"null", "200", `null`, "not a JSON array"},
		{"empty", "200", ``, "empty"},
		{"trailing", "200", `[{"id":1}] [{"id":2}]`, "more after the device list"},
		{"lastContact string", "200", `[{"id":7,"lastContact":"yesterday"}]`, "device 1 of the page (id 7): field lastContact is a JSON string"},
		{"id string", "200", `[{"id":"abc"}]`, "field id is a JSON string"},
		{"serial number", "200", `[{"id":7},{"id":8,"system":{"serialNumber":12345}}]`, "device 2 of the page (id 8): field system.serialNumber is a JSON number"},
		{"offline string", "200", `[{"id":7,"offline":"no"}]`, "field offline is a JSON string"},
		{"macs not a list", "200", `[{"id":7,"macAddresses":"00:11:22:33:44:55"}]`, "field macAddresses"},
		{"device not an object", "200", `[42]`, "device 1 of the page is a JSON number"},
		{"no id", "200", `[{"systemName":"WS-1"}]`, "has no id"},
		{"bad json", "200", `[{"id":1,}]`, "not the JSON device list"},
		{"forbidden", "403", `{"error":"insufficient scope"}`, "Monitoring scope"},
		{"not found", "404", `not found`, "instance's address"},
		{"bad filter", "400", `{"error":"invalid df"}`, "check df"},
		{"server error", "500", `oops`, "gave up after 5 tries"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, 1)
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind != "devices" {
					return false
				}
				if !f.authorized(w, r) {
					return true
				}
				var code int
				fmt.Sscan(c.status, &code)
				w.WriteHeader(code)
				fmt.Fprint(w, c.body)
				return true
			}
			s := f.source("")
			recs, err := s.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
			if recs != nil {
				t.Errorf("%d records with the error", len(recs))
			}
			if !strings.Contains(err.Error(), "ninjaone source n1") || !strings.Contains(err.Error(), "/v2/devices-detailed") {
				t.Errorf("err = %v, want the source and the request named", err)
			}
		})
	}
}

func TestPageOverTheSizeLimitIsRefused(t *testing.T) {
	f := newFake(t, 2000)
	s := f.source("")
	s.maxBody = 512 << 10 // 1000 devices are about 900 KiB
	_, err := s.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "bigger than 512 KiB") {
		t.Fatalf("err = %v, want the page refused", err)
	}
}

func TestPagingFaultsAreErrors(t *testing.T) {
	cases := []struct {
		name string
		page func(after int) string
		want string
	}{
		{"after ignored", func(after int) string { return `[{"id":5},{"id":9}]` }, "not above after=9"},
		{"ids descend", func(after int) string { return `[{"id":9},{"id":5}]` }, "device id 5 follows id 9"},
		{"id repeated on a page", func(after int) string { return `[{"id":5},{"id":5}]` }, "device id 5 follows id 5"},
		{"cursor goes back", func(after int) string {
			if after == 0 {
				return `[{"id":5},{"id":9}]`
			}
			return `[{"id":7}]`
		}, "not above after=9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, 0)
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind != "devices" {
					return false
				}
				after, _ := f.params(r)
				if n > 5 {
					fmt.Fprint(w, `[]`)
					return true
				}
				fmt.Fprint(w, c.page(after))
				return true
			}
			s := f.source("")
			recs, err := s.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) || recs != nil {
				t.Fatalf("%d records, err = %v, want it to say %q", len(recs), err, c.want)
			}
		})
	}
}

func TestWalkGuardsARepeatedCursor(t *testing.T) {
	w := coverage.Walk{Source: "n1"}
	if err := w.Page("9"); err != nil {
		t.Fatal(err)
	}
	if err := w.Page("9"); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("err = %v", err)
	}
}

func TestBiggerPageThanAskedIsRead(t *testing.T) {
	// NinjaOne declares no total; a server that ignores pageSize and sends
	// everything at once is read to the end all the same.
	f := newFake(t, 1500)
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind != "devices" {
			return false
		}
		after, _ := f.params(r)
		f.writePage(w, after, 1<<30)
		return true
	}
	s := f.source("")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 1500 || f.count("devices") != 2 {
		t.Fatalf("%d records in %d requests, %v", len(recs), f.count("devices"), err)
	}
}

func TestTokenEndpointFaults(t *testing.T) {
	cases := []struct {
		name string
		hook func(w http.ResponseWriter)
		want string
	}{
		{"down", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, "gave up after 5 tries"},
		{"html", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>NinjaOne login</body></html>")
		}, "token endpoint"},
		{"json without token", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3600}`)
		}, "access_token"},
		{"not bearer", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"x","token_type":"mac","expires_in":3600}`)
		}, "bearer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, 1)
			f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
				if kind == "token" {
					c.hook(w)
					return true
				}
				return false
			}
			s := f.source("")
			_, err := s.Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to say %q", err, c.want)
			}
			if f.count("devices") != 0 {
				t.Errorf("%d API reads without a token", f.count("devices"))
			}
		})
	}
}

func TestTokenEndpointUnreachable(t *testing.T) {
	f := newFake(t, 1)
	f.t.Setenv("NINJA_TEST_SECRET", f.secret)
	doc := "name: n1\nkind: ninjaone\nurl: " + f.srv.URL + "\ntoken_url: http://127.0.0.1:1/ws/oauth/token\nclient_id: ninja-client\nclient_secret_env: NINJA_TEST_SECRET\n"
	s, err := build(t, doc, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "token endpoint http://127.0.0.1:1/ws/oauth/token") {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenWithoutExpiryIsRenewedAfterA401(t *testing.T) {
	f := newFake(t, 5)
	f.tokenLife = 0 // no expires_in
	s := f.source("")
	if _, err := s.Fetch(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Hour)
	f.mu.Lock()
	clear(f.tokens) // it expired on the server
	f.mu.Unlock()
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 5 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if f.issued != 2 || f.refused != 1 {
		t.Errorf("%d logins, %d refusals; want 2 and 1", f.issued, f.refused)
	}
}

func TestCancelledContextStopsTheWalk(t *testing.T) {
	f := newFake(t, 2500)
	ctx, cancel := context.WithCancel(context.Background())
	f.hook = func(w http.ResponseWriter, r *http.Request, kind string, n int) bool {
		if kind == "devices" && n == 2 {
			cancel()
		}
		return false
	}
	s := f.source("")
	recs, err := s.Fetch(ctx, nil)
	if !errors.Is(err, context.Canceled) || recs != nil {
		t.Fatalf("%d records, err = %v", len(recs), err)
	}
}

func TestSecretNeverInRecords(t *testing.T) {
	f := newFake(t, 3)
	s := f.source("")
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		all := r.Request + fmt.Sprint(r.Fields.Map())
		if strings.Contains(all, f.secret) || strings.Contains(all, "ninja-token-") {
			t.Errorf("record %s shows a secret: %s", r.ID, all)
		}
	}
}
