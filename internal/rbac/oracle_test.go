package rbac

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDecideAgainstOracle replays testdata/decide_cases.json: random policies, modes, checks and requests whose
// outcome gen_decide_cases.py computed with Wazuh's set algorithm over a concrete universe of existing items.
func TestDecideAgainstOracle(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "decide_cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Users, Agents []string
		Groups        map[string][]string
		Cases         []struct {
			Roles [][]struct {
				Actions, Resources []string
				Effect             string
			}
			Mode      Mode
			Actions   []string
			Templates [][3]string
			IDs       map[string][]string
			Want      struct {
				Forbidden  bool
				DeniedType string `json:"denied_type"`
				Skip       bool
				Targets    map[string]struct {
					Allowed, Denied, Listed []string
				}
			}
		}
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	groupsOf := map[string][]string{}
	for g, members := range file.Groups {
		for _, m := range members {
			groupsOf[m] = append(groupsOf[m], g)
		}
	}
	existing := map[string][]string{"user:id": file.Users, "agent:id": file.Agents, "role:id": {"1", "2"}}
	for i, tc := range file.Cases {
		var roles []Role
		for _, r := range tc.Roles {
			var role Role
			for _, p := range r {
				role.Policies = append(role.Policies, Policy{Actions: p.Actions, Resources: p.Resources, Effect: p.Effect})
			}
			roles = append(roles, role)
		}
		p := mustCompile(t, tc.Mode, roles...)
		c := Check{Actions: tc.Actions}
		for _, tpl := range tc.Templates {
			c.Resources = append(c.Resources, Resource{Type: tpl[0], Param: tpl[1], Value: tpl[2]})
		}
		d, err := p.Decide(c, tc.IDs, func(id string) []string { return groupsOf[id] })
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if d.Forbidden != tc.Want.Forbidden || d.DeniedType != tc.Want.DeniedType || d.Skip != tc.Want.Skip {
			t.Errorf("case %d (%+v): got %+v, want %+v", i, tc, d, tc.Want)
			continue
		}
		if d.Forbidden {
			continue
		}
		for param, want := range tc.Want.Targets {
			tg := d.Target(param)
			if tg == nil {
				t.Errorf("case %d: no target %s", i, param)
				continue
			}
			if tg.Explicit {
				denied := append([]string(nil), tg.Denied...)
				sort.Strings(denied)
				if !cmp.Equal(nonNil(want.Allowed), nonNil(tg.Allowed)) || !cmp.Equal(nonNil(want.Denied), nonNil(denied)) {
					t.Errorf("case %d %s: got allowed %v denied %v, want %v %v", i, param, tg.Allowed, denied, want.Allowed, want.Denied)
				}
				continue
			}
			var listed []string
			for _, id := range existing[tg.Type] {
				if tg.Filter.Allows(id, groupsOf[id]) {
					listed = append(listed, id)
				}
			}
			sort.Strings(listed)
			if !cmp.Equal(nonNil(want.Listed), nonNil(listed)) {
				t.Errorf("case %d %s: filter %+v lists %v, want %v", i, param, tg.Filter, listed, want.Listed)
			}
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
