package doctor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/client"
)

const loginPath = "/security/user/authenticate"

// login performs one login with the credentials, never more: every failure
// counts towards the manager's per-IP block.
func (p *probe) login(ctx context.Context) Step {
	if p.o.User == "" {
		return fail("no user name", "give --user (or MUSTER_USER)")
	}
	if p.o.Password == "" {
		return fail("no password", "set MUSTER_PASSWORD, or give --password-file FILE (the password is never required on the command line)")
	}
	tok, a, err := p.fetchToken(ctx)
	if err != nil {
		return p.transportFailure("POST "+loginPath, err, nil)
	}
	ev := []string{a.describe("POST " + loginPath + " as " + p.o.User)}
	if tok != "" {
		p.token = tok
		cl, cerr := client.ParseClaims(tok)
		if cerr != nil {
			return warn("logged in, but the token is not a JWT the client can read: "+cerr.Error(),
				"the client then assumes a short lifetime and refreshes often; check that this is a Wazuh 4.x API", ev...)
		}
		p.claims = cl
		return ok(fmt.Sprintf("logged in as %s: token valid for %s, rbac_mode %s, roles %v", cl.Subject,
			time.Duration(cl.ExpiresAt-cl.NotBefore)*time.Second, cl.RBACMode, cl.RBACRoles), ev...)
	}
	e := a.problem(http.MethodPost, loginPath)
	ev = append(ev, "answer: "+e.Error())
	now := p.o.Now()
	switch {
	case e.Code == client.CodeIPBlocked:
		wait := "the block ends access.block_time (Wazuh's default 300 s) after the first failed login, so within 5 minutes at most"
		if d, ok := retryAfter(a.header, now); ok {
			wait = fmt.Sprintf("the manager says logins work again in %s (at %s)", d.Round(time.Second), now.Add(d).UTC().Format(time.TimeOnly+"Z"))
		}
		return fail("logins from this IP address are blocked after too many failed logins (403, error 6000); "+wait,
			"wait for the block to end, and find what keeps failing from this address or from behind the same NAT (a dashboard with an old wazuh-wui password in wazuh.yml, a script, an exporter): each of its failures renews the count", ev...)
	case a.status == http.StatusUnauthorized:
		return fail(fmt.Sprintf("the manager rejected the password of user %q (401 Invalid credentials)", p.o.User),
			"check --user and the password (MUSTER_PASSWORD or --password-file); do not retry in a loop: after access.max_login_attempts failures (default 50) the manager blocks every login from this IP for access.block_time (300 s)", ev...)
	case a.status == http.StatusTooManyRequests:
		wait := "the limit counts requests per minute, so wait up to a minute"
		if d, ok := retryAfter(a.header, now); ok {
			wait = fmt.Sprintf("retry in %s", d.Round(time.Second))
		}
		return fail("rate limited: the manager refused the login with 429 (too many requests per minute); "+wait,
			"Wazuh 4.14 counts requests of all clients together against access.max_request_per_minute (default 300): find the client that floods the API, or raise the limit in api.yaml", ev...)
	case a.status >= 500:
		return fail(fmt.Sprintf("the login failed inside the manager (%d, error %d): %s", a.status, e.Code, e.Detail),
			orDefault(e.Remediation, "look at the manager's logs: its daemons may not be ready (error 1017) or overloaded (error 3021)"), ev...)
	case a.status == http.StatusOK:
		return fail("the login answered 200 but carried no token", "check that the URL points at the Wazuh API, not at a proxy that rewrites answers", ev...)
	}
	return fail(fmt.Sprintf("the login failed: %d %s", a.status, e.Title), orDefault(e.Remediation, "check the user and the URL"), ev...)
}

// fetchToken posts the Basic credentials once (with raw=true; a 400 to that
// means an API without raw, and the JSON form is tried). It returns the token
// or the failed answer.
func (p *probe) fetchToken(ctx context.Context) (string, *answer, error) {
	for _, raw := range []bool{true, false} {
		q := url.Values{}
		if raw {
			q.Set("raw", "true")
		}
		a, err := p.do(ctx, http.MethodPost, loginPath, q, basicAuth(p.o.User, p.o.Password))
		if err != nil {
			return "", nil, err
		}
		if a.status == http.StatusBadRequest && raw {
			continue
		}
		if a.status != http.StatusOK {
			return "", a, nil
		}
		return tokenFrom(a.body), a, nil
	}
	panic("unreachable")
}

// basicAuth encodes the credentials as the SDK does: Latin-1 when every
// character fits (Wazuh decodes Basic credentials as Latin-1), else UTF-8.
func basicAuth(user, password string) string {
	s := user + ":" + password
	latin := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(s))
		}
		latin = append(latin, byte(r))
	}
	return "Basic " + base64.StdEncoding.EncodeToString(latin)
}

// tokenFrom reads a raw or JSON-enveloped token; "" when there is none.
func tokenFrom(body []byte) string {
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "{") {
		var env struct {
			Data struct {
				Token string `json:"token"`
			} `json:"data"`
		}
		if json.Unmarshal(body, &env) != nil {
			return ""
		}
		s = env.Data.Token
	}
	if s == "" || strings.ContainsAny(s, " \t\r\n<>\"") || strings.Count(s, ".") != 2 {
		return ""
	}
	return s
}

// retryAfter reads a Retry-After header in seconds or as a date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// bearer is the Authorization header for a token.
func bearer(tok string) string { return "Bearer " + tok }
