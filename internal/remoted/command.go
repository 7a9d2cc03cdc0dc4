package remoted

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// Active-response restart messages. Agents from 4.2.0 take the JSON form;
// older ones the legacy line.
const (
	restartJSON   = `{"version":1,"origin":{"name":null,"module":"API"},"command":"restart-wazuh0","parameters":{"extra_args":[],"alert":{}}}`
	restartLegacy = "restart-ossec0 - null (from_the_server) (no_rule_id)"
)

// ErrNotConnected is a command for an agent the channel cannot reach.
var ErrNotConnected = fmt.Errorf("remoted: agent is not connected")

// Send delivers a registry command (core.CommandRestart, core.CommandReconnect)
// to a connected agent; it implements core.AgentCommander.
func (s *Server) Send(ctx context.Context, agentID int, command string) error {
	st := s.keys.lookupID(core.FormatAgentID(agentID))
	if st == nil {
		return ErrNotConnected
	}
	var payload []byte
	switch command {
	case core.CommandReconnect:
		payload = []byte(agentproto.MsgForceReconnect)
	case core.CommandRestart:
		st.mu.Lock()
		v := st.version
		st.mu.Unlock()
		if v == "" || agentproto.CompareVersions(v, "v4.2.0", true) >= 0 {
			payload = agentproto.FormatExecd(restartJSON)
		} else {
			payload = agentproto.FormatExecd(restartLegacy)
		}
	default:
		return fmt.Errorf("remoted: unknown command %q", command)
	}
	st.mu.Lock()
	silent := time.Duration(s.o.Now().UnixNano() - st.lastRecv)
	st.mu.Unlock()
	if silent > s.o.DisconnectionTime {
		return ErrNotConnected // remoted's (1245): sending to a disconnected agent
	}
	if err := s.sendTo(st, payload, true); err != nil {
		if err == errNoPath {
			return ErrNotConnected
		}
		return err
	}
	s.stats.SentCommands.Add(1)
	s.log.Info("remoted: command sent", "agent", st.idText, "command", command)
	return nil
}

// Connected reports whether the channel holds a reply path for the agent.
func (s *Server) Connected(agentID int) bool {
	st := s.keys.lookupID(core.FormatAgentID(agentID))
	if st == nil {
		return false
	}
	c, u, _, _ := st.replyPath()
	return c != nil || u.IsValid()
}

// versionPrefix strips "Wazuh " from a reported version.
func versionPrefix(v string) string { return strings.TrimPrefix(v, "Wazuh ") }
