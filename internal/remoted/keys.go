package remoted

import (
	"context"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/core"
)

// missCheckEvery bounds how often a message from an unknown agent makes the
// table ask the registry whether it changed.
const missCheckEvery = 200 * time.Millisecond

// keyTable is the in-memory client.keys: agents by id text ("001") and, for
// single-host IPv4 keys, by address. Entries that did not change keep their
// state (connection, counters, derived cipher) across reloads.
type keyTable struct {
	s *Server

	mu      sync.RWMutex
	byID    map[string]*agentState
	byIP    map[string]*agentState
	version int64
	added   map[string]uint64 // ids added by AddKey, with their generation
	gen     uint64

	reloadMu  sync.Mutex // one reload at a time
	lastCheck time.Time  // last registry version check after a miss (under reloadMu)
}

func newKeyTable(s *Server) *keyTable {
	return &keyTable{s: s, byID: map[string]*agentState{}, byIP: map[string]*agentState{}, added: map[string]uint64{}}
}

// lookupID returns the agent with this id text, or nil.
func (t *keyTable) lookupID(id string) *agentState {
	t.mu.RLock()
	st := t.byID[id]
	t.mu.RUnlock()
	return st
}

// lookupIP returns the single-host agent registered with this address.
func (t *keyTable) lookupIP(ip string) *agentState {
	t.mu.RLock()
	st := t.byIP[ip]
	t.mu.RUnlock()
	return st
}

// find looks an agent up by id (hasID) or address; on a miss it checks,
// at most every missCheckEvery, whether the registry changed and reloads.
func (t *keyTable) find(ctx context.Context, id string, hasID bool, ip string) *agentState {
	get := func() *agentState {
		if hasID {
			return t.lookupID(id)
		}
		return t.lookupIP(ip)
	}
	if st := get(); st != nil {
		return st
	}
	if !t.refreshAfterMiss(ctx) {
		return nil
	}
	return get()
}

// refreshAfterMiss reloads when the registry version moved; it reports
// whether a reload happened.
func (t *keyTable) refreshAfterMiss(ctx context.Context) bool {
	t.reloadMu.Lock()
	defer t.reloadMu.Unlock()
	if time.Since(t.lastCheck) < missCheckEvery {
		return false
	}
	t.lastCheck = time.Now()
	v, err := t.s.o.Registry.RegistryVersion(ctx)
	t.mu.RLock()
	same := v == t.version
	t.mu.RUnlock()
	if err != nil || same {
		return false
	}
	return t.reloadLocked(ctx) == nil
}

// poll reloads the table whenever the registry version changes.
func (t *keyTable) poll(ctx context.Context) {
	tick := time.NewTicker(t.s.o.KeyPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		v, err := t.s.o.Registry.RegistryVersion(ctx)
		if err != nil {
			if ctx.Err() == nil {
				t.s.log.Warn("remoted: cannot read the registry version", "err", err)
			}
			continue
		}
		t.mu.RLock()
		same := v == t.version
		t.mu.RUnlock()
		if !same {
			if err := t.reload(ctx); err != nil && ctx.Err() == nil {
				t.s.log.Error("remoted: cannot reload the agent keys", "err", err)
			}
		}
	}
}

func (t *keyTable) reload(ctx context.Context) error {
	t.reloadMu.Lock()
	defer t.reloadMu.Unlock()
	return t.reloadLocked(ctx)
}

// reloadLocked rebuilds the table from the registry. Agents added by AddKey
// after the registry was read are kept; agents gone from the registry lose
// their connection.
func (t *keyTable) reloadLocked(ctx context.Context) error {
	t.mu.RLock()
	gen := t.gen
	t.mu.RUnlock()
	entries, version, err := t.s.o.Registry.KeyTable(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]*agentState, len(entries))
	t.mu.RLock()
	for _, e := range entries {
		idText := core.FormatAgentID(e.ID)
		if old := t.byID[idText]; old != nil && old.entry == e {
			byID[idText] = old
			continue
		}
		st, err := newAgentState(e, t.s.o.VerifyMsgID)
		if err != nil {
			t.s.log.Warn("remoted: skipping an invalid key entry", "agent", idText, "err", err)
			continue
		}
		byID[idText] = st
	}
	t.mu.RUnlock()

	t.mu.Lock()
	for id, g := range t.added {
		if g > gen {
			if _, ok := byID[id]; !ok {
				byID[id] = t.byID[id]
			}
		} else {
			delete(t.added, id)
		}
	}
	var gone []*agentState
	for id, old := range t.byID {
		if byID[id] != old {
			gone = append(gone, old)
		}
	}
	t.byID, t.byIP, t.version = byID, indexByIP(byID), version
	t.mu.Unlock()
	for _, st := range gone {
		st.retire()
	}
	return nil
}

// add inserts or replaces one entry, for keys the enrollment daemon has
// just issued.
func (t *keyTable) add(e core.KeyEntry) error {
	st, err := newAgentState(e, t.s.o.VerifyMsgID)
	if err != nil {
		return err
	}
	t.mu.Lock()
	old := t.byID[st.idText]
	t.byID[st.idText] = st
	if old != nil && old.rng.SingleHost() && t.byIP[old.rng.Host()] == old {
		delete(t.byIP, old.rng.Host())
	}
	if st.rng.SingleHost() {
		if _, taken := t.byIP[st.rng.Host()]; !taken {
			t.byIP[st.rng.Host()] = st
		}
	}
	t.gen++
	t.added[st.idText] = t.gen
	t.mu.Unlock()
	if old != nil {
		old.retire()
	}
	return nil
}

// each calls fn for every agent of the table.
func (t *keyTable) each(fn func(*agentState)) {
	t.mu.RLock()
	list := make([]*agentState, 0, len(t.byID))
	for _, st := range t.byID {
		list = append(list, st)
	}
	t.mu.RUnlock()
	for _, st := range list {
		fn(st)
	}
}

// indexByIP indexes the single-host agents by address; when two share one,
// the lower id wins, as the first line of client.keys does.
func indexByIP(byID map[string]*agentState) map[string]*agentState {
	out := map[string]*agentState{}
	for _, st := range byID {
		if !st.rng.SingleHost() {
			continue
		}
		h := st.rng.Host()
		if cur, ok := out[h]; !ok || st.id < cur.id {
			out[h] = st
		}
	}
	return out
}

// AddKey makes a newly enrolled key usable at once, before the next reload.
func (s *Server) AddKey(e core.KeyEntry) {
	if err := s.keys.add(e); err != nil {
		s.log.Warn("remoted: refusing an invalid key entry", "agent", core.FormatAgentID(e.ID), "err", err)
	}
}

// ReloadKeys rereads the key table from the registry now.
func (s *Server) ReloadKeys(ctx context.Context) error { return s.keys.reload(ctx) }
