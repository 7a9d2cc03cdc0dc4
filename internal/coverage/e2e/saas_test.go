package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/source/meshcentral/meshtest"

	_ "github.com/muster-project/muster/internal/coverage/source/crowdstrike"
	_ "github.com/muster-project/muster/internal/coverage/source/sentinelone"
)

// falconPage is how many host ids the test Falcon puts in one scroll page.
// The API returns up to limit (5000) ids; a smaller page is the server's
// choice, and the connector follows meta.pagination.offset whatever the
// page's size, so a handful of hosts makes a walk of several pages.
const falconPage = 2

// falconServer serves the parts of the CrowdStrike Falcon Hosts API the
// crowdstrike connector reads, as documented on falconpy's Hosts and OAuth2
// pages (https://falconpy.io/Service-Collections/Hosts.html,
// https://github.com/CrowdStrike/falconpy/wiki/oauth2) and in
// developer.crowdstrike.com's Hosts collection
// (https://developer.crowdstrike.com/api-reference/collections/hosts/):
//   - POST /oauth2/token, form client_id and client_secret, answers 201
//     {"access_token", "token_type": "bearer", "expires_in"};
//   - GET /devices/queries/devices-scroll/v1?limit=1-5000[&offset=TOKEN]
//     answers host ids with meta.pagination {offset, limit, total, expires_at};
//   - POST /devices/entities/devices/v2 {"ids": [...]} answers the hosts;
//   - every answer is the {meta, resources, errors} envelope with
//     X-RateLimit-Limit and X-RateLimit-Remaining; a 429 carries
//     X-RateLimit-RetryAfter in epoch seconds (the Falcon API documentation
//     as quoted in https://github.com/CrowdStrike/gofalcon/issues/364).
//
// With limited set, every scroll page after the first answers 429 and asks
// for a wait of an hour: a rate limit hit in the middle of the walk.
type falconServer struct {
	t   *testing.T
	srv *httptest.Server

	clientID, secret string
	// jwt accepts any JWT-shaped bearer token instead of its own: the token
	// endpoint is the real OAuth2 server of MUSTER_TEST_OAUTH2_URL.
	jwt     bool
	limited atomic.Bool

	mu       sync.Mutex
	ids      []string
	hosts    map[string]map[string]any
	tokens   map[string]bool
	pointers map[string]int
	calls    map[string]int // token, scroll, details, scroll-429
}

func newFalcon(t *testing.T, hosts []map[string]any) *falconServer {
	f := &falconServer{t: t, clientID: "9f3c2b1a0e4d4c6b8a7f5e3d2c1b0a99", secret: "e2e-Falcon-Client-Secret-abcdefghij0123",
		hosts: map[string]map[string]any{}, tokens: map[string]bool{}, pointers: map[string]int{}, calls: map[string]int{}}
	for _, h := range hosts {
		id := h["device_id"].(string)
		f.ids = append(f.ids, id)
		f.hosts[id] = h
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *falconServer) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[kind]
}

func (f *falconServer) write(w http.ResponseWriter, status int, resources any, errs []map[string]any, pag map[string]any) {
	m := map[string]any{"query_time": 0.004, "powered_by": "device-api", "trace_id": "e2e-" + strconv.Itoa(status)}
	if pag != nil {
		m["pagination"] = pag
	}
	if errs == nil {
		errs = []map[string]any{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"meta": m, "resources": resources, "errors": errs})
}

