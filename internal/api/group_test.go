package api_test

import (
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func agMD5(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestGroupsCreateDelete(t *testing.T) {
	e, tok := agFleet(t)
	post := func(body string) exchange { return do(t, e, "POST", "/groups", jsonHeaders(tok), body) }
	agExpect(t, post(`{"group_id": "linux"}`), 200, `{"message": "Group 'linux' created.", "error": 0}`)
	dir := filepath.Join(e.DataDir, "etc", "shared", "linux")
	if got := agMD5(t, filepath.Join(dir, "agent.conf")); got != "ab73af41699f13fdd81903b5f23d8d00" {
		t.Fatalf("new agent.conf md5 %s", got)
	}
	if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("group directory %v %v", st, err)
	}
	merged, _ := os.ReadFile(filepath.Join(dir, "merged.mg"))
	if !strings.HasPrefix(string(merged), "#linux\n!228 ar.conf\n") || !strings.Contains(string(merged), "!76 agent.conf\n") {
		t.Fatalf("merged.mg:\n%s", merged)
	}
	agExpect(t, post(`{"group_id": "linux"}`), 400, agProblem(1711, "linux"))
	agExpect(t, post(`{"group_id": "DEFAULT"}`), 400, agProblem(1711, "DEFAULT"))
	agExpect(t, post(`{"group_id": "ar.conf"}`), 400, agProblem(1713, "ar.conf"))
	shared := filepath.Join(e.DataDir, "etc", "shared")
	before, _ := os.ReadDir(shared)
	for _, body := range []string{`{"group_id": ";wrong_name"}`, `{"group_id": ".."}`, `{"group_id": "all"}`,
		`{"group_id": "a/b"}`, `{"group_id": "../../x"}`, `{"group_id": "` + strings.Repeat("g", 129) + `"}`, `{}`,
		`{"group_id": 3}`, `{"group_id": "x", "other": 1}`} {
		agStatus(t, post(body), 400, 0)
	}
	if after, _ := os.ReadDir(shared); len(after) != len(before) {
		t.Fatalf("refused groups wrote %d entries", len(after)-len(before))
	}
	if n := len(agData(t, agGet(t, e, tok, "/groups"))["affected_items"].([]any)); n != 4 {
		t.Fatalf("%d groups after the refusals, want 4", n)
	}
	// ALL is a valid name (the exclusion is case-sensitive).
	agExpect(t, post(`{"group_id": "ALL"}`), 200, `{"message": "Group 'ALL' created.", "error": 0}`)

	// Deleting: default is refused, members of a deleted group go back to
	// default when it was their only group.
	del := func(q string) exchange { return do(t, e, "DELETE", "/groups?"+q, bearer(tok), "") }
	agExpect(t, del("groups_list=web,default,nope"), 200, agItems(`"web"`, 1, []string{
		agFailed(1710, "", `"nope"`), agFailed(1712, "", `"default"`)}, "Some groups were not deleted"))
	if _, err := os.Stat(filepath.Join(e.DataDir, "etc", "shared", "web")); !os.IsNotExist(err) {
		t.Fatalf("web directory still there: %v", err)
	}
	agExpect(t, agGet(t, e, tok, "/agents?select=group&agents_list=001,011"), 200, agItems(
		`{"id": "001", "group": ["default"]}, {"id": "011", "group": ["db"]}`, 2, nil,
		"All selected agents information was returned"))
	agExpect(t, del("groups_list=all"), 200, agItems(`"ALL", "db", "linux"`, 3, nil, "All selected groups were deleted"))
	agStatus(t, del("groups_list=.."), 400, 0)
	agStatus(t, del(""), 400, 0)
}

func TestGroupsList(t *testing.T) {
	e, tok := agFleet(t)
	msg := "All selected groups information was returned"
	agExpect(t, agGet(t, e, tok, "/groups?select=count"), 200, agItems(
		`{"name": "db", "count": 6}, {"name": "default", "count": 25}, {"name": "web", "count": 10}`, 3, nil, msg))
	agExpect(t, agGet(t, e, tok, "/groups?offset=1&limit=1&select=name"), 200, agItems(`{"name": "default"}`, 3, nil, msg))
	agExpect(t, agGet(t, e, tok, "/groups?"+agEncode("q=count<10;name~d")+"&select=name"), 200,
		agItems(`{"name": "db"}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/groups?sort=-count&select=name"), 200,
		agItems(`{"name": "default"}, {"name": "web"}, {"name": "db"}`, 3, nil, msg))
	agExpect(t, agGet(t, e, tok, "/groups?search=-de&select=name"), 200, agItems(`{"name": "web"}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/groups?groups_list=web,nope&select=name"), 200, agItems(`{"name": "web"}`, 1,
		[]string{agFailed(1710, "", `"nope"`)}, "Some groups information was not returned"))
	x := agGet(t, e, tok, "/groups?hash=sha256&groups_list=default")
	item := agData(t, x)["affected_items"].([]any)[0].(map[string]any)
	if len(item["configSum"].(string)) != 64 {
		t.Fatalf("sha256 configSum %v", item["configSum"])
	}
	agExpect(t, agGet(t, e, tok, "/groups?sort=-wrong_sort"), 400, `{"title": "Bad Request", "detail": "Not a valid sort field", `+
		`"remediation": "Please, use only allowed sort fields: Allowed sort fields: configSum, count, mergedSum, name. Wrong fields: wrong_sort", `+
		`"dapi_errors": {"node01": {"error": "Not a valid sort field"}}, "error": 1403}`)
	agStatus(t, agGet(t, e, tok, "/groups?"+agEncode("q=name%=invalid")), 400, 1407)
	agStatus(t, agGet(t, e, tok, "/groups?select=wrong"), 400, 1724)
	agStatus(t, agGet(t, e, tok, "/groups?hash=wrong_hash"), 400, 0)
	agStatus(t, agGet(t, e, tok, "/groups?groups_list=.."), 400, 0)
}

func TestGroupAssignment(t *testing.T) {
	e, tok := agFleet(t)
	put := func(path string) exchange { return do(t, e, "PUT", path, bearer(tok), "") }
	del := func(path string) exchange { return do(t, e, "DELETE", path, bearer(tok), "") }
	groups := func(id string) string {
		x := agGet(t, e, tok, "/agents?select=group&agents_list="+id)
		g, _ := agData(t, x)["affected_items"].([]any)[0].(map[string]any)["group"].([]any)
		var out []string
		for _, v := range g {
			out = append(out, v.(string))
		}
		return strings.Join(out, ",")
	}
	agExpect(t, put("/agents/001/group/db"), 200, agItems(`"001"`, 1, nil, "All selected agents were assigned to db"))
	if g := groups("001"); g != "web,db" {
		t.Fatalf("001 groups %s", g)
	}
	agExpect(t, put("/agents/001/group/db"), 200, agItems("", 0, []string{agFailed(1751, "", `"001"`)},
		"No agents were assigned to db"))
	agExpect(t, put("/agents/000/group/db"), 200, agItems("", 0, []string{agFailed(1703, "", `"000"`)},
		"No agents were assigned to db"))
	agExpect(t, put("/agents/001/group/nope"), 404, agProblem(1710, ""))
	agExpect(t, put("/agents/group?group_id=ar.conf&agents_list=001"), 404, agProblem(1710, ""))
	// A.9, then force_single_group.
	agExpect(t, put("/agents/group?group_id=web&agents_list=007,002,999"), 200, agItems(`"007"`, 1, []string{
		agFailed(1701, "", `"999"`), agFailed(1751, "", `"002"`)}, "Some agents were not assigned to web"))
	agExpect(t, put("/agents/011/group/default?force_single_group=true"), 200, agItems(`"011"`, 1, nil,
		"All selected agents were assigned to default and removed from the other groups"))
	if g := groups("011"); g != "default" {
		t.Fatalf("011 groups %s", g)
	}
	// Without a list: every agent but 000, the members left out silently.
	x := put("/agents/group?group_id=db")
	if d := agData(t, x); d["total_affected_items"].(float64) != 41-7 || d["total_failed_items"] != 0.0 {
		t.Fatalf("bulk assignment %s", x.body)
	}
	// Removing.
	agExpect(t, del("/agents/001/group/web"), 200, `{"message": "Agent '001' removed from 'web'.", "error": 0}`)
	agExpect(t, del("/agents/036/group/db"), 200,
		`{"message": "Agent '036' removed from 'db'. Agent reassigned to group default.", "error": 0}`)
	agExpect(t, del("/agents/036/group/default"), 400, agProblem(1745, ""))
	agExpect(t, del("/agents/036/group/web"), 400, agProblem(1734, ""))
	agExpect(t, del("/agents/999/group/web"), 404, agProblem(1701, ""))
	agExpect(t, del("/agents/000/group/web"), 400, agProblem(1703, ""))
	agExpect(t, del("/agents/005/group/nope"), 404, agProblem(1710, ""))
	agExpect(t, del("/agents/012/group"), 200, agItems(`"db"`, 1, nil, "Specified agent was removed from returned groups"))
	if g := groups("012"); g != "default" {
		t.Fatalf("012 groups %s", g)
	}
	agExpect(t, del("/agents/005/group?groups_list=web,nope,default"), 200, agItems(`"web"`, 1, []string{
		agFailed(1710, "", `"nope"`), agFailed(1734, "", `"default"`)}, "Specified agent was not removed from some groups"))
	agExpect(t, del("/agents/000/group"), 400, agProblem(1703, ""))
	agExpect(t, del("/agents/group?group_id=db&agents_list=005,007,000,999"), 200, agItems(`"005", "007"`, 2, []string{
		agFailed(1701, "", `"999"`), agFailed(1703, "", `"000"`)}, "Some agents were not removed from group db"))
	agStatus(t, del("/agents/group?group_id=db"), 400, 0)
	x = del("/agents/group?group_id=db&agents_list=all")
	if d := agData(t, x); d["total_affected_items"].(float64) < 30 || d["total_failed_items"] != 0.0 {
		t.Fatalf("remove all from db: %s", x.body)
	}
	if d := agData(t, agGet(t, e, tok, "/groups/db/agents")); d["total_affected_items"] != 0.0 {
		t.Fatalf("db still has members: %v", d)
	}
}

func TestGroupConfigurationAndFiles(t *testing.T) {
	e, tok := agFleet(t)
	h := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/xml"}
	conf := filepath.Join(e.DataDir, "etc", "shared", "web", "agent.conf")
	merged := filepath.Join(e.DataDir, "etc", "shared", "web", "merged.mg")
	sum, msum := agMD5(t, conf), agMD5(t, merged)
	// The contract checker cannot decode XML bodies: these go without it.
	put := func(group, body string, headers map[string]string) exchange {
		return rawDo(t, e, "PUT", "/groups/"+group+"/configuration", headers, body)
	}
	for _, c := range []struct {
		name, body string
		status     int
		code       int
	}{
		{"empty", "", 400, 1912},
		{"not well-formed", "<agent_config><localfile>", 400, 1113},
		{"not agent configuration", "<ossec_config><global/></ossec_config>", 400, 1114},
		{"unknown section", "<agent_config><remote/></agent_config>", 400, 1114},
		{"not UTF-8", "<agent_config>\xff</agent_config>", 400, 1911},
		{"too large", "<agent_config>" + strings.Repeat("<!-- x -->", 1100000) + "</agent_config>", 413, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := rawDo(t, e, "PUT", "/groups/web/configuration", h, c.body)
			if x.status != c.status {
				t.Fatalf("got %d %s", x.status, x.body)
			}
			if c.code != 0 {
				agStatus(t, x, c.status, c.code)
			}
			if agMD5(t, conf) != sum || agMD5(t, merged) != msum {
				t.Fatal("agent.conf or merged.mg changed")
			}
		})
	}
	agStatus(t, put("web", "<agent_config/>", map[string]string{"Authorization": "Bearer " + tok,
		"Content-Type": "application/json"}), 415, 0)
	agExpect(t, put("nope", "<agent_config/>", h), 404, agProblem(1710, "nope"))
	newConf := "<agent_config os='Linux'>\n  <localfile>\n    <location>/var/log/app.log</location>\n\n" +
		"    <log_format>syslog</log_format>\n  </localfile>\n</agent_config>\n"
	// Stored as Wazuh stores it: re-printed by minidom (double quotes, two
	// more spaces, blank lines gone).
	stored := "  <agent_config os=\"Linux\">\n    <localfile>\n      <location>/var/log/app.log</location>\n" +
		"      <log_format>syslog</log_format>\n    </localfile>\n  </agent_config>\n"
	agExpect(t, put("web", newConf, h), 200, `{"message": "Agent configuration was successfully updated", "error": 0}`)
	if b, _ := os.ReadFile(conf); string(b) != stored || agMD5(t, merged) == msum {
		t.Fatalf("stored agent.conf %q; merged.mg rebuilt: %v", b, agMD5(t, merged) != msum)
	}
	agExpect(t, agGet(t, e, tok, "/groups/web/configuration"), 200, `{"data": {"total_affected_items": 1, "affected_items": `+
		`[{"filters": {"os": "Linux"}, "config": {"localfile": [{"location": "/var/log/app.log", "log_format": "syslog"}]}}]}, "error": 0}`)
	agExpect(t, agGet(t, e, tok, "/groups/web/configuration?offset=5"), 200,
		`{"data": {"total_affected_items": 1, "affected_items": []}, "error": 0}`)
	agExpect(t, agGet(t, e, tok, "/groups/wrong_group/configuration"), 404, agProblem(1710, "wrong_group"))

	// Files.
	agExpect(t, agGet(t, e, tok, "/groups/default/files?"+agEncode("q=filename=agent.conf")), 200, agItems(
		`{"filename": "agent.conf", "hash": "517aec04b15cacec1bfbab254e1f7647"}`, 1, nil, "All selected groups files were returned"))
	agExpect(t, agGet(t, e, tok, "/groups/wrong_group/files"), 200, agItems("", 0,
		[]string{agFailed(1710, "", `"wrong_group"`)}, "No groups files were returned"))
	agStatus(t, agGet(t, e, tok, "/groups/default/files?sort=size"), 400, 1403)
	x := rawDo(t, e, "GET", "/groups/web/files/agent.conf?raw=true", bearer(tok), "")
	if x.status != 200 || x.header.Get("Content-Type") != "application/xml; charset=utf-8" || string(x.body) != stored {
		t.Fatalf("raw agent.conf: %d %s %q", x.status, x.header.Get("Content-Type"), x.body)
	}
	x = agGet(t, e, tok, "/groups/web/files/merged.mg?raw=true")
	if x.status != 200 || x.header.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.HasPrefix(string(x.body), "#web\n") {
		t.Fatalf("raw merged.mg: %d %s", x.status, x.header.Get("Content-Type"))
	}
	agExpect(t, agGet(t, e, tok, "/groups/web/files/ar.conf"), 200, `{"data": ["restart-ossec0 - restart-ossec.sh - 0", `+
		`"restart-ossec0 - restart-ossec.cmd - 0", "restart-wazuh0 - restart-ossec.sh - 0", "restart-wazuh0 - restart-ossec.cmd - 0", `+
		`"restart-wazuh0 - restart-wazuh - 0", "restart-wazuh0 - restart-wazuh.exe - 0"], "error": 0}`)
	agExpect(t, agGet(t, e, tok, "/groups/web/files/agent.conf"), 200, `{"data": {"total_affected_items": 1, "affected_items": `+
		`[{"filters": {"os": "Linux"}, "config": {"localfile": [{"location": "/var/log/app.log", "log_format": "syslog"}]}}]}, "error": 0}`)
	abs := filepath.Join(e.DataDir, "etc", "shared", "default", "agent.mg")
	agExpect(t, agGet(t, e, tok, "/groups/default/files/agent.mg"), 400, agProblem(1006, abs))
	agExpect(t, agGet(t, e, tok, "/groups/nope/files/agent.conf"), 404, agProblem(1710, "nope"))
	// Names that would leave the group directory never read a file.
	for _, name := range []string{"..", "..%2F..%2Fclient.keys", "%2Fetc%2Fpasswd", "a%5C..", "..%2Fweb%2Fagent.conf"} {
		x := agGet(t, e, tok, "/groups/default/files/"+name+"?raw=true")
		if x.status != 400 || strings.Contains(string(x.body), "agent_config") || strings.Contains(string(x.body), "root:") {
			t.Fatalf("%s: %d %s", name, x.status, x.body)
		}
	}
}
