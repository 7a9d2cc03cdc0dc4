package manager_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
)

// flood opens n idle connections to addr from src and keeps them open
// until the test ends; refused ones (reset at once) are not kept.
func flood(t *testing.T, addr, src string, n int) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	for range n {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			continue
		}
		t.Cleanup(func() { c.Close() })
	}
}

// enrollFrom enrolls over 1515 from a loopback source address.
func enrollFrom(addr, src, name string) (agentproto.KeyEntry, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err != nil {
		return agentproto.KeyEntry{}, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "OSSEC A:'"+name+"' V:'v4.14.7'\n")
	b, err := agentproto.ReadEnrollReply(c)
	if err != nil {
		return agentproto.KeyEntry{}, err
	}
	return agentproto.ParseEnrollReply(b)
}

// eventually polls cond until it holds, failing after 15 s.
// runAgent runs an agent-sim agent with key k until the returned stop,
// which waits for it to end.
func runAgent(t *testing.T, k agentproto.KeyEntry, o agentsim.AgentOptions) (*agentsim.Agent, func()) {
	t.Helper()
	a, err := agentsim.NewAgent(k, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	return a, func() { cancel(); <-done }
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFloodOfEveryPortStarvesNothing floods the agent port, the API and
// enrollment past their caps with idle connections while a probe logs in
// and lists agents over new connections and agents keep alive: every
// probe is answered and no agent drops.
func TestFloodOfEveryPortStarvesNothing(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) {
		c.API.MaxConnections = 40
		c.API.Access.MaxRequestPerMinute = 0
	})
	d := e.StartDaemons(func(c *config.Config) {
		c.Remote.MaxConnections = 200
		c.Auth.MaxConnections, c.Auth.MaxConnectionsPerIP = 30, 10
	})
	authAddr, remoteAddr := d.Addrs["auth"].String(), d.Addrs["remote/tcp"].String()
	var agents []*agentsim.Agent
	for i := range 3 {
		k, err := enrollFrom(authAddr, "127.0.0.1", fmt.Sprintf("steady-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		a, err := agentsim.NewAgent(k, agentsim.AgentOptions{Addr: remoteAddr, NotifyTime: 50 * time.Millisecond,
			HandshakeTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		agents = append(agents, a)
	}
	admin := e.Admin()
	active := func() int {
		res, err := admin.ListAgents(context.Background(), client.AgentQuery{Status: []string{"active"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.TotalAffectedItems
	}
	deadline := time.Now().Add(15 * time.Second)
	for active() < 4 { // the manager itself (000) and the three agents
		if time.Now().After(deadline) {
			t.Fatal("the agents did not become active")
		}
		time.Sleep(20 * time.Millisecond)
	}

	flood(t, remoteAddr, "127.0.0.1", 250)
	flood(t, e.Server.Listener.Addr().String(), "127.0.0.1", 60)
	flood(t, authAddr, "127.0.0.1", 50)
	// Connections are accepted (or refused) after the dial returns: wait
	// until each server has seen its whole flood.
	rs := d.Remote.Stats()
	eventually(t, "agent port: 200 open, at least 50 refused", func() bool {
		return d.Remote.Limits().Open == 200 && rs.Refused.Load() >= 50
	})
	eventually(t, "enrollment: 10 held, 40 refused", func() bool {
		return d.Auth.Limits().Open == 10 && d.Auth.RefusedConns.Load() == 40
	})
	apiSrv := e.Server.Config.Handler.(*api.Server)
	eventually(t, "API: 40 open, the rest refused", func() bool {
		st := apiSrv.ConnLimits()
		return st.Open == 40 && st.RefusedFull >= 20 // the admin client may hold one
	})

	// The API's cap is full of connections that never spoke: once they are
	// silent for the grace, each new client takes the place of the oldest.
	e.Clock.Advance(3 * time.Second)
	for i := range 4 { // a login costs a second under -race
		hc := e.RawHTTP() // a new connection and a new login every time
		probe := e.Client("wazuh", "wazuh", client.WithHTTPClient(hc))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := probe.Token(ctx); err != nil {
			t.Fatalf("probe %d: login: %v", i, err)
		}
		res, err := probe.ListAgents(ctx, client.AgentQuery{})
		cancel()
		if err != nil || res.TotalAffectedItems != 4 {
			t.Fatalf("probe %d: GET /agents: %v", i, err)
		}
		hc.Transport.(*http.Transport).CloseIdleConnections()
	}
	// Enrollment answers another address at once.
	if k, err := enrollFrom(authAddr, "127.0.0.2", "during-the-flood"); err != nil || k.ID == "" {
		t.Fatalf("enrollment during the flood: %v", err)
	}
	for i, a := range agents {
		if !a.Connected() {
			t.Fatalf("agent %d dropped", i)
		}
	}
	ka := rs.Keepalives.Load()
	deadline = time.Now().Add(10 * time.Second)
	for rs.Keepalives.Load() < ka+6 {
		if time.Now().After(deadline) {
			t.Fatal("keepalives stopped during the flood")
		}
		time.Sleep(10 * time.Millisecond)
	}
	list, err := admin.ListAgents(context.Background(), client.AgentQuery{Status: []string{"active"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list.AffectedItems {
		if strings.HasPrefix(a.Name, "steady-") && a.Status != core.AgentActive {
			t.Errorf("%s is %s", a.Name, a.Status)
		}
	}
	if n := list.TotalAffectedItems; n != 4 {
		t.Errorf("%d active agents, want 4", n)
	}
}
