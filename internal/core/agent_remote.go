package core

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/muster-project/muster/internal/agentql"
)

// This file holds what the agent daemons (the 1515 enrollment server and
// the 1514 secure channel) need from the registry beyond the API's use
// cases: the key table, batched connection updates, the groups the
// shared-file sync works from, and enrollment with authd's extra rules.

// ConnUpdate is one change of an agent's connection state reported by the
// secure channel. The channel coalesces them and applies a batch at a time
// (UpdateConnections), so 50,000 agents keeping alive every 20 s cost a
// few transactions per second, not 2,500.
//
// By Status:
//
//	active, pending  last_keepalive = Now, disconnection_time = 0, status_code = 0;
//	                 with Full, also the OS, version, sums, address, manager,
//	                 node and group_config_status of Keepalive
//	disconnected     disconnection_time = Now, status_code = StatusCode (3: shutdown)
//	"" (empty)       status_code = StatusCode and version (1 or 2: the startup
//	                 version was refused); the connection status is kept
type ConnUpdate struct {
	Keepalive
	Full       bool
	StatusCode int
}

// ConnUpdater is implemented by stores that apply connection updates in one
// transaction; UpdateConnections falls back to one write per update.
type ConnUpdater interface {
	UpdateAgentConnections(ctx context.Context, us []ConnUpdate) error
}

// RemoteEnrollment is a registration made through the enrollment daemon.
type RemoteEnrollment struct {
	Name    string   // valid agent name
	IP      string   // registration IP: "any", an address or a network
	Groups  []string // existing groups in priority order; nil for none
	KeyHash string   // the K: hash the agent sent, or ""
	Force   ForceRules
	// KeyMismatch is <force><key_mismatch>: an agent whose K: hash matches
	// the existing entry already holds its key, and is not replaced.
	KeyMismatch bool
	// Password checks are the daemon's; nothing else is needed here.
}

// KeyTable returns every agent's client.keys entry and the registry
// version they reflect.
func (a *Agents) KeyTable(ctx context.Context) ([]KeyEntry, int64, error) {
	return a.store.KeyEntries(ctx)
}

// RegistryVersion changes whenever an entry of the key table changes.
func (a *Agents) RegistryVersion(ctx context.Context) (int64, error) {
	return a.store.RegistryVersion(ctx)
}

// GroupExists reports whether a group exists (on the store, when shared).
func (a *Agents) GroupExists(name string) bool {
	return a.shared != nil && a.freshShared(context.Background()).Exists(name)
}

// MergedFile returns the merged.mg an agent of these groups receives,
// built from their files: a group's own, or for several Wazuh's
// multi-group file (the one GET /agents/{id}/group/is_sync compares with).
func (a *Agents) MergedFile(groups []string) ([]byte, error) {
	return a.mergedFile(context.Background(), groups)
}

func (a *Agents) mergedFile(ctx context.Context, groups []string) ([]byte, error) {
	if a.shared == nil {
		return nil, fmt.Errorf("merged.mg of %v: registry not started", groups)
	}
	shared := a.freshShared(ctx)
	a.groups.mu.RLock() // a sync under way may have written part of a group
	defer a.groups.mu.RUnlock()
	return shared.MergedFor(groups)
}

