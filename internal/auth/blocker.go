package auth

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// defaultMaxBlockerEntries bounds how many client addresses a LoginBlocker
// tracks at once (roughly 100 bytes each).
const defaultMaxBlockerEntries = 100_000

// LoginBlocker counts failed logins per client address the way Wazuh 4.14.7
// does: the window opens at the first failure; the failure that reaches
// maxAttempts blocks the address (that request itself is still answered
// 401); the block and the count end blockTime after the first failure;
// successful logins change nothing. When more addresses than the cap are
// tracked, the one whose window opened first is forgotten.
type LoginBlocker struct {
	maxAttempts int
	blockTime   time.Duration
	maxEntries  int

	mu      sync.Mutex
	entries map[string]*list.Element // values are *loginEntry
	order   *list.List               // by first failure, oldest in front
}

type loginEntry struct {
	ip       string
	first    time.Time
	attempts int
	blocked  bool
}

// NewLoginBlocker returns a blocker that blocks an address once maxAttempts
// logins failed within blockTime of its first failure (maxAttempts 0 or 1
// blocks after the first failure).
func NewLoginBlocker(maxAttempts int, blockTime time.Duration) *LoginBlocker {
	return &LoginBlocker{
		maxAttempts: maxAttempts,
		blockTime:   blockTime,
		maxEntries:  defaultMaxBlockerEntries,
		entries:     make(map[string]*list.Element),
		order:       list.New(),
	}
}

// Blocked reports whether ip (its ClientKey) is blocked at now and, if so,
// until when; it first forgets entries whose window has ended.
func (b *LoginBlocker) Blocked(ip string, now time.Time) (blocked bool, until time.Time) {
	ip = ClientKey(ip)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now)
	el, ok := b.entries[ip]
	if !ok {
		return false, time.Time{}
	}
	e := el.Value.(*loginEntry)
	if !e.blocked {
		return false, time.Time{}
	}
	return true, e.first.Add(b.blockTime)
}

// Failed records a failed login from ip (its ClientKey) at now.
func (b *LoginBlocker) Failed(ip string, now time.Time) {
	ip = ClientKey(ip)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expire(now)
	if el, ok := b.entries[ip]; ok {
		e := el.Value.(*loginEntry)
		e.attempts++
		e.blocked = e.blocked || e.attempts >= b.maxAttempts
		return
	}
	for len(b.entries) >= b.maxEntries && b.order.Len() > 0 {
		b.remove(b.order.Front())
	}
	e := &loginEntry{ip: strings.Clone(ip), first: now, attempts: 1, blocked: 1 >= b.maxAttempts}
	b.insert(e)
}

// insert adds e keeping the list ordered by first failure; the clock rarely
// goes backwards, so the search from the back is short.
func (b *LoginBlocker) insert(e *loginEntry) {
	for el := b.order.Back(); el != nil; el = el.Prev() {
		if !el.Value.(*loginEntry).first.After(e.first) {
			b.entries[e.ip] = b.order.InsertAfter(e, el)
			return
		}
	}
	b.entries[e.ip] = b.order.PushFront(e)
}

// expire forgets every entry whose window ended at or before now, that is
// now - blockTime >= first failure. The caller holds b.mu.
func (b *LoginBlocker) expire(now time.Time) {
	cutoff := now.Add(-b.blockTime)
	for el := b.order.Front(); el != nil; el = b.order.Front() {
		if el.Value.(*loginEntry).first.After(cutoff) {
			return
		}
		b.remove(el)
	}
}

func (b *LoginBlocker) remove(el *list.Element) {
	delete(b.entries, el.Value.(*loginEntry).ip)
	b.order.Remove(el)
}

// Len returns the number of tracked addresses.
func (b *LoginBlocker) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}
