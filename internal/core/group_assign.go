package core

import (
	"context"
	"slices"

	"github.com/muster-project/muster/internal/rbac"
)

// MaxGroupsPerAgent is Wazuh's MAX_GROUPS_PER_MULTIGROUP.
const MaxGroupsPerAgent = 128

// memberTargets resolves the agents of an assignment request: explicit ids
// (failed items 4000, 1703, 1701 recorded in b) or, with none, every
// permitted agent but 000. It returns each agent's current groups.
func (a *Agents) memberTargets(ctx context.Context, perms *rbac.Permissions, ids []string, b *Bulk) ([]int, map[int][]string, error) {
	_, t, err := a.decide(ctx, perms, CheckAgentGroup, "agents_list", ids)
	if err != nil {
		return nil, nil, err
	}
	todo, err := a.actOn(ctx, t, b, AgentQuery{}, nil, nil)
	if err != nil || len(todo) == 0 {
		return nil, nil, err
	}
	groups, err := a.store.AgentGroups(ctx, todo)
	if err != nil {
		return nil, nil, err
	}
	return todo, groups, nil
}

// AssignGroup is PUT /agents/{agent_id}/group/{group_id} and PUT
// /agents/group: ids nil means every permitted agent (then 1701, 1703,
// 1751 and 1752 are not reported). With force the group replaces the
// agent's others, if the caller may change them all.
func (a *Agents) AssignGroup(ctx context.Context, perms *rbac.Permissions, group string, ids []string,
	force bool) (*Bulk, error) {
	suffix := ""
	if force {
		suffix = " and removed from the other groups"
	}
	b := NewBulk("All selected agents were assigned to "+group+suffix, "Some agents were not assigned to "+group+suffix,
		"No agents were assigned to "+group)
	if _, err := a.groupTarget(ctx, perms, CheckGroupAssign, []string{group}); err != nil {
		return nil, err
	}
	if err := a.requireGroup(ctx, group, false); err != nil {
		return nil, err
	}
	todo, current, err := a.memberTargets(ctx, perms, ids, b)
	if err != nil {
		return nil, err
	}
	var mayChange rbac.Filter
	if force {
		_, t, err := a.decide(ctx, perms, CheckGroupAssign, "groups_list", nil)
		if err != nil {
			return nil, err
		}
		mayChange = t.Filter
	}
	explicit := ids != nil
	var changes []GroupChange
	for _, id := range todo {
		cur := current[id]
		var fail *Error
		switch {
		case force && !allAllowed(mayChange, cur, group):
			fail = E(1752)
		case !force && slices.Contains(cur, group):
			fail = E(1751)
		case !force && len(cur) >= MaxGroupsPerAgent:
			fail = E(1737)
		}
		if fail != nil {
			if explicit || fail.Code == 1737 {
				b.Fail(fail, FormatAgentID(id))
			}
			continue
		}
		next := []string{group}
		if !force {
			next = append(slices.Clone(cur), group)
		}
		changes = append(changes, GroupChange{ID: id, Groups: next})
		b.Add(FormatAgentID(id))
	}
	if err := a.store.SetAgentGroups(ctx, changes); err != nil {
		return nil, Internal(err)
	}
	a.recomputeAgents(ctx, changeIDs(changes))
	return b, nil
}

func allAllowed(f rbac.Filter, groups []string, except string) bool {
	for _, g := range groups {
		if g != except && !f.Allows(g, nil) {
			return false
		}
	}
	return true
}

// without removes group from a list; an agent left with none goes back to default.
func without(groups []string, group string) (next []string, reassigned bool) {
	for _, g := range groups {
		if g != group {
			next = append(next, g)
		}
	}
	if len(next) == 0 {
		return []string{DefaultGroup}, true
	}
	return next, false
}

// UnassignGroup is DELETE /agents/{agent_id}/group/{group_id}; it returns
// Wazuh's message.
func (a *Agents) UnassignGroup(ctx context.Context, perms *rbac.Permissions, id, group string) (string, error) {
	if _, err := a.groupTarget(ctx, perms, CheckGroupAssign, []string{group}); err != nil {
		return "", err
	}
	if _, _, err := a.decide(ctx, perms, CheckAgentGroup, "agents_list", []string{id}); err != nil {
		return "", err
	}
	n, ok := ParseAgentID(id)
	var groups map[int][]string
	if ok {
		var err error
		if groups, err = a.store.AgentGroups(ctx, []int{n}); err != nil {
			return "", err
		}
	}
	cur, exists := groups[n]
	switch {
	case !exists:
		return "", E(1701)
	case n == 0:
		return "", E(1703)
	}
	if err := a.requireGroup(ctx, group, false); err != nil {
		return "", err
	}
	switch {
	case !slices.Contains(cur, group):
		return "", E(1734)
	case group == DefaultGroup && len(cur) == 1:
		return "", E(1745)
	}
	next, reassigned := without(cur, group)
	if err := a.store.SetAgentGroups(ctx, []GroupChange{{ID: n, Groups: next}}); err != nil {
		return "", Internal(err)
	}
	a.recomputeAgents(ctx, []int{n})
	msg := "Agent '" + id + "' removed from '" + group + "'."
	if reassigned {
		msg += " Agent reassigned to group default."
	}
	return msg, nil
}

