package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

// groupAPINode runs one node's API over the shared store, in its own data
// directory.
func groupAPINode(t *testing.T, driver, dsn string, clock *apitest.Clock) *apitest.Env {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	store, err := sqlstore.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := config.Default()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sec := core.NewSecurity(core.SecurityOptions{Store: store, Now: clock.Now, Log: log})
	if err := sec.Start(ctx, core.InitialPasswords{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	agents := core.NewAgents(core.AgentsOptions{Store: store, Now: clock.Now, Log: log, DataDir: dir,
		Hostname: "muster-test", Version: api.Version})
	if err := agents.Start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Config: cfg, Security: sec, Agents: agents, Log: log, Now: clock.Now, Hostname: "muster-test"})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config = srv.HTTPServer()
	ts.EnableHTTP2 = false
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &apitest.Env{URL: ts.URL, Server: ts, Security: sec, Agents: agents, Store: store, DataDir: dir,
		Clock: clock, Config: cfg, Contract: apitest.NewContract(t, ts.Client().Transport)}
}

// TestGroupsOnTwoNodes is the reported case: a group made on node A, with
// its agent.conf, is listed, read and assignable on node B at once.
func TestGroupsOnTwoNodes(t *testing.T) {
	run := func(t *testing.T, driver, dsn string) {
		clock := apitest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		a := groupAPINode(t, driver, dsn, clock)
		b := groupAPINode(t, driver, dsn, clock)
		tokA, tokB := token(t, a, "wazuh", "wazuh"), token(t, b, "wazuh", "wazuh")

		agExpect(t, do(t, a, "POST", "/groups", jsonHeaders(tokA), `{"group_id": "G"}`), 200,
			`{"message": "Group 'G' created.", "error": 0}`)
		xml := map[string]string{"Authorization": "Bearer " + tokA, "Content-Type": "application/xml"}
		conf := "<agent_config>\n  <localfile>\n    <location>/var/log/g.log</location>\n" +
			"    <log_format>syslog</log_format>\n  </localfile>\n</agent_config>\n"
		agExpect(t, rawDo(t, a, "PUT", "/groups/G/configuration", xml, conf), 200,
			`{"message": "Agent configuration was successfully updated", "error": 0}`)
		agExpect(t, do(t, b, "POST", "/groups", jsonHeaders(tokB), `{"group_id": "G"}`), 400, agProblem(1711, "G"))

		sums := func(e *apitest.Env, tok string) map[string]string {
			out := map[string]string{}
			for _, it := range agData(t, agGet(t, e, tok, "/groups"))["affected_items"].([]any) {
				m := it.(map[string]any)
				out[m["name"].(string)] = m["mergedSum"].(string) + "/" + m["configSum"].(string)
			}
			return out
		}
		onA, onB := sums(a, tokA), sums(b, tokB)
		if len(onB) != 2 || onB["G"] == "" || onB["G"] != onA["G"] || onB["default"] != onA["default"] {
			t.Fatalf("groups on A %v, on B %v", onA, onB)
		}
		x := rawDo(t, b, "GET", "/groups/G/files/agent.conf?raw=true", bearer(tokB), "")
		if x.status != 200 || !strings.Contains(string(x.body), "/var/log/g.log") {
			t.Fatalf("G's agent.conf on B: %d %s", x.status, x.body)
		}

		// An agent enrolled on B joins G on B.
		id := agData(t, do(t, b, "POST", "/agents", jsonHeaders(tokB), `{"name": "web-01"}`))["id"].(string)
		x = do(t, b, "PUT", "/agents/"+id+"/group/G", bearer(tokB), "")
		if x.status != 200 || !strings.Contains(string(x.body), `"affected_items": ["`+id+`"]`) {
			t.Fatalf("PUT /agents/%s/group/G on B: %d %s", id, x.status, x.body)
		}
		if d := agData(t, agGet(t, a, tokA, "/groups/G/agents?select=id")); d["total_affected_items"] != 1.0 {
			t.Fatalf("G's agents on A: %v", d)
		}

		// Deleted on B: gone from A's list and directory.
		x = do(t, b, "DELETE", "/groups?groups_list=G", bearer(tokB), "")
		if x.status != 200 || !strings.Contains(string(x.body), `"affected_items": ["G"]`) {
			t.Fatalf("DELETE G on B: %d %s", x.status, x.body)
		}
		if onA := sums(a, tokA); len(onA) != 1 {
			t.Fatalf("groups on A after the delete: %v", onA)
		}
		agExpect(t, agGet(t, a, tokA, "/groups/G/files"), 200, agItems("", 0,
			[]string{agFailed(1710, "", `"G"`)}, "No groups files were returned"))
		if _, err := os.Stat(filepath.Join(a.DataDir, "etc", "shared", "G")); !os.IsNotExist(err) {
			t.Fatalf("G's directory on A: %v", err)
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "sqlite", filepath.Join(t.TempDir(), "muster.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, "postgres", storetest.PostgresDSN(t)) })
}
