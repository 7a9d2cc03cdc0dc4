package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// agentFleet is a small fleet covering NULLs, statuses and groups.
func agentFleet() []core.Agent {
	s := core.Some[string]
	return []core.Agent{
		{ID: 0, Name: "manager", IP: s("127.0.0.1"), RegisterIP: s("127.0.0.1"), Version: s("Wazuh v4.14.7"),
			DateAdd: 100, LastKeepAlive: core.Some(core.ManagerKeepalive), Status: core.AgentActive,
			GroupConfigStatus: core.ConfigSynced, NodeName: s("node01")},
		{ID: 1, Name: "web-01", IP: s("10.0.0.1"), RegisterIP: s("any"), Key: strings.Repeat("1", 64),
			OS: core.AgentOS{Platform: s("ubuntu"), Major: s("22"), Name: s("Ubuntu")}, Version: s("Wazuh v4.14.7"),
			DateAdd: 1000, LastKeepAlive: core.Some[int64](5000), Groups: []string{"web"}, Status: core.AgentActive,
			GroupConfigStatus: core.ConfigSynced, NodeName: s("node01")},
		{ID: 2, Name: "web-02", RegisterIP: s("10.0.0.2"), Key: strings.Repeat("2", 64),
			OS: core.AgentOS{Platform: s("windows")}, Version: s("Wazuh v4.9.2"), DateAdd: 1100,
			LastKeepAlive: core.Some[int64](3000), Groups: []string{"web", "db"}, Status: core.AgentDisconnected,
			StatusCode: 4, DisconnectionTime: 3600, GroupConfigStatus: core.ConfigSynced, NodeName: s("node01")},
		{ID: 3, Name: "db-01", RegisterIP: s("any"), Key: strings.Repeat("3", 64), DateAdd: 1200,
			Groups: []string{"db"}, Status: core.AgentNeverConnected},
		{ID: 5, Name: "lonely", RegisterIP: s("any"), Key: strings.Repeat("5", 64), DateAdd: 1300,
			Version: s("Wazuh v4.14.10"), Status: core.AgentPending, LastKeepAlive: core.Some[int64](5100),
			NodeName: s("node02")},
	}
}

