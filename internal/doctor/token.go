package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/muster-project/muster/client"
)

// tokenUse uses the fresh token on GET / and reads the security configuration;
// with Options.Token it then diagnoses that token.
func (p *probe) tokenUse(ctx context.Context) Step {
	a, err := p.do(ctx, http.MethodGet, "/", nil, bearer(p.token))
	if err != nil {
		return p.transportFailure("GET / with the token", err, nil)
	}
	var ev []string
	var notes []Step
	if a.status == http.StatusUnauthorized {
		first := a.problem(http.MethodGet, "/")
		ev = append(ev, a.describe("GET / with the fresh token"), "answer: "+first.Error())
		// One more login tells a revocation that raced the first token from a persistent refusal.
		tok, _, lerr := p.fetchToken(ctx)
		var again *answer
		if lerr == nil && tok != "" {
			again, lerr = p.do(ctx, http.MethodGet, "/", nil, bearer(tok))
		}
		if lerr != nil || again == nil || again.status != http.StatusOK {
			return fail("the manager refuses a token it issued a moment ago ("+first.Detail+"), and a second one too",
				freshRefusalFix(first.Detail), ev...)
		}
		p.token, a = tok, again
		notes = append(notes, warn("the first token was refused ("+first.Detail+") but a second one works: tokens were revoked between the login and its use",
			"something revokes tokens often (PUT /security/user/revoke, logouts, security configuration changes): clients using the SDK recover by themselves"))
	}
	if a.status != http.StatusOK {
		e := a.problem(http.MethodGet, "/")
		return fail(fmt.Sprintf("GET / with a valid token answered %d %s: %s", a.status, e.Title, e.Detail),
			orDefault(e.Remediation, "check the manager's logs"), a.describe("GET / with the token"))
	}
	var root struct {
		Data client.APIInfo `json:"data"`
	}
	if err := json.Unmarshal(a.body, &root); err != nil {
		return fail("GET / answered 200 but not with the API's JSON: "+err.Error(),
			"a proxy may rewrite answers: test the manager directly", a.describe("GET / with the token"), "body starts with "+snippet(a.body))
	}
	info := root.Data
	ev = append(ev, fmt.Sprintf("GET / with the token: title %q, api_version %q, hostname %q, manager time %s",
		info.Title, info.APIVersion, info.Hostname, info.Timestamp))
	if ts, err := time.Parse(time.RFC3339, info.Timestamp); err == nil {
		p.skew = ts.Sub(p.o.Now()).Truncate(time.Second)
		if p.skew.Abs() > time.Minute {
			ev = append(ev, fmt.Sprintf("the manager's clock differs from this machine's by %s (the SDK times tokens on the local clock, so this does not break it)", p.skew))
		}
	}
	p.readSecurityConfig(ctx)
	ev = append(ev, p.secCfgNote)
	if !strings.HasPrefix(info.Title, "Wazuh API") {
		notes = append(notes, warn(fmt.Sprintf("the API's title is %q, not \"Wazuh API REST\"", info.Title),
			"check that this is a Wazuh 4.x API; other versions may answer differently"))
	}
	if life := time.Duration(p.claims.ExpiresAt-p.claims.NotBefore) * time.Second; life > 0 && life < time.Minute {
		notes = append(notes, warn(fmt.Sprintf("tokens last only %s: long scans log in again and again", life),
			"raise auth_token_exp_timeout (PUT /security/config) to at least a few minutes"))
	}
	if p.o.Token != "" {
		s := p.diagnoseToken(ctx, p.o.Token)
		s.Evidence = append(ev, s.Evidence...)
		return s
	}
	if len(notes) > 0 {
		s := notes[0]
		s.Evidence = ev
		return s
	}
	return ok("a fresh token works", ev...)
}

// freshRefusalFix explains a brand-new token that the manager refuses.
func freshRefusalFix(detail string) string {
	switch {
	case strings.Contains(detail, "No authorization token"):
		return "the Authorization header does not reach the API: a proxy in between strips it; configure it to pass Authorization through"
	case strings.Contains(detail, "Token expired"):
		return "the security configuration the token was issued under differs from the one that checks it: a load balancer sends requests to cluster nodes with different security settings, or the configuration changes constantly"
	}
	return "requests reach another manager than the one that issued the token (a load balancer over cluster nodes that do not share api/configuration/security keys: make it sticky or share the keys), or, against Wazuh, the user's tokens were revoked in this very second (a password or role change: Wazuh's revocations cover every token issued up to the same second; wait a second and retry; muster orders them exactly), or something revokes every token at once"
}

