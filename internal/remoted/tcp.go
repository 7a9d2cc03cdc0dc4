package remoted

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/connlimit"
)

// Buffers are pooled in two sizes: nearly every agent message (startup,
// keepalive, ACK) fits in the small one, and idle connections hold none.
const (
	smallBuf = 2048
	largeBuf = agentproto.FrameHeaderSize + agentproto.MaxFrameSize + 64
)

var (
	smallPool = sync.Pool{New: func() any { b := make([]byte, smallBuf); return &b }}
	largePool = sync.Pool{New: func() any { b := make([]byte, largeBuf); return &b }}
)

// getBuf returns a pooled buffer of at least n bytes.
func getBuf(n int) *[]byte {
	if n <= smallBuf {
		return smallPool.Get().(*[]byte)
	}
	return largePool.Get().(*[]byte)
}

func putBuf(b *[]byte) {
	switch cap(*b) {
	case smallBuf:
		smallPool.Put(b)
	case largeBuf:
		largePool.Put(b)
	}
}

// tcpConn is one agent connection. Frames are read by a poller (Linux) or
// by the connection's own goroutine; anyone may write whole frames (ACKs,
// file chunks, commands) under wmu.
type tcpConn struct {
	s        *Server
	c        net.Conn
	rc       syscall.RawConn // for the poller's non-blocking reads and writes
	src      netip.Addr
	srcText  string // the source address as remoted writes it
	wmu      sync.Mutex
	closed   atomic.Bool
	agent    atomic.Pointer[agentState] // the agent that registered this connection
	slot     connlimit.Slot             // its place under the connection caps
	trusted  atomic.Bool                // an agent's key vouched for it: never evicted
	accepted int64                      // unix ns, on the server's connection clock

	// Poller state, touched only by the connection's poller.
	p        *poller
	fd       int
	pending  []byte // a frame not yet complete
	lastRead int64  // unix ns of the last frame
	partial  int64  // unix ns since a frame is incomplete, or 0
	valid    bool   // a valid message arrived
}

// ServeTCP accepts agent connections on ln until Close.
func (s *Server) ServeTCP(ln net.Listener) error {
	if !s.track(ln, ln.Close) {
		return ErrClosed
	}
	defer s.untrack(ln)
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			// Out of descriptors or a transient error: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("remoted: accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.startConn(c)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) startConn(c net.Conn) {
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	tc := &tcpConn{s: s, c: c, src: ap.Addr().Unmap(), accepted: s.o.Clock().UnixNano()}
	tc.srcText = agentproto.SourceIP(tc.src)
	if err := s.lim.AcquireInto(&tc.slot, tc.src); err != nil {
		s.refuse(c, tc.srcText, err)
		return
	}
	if t, ok := c.(*net.TCPConn); ok {
		t.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second,
			Interval: 10 * time.Second, Count: 3})
		if tc.rc, _ = t.SyscallConn(); tc.rc != nil {
			tc.p = s.pickPoller()
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		tc.slot.Release()
		c.Close()
		return
	}
	s.conns[tc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.Connections.Add(1)
	if tc.p == nil {
		go tc.serve()
		return
	}
	if err := tc.p.add(tc); err != nil {
		s.log.Warn("remoted: cannot watch a connection", "src", tc.srcText, "err", err)
		tc.close()
	}
}

// serve reads frames on the connection's own goroutine, where no poller runs.
func (tc *tcpConn) serve() {
	s := tc.s
	defer tc.close()
	var hdr [agentproto.FrameHeaderSize]byte
	tc.c.SetReadDeadline(time.Now().Add(s.o.FirstMessageTimeout))
	for {
		if _, err := io.ReadFull(tc.c, hdr[:]); err != nil {
			tc.readFailed(err)
			return
		}
		n, err := frameLen(hdr[:])
		if err != nil {
			tc.tooBig(n)
			return
		}
		buf := getBuf(int(n))
		p := (*buf)[:n]
		if _, err := io.ReadFull(tc.c, p); err != nil {
			putBuf(buf)
			tc.readFailed(err)
			return
		}
		ok := tc.handleFrame(p)
		putBuf(buf)
		if !ok {
			return
		}
		var d time.Time
		if s.o.IdleTimeout > 0 {
			d = time.Now().Add(s.o.IdleTimeout)
		}
		tc.c.SetReadDeadline(d)
	}
}

