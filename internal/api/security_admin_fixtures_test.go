package api_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

const secFixtures = "../../../shared/fixtures/wazuh-4.14.7/api-responses/"

// fixtureBody reads one recorded answer of the real Wazuh 4.14.7 API and
// renders its body the way Wazuh sends it (Python's separators, keys in
// recorded order).
func secFixtureBody(t *testing.T, name string) (request string, status int, body string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(secFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Request string          `json:"request"`
		Status  int             `json:"status"`
		Body    json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Request, f.Status, secPyCompact(t, f.Body)
}

// pyCompact re-renders JSON with Python's separators, keeping key order.
func secPyCompact(t *testing.T, raw []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	var value func() error
	value = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch v := tok.(type) {
		case json.Delim:
			closing := map[json.Delim]string{'{': "}", '[': "]"}[v]
			b.WriteString(v.String())
			for i := 0; dec.More(); i++ {
				if i > 0 {
					b.WriteString(", ")
				}
				if v == '{' {
					k, _ := dec.Token()
					b.WriteString(secQuote(k.(string)) + ": ")
				}
				if err := value(); err != nil {
					return err
				}
			}
			dec.Token()
			b.WriteString(closing)
		case string:
			b.WriteString(secQuote(v))
		case json.Number:
			b.WriteString(v.String())
		case bool:
			b.WriteString(map[bool]string{true: "true", false: "false"}[v])
		case nil:
			b.WriteString("null")
		}
		return nil
	}
	if err := value(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestFixtureState rebuilds, through the API, the RBAC state of the
// recorded Wazuh 4.14.7 manager (custom users, roles, policies and rules
// on top of the factory defaults) and compares muster's answers with the
// real ones, byte for byte.
func TestFixtureState(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	adm := secAdmin(t, e)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The "testing" user Wazuh's test suites insert by hand (id 99, role 1).
	secInsertUser(t, e, core.User{ID: 99, Username: "testing", CreatedAt: "1970-01-01 00:00:00"})
	err := e.Store.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
		return tx.InsertLink(core.UserRolesTable, core.Link{From: 99, To: 1})
	})
	must(nil, err)
	secReload(t, e)
	for _, u := range [][2]string{{"alice", "Alice-Pass1!"}, {"bobby", "Bobby-Pass2!"}, {"carol", "Carol-Pass3!"}} {
		must(adm.CreateUser(ctx, u[0], u[1]))
	}
	for _, p := range []struct {
		name string
		body client.PolicyBody
	}{
		{"web-agents-read", allowPolicy(strs("agent:read", "group:read"), strs("agent:group:web", "group:id:web"))},
		{"web-agents-restart", allowPolicy(strs("agent:restart"), strs("agent:group:web"))},
		{"no-agent-delete", denyPolicy(strs("agent:delete"), strs("agent:id:*"))},
		{"security-audit", allowPolicy(strs("security:read"), strs("user:id:*", "role:id:*", "policy:id:*", "rule:id:*"))},
	} {
		must(adm.CreatePolicy(ctx, p.name, p.body))
	}
	for _, r := range []string{"web-operator", "auditor", "scanner"} {
		must(adm.CreateRole(ctx, r))
	}
	must(adm.CreateRule(ctx, "web-team-ldap", map[string]any{"FIND": map[string]any{"groups": []any{"web-team"}}}))
	must(adm.CreateRule(ctx, "audit-department", map[string]any{"MATCH": map[string]any{"department": "audit"}}))
	must(adm.AddRolePolicies(ctx, 100, []int{100, 101}, -1))
	must(adm.AddRolePolicies(ctx, 100, []int{102}, 0))
	must(adm.AddRolePolicies(ctx, 101, []int{103, 100}, -1))
	must(adm.AddRolePolicies(ctx, 102, []int{100, 4, 5}, -1))
	must(adm.AddRoleRules(ctx, 100, []int{100}))
	must(adm.AddRoleRules(ctx, 101, []int{101}))
	must(adm.AddUserRoles(ctx, 100, []int{100, 101}, -1))
	must(adm.AddUserRoles(ctx, 101, []int{101}, -1))
	must(adm.AddUserRoles(ctx, 102, []int{102}, -1))
	must(adm.AddUserRoles(ctx, 102, []int{100}, 0))
	must(adm.SetUserRunAs(ctx, 100, true))
	e.Clock.Advance(time.Second)

	adminH := bearer(secAdminToken(t, e))
	alice := bearer(token(t, e, "alice", "Alice-Pass1!"))
	for _, c := range []struct {
		file string
		as   map[string]string
	}{
		{"security_users.json", adminH},
		{"security_roles_custom.json", adminH},
		{"security_policies_custom.json", adminH},
		{"security_rules.json", adminH},
		{"security_users_me_alice.json", alice},
		{"security_users_me_policies_alice.json", alice},
		{"security_users.json", alice}, // alice's security-audit policy reads every user
	} {
		t.Run(c.file, func(t *testing.T) {
			req, status, want := secFixtureBody(t, c.file)
			method, path, _ := strings.Cut(req, " ")
			expectBody(t, do(t, e, method, path, c.as, ""), status, want)
		})
	}
	// The run_as logins the recording describes.
	for body, want := range map[string]string{
		`{"groups": ["web-team"]}`: "[100]", `{"department": "audit"}`: "[101]",
		`{"groups": ["web-team"], "department": "audit"}`: "[100,101]", `{"x": 1}`: "[]",
	} {
		got, _ := json.Marshal(tokenClaims(t, secRunAsToken(t, e, "alice", "Alice-Pass1!", body))["rbac_roles"])
		if string(got) != want {
			t.Errorf("run_as %s: %s, want %s", body, got, want)
		}
	}
	h := basic("bobby", "Bobby-Pass2!")
	h["Content-Type"] = "application/json"
	if x := do(t, e, "POST", runAsPath, h, `{"department": "audit"}`); x.status != 403 {
		t.Errorf("bobby run_as: %d", x.status)
	}
}

