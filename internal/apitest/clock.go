// Package apitest starts real muster servers for tests (real store on SQLite
// in a temporary directory, real TLS, the real route table) and checks every
// request and response they see against Wazuh's OpenAPI document.
package apitest

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests: time moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
