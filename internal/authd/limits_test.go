package authd_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/authd"
)

// enrollFrom enrolls an agent over a connection from a loopback source.
func enrollFrom(t *testing.T, addr, src, name string) (string, error) {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "OSSEC A:'"+name+"' V:'v4.14.7'\n")
	b, err := agentproto.ReadEnrollReply(c)
	return string(b), err
}

func silentFrom(t *testing.T, addr, src string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestPerAddressCapAndHandshakeTimeout(t *testing.T) {
	e := start(t, func(o *authd.Options) { o.MaxPerIP, o.HandshakeTimeout = 3, 300*time.Millisecond })
	var silent []net.Conn
	for range 3 {
		silent = append(silent, silentFrom(t, e.addr, "127.0.0.1"))
	}
	eventually(t, "silent connections held", func() bool { return e.srv.Limits().Open == 3 })
	if _, err := enrollFrom(t, e.addr, "127.0.0.1", "over-the-cap"); err == nil {
		t.Fatal("a fourth connection from one address was served")
	}
	if n := e.srv.RefusedConns.Load(); n != 1 {
		t.Fatalf("refused connections: %d, want 1", n)
	}
	if got, err := enrollFrom(t, e.addr, "127.0.0.2", "other-address"); err != nil || !strings.HasPrefix(got, "OSSEC K:'") {
		t.Fatalf("another address: %q, %v", got, err)
	}
	// Silent clients are let go after the handshake timeout, long before
	// the connection timeout (2 s here).
	start := time.Now()
	for _, c := range silent {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("silent connection: %v", err)
		}
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("silent connections closed after %v", d)
	}
	eventually(t, "slots released", func() bool { return e.srv.Limits().Open == 0 })
	if got, err := enrollFrom(t, e.addr, "127.0.0.1", "after-the-flood"); err != nil || !strings.HasPrefix(got, "OSSEC K:'") {
		t.Fatalf("after the flood: %q, %v", got, err)
	}
}

// eventually polls cond until it holds, failing after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
