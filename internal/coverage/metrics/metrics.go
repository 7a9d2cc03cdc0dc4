// Package metrics exposes `muster coverage` runs as Prometheus metrics:
// coverage per requirement, findings by kind and source, the age of open
// gaps, and each source's fetch status and duration. It keeps the latest run
// and serves it (--listen) or writes it once (-o prometheus).
package metrics

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/muster-project/muster/internal/coverage"
)

// GapAge is one open gap's kind, sources and age, from the run history.
type GapAge struct {
	Kind    string
	Sources []string
	Age     time.Duration
}

// Exporter holds the latest run; it is a prometheus.Collector.
type Exporter struct {
	mu     sync.Mutex
	report *coverage.Report
	gaps   []GapAge
	runs   float64
	reg    *prometheus.Registry
}

var (
	descRatio   = prometheus.NewDesc("muster_coverage_ratio", "Share of in-scope devices with a healthy record in every must_have source (1 when none is in scope).", []string{"requirement", "scope", "must_have"}, nil)
	descInScope = prometheus.NewDesc("muster_coverage_requirement_devices", "Devices in a requirement's scope, and of those the covered ones.", []string{"requirement", "state"}, nil)
	descSkipped = prometheus.NewDesc("muster_coverage_requirement_skipped", "1 when a requirement was not evaluated because a source it needs is unavailable.", []string{"requirement"}, nil)
	descFinding = prometheus.NewDesc("muster_coverage_findings", "Findings of the latest run by kind and by source involved (a finding counts once for each of its sources).", []string{"kind", "source"}, nil)
	descKind    = prometheus.NewDesc("muster_coverage_findings_total", "Findings of the latest run by kind.", []string{"kind"}, nil)
	descGapAge  = prometheus.NewDesc("muster_coverage_gap_age_seconds", "Age of the oldest open gap, by kind and source (from the run history).", []string{"kind", "source"}, nil)
	descGaps    = prometheus.NewDesc("muster_coverage_open_gaps", "Open gaps by kind (from the run history).", []string{"kind"}, nil)
	descUp      = prometheus.NewDesc("muster_coverage_source_up", "1 when the source's inventory was read in full, 0 when it was unavailable.", []string{"source", "kind"}, nil)
	descFetch   = prometheus.NewDesc("muster_coverage_source_fetch_seconds", "How long reading the source took.", []string{"source"}, nil)
	descRecords = prometheus.NewDesc("muster_coverage_source_records", "Records read from the source.", []string{"source"}, nil)
	descDevices = prometheus.NewDesc("muster_coverage_devices", "Devices after matching.", nil, nil)
	descLast    = prometheus.NewDesc("muster_coverage_last_run_timestamp_seconds", "When the latest run started.", nil, nil)
	descExit    = prometheus.NewDesc("muster_coverage_exit_code", "The latest run's exit code: 0 covered, 1 a finding over its limit, 2 incomplete.", nil, nil)
	descRuns    = prometheus.NewDesc("muster_coverage_runs_total", "Runs made by this process.", nil, nil)
)

// New returns an exporter with its own registry.
func New() *Exporter {
	x := &Exporter{reg: prometheus.NewRegistry()}
	x.reg.MustRegister(x)
	return x
}

// Update replaces the latest run and its open gaps.
func (x *Exporter) Update(r *coverage.Report, gaps []GapAge) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.report, x.gaps = r, gaps
	x.runs++
}

// Describe sends every metric's description.
func (x *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRatio, descInScope, descSkipped, descFinding, descKind, descGapAge, descGaps,
		descUp, descFetch, descRecords, descDevices, descLast, descExit, descRuns} {
		ch <- d
	}
}

// Collect sends the latest run's values.
func (x *Exporter) Collect(ch chan<- prometheus.Metric) {
	x.mu.Lock()
	defer x.mu.Unlock()
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, x.runs)
	r := x.report
	if r == nil {
		return
	}
	for _, q := range r.Requirements {
		name := "R" + strconv.Itoa(q.Index+1)
		skipped := 0.0
		if q.Skipped != "" {
			skipped = 1
		} else {
			g(descRatio, q.Ratio, name, strings.Join(q.Scope, ","), strings.Join(q.MustHave, ","))
			g(descInScope, float64(q.InScope), name, "in_scope")
			g(descInScope, float64(q.Covered), name, "covered")
		}
		g(descSkipped, skipped, name)
	}
	bySource := map[[2]string]int{}
	for _, f := range r.Findings {
		for _, s := range f.Sources {
			bySource[[2]string{f.Kind, s}]++
		}
	}
	for _, k := range coverage.FindingKinds {
		g(descKind, float64(r.Summary.Findings[k]), k)
		for _, s := range r.Sources {
			g(descFinding, float64(bySource[[2]string{k, s.Name}]), k, s.Name)
		}
	}
	oldest := map[[2]string]time.Duration{}
	open := map[string]int{}
	for _, gap := range x.gaps {
		open[gap.Kind]++
		for _, s := range gap.Sources {
			k := [2]string{gap.Kind, s}
			oldest[k] = max(oldest[k], gap.Age)
		}
	}
	if x.gaps != nil {
		for _, k := range coverage.FindingKinds {
			g(descGaps, float64(open[k]), k)
		}
		for k, age := range oldest {
			g(descGapAge, age.Seconds(), k[0], k[1])
		}
	}
	for _, s := range r.Sources {
		up := 0.0
		if s.Status == coverage.SourceOK {
			up = 1
		}
		g(descUp, up, s.Name, s.Kind)
		g(descFetch, s.FetchSeconds, s.Name)
		g(descRecords, float64(s.Records), s.Name)
	}
	g(descDevices, float64(r.Summary.Devices))
	g(descLast, float64(r.StartedAt.UnixNano())/1e9)
	g(descExit, float64(r.ExitCode))
}

// Handler serves the metrics (and nothing else) for --listen.
func (x *Exporter) Handler() http.Handler {
	return promhttp.HandlerFor(x.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Write writes the metrics once in the text exposition format (-o prometheus).
func (x *Exporter) Write(w io.Writer) error {
	fams, err := x.reg.Gather()
	if err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}
