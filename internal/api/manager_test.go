package api_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/core"
)

func TestManagerInfoAndStatus(t *testing.T) {
	e, tok := agEnv(t)
	uid, err := os.ReadFile(filepath.Join(e.DataDir, "etc", "wazuh.uid"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(e.DataDir, "etc", "wazuh.uid")); st.Mode().Perm() != 0o600 {
		t.Fatalf("wazuh.uid mode %v", st.Mode().Perm())
	}
	now := time.Now()
	agExpect(t, agGet(t, e, tok, "/manager/info"), 200, agItems(`{"path": `+agJSON(e.DataDir)+`, "version": "v`+api.Version+
		`", "type": "server", "max_agents": "unlimited", "openssl_support": "yes", "tz_offset": "`+now.Format("-0700")+
		`", "tz_name": "`+now.Format("MST")+`", "uuid": "`+strings.TrimSpace(string(uid))+`"}`, 1, nil,
		"Basic information was successfully read"))

	status := func(running ...string) string {
		var parts []string
		for _, d := range []string{"wazuh-agentlessd", "wazuh-analysisd", "wazuh-authd", "wazuh-csyslogd",
			"wazuh-monitord", "wazuh-execd", "wazuh-integratord", "wazuh-logcollector", "wazuh-maild", "wazuh-remoted",
			"wazuh-reportd", "wazuh-syscheckd", "wazuh-clusterd", "wazuh-modulesd", "wazuh-db", "wazuh-apid"} {
			v := "stopped"
			for _, r := range running {
				if r == d {
					v = "running"
				}
			}
			parts = append(parts, `"`+d+`": "`+v+`"`)
		}
		return agItems("{"+strings.Join(parts, ", ")+"}", 1, nil, "Processes status was successfully read")
	}
	agExpect(t, agGet(t, e, tok, "/manager/status"), 200, status("wazuh-monitord", "wazuh-db", "wazuh-apid"))
	e.StartDaemons()
	agExpect(t, agGet(t, e, tok, "/manager/status"), 200,
		status("wazuh-authd", "wazuh-monitord", "wazuh-remoted", "wazuh-db", "wazuh-apid"))

	agExpect(t, agGet(t, e, tok, "/manager/version/check"), 200, `{"data": {"uuid": "`+strings.TrimSpace(string(uid))+
		`", "last_check_date": "", "current_version": "v`+api.Version+`", "update_check": false, `+
		`"last_available_major": {}, "last_available_minor": {}, "last_available_patch": {}}, "error": 0}`)
}

func TestManagerInfoIsAManagerPermission(t *testing.T) {
	e, _ := agEnv(t)
	tok := agScoped(t, e, "agentreader", agPolicy("allow", strs("agent:read"), "agent:id:*"))
	for _, p := range []string{"/manager/info", "/manager/status", "/manager/configuration", "/manager/daemons/stats",
		"/manager/stats/hourly", "/manager/api/config"} {
		x := agGet(t, e, tok, p)
		if x.status != 403 || !strings.Contains(string(x.body), `"error": 4000`) {
			t.Fatalf("%s without manager:read: %d %s", p, x.status, x.body)
		}
	}
	tok = agScoped(t, e, "mgrreader", agPolicy("allow", strs("manager:read"), "*:*:*"))
	agStatus(t, agGet(t, e, tok, "/manager/api/config"), 403, 4000) // manager:read_api_config
	if x := agGet(t, e, tok, "/manager/info"); x.status != 200 {
		t.Fatalf("with manager:read: %d %s", x.status, x.body)
	}
}

func TestManagerConfiguration(t *testing.T) {
	e, tok := agEnv(t)
	x := agGet(t, e, tok, "/manager/configuration")
	var body struct {
		Data struct {
			Items []map[string]json.RawMessage `json:"affected_items"`
		} `json:"data"`
	}
	if err := json.Unmarshal(x.body, &body); err != nil || x.status != 200 || len(body.Data.Items) != 1 {
		t.Fatalf("%d %s", x.status, x.body)
	}
	for _, sec := range []string{"global", "remote", "auth", "cluster", "logging"} {
		if _, ok := body.Data.Items[0][sec]; !ok {
			t.Errorf("no %s section: %s", sec, x.body)
		}
	}
	if got := string(body.Data.Items[0]["remote"]); got != `[{"connection": "secure", "port": "1514", "protocol": ["tcp"], "ipv6": "no"}]` {
		t.Errorf("remote: %s", got)
	}
	msg := "Configuration was successfully read"
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=global&field=agents_disconnection_time"), 200,
		agItems(`{"global": {"agents_disconnection_time": "10m"}}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=cluster&field=disabled"), 200,
		agItems(`{"cluster": {"disabled": "yes"}}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=cluster&field=nodes"), 200,
		agItems(`{"cluster": {"nodes": ["NODE_IP"]}}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=remote&field=port"), 200,
		agItems(`{"remote": [{"port": "1514"}]}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=auth&field=force"), 200,
		agItems(`{"auth": {"force": {"enabled": ["yes"], "key_mismatch": ["yes"], "disconnected_time": `+
			`[{"enabled": "yes", "item": "1h"}], "after_registration_time": ["1h"]}}}`, 1, nil, msg))
	// A section muster does not have, a field it does not have.
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=rootcheck"), 200,
		agItems("", 0, []string{agFailed(1106, "rootcheck", `"manager"`)}, "Could not read configuration"))
	agExpect(t, agGet(t, e, tok, "/manager/configuration?section=global&field=nope"), 200,
		agItems("", 0, []string{agFailed(1103, "", `"manager"`)}, "Could not read configuration"))
	agStatus(t, agGet(t, e, tok, "/manager/configuration?section=bogus"), 400, 0)
	agStatus(t, agGet(t, e, tok, "/manager/configuration?field=a;b"), 400, 0)

	x = agGet(t, e, tok, "/manager/configuration?raw=true")
	if x.status != 200 || x.header.Get("Content-Type") != "application/xml; charset=utf-8" ||
		!strings.Contains(string(x.body), "<agents_disconnection_time>10m</agents_disconnection_time>") {
		t.Fatalf("raw: %d %s %s", x.status, x.header.Get("Content-Type"), x.body)
	}

	agExpect(t, agGet(t, e, tok, "/manager/configuration/validation"), 200,
		agItems(`{"name": "manager", "status": "OK"}`, 1, nil, "Validation was successfully checked"))
}

func TestManagerComponentConfiguration(t *testing.T) {
	e, tok := agEnv(t)
	msg := "Active configuration was successfully read"
	agExpect(t, agGet(t, e, tok, "/manager/configuration/com/cluster"), 200, agItems(
		`{"cluster": {"name": "wazuh", "node_name": "node01", "node_type": "master", "disabled": "yes"}}`, 1, nil, msg))
	// remoted is not running yet: its socket does not answer.
	agExpect(t, agGet(t, e, tok, "/manager/configuration/request/remote"), 200, agItems("", 0,
		[]string{agFailed(1121, "WAZUH_PATH/queue/sockets/remote", `"manager"`)}, "Could not read active configuration"))
	e.StartDaemons()
	agExpect(t, agGet(t, e, tok, "/manager/configuration/request/global"), 200, agItems(
		`{"global": {"agents_disconnection_time": 600, "agents_disconnection_alert_time": 0}}`, 1, nil, msg))
	agExpect(t, agGet(t, e, tok, "/manager/configuration/analysis/rules"), 200, agItems("", 0,
		[]string{agFailed(1121, "WAZUH_PATH/queue/sockets/analysis", `"manager"`)}, "Could not read active configuration"))
	agExpect(t, agGet(t, e, tok, "/manager/configuration/request/bogus"), 400, `{"title": "Bad Request", "detail": `+
		`"Invalid configuration for the given component: Valid configuration values for 'request': {'global', 'remote', 'internal'}", "error": 1128}`)
	agStatus(t, agGet(t, e, tok, "/manager/configuration/bogus/remote"), 400, 0)
}

func TestManagerDaemonStats(t *testing.T) {
	e, tok := agEnv(t)
	sockets := func(d, path string) string { return agFailed(1121, filepath.Join(e.DataDir, path), `"`+d+`"`) }
	msgNone := "Could not read statistical information for any daemon"
	agExpect(t, agGet(t, e, tok, "/manager/daemons/stats?daemons_list=wazuh-remoted"), 200,
		agItems("", 0, []string{sockets("wazuh-remoted", "queue/sockets/remoted")}, msgNone))
	d := e.StartDaemons()

	// One real exchange on the agent port: a clear-text ping and its pong.
	c, err := net.Dial("tcp", d.Addrs["remote/tcp"].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	frame, _ := agentproto.AppendFrame(nil, []byte("#ping"))
	c.Write(frame)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 64)); err != nil {
		t.Fatalf("no pong: %v", err)
	}

	x := agGet(t, e, tok, "/manager/daemons/stats")
	var body struct {
		Data struct {
			Items []struct {
				Name    string `json:"name"`
				Uptime  string `json:"uptime"`
				Metrics struct {
					Bytes    struct{ Received, Sent int64 } `json:"bytes"`
					Messages struct {
						Received struct {
							Ping int64 `json:"ping"`
						} `json:"received_breakdown"`
					} `json:"messages"`
					TCPSessions int64 `json:"tcp_sessions"`
				} `json:"metrics"`
			} `json:"affected_items"`
			Failed []struct {
				Error struct{ Code int } `json:"error"`
				ID    []string           `json:"id"`
			} `json:"failed_items"`
		} `json:"data"`
		Message string `json:"message"`
		Error   int    `json:"error"`
	}
	if err := json.Unmarshal(x.body, &body); err != nil || x.status != 200 {
		t.Fatalf("%d %s", x.status, x.body)
	}
	items := body.Data.Items
	if len(items) != 1 || items[0].Name != "wazuh-remoted" || items[0].Metrics.Messages.Received.Ping != 1 ||
		items[0].Metrics.Bytes.Received != int64(len(frame)) || items[0].Metrics.TCPSessions != 1 ||
		items[0].Uptime != e.Clock.Now().UTC().Format("2006-01-02T15:04:05+00:00") {
		t.Fatalf("remoted stats: %s", x.body)
	}
	if len(body.Data.Failed) != 2 || body.Data.Failed[0].Error.Code != 1121 || body.Error != 2 ||
		body.Message != "Could not read statistical information for some daemons" {
		t.Fatalf("analysisd and wazuh-db: %s", x.body)
	}
	agStatus(t, agGet(t, e, tok, "/manager/daemons/stats?daemons_list=wazuh-authd"), 400, 0)

	x = agGet(t, e, tok, "/manager/stats/remoted")
	if x.status != 200 || !strings.Contains(string(x.body), `"tcp_sessions": 1.0`) ||
		!strings.Contains(string(x.body), `"total_queue_size": 0.0`) {
		t.Fatalf("stats/remoted: %d %s", x.status, x.body)
	}
}

