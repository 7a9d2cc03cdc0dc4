package jamf

import (
	"encoding/base64"
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

	"github.com/muster-project/muster/internal/testclock"
)

type clock = testclock.Clock

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// fakeJamf serves the Jamf Pro API's wire as developer.jamf.com documents it:
// POST /api/v1/auth/token (post_v1-auth-token: HTTP Basic, answers
// {"token", "expires"}), POST /api/v1/auth/keep-alive (post_v1-auth-keep-alive:
// a new token for the current one, which it ends), POST
// /api/v1/auth/invalidate-token (post_v1-auth-invalidate-token: 204),
// POST /api/oauth/token (the Client Credentials guide: form client_id,
// client_secret, grant_type=client_credentials; answers access_token,
// token_type, expires_in) and GET /api/v3/computers-inventory
// (get_v1-computers-inventory: section, page, page-size, sort, filter;
// answers {"totalCount", "results"}). It asserts what the connector sends.
type fakeJamf struct {
	t     testing.TB
	srv   *httptest.Server
	clock *clock

	// Server settings; set them before the first request.
	skew         time.Duration // the server's clock minus the client's
	noDate       bool          // answer without a Date header
	user         string
	password     string
	clientID     string
	clientSecret string
	userLife     time.Duration // user tokens
	clientLife   time.Duration // API client tokens; 0: no expires_in
	pageSize     int           // the page-size the connector must ask for
	filter       string        // the filter it must send
	version      string        // the inventory version it must read
	perMinute    int           // > 0: at most this many requests in any 60 s (429 beyond)

	mu          sync.Mutex
	computers   []json.RawMessage
	tokens      map[string]time.Time // live token -> expiry on the server's clock
	next        int
	calls       map[string]int
	keepAlives  []string // the tokens keep-alive was asked to renew
	invalidated []string
	limited     int
	hits        []time.Time
	inflight    int
	maxInflight int
	// hook may answer an inventory request itself (return true); n counts
	// the inventory requests from 1. It runs with mu held.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool
}

func newFake(t testing.TB, n int) *fakeJamf {
	f := &fakeJamf{t: t, clock: testclock.New(t0), user: "muster-reader", password: "s3cret-pw",
		clientID: "c0ffee-client", clientSecret: "v3ry-s3cret", userLife: 30 * time.Minute, clientLife: 60 * time.Second,
		pageSize: DefaultPageSize, version: "v3", tokens: map[string]time.Time{}, calls: map[string]int{}}
	for i := range n {
		f.computers = append(f.computers, genComputer(i+1, t0))
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeJamf) serverNow() time.Time { return f.clock.Now().Add(f.skew) }

func (f *fakeJamf) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

// revokeAll ends every token, as an administrator would.
func (f *fakeJamf) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tokens)
}

func (f *fakeJamf) issue(life time.Duration) (string, time.Time) {
	f.next++
	tok := fmt.Sprintf("eyJhbGciOiJIUzI1NiJ9.tok%d.sig", f.next)
	exp := f.serverNow().Add(life)
	f.tokens[tok] = exp
	return tok, exp
}

// bearer is the live token a request carries, "" if none.
func (f *fakeJamf) bearer(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	exp, live := f.tokens[tok]
	if !live || !f.serverNow().Before(exp) {
		return ""
	}
	return tok
}

