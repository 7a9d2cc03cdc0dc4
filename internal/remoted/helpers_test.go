package remoted_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/remoted"
	"github.com/muster-project/muster/internal/remoted/fakereg"
	"github.com/muster-project/muster/internal/testclock"
)

type env struct {
	t       testing.TB
	reg     *fakereg.Registry
	clock   *testclock.Clock
	srv     *remoted.Server
	addr    string
	udpAddr string
	stop    func() // closes the server and waits for its loops
}

func testLog(t testing.TB) *slog.Logger {
	if _, fuzz := t.(*testing.F); testing.Verbose() && !fuzz { // a fuzz target may not log through f
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// start runs a server with a fake registry on loopback TCP and UDP.
func start(t testing.TB, mod func(*remoted.Options)) *env {
	t.Helper()
	c := testclock.New(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	reg := fakereg.New(c.Now)
	o := remoted.Options{Registry: reg, Shared: reg, Log: testLog(t), Now: c.Now, ManagerHost: "manager",
		FlushInterval: 10 * time.Millisecond, KeyPoll: 20 * time.Millisecond, SharedReload: time.Millisecond}
	if mod != nil {
		mod(&o)
	}
	srv := remoted.New(o)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); srv.ServeTCP(ln) }()
	go func() { defer wg.Done(); srv.ServeUDP(pc) }()
	e := &env{t: t, reg: reg, clock: c, srv: srv, addr: ln.Addr().String(), udpAddr: pc.LocalAddr().String()}
	e.stop = func() {
		srv.Close()
		wg.Wait()
	}
	t.Cleanup(e.stop)
	return e
}

// entry converts a registry key to the agent's client.keys entry.
func entry(k core.KeyEntry) agentproto.KeyEntry {
	return agentproto.KeyEntry{ID: core.FormatAgentID(k.ID), Name: k.Name, IP: k.IP, Key: k.Key}
}

// run starts an agent until the test ends (or stop is called).
func (e *env) run(k core.KeyEntry, mod func(*agentsim.AgentOptions)) (a *agentsim.Agent, stop func()) {
	e.t.Helper()
	o := agentsim.AgentOptions{Addr: e.addr, NotifyTime: 20 * time.Millisecond, HandshakeTimeout: 5 * time.Second}
	if mod != nil {
		mod(&o)
	}
	if o.Protocol == "udp" {
		o.Addr = e.udpAddr
	}
	a, err := agentsim.NewAgent(entry(k), o)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(stop)
	return a, stop
}

// eventually polls cond until it holds, failing after 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// status returns an agent's connection status in the registry.
func (e *env) status(id int) string {
	a, _ := e.reg.Agent(id)
	return a.Status
}
