package auth

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

// Rate-limit windows, as in Wazuh: a window opens with a client's first
// request and holds every request up to and including 60 s later.
const (
	rateWindow         = 60 * time.Second
	rateShards         = 32
	defaultMaxRateKeys = 1 << 18 // over all shards, roughly 80 bytes each
)

// RateLimiter enforces max_request_per_minute per client address with fixed
// windows. Unlike Wazuh's single global counter (where one client can lock
// everybody out), each address has its own window; rejected requests count
// too, and every window admits exactly perMinute requests. Memory is bounded:
// ended windows are swept, and a full shard forgets an arbitrary client.
type RateLimiter struct {
	perMinute int
	seed      maphash.Seed
	shards    [rateShards]rateShard
}

type rateShard struct {
	mu        sync.Mutex
	max       int
	windows   map[string]rateEntry
	lastSweep time.Time
}

type rateEntry struct {
	start time.Time
	count int
}

// NewRateLimiter returns a limiter admitting perMinute requests per client
// and window; perMinute <= 0 disables it.
func NewRateLimiter(perMinute int) *RateLimiter {
	l := &RateLimiter{perMinute: perMinute, seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i] = rateShard{max: defaultMaxRateKeys / rateShards, windows: make(map[string]rateEntry)}
	}
	return l
}

// Allow counts a request from ip (its ClientKey) at now and reports whether it may proceed;
// when it may not, retryAfter is the time until the client's window ends,
// rounded up to whole seconds and at least one second.
func (l *RateLimiter) Allow(ip string, now time.Time) (ok bool, retryAfter time.Duration) {
	if l == nil || l.perMinute <= 0 {
		return true, 0
	}
	ip = ClientKey(ip)
	s := &l.shards[maphash.String(l.seed, ip)%rateShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(s.lastSweep) >= rateWindow {
		s.sweep(now)
	}
	e, found := s.windows[ip]
	if !found || now.After(e.start.Add(rateWindow)) {
		if !found && len(s.windows) >= s.max {
			s.makeRoom(now)
		}
		e = rateEntry{start: now}
	}
	if !found {
		ip = strings.Clone(ip) // do not pin a larger string the key came from
	}
	if e.count <= l.perMinute { // saturate: the count only needs to exceed the limit
		e.count++
	}
	s.windows[ip] = e
	if e.count <= l.perMinute {
		return true, 0
	}
	wait := e.start.Add(rateWindow).Sub(now)
	wait = (wait + time.Second - 1).Truncate(time.Second)
	return false, max(wait, time.Second)
}

// sweep drops every window that has ended. The caller holds s.mu.
func (s *rateShard) sweep(now time.Time) {
	for ip, e := range s.windows {
		if now.After(e.start.Add(rateWindow)) {
			delete(s.windows, ip)
		}
	}
	s.lastSweep = now
}

// makeRoom frees one slot in a full shard: ended windows go first (at most
// one full sweep per second), else an arbitrary client is forgotten. The
// caller holds s.mu.
func (s *rateShard) makeRoom(now time.Time) {
	if now.Sub(s.lastSweep) >= time.Second {
		s.sweep(now)
		if len(s.windows) < s.max {
			return
		}
	}
	for ip := range s.windows {
		delete(s.windows, ip)
		return
	}
}

// Len returns the number of clients with a window in memory.
func (l *RateLimiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += len(s.windows)
		s.mu.Unlock()
	}
	return n
}
