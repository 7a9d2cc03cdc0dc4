package agentsim

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/latency"
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

	acks    latency.Window
	mu      sync.Mutex
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
	s.acks.Observe(d)
}

// Latency returns the ACK latency percentiles since the last call and how
// many ACKs they cover, and starts a new window.
func (s *Stats) Latency() (p50, p99, max time.Duration, n int64) { return s.acks.Take() }
