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
	"GET /agents/upgrade_result": "no upgrade tasks exist: named agents fail with 1813",
	"PUT /groups/{group_id}/configuration": "agent.conf is checked by muster's own rules (sections an agent reads, " +
		"filter attributes) instead of verify-agent-conf, whose 1114 messages differ; the file is stored as sent",
}

// agentNoUpgrade notes the upgrade endpoints until an upgrade module exists.
const agentNoUpgrade = "no upgrade module: named agents that pass Wazuh's checks fail with 1707 " +
	"(Wazuh's answer for an agent it cannot reach), the others are skipped"

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
