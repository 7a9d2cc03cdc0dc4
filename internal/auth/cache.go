package auth

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// maxCacheShards is the number of independently locked parts of a TokenCache.
const maxCacheShards = 16

// TokenCache remembers tokens that passed Verify, keyed by the SHA-256 of the
// token, so that repeated requests skip the signature check. It holds at most
// the configured number of entries and never returns a token at or past its
// exp. It does not know about revocation: callers still check blacklists, and
// call Clear when the signing key changes.
type TokenCache struct {
	shards []cacheShard
	// seen is the latest Unix time passed to Get; Put refuses entries that
	// are already expired by then, and eviction drops expired ones first.
	seen atomic.Int64
	// epoch counts Clear calls, so that PutEpoch can drop claims verified
	// against a key that has since been replaced.
	epoch atomic.Uint64
}

type cacheShard struct {
	mu  sync.RWMutex
	max int
	m   map[[sha256.Size]byte]Claims
}

// NewTokenCache returns a cache of at most max entries; max <= 0 disables
// caching.
func NewTokenCache(max int) *TokenCache {
	c := &TokenCache{}
	if max <= 0 {
		return c
	}
	n := min(maxCacheShards, max)
	c.shards = make([]cacheShard, n)
	for i := range c.shards {
		// Spread max over the shards so the total never exceeds it.
		per := max / n
		if i < max%n {
			per++
		}
		c.shards[i] = cacheShard{max: per, m: make(map[[sha256.Size]byte]Claims)}
	}
	return c
}

// shard returns the key of token and the shard that holds it.
func (c *TokenCache) shard(token string) ([sha256.Size]byte, *cacheShard) {
	key := sha256.Sum256([]byte(token))
	return key, &c.shards[binary.LittleEndian.Uint64(key[:8])%uint64(len(c.shards))]
}

// Get returns the cached claims of token when present and not expired at now.
func (c *TokenCache) Get(token string, now time.Time) (Claims, bool) {
	if len(c.shards) == 0 {
		return Claims{}, false
	}
	unix := now.Unix()
	for {
		seen := c.seen.Load()
		if unix <= seen || c.seen.CompareAndSwap(seen, unix) {
			break
		}
	}
	key, s := c.shard(token)
	s.mu.RLock()
	cl, ok := s.m[key]
	s.mu.RUnlock()
	if !ok {
		return Claims{}, false
	}
	if unix >= cl.Expires {
		s.mu.Lock()
		if cur, ok := s.m[key]; ok && unix >= cur.Expires {
			delete(s.m, key)
		}
		s.mu.Unlock()
		return Claims{}, false
	}
	cl.RBACRoles = slices.Clone(cl.RBACRoles)
	return cl, true
}

// Put caches the verified claims of token, evicting another entry when the
// cache is full. A Put racing with Clear may store a token checked against
// the old key; PutEpoch avoids that.
func (c *TokenCache) Put(token string, cl Claims) {
	c.put(token, cl, 0, false)
}

// Epoch returns a value that changes on every Clear; read it before Verify
// and pass it to PutEpoch.
func (c *TokenCache) Epoch() uint64 {
	return c.epoch.Load()
}

// PutEpoch is Put that does nothing when Clear ran since Epoch returned epoch.
func (c *TokenCache) PutEpoch(epoch uint64, token string, cl Claims) {
	c.put(token, cl, epoch, true)
}

func (c *TokenCache) put(token string, cl Claims, epoch uint64, checkEpoch bool) {
	if len(c.shards) == 0 || cl.Expires <= c.seen.Load() {
		return
	}
	cl.RBACRoles = slices.Clone(cl.RBACRoles)
	key, s := c.shard(token)
	seen := c.seen.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Clear bumps the epoch before taking the shard locks, so checking it
	// under the lock orders this insert before or after the clearing.
	if checkEpoch && c.epoch.Load() != epoch {
		return
	}
	if _, ok := s.m[key]; !ok && len(s.m) >= s.max {
		s.evict(seen)
	}
	s.m[key] = cl
}

// evict removes expired entries, looking at a few, or else one arbitrary
// entry (map iteration order is randomised). The caller holds s.mu.
func (s *cacheShard) evict(seen int64) {
	const scan = 8
	removed, i := false, 0
	var victim [sha256.Size]byte
	for k, v := range s.m {
		if i == 0 {
			victim = k
		}
		if seen >= v.Expires {
			delete(s.m, k)
			removed = true
		}
		if i++; i == scan {
			break
		}
	}
	if !removed {
		delete(s.m, victim)
	}
}

// Clear drops every entry, for use when the signing key pair changes.
func (c *TokenCache) Clear() {
	c.epoch.Add(1)
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// Len returns the number of entries, expired ones included.
func (c *TokenCache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
