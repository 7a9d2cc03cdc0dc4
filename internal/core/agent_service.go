package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/groupfs"
)

// AgentsOptions configures the agent registry.
type AgentsOptions struct {
	Store AgentStore
	Now   func() time.Time
	Log   *slog.Logger
	// DataDir holds WAZUH_HOME's layout: etc/client.keys and etc/shared.
	DataDir string
	// NodeName is this manager's cluster node name (node_name of agents it serves).
	NodeName string
	// Hostname is the manager's host name: agent 000's name, refused to agents.
	Hostname string
	// Version is the Wazuh version the manager reports ("4.14.7").
	Version string
	// DisconnectionTime is agents_disconnection_time: without a keepalive for
	// that long an active agent becomes disconnected.
	DisconnectionTime time.Duration
	// Commands delivers commands to connected agents; nil until a secure
	// channel exists, and then every agent is unreachable (1707).
	Commands AgentCommander
	// PollRegistry, when positive, re-reads client.keys from the store at
	// this interval if another node changed it (shared PostgreSQL).
	PollRegistry time.Duration
	// PollGroups, when positive, checks the store's group version at this
	// interval and takes in other nodes' group changes, so the secure
	// channel pushes them (API reads check it themselves).
	PollGroups time.Duration
}

// AgentCommander sends a command (restart, reconnect) to a connected agent.
type AgentCommander interface {
	Send(ctx context.Context, agentID int, command string) error
}

// Agents is the agent registry: enrollment, queries, groups and their files,
// kept in step with client.keys and the shared directory.
type Agents struct {
	store    AgentStore
	now      func() time.Time
	log      *slog.Logger
	node     string
	hostname string
	version  string
	disc     atomic.Int64 // agents_disconnection_time, as a time.Duration
	commands AgentCommander
	poll     time.Duration
	dataDir  string
	shared   *groupfs.Dir
	groups   groupSync
	pollG    time.Duration
	keys     *keysFile
	enrollQ  chan *enrollReq
	started  atomic.Bool
	// sweepGate, when set, says whether this node runs the fleet-wide
	// disconnection sweep (only the cluster's master does).
	sweepGate atomic.Pointer[func() bool]
}

// NewAgents returns the registry; call Start before use.
func NewAgents(o AgentsOptions) *Agents {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.NodeName == "" {
		o.NodeName = "node01"
	}
	if o.Version == "" {
		o.Version = "4.14.7"
	}
	if o.DisconnectionTime <= 0 {
		o.DisconnectionTime = 900 * time.Second
	}
	a := &Agents{store: o.Store, now: o.Now, log: o.Log, node: o.NodeName, hostname: o.Hostname,
		version: o.Version, commands: o.Commands, poll: o.PollRegistry,
		pollG: o.PollGroups, dataDir: o.DataDir,
		keys:    newKeysFile(filepath.Join(o.DataDir, "etc", "client.keys"), o.Store, o.Log),
		enrollQ: make(chan *enrollReq, 1024)}
	a.disc.Store(int64(o.DisconnectionTime))
	return a
}

// resetGrace is how recent a keepalive keeps an agent from the reset at a
// node's start: longer than an agent takes to reach another node and that
// node's secure channel to write it (its flush interval).
const resetGrace = 10 * time.Second

// DisconnectionTime is agents_disconnection_time.
func (a *Agents) DisconnectionTime() time.Duration { return time.Duration(a.disc.Load()) }

// SetDisconnectionTime changes agents_disconnection_time (a manager
// restart applying an uploaded ossec.conf): the next sweep uses it.
func (a *Agents) SetDisconnectionTime(d time.Duration) {
	if d > 0 {
		a.disc.Store(int64(d))
	}
}

// SetSweepGate makes the background disconnection sweep run only while
// gate returns true: on a cluster, the sweep is fleet-wide work that the
// master alone does. nil runs it always (a single node).
func (a *Agents) SetSweepGate(gate func() bool) {
	if gate == nil {
		a.sweepGate.Store(nil)
		return
	}
	a.sweepGate.Store(&gate)
}

func (a *Agents) sweeps() bool {
	g := a.sweepGate.Load()
	return g == nil || (*g)()
}

// sweepEvery is how often the disconnection sweep runs: a tenth of the
// time, between a second and a minute.
func sweepEvery(disc time.Duration) time.Duration { return min(max(disc/10, time.Second), time.Minute) }

// KeysPath is the client.keys file the registry keeps.
func (a *Agents) KeysPath() string { return a.keys.path }

// SharedDir is the groups' directory (etc/shared).
func (a *Agents) SharedDir() *groupfs.Dir { return a.shared }

// ManagerVersion is agent 000's version string, "Wazuh v4.14.7".
func (a *Agents) ManagerVersion() string { return "Wazuh v" + a.version }

