package remoted

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// udpReaders is how many goroutines read one UDP socket: one, so that an
// agent's datagrams are handled in the order they came (a keepalive
// overtaking a shutdown would leave the agent active).
const udpReaders = 1

// udpReadBuffer is the socket receive buffer asked for (the kernel caps it
// at net.core.rmem_max): a fleet's datagrams come in bursts, and what
// overflows the default 208 KiB is lost, handshakes included.
const udpReadBuffer = 4 << 20

// udpServer is one UDP socket: each datagram is one payload, and replies go
// to the address of the agent's last control message.
type udpServer struct {
	s  *Server
	pc *net.UDPConn
	mu sync.Mutex // one write at a time keeps deadlines simple
}

// ServeUDP reads agent datagrams from pc until Close.
func (s *Server) ServeUDP(pc *net.UDPConn) error {
	if !s.track(pc, pc.Close) {
		return ErrClosed
	}
	defer s.untrack(pc)
	pc.SetReadBuffer(udpReadBuffer) // best effort
	us := &udpServer{s: s, pc: pc}
	var wg sync.WaitGroup
	errc := make(chan error, udpReaders)
	for range udpReaders {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- us.read() }()
	}
	wg.Wait()
	return <-errc
}

func (us *udpServer) read() error {
	buf := make([]byte, agentproto.MaxFrameSize+1)
	for {
		n, addr, err := us.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if us.s.isClosed() || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			us.s.log.Warn("remoted: udp read failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if n > agentproto.MaxFrameSize {
			us.s.stats.Dropped.Add(1)
			continue
		}
		addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
		us.s.handle(buf[:n], peer{ip: agentproto.SourceIP(addr.Addr()), udp: addr, us: us, read: time.Now()})
	}
}

// writeTo sends one datagram.
func (us *udpServer) writeTo(b []byte, to netip.AddrPort) error {
	us.mu.Lock()
	defer us.mu.Unlock()
	us.pc.SetWriteDeadline(time.Now().Add(us.s.o.WriteTimeout))
	_, err := us.pc.WriteToUDPAddrPort(b, to)
	return err
}
