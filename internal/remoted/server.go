package remoted

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/muster-project/muster/internal/agentproto"
	"github.com/muster-project/muster/internal/connlimit"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/ratelog"
)

// Registry is what the secure channel needs from the agent registry;
// *core.Agents implements it.
type Registry interface {
	// KeyTable returns every agent's key entry and the registry version.
	KeyTable(ctx context.Context) ([]core.KeyEntry, int64, error)
	// RegistryVersion changes whenever an entry of the key table changes.
	RegistryVersion(ctx context.Context) (int64, error)
	// UpdateConnections applies a batch of connection updates.
	UpdateConnections(ctx context.Context, us []core.ConnUpdate) error
	// SyncGroups returns the groups of agents, giving the default group to
	// those without one.
	SyncGroups(ctx context.Context, ids []int) (map[int][]string, error)
}

// Shared gives the merged.mg an agent of these groups receives (for
// several, Wazuh's multi-group file); *core.Agents implements it.
type Shared interface {
	MergedFile(groups []string) ([]byte, error)
}

// Options configure a Server. Zero durations take Wazuh's defaults.
type Options struct {
	Registry Registry
	// Shared, when set, enables the merged.mg sync.
	Shared Shared
	Log    *slog.Logger
	// Now is the registry's clock (keepalive times, overtake, disconnection).
	Now func() time.Time
	// ManagerVersion is the manager's version ("v4.14.7"): a startup from a
	// newer agent is refused unless AllowHigherVersions.
	ManagerVersion      string
	AllowHigherVersions bool
	// ManagerHost is written as each agent's manager_host.
	ManagerHost string
	// VerifyMsgID enforces increasing message counters (remoted.verify_msg_id).
	VerifyMsgID bool
	// ConnectionOvertake is connection_overtake_time (60 s): how long an
	// agent's connection must be silent before another may take its key.
	// Negative never lets a connection take over.
	ConnectionOvertake time.Duration
	// DisconnectionTime is agents_disconnection_time (900 s): no command is
	// sent to an agent silent for longer.
	DisconnectionTime time.Duration
	// FlushInterval is how often state changes are written (1 s).
	FlushInterval time.Duration
	// KeyPoll is how often the registry version is checked (5 s).
	KeyPoll time.Duration
	// SharedReload is how long a group's merged.mg is cached (10 s).
	SharedReload time.Duration
	// FirstMessageTimeout closes TCP connections that send no valid message
	// within it (60 s, the agent's own handshake timeout).
	FirstMessageTimeout time.Duration
	// IdleTimeout closes TCP connections silent for longer (0: never; the
	// kernel's TCP keepalive still finds dead peers).
	IdleTimeout time.Duration
	// WriteTimeout bounds one write to an agent (10 s).
	WriteTimeout time.Duration
	// MaxConnections caps open TCP connections: 0 takes the agent port's
	// share of the process's file limit (connlimit.Split), negative is no
	// cap. A connection over the cap is closed as soon as accepted.
	MaxConnections int
	// MaxConnectionsPerIP caps the connections of one source address (an
	// IPv6 /64) that no agent key vouched for yet: 0 is 256, negative no
	// cap. Registered agents' connections do not count, so a NAT address
	// may carry any number of agents.
	MaxConnectionsPerIP int
	// SilentGrace is how long a connection that sent no agent message may
	// stay once the server holds more than 90 % of MaxConnections (5 s).
	// The oldest are closed first; registered agents never are.
	SilentGrace time.Duration
	// Clock times connections: first message, idle and silent eviction
	// (time.Now). Tests move it instead of sleeping.
	Clock func() time.Time
	// StatsEvery is how often a line of counters is logged (60 s; negative: never).
	StatsEvery time.Duration
}

