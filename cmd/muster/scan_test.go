package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/apitest"
)

// One real server, every output format, exit codes 0 and 1.
func TestScanCommand(t *testing.T) {
	e := apitest.Start(t)
	seedAgents(t, e, 25)
	ca := serverCA(t, e)
	env(t, e.URL, "wazuh")
	ctx := context.Background()

	r := run(t, ctx, scanCmd(), "--ca", ca, "-q")
	if r.code != 1 || !strings.Contains(r.stdout, "summary: 25 agents: 20 healthy, 5 disconnected") ||
		!strings.Contains(r.stderr, "findings over their limits: disconnected 5 > 0") {
		t.Fatalf("table: code %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	r = run(t, ctx, scanCmd(), "--ca", ca, "-q", "-o", "json", "--max", "disconnected=20%")
	var rep struct {
		Total    int            `json:"agents_total"`
		Logins   int            `json:"logins"`
		ExitCode int            `json:"exit_code"`
		Classes  map[string]int `json:"classes"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 {
		t.Fatalf("json: code %d err %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	if rep.Total != 25 || rep.Logins != 1 || rep.Classes["disconnected"] != 5 || !strings.Contains(r.stderr, "summary: 25 agents") {
		t.Errorf("json report %+v, stderr %q", rep, r.stderr)
	}

	r = run(t, ctx, scanCmd(), "--ca", ca, "-q", "-o", "csv", "--all", "--max", "all=off")
	recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil || r.code != 0 || len(recs) != 26 {
		t.Fatalf("csv: code %d, %d rows, %v", r.code, len(recs), err)
	}

	r = run(t, ctx, scanCmd(), "--ca", ca, "-q", "-o", "prometheus")
	if !strings.Contains(r.stdout, `muster_scan_agents{class="disconnected"} 5`) || r.code != 1 {
		t.Errorf("prometheus: code %d\n%s", r.code, r.stdout)
	}

	// The password from a file; --password on the command line warns.
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("wazuh\n"), 0o600)
	env(t, e.URL, "")
	if r = run(t, ctx, scanCmd(), "--ca", ca, "-q", "--password-file", pw, "--max", "all=off"); r.code != 0 {
		t.Errorf("password file: %d %s", r.code, r.stderr)
	}
	if r = run(t, ctx, scanCmd(), "--ca", ca, "-q", "--password", "wazuh", "--max", "all=off"); r.code != 0 ||
		!strings.Contains(r.stderr, "visible to other users") {
		t.Errorf("--password: %d %s", r.code, r.stderr)
	}
}

// --watch with --listen: one token across runs, the figures served to Prometheus.
func TestScanWatchAndListen(t *testing.T) {
	e := apitest.Start(t)
	seedAgents(t, e, 10)
	env(t, e.URL, "wazuh")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := scanCmd()
	var errb syncBuffer
	cmd.SetArgs([]string{"--ca", serverCA(t, e), "--watch", "100ms", "--listen", "127.0.0.1:0", "--per-agent-metrics", "-q"})
	cmd.SetOut(io.Discard)
	cmd.SetErr(&errb)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	addrRE := regexp.MustCompile(`serving metrics on (http://\S+/metrics)`)
	var metrics string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		m := addrRE.FindStringSubmatch(errb.String())
		if m == nil {
			continue
		}
		resp, err := http.Get(m[1])
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		metrics = string(b)
		if regexp.MustCompile(`muster_scan_runs_total [3-9]`).MatchString(metrics) {
			break
		}
	}
	cancel()
	err := <-done
	for _, want := range []string{"muster_scan_up 1", "muster_scan_logins_total 1", `muster_scan_agents{class="disconnected"} 2`,
		`muster_scan_agent_keepalive_age_seconds{group="default",id="001",name="cli-0001",node="node01"} 10`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s\nstderr:\n%s", want, metrics, errb.String())
		}
	}
	if exitCode(err) != 1 || !strings.Contains(errb.String(), "summary: 10 agents") {
		t.Errorf("exit %v, stderr %s", err, errb.String())
	}
}

// Everything that keeps a scan from running ends with exit 2 and says why.
func TestScanCannotRun(t *testing.T) {
	ctx := context.Background()
	e := apitest.Start(t)
	ca := serverCA(t, e)

	env(t, e.URL, "")
	expect2(t, run(t, ctx, scanCmd(), "--ca", ca), "no password for user wazuh: set MUSTER_PASSWORD")
	env(t, e.URL, "wazuh")
	expect2(t, run(t, ctx, scanCmd(), "--ca", ca, "--max", "stale=lots"), "--max threshold")
	expect2(t, run(t, ctx, scanCmd(), "--ca", ca, "--output", "xml"), "use one of table, json, csv, prometheus")
	expect2(t, run(t, ctx, scanCmd(), "--bogus"), "unknown flag")
	// No --ca: the self-signed test certificate is not trusted.
	expect2(t, run(t, ctx, scanCmd()), "certificate")
	// Wrong password.
	env(t, e.URL, "not-the-password")
	expect2(t, run(t, ctx, scanCmd(), "--ca", ca), "Invalid credentials")
	// A server bound elsewhere: the port is closed.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	env(t, "https://"+closed, "wazuh")
	expect2(t, run(t, ctx, scanCmd(), "--timeout", "1s"), "nothing listens")
}

// heldConns takes connections away from the HTTP server and never answers on them.
type heldConns struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (h *heldConns) hold(w http.ResponseWriter, _ *http.Request) {
	c, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	h.mu.Lock()
	h.conns = append(h.conns, c)
	h.mu.Unlock()
}

func (h *heldConns) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Close()
	}
}