func TestManagerStatsFiles(t *testing.T) {
	e, tok := agEnv(t)
	// No analysis engine: a day without a stats file is Wazuh's 1308.
	path := filepath.Join(e.DataDir, "stats", "totals", "2026", "Jan", "ossec-totals-01.log")
	agExpect(t, agGet(t, e, tok, "/manager/stats"), 400, agProblem(1308, path))
	agStatus(t, agGet(t, e, tok, "/manager/stats?date=2026-13-45"), 400, 0)
	// An imported manager's file is served.
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte("0-5710-5-3\n0--3--120--0--0\n1--0--80--2--0\n"), 0o600)
	agExpect(t, agGet(t, e, tok, "/manager/stats?date=2026-01-01"), 200, agItems(
		`{"hour": 0, "alerts": [{"sigid": 5710, "level": 5, "times": 3}], "totalAlerts": 3, "events": 120, "syscheck": 0, "firewall": 0}, `+
			`{"hour": 1, "alerts": [], "totalAlerts": 0, "events": 80, "syscheck": 2, "firewall": 0}`, 2, nil,
		"Statistical information for each node was successfully read"))
	os.WriteFile(path, []byte("0--x--1--0--0\n"), 0o600)
	agStatus(t, agGet(t, e, tok, "/manager/stats?date=2026-01-01"), 500, 1309)

	zeros := "[" + strings.TrimSuffix(strings.Repeat("0, ", 24), ", ") + "]"
	agExpect(t, agGet(t, e, tok, "/manager/stats/hourly"), 200, agItems(`{"averages": `+zeros+`, "interactions": 0}`, 1, nil,
		"Statistical information per hour for each node was successfully read"))
	x := agGet(t, e, tok, "/manager/stats/weekly")
	if x.status != 200 || !strings.Contains(string(x.body), `{"Sun": {"hours": `+zeros+`, "interactions": 0}}`) ||
		!strings.Contains(string(x.body), `"total_affected_items": 7`) {
		t.Fatalf("weekly: %d %s", x.status, x.body)
	}
	agStatus(t, agGet(t, e, tok, "/manager/stats/analysisd"), 501, 0)
}

