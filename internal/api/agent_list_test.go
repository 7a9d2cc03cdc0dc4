package api_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
)

// agFleet starts a manager holding the fixture's fleet.
func agFleet(t *testing.T) (*apitest.Env, string) {
	e := apitest.Start(t)
	agLoadFixture(t, e)
	return e, token(t, e, "wazuh", "wazuh")
}

// TestListAgentsQueries checks the ids each query selects over the fixture
// fleet (41 agents: 000-041 without the removed 017).
func TestListAgentsQueries(t *testing.T) {
	e, tok := agFleet(t)
	web := "001,002,003,004,005,006,011,025,026,035"
	disconnected := "005,010,016,022,024,030,034"
	cases := []struct{ query, ids string }{
		{"limit=2", "000,001"},
		{"offset=39&limit=5", "040,041"},
		{"agents_list=041,001,017", "001,041"},
		{"q=group=db", "007,008,009,010,011,036"},
		{"group=web", web},
		{"q=group~we", web},
		{"status=disconnected", disconnected},
		{"status=disconnected,never_connected", "005,010,016,022,024,030,034,035,036,037,038,039"},
		{"status=disconnected&status=pending", "005,010,015,016,022,024,030,034,040,041"},
		{"q=id<5;id!=2", "000,001,003,004"},
		{"q=os.platform=windows;status=active", "006,018,019,020,021"},
		{"q=(os.platform=windows,os.platform=darwin);status!=active", "022,024"},
		{"q=os.platform=UBUNTU;os.major>23", "003,004,014,015"},
		{"version=4.14.5", "004,022"},
		{"version=v4.14.5", "004,022"},
		{"version=Wazuh 4.14.5", "004,022"},
		{"version=Wazuh v4.14.5", "004,022"},
		{"version=TestVersion", ""},
		// version compares as text, as in Wazuh ("Wazuh v4.9.2" > "Wazuh v4.13.1").
		{"q=version<Wazuh v4.13.1", "010,034"},
		{"older_than=1d", "010,016,022,024,034"},
		{"q=lastKeepAlive>1d", "010,016,022,024,034"},
		{"q=dateAdd<1d", "035,036,037,038,039,040,041"},
		{"q=dateAdd>2026-11-25", "036,037,038,039,040,041"},
		{"q=dateAdd>2026-11-25 00:00:00;dateAdd<2026-11-25T05:00:00Z", "036,037,038,039"},
		{"q=name=web-0", ""},
		{"q=name~web-0", "001,002,003,004,005,035"},
		{"q=ip=10.0.6.0/24", "039"},
		{"ip=10.0.1.21&registerIP=10.0.1.21", "006"},
		{"name=WEB-01", "001"},
		{"os.platform=darwin", "023,024"},
		{"os.name=CentOS Stream", "010,031"},
		{"node_name=unknown", "035,036,037,038,039"},
		{"group_config_status=not synced", "024,026,035,036,037,038,039,040,041"},
		{"manager=wazuh-manager&q=status_code>3", "005,016,022,024,030,034"},
		{"q=mergedSum=22e4b3f81842ee7198128754966d8188", "024,026"},
		{"q=group=null", "000"},
		{"q=os.platform=null;id<37", "035,036"},
		// The user's q stays inside its brackets: a top-level OR cannot widen
		// agents_list, the named filters or the status (Wazuh 4.14.7 would
		// return 002 and db-04 here).
		{"agents_list=001&q=id=1,id=2", "001"},
		{"status=active&q=name=web-05,name=db-04", ""},
		{"group=db&q=id=1,id=7", "007"},
		// Values are bound, never pasted into the SQL.
		{"q=name=web-01' OR '1'='1", ""},
		{`q=name=x' OR 1=1 --`, ""},
		{"search=web-01' or 'wazuh'='wazuh", ""},
		{"search=iis", "006"},
		{"search=-a", ""},
		{"sort=-id&limit=3", "041,040,039"},
		{"sort=name&q=id<4", "000,001,002,003"},
		{"sort=+status,id&q=id>28;id<32", "029,031,030"},
		{"sort=-version&limit=3&q=id>0", "001,002,003"},
		// Sorting by version is numeric over the whole list (Wazuh re-sorts only the page).
		{"sort=version&limit=7&q=version~wazuh", "024,016,010,034,009,020,004"},
		// null means IS NULL whatever the operator, as in Wazuh.
		{"q=version!=null;id<37", "035,036"},
		{"sort=-os.version&q=os.platform=ubuntu", "003,004,014,015,001,002,011,012,027,028,029,030"},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			path := "/agents?select=id&limit=500&" + agEncode(c.query)
			var x exchange
			if strings.Contains(c.query, "status=disconnected,") {
				// Comma lists are Wazuh's form; the OpenAPI document's enum
				// check reads them as one value, so no contract checker here.
				x = rawDo(t, e, "GET", path, bearer(tok), "")
			} else {
				x = agGet(t, e, tok, path)
			}
			if got := agIDs(t, x); got != c.ids {
				t.Fatalf("got  %s\nwant %s", got, c.ids)
			}
		})
	}
}

