// Package fakereg is an in-memory agent registry for the tests of the agent
// daemons: it implements authd.Registry, remoted.Registry and
// remoted.Shared with the rules of core.Agents that matter to them (ids,
// duplicates and the force rules, groups, connection updates), and lets
// tests inspect and change it.
package fakereg

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// Registry is the fake registry; the zero value is not usable, use New.
type Registry struct {
	mu      sync.Mutex
	now     func() time.Time
	agents  map[int]*core.Agent
	last    int
	version int64
	files   map[string][]byte // group -> merged.mg content
	updates int               // UpdateConnections calls
	// Manager is the manager's host name, refused as an agent name.
	Manager string
}

// New returns a registry with the default group holding a small merged.mg.
func New(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	r := &Registry{now: now, agents: map[int]*core.Agent{}, files: map[string][]byte{}, Manager: "manager"}
	r.SetGroupFile(core.DefaultGroup, "<agent_config>\n</agent_config>\n")
	return r
}

// SetGroupFile creates or changes a group whose only file is agent.conf.
func (r *Registry) SetGroupFile(group, agentConf string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[group] = agentproto.MergedFile(group, []agentproto.SharedFile{{Name: "agent.conf", Data: []byte(agentConf)}})
}

// MergedSum returns the md5 of a group's merged.mg.
func (r *Registry) MergedSum(group string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	pushes, _ := agentproto.FilePush("merged.mg", r.files[group])
	m := agentproto.ParseManagerMessage(pushes[0])
	return m.FileSum
}

// GroupExists implements authd.Registry.
func (r *Registry) GroupExists(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.files[name]
	return ok
}

// MergedFile implements remoted.Shared for one group; the multi-group
// file is core's (groupfs.MergedFor).
func (r *Registry) MergedFile(groups []string) ([]byte, error) {
	if len(groups) != 1 {
		return nil, fmt.Errorf("fakereg: no multi-group files (%v)", groups)
	}
	group := groups[0]
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.files[group]
	if !ok {
		return nil, fmt.Errorf("no group %s", group)
	}
	return slices.Clone(b), nil
}

// Register adds an agent as POST /agents does (never connected, no group).
func (r *Registry) Register(name, ip string) core.KeyEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last++
	a := &core.Agent{ID: r.last, Name: name, RegisterIP: core.Some(ip), Key: core.NewKey(),
		Status: core.AgentNeverConnected, DateAdd: r.now().Unix(), GroupConfigStatus: core.ConfigNotSynced}
	r.agents[a.ID] = a
	r.version++
	return core.KeyEntry{ID: a.ID, Name: a.Name, IP: ip, Key: a.Key}
}

// Delete removes an agent.
func (r *Registry) Delete(id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.agents, id)
	r.version++
}

// SetGroups replaces an agent's groups.
func (r *Registry) SetGroups(id int, groups ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if a := r.agents[id]; a != nil {
		a.Groups = groups
	}
}

// Agent returns a copy of an agent's record.
func (r *Registry) Agent(id int) (core.Agent, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.agents[id]
	if a == nil {
		return core.Agent{}, false
	}
	return *a, true
}

// Len is the number of agents.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.agents)
}

// Snapshot returns every record, for before/after comparisons.
func (r *Registry) Snapshot() map[int]core.Agent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int]core.Agent, len(r.agents))
	for id, a := range r.agents {
		out[id] = *a
	}
	return out
}

// Updates is the number of UpdateConnections batches applied.
func (r *Registry) Updates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updates
}

// KeyTable implements remoted.Registry.
func (r *Registry) KeyTable(ctx context.Context) ([]core.KeyEntry, int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]core.KeyEntry, 0, len(r.agents))
	for _, a := range r.agents {
		out = append(out, core.KeyEntry{ID: a.ID, Name: a.Name, IP: a.RegisterIP.V, Key: a.Key})
	}
	return out, r.version, nil
}

// RegistryVersion implements remoted.Registry.
func (r *Registry) RegistryVersion(ctx context.Context) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.version, nil
}

