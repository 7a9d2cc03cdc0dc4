package scan

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Exporter serves the figures of the latest scan as Prometheus metrics. It
// owns its state and its registry (no global one): create one per listener.
type Exporter struct {
	perAgent bool
	metrics  http.Handler // promhttp over the exporter's own registry

	mu          sync.Mutex
	last        []Family
	scans       int
	errors      int
	up          bool
	lastSuccess time.Time
	lastError   string
	logins      int64
}

// NewExporter returns an Exporter; perAgent adds one keepalive-age series per agent.
func NewExporter(perAgent bool) *Exporter {
	x := &Exporter{perAgent: perAgent}
	reg := prometheus.NewRegistry()
	reg.MustRegister(familyCollector{x.families})
	x.metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return x
}

// Update records the outcome of one scan; logins is the client's login count so far.
func (x *Exporter) Update(r *Report, err error, logins int64, now time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.scans++
	x.logins = logins
	if err != nil {
		x.errors++
		x.up = false
		x.lastError = err.Error()
		return
	}
	x.up = true
	x.lastError = ""
	x.lastSuccess = now
	x.last = Metrics(r, x.perAgent)
}

// families returns the current families, the exporter's own included.
func (x *Exporter) families() []Family {
	x.mu.Lock()
	defer x.mu.Unlock()
	fams := append([]Family(nil), x.last...)
	exit := 0.0
	if !x.up {
		exit = 2
		// The figures of the last good scan stay, but the exit code says this one failed.
		for i := range fams {
			if fams[i].Name == "muster_scan_exit_code" {
				fams[i] = gauge(fams[i].Name, fams[i].Help, sample(exit))
			}
		}
	}
	last := 0.0
	if !x.lastSuccess.IsZero() {
		last = float64(x.lastSuccess.UnixMilli()) / 1000
	}
	fams = append(fams,
		gauge("muster_scan_up", "1 when the last scan completed.", sample(boolf(x.up))),
		Family{Name: "muster_scan_runs_total", Help: "Scans attempted since the exporter started.", Type: "counter",
			Samples: []Sample{sample(float64(x.scans))}},
		Family{Name: "muster_scan_errors_total", Help: "Scans that could not complete.", Type: "counter",
			Samples: []Sample{sample(float64(x.errors))}},
		Family{Name: "muster_scan_logins_total", Help: "Logins the scanner's API client made (one token serves many scans).", Type: "counter",
			Samples: []Sample{sample(float64(x.logins))}},
		gauge("muster_scan_last_success_timestamp_seconds", "When the last successful scan ended (Unix time).", sample(last)),
	)
	return fams
}

// ServeHTTP answers /metrics with the text format and anything else with a short page.
func (x *Exporter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		x.mu.Lock()
		msg := x.lastError
		x.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "muster scan exporter: metrics at /metrics")
		if msg != "" {
			fmt.Fprintln(w, "last scan failed:", msg)
		}
		return
	}
	x.metrics.ServeHTTP(w, r)
}
