package rbac

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/ (run testdata/gen_golden.py for the oracle files)")

// factoryRole is one role of testdata/factory_roles.json (generated from the factory rbac.db).
type factoryRole struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Policies []struct {
		ID        int      `json:"id"`
		Name      string   `json:"name"`
		Actions   []string `json:"actions"`
		Resources []string `json:"resources"`
		Effect    string   `json:"effect"`
	} `json:"policies"`
	Rules []struct {
		ID   int             `json:"id"`
		Rule json.RawMessage `json:"rule"`
	} `json:"rules"`
}

func loadFactory(t testing.TB) ([]factoryRole, []Role) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "factory_roles.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fr []factoryRole
	if err := json.Unmarshal(data, &fr); err != nil {
		t.Fatal(err)
	}
	roles := make([]Role, len(fr))
	for i, r := range fr {
		roles[i] = Role{ID: r.ID, Name: r.Name}
		for _, p := range r.Policies {
			roles[i].Policies = append(roles[i].Policies, Policy{ID: p.ID, Name: p.Name, Actions: p.Actions, Resources: p.Resources, Effect: p.Effect})
		}
	}
	return fr, roles
}

func mustCompile(t testing.TB, mode Mode, roles ...Role) *Permissions {
	t.Helper()
	p, err := Compile(roles, mode)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// pol builds a one-policy role; the role id is irrelevant to processing.
func pol(effect string, actions []string, resources ...string) Role {
	return Role{Policies: []Policy{{Actions: actions, Resources: resources, Effect: effect}}}
}

func acts(a ...string) []string { return a }

// TestFactoryProcessedGolden compares the processed policies of every default role (and of all of them at
// once, black mode) byte for byte with the oracle output of testdata/gen_golden.py.
func TestFactoryProcessedGolden(t *testing.T) {
	_, roles := loadFactory(t)
	cases := map[string]func() *Permissions{"all_roles": func() *Permissions { return mustCompile(t, Black, roles...) }}
	for _, r := range roles {
		cases[r.Name] = func() *Permissions { return mustCompile(t, White, r) }
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "processed_"+name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			got := mk().Processed().PythonJSON()
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("processed policies differ (-want +got):\n%s", diff)
			}
			var a, b any
			compact, _ := json.Marshal(mk().Processed())
			if json.Unmarshal(compact, &a) != nil || json.Unmarshal(want, &b) != nil || !cmp.Equal(a, b) {
				t.Errorf("MarshalJSON does not decode to the golden object: %s", compact)
			}
		})
	}
}

// TestAdministratorMatchesSpec checks the administrator output against security.md 5.4 independently of the
// oracle: action order, a few resource maps and the final rbac_mode key.
func TestAdministratorMatchesSpec(t *testing.T) {
	_, roles := loadFactory(t)
	pp := mustCompile(t, White, roles[0]).Processed()
	want := strings.Fields(`agent:create group:create agent:uninstall agent:read agent:delete agent:modify_group
		agent:reconnect agent:restart agent:upgrade group:read group:delete group:update_config group:modify_assignments
		active-response:command security:create security:create_user security:read_config security:update_config
		security:revoke security:edit_run_as security:read security:update security:delete cluster:status manager:read
		manager:read_api_config manager:update_config manager:restart cluster:read_api_config cluster:read
		cluster:restart cluster:update_config ciscat:read decoders:read decoders:delete decoders:update lists:read
		lists:delete lists:update rootcheck:clear rootcheck:read rootcheck:run rules:read rules:delete rules:update
		mitre:read sca:read syscheck:clear syscheck:read syscheck:run syscollector:read logtest:run task:status
		event:ingest`)
	var got []string
	res := map[string][]ResourceEffect{}
	for _, a := range pp.Actions {
		got = append(got, a.Action)
		res[a.Action] = a.Resources
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("action order (-spec +got):\n%s", diff)
	}
	allow := func(keys ...string) []ResourceEffect {
		var out []ResourceEffect
		for _, k := range keys {
			out = append(out, ResourceEffect{k, "allow"})
		}
		return out
	}
	for action, w := range map[string][]ResourceEffect{
		"agent:read":    allow("agent:id:*", "agent:group:*"),
		"security:read": allow("role:id:*", "policy:id:*", "user:id:*", "rule:id:*"),
		"cluster:read":  allow("node:id:*"),
		"event:ingest":  allow("*:*:*"),
	} {
		if diff := cmp.Diff(w, res[action]); diff != "" {
			t.Errorf("%s (-spec +got):\n%s", action, diff)
		}
	}
	if js := string(pp.PythonJSON()); !strings.HasSuffix(js, `"event:ingest": {"*:*:*": "allow"}, "rbac_mode": "white"}`) {
		t.Errorf("tail of output: %s", js[len(js)-80:])
	}
}

