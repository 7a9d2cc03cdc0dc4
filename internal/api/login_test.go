package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
)

func TestLoginRawAndJSON(t *testing.T) {
	e := apitest.Start(t)
	raw := do(t, e, "POST", "/security/user/authenticate?raw=true", basic("wazuh", "wazuh"), "")
	if raw.status != 200 || raw.header.Get("Content-Type") != "text/plain" || strings.Count(string(raw.body), ".") != 2 {
		t.Fatalf("raw login: %d %q %s", raw.status, raw.header.Get("Content-Type"), raw.body)
	}
	js := do(t, e, "POST", "/security/user/authenticate", basic("wazuh", "wazuh"), "")
	if js.status != 200 || js.header.Get("Content-Type") != "application/json" {
		t.Fatalf("json login: %d %s", js.status, js.body)
	}
	if !strings.HasPrefix(string(js.body), `{"data": {"token": "ey`) || !strings.HasSuffix(string(js.body), `"}, "error": 0}`) {
		t.Fatalf("json login body: %s", js.body)
	}
}

func TestTokenClaims(t *testing.T) {
	e := apitest.Start(t)
	tok := token(t, e, "wazuh", "wazuh")
	parts := strings.Split(tok, ".")
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if string(head) != `{"alg":"ES512","typ":"JWT"}` {
		t.Errorf("header %s", head)
	}
	nbf := e.Clock.Now().Unix()
	want := `{"iss":"wazuh","aud":"Wazuh API REST","nbf":` + itoa(nbf) + `,"exp":` + itoa(nbf+900) +
		`,"sub":"wazuh","run_as":false,"rbac_roles":[1],"rbac_mode":"white"}`
	if string(payload) != want {
		t.Errorf("payload\n got %s\nwant %s", payload, want)
	}
	if len(sig) != 132 {
		t.Errorf("signature is %d bytes, want 132 (raw R||S of P-521)", len(sig))
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestDeprecatedGetLogin(t *testing.T) {
	e := apitest.Start(t)
	x := do(t, e, "GET", "/security/user/authenticate?raw=true", basic("wazuh", "wazuh"), "")
	if x.status != 200 || x.header.Get("Deprecated") != "true" ||
		!strings.Contains(x.header.Get("Link"), `rel="Deprecated"`) {
		t.Fatalf("GET login: %d %v", x.status, x.header)
	}
}

func TestLoginFailuresAreAllTheSame(t *testing.T) {
	e := apitest.Start(t)
	const invalid = `{"title": "Unauthorized", "detail": "Invalid credentials"}`
	cases := map[string]map[string]string{
		"wrong password":   basic("wazuh", "nope"),
		"unknown user":     basic("nobody", "wazuh"),
		"no header":        nil,
		"bearer on login":  bearer("abc"),
		"bad base64":       {"Authorization": "Basic !!!"},
		"no colon":         {"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("wazuh"))},
		"scheme only":      {"Authorization": "Basic"},
		"non-UTF-8 bytes":  {"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("wa\xffzuh:\xfe\xfd"))},
		"empty user":       basic("", "wazuh"),
		"case of username": basic("WAZUH", "wazuh"),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			x := do(t, e, "POST", "/security/user/authenticate", h, "")
			expectBody(t, x, 401, invalid)
			if x.header.Get("Content-Type") != "application/problem+json; charset=utf-8" {
				t.Errorf("content type %q", x.header.Get("Content-Type"))
			}
		})
	}
}

func TestLoginSchemeIsCaseInsensitive(t *testing.T) {
	e := apitest.Start(t)
	h := basic("wazuh", "wazuh")
	h["Authorization"] = strings.Replace(h["Authorization"], "Basic", "bAsIc", 1)
	if x := do(t, e, "POST", "/security/user/authenticate?raw=true", h, ""); x.status != 200 {
		t.Fatalf("lower-case scheme: %d %s", x.status, x.body)
	}
}

func TestLoginQueryValidatedAfterAuth(t *testing.T) {
	e := apitest.Start(t)
	// Bad credentials win over a bad parameter; good ones reveal it.
	x := do(t, e, "POST", "/security/user/authenticate?foo=1", basic("wazuh", "bad"), "")
	expectBody(t, x, 401, `{"title": "Unauthorized", "detail": "Invalid credentials"}`)
	x = do(t, e, "POST", "/security/user/authenticate?pretty=false", basic("wazuh", "wazuh"), "")
	expectBody(t, x, 400, `{"title": "Bad Request", "detail": "Extra query parameter(s) pretty not in spec"}`)
	x = do(t, e, "POST", "/security/user/authenticate?raw=maybe", basic("wazuh", "wazuh"), "")
	if x.status != 400 {
		t.Fatalf("raw=maybe: %d", x.status)
	}
	x = do(t, e, "POST", "/security/user/authenticate?raw=True", basic("wazuh", "wazuh"), "")
	if x.status != 200 || x.header.Get("Content-Type") != "text/plain" {
		t.Fatalf("raw=True: %d", x.status)
	}
}

func TestSDKLoginAndInfo(t *testing.T) {
	e := apitest.Start(t)
	c := e.Admin()
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Title != "Wazuh API REST" || info.APIVersion != "4.14.7" || info.Hostname != "muster-test" {
		t.Fatalf("info: %+v", info)
	}
	me, err := c.UsersMe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if me.Username != "wazuh" || me.ID != 1 || !me.AllowRunAs || len(me.Roles) != 1 || me.Roles[0].Name != "administrator" {
		t.Fatalf("me: %+v", me)
	}
	if c.Logins() != 1 {
		t.Fatalf("logins = %d, want 1", c.Logins())
	}
}

func TestRootBody(t *testing.T) {
	e := apitest.Start(t)
	x := do(t, e, "GET", "/", bearer(token(t, e, "wazuh", "wazuh")), "")
	want := `{"data": {"title": "Wazuh API REST", "api_version": "4.14.7", "revision": "rc1", "license_name": "GPL 2.0", ` +
		`"license_url": "https://github.com/wazuh/wazuh/blob/v4.14.7/LICENSE", "hostname": "muster-test", ` +
		`"timestamp": "2026-01-01T12:00:00Z"}, "error": 0}`
	expectBody(t, x, 200, want)
	x = do(t, e, "GET", "/?pretty=true", bearer(token(t, e, "wazuh", "wazuh")), "")
	if !strings.HasPrefix(string(x.body), "{\n   \"data\": {\n      \"title\": \"Wazuh API REST\",") {
		t.Fatalf("pretty body:\n%s", x.body)
	}
}

func TestTokenExpiresAfterTimeout(t *testing.T) {
	e := apitest.Start(t)
	tok := token(t, e, "wazuh", "wazuh")
	e.Clock.Advance(899 * time.Second)
	if x := do(t, e, "GET", "/", bearer(tok), ""); x.status != 200 {
		t.Fatalf("at exp-1: %d", x.status)
	}
	e.Clock.Advance(time.Second)
	expectBody(t, do(t, e, "GET", "/", bearer(tok), ""), 401, `{"title": "Unauthorized", "detail": "Invalid token"}`)
}
