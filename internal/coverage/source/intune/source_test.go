package intune

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/connauth"
	"github.com/muster-project/muster/internal/coverage"
)

func TestFetchPages(t *testing.T) {
	f := newFake(t, 5)
	f.wantTop = 2
	f.devices[3]["lastSyncDateTime"] = "0001-01-01T00:00:00Z"
	f.devices[4]["lastSyncDateTime"] = start.Add(-72 * time.Hour).Format(time.RFC3339)
	src := open(t, f, "page_size: 2\n")
	var progress [][2]int
	recs, err := src.Fetch(context.Background(), func(done, total int) { progress = append(progress, [2]int{done, total}) })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	if d := cmp.Diff([][2]int{{0, -1}, {2, -1}, {4, -1}, {5, -1}}, progress); d != "" {
		t.Errorf("progress (-want +got):\n%s", d)
	}
	first := src.first
	want := coverage.Record{
		Source: "corp-intune", ID: "00000001-34c3-4f6b-9a1e-000000000001", Hostname: "DESKTOP-00001",
		Serial: "PF3K000001", MACs: []string{"3c22fb000001"}, OS: "Windows 10.0.22631.3447",
		Groups: []string{"Laptops"}, State: StateSynced, Healthy: true, LastSeen: start,
		ReadAt: start, Request: "GET " + first,
		Fields: coverage.FieldsOf(map[string]string{"deviceName": "DESKTOP-00001", "serialNumber": "PF3K000001",
			"wiFiMacAddress": "3c22fb000001", "operatingSystem": "Windows", "osVersion": "10.0.22631.3447",
			"lastSyncDateTime": "2026-03-02T12:00:00.0000000Z", "complianceState": "compliant",
			"managementAgent": "mdm", "azureADDeviceId": "00000001-aaaa-4bbb-8ccc-000000000001",
			"managedDeviceOwnerType": "company", "deviceCategoryDisplayName": "Laptops"}),
	}
	if d := cmp.Diff(want, recs[0]); d != "" {
		t.Errorf("first record (-want +got):\n%s", d)
	}
	if recs[3].State != StateNeverSynced || recs[3].Healthy || !recs[3].LastSeen.IsZero() {
		t.Errorf("never synced device: %+v", recs[3])
	}
	if recs[4].State != StateStale || recs[4].Healthy {
		t.Errorf("stale device: %+v", recs[4])
	}
	if !strings.HasPrefix(recs[2].Request, "GET "+f.srv.URL+"/v1.0/deviceManagement/managedDevices?") || !strings.Contains(recs[2].Request, "skiptoken") {
		t.Errorf("third record's request %q is not the second page", recs[2].Request)
	}
	wantFirst := f.srv.URL + "/v1.0/deviceManagement/managedDevices?$select=" + strings.Join(v1Fields, ",") + "&$top=2"
	if first != wantFirst {
		t.Errorf("first page %q, want %q", first, wantFirst)
	}
	if logins, calls, _, _ := f.counts(); logins != 1 || calls != 3 {
		t.Errorf("%d logins and %d API requests, want 1 and 3", logins, calls)
	}
}

func TestFilterPassedThrough(t *testing.T) {
	f := newFake(t, 3)
	f.wantFilter = "operatingSystem eq 'Windows' and managedDeviceOwnerType eq 'company'"
	src := open(t, f, "filter: \""+f.wantFilter+"\"\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if !strings.Contains(recs[0].Request, "&$filter=operatingSystem%20eq%20%27Windows%27%20and%20") {
		t.Errorf("request %q does not carry the filter", recs[0].Request)
	}
}

