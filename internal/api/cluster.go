package api

import (
	"net/http"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/rbac"
)

// clusterRoutes are the /cluster operations. A node that is not part of a
// cluster answers them as a Wazuh manager whose cluster is disabled: the
// status says so, and every other operation is error 3013, raised before
// RBAC as Wazuh's controllers do. A node that joined the cluster of its
// store (JoinCluster) answers them as a cluster node: cluster_nodes.go for
// the cluster-wide reads, cluster_fanout.go for the operations asked of
// several nodes, cluster_node.go for /cluster/{node_id}/....
func clusterRoutes() []route {
	read := rbac.Require(rbac.Need("cluster:read", "node:id:{node_id}"))
	restart := rbac.Require(rbac.Need("cluster:read", "node:id:{node_id}"), rbac.Need("cluster:restart", "node:id:{node_id}"))
	nodesList := pList("nodes_list", "", nil)
	node := func(extra ...param) []param { return append(extra, std...) }
	list := node(agentOffset, pInt("limit", 1, core.MaxAgentLimit), agentSort, agentSearch, agentSelect,
		nodesList, agentQ, pBool("distinct"), param{name: "type", kind: kString, enum: []string{"worker", "master"}})
	logs := node(agentOffset, pInt("limit", 1, 500), agentSort, agentSearch, pString("tag", "alphanumeric", reAlphanumeric),
		pString("level", "", nil), agentQ, agentSelect, pBool("distinct"))
	var rs []route
	add := func(method, path string, params []param, h func(c *call) error, access rbac.Requirement) {
		rs = append(rs, route{method, path, bearerAuth, params, clustered(h), access})
	}
	rs = append(rs, route{http.MethodGet, "/cluster/status", bearerAuth, std, getClusterStatus,
		rbac.Require(rbac.Need("cluster:status", "*:*:*"))})
	add(http.MethodGet, "/cluster/local/info", std, framework(getClusterLocalInfo), read)
	add(http.MethodGet, "/cluster/local/config", std, framework(getClusterLocalConfig), read)
	add(http.MethodGet, "/cluster/nodes", list, framework(getClusterNodes), read)
	add(http.MethodGet, "/cluster/healthcheck", node(nodesList), framework(getClusterHealthcheck), read)
	add(http.MethodGet, "/cluster/ruleset/synchronization", node(nodesList), framework(fanOut(rulesetSync)), read)
	add(http.MethodGet, "/cluster/api/config", node(nodesList), framework(fanOut(apiConfigs)),
		rbac.Require(rbac.Need("cluster:read_api_config", "*:*:*")))
	add(http.MethodGet, "/cluster/configuration/validation", node(nodesList), framework(fanOut(validations)), read)
	add(http.MethodPut, "/cluster/restart", []param{pretty, nodesList}, framework(fanOut(restarts)), restart)
	add(http.MethodPut, "/cluster/analysisd/reload", node(nodesList), noAnalysisd, restart)
	for _, p := range []struct {
		method, path string
		params       []param
		local        func(c *call) error
	}{
		{http.MethodGet, "/status", std, getManagerStatus}, {http.MethodGet, "/info", std, getManagerInfo},
		{http.MethodGet, "/configuration", node(pBool("raw"), sectionParam, fieldParam), getManagerConfiguration},
		{http.MethodGet, "/daemons/stats", node(daemonsListParam), getManagerDaemonStats},
		{http.MethodGet, "/stats", node(dateParam), getManagerStats},
		{http.MethodGet, "/stats/hourly", std, getManagerStatsHourly},
		{http.MethodGet, "/stats/weekly", std, getManagerStatsWeekly},
		{http.MethodGet, "/stats/analysisd", std, noAnalysisd},
		{http.MethodGet, "/stats/remoted", std, getManagerStatsRemoted}, {http.MethodGet, "/logs", logs, getManagerLogs},
		{http.MethodGet, "/logs/summary", std, getManagerLogSummary},
		{http.MethodGet, "/configuration/{component}/{configuration}", std, getManagerComponentConfig},
	} {
		add(p.method, "/cluster/{node_id}"+p.path, p.params, framework(onNode(p.local)), read)
	}
	add(http.MethodPut, "/cluster/{node_id}/configuration", std, framework(onNode(putManagerConfiguration)),
		rbac.Require(rbac.Need("cluster:update_config", "node:id:{node_id}")))
	return rs
}

// clustered serves h on a cluster node and error 3013 on a standalone one.
func clustered(h func(c *call) error) func(c *call) error {
	return func(c *call) error {
		if !c.s.clusterEnabled() {
			return notClustered(c)
		}
		return h(c)
	}
}

// getClusterStatus is GET /cluster/status: enabled when the node is part
// of a cluster, running while its heartbeat reaches the store.
func getClusterStatus(c *call) error {
	if err := c.requireResourceless(); err != nil {
		return err
	}
	enabled, running := "no", "no"
	if n := c.s.clusterNode(); n != nil {
		enabled = "yes"
		if n.Joined() {
			running = "yes"
		}
	}
	writeJSON(c.w, c.r, data{Data: Object{{"enabled", enabled}, {"running", running}}})
	return nil
}

// noAnalysisd answers the analysis engine's cluster operations: 501, as
// the other analysis endpoints.
func noAnalysisd(c *call) error {
	return core.Problem(501, "Not Implemented", "muster does not implement the analysis engine: wazuh-analysisd "+
		"operations are not supported. See docs/compatibility.md for the endpoints muster serves.")
}

// notClustered is Wazuh's answer of a standalone manager to the cluster
// operations.
func notClustered(c *call) error {
	e := core.E(3013)
	e.Local = true
	return e
}
