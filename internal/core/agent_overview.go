package core

import (
	"context"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// Overview is the data of GET /overview/agents; the counted lists hold
// their grouped values with "N/A" for missing ones.
type Overview struct {
	Nodes        []AgentCount
	Groups       []any
	AgentOS      []AgentCount
	AgentStatus  *StatusSummary
	AgentVersion []AgentCount
	LastAgent    []Agent
}

// Overview is GET /overview/agents (agent:read and group:read).
func (a *Agents) Overview(ctx context.Context, perms *rbac.Permissions) (*Overview, error) {
	o := &Overview{}
	f, ok, err := a.readFilter(ctx, perms)
	if err != nil {
		return nil, err
	}
	f.NotManager = true
	count := func(fields ...string) ([]AgentCount, error) {
		if !ok {
			return nil, nil
		}
		rows, _, err := a.store.CountAgents(ctx, AgentCountQuery{Filter: f, Fields: fields, Limit: 500})
		return rows, err
	}
	if o.Nodes, err = count("node_name"); err != nil {
		return nil, err
	}
	if o.AgentOS, err = count("os.name", "os.platform", "os.version"); err != nil {
		return nil, err
	}
	if o.AgentVersion, err = count("version"); err != nil {
		return nil, err
	}
	if o.AgentStatus, err = a.StatusSummary(ctx, perms); err != nil {
		return nil, err
	}
	groups, err := a.ListGroups(ctx, perms, nil, ListQuery{Limit: MaxAgentLimit})
	if err != nil {
		return nil, err
	}
	o.Groups = groups.Affected
	if ok {
		last, _, err := a.store.ListAgents(ctx, AgentListQuery{Filter: f, Fields: AllAgentFields,
			Sort: []agentql.SortField{{Field: "dateAdd", Desc: true}}, Limit: 1})
		if err != nil {
			return nil, err
		}
		o.LastAgent = last
	}
	return o, nil
}
