package core_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/testclock"
)

// startAgents runs a registry over a fresh SQLite store.
func startAgents(t testing.TB) (*core.Agents, *sqlstore.Store, *testclock.Clock, string) {
	t.Helper()
	dir := t.TempDir()
	store, err := sqlstore.Open(context.Background(), "sqlite", filepath.Join(dir, "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clock := testclock.New(time.Unix(1_800_000_000, 0))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	a := core.NewAgents(core.AgentsOptions{Store: store, Now: clock.Now, DataDir: dir, Hostname: "mgr",
		DisconnectionTime: 10 * time.Minute})
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return a, store, clock, dir
}

func TestParseAgentID(t *testing.T) {
	for s, want := range map[string]int{"000": 0, "001": 1, "999": 999, "1000": 1000} {
		if n, ok := core.ParseAgentID(s); !ok || n != want {
			t.Errorf("%s: %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "1", "01", "0001", "-01", "abc", "1e3", "0000000000001"} {
		if _, ok := core.ParseAgentID(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestValidRegisterIP(t *testing.T) {
	for ip, ok := range map[string]bool{"any": true, "ANY": true, "10.0.0.1": true, "10.0.0.0/8": true,
		"10.0.0.1/8": false, "::1": true, "2001:db8::/32": true, "2001:db8::1/32": false, "1.2.3": false,
		"010.0.0.1": false, "": false, "any ": false, "/24": false, "10.0.0.0/33": false} {
		if core.ValidRegisterIP(ip) != ok {
			t.Errorf("%q: want %v", ip, ok)
		}
	}
}

func TestParseTimeframe(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "30": 30, "30s": 30, "2m": 120, "1h": 3600, "7d": 604800} {
		if n, ok := core.ParseTimeframe(s); !ok || n != want {
			t.Errorf("%s: %d %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "h", "1w", "1h2m", "-1h", "1.5h"} {
		if _, ok := core.ParseTimeframe(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestForceRules(t *testing.T) {
	now := int64(100000)
	cases := []struct {
		old  core.Agent
		f    core.ForceRules
		want bool
	}{
		{core.Agent{ID: 1, Status: core.AgentNeverConnected, DateAdd: now - 7200}, core.DefaultForce, true},
		{core.Agent{ID: 1, Status: core.AgentNeverConnected, DateAdd: now - 60}, core.DefaultForce, false},
		{core.Agent{ID: 1, Status: core.AgentActive, DateAdd: now - 7200}, core.DefaultForce, false},
		{core.Agent{ID: 1, Status: core.AgentDisconnected, DisconnectionTime: now - 60, DateAdd: 0}, core.DefaultForce, false},
		{core.Agent{ID: 1, Status: core.AgentDisconnected, DisconnectionTime: now - 7200, DateAdd: 0}, core.DefaultForce, true},
		{core.Agent{ID: 1, Status: core.AgentActive, DateAdd: 0}, core.ForceRules{Enabled: true}, true},
		{core.Agent{ID: 1, Status: core.AgentNeverConnected}, core.ForceRules{}, false},
		{core.Agent{ID: 0, Status: core.AgentNeverConnected}, core.ForceRules{Enabled: true}, false},
	}
	for i, c := range cases {
		if got := c.f.Replaceable(&c.old, now); got != c.want {
			t.Errorf("case %d: %v, want %v", i, got, c.want)
		}
	}
}

// TestConcurrentEnrollment registers many agents at once: ids are unique
// and dense, and client.keys holds each line exactly once.
func TestConcurrentEnrollment(t *testing.T) {
	a, _, _, dir := startAgents(t)
	const n = 300
	var wg sync.WaitGroup
	ids := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r, err := a.Register(context.Background(), core.NewAgent{Name: fmt.Sprintf("host-%03d", i%250)})
			errs[i] = err
			if r != nil {
				ids[i] = r.ID
			}
		}(i)
	}
	wg.Wait()
	dups := 0
	var got []string
	for i, err := range errs {
		if err != nil {
			if e, ok := err.(*core.Error); !ok || e.Code != 1705 {
				t.Fatalf("register %d: %v", i, err)
			}
			dups++
			continue
		}
		got = append(got, ids[i])
	}
	if dups != 50 || len(got) != 250 {
		t.Fatalf("%d registered, %d duplicates", len(got), dups)
	}
	sort.Strings(got)
	for i, id := range got {
		if id != core.FormatAgentID(i+1) {
			t.Fatalf("ids not dense: %v", got)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "etc", "client.keys"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) != 4 || len(f[3]) != 64 || seen[f[0]] {
			t.Fatalf("bad or repeated line %q", l)
		}
		seen[f[0]] = true
	}
	if len(lines) != 250 {
		t.Fatalf("client.keys has %d lines", len(lines))
	}
}

// activeAgent registers an agent that has just kept alive; it returns its id.
func activeAgent(t *testing.T, a *core.Agents, name string) int {
	t.Helper()
	ctx := context.Background()
	r, err := a.Register(ctx, core.NewAgent{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := core.ParseAgentID(r.ID)
	if err := a.Keepalive(ctx, core.Keepalive{ID: id, Status: core.AgentActive}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDisconnectionSweep drives the status rule with the injected clock.
func TestDisconnectionSweep(t *testing.T) {
	a, store, clock, _ := startAgents(t)
	ctx := context.Background()
	id := activeAgent(t, a, "web")
	status := func() (string, int) {
		ag, _ := store.GetAgents(ctx, []int{id})
		return ag[0].Status, ag[0].StatusCode
	}
	clock.Advance(9 * time.Minute)
	if n, _ := a.Sweep(ctx); n != 0 {
		t.Fatal("disconnected before agents_disconnection_time")
	}
	if s, _ := status(); s != core.AgentActive {
		t.Fatalf("status %s", s)
	}
	clock.Advance(2 * time.Minute)
	if n, _ := a.Sweep(ctx); n != 1 {
		t.Fatal("not disconnected after agents_disconnection_time")
	}
	if s, code := status(); s != core.AgentDisconnected || code != core.StatusCodeNoKeepalive {
		t.Fatalf("status %s %d", s, code)
	}
	// The manager itself never disconnects.
	m, _ := store.GetAgents(ctx, []int{0})
	if m[0].Status != core.AgentActive || m[0].Name != "mgr" || m[0].LastKeepAlive.V != core.ManagerKeepalive {
		t.Fatalf("agent 000 %+v", m[0])
	}
}

// TestDisconnectionTimeChange: a restart applying a new
// agents_disconnection_time moves the sweep's threshold at once.
func TestDisconnectionTimeChange(t *testing.T) {
	a, store, clock, _ := startAgents(t)
	ctx := context.Background()
	id := activeAgent(t, a, "web")
	a.SetDisconnectionTime(20 * time.Minute)
	a.SetDisconnectionTime(0) // not a time: ignored
	if a.DisconnectionTime() != 20*time.Minute {
		t.Fatalf("disconnection time %v", a.DisconnectionTime())
	}
	clock.Advance(15 * time.Minute) // past the old 10m, within the new 20m
	if n, _ := a.Sweep(ctx); n != 0 {
		t.Fatal("swept with the old disconnection time")
	}
	a.SetDisconnectionTime(5 * time.Minute)
	if n, _ := a.Sweep(ctx); n != 1 {
		t.Fatal("not swept with the new, shorter time")
	}
	if ag, _ := store.GetAgents(ctx, []int{id}); ag[0].Status != core.AgentDisconnected {
		t.Fatalf("status %s", ag[0].Status)
	}
}

// TestKeysFileFollowsDeletes checks client.keys after removals made through
// the service, and its rebuild at start.
func TestKeysFileFollowsDeletes(t *testing.T) {
	a, _, _, dir := startAgents(t)
	ctx := context.Background()
	perms, err := rbac.Compile([]rbac.Role{{ID: 1, Policies: []rbac.Policy{{ID: 1,
		Actions: []string{"agent:delete"}, Resources: []string{"agent:id:*"}, Effect: "allow"}}}}, rbac.White)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a1", "a2", "a3"} {
		if _, err := a.Register(ctx, core.NewAgent{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	b, err := a.DeleteAgents(ctx, perms, core.AgentQuery{AgentsList: []string{"002"}, Status: []string{"all"},
		OlderThan: "0s"})
	if err != nil || b.AffectedCount() != 1 {
		t.Fatalf("delete %+v %v", b, err)
	}
	path := filepath.Join(dir, "etc", "client.keys")
	keys, _ := os.ReadFile(path)
	if strings.Contains(string(keys), " a2 ") || strings.Count(string(keys), "\n") != 2 {
		t.Fatalf("client.keys:\n%s", keys)
	}
	// A file damaged behind the manager's back is rebuilt from the store.
	os.WriteFile(path, []byte("garbage\n"), 0o600)
	if err := a.SyncKeys(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ = os.ReadFile(path)
	if !strings.HasPrefix(string(keys), "001 a1 any ") || !strings.Contains(string(keys), "\n003 a3 any ") {
		t.Fatalf("rebuilt client.keys:\n%s", keys)
	}
}

// BenchmarkRegister measures enrollments through the service (store and
// client.keys, no HTTP), from 32 concurrent callers.
func BenchmarkRegister(b *testing.B) {
	a, _, _, _ := startAgents(b)
	var mu sync.Mutex
	n := 0
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			name := fmt.Sprintf("bench-%d", n)
			mu.Unlock()
			if _, err := a.Register(context.Background(), core.NewAgent{Name: name}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
