//go:build linux

package remoted

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/muster-project/muster/internal/agentproto"
)

// poller reads the frames of many connections from one goroutine with
// epoll, so that an agent connection costs a few hundred bytes instead of a
// goroutine stack, and a keepalive is read, decrypted and answered without
// any goroutine hand-off. Sockets stay owned by the net package: reads and
// writes go through syscall.RawConn, which keeps the descriptor open while
// they run, and epoll only says when to read (level-triggered). The epoll
// descriptor itself is waited on through Go's network poller (it is
// readable when events are ready), so the goroutine never blocks a thread.
type poller struct {
	s    *Server
	epfd int
	f    *os.File // epfd, registered with Go's poller

	mu    sync.Mutex
	conns map[int]*tcpConn // by descriptor
	buf   []byte           // read buffer, used only by the poller goroutine
}

// pollTick is how often timeouts are checked.
const pollTick = time.Second

// newPollers starts one poller per CPU; nil when epoll is not available.
func newPollers(s *Server, n int) []*poller {
	var out []*poller
	for range n {
		p, err := newPoller(s)
		if err != nil {
			s.log.Warn("remoted: epoll unavailable, one goroutine per connection", "err", err)
			for _, q := range out {
				q.stop()
			}
			return nil
		}
		out = append(out, p)
	}
	return out
}

func newPoller(s *Server) (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	p := &poller{s: s, epfd: epfd, f: os.NewFile(uintptr(epfd), "epoll"), conns: map[int]*tcpConn{},
		buf: make([]byte, largeBuf)}
	if err := p.f.SetReadDeadline(time.Time{}); err != nil {
		p.f.Close() // not pollable: no deadlines, no waiting through Go's poller
		return nil, err
	}
	s.work.Add(1)
	go func() { defer s.work.Done(); p.loop() }()
	return p, nil
}

// add starts watching a connection.
func (p *poller) add(tc *tcpConn) error {
	var err error
	ctlErr := tc.rc.Control(func(fd uintptr) {
		tc.fd = int(fd)
		p.mu.Lock()
		p.conns[tc.fd] = tc
		p.mu.Unlock()
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
		err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err == nil {
		err = ctlErr
	}
	if err != nil {
		p.mu.Lock()
		delete(p.conns, tc.fd)
		p.mu.Unlock()
	}
	return err
}

// remove stops watching a connection (before it is closed).
func (p *poller) remove(tc *tcpConn) {
	tc.rc.Control(func(fd uintptr) {
		syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, int(fd), nil)
	})
	p.mu.Lock()
	if p.conns[tc.fd] == tc {
		delete(p.conns, tc.fd)
	}
	p.mu.Unlock()
}

// stop ends the loop: closing the epoll file interrupts its wait.
func (p *poller) stop() { p.f.Close() }

func (p *poller) loop() {
	rc, err := p.f.SyscallConn()
	if err != nil {
		p.s.log.Error("remoted: epoll descriptor", "err", err)
		return
	}
	events := make([]syscall.EpollEvent, 256)
	next := time.Now().Add(pollTick)
	p.f.SetReadDeadline(next)
	for {
		if now := time.Now(); now.After(next) {
			p.expire(p.s.o.Clock().UnixNano())
			next = now.Add(pollTick)
			p.f.SetReadDeadline(next)
		}
		var n int
		var werr error
		err := rc.Read(func(fd uintptr) bool {
			n, werr = syscall.EpollWait(int(fd), events, 0)
			return n > 0 || (werr != nil && !errors.Is(werr, syscall.EINTR))
		})
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			continue // time to expire connections
		case err != nil: // closed by stop
			return
		case werr != nil:
			p.s.log.Error("remoted: epoll_wait failed", "err", werr)
			return
		}
		for i := 0; i < n; i++ {
			p.mu.Lock()
			tc := p.conns[int(events[i].Fd)]
			p.mu.Unlock()
			if tc != nil {
				p.service(tc)
			}
		}
	}
}

// service reads what a connection has and handles every complete frame.
func (p *poller) service(tc *tcpConn) {
	var n int
	var rerr error
	err := tc.rc.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), p.buf)
		return true // never wait: epoll said there is something to read
	})
	switch {
	case err != nil:
		tc.close()
		return
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EINTR):
		return
	case rerr != nil || n == 0:
		if len(tc.pending) > 0 {
			tc.readFailed(io.ErrUnexpectedEOF)
		}
		tc.close()
		return
	}
	data := p.buf[:n]
	if len(tc.pending) > 0 {
		data = append(tc.pending, data...)
	}
	rest, ok := p.frames(tc, data)
	switch {
	case !ok:
		tc.close()
	case len(rest) == 0:
		tc.pending, tc.partial = nil, 0
	default:
		if tc.partial == 0 {
			tc.partial = p.s.o.Clock().UnixNano()
		}
		tc.pending = append([]byte(nil), rest...) // rest may point into p.buf
	}
}

// frames handles the complete frames at the start of data and returns the
// incomplete rest; false closes the connection.
func (p *poller) frames(tc *tcpConn, data []byte) ([]byte, bool) {
	for len(data) >= agentproto.FrameHeaderSize {
		n, err := frameLen(data)
		if err != nil {
			tc.tooBig(n)
			return nil, false
		}
		end := agentproto.FrameHeaderSize + int(n)
		if len(data) < end {
			break
		}
		if !tc.handleFrame(data[agentproto.FrameHeaderSize:end]) {
			return nil, false
		}
		tc.lastRead = p.s.o.Clock().UnixNano()
		data = data[end:]
	}
	return data, true
}

// expire closes connections that sent no valid message in time, that are
// idle for longer than IdleTimeout, or that left a frame unfinished for as
// long as the first-message timeout.
func (p *poller) expire(now int64) {
	o := &p.s.o
	var late []*tcpConn
	p.mu.Lock()
	for _, tc := range p.conns {
		switch {
		case !tc.valid && now-tc.accepted > int64(o.FirstMessageTimeout):
		case tc.partial != 0 && now-tc.partial > int64(o.FirstMessageTimeout):
		case o.IdleTimeout > 0 && tc.valid && now-tc.lastRead > int64(o.IdleTimeout):
		default:
			continue
		}
		late = append(late, tc)
	}
	p.mu.Unlock()
	for _, tc := range late {
		if tc.partial != 0 {
			tc.readFailed(io.ErrUnexpectedEOF)
		}
		tc.s.log.Debug("remoted: closing a silent connection", "src", tc.srcText)
		tc.close()
	}
}

// peerClosed reports whether the agent has closed its side of the
// connection (the socket is in CLOSE_WAIT: a FIN arrived, perhaps behind
// unread data): a reconnecting agent then takes over its key at once
// instead of being refused as a duplicate until the old connection's end
// is read.
func (tc *tcpConn) peerClosed() bool {
	if tc.rc == nil || tc.closed.Load() {
		return tc.closed.Load()
	}
	const tcpCloseWait, tcpClose = 8, 7 // tcpi_state values (include/net/tcp_states.h)
	var state uint8
	tc.rc.Control(func(fd uintptr) {
		size := uint32(1) // tcpi_state is the first byte of struct tcp_info
		_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&state)), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			state = 0
		}
	})
	return state == tcpCloseWait || state == tcpClose
}
