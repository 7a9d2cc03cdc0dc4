package api_test

import (
	"context"
	"testing"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

func TestListParameters(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	for _, n := range []string{"Zoe_x", "adam", "Bella"} {
		if _, err := adm.CreateUser(ctx, n, "Passw0rd!x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := adm.AddUserRoles(ctx, 101, []int{2, 4}, -1); err != nil {
		t.Fatal(err)
	}
	h := bearer(secAdminToken(t, e))
	get := func(q string) exchange { return do(t, e, "GET", "/security/users?"+q, h, "") }
	const (
		zoe   = `{"id": 100, "username": "Zoe_x", "allow_run_as": false, "roles": []}`
		adam  = `{"id": 101, "username": "adam", "allow_run_as": false, "roles": [2, 4]}`
		bella = `{"id": 102, "username": "Bella", "allow_run_as": false, "roles": []}`
		all   = "All specified users were returned"
	)
	for _, c := range []struct{ q, want string }{
		// Sort ignores case; "-" reverses every field; ties keep their order.
		{"sort=username", secItems(adam+", "+bella+", "+wazuhUser+", "+wuiUser+", "+zoe, 5, nil, all)},
		{"sort=-username&limit=2", secItems(zoe+", "+wuiUser, 5, nil, all)},
		{"sort=-id&offset=1&limit=2", secItems(adam+", "+zoe, 5, nil, all)},
		{"sort=%2Bid&offset=4", secItems(bella, 5, nil, all)},
		{"offset=9", secItems("", 5, nil, all)},
		// Search is a case-insensitive substring of any value, lists included; "-" negates.
		{"search=WAZ", secItems(wazuhUser+", "+wuiUser, 2, nil, all)},
		{"search=-wazuh", secItems(zoe+", "+adam+", "+bella, 3, nil, all)},
		{"search=4", secItems(adam, 1, nil, all)},
		// q: = != < > ~ with ; (AND) and , (OR).
		{"q=username%3Dadam", secItems(adam, 1, nil, all)},
		{"q=id%3E100%3Busername~ella", secItems(bella, 1, nil, all)},
		{"q=roles%3D4,username%3Dwazuh", secItems(wazuhUser+", "+adam, 2, nil, all)},
		{"q=allow_run_as%3Dtrue", secItems(wazuhUser+", "+wuiUser, 2, nil, all)},
		{"q=id%3C3&user_ids=1,2,101", secItems(wazuhUser+", "+wuiUser, 2, nil, all)},
		// select keeps the asked fields and id; distinct removes copies.
		{"select=username&limit=1", secItems(`{"username": "wazuh", "id": 1}`, 5, nil, all)},
		{"select=allow_run_as,roles&distinct=true", secItems(`{"allow_run_as": true, "roles": [1]}, {"allow_run_as": false, "roles": []}, `+
			`{"allow_run_as": false, "roles": [2, 4]}`, 3, nil, all)},
		// An empty list skips every check of the list parameters.
		{"user_ids=55&sort=nothing&q=%3D%3D", secItems("", 0, []string{secFailed(5001, "55")}, "No user was returned")},
	} {
		t.Run(c.q, func(t *testing.T) { expectBody(t, get(c.q), 200, c.want) })
	}
	expectBody(t, get("sort=%2Bnoexist"), 400, `{"title": "Bad Request", "detail": "Not a valid sort field", `+
		`"remediation": "Please, use only allowed sort fields: Allowed sort fields: id, username. Wrong fields: noexist", `+
		`"dapi_errors": {"node01": {"error": "Not a valid sort field"}}, "error": 1403}`)
	expectBody(t, get("q=id%25%3Dinvalid"), 400, secProblem(400, 1407, "node01"))
	expectBody(t, get("select=password"), 400, `{"title": "Bad Request", "detail": "Not a valid select field: password", `+
		`"remediation": "Please, use only allowed select fields", "dapi_errors": {"node01": {"error": "Not a valid select field: password"}}, "error": 1724}`)
	for _, q := range []string{"limit=0", "limit=100001", "offset=-1", "distinct=maybe", "select=a%20b", "search=x%3Ey"} {
		if x := get(q); x.status != 400 {
			t.Errorf("%s: %d %s", q, x.status, x.body)
		}
	}

	// The other lists take the same parameters, sorted by id and name.
	x := do(t, e, "GET", "/security/roles?sort=-name&limit=2&select=name", h, "")
	expectBody(t, x, 200, secItems(`{"name": "users_admin", "id": 3}, {"name": "readonly", "id": 2}`, 7, nil, "All specified roles were returned"))
	x = do(t, e, "GET", "/security/policies?search=run_as&select=policy.actions,name", h, "")
	expectBody(t, x, 200, secItems(`{"name": "security_all_resourceless", "policy": {"actions": ["security:create", "security:create_user", `+
		`"security:read_config", "security:update_config", "security:revoke", "security:edit_run_as"]}, "id": 7}, `+
		`{"name": "users_all_resourceless", "policy": {"actions": ["security:create_user", "security:revoke", "security:edit_run_as"]}, "id": 9}, `+
		`{"name": "users_modify_run_as_flag", "policy": {"actions": ["security:edit_run_as"]}, "id": 11}`, 3, nil,
		"All specified policies were returned"))
	x = do(t, e, "GET", "/security/policies?q=policy.effect%3Dallow%3Bpolicy.actions~edit_run_as&select=id", h, "")
	expectBody(t, x, 200, secItems(`{"id": 7}, {"id": 9}, {"id": 11}`, 3, nil, "All specified policies were returned"))
	x = do(t, e, "GET", "/security/rules?q=rule.FIND.user_name%3Dadmin", h, "")
	expectBody(t, x, 200, secItems(secRule(2, "wui_opensearch_admin", `{"FIND": {"user_name": "admin"}}`, "1"), 1, nil,
		"All specified security rules were returned"))
	expectBody(t, do(t, e, "GET", "/security/rules?sort=username", h, ""), 400, `{"title": "Bad Request", "detail": "Not a valid sort field", `+
		`"remediation": "Please, use only allowed sort fields: Allowed sort fields: id, name. Wrong fields: username", `+
		`"dapi_errors": {"node01": {"error": "Not a valid sort field"}}, "error": 1403}`)

	// The SDK pages through a list.
	res, err := adm.ListUsers(ctx, client.ListOptions{Sort: "-id", Limit: 2, Offset: 1, Select: []string{"username"}})
	if err != nil || res.TotalAffectedItems != 5 || len(res.AffectedItems) != 2 || res.AffectedItems[0].Username != "adam" {
		t.Fatalf("%+v %v", res, err)
	}
	if got := len(e.Security.Users()); got != 5 || core.MaxReservedID != 99 {
		t.Fatal(got)
	}
}
