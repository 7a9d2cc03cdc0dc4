package api

import "strings"

// partial notes what an implemented endpoint still lacks; they appear in
// docs/compatibility.md.
var partial = map[string]string{
	"POST /security/user/authenticate/run_as": "regular expressions in security rules use Go's RE2 syntax " +
		"(no look-around or back-references; such patterns are compared as plain text)",
	// The agent registry (issue 4).
	"PUT /agents/upgrade":        agentNoUpgrade,
	"PUT /agents/upgrade_custom": agentNoUpgrade,
	"GET /agents/upgrade_result": "no upgrade tasks exist: named active agents fail with 1813, the others with 1707",
	"PUT /groups/{group_id}/configuration": "agent.conf is checked by muster's own rules (sections an agent reads, " +
		"filter attributes) instead of verify-agent-conf, whose 1114 messages differ; the file is re-printed as Wazuh stores it",
	// The manager (issue 13).
	"GET /manager/stats/analysisd": noAnalysis, "PUT /manager/analysisd/reload": noAnalysis,
	"GET /manager/configuration/{component}/{configuration}": "answered for muster's parts (request, auth, " +
		"com/cluster, com/logging); the analysis engine's components are Wazuh's failed item 1121 (no socket)",
	"GET /manager/daemons/stats": "wazuh-remoted from the secure channel's counters; wazuh-analysisd and " +
		"wazuh-db are Wazuh's failed item 1121 (muster's store is not wazuh-db)",
	"GET /manager/stats": "served from Wazuh's stats files under the data directory (an imported manager's); " +
		"muster analyses no events and writes none, so a day without a file is Wazuh's 1308",
	"GET /manager/logs": "muster's operational log (logs/ossec.log, tagged wazuh-apid, wazuh-remoted, wazuh-authd); " +
		"times are converted from local time to UTC, where Wazuh labels local time as UTC",
	"GET /manager/configuration": "the sections of muster's settings (global, remote, auth, cluster, logging)",
}

// noAnalysis notes the analysis engine's operations under /manager.
const noAnalysis = "the analysis engine is out of scope: 501, after authentication and RBAC"

// agentNoUpgrade notes the upgrade endpoints until an upgrade module exists.
const agentNoUpgrade = "no upgrade module: named agents that pass Wazuh's checks fail with 1822 when " +
	"active at the manager's version or newer, else with 1707 (Wazuh's answer for an agent it cannot reach)"

// RouteStatus tells how muster serves an operation of Wazuh's API:
// "implemented", "partial: <what is missing>", "not supported (501)" or
// "not yet".
func RouteStatus(method, path string) string {
	key := method + " " + path
	if note, ok := partial[key]; ok {
		return "partial: " + note
	}
	for _, prefix := range unsupportedPrefixes {
		if path == prefix || strings.HasPrefix(path, prefix+"/") {
			return "not supported (501)"
		}
	}
	for _, r := range routes() {
		if r.method == method && r.path == path {
			return "implemented"
		}
	}
	return "not yet"
}