// frameLen reads a frame header; a length over the limit is an error.
func frameLen(hdr []byte) (uint32, error) {
	n := uint32(hdr[0]) | uint32(hdr[1])<<8 | uint32(hdr[2])<<16 | uint32(hdr[3])<<24
	if n > agentproto.MaxFrameSize {
		return n, agentproto.ErrFrameTooLarge
	}
	return n, nil
}

// handleFrame processes one payload; a valid one marks the connection valid.
func (tc *tcpConn) handleFrame(p []byte) bool {
	ok := tc.s.handle(p, peer{ip: tc.srcText, conn: tc, read: time.Now()})
	if ok {
		tc.valid = true
		if !tc.trusted.Load() && tc.agent.Load() != nil {
			// An agent's key opened the message: from now on the connection
			// is the agent's, out of the per-address count and never evicted.
			tc.trusted.Store(true)
			tc.slot.Vouch()
		}
	}
	return ok
}

func (tc *tcpConn) tooBig(n uint32) {
	tc.s.stats.Dropped.Add(1)
	tc.s.warn("remoted: too big message size, closing the connection", "src", tc.srcText, "size", n)
}

// readFailed logs how a connection ended, unless it simply closed.
func (tc *tcpConn) readFailed(err error) {
	if tc.closed.Load() || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		tc.s.stats.Dropped.Add(1)
		tc.s.warn("remoted: connection closed inside a frame", "src", tc.srcText)
	case errors.As(err, &ne) && ne.Timeout():
		tc.s.log.Debug("remoted: closing a silent connection", "src", tc.srcText)
	default:
		tc.s.log.Debug("remoted: connection read failed", "src", tc.srcText, "err", err)
	}
}

// send writes one framed payload; a failed or slow write closes the
// connection. A caller that must not block (a poller answering a
// keepalive) gets the write finished by a goroutine when the socket cannot
// take the whole frame at once or another writer holds the connection.
func (tc *tcpConn) send(frame []byte, mayBlock bool) error {
	if tc.closed.Load() {
		return net.ErrClosed
	}
	if mayBlock || tc.rc == nil {
		tc.wmu.Lock()
		return tc.write(frame)
	}
	if !tc.wmu.TryLock() {
		rest := append([]byte(nil), frame...)
		go func() {
			tc.wmu.Lock()
			tc.write(rest)
		}()
		return nil
	}
	var n int
	var werr error
	if err := tc.rc.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), frame)
		return true
	}); err != nil {
		werr = err
	}
	switch {
	case werr == nil && n == len(frame):
		tc.wmu.Unlock()
		return nil
	case werr == nil || errors.Is(werr, syscall.EAGAIN) || errors.Is(werr, syscall.EINTR):
		rest := append([]byte(nil), frame[max(n, 0):]...)
		go tc.write(rest) // keeps wmu until the frame is out
		return nil
	}
	tc.wmu.Unlock()
	tc.s.log.Debug("remoted: write to agent failed", "src", tc.srcText, "err", werr)
	tc.close()
	return werr
}

// write writes b with the write timeout and releases wmu, which the caller
// holds. The deadline is cleared again: it stays on the socket and would
// fail the poller's non-blocking writes once it has passed.
func (tc *tcpConn) write(b []byte) error {
	tc.c.SetWriteDeadline(time.Now().Add(tc.s.o.WriteTimeout))
	_, err := tc.c.Write(b)
	tc.c.SetWriteDeadline(time.Time{})
	tc.wmu.Unlock()
	if err != nil {
		tc.s.log.Debug("remoted: write to agent failed", "src", tc.srcText, "err", err)
		tc.close()
	}
	return err
}

// close closes the socket once, forgets it as any agent's reply path and
// releases the server's hold on it.
func (tc *tcpConn) close() {
	if tc.closed.Swap(true) {
		return
	}
	if tc.p != nil {
		tc.p.remove(tc)
	}
	tc.c.Close()
	if st := tc.agent.Load(); st != nil {
		st.mu.Lock()
		if st.conn == tc {
			st.conn = nil
		}
		st.mu.Unlock()
	}
	s := tc.s
	s.mu.Lock()
	delete(s.conns, tc)
	s.mu.Unlock()
	tc.slot.Release()
	s.stats.Connections.Add(-1)
	s.wg.Done()
}