func expect2(t *testing.T, r result, want string) {
	t.Helper()
	if r.code != 2 || !strings.Contains(r.stderr, want) {
		t.Fatalf("code %d, want 2 with %q in stderr:\n%s", r.code, want, r.stderr)
	}
}

// Answers that are not the Wazuh API: HTML, truncated JSON, enormous
// bodies, silence. Each ends in exit 2 with a clear message, in time.
func TestScanBadAnswers(t *testing.T) {
	login := func(w http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/security/user/authenticate":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "eyJhbGciOiJFUzUxMiJ9.eyJuYmYiOjEsImV4cCI6OTk5OTk5OTk5OX0.c2ln")
			return true
		case "/":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"data": {"title": "Wazuh API REST", "api_version": "4.14.7"}, "error": 0}`)
			return true
		case "/manager/info", "/manager/configuration":
			http.NotFound(w, r)
			return true
		}
		return false
	}
	var held heldConns
	defer held.close()
	cases := []struct {
		name    string
		agents  http.HandlerFunc
		args    []string
		want    string
		maxTime time.Duration
	}{
		{"HTML from a proxy", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><head><title>Sign in - Corporate Proxy</title></head></html>")
		}, nil, `an HTML page titled "Sign in - Corporate Proxy"`, 10 * time.Second},
		{"truncated JSON", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"data": {"affected_items": [{"id": "001", "name": "we`)
		}, nil, "cut short", 10 * time.Second},
		{"enormous answer", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			chunk := strings.Repeat(" ", 1<<16)
			for range 64 { // 4 MiB, against a cap of 1 MiB + 16 KiB for one agent per page
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		}, []string{"--page-size", "1"}, "Response too large", 10 * time.Second},
		{"a server that never answers", held.hold, []string{"--timeout", "300ms"}, "no answer in time", 8 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !login(w, r) {
					tc.agents(w, r)
				}
			}))
			defer srv.Close()
			env(t, srv.URL, "wazuh")
			r := run(t, context.Background(), scanCmd(), append([]string{"-q"}, tc.args...)...)
			expect2(t, r, tc.want)
			if r.elapsed > tc.maxTime {
				t.Errorf("took %s", r.elapsed)
			}
		})
	}
}
