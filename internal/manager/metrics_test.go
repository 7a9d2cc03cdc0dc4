package manager_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/muster-project/muster/internal/agentsim"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
)

// scrape reads /metrics and parses the exposition.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value is the sample of family name whose labels include want; -1 when
// there is none. Histograms give their sample count.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func probe(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsListener runs a server with --metrics-listen, drives the API
// (a login, failures up to the block, reads), enrolls an agent and keeps
// it alive, and checks that the scraped figures moved and that /readyz
// follows the daemons' listeners.
func TestMetricsListener(t *testing.T) {
	cfg := config.Default()
	cfg.API.Host, cfg.API.Port, cfg.API.HTTPS.Enabled = config.Hosts{"127.0.0.1"}, 0, false
	cfg.API.Access.MaxLoginAttempts = 2
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Auth.Port = "127.0.0.1", 0, 0
	cfg.Metrics.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan []net.Addr, 1)
	metricsAddr := make(chan net.Addr, 1)
	daemons := make(chan *manager.Daemons, 4)
	done := make(chan error, 1)
	go func() {
		done <- manager.Run(ctx, manager.Options{Config: cfg, DataDir: t.TempDir(),
			Passwords: core.InitialPasswords{Admin: "S3cret-admin!"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready: func(a []net.Addr) { ready <- a }, DaemonsReady: func(d *manager.Daemons) { daemons <- d },
			MetricsReady: func(a net.Addr) { metricsAddr <- a }})
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
	ops := "http://" + (<-metricsAddr).String()
	d := <-daemons

	if code, body := probe(t, ops+"/livez"); code != 200 || body != "ok\n" {
		t.Fatalf("/livez: %d %q", code, body)
	}
	if code, body := probe(t, ops+"/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz when up: %d %q", code, body)
	}

	call := func(method, path, user, pass, tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		} else {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, tok := call("POST", "/security/user/authenticate?raw=true", "wazuh", "S3cret-admin!", "")
	if code != 200 {
		t.Fatalf("login: %d %s", code, tok)
	}
	for i := range 2 {
		if code, _ := call("POST", "/security/user/authenticate", "wazuh", "wrong", ""); code != 401 {
			t.Fatalf("failure %d: %d", i, code)
		}
	}
	if code, _ := call("POST", "/security/user/authenticate", "wazuh", "S3cret-admin!", ""); code == 200 {
		t.Fatal("the address was not blocked after max_login_attempts failures")
	}
	for range 3 {
		if code, _ := call("GET", "/agents/000/key", "", "", tok); code != 200 {
			t.Fatalf("GET /agents/000/key: %d", code)
		}
	}
	if code, _ := call("GET", "/no/such/path", "", "", tok); code != 404 {
		t.Fatalf("unknown path: %d", code)
	}

	k, err := enrollFrom(d.Addrs["auth"].String(), "127.0.0.1", "scraped")
	if err != nil {
		t.Fatal(err)
	}
	_, stopAgent := runAgent(t, k, agentsim.AgentOptions{Addr: d.Addrs["remote/tcp"].String(),
		NotifyTime: 50 * time.Millisecond, HandshakeTimeout: 5 * time.Second})
	defer stopAgent()
	node := map[string]string{"node": cfg.Manager.NodeName}
	eventually(t, "keepalives counted", func() bool {
		return value(scrape(t, ops), "muster_remoted_keepalives_total", node) >= 2
	})

	fams := scrape(t, ops)
	checks := []struct {
		name   string
		labels map[string]string
		want   func(float64) bool
		what   string
	}{
		{"muster_api_logins_total", nil, eq(1), "1"},
		{"muster_api_login_failures_total", nil, eq(2), "2"},
		{"muster_api_login_blocked_total", nil, eq(1), "1"},
		{"muster_api_http_requests_total", map[string]string{"route": "/security/user/authenticate", "method": "POST", "code": "200"}, eq(1), "1"},
		{"muster_api_http_requests_total", map[string]string{"route": "/security/user/authenticate", "method": "POST", "code": "401"}, eq(2), "2"},
		{"muster_api_http_requests_total", map[string]string{"route": "/agents/{agent_id}/key", "method": "GET", "code": "200"}, eq(3), "3"},
		{"muster_api_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, eq(1), "1"},
		{"muster_api_http_request_duration_seconds", map[string]string{"route": "/agents/{agent_id}/key", "method": "GET"}, eq(3), "3 observations"},
		{"muster_api_rate_limited_requests_total", nil, eq(0), "0"},
		{"muster_authd_enrollments_total", map[string]string{"result": "accepted", "node": "node01"}, eq(1), "1"},
		{"muster_authd_enrollments_total", map[string]string{"result": "refused"}, eq(0), "0"},
		{"muster_remoted_connected_agents", map[string]string{"protocol": "tcp", "node": "node01"}, eq(1), "1"},
		{"muster_remoted_connected_agents", map[string]string{"protocol": "udp"}, eq(0), "0"},
		{"muster_remoted_shared_pushes_total", nil, ge(0), ">= 0"},
		{"muster_daemon_up", map[string]string{"daemon": "authd"}, eq(1), "1"},
		{"muster_daemon_up", map[string]string{"daemon": "remoted"}, eq(1), "1"},
		{"muster_store_call_duration_seconds", map[string]string{"op": "transaction"}, ge(1), ">= 1 observation"},
		{"muster_store_call_duration_seconds", map[string]string{"op": "ping"}, ge(1), ">= 1 observation (readiness)"},
		{"go_goroutines", nil, ge(1), ">= 1"},
		{"process_open_fds", nil, ge(1), ">= 1"},
	}
	for _, c := range checks {
		if got := value(fams, c.name, c.labels); !c.want(got) {
			t.Errorf("%s%v = %v, want %s", c.name, c.labels, got, c.what)
		}
	}
	// The route label is the pattern, never the raw path.
	for _, m := range fams["muster_api_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), "000") {
				t.Errorf("raw path in a route label: %q", l.GetValue())
			}
		}
	}

	// A daemon that lost its listener makes the node unready.
	d.Auth.Close()
	code, body := probe(t, ops+"/readyz")
	if code != 503 || !strings.Contains(body, "wazuh-authd") {
		t.Fatalf("/readyz with authd down: %d %q", code, body)
	}
	if code, _ := probe(t, ops+"/livez"); code != 200 {
		t.Fatalf("/livez with authd down: %d", code)
	}
	if v := value(scrape(t, ops), "muster_daemon_up", map[string]string{"daemon": "authd"}); v != 0 {
		t.Errorf("muster_daemon_up{daemon=authd} = %v after its listener closed, want 0", v)
	}
}

func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }
func ge(min float64) func(float64) bool  { return func(v float64) bool { return v >= min } }