// AgentStore runs the conformance suite for core.AgentStore against stores
// made by open (a fresh, empty store each call).
func AgentStore(t *testing.T, open func(t *testing.T) core.AgentStore) {
	ctx := context.Background()
	fresh := func(t *testing.T) core.AgentStore {
		s := open(t)
		if err := s.InitAgents(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.InitAgents(ctx); err != nil {
			t.Fatalf("second InitAgents: %v", err)
		}
		if err := s.PutAgents(ctx, agentFleet()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("records round-trip", func(t *testing.T) { agentRoundTrip(t, fresh(t)) })
	t.Run("registration", func(t *testing.T) { agentRegistration(t, fresh(t)) })
	t.Run("lists", func(t *testing.T) { agentLists(t, fresh(t)) })
	t.Run("counts", func(t *testing.T) { agentCounts(t, fresh(t)) })
	t.Run("groups", func(t *testing.T) { agentGroups(t, fresh(t)) })
	t.Run("status", func(t *testing.T) { agentStatus(t, fresh(t)) })
	t.Run("deletion and keys", func(t *testing.T) { agentDeletion(t, fresh(t)) })
}

func agentRoundTrip(t *testing.T, s core.AgentStore) {
	ctx := context.Background()
	got, err := s.GetAgents(ctx, []int{2, 1, 99})
	if err != nil {
		t.Fatal(err)
	}
	want := agentFleet()
	if len(got) != 2 || fmt.Sprint(got[0]) != fmt.Sprint(want[1]) || fmt.Sprint(got[1]) != fmt.Sprint(want[2]) {
		t.Fatalf("GetAgents\n got %+v\nwant %+v", got, want[1:3])
	}
	// An upsert replaces the whole record.
	a := want[3]
	a.Name, a.Groups, a.Status = "db-01b", nil, core.AgentActive
	if err := s.PutAgents(ctx, []core.Agent{a}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetAgents(ctx, []int{3})
	if got[0].Name != "db-01b" || got[0].Groups != nil || got[0].Status != core.AgentActive {
		t.Fatalf("after upsert %+v", got[0])
	}
	groups, _ := s.AgentGroups(ctx, []int{1, 2, 3, 7})
	if len(groups) != 3 || !slices.Equal(groups[2], []string{"web", "db"}) || groups[3] != nil {
		t.Fatalf("AgentGroups %v", groups)
	}
}

func agentRegistration(t *testing.T, s core.AgentStore) {
	ctx := context.Background()
	e := func(name, ip string) core.Enrollment {
		return core.Enrollment{Name: name, IP: ip, Key: strings.Repeat("k", 64), ManagerName: "manager", Now: 10000}
	}
	v0, _ := s.RegistryVersion(ctx)
	dupID := e("new-2", "any")
	dupID.ID = 2
	res, err := s.RegisterAgents(ctx, []core.Enrollment{e("new-1", "any"), e("web-01", "any"), e("new-1", "any"),
		e("x", "10.0.0.2"), e("manager", "any"), dupID, e("new-3", "10.9.9.9")})
	if err != nil {
		t.Fatal(err)
	}
	codes := make([]string, len(res))
	for i, r := range res {
		codes[i] = fmt.Sprint(r.ID)
		if r.Err != nil {
			codes[i] = fmt.Sprint(r.Err.Code)
		}
	}
	// Ids continue after the highest one; the batch sees its own inserts.
	if got := strings.Join(codes, " "); got != "6 1705 1705 1706 1705 1708 7" {
		t.Fatalf("results %s", got)
	}
	if v, _ := s.RegistryVersion(ctx); v == v0 {
		t.Fatal("registry version unchanged")
	}
	// Replacement when the force rules allow it: 003 never connected,
	// registered long enough ago.
	r := e("db-01", "any")
	r.Force = core.ForceRules{Enabled: true, AfterRegistrationFor: 3600}
	res, err = s.RegisterAgents(ctx, []core.Enrollment{r})
	if err != nil || res[0].Err != nil || res[0].ID != 8 || !slices.Equal(res[0].Replaced, []int{3}) {
		t.Fatalf("replacement %+v %v", res, err)
	}
	if got, _ := s.GetAgents(ctx, []int{3}); len(got) != 0 {
		t.Fatal("replaced agent still there")
	}
	// An active agent is never replaced while disconnected_time applies.
	r = e("web-01", "any")
	r.Force = core.DefaultForce
	if res, _ := s.RegisterAgents(ctx, []core.Enrollment{r}); res[0].Err == nil || res[0].Err.Code != 1705 {
		t.Fatalf("active agent replaced: %+v", res[0])
	}
	// A removed id is not given again.
	if _, err := s.DeleteAgents(ctx, []int{8}); err != nil {
		t.Fatal(err)
	}
	if res, _ := s.RegisterAgents(ctx, []core.Enrollment{e("after", "any")}); res[0].ID != 9 {
		t.Fatalf("id after deletion %d, want 9", res[0].ID)
	}
	all, _, _ := s.ListAgents(ctx, core.AgentListQuery{Fields: core.FieldID | core.FieldStatus | core.FieldNodeName})
	last := all[len(all)-1]
	if last.ID != 9 || last.Status != core.AgentNeverConnected || last.NodeName.V != "unknown" {
		t.Fatalf("new agent %+v", last)
	}
}

// ids lists the ids of a list query.
func ids(t *testing.T, s core.AgentStore, q core.AgentListQuery) string {
	t.Helper()
	if q.Filter.Now.IsZero() {
		q.Filter.Now = time.Unix(6000, 0)
	}
	agents, total, err := s.ListAgents(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range agents {
		out = append(out, core.FormatAgentID(a.ID))
	}
	return fmt.Sprintf("%s/%d", strings.Join(out, ","), total)
}

func node(t *testing.T, q string) agentql.Node {
	t.Helper()
	n, err := agentql.Parse(q, agentql.AgentSchema)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func agentLists(t *testing.T, s core.AgentStore) {
	web := rbac.Filter{Rules: []rbac.FilterRule{{Allow: true, Group: true, Value: "web"}}}
	allBut1 := rbac.Filter{Default: true, Rules: []rbac.FilterRule{{Allow: false, Value: "001"}}}
	webBut2 := rbac.Filter{Rules: []rbac.FilterRule{{Allow: true, Group: true, Value: "web"}, {Allow: false, Value: "002"}}}
	onlyIDs := rbac.Filter{Rules: []rbac.FilterRule{{Allow: true, Value: "003"}, {Allow: true, Value: "bogus"}}}
	search := agentql.ParseSearch("web")
	notSearch := agentql.ParseSearch("-web")
	cases := []struct {
		name string
		q    core.AgentListQuery
		want string
	}{
		{"all", core.AgentListQuery{}, "000,001,002,003,005/5"},
		{"page", core.AgentListQuery{Offset: 1, Limit: 2}, "001,002/5"},
		{"past the end", core.AgentListQuery{Offset: 9, Limit: 2}, "/5"},
		{"ids", core.AgentListQuery{Filter: core.AgentFilter{IDs: []int{5, 1, 42}}}, "001,005/2"},
		{"no ids", core.AgentListQuery{Filter: core.AgentFilter{IDs: []int{}}}, "/0"},
		{"not manager", core.AgentListQuery{Filter: core.AgentFilter{NotManager: true}}, "001,002,003,005/4"},
		{"rbac group", core.AgentListQuery{Filter: core.AgentFilter{RBAC: &web}}, "001,002/2"},
		{"rbac default", core.AgentListQuery{Filter: core.AgentFilter{RBAC: &allBut1}}, "000,002,003,005/4"},
		{"rbac later deny", core.AgentListQuery{Filter: core.AgentFilter{RBAC: &webBut2}}, "001/1"},
		{"rbac ids", core.AgentListQuery{Filter: core.AgentFilter{RBAC: &onlyIDs}}, "003/1"},
		{"q", core.AgentListQuery{Filter: core.AgentFilter{Cond: node(t, "group=db,os.platform=UBUNTU")}}, "001,002,003/3"},
		{"q null", core.AgentListQuery{Filter: core.AgentFilter{Cond: node(t, "group=null")}}, "000,005/2"},
		{"q date", core.AgentListQuery{Filter: core.AgentFilter{Cond: node(t, "lastKeepAlive>2000s")}}, "002/1"},
		{"q injection", core.AgentListQuery{Filter: core.AgentFilter{Cond: node(t, "name=x' OR '1'='1")}}, "/0"},
		{"search", core.AgentListQuery{Filter: core.AgentFilter{Search: &search}}, "001,002/2"},
		{"search negated", core.AgentListQuery{Filter: core.AgentFilter{Search: &notSearch}}, "000,003,005/3"},
		{"sort version", core.AgentListQuery{Sort: []agentql.SortField{{Field: "version", Desc: true}}},
			"005,000,001,002,003/5"},
		{"sort name", core.AgentListQuery{Sort: []agentql.SortField{{Field: "name"}}}, "003,005,000,001,002/5"},
		{"sort os.version nulls first", core.AgentListQuery{Sort: []agentql.SortField{{Field: "status"}}},
			"000,001,002,003,005/5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.q.Fields = core.FieldID
			if got := ids(t, s, c.q); got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
	t.Run("distinct", func(t *testing.T) {
		agents, total, err := s.ListAgents(context.Background(), core.AgentListQuery{Fields: core.FieldOSPlatform,
			Distinct: true, Filter: core.AgentFilter{Now: time.Unix(6000, 0)}})
		if err != nil || total != 2 || len(agents) != 2 || agents[0].OS.Platform.V != "ubuntu" ||
			agents[1].OS.Platform.V != "windows" {
			t.Fatalf("distinct %+v %d %v", agents, total, err)
		}
	})
	t.Run("selected fields only", func(t *testing.T) {
		agents, _, _ := s.ListAgents(context.Background(), core.AgentListQuery{Fields: core.FieldName,
			Filter: core.AgentFilter{IDs: []int{1}}})
		if agents[0].Name != "web-01" || agents[0].Version.Valid || agents[0].IP.Valid {
			t.Fatalf("loaded more than asked: %+v", agents[0])
		}
	})
}

func agentCounts(t *testing.T, s core.AgentStore) {
	ctx := context.Background()
	all := rbac.Filter{Default: true}
	count := func(q core.AgentCountQuery) string {
		rows, total, err := s.CountAgents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rows {
			var vals []string
			for _, v := range r.Values {
				if v.Valid {
					vals = append(vals, v.V)
				} else {
					vals = append(vals, "NULL")
				}
			}
			out = append(out, fmt.Sprintf("%s=%d", strings.Join(vals, "|"), r.Count))
		}
		return fmt.Sprintf("%s/%d", strings.Join(out, ";"), total)
	}
	// The status summary (kept by triggers) agrees with counting the rows.
	fast := count(core.AgentCountQuery{Fields: []string{"status", "group_config_status"},
		Filter: core.AgentFilter{NotManager: true, RBAC: &all}})
	slow := count(core.AgentCountQuery{Fields: []string{"status", "group_config_status"},
		Filter: core.AgentFilter{NotManager: true, IDs: []int{0, 1, 2, 3, 5}}})
	sorted := func(s string) string {
		parts := strings.Split(strings.Split(s, "/")[0], ";")
		slices.Sort(parts)
		return strings.Join(parts, ";") + "/" + strings.Split(s, "/")[1]
	}
	if sorted(fast) != sorted(slow) || sorted(fast) !=
		"active|synced=1;disconnected|synced=1;never_connected|not synced=1;pending|not synced=1/4" {
		t.Fatalf("status counts: fast %s, slow %s", fast, slow)
	}
	got := count(core.AgentCountQuery{Fields: []string{"os.platform"}})
	if got != "NULL=3;ubuntu=1;windows=1/5" {
		t.Fatalf("by platform %s", got)
	}
	got = count(core.AgentCountQuery{Fields: []string{"status"}, Sort: []agentql.SortField{{Field: "count", Desc: true}},
		Limit: 1})
	if got != "active=2/5" {
		t.Fatalf("sorted and limited %s", got)
	}
}

func agentGroups(t *testing.T, s core.AgentStore) {
	ctx := context.Background()
	if err := s.CreateGroups(ctx, []string{"default", "web", "empty"}); err != nil {
		t.Fatal(err)
	}
	counts, err := s.Groups(ctx, nil)
	if err != nil || fmt.Sprint(counts) != "map[db:2 default:0 empty:0 web:2]" {
		t.Fatalf("groups %v %v", counts, err)
	}
	only1 := core.AgentFilter{IDs: []int{1}}
	if counts, _ := s.Groups(ctx, &only1); fmt.Sprint(counts) != "map[db:0 default:0 empty:0 web:1]" {
		t.Fatalf("groups over 001 %v", counts)
	}
	if err := s.SetAgentGroups(ctx, []core.GroupChange{{ID: 1, Groups: []string{"db", "web"}}, {ID: 5,
		Groups: []string{"new"}}}); err != nil {
		t.Fatal(err)
	}
	g, _ := s.AgentGroups(ctx, []int{1, 5})
	if !slices.Equal(g[1], []string{"db", "web"}) || !slices.Equal(g[5], []string{"new"}) {
		t.Fatalf("after SetAgentGroups %v", g)
	}
	changed, err := s.DeleteGroup(ctx, "db")
	slices.Sort(changed)
	if err != nil || !slices.Equal(changed, []int{1, 2, 3}) {
		t.Fatalf("DeleteGroup changed %v %v", changed, err)
	}
	g, _ = s.AgentGroups(ctx, []int{1, 2, 3})
	if !slices.Equal(g[1], []string{"web"}) || !slices.Equal(g[2], []string{"web"}) || !slices.Equal(g[3], []string{"default"}) {
		t.Fatalf("after DeleteGroup %v", g)
	}
	counts, _ = s.Groups(ctx, nil)
	if fmt.Sprint(counts) != "map[default:1 empty:0 new:1 web:2]" {
		t.Fatalf("groups after deletion %v", counts)
	}
	q := core.AgentListQuery{Fields: core.FieldID, Filter: core.AgentFilter{Cond: node(t, "group=web")}}
	if got := ids(t, s, q); got != "001,002/2" {
		t.Fatalf("group=web %s", got)
	}
}

func agentStatus(t *testing.T, s core.AgentStore) {
	ctx := context.Background()
	// Sweep: active/pending agents silent since before 5050 (001 at 5000).
	n, err := s.SweepAgents(ctx, 5050, 9000)
	if err != nil || n != 1 {
		t.Fatalf("sweep %d %v", n, err)
	}
	a, _ := s.GetAgents(ctx, []int{0, 1, 5})
	if a[0].Status != core.AgentActive || a[1].Status != core.AgentDisconnected || a[1].StatusCode != 4 ||
		a[1].DisconnectionTime != 9000 || a[2].Status != core.AgentPending {
		t.Fatalf("after sweep %+v", a)
	}
	// A manager restart resets only its node's agents, and not those that
	// kept alive since before.
	if n, _ := s.ResetAgents(ctx, "node01", 9100, 9100); n != 0 {
		t.Fatalf("reset node01 %d", n)
	}
	if n, _ := s.ResetAgents(ctx, "node02", 5100, 9100); n != 0 { // 005 kept alive at 5100
		t.Fatalf("reset node02 with a recent keepalive: %d", n)
	}
	if n, _ := s.ResetAgents(ctx, "node02", 9100, 9100); n != 1 {
		t.Fatalf("reset node02 %d", n)
	}
	k := core.Keepalive{ID: 1, Status: core.AgentActive, IP: core.Some("10.0.0.9"), Version: core.Some("Wazuh v4.14.8"),
		NodeName: "node01", GroupConfigStatus: core.ConfigSynced, Now: 9200}
	if err := s.RecordKeepalive(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordKeepalive(ctx, core.Keepalive{ID: 77, Status: core.AgentActive, Now: 1}); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("keepalive of an unknown agent: %v", err)
	}
	a, _ = s.GetAgents(ctx, []int{1})
	if a[0].Status != core.AgentActive || a[0].DisconnectionTime != 0 || a[0].LastKeepAlive.V != 9200 ||
		a[0].IP.V != "10.0.0.9" || a[0].StatusCode != 0 {
		t.Fatalf("after keepalive %+v", a[0])
	}
	rows, _, _ := s.CountAgents(ctx, core.AgentCountQuery{Fields: []string{"status", "group_config_status"},
		Filter: core.AgentFilter{NotManager: true}})
	total := 0
	for _, r := range rows {
		if r.Values[0].V == core.AgentActive {
			total += r.Count
		}
	}
	if total != 1 {
		t.Fatalf("active count after the changes %d, want 1 (%v)", total, rows)
	}
}

func agentDeletion(t *testing.T, s core.AgentStore) {
	ctx := context.Background()
	entries, v1, err := s.KeyEntries(ctx)
	if err != nil || len(entries) != 4 || entries[0].ID != 1 || entries[0].IP != "any" ||
		entries[0].Key != strings.Repeat("1", 64) {
		t.Fatalf("key entries %+v %v", entries, err)
	}
	deleted, err := s.DeleteAgents(ctx, []int{0, 2, 99})
	if err != nil || !slices.Equal(deleted, []int{2}) {
		t.Fatalf("deleted %v %v", deleted, err)
	}
	if _, v2, _ := s.KeyEntries(ctx); v2 == v1 {
		t.Fatal("registry version unchanged by a deletion")
	}
	counts, _ := s.Groups(ctx, nil)
	if counts["db"] != 1 || counts["web"] != 1 {
		t.Fatalf("memberships of the deleted agent kept: %v", counts)
	}
}
