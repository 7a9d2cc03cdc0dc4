package api

import (
	"encoding/json"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/core"
)

// agentsFrom returns the registry, or a 500 when the server has none.
func agentsFrom(c *call) (*core.Agents, error) {
	if c.s.agents == nil {
		return nil, core.Internal(errNoRegistry)
	}
	return c.s.agents, nil
}

type registryError string

func (e registryError) Error() string { return string(e) }

const errNoRegistry = registryError("api: the server was built without an agent registry")

// agentPageHandler serves a list built on the GET /agents machinery.
func agentPageHandler(list func(a *core.Agents, c *call, q core.AgentQuery) (*core.AgentPage, error)) func(*call) error {
	return framework(func(c *call) error {
		a, err := agentsFrom(c)
		if err != nil {
			return err
		}
		p, err := list(a, c, agentQuery(c.q))
		if err != nil {
			return err
		}
		return writeAgentPage(c.w, c.r, p)
	})
}

var (
	getAgents = agentPageHandler(func(a *core.Agents, c *call, q core.AgentQuery) (*core.AgentPage, error) {
		return a.ListAgents(c.r.Context(), c.sess.Perms, q)
	})
	getAgentsNoGroup = agentPageHandler(func(a *core.Agents, c *call, q core.AgentQuery) (*core.AgentPage, error) {
		return a.AgentsNoGroup(c.r.Context(), c.sess.Perms, q)
	})
	getAgentsOutdated = agentPageHandler(func(a *core.Agents, c *call, q core.AgentQuery) (*core.AgentPage, error) {
		return a.AgentsOutdated(c.r.Context(), c.sess.Perms, q)
	})
	getGroupAgents = agentPageHandler(func(a *core.Agents, c *call, q core.AgentQuery) (*core.AgentPage, error) {
		g, err := pathGroupID(c)
		if err != nil {
			return nil, err
		}
		return a.GroupAgents(c.r.Context(), c.sess.Perms, g, q)
	})
)

// agentBulkHandler serves an endpoint answering with the affected-items envelope.
func agentBulkHandler(run func(a *core.Agents, c *call) (*core.Bulk, error)) func(*call) error {
	return framework(func(c *call) error {
		a, err := agentsFrom(c)
		if err != nil {
			return err
		}
		b, err := run(a, c)
		if err != nil {
			return err
		}
		writeBulk(c.w, c.r, b)
		return nil
	})
}

var (
	getAgentKey = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		id, err := pathAgentID(c)
		if err != nil {
			return nil, err
		}
		return a.AgentKey(c.r.Context(), c.sess.Perms, id)
	})
	deleteAgents = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		q := agentQuery(c.q)
		return a.DeleteAgents(c.r.Context(), c.sess.Perms, q)
	})
	getAgentGroupSync = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		id, err := pathAgentID(c)
		if err != nil {
			return nil, err
		}
		c.w.Header().Set("Deprecated", "true")
		return a.GroupSync(c.r.Context(), c.sess.Perms, id)
	})
	getAgentsSummaryOS = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.OSSummary(c.r.Context(), c.sess.Perms)
	})
	putAgentRestart = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		id, err := pathAgentID(c)
		if err != nil {
			return nil, err
		}
		return a.RestartAgents(c.r.Context(), c.sess.Perms, []string{id})
	})
	putAgentsRestart = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.RestartAgents(c.r.Context(), c.sess.Perms, agentListParam(c.q, "agents_list"))
	})
	putAgentsReconnect = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.ReconnectAgents(c.r.Context(), c.sess.Perms, agentListParam(c.q, "agents_list"))
	})
	putGroupRestart = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		g, err := pathGroupID(c)
		if err != nil {
			return nil, err
		}
		return a.RestartGroup(c.r.Context(), c.sess.Perms, g)
	})
	putNodeRestart = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		node := chi.URLParam(c.r, "node_id")
		if !reNames.MatchString(node) {
			return nil, core.BadRequest("'" + node + "' is not a 'names' - 'node_id'")
		}
		return a.RestartNode(c.r.Context(), c.sess.Perms, node)
	})
	putAgentsUpgrade = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.UpgradeAgents(c.r.Context(), c.sess.Perms, agentQuery(c.q))
	})
	getUpgradeResult = agentBulkHandler(func(a *core.Agents, c *call) (*core.Bulk, error) {
		return a.UpgradeResults(c.r.Context(), c.sess.Perms, agentQuery(c.q))
	})
)

