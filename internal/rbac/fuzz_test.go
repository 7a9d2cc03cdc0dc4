package rbac

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// pythonResourceRegex is Wazuh's resource pattern under Python's re.match: alternatives anchored at the start,
// and "$" also matching before one final newline.
var pythonResourceRegex = regexp.MustCompile(`^(?:\*|([a-zA-Z0-9_.]+:[a-zA-Z0-9_.]+:[a-zA-Z0-9_.*/-]+&)+[a-zA-Z0-9_.]+:[a-zA-Z0-9_.]+:[a-zA-Z0-9_.*/-]+|[a-zA-Z0-9_.]+:[a-zA-Z0-9_.]+:[a-zA-Z0-9_.*/-]+\n?$)`)

// FuzzCompile feeds arbitrary policy strings: Compile and every query on its result must not panic, and the
// resource validation must agree with Wazuh's regular expression.
func FuzzCompile(f *testing.F) {
	f.Add("agent:read", "agent:id:*|agent:group:web", "allow", "agent:read", "001")
	f.Add("security:read,security:update", "user:id:5&role:id:*|*", "deny", "security:update", "5")
	f.Add("a:b", "*:x|x:y:z\n|a:b:c&d:e:f&g:h:i", "allow", "a:b", "")
	f.Fuzz(func(t *testing.T, actions, resources, effect, action, id string) {
		res := strings.Split(resources, "|")
		for _, r := range res {
			if validResource(r) != pythonResourceRegex.MatchString(r) {
				t.Fatalf("validResource(%q) = %v, Python pattern disagrees", r, validResource(r))
			}
		}
		roles := []Role{
			{Policies: []Policy{{Actions: strings.Split(actions, ","), Resources: res, Effect: effect}}},
			{Policies: []Policy{{Actions: []string{action}, Resources: res[len(res)/2:], Effect: "deny"}}},
		}
		for _, mode := range []Mode{White, Black} {
			p, err := Compile(roles, mode)
			if err != nil {
				continue
			}
			_ = p.Processed().PythonJSON()
			if _, err := json.Marshal(p.Processed()); err != nil {
				t.Fatalf("MarshalJSON: %v", err)
			}
			groups := func(string) []string { return []string{id, "web"} }
			for _, tpl := range []string{"agent:id:{ids}", "user:id:{ids}", "*:*:*", "node:id:master", "agent:id:{ids}&node:id:master"} {
				c, err := NewCheck([]string{action, "agent:read"}, tpl)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = p.Decide(c, map[string][]string{"ids": {id}}, groups)
				_, _ = p.Decide(c, nil, groups)
				c.Actions = c.Actions[:1]
				_, _ = p.Decide(c, map[string][]string{"ids": {id, "001"}}, groups)
			}
			_ = p.Can(action, "*:*:*")
			_ = p.UsesAgentGroups(action)
		}
	})
}

// FuzzMatchRule feeds arbitrary rules and contexts: evaluation must not panic.
func FuzzMatchRule(f *testing.F) {
	f.Add(`{"FIND": {"username": "elastic"}}`, `{"username": "elastic"}`)
	f.Add(`{"AND": [{"MATCH$": {"r'^ro'": ["r'a'", 1]}}, {"NOT": {"OR": 5}}]}`, `{"roles": ["a", "b"], "n": null}`)
	f.Add(`{"MATCH": {"a": [[1], ["x"]]}}`, `{"a": [[2, "y"], [1.5e300]], "b": {"c": [{"d": true}]}}`)
	f.Fuzz(func(t *testing.T, rule, ctx string) {
		_, _ = MatchRule(json.RawMessage(rule), json.RawMessage(ctx))
		_, _ = RolesForContext([]RoleWithRules{{ID: 100, Rules: []SecurityRule{{ID: 100, Rule: json.RawMessage(rule)}}}}, 2, json.RawMessage(ctx))
	})
}
