package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

func secPolicy(id int, name, body, roles string) string {
	return fmt.Sprintf(`{"id": %d, "name": "%s", "policy": %s, "roles": [%s]}`, id, name, body, roles)
}

func TestCreatePolicy(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	tok := secAdminToken(t, e)
	jh := secJSONAuth(tok)
	post := func(name, body string) exchange {
		return do(t, e, "POST", "/security/policies", jh, `{"name": "`+name+`", "policy": `+body+`}`)
	}
	created := func(id int, name, stored string) string {
		return secItems(secPolicy(id, name, stored, ""), 1, nil, "Policy was successfully created")
	}
	notCreated := func(code int, name string) string {
		return secItems("", 0, []string{secFailed(code, `"`+name+`"`)}, "Policy was not created")
	}
	// Stored sanitised: actions, types and attributes lower-cased, values kept, keys in received order.
	expectBody(t, post("normal_policy", `{"effect": "ALLOW", "actions": ["Agent:Delete"], "resources": ["Agent:ID:001", "GroUp:iD:Group_Name&NODE:id:Worker1"]}`), 200,
		created(100, "normal_policy", `{"effect": "allow", "actions": ["agent:delete"], "resources": ["agent:id:001", "group:id:Group_Name&node:id:Worker1"]}`))
	// Wazuh does not check actions against the catalogue, nor the types of combinations, nor the effect.
	expectBody(t, post("typo", `{"actions": ["groud:read"], "resources": ["group:id:groupA&file:example:/testing/TESTING"], "effect": "maybe"}`), 200,
		created(101, "typo", `{"actions": ["groud:read"], "resources": ["group:id:groupA&file:example:/testing/TESTING"], "effect": "maybe"}`))
	expectBody(t, post("empty_lists", `{"actions": [], "resources": [], "effect": "allow"}`), 200,
		created(102, "empty_lists", `{"actions": [], "resources": [], "effect": "allow"}`))
	for _, c := range []struct{ name, body string }{
		{"bad_action", `{"actions": ["[agent:delete"], "resources": ["agent:id:001"], "effect": "allow"}`},
		{"action_no_colon", `{"actions": ["agent"], "resources": ["agent:id:001"], "effect": "allow"}`},
		{"bad_resource", `{"actions": ["agent:read"], "resources": ["agent:id:001:"], "effect": "allow"}`},
		{"two_parts", `{"actions": ["agent:read"], "resources": ["agent:001"], "effect": "allow"}`},
		{"empty_resource", `{"actions": ["agent:read"], "resources": [""], "effect": "allow"}`},
		{"bare_star", `{"actions": ["agent:read"], "resources": ["*"], "effect": "allow"}`},
		{"extra_key", `{"actions": ["agent:read"], "resources": ["agent:id:1"], "effect": "allow", "x": 1}`},
	} {
		t.Run(c.name, func(t *testing.T) { expectBody(t, post(c.name, c.body), 200, notCreated(4006, c.name)) })
	}
	// Resources Wazuh would store but then refuse on every request of every
	// holder (400, 4500) are refused when created.
	three := secProblem(400, 4500, "node01")
	three = strings.Replace(three, `/configuration.html"`, `/configuration.html: `+rbacSuffix+`"`, 1)
	expectBody(t, post("three", `{"actions": ["agent:read"], "resources": ["agent:id:1&agent:group:a&node:id:b"], "effect": "allow"}`), 400, three)
	for _, r := range []string{"agent-x:id:1", "agent:i*d:1", "agent:id:é", "a*:id:1"} {
		expectBody(t, post("proc", `{"actions": ["agent:read"], "resources": ["`+r+`"], "effect": "allow"}`), 400,
			secProblem(400, 4500, "node01"))
	}
	// Duplicates: same name, or the same stored body under another name.
	expectBody(t, post("normal_policy", `{"actions": ["agent:read"], "resources": ["agent:id:2"], "effect": "allow"}`), 200,
		notCreated(4009, "normal_policy"))
	expectBody(t, post("another", `{"effect": "allow", "actions": ["agent:delete"], "resources": ["agent:id:001", "GROUP:id:Group_Name&node:id:Worker1"]}`), 200,
		notCreated(4009, "another"))
	// Schema errors come first, in the document's order.
	for _, c := range []struct{ body, want string }{
		{`{"policy": {}}`, "'name' is a required property"},
		{`{"name": "x"}`, "'policy' is a required property"},
		{`{"name": "x", "policy": {"actions": ["a:b"], "resources": []}}`, "'effect' is a required property - 'policy'"},
		{`{"name": "x", "policy": {"actions": "a:b", "resources": [], "effect": "allow"}}`, "'a:b' is not of type 'array' - 'policy.actions'"},
		{`{"name": "x", "policy": {"actions": ["a:b", 7], "resources": [], "effect": "allow"}}`, "7 is not of type 'string' - 'policy.actions.1'"},
		{`{"name": "x", "policy": {"actions": [], "resources": [], "effect": true}}`, "True is not of type 'string' - 'policy.effect'"},
		{`{"name": "x", "policy": [1.50]}`, "[1.5] is not of type 'object' - 'policy'"},
		{`{"name": "x y", "policy": {"actions": [], "resources": [], "effect": "allow"}}`, "'x y' is not a 'names' - 'name'"},
		{`{"name": "x", "policy": {"actions": [], "resources": [], "effect": "allow"}, "roles": []}`, "Invalid field found {'roles'}"},
	} {
		expectBody(t, do(t, e, "POST", "/security/policies", jh, c.body), 400, secBadRequest(c.want))
	}
	// Nothing partial: the refused requests stored nothing.
	x := do(t, e, "GET", "/security/policies?q=id%3E99", bearer(tok), "")
	if got := x.json(t)["data"].(map[string]any)["total_affected_items"]; got != float64(3) {
		t.Fatalf("policies above 99: %v", got)
	}
}

