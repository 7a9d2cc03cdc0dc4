package remoted_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
	"github.com/muster-project/muster/internal/remoted"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
	"github.com/muster-project/muster/internal/testclock"
)

// TestGroupsFromAnotherNode: two nodes share one store; an agent is
// connected to node B's secure channel. A group made, assigned and changed
// on node A reaches the agent through B, and group_config_status follows.
func TestGroupsFromAnotherNode(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "muster.db")
		groupsFromAnotherNode(t, "sqlite", path)
	})
	t.Run("postgres", func(t *testing.T) { groupsFromAnotherNode(t, "postgres", storetest.PostgresDSN(t)) })
}

func groupsFromAnotherNode(t *testing.T, driver, dsn string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	var storeA *sqlstore.Store
	node := func(name string) *core.Agents {
		s, err := sqlstore.Open(ctx, driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if storeA == nil {
			storeA = s
		}
		a := core.NewAgents(core.AgentsOptions{Store: s, Now: clock.Now, DataDir: t.TempDir(), Hostname: "mgr",
			NodeName: name, Log: testLog(t)})
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := node("node01"), node("node02")
	perms, err := rbac.Compile([]rbac.Role{{ID: 1, Policies: []rbac.Policy{{ID: 1,
		Actions:   []string{"group:create", "group:update_config", "group:modify_assignments", "agent:modify_group"},
		Resources: []string{"*:*:*", "group:id:*", "agent:id:*"}, Effect: "allow"}}}}, rbac.White)
	if err != nil {
		t.Fatal(err)
	}

	// Node B's secure channel caches merged files for an hour: only B's
	// generation, which moves when B takes in A's change, renews them.
	srv := remoted.New(remoted.Options{Registry: b, Shared: b, Log: testLog(t), Now: clock.Now, ManagerHost: "mgr",
		FlushInterval: 10 * time.Millisecond, KeyPoll: 20 * time.Millisecond, SharedReload: time.Hour})
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); srv.ServeTCP(ln) }()
	t.Cleanup(func() { srv.Close(); wg.Wait() })

	reg, err := b.Register(ctx, core.NewAgent{Name: "web-01"})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := core.ParseAgentID(reg.ID)
	keys, _, err := b.KeyTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var key core.KeyEntry
	for _, k := range keys {
		if k.ID == id {
			key = k
		}
	}
	ag, err := agentsim.NewAgent(entry(key), agentsim.AgentOptions{Addr: ln.Addr().String(),
		NotifyTime: 20 * time.Millisecond, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	agCtx, stopAgent := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); ag.Run(agCtx) }()
	t.Cleanup(func() { stopAgent(); <-done })

	sum := func(n *core.Agents, groups ...string) string {
		t.Helper()
		m, err := n.MergedFile(groups)
		if err != nil {
			t.Fatal(err)
		}
		s := md5.Sum(m)
		return hex.EncodeToString(s[:])
	}
	status := func() core.Agent { // as node A lists it
		t.Helper()
		list, err := storeA.GetAgents(ctx, []int{id})
		if err != nil || len(list) != 1 {
			t.Fatalf("agent %d: %v", id, err)
		}
		return list[0]
	}
	synced := func(what, want string) {
		t.Helper()
		eventually(t, what, func() bool { return ag.MergedSum() == want })
		eventually(t, what+" recorded", func() bool {
			r := status()
			return r.MergedSum.V == want && r.GroupConfigStatus == core.ConfigSynced
		})
	}
	synced("default merged.mg", sum(b, core.DefaultGroup))

	// Made, filled and assigned on A.
	if err := a.CreateGroup(ctx, perms, "G"); err != nil {
		t.Fatal(err)
	}
	conf := "<agent_config>\n  <localfile>\n    <location>/var/log/g.log</location>\n    <log_format>syslog</log_format>\n  </localfile>\n</agent_config>\n"
	if err := a.UpdateGroupConfiguration(ctx, perms, "G", []byte(conf)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AssignGroup(ctx, perms, "G", []string{reg.ID}, true); err != nil {
		t.Fatal(err)
	}
	if st := status().GroupConfigStatus; st != core.ConfigNotSynced {
		t.Fatalf("status %s right after the agent moved to G", st)
	}
	if err := b.FollowGroups(ctx); err != nil { // what B's poll does every second
		t.Fatal(err)
	}
	sumG := sum(a, "G")
	if sumG != sum(b, "G") {
		t.Fatal("the nodes build different merged files for G")
	}
	synced("G's merged.mg through B", sumG)

	// Changed on A: not synced at once, then the new file through B.
	if err := a.UpdateGroupConfiguration(ctx, perms, "G", []byte(strings.Replace(conf, "g.log", "g2.log", 1))); err != nil {
		t.Fatal(err)
	}
	if st := status().GroupConfigStatus; st != core.ConfigNotSynced {
		t.Fatalf("status %s right after G changed on A", st)
	}
	if err := b.FollowGroups(ctx); err != nil {
		t.Fatal(err)
	}
	sumG2 := sum(a, "G")
	if sumG2 == sumG {
		t.Fatal("G's merged file did not change")
	}
	synced("G's new merged.mg through B", sumG2)
}