func TestBetaManagementState(t *testing.T) {
	f := newFake(t, 4)
	f.version = "beta"
	f.wantSelect = strings.Join(v1Fields, ",") + ",managementState"
	for i, st := range []string{"managed", "retirePending", "wipeFailed", "managed"} {
		f.devices[i]["managementState"] = st
	}
	f.devices[3]["lastSyncDateTime"] = start.Add(-48 * time.Hour).Format(time.RFC3339)
	src := open(t, f, "api_version: beta\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(recs))
	for i, r := range recs {
		got[i] = fmt.Sprintf("%s %v", r.State, r.Healthy)
	}
	if d := cmp.Diff([]string{"synced true", "retirePending false", "wipeFailed false", "stale false"}, got); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
	if recs[1].Fields.Map()["managementState"] != "retirePending" {
		t.Errorf("fields: %v", recs[1].Fields.Map())
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	f := newFake(t, 8)
	f.wantTop = 1
	f.expiresIn = 90 // renewed 45 s after issue, since half its life is under a minute
	f.step = 20 * time.Second
	src := open(t, f, "page_size: 1\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 8 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	logins, _, _, refused := f.counts()
	if logins < 3 || refused != 0 {
		t.Errorf("%d logins and %d refused requests over 160 s of 90 s tokens, want at least 3 and none refused", logins, refused)
	}
}

func TestTokenRevokedMidWalk(t *testing.T) {
	f := newFake(t, 6)
	f.wantTop = 2
	f.revokeAt = func(n int) bool { return n == 2 }
	src := open(t, f, "page_size: 2\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 6 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if logins, _, _, refused := f.counts(); logins != 2 || refused != 1 {
		t.Errorf("%d logins, %d refusals; want one re-login after the one 401", logins, refused)
	}
}

func TestTokenRefusedTwice(t *testing.T) {
	f := newFake(t, 6)
	f.revokeAt = func(n int) bool { return true }
	src := open(t, f, "")
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) {
		t.Fatalf("err = %v, want ErrLoginRefused", err)
	}
	for _, want := range []string{"freshly issued", "InvalidAuthenticationToken", "Access token has expired", Permission} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if logins, _, _, _ := f.counts(); logins != 2 {
		t.Errorf("%d logins, want 2 (one renewal, no loop)", logins)
	}
}

func TestTokenWithoutExpiresIn(t *testing.T) {
	f := newFake(t, 6)
	f.wantTop = 2
	f.expiresIn = 0
	f.step = time.Hour
	f.revokeAt = func(n int) bool { return n == 3 }
	src := open(t, f, "page_size: 2\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 6 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	// used until refused, then renewed once
	if logins, _, _, refused := f.counts(); logins != 2 || refused != 1 {
		t.Errorf("%d logins, %d refusals; want 2 and 1", logins, refused)
	}
}

func TestTokenKeptAcrossFetches(t *testing.T) {
	f := newFake(t, 3)
	src := open(t, f, "")
	for range 3 {
		if _, err := src.Fetch(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if logins, calls, _, _ := f.counts(); logins != 1 || calls != 3 {
		t.Errorf("three fetches: %d logins, %d requests; want 1 and 3", logins, calls)
	}
}

func TestGraphErrors(t *testing.T) {
	for _, tc := range []struct {
		name, code, msg string
		status          int
		want            []string
	}{
		{"forbidden", "Forbidden", "Application is not authorized to perform this operation. Application must have one of the following scopes: DeviceManagementManagedDevices.Read.All", 403,
			[]string{"HTTP 403", "Forbidden: Application is not authorized", "needs the Microsoft Graph application permission " + Permission, "admin consent"}},
		{"denied", "Authorization_RequestDenied", "Insufficient privileges to complete the operation.", 403,
			[]string{"Authorization_RequestDenied", "Insufficient privileges", Permission}},
		{"bad filter", "BadRequest", "Invalid filter clause: Could not find a property named 'nope'.", 400,
			[]string{"HTTP 400", "BadRequest: Invalid filter clause", "check filter"}},
		{"not found", "ResourceNotFound", "Resource not found for the segment 'managedDevices'.", 404,
			[]string{"HTTP 404", "ResourceNotFound"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 3)
			f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
				graphErr(w, tc.status, tc.code, tc.msg)
				return true
			}
			_, err := open(t, f, "").Fetch(context.Background(), nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), f.secret) || strings.Contains(err.Error(), "eyJ0eXAi") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

func TestThrottledWithRetryAfter(t *testing.T) {
	f := newFake(t, 4)
	f.wantTop = 2
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 {
			w.Header().Set("Retry-After", "7")
			graphErr(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
			return true
		}
		return false
	}
	src := open(t, f, "page_size: 2\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if src.tr.RateLimited() != 1 || !containsDuration(f.clk.Slept(), 7*time.Second) {
		t.Errorf("429s seen %d, sleeps %v; want one 429 and a 7 s wait", src.tr.RateLimited(), f.clk.Slept())
	}
}

func TestThrottledWithoutRetryAfter(t *testing.T) {
	f := newFake(t, 4)
	f.wantTop = 2
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 || n == 3 {
			graphErr(w, http.StatusTooManyRequests, "TooManyRequests", "Too many requests.")
			return true
		}
		return false
	}
	src := open(t, f, "page_size: 2\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 4 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	var backoff time.Duration
	for _, d := range f.clk.Slept() {
		backoff += d
	}
	if src.tr.RateLimited() != 2 || backoff <= 0 {
		t.Errorf("429s %d, waited %v; want 2 and a backoff", src.tr.RateLimited(), backoff)
	}
}

func containsDuration(ds []time.Duration, d time.Duration) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// TestBudgetKeepsUnderIntuneLimit walks 3,000 devices one per page (3,000
// requests) against a server enforcing Intune's 2,000 requests per 20 s per
// app: the default budget must cause no 429.
func TestBudgetKeepsUnderIntuneLimit(t *testing.T) {
	f := newFake(t, 3000)
	f.wantTop = 1
	f.limit, f.window, f.retryAfter = 2000, 20*time.Second, true
	src := open(t, f, "page_size: 1\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 3000 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if _, calls, limited, _ := f.counts(); limited != 0 || src.tr.RateLimited() != 0 || calls != 3000 {
		t.Errorf("%d requests, %d answered 429 (transport saw %d); want 3000 and none", calls, limited, src.tr.RateLimited())
	}
	// 100 per 5 s: 3,000 requests take at least 145 s of the fake clock.
	if el := f.clk.Now().Sub(start); el < 145*time.Second {
		t.Errorf("the walk took %v of fake time; the budget did not space it", el)
	}
}

// TestServerLimitBites shows the fake's limit is real: with a budget above
// Intune's, the same walk is throttled (and still completes).
func TestServerLimitBites(t *testing.T) {
	f := newFake(t, 2500)
	f.wantTop = 1
	f.limit, f.window, f.retryAfter = 2000, 20*time.Second, true
	src := open(t, f, "page_size: 1\nrate_limit: 1000/s\n")
	recs, err := src.Fetch(context.Background(), nil)
	if err != nil || len(recs) != 2500 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	if _, _, limited, _ := f.counts(); limited == 0 {
		t.Error("a budget of 1000/s was never throttled by a 2000/20 s server")
	}
}

func TestMalformedPages(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"html", "<!DOCTYPE html><html><body>Sign in to your account</body></html>", "HTML, not JSON"},
		{"truncated", `{"value":[{"id":"a","deviceName":"x"`, "ends before its JSON"},
		{"wrong type", `{"value":[{"id":"a","deviceName":5}]}`, "field value[0].deviceName is a JSON number, not a string"},
		{"value object", `{"value":{"id":"a"}}`, "field value is a JSON object, not an array"},
		{"no value", `{"error":null}`, `no "value" array`},
		{"null value", `{"value":null}`, `no "value" array`},
		{"bad date", `{"value":[{"id":"a","lastSyncDateTime":"yesterday"}]}`, `lastSyncDateTime "yesterday" is not a date`},
		{"no id", `{"value":[{"deviceName":"x"}]}`, "device 1 of the page has no id"},
		{"two values", `{"value":[]} {"value":[]}`, "more than one JSON value"},
		{"garbage", `{"value":[}`, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 1)
			f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, tc.body)
				return true
			}
			_, err := open(t, f, "").Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPageTooLarge(t *testing.T) {
	f := newFake(t, 50)
	f.wantTop = 50
	src := open(t, f, "page_size: 50\n")
	src.maxBody = 4 << 10
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want a too-large page", err)
	}
}

// pager answers page n (1-based) with the body its function builds.
func pager(f *fakeGraph, body func(n int) string) {
	f.hook = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body(n))
		return true
	}
}

func TestNextLinkLoops(t *testing.T) {
	f := newFake(t, 0)
	pager(f, func(n int) string {
		return fmt.Sprintf(`{"value":[{"id":"d%d"}],"@odata.nextLink":%q}`, n, f.srv.URL+"/v1.0/deviceManagement/managedDevices?$skiptoken=X")
	})
	_, err := open(t, f, "").Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "again") {
		t.Fatalf("err = %v, want a loop", err)
	}
	if _, calls, _, _ := f.counts(); calls != 2 {
		t.Errorf("%d requests, want 2 (the loop is caught before a third)", calls)
	}
}