const rbacSuffix = "The maximum length for permission combinations is two"

func TestUpdateDeletePolicy(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	tok := secAdminToken(t, e)
	h, jh := bearer(tok), secJSONAuth(tok)
	for _, n := range []string{"p1", "p2"} {
		body := fmt.Sprintf(`{"name": "%s", "policy": {"actions": ["agent:read"], "resources": ["agent:id:001"], "effect": "%s"}}`, n, n)
		if x := do(t, e, "POST", "/security/policies", jh, body); x.status != 200 {
			t.Fatalf("%d %s", x.status, x.body)
		}
	}
	put := func(id, b string) exchange { return do(t, e, "PUT", "/security/policies/"+id, jh, b) }
	notUpdated := func(code int, id string) string {
		return secItems("", 0, []string{secFailed(code, id)}, "Policy was not updated")
	}
	expectBody(t, put("100", `{}`), 400, secProblem(400, 4001, "node01"))
	expectBody(t, put("1", `{"name": "x"}`), 200, notUpdated(4008, "1"))
	expectBody(t, put("555", `{"name": "x"}`), 200, notUpdated(4007, "555"))
	expectBody(t, put("100", `{"name": "p2"}`), 200, notUpdated(4013, "100"))
	expectBody(t, put("100", `{"policy": {"actions": ["agent:read"], "resources": ["agent:id:001"], "effect": "p2"}}`), 200,
		notUpdated(4013, "100"))
	expectBody(t, put("100", `{"name": "renamed", "policy": {"actions": ["x"], "resources": [], "effect": "allow"}}`), 200,
		notUpdated(4006, "100"))
	expectBody(t, put("100", `{"policy": {"actions": ["a"]}}`), 400, secBadRequest("'resources' is a required property - 'policy'"))
	expectBody(t, put("100", `{"name": "renamed", "policy": {"actions": ["SysCheck:Run"], "resources": ["Agent:Group:Web"], "effect": "deny"}}`), 200,
		secItems(secPolicy(100, "renamed", `{"actions": ["syscheck:run"], "resources": ["agent:group:Web"], "effect": "deny"}`, ""), 1, nil,
			"Policy was successfully updated"))
	// The name alone keeps the body.
	expectBody(t, put("100", `{"name": "renamed2"}`), 200,
		secItems(secPolicy(100, "renamed2", `{"actions": ["syscheck:run"], "resources": ["agent:group:Web"], "effect": "deny"}`, ""), 1, nil,
			"Policy was successfully updated"))

	expectBody(t, do(t, e, "DELETE", "/security/policies?policy_ids=101,35,555", h, ""), 200,
		secItems(secPolicy(101, "p2", `{"actions": ["agent:read"], "resources": ["agent:id:001"], "effect": "p2"}`, ""), 1,
			[]string{secFailed(4007, "555"), secFailed(4008, "35")}, "Some policies were not deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/policies?policy_ids=all", h, ""), 200,
		secItems(secPolicy(100, "renamed2", `{"actions": ["syscheck:run"], "resources": ["agent:group:Web"], "effect": "deny"}`, ""), 1, nil,
			"All specified policies were deleted"))
	if n := len(e.Security.Policies()); n != len(core.DefaultPolicies) {
		t.Fatalf("%d policies left", n)
	}
}