func TestManagerAPIConfig(t *testing.T) {
	e, tok := agEnv(t)
	ssl := func(f string) string { return agJSON(filepath.Join(e.DataDir, "ssl", f)) }
	agExpect(t, agGet(t, e, tok, "/manager/api/config"), 200, agItems(`{"node_name": "manager", "node_api_config": {`+
		`"host": ["0.0.0.0", "::"], "port": 55000, "drop_privileges": true, "experimental_features": false, `+
		`"max_upload_size": 10485760, "authentication_pool_size": 2, "intervals": {"request_timeout": 10}, `+
		`"https": {"enabled": true, "key": `+ssl("server.key")+`, "cert": `+ssl("server.crt")+`, "use_ca": false, `+
		`"ca": `+ssl("ca.crt")+`, "ssl_protocol": "auto", "ssl_ciphers": ""}, `+
		`"logs": {"level": "info", "format": "plain", "max_size": {"enabled": false, "size": "1M"}}, `+
		`"cors": {"enabled": false, "source_route": "*", "expose_headers": "*", "allow_headers": "*", "allow_credentials": false}, `+
		`"access": {"max_login_attempts": 50, "block_time": 300, "max_request_per_minute": 300}, `+
		`"upload_configuration": {"remote_commands": {"localfile": {"allow": true, "exceptions": []}, `+
		`"wodle_command": {"allow": true, "exceptions": []}}, "limits": {"eps": {"allow": true}}, `+
		`"agents": {"allow_higher_versions": {"allow": true}}, "indexer": {"allow": true}, `+
		`"integrations": {"virustotal": {"public_key": {"allow": true, "minimum_quota": 240}}}}}}`, 1, nil,
		"API configuration was successfully read"))
}