// agEncode escapes the values of a query written in clear ("q=a;b&c=d").
func agEncode(query string) string {
	var parts []string
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, k+"="+url.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}

// TestListAgentsShapes checks select, totals, failed items and distinct.
func TestListAgentsShapes(t *testing.T) {
	e, tok := agFleet(t)
	msgAll := "All selected agents information was returned"
	agExpect(t, agGet(t, e, tok, "/agents?agents_list=001,999&select=name"), 200,
		agItems(`{"id": "001", "name": "web-01"}`, 1, []string{agFailed(1701, "", `"999"`)},
			"Some agents information was not returned"))
	agExpect(t, agGet(t, e, tok, "/agents?search=nomatch"), 200,
		agItems("", 0, nil, "No agent information was returned"))
	agExpect(t, agGet(t, e, tok, "/agents?select=os.platform,lastKeepAlive&agents_list=035,001"), 200,
		agItems(`{"os": {"platform": "ubuntu"}, "id": "001", "lastKeepAlive": "2026-11-25T09:37:25+00:00"}, {"id": "035"}`,
			2, nil, msgAll))
	agExpect(t, agGet(t, e, tok, "/agents?select=group,disconnection_time&agents_list=005,011"), 200,
		agItems(`{"disconnection_time": "2026-11-25T06:47:44+00:00", "id": "005", "group": ["web"]}, `+
			`{"id": "011", "group": ["web", "db"]}`, 2, nil, msgAll))
	// total_affected_items counts every match, not the page.
	if d := agData(t, agGet(t, e, tok, "/agents?limit=1&offset=3")); d["total_affected_items"] != 41.0 ||
		len(d["affected_items"].([]any)) != 1 {
		t.Fatalf("page data %v", d)
	}
	// An offset past the end: no item, the real total, and (total being
	// positive) Wazuh's "all" message.
	agExpect(t, agGet(t, e, tok, "/agents?offset=100"), 200, agItems("", 41, nil, msgAll))
	// Status values are lower-cased before validation (outside the OpenAPI
	// enum, so without the contract checker).
	if ids := agIDs(t, rawDo(t, e, "GET", "/agents?select=id&status=DiScoNNected", bearer(tok), "")); ids !=
		"005,010,016,022,024,030,034" {
		t.Fatalf("status=DiScoNNected: %s", ids)
	}
	agExpect(t, agGet(t, e, tok, "/agents?select=os.platform&distinct=true&sort=os.platform"), 200,
		agItems(`{"os": {"platform": "amzn"}}, {"os": {"platform": "centos"}}, {"os": {"platform": "darwin"}}, `+
			`{"os": {"platform": "debian"}}, {"os": {"platform": "rhel"}}, {"os": {"platform": "ubuntu"}}, `+
			`{"os": {"platform": "windows"}}`, 7, nil, msgAll))
	// Search and its complement split the fleet.
	in := agData(t, agGet(t, e, tok, "/agents?search=web"))["total_affected_items"].(float64)
	out := agData(t, agGet(t, e, tok, "/agents?search=-web"))["total_affected_items"].(float64)
	if in == 0 || in+out != 41 {
		t.Fatalf("search web %v, -web %v", in, out)
	}
	// The key of an agent, and the refusals of GET /agents/{id}/key.
	agExpect(t, agGet(t, e, tok, "/agents/000/key"), 200, agItems("", 0, []string{agFailed(1703, "", `"000"`)},
		"No agent keys were obtained"))
	agExpect(t, agGet(t, e, tok, "/agents/999/key"), 200, agItems("", 0, []string{agFailed(1701, "", `"999"`)},
		"No agent keys were obtained"))
	x := agGet(t, e, tok, "/agents/001/key")
	key := agData(t, x)["affected_items"].([]any)[0].(map[string]any)["key"].(string)
	if line := decodeKey(t, key); strings.Join(line, " ") !=
		"001 web-01 any 029bfc9396b35d01bd725343233bbfb71c61f5b77f1bb86ec9bd38ea835b758c" {
		t.Fatalf("key line %v", line)
	}
	agStatus(t, agGet(t, e, tok, "/agents/1/key"), 400, 0)
}