func (f *falconServer) serve(w http.ResponseWriter, r *http.Request) {
	kind := map[string]string{"/oauth2/token": "token", "/devices/queries/devices-scroll/v1": "scroll",
		"/devices/entities/devices/v2": "details"}[r.URL.Path]
	f.mu.Lock()
	f.calls[kind]++
	f.mu.Unlock()
	switch kind {
	case "":
		f.write(w, http.StatusNotFound, []any{}, []map[string]any{{"code": 404, "message": "Not Found"}}, nil)
		return
	case "token":
		f.token(w, r)
		return
	}
	w.Header().Set("X-RateLimit-Limit", "6000")
	if kind == "scroll" && r.URL.Query().Get("offset") != "" && f.limited.Load() {
		f.mu.Lock()
		f.calls["scroll-429"]++
		f.mu.Unlock()
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-RetryAfter", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
		f.write(w, http.StatusTooManyRequests, []any{}, []map[string]any{{"code": 429, "message": "API rate limit exceeded."}}, nil)
		return
	}
	w.Header().Set("X-RateLimit-Remaining", "5990")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	known := f.tokens[tok]
	f.mu.Unlock()
	if f.jwt {
		known = strings.Count(tok, ".") == 2 && !strings.HasPrefix(tok, "falcon-e2e-")
	}
	if !ok || !known {
		f.write(w, http.StatusUnauthorized, []any{}, []map[string]any{{"code": 401, "message": "access denied, invalid bearer token"}}, nil)
		return
	}
	if kind == "scroll" {
		f.scroll(w, r)
	} else {
		f.details(w, r)
	}
}

func (f *falconServer) token(w http.ResponseWriter, r *http.Request) {
	if f.jwt {
		f.t.Errorf("falcon: the test server's token endpoint was used, not the real OAuth2 server")
	}
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		f.t.Errorf("falcon: token request %s: %v", r.Method, err)
	}
	if r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret {
		f.write(w, http.StatusForbidden, []any{}, []map[string]any{{"code": 403, "message": "Failed to issue access token - Not Authorized"}}, nil)
		return
	}
	f.mu.Lock()
	tok := fmt.Sprintf("falcon-e2e-%d", len(f.tokens)+1)
	f.tokens[tok] = true
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 1799})
}

func (f *falconServer) scroll(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if r.Method != http.MethodGet || err != nil || limit < 1 || limit > 5000 {
		f.write(w, http.StatusBadRequest, []any{}, []map[string]any{{"code": 400, "message": "limit must be 1-5000"}}, nil)
		return
	}
	f.mu.Lock()
	pos := 0
	if off := q.Get("offset"); off != "" {
		p, ok := f.pointers[off]
		if !ok {
			f.mu.Unlock()
			f.write(w, http.StatusBadRequest, []any{}, []map[string]any{{"code": 400, "message": "Invalid or expired offset"}}, nil)
			return
		}
		pos = p
	}
	end := min(pos+limit, pos+falconPage, len(f.ids))
	page := slices.Clone(f.ids[pos:end])
	next := base64.RawURLEncoding.EncodeToString([]byte("e2e-scroll-" + strconv.Itoa(len(f.pointers)+1)))
	f.pointers[next] = end
	total := len(f.ids)
	f.mu.Unlock()
	f.write(w, http.StatusOK, page, nil, map[string]any{"offset": next, "limit": limit, "total": total,
		"expires_at": time.Now().Add(2 * time.Minute).UnixNano()})
}

