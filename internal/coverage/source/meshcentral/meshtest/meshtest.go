// Package meshtest drives a real MeshCentral server for tests (the one
// recipes/meshcentral.sh installs): it creates device groups that
// t.Cleanup deletes, starts real Linux agents in them, each in its own
// folder and under its own host name, and waits for the server to list
// them online or offline.
//
// It reads MUSTER_TEST_MESHCENTRAL_DIR (the recipe's folder, e.g.
// /opt/meshc, which holds the agent binary), MUSTER_TEST_MESHCENTRAL_URL
// (default wss://127.0.0.1:57001), _USER (admin) and _PASSWORD
// (Adm1n!Passw0rd). Tests skip when the folder is unset or the server does
// not answer. Starting agents needs root (unshare -u gives each its own
// host name).
package meshtest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The environment variables Open reads.
const (
	EnvDir      = "MUSTER_TEST_MESHCENTRAL_DIR"
	EnvURL      = "MUSTER_TEST_MESHCENTRAL_URL"
	EnvUser     = "MUSTER_TEST_MESHCENTRAL_USER"
	EnvPassword = "MUSTER_TEST_MESHCENTRAL_PASSWORD"
)

// AgentBinary is the Linux x86-64 agent inside the recipe's folder.
const AgentBinary = "node_modules/meshcentral/agents/meshagent_x86-64"

// Server is a real MeshCentral reachable with an administrator account.
type Server struct {
	URL      string // wss://HOST:PORT, as the connector's url takes it
	User     string
	Password string
	Dir      string // the recipe's folder
	https    string // https://HOST:PORT
	http     *http.Client
}

// Node is a device of the nodes answer, as far as tests look at it.
type Node struct {
	ID     string   `json:"_id"`
	Name   string   `json:"name"`
	RName  string   `json:"rname"`
	OSDesc string   `json:"osdesc"`
	Conn   *float64 `json:"conn"`
}

// Online says whether the device's agent is connected (conn bit 1).
func (n Node) Online() bool { return n.Conn != nil && int64(*n.Conn)&1 != 0 }

// Open returns the server of the environment, skipping t when
// MUSTER_TEST_MESHCENTRAL_DIR is unset or the server does not answer. A
// refused login fails t: it is a wrong setting, and a retry would count
// towards the server's ban.
func Open(t testing.TB) *Server {
	t.Helper()
	dir := os.Getenv(EnvDir)
	if dir == "" {
		t.Skip(EnvDir + " is not set (e.g. /opt/meshc, from recipes/meshcentral.sh); skipping the real MeshCentral test")
	}
	raw := envOr(EnvURL, "wss://127.0.0.1:57001")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		t.Fatalf("meshtest: %s=%q is not a URL", EnvURL, raw)
	}
	s := &Server{URL: raw, User: envOr(EnvUser, "admin"), Password: envOr(EnvPassword, "Adm1n!Passw0rd"), Dir: dir,
		https: "https://" + u.Host,
		// The recipe's server has a self-signed certificate; this client only talks to it.
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: false}}}
	resp, err := s.http.Get(s.https + "/")
	if err != nil {
		t.Skipf("meshtest: MeshCentral at %s does not answer (%v); skipping", s.https, err)
	}
	resp.Body.Close()
	if _, err := s.Do(map[string]any{"action": "serverinfo"}, "serverinfo"); err != nil {
		t.Fatalf("meshtest: logging in to %s as %s: %v", raw, s.User, err)
	}
	return s
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var seq atomic.Int64

// Unique is a name no earlier run used, for groups and host names.
func Unique(prefix string) string {
	return prefix + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatInt(seq.Add(1), 36)
}

// Do opens a websocket, sends cmd with a responseid and returns the first
// message of action wantAction that carries that responseid or none (some
// answers, such as createLoginToken's, do not echo it); for wantAction
// "serverinfo" it sends nothing and returns the first serverinfo. A
// "close" message or a result other than "ok" is an error.
func (s *Server) Do(cmd map[string]any, wantAction string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hdr := http.Header{}
	hdr.Set("x-meshauth", base64.StdEncoding.EncodeToString([]byte(s.User))+","+base64.StdEncoding.EncodeToString([]byte(s.Password)))
	ws, _, err := websocket.Dial(ctx, strings.TrimSuffix(s.URL, "/")+"/control.ashx", &websocket.DialOptions{HTTPClient: s.http, HTTPHeader: hdr})
	if err != nil {
		return nil, err
	}
	defer ws.CloseNow()
	ws.SetReadLimit(64 << 20)
	rid := Unique("meshtest")
	if wantAction != "serverinfo" {
		cmd["responseid"] = rid
		b, _ := json.Marshal(cmd)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			return nil, err
		}
	}
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return nil, err
		}
		var env struct {
			Action     string `json:"action"`
			ResponseID string `json:"responseid"`
			Cause      string `json:"cause"`
			Msg        string `json:"msg"`
			Result     string `json:"result"`
		}
		if json.Unmarshal(b, &env) != nil {
			continue
		}
		if env.Action == "close" {
			return nil, fmt.Errorf("the server closed the session: %s %s", env.Cause, env.Msg)
		}
		if env.Action == wantAction && (wantAction == "serverinfo" || env.ResponseID == rid || env.ResponseID == "") {
			if env.Result != "" && env.Result != "ok" {
				return b, fmt.Errorf("%s: %s", wantAction, env.Result)
			}
			ws.Close(websocket.StatusNormalClosure, "")
			return b, nil
		}
	}
}