// UpdateConnections applies a batch of connection updates, in one
// transaction when the store can.
func (a *Agents) UpdateConnections(ctx context.Context, us []ConnUpdate) error {
	for i := range us {
		if us[i].NodeName == "" {
			us[i].NodeName = a.node
		}
		if us[i].Now == 0 {
			us[i].Now = a.now().Unix()
		}
	}
	if cu, ok := a.store.(ConnUpdater); ok {
		return cu.UpdateAgentConnections(ctx, us)
	}
	for _, u := range us {
		if u.Status != AgentActive && u.Status != AgentPending {
			continue // the plain store keeps only keepalives
		}
		if err := a.store.RecordKeepalive(ctx, u.Keepalive); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// SyncGroups returns the groups of agents for the shared-file sync. Agents
// without a group get the default one, as remoted assigns it on their
// first connection.
func (a *Agents) SyncGroups(ctx context.Context, ids []int) (map[int][]string, error) {
	groups, err := a.store.AgentGroups(ctx, ids)
	if err != nil {
		return nil, err
	}
	var changes []GroupChange
	for id, g := range groups {
		if len(g) == 0 && id > 0 {
			changes = append(changes, GroupChange{ID: id, Groups: []string{DefaultGroup}})
			groups[id] = []string{DefaultGroup}
		}
	}
	if len(changes) > 0 {
		if err := a.store.SetAgentGroups(ctx, changes); err != nil {
			return nil, err
		}
	}
	return groups, nil
}

// EnrollRemote registers an agent for the enrollment daemon: a new id and
// key, its groups, and authd's key-mismatch rule. Refusals are *Error with
// code 1705 (duplicate name) or 1706 (duplicate IP); the daemon words them.
func (a *Agents) EnrollRemote(ctx context.Context, r RemoteEnrollment) (KeyEntry, error) {
	now := a.now().Unix()
	if r.KeyHash != "" && r.KeyMismatch && r.Force.Enabled {
		if err := a.sameKey(ctx, r); err != nil {
			return KeyEntry{}, err
		}
	}
	e := Enrollment{Name: r.Name, IP: r.IP, Key: NewKey(), Force: r.Force, ManagerName: a.hostname, Now: now}
	res, err := a.enroll(ctx, e)
	if err != nil {
		return KeyEntry{}, err
	}
	if len(r.Groups) > 0 {
		if err := a.store.SetAgentGroups(ctx, []GroupChange{{ID: res.ID, Groups: r.Groups}}); err != nil {
			a.log.Error("could not set the groups of an enrolled agent", "agent", FormatAgentID(res.ID), "err", err)
		}
	}
	return KeyEntry{ID: res.ID, Name: r.Name, IP: r.IP, Key: e.Key}, nil
}

// sameKey refuses a request whose K: hash matches the entry it collides
// with (by IP first, then by name): that agent already holds its key.
func (a *Agents) sameKey(ctx context.Context, r RemoteEnrollment) error {
	check := func(field, value string, code int) error {
		list, _, err := a.store.ListAgents(ctx, AgentListQuery{Filter: AgentFilter{NotManager: true,
			Now: a.now(), Cond: agentql.Equals(field, value)}, Fields: FieldID})
		if err != nil || len(list) == 0 {
			return err
		}
		ids := make([]int, len(list))
		for i, ag := range list {
			ids[i] = ag.ID
		}
		full, err := a.store.GetAgents(ctx, ids)
		if err != nil {
			return err
		}
		for _, ag := range full {
			if ag.Name == value || (ag.RegisterIP.Valid && ag.RegisterIP.V == value) {
				if remoteKeyHash(ag.ID, ag.Name, ag.Key) == r.KeyHash {
					return Ef(code, "%s", value)
				}
			}
		}
		return nil
	}
	if r.IP != "" && r.IP != "any" {
		if err := check("registerIP", r.IP, 1706); err != nil {
			return err
		}
	}
	return check("name", r.Name, 1705)
}

// RemoveEnrolled deletes an agent the enrollment daemon added but could not
// hand its key to (the reply failed), as authd drops such a key.
func (a *Agents) RemoveEnrolled(ctx context.Context, id int) error {
	if id <= 0 {
		return nil
	}
	if _, err := a.store.DeleteAgents(ctx, []int{id}); err != nil {
		return err
	}
	return a.keys.rewrite(ctx)
}

// remoteKeyHash is the enrollment K: value of a key entry:
// sha1hex(id || name || key), the id printed as client.keys has it.
func remoteKeyHash(id int, name, key string) string {
	sum := sha1.Sum([]byte(FormatAgentID(id) + name + key))
	return hex.EncodeToString(sum[:])
}