func TestRepeatedRecord(t *testing.T) {
	f := newFake(t, 0)
	pager(f, func(n int) string {
		next := ""
		if n == 1 {
			next = fmt.Sprintf(`,"@odata.nextLink":%q`, f.srv.URL+"/v1.0/deviceManagement/managedDevices?$skiptoken=2")
		}
		return fmt.Sprintf(`{"value":[{"id":"d%d"},{"id":"d1"}]%s}`, n, next)
	})
	_, err := open(t, f, "").Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "came twice") {
		t.Fatalf("err = %v, want a repeated record", err)
	}
}

func TestNextLinkToOtherHost(t *testing.T) {
	var stolen atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Add(1)
		fmt.Fprint(w, `{"value":[]}`)
	}))
	defer other.Close()
	f := newFake(t, 0)
	pager(f, func(n int) string {
		return fmt.Sprintf(`{"value":[{"id":"d1"}],"@odata.nextLink":%q}`, other.URL+"/v1.0/deviceManagement/managedDevices?$skiptoken=2")
	})
	_, err := open(t, f, "").Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "not to the configured "+f.srv.URL) || !strings.Contains(err.Error(), "does not send its token elsewhere") {
		t.Fatalf("err = %v, want a refused next link", err)
	}
	if stolen.Load() != 0 {
		t.Error("the token was sent to the other host")
	}
}

