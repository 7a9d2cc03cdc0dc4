package agentsim_test

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
)

// eventually polls cond until it holds, failing after 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// simAgent runs one simulated agent for the test and records what it gets.
type simAgent struct {
	*agentsim.Agent
	mu       sync.Mutex
	files    []agentproto.ReceivedFile
	commands []agentproto.ManagerMessage
	stop     context.CancelFunc
	done     chan struct{}
}

func runAgent(t *testing.T, e agentproto.KeyEntry, addr, proto string) *simAgent {
	t.Helper()
	s := &simAgent{done: make(chan struct{})}
	a, err := agentsim.NewAgent(e, agentsim.AgentOptions{Addr: addr, Protocol: proto, NotifyTime: 50 * time.Millisecond,
		HandshakeTimeout: 5 * time.Second,
		OnFile: func(f agentproto.ReceivedFile) {
			s.mu.Lock()
			s.files = append(s.files, f)
			s.mu.Unlock()
		},
		OnCommand: func(m agentproto.ManagerMessage) {
			s.mu.Lock()
			s.commands = append(s.commands, m)
			s.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	s.Agent = a
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() { defer close(s.done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-s.done })
	return s
}

func (s *simAgent) lastFileGroup() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.files) == 0 {
		return ""
	}
	g, _, _ := agentproto.SplitMergedFile(s.files[len(s.files)-1].Data)
	return g
}

func (s *simAgent) sawCommand(kind agentproto.ManagerKind) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.commands {
		if m.Kind == kind {
			return true
		}
	}
	return false
}

func getAgent(t *testing.T, c *client.Client, id string) client.Agent {
	t.Helper()
	a, err := c.GetAgent(context.Background(), id)
	if err != nil {
		t.Fatalf("GET /agents/%s: %v", id, err)
	}
	return *a
}

// TestAgentsEndToEnd enrolls one agent over 1515 and one through POST
// /agents, connects both (TCP and UDP), and follows them through the API:
// active with their version and OS, a group change and its merged.mg, a
// restart, a shutdown, and a silent agent turning disconnected.
func TestAgentsEndToEnd(t *testing.T) {
	e := apitest.Start(t, func(c *config.Config) {
		c.Manager.AgentsDisconnectionTime = 60
		c.API.Access.MaxRequestPerMinute = 0 // the test polls the API
	})
	d := e.StartDaemons()
	admin := e.Admin()
	ctx := context.Background()
	flush := func() { d.Remote.Flush(ctx) }

	viaAuthd, err := agentsim.Enroll(ctx, agentsim.EnrollOptions{Addr: d.Addrs["auth"].String(), Timeout: 5 * time.Second},
		agentproto.EnrollRequest{Name: "e2e-authd", Version: "v4.14.7"})
	if err != nil {
		t.Fatalf("enroll over 1515: %v", err)
	}
	reg, err := admin.AddAgent(ctx, client.NewAgent{Name: "e2e-api"})
	if err != nil {
		t.Fatalf("POST /agents: %v", err)
	}
	line, err := base64.StdEncoding.DecodeString(reg.Key)
	if err != nil {
		t.Fatal(err)
	}
	viaAPI, ok, err := agentproto.ParseKeyLine(string(line))
	if err != nil || !ok {
		t.Fatalf("key of POST /agents %q: %v", line, err)
	}
	if viaAuthd.ID == viaAPI.ID {
		t.Fatalf("both paths issued id %s", viaAPI.ID)
	}
	if got := getAgent(t, admin, viaAuthd.ID); got.Status != client.StatusNeverConnected || got.Name != "e2e-authd" {
		t.Fatalf("enrolled agent before connecting: %+v", got)
	}

	tcp := runAgent(t, viaAuthd, d.Addrs["remote/tcp"].String(), "tcp")
	udp := runAgent(t, viaAPI, d.Addrs["remote/udp"].String(), "udp")
	for _, id := range []string{viaAuthd.ID, viaAPI.ID} {
		eventually(t, "agent "+id+" active and synced", func() bool {
			flush()
			a := getAgent(t, admin, id)
			return a.Status == client.StatusActive && a.GroupConfigStatus == "synced"
		})
		a := getAgent(t, admin, id)
		if a.Version != "Wazuh v4.14.7" || a.OS == nil || a.OS.Name != "Debian GNU/Linux" || a.OS.Platform != "debian" ||
			a.OS.Codename != "bookworm" || a.IP != "127.0.0.1" || len(a.Group) != 1 || a.Group[0] != "default" ||
			a.MergedSum == "" || a.LastKeepAlive.Unix() != e.Clock.Now().Unix() {
			t.Errorf("agent %s: %+v os %+v", id, a, a.OS)
		}
	}
	if tcp.lastFileGroup() != "default" || udp.lastFileGroup() != "default" {
		t.Errorf("first merged.mg groups: %q %q", tcp.lastFileGroup(), udp.lastFileGroup())
	}

	// A group change reaches the agent as a new merged.mg.
	if err := admin.CreateGroup(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AssignAgentGroup(ctx, viaAuthd.ID, "web", true); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the web group's merged.mg", func() bool { flush(); return tcp.lastFileGroup() == "web" })
	eventually(t, "synced to web", func() bool {
		flush()
		a := getAgent(t, admin, viaAuthd.ID)
		return a.MergedSum == tcp.MergedSum() && a.GroupConfigStatus == "synced"
	})

	// Restart and reconnect reach connected agents.
	if res, err := admin.RestartAgent(ctx, viaAuthd.ID); err != nil || res.TotalAffectedItems != 1 {
		t.Fatalf("restart: %+v %v", res, err)
	}
	eventually(t, "the restart command", func() bool { return tcp.sawCommand(agentproto.ManagerExecd) })
	if res, err := admin.ReconnectAgents(ctx, []string{viaAPI.ID}); err != nil || res.TotalAffectedItems != 1 {
		t.Fatalf("reconnect: %+v %v", res, err)
	}
	eventually(t, "the reconnect command", func() bool { return udp.sawCommand(agentproto.ManagerForceReconnect) })

	// A shutdown disconnects at once; a silent agent after agents_disconnection_time.
	udp.stop()
	<-udp.done
	eventually(t, "shutdown recorded", func() bool {
		flush()
		a := getAgent(t, admin, viaAPI.ID)
		return a.Status == client.StatusDisconnected && a.StatusCode == 3
	})
	eventually(t, "tcp agent active again after its restart", func() bool {
		flush()
		return tcp.Connected() && getAgent(t, admin, viaAuthd.ID).Status == client.StatusActive
	})
	tcp.Kill()
	e.Clock.Advance(61 * time.Second)
	if _, err := e.Agents.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	a := getAgent(t, admin, viaAuthd.ID)
	if a.Status != client.StatusDisconnected || a.StatusCode != 4 || a.DisconnectionTime.IsZero() {
		t.Errorf("silent agent: %+v", a)
	}
}
