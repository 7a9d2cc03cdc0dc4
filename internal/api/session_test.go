package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
)

func TestSecurityHeadersEverywhere(t *testing.T) {
	e := apitest.Start(t)
	want := map[string]string{
		"Server":                    "Wazuh",
		"Strict-Transport-Security": "max-age=63072000; includeSubdomains",
		"X-Frame-Options":           "deny",
		"X-Xss-Protection":          "0",
		"X-Content-Type-Options":    "nosniff",
		"Content-Security-Policy":   "none",
		"Referrer-Policy":           "no-referrer, strict-origin-when-cross-origin",
		"Cache-Control":             "no-store",
	}
	for _, x := range []exchange{
		do(t, e, "POST", "/security/user/authenticate?raw=true", basic("wazuh", "wazuh"), ""),
		do(t, e, "GET", "/", nil, ""),
		do(t, e, "GET", "/no/such/path", nil, ""),
		do(t, e, "PATCH", "/security/config", nil, ""),
	} {
		for k, v := range want {
			if got := x.header.Get(k); got != v {
				t.Errorf("status %d: %s = %q, want %q", x.status, k, got, v)
			}
		}
	}
}

func TestNotFoundAndMethodNotAllowedBeforeAuth(t *testing.T) {
	e := apitest.Start(t)
	expectBody(t, do(t, e, "GET", "/no/such/path", nil, ""), 404, `{"title": "Not Found", "detail": "404: Not Found"}`)
	expectBody(t, do(t, e, "POST", "/security/user/revoke", nil, ""), 405,
		`{"title": "Method Not Allowed", "detail": "405: Method Not Allowed"}`)
}