// TestListAgentsRefusals checks Wazuh's 400s for bad parameters.
func TestListAgentsRefusals(t *testing.T) {
	e, tok := agFleet(t)
	sortFields := "configSum, dateAdd, disconnection_time, group, group_config_status, id, ip, lastKeepAlive, " +
		"manager, mergedSum, name, node_name, os.arch, os.build, os.codename, os.major, os.minor, os.name, " +
		"os.platform, os.uname, os.version, registerIP, status, status_code, version"
	agExpect(t, agGet(t, e, tok, "/agents?sort=-wrong"), 400,
		agProblem(1403, "Allowed sort fields: "+sortFields+". Fields: wrong"))
	agExpect(t, agGet(t, e, tok, "/agents?select=param_test"), 400,
		agProblem(1724, "Allowed select fields: "+sortFields+". Fields: param_test"))
	agExpect(t, agGet(t, e, tok, "/agents?q=internal_key=test"), 400,
		agProblem(1408, "Available fields: "+sortFields+". Field: internal_key"))
	for _, c := range []struct {
		query string
		code  int
	}{
		{"sort=internal_key", 1403},
		{"select=os", 1724},
		{"q=" + url.QueryEscape(`name=x";DROP TABLE agent;--`), 1407},
		{"q=" + url.QueryEscape("group<whatever"), 1409},
		{"q=" + url.QueryEscape("name==x"), 1409},
		{"q=" + url.QueryEscape("name<=x"), 1409},
		{"q=" + url.QueryEscape("((name=a"), 1407},
		{"q=" + url.QueryEscape("name=a)"), 1407},
		{"q=" + url.QueryEscape("name=a;"), 1407},
		{"q=" + url.QueryEscape("=a"), 1407},
		{"q=" + url.QueryEscape("name=a&b"), 1407},
		{"q=" + url.QueryEscape("group=default;lastKeepAe<1d"), 1408},
		{"q=" + url.QueryEscape("dateAdd<someday"), 1412},
		{"q=" + url.QueryEscape("lastKeepAlive<7dabc"), 1411},
		{"older_than=bad_time", 0},
		{"offset=-1", 0},
		{"offset=wrong_offset", 0},
		{"offset=9999999999999999999", 2003},
		{"limit=0", 0},
		{"limit=wrong_limit", 0},
		{"limit=100001", 0},
		{"limit=999999", 0},
		{"agents_list=wrong_name", 0},
		{"agents_list=01", 0},
		{"status=test_status", 0},
		{"version=Test%25Version", 0},
		{"os.platform=test_%25_platform", 0},
		{"node_name=x_*", 0},
		{"group=..", 0},
		{"group=all", 0},
		{"group_config_status=invalid", 0},
		{"select=", 0},
		{"sort=" + url.QueryEscape("id;drop"), 0},
		{"search=" + url.QueryEscape("a;b"), 0},
		{"distinct=maybe", 0},
		{"foo=1", 0},
	} {
		t.Run(c.query, func(t *testing.T) {
			agStatus(t, agGet(t, e, tok, "/agents?"+c.query), 400, c.code)
		})
	}
}