func (f *fakeJamf) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.URL.Path]++
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	defer func() { f.inflight-- }()
	if f.noDate {
		w.Header()["Date"] = nil
	} else {
		w.Header().Set("Date", f.serverNow().Format(http.TimeFormat))
	}
	if f.perMinute > 0 {
		now := f.clock.Now()
		f.hits = slices.DeleteFunc(f.hits, func(h time.Time) bool { return now.Sub(h) >= time.Minute })
		if len(f.hits) >= f.perMinute {
			f.limited++
			w.Header().Set("Retry-After", strconv.Itoa(int(time.Minute.Seconds()-now.Sub(f.hits[0]).Seconds())+1))
			jamfError(w, http.StatusTooManyRequests)
			return
		}
		f.hits = append(f.hits, now)
	}
	switch r.URL.Path {
	case "/api/v1/auth/token":
		f.serveLogin(w, r)
	case "/api/v1/auth/keep-alive":
		if r.Method != http.MethodPost {
			f.t.Errorf("keep-alive with %s", r.Method)
		}
		old := f.bearer(r)
		f.keepAlives = append(f.keepAlives, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if old == "" {
			jamfError(w, http.StatusUnauthorized)
			return
		}
		delete(f.tokens, old) // keep-alive ends the token it renews
		tok, exp := f.issue(f.userLife)
		writeJSON(w, map[string]string{"token": tok, "expires": exp.Format("2006-01-02T15:04:05.000Z")})
	case "/api/v1/auth/invalidate-token":
		tok := f.bearer(r)
		f.invalidated = append(f.invalidated, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if tok == "" {
			jamfError(w, http.StatusUnauthorized)
			return
		}
		delete(f.tokens, tok)
		w.WriteHeader(http.StatusNoContent)
	case "/api/oauth/token":
		f.serveOAuth(w, r)
	case "/api/" + f.version + "/computers-inventory":
		f.serveInventory(w, r)
	default:
		jamfError(w, http.StatusNotFound)
	}
}

func (f *fakeJamf) serveLogin(w http.ResponseWriter, r *http.Request) {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(f.user+":"+f.password))
	if r.Method != http.MethodPost || r.Header.Get("Authorization") != want {
		jamfError(w, http.StatusUnauthorized)
		return
	}
	tok, exp := f.issue(f.userLife)
	writeJSON(w, map[string]string{"token": tok, "expires": exp.Format("2006-01-02T15:04:05.000Z")})
}

func (f *fakeJamf) serveOAuth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		f.t.Errorf("oauth token: %s, %v", r.Method, err)
	}
	if r.PostForm.Has("scope") {
		f.t.Errorf("oauth token request carries scope %q; Jamf API clients take none", r.PostForm.Get("scope"))
	}
	if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.clientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	life := f.clientLife
	if life == 0 {
		life = 24 * time.Hour // no expires_in: it is long-lived, until revoked
	}
	tok, _ := f.issue(life)
	ans := map[string]any{"access_token": tok, "scope": "api-role:1", "token_type": "Bearer"}
	if f.clientLife > 0 {
		ans["expires_in"] = int(f.clientLife.Seconds())
	}
	writeJSON(w, ans)
}

