package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/config"
)

const runAsPath = "/security/user/authenticate/run_as"

// runAsToken logs in with an authorization context and returns the token.
func secRunAsToken(t *testing.T, e *apitest.Env, user, pass, body string) string {
	t.Helper()
	h := basic(user, pass)
	h["Content-Type"] = "application/json"
	x := do(t, e, "POST", runAsPath, h, body)
	if x.status != 200 {
		t.Fatalf("run_as %s %s: %d %s", user, body, x.status, x.body)
	}
	var v struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(x.body, &v); err != nil {
		t.Fatal(err)
	}
	return v.Data.Token
}

// payload decodes a token's claims without checking it.
func tokenClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunAsLogin(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t)
	ctx := context.Background()
	roles := func(tok string) string {
		b, _ := json.Marshal(tokenClaims(t, tok)["rbac_roles"])
		return string(b)
	}
	// Wazuh's official cases: the default rules make wazuh-wui an administrator.
	for body, want := range map[string]string{
		`{"username": "elastic"}`:               "[1]",
		`{"user_name": "admin"}`:                "[1]",
		`{"user_name": "someone-else"}`:         "[]",
		`{"nested": {"user_name": "admin"}}`:    "[1]",
		`{}`:                                    "[1]",
		`{"username": ["elastic", "other"]}`:    "[1]",
		`{"username": 5}`:                       "[]",
		`{"x": {"y": {"username": "elastic"}}}`: "[1]",
	} {
		if got := roles(secRunAsToken(t, e, "wazuh-wui", "wazuh-wui", body)); got != want {
			t.Errorf("wazuh-wui %s: roles %s, want %s", body, got, want)
		}
	}
	// Default rules count only for wazuh-wui.
	if got := roles(secRunAsToken(t, e, "wazuh", "wazuh", `{"username": "elastic"}`)); got != "[]" {
		t.Errorf("wazuh with the elastic context: %s", got)
	}
	claims := tokenClaims(t, secRunAsToken(t, e, "wazuh-wui", "wazuh-wui", `{"username": "elastic"}`))
	want, _ := auth.HashAuthContext([]byte(`{"username": "elastic"}`))
	if claims["run_as"] != true || claims["hash_auth_context"] != want || len(want) != 32 {
		t.Errorf("claims %v", claims)
	}
	// A user rule grants its role to a run_as user; the user's own roles do not count.
	adm := secAdmin(t, e)
	u, _ := adm.CreateUser(ctx, "alice", "Alice-Pass1!")
	web, _ := adm.CreateRole(ctx, "web-operator")
	audit, _ := adm.CreateRole(ctx, "auditor")
	r1, _ := adm.CreateRule(ctx, "web-team-ldap", map[string]any{"FIND": map[string]any{"groups": []any{"web-team"}}})
	r2, _ := adm.CreateRule(ctx, "audit-department", map[string]any{"MATCH": map[string]any{"department": "audit"}})
	adm.AddRoleRules(ctx, web.ID, []int{r1.ID})
	adm.AddRoleRules(ctx, audit.ID, []int{r2.ID})
	adm.AddUserRoles(ctx, u.ID, []int{audit.ID}, -1)
	h := basic("alice", "Alice-Pass1!")
	expectBody(t, do(t, e, "POST", runAsPath, h, `{"groups": ["web-team"]}`), 403,
		`{"title": "Permission Denied", "detail": "The current user does not have authentication enabled through authorization context", `+
			`"remediation": "You can enable it using the following endpoint: https://documentation.wazuh.com/4.14/user-manual/api/reference.html#operation/api.controllers.security_controller.edit_run_as", `+
			`"dapi_errors": {"node01": {"error": "The current user does not have authentication enabled through authorization context"}}, "error": 6004}`)
	// An empty context is a plain login with the user's roles, run_as or not.
	if got := roles(secRunAsToken(t, e, "alice", "Alice-Pass1!", `{}`)); got != "[101]" {
		t.Errorf("alice {}: %s", got)
	}
	if _, err := adm.SetUserRunAs(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	for body, want := range map[string]string{
		`{"groups": ["web-team"]}`:                        "[100]",
		`{"department": "audit"}`:                         "[101]",
		`{"department": "audit", "groups": ["web-team"]}`: "[100, 101]",
		`{"x": 1}`:                "[]",
		`{"username": "elastic"}`: "[]",
	} {
		tok := secRunAsToken(t, e, "alice", "Alice-Pass1!", body)
		if got := roles(tok); strings.ReplaceAll(got, ",", ", ") != want {
			t.Errorf("alice %s: %s, want %s", body, got, want)
		}
		if x := do(t, e, "GET", "/security/users/me", bearer(tok), ""); x.status != 200 {
			t.Errorf("run_as token rejected: %d %s", x.status, x.body)
		}
	}
}