// Server is the 1514 secure-channel server.
type Server struct {
	o    Options
	log  *slog.Logger
	keys *keyTable

	sendMu   sync.Mutex
	counters agentproto.Counters // the manager's one sender pair

	pmu     sync.Mutex
	pending map[int]update
	flushMu sync.Mutex // held by the flush in progress

	shared *sharedCache
	pushes chan push
	polls  []*poller      // nil: one goroutine per TCP connection
	next   int            // the poller of the next connection (under mu)
	work   sync.WaitGroup // the pollers

	mu        sync.Mutex
	listeners map[any]func() error
	conns     map[*tcpConn]struct{}
	closed    bool
	wg        sync.WaitGroup // connections and serving loops
	bg        sync.WaitGroup // background loops
	stop      context.CancelFunc
	started   bool

	stats Stats
	req   requestTable // the request channel (request.go)
	warns ratelog.Limiter
	lim   *connlimit.Limiter
	kick  chan struct{} // a refusal for the full cap: evict now
}

// New returns a server; call Start before serving.
func New(o Options) *Server {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.ManagerVersion == "" {
		o.ManagerVersion = "v4.14.7"
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.ConnectionOvertake, 60*time.Second)
	def(&o.DisconnectionTime, 900*time.Second)
	def(&o.FlushInterval, time.Second)
	def(&o.KeyPoll, 5*time.Second)
	def(&o.SharedReload, 10*time.Second)
	def(&o.FirstMessageTimeout, 60*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.StatsEvery, time.Minute)
	def(&o.SilentGrace, 5*time.Second)
	s := &Server{o: o, log: o.Log, pending: map[int]update{}, pushes: make(chan push, 4096),
		listeners: map[any]func() error{}, conns: map[*tcpConn]struct{}{}}
	s.limits()
	s.keys = newKeyTable(s)
	s.shared = newSharedCache(o.Shared, o.SharedReload)
	s.polls = newPollers(s, runtime.GOMAXPROCS(0))
	return s
}

// pickPoller returns the poller of the next connection, in turn, or nil.
func (s *Server) pickPoller() *poller {
	if len(s.polls) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	return s.polls[s.next%len(s.polls)]
}

// Start loads the key table and runs the background work (key polling,
// batched registry writes, file pushes) until Close.
func (s *Server) Start(ctx context.Context) error {
	if err := s.keys.reload(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	s.stop, s.started = cancel, true
	s.mu.Unlock()
	s.bg.Add(4 + pushWorkers)
	go func() { defer s.bg.Done(); s.keys.poll(ctx) }()
	go func() { defer s.bg.Done(); s.evictLoop(ctx) }()
	go func() { defer s.bg.Done(); s.logStats(ctx) }()
	go func() { defer s.bg.Done(); s.flushLoop(ctx) }()
	for range pushWorkers {
		go func() { defer s.bg.Done(); s.pushLoop(ctx) }()
	}
	return nil
}

// track registers a listener so Close can stop it; false when closed.
func (s *Server) track(key any, closeFn func() error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[key] = closeFn
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(key any) {
	s.mu.Lock()
	delete(s.listeners, key)
	s.mu.Unlock()
	s.wg.Done()
}

// ErrClosed is returned by the Serve methods after Close.
var ErrClosed = errors.New("remoted: server closed")

// Close stops the listeners, closes every connection, writes the pending
// state changes and waits for every goroutine of the server.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var errs []error
	for _, fn := range s.listeners {
		if err := fn(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	conns := make([]*tcpConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	stop, started := s.stop, s.started
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.wg.Wait()
	for _, p := range s.polls { // every connection is gone: the pollers may stop
		p.stop()
	}
	s.work.Wait()
	if started {
		stop()
		s.bg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s.flush(ctx)
		cancel()
	}
	return errors.Join(errs...)
}

// nextCounters advances the manager's sender counters.
func (s *Server) nextCounters() (uint32, uint32) {
	s.sendMu.Lock()
	g, l := s.counters.Next()
	s.sendMu.Unlock()
	return g, l
}
