package doctor_test

import (
	"context"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/doctor"
)

// against runs the doctor against a real muster server, trusting its certificate.
func against(t *testing.T, e *apitest.Env, mod func(*doctor.Options)) *doctor.Report {
	t.Helper()
	ca := writeFile(t, "server.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.Server.Certificate().Raw}))
	return diagnose(t, e.URL, func(o *doctor.Options) {
		o.CAFiles, o.Now = []string{ca}, e.Clock.Now
		if mod != nil {
			mod(o)
		}
	})
}

// stepStatus returns the status of a named step, or "" when it did not run.
func stepStatus(r *doctor.Report, name string) doctor.Status { return step(r, name).Status }

// step returns the named step, or a zero Step when it did not run.
func step(r *doctor.Report, name string) doctor.Step {
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	return doctor.Step{}
}

func TestRealServerHealthyPath(t *testing.T) {
	e := apitest.Start(t)
	r := against(t, e, nil)
	for _, step := range []string{"url", "dns", "tcp", "tls", "http", "login", "token"} {
		if st := stepStatus(r, step); st != doctor.OK {
			t.Fatalf("step %s: %s\n%s", step, st, dump(r))
		}
	}
	perm := r.Steps[len(r.Steps)-1]
	if perm.Name != "permissions" {
		t.Fatalf("last step %s\n%s", perm.Name, dump(r))
	}
	if perm.Status == doctor.Fail || r.ExitCode() != 0 || !strings.Contains(strings.Join(perm.Evidence, " "), "GET /agents: 200") {
		t.Fatalf("permissions:\n%s", dump(r))
	}
	if !strings.Contains(strings.Join(step(r, "token").Evidence, " "), "auth_token_exp_timeout 900 s, rbac_mode white") {
		t.Errorf("token evidence: %q", step(r, "token").Evidence)
	}
}

func TestRealServerWrongCA(t *testing.T) {
	e := apitest.Start(t)
	other := makeCert(t, certSpec{cn: "some other CA", ca: true}, nil)
	r := diagnose(t, e.URL, func(o *doctor.Options) { o.CAFiles = []string{writeFile(t, "ca.pem", other.pem)} })
	expectFailure(t, r, "tls", "self-signed certificate is not the one in --ca (wrong CA file)", "--ca <data-dir>/ssl/server.crt")
}

func TestRealServerLoginFaults(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxLoginAttempts, c.API.Access.BlockTime = 2, 120 })
	expectFailure(t, against(t, e, func(o *doctor.Options) { o.Password = "wrong" }), "login",
		`rejected the password of user "wazuh" (401 Invalid credentials)`, "do not retry in a loop")
	against(t, e, func(o *doctor.Options) { o.Password = "wrong" }) // the second failure reaches the limit
	expectFailure(t, against(t, e, nil), "login", "logins from this IP address are blocked", "old wazuh-wui password")
	e.Clock.Advance(121 * time.Second)
	if r := against(t, e, nil); stepStatus(r, "login") != doctor.OK {
		t.Fatalf("after block_time:\n%s", dump(r))
	}
}

func TestRealServerRateLimit(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 1 })
	s := expectFailure(t, against(t, e, nil), "login", "rate limited", "max_request_per_minute")
	if !strings.Contains(s.Summary, "retry in 1m0s") {
		t.Errorf("retry time not shown: %q", s.Summary)
	}
}

// Tokens that stopped working: expired, outdated by a configuration change, revoked.
func TestRealServerTokenDiagnosis(t *testing.T) {
	ctx := context.Background()
	e := apitest.Start(t)
	tok, err := e.Admin().Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := against(t, e, func(o *doctor.Options) { o.Token = tok }); step(r, "token").Status != doctor.OK ||
		!strings.Contains(step(r, "token").Summary, "the given token works") {
		t.Fatalf("valid token:\n%s", dump(r))
	}
	e.Clock.Advance(901 * time.Second)
	expectFailure(t, against(t, e, func(o *doctor.Options) { o.Token = tok }), "token",
		"the given token expired at 2026-01-01T12:15:00Z, 1s ago (it was valid for 900 s)", "log in again")

	tok, _ = e.Admin().Token(ctx)
	if err := e.Security.RevokeAll(ctx); err != nil {
		t.Fatal(err)
	}
	expectFailure(t, against(t, e, func(o *doctor.Options) { o.Token = tok }), "token",
		"the given token was revoked", "PUT /security/user/revoke")

	tok, _ = e.Admin().Token(ctx)
	black := "black"
	if err := e.Security.UpdateConfig(ctx, nil, &black); err != nil {
		t.Fatal(err)
	}
	expectFailure(t, against(t, e, func(o *doctor.Options) { o.Token = tok }), "token",
		"the security configuration changed after the token was issued (token: rbac_mode white, lifetime 900 s; now rbac_mode black, lifetime 900 s)", "log in again")
}

// A user without the needed permission, created through the SDK: the doctor
// names the missing action and resource.
func TestRealServerMissingPermission(t *testing.T) {
	ctx := context.Background()
	e := apitest.Start(t)
	admin := e.Admin()
	u, err := admin.CreateUser(ctx, "watcher", "Watcher-Pass1!")
	if err != nil {
		t.Skipf("POST /security/users not served yet: %v", err)
	}
	if _, err := admin.AddUserRoles(ctx, u.ID, []int{6}, -1); err != nil { // cluster_readonly: manager:read only
		t.Fatal(err)
	}
	// The role change revokes the user's tokens issued up to this second (Wazuh's one-second resolution).
	e.Clock.Advance(time.Second)
	checks := append(doctor.DefaultChecks(), doctor.Check{Method: "GET", Path: "/security/config",
		Action: "security:read_config", Resource: "*:*:*", Role: "administrator (id 1)", Required: true,
		Why: "the doctor compares tokens with the security configuration"})
	r := against(t, e, func(o *doctor.Options) { o.User, o.Password, o.Checks = "watcher", "Watcher-Pass1!", checks[1:] })
	s := expectFailure(t, r, "permissions", "user watcher may not security:read_config on *:*:*", `{"actions": ["security:read_config"]`)
	if !strings.Contains(strings.Join(s.Evidence, " "), "policies for security:read_config: no rule (denied") {
		t.Errorf("evidence %q", s.Evidence)
	}
	// With the agent check first: refused (403) once the registry is served, missing (404) before.
	r = against(t, e, func(o *doctor.Options) { o.User, o.Password = "watcher", "Watcher-Pass1!" })
	last := r.Steps[len(r.Steps)-1]
	if r.FirstFailure != "permissions" || !(strings.Contains(last.Summary, "user watcher may not agent:read on agent:id:*") ||
		strings.Contains(last.Summary, "does not implement GET /agents")) {
		t.Fatalf("agent:read:\n%s", dump(r))
	}
}
