// Package zbxtest drives a real Zabbix server for tests: it logs in with
// the account named by MUSTER_TEST_ZABBIX_URL, _USER and _PASSWORD, creates
// host groups, hosts and users that t.Cleanup deletes, and waits for Zabbix
// to decide whether a host's agent answers. Tests skip when the URL is unset.
package zbxtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// The environment variables Open reads.
const (
	EnvURL      = "MUSTER_TEST_ZABBIX_URL"
	EnvUser     = "MUSTER_TEST_ZABBIX_USER"
	EnvPassword = "MUSTER_TEST_ZABBIX_PASSWORD"
)

// AgentAddr is where the real agent answers (zabbix.sh's zabbix_agentd).
const AgentAddr = "127.0.0.1:10050"

// Server is a logged-in session on a real Zabbix API.
type Server struct {
	URL      string // the api_jsonrpc.php address
	User     string
	Password string
	auth     string
	ids      atomic.Int64
	http     *http.Client
}

// Open logs in to the Zabbix of MUSTER_TEST_ZABBIX_URL (user and password
// default to Admin / zabbix) and logs out in t.Cleanup; it skips t when
// the variable is unset.
func Open(t testing.TB) *Server {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip(EnvURL + " is not set (e.g. http://127.0.0.1:57080/api_jsonrpc.php); skipping the real Zabbix test")
	}
	s := &Server{URL: u, User: envOr(EnvUser, "Admin"), Password: envOr(EnvPassword, "zabbix"),
		http: &http.Client{Timeout: 60 * time.Second}}
	var sid string
	if err := s.Try("user.login", map[string]string{"username": s.User, "password": s.Password}, &sid, ""); err != nil {
		t.Fatalf("zbxtest: logging in to %s as %s: %v", u, s.User, err)
	}
	s.auth = sid
	t.Cleanup(func() {
		if err := s.Try("user.logout", []string{}, nil, s.auth); err != nil {
			t.Logf("zbxtest: user.logout: %v", err)
		}
	})
	return s
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// Call runs method with the test session and decodes its result into out;
// any error fails t.
func (s *Server) Call(t testing.TB, method string, params, out any) {
	t.Helper()
	if err := s.Try(method, params, out, s.auth); err != nil {
		t.Fatalf("zbxtest: %s: %v", method, err)
	}
}

// Try runs method with auth ("" for none) and returns its error, JSON-RPC
// errors included.
func (s *Server) Try(method string, params, out any, auth string) error {
	req := map[string]any{"jsonrpc": "2.0", "method": method, "params": params, "id": s.ids.Add(1)}
	if auth != "" {
		req["auth"] = auth
	}
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := s.http.Post(s.URL, "application/json-rpc", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	var res struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("HTTP %d, not JSON-RPC: %.200s", resp.StatusCode, raw)
	}
	if res.Error != nil {
		return fmt.Errorf("code %d: %s %s", res.Error.Code, res.Error.Message, res.Error.Data)
	}
	if out != nil {
		return json.Unmarshal(res.Result, out)
	}
	return nil
}

// CreateGroup creates a host group, deleted in t.Cleanup, and returns its id.
func (s *Server) CreateGroup(t testing.TB, name string) string {
	t.Helper()
	var res struct {
		GroupIDs []string `json:"groupids"`
	}
	s.Call(t, "hostgroup.create", map[string]string{"name": name}, &res)
	if len(res.GroupIDs) != 1 {
		t.Fatalf("zbxtest: hostgroup.create %s answered %v", name, res.GroupIDs)
	}
	id := res.GroupIDs[0]
	t.Cleanup(func() { s.cleanup(t, "hostgroup.delete", id) })
	return id
}

