package core

import (
	"context"
	"strconv"
	"strings"
)

// AgentRequester carries questions to agents over the secure channel: the
// request channel of Wazuh's remoted, and remoted's per-agent counters.
// The registry finds it on its AgentCommander (a commander that also
// implements this interface); without one every agent is unreachable.
type AgentRequester interface {
	// AgentRequest sends "<component> <command>" to the agent and returns
	// the answer as Wazuh's remoted hands it to the API: the agent's text
	// ("ok {...}", "err ...", a JSON object) or the channel's own "err ..."
	// when it could not deliver or got no answer. The error is only the
	// context's (the API's request_timeout).
	//
	// Node is the cluster node the registry says the agent reports to: the
	// hook for node-to-node routing. Today every request goes to this
	// node's secure channel.
	AgentRequest(ctx context.Context, r AgentRequest) (string, error)
	// AgentChannelStats returns the channel's counters for those of the
	// agents that sent something since it started.
	AgentChannelStats(ctx context.Context, node string, ids []int) ([]AgentChannelStats, error)
}

// AgentRequest is one request to an agent's component.
type AgentRequest struct {
	Node      string // node_name of the agent; "" when unknown
	AgentID   int
	Component string // "agent", "logcollector", ...
	Command   string // "getconfig client", "getstate"
}

// AgentChannelStats are the secure channel's counters of one agent.
type AgentChannelStats struct {
	ID    int
	Since int64 // unix seconds of the first message counted
	// Received control messages by kind, and events.
	Keepalive, Request, Shutdown, Startup, Event int64
	// Sent messages: ACKs, active responses, refused writes, requests,
	// shared-file messages.
	SentAck, SentAR, SentDiscarded, SentRequest, SentShared int64
}

// requester is the registry's request channel, or nil.
func (a *Agents) requester() AgentRequester {
	r, _ := a.commands.(AgentRequester)
	return r
}

// olderThan reports whether an agent version ("Wazuh v4.2.0", "v4.2.0")
// is below min ("4.2.0"); an unreadable version is not older.
func olderThan(version, min string) bool {
	fields := func(v string) []int {
		v = strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(v, "Wazuh")), "v")
		var out []int
		for _, p := range strings.SplitN(v, ".", 3) {
			n, err := strconv.Atoi(digits(p))
			if err != nil {
				return nil
			}
			out = append(out, n)
		}
		return out
	}
	a, b := fields(version), fields(min)
	if len(a) != 3 || len(b) != 3 {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// digits is the leading run of decimal digits of s ("7-rc1" → "7").
func digits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// AgentNode is the node an agent is connected to (its node_name), "" when
// the id names no agent: a cluster asks that node for what needs the agent.
func (a *Agents) AgentNode(ctx context.Context, id string) (string, error) {
	n, ok := ParseAgentID(id)
	if !ok {
		return "", nil
	}
	agents, err := a.store.GetAgents(ctx, []int{n})
	if err != nil || len(agents) == 0 || !agents[0].NodeName.Valid {
		return "", err
	}
	return agents[0].NodeName.V, nil
}
