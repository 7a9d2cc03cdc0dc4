package agentsim

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

func TestWireFor(t *testing.T) {
	for _, c := range []struct {
		version string
		want    Wire
	}{
		{"v3.13.2", Wire{LegacyStartup: true, StartedLocation: "ossec"}},
		{"v4.3.11", Wire{LegacyStartup: true, StartedLocation: "ossec"}},
		{"v4.4.0", Wire{LegacyStartup: true, StartedLocation: "wazuh-agent"}},
		{"v4.6.0", Wire{StartedLocation: "wazuh-agent", EnrollVersion: true}},
		{"v4.14.6", Wire{StartedLocation: "wazuh-agent", EnrollVersion: true}},
		{"v4.14.7", Wire{StartedLocation: "wazuh-agent", EnrollVersion: true, KeepaliveAfterPeriod: true}},
		{"v5.0.0", Wire{StartedLocation: "wazuh-agent", EnrollVersion: true, KeepaliveAfterPeriod: true}},
	} {
		if got := WireFor(c.version); got != c.want {
			t.Errorf("WireFor(%s) = %+v, want %+v", c.version, got, c.want)
		}
	}
}

// TestDefaultUnameUnchanged keeps plain agent-sim's keepalive as it was.
func TestDefaultUnameUnchanged(t *testing.T) {
	want := "Linux |sim-00001 |6.1.0-18-amd64 |#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) " +
		"|x86_64 [Debian GNU/Linux|debian: 12 (bookworm)]"
	if got := defaultOS.Uname("sim-00001"); got != want {
		t.Errorf("default uname\n got  %q\n want %q", got, want)
	}
}

