package agentsim

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the simulator's counters, shared by all its agents.
type Stats struct {
	Enrolled    atomic.Int64
	EnrollFails atomic.Int64
	Connected   atomic.Int64 // agents past their handshake now
	Keepalives  atomic.Int64
	Acks        atomic.Int64
	Files       atomic.Int64 // shared files applied
	Commands    atomic.Int64 // execd, reconnect and request messages received
	Reconnects  atomic.Int64
	Errors      atomic.Int64

	mu      sync.Mutex
	hist    latencyHist
	lastErr string
}

// fail counts an error and keeps its text for the report.
func (s *Stats) fail(err error) {
	s.Errors.Add(1)
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
}

// LastError is the text of the latest error, or "".
func (s *Stats) LastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastErr
}

// NewStats returns zeroed counters.
func NewStats() *Stats { return &Stats{} }

// observe records one keepalive-to-ACK latency.
func (s *Stats) observe(d time.Duration) {
	s.Acks.Add(1)
	s.mu.Lock()
	s.hist.add(d)
	s.mu.Unlock()
}

// Latency returns the ACK latency percentiles since the last call and how
// many ACKs they cover, and starts a new window.
func (s *Stats) Latency() (p50, p99, max time.Duration, n int64) {
	s.mu.Lock()
	h := s.hist
	s.hist = latencyHist{}
	s.mu.Unlock()
	return h.quantile(0.50), h.quantile(0.99), h.max, h.n
}

// latencyHist is a log-scale histogram: 16 buckets per power of two of
// microseconds, so quantiles are within about 4%.
type latencyHist struct {
	counts [40 * 16]int64
	n      int64
	max    time.Duration
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	b := int(math.Log2(us) * 16)
	return min(b, len(latencyHist{}.counts)-1)
}

func (h *latencyHist) add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			us := math.Exp2(float64(i+1) / 16)
			return min(time.Duration(us*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}
