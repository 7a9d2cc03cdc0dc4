package apitest

import (
	"context"

	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/manager"
)

// StartDaemons runs the test manager's enrollment daemon (1515 role) and
// secure channel (1514 role, TCP and UDP) on 127.0.0.1 with free ports,
// over the same registry and clock as the API. Their addresses are in
// Daemons.Addrs ("auth", "remote/tcp", "remote/udp"); they stop with the test.
func (e *Env) StartDaemons(mods ...func(*config.Config)) *manager.Daemons {
	e.t.Helper()
	cfg := e.Config
	cfg.Remote.LocalIP, cfg.Remote.Port, cfg.Auth.Port = "127.0.0.1", 0, 0
	cfg.Remote.Protocol = config.Strings{"tcp", "udp"}
	for _, m := range mods {
		m(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, err := manager.StartDaemons(ctx, manager.DaemonOptions{Config: cfg, DataDir: e.DataDir, Agents: e.Agents,
		Commands: e.commands, Log: e.log, Now: e.Clock.Now, Hostname: "muster-test", Version: api.Version})
	if err != nil {
		cancel()
		e.t.Fatalf("start the agent daemons: %v", err)
	}
	e.daemons.Store(d)
	e.t.Cleanup(func() {
		e.daemons.Store(nil)
		cancel()
		d.Close()
	})
	return d
}
