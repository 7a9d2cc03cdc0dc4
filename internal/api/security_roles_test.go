package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
)

const adminRole = `{"id": 1, "name": "administrator", "policies": [1, 2, 3, 6, 7, 8, 29, 30, 12, 14, 15, 18, 19, 21, 23, 24, 16, 25, 27, 28, 33, 34, 35], "users": [1, 2], "rules": [1, 2]}`

func TestRolesCRUD(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	tok := secAdminToken(t, e)
	h, jh := bearer(tok), secJSONAuth(tok)
	expectBody(t, do(t, e, "GET", "/security/roles?role_ids=1,999", h, ""), 200,
		secItems(adminRole, 1, []string{secFailed(4002, "999")}, "Some roles were not returned"))
	long := strings.Repeat("r", 65)
	for _, c := range []struct{ body, want string }{
		{`{}`, secBadRequest("'name' is a required property")},
		{`{"name": "` + long + `"}`, secBadRequest("'" + long + "' is too long - 'name'")},
		{`{"name": "bad name"}`, secBadRequest("'bad name' is not a 'names' - 'name'")},
		{`{"name": ["x"]}`, secBadRequest("['x'] is not of type 'string' - 'name'")},
		{`{"name": "ok", "policies": [1]}`, secBadRequest("Invalid field found {'policies'}")},
	} {
		expectBody(t, do(t, e, "POST", "/security/roles", jh, c.body), 400, c.want)
	}
	expectBody(t, do(t, e, "POST", "/security/roles", jh, `{"name": "normal"}`), 200,
		secItems(secRole(100, "normal", "", "", ""), 1, nil, "Role was successfully created"))
	expectBody(t, do(t, e, "POST", "/security/roles", jh, `{"name": "normal"}`), 200,
		secItems("", 0, []string{secFailed(4005, `"normal"`)}, "Role was not created"))
	expectBody(t, do(t, e, "POST", "/security/roles", jh, `{"name": "other"}`), 200,
		secItems(secRole(101, "other", "", "", ""), 1, nil, "Role was successfully created"))

	expectBody(t, do(t, e, "PUT", "/security/roles/100", jh, `{}`), 400, secProblem(400, 4001, "node01"))
	expectBody(t, do(t, e, "PUT", "/security/roles/1", jh, `{"name": "x"}`), 200,
		secItems("", 0, []string{secFailed(4008, "1")}, "Role was not updated"))
	expectBody(t, do(t, e, "PUT", "/security/roles/50", jh, `{"name": "x"}`), 200,
		secItems("", 0, []string{secFailed(4002, "50")}, "Role was not updated"))
	expectBody(t, do(t, e, "PUT", "/security/roles/100", jh, `{"name": "other"}`), 200,
		secItems("", 0, []string{secFailed(4005, "100")}, "Role was not updated"))
	expectBody(t, do(t, e, "PUT", "/security/roles/100", jh, `{"name": "normal"}`), 200,
		secItems(secRole(100, "normal", "", "", ""), 1, nil, "Role was successfully updated"))
	expectBody(t, do(t, e, "PUT", "/security/roles/abc", jh, `{"name": "x"}`), 400,
		secBadRequest("'abc' is not a 'numbers'. Failed validating 'format' in schema: {'description': 'Role ID', 'format': 'numbers', 'type': 'string'}. On instance: 'abc'"))

	expectBody(t, do(t, e, "DELETE", "/security/roles?role_ids=101,1,50,999,101", h, ""), 200,
		secItems(secRole(101, "other", "", "", ""), 1, []string{secFailed(4002, "101, 999"), secFailed(4008, "1, 50")}, "Some roles were not deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/roles?role_ids=all", h, ""), 200,
		secItems(secRole(100, "normal", "", "", ""), 1, nil, "All specified roles were deleted"))
	expectBody(t, do(t, e, "DELETE", "/security/roles?role_ids=all", h, ""), 200, secItems("", 0, nil, "No role was deleted"))
	if x := do(t, e, "DELETE", "/security/roles?role_ids=1x", h, ""); x.status != 400 {
		t.Fatalf("%d", x.status)
	}
}

// TestRoleChangesRevoke covers the revocations of security.md §2.4 that
// go through roles: renaming or deleting a role, changing its policies.
func TestRoleChangesRevoke(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	mk := func(name string) string {
		return secScoped(t, e, name, allowPolicy(strs("security:read"), strs("user:id:*", "role:id:"+name)))
	}
	check := func(tok string, want int) {
		t.Helper()
		if x := do(t, e, "GET", "/security/users", bearer(tok), ""); x.status != want {
			t.Fatalf("status %d, want %d: %s", x.status, want, x.body)
		}
	}
	a, b := mk("anna"), mk("bend") // roles 100 and 101, policies 100 and 101
	check(a, 200)
	check(b, 200)
	if _, err := adm.UpdateRole(ctx, 100, "anna_role2"); err != nil {
		t.Fatal(err)
	}
	check(a, 401)
	check(b, 200)
	e.Clock.Advance(time.Second)
	a = token(t, e, "anna", "Passw0rd!x")
	if _, err := adm.AddRolePolicies(ctx, 101, []int{4}, -1); err != nil {
		t.Fatal(err)
	}
	check(b, 401)
	check(a, 200)
	e.Clock.Advance(time.Second)
	b = token(t, e, "bend", "Passw0rd!x")
	if _, err := adm.UpdatePolicy(ctx, 100, "renamed", nil); err != nil {
		t.Fatal(err)
	}
	check(a, 401)
	check(b, 200)
	e.Clock.Advance(time.Second)
	a = token(t, e, "anna", "Passw0rd!x")
	if _, err := adm.DeletePolicies(ctx, []int{101}); err != nil {
		t.Fatal(err)
	}
	check(b, 401)
	check(a, 200)
	e.Clock.Advance(time.Second)
	b = token(t, e, "bend", "Passw0rd!x")
	if _, err := adm.RemoveRolePolicies(ctx, 101, []int{4}); err != nil {
		t.Fatal(err)
	}
	check(b, 401)
	e.Clock.Advance(time.Second)
	b = token(t, e, "bend", "Passw0rd!x")
	// ben's role has no policy left: white mode denies, the list is empty.
	expectBody(t, do(t, e, "GET", "/security/users", bearer(b), ""), 200, secItems("", 0, nil, "No user was returned"))
	if _, err := adm.DeleteRoles(ctx, []int{100}); err != nil {
		t.Fatal(err)
	}
	check(a, 401)
	check(b, 200)
	// A user with no roles left still logs in, with no roles, and is still
	// subject to revocations.
	e.Clock.Advance(time.Second)
	a = token(t, e, "anna", "Passw0rd!x")
	if p := tokenClaims(t, a)["rbac_roles"]; len(p.([]any)) != 0 {
		t.Fatalf("roles %v", p)
	}
	expectBody(t, do(t, e, "DELETE", "/security/user/authenticate", bearer(a), ""), 200,
		`{"message": "User anna was successfully logged out", "error": 0}`)
	check(a, 401)
}
