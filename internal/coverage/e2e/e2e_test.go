// Package e2e_test runs `muster coverage` against the real parts together: a
// muster server with simulated Wazuh agents on its secure channel,
// MeshCentral with real meshagents, Zabbix with its agent, and a CSV export,
// and asserts the exact findings that setup produces.
package e2e_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
	"github.com/muster-project/muster/internal/coverage/source/meshcentral/meshtest"
	"github.com/muster-project/muster/internal/coverage/source/zabbix/zbxtest"

	_ "github.com/muster-project/muster/internal/coverage/source/file"
	_ "github.com/muster-project/muster/internal/coverage/source/meshcentral"
	_ "github.com/muster-project/muster/internal/coverage/source/wazuh"
	_ "github.com/muster-project/muster/internal/coverage/source/zabbix"
)

// zabbixHost is the host zabbix.sh creates in "Linux servers", with its agent.
const zabbixHost = "cov-host1"

func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fleet is the Wazuh side: a muster server and its simulated agents.
type fleet struct {
	t     *testing.T
	e     *apitest.Env
	d     interface{ Flush(context.Context) }
	auth  string
	tcp   string
	admin *client.Client
	stops map[string]context.CancelFunc
	sims  map[string]*agentsim.Agent
	ids   map[string]string
}

func startFleet(t *testing.T) *fleet {
	e := apitest.Start(t, func(c *config.Config) {
		c.Manager.AgentsDisconnectionTime = 60
		c.API.Access.MaxRequestPerMinute = 0
	})
	// The manager's clock is a test clock; put it at the real time, since
	// MeshCentral and Zabbix report real times.
	e.Clock.Advance(time.Until(e.Clock.Now()) * -1)
	d := e.StartDaemons()
	return &fleet{t: t, e: e, d: d.Remote, auth: d.Addrs["auth"].String(), tcp: d.Addrs["remote/tcp"].String(),
		admin: e.Admin(), stops: map[string]context.CancelFunc{}, sims: map[string]*agentsim.Agent{}, ids: map[string]string{}}
}

// enroll registers an agent over 1515; connect starts it on 1514.
func (f *fleet) enroll(name string, connect bool) {
	t := f.t
	ctx := context.Background()
	key, err := agentsim.Enroll(ctx, agentsim.EnrollOptions{Addr: f.auth, Timeout: 10 * time.Second},
		agentproto.EnrollRequest{Name: name, Version: "v4.14.7"})
	if err != nil {
		t.Fatalf("enroll %s: %v", name, err)
	}
	f.ids[name] = key.ID
	if !connect {
		return
	}
	a, err := agentsim.NewAgent(key, agentsim.AgentOptions{Addr: f.tcp, NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	f.stops[name], f.sims[name] = cancel, a
	eventually(t, name+" active", 20*time.Second, func() bool { return f.status(name) == client.StatusActive })
}

func (f *fleet) status(name string) string {
	f.d.Flush(context.Background())
	a, err := f.admin.GetAgent(context.Background(), f.ids[name])
	if err != nil {
		f.t.Fatalf("GET /agents/%s: %v", f.ids[name], err)
	}
	return a.Status
}

// silence stops the named agents and lets the manager mark them
// disconnected, while the others keep their keepalives.
func (f *fleet) silence(names ...string) {
	for _, n := range names {
		f.sims[n].Kill()
	}
	f.e.Clock.Advance(61 * time.Second)
	for n := range f.sims {
		if !slices.Contains(names, n) {
			eventually(f.t, n+" keepalive after the clock moved", 20*time.Second, func() bool {
				f.d.Flush(context.Background())
				a, err := f.admin.GetAgent(context.Background(), f.ids[n])
				return err == nil && a.LastKeepAlive.Unix() == f.e.Clock.Now().Unix()
			})
		}
	}
	if _, err := f.e.Agents.Sweep(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	for _, n := range names {
		if s := f.status(n); s != client.StatusDisconnected {
			f.t.Fatalf("%s is %s after the sweep, want disconnected", n, s)
		}
	}
}

func (f *fleet) caFile(dir string) string {
	path := filepath.Join(dir, "server.crt")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.e.Server.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		f.t.Fatal(err)
	}
	return path
}

type finding struct{ kind, name string }

func findings(r *coverage.Report) []finding {
	var out []finding
	for _, f := range r.Findings {
		out = append(out, finding{f.Kind, strings.ToLower(f.Name)})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return out[i].kind < out[j].kind
		}
		return out[i].name < out[j].name
	})
	return out
}