// TestAdministratorPolicies compares GET /security/users/me/policies for
// the default administrator with security.md §5.4, byte for byte.
func TestAdministratorPolicies(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	groups := []struct {
		actions   string
		resources string
	}{
		{"agent:create group:create agent:uninstall", "*:*:*"},
		{"agent:read agent:delete agent:modify_group agent:reconnect agent:restart agent:upgrade", "agent:id:* agent:group:*"},
		{"group:read group:delete group:update_config group:modify_assignments", "group:id:*"},
		{"active-response:command", "agent:id:*"},
		{"security:create security:create_user security:read_config security:update_config security:revoke security:edit_run_as", "*:*:*"},
		{"security:read security:update security:delete", "role:id:* policy:id:* user:id:* rule:id:*"},
		{"cluster:status manager:read manager:read_api_config manager:update_config manager:restart", "*:*:*"},
		{"cluster:read_api_config cluster:read cluster:restart cluster:update_config", "node:id:*"},
		{"ciscat:read", "agent:id:*"},
		{"decoders:read decoders:delete", "decoder:file:*"},
		{"decoders:update", "*:*:*"},
		{"lists:read lists:delete", "list:file:*"},
		{"lists:update", "*:*:*"},
		{"rootcheck:clear rootcheck:read rootcheck:run", "agent:id:*"},
		{"rules:read rules:delete", "rule:file:*"},
		{"rules:update mitre:read", "*:*:*"},
		{"sca:read syscheck:clear syscheck:read syscheck:run syscollector:read", "agent:id:*"},
		{"logtest:run task:status event:ingest", "*:*:*"},
	}
	var parts []string
	for _, g := range groups {
		var res []string
		for _, r := range strings.Fields(g.resources) {
			res = append(res, `"`+r+`": "allow"`)
		}
		for _, a := range strings.Fields(g.actions) {
			parts = append(parts, `"`+a+`": {`+strings.Join(res, ", ")+`}`)
		}
	}
	want := `{"data": {` + strings.Join(parts, ", ") + `, "rbac_mode": "white"}, ` +
		`"message": "Current user processed policies information was returned", "error": 0}`
	expectBody(t, do(t, e, "GET", "/security/users/me/policies", bearer(secAdminToken(t, e)), ""), 200, want)
	// A token without roles.
	secAddUser(t, e, "nobody")
	secReload(t, e)
	expectBody(t, do(t, e, "GET", "/security/users/me/policies", bearer(token(t, e, "nobody", "Passw0rd!x")), ""), 200,
		`{"data": {"rbac_mode": "white"}, "message": "Current user processed policies information was returned", "error": 0}`)
}

