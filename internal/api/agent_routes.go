package api

import (
	"net/http"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// agentRoutes are the agent registry's endpoints.
func agentRoutes() []route {
	paging := []param{agentOffset, agentLimit, agentSelect, agentSort, agentSearch, agentQ}
	list := agentParams(paging, []param{agentsList, agentStatus, agentOlderThan, agentDistinct, agentConfigStatus},
		agentFilterParams)
	deleteStatus := param{name: "status", kind: kList, pattern: reDeleteStatus, format: "enum", lower: true,
		required: true}
	del := agentParams([]param{agentsListAll.req(), deleteStatus, agentOlderThan, pBool("purge"), agentQ},
		agentFilterParams)
	upgrade := agentParams([]param{agentsListAll.req(), agentQ, pString("wpk_repo", "path", nil),
		pString("upgrade_version", "wazuh_version", nil), pBool("use_http"), pBool("force"),
		{name: "package_type", kind: kString, pattern: reUpgradePackage, format: "enum"}}, agentFilterParams)
	upgradeCustom := agentParams([]param{agentsListAll.req(), agentQ, pString("file_path", "wpk_path", nil).req(),
		pString("installer", "alphanumeric", reAlphanumeric)}, agentFilterParams)
	upgradeResult := agentParams([]param{agentsList, agentQ}, agentFilterParams)
	distinct := agentParams([]param{pList("fields", "names", reNames), agentOffset, agentLimit, agentSort,
		agentSearch, agentQ})
	ids := agentParams([]param{agentsList})
	read := rbac.Require(core.CheckAgentRead)
	create := rbac.Require(core.CheckAgentCreate)
	restart := rbac.Require(core.CheckAgentRestart)
	upg := rbac.Require(core.CheckAgentUpgrade)
	assign := rbac.Require(core.CheckGroupAssign, core.CheckAgentGroup).Listing("agent:modify_group",
		"group:modify_assignments")
	G, P, U, D := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return append(agentLiveRoutes(), []route{
		{G, "/agents", bearerAuth, list, getAgents, read},
		{P, "/agents", bearerAuth, std, postAgent, create},
		{D, "/agents", bearerAuth, del, deleteAgents, rbac.Require(core.CheckAgentDelete)},
		{P, "/agents/insert", bearerAuth, std, postAgentInsert, create},
		{P, "/agents/insert/quick", bearerAuth, agentParams([]param{
			{name: "agent_name", kind: kString, pattern: reAgentQuickName, format: "names", required: true}}),
			postAgentQuick, create},
		{G, "/agents/{agent_id}/key", bearerAuth, std, getAgentKey, read},
		{G, "/agents/{agent_id}/group/is_sync", bearerAuth, std, getAgentGroupSync, read},
		{G, "/agents/no_group", bearerAuth, agentParams(paging), getAgentsNoGroup, read},
		{G, "/agents/outdated", bearerAuth, agentParams(paging), getAgentsOutdated, read},
		{G, "/agents/stats/distinct", bearerAuth, distinct, getAgentsDistinct, read},
		{G, "/agents/summary", bearerAuth, ids, getAgentsSummary, read},
		{G, "/agents/summary/os", bearerAuth, std, getAgentsSummaryOS, read},
		{G, "/agents/summary/status", bearerAuth, std, getAgentsSummaryStatus, read},
		{G, "/overview/agents", bearerAuth, std, getOverviewAgents,
			rbac.Require(core.CheckAgentRead, core.CheckGroupRead)},
		{U, "/agents/{agent_id}/restart", bearerAuth, std, putAgentRestart, restart},
		{U, "/agents/restart", bearerAuth, ids, putAgentsRestart, restart},
		{U, "/agents/reconnect", bearerAuth, ids, putAgentsReconnect, rbac.Require(core.CheckAgentReconnect)},
		{U, "/agents/group/{group_id}/restart", bearerAuth, std, putGroupRestart, restart},
		{U, "/agents/node/{node_id}/restart", bearerAuth, std, onNamedNode(putNodeRestart),
			rbac.Require(core.CheckClusterNode, core.CheckAgentRestart)},
		{U, "/agents/upgrade", bearerAuth, upgrade, putAgentsUpgrade, upg},
		{U, "/agents/upgrade_custom", bearerAuth, upgradeCustom, putAgentsUpgrade, upg},
		{G, "/agents/upgrade_result", bearerAuth, upgradeResult, getUpgradeResult, upg},
		{G, "/agents/uninstall", bearerAuth, std, getAgentsUninstall, rbac.Require(core.CheckAgentUninstall)},
		{U, "/agents/{agent_id}/group/{group_id}", bearerAuth, agentParams([]param{agentForceSingle}),
			putAgentGroup, assign},
		{D, "/agents/{agent_id}/group/{group_id}", bearerAuth, std, deleteAgentGroup, assign},
		{D, "/agents/{agent_id}/group", bearerAuth, agentParams([]param{groupsList}), deleteAgentGroups, assign},
		{U, "/agents/group", bearerAuth, agentParams([]param{agentsList, agentGroupID.req(), agentForceSingle}),
			putAgentsGroup, assign},
		{D, "/agents/group", bearerAuth, agentParams([]param{agentsListAll.req(), agentGroupID.req()}),
			deleteAgentsGroup, assign},
	}...)
}

// groupRoutes are the groups' endpoints.
func groupRoutes() []route {
	groupRead := rbac.Require(core.CheckGroupRead)
	inMemory := []param{agentOffset, agentLimit, agentSort, agentSearch, groupHash, agentQ, agentSelect, agentDistinct}
	G, P, U, D := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []route{
		{G, "/groups", bearerAuth, agentParams([]param{groupsList}, inMemory), getGroups, groupRead},
		{P, "/groups", bearerAuth, std, postGroup, rbac.Require(core.CheckGroupCreate)},
		{D, "/groups", bearerAuth, agentParams([]param{{name: "groups_list", kind: kList, pattern: reGroupName,
			format: "group_names_or_all", valid: validGroupNameOrAll, required: true}}), deleteGroups,
			rbac.Require(core.CheckGroupDelete)},
		{G, "/groups/{group_id}/agents", bearerAuth, agentParams([]param{agentOffset, agentLimit, agentSelect, agentSort,
			agentSearch, agentStatus, agentQ, agentDistinct}), getGroupAgents,
			rbac.Require(core.CheckGroupRead, core.CheckAgentRead).Listing("agent:read", "group:read")},
		{G, "/groups/{group_id}/configuration", bearerAuth, agentParams([]param{agentOffset, agentLimit}),
			getGroupConfiguration, groupRead},
		{U, "/groups/{group_id}/configuration", bearerAuth, std, putGroupConfiguration,
			rbac.Require(core.CheckGroupConfig)},
		{G, "/groups/{group_id}/files", bearerAuth, agentParams(inMemory), getGroupFiles, groupRead},
		{G, "/groups/{group_id}/files/{file_name}", bearerAuth, agentParams([]param{pBool("raw"),
			{name: "type", kind: kList, pattern: reGroupFileType, format: "enum", lower: true}}), getGroupFile, groupRead},
	}
}
