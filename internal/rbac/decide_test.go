package rbac

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	usersCheck    = Need("security:read", "user:id:{user_ids}")
	agentsCheck   = Need("agent:read", "agent:id:{agents_list}")
	revokeCheck   = Need("security:revoke", "*:*:*")
	userRoleCheck = Need("security:update", "user:id:{user_id}", "role:id:{role_ids}")
)

func decide(t *testing.T, p *Permissions, c Check, ids map[string][]string) Decision {
	t.Helper()
	d, err := p.Decide(c, ids, nil)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	return d
}

// TestWorkedExamples is the precedence table of security.md 5.5 (white mode, security:read).
func TestWorkedExamples(t *testing.T) {
	read := acts("security:read")
	tests := []struct {
		name       string
		roles      []Role
		list       Filter
		explicit5  bool // ?user_ids=5 allowed (else 403)
		existing   []string
		listResult []string
	}{
		{"allow * then deny 5", []Role{pol("allow", read, "user:id:*"), pol("deny", read, "user:id:5")},
			Filter{Default: true, Rules: []FilterRule{{Value: "5"}}}, false, []string{"1", "5", "7"}, []string{"1", "7"}},
		{"deny 5 then allow *", []Role{pol("deny", read, "user:id:5"), pol("allow", read, "user:id:*")},
			Filter{Default: true}, true, []string{"1", "5", "7"}, []string{"1", "5", "7"}},
		{"allow 5 then deny *", []Role{pol("allow", read, "user:id:5"), pol("deny", read, "user:id:*")},
			Filter{}, false, []string{"1", "5", "7"}, nil},
		{"deny * then allow 5", []Role{pol("deny", read, "user:id:*"), pol("allow", read, "user:id:5")},
			Filter{Rules: []FilterRule{{Allow: true, Value: "5"}}}, true, []string{"1", "5", "7"}, []string{"5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, White, tc.roles...)
			d := decide(t, p, usersCheck, nil)
			if d.Forbidden || d.ReportDenied || len(d.Targets) != 1 || d.Targets[0].Explicit {
				t.Fatalf("list call: %+v", d)
			}
			if diff := cmp.Diff(tc.list, d.Targets[0].Filter); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
			var seen []string
			for _, id := range tc.existing {
				if d.Targets[0].Filter.Allows(id, nil) {
					seen = append(seen, id)
				}
			}
			if diff := cmp.Diff(tc.listResult, seen); diff != "" {
				t.Errorf("listed users (-want +got):\n%s", diff)
			}
			d = decide(t, p, usersCheck, map[string][]string{"user_ids": {"5"}})
			if d.Forbidden == tc.explicit5 {
				t.Errorf("user_ids=5: forbidden=%v", d.Forbidden)
			}
			if d.Forbidden && d.DeniedType != "user:id" {
				t.Errorf("denied type %q", d.DeniedType)
			}
		})
	}
}