// A standalone node answers the cluster API as a Wazuh manager whose
// cluster is disabled.
func TestClusterDisabled(t *testing.T) {
	e, tok := agEnv(t)
	agExpect(t, agGet(t, e, tok, "/cluster/status"), 200, `{"data": {"enabled": "no", "running": "no"}, "error": 0}`)
	notRunning := `{"title": "Bad Request", "detail": ` + agJSON(core.E(3013).Detail) + `, "remediation": ` +
		agJSON(core.E(3013).Remediation) + `, "error": 3013}`
	for _, p := range []string{"/cluster/local/info", "/cluster/local/config", "/cluster/nodes?type=master",
		"/cluster/healthcheck?nodes_list=node01", "/cluster/node01/logs?limit=5", "/cluster/node01/status",
		"/cluster/api/config", "/cluster/node01/configuration/com/cluster"} {
		agExpect(t, agGet(t, e, tok, p), 400, notRunning)
	}
	agExpect(t, do(t, e, "PUT", "/cluster/restart", bearer(tok), ""), 400, notRunning)
	// The query is validated first.
	agStatus(t, agGet(t, e, tok, "/cluster/node01/logs?limit=501"), 400, 0)
	agStatus(t, agGet(t, e, tok, "/cluster/nodes?bogus=1"), 400, 0)
	// cluster:status is checked.
	low := agScoped(t, e, "noclusters", agPolicy("allow", strs("agent:read"), "agent:id:*"))
	agStatus(t, agGet(t, e, low, "/cluster/status"), 403, 4000)
}

