package remoted_test

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/remoted"
)

// inner builds "md5hex || random counters payload" with the given counters.
func inner(payload string, global, local int) []byte {
	body := fmt.Sprintf("%05d%010d:%04d:%s", 12345, global, local, payload)
	sum := md5.Sum([]byte(body))
	return []byte(hex.EncodeToString(sum[:]) + body)
}

// noSeparator is an inner message with a valid checksum but no ':' at offset 47.
func noSeparator() []byte {
	body := fmt.Sprintf("%05d%010d-%04d:%s", 12345, 1, 1, "#!-x\n")
	sum := md5.Sum([]byte(body))
	return []byte(hex.EncodeToString(sum[:]) + body)
}

func compress(b []byte) []byte {
	var out bytes.Buffer
	w, _ := zlib.NewWriterLevel(&out, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// seal encrypts plaintext (already '!'-marked) with AES as the protocol
// does, but lets the test choose the padding byte (0 means correct PKCS#7).
func seal(raw string, plain []byte, badPad bool) []byte {
	k := md5.Sum([]byte(raw))
	blk, _ := aes.NewCipher([]byte(hex.EncodeToString(k[:])))
	n := 16 - len(plain)%16
	for i := 0; i < n; i++ {
		v := byte(n)
		if badPad && i == n-1 {
			v = 0
		}
		plain = append(plain, v)
	}
	ct := make([]byte, len(plain))
	cipher.NewCBCEncrypter(blk, []byte("FEDCBA0987654321")).CryptBlocks(ct, plain)
	return append([]byte("#AES:"), ct...)
}

// marked prefixes a zlib stream with the '!' padding to a multiple of 8.
func marked(z []byte) []byte {
	k := 1 + (8-(len(z)+1)%8)%8
	return append(bytes.Repeat([]byte("!"), k), z...)
}

func frame(p []byte) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(len(p))) // header only; body appended by caller
}

// expectClosed writes raw bytes and waits for the server to close the connection.
func expectClosed(t *testing.T, addr string, raw []byte, closeWrite bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(raw)
	if closeWrite {
		c.(*net.TCPConn).CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		t.Fatalf("the server did not close the connection: %v", err)
	}
	if n != 0 {
		t.Fatalf("the server answered %d bytes to bad input", n)
	}
}