// getAgentsSummaryStatus is GET /agents/summary/status.
var getAgentsSummaryStatus = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	s, err := a.StatusSummary(c.r.Context(), c.sess.Perms)
	if err != nil {
		return err
	}
	writeJSON(c.w, c.r, data{Data: s})
	return nil
})

// getAgentsSummary is GET /agents/summary.
var getAgentsSummary = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	s, err := a.Summary(c.r.Context(), c.sess.Perms, agentListParam(c.q, "agents_list"))
	if err != nil {
		return err
	}
	writeJSON(c.w, c.r, data{Data: s})
	return nil
})

// getAgentsUninstall is GET /agents/uninstall: it only checks the permission.
var getAgentsUninstall = framework(func(c *call) error {
	if !c.sess.Perms.Can("agent:uninstall", "*:*:*") {
		return c.forbidden("*:*")
	}
	writeJSON(c.w, c.r, message{Message: "User has permission to uninstall agents"})
	return nil
})

// getAgentsDistinct is GET /agents/stats/distinct.
var getAgentsDistinct = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	p, err := a.Distinct(c.r.Context(), c.sess.Perms, agentListParam(c.q, "fields"), agentQuery(c.q))
	if err != nil {
		return err
	}
	items := make([]any, len(p.Rows))
	for i, r := range p.Rows {
		items[i] = countedItem(p.Fields, r)
	}
	p.Bulk.Affected = items
	writeBulk(c.w, c.r, p.Bulk)
	return nil
})

// countedItem renders a grouped row: the fields (os.* nested) with "N/A"
// for missing values, then "count".
func countedItem(fields []string, r core.AgentCount) Object {
	var o, os Object
	for i, f := range fields {
		v := r.Values[i]
		var val any = "N/A"
		if v.Valid {
			val = typedValue(f, v.V)
		} else if f == "group" {
			val = []string{"N/A"}
		}
		if name, ok := strings.CutPrefix(f, "os."); ok {
			os = append(os, Field{name, val})
			continue
		}
		o = append(o, Field{f, val})
	}
	if os != nil {
		o = append(Object{{"os", os}}, o...)
	}
	return append(o, Field{"count", r.Count})
}

// typedValue converts a grouped value (read as text) to its API form.
func typedValue(field, v string) any {
	switch field {
	case "id":
		if n, err := json.Number(v).Int64(); err == nil {
			return core.FormatAgentID(int(n))
		}
	case "status_code":
		if n, err := json.Number(v).Int64(); err == nil {
			return n
		}
	case "dateAdd", "lastKeepAlive", "disconnection_time":
		if n, err := json.Number(v).Int64(); err == nil {
			return core.FormatDate(n)
		}
	case "group":
		return strings.Split(v, ",")
	}
	return v
}

// getOverviewAgents is GET /overview/agents.
var getOverviewAgents = framework(func(c *call) error {
	a, err := agentsFrom(c)
	if err != nil {
		return err
	}
	o, err := a.Overview(c.r.Context(), c.sess.Perms)
	if err != nil {
		return err
	}
	list := func(fields []string, rows []core.AgentCount) []any {
		out := make([]any, len(rows))
		for i, r := range rows {
			out[i] = countedItem(fields, r)
		}
		return out
	}
	last := make([]any, len(o.LastAgent))
	for i := range o.LastAgent {
		last[i] = agentRaw(&o.LastAgent[i])
	}
	groups := o.Groups
	if groups == nil {
		groups = []any{}
	}
	writeJSON(c.w, c.r, data{Data: Object{
		{"nodes", list([]string{"node_name"}, o.Nodes)},
		{"groups", groups},
		{"agent_os", list([]string{"os.name", "os.platform", "os.version"}, o.AgentOS)},
		{"agent_status", o.AgentStatus},
		{"agent_version", list([]string{"version"}, o.AgentVersion)},
		{"last_registered_agent", last},
	}})
	return nil
})
