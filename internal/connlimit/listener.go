package connlimit

import (
	"container/list"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Listener applies a Limiter to the connections a listener accepts: one
// over either cap is closed as soon as it is accepted (the client sees the
// connection reset at once rather than hanging), and the others give their
// slot back when closed. Wrap the TCP listener, under any TLS listener, so
// that handshakes count too.
//
// With EvictSilent set, a connection that finds the total cap full first
// closes the oldest connection that has not sent a byte for that long:
// a flood of idle connections cannot keep real clients out.
type Listener struct {
	net.Listener
	lim *Limiter
	// refused, when set, is told of each connection refused.
	refused func(remote net.Addr, err error)

	// EvictSilent, when positive, enables the eviction above; set it
	// before the first Accept.
	EvictSilent time.Duration
	// Now is the eviction's clock (time.Now).
	Now func() time.Time

	mu      sync.Mutex
	silent  list.List // *conn that sent nothing yet, oldest first
	evicted atomic.Int64
}

// Listen wraps ln with lim; refused, when not nil, is told of every refusal
// (log it rate-limited: a flood would be a flood of lines).
func Listen(ln net.Listener, lim *Limiter, refused func(remote net.Addr, err error)) *Listener {
	return &Listener{Listener: ln, lim: lim, refused: refused, Now: time.Now}
}

// Limiter returns the listener's limiter.
func (l *Listener) Limiter() *Limiter { return l.lim }

// Evicted is how many silent connections were closed to make room.
func (l *Listener) Evicted() int64 { return l.evicted.Load() }

// Accept returns the next connection within the caps.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		lc := &conn{Conn: c, ln: l}
		src := SourceAddr(c.RemoteAddr())
		err = l.lim.AcquireInto(&lc.slot, src)
		if err == ErrFull && l.evictOldest() {
			err = l.lim.AcquireInto(&lc.slot, src)
		}
		if err != nil {
			// Reported before the close, so a client that sees the
			// close sees the report.
			if l.refused != nil {
				l.refused(c.RemoteAddr(), err)
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset: no TIME_WAIT kept for a refused client
			}
			c.Close()
			continue
		}
		if l.EvictSilent > 0 {
			lc.since = l.Now()
			l.mu.Lock()
			lc.elem = l.silent.PushBack(lc)
			l.mu.Unlock()
		}
		return lc, nil
	}
}

// evictOldest closes the oldest connection silent for EvictSilent.
func (l *Listener) evictOldest() bool {
	if l.EvictSilent <= 0 {
		return false
	}
	l.mu.Lock()
	front := l.silent.Front()
	if front == nil || l.Now().Sub(front.Value.(*conn).since) < l.EvictSilent {
		l.mu.Unlock()
		return false
	}
	c := front.Value.(*conn)
	l.silent.Remove(front)
	c.elem = nil
	l.mu.Unlock()
	l.evicted.Add(1)
	c.Close()
	return true
}

// heard takes a connection off the silent list.
func (l *Listener) heard(c *conn) {
	l.mu.Lock()
	if c.elem != nil {
		l.silent.Remove(c.elem)
		c.elem = nil
	}
	l.mu.Unlock()
}

// conn gives its slot back when closed.
type conn struct {
	net.Conn
	ln    *Listener
	slot  Slot
	once  sync.Once
	heard atomic.Bool
	since time.Time     // accepted, on ln.Now
	elem  *list.Element // in ln.silent, under ln.mu
}

func (c *conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 && !c.heard.Load() && c.heard.CompareAndSwap(false, true) {
		c.ln.heard(c)
	}
	return n, err
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.ln.heard(c)
		c.slot.Release()
	})
	return err
}

// Unwrap returns the accepted connection.
func (c *conn) Unwrap() net.Conn { return c.Conn }
