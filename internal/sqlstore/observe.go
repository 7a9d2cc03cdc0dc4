package sqlstore

import (
	"context"
	"sync/atomic"
	"time"
)

// LatencyObserver receives how long a store call took, named by op
// ("transaction", "list_agents", ...); the metrics endpoint turns it into a
// histogram. It runs on the caller's goroutine: it must be cheap.
type LatencyObserver func(op string, d time.Duration)

// observers holds the store's optional observer, swapped atomically so it
// can be installed while the store serves.
type observers struct {
	fn atomic.Pointer[LatencyObserver]
}

// SetLatencyObserver installs fn (nil removes it).
func (s *Store) SetLatencyObserver(fn LatencyObserver) {
	if fn == nil {
		s.obs.fn.Store(nil)
		return
	}
	s.obs.fn.Store(&fn)
}

// observe reports the time since start to the observer, if any:
// `defer s.observe("op", time.Now())`.
func (s *Store) observe(op string, start time.Time) {
	if p := s.obs.fn.Load(); p != nil {
		(*p)(op, time.Since(start))
	}
}

// Ping runs a trivial query: readiness asks it with a short deadline.
func (s *Store) Ping(ctx context.Context) error {
	defer s.observe("ping", time.Now())
	var one int
	return s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