// RemoveAgentGroups is DELETE /agents/{agent_id}/group: the agent leaves
// the named groups (all its permitted groups when names is nil).
func (a *Agents) RemoveAgentGroups(ctx context.Context, perms *rbac.Permissions, id string, names []string) (*Bulk, error) {
	b := NewBulk("Specified agent was removed from returned groups", "Specified agent was not removed from some groups",
		"Specified agent was not removed from any group")
	if _, _, err := a.decide(ctx, perms, CheckAgentGroup, "agents_list", []string{id}); err != nil {
		return nil, err
	}
	t, err := a.groupTarget(ctx, perms, CheckGroupAssign, names)
	if err != nil {
		return nil, err
	}
	if id == "000" {
		return nil, E(1703)
	}
	n, ok := ParseAgentID(id)
	var groups map[int][]string
	if ok {
		if groups, err = a.store.AgentGroups(ctx, []int{n}); err != nil {
			return nil, err
		}
	}
	cur, exists := groups[n]
	if !exists {
		return nil, E(1701)
	}
	var todo []string
	if t.Explicit {
		for _, g := range t.Denied {
			b.Fail(Denied(t.Type), g)
		}
		todo = t.Allowed
	} else {
		for _, g := range cur {
			if t.Filter.Allows(g, nil) {
				todo = append(todo, g)
			}
		}
	}
	// default goes last, so an agent leaving everything ends in default.
	slices.SortStableFunc(todo, func(x, y string) int {
		return boolInt(x == DefaultGroup) - boolInt(y == DefaultGroup)
	})
	var removed []string
	shared := a.freshShared(ctx)
	for _, g := range slices.Compact(todo) {
		var fail *Error
		switch {
		case !shared.Exists(g):
			fail = E(1710)
		case !slices.Contains(cur, g):
			fail = E(1734)
		case g == DefaultGroup && len(cur) == 1:
			fail = E(1745)
		}
		if fail != nil {
			if t.Explicit {
				b.Fail(fail, g)
			}
			continue
		}
		cur, _ = without(cur, g)
		removed = append(removed, g)
	}
	if len(removed) > 0 {
		if err := a.store.SetAgentGroups(ctx, []GroupChange{{ID: n, Groups: cur}}); err != nil {
			return nil, Internal(err)
		}
		a.recomputeAgents(ctx, []int{n})
	}
	slices.Sort(removed)
	for _, g := range removed {
		b.Add(g)
	}
	return b, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// UnassignAgents is DELETE /agents/group: the agents leave group; ids
// holding "all" means every permitted member.
func (a *Agents) UnassignAgents(ctx context.Context, perms *rbac.Permissions, group string, ids []string) (*Bulk, error) {
	b := NewBulk("All selected agents were removed from group "+group, "Some agents were not removed from group "+group,
		"No agent was removed from group "+group)
	if _, err := a.groupTarget(ctx, perms, CheckGroupAssign, []string{group}); err != nil {
		return nil, err
	}
	ids = explicitIDs(ids)
	if err := a.requireGroup(ctx, group, false); err != nil {
		return nil, err
	}
	todo, current, err := a.memberTargets(ctx, perms, ids, b)
	if err != nil {
		return nil, err
	}
	var changes []GroupChange
	for _, id := range todo {
		cur := current[id]
		var fail *Error
		switch {
		case !slices.Contains(cur, group):
			fail = E(1734)
		case group == DefaultGroup && len(cur) == 1:
			fail = E(1745)
		}
		if fail != nil {
			if ids != nil {
				b.Fail(fail, FormatAgentID(id))
			}
			continue
		}
		next, _ := without(cur, group)
		changes = append(changes, GroupChange{ID: id, Groups: next})
		b.Add(FormatAgentID(id))
	}
	if err := a.store.SetAgentGroups(ctx, changes); err != nil {
		return nil, Internal(err)
	}
	a.recomputeAgents(ctx, changeIDs(changes))
	return b, nil
}
