package remoted

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the server's counters, for tests, logs and benchmarks.
type Stats struct {
	Connections atomic.Int64 // open TCP connections
	Messages    atomic.Int64 // valid messages received
	Keepalives  atomic.Int64
	Dropped     atomic.Int64 // messages or connections dropped as invalid
	Pushes      atomic.Int64 // merged.mg transfers sent
	Flushes     atomic.Int64 // registry batches written

	mu   sync.Mutex
	acks hist // from a keepalive's last byte read to its ACK written
}

// Stats returns the server's counters.
func (s *Server) Stats() *Stats { return &s.stats }

// AckLatency returns the percentiles of the time the server took to answer
// keepalives (reading, queueing, decrypting, sealing and writing the ACK)
// since the last call, and how many they cover.
func (st *Stats) AckLatency() (p50, p99, max time.Duration, n int64) {
	st.mu.Lock()
	h := st.acks
	st.acks = hist{}
	st.mu.Unlock()
	return h.quantile(0.5), h.quantile(0.99), h.max, h.n
}

func (st *Stats) observeAck(d time.Duration) {
	st.mu.Lock()
	st.acks.add(d)
	st.mu.Unlock()
}

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
			"keepalives", st.Keepalives.Load(), "dropped", st.Dropped.Load(), "pushes", st.Pushes.Load(),
			"ack_p50", p50, "ack_p99", p99, "ack_max", mx, "acks", n)
	}
}

// hist is a log-scale latency histogram: 16 buckets per power of two of
// microseconds, so quantiles are within about 4%.
type hist struct {
	counts [40 * 16]int64
	n      int64
	max    time.Duration
}

func (h *hist) add(d time.Duration) {
	b := 0
	if us := float64(d) / float64(time.Microsecond); us >= 1 {
		b = min(int(math.Log2(us)*16), len(h.counts)-1)
	}
	h.counts[b]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(time.Duration(math.Exp2(float64(i+1)/16)*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}
