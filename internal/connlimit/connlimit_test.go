package connlimit_test

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/connlimit"
)

var (
	ipA = netip.MustParseAddr("192.0.2.1")
	ipB = netip.MustParseAddr("192.0.2.2")
)

func TestCapsAndRelease(t *testing.T) {
	l := connlimit.New(3, 2)
	a1, err1 := l.Acquire(ipA)
	_, err2 := l.Acquire(ipA)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if _, err := l.Acquire(ipA); !errors.Is(err, connlimit.ErrAddrFull) {
		t.Fatalf("third from one address: %v, want ErrAddrFull", err)
	}
	b1, err := l.Acquire(ipB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ipB); !errors.Is(err, connlimit.ErrFull) {
		t.Fatalf("fourth in all: %v, want ErrFull", err)
	}
	a1.Release()
	a1.Release() // idempotent
	if st := l.Stats(); st.Open != 2 || st.RefusedFull != 1 || st.RefusedAddr != 1 || st.Addresses != 2 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := l.Acquire(ipA); err != nil {
		t.Fatalf("after a release: %v", err)
	}
	b1.Release()
	if st := l.Stats(); st.Open != 2 || st.Addresses != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestVouchFreesTheAddressShare(t *testing.T) {
	l := connlimit.New(10, 1)
	s, err := l.Acquire(ipA)
	if err != nil {
		t.Fatal(err)
	}
	s.Vouch()
	s.Vouch()
	t2, err := l.Acquire(ipA)
	if err != nil {
		t.Fatalf("after vouching, the address has room again: %v", err)
	}
	if _, err := l.Acquire(ipA); !errors.Is(err, connlimit.ErrAddrFull) {
		t.Fatalf("%v, want ErrAddrFull", err)
	}
	s.Release()
	if st := l.Stats(); st.Open != 1 || st.Addresses != 1 {
		t.Fatalf("a vouched slot's release gave back the address share twice: %+v", st)
	}
	t2.Release()
	if st := l.Stats(); st.Open != 0 || st.Addresses != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNoCapAndAbove(t *testing.T) {
	l := connlimit.New(0, -1)
	for i := 0; i < 1000; i++ {
		if _, err := l.Acquire(ipA); err != nil {
			t.Fatal(err)
		}
	}
	if l.Above(0) {
		t.Fatal("no cap is never near")
	}
	l = connlimit.New(10, 0)
	for i := 0; i < 9; i++ {
		l.Acquire(ipA)
	}
	if !l.Above(80) || l.Above(90) {
		t.Fatal("9 of 10 is above 80 % and not above 90 %")
	}
}

func TestIPv6CountsPerSlash64(t *testing.T) {
	l := connlimit.New(0, 1)
	if _, err := l.Acquire(netip.MustParseAddr("2001:db8:1:2::1")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(netip.MustParseAddr("2001:db8:1:2:ffff::9")); !errors.Is(err, connlimit.ErrAddrFull) {
		t.Fatalf("same /64: %v", err)
	}
	if _, err := l.Acquire(netip.MustParseAddr("2001:db8:1:3::1")); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	if _, err := l.Acquire(netip.MustParseAddr("::ffff:192.0.2.1")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ipA); !errors.Is(err, connlimit.ErrAddrFull) {
		t.Fatalf("an IPv4-mapped address is its IPv4 address: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	const maxOpen, perAddr = 50, 20
	l := connlimit.New(maxOpen, perAddr)
	ips := []netip.Addr{ipA, ipB, netip.MustParseAddr("192.0.2.3"), netip.MustParseAddr("192.0.2.4")}
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := 0
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				s, err := l.Acquire(ips[(g+i)%len(ips)])
				if err != nil {
					continue
				}
				if n := l.Open(); n > maxOpen {
					t.Errorf("%d open over the cap", n)
				}
				mu.Lock()
				peak = max(peak, l.Open())
				mu.Unlock()
				if i%3 == 0 {
					s.Vouch()
				}
				s.Release()
			}
		}()
	}
	wg.Wait()
	if st := l.Stats(); st.Open != 0 || st.Addresses != 0 {
		t.Fatalf("after every release: %+v", st)
	}
	if peak == 0 {
		t.Fatal("nothing was acquired")
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		limit                              uint64
		reserve, remote, api, auth, budget int
	}{
		{20000, 2000, 14400, 2160, 1440, 20000},
		{1024, 256, 614, 92, 61, 1023},
		{65536, 6553, 47186, 7077, 4718, 65534},
		{100, 256, 64, 32, 16, 368}, // floors: the limit is too small to share
		{^uint64(0), 1 << 24 / 10, 12079596, 1811939, 1207959, 1<<24 - 1},
	} {
		s := connlimit.Split(tc.limit)
		if s.Reserve != tc.reserve || s.Remote != tc.remote || s.API != tc.api || s.Auth != tc.auth {
			t.Errorf("Split(%d) = %+v", tc.limit, s)
		}
		if sum := s.Reserve + s.Remote + s.API + s.Auth; sum != tc.budget {
			t.Errorf("Split(%d) adds up to %d, want %d", tc.limit, sum, tc.budget)
		}
	}
	if s := connlimit.ProcessShares(); s.Remote+s.API+s.Auth+s.Reserve > max(s.Limit, 368) {
		t.Errorf("the process's shares %+v exceed its limit", s)
	}
}

func TestListenerRefusesOverTheCaps(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var refusals []error
	ln := connlimit.Listen(inner, connlimit.New(3, 2), func(_ net.Addr, err error) {
		mu.Lock()
		refusals = append(refusals, err)
		mu.Unlock()
	})
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", inner.Addr().String())
		if err != nil {
			return nil // reset at once: refused
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	wantAccepted := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("no connection accepted")
			return nil
		}
	}
	wantRefused := func(c net.Conn) {
		t.Helper()
		if c == nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a refused connection: %v", err)
		}
	}
	dial("127.0.0.1")
	dial("127.0.0.1")
	s1 := wantAccepted()
	wantAccepted()
	wantRefused(dial("127.0.0.1")) // per address
	dial("127.0.0.2")
	wantAccepted()
	wantRefused(dial("127.0.0.3")) // in all
	s1.Close()
	s1.Close()
	dial("127.0.0.3")
	wantAccepted()
	if st := ln.Limiter().Stats(); st.Open != 3 || st.RefusedAddr != 1 || st.RefusedFull != 1 {
		t.Fatalf("stats %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refusals) != 2 || !errors.Is(refusals[0], connlimit.ErrAddrFull) || !errors.Is(refusals[1], connlimit.ErrFull) {
		t.Fatalf("refusals %v", refusals)
	}
}

func TestListenerEvictsTheOldestSilentConnection(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	ln := connlimit.Listen(inner, connlimit.New(3, 0), nil)
	ln.EvictSilent, ln.Now = time.Second, clock
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { // the server side reads, as a server would
				buf := make([]byte, 16)
				for {
					if _, err := c.Read(buf); err != nil {
						return
					}
				}
			}()
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			return nil
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c net.Conn, wait time.Duration) bool {
		if c == nil {
			return true
		}
		c.SetReadDeadline(time.Now().Add(wait))
		_, err := c.Read(make([]byte, 1))
		return err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
	}
	talker := dial()
	talker.Write([]byte("hello")) // heard: never evicted
	<-accepted
	advance(time.Millisecond)
	old := dial()
	<-accepted
	advance(time.Millisecond)
	young := dial()
	<-accepted
	if !closed(dial(), 5*time.Second) {
		t.Fatal("a fourth connection was kept while the silent ones are within their grace")
	}
	advance(time.Second)
	newcomer := dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the newcomer was not accepted")
	}
	if !closed(old, 5*time.Second) {
		t.Fatal("the oldest silent connection was not evicted")
	}
	if closed(young, 20*time.Millisecond) || closed(talker, 20*time.Millisecond) || closed(newcomer, 20*time.Millisecond) {
		t.Fatal("a connection other than the oldest silent one was closed")
	}
	if ln.Evicted() != 1 || ln.Limiter().Open() != 3 {
		t.Fatalf("evicted %d, open %d", ln.Evicted(), ln.Limiter().Open())
	}
}

func TestPerAddrOf(t *testing.T) {
	for _, c := range []struct{ def, total, want int }{{128, 1440, 128}, {128, 20, 5}, {128, 2, 1}, {256, 0, 1}} {
		if got := connlimit.PerAddrOf(c.def, c.total); got != c.want {
			t.Errorf("PerAddrOf(%d, %d) = %d, want %d", c.def, c.total, got, c.want)
		}
	}
}
