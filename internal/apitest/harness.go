package apitest

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/client"
	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/manager"
	"github.com/muster-project/muster/internal/sqlstore"
)

// Env is a running test manager.
type Env struct {
	t        testing.TB
	URL      string
	Server   *httptest.Server
	Security *core.Security
	Agents   *core.Agents
	Store    *sqlstore.Store
	DataDir  string // WAZUH_HOME layout: etc/client.keys, etc/shared
	Clock    *Clock
	Config   config.Config
	Contract *Contract
	commands *manager.AgentCommander
	log      *slog.Logger
	daemons  atomic.Pointer[manager.Daemons] // set while StartDaemons' daemons run
}

// Option adjusts the test manager before it starts.
type Option func(*config.Config)

// Start runs a manager on a fresh SQLite store behind a TLS test server.
// The clock starts at a fixed time and moves only when the test moves it.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	cfg := config.Default()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx := context.Background()
	dataDir := t.TempDir()
	store, err := sqlstore.Open(ctx, "sqlite", dataDir+"/muster.db")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	runCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	clock := NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	sec := core.NewSecurity(core.SecurityOptions{Store: store, Now: clock.Now, Log: log})
	if err := sec.Start(ctx, core.InitialPasswords{}); err != nil {
		t.Fatalf("start security: %v", err)
	}
	commands := &manager.AgentCommander{} // reaches agents once StartDaemons runs the secure channel
	agents := core.NewAgents(core.AgentsOptions{Store: store, Now: clock.Now, Log: log, DataDir: dataDir, Commands: commands,
		NodeName: cfg.Manager.NodeName, Hostname: "muster-test", Version: api.Version,
		DisconnectionTime: time.Duration(cfg.Manager.AgentsDisconnectionTime) * time.Second})
	if err := agents.Start(runCtx); err != nil {
		t.Fatalf("start agents: %v", err)
	}
	e := &Env{t: t, Security: sec, Agents: agents, Store: store, DataDir: dataDir,
		Clock: clock, Config: cfg, commands: commands, log: log}
	uid, err := manager.InstallationUID(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Options{Config: cfg, Security: sec, Agents: agents, Log: log, Now: clock.Now,
		Hostname: "muster-test", Node: manager.NodeInfo(dataDir, uid, clock.Now(), e.daemons.Load)})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config = srv.HTTPServer()                 // the timeouts of muster server
	ts.Listener = srv.LimitListener(ts.Listener) // and its connection caps
	ts.EnableHTTP2 = false
	ts.StartTLS()
	t.Cleanup(ts.Close)
	e.URL, e.Server = ts.URL, ts
	e.Contract = NewContract(t, ts.Client().Transport)
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// HTTP returns an http.Client that trusts the test server and checks every
// exchange against the OpenAPI document.
func (e *Env) HTTP() *http.Client {
	return &http.Client{Transport: e.Contract, Timeout: 30 * time.Second}
}

// RawHTTP returns an http.Client that trusts the test server and checks nothing.
func (e *Env) RawHTTP() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.Server.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}},
		Timeout: 30 * time.Second}
}

// Client returns an SDK client logged in as user, over the contract checker.
func (e *Env) Client(user, password string, opts ...client.Option) *client.Client {
	e.t.Helper()
	all := append([]client.Option{client.WithCredentials(user, password), client.WithHTTPClient(e.HTTP()),
		client.WithClock(e.Clock.Now)}, opts...)
	c, err := client.New(e.URL, all...)
	if err != nil {
		e.t.Fatalf("client: %v", err)
	}
	return c
}

// Admin returns an SDK client for the default administrator.
func (e *Env) Admin() *client.Client { return e.Client("wazuh", "wazuh") }