// UpdateConnections implements remoted.Registry.
func (r *Registry) UpdateConnections(ctx context.Context, us []core.ConnUpdate) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates++
	for _, u := range us {
		a := r.agents[u.ID]
		if a == nil {
			continue
		}
		switch u.Status {
		case core.AgentActive, core.AgentPending:
			a.Status, a.LastKeepAlive, a.DisconnectionTime, a.StatusCode = u.Status, core.Some(u.Now), 0, 0
			if u.Full {
				if u.IP.Valid {
					a.IP = u.IP
				}
				a.OS, a.Version, a.ConfigSum, a.MergedSum = u.OS, u.Version, u.ConfigSum, u.MergedSum
				a.Manager, a.NodeName, a.GroupConfigStatus = u.Manager, core.Some(u.NodeName), u.GroupConfigStatus
			}
		case core.AgentDisconnected:
			a.Status, a.DisconnectionTime, a.StatusCode = core.AgentDisconnected, u.Now, u.StatusCode
		case "":
			a.StatusCode = u.StatusCode
			if u.Version.Valid {
				a.Version = u.Version
			}
		}
	}
	return nil
}

// Sweep disconnects active and pending agents silent for longer than d.
func (r *Registry) Sweep(d time.Duration) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().Unix()
	n := 0
	for _, a := range r.agents {
		if (a.Status == core.AgentActive || a.Status == core.AgentPending) && a.LastKeepAlive.V < now-int64(d/time.Second) {
			a.Status, a.StatusCode, a.DisconnectionTime = core.AgentDisconnected, core.StatusCodeNoKeepalive, now
			n++
		}
	}
	return n
}

// SyncGroups implements remoted.Registry.
func (r *Registry) SyncGroups(ctx context.Context, ids []int) (map[int][]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[int][]string, len(ids))
	for _, id := range ids {
		a := r.agents[id]
		if a == nil {
			continue
		}
		if len(a.Groups) == 0 {
			a.Groups = []string{core.DefaultGroup}
		}
		out[id] = slices.Clone(a.Groups)
	}
	return out, nil
}

// EnrollRemote implements authd.Registry with core's duplicate and force
// rules.
func (r *Registry) EnrollRemote(ctx context.Context, e core.RemoteEnrollment) (core.KeyEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().Unix()
	var replace []int
	check := func(match func(*core.Agent) bool, code int, extra string) error {
		for _, a := range r.agents {
			if !match(a) {
				continue
			}
			if e.KeyHash != "" && e.KeyMismatch && e.Force.Enabled && hash(a) == e.KeyHash {
				return core.Ef(code, "%s", extra)
			}
			if !e.Force.Replaceable(a, now) {
				return core.Ef(code, "%s", extra)
			}
			replace = append(replace, a.ID)
		}
		return nil
	}
	if e.IP != "any" {
		if err := check(func(a *core.Agent) bool { return a.RegisterIP.V == e.IP }, 1706, e.IP); err != nil {
			return core.KeyEntry{}, err
		}
	}
	if err := check(func(a *core.Agent) bool { return a.Name == e.Name }, 1705, e.Name); err != nil {
		return core.KeyEntry{}, err
	}
	for _, id := range replace {
		delete(r.agents, id)
	}
	r.last++
	a := &core.Agent{ID: r.last, Name: e.Name, RegisterIP: core.Some(e.IP), Key: core.NewKey(),
		Status: core.AgentNeverConnected, DateAdd: now, Groups: slices.Clone(e.Groups),
		GroupConfigStatus: core.ConfigNotSynced}
	r.agents[a.ID] = a
	r.version++
	return core.KeyEntry{ID: a.ID, Name: a.Name, IP: e.IP, Key: a.Key}, nil
}

// RemoveEnrolled implements authd.Registry.
func (r *Registry) RemoveEnrolled(ctx context.Context, id int) error {
	r.Delete(id)
	return nil
}

// hash is the enrollment K: hash of an agent's entry.
func hash(a *core.Agent) string {
	sum := sha1.Sum([]byte(core.FormatAgentID(a.ID) + a.Name + a.Key))
	return hex.EncodeToString(sum[:])
}
