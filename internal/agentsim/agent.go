package agentsim

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
)

// AgentOptions configure one simulated agent.
type AgentOptions struct {
	Addr       string // host:port of the secure channel
	Protocol   string // "tcp" (default) or "udp"
	Method     agentproto.Method
	Version    string        // "v4.14.7"
	NotifyTime time.Duration // keepalive period, 20 s by default
	LocalAddr  net.Addr      // source address to bind, if any
	// HandshakeTimeout bounds the wait for the startup's ACK (60 s).
	HandshakeTimeout time.Duration
	Stats            *Stats
	// OnFile is called with every verified shared file (tests).
	OnFile func(agentproto.ReceivedFile)
	// OnCommand is called with execd, reconnect and request messages (tests).
	OnCommand func(agentproto.ManagerMessage)

	// What a fleet file sets per agent (fleet.go); zero values keep the
	// behaviour of plain `muster agent-sim`.

	// Managers is the agent's <server> list, tried in order (failover.go);
	// when set, Addr is not used.
	Managers []string
	// Retries is <max_retries>, handshakes tried on one manager before the
	// next (5); RetryInterval is <retry_interval>, the wait between them (10 s).
	Retries       int
	RetryInterval time.Duration
	// TimeReconnect is <time-reconnect>: a manager silent this long makes the
	// agent reconnect (60 s, at least 3 notify periods).
	TimeReconnect time.Duration
	// Wire holds the differences of older agent versions (WireFor); nil is
	// a current agent without the 4.14.7 keepalive delay.
	Wire *Wire
	// Uname is the keepalive's uname text; empty is a Debian 12 host.
	Uname string
	// Labels are label lines sent in every keepalive (`"key":value`).
	Labels []string
	// Requests makes the agent silent or failing on the request channel.
	Requests RequestBehaviour
}

// Agent is one simulated Wazuh agent on the secure channel.
type Agent struct {
	Entry  agentproto.KeyEntry
	o      AgentOptions
	key    *agentproto.Key
	prefix string // "!ID!" is sent when the key IP is not a single host

	wmu      sync.Mutex
	conn     net.Conn
	counters agentproto.Counters

	merged    atomic.Pointer[string] // sum of the merged.mg applied
	configSum atomic.Pointer[string] // sum of agent.conf from it
	sentAt    atomic.Int64           // unix ns of the keepalive awaiting its ACK
	heard     atomic.Int64           // unix ns of the last control message from the manager
	started   bool
	files     agentproto.FileReceiver
	buf       []byte
	connected atomic.Bool
	killed    atomic.Bool // Kill or Shutdown: Run stops
	leaving   atomic.Bool // a shutdown was sent: the end of the connection is expected
	saidBye   atomic.Bool // the manager got a shutdown since the last handshake

	server     atomic.Int32 // index in o.Managers of the manager in use
	handshakes atomic.Int64 // successful handshakes (failover.go counts failures by it)
	fresh      bool         // no session yet since Run began (the 4.14.7 keepalive delay)

	// The agent daemon's own counters, for its getstate answer.
	born          int64        // unix ns the agent was created
	msgSent       atomic.Int64 // messages written to the manager
	msgEvents     atomic.Int64 // events among them
	lastKeepalive atomic.Int64 // unix ns of the last keepalive written
}

// NewAgent prepares an agent from its key entry.
func NewAgent(e agentproto.KeyEntry, o AgentOptions) (*Agent, error) {
	if o.Protocol == "" {
		o.Protocol = "tcp"
	}
	if o.Method == 0 {
		o.Method = agentproto.MethodAES
	}
	if o.Version == "" {
		o.Version = "v4.14.7"
	}
	if o.NotifyTime <= 0 {
		o.NotifyTime = 20 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 60 * time.Second
	}
	if o.Stats == nil {
		o.Stats = NewStats()
	}
	k, err := e.Cipher()
	if err != nil {
		return nil, err
	}
	a := &Agent{Entry: e, o: o, key: k, buf: make([]byte, 2048), born: time.Now().UnixNano()}
	if r, err := agentproto.ParseIPRange(e.IP); err != nil || !r.SingleHost() {
		a.prefix = e.ID
	}
	return a, nil
}

// MergedSum is the sum of the merged.mg the agent applied, or "".
func (a *Agent) MergedSum() string {
	if p := a.merged.Load(); p != nil {
		return *p
	}
	return ""
}

// Connected reports whether the agent completed its handshake.
func (a *Agent) Connected() bool { return a.connected.Load() }

// errReconnect asks Run to connect again.
var errReconnect = errors.New("agentsim: reconnect")

