package remoted_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/remoted"
)

// FuzzPayload sends arbitrary frames to a live server over TCP and UDP: it
// must neither crash nor answer nor change the registry.
func FuzzPayload(f *testing.F) {
	f.Add([]byte("!001!#AES:0123456789abcdef0123456789abcdef"))
	f.Add([]byte("!001!:01234567"))
	f.Add([]byte("#ping"))
	f.Add([]byte("#AES:"))
	f.Add([]byte("!!"))
	f.Add([]byte{})
	e := start(f, func(o *remoted.Options) { o.FirstMessageTimeout = time.Second })
	e.reg.Register("fuzz", "any")
	before := fmt.Sprint(e.reg.Snapshot())
	udp, err := net.Dial("udp", e.udpAddr)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { udp.Close() })
	f.Fuzz(func(t *testing.T, p []byte) {
		udp.Write(p)
		c, err := net.Dial("tcp", e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write(append(frame(p), p...))
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b := make([]byte, 64)
		n, _ := c.Read(b)
		if n > 0 && string(b[4:n]) != "#pong" {
			t.Fatalf("the server answered %q to %q", b[:n], p)
		}
		e.srv.Flush(t.Context())
		if after := fmt.Sprint(e.reg.Snapshot()); after != before {
			t.Fatalf("payload %q changed the registry", p)
		}
	})
}