// CreateHost creates a monitored host in group groupID with one agent
// interface and an agent.ping item polled every 10 s, deleted in
// t.Cleanup. up puts the interface on the real agent (Zabbix then finds it
// available); otherwise on a local port where nothing listens (unavailable).
func (s *Server) CreateHost(t testing.TB, groupID, host string, up bool) string {
	t.Helper()
	addr := AgentAddr
	if !up {
		addr = deadAddr(t)
	}
	ip, port, _ := net.SplitHostPort(addr)
	var res struct {
		HostIDs []string `json:"hostids"`
	}
	s.Call(t, "host.create", map[string]any{
		"host":       host,
		"groups":     []map[string]string{{"groupid": groupID}},
		"interfaces": []map[string]any{{"type": 1, "main": 1, "useip": 1, "ip": ip, "dns": "", "port": port}},
	}, &res)
	if len(res.HostIDs) != 1 {
		t.Fatalf("zbxtest: host.create %s answered %v", host, res.HostIDs)
	}
	id := res.HostIDs[0]
	t.Cleanup(func() { s.cleanup(t, "host.delete", id) })
	var ifs []struct {
		InterfaceID string `json:"interfaceid"`
	}
	s.Call(t, "hostinterface.get", map[string]any{"output": []string{"interfaceid"}, "hostids": []string{id}}, &ifs)
	if len(ifs) != 1 {
		t.Fatalf("zbxtest: host %s has %d interfaces, want 1", host, len(ifs))
	}
	s.Call(t, "item.create", map[string]any{"name": "Agent ping", "key_": "agent.ping", "hostid": id,
		"type": 0, "value_type": 3, "interfaceid": ifs[0].InterfaceID, "delay": "10s"}, nil)
	return id
}

// deadAddr is a local address where nothing listens: a port the kernel
// just gave out and that was closed again.
func deadAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("zbxtest: finding a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// CreateUser creates a user in the Guests group, deleted in t.Cleanup, for
// tests that need a login to fail without locking the main account.
func (s *Server) CreateUser(t testing.TB, username, password string) string {
	t.Helper()
	var groups []struct {
		ID string `json:"usrgrpid"`
	}
	s.Call(t, "usergroup.get", map[string]any{"output": []string{"usrgrpid"}, "filter": map[string]any{"name": "Guests"}}, &groups)
	if len(groups) != 1 {
		t.Fatalf("zbxtest: no Guests user group")
	}
	var res struct {
		UserIDs []string `json:"userids"`
	}
	s.Call(t, "user.create", map[string]any{"username": username, "passwd": password, "roleid": "1",
		"usrgrps": []map[string]string{{"usrgrpid": groups[0].ID}}}, &res)
	if len(res.UserIDs) != 1 {
		t.Fatalf("zbxtest: user.create %s answered %v", username, res.UserIDs)
	}
	id := res.UserIDs[0]
	t.Cleanup(func() { s.cleanup(t, "user.delete", id) })
	return id
}

func (s *Server) cleanup(t testing.TB, method, id string) {
	if err := s.Try(method, []string{id}, nil, s.auth); err != nil {
		t.Errorf("zbxtest: %s %s: %v", method, id, err)
	}
}

// WaitAvailability polls host hostID until its agent interface's available
// is want ("1" available, "2" unavailable), failing t after timeout.
func (s *Server) WaitAvailability(t testing.TB, hostID, want string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	got := "?"
	for {
		var hosts []struct {
			Interfaces []struct {
				Available string `json:"available"`
			} `json:"interfaces"`
		}
		s.Call(t, "host.get", map[string]any{"hostids": []string{hostID}, "output": []string{"hostid"},
			"selectInterfaces": []string{"available"}}, &hosts)
		if len(hosts) == 1 && len(hosts[0].Interfaces) > 0 {
			got = hosts[0].Interfaces[0].Available
			if got == want {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("zbxtest: host %s: available is still %s after %s, want %s", hostID, got, timeout, want)
		case <-tick.C:
		}
	}
}

// WaitPing polls host hostID until its agent.ping item has a value
// (lastclock above 0), failing t after timeout. Zabbix marks the interface
// available and stores the value separately, so one may come a moment later.
func (s *Server) WaitPing(t testing.TB, hostID string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var items []struct {
			LastClock string `json:"lastclock"`
		}
		s.Call(t, "item.get", map[string]any{"hostids": []string{hostID}, "output": []string{"lastclock"},
			"filter": map[string]any{"key_": "agent.ping"}}, &items)
		if len(items) > 0 && items[0].LastClock != "0" && items[0].LastClock != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("zbxtest: host %s: agent.ping has no value after %s", hostID, timeout)
		}
		time.Sleep(time.Second) // polling a real server: it decides when the value lands
	}
}

// Unique is a name no earlier run used, for groups, hosts and users.
func Unique(prefix string) string {
	return prefix + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}