func TestBadInputIsDroppedWithoutHarm(t *testing.T) {
	e := start(t, func(o *remoted.Options) { o.VerifyMsgID = true })
	victim := e.reg.Register("victim", "any")
	healthy := e.reg.Register("healthy", "any")
	a, _ := e.run(healthy, nil)
	eventually(t, "healthy agent active", func() bool { return a.Connected() && e.status(healthy.ID) == core.AgentActive })
	before := e.reg.Snapshot()[victim.ID]

	id := "!" + core.FormatAgentID(victim.ID) + "!"
	good := marked(compress(inner("#!-agent startup {\"version\":\"v4.14.7\"}", 1, 1)))
	other := core.NewKey()
	cases := map[string][]byte{
		"garbage":           []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"clear text":        []byte("hello, this is not a secure message"),
		"bad id prefix":     []byte("!abc!#AES:0123456789abcdef"),
		"unknown id":        append([]byte("!999!"), seal(victim.Key, good, false)...),
		"no prefix":         seal(victim.Key, good, false), // 127.0.0.1 is no agent's key IP
		"empty body":        []byte(id),
		"no crypto token":   []byte(id + "plaintext"),
		"not block sized":   []byte(id + "#AES:0123456789"),
		"wrong key":         append([]byte(id), seal(other, good, false)...),
		"bad padding":       append([]byte(id), seal(victim.Key, good, true)...),
		"no ! marker":       append([]byte(id), seal(victim.Key, append([]byte("x"), good[1:]...), false)...),
		"corrupted zlib":    append([]byte(id), seal(victim.Key, marked([]byte("\x78\xda not a deflate stream")), false)...),
		"bad checksum":      append([]byte(id), seal(victim.Key, marked(compress(append([]byte("0"), inner("#!-x\n", 1, 1)[1:]...))), false)...),
		"short message":     append([]byte(id), seal(victim.Key, marked(compress([]byte("too short"))), false)...),
		"missing separator": append([]byte(id), seal(victim.Key, marked(compress(noSeparator())), false)...),
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			expectClosed(t, e.addr, append(frame(p), p...), false)
		})
	}
	t.Run("length over the limit", func(t *testing.T) {
		expectClosed(t, e.addr, binary.LittleEndian.AppendUint32(nil, agentproto.MaxFrameSize+1), false)
	})
	t.Run("truncated frame", func(t *testing.T) {
		p := append([]byte(id), seal(victim.Key, good, false)...)
		expectClosed(t, e.addr, append(frame(p), p[:len(p)/2]...), true)
	})
	t.Run("replayed counter", func(t *testing.T) {
		p := append([]byte(id), seal(victim.Key, marked(compress(inner("1:test:event", 7, 7))), false)...)
		msg := append(frame(p), p...)
		// The first copy is accepted (an event: no answer), the replay closes the connection.
		expectClosed(t, e.addr, append(append([]byte(nil), msg...), msg...), false)
	})
	t.Run("out of order counter", func(t *testing.T) {
		p1 := append([]byte(id), seal(victim.Key, marked(compress(inner("1:test:event", 9, 9))), false)...)
		p2 := append([]byte(id), seal(victim.Key, marked(compress(inner("1:test:event", 9, 8))), false)...)
		expectClosed(t, e.addr, append(append(frame(p1), p1...), append(frame(p2), p2...)...), false)
	})
	t.Run("udp garbage", func(t *testing.T) {
		c, err := net.Dial("udp", e.udpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, p := range cases {
			c.Write(p)
		}
	})

	// The healthy agent kept its connection and its ACKs.
	n := e.srv.Stats().Keepalives.Load()
	eventually(t, "more keepalives from the healthy agent", func() bool { return e.srv.Stats().Keepalives.Load() > n+3 })
	if !a.Connected() || e.status(healthy.ID) != core.AgentActive {
		t.Error("the healthy agent lost its connection")
	}
	e.srv.Flush(t.Context())
	if after := e.reg.Snapshot()[victim.ID]; fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("bad input changed the registry:\nbefore %+v\nafter  %+v", before, after)
	}
	if e.reg.Len() != 2 {
		t.Errorf("registry has %d agents, want 2", e.reg.Len())
	}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

func TestConnectionFloodLeaksNothing(t *testing.T) {
	runtime.GC()
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	e := start(t, func(o *remoted.Options) { o.FirstMessageTimeout = 200 * time.Millisecond })
	k := e.reg.Register("steady", "any")
	a, stopAgent := e.run(k, nil)
	eventually(t, "agent active", func() bool { return a.Connected() && e.status(k.ID) == core.AgentActive })

	var conns []net.Conn
	for i := 0; i < 300; i++ {
		c, err := net.Dial("tcp", e.addr)
		if err != nil { // reset: over the per-address cap of silent connections
			continue
		}
		switch i % 3 {
		case 0: // silent: the first-message timeout closes it
		case 1:
			c.Write([]byte("\x05\x00\x00\x00junk"))
		case 2:
			c.Write([]byte("\x40\x00\x00\x00half a frame"))
		}
		conns = append(conns, c)
	}
	eventually(t, "flood connections closed by the server", func() bool {
		return e.srv.Stats().Connections.Load() == 1
	})
	if !a.Connected() {
		t.Error("the flood disconnected the steady agent")
	}
	for _, c := range conns {
		c.Close()
	}
	stopAgent()
	e.stop()
	eventually(t, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= goroutines })
	eventually(t, "descriptors back to the baseline", func() bool { return openFDs(t) <= fds })
}