func TestExplicitIDs(t *testing.T) {
	p := mustCompile(t, White, pol("allow", acts("security:read"), "user:id:*"), pol("deny", acts("security:read"), "user:id:2", "user:id:4"))
	d := decide(t, p, usersCheck, map[string][]string{"user_ids": {"4", "1", "2", "999", "1", "4"}})
	want := Decision{ReportDenied: true, Targets: []Target{{Type: "user:id", Param: "user_ids", Explicit: true,
		Allowed: []string{"1", "999", "1"}, Denied: []string{"4", "2"}}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Every id denied: the whole call is a 403 naming the type.
	d = decide(t, p, usersCheck, map[string][]string{"user_ids": {"2", "4"}})
	if !d.Forbidden || d.DeniedType != "user:id" || PermissionDeniedMessage(d.DeniedType) != "Permission denied: Resource type: user:id" {
		t.Errorf("all denied: %+v", d)
	}
	// An explicitly empty list is not a denial.
	if d = decide(t, p, usersCheck, map[string][]string{"user_ids": {}}); d.Forbidden || !d.Targets[0].Explicit {
		t.Errorf("empty list: %+v", d)
	}
}

// TestWildcardCoversMissingIDs: a wildcard allow grants ids that do not exist, so the endpoint reports "not
// found" (4002/5001) instead of 4000; a specific allow does too, and nothing else does.
func TestWildcardCoversMissingIDs(t *testing.T) {
	for _, tc := range []struct {
		res     string
		allowed bool
	}{{"role:id:*", true}, {"role:id:999", true}, {"role:id:9", false}, {"role:id:99*", false}, {"user:id:*", false}} {
		p := mustCompile(t, White, pol("allow", acts("security:read"), tc.res))
		d := decide(t, p, Need("security:read", "role:id:{role_ids}"), map[string][]string{"role_ids": {"999"}})
		if d.Forbidden == tc.allowed {
			t.Errorf("%s on role 999: forbidden=%v", tc.res, d.Forbidden)
		}
	}
}

func TestModeDefaults(t *testing.T) {
	for _, m := range []Mode{White, Black} {
		p := mustCompile(t, m)
		black := m == Black
		if d := decide(t, p, revokeCheck, nil); d.Forbidden == black || (d.Forbidden && d.DeniedType != "*:*") {
			t.Errorf("%s resourceless: %+v", m, d)
		}
		if d := decide(t, p, usersCheck, nil); d.Targets[0].Filter.All() != black || d.Targets[0].Filter.None() == black {
			t.Errorf("%s list: %+v", m, d)
		}
		if d := decide(t, p, usersCheck, map[string][]string{"user_ids": {"1"}}); d.Forbidden == black {
			t.Errorf("%s explicit: %+v", m, d)
		}
		if p.Can("security:revoke", "*:*:*") != black || p.Can("cluster:read", "node:id:master") != black {
			t.Errorf("%s Can", m)
		}
	}
	// Black mode: the same precedence applies on top of "everything requested is allowed".
	p := mustCompile(t, Black, pol("deny", acts("security:read"), "user:id:5"), pol("deny", acts("security:revoke"), "*:*:*"))
	if d := decide(t, p, usersCheck, map[string][]string{"user_ids": {"5", "6"}}); !cmp.Equal(d.Targets[0].Allowed, []string{"6"}) || !cmp.Equal(d.Targets[0].Denied, []string{"5"}) {
		t.Errorf("black explicit: %+v", d)
	}
	if d := decide(t, p, revokeCheck, nil); !d.Forbidden {
		t.Errorf("black deny *:*:*: %+v", d)
	}
	if f := decide(t, p, usersCheck, nil).Targets[0].Filter; !cmp.Equal(f, Filter{Default: true, Rules: []FilterRule{{Value: "5"}}}) {
		t.Errorf("black filter %+v", f)
	}
}

func TestResourceless(t *testing.T) {
	tests := []struct {
		name    string
		mode    Mode
		roles   []Role
		allowed bool
	}{
		{"allow", White, []Role{pol("allow", acts("security:revoke"), "*:*:*")}, true},
		{"bare star", White, []Role{pol("allow", acts("security:revoke"), "*")}, true},
		{"allow then deny", White, []Role{pol("allow", acts("security:revoke"), "*:*:*"), pol("deny", acts("security:revoke"), "*:*:*")}, false},
		{"deny then allow", White, []Role{pol("deny", acts("security:revoke"), "*:*:*"), pol("allow", acts("security:revoke"), "*:*:*")}, true},
		{"unknown effect denies", White, []Role{pol("permit", acts("security:revoke"), "*:*:*")}, false},
		{"other action", White, []Role{pol("allow", acts("security:read"), "*:*:*")}, false},
		{"resource of another type", White, []Role{pol("allow", acts("security:revoke"), "user:id:*")}, false},
		{"action matched exactly", White, []Role{pol("allow", acts("security:*"), "*:*:*")}, false},
		// Quirk: any *:*:value allow leaves a value in the allowed set.
		{"*:*:x allow grants", White, []Role{pol("deny", acts("security:revoke"), "*:*:*"), pol("allow", acts("security:revoke"), "*:*:x")}, true},
		{"*:*:* erases an earlier *:*:x", White, []Role{pol("allow", acts("security:revoke"), "*:*:x"), pol("deny", acts("security:revoke"), "*:*:*")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustCompile(t, tc.mode, tc.roles...)
			d := decide(t, p, revokeCheck, nil)
			if d.Forbidden == tc.allowed || !d.ReportDenied {
				t.Errorf("%+v", d)
			}
			if p.Can("security:revoke", "*:*:*") != tc.allowed {
				t.Error("Can disagrees")
			}
		})
	}
}

func TestAgentGroups(t *testing.T) {
	read := acts("agent:read")
	p := mustCompile(t, White, pol("allow", read, "agent:group:web"), pol("deny", read, "agent:id:003"), pol("allow", read, "agent:group:db"))
	if !p.UsesAgentGroups("agent:read") || p.UsesAgentGroups("agent:delete") || !p.NeedsAgentGroups(agentsCheck) || p.NeedsAgentGroups(usersCheck) {
		t.Error("UsesAgentGroups")
	}
	groups := map[string][]string{"001": {"web"}, "002": {"db"}, "003": {"web"}, "004": {"web", "db"}, "005": {"other"}}
	d, err := p.Decide(agentsCheck, map[string][]string{"agents_list": {"001", "002", "003", "004", "005", "404"}}, func(id string) []string { return groups[id] })
	if err != nil {
		t.Fatal(err)
	}
	tg := d.Targets[0]
	if !cmp.Equal(tg.Allowed, []string{"001", "002", "004"}) || !cmp.Equal(tg.Denied, []string{"003", "005", "404"}) {
		t.Errorf("explicit: %+v", tg)
	}
	f := decide(t, p, agentsCheck, nil).Targets[0].Filter
	want := Filter{Rules: []FilterRule{{Allow: true, Group: true, Value: "web"}, {Value: "003"}, {Allow: true, Group: true, Value: "db"}}}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Fatalf("filter (-want +got):\n%s", diff)
	}
	for id, g := range groups {
		if f.Allows(id, g) != (id == "001" || id == "002" || id == "004") {
			t.Errorf("filter on %s", id)
		}
	}
	if _, ok := f.IDs(); ok {
		t.Error("a group filter is not a plain id list")
	}
	// agent:group:* is a plain wildcard over agents.
	p = mustCompile(t, White, pol("allow", read, "agent:group:*"))
	if d := decide(t, p, agentsCheck, map[string][]string{"agents_list": {"777"}}); d.Forbidden || p.UsesAgentGroups("agent:read") {
		t.Errorf("agent:group:*: %+v", d)
	}
}

func TestFilterShortcuts(t *testing.T) {
	p := mustCompile(t, White, pol("allow", acts("security:read"), "user:id:1", "user:id:2"), pol("deny", acts("security:read"), "user:id:1"), pol("allow", acts("security:read"), "user:id:3"))
	f := decide(t, p, usersCheck, nil).Targets[0].Filter
	ids, ok := f.IDs()
	if !ok || !cmp.Equal(ids, []string{"2", "3"}) || f.None() || f.All() {
		t.Errorf("%+v → %v %v", f, ids, ok)
	}
	// Wildcards over file types cover nothing in a list call, but cover explicit names.
	p = mustCompile(t, White, pol("allow", acts("decoders:read"), "decoder:file:*"))
	c := Need("decoders:read", "decoder:file:{filename}")
	if f := decide(t, p, c, nil).Targets[0].Filter; !f.None() {
		t.Errorf("file wildcard list: %+v", f)
	}
	if d := decide(t, p, c, map[string][]string{"filename": {"a.xml"}}); d.Forbidden {
		t.Errorf("file wildcard explicit: %+v", d)
	}
}

func TestMultipleTemplates(t *testing.T) {
	upd := acts("security:update")
	p := mustCompile(t, White, pol("allow", upd, "user:id:*", "role:id:1", "role:id:2"))
	d := decide(t, p, userRoleCheck, map[string][]string{"user_id": {"100"}, "role_ids": {"1", "3", "2"}})
	if d.Forbidden || !cmp.Equal(d.Target("role_ids").Allowed, []string{"1", "2"}) || !cmp.Equal(d.Target("role_ids").Denied, []string{"3"}) ||
		!cmp.Equal(d.Target("user_id").Allowed, []string{"100"}) {
		t.Errorf("%+v", d)
	}
	// The first denied template decides the 403 type.
	p = mustCompile(t, White, pol("allow", upd, "role:id:*"))
	if d = decide(t, p, userRoleCheck, map[string][]string{"user_id": {"100"}, "role_ids": {"1"}}); !d.Forbidden || d.DeniedType != "user:id" {
		t.Errorf("%+v", d)
	}
	// add_denied comes from the last template: ids not supplied there means denials are not reported.
	p = mustCompile(t, White, pol("allow", upd, "role:id:*"))
	d = decide(t, p, userRoleCheck, map[string][]string{"user_id": {"100"}})
	if d.Forbidden || d.ReportDenied || len(d.Targets[0].Allowed) != 0 || len(d.Targets[0].Denied) != 0 {
		t.Errorf("silent denial: %+v", d)
	}
	// A static resource denied silently skips the function.
	c := Check{Actions: acts("x:y"), Resources: []Resource{{Type: "*:*", Value: "*"}, {Type: "user:id", Param: "user_ids"}}}
	if d = decide(t, mustCompile(t, White), c, nil); !d.Skip || d.Forbidden {
		t.Errorf("skip: %+v", d)
	}
}

func TestMultipleActions(t *testing.T) {
	c, err := NewCheck(acts("a:x", "b:x"), "user:id:{ids}")
	if err != nil {
		t.Fatal(err)
	}
	roles := []Role{pol("allow", acts("a:x"), "user:id:*"), pol("deny", acts("b:x"), "user:id:2")}
	ids := map[string][]string{"ids": {"1", "2"}}
	// White: the actions share one allowed set, so b's deny removes what a allowed.
	if d := decide(t, mustCompile(t, White, roles...), c, ids); !cmp.Equal(d.Targets[0].Allowed, []string{"1"}) {
		t.Errorf("white: %+v", d)
	}
	// Black: everything requested is re-added before each action.
	roles = []Role{pol("deny", acts("a:x"), "user:id:1"), pol("deny", acts("b:x"), "user:id:2")}
	if d := decide(t, mustCompile(t, Black, roles...), c, ids); !cmp.Equal(d.Targets[0].Allowed, []string{"1"}) {
		t.Errorf("black: %+v", d)
	}
	if f := decide(t, mustCompile(t, Black, roles...), c, nil).Targets[0].Filter; !cmp.Equal(f, Filter{Default: true, Rules: []FilterRule{{Value: "2"}}}) {
		t.Errorf("black filter: %+v", f)
	}
}

func TestCombined(t *testing.T) {
	c, err := NewCheck(acts("agent:restart"), "agent:id:{agent_id}&node:id:master")
	if err != nil || !c.Combined || len(c.Resources) != 2 {
		t.Fatalf("%+v %v", c, err)
	}
	ids := func(id string) map[string][]string { return map[string][]string{"agent_id": {id}} }
	restart := acts("agent:restart")
	tests := []struct {
		name  string
		mode  Mode
		roles []Role
		id    string
		ok    bool
	}{
		{"exact pair", White, []Role{pol("allow", restart, "agent:id:001&node:id:master")}, "001", true},
		{"other agent", White, []Role{pol("allow", restart, "agent:id:001&node:id:master")}, "002", false},
		{"wildcard part", White, []Role{pol("allow", restart, "agent:id:*&node:id:master")}, "002", true},
		{"other node", White, []Role{pol("allow", restart, "agent:id:*&node:id:worker")}, "002", false},
		{"single resources never grant a pair", White, []Role{pol("allow", restart, "agent:id:*", "node:id:*")}, "002", false},
		{"swapped order", White, []Role{pol("allow", restart, "node:id:master&agent:id:*")}, "002", false},
		{"later deny", White, []Role{pol("allow", restart, "agent:id:*&node:id:*"), pol("deny", restart, "agent:id:003&node:id:master")}, "003", false},
		{"black default", Black, nil, "003", true},
		{"black deny", Black, []Role{pol("deny", restart, "agent:id:003&node:id:*")}, "003", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(t, mustCompile(t, tc.mode, tc.roles...), c, ids(tc.id))
			if d.Forbidden == tc.ok {
				t.Errorf("%+v", d)
			}
			if !tc.ok && d.DeniedType != "agent:id" {
				t.Errorf("denied type %q", d.DeniedType)
			}
		})
	}
	if _, err := mustCompile(t, White).Decide(c, map[string][]string{"agent_id": {"1", "2"}}, nil); err == nil {
		t.Error("a combined check with a list parameter must fail")
	}
}