// readSecurityConfig reads GET /security/config for the token diagnosis.
func (p *probe) readSecurityConfig(ctx context.Context) {
	a, err := p.do(ctx, http.MethodGet, "/security/config", nil, bearer(p.token))
	switch {
	case err != nil:
		p.secCfgNote = "security configuration: not read (" + err.Error() + ")"
	case a.status == http.StatusOK:
		var r struct {
			Data client.SecurityConfig `json:"data"`
		}
		if json.Unmarshal(a.body, &r) == nil {
			p.secCfg = &r.Data
			p.secCfgNote = fmt.Sprintf("security configuration: auth_token_exp_timeout %d s, rbac_mode %s", r.Data.AuthTokenExpTimeout, r.Data.RBACMode)
			return
		}
		p.secCfgNote = "security configuration: unreadable answer"
	default:
		p.secCfgNote = fmt.Sprintf("security configuration: not readable by %s (%d; needs security:read_config), token diagnosis relies on the token alone", p.o.User, a.status)
	}
}

// diagnoseToken tells whether a token works and, if not, whether it expired,
// was outdated by a security configuration change, or was revoked.
func (p *probe) diagnoseToken(ctx context.Context, tok string) Step {
	cl, cerr := client.ParseClaims(tok)
	if cerr != nil {
		return fail("the given token is not a Wazuh token: "+cerr.Error(), "pass the token exactly as the login returned it")
	}
	a, err := p.do(ctx, http.MethodGet, "/", nil, bearer(tok))
	if err != nil {
		return p.transportFailure("GET / with the given token", err, nil)
	}
	ev := []string{a.describe("GET / with the given token"), fmt.Sprintf("token claims: sub %s, issued %s, expires %s, lifetime %d s, rbac_mode %s",
		cl.Subject, unix(cl.NotBefore), unix(cl.ExpiresAt), cl.ExpiresAt-cl.NotBefore, cl.RBACMode)}
	serverNow := p.o.Now().Add(p.skew)
	exp := time.Unix(cl.ExpiresAt, 0)
	if a.status == http.StatusOK {
		return ok(fmt.Sprintf("the given token works; it expires at %s (in %s)", exp.UTC().Format(time.RFC3339), exp.Sub(serverNow).Round(time.Second)), ev...)
	}
	e := a.problem(http.MethodGet, "/")
	ev = append(ev, "answer: "+e.Error())
	if a.status != http.StatusUnauthorized {
		return fail(fmt.Sprintf("the given token got %d %s", a.status, e.Title), orDefault(e.Remediation, "check the manager's logs"), ev...)
	}
	life := cl.ExpiresAt - cl.NotBefore
	switch {
	case cl.ExpiresAt > 0 && !serverNow.Before(exp):
		return fail(fmt.Sprintf("the given token expired at %s, %s ago (it was valid for %d s)", exp.UTC().Format(time.RFC3339),
			serverNow.Sub(exp).Round(time.Second), life),
			"log in again; a long job must renew its token before exp (the muster SDK does this by itself), or raise auth_token_exp_timeout", ev...)
	case p.secCfg != nil && (p.secCfg.RBACMode != cl.RBACMode || int64(p.secCfg.AuthTokenExpTimeout) != life),
		strings.Contains(e.Detail, "Token expired"):
		now := "unknown now"
		if p.secCfg != nil {
			now = fmt.Sprintf("now rbac_mode %s, lifetime %d s", p.secCfg.RBACMode, p.secCfg.AuthTokenExpTimeout)
		}
		return fail(fmt.Sprintf("the security configuration changed after the token was issued (token: rbac_mode %s, lifetime %d s; %s): every change revokes all tokens",
			cl.RBACMode, life, now), "log in again; the SDK does it by itself on the next 401", ev...)
	}
	return fail(fmt.Sprintf("the given token was revoked: it is within its lifetime (expires in %s) and matches the security configuration, yet the manager refuses it",
		exp.Sub(serverNow).Round(time.Second)),
		fmt.Sprintf("something invalidated it: PUT /security/user/revoke, a logout, a change of user %s's password, roles or policies, or new signing keys on the manager (a restart without a persistent security directory, or another cluster node); log in again", cl.Subject),
		ev...)
}

func unix(s int64) string {
	if s <= 0 {
		return "?"
	}
	return time.Unix(s, 0).UTC().Format(time.RFC3339)
}
