package manager_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
	"github.com/muster-project/muster/internal/storetest"
)

// node is one muster server of a test fleet on a shared store.
type node struct {
	api     string
	daemons *manager.Daemons
	stop    func() error
}

func startNode(t *testing.T, name, dsn string) *node {
	t.Helper()
	cfg := config.Default()
	cfg.API.Host, cfg.API.Port, cfg.API.HTTPS.Enabled = config.Hosts{"127.0.0.1"}, 0, false
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Auth.Port = "127.0.0.1", 0, 0
	cfg.Manager.NodeName = name
	cfg.Database = config.Database{Driver: "postgres", DSN: dsn}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	daemons := make(chan *manager.Daemons, 4)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: t.TempDir(),
			Passwords: core.InitialPasswords{Admin: "S3cret-admin!"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready: func(a []net.Addr) { ready <- a }, DaemonsReady: func(d *manager.Daemons) { daemons <- d }})
	}()
	n := &node{}
	stopped := false
	n.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() {
		if err := n.stop(); err != nil {
			t.Errorf("node %s stopped with %v", name, err)
		}
	})
	select {
	case a := <-ready:
		n.api = "http://" + a[0].String()
	case err := <-done:
		t.Fatalf("node %s exited: %v", name, err)
	case <-time.After(60 * time.Second):
		t.Fatalf("node %s did not start", name)
	}
	n.daemons = <-daemons
	return n
}

// agentNode is the node_name and status the API of n lists for an agent.
func (n *node) agentNode(t *testing.T, id string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", n.api+"/security/user/authenticate?raw=true", nil)
	req.SetBasicAuth("wazuh", "S3cret-admin!")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", ""
	}
	tok, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ = http.NewRequest("GET", n.api+"/agents?agents_list="+id+"&select=node_name,status", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return "", ""
	}
	defer resp.Body.Close()
	var v struct {
		Data struct {
			Items []struct {
				NodeName string `json:"node_name"`
				Status   string `json:"status"`
			} `json:"affected_items"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&v)
	if len(v.Data.Items) != 1 {
		return "", ""
	}
	return v.Data.Items[0].NodeName, v.Data.Items[0].Status
}

// TestAgentFailsOverToAnotherNode: an agent whose <server> list names two
// nodes of one store moves to the second when the first stops, and both
// nodes' registries show it active on its new node.
func TestAgentFailsOverToAnotherNode(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a := startNode(t, "node-a", dsn)
	b := startNode(t, "node-b", dsn) // after a: the first start seeds the security objects
	k, err := enrollFrom(a.daemons.Addrs["auth"].String(), "127.0.0.1", "roaming")
	if err != nil {
		t.Fatal(err)
	}
	ag, err := agentsim.NewAgent(k, agentsim.AgentOptions{NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 2 * time.Second,
		Managers: []string{a.daemons.Addrs["remote/tcp"].String(), b.daemons.Addrs["remote/tcp"].String()},
		Retries:  1, RetryInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopAgent := context.WithCancel(context.Background())
	agentDone := make(chan struct{})
	go func() { defer close(agentDone); ag.Run(ctx) }()
	defer func() { stopAgent(); <-agentDone }()

	eventually(t, "the agent is active on node-a", func() bool {
		n, s := b.agentNode(t, k.ID) // as node-b's registry sees it
		return n == "node-a" && s == "active"
	})
	if err := a.stop(); err != nil {
		t.Fatalf("node-a stopped with %v", err)
	}
	eventually(t, "the agent is active on node-b", func() bool {
		n, s := b.agentNode(t, k.ID)
		return n == "node-b" && s == "active"
	})
	if ag.Server() != b.daemons.Addrs["remote/tcp"].String() {
		t.Errorf("the agent uses %s", ag.Server())
	}
}