func TestRunAsBadRequests(t *testing.T) {
	t.Parallel()
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxLoginAttempts = 3 })
	h := basic("wazuh-wui", "wazuh-wui")
	h["Content-Type"] = "application/json"
	big := `{"a": "` + strings.Repeat("x", 8200) + `"}`
	tooLarge := `{"title": "Request Entity Too Large", "detail": "Auth context payload exceeds the maximum allowed size of 8192 bytes.", "error": 413}`
	// Checked before the credentials, and not counted as a failed login.
	for i := 0; i < 4; i++ {
		expectBody(t, do(t, e, "POST", runAsPath, basic("wazuh-wui", "wrong"), big), 413, tooLarge)
	}
	expectBody(t, do(t, e, "POST", runAsPath, h, big), 413, tooLarge)
	if x := do(t, e, "POST", runAsPath, h, `{"a": "`+strings.Repeat("x", 8192-9)+`"}`); x.status != 200 {
		t.Fatalf("8192 bytes: %d %s", x.status, x.body)
	}
	ct := map[string]string{"Authorization": h["Authorization"], "Content-Type": "text/plain"}
	expectBody(t, do(t, e, "POST", runAsPath, ct, `{}`), 415,
		`{"title": "Unsupported Media Type", "detail": "Invalid Content-type (text/plain), expected ['application/json']"}`)
	expectBody(t, do(t, e, "POST", runAsPath, h, ``), 400, secBadRequest("Request body must not be empty"))
	expectBody(t, do(t, e, "POST", runAsPath, h, `hello`), 400, secBadRequest("Expecting value: line 1 column 1 (char 0)"))
	expectBody(t, do(t, e, "POST", runAsPath, h, `[1, "a"]`), 400, secBadRequest("[1, 'a'] is not of type 'object'"))
	// No Content-Type at all is taken as JSON (Wazuh's document says otherwise).
	if x := rawDo(t, e, "POST", runAsPath+"?raw=true", basic("wazuh-wui", "wazuh-wui"), `{"username": "elastic"}`); x.status != 200 ||
		x.header.Get("Content-Type") != "text/plain" || tokenClaims(t, string(x.body))["sub"] != "wazuh-wui" {
		t.Fatalf("no Content-Type, raw: %d %s", x.status, x.body)
	}
	expectBody(t, do(t, e, "POST", runAsPath+"?pretty=1", h, `{}`), 400,
		secBadRequest("Extra query parameter(s) pretty not in spec"))
	// Bad credentials: 401 first, whatever the body, and counted.
	for i := 0; i < 3; i++ {
		expectBody(t, do(t, e, "POST", runAsPath, basic("wazuh-wui", "bad"), `[]`), 401,
			`{"title": "Unauthorized", "detail": "Invalid credentials"}`)
	}
	x := do(t, e, "POST", runAsPath, h, `{}`)
	if x.status != 403 || !strings.Contains(string(x.body), `"error": 6000`) {
		t.Fatalf("after 3 failures: %d %s", x.status, x.body)
	}
	if x := do(t, e, "POST", "/security/user/authenticate", h, ""); x.status != 403 {
		t.Fatalf("the block covers both login paths: %d", x.status)
	}
}
