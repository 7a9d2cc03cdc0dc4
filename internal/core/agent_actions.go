package core

import (
	"context"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// Commands the bulk actions send to agents.
const (
	CommandRestart   = "restart"
	CommandReconnect = "reconnect"
)

// send delivers a command to active agents; without a secure channel, or
// when the agent is not active or the channel refuses, the agent fails
// with 1707, as Wazuh answers for agents it cannot reach.
func (a *Agents) send(ctx context.Context, b *Bulk, ids []int, command string, explicit bool) error {
	if len(ids) == 0 {
		return nil
	}
	active, _, err := a.store.ListAgents(ctx, AgentListQuery{Filter: AgentFilter{IDs: ids, Now: a.now(),
		Cond: agentql.Equals("status", AgentActive)}, Fields: FieldID})
	if err != nil {
		return err
	}
	isActive := make(map[int]bool, len(active))
	for _, ag := range active {
		isActive[ag.ID] = true
	}
	for _, id := range ids {
		ok := isActive[id] && a.commands != nil && a.commands.Send(ctx, id, command) == nil
		switch {
		case ok:
			b.Add(FormatAgentID(id))
		case explicit:
			b.Fail(E(1707), FormatAgentID(id))
		}
	}
	return nil
}

func restartBulk() *Bulk {
	return NewBulk("Restart command was sent to all agents", "Restart command was not sent to some agents",
		"Restart command was not sent to any agent")
}

// RestartAgents is PUT /agents/restart and PUT /agents/{agent_id}/restart;
// ids nil means every permitted agent (then 1701, 1703 and 1707 are not
// reported).
func (a *Agents) RestartAgents(ctx context.Context, perms *rbac.Permissions, ids []string) (*Bulk, error) {
	return a.command(ctx, perms, CheckAgentRestart, ids, CommandRestart, restartBulk())
}

// ReconnectAgents is PUT /agents/reconnect.
func (a *Agents) ReconnectAgents(ctx context.Context, perms *rbac.Permissions, ids []string) (*Bulk, error) {
	return a.command(ctx, perms, CheckAgentReconnect, ids, CommandReconnect,
		NewBulk("Force reconnect command was sent to all agents",
			"Force reconnect command was not sent to some agents",
			"Force reconnect command was not sent to any agent"))
}

func (a *Agents) command(ctx context.Context, perms *rbac.Permissions, c rbac.Check, ids []string,
	command string, b *Bulk) (*Bulk, error) {
	_, t, err := a.decide(ctx, perms, c, "agents_list", ids)
	if err != nil {
		return nil, err
	}
	todo, err := a.actOn(ctx, t, b, AgentQuery{}, nil, nil)
	if err != nil {
		return nil, err
	}
	if err := a.send(ctx, b, todo, command, t.Explicit); err != nil {
		return nil, err
	}
	return b, nil
}

// RestartGroup is PUT /agents/group/{group_id}/restart: the group's
// agents, silently skipping those that cannot be reached.
func (a *Agents) RestartGroup(ctx context.Context, perms *rbac.Permissions, group string) (*Bulk, error) {
	// Wazuh lists the group's agents first (group:read on the group, then
	// the agents the caller may read), then restarts them as a named list:
	// those the caller may not restart fail with 4000; unreachable ones
	// are left out.
	if _, _, err := a.decide(ctx, perms, CheckGroupRead, "groups_list", []string{group}); err != nil {
		return nil, err
	}
	if !a.freshShared(ctx).Exists(group) {
		return nil, E(1710)
	}
	b := restartBulk()
	_, rt, err := a.decide(ctx, perms, CheckAgentRead, "agents_list", nil)
	if err != nil {
		return b, nil // no agent may be read: none is listed
	}
	members, err := a.actOn(ctx, rt, restartBulk(), AgentQuery{Filters: []NamedFilter{{"group", group}}}, nil, nil)
	if err != nil || len(members) == 0 {
		return b, err
	}
	ids := make([]string, len(members))
	for i, id := range members {
		ids[i] = FormatAgentID(id)
	}
	_, t, err := a.decide(ctx, perms, CheckAgentRestart, "agents_list", ids)
	if err != nil {
		return nil, err
	}
	todo, err := a.actOn(ctx, t, b, AgentQuery{}, nil, nil)
	if err != nil {
		return nil, err
	}
	return b, a.send(ctx, b, todo, CommandRestart, false)
}

// RestartNode is PUT /agents/node/{node_id}/restart.
func (a *Agents) RestartNode(ctx context.Context, perms *rbac.Permissions, node string) (*Bulk, error) {
	if _, _, err := a.decide(ctx, perms, CheckClusterNode, "node_id", []string{node}); err != nil {
		return nil, err
	}
	b := restartBulk()
	if node != a.node {
		b.Fail(E(1730), node)
		return b, nil
	}
	_, t, err := a.decide(ctx, perms, CheckAgentRestart, "agents_list", nil)
	if err != nil {
		return nil, err
	}
	todo, err := a.actOn(ctx, t, b, AgentQuery{Filters: []NamedFilter{{"node_name", node}}}, nil, nil)
	if err != nil {
		return nil, err
	}
	return b, a.send(ctx, b, todo, CommandRestart, false)
}

// UpgradeAgents is PUT /agents/upgrade and /agents/upgrade_custom: without
// a secure channel no upgrade task can be created, so reachable agents are
// none and every named agent fails with 1707 after the other checks.
func (a *Agents) UpgradeAgents(ctx context.Context, perms *rbac.Permissions, q AgentQuery) (*Bulk, error) {
	b := NewBulk("All upgrade tasks were created", "Some upgrade tasks were not created", "No upgrade task was created")
	ids := explicitIDs(q.AgentsList)
	_, t, err := a.decide(ctx, perms, CheckAgentUpgrade, "agents_list", ids)
	if err != nil {
		return nil, err
	}
	msg := q
	todo, err := a.actOn(ctx, t, b, q, nil, Ef(1731, "%s", requirements(msg, nil)))
	if err != nil {
		return nil, err
	}
	if t.Explicit {
		states, err := a.upgradeStates(ctx, todo)
		if err != nil {
			return nil, err
		}
		for _, id := range todo {
			ag := states[id]
			switch {
			case ag != nil && ag.Status == AgentActive && ag.Version.Valid &&
				agentql.CompareVersions(ag.Version.V, a.ManagerVersion()) >= 0:
				b.Fail(E(1822), FormatAgentID(id))
			default: // not active; or no upgrade module to reach an active one with
				b.Fail(E(1707), FormatAgentID(id))
			}
		}
	}
	return b, nil
}

// upgradeStates reads the status and version of the agents Wazuh's upgrade
// checks look at.
func (a *Agents) upgradeStates(ctx context.Context, ids []int) (map[int]*Agent, error) {
	out := make(map[int]*Agent, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	agents, _, err := a.store.ListAgents(ctx, AgentListQuery{Filter: AgentFilter{Now: a.now(), IDs: ids},
		Fields: FieldID | FieldStatus | FieldVersion})
	if err != nil {
		return nil, err
	}
	for i := range agents {
		out[agents[i].ID] = &agents[i]
	}
	return out, nil
}

// UpgradeResults is GET /agents/upgrade_result: no task exists.
func (a *Agents) UpgradeResults(ctx context.Context, perms *rbac.Permissions, q AgentQuery) (*Bulk, error) {
	b := NewBulk("All upgrade tasks were returned", "Some upgrade tasks were not returned", "No upgrade task was returned")
	_, t, err := a.decide(ctx, perms, CheckAgentUpgrade, "agents_list", q.AgentsList)
	if err != nil {
		return nil, err
	}
	todo, err := a.actOn(ctx, t, b, q, nil, Ef(1731, "%s", requirements(q, nil)))
	if err != nil {
		return nil, err
	}
	if t.Explicit {
		states, err := a.upgradeStates(ctx, todo)
		if err != nil {
			return nil, err
		}
		for _, id := range todo {
			if ag := states[id]; ag == nil || ag.Status != AgentActive {
				b.Fail(E(1707), FormatAgentID(id)) // Wazuh asks an inactive agent nothing
				continue
			}
			b.Fail(&Error{Code: 1813, Status: 400, Detail: "No task in DB"}, FormatAgentID(id))
		}
	}
	return b, nil
}
