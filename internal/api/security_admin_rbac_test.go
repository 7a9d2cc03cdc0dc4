package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
)

// TestRBACPrecedence is security.md §5.5's table: the later rule wins,
// whatever its effect, and a wildcard erases the specific entries before it.
func TestRBACPrecedence(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	secAddUser(t, e, "target") // id 100
	pols := map[string]client.PolicyBody{
		"allow_all": allowPolicy(strs("security:read"), strs("user:id:*")),
		"deny_100":  denyPolicy(strs("security:read"), strs("user:id:100")),
		"allow_100": allowPolicy(strs("security:read"), strs("user:id:100")),
		"deny_all":  denyPolicy(strs("security:read"), strs("user:id:*")),
	}
	ids := map[string]int{}
	for _, n := range []string{"allow_all", "deny_100", "allow_100", "deny_all"} {
		p, err := adm.CreatePolicy(ctx, n, pols[n])
		if err != nil {
			t.Fatal(err)
		}
		ids[n] = p.ID
	}
	const target = `{"id": 100, "username": "target", "allow_run_as": false, "roles": []}`
	cases := []struct {
		order      []string
		list, only string
		unnamed    string // ids listed when the request names none
	}{
		{[]string{"allow_all", "deny_100"}, wazuhUser + ", " + wuiUser, "", "1, 2, 101, 102, 103, 104"},
		{[]string{"deny_100", "allow_all"}, wazuhUser + ", " + wuiUser + ", " + target, target, "1, 2, 100, 101, 102, 103, 104"},
		{[]string{"allow_100", "deny_all"}, "", "", ""},
		{[]string{"deny_all", "allow_100"}, target, target, "100"},
	}
	for i, c := range cases {
		name := "case" + string(rune('a'+i))
		uid := secAddUser(t, e, name)
		r, _ := adm.CreateRole(ctx, name)
		for _, p := range c.order {
			adm.AddRolePolicies(ctx, r.ID, []int{ids[p]}, -1)
		}
		adm.AddUserRoles(ctx, uid, []int{r.ID}, -1)
	}
	e.Clock.Advance(time.Second)
	for i, c := range cases {
		h := bearer(token(t, e, "case"+string(rune('a'+i)), "Passw0rd!x"))
		x := do(t, e, "GET", "/security/users?user_ids=1,2,100", h, "")
		n := strings.Count(c.list, `"id"`)
		switch {
		case n == 0:
			expectBody(t, x, 403, secForbidden("user:id", "unknown-node"))
		case n == 3:
			expectBody(t, x, 200, secItems(c.list, n, nil, "All specified users were returned"))
		case c.list == target:
			expectBody(t, x, 200, secItems(c.list, n, []string{secDenied("user:id", "1, 2")}, "Some users were not returned"))
		default:
			expectBody(t, x, 200, secItems(c.list, n, []string{secDenied("user:id", "100")}, "Some users were not returned"))
		}
		// Without ids the list is filtered silently.
		x = do(t, e, "GET", "/security/users?select=id", h, "")
		var want []string
		for _, id := range strings.Split(c.unnamed, ", ") {
			if id != "" {
				want = append(want, `{"id": `+id+`}`)
			}
		}
		msg := map[bool]string{true: "No user was returned", false: "All specified users were returned"}[len(want) == 0]
		expectBody(t, x, 200, secItems(strings.Join(want, ", "), len(want), nil, msg))
		x = do(t, e, "GET", "/security/users?user_ids=100", h, "")
		if c.only == "" {
			expectBody(t, x, 403, secForbidden("user:id", "unknown-node"))
		} else {
			expectBody(t, x, 200, secItems(c.only, 1, nil, "All specified users were returned"))
		}
	}
}

