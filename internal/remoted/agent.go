package remoted

import (
	"net/netip"
	"sync"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/core"
)

// agentState is what the channel keeps about one key entry: its cipher
// (derived on the first message, as most of a fleet's keys are idle at any
// instant), its reply path and the counters of the last message.
type agentState struct {
	id     int
	idText string
	entry  core.KeyEntry
	rng    agentproto.IPRange

	keyOnce sync.Once
	key     *agentproto.Key
	keyErr  error

	mu       sync.Mutex
	conn     *tcpConn       // reply path over TCP: the connection of the last control message
	udp      netip.AddrPort // reply path over UDP, when valid
	udpSrv   *udpServer
	method   agentproto.Method
	counters agentproto.Counters
	lastRecv int64  // unix nanoseconds (registry clock) of the last valid message
	version  string // "v4.14.7" from the startup, or from the keepalive
	pushing  bool   // a merged.mg transfer is under way
	retired  bool   // no longer in the key table

	// written is the digest of the last full keepalive written to the
	// registry; only a flush touches it, under flushMu.
	written uint64

	counts agentCounts // per-agent counters (agentcounts.go)
}

func newAgentState(e core.KeyEntry, verify bool) (*agentState, error) {
	rng, err := agentproto.ParseIPRange(e.IP)
	if err != nil {
		return nil, err
	}
	return &agentState{id: e.ID, idText: core.FormatAgentID(e.ID), entry: e, rng: rng,
		counters: agentproto.Counters{Verify: verify}}, nil
}

// cipher derives the message key once.
func (st *agentState) cipher() (*agentproto.Key, error) {
	st.keyOnce.Do(func() {
		st.key, st.keyErr = agentproto.NewKey(st.idText, st.entry.Name, st.entry.Key)
	})
	return st.key, st.keyErr
}

// retire closes the connection of an agent that left the key table.
func (st *agentState) retire() {
	st.mu.Lock()
	st.retired = true
	c := st.conn
	st.conn = nil
	st.udp = netip.AddrPort{}
	st.mu.Unlock()
	if c != nil {
		c.close()
	}
}

// replyPath returns where messages to the agent go, and the cipher method.
func (st *agentState) replyPath() (c *tcpConn, u netip.AddrPort, us *udpServer, m agentproto.Method) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.conn, st.udp, st.udpSrv, st.method
}
