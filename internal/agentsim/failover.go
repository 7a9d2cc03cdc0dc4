package agentsim

import (
	"context"
	"errors"
	"net"
	"time"
)

// Defaults of a real agent's <server> block.
const (
	defaultRetries       = 5                // <max_retries>
	defaultRetryInterval = 10 * time.Second // <retry_interval>
)

// serverAddr is the secure-channel address the agent uses now.
func (a *Agent) serverAddr() string {
	if n := len(a.o.Managers); n > 0 {
		return a.o.Managers[int(a.server.Load())%n]
	}
	return a.o.Addr
}

// Server is the address of the manager the agent uses now (or last used).
func (a *Agent) Server() string { return a.serverAddr() }

// conn0 is the current connection, or nil.
func (a *Agent) conn0() net.Conn {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	return a.conn
}

// runServers is Run for an agent with a <server> list, as agentd's
// start_agent does it: Retries handshakes on the manager in use,
// RetryInterval apart, then the next manager of the list in order (after the
// last, the first again). A connection that ends after its handshake (the
// manager went away, or stopped answering for time-reconnect) starts the
// count again on the same manager, so a manager that keeps failing is left
// after Retries more attempts.
func (a *Agent) runServers(ctx context.Context) {
	retries, interval := a.o.Retries, a.o.RetryInterval
	if retries <= 0 {
		retries = defaultRetries
	}
	if interval <= 0 {
		interval = defaultRetryInterval
	}
	failed := 0
	for ctx.Err() == nil && !a.killed.Load() {
		before := a.handshakes.Load()
		err := a.session(ctx)
		if ctx.Err() != nil || a.killed.Load() {
			return
		}
		if a.handshakes.Load() != before {
			failed = 0
			a.o.Stats.Reconnects.Add(1)
			if err != nil && !errors.Is(err, errReconnect) {
				a.o.Stats.fail(err)
			}
			continue
		}
		if err != nil {
			a.o.Stats.fail(err)
		}
		if failed++; failed >= retries {
			failed = 0
			a.server.Store(int32((int(a.server.Load()) + 1) % len(a.o.Managers)))
		}
		if realSleep(ctx, interval) != nil {
			return
		}
	}
}