func TestNoRolesProcessed(t *testing.T) {
	for _, m := range []Mode{White, Black} {
		got := string(mustCompile(t, m).Processed().PythonJSON())
		if want := `{"rbac_mode": "` + string(m) + `"}`; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
}

// processed renders the resources of one action as "key=effect" strings.
func processed(p *Permissions, action string) []string {
	var out []string
	for _, a := range p.Processed().Actions {
		if a.Action == action {
			for _, r := range a.Resources {
				out = append(out, r.Resource+"="+r.Effect)
			}
		}
	}
	return out
}

func TestProcessingPrecedence(t *testing.T) {
	read := acts("security:read")
	two := func(a, b Role) []Role { return []Role{a, b} }
	tests := []struct {
		name  string
		roles []Role
		want  []string
	}{
		{"allow * then deny 5 keeps both, wildcard first",
			two(pol("allow", read, "user:id:*"), pol("deny", read, "user:id:5")), []string{"user:id:*=allow", "user:id:5=deny"}},
		{"deny 5 then allow * erases the specific entry",
			two(pol("deny", read, "user:id:5"), pol("allow", read, "user:id:*")), []string{"user:id:*=allow"}},
		{"allow 5 then deny * erases the specific entry",
			two(pol("allow", read, "user:id:5"), pol("deny", read, "user:id:*")), []string{"user:id:*=deny"}},
		{"deny * then allow 5",
			two(pol("deny", read, "user:id:*"), pol("allow", read, "user:id:5")), []string{"user:id:*=deny", "user:id:5=allow"}},
		{"same key later policy wins and moves to the end",
			two(pol("allow", read, "user:id:5", "user:id:6"), pol("deny", read, "user:id:5")), []string{"user:id:6=allow", "user:id:5=deny"}},
		{"later resource in one policy wins",
			[]Role{pol("allow", read, "user:id:5", "user:id:*")}, []string{"user:id:*=allow"}},
		{"other types are untouched by a wildcard",
			two(pol("deny", read, "role:id:1"), pol("allow", read, "user:id:*")), []string{"role:id:1=deny", "user:id:*=allow"}},
		{"wildcard type prefix is a string prefix",
			two(pol("deny", read, "user:idx:1"), pol("allow", read, "user:id:*")), []string{"user:id:*=allow"}},
		{"any wildcard wipes earlier agent:group keys",
			two(pol("deny", acts("agent:read"), "agent:group:web"), pol("allow", acts("agent:read"), "node:id:*")), []string{"node:id:*=allow"}},
		{"agent:group:* keeps agent:id entries",
			two(pol("deny", acts("agent:read"), "agent:id:001"), pol("allow", acts("agent:read"), "agent:group:*")), []string{"agent:id:001=deny", "agent:group:*=allow"}},
		{"bare * becomes *:*:*",
			[]Role{pol("allow", read, "*")}, []string{"*:*:*=allow"}},
		{"*:*:* wipes *:* keys but not others",
			two(pol("deny", read, "*:*:x", "user:id:1"), pol("allow", read, "*:*:*")), []string{"user:id:1=deny", "*:*:*=allow"}},
		{"agent:id:0* is a literal value, not a prefix wildcard",
			two(pol("deny", acts("agent:read"), "agent:id:001"), pol("allow", acts("agent:read"), "agent:id:0*")), []string{"agent:id:001=deny", "agent:id:0*=allow"}},
		{"pair wildcard part erases matching pairs only",
			two(pol("deny", read, "agent:id:1&node:id:a", "agent:id:2&node:id:b", "agent:id:1"), pol("allow", read, "agent:id:*&node:id:a")),
			[]string{"agent:id:2&node:id:b=deny", "agent:id:1=deny", "agent:id:*&node:id:a=allow"}},
		{"single wildcard keeps pairs",
			two(pol("deny", read, "agent:id:1&node:id:a"), pol("allow", read, "agent:id:*")), []string{"agent:id:1&node:id:a=deny", "agent:id:*=allow"}},
		{"effect string is kept verbatim",
			[]Role{pol("Allow", read, "user:id:1")}, []string{"user:id:1=Allow"}},
		{"resourceless policy with no resources still lists the action",
			[]Role{pol("allow", read)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := processed(mustCompile(t, White, tc.roles...), tc.roles[0].Policies[0].Actions[0])
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestActionOrderAcrossRoles(t *testing.T) {
	p := mustCompile(t, White, pol("allow", acts("b:x", "a:x"), "*:*:*"), pol("deny", acts("c:x", "b:x"), "*:*:*"))
	var got []string
	for _, a := range p.Processed().Actions {
		got = append(got, a.Action)
	}
	if diff := cmp.Diff([]string{"b:x", "a:x", "c:x"}, got); diff != "" {
		t.Error(diff)
	}
	if !cmp.Equal(processed(p, "b:x"), []string{"*:*:*=deny"}) {
		t.Errorf("later role must win: %v", processed(p, "b:x"))
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		res      string
		tooMany  bool
		accepted bool
	}{
		{res: "agent:id:001", accepted: true},
		{res: "agent:id:001\n", accepted: true},
		{res: "*", accepted: true},
		{res: "*anything", accepted: true},
		{res: "agent:id:1&node:id:a", accepted: true},
		{res: "agent:id:1&node:id:a:extra", accepted: true},
		{res: "agent:id:1&node:id:a&x:y:z", tooMany: true},
		{res: "agent-x:id:1"},
		{res: "agent:id:"},
		{res: "agent:id:1:2"},
		{res: "agent:id"},
		{res: "agent:id:1&"},
		{res: "agent:id:1&node:id:"},
		{res: ""},
		{res: "agent:id:a b"},
	}
	for _, tc := range tests {
		t.Run(tc.res, func(t *testing.T) {
			_, err := Compile([]Role{{Policies: []Policy{{ID: 7, Actions: acts("agent:read"), Resources: []string{tc.res}, Effect: "allow"}}}}, White)
			if tc.accepted {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var re *ResourceError
			if !errors.As(err, &re) {
				t.Fatalf("want *ResourceError, got %v", err)
			}
			if re.Code() != 4500 || re.Error() != "The specified resources are invalid" || re.Policy != 7 || re.TooManyParts != tc.tooMany {
				t.Errorf("bad error %+v", re)
			}
			wantSuffix := ""
			if tc.tooMany {
				wantSuffix = "The maximum length for permission combinations is two"
			}
			if re.RemediationSuffix() != wantSuffix {
				t.Errorf("suffix %q", re.RemediationSuffix())
			}
		})
	}
	if _, err := Compile([]Role{pol("allow", nil, "bad resource")}, White); err != nil {
		t.Errorf("a policy without actions is never validated: %v", err)
	}
	if _, err := Compile(nil, "grey"); !errors.Is(err, ErrMode) {
		t.Errorf("mode: %v", err)
	}
}

func TestPythonJSONEscaping(t *testing.T) {
	pp := ProcessedPolicies{Mode: White, Actions: []ActionPolicies{{Action: "a:b", Resources: []ResourceEffect{{"x:y:é&<\"\\\x7f😀", "allow"}}}}}
	want := `{"a:b": {"x:y:\u00e9&<\"\\\u007f\ud83d\ude00": "allow"}, "rbac_mode": "white"}`
	if got := string(pp.PythonJSON()); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	compact, _ := pp.MarshalJSON()
	if want := strings.NewReplacer(", ", ",", ": ", ":").Replace(want); string(compact) != want {
		t.Errorf("compact %s", compact)
	}
}