// Run keeps the agent connected until ctx ends, then sends its shutdown.
func (a *Agent) Run(ctx context.Context) error {
	defer func() {
		// Stopped between two connections (a forced reconnect, a backoff):
		// the manager still counts the agent active, so say goodbye on a
		// connection of its own, as a stopping agent does.
		if a.started && !a.killed.Load() && !a.saidBye.Load() {
			a.farewell()
		}
	}()
	a.fresh = true
	if len(a.o.Managers) > 0 {
		a.runServers(ctx)
		return nil
	}
	backoff := time.Second
	for ctx.Err() == nil && !a.killed.Load() {
		err := a.session(ctx)
		if ctx.Err() != nil || a.killed.Load() {
			return nil
		}
		if err != nil && !errors.Is(err, errReconnect) {
			a.o.Stats.fail(err)
			t := time.NewTimer(backoff + rand.N(backoff))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = time.Second
		a.o.Stats.Reconnects.Add(1)
	}
	return nil
}

// session is one connection: handshake, keepalives, then reading the
// manager's messages until it fails, a reconnect is asked or ctx ends.
func (a *Agent) session(ctx context.Context) error {
	if err := a.Connect(ctx); err != nil {
		return err
	}
	defer a.disconnect()
	left := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(left)
		if a.killed.Load() {
			a.disconnect()
			return
		}
		a.leave()
	})
	defer func() {
		if !stop() { // the shutdown is being sent: Run must know whether it went out
			<-left
		}
	}()
	if !a.started {
		a.started = true
		a.send(a.startedEvent())
	}
	if a.fresh && a.o.Wire != nil && a.o.Wire.KeepaliveAfterPeriod {
		a.keepaliveLater(a.conn0()) // 4.14.7 waits one notify_time after starting
	} else {
		go a.keepaliveTick() // the first keepalive right after the handshake, as agents up to 4.14.6
	}
	a.fresh = false
	for {
		m, err := a.receive(time.Time{})
		if err != nil {
			if a.leaving.Swap(false) {
				return errReconnect
			}
			return err
		}
		if err := a.onMessage(m); err != nil {
			return err
		}
	}
}

// Connect dials the manager, sends the startup and waits for its ACK.
func (a *Agent) Connect(ctx context.Context) error {
	local := a.o.LocalAddr
	if t, ok := local.(*net.TCPAddr); ok && a.o.Protocol == "udp" {
		local = &net.UDPAddr{IP: t.IP}
	}
	d := net.Dialer{LocalAddr: local, Timeout: a.o.HandshakeTimeout}
	c, err := d.DialContext(ctx, a.o.Protocol, a.serverAddr())
	if err != nil {
		return err
	}
	a.wmu.Lock()
	a.conn = c
	a.wmu.Unlock()
	if err := a.send(a.startup()); err != nil {
		a.disconnect()
		return err
	}
	m, err := a.receive(time.Now().Add(a.o.HandshakeTimeout))
	if err != nil {
		a.disconnect()
		return err
	}
	switch m.Kind {
	case agentproto.ManagerAck:
	case agentproto.ManagerError:
		a.disconnect()
		return fmt.Errorf("agentsim: manager refused the startup: %s", m.Message)
	default:
		a.disconnect()
		return fmt.Errorf("agentsim: expected the ACK, got message kind %d", m.Kind)
	}
	a.heard.Store(time.Now().UnixNano())
	a.saidBye.Store(false)
	a.connected.Store(true)
	a.handshakes.Add(1)
	a.o.Stats.Connected.Add(1)
	return nil
}

// disconnect closes the current connection once.
func (a *Agent) disconnect() {
	a.wmu.Lock()
	c := a.conn
	a.conn = nil
	a.wmu.Unlock()
	if c != nil {
		c.Close()
	}
	if a.connected.Swap(false) {
		a.o.Stats.Connected.Add(-1)
	}
}

// Kill drops the connection without a shutdown message and stops Run, as
// when the agent's host loses power.
func (a *Agent) Kill() {
	a.killed.Store(true)
	a.disconnect()
}

// Shutdown sends the shutdown message, closes the connection and stops
// Run, as an agent does when it stops (Run also does it when its context
// ends).
func (a *Agent) Shutdown() {
	a.killed.Store(true)
	a.leave()
}

// leave sends the shutdown message and half-closes the connection: the
// manager reads everything, then closes its side, and the agent never
// drops unread data (which would reset the connection and could lose the
// shutdown). Without an answer the connection is closed after a second.
func (a *Agent) leave() {
	a.leaving.Store(true)
	if a.send([]byte(agentproto.MsgShutdown)) == nil {
		a.saidBye.Store(true)
	}
	a.wmu.Lock()
	c := a.conn
	a.wmu.Unlock()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		time.AfterFunc(time.Second, func() {
			a.wmu.Lock()
			same := a.conn == c
			a.wmu.Unlock()
			if same {
				a.disconnect()
			}
		})
		return
	}
	a.disconnect()
}

