package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
)

const blocked = `{"title": "Permission Denied", "detail": "Limit of login attempts reached. The current IP has been blocked due to a high number of login attempts", "error": 6000}`

func TestLoginBlocking(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) {
		c.API.Access.MaxLoginAttempts = 3
		c.API.Access.BlockTime = 60
	})
	for i := 1; i <= 3; i++ {
		// The attempt that reaches the limit still gets its 401.
		x := do(t, e, "POST", "/security/user/authenticate", basic("wazuh", "wrong"), "")
		if x.status != 401 {
			t.Fatalf("attempt %d: %d", i, x.status)
		}
		e.Clock.Advance(10 * time.Second)
	}
	// Blocked now, even with the right password.
	expectBody(t, do(t, e, "POST", "/security/user/authenticate", basic("wazuh", "wazuh"), ""), 403, blocked)
	expectBody(t, do(t, e, "GET", "/security/user/authenticate", basic("wazuh", "wazuh"), ""), 403, blocked)
	// Other addresses (behind a local proxy) are not affected.
	h := basic("wazuh", "wazuh")
	h["X-Forwarded-For"] = "192.0.2.7"
	if x := do(t, e, "POST", "/security/user/authenticate", h, ""); x.status != 200 {
		t.Fatalf("other client: %d", x.status)
	}
	// Tokens keep working while logins are blocked.
	e.Clock.Advance(10 * time.Second) // 40 s after the first failure
	expectBody(t, do(t, e, "POST", "/security/user/authenticate", basic("wazuh", "wazuh"), ""), 403, blocked)
	// The block ends block_time after the first failure.
	e.Clock.Advance(20 * time.Second)
	if x := do(t, e, "POST", "/security/user/authenticate", basic("wazuh", "wazuh"), ""); x.status != 200 {
		t.Fatalf("after block_time: %d %s", x.status, x.body)
	}
}

func TestSDKStopsLoggingInWhenBlocked(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxLoginAttempts = 1 })
	do(t, e, "POST", "/security/user/authenticate", basic("wazuh", "wrong"), "")
	c := e.Admin()
	_, err := c.Info(context.Background())
	if !client.IsBlocked(err) {
		t.Fatalf("want a blocked error, got %v", err)
	}
	// A second call does not even try: the SDK waits out the block.
	_, err = c.Info(context.Background())
	if !client.IsBlocked(err) || c.Logins() > 1 {
		t.Fatalf("second call: %v, logins %d", err, c.Logins())
	}
}

func TestRateLimitPerClient(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 5 })
	for i := 0; i < 5; i++ {
		if x := do(t, e, "GET", "/no/such/path", nil, ""); x.status != 404 {
			t.Fatalf("request %d: %d", i, x.status)
		}
	}
	e.Clock.Advance(20 * time.Second)
	x := do(t, e, "GET", "/", nil, "")
	expectBody(t, x, 429, `{"title": "Too Many Requests", "detail": "Maximum number of requests per minute reached", `+
		`"remediation": "This limit can be changed in api.yaml file. More information here: https://documentation.wazuh.com/4.14/user-manual/api/configuration.html#configuration-file", "error": 6001}`)
	if ra, _ := strconv.Atoi(x.header.Get("Retry-After")); ra != 40 {
		t.Fatalf("Retry-After = %q, want 40", x.header.Get("Retry-After"))
	}
	// One noisy caller does not lock out another.
	h := basic("wazuh", "wazuh")
	h["X-Forwarded-For"] = "198.51.100.9"
	if x := do(t, e, "POST", "/security/user/authenticate", h, ""); x.status != 200 {
		t.Fatalf("other client limited: %d", x.status)
	}
	e.Clock.Advance(41 * time.Second)
	if x := do(t, e, "GET", "/no/such/path", nil, ""); x.status != 404 {
		t.Fatalf("next window: %d", x.status)
	}
}

// TestSemicolonInQuery: Wazuh's q uses ';' for AND and curl sends it as is.
func TestSemicolonInQuery(t *testing.T) {
	e := apitest.Start(t)
	x := do(t, e, "GET", "/security/users?q=id=1;username=wazuh-wui&select=username", bearer(token(t, e, "wazuh", "wazuh")), "")
	if x.status != 200 || !strings.Contains(string(x.body), `"total_affected_items": 0`) {
		t.Fatalf("q with a literal ';' was not applied: %d %s", x.status, x.body)
	}
	x = do(t, e, "GET", "/security/users?q=id=1;username=wazuh&select=username", bearer(token(t, e, "wazuh", "wazuh")), "")
	if x.status != 200 || !strings.Contains(string(x.body), `"total_affected_items": 1`) {
		t.Fatalf("q=id=1;username=wazuh: %d %s", x.status, x.body)
	}
}
