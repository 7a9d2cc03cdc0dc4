// Package api serves the Wazuh 4.14 server API over HTTP: the route table,
// one file per spec tag, the envelopes, the error mapping and the middleware
// (security headers, access log, rate limits, login blocking, body limits).
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/cluster"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/connlimit"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/ratelog"
)

// Version is the Wazuh API version muster answers as.
const (
	Version  = "4.14.7"
	Revision = "rc1"
)

// Options configures a Server.
type Options struct {
	Config    config.Config
	Security  *core.Security
	Agents    *core.Agents // the agent registry; nil answers its endpoints with 500
	Log       *slog.Logger // operational log
	AccessLog *AccessLog   // api.log lines; nil disables them
	Now       func() time.Time
	Hostname  string
	Node      Node     // what /manager and /cluster report of this node
	Metrics   *Metrics // Prometheus collectors (NewMetrics); nil records nothing
}

// Server is the HTTP side of the manager.
type Server struct {
	cfg       config.Config
	sec       *core.Security
	agents    *core.Agents
	log       *slog.Logger
	access    *AccessLog
	now       func() time.Time
	hostname  string
	blocker   loginBlocker
	limiter   *auth.RateLimiter
	eventsLim *auth.RateLimiter
	handler   http.Handler
	meCache   meCache
	conns     *connlimit.Limiter // api.max_connections, shared by every listener
	connWarns ratelog.Limiter
	node      Node
	metrics   *Metrics
	member    atomic.Pointer[cluster.Node] // the cluster joined (JoinCluster); nil: standalone
}

// loginBlocker is api.access's login block (max_login_attempts per
// block_time and client address).
type loginBlocker interface {
	Blocked(ip string, now time.Time) (bool, time.Time)
	Failed(ip string, now time.Time)
}

type ctxKey int

const serverKey ctxKey = 0

// New builds the server and its route table.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	a := o.Config.API.Access
	s := &Server{cfg: o.Config, sec: o.Security, agents: o.Agents, log: o.Log, access: o.AccessLog, now: o.Now,
		hostname: o.Hostname, node: o.Node, metrics: o.Metrics,
		limiter: auth.NewRateLimiter(a.MaxRequestPerMinute),
	}
	// The login block is counted in the store when it keeps one, so that
	// every node sharing it sees the same failures.
	var attempts auth.LoginAttemptStore
	if o.Security != nil {
		attempts = o.Security.LoginAttempts()
		o.Security.SetMaxStaleness(time.Duration(o.Config.Database.MaxSecurityStaleness) * time.Second)
	}
	s.blocker = auth.NewSharedLoginBlocker(a.MaxLoginAttempts, time.Duration(a.BlockTime)*time.Second, attempts, o.Log)
	s.blocker = s.metrics.countBlocks(s.blocker)
	maxConns, perIP := o.Config.API.MaxConnections, o.Config.API.MaxConnectionsPerIP
	if maxConns == 0 {
		maxConns = connlimit.ProcessShares().API
	}
	if perIP == 0 {
		perIP = connlimit.APIPerAddr
	}
	s.conns = connlimit.New(maxConns, perIP)
	if a.MaxRequestPerMinute > 0 {
		s.eventsLim = auth.NewRateLimiter(min(a.MaxRequestPerMinute, 30))
	}
	router := chi.NewRouter()
	router.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, core.Problem(404, "Not Found", "404: Not Found"))
	})
	router.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, core.Problem(405, "Method Not Allowed", "405: Method Not Allowed"))
	})
	for _, rt := range routes() {
		router.Method(rt.method, rt.path, s.metrics.instrument(rt.method, rt.path, s.endpoint(rt)))
	}
	if s.metrics != nil {
		router.NotFound(s.metrics.unmatched(router.NotFoundHandler()).ServeHTTP)
		router.MethodNotAllowed(s.metrics.unmatched(router.MethodNotAllowedHandler()).ServeHTTP)
	}
	s.handler = s.outer(s.metrics.limited(s.rateLimit(s.cors(router))))
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func serverFrom(r *http.Request) *Server {
	s, _ := r.Context().Value(serverKey).(*Server)
	return s
}

func nodeName(r *http.Request) string {
	if s := serverFrom(r); s != nil {
		return s.cfg.Manager.NodeName
	}
	return "node01"
}

// Connection timeouts of the API. A TLS handshake must end within
// ReadHeaderTimeout too (net/http bounds it by the shortest of the read
// and write timeouts), so handshakes that never finish and requests whose
// headers trickle in (slowloris) lose their connection after 10 s; a body
// must arrive within ReadTimeout and a response be taken within
// WriteTimeout, far above Wazuh's 10 s request_timeout.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 120 * time.Second
	idleTimeout       = 120 * time.Second
)

// HTTPServer wraps the handler in an http.Server with sane limits.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// silentGrace is how long an API connection that sent no byte keeps its
// place when the cap is full and another client connects: real clients
// send their TLS ClientHello at once.
const silentGrace = 2 * time.Second

// LimitListener applies api.max_connections and api.max_connections_per_ip
// to a TCP listener: wrap it under the TLS listener, so that handshakes in
// progress count. Every listener of the server shares the caps. When the
// cap is full, a new connection takes the place of the oldest one that has
// sent nothing for silentGrace.
func (s *Server) LimitListener(ln net.Listener) net.Listener {
	l := connlimit.Listen(ln, s.conns, func(remote net.Addr, err error) {
		s.connWarns.Warn(s.log, "API: refusing a connection", "src", connlimit.SourceAddr(remote).String(),
			"reason", err.Error(), "max_connections", s.conns.Max(), "max_connections_per_ip", s.conns.Stats().PerAddr)
	})
	l.EvictSilent, l.Now = silentGrace, s.now
	return l
}

// ConnLimits returns the figures of the API's connection caps.
func (s *Server) ConnLimits() connlimit.Stats { return s.conns.Stats() }

// Serve answers on ln until ctx ends, then drains in-flight requests.
func (s *Server) Serve(ctx context.Context, ln net.Listener, hs *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; err != http.ErrServerClosed {
		return err
	}
	return nil
}
