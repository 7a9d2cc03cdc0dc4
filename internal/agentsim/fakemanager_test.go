package agentsim

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// wireManager is a secure-channel listener for unit tests: it decrypts what
// agents send, decodes it with agentproto as remoted does, and ACKs startups
// and keepalives while ack says so. Each payload is delivered on got.
type wireManager struct {
	t     *testing.T
	ln    net.Listener
	key   *agentproto.Key
	got   chan wireMsg
	mu    sync.Mutex
	ack   func(conn int, c agentproto.AgentControl) bool
	conns int
}

// wireMsg is one payload an agent sent, or the end of its connection (Closed).
type wireMsg struct {
	Conn    int // 1 for the first connection, and so on
	Control agentproto.AgentControl
	Raw     string
	Closed  bool
}

func newWireManager(t *testing.T, e agentproto.KeyEntry) *wireManager {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k, err := e.Cipher()
	if err != nil {
		t.Fatal(err)
	}
	m := &wireManager{t: t, ln: ln, key: k, got: make(chan wireMsg, 1000),
		ack: func(int, agentproto.AgentControl) bool { return true }}
	go m.serve()
	t.Cleanup(func() { ln.Close() })
	return m
}

func (m *wireManager) Addr() string { return m.ln.Addr().String() }

func (m *wireManager) setAck(f func(conn int, c agentproto.AgentControl) bool) {
	m.mu.Lock()
	m.ack = f
	m.mu.Unlock()
}

func (m *wireManager) serve() {
	for {
		c, err := m.ln.Accept()
		if err != nil {
			return
		}
		m.mu.Lock()
		m.conns++
		n := m.conns
		m.mu.Unlock()
		go m.handle(c, n)
	}
}

func (m *wireManager) handle(c net.Conn, n int) {
	defer c.Close()
	buf := make([]byte, 4096)
	var counters agentproto.Counters
	for {
		p, err := agentproto.ReadFrame(c, buf)
		if err != nil {
			m.got <- wireMsg{Conn: n, Closed: true}
			return
		}
		env, err := agentproto.ParseEnvelope(p)
		if err != nil {
			m.t.Errorf("envelope: %v", err)
			return
		}
		msg, method, err := m.key.Open(env.Body)
		if err != nil {
			m.t.Errorf("open: %v", err)
			return
		}
		ctl, err := agentproto.ParseAgentControl(msg.Payload)
		if err != nil {
			m.t.Errorf("payload %q: %v", msg.Payload, err)
			return
		}
		m.got <- wireMsg{Conn: n, Control: ctl, Raw: string(msg.Payload)}
		m.mu.Lock()
		ack := m.ack
		m.mu.Unlock()
		if ctl.Reply("v4.14.7", false) == nil || !ack(n, ctl) {
			continue
		}
		g, l := counters.Next()
		out, err := m.key.Seal(make([]byte, 4, 256), "", method,
			agentproto.Message{Global: g, Local: l, Payload: []byte(agentproto.MsgAck)})
		if err != nil {
			m.t.Errorf("seal: %v", err)
			return
		}
		binary.LittleEndian.PutUint32(out, uint32(len(out)-4))
		c.Write(out)
	}
}

// next returns the next payload or connection end, failing after 15 s.
func (m *wireManager) next(t *testing.T) wireMsg {
	t.Helper()
	select {
	case w := <-m.got:
		return w
	case <-time.After(15 * time.Second):
		t.Fatal("no message from the agent")
	}
	return wireMsg{}
}

// until skips payloads until one of kind (or a connection end when closed).
func (m *wireManager) until(t *testing.T, kind agentproto.AgentKind, closed bool) wireMsg {
	t.Helper()
	for {
		w := m.next(t)
		if w.Closed == closed && (closed || w.Control.Kind == kind) {
			return w
		}
	}
}

// testEntry is a client.keys entry for unit tests.
func testEntry(id, name string) agentproto.KeyEntry {
	return agentproto.KeyEntry{ID: id, Name: name, IP: agentproto.AnyIP,
		Key: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
}
