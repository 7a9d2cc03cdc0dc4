package api_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/core"
)

// agFixture is the Wazuh 4.14.7 manager state of ../shared/fixtures.
const agFixture = "../../../shared/fixtures/wazuh-4.14.7"

// agT0 is the reference time of the fixture's agent data.
var agT0 = time.Unix(1795599459, 0).UTC()

// agLoadFixture fills a test manager with the fixture's global.db agents,
// its groups and their files, and moves the clock to the fixture's time.
func agLoadFixture(t *testing.T, e *apitest.Env) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(agFixture, "queue/db/global.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, name, ip, register_ip, internal_key, os_name, os_version, os_major, os_minor,
		os_codename, os_build, os_platform, os_uname, os_arch, version, config_sum, merged_sum, manager_host,
		node_name, date_add, last_keepalive, "group", connection_status, disconnection_time, group_config_status,
		status_code FROM agent ORDER BY id`)
	if err != nil {
		t.Skipf("fixture: %v", err)
	}
	defer rows.Close()
	var agents []core.Agent
	for rows.Next() {
		var a core.Agent
		var s [18]sql.NullString
		var ka sql.NullInt64
		var key, group sql.NullString
		err := rows.Scan(&a.ID, &a.Name, &s[0], &s[1], &key, &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9],
			&s[10], &s[11], &s[12], &s[13], &s[14], &s[15], &a.DateAdd, &ka, &group, &a.Status, &a.DisconnectionTime,
			&a.GroupConfigStatus, &a.StatusCode)
		if err != nil {
			t.Fatal(err)
		}
		n := func(i int) core.Null[string] { return core.Null[string]{V: s[i].String, Valid: s[i].Valid} }
		a.IP, a.RegisterIP, a.Key = n(0), n(1), key.String
		a.OS = core.AgentOS{Name: n(2), Version: n(3), Major: n(4), Minor: n(5), Codename: n(6), Build: n(7),
			Platform: n(8), Uname: n(9), Arch: n(10)}
		a.Version, a.ConfigSum, a.MergedSum, a.Manager, a.NodeName = n(11), n(12), n(13), n(14), n(15)
		a.LastKeepAlive = core.Null[int64]{V: ka.Int64, Valid: ka.Valid}
		if group.Valid && group.String != "" {
			a.Groups = strings.Split(group.String, ",")
		}
		agents = append(agents, a)
	}
	shared := filepath.Join(e.DataDir, "etc", "shared")
	for _, f := range []string{"ar.conf", "default/agent.conf", "web/agent.conf", "db/agent.conf"} {
		// (merged.mg and the multi-group files are rebuilt by the manager.)
		b, err := os.ReadFile(filepath.Join(agFixture, "etc/shared", f))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(shared, f)), 0o700)
		if err := os.WriteFile(filepath.Join(shared, f), b, 0o660); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := e.Store.CreateGroups(ctx, []string{"default", "web", "db"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.PutAgents(ctx, agents); err != nil {
		t.Fatal(err)
	}
	e.Agents.RefreshShared(ctx)
	if err := e.Agents.SyncKeys(ctx); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(agT0.Sub(e.Clock.Now()))
}

// agFixtureBody returns the body of a recorded Wazuh answer.
func agFixtureBody(t *testing.T, name string) (request string, body json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(agFixture, "api-responses", name))
	if err != nil {
		t.Skipf("fixture: %v", err)
	}
	var r struct {
		Request string          `json:"request"`
		Body    json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r.Request, r.Body
}

// agCompact removes the whitespace between JSON tokens, keeping key order
// and string contents: two documents with the same keys in the same order
// and the same values compact to the same text.
func agCompact(raw []byte) string {
	var out strings.Builder
	in := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case in && c == '\\':
			out.WriteByte(c)
			i++
			out.WriteByte(raw[i])
			continue
		case c == '"':
			in = !in
		case !in && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		out.WriteByte(c)
	}
	return out.String()
}

// TestAgentAnswersMatchWazuh replays recorded Wazuh 4.14.7 requests over
// the same state and compares the bodies byte for byte (key order
// included), whitespace aside.
func TestAgentAnswersMatchWazuh(t *testing.T) {
	e := apitest.Start(t)
	agLoadFixture(t, e)
	tok := token(t, e, "wazuh", "wazuh")
	for _, name := range []string{"agents_all.json", "agent_011.json", "agent_017_removed.json",
		"agents_summary_status.json", "agents_summary_os.json", "agents_outdated.json",
		"agents_distinct_os_platform.json", "groups.json", "group_web_files.json",
		"agent_011_group_is_sync.json", "agent_026_group_is_sync.json",
		"group_default_configuration.json", "group_web_configuration.json", "group_db_configuration.json"} {
		t.Run(name, func(t *testing.T) {
			req, want := agFixtureBody(t, name)
			method, path, _ := strings.Cut(req, " ")
			x := do(t, e, method, path, bearer(tok), "")
			if x.status != 200 {
				t.Fatalf("%s: %d %s", req, x.status, x.body)
			}
			if got, w := agCompact(x.body), agCompact(want); got != w {
				t.Fatalf("%s\n got %s\nwant %s", req, got, w)
			}
		})
	}
}
