package manager

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/config"
)

// lifecycle runs the parts of a node that PUT /manager/restart restarts:
// the agent daemons (remoted, authd), with the registry's disconnection
// time. The API, the store and the agent registry keep running, so agents'
// keys and data are untouched and the API keeps answering.
type lifecycle struct {
	ctx     context.Context
	base    config.Config // server.yaml and flags; the stored ossec.conf goes over it
	dataDir string
	opts    DaemonOptions // Config is replaced at each start
	log     *slog.Logger
	ready   func(*Daemons)

	mu      sync.Mutex // one restart at a time
	running atomic.Pointer[config.Config]
	daemons atomic.Pointer[Daemons]
}

// start runs the daemons with cfg, and gives the registry's disconnection
// sweep (wazuh-monitord's part) its agents_disconnection_time.
func (l *lifecycle) start(cfg config.Config) error {
	o := l.opts
	o.Config = cfg
	d, err := StartDaemons(l.ctx, o)
	if err != nil {
		return err
	}
	l.daemons.Store(d)
	l.running.Store(&cfg)
	if o.Agents != nil {
		o.Agents.SetDisconnectionTime(time.Duration(cfg.Manager.AgentsDisconnectionTime) * time.Second)
	}
	if l.ready != nil {
		l.ready(d)
	}
	return nil
}

// stop ends the daemons (pending connection changes are written).
func (l *lifecycle) stop() {
	if l.opts.Commands != nil {
		l.opts.Commands.Set(nil)
	}
	if d := l.daemons.Swap(nil); d != nil {
		d.Close()
	}
}

// settings are those the daemons run with.
func (l *lifecycle) settings() config.Config {
	if c := l.running.Load(); c != nil {
		return *c
	}
	return l.base
}

// Restart checks the stored configuration and, when it is valid,
// restarts the daemons with it in the background, as Wazuh answers the
// request before restarting. An invalid configuration is refused and
// nothing stops.
func (l *lifecycle) Restart() error {
	next, _, err := config.Layered(l.base, l.dataDir)
	if err != nil {
		l.log.Error("restart refused: the stored configuration is invalid", "err", err)
		return err
	}
	go l.restart(next)
	return nil
}

func (l *lifecycle) restart(next config.Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.Err() != nil {
		return
	}
	prev := l.settings()
	old := l.daemons.Load()
	next = keepPorts(next, old)
	if changed := config.Changed(prev, next); len(changed) > 0 {
		l.log.Info("restarting the daemons", "applying", strings.Join(changed, ","))
	} else {
		l.log.Info("restarting the daemons")
	}
	if next.Manager.NodeName != prev.Manager.NodeName {
		l.log.Warn("cluster node_name changes when the process restarts, not with PUT /manager/restart",
			"running", prev.Manager.NodeName, "stored", next.Manager.NodeName)
		next.Manager.NodeName = prev.Manager.NodeName
	}
	l.stop()
	if err := l.start(next); err != nil {
		// Back to what ran, so agents keep a channel to reconnect to.
		l.log.Error("restart failed, starting the previous configuration again", "err", err)
		if err := l.start(keepPorts(prev, old)); err != nil {
			l.log.Error("the daemons could not be started again", "err", err)
		}
		return
	}
	l.log.Info("daemons restarted")
}

// keepPorts gives a port 0 (any free one) the port the previous daemons
// had, so that agents find the channel again after a restart.
func keepPorts(c config.Config, d *Daemons) config.Config {
	if d == nil {
		return c
	}
	port := func(key string) int {
		switch a := d.Addrs[key].(type) {
		case *net.TCPAddr:
			return a.Port
		case *net.UDPAddr:
			return a.Port
		}
		return 0
	}
	if c.Remote.Port == 0 {
		if p := port("remote/tcp"); p != 0 {
			c.Remote.Port = p
		} else {
			c.Remote.Port = port("remote/udp")
		}
	}
	if c.Auth.Port == 0 {
		c.Auth.Port = port("auth")
	}
	return c
}
