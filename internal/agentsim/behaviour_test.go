package agentsim

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/testclock"
)

func TestParseBehaviour(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Behaviour
		err  bool
	}{
		{"active", Behaviour{Kind: Active}, false},
		{"  Active ", Behaviour{Kind: Active}, false},
		{"silent after 30s", Behaviour{Kind: Silent, After: 30 * time.Second}, false},
		{"silent  after 1m30s", Behaviour{Kind: Silent, After: 90 * time.Second}, false},
		{"never connects", Behaviour{Kind: NeverConnect}, false},
		{"flapping", Behaviour{Kind: Flapping, Up: time.Minute, Down: time.Minute}, false},
		{"flapping 45s", Behaviour{Kind: Flapping, Up: 45 * time.Second, Down: 45 * time.Second}, false},
		{"flapping 2m/15s", Behaviour{Kind: Flapping, Up: 2 * time.Minute, Down: 15 * time.Second}, false},
		{"silent", Behaviour{}, true},
		{"silent after", Behaviour{}, true},
		{"silent after 30", Behaviour{}, true},
		{"silent after -3s", Behaviour{}, true},
		{"silent after 0s", Behaviour{}, true},
		{"flapping 1m/", Behaviour{}, true},
		{"flapping 1m 2m", Behaviour{}, true},
		{"sleepy", Behaviour{}, true},
		{"", Behaviour{}, true},
	} {
		got, err := ParseBehaviour(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseBehaviour(%q) = %+v, %v; want %+v, error %v", c.in, got, err, c.want, c.err)
		}
		if err == nil {
			if again, err := ParseBehaviour(got.String()); err != nil || again != got {
				t.Errorf("%q does not read back: %+v %v", got.String(), again, err)
			}
		}
	}
}

// stepSleeper hands each wait of a behaviour to the test, which lets it go
// on: the clock moves by the wait then, and not before.
type stepSleeper struct {
	clock   *testclock.Clock
	asks    chan time.Duration
	release chan struct{}
}

func newStepSleeper() *stepSleeper {
	return &stepSleeper{clock: testclock.New(time.Unix(1795599459, 0)), asks: make(chan time.Duration),
		release: make(chan struct{})}
}

