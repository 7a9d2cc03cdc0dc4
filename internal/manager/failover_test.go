package manager_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
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
	return startNodeAt(t, name, dsn, t.TempDir(), ports{})
}

// ports are a node's API, secure channel and enrollment ports (0: any).
type ports struct{ api, remote, auth int }

func startNodeAt(t *testing.T, name, dsn, dir string, p ports) *node {
	t.Helper()
	cfg := config.Default()
	cfg.API.Host, cfg.API.Port, cfg.API.HTTPS.Enabled = config.Hosts{"127.0.0.1"}, p.api, false
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Auth.Port = "127.0.0.1", p.remote, p.auth
	cfg.Manager.NodeName = name
	cfg.Database = config.Database{Driver: "postgres", DSN: dsn}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	daemons := make(chan *manager.Daemons, 4)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: dir,
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
	ag, stopAgent := runAgent(t, k, agentsim.AgentOptions{NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 2 * time.Second,
		Managers: []string{a.daemons.Addrs["remote/tcp"].String(), b.daemons.Addrs["remote/tcp"].String()},
		Retries:  1, RetryInterval: 50 * time.Millisecond})
	defer stopAgent()

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

// freePorts returns n TCP ports free on 127.0.0.1 now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// balance is a TCP load balancer in front of the nodes' APIs, as a team
// runs one: each new connection goes to the next backend that accepts it.
func balance(t *testing.T, backends []string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var next atomic.Uint64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				for range len(backends) {
					b, err := net.DialTimeout("tcp", backends[next.Add(1)%uint64(len(backends))], time.Second)
					if err != nil {
						continue // that node is down: the next one
					}
					defer b.Close()
					go io.Copy(b, c)
					io.Copy(c, b)
					return
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestRollingRestart restarts every node of a two-node fleet, one at a
// time, with agents keeping alive and a scan listing them through a load
// balancer: every scan is answered (the client retries a closed
// connection), and no agent is ever seen disconnected; each agent moves to
// the other node while its own is down, as its <server> list says.
func TestRollingRestart(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	pt := freePorts(t, 6)
	names := []string{"node-a", "node-b"}
	dirs := []string{t.TempDir(), t.TempDir()}
	nodePorts := []ports{{pt[0], pt[1], pt[2]}, {pt[3], pt[4], pt[5]}}
	nodes := make([]*node, 2)
	for i := range nodes {
		nodes[i] = startNodeAt(t, names[i], dsn, dirs[i], nodePorts[i])
	}
	managers := []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(pt[1])), net.JoinHostPort("127.0.0.1", strconv.Itoa(pt[4]))}
	ctx, stopAgents := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { stopAgents(); wg.Wait() }()
	var ids []string
	for i := range 4 {
		k, err := enrollFrom(net.JoinHostPort("127.0.0.1", strconv.Itoa(nodePorts[i%2].auth)), "127.0.0.1", "rolling-"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
		list := managers
		if i%2 == 1 {
			list = []string{managers[1], managers[0]}
		}
		ag, err := agentsim.NewAgent(k, agentsim.AgentOptions{NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 2 * time.Second,
			Managers: list, Retries: 1, RetryInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); ag.Run(ctx) }()
	}
	lb := balance(t, []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(pt[0])), net.JoinHostPort("127.0.0.1", strconv.Itoa(pt[3]))})
	c, err := client.New(lb, client.WithCredentials("wazuh", "S3cret-admin!"), client.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// scan lists the agents once; it returns their statuses by id.
	scan := func() (map[string]string, error) {
		out := map[string]string{}
		for a, err := range c.AllAgents(ctx, client.AgentQuery{AgentsList: ids, Select: []string{"status"}}, 500) {
			if err != nil {
				return nil, err
			}
			out[a.ID] = a.Status
		}
		return out, nil
	}
	allActive := func() bool {
		st, err := scan()
		if err != nil || len(st) != len(ids) {
			return false
		}
		for _, s := range st {
			if s != core.AgentActive {
				return false
			}
		}
		return true
	}
	eventually(t, "every agent is active", allActive)

	scans, failed := 0, 0
	var seen []string
	stopScan := make(chan struct{})
	scanDone := make(chan struct{})
	go func() {
		defer close(scanDone)
		for {
			select {
			case <-stopScan:
				return
			default:
			}
			st, err := scan()
			scans++
			if err != nil {
				failed++
				seen = append(seen, err.Error())
				continue
			}
			for id, s := range st {
				if s != core.AgentActive && s != core.AgentPending { // pending: the startup on the other node
					seen = append(seen, id+" "+s)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for i := range nodes {
		if err := nodes[i].stop(); err != nil {
			t.Fatalf("%s stopped with %v", names[i], err)
		}
		time.Sleep(300 * time.Millisecond) // down for a while: its agents move
		nodes[i] = startNodeAt(t, names[i], dsn, dirs[i], nodePorts[i])
		eventually(t, "every agent is active after restarting "+names[i], allActive)
	}
	close(stopScan)
	<-scanDone
	if failed > 0 || len(seen) > 0 || scans < 5 {
		t.Fatalf("%d scans, %d failed; seen: %v", scans, failed, seen)
	}
}

// TestAgentRequestThroughAnotherNode: on a cluster, what needs the agent
// itself is asked of the node the agent is connected to, whichever node the
// client asked: node-a answers for an agent on node-b with node-b's answer.
func TestAgentRequestThroughAnotherNode(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	a := startNode(t, "node-a", dsn)
	b := startNode(t, "node-b", dsn)
	k, err := enrollFrom(b.daemons.Addrs["auth"].String(), "127.0.0.1", "far-away")
	if err != nil {
		t.Fatal(err)
	}
	stats := agentsim.NewStats()
	_, stopAgent := runAgent(t, k, agentsim.AgentOptions{Addr: b.daemons.Addrs["remote/tcp"].String(),
		NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 2 * time.Second, Stats: stats})
	defer stopAgent()
	eventually(t, "the agent is active on node-b", func() bool {
		n, s := a.agentNode(t, k.ID)
		return n == "node-b" && s == "active"
	})
	path := "/agents/" + k.ID + "/config/agent/client"
	codeB, bodyB := a.get(t, b.api, path)
	codeA, bodyA := a.get(t, a.api, path)
	if codeB != 200 || !strings.Contains(bodyB, `"client"`) {
		t.Fatalf("asked of node-b: %d %s", codeB, bodyB)
	}
	if codeA != codeB || bodyA != bodyB {
		t.Fatalf("asked of node-a: %d %s\nnode-b answers: %d %s", codeA, bodyA, codeB, bodyB)
	}
	// Restarting node-b's agents through node-a reaches the agent.
	before := stats.Commands.Load()
	code, body := a.put(t, a.api, "/agents/node/node-b/restart")
	if code != 200 || !strings.Contains(body, `"affected_items": ["`+k.ID+`"]`) {
		t.Fatalf("restart of node-b's agents through node-a: %d %s", code, body)
	}
	eventually(t, "the agent receives the restart", func() bool { return stats.Commands.Load() > before })
}

// put sends an authenticated PUT without a body.
func (n *node) put(t *testing.T, base, path string) (int, string) {
	t.Helper()
	return n.do(t, "PUT", base, path)
}

// get sends an authenticated GET to base (any node) and returns the answer.
func (n *node) get(t *testing.T, base, path string) (int, string) {
	t.Helper()
	return n.do(t, "GET", base, path)
}

func (n *node) do(t *testing.T, method, base, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/security/user/authenticate?raw=true", nil)
	req.SetBasicAuth("wazuh", "S3cret-admin!")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, _ = http.NewRequest(method, base+path, nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