func (f *falconServer) details(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IDs []string `json:"ids"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil || len(body.IDs) == 0 || len(body.IDs) > 5000 {
		f.write(w, http.StatusBadRequest, []any{}, []map[string]any{{"code": 400, "message": "ids: 1-5000 ids required"}}, nil)
		return
	}
	out := []map[string]any{}
	var errs []map[string]any
	f.mu.Lock()
	for _, id := range body.IDs {
		if h, ok := f.hosts[id]; ok {
			out = append(out, h)
		} else {
			errs = append(errs, map[string]any{"code": 404, "message": "Device not found", "id": id})
		}
	}
	f.mu.Unlock()
	f.write(w, http.StatusOK, out, errs, nil)
}

// falconHost is a host record of /devices/entities/devices/v2 with the
// fields Falcon documents (status is the containment status).
func falconHost(id, hostname, serial, mac, ip, status string, lastSeen time.Time) map[string]any {
	return map[string]any{"device_id": id, "cid": "0123456789abcdef0123456789abcdef", "hostname": hostname,
		"serial_number": serial, "mac_address": mac, "local_ip": ip, "external_ip": "203.0.113.10",
		"platform_name": "Linux", "os_version": "Debian 12", "product_type_desc": "Server", "agent_version": "7.18.17106.0",
		"status": status, "reduced_functionality_mode": "no", "first_seen": "2026-01-05T08:00:00Z",
		"last_seen": lastSeen.UTC().Format(time.RFC3339), "machine_domain": "corp.example",
		"groups": []string{"5f1d6a1e0c6f4b5e9a8d7c6b5a4f3e2d"}, "tags": []string{"FalconGroupingTags/e2e"}}
}

// s1Server serves the SentinelOne Management API v2.1 calls the
// sentinelone connector makes, as documented for Get Agents
// (webApiAgentsGet: GET /web/api/v2.1/agents with limit 1-1000 and
// cursor=<pagination.nextCursor>, answering AgentsSchemasAgentViewSchemaMany200
// with pagination {nextCursor, totalItems}) in the client generated from the
// console's swagger (https://github.com/Dirt-Diver/s1-api, api/docs/AgentsApi.md),
// and for api-token-details (POST /web/api/v2.1/users/api-token-details with
// {"data":{"apiToken":...}}, answering data.expiresAt; as used by
// https://github.com/vradchenko/PowerShell-SentinelOne). Requests carry
// "Authorization: ApiToken <token>"
// (https://surecloud.gitbook.io/surecloud-docs/integrations/ccm-and-evidence-collection-integrations/sentinelone);
// errors are {"errors":[{"code","detail","title"}]}.
//
// With revoked set, every agents page after the first answers 401: the token
// revoked (or expired) in the middle of the walk.
type s1Server struct {
	t       *testing.T
	srv     *httptest.Server
	token   string
	agents  []map[string]any
	revoked atomic.Bool

	mu    sync.Mutex
	calls map[string]int // agents, details, agents-401
}

func newS1(t *testing.T, token string, agents []map[string]any) *s1Server {
	s := &s1Server{t: t, token: token, agents: agents, calls: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *s1Server) count(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[kind]
}

func s1Errors(w http.ResponseWriter, status, code int, title, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{"code": code, "title": title, "detail": detail}}})
}

func (s *s1Server) serve(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "ApiToken ")
	accepted := ok && tok == s.token
	switch r.URL.Path {
	case "/web/api/v2.1/users/api-token-details":
		s.mu.Lock()
		s.calls["details"]++
		s.mu.Unlock()
		var body struct {
			Data struct {
				APIToken string `json:"apiToken"`
			} `json:"data"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil || body.Data.APIToken != tok {
			s.t.Errorf("s1: api-token-details %s without the header's token in data.apiToken", r.Method)
		}
		if !accepted {
			s1Errors(w, http.StatusUnauthorized, 4010010, "Authentication Failed", "")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{
			"expiresAt": time.Now().Add(90 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z"),
			"createdAt": "2026-01-05T08:00:00.000000Z"}})
	case "/web/api/v2.1/agents":
		s.agentsPage(w, r, accepted)
	default:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body>Not found</body></html>")
	}
}

func (s *s1Server) agentsPage(w http.ResponseWriter, r *http.Request, accepted bool) {
	q := r.URL.Query()
	cursor := q.Get("cursor")
	s.mu.Lock()
	s.calls["agents"]++
	s.mu.Unlock()
	if r.Method != http.MethodGet || q.Get("isDecommissioned") != "true,false" {
		s.t.Errorf("s1: agents %s with isDecommissioned=%q", r.Method, q.Get("isDecommissioned"))
	}
	if cursor != "" && s.revoked.Load() {
		s.mu.Lock()
		s.calls["agents-401"]++
		s.mu.Unlock()
		accepted = false
	}
	if !accepted {
		s1Errors(w, http.StatusUnauthorized, 4010010, "Authentication Failed", "")
		return
	}
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit < 1 || limit > 1000 {
		s1Errors(w, http.StatusBadRequest, 4000010, "Validation Error", "limit: must be between 1 and 1000")
		return
	}
	from := 0
	if cursor != "" {
		b, err := base64.StdEncoding.DecodeString(cursor)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "agent_id:"))
		if err != nil || err2 != nil || n < 0 || n > len(s.agents) {
			s1Errors(w, http.StatusBadRequest, 4000010, "Validation Error", "cursor: invalid")
			return
		}
		from = n
	}
	end := min(from+limit, len(s.agents))
	var next any
	if end < len(s.agents) {
		next = base64.StdEncoding.EncodeToString([]byte("agent_id:" + strconv.Itoa(end)))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"data": s.agents[from:end], "errors": nil,
		"pagination": map[string]any{"nextCursor": next, "totalItems": len(s.agents)}})
}

