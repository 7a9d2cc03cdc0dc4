package remoted

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
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

// tcpConn is one agent connection. Its goroutine reads frames; anyone may
// write whole frames (ACKs, file chunks, commands) under wmu.
type tcpConn struct {
	s       *Server
	c       net.Conn
	src     netip.Addr
	srcText string // the source address as remoted writes it
	hdr     [agentproto.FrameHeaderSize]byte
	wmu     sync.Mutex
	closed  atomic.Bool
	agent   atomic.Pointer[agentState] // the agent that registered this connection
	done    chan bool                  // a worker's verdict on the frame handed over
}

// tcpJob is one frame handed by a connection to the worker pool. A
// connection waits for each verdict, so its frames stay in order, and its
// goroutine, which only ever blocks in Read, keeps the smallest stack:
// 50,000 idle connections then cost a few kilobytes each.
type tcpJob struct {
	tc *tcpConn
	p  []byte
}

// tcpWorker decrypts and answers frames for every connection.
func (s *Server) tcpWorker() {
	for j := range s.jobs {
		j.tc.done <- s.handle(j.p, peer{ip: j.tc.srcText, conn: j.tc})
	}
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
	tc := &tcpConn{s: s, c: c, src: ap.Addr().Unmap(), done: make(chan bool, 1)}
	tc.srcText = agentproto.SourceIP(tc.src)
	s.mu.Lock()
	if s.closed || (s.o.MaxConnections > 0 && len(s.conns) >= s.o.MaxConnections) {
		full := !s.closed
		s.mu.Unlock()
		if full {
			s.stats.Dropped.Add(1)
			s.log.Warn("remoted: connection limit reached, refusing a connection", "src", tc.srcText)
		}
		c.Close()
		return
	}
	s.conns[tc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.Connections.Add(1)
	if t, ok := c.(*net.TCPConn); ok {
		t.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second,
			Interval: 10 * time.Second, Count: 3})
	}
	go tc.serve()
}

// serve reads frames until the connection ends or a message is refused.
func (tc *tcpConn) serve() {
	s := tc.s
	defer func() {
		tc.close()
		s.mu.Lock()
		delete(s.conns, tc)
		s.mu.Unlock()
		s.stats.Connections.Add(-1)
		s.wg.Done()
	}()
	valid := false
	tc.c.SetReadDeadline(time.Now().Add(s.o.FirstMessageTimeout))
	for {
		if _, err := io.ReadFull(tc.c, tc.hdr[:]); err != nil {
			tc.readFailed(err)
			return
		}
		n := binary.LittleEndian.Uint32(tc.hdr[:])
		if n > agentproto.MaxFrameSize {
			s.stats.Dropped.Add(1)
			s.log.Warn("remoted: too big message size, closing the connection", "src", tc.srcText, "size", n)
			return
		}
		buf := getBuf(int(n))
		p := (*buf)[:n]
		if _, err := io.ReadFull(tc.c, p); err != nil {
			putBuf(buf)
			tc.readFailed(err)
			return
		}
		s.jobs <- tcpJob{tc: tc, p: p}
		ok := <-tc.done
		putBuf(buf)
		if !ok {
			return
		}
		if !valid || s.o.IdleTimeout > 0 {
			valid = true
			var d time.Time
			if s.o.IdleTimeout > 0 {
				d = time.Now().Add(s.o.IdleTimeout)
			}
			tc.c.SetReadDeadline(d)
		}
	}
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
		tc.s.log.Warn("remoted: connection closed inside a frame", "src", tc.srcText)
	case errors.As(err, &ne) && ne.Timeout():
		tc.s.log.Info("remoted: closing a silent connection", "src", tc.srcText)
	default:
		tc.s.log.Debug("remoted: connection read failed", "src", tc.srcText, "err", err)
	}
}

// send writes one framed payload; a failed or slow write closes the connection.
func (tc *tcpConn) send(frame []byte) error {
	if tc.closed.Load() {
		return net.ErrClosed
	}
	tc.wmu.Lock()
	tc.c.SetWriteDeadline(time.Now().Add(tc.s.o.WriteTimeout))
	_, err := tc.c.Write(frame)
	tc.wmu.Unlock()
	if err != nil {
		tc.s.log.Debug("remoted: write to agent failed", "src", tc.srcText, "err", err)
		tc.close()
	}
	return err
}

// close closes the socket once and forgets it as any agent's reply path.
func (tc *tcpConn) close() {
	if tc.closed.Swap(true) {
		return
	}
	tc.c.Close()
	if st := tc.agent.Load(); st != nil {
		st.mu.Lock()
		if st.conn == tc {
			st.conn = nil
		}
		st.mu.Unlock()
	}
}