func (s *stepSleeper) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case s.asks <- d:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-s.release:
		s.clock.Advance(d)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *stepSleeper) wait(t *testing.T, want time.Duration) {
	t.Helper()
	select {
	case d := <-s.asks:
		if d != want {
			t.Fatalf("behaviour waits %s, want %s", d, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the behaviour did not wait")
	}
}

func playFor(t *testing.T, a *Agent, b Behaviour, s *stepSleeper) (cancel func(), done chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { defer close(done); Play(ctx, a, b, s.Sleep) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel, done
}

// TestSilentAfter: the agent keeps alive until the clock reaches D, then
// stops sending anything: its connection ends without a shutdown message and
// it does not come back.
func TestSilentAfter(t *testing.T) {
	e := testEntry("002", "quiet-01")
	m := newWireManager(t, e)
	a := fleetAgent(t, e, "v3.13.2", defaultOS, nil, time.Hour, m.Addr())
	s := newStepSleeper()
	start := s.clock.Now()
	_, done := playFor(t, a, Behaviour{Kind: Silent, After: 30 * time.Second}, s)
	s.wait(t, 30*time.Second)
	m.until(t, agentproto.AgentKeepalive, false)
	s.release <- struct{}{}
	for w := m.next(t); !w.Closed; w = m.next(t) {
		if w.Control.Kind == agentproto.AgentShutdown {
			t.Fatal("a silent agent sent its shutdown")
		}
	}
	select {
	case <-done: // Play ends although the simulation goes on
	case <-time.After(15 * time.Second):
		t.Fatal("the silent agent kept running")
	}
	if a.Connected() || s.clock.Now().Sub(start) != 30*time.Second {
		t.Errorf("connected %v after %s", a.Connected(), s.clock.Now().Sub(start))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns != 1 {
		t.Errorf("%d connections, want 1", m.conns)
	}
}

// TestFlapping: connected for Up, a clean stop (shutdown sent), away for
// Down with no connection, then connected again.
func TestFlapping(t *testing.T) {
	e := testEntry("003", "flappy-01")
	m := newWireManager(t, e)
	a := fleetAgent(t, e, "v4.14.7", defaultOS, nil, time.Hour, m.Addr())
	s := newStepSleeper()
	cancel, done := playFor(t, a, Behaviour{Kind: Flapping, Up: 45 * time.Second, Down: 15 * time.Second}, s)
	for round := 1; round <= 2; round++ {
		s.wait(t, 45*time.Second)
		if w := m.until(t, agentproto.AgentStartup, false); w.Conn != round {
			t.Fatalf("round %d: startup on connection %d", round, w.Conn)
		}
		s.release <- struct{}{}
		if w := m.until(t, agentproto.AgentShutdown, false); w.Conn != round {
			t.Fatalf("round %d: shutdown on connection %d", round, w.Conn)
		}
		m.until(t, 0, true)
		s.wait(t, 15*time.Second) // away: Play is blocked here, so nothing can connect
		m.mu.Lock()
		if m.conns != round {
			t.Errorf("round %d: %d connections while away", round, m.conns)
		}
		m.mu.Unlock()
		s.release <- struct{}{}
	}
	s.wait(t, 45*time.Second)
	cancel()
	<-done
	if got := s.clock.Now().Sub(time.Unix(1795599459, 0)); got != 2*time.Minute {
		t.Errorf("clock moved %s, want 2m", got)
	}
}

// TestNeverConnects: the agent has its key and never dials.
func TestNeverConnects(t *testing.T) {
	e := testEntry("004", "ghost-01")
	m := newWireManager(t, e)
	a := fleetAgent(t, e, "v4.14.7", defaultOS, nil, time.Hour, m.Addr())
	cancel, done := playFor(t, a, Behaviour{Kind: NeverConnect}, newStepSleeper())
	cancel()
	<-done
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns != 0 {
		t.Errorf("%d connections", m.conns)
	}
}

// TestFailoverToSecondManager: the first manager of the list refuses
// connections; after Retries attempts the agent uses the second.
func TestFailoverToSecondManager(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	e := testEntry("005", "edge-01")
	m := newWireManager(t, e)
	a := fleetAgent(t, e, "v4.14.7", defaultOS, nil, time.Hour, deadAddr, m.Addr())
	runFor(t, a)
	m.until(t, agentproto.AgentStartup, false)
	if a.Server() != m.Addr() || a.o.Stats.Errors.Load() != 2 {
		t.Errorf("server %s after %d errors, want %s after 2", a.Server(), a.o.Stats.Errors.Load(), m.Addr())
	}
}

// TestFailoverWhenManagerStopsAnswering: the first manager ACKs the first
// handshake, then answers nothing. After time-reconnect the agent connects
// again, tries that manager Retries times and moves to the second.
func TestFailoverWhenManagerStopsAnswering(t *testing.T) {
	e := testEntry("006", "edge-02")
	first, second := newWireManager(t, e), newWireManager(t, e)
	first.setAck(func(conn int, c agentproto.AgentControl) bool { return conn == 1 && c.Kind == agentproto.AgentStartup })
	w := WireFor("v3.13.2")
	a, err := NewAgent(e, AgentOptions{Managers: []string{first.Addr(), second.Addr()}, Version: "v3.13.2", Wire: &w,
		NotifyTime: 10 * time.Millisecond, TimeReconnect: 30 * time.Millisecond, HandshakeTimeout: 200 * time.Millisecond,
		Retries: 2, RetryInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runFor(t, a)
	second.until(t, agentproto.AgentStartup, false)
	second.until(t, agentproto.AgentKeepalive, false)
	first.mu.Lock()
	conns := first.conns
	first.mu.Unlock()
	if conns != 3 || a.Server() != second.Addr() {
		t.Errorf("first manager saw %d connections (want 1 + 2 retries); agent on %s", conns, a.Server())
	}
}
