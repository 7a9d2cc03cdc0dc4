package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// memAttempts is a LoginAttemptStore in memory, shared by the blockers of
// a test as a database is by nodes; fail makes it unreachable.
type memAttempts struct {
	mu    sync.Mutex
	first map[string]time.Time
	n     map[string]int
	fail  bool
}

func newMemAttempts() *memAttempts {
	return &memAttempts{first: map[string]time.Time{}, n: map[string]int{}}
}

var errDown = errors.New("store down")

func (m *memAttempts) LoginFailed(_ context.Context, key string, now time.Time, window time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errDown
	}
	if f, ok := m.first[key]; !ok || !f.After(now.Add(-window)) {
		m.first[key], m.n[key] = now, 0
	}
	m.n[key]++
	return nil
}

func (m *memAttempts) LoginFailures(_ context.Context, key string, now time.Time, window time.Duration) (time.Time, int, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return time.Time{}, 0, false, errDown
	}
	f, ok := m.first[key]
	if !ok || !f.After(now.Add(-window)) {
		return time.Time{}, 0, false, nil
	}
	return f, m.n[key], true, nil
}

func TestSharedLoginBlocker(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	const ip = "192.0.2.1"

	t.Run("failures on every node count", func(t *testing.T) {
		store := newMemAttempts()
		a := NewSharedLoginBlocker(3, 300*time.Second, store, log)
		b := NewSharedLoginBlocker(3, 300*time.Second, store, log)
		a.Failed(ip, at(0))
		a.Failed(ip, at(10*time.Second))
		if blocked, _ := b.Blocked(ip, at(20*time.Second)); blocked {
			t.Fatal("blocked before the limit")
		}
		b.Failed(ip, at(20*time.Second))
		for name, n := range map[string]*SharedLoginBlocker{"a": a, "b": b} {
			blocked, until := n.Blocked(ip, at(30*time.Second))
			if !blocked || !until.Equal(at(300*time.Second)) {
				t.Errorf("%s: blocked=%v until=%v, want true until the first failure + block_time", name, blocked, until)
			}
			if blocked, _ := n.Blocked(ip, at(300*time.Second)); blocked {
				t.Errorf("%s: still blocked at the first failure + block_time", name)
			}
		}
		if blocked, _ := a.Blocked("2001:db8::1", at(30*time.Second)); blocked {
			t.Error("another address is blocked")
		}
	})
	t.Run("IPv6 addresses of one /64 share a count", func(t *testing.T) {
		store := newMemAttempts()
		a := NewSharedLoginBlocker(2, time.Minute, store, log)
		b := NewSharedLoginBlocker(2, time.Minute, store, log)
		a.Failed("2001:db8::1", at(0))
		b.Failed("2001:db8::2", at(time.Second))
		if blocked, _ := a.Blocked("2001:db8::3", at(2*time.Second)); !blocked {
			t.Error("the /64 is not blocked")
		}
	})
	t.Run("the node's own count applies while the store is down", func(t *testing.T) {
		store := newMemAttempts()
		a := NewSharedLoginBlocker(2, time.Minute, store, log)
		store.fail = true
		a.Failed(ip, at(0))
		a.Failed(ip, at(time.Second))
		if blocked, _ := a.Blocked(ip, at(2*time.Second)); !blocked {
			t.Error("not blocked by the local count")
		}
	})
	t.Run("without a store it is the LoginBlocker", func(t *testing.T) {
		a := NewSharedLoginBlocker(1, time.Minute, nil, log)
		if blocked, _ := a.Blocked(ip, at(0)); blocked {
			t.Fatal("blocked before any failure")
		}
		a.Failed(ip, at(0))
		if blocked, _ := a.Blocked(ip, at(time.Second)); !blocked {
			t.Error("not blocked after the limit")
		}
	})
}
