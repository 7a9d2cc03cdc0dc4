package remoted

import (
	"context"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// Kinds of pending state changes.
const (
	updStartup   = iota + 1 // pending
	updKeepalive            // active, with the keepalive's data
	updShutdown             // disconnected, status code 3
	updRefused              // startup refused: status code 1 or 2, version
)

// update is the latest state change of one agent waiting for the next
// flush; a newer one replaces it, as remoted's indexed queue does.
type update struct {
	st      *agentState
	kind    int
	now     int64
	ka      agentproto.Keepalive
	digest  uint64
	src     string
	code    int
	version string
}

func (s *Server) enqueue(u update) {
	s.pmu.Lock()
	s.pending[u.st.id] = u
	s.pmu.Unlock()
}

// flushLoop writes the pending changes every FlushInterval.
func (s *Server) flushLoop(ctx context.Context) {
	t := time.NewTicker(s.o.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.flush(ctx)
		}
	}
}

// Flush writes the pending state changes now (tests, shutdown).
func (s *Server) Flush(ctx context.Context) { s.flush(ctx) }

// flush takes the pending changes, reads the groups of the agents that
// kept alive, decides group_config_status and the merged.mg pushes, and
// writes everything in one registry batch.
func (s *Server) flush(ctx context.Context) {
	s.flushMu.Lock() // one flush at a time: Flush may run beside the loop
	defer s.flushMu.Unlock()
	s.pmu.Lock()
	if len(s.pending) == 0 {
		s.pmu.Unlock()
		return
	}
	batch := s.pending
	s.pending = make(map[int]update, len(batch))
	s.pmu.Unlock()

	var groups map[int][]string
	if s.o.Shared != nil {
		var ids []int
		for id, u := range batch {
			if u.kind == updKeepalive {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			var err error
			if groups, err = s.o.Registry.SyncGroups(ctx, ids); err != nil {
				s.log.Error("remoted: cannot read the agents' groups", "err", err)
			}
		}
	}
	us := make([]core.ConnUpdate, 0, len(batch))
	var wrote []*update
	for _, u := range batch {
		cu := core.ConnUpdate{Keepalive: core.Keepalive{ID: u.st.id, Now: u.now}}
		switch u.kind {
		case updStartup:
			cu.Status = core.AgentPending
		case updShutdown:
			cu.Status, cu.StatusCode = core.AgentDisconnected, core.StatusCodeShutdown
		case updRefused:
			cu.StatusCode = u.code
			if u.version != "" {
				cu.Version = core.Some("Wazuh " + u.version)
			}
		case updKeepalive:
			s.keepaliveUpdate(&cu, &u, groups)
			if cu.Full {
				uu := u
				wrote = append(wrote, &uu)
			}
		}
		us = append(us, cu)
	}
	if err := s.o.Registry.UpdateConnections(ctx, us); err != nil {
		if ctx.Err() == nil {
			s.log.Error("remoted: cannot record the agents' connections", "agents", len(us), "err", err)
		}
		return
	}
	for _, u := range wrote {
		u.st.written = u.digest
	}
	s.stats.Flushes.Add(1)
}

// keepaliveUpdate fills an active update from a keepalive: the data is
// written again only when the keepalive text or the sync state changed;
// a push is queued when the agent's merged.mg differs from its group's.
func (s *Server) keepaliveUpdate(cu *core.ConnUpdate, u *update, groups map[int][]string) {
	cu.Status = core.AgentActive
	ka := &u.ka
	gcs := core.ConfigSynced
	if s.o.Shared != nil {
		if gs, ok := groups[u.st.id]; ok && len(gs) > 0 {
			if f := s.shared.get(gs); f != nil && f.sum != ka.MergedSum {
				gcs = core.ConfigNotSynced
				s.queuePush(u.st, f)
			}
		}
	}
	ip := ka.AgentIP
	if ip == "" {
		ip = u.src
	}
	d := u.digest ^ digest([]byte(gcs+"|"+ip))
	u.digest = d
	if d == u.st.written {
		return
	}
	cu.Full = true
	cu.GroupConfigStatus = gcs
	cu.IP = core.Some(ip)
	cu.Manager = optional(s.o.ManagerHost)
	cu.Version = optional(ka.Version)
	cu.ConfigSum = optional(ka.ConfigSum)
	cu.MergedSum = optional(ka.MergedSum)
	o := &ka.OS
	cu.OS = core.AgentOS{Arch: optional(o.Arch), Build: optional(o.Build), Codename: optional(o.Codename),
		Major: optional(o.Major), Minor: optional(o.Minor), Name: optional(o.Name), Platform: optional(o.Platform),
		Uname: optional(o.Uname), Version: optional(o.Version)}
	if v := versionPrefix(ka.Version); v != "" {
		u.st.mu.Lock()
		u.st.version = v
		u.st.mu.Unlock()
	}
}

// optional is NULL for an empty string, as wazuh-db stores absent fields.
func optional(s string) core.Null[string] {
	if s == "" {
		return core.Null[string]{}
	}
	return core.Some(s)
}