func TestTokenEndpointFaults(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answer  func(w http.ResponseWriter)
		want    string
		refused bool
	}{
		{"html", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		}, "token_url", false},
		{"html 200 as json", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		}, "not a JSON token answer", false},
		{"down", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "upstream connect error")
		}, "HTTP 503", false},
		{"no access_token", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599}`)
		}, "no access_token", false},
		{"wrong tenant", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_request","error_description":"AADSTS90002: Tenant '00000000-0000-0000-0000-000000000000' not found."}`)
		}, "AADSTS90002", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, 1)
			f.tokHook = func(w http.ResponseWriter, r *http.Request) bool { tc.answer(w); return true }
			_, err := open(t, f, "").Fetch(context.Background(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errors.Is(err, connauth.ErrLoginRefused) != tc.refused {
				t.Fatalf("err = %v, want %q (refused %v)", err, tc.want, tc.refused)
			}
			if _, calls, _, _ := f.counts(); calls != 0 {
				t.Errorf("%d API requests without a token", calls)
			}
		})
	}
}

func TestTokenEndpointUnreachable(t *testing.T) {
	f := newFake(t, 1)
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	src := open(t, f, "token_url: "+url+"/t/oauth2/v2.0/token\n")
	_, err := src.Fetch(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "token endpoint "+url) {
		t.Fatalf("err = %v, want the token endpoint's failure", err)
	}
}

func TestWrongSecretRefusedAndHidden(t *testing.T) {
	f := newFake(t, 1)
	src := open(t, f, "")
	f.mu.Lock()
	f.secret = "rotated-on-the-server"
	f.mu.Unlock()
	_, err := src.Fetch(context.Background(), nil)
	if !errors.Is(err, connauth.ErrLoginRefused) || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("err = %v, want a refused login naming AADSTS7000215", err)
	}
	if strings.Contains(err.Error(), "s3cret-Graph~value") {
		t.Errorf("error shows the client secret: %v", err)
	}
	if logins, _, _, _ := f.counts(); logins != 1 {
		t.Errorf("%d logins, want 1: a refused login is not retried", logins)
	}
}

func TestNoSecretInRecords(t *testing.T) {
	f := newFake(t, 3)
	recs, err := open(t, f, "").Fetch(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		s := fmt.Sprintf("%+v", r)
		if strings.Contains(s, f.secret) || strings.Contains(s, "eyJ0eXAi") || strings.Contains(s, "Bearer") {
			t.Errorf("record holds a secret: %s", s)
		}
	}
}
