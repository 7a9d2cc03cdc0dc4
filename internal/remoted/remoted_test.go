package remoted_test

import (
	"context"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/remoted"
)

func TestKeepaliveMakesAgentActive(t *testing.T) {
	for _, tc := range []struct {
		name, ip, proto string
		method          agentproto.Method
	}{
		{"aes-tcp-any", "any", "tcp", agentproto.MethodAES},
		{"blowfish-tcp-any", "any", "tcp", agentproto.MethodBlowfish},
		{"aes-tcp-single-host", "127.0.0.1", "tcp", agentproto.MethodAES},
		{"aes-udp-any", "any", "udp", agentproto.MethodAES},
		{"blowfish-udp-network", "127.0.0.0/8", "udp", agentproto.MethodBlowfish},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nil)
			k := e.reg.Register("web01", tc.ip)
			a, _ := e.run(k, func(o *agentsim.AgentOptions) { o.Protocol, o.Method = tc.proto, tc.method })
			eventually(t, "active", func() bool { return e.status(k.ID) == core.AgentActive })
			want := e.reg.MergedSum(core.DefaultGroup)
			eventually(t, "merged.mg applied", func() bool { return a.MergedSum() == want })
			eventually(t, "synced", func() bool {
				ag, _ := e.reg.Agent(k.ID)
				return ag.GroupConfigStatus == core.ConfigSynced && ag.MergedSum.V == want
			})
			ag, _ := e.reg.Agent(k.ID)
			if ag.Version.V != "Wazuh v4.14.7" || ag.OS.Name.V != "Debian GNU/Linux" || ag.OS.Platform.V != "debian" ||
				ag.OS.Major.V != "12" || ag.OS.Arch.V != "x86_64" || ag.IP.V != "127.0.0.1" || ag.Manager.V != "manager" {
				t.Errorf("keepalive fields not recorded: %+v", ag)
			}
			if ag.LastKeepAlive.V != e.clock.Now().Unix() || ag.StatusCode != 0 {
				t.Errorf("last keepalive %d, status code %d", ag.LastKeepAlive.V, ag.StatusCode)
			}
			if len(ag.Groups) != 1 || ag.Groups[0] != core.DefaultGroup {
				t.Errorf("groups %v, want the default group assigned", ag.Groups)
			}
		})
	}
}

func TestGroupChangePushesNewMergedFile(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("db01", "any")
	got := make(chan agentproto.ReceivedFile, 16)
	a, _ := e.run(k, func(o *agentsim.AgentOptions) {
		o.OnFile = func(f agentproto.ReceivedFile) { got <- f }
	})
	eventually(t, "first merged.mg", func() bool { return a.MergedSum() == e.reg.MergedSum(core.DefaultGroup) })
	e.reg.SetGroupFile("dbms", "<agent_config><localfile>db.log</localfile></agent_config>\n")
	e.reg.SetGroups(k.ID, "dbms")
	want := e.reg.MergedSum("dbms")
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f := <-got:
			if f.Sum != want {
				continue
			}
			group, files, err := agentproto.SplitMergedFile(f.Data)
			if err != nil || group != "dbms" || len(files) != 1 {
				t.Fatalf("merged.mg for dbms: group %q files %v err %v", group, files, err)
			}
			eventually(t, "synced to dbms", func() bool {
				ag, _ := e.reg.Agent(k.ID)
				return ag.MergedSum.V == want && ag.GroupConfigStatus == core.ConfigSynced
			})
			return
		case <-deadline:
			t.Fatal("the new group's merged.mg never arrived")
		}
	}
}

func TestShutdownDisconnects(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("app01", "any")
	a, _ := e.run(k, nil)
	eventually(t, "active", func() bool { return e.status(k.ID) == core.AgentActive })
	e.clock.Advance(time.Minute)
	a.Shutdown()
	eventually(t, "disconnected", func() bool { return e.status(k.ID) == core.AgentDisconnected })
	ag, _ := e.reg.Agent(k.ID)
	if ag.StatusCode != core.StatusCodeShutdown || ag.DisconnectionTime != e.clock.Now().Unix() {
		t.Errorf("status code %d disconnection time %d", ag.StatusCode, ag.DisconnectionTime)
	}
}

