package remoted

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// peer is where a payload came from.
type peer struct {
	ip   string         // source address text (agentproto.SourceIP)
	conn *tcpConn       // TCP connection, or nil for UDP
	udp  netip.AddrPort // UDP source
	us   *udpServer
	read time.Time // when the payload was read: the ACK latency starts there
}

// mayBlock reports whether a reply to this peer may wait for the socket:
// not on a poller, which serves many connections.
func (pr peer) mayBlock() bool { return pr.conn == nil || pr.conn.p == nil }

// errNoPath is a send to an agent without a registered reply path.
var errNoPath = errors.New("remoted: agent has no connection")

// handle processes one payload (protocols.md §4.8). It returns false when
// the connection must be closed.
func (s *Server) handle(p []byte, pr peer) bool {
	if pr.conn != nil {
		s.stats.BytesReceived.Add(int64(len(p) + agentproto.FrameHeaderSize))
	} else {
		s.stats.BytesReceived.Add(int64(len(p)))
	}
	env, err := agentproto.ParseEnvelope(p)
	if err != nil {
		s.drop("(1403): Incorrectly formatted message", pr, "", err)
		return false
	}
	if env.Ping {
		s.stats.Pings.Add(1)
		s.pong(pr)
		return true
	}
	st := s.keys.find(context.Background(), env.AgentID, env.HasID, pr.ip)
	switch {
	case env.HasID && (st == nil || !st.rng.Contains(pr.ip)):
		s.drop("(1408): Invalid ID for the source ip", pr, env.AgentID, nil)
		return false
	case st == nil:
		s.drop("(1213): Message from an address not allowed", pr, "", nil)
		return false
	}
	now := s.o.Now()
	if !s.takeOver(st, pr, now) {
		return false
	}
	key, err := st.cipher()
	if err != nil {
		s.drop("cannot derive the agent's key", pr, st.idText, err)
		return false
	}
	msg, method, err := key.Open(env.Body)
	if err != nil {
		s.drop("decrypting the message failed", pr, st.idText, err)
		return false
	}
	st.mu.Lock()
	if st.retired {
		st.mu.Unlock()
		return false
	}
	if err := st.counters.Check(msg.Global, msg.Local); err != nil {
		st.mu.Unlock()
		s.drop("message counter refused", pr, st.idText, err)
		return false
	}
	st.lastRecv, st.method = now.UnixNano(), method
	st.mu.Unlock()
	s.stats.Messages.Add(1)
	s.dispatch(st, msg.Payload, pr, now)
	return true
}

// takeOver applies the duplicate-connection rule: a second connection with
// the same key is refused while the first one is alive and was heard from
// within connection_overtake_time; otherwise the old one is closed.
func (s *Server) takeOver(st *agentState, pr peer, now time.Time) bool {
	st.mu.Lock()
	old := st.conn
	if old == nil || old == pr.conn || old.closed.Load() {
		st.mu.Unlock()
		return true
	}
	silent := time.Duration(now.UnixNano() - st.lastRecv)
	if (s.o.ConnectionOvertake >= 0 && silent > s.o.ConnectionOvertake) || old.peerClosed() {
		st.conn = nil
		st.mu.Unlock()
		old.close()
		s.log.Info("remoted: a new connection takes over the agent's key", "agent", st.idText, "src", pr.ip)
		return true
	}
	st.mu.Unlock()
	s.drop("agent key already in use", pr, st.idText, nil)
	return false
}

