package manager_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
)

// TestRestartKeepsAgents uploads an ossec.conf, restarts the daemons
// through the API with an agent connected, and checks the agent keeps its
// key and is active again on the restarted channel; an invalid stored
// configuration is then refused.
func TestRestartKeepsAgents(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.API.Host, cfg.API.Port, cfg.API.HTTPS.Enabled = config.Hosts{"127.0.0.1"}, 0, false
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Auth.Port = "127.0.0.1", 0, 0
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	daemons := make(chan *manager.Daemons, 4)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: dir,
			Passwords: core.InitialPasswords{Admin: "S3cret-admin!"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready: func(a []net.Addr) { ready <- a }, DaemonsReady: func(d *manager.Daemons) { daemons <- d }})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	}()
	var base string
	select {
	case a := <-ready:
		base = "http://" + a[0].String()
	case err := <-done:
		t.Fatalf("manager exited: %v", err)
	}
	d1 := <-daemons
	hc := &http.Client{Transport: apitest.NewContract(t, &http.Transport{TLSClientConfig: &tls.Config{}}),
		Timeout: 30 * time.Second}
	call := func(method, path, tok, ct, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		} else {
			req.SetBasicAuth("wazuh", "S3cret-admin!")
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, tok := call("POST", "/security/user/authenticate?raw=true", "", "", "")

	k, err := enrollFrom(d1.Addrs["auth"].String(), "127.0.0.1", "steady")
	if err != nil {
		t.Fatal(err)
	}
	a, stopAgent := runAgent(t, k, agentsim.AgentOptions{Addr: d1.Addrs["remote/tcp"].String(),
		NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 5 * time.Second})
	defer stopAgent()
	status := func() string {
		_, body := call("GET", "/agents?agents_list="+k.ID+"&select=status", tok, "", "")
		var v struct {
			Data struct {
				Items []struct{ Status string } `json:"affected_items"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(body), &v)
		if len(v.Data.Items) != 1 {
			return ""
		}
		return v.Data.Items[0].Status
	}
	eventually(t, "the agent is active", func() bool { return status() == "active" })

	conf := "<ossec_config><global><agents_disconnection_time>20m</agents_disconnection_time></global></ossec_config>"
	if code, body := call("PUT", "/manager/configuration", tok, "application/octet-stream", conf); code != 200 ||
		!strings.Contains(body, `"affected_items": ["manager"]`) {
		t.Fatalf("upload: %d %s", code, body)
	}
	code, body := call("PUT", "/manager/restart", tok, "", "")
	if want := `{"data": {"affected_items": ["manager"], "total_affected_items": 1, "total_failed_items": 0, ` +
		`"failed_items": []}, "message": "Restart request sent to ", "error": 0}`; code != 202 || body != want {
		t.Fatalf("restart: %d %s", code, body)
	}
	var d2 *manager.Daemons
	select {
	case d2 = <-daemons:
	case <-time.After(30 * time.Second):
		t.Fatal("the daemons did not restart")
	}
	if d2 == d1 || d2.Addrs["remote/tcp"].String() != d1.Addrs["remote/tcp"].String() {
		t.Fatalf("restarted daemons: %v, before %v", d2.Addrs, d1.Addrs)
	}
	// The agent's session on the new channel: a startup it sent after the restart.
	eventually(t, "the agent reconnects", func() bool { return d2.Remote.Stats().Startups.Load() >= 1 && a.Connected() })
	eventually(t, "the agent is active again", func() bool { return status() == "active" })
	keys, err := os.ReadFile(filepath.Join(dir, "etc", "client.keys"))
	if err != nil || !strings.Contains(string(keys), k.ID+" steady any "+k.Key) {
		t.Fatalf("client.keys after the restart: %v %q", err, keys)
	}
	if _, body := call("GET", "/manager/configuration/request/global", tok, "", ""); !strings.Contains(body,
		`"agents_disconnection_time": 1200`) {
		t.Fatalf("the restart did not apply the stored configuration: %s", body)
	}

	// A stored file broken by hand: the restart is refused, nothing restarts.
	os.WriteFile(filepath.Join(dir, "etc", "ossec.conf"),
		[]byte("<ossec_config><remote><connection>secure</connection><port>x</port></remote></ossec_config>"), 0o640)
	code, body = call("PUT", "/manager/restart", tok, "", "")
	failed := `{"error": {"code": 1908, "message": "Error validating configuration: (1235): Invalid value for element ` +
		`'port': x., (1202): Configuration error at 'etc/ossec.conf'.", "remediation": "Please, fix the corrupted files"}, "id": ["manager"]}`
	if want := `{"data": {"affected_items": [], "total_affected_items": 0, "total_failed_items": 1, "failed_items": [` +
		failed + `]}, "message": "Could not send restart request to any node", "error": 1}`; code != 202 || body != want {
		t.Fatalf("restart with an invalid configuration: %d %s", code, body)
	}
	if _, body := call("GET", "/manager/configuration/validation", tok, "", ""); !strings.Contains(body, failed) {
		t.Fatalf("validation: %s", body)
	}
	select {
	case <-daemons:
		t.Fatal("the daemons restarted with an invalid configuration")
	default:
	}
	if !a.Connected() {
		t.Fatal("the refused restart dropped the agent")
	}
}
