package api

import (
	"net/http"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// clusterRoutes are the /cluster operations. A node that is not part of a
// cluster answers them as a Wazuh manager whose cluster is disabled: the
// status says so, and every other operation is error 3013, raised before
// RBAC as Wazuh's controllers do.
func clusterRoutes() []route {
	read := rbac.Require(rbac.Need("cluster:read", "node:id:{node_id}"))
	restart := rbac.Require(rbac.Need("cluster:read", "node:id:{node_id}"), rbac.Need("cluster:restart", "node:id:{node_id}"))
	nodesList := pList("nodes_list", "", nil)
	node := func(extra ...param) []param { return append(extra, std...) }
	list := node(agentOffset, pInt("limit", 1, core.MaxAgentLimit), agentSort, agentSearch, agentSelect,
		nodesList, agentQ, pBool("distinct"), pString("type", "", nil))
	logs := node(agentOffset, pInt("limit", 1, 500), agentSort, agentSearch, pString("tag", "alphanumeric", reAlphanumeric),
		pString("level", "", nil), agentQ, agentSelect, pBool("distinct"))
	var rs []route
	add := func(method, path string, params []param, access rbac.Requirement) {
		rs = append(rs, route{method, path, bearerAuth, params, notClustered, access})
	}
	rs = append(rs, route{http.MethodGet, "/cluster/status", bearerAuth, std, getClusterStatus,
		rbac.Require(rbac.Need("cluster:status", "*:*:*"))})
	add(http.MethodGet, "/cluster/local/info", std, read)
	add(http.MethodGet, "/cluster/local/config", std, read)
	add(http.MethodGet, "/cluster/nodes", list, read)
	add(http.MethodGet, "/cluster/healthcheck", node(nodesList), read)
	add(http.MethodGet, "/cluster/ruleset/synchronization", node(nodesList), read)
	add(http.MethodGet, "/cluster/api/config", node(nodesList), rbac.Require(rbac.Need("cluster:read_api_config", "*:*:*")))
	add(http.MethodGet, "/cluster/configuration/validation", node(nodesList), read)
	add(http.MethodPut, "/cluster/restart", []param{pretty, nodesList}, restart)
	add(http.MethodPut, "/cluster/analysisd/reload", node(nodesList), restart)
	for _, p := range []struct {
		method, path string
		params       []param
	}{
		{http.MethodGet, "/status", std}, {http.MethodGet, "/info", std},
		{http.MethodGet, "/configuration", node(pBool("raw"), sectionParam, fieldParam)},
		{http.MethodPut, "/configuration", nil}, // its own access, below
		{http.MethodGet, "/daemons/stats", node(daemonsListParam)},
		{http.MethodGet, "/stats", node(dateParam)}, {http.MethodGet, "/stats/hourly", std},
		{http.MethodGet, "/stats/weekly", std}, {http.MethodGet, "/stats/analysisd", std},
		{http.MethodGet, "/stats/remoted", std}, {http.MethodGet, "/logs", logs},
		{http.MethodGet, "/logs/summary", std},
		{http.MethodGet, "/configuration/{component}/{configuration}", std},
	} {
		if p.params != nil {
			add(p.method, "/cluster/{node_id}"+p.path, p.params, read)
		}
	}
	add(http.MethodPut, "/cluster/{node_id}/configuration", std,
		rbac.Require(rbac.Need("cluster:update_config", "node:id:{node_id}")))
	return rs
}

// getClusterStatus is GET /cluster/status.
func getClusterStatus(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	enabled := "no"
	if c.s.clusterEnabled() {
		enabled = "yes"
	}
	writeJSON(c.w, c.r, data{Data: Object{{"enabled", enabled}, {"running", enabled}}})
	return nil
}

// notClustered is Wazuh's answer of a standalone manager to the cluster
// operations.
func notClustered(c *call) error {
	e := core.E(3013)
	e.Local = true
	return e
}
