package core

import (
	"context"
	"errors"
	"strings"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/groupfs"
	"github.com/muster-project/muster/internal/rbac"
)

// AgentsNoGroup is GET /agents/no_group: agents other than 000 without a group.
func (a *Agents) AgentsNoGroup(ctx context.Context, perms *rbac.Permissions, q AgentQuery) (*AgentPage, error) {
	return a.listAgents(ctx, perms, q, agentql.Cond{Field: "group", Op: agentql.OpEq, Value: "null"}, true)
}

// AgentsOutdated is GET /agents/outdated: agents that reported a version
// other than the manager's.
func (a *Agents) AgentsOutdated(ctx context.Context, perms *rbac.Permissions, q AgentQuery) (*AgentPage, error) {
	return a.listAgents(ctx, perms, q, agentql.Cond{Field: "version", Op: agentql.OpNe, Value: a.ManagerVersion()}, true)
}

// GroupAgents is GET /groups/{group_id}/agents.
func (a *Agents) GroupAgents(ctx context.Context, perms *rbac.Permissions, group string, q AgentQuery) (*AgentPage, error) {
	if _, _, err := a.decide(ctx, perms, CheckGroupRead, "groups_list", []string{group}); err != nil {
		return nil, err
	}
	if !a.freshShared(ctx).Exists(group) {
		return nil, E(1710)
	}
	return a.listAgents(ctx, perms, q, agentql.Cond{Field: "group", Op: agentql.OpEq, Value: group}, false)
}

// AgentKey is GET /agents/{agent_id}/key.
func (a *Agents) AgentKey(ctx context.Context, perms *rbac.Permissions, id string) (*Bulk, error) {
	b := NewBulk("Obtained keys for all selected agents", "Some agent keys were not obtained",
		"No agent keys were obtained")
	_, t, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", []string{id})
	if err != nil {
		return nil, err
	}
	for _, d := range t.Denied {
		b.Fail(Denied(t.Type), d)
	}
	if len(t.Allowed) == 0 {
		return b, nil
	}
	ag, err := a.oneAgent(ctx, b, id)
	if err != nil {
		return nil, err
	}
	if ag == nil {
		return b, nil
	}
	ip := "any"
	if ag.RegisterIP.Valid {
		ip = ag.RegisterIP.V
	}
	b.Add(Registration{ID: id, Key: encodeKeyLine(keyBase64Line(ag.ID, ag.Name, ip, ag.Key))})
	return b, nil
}

// oneAgent finds the agent of a single-agent endpoint. Agent 000 fails with
// 1703 and an unknown id with 1701, both recorded in b: the agent is then
// nil, and so is the error unless the store failed.
func (a *Agents) oneAgent(ctx context.Context, b *Bulk, id string) (*Agent, error) {
	if id == "000" {
		b.Fail(E(1703), id)
		return nil, nil
	}
	if n, ok := ParseAgentID(id); ok {
		agents, err := a.store.GetAgents(ctx, []int{n})
		if err != nil {
			return nil, err
		}
		if len(agents) > 0 {
			return &agents[0], nil
		}
	}
	b.Fail(E(1701), id)
	return nil, nil
}

// SyncStatus is one item of GET /agents/{agent_id}/group/is_sync.
type SyncStatus struct {
	ID     string `json:"id"`
	Synced bool   `json:"synced"`
}

// GroupSync is GET /agents/{agent_id}/group/is_sync: whether the merged
// sum an agent last reported is the one of its groups' current merged.mg.
func (a *Agents) GroupSync(ctx context.Context, perms *rbac.Permissions, id string) (*Bulk, error) {
	b := NewBulk("Sync info was returned for all selected agents", "Sync info was not returned for some selected agents",
		"No sync info was returned")
	if _, _, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", []string{id}); err != nil {
		return nil, err
	}
	ag, err := a.oneAgent(ctx, b, id)
	if err != nil {
		return nil, err
	}
	if ag == nil {
		return b, nil
	}
	synced := false
	if merged, err := a.mergedFile(ctx, ag.Groups); err == nil && ag.MergedSum.Valid {
		synced = groupfs.MD5(merged) == ag.MergedSum.V
	}
	b.Add(SyncStatus{ID: id, Synced: synced})
	return b, nil
}

// refreshMultigroups rebuilds the merged files of the group lists agents
// hold (var/multigroups), ready for the secure channel to send.
func (a *Agents) refreshMultigroups(ctx context.Context) error {
	rows, _, err := a.store.CountAgents(ctx, AgentCountQuery{Fields: []string{"group"},
		Filter: AgentFilter{Now: a.now(), Cond: agentql.Cond{Field: "group", Op: agentql.OpLike, Value: ","}}})
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range rows {
		if r.Values[0].Valid {
			if _, err := a.shared.RefreshMultigroup(strings.Split(r.Values[0].V, ",")); err != nil &&
				!errors.Is(err, groupfs.ErrNoGroup) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
