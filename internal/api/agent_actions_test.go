package api_test

import (
	"strings"
	"testing"
)

func TestDeleteAgents(t *testing.T) {
	e, tok := agFleet(t)
	del := func(query string) exchange {
		t.Helper()
		if strings.Contains(query, "status=active,") { // a comma list: outside the document's enum check
			return rawDo(t, e, "DELETE", "/agents?"+agEncode(query), bearer(tok), "")
		}
		return do(t, e, "DELETE", "/agents?"+agEncode(query), bearer(tok), "")
	}
	msgNone, msgSome := "No agents were deleted", "Some agents were not deleted"
	// A.6: the requirements of the filters in the 1731 message.
	agExpect(t, del("agents_list=004&status=disconnected"), 200, agItems("", 0, []string{
		agFailed(1731, "some of the requirements are not met -> status: ['disconnected'], older_than: 7d", `"004"`)}, msgNone))
	agExpect(t, del("agents_list=000,998,999&status=all"), 200, agItems("", 0, []string{
		agFailed(1701, "", `"998"`, `"999"`), agFailed(1703, "", `"000"`)}, msgNone))
	agExpect(t, del("agents_list=004&status=all&older_than=10d&version=4.14.5"), 200, agItems("", 0, []string{
		agFailed(1731, "some of the requirements are not met -> older_than: 10d, version: wazuh v4.14.5", `"004"`)}, msgNone))
	before := agKeys(t, e)
	agExpect(t, del("agents_list=004,016,999&status=active,disconnected&older_than=0s"), 200,
		agItems(`"004", "016"`, 2, []string{agFailed(1701, "", `"999"`)}, msgSome))
	after := agKeys(t, e)
	if !strings.Contains(before, "004 web-04 ") || strings.Contains(after, "004 web-04 ") ||
		strings.Contains(after, "016 build-01 ") || strings.Count(after, "\n") != strings.Count(before, "\n")-2 {
		t.Fatalf("client.keys after deleting 004 and 016:\n%s", after)
	}
	if ids := agIDs(t, agGet(t, e, tok, "/agents?select=id&agents_list=004,016")); ids != "" {
		t.Fatalf("deleted agents still listed: %s", ids)
	}
	// "all": only what matches, and the excluded codes are not reported.
	agExpect(t, del("agents_list=all&status=all&older_than=0s&q=id<3"), 200,
		agItems(`"001", "002"`, 2, nil, "All selected agents were deleted"))
	agExpect(t, del("agents_list=all&status=never_connected&older_than=1h&name=kiosk-01"), 200,
		agItems(`"039"`, 1, nil, "All selected agents were deleted"))
	// Memberships go with the agent.
	if n := agData(t, agGet(t, e, tok, "/groups?groups_list=web"))["affected_items"].([]any)[0].(map[string]any)["count"]; n != 7.0 {
		t.Fatalf("web count %v after deleting 001, 002 and 004", n)
	}
	for _, q := range []string{"agents_list=wrong&status=all", "agents_list=001", "status=all",
		"agents_list=001&status=wrong", "agents_list=001&status=all&older_than=wrong", "agents_list=001&status=all&purge=x"} {
		agStatus(t, del(q), 400, 0)
	}
	agStatus(t, del("agents_list=005&status=all&q=name==x"), 400, 1409)
}

func TestAgentCommands(t *testing.T) {
	e, tok := agFleet(t)
	put := func(path string) exchange {
		t.Helper()
		return do(t, e, "PUT", path, bearer(tok), "")
	}
	restart := [3]string{"Restart command was sent to all agents", "Restart command was not sent to some agents",
		"Restart command was not sent to any agent"}
	// Without a secure channel no agent can receive a command: Wazuh's
	// answer for agents it cannot reach (1707).
	agExpect(t, put("/agents/restart?agents_list=000,001,009,999"), 200, agItems("", 0, []string{
		agFailed(1701, "", `"999"`), agFailed(1703, "", `"000"`), agFailed(1707, "", `"001"`, `"009"`)}, restart[2]))
	agExpect(t, put("/agents/restart"), 200, agItems("", 0, nil, restart[2]))
	agExpect(t, put("/agents/005/restart"), 200, agItems("", 0, []string{agFailed(1707, "", `"005"`)}, restart[2]))
	agExpect(t, put("/agents/group/web/restart"), 200, agItems("", 0, nil, restart[2]))
	agExpect(t, put("/agents/group/nope/restart"), 404, agProblem(1710, ""))
	agExpect(t, put("/agents/node/node01/restart"), 200, agItems("", 0, nil, restart[2]))
	agExpect(t, put("/agents/node/worker9/restart"), 200, agItems("", 0, []string{agFailed(1730, "", `"worker9"`)}, restart[2]))
	agExpect(t, put("/agents/reconnect?agents_list=001"), 200, agItems("", 0, []string{agFailed(1707, "", `"001"`)},
		"Force reconnect command was not sent to any agent"))
	agExpect(t, put("/agents/upgrade?agents_list=000,001&os.platform=windows"), 200, agItems("", 0, []string{
		agFailed(1703, "", `"000"`),
		agFailed(1731, "some of the requirements are not met -> os.platform: windows", `"001"`)}, "No upgrade task was created"))
	// 006 is active at the manager's version (1822); 005 is not active and
	// 004 can be reached by no upgrade module (1707).
	agExpect(t, put("/agents/upgrade?agents_list=004,005,006"), 200, agItems("", 0, []string{
		agFailed(1707, "", `"004"`, `"005"`), agFailed(1822, "", `"006"`)}, "No upgrade task was created"))
	agExpect(t, put("/agents/upgrade?agents_list=all"), 200, agItems("", 0, nil, "No upgrade task was created"))
	agStatus(t, put("/agents/upgrade"), 400, 0)
	agStatus(t, put("/agents/upgrade_custom?agents_list=001"), 400, 0)
	agExpect(t, agGet(t, e, tok, "/agents/uninstall"), 200, `{"message": "User has permission to uninstall agents", "error": 0}`)
	x := agGet(t, e, tok, "/agents/upgrade_result?agents_list=001")
	if x.status != 200 || !strings.Contains(string(x.body), `"code": 1813`) {
		t.Fatalf("upgrade_result: %d %s", x.status, x.body)
	}
	agExpect(t, agGet(t, e, tok, "/agents/upgrade_result?agents_list=005"), 200, agItems("", 0,
		[]string{agFailed(1707, "", `"005"`)}, "No upgrade task was returned"))
	agStatus(t, put("/agents/1/restart"), 400, 0)
}
