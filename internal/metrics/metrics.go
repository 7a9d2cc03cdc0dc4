// Package metrics is the operations listener of `muster server`
// (--metrics-listen): Prometheus metrics at /metrics from an explicit
// registry, and the load balancers' /livez and /readyz. It holds the
// registry, the collectors that read the agent daemons' own counters at
// scrape time, the store latency histogram and the health checks; the
// manager wires them to the running parts.
package metrics

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors; the caller adds the rest.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// StoreOps are the store operations that report their latency
// (sqlstore's observe calls); their observers are created up front.
var StoreOps = []string{"transaction", "list_agents", "count_agents", "get_agents", "keepalive", "key_entries", "ping"}

// StoreLatency registers muster_store_call_duration_seconds and returns the
// observer to give the store (sqlstore.Store.SetLatencyObserver).
func StoreLatency(reg prometheus.Registerer) func(op string, d time.Duration) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "muster_store_call_duration_seconds",
		Help:    "Time a call to the store took, by operation.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}},
		[]string{"op"})
	reg.MustRegister(h)
	known := make(map[string]prometheus.Observer, len(StoreOps))
	for _, op := range StoreOps {
		known[op] = h.WithLabelValues(op)
	}
	// known is read-only from here on, so no lock is needed.
	return func(op string, d time.Duration) {
		o := known[op]
		if o == nil {
			o = h.WithLabelValues(op)
		}
		o.Observe(d.Seconds())
	}
}

// Server timeouts: scrapes and probes are small and quick.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
)

// Handler serves /metrics from reg and the health endpoints of h.
func Handler(reg *prometheus.Registry, h *Health, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn), Registry: reg}))
	mux.HandleFunc("GET /livez", h.live)
	mux.HandleFunc("GET /readyz", h.ready)
	return mux
}

// Serve answers on ln until ctx ends, then shuts down.
func Serve(ctx context.Context, ln net.Listener, handler http.Handler, log *slog.Logger) error {
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: readHeaderTimeout, WriteTimeout: writeTimeout,
		IdleTimeout: idleTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := hs.Shutdown(shutdown)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
