package core_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/groupfs"
	"github.com/muster-project/muster/internal/rbac"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
	"github.com/muster-project/muster/internal/testclock"
)

// groupNode is one manager node: its registry over its own connection to
// the shared store, and its own data directory.
type groupNode struct {
	*core.Agents
	store *sqlstore.Store
	dir   string
}

func groupPerms(t *testing.T) *rbac.Permissions {
	t.Helper()
	p, err := rbac.Compile([]rbac.Role{{ID: 1, Policies: []rbac.Policy{{ID: 1,
		Actions: []string{"group:create", "group:read", "group:delete", "group:update_config",
			"group:modify_assignments", "agent:read", "agent:modify_group"},
		Resources: []string{"*:*:*", "group:id:*", "agent:id:*"}, Effect: "allow"}}}}, rbac.White)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startNode starts a registry on dir (created when empty) over store.
func startNode(t *testing.T, ctx context.Context, store *sqlstore.Store, clock *testclock.Clock, dir, name string) (*groupNode, error) {
	a := core.NewAgents(core.AgentsOptions{Store: store, Now: clock.Now, DataDir: dir, Hostname: "mgr-" + name,
		NodeName: name, DisconnectionTime: 10 * time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	return &groupNode{Agents: a, store: store, dir: dir}, nil
}

// twoNodes starts two nodes at once on one store.
func twoNodes(t *testing.T, open func() *sqlstore.Store) (a, b *groupNode, clock *testclock.Clock) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	clock = testclock.New(time.Unix(1_800_000_000, 0))
	var nodes [2]*groupNode
	var errs [2]error
	stores := [2]*sqlstore.Store{open(), open()}
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes[i], errs[i] = startNode(t, ctx, stores[i], clock, t.TempDir(), fmt.Sprintf("node%02d", i+1))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	return nodes[0], nodes[1], clock
}

func readShared(t *testing.T, n *groupNode, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(n.dir, "etc", "shared", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func groupNames(t *testing.T, n *groupNode, perms *rbac.Permissions) map[string]string {
	t.Helper()
	b, err := n.ListGroups(context.Background(), perms, nil, core.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, it := range b.Affected {
		o := it.(groupfs.Obj)
		name, _ := o.Get("name")
		sum, _ := o.Get("mergedSum")
		s, _ := sum.(string)
		out[name.(string)] = s
	}
	return out
}

func agentStatus(t *testing.T, n *groupNode, id int) core.Agent {
	t.Helper()
	ags, err := n.store.GetAgents(context.Background(), []int{id})
	if err != nil || len(ags) != 1 {
		t.Fatalf("agent %d: %v", id, err)
	}
	return ags[0]
}

// report records that the agent applied a merged file, as the secure
// channel of its node does.
func report(t *testing.T, n *groupNode, id int, sum string) {
	t.Helper()
	if err := n.UpdateConnections(context.Background(), []core.ConnUpdate{{Full: true, Keepalive: core.Keepalive{
		ID: id, Status: core.AgentActive, MergedSum: core.Some(sum), GroupConfigStatus: core.ConfigSynced}}}); err != nil {
		t.Fatal(err)
	}
}

func mergedSum(t *testing.T, n *groupNode, groups ...string) string {
	t.Helper()
	b, err := n.MergedFile(groups)
	if err != nil {
		t.Fatal(err)
	}
	return groupfs.MD5(b)
}

func bothStores(t *testing.T, run func(t *testing.T, open func() *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "muster.db")
		run(t, func() *sqlstore.Store { return open(t, "sqlite", path) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		run(t, func() *sqlstore.Store { return open(t, "postgres", dsn) })
	})
}

// TestGroupsAcrossNodes: a group made on node A, with its agent.conf, is
// listed, read and assignable on node B at once; B serves the same merged
// file; group_config_status follows the sums on both.
func TestGroupsAcrossNodes(t *testing.T) {
	bothStores(t, groupsAcrossNodes)
}

func groupsAcrossNodes(t *testing.T, open func() *sqlstore.Store) {
	ctx := context.Background()
	perms := groupPerms(t)
	a, b, _ := twoNodes(t, open)

	// The default group exists once, and both nodes serve the same one.
	rows, err := a.store.ListGroupFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rows {
		keys = append(keys, r.Group+"/"+r.Name)
	}
	if want := []string{"/ar.conf", "default/", "default/agent.conf"}; !slices.Equal(keys, want) {
		t.Fatalf("store rows %v, want %v", keys, want)
	}
	if readShared(t, a, "default/merged.mg") != readShared(t, b, "default/merged.mg") {
		t.Fatal("the nodes' default merged.mg differ")
	}

	if err := a.CreateGroup(ctx, perms, "G"); err != nil {
		t.Fatal(err)
	}
	conf := "<agent_config>\n  <localfile>\n    <location>/var/log/g.log</location>\n    <log_format>syslog</log_format>\n  </localfile>\n</agent_config>\n"
	if err := a.UpdateGroupConfiguration(ctx, perms, "G", []byte(conf)); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateGroup(ctx, perms, "G"); err == nil || !strings.Contains(err.Error(), "1711") {
		t.Fatalf("creating G again on B: %v", err)
	}
	onA, onB := groupNames(t, a, perms), groupNames(t, b, perms)
	if _, ok := onB["G"]; !ok || onB["G"] != onA["G"] || onA["G"] == "" {
		t.Fatalf("groups on A %v, on B %v", onA, onB)
	}
	f, err := b.ReadGroupFile(ctx, perms, "G", groupfs.AgentConf, true, "")
	if err != nil {
		t.Fatal(err)
	}
	stored := readShared(t, a, "G/agent.conf")
	if string(f.Raw) != stored || readShared(t, b, "G/merged.mg") != readShared(t, a, "G/merged.mg") {
		t.Fatalf("B's agent.conf %q, A's %q", f.Raw, stored)
	}

	// An agent enrolled and assigned on B; it reports G's merged file.
	reg, err := b.Register(ctx, core.NewAgent{Name: "web-01"})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := core.ParseAgentID(reg.ID)
	bulk, err := b.AssignGroup(ctx, perms, "G", []string{reg.ID}, true)
	if err != nil || bulk.AffectedCount() != 1 {
		t.Fatalf("assign on B: %+v %v", bulk, err)
	}
	sumG := mergedSum(t, b, "G")
	if sumG != mergedSum(t, a, "G") {
		t.Fatal("the nodes build different merged files for G")
	}
	report(t, b, id, sumG)
	if st := agentStatus(t, a, id).GroupConfigStatus; st != core.ConfigSynced {
		t.Fatalf("status %s after the agent applied G's file", st)
	}

	// A change on A: not synced at once, on every node; B serves the new file.
	genB := b.SharedGeneration()
	conf2 := strings.Replace(conf, "g.log", "g2.log", 1)
	if err := a.UpdateGroupConfiguration(ctx, perms, "G", []byte(conf2)); err != nil {
		t.Fatal(err)
	}
	if st := agentStatus(t, b, id).GroupConfigStatus; st != core.ConfigNotSynced {
		t.Fatalf("status %s after G changed", st)
	}
	if err := b.FollowGroups(ctx); err != nil {
		t.Fatal(err)
	}
	if b.SharedGeneration() == genB {
		t.Fatal("B's generation did not move: its secure channel would keep the old file")
	}
	sumG2 := mergedSum(t, b, "G")
	if sumG2 == sumG || !strings.Contains(readShared(t, b, "G/agent.conf"), "g2.log") ||
		!strings.Contains(readShared(t, b, "G/merged.mg"), "g2.log") {
		t.Fatalf("B did not take the change in: %s", readShared(t, b, "G/merged.mg"))
	}
	report(t, b, id, sumG2)
	if st := agentStatus(t, a, id).GroupConfigStatus; st != core.ConfigSynced {
		t.Fatalf("status %s after the agent applied the new file", st)
	}
	sync, err := a.GroupSync(ctx, perms, reg.ID)
	if err != nil || !strings.Contains(fmt.Sprint(sync.Affected...), "true") {
		t.Fatalf("is_sync on A: %+v %v", sync, err)
	}

	// A file put by hand in B's directory reaches A at B's next scan.
	if err := os.WriteFile(filepath.Join(b.dir, "etc", "shared", "G", "rootkit_files.txt"),
		[]byte("bin/x ! Bad ::/rootkits\n"), 0o660); err != nil {
		t.Fatal(err)
	}
	b.RefreshShared(ctx)
	if st := agentStatus(t, a, id).GroupConfigStatus; st != core.ConfigNotSynced {
		t.Fatalf("status %s after a file was added to G", st)
	}
	files, err := a.GroupFiles(ctx, perms, "G", core.ListQuery{})
	if err != nil || !strings.Contains(fmt.Sprint(files.Affected...), "rootkit_files.txt") {
		t.Fatalf("A's files of G: %v %v", files.Affected, err)
	}
	if mergedSum(t, a, "G") != mergedSum(t, b, "G") {
		t.Fatal("merged files differ after the hand-made file")
	}

	// Deleted on B: gone from A, the agent back in default, not synced.
	del, err := b.DeleteGroups(ctx, perms, []string{"G"})
	if err != nil || del.AffectedCount() != 1 {
		t.Fatalf("delete on B: %+v %v", del, err)
	}
	if _, ok := groupNames(t, a, perms)["G"]; ok {
		t.Fatal("G still listed on A")
	}
	if _, err := os.Stat(filepath.Join(a.dir, "etc", "shared", "G")); !os.IsNotExist(err) {
		t.Fatalf("G's directory on A: %v", err)
	}
	if ag := agentStatus(t, a, id); !slices.Equal(ag.Groups, []string{"default"}) || ag.GroupConfigStatus != core.ConfigNotSynced {
		t.Fatalf("agent after G was deleted: %v %s", ag.Groups, ag.GroupConfigStatus)
	}
	if _, err := a.AssignGroup(ctx, perms, "G", []string{reg.ID}, false); err == nil {
		t.Fatal("assigning to the deleted group succeeded on A")
	}
}

// TestGroupsConcurrentWrites: both nodes rewrite the default group's
// agent.conf at once; afterwards every node holds one of the writes whole,
// the same one, and its merged.mg is built from it.
func TestGroupsConcurrentWrites(t *testing.T) {
	bothStores(t, func(t *testing.T, open func() *sqlstore.Store) {
		ctx := context.Background()
		perms := groupPerms(t)
		a, b, _ := twoNodes(t, open)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i, n := range []*groupNode{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < 10; j++ {
					conf := fmt.Sprintf("<agent_config>\n  <!-- node %d write %d %s -->\n</agent_config>\n", i, j,
						strings.Repeat("x", 4000))
					if err := n.UpdateGroupConfiguration(ctx, perms, "default", []byte(conf)); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for _, n := range []*groupNode{a, b} {
			if err := n.FollowGroups(ctx); err != nil {
				t.Fatal(err)
			}
		}
		confA, confB := readShared(t, a, "default/agent.conf"), readShared(t, b, "default/agent.conf")
		if confA != confB || !strings.Contains(confA, "write 9") {
			t.Fatalf("the nodes hold different agent.conf files:\n%.60s\n%.60s", confA, confB)
		}
		for _, n := range []*groupNode{a, b} {
			want, err := n.SharedDir().Merged("default")
			if err != nil {
				t.Fatal(err)
			}
			if readShared(t, n, "default/merged.mg") != string(want) || !strings.Contains(string(want), confA) {
				t.Fatal("merged.mg does not match the group's files")
			}
		}
	})
}

// TestGroupsImportAtFirstStart: a node with an existing single-node data
// directory joins a store another node already uses: its own groups are
// imported, the store's files are kept, and a restart after changes made
// while it was down writes them to the store.
func TestGroupsImportAtFirstStart(t *testing.T) {
	bothStores(t, func(t *testing.T, open func() *sqlstore.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		perms := groupPerms(t)
		clock := testclock.New(time.Unix(1_800_000_000, 0))
		a, err := startNode(t, ctx, open(), clock, t.TempDir(), "node01")
		if err != nil {
			t.Fatal(err)
		}
		fromA := "<agent_config>\n  <!-- from A -->\n</agent_config>\n"
		if err := a.UpdateGroupConfiguration(ctx, perms, "default", []byte(fromA)); err != nil {
			t.Fatal(err)
		}
		storedA := readShared(t, a, "default/agent.conf")

		// C ran alone before: its own default agent.conf and a group "legacy".
		dirC := t.TempDir()
		shared := filepath.Join(dirC, "etc", "shared")
		for rel, body := range map[string]string{"ar.conf": groupfs.DefaultARConf,
			"default/agent.conf": "<agent_config>\n  <!-- C's -->\n</agent_config>\n",
			"legacy/agent.conf":  "<agent_config>\n  <!-- legacy -->\n</agent_config>\n",
			"legacy/cis.txt":     "# a policy\n", "legacy/.hidden": "not shared\n"} {
			os.MkdirAll(filepath.Dir(filepath.Join(shared, rel)), 0o700)
			if err := os.WriteFile(filepath.Join(shared, rel), []byte(body), 0o660); err != nil {
				t.Fatal(err)
			}
		}
		ctxC, stopC := context.WithCancel(ctx)
		c, err := startNode(t, ctxC, open(), clock, dirC, "node03")
		if err != nil {
			t.Fatal(err)
		}
		if got := readShared(t, c, "default/agent.conf"); got != storedA {
			t.Fatalf("C's default agent.conf %q: the store's was replaced", got)
		}
		if _, ok := groupNames(t, a, perms)["legacy"]; !ok {
			t.Fatal("C's group legacy is not on A")
		}
		if readShared(t, a, "legacy/cis.txt") != "# a policy\n" {
			t.Fatal("legacy/cis.txt not imported")
		}
		if _, err := os.Stat(filepath.Join(a.dir, "etc", "shared", "legacy", ".hidden")); !os.IsNotExist(err) {
			t.Fatalf("a hidden file was shared: %v", err)
		}

		// C stops; its legacy agent.conf is edited; at its restart the
		// edit goes to the store rather than being overwritten.
		stopC()
		edited := "<agent_config>\n  <!-- edited while down -->\n</agent_config>\n"
		if err := os.WriteFile(filepath.Join(shared, "legacy", "agent.conf"), []byte(edited), 0o660); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Hour) // newer than what the store holds
		os.Chtimes(filepath.Join(shared, "legacy", "agent.conf"), later, later)
		if _, err := startNode(t, ctx, open(), clock, dirC, "node03"); err != nil {
			t.Fatal(err)
		}
		if err := a.FollowGroups(ctx); err != nil {
			t.Fatal(err)
		}
		if got := readShared(t, a, "legacy/agent.conf"); got != edited {
			t.Fatalf("A's legacy agent.conf %q after C's restart", got)
		}
	})
}

// TestGroupsRemovedByHand: a group directory removed by hand on one node is
// deleted everywhere at that node's next scan, except the default group,
// which comes back from the store.
func TestGroupsRemovedByHand(t *testing.T) {
	bothStores(t, func(t *testing.T, open func() *sqlstore.Store) {
		ctx := context.Background()
		perms := groupPerms(t)
		a, b, _ := twoNodes(t, open)
		if err := a.CreateGroup(ctx, perms, "H"); err != nil {
			t.Fatal(err)
		}
		if _, ok := groupNames(t, b, perms)["H"]; !ok {
			t.Fatal("H not on B")
		}
		before := readShared(t, b, "default/agent.conf")
		for _, g := range []string{"H", "default"} {
			if err := os.RemoveAll(filepath.Join(b.dir, "etc", "shared", g)); err != nil {
				t.Fatal(err)
			}
		}
		b.RefreshShared(ctx)
		if names := groupNames(t, a, perms); len(names) != 1 || names["default"] == "" {
			t.Fatalf("groups on A after B's scan: %v", names)
		}
		if got := readShared(t, b, "default/agent.conf"); got != before {
			t.Fatalf("B's default agent.conf after the scan: %q", got)
		}
		if _, err := os.Stat(filepath.Join(a.dir, "etc", "shared", "H")); !os.IsNotExist(err) {
			t.Fatalf("H's directory on A: %v", err)
		}
	})
}
