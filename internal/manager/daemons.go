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
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/authd"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/oplog"
	"github.com/muster-project/muster/internal/remoted"
)

// AgentCommander forwards the registry's commands (restart, reconnect) to
// the secure channel once it runs; until then every agent is unreachable.
// The registry is built before the channel, which needs it, so the
// registry gets this forwarder.
type AgentCommander struct {
	srv atomic.Pointer[remoted.Server]
}

// Send implements core.AgentCommander.
func (c *AgentCommander) Send(ctx context.Context, agentID int, command string) error {
	if s := c.srv.Load(); s != nil {
		return s.Send(ctx, agentID, command)
	}
	return remoted.ErrNotConnected
}

// AgentRequest implements core.AgentRequester. Every request goes to this
// node's secure channel; r.Node is where node-to-node routing will pick
// the node the agent is connected to.
func (c *AgentCommander) AgentRequest(ctx context.Context, r core.AgentRequest) (string, error) {
	if s := c.srv.Load(); s != nil {
		return s.AgentRequest(ctx, r.AgentID, r.Component, r.Command)
	}
	return remoted.ReplySendError, nil
}

// AgentChannelStats implements core.AgentRequester (local node only, as above).
func (c *AgentCommander) AgentChannelStats(_ context.Context, _ string, ids []int) ([]core.AgentChannelStats, error) {
	if s := c.srv.Load(); s != nil {
		return s.AgentChannelStats(ids), nil
	}
	return nil, nil
}

// Set points the forwarder at a running secure channel.
func (c *AgentCommander) Set(s *remoted.Server) { c.srv.Store(s) }

// Daemons are the agent-facing servers: enrollment (1515) and the secure
// channel (1514), with their listeners.
type Daemons struct {
	Remote *remoted.Server // nil when remote.enabled is off
	Auth   *authd.Server   // nil when auth.disabled is on
	// Addrs are the listening addresses: "auth", "remote/tcp", "remote/udp".
	Addrs map[string]net.Addr
	wg    sync.WaitGroup
}

// DaemonOptions select what StartDaemons builds.
type DaemonOptions struct {
	Config   config.Config
	DataDir  string
	Agents   *core.Agents
	Commands *AgentCommander // may be nil
	Log      *slog.Logger
	Now      func() time.Time
	Hostname string // the manager's name; os.Hostname when empty
	Version  string // the manager's Wazuh version, "4.14.7"
}

// StartDaemons starts the secure channel and the enrollment daemon as the
// configuration says; Close stops them.
func StartDaemons(ctx context.Context, o DaemonOptions) (*Daemons, error) {
	d := &Daemons{Addrs: map[string]net.Addr{}}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	rc, ac := o.Config.Remote, o.Config.Auth
	version := "v" + o.Version
	etc := filepath.Join(o.DataDir, "etc")
	if err := os.MkdirAll(etc, 0o700); err != nil {
		return nil, err
	}
	if rc.Enabled {
		overtake := time.Duration(rc.ConnectionOvertakeTime) * time.Second
		if overtake == 0 {
			overtake = -1 // 0 means never take over
		}
		rlog := o.Log.With(oplog.DaemonKey, "wazuh-remoted")
		srv := remoted.New(remoted.Options{Registry: o.Agents, Shared: o.Agents, Log: rlog, Now: o.Now,
			ManagerVersion: version, AllowHigherVersions: bool(rc.AllowHigherVersions), ManagerHost: o.Hostname,
			VerifyMsgID: bool(rc.VerifyMsgID), ConnectionOvertake: overtake,
			DisconnectionTime: time.Duration(o.Config.Manager.AgentsDisconnectionTime) * time.Second,
			FlushInterval:     time.Duration(rc.FlushInterval) * time.Second,
			KeyPoll:           time.Duration(rc.KeysPollInterval) * time.Second,
			SharedReload:      time.Duration(rc.SharedReload) * time.Second,
			MaxConnections:    rc.MaxConnections, MaxConnectionsPerIP: rc.MaxConnectionsPerIP})
		if err := srv.Start(ctx); err != nil {
			return nil, fmt.Errorf("secure channel: %w", err)
		}
		for _, proto := range rc.Protocol {
			network, addr := listenAddr(proto, rc.LocalIP, bool(rc.IPv6), rc.Port)
			if err := d.serveRemote(srv, network, addr, rlog); err != nil {
				srv.Close()
				return nil, err
			}
		}
		d.Remote = srv
		if o.Commands != nil {
			o.Commands.Set(srv)
		}
	}
	if !ac.Disabled {
		if err := d.startAuth(o, etc, version); err != nil {
			d.Close()
			return nil, err
		}
	}
	go func() {
		<-ctx.Done()
		d.Close()
	}()
	return d, nil
}

