package core

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// explicitIDs returns the ids of a list parameter, or nil when it holds
// the keyword "all" (every permitted agent).
func explicitIDs(list []string) []string {
	if slices.Contains(list, "all") {
		return nil
	}
	return list
}

// requirements renders the filters an agent failed, for error 1731.
func requirements(q AgentQuery, status []string) string {
	var parts []string
	if len(status) > 0 && !(len(status) == 1 && status[0] == "all") {
		quoted := make([]string, len(status))
		for i, s := range status {
			quoted[i] = "'" + s + "'"
		}
		parts = append(parts, "status: ["+strings.Join(quoted, ", ")+"]")
	}
	if q.OlderThan != "" {
		parts = append(parts, "older_than: "+q.OlderThan)
	}
	order := []string{"manager", "version", "group", "node_name", "name", "ip", "registerIP",
		"os.version", "os.name", "os.platform"}
	for _, field := range order {
		for _, f := range q.Filters {
			if f.Field == field {
				v := f.Value
				if field == "version" {
					v = agentql.NormalizeVersionFilter(v)
				}
				parts = append(parts, field+": "+v)
			}
		}
	}
	if q.Q != "" {
		parts = append(parts, "q: "+q.Q)
	}
	return "some of the requirements are not met -> " + strings.Join(parts, ", ")
}

// eligible returns the agents among f matching the filters of q.
func (a *Agents) eligible(ctx context.Context, f AgentFilter, q AgentQuery) (map[int]bool, error) {
	var err error
	if f.Cond, err = conditions(q); err != nil {
		return nil, err
	}
	agents, _, err := a.store.ListAgents(ctx, AgentListQuery{Filter: f, Fields: FieldID})
	if err != nil {
		return nil, qlError(err)
	}
	out := make(map[int]bool, len(agents))
	for _, ag := range agents {
		out[ag.ID] = true
	}
	return out, nil
}

// actOn applies Wazuh's per-agent checks of the bulk actions over a target:
// denied (4000), 000 (1703), unknown (1701), then filters (1731); it
// returns the ids that passed. In "all" mode the agents come from the
// filter, and excluded codes are dropped.
func (a *Agents) actOn(ctx context.Context, t *rbac.Target, b *Bulk, q AgentQuery, status []string,
	notEligible *Error) ([]int, error) {
	f := AgentFilter{Now: a.now()}
	if !t.Explicit {
		filter := t.Filter
		f.RBAC, f.NotManager = &filter, true
		if filter.None() {
			return nil, nil
		}
		ok, err := a.eligible(ctx, f, q)
		if err != nil {
			return nil, err
		}
		ids := make([]int, 0, len(ok))
		for id := range ok {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return ids, nil
	}
	for _, id := range t.Denied {
		b.Fail(Denied(t.Type), id)
	}
	var named []string
	for _, id := range t.Allowed {
		if id == "000" {
			b.Fail(E(1703), id)
			continue
		}
		named = append(named, id)
	}
	ids, missing, err := a.existing(ctx, named)
	if err != nil {
		return nil, err
	}
	for _, id := range missing {
		b.Fail(E(1701), id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	f.IDs = ids
	ok, err := a.eligible(ctx, f, q)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, id := range ids {
		if ok[id] {
			out = append(out, id)
		} else {
			b.Fail(notEligible, FormatAgentID(id))
		}
	}
	return out, nil
}

// DeleteAgents is DELETE /agents. q.AgentsList is required ("all" for every
// permitted agent); status "all" and older_than "0s" disable those filters.
func (a *Agents) DeleteAgents(ctx context.Context, perms *rbac.Permissions, q AgentQuery) (*Bulk, error) {
	b := NewBulk("All selected agents were deleted", "Some agents were not deleted", "No agents were deleted")
	ids := explicitIDs(q.AgentsList)
	_, t, err := a.decide(ctx, perms, CheckAgentDelete, "agents_list", ids)
	if err != nil {
		return nil, err
	}
	status := q.Status
	if slices.Contains(status, "all") {
		q.Status = nil
	}
	if q.OlderThan == "" {
		q.OlderThan = "7d"
	}
	msg := q
	msg.Status = nil
	e := Ef(1731, "%s", requirements(msg, status))
	todo, err := a.actOn(ctx, t, b, q, status, e)
	if err != nil {
		return nil, err
	}
	if len(todo) == 0 {
		return b, nil
	}
	deleted, err := a.store.DeleteAgents(ctx, todo)
	if err != nil {
		return nil, Internal(fmt.Errorf("delete agents: %w", err))
	}
	if err := a.keys.rewrite(ctx); err != nil {
		a.log.Error("client.keys rewrite failed after a deletion", "err", err)
	}
	slices.Sort(deleted)
	for _, id := range deleted {
		b.Add(FormatAgentID(id))
	}
	return b, nil
}