// s1Agent is an agent of Get Agents with the schema's fields.
func s1Agent(id, name, serial, mac, ip, networkStatus string, lastActive time.Time) map[string]any {
	return map[string]any{"id": id, "uuid": fmt.Sprintf("%013d%s", 0, id), "computerName": name, "serialNumber": serial,
		"networkInterfaces": []any{map[string]any{"id": id + "1", "name": "eth0", "physical": mac, "inet": []string{ip}, "inet6": []string{}}}, "lastIpToMgmt": ip,
		"externalIp": "198.51.100.23", "osName": "Linux", "osType": "linux", "osRevision": "Debian 12",
		"accountId": "433241117337583618", "accountName": "Example Corp", "siteId": "225494730938493804", "siteName": "Default site",
		"groupId": "1475482421375116388", "groupName": "Servers", "machineType": "server",
		"lastActiveDate": lastActive.UTC().Format("2006-01-02T15:04:05.000000Z"), "isActive": true,
		"networkStatus": networkStatus, "infected": false, "isDecommissioned": false, "isUninstalled": false,
		"isPendingUninstall": false, "agentVersion": "23.4.2.14", "operationalState": "na"}
}

func sortFindings(fs []finding) []finding {
	slices.SortFunc(fs, func(a, b finding) int {
		if c := strings.Compare(a.kind, b.kind); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return fs
}

// TestCoverageSaasEndToEnd runs `muster coverage` over muster server,
// MeshCentral with real agents, and CrowdStrike and SentinelOne test
// servers at once; then again with CrowdStrike answering 429 and
// SentinelOne 401 from their second page on: both are then unavailable
// with the reason, and no finding rests on them.
func TestCoverageSaasEndToEnd(t *testing.T) {
	mesh := meshtest.Open(t)

	u := strings.ToLower(meshtest.Unique("saas"))
	name := func(s string) string { return u + "-" + s }
	var (
		all        = name("all")         // wazuh, crowdstrike, sentinelone: covered everywhere
		wSilent    = name("w-silent")    // wazuh agent gone silent, crowdstrike sees the host alive
		contained  = name("contained")   // wazuh alive, the Falcon host contained
		csOnly     = name("cs-only")     // only in crowdstrike
		csStale    = name("cs-stale")    // only in crowdstrike, not seen for 10 days
		s1Only     = name("s1-only")     // only in sentinelone
		s1Quar     = name("s1-quar")     // network-quarantined S1 agent; wazuh agent never connected
		wOnly      = name("w-only")      // only in wazuh
		meshSilent = name("mesh-silent") // mesh online, wazuh agent silent
		meshBare   = name("mesh-bare")   // mesh online, no wazuh agent
	)

	// MeshCentral: two real agents in a group of their own, both online.
	// They start while the Wazuh side is set up.
	group := meshtest.Unique("coverage-saas")
	meshID := mesh.CreateGroup(t, group)
	mesh.StartAgent(t, meshID, meshSilent)
	mesh.StartAgent(t, meshID, meshBare)

	w := startFleet(t)
	for _, n := range []string{all, wSilent, contained, wOnly, meshSilent} {
		w.enroll(n, true)
	}
	w.enroll(s1Quar, false)
	w.silence(wSilent, meshSilent)

	mesh.WaitOnline(t, meshID, meshSilent, true, 90*time.Second)
	mesh.WaitOnline(t, meshID, meshBare, true, 90*time.Second)

	now := time.Now()
	csIDs := map[string]string{}
	var csHosts []map[string]any
	for i, h := range []struct {
		host, status string
		seen         time.Time
	}{
		{all, "normal", now.Add(-2 * time.Minute)},
		{wSilent, "normal", now.Add(-time.Minute)},
		{contained + ".corp.example", "contained", now.Add(-3 * time.Minute)},
		{csOnly, "normal", now.Add(-4 * time.Minute)},
		{csStale, "normal", now.Add(-10 * 24 * time.Hour)},
	} {
		id := fmt.Sprintf("%08x%024x", 0xe2e0cafe, i+1)
		short, _, _ := strings.Cut(h.host, ".")
		csIDs[short] = id
		serial := "SN-E2E-" + strconv.Itoa(i+1)
		if short == all {
			serial = "SN-E2E-ALL"
		}
		csHosts = append(csHosts, falconHost(id, h.host, serial, fmt.Sprintf("3c-a9-f4-e2-00-%02x", i+1),
			fmt.Sprintf("10.77.0.%d", i+1), h.status, h.seen))
	}
	falcon := newFalcon(t, csHosts)

	s1IDs := map[string]string{all: "1901000000000000001", s1Only: "1901000000000000002", s1Quar: "1901000000000000003"}
	s1Token := "s1e2e-" + strings.ReplaceAll(u, "-", "") + "-Zq8wX7cE6vR5tB4yN3uM2iK1oL0pPaSdFgHjKl"
	s1 := newS1(t, s1Token, []map[string]any{
		s1Agent(s1IDs[all], strings.ToUpper(all), "SN-E2E-ALL", "3c:a9:f4:e2:00:01", "10.77.0.1", "connected", now.Add(-time.Minute)),
		s1Agent(s1IDs[s1Only], s1Only, "SN-E2E-S1-2", "3c:a9:f4:e2:01:02", "10.77.1.2", "connected", now.Add(-2*time.Minute)),
		s1Agent(s1IDs[s1Quar], s1Quar, "SN-E2E-S1-3", "3c:a9:f4:e2:01:03", "10.77.1.3", "disconnected", now.Add(-3*time.Minute)),
	})

	dir := t.TempDir()
	write := func(file, data string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("wazuh.pw", "wazuh\n")
	write("mesh.pw", mesh.Password+"\n")
	write("s1.token", s1Token+"\n")
	clientID, tokenURL := falcon.clientID, ""
	if base := os.Getenv("MUSTER_TEST_OAUTH2_URL"); base != "" {
		// The real OAuth2 server issues the Falcon tokens (RS256 JWTs of 5 s).
		falcon.jwt = true
		clientID, tokenURL = "falcon-id", "\n    token_url: "+strconv.Quote(strings.TrimRight(base, "/")+"/token")
		write("falcon.secret", "falcon-secret\n")
	} else {
		write("falcon.secret", falcon.secret+"\n")
	}
	cfg := fmt.Sprintf(`window: 24h
sources:
  - {name: wazuh, kind: wazuh, url: %q, user: wazuh, password_file: wazuh.pw, ca: [%q]}
  - {name: mesh, kind: meshcentral, url: %q, user: %q, password_file: mesh.pw, insecure: true, groups: [%q]}
  - name: crowdstrike
    kind: crowdstrike
    url: %q
    client_id: %q
    client_secret_file: falcon.secret%s
    timeout: 10s
    rate_limit: 50/s
  - name: sentinelone
    kind: sentinelone
    url: %q
    token_file: s1.token
    page_size: 2
    timeout: 10s
    rate_limit: 50/s
require:
  - {scope: [mesh, crowdstrike, sentinelone], must_have: [wazuh]}
  - {scope: [wazuh], must_have: [crowdstrike]}
  - {scope: [mesh], must_have: [wazuh]}
`, w.e.URL, w.caFile(dir), mesh.URL, mesh.User, group, falcon.srv.URL, clientID, tokenURL, s1.srv.URL)
	write("coverage.yaml", cfg)

	plan, err := coverage.LoadFile(filepath.Join(dir, "coverage.yaml"), coverage.Env{Stderr: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	ctx := context.Background()

	logFindings := func(r *coverage.Report) {
		for _, f := range r.Findings {
			t.Logf("%s %s: %s", f.Kind, f.Name, f.Text())
		}
	}
	checkRequirements := func(r *coverage.Report, want [][2]int) {
		t.Helper()
		if len(r.Requirements) != len(want) {
			t.Fatalf("%d requirements, want %d", len(r.Requirements), len(want))
		}
		for i, q := range r.Requirements {
			if want[i][0] < 0 {
				continue // checked as skipped by the caller
			}
			if q.Skipped != "" || q.InScope != want[i][0] || q.Covered != want[i][1] {
				t.Errorf("requirement %d %v -> %v: %d of %d covered (skipped %q), want %d of %d",
					i, q.Scope, q.MustHave, q.Covered, q.InScope, q.Skipped, want[i][1], want[i][0])
			}
		}
	}

	t.Run("healthy", func(t *testing.T) {
		r := plan.Run(ctx, coverage.RunOptions{})
		for _, s := range r.Sources {
			if s.Status != coverage.SourceOK {
				t.Fatalf("source %s: %s", s.Name, s.Reason)
			}
		}
		for name, n := range map[string]int{"crowdstrike": len(csHosts), "sentinelone": len(s1.agents), "mesh": 2} {
			for _, s := range r.Sources {
				if s.Name == name && s.Records != n {
					t.Errorf("source %s: %d records, want %d", name, s.Records, n)
				}
			}
		}
		if falcon.count("scroll") < 3 || s1.count("agents") < 2 || s1.count("details") < 1 {
			t.Errorf("walks: %d Falcon scroll pages, %d S1 agent pages, %d api-token-details; want several pages each",
				falcon.count("scroll"), s1.count("agents"), s1.count("details"))
		}
		want := sortFindings([]finding{
			{coverage.KindMissingAgent, csOnly},     // crowdstrike only: no wazuh agent
			{coverage.KindMissingAgent, csStale},    // crowdstrike only: no wazuh agent
			{coverage.KindMissingAgent, s1Only},     // sentinelone only: no wazuh agent
			{coverage.KindMissingAgent, meshBare},   // mesh only: no wazuh agent
			{coverage.KindMissingAgent, s1Quar},     // a wazuh agent without a Falcon host
			{coverage.KindMissingAgent, wOnly},      // a wazuh agent without a Falcon host
			{coverage.KindMissingAgent, meshSilent}, // a wazuh agent without a Falcon host
			{coverage.KindOrphan, csOnly},           // crowdstrike is an agent source (must_have) and alone
			{coverage.KindOrphan, csStale},
			{coverage.KindOrphan, wOnly},
			{coverage.KindSilentFailure, wSilent},    // crowdstrike alive, wazuh disconnected
			{coverage.KindSilentFailure, contained},  // wazuh alive, Falcon host contained
			{coverage.KindSilentFailure, meshSilent}, // mesh online, wazuh disconnected
			{coverage.KindStaleEverywhere, csStale},
		})
		if got := findings(r); !slices.Equal(got, want) {
			t.Errorf("findings:\n got %v\nwant %v", got, want)
			logFindings(r)
		}
		// in scope / covered: requirement 0 knows all, w-silent, contained,
		// cs-only, cs-stale, s1-only, s1-quar, mesh-silent, mesh-bare (all and
		// contained have a healthy wazuh agent; s1-quar's wazuh agent never
		// connected, and its S1 agent, contained, saw nothing alive);
		// requirement 1 knows the six wazuh agents, all and w-silent have a
		// healthy Falcon host; requirement 2 the two mesh devices.
		checkRequirements(r, [][2]int{{9, 2}, {6, 2}, {2, 0}})

		for _, f := range r.Findings {
			n := strings.ToLower(f.Name)
			switch {
			case f.Kind == coverage.KindSilentFailure && n == wSilent:
				s := f.SilentDetail()
				if s == nil || s.AliveSource != "crowdstrike" || s.AliveState != "normal" || s.AgentSource != "wazuh" || s.AgentState != "disconnected" ||
					len(f.Evidence) != 2 || f.Evidence[0].Source != "crowdstrike" || f.Evidence[0].ID != csIDs[wSilent] ||
					!strings.Contains(f.Evidence[0].Request, "/devices/entities/devices/v2") || f.Evidence[1].ID != w.ids[wSilent] {
					t.Errorf("silent failure of %s: %+v evidence %+v", wSilent, s, f.Evidence)
				}
			case f.Kind == coverage.KindSilentFailure && n == contained:
				s := f.SilentDetail()
				if s == nil || s.AliveSource != "wazuh" || s.AgentSource != "crowdstrike" || s.AgentState != "contained" ||
					len(f.Evidence) != 2 || f.Evidence[1].Source != "crowdstrike" || f.Evidence[1].ID != csIDs[contained] ||
					f.Evidence[1].Healthy || f.Evidence[1].Fields.Map()["status"] != "contained" {
					t.Errorf("silent failure of %s: %+v evidence %+v", contained, s, f.Evidence)
				}
			case f.Kind == coverage.KindMissingAgent && n == s1Only:
				if len(f.Evidence) != 1 || f.Evidence[0].Source != "sentinelone" || f.Evidence[0].ID != s1IDs[s1Only] ||
					f.Evidence[0].State != "active" || !strings.Contains(f.Evidence[0].Request, "/web/api/v2.1/agents") ||
					!slices.Equal(f.Sources, []string{"sentinelone", "wazuh"}) {
					t.Errorf("missing agent of %s: sources %v evidence %+v", s1Only, f.Sources, f.Evidence)
				}
			case f.Kind == coverage.KindMissingAgent && n == csOnly:
				if len(f.Evidence) != 1 || f.Evidence[0].Source != "crowdstrike" || f.Evidence[0].ID != csIDs[csOnly] || !f.Evidence[0].Healthy {
					t.Errorf("missing agent of %s: evidence %+v", csOnly, f.Evidence)
				}
			}
		}
		joined := false
		for _, d := range r.Devices {
			if strings.EqualFold(d.Name, all) && len(d.Records) == 3 {
				joined = true
			}
		}
		if !joined {
			t.Errorf("%s is not one device with a wazuh, a crowdstrike and a sentinelone record", all)
		}
		if r.ExitCode != coverage.ExitOverLimit {
			t.Errorf("exit code %d, want %d", r.ExitCode, coverage.ExitOverLimit)
		}
	})

	t.Run("faults", func(t *testing.T) {
		falcon.limited.Store(true)
		s1.revoked.Store(true)
		defer falcon.limited.Store(false)
		defer s1.revoked.Store(false)
		scrolls, pages := falcon.count("scroll"), s1.count("agents")
		start := time.Now()
		r := plan.Run(ctx, coverage.RunOptions{})
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("the run took %s: the faults were waited for", d)
		}
		reasons := map[string]string{}
		for _, s := range r.Sources {
			switch s.Name {
			case "wazuh", "mesh":
				if s.Status != coverage.SourceOK {
					t.Errorf("source %s: %s", s.Name, s.Reason)
				}
			default:
				if s.Status != coverage.SourceUnavailable || s.Records != 0 {
					t.Errorf("source %s: status %s with %d records, want unavailable", s.Name, s.Status, s.Records)
				}
				reasons[s.Name] = s.Reason
				t.Logf("%s: %s", s.Name, s.Reason)
			}
		}
		if cs := reasons["crowdstrike"]; !strings.Contains(cs, "429") || !strings.Contains(strings.ToLower(cs), "rate limit") || !strings.Contains(cs, "page 2") {
			t.Errorf("crowdstrike's reason %q does not say that page 2 hit the rate limit (429)", cs)
		}
		if s := reasons["sentinelone"]; !strings.Contains(s, "401") || !strings.Contains(s, "refused the API token") || !strings.Contains(s, "page 2") {
			t.Errorf("sentinelone's reason %q does not say that the API token was refused (401) on page 2", s)
		}
		for name, v := range map[string]string{"crowdstrike": reasons["crowdstrike"], "sentinelone": reasons["sentinelone"]} {
			if strings.Contains(v, falcon.secret) || strings.Contains(v, s1Token) || strings.Contains(v, "falcon-secret") {
				t.Errorf("%s's reason shows a secret: %q", name, v)
			}
		}
		// Each fault was met once, mid-walk, and not retried in a loop: the
		// 429 asks for an hour, the 401 is for the token the file still holds.
		if n := falcon.count("scroll") - scrolls; n != 2 || falcon.count("scroll-429") != 1 {
			t.Errorf("falcon: %d scroll requests this run, %d answered 429; want page 1 and one try of page 2", n, falcon.count("scroll-429"))
		}
		if n := s1.count("agents") - pages; n != 2 || s1.count("agents-401") != 1 {
			t.Errorf("s1: %d agent pages asked this run, %d answered 401; want page 1 and one try of page 2", n, s1.count("agents-401"))
		}
		if r.ExitCode != coverage.ExitIncomplete {
			t.Errorf("exit code %d, want %d", r.ExitCode, coverage.ExitIncomplete)
		}

		// Only what wazuh and mesh prove: requirement 2's findings.
		want := sortFindings([]finding{
			{coverage.KindMissingAgent, meshBare},
			{coverage.KindSilentFailure, meshSilent},
		})
		if got := findings(r); !slices.Equal(got, want) {
			t.Errorf("findings:\n got %v\nwant %v", got, want)
			logFindings(r)
		}
		for _, f := range r.Findings {
			if n := strings.ToLower(f.Name); slices.Contains([]string{csOnly, csStale, s1Only, s1Quar, contained, wSilent, wOnly}, n) {
				t.Errorf("%s finding for %s, which rests on an unavailable source: %s", f.Kind, f.Name, f.Text())
			}
			for _, s := range f.Sources {
				if s == "crowdstrike" || s == "sentinelone" {
					t.Errorf("%s finding for %s rests on %s, which is unavailable", f.Kind, f.Name, s)
				}
			}
			for _, e := range f.Evidence {
				if e.Source == "crowdstrike" || e.Source == "sentinelone" {
					t.Errorf("%s finding for %s has evidence from %s, which is unavailable", f.Kind, f.Name, e.Source)
				}
			}
		}
		if n := r.Summary.Findings[coverage.KindOrphan] + r.Summary.Findings[coverage.KindStaleEverywhere]; n != 0 {
			t.Errorf("%d orphan/stale_everywhere findings with sources unavailable", n)
		}
		checkRequirements(r, [][2]int{{-1, 0}, {-1, 0}, {2, 0}})
		for i, src := range []string{"crowdstrike", "crowdstrike"} {
			q := r.Requirements[i]
			if !strings.HasPrefix(q.Skipped, "source "+src+" is unavailable") || !strings.Contains(q.Skipped, reasons[src]) || q.InScope != 0 || q.Covered != 0 {
				t.Errorf("requirement %d %v -> %v: skipped %q (%d of %d), want skipped for %s with its reason", i, q.Scope, q.MustHave, q.Skipped, q.Covered, q.InScope, src)
			}
		}
		for _, src := range []string{"crowdstrike", "sentinelone"} {
			if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "source "+src+" is unavailable") }) {
				t.Errorf("no note says that %s is unavailable: %q", src, r.Notes)
			}
		}
	})
}
