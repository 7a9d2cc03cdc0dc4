package remoted

import (
	"bytes"
	"sync/atomic"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// agentCounts are the secure channel's counters of one agent, the per-agent
// part of remoted's state (GET /agents/{agent_id}/daemons/stats).
type agentCounts struct {
	since                                        atomic.Int64 // unix seconds of the first message counted; 0: none yet
	keepalive, request, shutdown, startup, event atomic.Int64
	sentAck, sentAR, sentDiscarded, sentRequest  atomic.Int64
	sentShared                                   atomic.Int64
}

// received counts a decrypted payload from the agent by kind.
func (c *agentCounts) received(kind agentproto.AgentKind, now int64) {
	c.since.CompareAndSwap(0, now)
	switch kind {
	case agentproto.AgentEvent:
		c.event.Add(1)
	case agentproto.AgentRequest:
		c.request.Add(1)
	case agentproto.AgentStartup:
		c.startup.Add(1)
	case agentproto.AgentKeepalive:
		c.keepalive.Add(1)
	case agentproto.AgentShutdown:
		c.shutdown.Add(1)
	}
}

// sent counts a payload written to the agent (requests count themselves).
func (c *agentCounts) sent(payload []byte, err error) {
	switch {
	case err != nil:
		c.sentDiscarded.Add(1)
	case string(payload) == agentproto.MsgAck:
		c.sentAck.Add(1)
	case bytes.HasPrefix(payload, []byte("#!-execd ")):
		c.sentAR.Add(1)
	case bytes.HasPrefix(payload, []byte("#!-req ")):
	case bytes.HasPrefix(payload, []byte("#!-up file ")), bytes.HasPrefix(payload, []byte("#!-close file")),
		!bytes.HasPrefix(payload, []byte(agentproto.ControlHeader)):
		c.sentShared.Add(1)
	}
}

// AgentChannelStats returns the counters of the agents among ids that sent
// something since the channel started, in the order of ids; agents without
// counters are left out, as Wazuh's remoted leaves them out.
func (s *Server) AgentChannelStats(ids []int) []core.AgentChannelStats {
	var out []core.AgentChannelStats
	for _, id := range ids {
		st := s.keys.lookupID(core.FormatAgentID(id))
		if st == nil || st.counts.since.Load() == 0 {
			continue
		}
		c := &st.counts
		out = append(out, core.AgentChannelStats{ID: id, Since: c.since.Load(),
			Keepalive: c.keepalive.Load(), Request: c.request.Load(), Shutdown: c.shutdown.Load(),
			Startup: c.startup.Load(), Event: c.event.Load(), SentAck: c.sentAck.Load(), SentAR: c.sentAR.Load(),
			SentDiscarded: c.sentDiscarded.Load(), SentRequest: c.sentRequest.Load(), SentShared: c.sentShared.Load()})
	}
	return out
}