// farewell sends the shutdown message on a connection of its own, without
// a handshake, and waits (a second at most) for the manager to close it.
func (a *Agent) farewell() {
	local := a.o.LocalAddr
	if t, ok := local.(*net.TCPAddr); ok && a.o.Protocol == "udp" {
		local = &net.UDPAddr{IP: t.IP}
	}
	d := net.Dialer{LocalAddr: local, Timeout: time.Second}
	c, err := d.Dial(a.o.Protocol, a.serverAddr())
	if err != nil {
		return
	}
	a.wmu.Lock()
	a.conn = c
	a.wmu.Unlock()
	defer a.disconnect()
	if a.send([]byte(agentproto.MsgShutdown)) != nil {
		return
	}
	a.saidBye.Store(true)
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite()
		tc.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, tc)
	}
}

// send seals and writes one payload.
func (a *Agent) send(payload []byte) error {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	if a.conn == nil {
		return net.ErrClosed
	}
	g, l := a.counters.Next()
	m := agentproto.Message{Random: uint16(rand.Uint32()), Global: g, Local: l, Payload: payload}
	var out []byte
	var err error
	if a.o.Protocol == "tcp" {
		out, err = a.key.Seal(make([]byte, 4, 512), a.prefix, a.o.Method, m)
		binary.LittleEndian.PutUint32(out, uint32(len(out)-4))
	} else {
		out, err = a.key.Seal(nil, a.prefix, a.o.Method, m)
	}
	if err != nil {
		return err
	}
	a.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err = a.conn.Write(out); err == nil {
		a.counted(payload)
	}
	return err
}

// counted records a written payload in the agent daemon's counters.
func (a *Agent) counted(payload []byte) {
	a.msgSent.Add(1)
	switch ctl, err := agentproto.ParseAgentControl(payload); {
	case err != nil:
	case ctl.Kind == agentproto.AgentEvent:
		a.msgEvents.Add(1)
	case ctl.Kind == agentproto.AgentKeepalive:
		a.lastKeepalive.Store(time.Now().UnixNano())
	}
}

// receive reads and decrypts one message from the manager.
func (a *Agent) receive(deadline time.Time) (agentproto.ManagerMessage, error) {
	a.wmu.Lock()
	c := a.conn
	a.wmu.Unlock()
	if c == nil {
		return agentproto.ManagerMessage{}, net.ErrClosed
	}
	c.SetReadDeadline(deadline)
	var p []byte
	var err error
	if a.o.Protocol == "tcp" {
		p, err = agentproto.ReadFrame(c, a.buf)
	} else {
		if len(a.buf) < agentproto.MaxFrameSize {
			a.buf = make([]byte, agentproto.MaxFrameSize)
		}
		var n int
		n, err = c.Read(a.buf)
		p = a.buf[:n]
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return agentproto.ManagerMessage{}, err
	}
	if cap(p) > cap(a.buf) {
		a.buf = p[:cap(p)]
	}
	msg, _, err := a.key.Open(p)
	if err != nil {
		return agentproto.ManagerMessage{}, fmt.Errorf("agentsim: manager message: %w", err)
	}
	return agentproto.ParseManagerMessage(msg.Payload), nil
}

// onMessage handles a message after the handshake.
func (a *Agent) onMessage(m agentproto.ManagerMessage) error {
	now := time.Now().UnixNano()
	if m.Kind != agentproto.ManagerData {
		a.heard.Store(now)
	}
	switch m.Kind {
	case agentproto.ManagerAck:
		if t := a.sentAt.Swap(0); t != 0 {
			a.o.Stats.observe(time.Duration(now - t))
		}
	case agentproto.ManagerFileUpdate, agentproto.ManagerData, agentproto.ManagerFileClose:
		a.heard.Store(now)
		f, err := a.files.Handle(m)
		if err != nil {
			a.o.Stats.fail(err)
			return nil
		}
		if f != nil {
			a.apply(f)
		}
	case agentproto.ManagerForceReconnect:
		a.notify(m)
		return errReconnect
	case agentproto.ManagerRequest:
		if string(m.Body) == agentproto.RequestAck {
			return nil // the manager's receipt of an answer (UDP)
		}
		a.notify(m)
		a.answer(m)
	case agentproto.ManagerExecd:
		a.notify(m)
		if isRestart(m.Message) {
			a.leave() // the manager closes, then Run connects again
		}
	}
	return nil
}

func (a *Agent) notify(m agentproto.ManagerMessage) {
	a.o.Stats.Commands.Add(1)
	if a.o.OnCommand != nil {
		a.o.OnCommand(m)
	}
}

// apply takes a received merged.mg as the agent's shared configuration.
func (a *Agent) apply(f *agentproto.ReceivedFile) {
	if f.Name != agentproto.MergedFileName {
		return
	}
	sum := f.Sum
	a.merged.Store(&sum)
	if _, files, err := agentproto.SplitMergedFile(f.Data); err == nil {
		for _, sf := range files {
			if sf.Name == "agent.conf" {
				h := md5.Sum(sf.Data)
				cs := hex.EncodeToString(h[:])
				a.configSum.Store(&cs)
			}
		}
	}
	a.o.Stats.Files.Add(1)
	if a.o.OnFile != nil {
		a.o.OnFile(*f)
	}
}
