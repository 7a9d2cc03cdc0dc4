package remoted

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/latency"
)

// Stats are the server's counters, for tests, logs and benchmarks.
type Stats struct {
	Connections atomic.Int64 // open TCP connections
	Messages    atomic.Int64 // valid messages received
	Keepalives  atomic.Int64
	Dropped     atomic.Int64 // messages or connections dropped as invalid or over a cap
	Refused     atomic.Int64 // connections refused for a connection cap (also in Dropped)
	Evicted     atomic.Int64 // silent connections closed early near the cap
	Pushes      atomic.Int64 // merged.mg transfers sent
	Flushes     atomic.Int64 // registry batches written

	// The breakdown Wazuh's remoted reports (GET /manager/daemons/stats).
	Startups, Shutdowns, Requests, Events, Pings atomic.Int64 // valid messages received, by kind
	Unknown                                      atomic.Int64 // decrypted but not understood
	BytesReceived, BytesSent                     atomic.Int64 // agent payloads, frames included
	SentAcks, SentCommands, SentShared           atomic.Int64 // messages sent (SentShared: file chunks)

	acks latency.Window // from a keepalive's read to its ACK written
}

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// AckLatency returns the percentiles of the time the server took to answer
// keepalives (reading, queueing, decrypting, sealing and writing the ACK)
// since the last call, and how many they cover.
func (st *Stats) AckLatency() (p50, p99, max time.Duration, n int64) { return st.acks.Take() }

func (st *Stats) observeAck(d time.Duration) { st.acks.Observe(d) }

// logStats logs the counters and the ACK latency every StatsEvery.
func (s *Server) logStats(ctx context.Context) {
	if s.o.StatsEvery < 0 {
		return
	}
	t := time.NewTicker(s.o.StatsEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := &s.stats
		p50, p99, mx, n := st.AckLatency()
		s.log.Info("remoted: stats", "connections", st.Connections.Load(), "messages", st.Messages.Load(),
			"keepalives", st.Keepalives.Load(), "dropped", st.Dropped.Load(), "refused", st.Refused.Load(), "evicted", st.Evicted.Load(),
			"pushes", st.Pushes.Load(),
			"ack_p50", p50, "ack_p99", p99, "ack_max", mx, "acks", n)
	}
}