// TestAgentViews checks no_group, outdated, a group's agents, the
// summaries, stats/distinct and the overview over the fixture fleet.
func TestAgentViews(t *testing.T) {
	e, tok := agFleet(t)
	if ids := agIDs(t, agGet(t, e, tok, "/agents/no_group")); ids != "" {
		t.Fatalf("no_group %s, want none", ids)
	}
	do(t, e, "POST", "/agents", jsonHeaders(tok), `{"name": "fresh"}`)
	if ids := agIDs(t, agGet(t, e, tok, "/agents/no_group?select=name")); ids != "042" {
		t.Fatalf("no_group %s, want 042", ids)
	}
	if ids := agIDs(t, agGet(t, e, tok, "/agents/outdated?q=id>10&sort=-id")); ids != "034,024,022,020,016" {
		t.Fatalf("outdated %s", ids)
	}
	if ids := agIDs(t, agGet(t, e, tok, "/groups/web/agents?status=active&select=id")); ids != "001,002,003,004,006,011,025,026" {
		t.Fatalf("group agents %s", ids)
	}
	agExpect(t, agGet(t, e, tok, "/groups/wrong_group/agents"), 404, agProblem(1710, ""))
	agExpect(t, agGet(t, e, tok, "/agents/summary?agents_list=001,005,999"), 200,
		`{"data": {"status": {"active": 1, "disconnected": 1, "never_connected": 0, "pending": 0}, `+
			`"os": {"debian": 1, "ubuntu": 1}, "groups": {"web": 2}}, "error": 0}`)
	agExpect(t, agGet(t, e, tok, "/agents/summary"), 200,
		`{"data": {"status": {"active": 25, "disconnected": 7, "never_connected": 6, "pending": 3}, `+
			`"os": {"amzn": 2, "centos": 2, "darwin": 2, "debian": 5, "rhel": 4, "ubuntu": 12, "windows": 6}, `+
			`"groups": {"db": 6, "default": 25, "web": 10}}, "error": 0}`)
	agExpect(t, agGet(t, e, tok, "/agents/stats/distinct?fields=node_name&search=unknown"), 200,
		agItems(`{"node_name": "unknown", "count": 6}`, 6, nil, "All selected agents information was returned"))
	agExpect(t, agGet(t, e, tok, "/agents/stats/distinct?fields=status&sort=-count"), 200,
		agItems(`{"status": "active", "count": 26}, {"status": "disconnected", "count": 7}, `+
			`{"status": "never_connected", "count": 6}, {"status": "pending", "count": 3}`, 42, nil,
			"All selected agents information was returned"))
	agStatus(t, agGet(t, e, tok, "/agents/stats/distinct?fields=wrong_field"), 400, 1724)
	o := agData(t, agGet(t, e, tok, "/overview/agents"))
	status := o["agent_status"].(map[string]any)["connection"].(map[string]any)
	last := o["last_registered_agent"].([]any)[0].(map[string]any)
	if status["total"] != 41.0 || last["name"] != "fresh" || len(o["groups"].([]any)) != 3 ||
		o["nodes"].([]any)[0].(map[string]any)["node_name"] != "node01" {
		t.Fatalf("overview %v", o)
	}
}

// Wazuh's agent suites send offsets past int64: the database-backed lists
// answer wazuh-db's 2003, the file-backed group lists an empty page.
func TestOffsetPastInt64(t *testing.T) {
	e, tok := agEnv(t)
	huge := "9999999999999999999"
	db := agProblem(2003, "Cannot execute Global database query; datatype mismatch")
	for _, p := range []string{"/agents", "/groups/default/agents", "/agents/no_group", "/agents/outdated",
		"/agents/stats/distinct?fields=os.platform&"} {
		sep := "?"
		if strings.HasSuffix(p, "&") {
			sep = ""
		}
		agExpect(t, agGet(t, e, tok, p+sep+"offset="+huge), 400, db)
	}
	for _, p := range []string{"/groups/default/files", "/groups/default/configuration", "/groups"} {
		x := agGet(t, e, tok, p+"?offset="+huge)
		if x.status != 200 || !strings.Contains(string(x.body), `"affected_items": []`) {
			t.Errorf("%s: %d %s", p, x.status, x.body)
		}
	}
	agStatus(t, agGet(t, e, tok, "/agents?limit="+huge), 400, 0)
	agStatus(t, agGet(t, e, tok, "/agents?offset=-"+huge), 400, 0)
}

// stats/distinct sorts ids as numbers: 1000 before 999 in descending order.
func TestDistinctSortsIDsAsNumbers(t *testing.T) {
	e, tok := agEnv(t)
	for _, id := range []string{"999", "1000", "0998"} {
		x := do(t, e, "POST", "/agents/insert", map[string]string{"Authorization": "Bearer " + tok,
			"Content-Type": "application/json"}, `{"name": "n`+id+`", "id": "`+id+`", "key": "`+strings.Repeat("a", 64)+`"}`)
		if x.status != 200 {
			t.Fatalf("insert %s: %d %s", id, x.status, x.body)
		}
	}
	x := agGet(t, e, tok, "/agents/stats/distinct?fields=id&sort=-id&limit=3")
	var body struct {
		Data struct {
			Items []struct{ ID string } `json:"affected_items"`
		} `json:"data"`
	}
	json.Unmarshal(x.body, &body)
	var got []string
	for _, it := range body.Data.Items {
		got = append(got, it.ID)
	}
	if strings.Join(got, ",") != "1000,999,998" {
		t.Fatalf("sort=-id: %v (%s)", got, x.body)
	}
}
