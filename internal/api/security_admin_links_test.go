package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
)

func secUser(id int, name string, roles string) string {
	return fmt.Sprintf(`{"id": %d, "username": "%s", "allow_run_as": false, "roles": [%s]}`, id, name, roles)
}

func TestUserRoleLinks(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	if _, err := adm.CreateUser(ctx, "henry", "Henry-Pass1!"); err != nil {
		t.Fatal(err)
	}
	tok := secAdminToken(t, e)
	h := bearer(tok)
	post := func(q string) exchange { return do(t, e, "POST", "/security/users/100/roles?"+q, h, "") }
	del := func(q string) exchange { return do(t, e, "DELETE", "/security/users/100/roles?"+q, h, "") }

	expectBody(t, post("role_ids=3"), 200, secItems(secUser(100, "henry", "3"), 1, nil, "All roles were linked to user henry"))
	e.Clock.Advance(time.Second)
	henry := token(t, e, "henry", "Henry-Pass1!")
	// Wazuh's official case: new roles appended, missing ones and the
	// existing link reported, grouped by code with sorted ids.
	expectBody(t, post("role_ids=4,5,3,500,498"), 200, secItems(secUser(100, "henry", "3, 4, 5"), 2,
		[]string{secFailed(4002, "498, 500"), secFailed(4017, "3")}, "Some roles were not linked to user henry"))
	expectBody(t, do(t, e, "GET", "/", bearer(henry), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	// position puts the role there and moves the following ones; positions
	// beyond the end append.
	expectBody(t, post("role_ids=6,7&position=1"), 200, secItems(secUser(100, "henry", "3, 6, 7, 4, 5"), 2, nil,
		"All roles were linked to user henry"))
	expectBody(t, post("role_ids=2&position=99"), 200, secItems(secUser(100, "henry", "3, 6, 7, 4, 5, 2"), 1, nil,
		"All roles were linked to user henry"))
	// An existing link given with a position counts as linked and changes nothing (Wazuh).
	expectBody(t, post("role_ids=3&position=4"), 200, secItems(secUser(100, "henry", "3, 6, 7, 4, 5, 2"), 1, nil,
		"All roles were linked to user henry"))
	for _, q := range []string{"role_ids=3&position=-1", "role_ids=3&position=x", "role_ids=x", "position=1", "role_ids=all"} {
		if x := post(q); x.status != 400 {
			t.Errorf("%s: %d %s", q, x.status, x.body)
		}
	}
	expectBody(t, post("role_ids=all"), 400, secBadRequest("'all' is not a 'numbers' - 'role_ids'"))
	// Reserved users keep their roles; unknown users stop the loop at the first role.
	expectBody(t, do(t, e, "POST", "/security/users/2/roles?role_ids=2,3", h, ""), 200,
		secItems("", 0, []string{secFailed(4008, "2")}, "No link was created to user wazuh-wui"))
	expectBody(t, do(t, e, "POST", "/security/users/987/roles?role_ids=2,999", h, ""), 200,
		secItems("", 0, []string{secFailed(5001, "987")}, "No link was created to user unknown"))

	// Removing: unknown user is a 404; links that do not exist are 4016;
	// levels are not renumbered.
	expectBody(t, do(t, e, "DELETE", "/security/users/987/roles?role_ids=2", h, ""), 404, secProblem(404, 5001, "node01"))
	expectBody(t, del("role_ids=6,1,999"), 200, secItems(secUser(100, "henry", "3, 7, 4, 5, 2"), 1,
		[]string{secFailed(4002, "999"), secFailed(4016, "1")}, "Some roles were not unlinked from user henry"))
	expectBody(t, do(t, e, "DELETE", "/security/users/1/roles?role_ids=1", h, ""), 200,
		secItems("", 0, []string{secFailed(4008, "1")}, "No role was unlinked from user wazuh"))
	expectBody(t, do(t, e, "DELETE", "/security/users/1/roles?role_ids=all", h, ""), 200,
		secItems("", 0, nil, "No role was unlinked from user wazuh"))
	// A new role after a removal takes level = number of links - 1, which
	// ties with the last one; ties keep storage order.
	expectBody(t, post("role_ids=1"), 200, secItems(secUser(100, "henry", "3, 7, 4, 5, 2, 1"), 1, nil,
		"All roles were linked to user henry"))
	expectBody(t, del("role_ids=all"), 200, secItems(secUser(100, "henry", ""), 6, nil, "All roles were unlinked from user henry"))
	expectBody(t, del("role_ids=all"), 200, secItems("", 0, nil, "No role was unlinked from user henry"))

	// The token's roles are the roles by position.
	if _, err := adm.AddUserRoles(ctx, 100, []int{4, 2}, -1); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AddUserRoles(ctx, 100, []int{5}, 0); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	me, err := e.Client("henry", "Henry-Pass1!").UsersMe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(me.Roles[0].ID, me.Roles[1].ID, me.Roles[2].ID); got != "5 4 2" {
		t.Fatalf("token roles %s", got)
	}
}

func secRole(id int, name, policies, users, rules string) string {
	return fmt.Sprintf(`{"id": %d, "name": "%s", "policies": [%s], "users": [%s], "rules": [%s]}`,
		id, name, policies, users, rules)
}

func TestRolePolicyLinks(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	r, err := adm.CreateRole(ctx, "web-operator")
	if err != nil {
		t.Fatal(err)
	}
	h := bearer(secAdminToken(t, e))
	post := func(q string) exchange { return do(t, e, "POST", "/security/roles/100/policies?"+q, h, "") }
	del := func(q string) exchange { return do(t, e, "DELETE", "/security/roles/100/policies?"+q, h, "") }
	expectBody(t, post("policy_ids=4,5"), 200, secItems(secRole(r.ID, "web-operator", "4, 5", "", ""), 2, nil,
		"All policies were linked to role 100"))
	expectBody(t, post("policy_ids=1&position=0"), 200, secItems(secRole(100, "web-operator", "1, 4, 5", "", ""), 1, nil,
		"All policies were linked to role 100"))
	expectBody(t, post("policy_ids=2,5,999&position=50"), 200, secItems(secRole(100, "web-operator", "1, 4, 5, 2", "", ""), 2,
		[]string{secFailed(4007, "999")}, "Some policies were not linked to role 100"))
	expectBody(t, post("policy_ids=4"), 200, secItems("", 0, []string{secFailed(4011, "4")}, "No link was created to role 100"))
	expectBody(t, do(t, e, "POST", "/security/roles/1/policies?policy_ids=4,5", h, ""), 200,
		secItems("", 0, []string{secFailed(4008, "1")}, "No link was created to role 1"))
	expectBody(t, do(t, e, "POST", "/security/roles/555/policies?policy_ids=4", h, ""), 200,
		secItems("", 0, []string{secFailed(4002, "555")}, "No link was created to role 555"))
	if x := post("policy_ids=all"); x.status != 400 {
		t.Fatalf("%d %s", x.status, x.body)
	}
	// Removing renumbers the following policies: a policy put at position
	// 1 afterwards lands right after the first.
	expectBody(t, del("policy_ids=4,3,999"), 200, secItems(secRole(100, "web-operator", "1, 5, 2", "", ""), 1,
		[]string{secFailed(4007, "999"), secFailed(4010, "3")}, "Some policies were not unlinked from role 100"))
	expectBody(t, post("policy_ids=6&position=1"), 200, secItems(secRole(100, "web-operator", "1, 6, 5, 2", "", ""), 1, nil,
		"All policies were linked to role 100"))
	// Wazuh checks the reserved role before the policy.
	expectBody(t, do(t, e, "DELETE", "/security/roles/3/policies?policy_ids=999", h, ""), 200,
		secItems("", 0, []string{secFailed(4008, "3")}, "No policy was unlinked from role 3"))
	expectBody(t, do(t, e, "DELETE", "/security/roles/999/policies?policy_ids=1", h, ""), 404, secProblem(404, 4002, "node01"))
	expectBody(t, del("policy_ids=all"), 200, secItems(secRole(100, "web-operator", "", "", ""), 4, nil,
		"All policies were unlinked from role 100"))
}

func TestRoleRuleLinks(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	if _, err := adm.CreateRole(ctx, "auditor"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateRule(ctx, "audit-department", map[string]any{"MATCH": map[string]any{"department": "audit"}}); err != nil {
		t.Fatal(err)
	}
	tok := secAdminToken(t, e)
	h := bearer(tok)
	runAs := secRunAsToken(t, e, "wazuh-wui", "wazuh-wui", `{"username": "elastic"}`)
	expectBody(t, do(t, e, "POST", "/security/roles/100/rules?rule_ids=1,100,999", h, ""), 200,
		secItems(secRole(100, "auditor", "", "", "100"), 1, []string{secFailed(4008, "100"), secFailed(4022, "999")},
			"Some security rules were not linked to role 100"))
	// Every run_as token is revoked, other tokens are not.
	expectBody(t, do(t, e, "GET", "/", bearer(runAs), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	if x := do(t, e, "GET", "/", h, ""); x.status != 200 {
		t.Fatalf("plain token revoked: %d", x.status)
	}
	expectBody(t, do(t, e, "POST", "/security/roles/100/rules?rule_ids=100", h, ""), 200,
		secItems("", 0, []string{secFailed(4023, "100")}, "No link was created to role 100"))
	// A user rule can be linked to a default role; a default rule to none.
	expectBody(t, do(t, e, "POST", "/security/roles/1/rules?rule_ids=100", h, ""), 200,
		secItems(secRole(1, "administrator", "1, 2, 3, 6, 7, 8, 29, 30, 12, 14, 15, 18, 19, 21, 23, 24, 16, 25, 27, 28, 33, 34, 35",
			"1, 2", "1, 2, 100"), 1, nil, "All security rules were linked to role 1"))
	expectBody(t, do(t, e, "POST", "/security/roles/555/rules?rule_ids=100", h, ""), 200,
		secItems("", 0, []string{secFailed(4002, "555")}, "No link was created to role 555"))
	// Removing: the rule is checked before anything else, failures carry text ids.
	expectBody(t, do(t, e, "DELETE", "/security/roles/3/rules?rule_ids=999", h, ""), 200,
		secItems("", 0, []string{secFailed(4022, `"999"`)}, "No security rule was unlinked from role 3"))
	expectBody(t, do(t, e, "DELETE", "/security/roles/100/rules?rule_ids=2,100", h, ""), 200,
		secItems(secRole(100, "auditor", "", "", ""), 1, []string{secFailed(4008, "100")}, "Some security rules were not unlinked from role 100"))
	expectBody(t, do(t, e, "DELETE", "/security/roles/100/rules?rule_ids=100", h, ""), 200,
		secItems("", 0, []string{secFailed(4024, `"100"`)}, "No security rule was unlinked from role 100"))
	expectBody(t, do(t, e, "DELETE", "/security/roles/999/rules?rule_ids=100", h, ""), 404, secProblem(404, 4002, "node01"))
	expectBody(t, do(t, e, "DELETE", "/security/roles/1/rules?rule_ids=all", h, ""), 200,
		secItems(secRole(1, "administrator", "1, 2, 3, 6, 7, 8, 29, 30, 12, 14, 15, 18, 19, 21, 23, 24, 16, 25, 27, 28, 33, 34, 35",
			"1, 2", "1, 2"), 1, nil, "All security rules were unlinked from role 1"))
}

// A role's users and rules, a rule's roles and a policy's roles are listed
// by ascending id, as Wazuh lists them, whatever order the links were made.
func TestRelatedObjectsInAscendingID(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	for _, n := range []string{"r-a", "r-b", "r-c"} {
		if _, err := adm.CreateRole(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"user-a", "user-b"} {
		if _, err := adm.CreateUser(ctx, n, "Passw0rd!"+n); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"ru-a", "ru-b"} {
		if _, err := adm.CreateRule(ctx, n, map[string]any{"MATCH": map[string]any{"n": n}}); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := adm.CreatePolicy(ctx, "p", allowPolicy(strs("agent:read"), strs("agent:id:*")))
	if err != nil {
		t.Fatal(err)
	}
	h := bearer(secAdminToken(t, e))
	post := func(path string) {
		if x := do(t, e, "POST", path, h, ""); x.status != 200 || !strings.Contains(string(x.body), `"total_failed_items": 0`) {
			t.Fatalf("%s: %d %s", path, x.status, x.body)
		}
	}
	// Links made newest id first.
	post("/security/users/101/roles?role_ids=100")
	post("/security/users/100/roles?role_ids=100")
	post("/security/roles/100/rules?rule_ids=101")
	post("/security/roles/100/rules?rule_ids=100")
	post("/security/roles/102/rules?rule_ids=100")
	post("/security/roles/101/rules?rule_ids=100")
	post(fmt.Sprintf("/security/roles/102/policies?policy_ids=%d", pol.ID))
	post(fmt.Sprintf("/security/roles/100/policies?policy_ids=%d", pol.ID))
	get := func(path, key string) string {
		x := do(t, e, "GET", path, h, "")
		var body struct {
			Data struct {
				Items []map[string]any `json:"affected_items"`
			} `json:"data"`
		}
		json.Unmarshal(x.body, &body)
		if len(body.Data.Items) != 1 {
			t.Fatalf("%s: %s", path, x.body)
		}
		return fmt.Sprint(body.Data.Items[0][key])
	}
	for _, c := range []struct{ path, key, want string }{
		{"/security/roles?role_ids=100", "users", "[100 101]"},
		{"/security/roles?role_ids=100", "rules", "[100 101]"},
		{"/security/rules?rule_ids=100", "roles", "[100 101 102]"},
		{fmt.Sprintf("/security/policies?policy_ids=%d", pol.ID), "roles", "[100 102]"},
	} {
		if got := get(c.path, c.key); got != c.want {
			t.Errorf("%s %s: %s, want %s", c.path, c.key, got, c.want)
		}
	}
}