func TestManagerLogs(t *testing.T) {
	e, tok := agEnv(t)
	agExpect(t, agGet(t, e, tok, "/manager/logs"), 500, strings.Replace(agProblem(1020, ""), `file"}}`,
		`file", "logfile": "WAZUH_HOME/logs/api.log"}}`, 1))
	os.MkdirAll(filepath.Join(e.DataDir, "logs"), 0o700)
	var b strings.Builder
	for i := range 2100 { // only the last 2000 lines are read, as in Wazuh
		fmt.Fprintf(&b, "2026/01/01 %02d:%02d:%02d wazuh-remoted: INFO: line %d\n", i/3600, i/60%60, i%60, i)
	}
	b.WriteString("2026/01/01 01:00:00 wazuh-authd: ERROR: enrollment refused\n")
	b.WriteString("a continuation line\n")
	b.WriteString("2026/01/01 01:00:01 wazuh-authd: WARNING: slow disk\n")
	os.WriteFile(filepath.Join(e.DataDir, "logs", "ossec.log"), []byte(b.String()), 0o600)
	ts := func(s string) string {
		t, _ := time.ParseInLocation("2006/01/02 15:04:05", s, time.Local)
		return t.UTC().Format("2006-01-02T15:04:05Z")
	}
	msg := "Logs were successfully read"
	agExpect(t, agGet(t, e, tok, "/manager/logs?tag=wazuh-authd"), 200, agItems(
		`{"timestamp": "`+ts("2026/01/01 01:00:01")+`", "tag": "wazuh-authd", "level": "warning", "description": " slow disk"}, `+
			`{"timestamp": "`+ts("2026/01/01 01:00:00")+`", "tag": "wazuh-authd", "level": "error", "description": " enrollment refused"}`,
		2, nil, msg))
	agExpect(t, agGet(t, e, tok, "/manager/logs?level=error&select=description"), 200,
		agItems(`{"description": " enrollment refused"}`, 1, nil, msg))
	x := agGet(t, e, tok, "/manager/logs?tag=wazuh-remoted&sort=%2Btimestamp&limit=2")
	if x.status != 200 || !strings.Contains(string(x.body), `"description": " line 103"}, {`) ||
		!strings.Contains(string(x.body), `"total_affected_items": 1997`) {
		t.Fatalf("oldest first: %d %.600s", x.status, x.body)
	}
	agExpect(t, agGet(t, e, tok, "/manager/logs?q=description~2099;level=info&limit=1"), 200, agItems(
		`{"timestamp": "`+ts("2026/01/01 00:34:59")+`", "tag": "wazuh-remoted", "level": "info", "description": " line 2099"}`,
		1, nil, msg))
	agStatus(t, agGet(t, e, tok, "/manager/logs?level=notice"), 400, 0)
	agStatus(t, agGet(t, e, tok, "/manager/logs?limit=501"), 400, 0)
	agExpect(t, agGet(t, e, tok, "/manager/logs/summary"), 200, agItems(
		`{"wazuh-authd": {"all": 2, "info": 0, "error": 1, "critical": 0, "warning": 1, "debug": 0}}, `+
			`{"wazuh-remoted": {"all": 1997, "info": 1997, "error": 0, "critical": 0, "warning": 0, "debug": 0}}`, 2, nil,
		"Log was successfully summarized"))
}
