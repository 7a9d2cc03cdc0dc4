//go:build linux

package manager_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/connlimit"
)

// childLimit is the descriptor limit the child server runs under.
const childLimit = 512

// childAddrs is what the child server prints for its parent.
type childAddrs struct {
	API, Auth, Remote string
	Shares            connlimit.Shares
}

// TestRlimitChild is the server side of TestFloodToTheFileLimit, run in a
// process of its own: with a lowered RLIMIT_NOFILE and every connection cap
// left at its default, it serves until its parent closes stdin. Its clock
// runs five times faster than real time, so that the API's silent
// connections reach their grace while the parent probes.
func TestRlimitChild(t *testing.T) {
	if os.Getenv("MUSTER_TEST_RLIMIT_CHILD") != "1" {
		t.Skip("the server side of TestFloodToTheFileLimit")
	}
	lim := syscall.Rlimit{Cur: childLimit, Max: childLimit}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	e := apitest.Start(t, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 0 })
	d := e.StartDaemons()
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			e.Clock.Advance(time.Second)
		}
	}()
	out, _ := json.Marshal(childAddrs{API: e.URL, Auth: d.Addrs["auth"].String(), Remote: d.Addrs["remote/tcp"].String(),
		Shares: connlimit.ProcessShares()})
	fmt.Printf("ADDRS %s\n", out)
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent is done
}

// TestFloodToTheFileLimit floods each port of a server running under a real
// descriptor limit, with its default caps, with more idle connections than
// the limit holds, while probes log in, list agents and enroll and agents
// keep alive: every probe is answered, no agent drops, and the server never
// holds more descriptors than its limit.
func TestFloodToTheFileLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRlimitChild$", "-test.v")
	cmd.Env = append(os.Environ(), "MUSTER_TEST_RLIMIT_CHILD=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	var addrs childAddrs
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "ADDRS "); ok {
			if err := json.Unmarshal([]byte(line), &addrs); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if addrs.API == "" {
		t.Fatal("the child server did not start")
	}
	go func() {
		for sc.Scan() { // keep the pipe drained
		}
	}()
	if addrs.Shares.Limit != childLimit || addrs.Shares.Remote+addrs.Shares.API+addrs.Shares.Auth+addrs.Shares.Reserve > childLimit {
		t.Fatalf("the child's shares %+v do not fit its limit of %d", addrs.Shares, childLimit)
	}

	hc := func() *http.Client {
		return &http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	newClient := func() *client.Client {
		c, err := client.New(addrs.API, client.WithCredentials("wazuh", "wazuh"), client.WithHTTPClient(hc()))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin := newClient()
	var agents []*agentsim.Agent
	for i := range 3 {
		k, err := enrollFrom(addrs.Auth, "127.0.0.1", fmt.Sprintf("limited-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		a, err := agentsim.NewAgent(k, agentsim.AgentOptions{Addr: addrs.Remote, NotifyTime: 50 * time.Millisecond,
			HandshakeTimeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); a.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		agents = append(agents, a)
	}
	eventually(t, "the agents connected", func() bool {
		for _, a := range agents {
			if !a.Connected() {
				return false
			}
		}
		return true
	})

	// More idle connections than the whole limit, to every port.
	apiAddr := strings.TrimPrefix(addrs.API, "https://")
	flood(t, addrs.Remote, "127.0.0.1", childLimit)
	flood(t, apiAddr, "127.0.0.1", childLimit/4)
	flood(t, addrs.Auth, "127.0.0.1", childLimit/4)
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	if n := fds(); n > childLimit {
		t.Fatalf("the child holds %d descriptors, over its limit of %d", n, childLimit)
	}

	for i := range 3 {
		probe := newClient() // a new connection and a new login every time
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if _, err := probe.Token(ctx); err != nil {
			cancel()
			t.Fatalf("probe %d during the flood: login: %v", i, err)
		}
		res, err := probe.ListAgents(ctx, client.AgentQuery{})
		cancel()
		if err != nil || res.TotalAffectedItems != 4 {
			t.Fatalf("probe %d during the flood: GET /agents: %v", i, err)
		}
	}
	if k, err := enrollFrom(addrs.Auth, "127.0.0.2", "during-the-flood"); err != nil || k.ID == "" {
		t.Fatalf("enrollment during the flood: %v", err)
	}
	for i, a := range agents {
		if !a.Connected() {
			t.Fatalf("agent %d dropped during the flood", i)
		}
	}
	res, err := admin.ListAgents(context.Background(), client.AgentQuery{Status: []string{"active"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.TotalAffectedItems; n != 4 {
		t.Errorf("%d active agents during the flood, want 4 (the manager and the three agents)", n)
	}
	if n := fds(); n > childLimit {
		t.Fatalf("the child holds %d descriptors, over its limit of %d", n, childLimit)
	}
}
