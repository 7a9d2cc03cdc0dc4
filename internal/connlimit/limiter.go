// Package connlimit keeps one client from taking every file descriptor of
// the process: a Limiter caps the connections a server holds, in all and
// per source address, a Listener applies it to accepted connections, and
// Split shares the process's descriptor limit between the servers (the
// agent port, the API and enrollment) so each keeps descriptors of its own.
package connlimit

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Refusals are these errors.
var (
	ErrFull     = errors.New("connection limit reached")
	ErrAddrFull = errors.New("per-address connection limit reached")
)

// Limiter counts held connections. A cap of 0 or less is no cap. It is safe
// for concurrent use.
type Limiter struct {
	max, perAddr int

	mu   sync.Mutex
	open int
	addr map[netip.Addr]int // per-address shares held, by Key

	refusedFull atomic.Int64
	refusedAddr atomic.Int64
}

// New returns a limiter of max connections in all and perAddr from one
// source address (see Key).
func New(max, perAddr int) *Limiter {
	return &Limiter{max: max, perAddr: perAddr, addr: map[netip.Addr]int{}}
}

// Key is the source a per-address count is kept for: the IPv4 address, or
// the /64 network of an IPv6 address, the least a site is given.
func Key(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// Slot is one held connection. Its methods are safe to call from any
// goroutine; Release is idempotent.
type Slot struct {
	l      *Limiter
	key    netip.Addr
	held   bool // counted in open
	byAddr bool // counted in addr[key]
}

// Acquire takes a slot for a connection from ip, or refuses it with ErrFull
// or ErrAddrFull (and counts the refusal). An invalid ip has no
// per-address count.
func (l *Limiter) Acquire(ip netip.Addr) (*Slot, error) {
	s := &Slot{l: l}
	return s, l.AcquireInto(s, ip)
}

// AcquireInto is Acquire into a Slot the caller holds (a struct field),
// saving an allocation per connection. The slot must not be held.
func (l *Limiter) AcquireInto(s *Slot, ip netip.Addr) error {
	key := Key(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open >= l.max {
		l.refusedFull.Add(1)
		return ErrFull
	}
	count := l.perAddr > 0 && key.IsValid()
	if count && l.addr[key] >= l.perAddr {
		l.refusedAddr.Add(1)
		return ErrAddrFull
	}
	*s = Slot{l: l, key: key, held: true, byAddr: count}
	l.open++
	if count {
		l.addr[key]++
	}
	return nil
}

// Release gives the slot back.
func (s *Slot) Release() {
	l := s.l
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !s.held {
		return
	}
	s.held = false
	l.open--
	l.dropAddr(s)
}

// Vouch gives back the slot's per-address share and keeps its place in the
// total: for a connection that proved who it is (an agent's key), so that
// many agents behind one NAT address are not limited by the per-address cap,
// which is meant for connections nobody vouches for.
func (s *Slot) Vouch() {
	l := s.l
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s.held {
		l.dropAddr(s)
	}
}

func (l *Limiter) dropAddr(s *Slot) {
	if !s.byAddr {
		return
	}
	s.byAddr = false
	if n := l.addr[s.key] - 1; n > 0 {
		l.addr[s.key] = n
	} else {
		delete(l.addr, s.key)
	}
}

// Max is the cap in all (0 or less: none).
func (l *Limiter) Max() int { return l.max }

// Open is how many slots are held.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Above reports whether more than percent % of the cap is held; never
// without a cap.
func (l *Limiter) Above(percent int) bool {
	if l.max <= 0 {
		return false
	}
	return l.Open()*100 > l.max*percent
}

// Stats are a limiter's figures, for logs and metrics.
type Stats struct {
	Open, Max, PerAddr int
	Addresses          int   // source addresses holding a per-address share
	RefusedFull        int64 // connections refused for the total cap, ever
	RefusedAddr        int64 // connections refused for the per-address cap, ever
}

// Stats returns the current figures.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	st := Stats{Open: l.open, Max: l.max, PerAddr: l.perAddr, Addresses: len(l.addr)}
	l.mu.Unlock()
	st.RefusedFull, st.RefusedAddr = l.refusedFull.Load(), l.refusedAddr.Load()
	return st
}

// SourceAddr is the IP address of a connection's peer; invalid for a peer
// that is not on IP (a pipe, a Unix socket).
func SourceAddr(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
