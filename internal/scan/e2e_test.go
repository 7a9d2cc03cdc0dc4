package scan_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/scan"
)

// seed stores n agents in the real server's registry, relative to its clock:
// ids ending in 0 disconnected, 1 never connected, 2 pending, the rest
// active; one in seven of the connected ones runs Wazuh 4.12.0.
func seed(t *testing.T, e *apitest.Env, n int) (want map[scan.Class]int, outdated int) {
	t.Helper()
	now := e.Clock.Now().Unix()
	want = map[scan.Class]int{"active": 0, "stale": 0, "pending": 0, "disconnected": 0, "never_connected": 0, "unknown": 0}
	agents := make([]core.Agent, 0, n)
	for i := 1; i <= n; i++ {
		a := core.Agent{ID: i, Name: fmt.Sprintf("host-%05d", i), RegisterIP: core.Some("any"),
			Key: strings.Repeat(fmt.Sprintf("%x", i%16), 64), DateAdd: now - 90*86400, Groups: []string{"default"},
			GroupConfigStatus: core.ConfigSynced, NodeName: core.Some("node01")}
		switch i % 10 {
		case 0:
			a.Status, a.StatusCode, a.DisconnectionTime = core.AgentDisconnected, core.StatusCodeNoKeepalive, now-int64(i)*60
			a.LastKeepAlive = core.Some(now - int64(i)*60 - 900)
			want["disconnected"]++
		case 1:
			a.Status, a.DateAdd, a.Groups, a.GroupConfigStatus = core.AgentNeverConnected, now-2*86400, nil, core.ConfigNotSynced
			want["never_connected"]++
		case 2:
			a.Status, a.LastKeepAlive = core.AgentPending, core.Some(now-5)
			want["pending"]++
		default:
			a.Status, a.LastKeepAlive = core.AgentActive, core.Some(now-int64(i%50))
			want["active"]++
		}
		if a.Status != core.AgentNeverConnected {
			a.IP = core.Some(fmt.Sprintf("10.1.%d.%d", i/250, i%250))
			a.Version = core.Some("Wazuh v4.14.7")
			if i%7 == 0 {
				a.Version = core.Some("Wazuh v4.12.0")
				outdated++
			}
		}
		agents = append(agents, a)
	}
	if err := e.Store.PutAgents(context.Background(), agents); err != nil {
		t.Fatal(err)
	}
	return want, outdated
}

// hook watches the client's exchanges with the server and injects faults.
type hook struct {
	base http.RoundTripper

	mu           sync.Mutex
	pages        int // GET /agents answered with 200
	unauthorized int // 401 answers outside the login
	limited      int // 429 answers
	afterPage    func(page int)
	on429        func(resp *http.Response)
}

func (h *hook) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case resp.StatusCode == http.StatusUnauthorized && r.URL.Path != "/security/user/authenticate":
		h.unauthorized++
	case resp.StatusCode == http.StatusTooManyRequests:
		h.limited++
		if h.on429 != nil {
			h.on429(resp)
		}
	case r.URL.Path == "/agents" && resp.StatusCode == http.StatusOK:
		h.pages++
		if h.afterPage != nil {
			h.afterPage(h.pages)
		}
	}
	return resp, nil
}

