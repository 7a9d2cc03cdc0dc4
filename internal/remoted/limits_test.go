package remoted_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/remoted"
	"github.com/muster-project/muster/internal/testclock"
)

// dialFrom opens a silent connection from a loopback source address.
func dialFrom(t *testing.T, addr, src string) net.Conn {
	t.Helper()
	c, err := tryDial(addr, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func tryDial(addr, src string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return d.Dial("tcp", addr)
}

// refused dials and reports whether the server closed the connection
// within wait: the dial itself is reset, or a read ends with EOF or a reset
// instead of the deadline.
func refused(t *testing.T, addr, src string, wait time.Duration) bool {
	c, err := tryDial(addr, src)
	if err != nil {
		return true
	}
	t.Cleanup(func() { c.Close() })
	return closedByServer(c, wait)
}

// closedByServer reports whether the server closed c within wait.
func closedByServer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}

// activeAgent registers and runs an agent until it is active.
func activeAgent(t *testing.T, e *env, name string) (isConnected func() bool) {
	k := e.reg.Register(name, "any")
	a, _ := e.run(k, nil)
	eventually(t, name+" active", func() bool { return a.Connected() && e.status(k.ID) == core.AgentActive })
	return a.Connected
}

// keepsAlive checks that the server still answers the agents' keepalives.
func keepsAlive(t *testing.T, e *env) {
	t.Helper()
	n := e.srv.Stats().Keepalives.Load()
	eventually(t, "keepalives after the flood", func() bool { return e.srv.Stats().Keepalives.Load() > n+3 })
}

func TestFloodBeyondTheCapIsRefused(t *testing.T) {
	e := start(t, func(o *remoted.Options) {
		o.MaxConnections, o.MaxConnectionsPerIP, o.SilentGrace = 20, -1, time.Hour
	})
	connected := activeAgent(t, e, "steady")
	var flood []net.Conn
	for i := 0; i < 19; i++ {
		flood = append(flood, dialFrom(t, e.addr, "127.0.0.1"))
		eventually(t, "connection accepted", func() bool { return e.srv.Stats().Connections.Load() == int64(i+2) })
	}
	for i := 0; i < 30; i++ {
		if !refused(t, e.addr, "127.0.0.1", 5*time.Second) {
			t.Fatalf("connection %d over the cap was kept", i)
		}
	}
	if st := e.srv.Stats(); st.Refused.Load() != 30 || st.Connections.Load() != 20 || st.Evicted.Load() != 0 {
		t.Fatalf("refused %d, open %d, evicted %d; want 30, 20, 0", st.Refused.Load(), st.Connections.Load(),
			st.Evicted.Load())
	}
	if lim := e.srv.Limits(); lim.Open != 20 || lim.Max != 20 || lim.RefusedFull != 30 {
		t.Fatalf("limits %+v", lim)
	}
	if !connected() {
		t.Fatal("the flood disconnected the agent")
	}
	keepsAlive(t, e)
	flood[0].Close() // a slot is free again
	eventually(t, "slot released", func() bool { return e.srv.Limits().Open == 19 })
	if refused(t, e.addr, "127.0.0.1", 100*time.Millisecond) {
		t.Fatal("a connection under the cap was refused")
	}
}

func TestPerAddressCapSparesAgentsAndOtherAddresses(t *testing.T) {
	e := start(t, func(o *remoted.Options) { o.MaxConnections, o.MaxConnectionsPerIP = 100, 5 })
	// Agents behind the flooded address: once their key is known they no
	// longer count against it.
	c1, c2 := activeAgent(t, e, "nat-1"), activeAgent(t, e, "nat-2")
	for i := 0; i < 5; i++ {
		dialFrom(t, e.addr, "127.0.0.1")
		eventually(t, "connection accepted", func() bool { return e.srv.Stats().Connections.Load() == int64(i+3) })
	}
	if !refused(t, e.addr, "127.0.0.1", 5*time.Second) {
		t.Fatal("a sixth silent connection from one address was kept")
	}
	if refused(t, e.addr, "127.0.0.2", 100*time.Millisecond) {
		t.Fatal("another address was refused")
	}
	if lim := e.srv.Limits(); lim.RefusedAddr != 1 || lim.Open != 8 || lim.Addresses != 2 {
		t.Fatalf("limits %+v; want 1 refused, 8 open from 2 addresses", lim)
	}
	if !c1() || !c2() {
		t.Fatal("an agent was disconnected")
	}
	keepsAlive(t, e)
}

func TestSilentConnectionsEvictedNearTheCap(t *testing.T) {
	clock := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	e := start(t, func(o *remoted.Options) {
		o.MaxConnections, o.MaxConnectionsPerIP, o.SilentGrace, o.Clock = 20, -1, 5*time.Second, clock.Now
	})
	connected := activeAgent(t, e, "oldest") // the oldest connection of all, but an agent's
	var flood []net.Conn
	for i := 0; i < 19; i++ {
		clock.Advance(time.Millisecond) // accept order is age order
		flood = append(flood, dialFrom(t, e.addr, "127.0.0.1"))
		eventually(t, "connection accepted", func() bool { return e.srv.Stats().Connections.Load() == int64(i+2) })
	}
	// Full, but every silent connection is within its grace: refused.
	if !refused(t, e.addr, "127.0.0.1", 5*time.Second) {
		t.Fatal("a connection over the cap was kept")
	}
	if n := e.srv.Stats().Evicted.Load(); n != 0 {
		t.Fatalf("%d connections evicted within the grace", n)
	}
	clock.Advance(5 * time.Second)                    // 55 s before the first-message timeout
	refused(t, e.addr, "127.0.0.1", time.Millisecond) // wakes the eviction at once
	// Down to 80 % of the cap: the four oldest silent connections go.
	eventually(t, "eviction", func() bool { return e.srv.Stats().Evicted.Load() == 4 })
	for i, c := range flood {
		if closed := closedByServer(c, 20*time.Millisecond); closed != (i < 4) {
			t.Errorf("flood connection %d: closed %v, want %v", i, closed, i < 4)
		}
	}
	if !connected() {
		t.Fatal("the agent's connection was evicted")
	}
	keepsAlive(t, e)
	if refused(t, e.addr, "127.0.0.1", 100*time.Millisecond) {
		t.Fatal("a connection was refused after the eviction")
	}
}
