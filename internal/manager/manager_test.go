package manager_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
)

// start runs a manager on a free loopback port and returns its base URL and
// a stop function that waits for a clean exit.
func start(t *testing.T, dir string, mutate func(*config.Config)) (string, func()) {
	t.Helper()
	cfg := config.Default()
	cfg.API.Host = config.Hosts{"127.0.0.1"}
	cfg.API.Port = 0
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Auth.Port = "127.0.0.1", 0, 0 // no well-known agent ports in tests
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: dir,
			Passwords: core.InitialPasswords{Admin: "S3cret-admin!"},
			Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready:     func(a []net.Addr) { ready <- a }})
	}()
	var addrs []net.Addr
	select {
	case addrs = <-ready:
	case err := <-done:
		t.Fatalf("manager exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("manager did not start")
	}
	scheme := "https"
	if !cfg.API.HTTPS.Enabled {
		scheme = "http"
	}
	return scheme + "://" + addrs[0].String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager stopped with %v", err)
		}
	}
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestFirstStartAndRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	url, stop := start(t, dir, nil)
	for p, want := range map[string]os.FileMode{
		dir: 0o700, filepath.Join(dir, "muster.db"): 0o600, filepath.Join(dir, "ssl", "server.key"): 0o600,
	} {
		if got := mode(t, p); got != want {
			t.Errorf("%s mode %v, want %v", p, got, want)
		}
	}
	pemData, err := os.ReadFile(filepath.Join(dir, "ssl", "server.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemData)
	// The self-signed certificate is valid for localhost and 127.0.0.1.
	// A client that prefers HTTP/2 (as curl and the SDK do) must get HTTP/1.1.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	login := func(user, pass string) (int, string) {
		req, _ := http.NewRequest("POST", url+"/security/user/authenticate?raw=true", nil)
		req.SetBasicAuth(user, pass)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := login("wazuh", "wazuh"); code != 401 {
		t.Fatalf("default password still works after --admin-password: %d", code)
	}
	code, tok := login("wazuh", "S3cret-admin!")
	if code != 200 {
		t.Fatalf("login: %d %s", code, tok)
	}
	get := func(base string) int {
		req, _ := http.NewRequest("GET", base+"/?pretty=true", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if get(url) != 200 {
		t.Fatal("GET / with the token failed")
	}
	stop()
	log, err := os.ReadFile(filepath.Join(dir, "logs", "api.log"))
	if err != nil || !strings.Contains(string(log), `INFO: wazuh 127.0.0.1 "POST /security/user/authenticate" with parameters {"raw": "true"} and body {} done in`) {
		t.Fatalf("api.log: %v\n%s", err, log)
	}
	if strings.Contains(string(log), "S3cret") || strings.Contains(string(log), tok) {
		t.Fatal("api.log holds a secret")
	}
	// The operational log, in ossec.log's format, each part under its tag.
	ossec, err := os.ReadFile(filepath.Join(dir, "logs", "ossec.log"))
	if err != nil || mode(t, filepath.Join(dir, "logs", "ossec.log")) != 0o600 {
		t.Fatalf("ossec.log: %v", err)
	}
	for _, want := range []string{" wazuh-apid: INFO: API listening url=https://127.0.0.1:",
		" wazuh-remoted: INFO: secure channel listening protocol=tcp", " wazuh-authd: INFO: enrollment daemon listening",
		" wazuh-apid: INFO: manager stopped"} {
		if !strings.Contains(string(ossec), want) {
			t.Errorf("ossec.log lacks %q:\n%s", want, ossec)
		}
	}
	if strings.Contains(string(ossec), "S3cret") || strings.Contains(string(ossec), tok) {
		t.Fatal("ossec.log holds a secret")
	}
	uid, err := os.ReadFile(filepath.Join(dir, "etc", "wazuh.uid"))
	if err != nil || len(strings.TrimSpace(string(uid))) != 36 {
		t.Fatalf("wazuh.uid: %v %q", err, uid)
	}
	// A restart keeps the keys: the token still works.
	url2, stop2 := start(t, dir, nil)
	defer stop2()
	if get(url2) != 200 {
		t.Fatal("token refused after restart")
	}
	if again, _ := os.ReadFile(filepath.Join(dir, "etc", "wazuh.uid")); string(again) != string(uid) {
		t.Fatalf("the installation UID changed across a restart: %q, %q", uid, again)
	}
}

func TestPlainHTTP(t *testing.T) {
	dir := t.TempDir()
	url, stop := start(t, dir, func(c *config.Config) { c.API.HTTPS.Enabled = false })
	defer stop()
	resp, err := http.Post(url+"/security/user/authenticate?raw=true", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("plain HTTP login without credentials: %d", resp.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(dir, "ssl", "server.crt")); err == nil {
		t.Fatal("a certificate was made although HTTPS is off")
	}
}
