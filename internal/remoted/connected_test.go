package remoted_test

import (
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/core"
)

// TestConnectedAgentsByProtocol: one agent on each transport is counted
// under its own; agents silent past the disconnection time are not; the
// listeners are counted until Close.
func TestConnectedAgentsByProtocol(t *testing.T) {
	e := start(t, nil)
	eventually(t, "listening on tcp and udp", func() bool { return e.srv.Listening() == 2 })
	if tcp, udp := e.srv.ConnectedAgents(); tcp != 0 || udp != 0 {
		t.Fatalf("before any agent: tcp %d udp %d", tcp, udp)
	}
	kt, ku := e.reg.Register("over-tcp", "any"), e.reg.Register("over-udp", "any")
	_, stopTCP := e.run(kt, nil)
	_, stopUDP := e.run(ku, func(o *agentsim.AgentOptions) { o.Protocol = "udp" })
	eventually(t, "both active", func() bool {
		return e.status(kt.ID) == core.AgentActive && e.status(ku.ID) == core.AgentActive
	})
	if tcp, udp := e.srv.ConnectedAgents(); tcp != 1 || udp != 1 {
		t.Fatalf("connected: tcp %d udp %d, want 1 and 1", tcp, udp)
	}
	stopTCP()
	stopUDP()
	e.clock.Advance(900*time.Second + time.Second) // past the default disconnection time
	if tcp, udp := e.srv.ConnectedAgents(); tcp != 0 || udp != 0 {
		t.Fatalf("after the disconnection time: tcp %d udp %d", tcp, udp)
	}
	e.stop()
	if n := e.srv.Listening(); n != 0 {
		t.Fatalf("listening on %d after Close", n)
	}
}
