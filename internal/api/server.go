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
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
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
	blocker   *auth.LoginBlocker
	limiter   *auth.RateLimiter
	eventsLim *auth.RateLimiter
	handler   http.Handler
	meCache   meCache
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
		hostname: o.Hostname,
		blocker:  auth.NewLoginBlocker(a.MaxLoginAttempts, time.Duration(a.BlockTime)*time.Second),
		limiter:  auth.NewRateLimiter(a.MaxRequestPerMinute),
	}
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
		router.Method(rt.method, rt.path, s.endpoint(rt))
	}
	s.handler = s.outer(s.rateLimit(s.cors(router)))
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

// HTTPServer wraps the handler in an http.Server with sane limits.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

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
