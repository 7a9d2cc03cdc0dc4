// Package manager wires a muster node together: the data directory, the
// store, the services and the listeners, and runs them until told to stop.
// cmd/muster only parses flags and calls Run.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/metrics"
	"github.com/muster-project/muster/internal/oplog"
	"github.com/muster-project/muster/internal/sqlstore"
)

// Options are what the server command collects from flags and environment.
type Options struct {
	Config    config.Config
	DataDir   string
	Passwords core.InitialPasswords
	Log       *slog.Logger
	// Ready, when set, receives the API's listening addresses once serving.
	Ready func(addrs []net.Addr)
	// DaemonsReady, when set, receives the agent daemons each time they
	// start: at start and after every PUT /manager/restart.
	DaemonsReady func(*Daemons)
	// MetricsReady, when set, receives the metrics listener's address.
	MetricsReady func(net.Addr)
}

// Run starts the manager and blocks until ctx ends; then it drains in-flight
// requests and returns.
func Run(ctx context.Context, o Options) error {
	if err := prepareDataDir(o.DataDir, o.Log); err != nil {
		return err
	}
	ossecLog, err := openOssecLog(o.DataDir, o.Log)
	if err != nil {
		return fmt.Errorf("open logs/ossec.log: %w", err)
	}
	defer ossecLog.Close()
	level := slog.LevelInfo
	if o.Log.Enabled(ctx, slog.LevelDebug) {
		level = slog.LevelDebug
	}
	log := slog.New(oplog.Tee(o.Log.Handler(), oplog.NewHandler(ossecLog, level)))
	// An ossec.conf uploaded through the API goes over server.yaml and the
	// flags; one that does not pass the checks stops the start, as Wazuh
	// refuses to start on an invalid ossec.conf.
	base := o.Config
	cfg, stored, err := config.Layered(base, o.DataDir)
	if err != nil {
		return fmt.Errorf("%s: %w", config.StoredOssecConf, err)
	}
	if stored != nil {
		log.Info("applying the ossec.conf uploaded through the API", "file", config.StoredOssecConf)
	}
	o.Config = cfg
	store, err := OpenStore(ctx, o.Config.Database, o.DataDir)
	if err != nil {
		return err
	}
	defer store.Close()

	sec := core.NewSecurity(core.SecurityOptions{Store: store, Log: log,
		LoginPoolSize: o.Config.API.AuthenticationPoolSize})
	if err := sec.Start(ctx, o.Passwords); err != nil {
		return fmt.Errorf("start the security layer: %w", err)
	}
	for _, u := range sec.DefaultPasswordsInUse() {
		log.Warn("the default user still has its default password: change it with PUT /security/users/{user_id}",
			"user", u)
	}
	if o.Config.Database.Driver == "postgres" {
		go sec.Watch(ctx, time.Second)
	}
	commands := &AgentCommander{}
	o.Log = log
	agents, err := startAgents(ctx, o, store, commands)
	if err != nil {
		return fmt.Errorf("start the agent registry: %w", err)
	}
	uid, err := InstallationUID(o.DataDir)
	if err != nil {
		return err
	}
	started := time.Now()
	lc := &lifecycle{ctx: ctx, base: base, dataDir: o.DataDir, log: log, ready: o.DaemonsReady,
		opts: DaemonOptions{DataDir: o.DataDir, Agents: agents, Commands: commands, Log: log, Version: api.Version}}
	if err := lc.start(o.Config); err != nil {
		return fmt.Errorf("start the agent daemons: %w", err)
	}
	defer func() { // before the store closes: pending connection changes are written
		lc.mu.Lock()
		lc.stop()
		lc.mu.Unlock()
	}()

	apiCfg := o.Config.API
	maxSize := int64(0)
	if apiCfg.Logs.MaxSize.Enabled {
		maxSize, _ = apiCfg.Logs.MaxSize.Bytes()
	}
	access, err := api.OpenAccessLog(filepath.Join(o.DataDir, "logs"), apiCfg.Logs.Format, apiCfg.Logs.Level,
		maxSize, time.Now, log)
	if err != nil {
		return fmt.Errorf("open the API log: %w", err)
	}
	defer access.Close()

	ops, err := startOps(ctx, o, store, lc)
	if err != nil {
		return err
	}
	defer ops.stop() // before the store closes
	node := NodeInfo(o.DataDir, uid, started, lc.daemons.Load)
	node.Base, node.Settings, node.Restart = &base, lc.settings, lc.Restart
	node.Running = clusterdRunning(node.Running, o.Config)
	srv := api.New(api.Options{Config: o.Config, Security: sec, Agents: agents, Log: log, AccessLog: access,
		Node: node, Metrics: ops.api})
	hs := srv.HTTPServer()
	scheme := "http"
	if apiCfg.HTTPS.Enabled {
		tlsCfg, err := api.TLSConfig(apiCfg.HTTPS, filepath.Join(o.DataDir, "ssl"), log)
		if err != nil {
			return err
		}
		hs.TLSConfig = tlsCfg
		scheme = "https"
	}
	listeners, err := listen(apiCfg.Host, apiCfg.Port)
	if err != nil {
		return err
	}
	leaveCluster, err := startCluster(ctx, o.Config, store, srv, agents, hs.TLSConfig, listeners, log)
	if err != nil {
		for _, ln := range listeners {
			ln.Close()
		}
		return err
	}
	defer leaveCluster() // before the store closes
	var addrs []net.Addr
	ops.apiWant.Store(int32(len(listeners)))
	errc := make(chan error, len(listeners))
	for _, ln := range listeners {
		addrs = append(addrs, ln.Addr())
		ln = srv.LimitListener(ln)
		if hs.TLSConfig != nil {
			ln = tlsListener(ln, hs.TLSConfig)
		}
		log.Info("API listening", "url", scheme+"://"+ln.Addr().String())
		ops.apiServing.Add(1)
		go func(ln net.Listener) { errc <- srv.Serve(ctx, ln, hs); ops.apiServing.Add(-1) }(ln)
	}
	if o.Ready != nil {
		o.Ready(addrs)
	}
	var first error
	for range listeners {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	log.Info("manager stopped")
	return first
}

// prepareDataDir creates the data directory with mode 0700, or tightens it.
func prepareDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create the data directory: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		log.Warn("tightening the data directory's mode to 0700", "dir", dir, "was", st.Mode().Perm().String())
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	for _, sub := range []string{"logs", "ssl"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// OpenStore opens the configured database; SQLite lives in the data dir.
func OpenStore(ctx context.Context, db config.Database, dataDir string) (*sqlstore.Store, error) {
	dsn := db.DSN
	if db.Driver == "sqlite" {
		if dsn == "" {
			dsn = filepath.Join(dataDir, "muster.db")
		}
		if f, err := os.OpenFile(dsn, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
			f.Close()
		}
	}
	return sqlstore.Open(ctx, db.Driver, dsn)
}

// listen binds every configured address. Wazuh's default pair 0.0.0.0 and
// :: becomes one dual-stack socket.
func listen(hosts []string, port int) ([]net.Listener, error) {
	p := strconv.Itoa(port)
	var addrs []string
	if contains(hosts, "0.0.0.0") && contains(hosts, "::") {
		addrs = append(addrs, ":"+p)
		for _, h := range hosts {
			if h != "0.0.0.0" && h != "::" {
				addrs = append(addrs, net.JoinHostPort(h, p))
			}
		}
	} else {
		for _, h := range hosts {
			addrs = append(addrs, net.JoinHostPort(h, p))
		}
	}
	var out []net.Listener
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range out {
				l.Close()
			}
			var opErr *net.OpError
			if errors.As(err, &opErr) {
				return nil, fmt.Errorf("cannot listen on %s: %w (is another manager running? change api.port or --api-port)", a, err)
			}
			return nil, err
		}
		out = append(out, ln)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// startAgents starts the agent registry over the store, with client.keys and
// the groups' files under the data directory.
func startAgents(ctx context.Context, o Options, store *sqlstore.Store, commands core.AgentCommander) (*core.Agents, error) {
	host, _ := os.Hostname()
	var poll time.Duration
	if o.Config.Database.Driver == "postgres" {
		poll = 5 * time.Second // follow the client.keys changes of other nodes
	}
	agents := core.NewAgents(core.AgentsOptions{Store: store, Log: o.Log, DataDir: o.DataDir, Commands: commands,
		NodeName: o.Config.Manager.NodeName, Hostname: host, Version: api.Version,
		DisconnectionTime: time.Duration(o.Config.Manager.AgentsDisconnectionTime) * time.Second, PollRegistry: poll,
		PollGroups: time.Second}) // other nodes' group changes reach this node's agents
	return agents, agents.Start(ctx)
}

// ops is the metrics and health listener (metrics.listen, --metrics-listen)
// and what it reads: the API's collectors and listener count, the store's
// latency, the daemons of the lifecycle.
type ops struct {
	api        *api.Metrics // nil when the listener is off
	apiWant    atomic.Int32 // API listeners bound
	apiServing atomic.Int32 // API listeners whose Serve runs
	stop       func()
}

// startOps binds metrics.listen and serves /metrics, /livez and /readyz on
// it until ctx ends; with no address it does nothing.
func startOps(ctx context.Context, o Options, store *sqlstore.Store, lc *lifecycle) (*ops, error) {
	out := &ops{stop: func() {}}
	addr := o.Config.Metrics.Listen
	if addr == "" {
		return out, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: cannot listen on %s: %w", addr, err)
	}
	reg := metrics.NewRegistry()
	out.api = api.NewMetrics(reg)
	store.SetLatencyObserver(metrics.StoreLatency(reg))
	daemons := func() metrics.Daemons {
		if d := lc.daemons.Load(); d != nil {
			return metrics.Daemons{Remote: d.Remote, Auth: d.Auth}
		}
		return metrics.Daemons{}
	}
	reg.MustRegister(metrics.NewDaemonCollector(o.Config.Manager.NodeName, daemons))
	health := &metrics.Health{Timeout: 2 * time.Second, Checks: []metrics.Check{
		{Name: "process", Fn: func(context.Context) error {
			if ctx.Err() != nil {
				return errors.New("shutting down")
			}
			return nil
		}},
		metrics.StoreCheck(store),
		metrics.ListenersCheck("api", func() (int, int) { return int(out.apiServing.Load()), int(out.apiWant.Load()) }),
		metrics.DaemonsCheck(daemons, func() (int, bool) {
			cfg := lc.settings()
			remote := 0
			if cfg.Remote.Enabled {
				for _, p := range []string{"tcp", "udp"} {
					if contains(cfg.Remote.Protocol, p) {
						remote++
					}
				}
			}
			return remote, !bool(cfg.Auth.Disabled)
		}),
	}}
	o.Log.Info("metrics listening", "url", "http://"+ln.Addr().String()+"/metrics")
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	out.stop = func() { cancel(); <-done }
	go func() {
		defer close(done)
		if err := metrics.Serve(sctx, ln, metrics.Handler(reg, health, o.Log), o.Log); err != nil {
			o.Log.Error("metrics listener stopped", "err", err)
		}
	}()
	if o.MetricsReady != nil {
		o.MetricsReady(ln.Addr())
	}
	return out, nil
}
