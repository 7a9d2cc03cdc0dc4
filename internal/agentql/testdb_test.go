package agentql

import (
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// testNow is the clock of every test.
var testNow = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

const agentDDL = `CREATE TABLE agent (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL, ip TEXT, register_ip TEXT, internal_key TEXT,
	os_name TEXT, os_version TEXT, os_major TEXT, os_minor TEXT, os_codename TEXT, os_build TEXT,
	os_platform TEXT, os_uname TEXT, os_arch TEXT, version TEXT, version_key TEXT,
	config_sum TEXT, merged_sum TEXT, manager_host TEXT, node_name TEXT DEFAULT 'unknown',
	date_add INTEGER NOT NULL, last_keepalive INTEGER, "group" TEXT, group_hash TEXT,
	connection_status TEXT NOT NULL DEFAULT 'never_connected', disconnection_time INTEGER DEFAULT 0,
	group_config_status TEXT NOT NULL DEFAULT 'not synced', status_code INTEGER DEFAULT 0)`

var agentColumns = []string{"id", "name", "ip", "register_ip", "internal_key", "os_name", "os_version",
	"os_major", "os_minor", "os_codename", "os_build", "os_platform", "os_uname", "os_arch", "version",
	"version_key", "config_sum", "merged_sum", "manager_host", "node_name", "date_add", "last_keepalive",
	"group", "group_hash", "connection_status", "disconnection_time", "group_config_status", "status_code"}

type agentRow map[string]any

func day(y, m, d int) int64 { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Unix() }

// testAgents mirrors Wazuh's API integration environment (agents.md §10):
// 000 the manager, 001-008 active, 009-010 disconnected, 011-012 never connected.
func testAgents() []agentRow {
	groups := map[int]any{1: "default,group1", 2: "default,group2", 3: "default,group3", 4: "default",
		5: "default,group1,group2", 6: "default,group2,group3", 7: "default,group1,group3",
		8: "default,group1,group2", 9: "default,group1", 10: "default,group2,group3"}
	var rows []agentRow
	for id := 0; id <= 12; id++ {
		r := agentRow{"id": int64(id), "name": fmt.Sprintf("wazuh-agent%d", id), "register_ip": "any",
			"internal_key": fmt.Sprintf("%064x", id*7919), "node_name": "node01", "manager_host": "wazuh-master",
			"os_name": "Ubuntu", "os_platform": "ubuntu", "os_major": "16", "os_minor": "04",
			"os_version": "16.04.7 LTS", "os_codename": "Xenial Xerus", "os_arch": "x86_64",
			"os_uname": "Linux |wazuh-agent |4.4.0 |#1 SMP|x86_64", "config_sum": "ab73af41699f13fdd81903b5f23d8d00",
			"merged_sum": "9a016508cea1e997ab8569f5cfab30f5", "group": groups[id], "connection_status": "active",
			"disconnection_time": int64(0), "group_config_status": "synced", "status_code": int64(0),
			"date_add": day(2025, 1, 1) + int64(id)*3600, "last_keepalive": testNow.Unix() - 60,
			"ip": fmt.Sprintf("172.20.0.%d", id+1), "version": "Wazuh v4.14.7"}
		switch {
		case id == 0:
			r["name"], r["ip"], r["register_ip"], r["os_major"], r["os_version"] = "wazuh-manager", "127.0.0.1", "127.0.0.1", "24", "24.04 LTS"
			r["last_keepalive"], r["config_sum"], r["merged_sum"], r["internal_key"] = int64(253402300799), nil, nil, nil
		case id >= 5 && id <= 8:
			r["version"], r["os_major"], r["group_config_status"] = "Wazuh v3.13.2", "20", "not synced"
		case id == 9 || id == 10:
			r["version"], r["os_major"], r["connection_status"], r["status_code"] = "Wazuh v3.9.2", "18", "disconnected", int64(4)
			r["date_add"], r["last_keepalive"] = day(2021, 7, 4), testNow.Unix()-2*86400
			r["disconnection_time"] = testNow.Unix() - 86400
			if id == 10 {
				r["date_add"] = day(2021, 7, 6)
			}
		case id >= 11:
			for _, c := range []string{"ip", "version", "last_keepalive", "manager_host", "os_name", "os_platform", "os_major",
				"os_minor", "os_version", "os_codename", "os_arch", "os_uname", "config_sum", "merged_sum"} {
				r[c] = nil
			}
			r["connection_status"], r["node_name"], r["group_config_status"] = "never_connected", "unknown", "not synced"
			r["date_add"] = day(2021, 1, 1)
		}
		if v, ok := r["version"].(string); ok {
			r["version_key"] = VersionKey(v)
		}
		rows = append(rows, r)
	}
	return rows
}

// openAgents opens an in-memory SQLite holding rows.
func openAgents(t testing.TB, rows []agentRow) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(agentDDL); err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(agentColumns))
	marks := make([]string, len(agentColumns))
	for i, c := range agentColumns {
		quoted[i], marks[i] = `"`+c+`"`, "?"
	}
	ins := "INSERT INTO agent (" + strings.Join(quoted, ",") + ") VALUES (" + strings.Join(marks, ",") + ")"
	for _, r := range rows {
		args := make([]any, len(agentColumns))
		for i, c := range agentColumns {
			args[i] = r[c]
		}
		if _, err := db.Exec(ins, args...); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// ids runs a WHERE clause and returns the matching ids, zero-padded, in id order.
func ids(t testing.TB, db *sql.DB, where string, args []any) []string {
	t.Helper()
	rs, err := db.Query("SELECT id FROM agent WHERE "+where+" ORDER BY id", args...)
	if err != nil {
		t.Fatalf("query %s %v: %v", where, args, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%03d", id))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// rowGetter reads API fields from a row as the SQL expressions of AgentSchema see them.
func rowGetter(r agentRow) Getter {
	return func(field string) (any, bool) {
		if field == "ip" {
			if v := r["ip"]; v != nil {
				return v, true
			}
			return r["register_ip"], true
		}
		f, ok := AgentSchema.Field(field)
		if !ok {
			return nil, false
		}
		return r[strings.Trim(f.Column, `"`)], true
	}
}

// matchIDs returns the ids of rows Match accepts.
func matchIDs(t testing.TB, n Node, rows []agentRow) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		ok, err := Match(n, AgentSchema, rowGetter(r), testNow)
		if err != nil {
			t.Fatalf("Match(%v): %v", n, err)
		}
		if ok {
			out = append(out, fmt.Sprintf("%03d", r["id"]))
		}
	}
	sort.Strings(out)
	return out
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
