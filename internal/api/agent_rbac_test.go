package api_test

import (
	"strings"
	"testing"
)

// TestAgentRBAC checks agent:id and agent:group resources over the
// fixture fleet, including the README's expectation for a role limited to
// the web group.
func TestAgentRBAC(t *testing.T) {
	e, _ := agFleet(t)
	read := []string{"agent:read"}
	web := agScoped(t, e, "webteam",
		agPolicy("allow", read, "agent:group:web"),
		agPolicy("allow", []string{"group:read"}, "group:id:web"))
	if ids := agIDs(t, agGet(t, e, web, "/agents?select=id")); ids != "001,002,003,004,005,006,011,025,026,035" {
		t.Fatalf("web team sees %s", ids)
	}
	denied := `{"error": {"code": 4000, "message": "Permission denied: Resource type: agent:id", "remediation": ` +
		agJSON(agRemediation4000()) + `}, "id": ["007"]}`
	agExpect(t, agGet(t, e, web, "/agents?select=name&agents_list=001,007"), 200, agItems(`{"id": "001", "name": "web-01"}`, 1,
		[]string{denied}, "Some agents information was not returned"))
	x := agGet(t, e, web, "/agents?agents_list=007")
	agStatus(t, x, 403, 4000)
	if !strings.Contains(string(x.body), `"dapi_errors": {"unknown-node": {"error": "Permission denied: Resource type: agent:id"}}`) {
		t.Fatalf("403 body %s", x.body)
	}
	agExpect(t, agGet(t, e, web, "/agents/summary/status"), 200, `{"data": {"connection": {"active": 8, "disconnected": 1, `+
		`"never_connected": 1, "pending": 0, "total": 10}, "configuration": {"synced": 8, "not_synced": 2, "total": 10}}, "error": 0}`)
	if ids := agIDs(t, agGet(t, e, web, "/agents?select=id&q=status=disconnected")); ids != "005" {
		t.Fatalf("web team's disconnected %s", ids)
	}
	// q cannot widen what RBAC allows.
	if ids := agIDs(t, agGet(t, e, web, "/agents?select=id&"+agEncode("q=id=7,id=1"))); ids != "001" {
		t.Fatalf("q widened RBAC: %s", ids)
	}
	names := agData(t, agGet(t, e, web, "/groups"))["affected_items"].([]any)
	if len(names) != 1 || names[0].(map[string]any)["name"] != "web" {
		t.Fatalf("web team's groups %v", names)
	}
	agStatus(t, agGet(t, e, web, "/groups/db/agents"), 403, 4000)
	if ids := agIDs(t, agGet(t, e, web, "/groups/web/agents?select=id&status=disconnected")); ids != "005" {
		t.Fatalf("web group agents %s", ids)
	}
	agStatus(t, do(t, e, "DELETE", "/agents?agents_list=001&status=all", bearer(web), ""), 403, 4000)

	// A later deny wins over an earlier wildcard allow.
	most := agScoped(t, e, "mostly", agPolicy("allow", read, "agent:id:*", "agent:id:9999"),
		agPolicy("deny", read, "agent:id:001"))
	if ids := agIDs(t, agGet(t, e, most, "/agents?select=id&limit=3")); ids != "000,002,003" {
		t.Fatalf("allow-all-but-001 sees %s", ids)
	}
	// Nothing allowed: an empty list, not an error.
	none := agScoped(t, e, "nobody", agPolicy("allow", []string{"group:read"}, "group:id:*", "group:id:zz"))
	agExpect(t, agGet(t, e, none, "/agents"), 200, agItems("", 0, nil, "No agent information was returned"))
	agExpect(t, agGet(t, e, none, "/agents/summary/status"), 200, `{"data": {"connection": {"active": 0, "disconnected": 0, `+
		`"never_connected": 0, "pending": 0, "total": 0}, "configuration": {"synced": 0, "not_synced": 0, "total": 0}}, "error": 0}`)
	// Forcing a single group needs the right to change every current group.
	assigner := agScoped(t, e, "assigner", agPolicy("allow", []string{"agent:modify_group"}, "agent:id:*"),
		agPolicy("allow", []string{"group:modify_assignments"}, "group:id:default"))
	agExpect(t, do(t, e, "PUT", "/agents/011/group/default?force_single_group=true", bearer(assigner), ""), 200,
		agItems("", 0, []string{agFailed(1752, "", `"011"`)},
			"No agents were assigned to default"))
	agStatus(t, do(t, e, "PUT", "/agents/011/group/web", bearer(assigner), ""), 403, 4000)
}

func agRemediation4000() string {
	return "Please, make sure you have permissions to execute the current request. For more information on how " +
		"to set up permissions, please visit https://documentation.wazuh.com/4.14/user-manual/api/rbac/configuration.html"
}

// PUT /agents/group/{group_id}/restart lists the group's agents and
// restarts them as a named list: agents the caller may not restart fail
// with 4000, and a group the caller may not read is a 403.
func TestRestartGroupRBAC(t *testing.T) {
	e, _ := agFleet(t)
	some := agScoped(t, e, "restarter", agPolicy("allow", strs("agent:read"), "agent:group:web"),
		agPolicy("allow", strs("group:read"), "group:id:web"), agPolicy("allow", strs("agent:restart"), "agent:id:001"))
	denied := agQuoted("002", "003", "004", "005", "006", "011", "025", "026", "035")
	x := do(t, e, "PUT", "/agents/group/web/restart", bearer(some), "")
	agExpect(t, x, 200, agItems("", 0, []string{secDenied("agent:id", strings.Join(denied, ", "))},
		"Restart command was not sent to any agent"))
	noGroup := agScoped(t, e, "nogroupread", agPolicy("allow", strs("agent:read", "agent:restart"), "agent:id:*"),
		agPolicy("deny", strs("group:read"), "group:id:web"), agPolicy("allow", strs("group:read"), "group:id:db"))
	agStatus(t, do(t, e, "PUT", "/agents/group/web/restart", bearer(noGroup), ""), 403, 4000)
	if x := do(t, e, "PUT", "/agents/group/db/restart", bearer(noGroup), ""); x.status != 200 {
		t.Fatalf("another group: %d %s", x.status, x.body)
	}
}
