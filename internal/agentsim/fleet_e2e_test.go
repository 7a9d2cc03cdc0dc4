package agentsim_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // edits the copied Wazuh global.db

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/importer"
	"github.com/muster-project/muster/internal/manager"
)

const wazuhFixture = "../../../shared/fixtures/wazuh-4.14.7"

// The twelve agents of the manager state, by id, from the Wazuh fixture.
// Alive in the fleet: four 4.14.7 and four 3.13.2 agents. 034 goes silent,
// 035 has its key and never connects, 016 and 024 are not simulated.
var fleetIDs = []string{"001", "002", "009", "011", "013", "014", "016", "020", "024", "027", "034", "035"}

// fleetState copies the fixture's Wazuh manager state, keeping agent 000 and
// the twelve agents in global.db and client.keys.
func fleetState(t *testing.T) string {
	t.Helper()
	from, err := filepath.Abs(wazuhFixture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(from, "queue/db/global.db")); err != nil {
		t.Skipf("Wazuh fixture not available: %v", err)
	}
	dst := filepath.Join(t.TempDir(), "ossec")
	err = filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if strings.HasPrefix(rel, "api-responses") {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	for _, id := range fleetIDs {
		keep[id] = true
	}
	keys, err := os.ReadFile(filepath.Join(dst, "etc/client.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(keys), "\n") {
		if f := strings.Fields(l); len(f) == 4 && keep[f[0]] && !strings.HasPrefix(f[1], "!") {
			lines = append(lines, l)
		}
	}
	if len(lines) != len(fleetIDs) {
		t.Fatalf("client.keys of the fixture: %d of the %d agents", len(lines), len(fleetIDs))
	}
	if err := os.WriteFile(filepath.Join(dst, "etc/client.keys"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(dst, "queue/db/global.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in := "0," + strings.Join(fleetIDs, ",")
	for _, q := range []string{"DELETE FROM agent WHERE id NOT IN (" + in + ")",
		"DELETE FROM belongs WHERE id_agent NOT IN (" + in + ")",
		"DELETE FROM labels WHERE id NOT IN (" + in + ")"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM agent WHERE id > 0").Scan(&n); err != nil || n != 12 {
		t.Fatalf("global.db has %d agents (%v)", n, err)
	}
	return dst
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestFleetEndToEnd imports a Wazuh manager state of twelve agents of mixed
// versions and OSes, keeps eight of them alive with one fleet simulation
// (four 4.14.7 and four 3.13.2, one failing over from a dead manager), lets
// one go silent and one never connect, and checks what the API answers as a
// Wazuh manager would for that fleet.
func TestFleetEndToEnd(t *testing.T) {
	src := fleetState(t)
	target := filepath.Join(t.TempDir(), "data")
	if _, err := importer.Run(context.Background(), importer.Options{From: src, DataDir: target, Out: io.Discard}); err != nil {
		t.Fatalf("import: %v", err)
	}
	cfg, err := config.Load(filepath.Join(target, importer.ConfigName))
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	cfg.API.Host = config.Hosts{"127.0.0.1"}
	cfg.API.Port = 0
	cfg.API.HTTPS.Enabled = false
	cfg.API.Access.MaxLoginAttempts = 1000
	cfg.API.Access.MaxRequestPerMinute = 0 // the test polls
	cfg.Remote.Enabled = true
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Remote.Protocol = "127.0.0.1", port, config.Strings{"tcp"}
	cfg.Auth.Disabled = true
	cfg.Manager.AgentsDisconnectionTime = 4
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: target,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Ready: func(a []net.Addr) { ready <- a }})
	}()
	defer func() { cancel(); <-done }()
	var base string
	select {
	case addrs := <-ready:
		base = "http://" + addrs[0].String()
	case err := <-done:
		t.Fatalf("manager: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("manager did not start")
	}

	fleetFile := filepath.Join(t.TempDir(), "fleet.yaml")
	fleet := fmt.Sprintf(`keys: %s
defaults:
  keepalive: 250ms
agents:
  - {name: web-01, id: "001", version: 4.14.7, os: ubuntu-22.04, labels: {env: prod, team: web}}
  - {name: web-02, version: 4.14.7, os: ubuntu-24.04}
  - {name: app-01, version: 4.14.7, os: ubuntu-22.04}
  - {name: fs-01, version: 4.14.7, os: windows-server-2022}
  - {name: db-03, version: 3.13.2, os: centos-7}
  - {name: bastion-01, version: 3.13.2, os: debian-11, managers: ["127.0.0.1:%d", "127.0.0.1:%d"]}
  - {name: ci-runner-01, version: 3.13.2, os: ubuntu-18.04}
  - {name: k8s-node-01, version: 3.13.2, os: centos-7}
  - {name: backup-01, version: 4.12.0, os: ubuntu-24.04, behaviour: silent after 2s}
  - {name: new-web-06, behaviour: never connects}
`, filepath.Join(src, "etc/client.keys"), freePort(t), port)
	if err := os.WriteFile(fleetFile, []byte(fleet), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := agentsim.LoadFleet(fleetFile)
	if err != nil {
		t.Fatal(err)
	}
	simCtx, stopSim := context.WithCancel(ctx)
	simDone := make(chan error, 1)
	go func() {
		_, err := agentsim.Run(simCtx, agentsim.Config{Fleet: f, Manager: "127.0.0.1", Port: port, Protocol: "tcp",
			Version: "v4.14.7", HandshakeTimeout: 5 * time.Second, Retries: 2, RetryInterval: 10 * time.Millisecond})
		simDone <- err
	}()
	defer func() { stopSim(); <-simDone }()

	api := newAPI(t, base)
	type row struct {
		ID, Status, Version, GroupConfigStatus string
		StatusCode                             int
		OS                                     struct{ Platform, Name, Version string }
	}
	agents := func() map[string]row {
		var d struct {
			AffectedItems []struct {
				ID, Status, Version string
				Group               []string
				GroupConfigStatus   string `json:"group_config_status"`
				StatusCode          int    `json:"status_code"`
				OS                  struct{ Platform, Name, Version string }
			} `json:"affected_items"`
		}
		api.get("/agents?limit=100", &d)
		out := map[string]row{}
		for _, a := range d.AffectedItems {
			out[a.ID] = row{ID: a.ID, Status: a.Status, Version: a.Version, GroupConfigStatus: a.GroupConfigStatus,
				StatusCode: a.StatusCode, OS: a.OS}
		}
		return out
	}
	alive := []string{"001", "002", "009", "011", "013", "014", "020", "027"}
	deadline := time.Now().Add(60 * time.Second)
	for {
		as := agents()
		// 034 was debian and disconnected in the imported state: ubuntu
		// says it connected as simulated, then went silent.
		ok := as["034"].Status == "disconnected" && as["034"].OS.Platform == "ubuntu"
		for _, id := range alive {
			ok = ok && as[id].Status == "active" && as[id].GroupConfigStatus == "synced"
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fleet did not settle: %+v", as)
		}
		time.Sleep(100 * time.Millisecond)
	}
	as := agents()
	for id, want := range map[string][3]string{"001": {"Wazuh v4.14.7", "ubuntu", "22.04.4 LTS"},
		"020": {"Wazuh v4.14.7", "windows", "10.0.20348.2700"}, "009": {"Wazuh v3.13.2", "centos", "7.9"},
		"013": {"Wazuh v3.13.2", "debian", "11"}, "034": {"Wazuh v4.12.0", "ubuntu", "24.04.1 LTS"}} {
		if a := as[id]; a.Version != want[0] || a.OS.Platform != want[1] || a.OS.Version != want[2] {
			t.Errorf("agent %s: %+v, want %v", id, a, want)
		}
	}
	if a := as["034"]; a.StatusCode != 4 {
		t.Errorf("silent agent: status_code %d, want 4 (no keepalive)", a.StatusCode)
	}
	if a := as["035"]; a.Status != "never_connected" || a.GroupConfigStatus != "not synced" {
		t.Errorf("never-connecting agent: %+v", a)
	}

	// The summaries as Wazuh gives them for this registry. 034's
	// configuration is whatever its last keepalive said.
	synced := 9 // the 8 alive and 016 (synced in the imported state); 024 and 035 are not
	if as["034"].GroupConfigStatus == "synced" {
		synced++
	}
	var status map[string]any
	api.get("/agents/summary/status", &status)
	wantStatus := map[string]any{
		"connection":    map[string]any{"active": 8.0, "disconnected": 3.0, "never_connected": 1.0, "pending": 0.0, "total": 12.0},
		"configuration": map[string]any{"synced": float64(synced), "not_synced": float64(12 - synced), "total": 12.0}}
	if !reflect.DeepEqual(status, wantStatus) {
		t.Errorf("summary/status\n got  %v\n want %v", status, wantStatus)
	}
	var osSum struct {
		AffectedItems []string `json:"affected_items"`
		Total         int      `json:"total_affected_items"`
	}
	api.get("/agents/summary/os", &osSum)
	if want := []string{"centos", "darwin", "debian", "ubuntu", "windows"}; !reflect.DeepEqual(osSum.AffectedItems, want) ||
		osSum.Total != 5 {
		t.Errorf("summary/os: %+v, want %v", osSum, want)
	}
	var outdated struct {
		AffectedItems []struct{ ID, Version string } `json:"affected_items"`
		Total         int                            `json:"total_affected_items"`
	}
	api.get("/agents/outdated", &outdated)
	var ids []string
	for _, a := range outdated.AffectedItems {
		ids = append(ids, a.ID+" "+a.Version)
	}
	if want := []string{"009 Wazuh v3.13.2", "013 Wazuh v3.13.2", "014 Wazuh v3.13.2", "016 Wazuh v4.9.2",
		"024 Wazuh v4.7.5", "027 Wazuh v3.13.2", "034 Wazuh v4.12.0"}; !reflect.DeepEqual(ids, want) || outdated.Total != 7 {
		t.Errorf("outdated: %q (total %d), want %q", ids, outdated.Total, want)
	}
	// stats/distinct counts agent 000 too, and lists the values in the
	// order of their first agent; total_affected_items counts agents.
	distinct := func(field string) ([]string, int) {
		var d struct {
			AffectedItems []map[string]any `json:"affected_items"`
			Total         int              `json:"total_affected_items"`
		}
		api.get("/agents/stats/distinct?fields="+field, &d)
		var out []string
		for _, it := range d.AffectedItems {
			v := it
			var val any
			for _, part := range strings.Split(field, ".") {
				val = v[part]
				v, _ = val.(map[string]any)
			}
			out = append(out, fmt.Sprintf("%v=%v", val, it["count"]))
		}
		return out, d.Total
	}
	if got, total := distinct("os.platform"); !reflect.DeepEqual(got,
		[]string{"debian=3", "ubuntu=5", "centos=2", "windows=1", "darwin=1", "N/A=1"}) || total != 13 {
		t.Errorf("stats/distinct os.platform: %q total %d", got, total)
	}
	if got, total := distinct("version"); !reflect.DeepEqual(got, []string{"Wazuh v4.14.7=5", "Wazuh v3.13.2=4",
		"Wazuh v4.9.2=1", "Wazuh v4.7.5=1", "Wazuh v4.12.0=1", "N/A=1"}) || total != 13 {
		t.Errorf("stats/distinct version: %q total %d", got, total)
	}
	isSync := func(id string) bool {
		var s struct {
			AffectedItems []struct {
				ID     string
				Synced bool
			} `json:"affected_items"`
		}
		api.get("/agents/"+id+"/group/is_sync", &s)
		if len(s.AffectedItems) != 1 || s.AffectedItems[0].ID != id {
			t.Fatalf("agents/%s/group/is_sync: %+v", id, s)
		}
		return s.AffectedItems[0].Synced
	}
	for id, want := range map[string]bool{"001": true, "002": true, "009": true, "013": true, "014": true,
		"020": true, "027": true, "016": true, "024": false, "035": false} {
		if got := isSync(id); got != want {
			t.Errorf("agents/%s/group/is_sync: synced %v, want %v", id, got, want)
		}
	}
	// The multi-group agent 011 (web,db) got Wazuh's multi-group file.
	if !isSync("011") {
		t.Error("agents/011/group/is_sync: the multi-group agent is not synced")
	}
}

// wazuhAPI logs in once and reads the data of GET answers.
type wazuhAPI struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func newAPI(t *testing.T, base string) *wazuhAPI {
	a := &wazuhAPI{t: t, base: base, hc: &http.Client{Timeout: 30 * time.Second}}
	req, _ := http.NewRequest("POST", base+"/security/user/authenticate", nil)
	req.SetBasicAuth("wazuh", "wazuh")
	resp, err := a.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Data struct{ Token string } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, err)
	}
	a.token = body.Data.Token
	return a
}

func (a *wazuhAPI) get(path string, data any) {
	a.t.Helper()
	req, _ := http.NewRequest("GET", a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Data json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		a.t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	if err := json.Unmarshal(body.Data, data); err != nil {
		a.t.Fatalf("GET %s: %v in %s", path, err, body.Data)
	}
}
