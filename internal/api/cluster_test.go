package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

// clusterNode is one node of a test cluster: its API over the shared store
// with its own data directory and ossec.log, and its membership.
type clusterNode struct {
	*apitest.Env
	name     string
	node     *cluster.Node
	restarts atomic.Int32
	stop     func()
}

func startClusterNode(t *testing.T, dsn, name string, clock *apitest.Clock) *clusterNode {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	store, err := sqlstore.Open(ctx, "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := config.Default()
	cfg.Manager.NodeName = name
	cfg.Database = config.Database{Driver: "postgres", DSN: dsn, MaxSecurityStaleness: 5}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sec := core.NewSecurity(core.SecurityOptions{Store: store, Now: clock.Now, Log: log})
	if err := sec.Start(ctx, core.InitialPasswords{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	agents := core.NewAgents(core.AgentsOptions{Store: store, Now: clock.Now, Log: log, DataDir: dir,
		NodeName: name, Hostname: "muster-test", Version: api.Version})
	if err := agents.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cn := &clusterNode{name: name, stop: stop}
	os.MkdirAll(filepath.Join(dir, "logs"), 0o700)
	node := api.Node{Path: dir, OssecLog: filepath.Join(dir, "logs", "ossec.log"), Started: clock.Now(),
		Restart: func() error { cn.restarts.Add(1); return nil }}
	srv := api.New(api.Options{Config: cfg, Security: sec, Agents: agents, Log: log, Now: clock.Now,
		Hostname: "muster-test", Node: node})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config = srv.HTTPServer()
	ts.EnableHTTP2 = false
	ts.StartTLS()
	t.Cleanup(ts.Close)
	cn.node = cluster.New(cluster.Options{Store: store, Name: name, Address: ts.URL,
		CertSHA256: cluster.CertDigest(&ts.TLS.Certificates[0]), Version: api.Version, Now: clock.Now, Log: log})
	agents.SetSweepGate(cn.node.IsMaster)
	srv.JoinCluster(cn.node)
	t.Cleanup(srv.LeaveCluster)
	cn.Env = &apitest.Env{URL: ts.URL, Server: ts, Security: sec, Agents: agents, Store: store, DataDir: dir,
		Clock: clock, Config: cfg, Contract: apitest.NewContract(t, ts.Client().Transport)}
	return cn
}

// clusterScoped is agScoped for a node built outside apitest.Start.
func clusterScoped(t *testing.T, n *clusterNode, name string, policies ...client.PolicyBody) string {
	t.Helper()
	adm, err := client.New(n.URL, client.WithCredentials("wazuh", "wazuh"), client.WithHTTPClient(n.HTTP()),
		client.WithClock(n.Clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	u, err := adm.CreateUser(context.Background(), name, "Passw0rd!"+name)
	if err != nil {
		t.Fatal(err)
	}
	grantRole(t, adm, u.ID, name, policies...)
	n.Clock.Advance(time.Second)
	return token(t, n.Env, name, "Passw0rd!"+name)
}

func tickAll(t *testing.T, nodes ...*clusterNode) {
	t.Helper()
	for range 2 { // the second round gives every node the lease as the first one left it
		for _, n := range nodes {
			if err := n.node.Tick(context.Background()); err != nil {
				t.Fatalf("%s: %v", n.name, err)
			}
		}
	}
}

func writeOssecLog(t *testing.T, n *clusterNode, lines ...string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(n.DataDir, "logs", "ossec.log"), []byte(strings.Join(lines, "\n")+"\n"),
		0o600); err != nil {
		t.Fatal(err)
	}
}

func logTime(s string) string {
	tm, _ := time.ParseInLocation("2006/01/02 15:04:05", s, time.Local)
	return tm.UTC().Format("2006-01-02T15:04:05Z")
}

// Three nodes on one PostgreSQL store answer as one Wazuh cluster: the
// list with one master, per-node data fetched from the named node, the
// distributed operations merged, and a failover when the master dies.
func TestClusterOnPostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	clock := apitest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	a := startClusterNode(t, dsn, "node01", clock)
	b := startClusterNode(t, dsn, "node02", clock)
	c := startClusterNode(t, dsn, "node03", clock)
	tickAll(t, a, b, c)
	tokA, tokB, tokC := token(t, a.Env, "wazuh", "wazuh"), token(t, b.Env, "wazuh", "wazuh"), token(t, c.Env, "wazuh", "wazuh")

	agExpect(t, agGet(t, b.Env, tokB, "/cluster/status"), 200, `{"data": {"enabled": "yes", "running": "yes"}, "error": 0}`)
	nodeItem := func(name, typ string) string {
		return `{"name": "` + name + `", "type": "` + typ + `", "version": "` + api.Version + `", "ip": "127.0.0.1"}`
	}
	msgNodes := "All selected nodes information was returned"
	agExpect(t, agGet(t, b.Env, tokB, "/cluster/nodes"), 200, agItems(nodeItem("node01", "master")+", "+
		nodeItem("node02", "worker")+", "+nodeItem("node03", "worker"), 3, nil, msgNodes))
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/nodes?type=worker&select=name&sort=-name"), 200,
		agItems(`{"name": "node03"}, {"name": "node02"}`, 2, nil, msgNodes))
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/nodes?search=node02&limit=1"), 200,
		agItems(nodeItem("node02", "worker"), 1, nil, msgNodes))
	agExpect(t, agGet(t, a.Env, tokA, "/cluster/nodes?nodes_list=node03,ghost"), 200,
		agItems(nodeItem("node03", "worker"), 1, []string{agFailed(1730, "", `"ghost"`)},
			"Some nodes information was not returned"))
	agStatus(t, agGet(t, a.Env, tokA, "/cluster/nodes?type=client"), 400, 0)
	agStatus(t, agGet(t, a.Env, tokA, "/cluster/nodes?select=bogus"), 400, 1724)

	agExpect(t, agGet(t, c.Env, tokC, "/cluster/local/info"), 200, agItems(
		`{"node": "node03", "cluster": "wazuh", "type": "worker"}`, 1, nil, "All selected information was returned"))
	agExpect(t, agGet(t, a.Env, tokA, "/cluster/local/config"), 200, agItems(`{"name": "wazuh", "node_name": "node01", `+
		`"node_type": "master", "key": "*****", "port": 1516, "bind_addr": "0.0.0.0", "nodes": ["NODE_IP"], `+
		`"hidden": "no", "disabled": false}`, 1, nil, "All selected information was returned"))

	beat := clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	health := func(name, typ string) string {
		return `{"info": {"name": "` + name + `", "type": "` + typ + `", "version": "` + api.Version +
			`", "ip": "127.0.0.1", "n_active_agents": 0}, "status": {"last_keep_alive": "` + beat + `"}}`
	}
	agExpect(t, agGet(t, b.Env, tokB, "/cluster/healthcheck?nodes_list=node02,node01"), 200,
		agItems(health("node01", "master")+", "+health("node02", "worker"), 2, nil,
			"All selected nodes healthcheck information was returned"))
	agExpect(t, agGet(t, b.Env, tokB, "/cluster/ruleset/synchronization"), 200, agItems(
		`{"name": "node01", "synced": true}, {"name": "node02", "synced": true}, {"name": "node03", "synced": true}`,
		3, nil, "Nodes ruleset synchronization status was successfully read"))

	// Each node's own log, whichever node is asked.
	writeOssecLog(t, a, "2026/01/01 10:00:00 wazuh-remoted: INFO: started on node01")
	writeOssecLog(t, b, "2026/01/01 11:00:00 wazuh-authd: WARNING: started on node02",
		"2026/01/01 11:00:01 wazuh-apid: INFO: second line of node02")
	logMsg := "Logs were successfully read in specified node"
	agExpect(t, agGet(t, a.Env, tokA, "/cluster/node02/logs?limit=1"), 200, agItems(`{"timestamp": "`+
		logTime("2026/01/01 11:00:01")+`", "tag": "wazuh-apid", "level": "info", "description": " second line of node02"}`,
		2, nil, logMsg))
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/node01/logs"), 200, agItems(`{"timestamp": "`+
		logTime("2026/01/01 10:00:00")+`", "tag": "wazuh-remoted", "level": "info", "description": " started on node01"}`,
		1, nil, logMsg))
	agExpect(t, agGet(t, b.Env, tokB, "/cluster/node02/logs?tag=wazuh-authd&select=level"), 200,
		agItems(`{"level": "warning"}`, 1, nil, logMsg))
	agExpect(t, agGet(t, a.Env, tokA, "/cluster/node02/logs/summary"), 200, agItems(
		`{"wazuh-apid": {"all": 1, "info": 1, "error": 0, "critical": 0, "warning": 0, "debug": 0}}, `+
			`{"wazuh-authd": {"all": 1, "info": 0, "error": 0, "critical": 0, "warning": 1, "debug": 0}}`, 2, nil,
		"Log was successfully summarized in specified node"))
	// node03 has no ossec.log: its own error, relayed.
	agStatus(t, agGet(t, a.Env, tokA, "/cluster/node03/logs"), 500, 1020)
	agStatus(t, agGet(t, a.Env, tokA, "/cluster/node02/logs?limit=501"), 400, 0)
	x := agGet(t, a.Env, tokA, "/cluster/node03/status")
	if x.status != 200 || !strings.Contains(string(x.body), `"message": "Processes status was successfully read in specified node"`) {
		t.Fatalf("node03's status through node01: %d %s", x.status, x.body)
	}

	x = rawDo(t, a.Env, "GET", "/cluster/node02/configuration?raw=true", bearer(tokA), "")
	if x.status != 200 || !strings.HasPrefix(x.header.Get("Content-Type"), "application/xml") ||
		!strings.Contains(string(x.body), "<node_name>node02</node_name>") {
		t.Fatalf("node02's raw ossec.conf through node01: %d %v %.300s", x.status, x.header, x.body)
	}

	unknown := `{"title": "Bad Request", "detail": "Unknown node ID", "remediation": "Check the name of the node", ` +
		`"dapi_errors": {"node01": {"error": "Unknown node ID"}}, "error": 3022}`
	agExpect(t, agGet(t, a.Env, tokA, "/cluster/ghost/logs"), 400, unknown)
	agExpect(t, agGet(t, a.Env, tokA, "/cluster/ghost/status"), 400, unknown)

	// The manager endpoints in their cluster forms.
	x = agGet(t, b.Env, tokB, "/manager/status")
	if !strings.Contains(string(x.body), `"message": "Processes status was successfully read in specified node"`) {
		t.Fatalf("/manager/status on node02: %d %s", x.status, x.body)
	}
	agExpect(t, agGet(t, b.Env, tokB, "/manager/configuration/validation"), 200, agItems(
		`{"name": "node02", "status": "OK"}`, 1, nil, "Validation was successfully checked in all nodes"))

	// Distributed operations: every node answers for itself.
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/configuration/validation"), 200, agItems(
		`{"name": "node01", "status": "OK"}, {"name": "node02", "status": "OK"}, {"name": "node03", "status": "OK"}`,
		3, nil, "Validation was successfully checked in all nodes"))
	d := agData(t, agGet(t, a.Env, tokA, "/cluster/api/config?nodes_list=node02,node03,ghost"))
	items, _ := d["affected_items"].([]any)
	if len(items) != 2 || items[0].(map[string]any)["node_name"] != "node02" ||
		items[1].(map[string]any)["node_name"] != "node03" || d["total_failed_items"] != 1.0 {
		t.Fatalf("api config of node02 and node03: %v", d)
	}
	x = do(t, b.Env, "PUT", "/cluster/restart", bearer(tokB), "")
	agExpect(t, x, 202, agItems(`"node01", "node02", "node03"`, 3, nil, "Restart request sent to all specified nodes"))
	if a.restarts.Load() != 1 || b.restarts.Load() != 1 || c.restarts.Load() != 1 {
		t.Fatalf("restarts: %d %d %d", a.restarts.Load(), b.restarts.Load(), c.restarts.Load())
	}
	x = do(t, a.Env, "PUT", "/cluster/restart?nodes_list=node03,ghost", bearer(tokA), "")
	agExpect(t, x, 202, agItems(`"node03"`, 1, []string{`{"error": {"code": 3022, "message": "Unknown node ID", ` +
		`"remediation": "Check the name of the node"}, "id": ["ghost"]}`},
		"Could not send restart request to some specified nodes"))
	if a.restarts.Load() != 1 || c.restarts.Load() != 2 {
		t.Fatalf("restarts after node03's: %d %d", a.restarts.Load(), c.restarts.Load())
	}

	agStatus(t, do(t, a.Env, "PUT", "/cluster/analysisd/reload", bearer(tokA), ""), 501, 0)
	agStatus(t, agGet(t, a.Env, tokA, "/cluster/node02/stats/analysisd"), 501, 0)

	// The master dies without cleanup: its process, server and store gone.
	a.stop()
	a.Server.Close()
	a.Store.Close()
	// Still listed until its heartbeat is 5 s old, but it does not answer.
	agStatus(t, agGet(t, b.Env, tokB, "/cluster/node01/status"), 500, 3032)
	d = agData(t, agGet(t, b.Env, tokB, "/cluster/configuration/validation"))
	if d["total_affected_items"] != 2.0 || d["total_failed_items"] != 1.0 {
		t.Fatalf("validation with node01 gone: %v", d)
	}
	for range 4 { // its lease still holds for 4 s
		clock.Advance(time.Second)
		b.node.Tick(context.Background())
		c.node.Tick(context.Background())
	}
	if b.node.IsMaster() || c.node.IsMaster() {
		t.Fatal("a new master while the old lease holds")
	}
	clock.Advance(2 * time.Second)
	tickAll(t, b, c)
	if !b.node.IsMaster() || c.node.IsMaster() {
		t.Fatalf("after the failover: node02 master %v, node03 master %v", b.node.IsMaster(), c.node.IsMaster())
	}
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/nodes"), 200, agItems(nodeItem("node02", "master")+", "+
		nodeItem("node03", "worker"), 2, nil, msgNodes))
	agExpect(t, agGet(t, b.Env, tokB, "/cluster/local/info"), 200, agItems(
		`{"node": "node02", "cluster": "wazuh", "type": "master"}`, 1, nil, "All selected information was returned"))
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/node01/logs"), 400,
		strings.Replace(unknown, `"node01": {`, `"node03": {`, 1))
	agExpect(t, agGet(t, c.Env, tokC, "/cluster/node02/logs?limit=1"), 200, agItems(`{"timestamp": "`+
		logTime("2026/01/01 11:00:01")+`", "tag": "wazuh-apid", "level": "info", "description": " second line of node02"}`,
		2, nil, logMsg))
}

