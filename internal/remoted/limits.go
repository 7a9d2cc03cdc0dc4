package remoted

import (
	"cmp"
	"context"
	"errors"
	"net"
	"slices"
	"time"

	"github.com/muster-project/muster/internal/connlimit"
)

// Eviction of silent connections near the cap. Above nearFullPct % of
// MaxConnections, connections that no agent key vouched for and that are
// older than SilentGrace are closed, oldest first, until lowWaterPct % of
// the cap is left held: a flood of idle connections then costs each of them
// a few seconds instead of FirstMessageTimeout, and agents find room.
const (
	nearFullPct = 90
	lowWaterPct = 80
	// evictEvery is how often the cap is checked; a refusal for the full
	// cap checks at once, at most every evictMinGap.
	evictEvery  = time.Second
	evictMinGap = 100 * time.Millisecond
)

// limits sets the connection caps from the options: 0 takes the default,
// negative is no cap.
func (s *Server) limits() {
	o := &s.o
	share := connlimit.ProcessShares()
	switch {
	case o.MaxConnections == 0:
		o.MaxConnections = share.Remote
	case o.MaxConnections > share.Remote:
		s.log.Warn("remoted: max_connections is above the agent port's share of the file limit: "+
			"a flood of connections may leave the API and enrollment without descriptors",
			"max_connections", o.MaxConnections, "share", share.Remote, "file_limit", share.Limit)
	}
	if o.MaxConnectionsPerIP == 0 {
		o.MaxConnectionsPerIP = connlimit.RemotePerAddr
	}
	s.lim = connlimit.New(o.MaxConnections, o.MaxConnectionsPerIP)
	s.kick = make(chan struct{}, 1)
}

// Limits returns the figures of the connection caps.
func (s *Server) Limits() connlimit.Stats { return s.lim.Stats() }

// refuse closes a connection over a cap, counts it and logs it
// (rate-limited); a full cap wakes the eviction of silent connections.
// It counts before closing, so a peer that sees the close sees the count.
func (s *Server) refuse(c net.Conn, src string, err error) {
	s.stats.Dropped.Add(1)
	s.stats.Refused.Add(1)
	if t, ok := c.(*net.TCPConn); ok {
		t.SetLinger(0)
	}
	c.Close()
	if errors.Is(err, connlimit.ErrFull) {
		s.warn("remoted: connection limit reached, refusing a connection", "src", src,
			"max_connections", s.o.MaxConnections)
		select {
		case s.kick <- struct{}{}:
		default:
		}
		return
	}
	s.warn("remoted: too many connections from one address without an agent key, refusing a connection",
		"src", src, "max_connections_per_ip", s.o.MaxConnectionsPerIP)
}

// evictLoop evicts silent connections every evictEvery, and when a
// connection was refused for the full cap.
func (s *Server) evictLoop(ctx context.Context) {
	t := time.NewTicker(evictEvery)
	defer t.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
			if d := time.Since(last); d < evictMinGap {
				select {
				case <-ctx.Done():
					return
				case <-time.After(evictMinGap - d):
				}
			}
		}
		last = time.Now()
		s.evictSilent(s.o.Clock())
	}
}

// evictSilent closes silent connections when the cap is near (see
// nearFullPct) and returns how many it closed.
func (s *Server) evictSilent(now time.Time) int {
	if !s.lim.Above(nearFullPct) {
		return 0
	}
	limit := now.Add(-s.o.SilentGrace).UnixNano()
	s.mu.Lock()
	var silent []*tcpConn
	for tc := range s.conns {
		if !tc.trusted.Load() && tc.accepted < limit {
			silent = append(silent, tc)
		}
	}
	s.mu.Unlock()
	excess := s.lim.Open() - s.o.MaxConnections*lowWaterPct/100
	if excess <= 0 || len(silent) == 0 {
		return 0
	}
	slices.SortFunc(silent, func(a, b *tcpConn) int { return cmp.Compare(a.accepted, b.accepted) })
	n := 0
	for _, tc := range silent[:min(excess, len(silent))] {
		if !tc.closed.Load() {
			s.stats.Evicted.Add(1) // before the close, which a peer sees
			tc.close()
			n++
		}
	}
	s.warn("remoted: near the connection limit, closed connections that sent no agent message",
		"closed", n, "open", s.lim.Open(), "max_connections", s.o.MaxConnections, "grace", s.o.SilentGrace)
	return n
}