func TestRBACOutcomes(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	reader := secScoped(t, e, "reader", allowPolicy(strs("security:read"), strs("role:id:*", "policy:id:4", "policy:id:5")),
		allowPolicy(strs("security:delete", "security:update"), strs("role:id:100")))
	h := bearer(reader)
	// A wildcard covers ids that do not exist: "not found", not "denied".
	expectBody(t, do(t, e, "GET", "/security/roles?role_ids=999", h, ""), 200,
		secItems("", 0, []string{secFailed(4002, "999")}, "No role was returned"))
	expectBody(t, do(t, e, "GET", "/security/policies?policy_ids=4,6", h, ""), 200,
		secItems(secPolicy(4, "agents_read_agents", `{"actions": ["agent:read"], "resources": ["agent:id:*", "agent:group:*"], "effect": "allow"}`, "2, 4"), 1,
			[]string{secDenied("policy:id", "6")}, "Some policies were not returned"))
	// Nothing allowed: the list is empty, explicit ids are a 403 that shows
	// no node name to a caller who may not read the cluster.
	expectBody(t, do(t, e, "GET", "/security/rules", h, ""), 200, secItems("", 0, nil, "No security rule was returned"))
	expectBody(t, do(t, e, "GET", "/security/rules?rule_ids=1", h, ""), 403, secForbidden("rule:id", "unknown-node"))
	// Resourceless actions.
	jh := secJSONAuth(reader)
	expectBody(t, do(t, e, "POST", "/security/roles", jh, `{"name": "x"}`), 403, secForbidden("*:*", "unknown-node"))
	expectBody(t, do(t, e, "PUT", "/security/users/1/run_as", h, ""), 403, secForbidden("*:*", "unknown-node"))
	expectBody(t, do(t, e, "GET", "/security/config", h, ""), 403, secForbidden("*:*", "unknown-node"))
	expectBody(t, do(t, e, "PUT", "/security/user/revoke", h, ""), 403, secForbidden("*:*", "unknown-node"))
	// Body validation comes before RBAC.
	expectBody(t, do(t, e, "POST", "/security/roles", jh, `{"name": "x y"}`), 400, secBadRequest("'x y' is not a 'names' - 'name'"))
	// Link endpoints: the role and the linked ids are one check.
	expectBody(t, do(t, e, "POST", "/security/roles/100/policies?policy_ids=4", h, ""), 403, secForbidden("policy:id", "unknown-node"))
	expectBody(t, do(t, e, "POST", "/security/roles/2/policies?policy_ids=4", h, ""), 403, secForbidden("role:id", "unknown-node"))
	expectBody(t, do(t, e, "DELETE", "/security/roles/2/policies?policy_ids=all", h, ""), 403, secForbidden("role:id", "unknown-node"))
	// DELETE with "all" acts on what the caller may delete and stays silent about the rest.
	expectBody(t, do(t, e, "DELETE", "/security/roles?role_ids=all", h, ""), 200,
		secItems(secRole(100, "reader_role", "100, 101", "100", ""), 1, nil, "All specified roles were deleted"))

	// With cluster:read on this node, errors name it.
	scopedTok := secScoped(t, e, "clusterer", allowPolicy(strs("cluster:read"), strs("node:id:node01")))
	expectBody(t, do(t, e, "GET", "/security/users?user_ids=1", bearer(scopedTok), ""), 403, secForbidden("user:id", "node01"))
	expectBody(t, do(t, e, "PUT", "/security/user/revoke", bearer(scopedTok), ""), 403, secForbidden("*:*", "node01"))
	if _, err := adm.ListUsers(ctx, client.ListOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestBlackMode(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	none := secScoped(t, e, "nopolicy")
	limited := secScoped(t, e, "limited", denyPolicy(strs("security:delete"), strs("user:id:1", "user:id:100")))
	if err := secAdmin(t, e).UpdateSecurityConfig(ctx, client.SecurityConfig{RBACMode: "black"}); err != nil {
		t.Fatal(err)
	}
	// Tokens carry their mode: the old ones are refused.
	if x := do(t, e, "GET", "/", bearer(none), ""); x.status != 401 {
		t.Fatalf("white token in black mode: %d", x.status)
	}
	e.Clock.Advance(time.Second)
	none = token(t, e, "nopolicy", "Passw0rd!x")
	limited = token(t, e, "limited", "Passw0rd!x")
	h := bearer(none)
	// No policies: everything is allowed.
	x := do(t, e, "GET", "/security/users?select=username", h, "")
	expectBody(t, x, 200, secItems(`{"username": "wazuh", "id": 1}, {"username": "wazuh-wui", "id": 2}, `+
		`{"username": "nopolicy", "id": 100}, {"username": "limited", "id": 101}`, 4, nil, "All specified users were returned"))
	// Wazuh's "Update one admin role (Allow)": allowed, and refused as reserved.
	expectBody(t, do(t, e, "PUT", "/security/roles/1", secJSONAuth(none), `{"name": "x"}`), 200,
		secItems("", 0, []string{secFailed(4008, "1")}, "Role was not updated"))
	x = do(t, e, "GET", "/security/users/me/policies", h, "")
	expectBody(t, x, 200, `{"data": {"rbac_mode": "black"}, "message": "Current user processed policies information was returned", "error": 0}`)
	// A deny still denies.
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=1,100", bearer(limited), ""), 403, secForbidden("user:id", "node01"))
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=1,2,100,555", bearer(limited), ""), 200,
		secItems("", 0, []string{secDenied("user:id", "1, 100"), secFailed(5001, "555"), secFailed(5004, "2")}, "No user was deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/users?user_ids=all", bearer(limited), ""), 200, secItems("", 0, nil, "No user was deleted"))
	if err := secAdmin(t, e).ResetSecurityConfig(ctx); err != nil {
		t.Fatal(err)
	}
}
