package core

import (
	"context"
	"slices"
	"strings"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// ConnectionCounts counts agents per connection status.
type ConnectionCounts struct {
	Active         int `json:"active"`
	Disconnected   int `json:"disconnected"`
	NeverConnected int `json:"never_connected"`
	Pending        int `json:"pending"`
	Total          int `json:"total"`
}

// ConfigurationCounts counts agents per group configuration sync state.
type ConfigurationCounts struct {
	Synced    int `json:"synced"`
	NotSynced int `json:"not_synced"`
	Total     int `json:"total"`
}

// StatusSummary is the data of GET /agents/summary/status.
type StatusSummary struct {
	Connection    ConnectionCounts    `json:"connection"`
	Configuration ConfigurationCounts `json:"configuration"`
}

// readFilter is the caller's agent:read filter for requests naming no agent;
// ok is false when no agent is visible.
func (a *Agents) readFilter(ctx context.Context, perms *rbac.Permissions) (AgentFilter, bool, error) {
	_, t, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", nil)
	if err != nil {
		return AgentFilter{}, false, err
	}
	f := AgentFilter{Now: a.now(), RBAC: &t.Filter}
	return f, !t.Filter.None(), nil
}

// StatusSummary is GET /agents/summary/status (agent 000 left out).
func (a *Agents) StatusSummary(ctx context.Context, perms *rbac.Permissions) (*StatusSummary, error) {
	var s StatusSummary
	f, ok, err := a.readFilter(ctx, perms)
	if err != nil || !ok {
		return &s, err
	}
	f.NotManager = true
	rows, _, err := a.store.CountAgents(ctx, AgentCountQuery{Filter: f, Fields: []string{"status", "group_config_status"}})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		switch r.Values[0].V {
		case AgentActive:
			s.Connection.Active += r.Count
		case AgentDisconnected:
			s.Connection.Disconnected += r.Count
		case AgentNeverConnected:
			s.Connection.NeverConnected += r.Count
		case AgentPending:
			s.Connection.Pending += r.Count
		}
		if r.Values[1].V == ConfigSynced {
			s.Configuration.Synced += r.Count
		} else {
			s.Configuration.NotSynced += r.Count
		}
		s.Connection.Total += r.Count
	}
	s.Configuration.Total = s.Connection.Total
	return &s, nil
}

// OSSummary is GET /agents/summary/os: the platforms of the agents, sorted.
func (a *Agents) OSSummary(ctx context.Context, perms *rbac.Permissions) (*Bulk, error) {
	b := NewBulk("Showing the operative system of all specified agents",
		"Could not get the operative system of some agents", "Could not get the operative system of the agents")
	f, ok, err := a.readFilter(ctx, perms)
	if err != nil || !ok {
		return b, err
	}
	f.NotManager = true
	rows, _, err := a.store.CountAgents(ctx, AgentCountQuery{Filter: f, Fields: []string{"os.platform"},
		Sort: []agentql.SortField{{Field: "os.platform"}}})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, r := range rows {
		if r.Values[0].Valid && r.Values[0].V != "" {
			names = append(names, r.Values[0].V)
		}
	}
	slices.Sort(names)
	for _, n := range names[:min(len(names), 500)] {
		b.Add(n)
	}
	return b, nil
}

// Summary is the data of GET /agents/summary.
type Summary struct {
	Status struct {
		Active         int `json:"active"`
		Disconnected   int `json:"disconnected"`
		NeverConnected int `json:"never_connected"`
		Pending        int `json:"pending"`
	} `json:"status"`
	OS     map[string]int `json:"os"`
	Groups map[string]int `json:"groups"`
}

// Summary is GET /agents/summary over the requested and permitted agents
// (agent 000 left out; unknown ids ignored).
func (a *Agents) Summary(ctx context.Context, perms *rbac.Permissions, ids []string) (*Summary, error) {
	s := &Summary{OS: map[string]int{}, Groups: map[string]int{}}
	_, t, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", ids)
	if err != nil {
		return nil, err
	}
	f := AgentFilter{Now: a.now(), NotManager: true}
	if t.Explicit {
		f.IDs = []int{}
		for _, id := range t.Allowed {
			if n, ok := ParseAgentID(id); ok {
				f.IDs = append(f.IDs, n)
			}
		}
	} else {
		f.RBAC = &t.Filter
	}
	rows, _, err := a.store.CountAgents(ctx, AgentCountQuery{Filter: f, Fields: []string{"status", "os.platform"}})
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		switch r.Values[0].V {
		case AgentActive:
			s.Status.Active += r.Count
		case AgentDisconnected:
			s.Status.Disconnected += r.Count
		case AgentNeverConnected:
			s.Status.NeverConnected += r.Count
		case AgentPending:
			s.Status.Pending += r.Count
		}
		if p := r.Values[1]; p.Valid && p.V != "" {
			s.OS[p.V] += r.Count
		}
	}
	groups, err := a.store.Groups(ctx, &f)
	if err != nil {
		return nil, err
	}
	for g, n := range groups {
		if n > 0 {
			s.Groups[g] = n
		}
	}
	return s, nil
}

// DistinctPage is GET /agents/stats/distinct: rows of the grouped fields
// with their counts; the total counts agents, as Wazuh's does.
type DistinctPage struct {
	Bulk   *Bulk
	Fields []string
	Rows   []AgentCount
}

// Distinct is GET /agents/stats/distinct.
func (a *Agents) Distinct(ctx context.Context, perms *rbac.Permissions, fields []string, q AgentQuery) (*DistinctPage, error) {
	f, ok, err := a.readFilter(ctx, perms)
	if err != nil {
		return nil, err
	}
	p := &DistinctPage{Bulk: NewBulk(agentListMsgs[0], agentListMsgs[1], agentListMsgs[2])}
	if q.Q != "" {
		if f.Cond, err = conditions(AgentQuery{Q: q.Q}); err != nil {
			return nil, err
		}
	}
	if fields == nil {
		p.Fields = agentql.AgentFields
	} else if p.Fields, err = agentql.ParseSelect(strings.Join(fields, ","), agentql.AgentFields); err != nil {
		return nil, qlError(err)
	}
	sorts, err := agentql.ParseSort(q.Sort, append(slices.Clone(agentql.AgentFields), "count"))
	if err != nil {
		return nil, qlError(err)
	}
	if q.HasSearch {
		sr := agentql.ParseSearch(q.Search)
		f.Search = &sr
	}
	if !ok {
		p.Bulk.Total = 0
		return p, nil
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 500
	}
	if q.HugeOffset {
		return nil, hugeOffsetError()
	}
	rows, total, err := a.store.CountAgents(ctx, AgentCountQuery{Filter: f, Fields: p.Fields, Sort: sorts,
		Offset: q.Offset, Limit: limit})
	if err != nil {
		return nil, qlError(err)
	}
	p.Rows, p.Bulk.Total = rows, total
	return p, nil
}