// TestCoverageEndToEnd is the setup issue 12 describes, with every finding
// it must produce and nothing else.
func TestCoverageEndToEnd(t *testing.T) {
	mesh := meshtest.Open(t)
	zbx := zbxtest.Open(t)
	_ = zbx // the recipe's host and agent are used as they are

	u := strings.ToLower(meshtest.Unique("cov"))
	name := func(s string) string { return u + "-" + s }
	alive, stopped, never := name("alive"), name("stopped"), name("never")
	meshUp, meshDown, cmdbOnly := name("mesh-up"), name("mesh-down"), name("cmdb-only")

	// MeshCentral: two real agents in a group of their own, one stopped.
	group := meshtest.Unique("coverage-e2e")
	meshID := mesh.CreateGroup(t, group)
	mesh.StartAgent(t, meshID, meshUp)
	down := mesh.StartAgent(t, meshID, meshDown)
	mesh.WaitOnline(t, meshID, meshUp, true, 90*time.Second)
	mesh.WaitOnline(t, meshID, meshDown, true, 90*time.Second)
	down.Stop(t)
	mesh.WaitOnline(t, meshID, meshDown, false, 60*time.Second)

	// Wazuh: alive ones, one that goes silent, one that never connects, and
	// the agent of the machine MeshCentral sees online, which goes silent too.
	w := startFleet(t)
	w.enroll(alive, true)
	w.enroll(zabbixHost, true)
	w.enroll(stopped, true)
	w.enroll(meshUp, true)
	w.enroll(never, false)
	w.silence(stopped, meshUp)

	dir := t.TempDir()
	now := time.Now().UTC()
	csv := "hostname,serial,mac,ip,last_seen\n" +
		alive + ",,,," + now.Add(-time.Hour).Format(time.RFC3339) + "\n" +
		stopped + ",,,10.9.0.2," + now.Add(-10*time.Minute).Format(time.RFC3339) + "\n" +
		zabbixHost + ",,,,\n" +
		cmdbOnly + ",SN-" + u + ",,,\n" +
		",,,10.9.0.9,\n" // no identifier at all
	write := func(file, data string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("inventory.csv", csv)
	write("wazuh.pw", "wazuh\n")
	write("mesh.pw", mesh.Password+"\n")
	write("zbx.pw", zbx.Password+"\n")
	cfg := fmt.Sprintf(`window: 24h
sources:
  - {name: wazuh, kind: wazuh, url: %q, user: wazuh, password_file: wazuh.pw, ca: [%q]}
  - {name: mesh, kind: meshcentral, url: %q, user: %q, password_file: mesh.pw, insecure: true, groups: [%q]}
  - {name: zabbix, kind: zabbix, url: %q, user: %q, password_file: zbx.pw, groups: [Linux servers]}
  - name: cmdb
    kind: file
    path: inventory.csv
    columns: {hostname: hostname, serial: serial, mac: mac, ip: ip, last_seen: last_seen}
require:
  - scope: [mesh, cmdb, zabbix]
    must_have: [wazuh]
history: {path: coverage.db}
`, w.e.URL, w.caFile(dir), mesh.URL, mesh.User, group, zbx.URL, zbx.User)
	write("coverage.yaml", cfg)

	plan, err := coverage.LoadFile(filepath.Join(dir, "coverage.yaml"), coverage.Env{Stderr: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	ctx := context.Background()
	r := plan.Run(ctx, coverage.RunOptions{})
	for _, s := range r.Sources {
		if s.Status != coverage.SourceOK {
			t.Fatalf("source %s: %s", s.Name, s.Reason)
		}
	}
	want := []finding{
		{coverage.KindMissingAgent, cmdbOnly},
		{coverage.KindMissingAgent, meshDown},
		{coverage.KindOrphan, never},
		{coverage.KindSilentFailure, meshUp},
		{coverage.KindSilentFailure, stopped},
		{coverage.KindUnidentified, "row 6"},
	}
	if got := findings(r); !slices.Equal(got, want) {
		t.Errorf("findings:\n got %v\nwant %v", got, want)
		for _, f := range r.Findings {
			t.Logf("%s %s: %s", f.Kind, f.Name, f.Text())
		}
	}
	for _, f := range r.Findings {
		if f.Kind != coverage.KindSilentFailure || strings.ToLower(f.Name) != meshUp {
			continue
		}
		s := f.SilentDetail()
		if s.AliveSource != "mesh" || s.AliveState != "online" || s.AgentSource != "wazuh" || s.AgentState != "disconnected" ||
			s.AgentSeen.IsZero() || s.GapSeconds != s.AliveAt.Sub(s.AgentSeen).Seconds() || s.GapSeconds < 0 || len(f.Evidence) != 2 || f.Evidence[1].ID != w.ids[meshUp] {
			t.Errorf("silent failure of %s: %+v evidence %+v", meshUp, s, f.Evidence)
		}
	}
	q := r.Requirements[0]
	// alive, stopped, zabbix host, cmdb-only, mesh-up, mesh-down are in scope; alive and the zabbix host are covered.
	if q.InScope != 6 || q.Covered != 2 {
		t.Errorf("requirement: %d of %d covered, want 2 of 6", q.Covered, q.InScope)
	}
	joined := false
	for _, d := range r.Devices {
		if strings.EqualFold(d.Name, zabbixHost) && len(d.Records) == 3 {
			joined = true
		}
	}
	if !joined {
		t.Errorf("%s is not one device with a wazuh, a zabbix and a cmdb record", zabbixHost)
	}
	if r.ExitCode != coverage.ExitOverLimit {
		t.Errorf("exit code %d, want 1", r.ExitCode)
	}

	// Record it, give the CMDB-only machine its agent, run again: that gap
	// closes in the history, the others stay open.
	store, err := history.Open(ctx, plan.History.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Record(ctx, r); err != nil {
		t.Fatal(err)
	}
	w.enroll(cmdbOnly, true)
	r2 := plan.Run(ctx, coverage.RunOptions{})
	if _, err := store.Record(ctx, r2); err != nil {
		t.Fatal(err)
	}
	d, err := store.Drift(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Closed) != 1 || d.Closed[0].Kind != coverage.KindMissingAgent || !strings.EqualFold(d.Closed[0].Name, cmdbOnly) {
		t.Errorf("closed gaps: %+v", d.Closed)
	}
	if len(d.Open) != len(want)-1 {
		t.Errorf("%d gaps open, want %d", len(d.Open), len(want)-1)
	}
}
