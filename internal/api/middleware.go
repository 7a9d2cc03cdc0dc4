package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/core"
)

// recorder captures what the handler answered, for the access log.
type recorder struct {
	http.ResponseWriter
	status int
	user   string
	ctxSum string
	body   any
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.ResponseWriter.Write(b)
}

// outer is the outermost layer: the server in the context, the security
// headers on every response, a 500 instead of a crash, and the access log.
func (s *Server) outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		for _, h := range securityHeaders {
			w.Header().Set(h[0], h[1])
		}
		rec := &recorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), serverKey, s))
		r = r.WithContext(context.WithValue(r.Context(), recorderKey, rec))
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeError(rec, r, core.Internal(fmt.Errorf("panic: %v", p)))
				}
			}
			if s.access != nil {
				s.access.Request(r, rec, clientIP(r), time.Since(start))
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

const recorderKey ctxKey = 1

func recorderFrom(r *http.Request) *recorder {
	rec, _ := r.Context().Value(recorderKey).(*recorder)
	return rec
}

// clientIP is the peer address; like Wazuh's server, X-Forwarded-For is
// trusted only from a proxy on 127.0.0.1.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if host == "127.0.0.1" {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first := strings.TrimSpace(strings.Split(xff, ",")[0])
			if net.ParseIP(first) != nil {
				return first
			}
		}
	}
	return host
}

// rateLimit applies max_request_per_minute per client address (Wazuh keeps
// one global counter; see docs/compatibility.md) and tells the client when
// it may retry.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.cfg.API.Access.MaxRequestPerMinute <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientIP(r)
		now := s.now()
		ok, retry := s.limiter.Allow(ip, now)
		code := 6001
		if ok && r.URL.Path == "/events" {
			ok, retry = s.eventsLim.Allow(ip, now)
			code = 6005
		}
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int((retry+time.Second-1)/time.Second)))
			e := core.E(code)
			e.Local = true
			writeError(w, r, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cors implements api.yaml's cors section the way Wazuh's server applies it:
// source_route "*" allows any origin, any other value allows origins it
// contains; preflights are allowed for GET only.
func (s *Server) cors(next http.Handler) http.Handler {
	c := s.cfg.API.CORS
	if !c.Enabled {
		return next
	}
	allowed := func(origin string) bool {
		return c.SourceRoute == "*" || (origin != "" && strings.Contains(c.SourceRoute, origin))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			var failures []string
			if !allowed(origin) {
				failures = append(failures, "origin")
			}
			if r.Header.Get("Access-Control-Request-Method") != http.MethodGet {
				failures = append(failures, "method")
			}
			h.Set("Vary", "Origin")
			if len(failures) > 0 {
				h.Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, "Disallowed CORS %s", strings.Join(failures, ", "))
				return
			}
			h.Set("Access-Control-Allow-Origin", allowOrigin(c.SourceRoute, origin, bool(c.AllowCredentials)))
			h.Set("Access-Control-Allow-Methods", "GET")
			h.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ", "))
			h.Set("Access-Control-Max-Age", "600")
			if c.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			w.WriteHeader(http.StatusOK)
			w.Write([]byte("OK"))
			return
		}
		if allowed(origin) {
			h.Set("Access-Control-Allow-Origin", allowOrigin(c.SourceRoute, origin, bool(c.AllowCredentials)))
			h.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ", "))
			if c.AllowCredentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			h.Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

func allowOrigin(route, origin string, creds bool) string {
	if route == "*" && !creds {
		return "*"
	}
	return origin
}