func TestLogoutRevokesThatUsersTokens(t *testing.T) {
	e := apitest.Start(t)
	a1 := token(t, e, "wazuh", "wazuh")
	wui := token(t, e, "wazuh-wui", "wazuh-wui")
	expectBody(t, do(t, e, "DELETE", "/security/user/authenticate", bearer(a1), ""), 200,
		`{"message": "User wazuh was successfully logged out", "error": 0}`)
	expectBody(t, do(t, e, "GET", "/", bearer(a1), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	if x := do(t, e, "GET", "/", bearer(wui), ""); x.status != 200 {
		t.Fatalf("other user's token: %d", x.status)
	}
	// Wazuh compares seconds: a token from the next second is fine.
	e.Clock.Advance(time.Second)
	if x := do(t, e, "GET", "/", bearer(token(t, e, "wazuh", "wazuh")), ""); x.status != 200 {
		t.Fatalf("new token after logout: %d", x.status)
	}
	if x := do(t, e, "DELETE", "/security/user/authenticate?pretty=true", bearer(wui), ""); x.status != 400 {
		t.Fatalf("logout takes no parameters: %d", x.status)
	}
}

func TestRevokeAll(t *testing.T) {
	e := apitest.Start(t)
	c := e.Admin()
	ctx := context.Background()
	wui := token(t, e, "wazuh-wui", "wazuh-wui")
	if err := c.RevokeAll(ctx); err != nil {
		t.Fatal(err)
	}
	expectBody(t, do(t, e, "GET", "/", bearer(wui), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	// The SDK notices, logs in once more and carries on.
	if _, err := c.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Logins() != 2 {
		t.Fatalf("logins = %d, want 2", c.Logins())
	}
}

func TestSecurityConfig(t *testing.T) {
	e := apitest.Start(t)
	tok := token(t, e, "wazuh", "wazuh")
	h := bearer(tok)
	expectBody(t, do(t, e, "GET", "/security/config", h, ""), 200,
		`{"data": {"auth_token_exp_timeout": 900, "rbac_mode": "white"}, "error": 0}`)
	jh := map[string]string{"Authorization": h["Authorization"], "Content-Type": "application/json"}
	bad := []struct{ name, body, detail string }{
		{"empty", "", "Request body must not be empty"},
		{"no properties", "{}", "{} does not have enough properties"},
		{"string timeout", `{"auth_token_exp_timeout": "abc"}`, "'abc' is not of type 'integer' - 'auth_token_exp_timeout'"},
		{"small timeout", `{"auth_token_exp_timeout": 10}`, "10 is less than the minimum of 30 - 'auth_token_exp_timeout'"},
		{"grey mode", `{"rbac_mode": "grey"}`, "'grey' is not one of ['white', 'black'] - 'rbac_mode'"},
		{"unknown key", `{"rbac_mode": "black", "foo": 1}`, "Invalid field found {'foo'}"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			expectBody(t, do(t, e, "PUT", "/security/config", jh, c.body), 400,
				`{"title": "Bad Request", "detail": "`+c.detail+`"}`)
		})
	}
	x := do(t, e, "PUT", "/security/config", map[string]string{"Authorization": h["Authorization"], "Content-Type": "text/plain"}, `{"rbac_mode": "black"}`)
	expectBody(t, x, 415, `{"title": "Unsupported Media Type", "detail": "Invalid Content-type (text/plain), expected ['application/json']"}`)
	x = do(t, e, "PUT", "/security/config", h, `{"rbac_mode": "black"}`)
	expectBody(t, x, 406, `{"title": "Not Acceptable", "detail": "The body type is not the one specified in the content-type", "error": 6002}`)
	// Nothing above changed the configuration or revoked the token.
	expectBody(t, do(t, e, "GET", "/security/config", h, ""), 200,
		`{"data": {"auth_token_exp_timeout": 900, "rbac_mode": "white"}, "error": 0}`)

	expectBody(t, do(t, e, "PUT", "/security/config", jh, `{"auth_token_exp_timeout": 3000}`), 200,
		`{"message": "Configuration was successfully updated", "error": 0}`)
	expectBody(t, do(t, e, "GET", "/security/config", h, ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
	tok2 := token(t, e, "wazuh", "wazuh")
	expectBody(t, do(t, e, "GET", "/security/config", bearer(tok2), ""), 200,
		`{"data": {"auth_token_exp_timeout": 3000, "rbac_mode": "white"}, "error": 0}`)
	// A partial update keeps the other field.
	jh["Authorization"] = "Bearer " + tok2
	do(t, e, "PUT", "/security/config", jh, `{"rbac_mode": "black"}`)
	tok3 := token(t, e, "wazuh", "wazuh")
	expectBody(t, do(t, e, "GET", "/security/config", bearer(tok3), ""), 200,
		`{"data": {"auth_token_exp_timeout": 3000, "rbac_mode": "black"}, "error": 0}`)
	expectBody(t, do(t, e, "DELETE", "/security/config", bearer(tok3), ""), 200,
		`{"message": "Configuration was successfully updated", "error": 0}`)
	expectBody(t, do(t, e, "GET", "/security/config", bearer(token(t, e, "wazuh", "wazuh")), ""), 200,
		`{"data": {"auth_token_exp_timeout": 900, "rbac_mode": "white"}, "error": 0}`)
}

func TestSecurityConfigThroughSDK(t *testing.T) {
	e := apitest.Start(t)
	c := e.Admin()
	ctx := context.Background()
	cfg, err := c.SecurityConfig(ctx)
	if err != nil || cfg.AuthTokenExpTimeout != 900 || cfg.RBACMode != "white" {
		t.Fatalf("config %+v %v", cfg, err)
	}
	cfg.AuthTokenExpTimeout = 60
	if err := c.UpdateSecurityConfig(ctx, *cfg); err != nil {
		t.Fatal(err)
	}
	// The change revoked the SDK's token; it logs in again by itself.
	got, err := c.SecurityConfig(ctx)
	if err != nil || got.AuthTokenExpTimeout != 60 {
		t.Fatalf("after update: %+v %v", got, err)
	}
	if c.Logins() != 2 {
		t.Fatalf("logins = %d, want 2", c.Logins())
	}
}

func TestBodyLimits(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) { c.API.MaxUploadSize = 64 })
	jh := bearer(token(t, e, "wazuh", "wazuh"))
	jh["Content-Type"] = "application/json"
	big := `{"rbac_mode": "` + strings.Repeat("a", 100) + `"}`
	x := do(t, e, "PUT", "/security/config", jh, big)
	if x.status != 413 || !strings.Contains(string(x.body), "Maximum content size limit (64) exceeded") {
		t.Fatalf("oversized body: %d %s", x.status, x.body)
	}
	x = do(t, e, "PUT", "/security/config", jh, `{"rbac_mode": `)
	if x.status != 400 {
		t.Fatalf("truncated JSON: %d %s", x.status, x.body)
	}
	x = do(t, e, "PUT", "/security/config", jh, `not json`)
	expectBody(t, x, 400, `{"title": "Bad Request", "detail": "Expecting value: line 1 column 1 (char 0)"}`)
	x = do(t, e, "PUT", "/security/config", jh, `[1, 2]`)
	if x.status != 400 {
		t.Fatalf("array body: %d %s", x.status, x.body)
	}
}

func TestDeepJSON(t *testing.T) {
	e := apitest.Start(t)
	jh := bearer(token(t, e, "wazuh", "wazuh"))
	jh["Content-Type"] = "application/json"
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	x := do(t, e, "PUT", "/security/config", jh, `{"rbac_mode": `+deep+`}`)
	expectBody(t, x, 400, `{"title": "Maximum recursion depth exceeded.", "detail": "The JSON structure of the request exceeds the maximum nesting depth allowed by the API."}`)
}
