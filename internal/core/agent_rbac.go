package core

import (
	"context"
	"errors"

	"github.com/muster-project/muster/internal/agentql"
	"github.com/muster-project/muster/internal/rbac"
)

// The RBAC checks of the agent and group endpoints, as Wazuh's framework
// declares them; the route table lists them and the services run them.
var (
	CheckAgentRead      = rbac.Need("agent:read", "agent:id:{agents_list}")
	CheckAgentCreate    = rbac.Need("agent:create", "*:*:*")
	CheckAgentDelete    = rbac.Need("agent:delete", "agent:id:{agents_list}")
	CheckAgentRestart   = rbac.Need("agent:restart", "agent:id:{agents_list}")
	CheckAgentReconnect = rbac.Need("agent:reconnect", "agent:id:{agents_list}")
	CheckAgentUpgrade   = rbac.Need("agent:upgrade", "agent:id:{agents_list}")
	CheckAgentUninstall = rbac.Need("agent:uninstall", "*:*:*")
	CheckAgentGroup     = rbac.Need("agent:modify_group", "agent:id:{agents_list}")
	CheckGroupAssign    = rbac.Need("group:modify_assignments", "group:id:{groups_list}")
	CheckGroupRead      = rbac.Need("group:read", "group:id:{groups_list}")
	CheckGroupCreate    = rbac.Need("group:create", "*:*:*")
	CheckGroupDelete    = rbac.Need("group:delete", "group:id:{groups_list}")
	CheckGroupConfig    = rbac.Need("group:update_config", "group:id:{groups_list}")
	CheckClusterNode    = rbac.Need("cluster:read", "node:id:{node_id}")
)

// Denied is Wazuh's 403 for a resource type the caller may not touch.
func Denied(resourceType string) *Error {
	return Ef(4000, "Resource type: %s", resourceType)
}

// decision runs one check; explicit ids are nil when the request named none.
func (a *Agents) decide(ctx context.Context, perms *rbac.Permissions, c rbac.Check, param string,
	ids []string) (rbac.Decision, *rbac.Target, error) {
	var m map[string][]string
	if ids != nil {
		m = map[string][]string{param: ids}
	}
	var groups func(string) []string
	if ids != nil && c.Resources[0].Type == "agent:id" && perms.NeedsAgentGroups(c) {
		byID, err := a.groupsOf(ctx, ids)
		if err != nil {
			return rbac.Decision{}, nil, err
		}
		groups = func(id string) []string { return byID[id] }
	}
	d, err := perms.Decide(c, m, groups)
	if err != nil {
		return d, nil, Internal(err)
	}
	if d.Forbidden {
		return d, nil, Denied(d.DeniedType)
	}
	return d, d.Target(param), nil
}

// groupsOf returns the groups of the agents named by ids.
func (a *Agents) groupsOf(ctx context.Context, ids []string) (map[string][]string, error) {
	var nums []int
	for _, s := range ids {
		if n, ok := ParseAgentID(s); ok {
			nums = append(nums, n)
		}
	}
	byNum, err := a.store.AgentGroups(ctx, nums)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string, len(byNum))
	for n, g := range byNum {
		out[FormatAgentID(n)] = g
	}
	return out, nil
}

// canAll reports whether a resourceless action is allowed.
func canAll(perms *rbac.Permissions, action string) error {
	if perms.Can(action, "*:*:*") {
		return nil
	}
	return Denied("*:*")
}

// qlError turns the query language's errors into Wazuh errors; anything
// else is internal.
func qlError(err error) error {
	if err == nil {
		return nil
	}
	var qe *agentql.Error
	if errors.As(err, &qe) {
		return &Error{Code: qe.Code, Detail: qe.Msg, Remediation: qe.Remediation}
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return Internal(err)
}
