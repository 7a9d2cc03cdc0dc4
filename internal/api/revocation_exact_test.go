package api_test

import (
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
)

// TestRevocationIsExactWithinASecond pins a deliberate improvement over
// Wazuh: JWT times are whole seconds and Wazuh refuses every token whose nbf
// is at or before the second of a security change, so a login right after
// the change, in the same second, is refused. muster refuses the tokens
// issued before the change and accepts those issued after it, even within
// the same second. The injected clock stays inside one second throughout.
func TestRevocationIsExactWithinASecond(t *testing.T) {
	works := func(t *testing.T, e *apitest.Env, tok string) bool {
		t.Helper()
		x := do(t, e, "GET", "/security/users/me", bearer(tok), "")
		if x.status != 200 && x.status != 401 {
			t.Fatalf("GET /security/users/me: %d %s", x.status, x.body)
		}
		return x.status == 200
	}
	// setup makes user 100 ("scripted", role 1) and returns an admin header.
	setup := func(t *testing.T) (*apitest.Env, map[string]string) {
		e := apitest.Start(t)
		admin := bearer(token(t, e, "wazuh", "wazuh"))
		admin["Content-Type"] = "application/json"
		if x := do(t, e, "POST", "/security/users", admin, `{"username":"scripted","password":"Script-Pass1!"}`); x.status != 200 {
			t.Fatalf("create user: %d %s", x.status, x.body)
		}
		e.Clock.Advance(time.Second) // the creation's second is over
		return e, admin
	}
	cases := []struct {
		name        string
		before      bool // a role is linked before the first login
		change      func(t *testing.T, e *apitest.Env, admin map[string]string) exchange
		newPassword string
	}{
		{name: "role assignment", change: func(t *testing.T, e *apitest.Env, admin map[string]string) exchange {
			return do(t, e, "POST", "/security/users/100/roles?role_ids=1", admin, "")
		}},
		{name: "password change", before: true, newPassword: "Script-Pass2!",
			change: func(t *testing.T, e *apitest.Env, admin map[string]string) exchange {
				return do(t, e, "PUT", "/security/users/100", admin, `{"password":"Script-Pass2!"}`)
			}},
		{name: "security config", before: true, change: func(t *testing.T, e *apitest.Env, admin map[string]string) exchange {
			return do(t, e, "PUT", "/security/config", admin, `{"auth_token_exp_timeout":1200}`)
		}},
		{name: "run_as change", before: true, change: func(t *testing.T, e *apitest.Env, admin map[string]string) exchange {
			return do(t, e, "PUT", "/security/users/100/run_as?allow_run_as=true", admin, "")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, admin := setup(t)
			if tc.before {
				if x := do(t, e, "POST", "/security/users/100/roles?role_ids=1", admin, ""); x.status != 200 {
					t.Fatalf("link role: %d %s", x.status, x.body)
				}
				e.Clock.Advance(time.Second)
			}
			if e.Clock.Now().Nanosecond() != 0 {
				t.Fatalf("clock not on a second: %v", e.Clock.Now())
			}
			e.Clock.Advance(100 * time.Millisecond)
			old := token(t, e, "scripted", "Script-Pass1!")
			if tc.before && !works(t, e, old) {
				t.Fatal("the token issued before the change did not work before it")
			}
			e.Clock.Advance(100 * time.Millisecond)
			if x := tc.change(t, e, admin); x.status != 200 {
				t.Fatalf("change: %d %s", x.status, x.body)
			}
			e.Clock.Advance(100 * time.Millisecond)
			pass := "Script-Pass1!"
			if tc.newPassword != "" {
				pass = tc.newPassword
			}
			fresh := token(t, e, "scripted", pass)
			if works(t, e, old) {
				t.Error("a token issued before the change, in its second, still works")
			}
			if !works(t, e, fresh) {
				t.Error("a token issued after the change, in its second, is refused")
			}
			// A second change in the same second refuses the fresh token too.
			e.Clock.Advance(100 * time.Millisecond)
			if x := do(t, e, "PUT", "/security/users/100/run_as?allow_run_as=false", bearer(token(t, e, "wazuh", "wazuh")), ""); x.status != 200 {
				t.Fatalf("second change: %d %s", x.status, x.body)
			}
			if works(t, e, fresh) {
				t.Error("a token issued before a second change in the same second still works")
			}
			// Later seconds change nothing: refused tokens stay refused.
			e.Clock.Advance(2 * time.Second)
			if works(t, e, old) || works(t, e, fresh) {
				t.Error("a refused token works again in a later second")
			}
			if !works(t, e, token(t, e, "scripted", pass)) {
				t.Error("a token of a later second is refused")
			}
		})
	}
}

// TestLogoutThenLoginInTheSameSecond: DELETE /security/user/authenticate
// refuses the tokens issued so far; a new login in the same second works.
func TestLogoutThenLoginInTheSameSecond(t *testing.T) {
	e := apitest.Start(t)
	e.Clock.Advance(100 * time.Millisecond)
	old := token(t, e, "wazuh", "wazuh")
	if x := do(t, e, "DELETE", "/security/user/authenticate", bearer(old), ""); x.status != 200 {
		t.Fatalf("logout: %d %s", x.status, x.body)
	}
	e.Clock.Advance(100 * time.Millisecond)
	fresh := token(t, e, "wazuh", "wazuh")
	if x := do(t, e, "GET", "/security/users/me", bearer(old), ""); x.status != 401 {
		t.Errorf("old token after logout: %d %s", x.status, x.body)
	}
	if x := do(t, e, "GET", "/security/users/me", bearer(fresh), ""); x.status != 200 {
		t.Errorf("token issued after logout, same second: %d %s", x.status, x.body)
	}
}