// CreateGroup creates a device group, deleted (with its devices) in
// t.Cleanup, and returns its mesh id ("mesh//...").
func (s *Server) CreateGroup(t testing.TB, name string) string {
	t.Helper()
	b, err := s.Do(map[string]any{"action": "createmesh", "meshname": name, "meshtype": 2, "desc": "muster test"}, "createmesh")
	if err != nil {
		t.Fatalf("meshtest: creating device group %s: %v", name, err)
	}
	var a struct {
		MeshID string `json:"meshid"`
	}
	if err := json.Unmarshal(b, &a); err != nil || !strings.HasPrefix(a.MeshID, "mesh//") {
		t.Fatalf("meshtest: createmesh answered %s", b)
	}
	t.Cleanup(func() {
		if _, err := s.Do(map[string]any{"action": "deletemesh", "meshid": a.MeshID}, "deletemesh"); err != nil {
			t.Errorf("meshtest: deleting device group %s: %v", name, err)
		}
	})
	return a.MeshID
}

// CreateLoginToken creates a login token of the test account that never
// expires, removed in t.Cleanup, and returns its user ("~t:...") and password.
func (s *Server) CreateLoginToken(t testing.TB, name string) (user, password string) {
	t.Helper()
	b, err := s.Do(map[string]any{"action": "createLoginToken", "name": name, "expire": 0}, "createLoginToken")
	if err != nil {
		t.Fatalf("meshtest: creating login token %s: %v", name, err)
	}
	var a struct {
		TokenUser string `json:"tokenUser"`
		TokenPass string `json:"tokenPass"`
	}
	if err := json.Unmarshal(b, &a); err != nil || !strings.HasPrefix(a.TokenUser, "~t:") || a.TokenPass == "" {
		t.Fatalf("meshtest: createLoginToken answered no token")
	}
	t.Cleanup(func() {
		if _, err := s.Do(map[string]any{"action": "loginTokens", "remove": []string{a.TokenUser}}, "loginTokens"); err != nil {
			t.Errorf("meshtest: removing login token %s: %v", name, err)
		}
	})
	return a.TokenUser, a.TokenPass
}

// Nodes returns the devices of every group, by mesh id.
func (s *Server) Nodes(t testing.TB) map[string][]Node {
	t.Helper()
	b, err := s.Do(map[string]any{"action": "nodes"}, "nodes")
	if err != nil {
		t.Fatalf("meshtest: nodes: %v", err)
	}
	var a struct {
		Nodes map[string][]Node `json:"nodes"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("meshtest: nodes answer: %v", err)
	}
	return a.Nodes
}

// Agent is a real meshagent process in its own folder.
type Agent struct {
	Dir      string
	Hostname string
	cmd      *exec.Cmd
	once     sync.Once
	exited   chan struct{}
}

// StartAgent starts a persistent agent ("meshagent run") of group meshID in
// a new folder, under its own host name (a UTS namespace), and stops it in
// t.Cleanup. Each agent is a new device of the group.
func (s *Server) StartAgent(t testing.TB, meshID, hostname string) *Agent {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("meshtest: starting an agent under its own host name needs root (unshare -u)")
	}
	dir := t.TempDir()
	bin, err := os.ReadFile(filepath.Join(s.Dir, AgentBinary))
	if err != nil {
		t.Fatalf("meshtest: the agent binary: %v (is %s the recipe's folder?)", err, EnvDir)
	}
	if err := os.WriteFile(filepath.Join(dir, "meshagent"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	resp, err := s.http.Get(s.https + "/meshsettings?id=" + url.QueryEscape(strings.TrimPrefix(meshID, "mesh//")))
	if err != nil {
		t.Fatalf("meshtest: fetching the group's .msh: %v", err)
	}
	msh, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(msh), "MeshID=") {
		t.Fatalf("meshtest: /meshsettings answered HTTP %d: %.200s (%v)", resp.StatusCode, msh, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meshagent.msh"), msh, 0o600); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", "-u", "sh", "-c", `hostname "$1" && exec ./meshagent run`, "sh", hostname)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("meshtest: starting the agent: %v", err)
	}
	a := &Agent{Dir: dir, Hostname: hostname, cmd: cmd, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		log.Close()
		close(a.exited)
	}()
	t.Cleanup(func() { a.Stop(t) })
	return a
}

// Stop kills the agent (its process group) and waits for it to end; the
// server then lists the device offline. Stopping twice is harmless.
func (a *Agent) Stop(t testing.TB) {
	t.Helper()
	a.once.Do(func() {
		pgid := a.cmd.Process.Pid
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-a.exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			select {
			case <-a.exited:
			case <-time.After(10 * time.Second):
				t.Errorf("meshtest: agent %s (pid %d) did not end", a.Hostname, pgid)
			}
		}
	})
}

// WaitOnline polls the server until group meshID has a device named
// hostname whose agent is online (or offline, when online is false), and
// returns its node id; it fails t after timeout.
func (s *Server) WaitOnline(t testing.TB, meshID, hostname string, online bool, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	state := "absent"
	for {
		for _, n := range s.Nodes(t)[meshID] {
			if n.RName != hostname && n.Name != hostname {
				continue
			}
			state = "offline"
			if n.Online() {
				state = "online"
			}
			if n.Online() == online {
				return n.ID
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("meshtest: device %s of group %s is still %s after %s, want online=%v", hostname, meshID, state, timeout, online)
		}
		time.Sleep(time.Second) // polling a real server: it decides when the agent counts as connected
	}
}