// listenAddr is the network and address a daemon listens on. Without a
// local_ip it is every IPv4 address ("tcp4"/"udp4": Go's "tcp" on 0.0.0.0
// would take IPv6 connections too), or every address of both families when
// ipv6 is on, as in Wazuh. A set local_ip is used as given.
func listenAddr(proto, localIP string, ipv6 bool, port int) (network, addr string) {
	switch {
	case localIP != "":
		return proto, net.JoinHostPort(localIP, strconv.Itoa(port))
	case ipv6:
		return proto, net.JoinHostPort("", strconv.Itoa(port))
	default:
		return proto + "4", net.JoinHostPort("0.0.0.0", strconv.Itoa(port))
	}
}

func (d *Daemons) serveRemote(srv *remoted.Server, network, addr string, log *slog.Logger) error {
	switch strings.TrimSuffix(network, "4") {
	case "tcp":
		ln, err := net.Listen(network, addr)
		if err != nil {
			return fmt.Errorf("secure channel: cannot listen on tcp %s: %w", addr, err)
		}
		d.Addrs["remote/tcp"] = ln.Addr()
		log.Info("secure channel listening", "protocol", "tcp", "addr", ln.Addr().String())
		d.serve(func() error { return srv.ServeTCP(ln) })
	case "udp":
		ua, err := net.ResolveUDPAddr(network, addr)
		if err != nil {
			return err
		}
		pc, err := net.ListenUDP(network, ua)
		if err != nil {
			return fmt.Errorf("secure channel: cannot listen on udp %s: %w", addr, err)
		}
		d.Addrs["remote/udp"] = pc.LocalAddr()
		log.Info("secure channel listening", "protocol", "udp", "addr", pc.LocalAddr().String())
		d.serve(func() error { return srv.ServeUDP(pc) })
	}
	return nil
}

func (d *Daemons) startAuth(o DaemonOptions, etc, version string) error {
	ac := o.Config.Auth
	o.Log = o.Log.With(oplog.DaemonKey, "wazuh-authd")
	tlsCfg, err := authd.TLSConfig(authd.TLSFiles{Cert: inDir(etc, ac.SSLManagerCert), Key: inDir(etc, ac.SSLManagerKey),
		AgentCA: ac.SSLAgentCA}, o.Log)
	if err != nil {
		return err
	}
	var password string
	if ac.UsePassword {
		if password, err = authd.LoadPassword(inDir(etc, ac.PasswordFile), o.Log); err != nil {
			return err
		}
	}
	force := core.ForceRules{Enabled: bool(ac.Force.Enabled), DisconnectedTime: bool(ac.Force.DisconnectedTime.Enabled),
		DisconnectedFor: int64(ac.Force.DisconnectedTime.Value), AfterRegistrationFor: int64(ac.Force.AfterRegistrationTime)}
	opts := authd.Options{Registry: o.Agents, TLS: tlsCfg, Password: password, UseSourceIP: bool(ac.UseSourceIP),
		ManagerVersion: version, AllowHigherVersions: bool(o.Config.Remote.AllowHigherVersions), Hostname: o.Hostname,
		Force: force, KeyMismatch: bool(ac.Force.KeyMismatch), VerifyHost: bool(ac.SSLVerifyHost) && ac.SSLAgentCA != "",
		Log: o.Log, MaxConcurrent: ac.MaxConnections, MaxPerIP: ac.MaxConnectionsPerIP}
	if d.Remote != nil {
		opts.OnEnroll = d.Remote.AddKey
	}
	srv := authd.New(opts)
	ln, err := net.Listen(listenAddr("tcp", o.Config.Remote.LocalIP, bool(o.Config.Remote.IPv6), ac.Port))
	if err != nil {
		return fmt.Errorf("enrollment: cannot listen on port %d: %w", ac.Port, err)
	}
	d.Addrs["auth"] = ln.Addr()
	o.Log.Info("enrollment daemon listening", "addr", ln.Addr().String(), "password", bool(ac.UsePassword))
	d.Auth = srv
	d.serve(func() error { return srv.Serve(ln) })
	return nil
}

func (d *Daemons) serve(fn func() error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		fn()
	}()
}

// Close stops both daemons and waits for them; pending connection
// changes are written first.
func (d *Daemons) Close() error {
	var errs []error
	if d.Auth != nil {
		errs = append(errs, d.Auth.Close())
	}
	if d.Remote != nil {
		errs = append(errs, d.Remote.Close())
	}
	d.wg.Wait()
	return errors.Join(errs...)
}

// inDir resolves a relative file name in dir.
func inDir(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(dir, name)
}
