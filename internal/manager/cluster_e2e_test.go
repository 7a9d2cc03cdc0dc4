package manager_test

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/storetest"
)

// Two managers on one PostgreSQL store form a cluster through their real
// wiring: each registers before it serves (address, certificate pin),
// the first is the master, each node's log is read from that node, and a
// node that stopped is gone from the list at once (it left cleanly).
func TestTwoManagersFormACluster(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	node := func(name string) func(*config.Config) {
		return func(c *config.Config) {
			c.Manager.NodeName = name
			c.Database = config.Database{Driver: "postgres", DSN: dsn, MaxSecurityStaleness: 5}
		}
	}
	urlA, stopA := start(t, filepath.Join(t.TempDir(), "a"), node("node01"))
	urlB, stopB := start(t, filepath.Join(t.TempDir(), "b"), node("node02"))
	defer stopB()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	login := func(base string) string {
		req, _ := http.NewRequest("POST", base+"/security/user/authenticate?raw=true", nil)
		req.SetBasicAuth("wazuh", "S3cret-admin!")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("login on %s: %d %s", base, resp.StatusCode, b)
		}
		return string(b)
	}
	get := func(base, tok, path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	items := func(m map[string]any) []any {
		d, _ := m["data"].(map[string]any)
		it, _ := d["affected_items"].([]any)
		return it
	}
	tokA, tokB := login(urlA), login(urlB)
	status, m := get(urlB, tokB, "/cluster/nodes?select=name,type")
	if got := items(m); status != 200 || len(got) != 2 ||
		got[0].(map[string]any)["name"] != "node01" || got[0].(map[string]any)["type"] != "master" ||
		got[1].(map[string]any)["name"] != "node02" || got[1].(map[string]any)["type"] != "worker" {
		t.Fatalf("nodes on node02: %d %v", status, m)
	}
	if _, m := get(urlA, tokA, "/manager/status"); items(m)[0].(map[string]any)["wazuh-clusterd"] != "running" {
		t.Fatalf("clusterd on node01: %v", m)
	}
	// Each node's own ossec.log through the other node: the line each
	// wrote when it joined names it.
	for _, c := range []struct{ base, tok, node string }{{urlA, tokA, "node02"}, {urlB, tokB, "node01"}} {
		status, m := get(c.base, c.tok, "/cluster/"+c.node+"/logs?tag=wazuh-clusterd&search=joining")
		found := false
		for _, it := range items(m) {
			found = found || strings.Contains(it.(map[string]any)["description"].(string), "node_name="+c.node)
		}
		if status != 200 || !found {
			t.Fatalf("%s's log: %d %v", c.node, status, m)
		}
	}

	stopA() // a clean stop: node01 leaves and releases the lease
	status, m = get(urlB, tokB, "/cluster/node01/status")
	if status != 400 || m["error"] != 3022.0 {
		t.Fatalf("node01 after it stopped: %d %v", status, m)
	}
}
