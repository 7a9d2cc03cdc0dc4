package api

// What the cluster operations lack against Wazuh's, for
// docs/compatibility.md. On a single SQLite node every one of them is
// answered as by a Wazuh manager whose cluster is disabled, which is
// Wazuh's own behaviour.
func init() {
	for k, v := range map[string]string{
		"GET /cluster/healthcheck": "a node's status holds its last heartbeat (last_keep_alive) only, the " +
			"master's too: nodes share the store, so there is no synchronization to report",
		"GET /cluster/local/config": "port, bind_addr and nodes are Wazuh's defaults (nodes meet through the store " +
			"and each other's API); the key is always masked",
		"GET /cluster/ruleset/synchronization":   "every live node is synced: muster has no custom ruleset",
		"GET /cluster/{node_id}/stats/analysisd": noAnalysis, "PUT /cluster/analysisd/reload": noAnalysis,
		"GET /cluster/{node_id}/configuration/{component}/{configuration}": partial["GET /manager/configuration/{component}/{configuration}"],
		"GET /cluster/{node_id}/daemons/stats":                             partial["GET /manager/daemons/stats"],
		"GET /cluster/{node_id}/stats":                                     partial["GET /manager/stats"],
		"GET /cluster/{node_id}/logs":                                      partial["GET /manager/logs"],
		"GET /cluster/{node_id}/configuration":                             partial["GET /manager/configuration"],
		"PUT /cluster/{node_id}/configuration":                             "as PUT /manager/configuration on that node",
		"PUT /cluster/restart":                                             "each node as PUT /manager/restart",
	} {
		partial[k] = v
	}
}
