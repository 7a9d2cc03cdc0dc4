package importer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
	"github.com/muster-project/muster/internal/sqlstore"
)

const fixture = "../../../shared/fixtures/wazuh-4.14.7"

func fixtureDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "queue/db/global.db")); err != nil {
		t.Skipf("fixture not available: %v", err)
	}
	return dir
}

func importFixture(t *testing.T) (string, *Plan, string) {
	t.Helper()
	src := fixtureDir(t)
	target := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	p, err := Run(context.Background(), Options{From: src, DataDir: target, Out: &out})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return target, p, out.String()
}

func TestImportFixtureStore(t *testing.T) {
	target, _, report := importFixture(t)
	for _, want := range []string{"users              6", "roles              10", "policies           39",
		"rules              4", "agents             41", "groups             3",
		"agent 017 (old-web-99) was removed in Wazuh"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite", filepath.Join(target, "muster.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sec, err := st.LoadSecurity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Users: ids, hashes as they were, allow_run_as, role order.
	var ids []int
	users := map[int]core.User{}
	for _, u := range sec.Users {
		ids = append(ids, u.ID)
		users[u.ID] = u
	}
	if !reflect.DeepEqual(ids, []int{1, 2, 99, 100, 101, 102}) {
		t.Errorf("user ids %v", ids)
	}
	if h := users[99].Password; h != "pbkdf2:sha256:150000$OMVAATei$cb30da77537eea26b964265dab6f403e9499f18522c7cc9e6ba2cb2d33694e1f" {
		t.Errorf("user 99 hash %q", h)
	}
	if !strings.HasPrefix(users[99].CreatedAt, "1970-01-01") || users[99].AllowRunAs {
		t.Errorf("user 99: %+v", users[99])
	}
	if !strings.HasPrefix(users[100].Password, "scrypt:32768:8:1$") || !users[100].AllowRunAs || users[101].AllowRunAs || users[102].AllowRunAs {
		t.Errorf("users: %+v", users)
	}
	ordered := func(links []core.Link, from int) []int {
		var ls []core.Link
		for _, l := range links {
			if l.From == from {
				ls = append(ls, l)
			}
		}
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].Level < ls[j].Level })
		var out []int
		for _, l := range ls {
			out = append(out, l.To)
		}
		return out
	}
	for id, want := range map[int][]int{1: {1}, 2: {1}, 99: {1}, 100: {100, 101}, 101: {101}, 102: {100, 102}} {
		if got := ordered(sec.UserRoles, id); !reflect.DeepEqual(got, want) {
			t.Errorf("user %d roles %v, want %v", id, got, want)
		}
	}
	if len(sec.Roles) != 10 || len(sec.Policies) != 39 || len(sec.Rules) != 4 {
		t.Errorf("roles %d policies %d rules %d", len(sec.Roles), len(sec.Policies), len(sec.Rules))
	}
	for id, want := range map[int][]int{100: {102, 100, 101}, 101: {103, 100}, 102: {100, 4, 5}} {
		if got := ordered(sec.RolePolicies, id); !reflect.DeepEqual(got, want) {
			t.Errorf("role %d policies %v, want %v", id, got, want)
		}
	}
	for id, want := range map[int][]int{100: {100}, 101: {101}, 102: nil} {
		if got := ordered(sec.RoleRules, id); !reflect.DeepEqual(got, want) {
			t.Errorf("role %d rules %v, want %v", id, got, want)
		}
	}
	names := map[int]string{}
	for _, r := range sec.Roles {
		names[r.ID] = r.Name
	}
	if names[100] != "web-operator" || names[101] != "auditor" || names[102] != "scanner" {
		t.Errorf("roles %v", names)
	}
	bodies := map[int]string{}
	for _, p := range sec.Policies {
		bodies[p.ID] = string(p.Body)
	}
	if bodies[102] != `{"actions": ["agent:delete"], "resources": ["agent:id:*"], "effect": "deny"}` {
		t.Errorf("policy 102 %s", bodies[102])
	}
	for _, r := range sec.Rules {
		if r.ID == 101 && string(r.Body) != `{"MATCH": {"department": "audit"}}` {
			t.Errorf("rule 101 %s", r.Body)
		}
	}
	if sec.Config != (core.SecurityConfig{AuthTokenExpTimeout: 1800, RBACMode: "white"}) {
		t.Errorf("config %+v", sec.Config)
	}
	pk, _ := os.ReadFile(filepath.Join(fixtureDir(t), "api/configuration/security/private_key.pem"))
	if sec.SigningKey != string(pk) {
		t.Errorf("signing key not kept")
	}

	// Agents: every field as it was.
	agents, total, err := st.ListAgents(ctx, core.AgentListQuery{Fields: core.AllAgentFields})
	if err != nil {
		t.Fatal(err)
	}
	if total != 41 {
		t.Fatalf("%d agents, want 41 (000 and 40)", total)
	}
	status, groups, platforms := map[string]int{}, map[string]int{}, map[string]int{}
	byID := map[int]core.Agent{}
	for _, a := range agents {
		byID[a.ID] = a
		if a.ID == 0 {
			continue
		}
		status[a.Status]++
		for _, g := range a.Groups {
			groups[g]++
		}
		platforms[a.OS.Platform.V]++
	}
	if !reflect.DeepEqual(status, map[string]int{"active": 25, "disconnected": 7, "never_connected": 5, "pending": 3}) {
		t.Errorf("status %v", status)
	}
	if !reflect.DeepEqual(groups, map[string]int{"default": 25, "web": 10, "db": 6}) {
		t.Errorf("groups %v", groups)
	}
	if platforms["ubuntu"] != 12 || platforms["debian"] != 5 || platforms["windows"] != 6 || platforms[""] != 7 {
		t.Errorf("platforms %v", platforms)
	}
	if _, ok := byID[17]; ok {
		t.Error("removed agent 017 imported")
	}
	codes := map[int]int{5: 4, 10: 3, 16: 4, 22: 4, 24: 4, 30: 5, 34: 4}
	for id, a := range byID {
		if a.StatusCode != codes[id] {
			t.Errorf("agent %d status_code %d, want %d", id, a.StatusCode, codes[id])
		}
		if a.Status == core.AgentDisconnected && a.DisconnectionTime <= a.DateAdd {
			t.Errorf("agent %d disconnection_time %d", id, a.DisconnectionTime)
		}
		if a.Status == core.AgentNeverConnected && (a.NodeName.V != "unknown" || a.LastKeepAlive.Valid || a.OS.Name.Valid || a.Version.Valid) {
			t.Errorf("never connected agent %d: %+v", id, a)
		}
	}
	a := byID[11]
	if a.Name != "app-01" || !reflect.DeepEqual(a.Groups, []string{"web", "db"}) || a.IP.V != "10.0.3.11" ||
		a.MergedSum.V != "5cb55797765faa0088198443567787c8" || a.ConfigSum.V != "7a7924bbc331bdbc9342145890181829" ||
		core.FormatDate(a.DateAdd) != "2026-01-19T12:40:26+00:00" || core.FormatDate(a.LastKeepAlive.V) != "2026-11-25T09:37:05+00:00" ||
		a.OS.Codename.V != "Jammy Jellyfish" || a.Version.V != "Wazuh v4.14.7" || a.NodeName.V != "node01" ||
		a.Manager.V != "wazuh-manager" || a.RegisterIP.V != "any" || a.GroupConfigStatus != "synced" {
		t.Errorf("agent 011: %+v", a)
	}
	if byID[21].RegisterIP.V != "192.168.50.0/24" || byID[39].RegisterIP.V != "10.0.6.0/24" {
		t.Errorf("register ips %v %v", byID[21].RegisterIP, byID[39].RegisterIP)
	}
	if byID[26].MergedSum.V != "22e4b3f81842ee7198128754966d8188" || byID[26].GroupConfigStatus != "not synced" {
		t.Errorf("agent 026 %+v", byID[26])
	}
	if byID[0].LastKeepAlive.V != core.ManagerKeepalive {
		t.Errorf("agent 000 keepalive %v", byID[0].LastKeepAlive)
	}
	// Keys as in client.keys.
	entries, _, err := st.KeyEntries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 40 {
		t.Errorf("%d key entries", len(entries))
	}
	// Group files and their sums.
	for g, sum := range map[string]string{"default": "3a84c2cd74683f47764ed6f4a05d28f0", "web": "b7c8c5ab7350f7e4a210e877dfa21347",
		"db": "3fc753e76bff89d853ede3b3690dddd1"} {
		if got := md5File(t, filepath.Join(target, "etc/shared", g, "merged.mg")); got != sum {
			t.Errorf("group %s merged.mg sum %s, want %s", g, got, sum)
		}
	}
	if got := md5File(t, filepath.Join(target, "var/multigroups/01f925bf/merged.mg")); got != "5cb55797765faa0088198443567787c8" {
		t.Errorf("multigroup sum %s", got)
	}
	// api.yaml under api:.
	cfg, err := config.Load(filepath.Join(target, ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Intervals.RequestTimeout != 30 || cfg.API.Access.MaxLoginAttempts != 20 || cfg.API.MaxUploadSize != 20971520 ||
		cfg.API.AuthenticationPoolSize != 4 || cfg.API.CORS.SourceRoute != "https://dashboard.example.org" ||
		cfg.API.HTTPS.SSLProtocol != "tlsv1.2" || cfg.API.Logs.Format != "json" {
		t.Errorf("api config %+v", cfg.API)
	}
}

func md5File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestImportFixtureServer starts a manager on the imported data dir and logs
// in as every imported user.
func TestImportFixtureServer(t *testing.T) {
	target, _, _ := importFixture(t)
	cfg, err := config.Load(filepath.Join(target, ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	cfg.API.Host = config.Hosts{"127.0.0.1"}
	cfg.API.Port = 0
	cfg.API.HTTPS.Enabled = false
	cfg.API.Access.MaxLoginAttempts = 1000
	cfg.Remote.Enabled = false
	cfg.Auth.Disabled = true
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: target,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(a []net.Addr) { ready <- a }})
	}()
	defer func() {
		cancel()
		<-done
	}()
	var base string
	select {
	case addrs := <-ready:
		base = "http://" + addrs[0].String()
	case err := <-done:
		t.Fatalf("manager: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("manager did not start")
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	login := func(user, pass string) (int, string) {
		req, _ := http.NewRequest("POST", base+"/security/user/authenticate", nil)
		req.SetBasicAuth(user, pass)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Data struct{ Token string } `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Data.Token
	}
	for _, c := range [][2]string{{"wazuh", "wazuh"}, {"wazuh-wui", "wazuh-wui"}, {"testing", "wazuh"},
		{"alice", "Alice-Pass1!"}, {"bobby", "Bobby-Pass2!"}, {"carol", "Carol-Pass3!"}} {
		if code, _ := login(c[0], c[1]); code != 200 {
			t.Errorf("login %s: %d", c[0], code)
		}
	}
	if code, _ := login("alice", "wrong"); code != 401 {
		t.Errorf("alice with a wrong password: %d", code)
	}
	_, admin := login("wazuh", "wazuh")
	get := func(token, path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	want := func(name string) any {
		b, err := os.ReadFile(filepath.Join(fixtureDir(t), "api-responses", name))
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Body map[string]any }
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r.Body["data"]
	}
	for path, file := range map[string]string{"/security/users": "security_users.json",
		"/security/config": "security_config.json", "/security/rules": "security_rules.json",
		"/groups": "groups.json", "/security/roles?role_ids=100,101,102": "security_roles_custom.json",
		"/security/policies?policy_ids=100,101,102,103": "security_policies_custom.json",
		"/agents/011/group/is_sync":                     "agent_011_group_is_sync.json", "/agents/026/group/is_sync": "agent_026_group_is_sync.json",
		"/agents/stats/distinct?fields=os.platform": "agents_distinct_os_platform.json",
		"/agents/summary/os":                        "agents_summary_os.json", "/groups/web/files": "group_web_files.json",
		"/groups/web/configuration": "group_web_configuration.json"} {
		code, body := get(admin, path)
		if code != 200 || !reflect.DeepEqual(body["data"], want(file)) {
			g, _ := json.Marshal(body["data"])
			w, _ := json.Marshal(want(file))
			t.Errorf("GET %s: %d\n got  %s\n want %s", path, code, g, w)
		}
	}
	for _, c := range []struct {
		body  string
		roles []any
	}{{`{"groups": ["web-team"]}`, []any{float64(100)}}, {`{"department": "audit"}`, []any{float64(101)}},
		{`{"groups": ["web-team"], "department": "audit"}`, []any{float64(100), float64(101)}}} {
		req, _ := http.NewRequest("POST", base+"/security/user/authenticate/run_as", strings.NewReader(c.body))
		req.SetBasicAuth("alice", "Alice-Pass1!")
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var r struct{ Data struct{ Token string } }
		json.NewDecoder(resp.Body).Decode(&r)
		resp.Body.Close()
		parts := strings.Split(r.Data.Token, ".")
		if resp.StatusCode != 200 || len(parts) != 3 {
			t.Errorf("run_as %s: %d", c.body, resp.StatusCode)
			continue
		}
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var cl map[string]any
		json.Unmarshal(raw, &cl)
		if !reflect.DeepEqual(cl["rbac_roles"], c.roles) {
			t.Errorf("run_as %s: roles %v, want %v", c.body, cl["rbac_roles"], c.roles)
		}
	}
	// Statuses: muster, like a restarted remoted, disconnects (code 5) the
	// agents that were active on this node until they reconnect; the other
	// fields answer as before.
	ids := func(data any) []any {
		var out []any
		for _, it := range data.(map[string]any)["affected_items"].([]any) {
			out = append(out, it.(map[string]any)["id"])
		}
		return out
	}
	if code, body := get(admin, "/agents/outdated"); code != 200 || !reflect.DeepEqual(ids(body["data"]), ids(want("agents_outdated.json"))) {
		t.Errorf("GET /agents/outdated: %d %v", code, body)
	}
	code, body := get(admin, "/agents?limit=500")
	if data, _ := body["data"].(map[string]any); code != 200 || data["total_affected_items"] != float64(41) {
		t.Errorf("GET /agents: %d %v", code, data["total_affected_items"])
	}
	// A token signed with the old manager's key is accepted.
	tok := mint(t, filepath.Join(fixtureDir(t), "api/configuration/security/private_key.pem"), "alice", []int{100, 101})
	if code, body := get(tok, "/security/users/me"); code != 200 {
		t.Errorf("token minted with the imported key: %d %v", code, body)
	}
}

func mint(t *testing.T, keyPath, sub string, roles []int) string {
	b, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	enc := base64.RawURLEncoding
	hdr := enc.EncodeToString([]byte(`{"alg":"ES512","typ":"JWT"}`))
	claims, _ := json.Marshal(map[string]any{"iss": "wazuh", "aud": "Wazuh API REST", "nbf": now, "exp": now + 1800,
		"sub": sub, "run_as": false, "rbac_roles": roles, "rbac_mode": "white"})
	in := hdr + "." + enc.EncodeToString(claims)
	h := sha512.Sum512([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, k.(*ecdsa.PrivateKey), h[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 132)
	r.FillBytes(sig[:66])
	s.FillBytes(sig[66:])
	return in + "." + enc.EncodeToString(sig)
}