// scanClient is an SDK client for the real server whose traffic h sees.
func scanClient(t *testing.T, e *apitest.Env, h *hook, user, password string, opts ...client.Option) *client.Client {
	t.Helper()
	h.base = e.RawHTTP().Transport
	all := append([]client.Option{client.WithCredentials(user, password), client.WithHTTPClient(&http.Client{Transport: h}),
		client.WithRetry(4, time.Millisecond, 10*time.Millisecond)}, opts...)
	c, err := client.New(e.URL, all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestE2EScanRealServer(t *testing.T) {
	e := apitest.Start(t)
	want, outdated := seed(t, e, 1200)
	h := &hook{}
	c := scanClient(t, e, h, "wazuh", "wazuh", client.WithClock(e.Clock.Now))
	r, err := scan.Run(context.Background(), c, scan.Options{PageSize: 100, Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for cl, n := range want {
		if r.Classes[cl] != n {
			t.Errorf("class %s: %d, want %d", cl, r.Classes[cl], n)
		}
	}
	if r.Total != 1200 || r.Findings["outdated"] != outdated || r.Findings["pending"] != 0 || r.Findings["never_connected"] != 120 {
		t.Errorf("total %d findings %v", r.Total, r.Findings)
	}
	// The manager's own settings, read from /manager/info and
	// /manager/configuration: no fallback, no note.
	st := r.Settings
	if st.ManagerVersion != "v"+api.Version || st.VersionSource != "GET /manager/info" ||
		st.DisconnectionTime.Seconds != 600 || // Wazuh's fallback would be 900
		st.DisconnectionTime.Source != "GET /manager/configuration" {
		t.Errorf("settings %+v", st)
	}
	for _, n := range r.Notes {
		if strings.Contains(n, "manager") || strings.Contains(n, "agents_disconnection_time") {
			t.Errorf("note: %s", n)
		}
	}
	// 1201 records (000 included) in pages of 100: 13 pages, one login.
	if h.pages != 13 || c.Logins() != 1 || h.unauthorized != 0 {
		t.Errorf("pages %d logins %d 401s %d", h.pages, c.Logins(), h.unauthorized)
	}
}

// A token lifetime of ten seconds with the clock moving 4 s per page: the SDK
// renews the token before it expires, never through a 401.
func TestE2EShortTokensRenewedAhead(t *testing.T) {
	e := apitest.Start(t)
	seed(t, e, 1200)
	timeout := 10
	if err := e.Security.UpdateConfig(context.Background(), &timeout, nil); err != nil {
		t.Fatal(err)
	}
	h := &hook{afterPage: func(int) { e.Clock.Advance(4 * time.Second) }}
	c := scanClient(t, e, h, "wazuh", "wazuh", client.WithClock(e.Clock.Now))
	r, err := scan.Run(context.Background(), c, scan.Options{PageSize: 100, Now: e.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	// 13 pages × 4 s = 52 s of token time; a token is renewed 5 s into its 10 s.
	if r.Total != 1200 || h.unauthorized != 0 || c.Logins() < 5 || c.Logins() > 12 {
		t.Errorf("total %d, 401s %d, logins %d", r.Total, h.unauthorized, c.Logins())
	}
}

// Faults in the middle of a scan: each costs exactly one 401 and one login.
func TestE2EFaultsMidScan(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		fault func(e *apitest.Env)
	}{
		{"token expires (server clock jumps, client clock does not)", func(e *apitest.Env) { e.Clock.Advance(16 * time.Minute) }},
		{"all tokens revoked", func(e *apitest.Env) { e.Security.RevokeAll(ctx) }},
		{"security configuration changed", func(e *apitest.Env) {
			black := "black"
			e.Security.UpdateConfig(ctx, nil, &black)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := apitest.Start(t)
			seed(t, e, 500)
			h := &hook{}
			h.afterPage = func(p int) {
				if p == 2 {
					tc.fault(e)
					e.Clock.Advance(time.Second) // a new token must not share the revocation's second
				}
			}
			c := scanClient(t, e, h, "wazuh", "wazuh")
			r, err := scan.Run(ctx, c, scan.Options{PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != 500 || c.Logins() != 2 || h.unauthorized != 1 {
				t.Errorf("total %d, logins %d, 401s %d", r.Total, c.Logins(), h.unauthorized)
			}
		})
	}
}

// Wrong credentials: one login, never repeated, and the lockout that follows
// is honoured: no login at all while the manager blocks this address.
func TestE2ELoginLockout(t *testing.T) {
	ctx := context.Background()
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxLoginAttempts, c.API.Access.BlockTime = 1, 300 })
	seed(t, e, 10)
	bad := scanClient(t, e, &hook{}, "wazuh", "wrong-password")
	for range 3 { // --watch runs: the cooldown keeps the client from retrying
		_, err := scan.Run(ctx, bad, scan.Options{})
		var se *scan.Error
		if !errors.As(err, &se) || se.ExitCode() != 2 || !errors.Is(err, client.ErrInvalidCredentials) {
			t.Fatalf("bad password: %v", err)
		}
	}
	if bad.Logins() != 1 {
		t.Fatalf("logins with a bad password: %d, want 1", bad.Logins())
	}
	good := scanClient(t, e, &hook{}, "wazuh", "wazuh", client.WithClock(e.Clock.Now))
	for range 2 {
		_, err := scan.Run(ctx, good, scan.Options{})
		if !client.IsBlocked(err) || !strings.Contains(err.Error(), "muster doctor") {
			t.Fatalf("blocked: %v", err)
		}
	}
	if good.Logins() != 1 {
		t.Fatalf("logins while blocked: %d, want 1", good.Logins())
	}
	e.Clock.Advance(301 * time.Second)
	if r, err := scan.Run(ctx, good, scan.Options{}); err != nil || r.Total != 10 || good.Logins() != 2 {
		t.Fatalf("after the block: %v, logins %d", err, good.Logins())
	}
}

// The rate limit answers 429 with Retry-After: the scan waits and completes.
func TestE2ERateLimited(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 5 })
	seed(t, e, 1200)
	h := &hook{}
	h.on429 = func(resp *http.Response) {
		// Wait as the server says, on its clock, but only a second of real time.
		e.Clock.Advance(61 * time.Second)
		resp.Header.Set("Retry-After", "1")
	}
	c := scanClient(t, e, h, "wazuh", "wazuh")
	r, err := scan.Run(context.Background(), c, scan.Options{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 1200 || h.limited == 0 || c.Logins() != 1 {
		t.Errorf("total %d, 429s %d, logins %d", r.Total, h.limited, c.Logins())
	}
}

// A user that RBAC does not let read agents: the scan fails with the cause
// instead of reporting an empty, healthy fleet.
func TestE2EUserWithoutAgentRead(t *testing.T) {
	ctx := context.Background()
	e := apitest.Start(t)
	seed(t, e, 10)
	admin := e.Admin()
	u, err := admin.CreateUser(ctx, "watcher", "Watcher-Pass1!")
	if err != nil {
		t.Skipf("POST /security/users not served yet: %v", err)
	}
	if _, err := admin.AddUserRoles(ctx, u.ID, []int{6}, -1); err != nil { // cluster_readonly: no agent:read
		t.Fatal(err)
	}
	e.Clock.Advance(time.Second)
	c := scanClient(t, e, &hook{}, "watcher", "Watcher-Pass1!")
	_, err = scan.Run(ctx, c, scan.Options{})
	var se *scan.Error
	if !errors.As(err, &se) || se.ExitCode() != 2 || !strings.Contains(err.Error(), "agent:read") {
		t.Fatalf("err = %v", err)
	}
}