// dispatch acts on a decrypted payload: ACKs first, then the state change.
func (s *Server) dispatch(st *agentState, payload []byte, pr peer, now time.Time) {
	ctl, err := agentproto.ParseAgentControl(payload)
	if err != nil {
		s.stats.Unknown.Add(1)
		s.warn("remoted: invalid message from agent", "agent", st.idText, "err", err)
		return
	}
	st.counts.received(ctl.Kind, now.Unix())
	switch ctl.Kind {
	case agentproto.AgentEvent:
		s.stats.Events.Add(1)
	case agentproto.AgentRequest:
		s.stats.Requests.Add(1)
		s.requestReply(st, ctl.Counter, ctl.Body)
	case agentproto.AgentStartup:
		s.stats.Startups.Add(1)
		s.register(st, pr)
		reply := ctl.Reply(s.o.ManagerVersion, s.o.AllowHigherVersions)
		if ctl.Startup.HasVersion {
			st.mu.Lock()
			st.version = ctl.Startup.Version
			st.mu.Unlock()
		}
		if err := s.sendTo(st, reply, pr.mayBlock()); err != nil {
			return
		}
		s.stats.SentAcks.Add(1)
		u := update{st: st, now: now.Unix(), kind: updStartup}
		if string(reply) != agentproto.MsgAck {
			u.kind, u.version, u.code = updRefused, ctl.Startup.Version, 2
			if ctl.Startup.HasVersion {
				u.code = 1
			}
			s.warn("remoted: refused the startup of an agent", "agent", st.idText, "version", ctl.Startup.Version)
		}
		s.enqueue(u)
	case agentproto.AgentKeepalive:
		s.register(st, pr)
		if err := s.sendTo(st, []byte(agentproto.MsgAck), pr.mayBlock()); err != nil {
			return
		}
		s.stats.SentAcks.Add(1)
		s.stats.Keepalives.Add(1)
		if !pr.read.IsZero() {
			s.stats.observeAck(time.Since(pr.read))
		}
		s.enqueue(update{st: st, now: now.Unix(), kind: updKeepalive, ka: ctl.Keepalive,
			digest: digest(payload), src: pr.ip})
	case agentproto.AgentShutdown:
		s.stats.Shutdowns.Add(1)
		// The agent is leaving: its connection no longer holds the key, so
		// its next one is not refused as a duplicate while this one closes.
		st.mu.Lock()
		if pr.conn != nil && st.conn == pr.conn {
			st.conn = nil
		}
		st.mu.Unlock()
		s.log.Info("remoted: agent stopped", "agent", st.idText, "name", st.entry.Name)
		s.enqueue(update{st: st, now: now.Unix(), kind: updShutdown})
	}
	// Events need no answer (the analysis engine is out of scope); requests'
	// answers went to the request channel.
}

// register makes the payload's origin the agent's reply path.
func (s *Server) register(st *agentState, pr peer) {
	st.mu.Lock()
	if pr.conn != nil {
		st.conn, st.udp, st.udpSrv = pr.conn, netip.AddrPort{}, nil
		pr.conn.agent.Store(st)
	} else {
		st.conn, st.udp, st.udpSrv = nil, pr.udp, pr.us
	}
	st.mu.Unlock()
}

// sendTo seals a payload for the agent with the cipher of its last message
// and writes it on its reply path, counting it in the agent's counters.
func (s *Server) sendTo(st *agentState, payload []byte, mayBlock bool) error {
	err := s.seal(st, payload, mayBlock)
	st.counts.sent(payload, err)
	return err
}

func (s *Server) seal(st *agentState, payload []byte, mayBlock bool) error {
	c, ua, us, method := st.replyPath()
	if c == nil && !ua.IsValid() {
		return errNoPath
	}
	key, err := st.cipher()
	if err != nil {
		return err
	}
	g, l := s.nextCounters()
	msg := agentproto.Message{Random: uint16(rand.Uint32()), Global: g, Local: l, Payload: payload}
	buf := getBuf(len(payload) + 256)
	defer putBuf(buf)
	head := 0
	if c != nil {
		head = agentproto.FrameHeaderSize
	}
	out, err := key.Seal((*buf)[:head], "", method, msg)
	if err != nil {
		return err
	}
	s.stats.BytesSent.Add(int64(len(out)))
	if c != nil {
		binary.LittleEndian.PutUint32(out, uint32(len(out)-head))
		return c.send(out, mayBlock)
	}
	return us.writeTo(out, ua)
}

// pong answers a clear-text "#ping".
func (s *Server) pong(pr peer) {
	if pr.conn != nil {
		frame, _ := agentproto.AppendFrame(nil, []byte(agentproto.PongReply))
		pr.conn.send(frame, pr.conn.p == nil)
		return
	}
	if pr.us != nil {
		pr.us.writeTo([]byte(agentproto.PongReply), pr.udp)
	}
}

// drop logs a refused message (rate-limited) and counts it; keys and
// payloads are never logged.
func (s *Server) drop(reason string, pr peer, agent string, err error) {
	s.stats.Dropped.Add(1)
	args := []any{"src", pr.ip}
	if agent != "" {
		args = append(args, "agent", agent)
	}
	if err != nil {
		args = append(args, "err", err)
		if code := agentproto.WazuhCode(err); code != 0 {
			args = append(args, "code", code)
		}
	}
	s.warn("remoted: "+reason, args...)
}

// digest is a cheap 64-bit FNV-1a of a keepalive, to see whether it changed.
func digest(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
