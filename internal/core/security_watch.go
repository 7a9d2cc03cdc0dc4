package core

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxStaleness is how long a node watching a shared store serves
// without having confirmed its security state when nothing else is set
// (database.max_security_staleness).
const DefaultMaxStaleness = 5 * time.Second

// ErrNotifyUnsupported is returned by a SecurityNotifier whose store cannot
// push changes (SQLite): the watcher then relies on polling alone.
var ErrNotifyUnsupported = errors.New("the store does not push security changes")

// SecurityNotifier is implemented by stores that push security changes as
// they commit (PostgreSQL's LISTEN/NOTIFY).
type SecurityNotifier interface {
	// ListenSecurity listens on a dedicated connection until ctx ends or
	// the connection fails, and returns why. It calls ready once listening
	// (changes committed before may have been missed) and changed with the
	// security version of every change committed after (-1 if unknown).
	ListenSecurity(ctx context.Context, ready func(), changed func(version int64)) error
}

// freshness is the fail-closed bookkeeping: when the state was last
// confirmed to be the store's, and how stale it may get while a Watch runs.
type freshness struct {
	now       func() time.Time
	maxStale  atomic.Int64 // nanoseconds
	watchers  atomic.Int32 // running Watch loops: only they make staleness matter
	confirmed atomic.Int64 // UnixNano, by now, of the latest confirmation
	listening atomic.Bool  // a LISTEN connection is up
}

// confirm records that the state was the store's at t (never moving back).
func (f *freshness) confirm(t time.Time) {
	n := t.UnixNano()
	for {
		old := f.confirmed.Load()
		if n <= old || f.confirmed.CompareAndSwap(old, n) {
			return
		}
	}
}

func (f *freshness) watching() bool { return f.watchers.Load() > 0 }

// stale reports whether a watching node is past the staleness bound.
func (f *freshness) stale() bool {
	if !f.watching() {
		return false // alone on its store, the node's own writes are the state
	}
	return f.now().UnixNano()-f.confirmed.Load() > f.maxStale.Load()
}

// SetMaxStaleness sets the staleness bound (DefaultMaxStaleness when d <= 0).
func (s *Security) SetMaxStaleness(d time.Duration) {
	if d <= 0 {
		d = DefaultMaxStaleness
	}
	s.fresh.maxStale.Store(int64(d))
}

// MaxStaleness returns the staleness bound.
func (s *Security) MaxStaleness() time.Duration { return time.Duration(s.fresh.maxStale.Load()) }

// Listening reports whether changes of other nodes are being pushed to this
// one (a LISTEN connection is up); polling covers the gaps.
func (s *Security) Listening() bool { return s.fresh.listening.Load() }

// Unconfirmed is the answer to logins and authenticated requests while the
// node cannot confirm its security state. Wazuh has no such state (one API
// process, one rbac.db): the body follows its problem shape with 503.
func Unconfirmed() *Error {
	return &Error{Status: 503, Title: "Service Unavailable",
		Detail: "This node cannot confirm the security state (users, passwords, roles and token revocations) " +
			"with its database, so it refuses logins and authenticated requests until it can",
		Remediation: "Check this node's connection to the database named by database.dsn; " +
			"meanwhile send requests to another node, or retry later",
		Local: true}
}

// refreshTimeout bounds one confirmation round trip, so a store that hangs
// cannot hold the watcher (staleness grows meanwhile and the node fails
// closed).
const refreshTimeout = 2 * time.Second

// Watch keeps the security layer in step with other nodes on the same
// store until ctx ends. Changes are pushed through the store's
// notifications when it has them (a dropped LISTEN connection is
// re-established, then the store is checked at once, since notifications
// may have been missed); the store's version is also polled every `every`,
// which confirms the state and is the only mechanism on SQLite. While a
// Watch runs, a node whose state was last confirmed more than the staleness
// bound ago refuses logins and authenticated requests (Unconfirmed), and a
// reconnected node re-reads the whole state before it serves again.
func (s *Security) Watch(ctx context.Context, every time.Duration) {
	s.fresh.watchers.Add(1)
	defer s.fresh.watchers.Add(-1)
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	if n, ok := s.store.(SecurityNotifier); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.listen(ctx, n, poke)
		}()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		err := s.refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			s.log.Warn("security state could not be confirmed with the store: logins and authenticated requests "+
				"are refused once it has not been for the staleness bound", "bound", s.MaxStaleness(), "err", err)
		case err == nil && failing:
			s.log.Info("security state confirmed with the store again")
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
	}
}

// listen keeps a LISTEN connection up, reconnecting with a short backoff,
// and pokes the watch loop on every change of another node and on every
// (re)connection.
func (s *Security) listen(ctx context.Context, n SecurityNotifier, poke func()) {
	const first, most = 50 * time.Millisecond, 2 * time.Second
	backoff, lost := first, false
	for {
		err := n.ListenSecurity(ctx, func() {
			s.fresh.listening.Store(true)
			backoff = first
			if lost {
				s.log.Info("security notifications: listening again")
				lost = false
			}
			poke()
		}, func(v int64) {
			if v < 0 || v != s.snap.Load().data.Version {
				poke()
			}
		})
		s.fresh.listening.Store(false)
		if ctx.Err() != nil || errors.Is(err, ErrNotifyUnsupported) {
			return
		}
		if !lost {
			s.log.Warn("security notifications: connection lost, polling until it is back", "err", err)
			lost = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, most)
	}
}

// refresh confirms the state with the store, re-reading it all when the
// store's security version moved.
func (s *Security) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	_, err := s.current(ctx, s.snap.Load())
	return err
}

// current returns the snapshot that is the store's now: snap itself when
// the store's version is still snap's, else a fresh one read from the
// store. Either way the state counts as confirmed.
func (s *Security) current(ctx context.Context, snap *snapshot) (*snapshot, error) {
	t0 := s.fresh.now()
	v, err := s.store.SecurityVersion(ctx)
	if err != nil {
		return nil, err
	}
	if v == snap.data.Version {
		s.fresh.confirm(t0)
		return snap, nil
	}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s.snap.Load(), nil
}
