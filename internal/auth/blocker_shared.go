package auth

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// LoginAttemptStore keeps failed logins where every node sharing it sees
// them, so the login block holds for a whole fleet rather than per node.
// Keys are ClientKey values; times are the caller's clock.
type LoginAttemptStore interface {
	// LoginFailed counts a failed login of key at now, in the window that
	// opened at key's first failure; a window that opened window ago or
	// earlier has ended and this failure opens a new one.
	LoginFailed(ctx context.Context, key string, now time.Time, window time.Duration) error
	// LoginFailures returns key's window still open at now: when it opened
	// and how many logins failed in it (ok is false when there is none).
	LoginFailures(ctx context.Context, key string, now time.Time, window time.Duration) (first time.Time, attempts int, ok bool, err error)
}

// storeTimeout bounds a LoginAttemptStore call on the login path.
const storeTimeout = time.Second

// SharedLoginBlocker is a LoginBlocker whose counts are also kept in a
// LoginAttemptStore: an address is blocked when either says so, with the
// rules of LoginBlocker. On one node both count the same failures, so it
// answers exactly as the LoginBlocker alone; with several nodes on one
// store the store's count is the fleet's. When the store cannot be reached
// the node's own count still applies.
type SharedLoginBlocker struct {
	local       *LoginBlocker
	store       LoginAttemptStore
	log         *slog.Logger
	maxAttempts int
	blockTime   time.Duration
	warned      atomic.Int64 // unix seconds of the last store warning
}

// NewSharedLoginBlocker returns a blocker with LoginBlocker's rules over
// store; a nil store keeps the counts in this process only.
func NewSharedLoginBlocker(maxAttempts int, blockTime time.Duration, store LoginAttemptStore, log *slog.Logger) *SharedLoginBlocker {
	if log == nil {
		log = slog.Default()
	}
	return &SharedLoginBlocker{local: NewLoginBlocker(maxAttempts, blockTime), store: store, log: log,
		maxAttempts: maxAttempts, blockTime: blockTime}
}

// Blocked reports whether ip is blocked at now and, if so, until when.
func (b *SharedLoginBlocker) Blocked(ip string, now time.Time) (bool, time.Time) {
	blocked, until := b.local.Blocked(ip, now)
	if b.store == nil {
		return blocked, until
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	first, n, ok, err := b.store.LoginFailures(ctx, ClientKey(ip), now, b.blockTime)
	if err != nil {
		b.warn("read", err)
		return blocked, until
	}
	if ok && n >= b.maxAttempts {
		if u := first.Add(b.blockTime); !blocked || u.After(until) {
			until = u
		}
		blocked = true
	}
	return blocked, until
}

// Failed records a failed login from ip at now.
func (b *SharedLoginBlocker) Failed(ip string, now time.Time) {
	b.local.Failed(ip, now)
	if b.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := b.store.LoginFailed(ctx, ClientKey(ip), now, b.blockTime); err != nil {
		b.warn("record", err)
	}
}

// warn logs a store failure at most once a minute: a login flood during an
// outage must not flood the log too.
func (b *SharedLoginBlocker) warn(op string, err error) {
	now := time.Now().Unix()
	if last := b.warned.Load(); now-last < 60 || !b.warned.CompareAndSwap(last, now) {
		return
	}
	b.log.Warn("login block: the store could not "+op+" failed logins; this node's own count applies meanwhile", "err", err)
}