func TestNewKeyUsableAtOnce(t *testing.T) {
	e := start(t, func(o *remoted.Options) { o.KeyPoll = time.Hour })
	k := e.reg.Register("late", "any") // after Start: only the miss check can find it
	e.run(k, nil)
	eventually(t, "active", func() bool { return e.status(k.ID) == core.AgentActive })

	// AddKey, as the enrollment daemon calls it, without any registry change.
	pushed := core.KeyEntry{ID: 900, Name: "pushed", IP: "any", Key: core.NewKey()}
	e.srv.AddKey(pushed)
	a, err := agentsim.NewAgent(entry(pushed), agentsim.AgentOptions{Addr: e.addr, HandshakeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connect(context.Background()); err != nil {
		t.Fatalf("a key added with AddKey is refused: %v", err)
	}
	a.Shutdown()
}

func TestDeletedAgentIsDisconnected(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("gone", "any")
	a, _ := e.run(k, nil)
	eventually(t, "connected", func() bool { return a.Connected() && e.srv.Connected(k.ID) })
	e.reg.Delete(k.ID)
	eventually(t, "dropped", func() bool { return !e.srv.Connected(k.ID) })
}

func TestDuplicateConnection(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("twin", "any")
	connect := func() (*agentsim.Agent, error) {
		a, err := agentsim.NewAgent(entry(k), agentsim.AgentOptions{Addr: e.addr, HandshakeTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return a, a.Connect(context.Background())
	}
	// The first connection completes its handshake, then stays silent.
	first, err := connect()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Kill()
	if _, err := connect(); err == nil {
		t.Fatal("a second live connection with the same key was accepted")
	}
	// Once the first connection has been silent past connection_overtake_time, a new one wins.
	e.clock.Advance(61 * time.Second)
	twin, err := connect()
	if err != nil {
		t.Fatalf("overtake refused: %v", err)
	}
	twin.Shutdown()
}

func TestCommands(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("cmd01", "any")
	got := make(chan agentproto.ManagerMessage, 8)
	a, _ := e.run(k, func(o *agentsim.AgentOptions) {
		o.OnCommand = func(m agentproto.ManagerMessage) { got <- m }
	})
	eventually(t, "active", func() bool { return a.Connected() && e.status(k.ID) == core.AgentActive })
	ctx := context.Background()
	if err := e.srv.Send(ctx, k.ID, core.CommandReconnect); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Kind != agentproto.ManagerForceReconnect {
		t.Fatalf("got %+v, want force_reconnect", m)
	}
	// The old connection may still be closing when the new one is seen: a
	// command can go to it and be lost, so send again until one arrives.
	var restart agentproto.ManagerMessage
	for i := 0; restart.Kind != agentproto.ManagerExecd; i++ {
		if i == 100 {
			t.Fatal("no restart command reached the reconnected agent")
		}
		if a.Connected() && e.srv.Send(ctx, k.ID, core.CommandRestart) == nil {
			select {
			case restart = <-got:
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		time.Sleep(10 * time.Millisecond)
	}
	if restart.Message == "" {
		t.Fatalf("got %+v, want an execd restart", restart)
	}
	if err := e.srv.Send(ctx, 999, core.CommandRestart); err == nil {
		t.Error("a command to an unknown agent succeeded")
	}
}

// An agent silent for longer than agents_disconnection_time gets no
// command, though its connection is still open.
func TestCommandToSilentAgent(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("quiet", "any")
	st := agentsim.NewStats()
	// One keepalive right after the handshake, the next an hour later.
	a, _ := e.run(k, func(o *agentsim.AgentOptions) { o.Stats, o.NotifyTime = st, time.Hour })
	eventually(t, "the first keepalive answered", func() bool { return a.Connected() && st.Acks.Load() == 1 })
	if !e.srv.Connected(k.ID) {
		t.Fatal("the channel holds no connection for the agent")
	}
	e.clock.Advance(time.Hour) // past agents_disconnection_time
	if err := e.srv.Send(context.Background(), k.ID, core.CommandRestart); err == nil {
		t.Error("a command to a silent agent succeeded")
	}
	if !e.srv.Connected(k.ID) {
		t.Error("the silent agent's connection was dropped")
	}
}

func TestStartupVersionRefused(t *testing.T) {
	e := start(t, nil)
	k := e.reg.Register("future", "any")
	a, err := agentsim.NewAgent(entry(k), agentsim.AgentOptions{Addr: e.addr, Version: "v4.15.0",
		HandshakeTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Connect(context.Background()); err == nil {
		t.Fatal("a newer agent was accepted")
	}
	eventually(t, "status code 1", func() bool {
		ag, _ := e.reg.Agent(k.ID)
		return ag.StatusCode == core.StatusCodeInvalidVersion && ag.Status == core.AgentNeverConnected
	})
}

// A blocking write (a merged.mg push) sets the socket's write deadline; once
// that time has passed, the ACKs written by the poller must still go out.
// (They failed with an i/o timeout, closing every agent's connection one
// write timeout after its first push.)
func TestAcksAfterWriteTimeoutOfAPush(t *testing.T) {
	const writeTimeout = 50 * time.Millisecond
	e := start(t, func(o *remoted.Options) { o.WriteTimeout = writeTimeout })
	k := e.reg.Register("push01", "any")
	st := agentsim.NewStats()
	a, _ := e.run(k, func(o *agentsim.AgentOptions) { o.Stats = st; o.NotifyTime = 10 * time.Millisecond })
	eventually(t, "merged.mg applied", func() bool { return a.MergedSum() == e.reg.MergedSum(core.DefaultGroup) })
	time.Sleep(3 * writeTimeout) // a real socket deadline: the test clock does not move it
	acks := st.Acks.Load()
	eventually(t, "more ACKs", func() bool { return st.Acks.Load() > acks+5 })
	if st.Errors.Load() != 0 || st.Reconnects.Load() != 0 || !a.Connected() {
		t.Fatalf("the connection did not survive: errors %d, reconnects %d, connected %v",
			st.Errors.Load(), st.Reconnects.Load(), a.Connected())
	}
}
