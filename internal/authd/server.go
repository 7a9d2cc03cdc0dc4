package authd

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/connlimit"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/ratelog"
)

// Registry is what enrollment needs from the agent registry; *core.Agents
// implements it.
type Registry interface {
	// GroupExists reports whether a group directory exists.
	GroupExists(name string) bool
	// EnrollRemote registers an agent: refusals are *core.Error 1705
	// (duplicate name) or 1706 (duplicate IP).
	EnrollRemote(ctx context.Context, r core.RemoteEnrollment) (core.KeyEntry, error)
	// RemoveEnrolled drops an agent whose key could not be delivered.
	RemoveEnrolled(ctx context.Context, id int) error
}

// Options configure a Server.
type Options struct {
	Registry Registry
	// TLS carries the server certificate and, to verify agents, ClientCAs
	// with ClientAuth (see TLSConfig).
	TLS *tls.Config
	// Password, when not empty, must open every request.
	Password string
	// UseSourceIP registers agents with their source address when they
	// name none.
	UseSourceIP bool
	// ManagerVersion ("v4.14.7") refuses newer agents unless AllowHigherVersions.
	ManagerVersion      string
	AllowHigherVersions bool
	// Hostname is the manager's name, which no agent may take.
	Hostname string
	// Force and KeyMismatch are the <force> rules for duplicates.
	Force       core.ForceRules
	KeyMismatch bool
	// VerifyHost requires the agent certificate to name its source address
	// (ssl_verify_host; only with agent certificate verification).
	VerifyHost bool
	// OnEnroll is told of every key issued, before the reply is sent, so
	// the secure channel accepts the agent at once.
	OnEnroll func(core.KeyEntry)
	Log      *slog.Logger
	// Timeout bounds one connection: handshake, request and reply (30 s).
	Timeout time.Duration
	// HandshakeTimeout bounds the wait for a client's first byte, and then
	// its TLS handshake (10 s each, within Timeout): connections that stay
	// silent or never finish their handshake give their slot back early.
	HandshakeTimeout time.Duration
	// MaxConcurrent bounds connections handled at once: 0 is enrollment's
	// share of the process's file limit (connlimit.Split). More wait in the
	// listen backlog, which holds no descriptor of the process.
	MaxConcurrent int
	// MaxPerIP bounds the connections in progress from one source address
	// (an IPv6 /64): 0 is 128, negative none. One over it is closed at once,
	// so one client cannot hold every slot.
	MaxPerIP int
	// MaxHandshakes bounds TLS handshakes in progress (16 per CPU): a
	// flood of handshakes then queues instead of starving the registry's
	// writer of CPU, while handshakes waiting on the network still overlap.
	MaxHandshakes int
}

// Server is the 1515 enrollment server.
type Server struct {
	o     Options
	log   *slog.Logger
	sem   chan struct{}
	hs    chan struct{}
	lim   *connlimit.Limiter // per address
	mu    sync.Mutex
	lns   map[net.Listener]struct{}
	conns map[net.Conn]struct{}
	done  bool
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
	warns ratelog.Limiter

	// Enrolled and Refused count the outcomes of requests.
	Enrolled atomic.Int64
	Refused  atomic.Int64
	// RefusedConns counts connections closed for the per-address cap.
	RefusedConns atomic.Int64
}

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("authd: server closed")

// New returns a server.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = connlimit.ProcessShares().Auth
	}
	if o.MaxPerIP == 0 {
		o.MaxPerIP = connlimit.PerAddrOf(connlimit.AuthPerAddr, o.MaxConcurrent)
	}
	if o.ManagerVersion == "" {
		o.ManagerVersion = "v4.14.7"
	}
	if o.MaxHandshakes <= 0 {
		o.MaxHandshakes = 16 * runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{o: o, log: o.Log, sem: make(chan struct{}, o.MaxConcurrent), hs: make(chan struct{}, o.MaxHandshakes),
		lim:   connlimit.New(0, o.MaxPerIP),
		lns:   map[net.Listener]struct{}{},
		conns: map[net.Conn]struct{}{}, ctx: ctx, stop: cancel}
}

// Limits returns the figures of the per-address cap.
func (s *Server) Limits() connlimit.Stats { return s.lim.Stats() }

// Serve accepts enrollment connections on ln until Close.
func (s *Server) Serve(ln net.Listener) error {
	ln = connlimit.Listen(ln, s.lim, func(remote net.Addr, err error) {
		s.RefusedConns.Add(1)
		s.warn("authd: too many connections from one address, refusing a connection", "src", sourceIP(remote),
			"max_connections_per_ip", s.o.MaxPerIP)
	})
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return ErrClosed
	}
	s.lns[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.lns, ln)
		s.mu.Unlock()
		s.wg.Done()
	}()
	var backoff time.Duration
	for {
		select {
		case s.sem <- struct{}{}:
		case <-s.ctx.Done():
			return ErrClosed
		}
		c, err := ln.Accept()
		if err != nil {
			<-s.sem
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("authd: accept failed", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			<-s.sem
			return ErrClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() {
				c.Close()
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				<-s.sem
				s.wg.Done()
			}()
			s.handle(c)
		}()
	}
}

// Close stops the listeners, aborts the connections in progress and waits
// for them.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return nil
	}
	s.done = true
	s.stop()
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