// RBAC on node ids: a user who may read node02 only sees node02, and is
// refused the other nodes' data before the node is looked for.
func TestClusterNodeRBAC(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	clock := apitest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	a := startClusterNode(t, dsn, "node01", clock)
	// The user exists before node02 starts, so that node02 knows it
	// without following the store's security changes.
	low := clusterScoped(t, a, "node2reader", agPolicy("allow", strs("cluster:read"), "node:id:node02"))
	b := startClusterNode(t, dsn, "node02", clock)
	tickAll(t, a, b)
	agExpect(t, agGet(t, a.Env, low, "/cluster/nodes?select=name"), 200,
		agItems(`{"name": "node02"}`, 1, nil, "All selected nodes information was returned"))
	agStatus(t, agGet(t, a.Env, low, "/cluster/node01/status"), 403, 4000)
	agStatus(t, agGet(t, a.Env, low, "/cluster/ghost/status"), 403, 4000)
	agStatus(t, agGet(t, a.Env, low, "/cluster/local/info"), 403, 4000)
	// node02's data through node01, with node02 checking the token again.
	writeOssecLog(t, b, "2026/01/01 11:00:00 wazuh-authd: INFO: node02 here")
	agExpect(t, agGet(t, a.Env, low, "/cluster/node02/logs?select=description"), 200,
		agItems(`{"description": " node02 here"}`, 1, nil, "Logs were successfully read in specified node"))
	// In cluster mode the manager endpoints need cluster:read on the node.
	agStatus(t, agGet(t, a.Env, low, "/manager/status"), 403, 4000)
	x := agGet(t, b.Env, token(t, b.Env, "node2reader", "Passw0rd!node2reader"), "/manager/status")
	if x.status != 200 {
		t.Fatalf("/manager/status on node02 for its reader: %d %s", x.status, x.body)
	}
}