// TestUnsplittableResource: Wazuh crashes (500) on a processed resource of the checked action that is not
// type:attr:value, which the validation lets through when it starts with "*".
func TestUnsplittableResource(t *testing.T) {
	p := mustCompile(t, White, pol("allow", acts("security:read"), "*:*"), pol("allow", acts("security:revoke"), "*:*:*"))
	var ee *EvalError
	if _, err := p.Decide(usersCheck, nil, nil); !errors.As(err, &ee) {
		t.Errorf("want *EvalError, got %v", err)
	}
	if d := decide(t, p, revokeCheck, nil); d.Forbidden {
		t.Error("other actions are unaffected")
	}
}

func TestNewCheckErrors(t *testing.T) {
	for _, tpl := range []string{"agent:group:{groups}", "agent:id:*", "*:*:{x}", "*:*:foo", "user:id", "User:id:{x}", "user:id:{a.b}", "user:id:{x", "user:id:{x}&user:id:{y}"} {
		if _, err := NewCheck(acts("a:b"), tpl); err == nil {
			t.Errorf("%q accepted", tpl)
		}
	}
	if _, err := NewCheck(nil, "*:*:*"); err == nil {
		t.Error("no actions accepted")
	}
	for _, tpl := range []string{"*:*:*", "node:id:master", "user:id:{user_ids}", "agent:id:{agent_id}&node:id:{node_id}"} {
		c, err := NewCheck(acts("a:b"), tpl)
		if err != nil {
			t.Errorf("%q: %v", tpl, err)
		}
		var s []string
		for _, r := range c.Resources {
			s = append(s, r.String())
		}
		if got := join(s, "&"); got != tpl {
			t.Errorf("String: %q != %q", got, tpl)
		}
	}
	r := Require(Need("b:x", "*:*:*"), Need("a:x", "*:*:*"), Need("b:x", "user:id:{u}"))
	if !cmp.Equal(r.Actions, []string{"b:x", "a:x"}) || !cmp.Equal(r.Listing("a:x", "b:x").Actions, []string{"a:x", "b:x"}) {
		t.Errorf("%+v", r)
	}
}