// TestDefaultsMatchFactoryDatabase compares the four security lists of a
// fresh muster with the RBAC database a fresh Wazuh 4.14.7 creates.
func TestDefaultsMatchFactoryDatabase(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("sqlite", "file:../../../shared/fixtures/wazuh-4.14.7-factory/api/configuration/security/rbac.db?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	query := func(q string) [][]string {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][]string
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]string, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out = append(out, vals)
		}
		return out
	}
	links := func(q string) map[string]string {
		m := map[string]string{}
		for _, r := range query(q) {
			if m[r[0]] != "" {
				m[r[0]] += ", "
			}
			m[r[0]] += r[1]
		}
		return m
	}
	var users, roles, policies, rules []string
	userRoles := links(`SELECT user_id, role_id FROM user_roles ORDER BY level, id`)
	for _, r := range query(`SELECT id, username, allow_run_as FROM users ORDER BY id`) {
		users = append(users, `{"id": `+r[0]+`, "username": "`+r[1]+`", "allow_run_as": `+
			map[string]string{"1": "true", "0": "false"}[r[2]]+`, "roles": [`+userRoles[r[0]]+`]}`)
	}
	rolePolicies := links(`SELECT role_id, policy_id FROM roles_policies ORDER BY level, id`)
	roleUsers := links(`SELECT role_id, user_id FROM user_roles ORDER BY id`)
	roleRules := links(`SELECT role_id, rule_id FROM roles_rules ORDER BY id`)
	for _, r := range query(`SELECT id, name FROM roles ORDER BY id`) {
		roles = append(roles, `{"id": `+r[0]+`, "name": "`+r[1]+`", "policies": [`+rolePolicies[r[0]]+`], "users": [`+
			roleUsers[r[0]]+`], "rules": [`+roleRules[r[0]]+`]}`)
	}
	policyRoles := links(`SELECT policy_id, role_id FROM roles_policies ORDER BY id`)
	for _, r := range query(`SELECT id, name, policy FROM policies ORDER BY id`) {
		policies = append(policies, `{"id": `+r[0]+`, "name": "`+r[1]+`", "policy": `+r[2]+`, "roles": [`+policyRoles[r[0]]+`]}`)
	}
	ruleRoles := links(`SELECT rule_id, role_id FROM roles_rules ORDER BY id`)
	for _, r := range query(`SELECT id, name, rule FROM rules ORDER BY id`) {
		rules = append(rules, `{"id": `+r[0]+`, "name": "`+r[1]+`", "rule": `+r[2]+`, "roles": [`+ruleRoles[r[0]]+`]}`)
	}
	if len(users) != 2 || len(roles) != 7 || len(policies) != 35 || len(rules) != 2 {
		t.Fatalf("factory database: %d users, %d roles, %d policies, %d rules", len(users), len(roles), len(policies), len(rules))
	}

	e := apitest.Start(t)
	h := bearer(secAdminToken(t, e))
	for _, c := range []struct {
		path string
		want []string
		msg  string
	}{
		{"/security/users", users, "All specified users were returned"},
		{"/security/roles", roles, "All specified roles were returned"},
		{"/security/policies", policies, "All specified policies were returned"},
		{"/security/rules", rules, "All specified security rules were returned"},
	} {
		expectBody(t, do(t, e, "GET", c.path, h, ""), 200, secItems(strings.Join(c.want, ", "), len(c.want), nil, c.msg))
	}
}