// Start prepares the store, agent 000, the shared directory and client.keys,
// then runs the background work (enrollment writer, disconnection sweep,
// merged.mg refresh) until ctx ends.
func (a *Agents) Start(ctx context.Context) error {
	if err := a.store.InitAgents(ctx); err != nil {
		return err
	}
	if err := a.putManager(ctx); err != nil {
		return fmt.Errorf("agent 000: %w", err)
	}
	shared, err := groupfs.Open(filepath.Join(a.dataDir, "etc", "shared"))
	if err != nil {
		return err
	}
	shared.SetMultigroupRoot(filepath.Join(a.dataDir, "var", "multigroups"))
	a.shared = shared
	if err := a.startGroupSync(ctx); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	if err := a.syncGroups(ctx); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	a.RefreshShared(ctx)
	// A starting manager has no connection yet: what was active on this
	// node is disconnected, as remoted does when it starts; but not what
	// kept alive within resetGrace, which may have moved to another node of
	// the store while this one restarted (the other node's write of it may
	// still be on its way). What does not come back is swept later.
	now := a.now().Unix()
	if n, err := a.store.ResetAgents(ctx, a.node, now-int64(resetGrace/time.Second), now); err != nil {
		return err
	} else if n > 0 {
		a.log.Info("agents reset to disconnected at start", "count", n)
	}
	if err := a.keys.rewrite(ctx); err != nil {
		return fmt.Errorf("client.keys: %w", err)
	}
	a.started.Store(true)
	go a.keys.runSyncer(ctx)
	go a.runEnroller(ctx)
	go a.runBackground(ctx)
	return nil
}

// runBackground sweeps disconnected agents, refreshes merged.mg files and,
// with a shared database, follows other nodes' changes to client.keys.
func (a *Agents) runBackground(ctx context.Context) {
	every := sweepEvery(a.DisconnectionTime())
	sweep := time.NewTicker(every)
	defer sweep.Stop()
	shared := time.NewTicker(10 * time.Second)
	defer shared.Stop()
	var poll <-chan time.Time
	if a.poll > 0 {
		t := time.NewTicker(a.poll)
		defer t.Stop()
		poll = t.C
	}
	var pollGroups <-chan time.Time
	if a.pollG > 0 && a.groups.store != nil {
		t := time.NewTicker(a.pollG)
		defer t.Stop()
		pollGroups = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			if !a.sweeps() {
				break
			}
			if _, err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("agent disconnection sweep failed", "err", err)
			}
			if e := sweepEvery(a.DisconnectionTime()); e != every {
				every = e
				sweep.Reset(every)
			}
		case <-shared.C:
			a.RefreshShared(ctx)
		case <-pollGroups:
			if err := a.FollowGroups(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("groups: cannot follow the store", "err", err)
			}
		case <-poll:
			if err := a.keys.follow(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("client.keys refresh failed", "err", err)
			}
		}
	}
}

// RefreshShared writes the groups' files changed on disk to the store and
// takes in the store's, then rebuilds the merged.mg files of every group and
// multi-group whose content changed, as remoted does every 10 seconds.
func (a *Agents) RefreshShared(ctx context.Context) {
	if err := a.ScanShared(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("groups: sync with the store failed", "err", err)
	}
	if _, err := a.shared.RefreshAll(); err != nil {
		a.log.Warn("merged.mg refresh failed", "err", err)
	}
	if err := a.refreshMultigroups(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("multi-group merged.mg refresh failed", "err", err)
	}
}

// Sweep marks active and pending agents without a keepalive for
// agents_disconnection_time as disconnected (status code 4), as
// wazuh-monitord does; it returns how many changed.
func (a *Agents) Sweep(ctx context.Context) (int, error) {
	now := a.now().Unix()
	return a.store.SweepAgents(ctx, now-int64(a.DisconnectionTime()/time.Second), now)
}

// SyncKeys rewrites client.keys from the store, for callers that changed
// the registry behind the service (imports, seeding, tests).
func (a *Agents) SyncKeys(ctx context.Context) error { return a.keys.rewrite(ctx) }

// Keepalive records a control message from an agent (for the secure channel).
func (a *Agents) Keepalive(ctx context.Context, k Keepalive) error {
	if k.Now == 0 {
		k.Now = a.now().Unix()
	}
	if k.NodeName == "" {
		k.NodeName = a.node
	}
	return a.store.RecordKeepalive(ctx, k)
}

// putManager writes agent 000 from what the host says about itself,
// keeping its registration date.
func (a *Agents) putManager(ctx context.Context) error {
	now := a.now().Unix()
	m := Agent{ID: 0, Name: a.hostname, IP: Some("127.0.0.1"), RegisterIP: Some("127.0.0.1"),
		OS: hostOS(a.hostname), Version: Some(a.ManagerVersion()), Manager: Some(a.hostname),
		NodeName: Some(a.node), DateAdd: now, LastKeepAlive: Some(ManagerKeepalive), Status: AgentActive,
		GroupConfigStatus: ConfigSynced}
	if old, err := a.store.GetAgents(ctx, []int{0}); err != nil {
		return err
	} else if len(old) == 1 {
		m.DateAdd = old[0].DateAdd
	}
	if m.Name == "" {
		m.Name = "localhost"
	}
	return a.store.PutAgents(ctx, []Agent{m})
}

// syncGroups makes the store's group table (membership) and the groups
// agree: every group has a row, and a row without a group gets one.
func (a *Agents) syncGroups(ctx context.Context) error {
	dirs, err := a.shared.List()
	if err != nil {
		return err
	}
	if err := a.store.CreateGroups(ctx, dirs); err != nil {
		return err
	}
	rows, err := a.store.Groups(ctx, nil)
	if err != nil {
		return err
	}
	var errs []error
	for name := range rows {
		if !a.shared.Exists(name) && groupfs.ValidGroupName(name) {
			_, err := a.createGroup(ctx, name)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// GroupHash is the 8-hex multigroup hash Wazuh derives from a group list.
func GroupHash(groups []string) string { return groupfs.MultigroupHash(groups) }