func (f *fakeJamf) serveInventory(w http.ResponseWriter, r *http.Request) {
	n := f.calls[r.URL.Path]
	if f.hook != nil && f.hook(w, r, n) {
		return
	}
	if f.bearer(r) == "" {
		jamfError(w, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	if got := q["section"]; !slices.Equal(got, []string{"GENERAL", "HARDWARE", "OPERATING_SYSTEM"}) {
		f.t.Errorf("sections %q", got)
	}
	if q.Get("sort") != "id:asc" {
		f.t.Errorf("sort %q, want id:asc", q.Get("sort"))
	}
	if q.Get("page-size") != strconv.Itoa(f.pageSize) {
		f.t.Errorf("page-size %q, want %d", q.Get("page-size"), f.pageSize)
	}
	if q.Get("filter") != f.filter || (f.filter == "" && q.Has("filter")) {
		f.t.Errorf("filter %q, want %q", q.Get("filter"), f.filter)
	}
	p, err := strconv.Atoi(q.Get("page"))
	if err != nil || p < 0 {
		f.t.Errorf("page %q", q.Get("page"))
		jamfError(w, http.StatusBadRequest)
		return
	}
	f.writePage(w, len(f.computers), f.computers[min(p*f.pageSize, len(f.computers)):min((p+1)*f.pageSize, len(f.computers))])
}

func (f *fakeJamf) writePage(w http.ResponseWriter, total int, results []json.RawMessage) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	fmt.Fprintf(w, `{"totalCount":%d,"results":[`, total)
	for i, c := range results {
		if i > 0 {
			w.Write([]byte(","))
		}
		w.Write(c)
	}
	w.Write([]byte("]}"))
}

// jamfError answers as the Jamf Pro API does.
func jamfError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"httpStatus":%d,"errors":[]}`, status)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// genComputer is computer i as computers-inventory answers it with the
// GENERAL, HARDWARE and OPERATING_SYSTEM sections (the others null). Every
// seventh computer is unmanaged and every fifth has not checked in for 30 days.
func genComputer(i int, now time.Time) json.RawMessage {
	contact := now.Add(-time.Duration(i%50) * time.Minute)
	if i%5 == 0 {
		contact = now.Add(-30 * 24 * time.Hour)
	}
	site := `{"id":"-1","name":"None"}`
	if i%2 == 0 {
		site = `{"id":"2","name":"Paris"}`
	}
	return json.RawMessage(fmt.Sprintf(`{"id":"%d","udid":"%08X-0000-4000-8000-%012X","general":{"name":"mac-%05d","lastIpAddress":"203.0.113.%d","lastReportedIp":"10.20.%d.%d","jamfBinaryVersion":"11.4.1-t1712591696","platform":"Mac","barcode1":null,"barcode2":null,"assetTag":"A%05d","remoteManagement":{"managed":%t,"managementUsername":"jamfmgmt"},"supervised":true,"mdmCapable":{"capable":true,"capableUsers":["admin"]},"reportDate":"%s","lastContactTime":"%s","lastCloudBackupDate":null,"lastEnrolledDate":"2025-03-04T10:11:12.345Z","mdmProfileExpiration":"2027-03-04T10:11:12Z","initialEntryDate":"2025-03-04","distributionPoint":null,"enrollmentMethod":{"id":"1","objectName":"Default PreStage","objectType":"Automated Device Enrollment"},"site":%s,"itunesStoreAccountActive":false,"enrolledViaAutomatedDeviceEnrollment":true,"userApprovedMdm":true,"declarativeDeviceManagementEnabled":true,"extensionAttributes":[],"managementId":"%08x-1111-4222-8333-444455556666"},"diskEncryption":null,"purchasing":null,"applications":null,"storage":null,"userAndLocation":null,"configurationProfiles":null,"printers":null,"services":null,"hardware":{"make":"Apple","model":"MacBook Pro (14-inch, 2023)","modelIdentifier":"Mac14,9","serialNumber":"C02X%06dQ6L","processorSpeedMhz":0,"processorCount":1,"coreCount":12,"processorType":"Apple M2 Pro","processorArchitecture":"arm64","busSpeedMhz":0,"cacheSizeKilobytes":0,"networkAdapterType":"IEEE80211","macAddress":"A4:83:E7:%02X:%02X:%02X","altNetworkAdapterType":"Ethernet","altMacAddress":"36:%02X:%02X:00:00:01","totalRamMegabytes":32768,"openRamSlots":0,"batteryCapacityPercent":97,"smcVersion":null,"nicSpeed":"n/a","opticalDrive":null,"bootRom":"10151.101.3","bleCapable":true,"supportsIosAppInstalls":true,"appleSilicon":true,"extensionAttributes":[]},"localUserAccounts":null,"certificates":null,"attachments":null,"plugins":null,"packageReceipts":null,"fonts":null,"security":null,"operatingSystem":{"name":"macOS","version":"14.%d.1","build":"23E224","supplementalBuildVersion":null,"rapidSecurityResponse":null,"activeDirectoryStatus":"Not Bound","fileVault2Status":"ALL_ENCRYPTED","softwareUpdateDeviceId":"J414sAP","extensionAttributes":[]},"licensedSoftware":null,"ibeacons":null,"softwareUpdates":null,"extensionAttributes":null,"contentCaching":null,"groupMemberships":null}`,
		i, i, i, i, i%250, (i/250)%250, i%250, i, i%7 != 0,
		contact.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z"), contact.Format("2006-01-02T15:04:05.000Z"), site, i,
		i, (i>>16)&0xff, (i>>8)&0xff, i&0xff, (i>>8)&0xff, i&0xff, i%6))
}