// fleetAgentOptions builds an agent the way runFleet does.
func fleetAgent(t *testing.T, e agentproto.KeyEntry, version string, os OS, labels []Label, notify time.Duration,
	managers ...string) *Agent {
	t.Helper()
	w := WireFor(version)
	a, err := NewAgent(e, AgentOptions{Managers: managers, Version: version, NotifyTime: notify, Wire: &w,
		Uname: os.Uname(e.Name), Labels: labelLines(labels), HandshakeTimeout: 5 * time.Second,
		Retries: 2, RetryInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func runFor(t *testing.T, a *Agent) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// TestWire313 checks what a 3.13.2 agent sends, as the manager decodes it:
// the startup without JSON, the "Agent started" event from "ossec", then a
// keepalive at once (3.13 has no first-keepalive delay), with its OS, version
// and labels in 3.13's layout.
func TestWire313(t *testing.T) {
	e := testEntry("009", "legacy-db")
	m := newWireManager(t, e)
	os := osPresets["centos-7"]
	a := fleetAgent(t, e, "v3.13.2", os, []Label{{Key: "env", Value: "prod"}, {Key: "owner", Value: "dba team"},
		{Key: "secret", Value: "x", Hidden: true}}, time.Hour, m.Addr())
	runFor(t, a)

	st := m.next(t)
	if st.Raw != "#!-agent startup " || st.Control.Kind != agentproto.AgentStartup || st.Control.Startup.Info {
		t.Fatalf("startup %q %+v", st.Raw, st.Control)
	}
	if ev := m.next(t); ev.Raw != "1:ossec:ossec: Agent started: 'legacy-db->any'." {
		t.Errorf("started event %q", ev.Raw)
	}
	ka := m.next(t) // notify_time is an hour: only an immediate first keepalive comes
	if ka.Control.Kind != agentproto.AgentKeepalive {
		t.Fatalf("want a keepalive, got %q", ka.Raw)
	}
	k := ka.Control.Keepalive
	if k.Version != "Wazuh v3.13.2" || k.MergedSum != "x" || k.AgentIP != "127.0.0.1" {
		t.Errorf("keepalive %+v", k)
	}
	wantOS := agentproto.OSInfo{Name: "CentOS Linux", Platform: "centos", Version: "7.9", Major: "7", Minor: "9",
		Arch: "x86_64", Uname: "Linux |legacy-db |3.10.0-1160.119.1.el7.x86_64 |#1 SMP Tue Jun 4 14:43:51 UTC 2024 |x86_64"}
	if k.OS != wantOS {
		t.Errorf("OS\n got  %+v\n want %+v", k.OS, wantOS)
	}
	if want := []string{`"env":prod`, `"owner":dba team`, `!"secret":x`}; !slices.Equal(k.Labels, want) {
		t.Errorf("labels %q, want %q", k.Labels, want)
	}
	want := "#!-Linux |legacy-db |3.10.0-1160.119.1.el7.x86_64 |#1 SMP Tue Jun 4 14:43:51 UTC 2024 |x86_64 " +
		"[CentOS Linux|centos: 7.9] - Wazuh v3.13.2\n\"env\":prod\n\"owner\":dba team\n!\"secret\":x\nx merged.mg\n" +
		"#\"_agent_ip\":127.0.0.1\n"
	if ka.Raw != want {
		t.Errorf("keepalive text\n got  %q\n want %q", ka.Raw, want)
	}
}

// TestWire4147 checks a 4.14.7 agent: the JSON startup, the event from
// "wazuh-agent", and no keepalive before one notify_time has passed: with
// an hour's period, the shutdown follows the event directly.
func TestWire4147(t *testing.T) {
	e := testEntry("001", "web-01")
	m := newWireManager(t, e)
	a := fleetAgent(t, e, "v4.14.7", osPresets["ubuntu-22.04"], nil, time.Hour, m.Addr())
	stop := runFor(t, a)
	if st := m.next(t); st.Raw != `#!-agent startup {"version":"v4.14.7"}` || st.Control.Startup.Version != "v4.14.7" {
		t.Fatalf("startup %q", st.Raw)
	}
	if ev := m.next(t); ev.Raw != "1:wazuh-agent:ossec: Agent started: 'web-01->any'." {
		t.Errorf("started event %q", ev.Raw)
	}
	stop()
	if sd := m.next(t); sd.Control.Kind != agentproto.AgentShutdown {
		t.Errorf("after the event, before notify_time: want the shutdown, got %q", sd.Raw)
	}
}

// TestWire4147Keepalive checks the 4.14.7 keepalive's OS fields as the
// manager reads them, for Ubuntu and Windows hosts.
func TestWire4147Keepalive(t *testing.T) {
	for _, c := range []struct {
		preset string
		want   agentproto.OSInfo
	}{
		{"ubuntu-22.04", agentproto.OSInfo{Name: "Ubuntu", Platform: "ubuntu", Version: "22.04.4 LTS", Major: "22",
			Minor: "04", Codename: "Jammy Jellyfish", Arch: "x86_64",
			Uname: "Linux |web-01 |5.15.0-105-generic |#115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024 |x86_64"}},
		{"windows-server-2022", agentproto.OSInfo{Name: "Microsoft Windows Server 2022 Datacenter", Platform: "windows",
			Version: "10.0.20348.2700", Major: "10", Minor: "0", Build: "20348.2700", Arch: "x86_64",
			Uname: "Microsoft Windows Server 2022 Datacenter"}},
		{"macos-14", agentproto.OSInfo{Name: "macOS", Platform: "darwin", Version: "14.6.1", Major: "14", Minor: "6",
			Codename: "Sonoma", Arch: "arm64", Uname: "Darwin |web-01 |23.6.0 |Darwin Kernel Version 23.6.0: Mon Jul 29 " +
				"21:14:46 PDT 2024; root:xnu-10063.141.2~1/RELEASE_ARM64_T6031 |arm64"}},
	} {
		t.Run(c.preset, func(t *testing.T) {
			e := testEntry("001", "web-01")
			m := newWireManager(t, e)
			a := fleetAgent(t, e, "v4.14.7", osPresets[c.preset], []Label{{Key: "env", Value: "prod"}},
				20*time.Millisecond, m.Addr())
			runFor(t, a)
			k := m.until(t, agentproto.AgentKeepalive, false).Control.Keepalive
			if k.OS != c.want {
				t.Errorf("OS\n got  %+v\n want %+v", k.OS, c.want)
			}
			if k.Version != "Wazuh v4.14.7" || !slices.Equal(k.Labels, []string{`"env":prod`}) {
				t.Errorf("keepalive %+v", k)
			}
		})
	}
}