func join(s []string, sep string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}

func TestDeniedID(t *testing.T) {
	if DeniedID("user:id", "12") != 12 || DeniedID("rule:id", "x1") != "x1" || DeniedID("agent:id", "001") != "001" {
		t.Error("DeniedID")
	}
}

// TestFactoryAdministratorDecisions exercises the default administrator and readonly roles end to end.
func TestFactoryAdministratorDecisions(t *testing.T) {
	_, roles := loadFactory(t)
	admin := mustCompile(t, White, roles[0])
	readonly := mustCompile(t, White, roles[1])
	if !admin.Can("security:revoke", "*:*:*") || readonly.Can("security:revoke", "*:*:*") {
		t.Error("revoke")
	}
	if !admin.Can("cluster:read", "node:id:node01") || !readonly.Can("cluster:read", "node:id:node01") {
		t.Error("cluster:read node")
	}
	if f := decide(t, readonly, agentsCheck, nil).Targets[0].Filter; !f.All() {
		t.Errorf("readonly agents list %+v", f)
	}
	if d := decide(t, readonly, Need("agent:delete", "agent:id:{agents_list}"), map[string][]string{"agents_list": {"001"}}); !d.Forbidden {
		t.Error("readonly cannot delete")
	}
	if d := decide(t, readonly, Need("agent:delete", "agent:id:{agents_list}"), nil); d.Forbidden || !d.Targets[0].Filter.None() {
		t.Errorf("readonly delete all: %+v", d)
	}
}
