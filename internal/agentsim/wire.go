package agentsim

import (
	"github.com/muster-project/muster/internal/agentproto"
)

// Wire is what an agent of a given version does differently on the wire.
// Read from the agent sources at each tag (src/client-agent/start_agent.c,
// notify.c, src/shared/enrollment_op.c):
//
//	             startup                       "Agent started" event      first keepalive   enrollment
//	3.x, <4.4    #!-agent startup␠             1:ossec:ossec: Agent ...   at once           no V:
//	4.4, 4.5     #!-agent startup␠             1:wazuh-agent:ossec: ...   at once           no V:
//	4.6-4.14.6   #!-agent startup {"version"}  1:wazuh-agent:ossec: ...   at once           V:'vX.Y.Z'
//	4.14.7+      #!-agent startup {"version"}  1:wazuh-agent:ossec: ...   after notify_time V:'vX.Y.Z'
//
// The keepalive layout (uname line, "Wazuh vX.Y.Z", labels, "<md5> merged.mg",
// #"_agent_ip") and the secure-message format are the same in 3.13 and 4.x.
// A 3.13 agent takes _agent_ip from its control module (the host's main
// address), a 4.x one from its socket; the simulator sends the socket's.
type Wire struct {
	LegacyStartup        bool   // "#!-agent startup " without the JSON version (before 4.6)
	StartedLocation      string // location of the "Agent started" event
	KeepaliveAfterPeriod bool   // the first keepalive comes one notify_time after the handshake
	EnrollVersion        bool   // the enrollment request carries V:
}

// WireFor returns the behaviour of an agent of version ("v4.14.7").
func WireFor(version string) Wire {
	at := func(v string) bool { return agentproto.CompareVersions(version, v, true) >= 0 }
	w := Wire{LegacyStartup: !at("v4.6.0"), StartedLocation: "ossec", KeepaliveAfterPeriod: at("v4.14.7"),
		EnrollVersion: at("v4.6.0")}
	if at("v4.4.0") {
		w.StartedLocation = "wazuh-agent"
	}
	return w
}

// startup is the startup message the agent sends on every connection.
func (a *Agent) startup() []byte {
	if a.o.Wire != nil && a.o.Wire.LegacyStartup {
		return agentproto.FormatStartup("")
	}
	return agentproto.FormatStartup(a.o.Version)
}

// startedEvent is the event sent after the first handshake.
func (a *Agent) startedEvent() []byte {
	if a.o.Wire != nil && a.o.Wire.StartedLocation != "" {
		return agentproto.FormatEvent('1', a.o.Wire.StartedLocation,
			"ossec: Agent started: '"+a.Entry.Name+"->"+a.Entry.IP+"'.")
	}
	return agentproto.AgentStartedEvent(a.Entry.Name, a.Entry.IP)
}
