package api

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// The endpoints that ask the agent itself, over the secure channel's
// request channel (issue 13, "Live agent endpoints").

var (
	// configurationEnum is the document's enum of {configuration}.
	configurationEnum = []string{"client", "buffer", "labels", "internal", "anti_tampering", "agentless", "global",
		"active_response", "alerts", "command", "rules", "decoders", "auth", "logging", "reports", "active-response",
		"cluster", "csyslog", "integration", "localfile", "socket", "remote", "syscheck", "rootcheck", "wdb",
		"wmodules", "rule_test"}
	statsComponents   = []string{"logcollector", "agent"}
	agentDaemonsParam = param{name: "daemons_list", kind: kList, enum: []string{"wazuh-analysisd", "wazuh-remoted"}}
)

func init() {
	partial["GET /agents/{agent_id}/daemons/stats"] = "wazuh-remoted from the secure channel's per-agent counters " +
		"(sca is always 0); wazuh-analysisd is Wazuh's failed item 1121 (no analysis engine)"
	partial["GET /agents/{agent_id}/config/{component}/{configuration}"] = "agent 000 answers for muster's own " +
		"parts as GET /manager/configuration/{component}/{configuration} does; the others are 1121"
}

// agentLiveRoutes are the three live agent endpoints.
func agentLiveRoutes() []route {
	read := rbac.Require(core.CheckAgentRead)
	G := http.MethodGet
	return []route{
		{G, "/agents/{agent_id}/config/{component}/{configuration}", bearerAuth, std, onAgentNode(getAgentLiveConfig), read},
		{G, "/agents/{agent_id}/daemons/stats", bearerAuth, agentParams([]param{agentDaemonsParam}),
			onAgentNode(getAgentDaemonsStats), read},
		{G, "/agents/{agent_id}/stats/{component}", bearerAuth, std, onAgentNode(getAgentComponentStats), read},
	}
}

// liveContext bounds a live request by api.yaml's intervals.request_timeout
// unless wait_for_complete is set, as Wazuh's distributed API does (3021).
func liveContext(c *call) (context.Context, context.CancelFunc) {
	secs := c.s.settings().API.Intervals.RequestTimeout
	if boolParam(c.q, "wait_for_complete") || secs <= 0 {
		return context.WithCancel(c.r.Context())
	}
	return context.WithTimeout(c.r.Context(), time.Duration(secs*float64(time.Second)))
}

// getAgentLiveConfig is GET /agents/{agent_id}/config/{component}/{configuration}.
var getAgentLiveConfig = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	id, err := pathAgentID(c)
	if err != nil {
		return err
	}
	comp, conf := chi.URLParam(c.r, "component"), chi.URLParam(c.r, "configuration")
	if err := checkComponentPair(comp, conf, configurationEnum); err != nil {
		return err
	}
	ctx, cancel := liveContext(c)
	defer cancel()
	lc, err := a.AgentConfig(ctx, c.sess.Perms, id, comp, conf)
	if err != nil {
		return err
	}
	if lc.Manager {
		v, ok := c.s.activeConfig(comp, conf)
		if !ok {
			e := core.Ef(1121, "Please verify that the component '%s' is properly configured", comp)
			e.Status = http.StatusBadRequest // raised as a WazuhError for the manager's own sockets
			return e
		}
		writeJSON(c.w, c.r, data{Data: v})
		return nil
	}
	writeJSON(c.w, c.r, data{Data: lc.Data})
	return nil
})

// getAgentComponentStats is GET /agents/{agent_id}/stats/{component}.
var getAgentComponentStats = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
	id, err := pathAgentID(c)
	if err != nil {
		return nil, err
	}
	comp := chi.URLParam(c.r, "component")
	if !slices.Contains(statsComponents, comp) {
		return nil, enumError("component", comp, statsComponents)
	}
	ctx, cancel := liveContext(c)
	defer cancel()
	return a.AgentComponentStats(ctx, c.sess.Perms, id, comp)
})

// getAgentDaemonsStats is GET /agents/{agent_id}/daemons/stats.
var getAgentDaemonsStats = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
	id, err := pathAgentID(c)
	if err != nil {
		return nil, err
	}
	return a.AgentDaemonsStats(c.r.Context(), c.sess.Perms, id, listParam(c.q, "daemons_list"))
})
