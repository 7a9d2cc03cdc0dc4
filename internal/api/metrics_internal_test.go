package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/muster-project/muster/internal/config"
)

// sample is the value of the series of name with exactly labels, or -1.
func sample(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue next
				}
			}
			return metricValue(m)
		}
	}
	return -1
}

func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

func quietServer(t testing.TB, mutate func(*config.Config), m *Metrics) *Server {
	cfg := config.Default()
	if mutate != nil {
		mutate(&cfg)
	}
	return New(Options{Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m,
		Now: func() time.Time { return time.Unix(1_700_000_000, 0) }})
}

// TestMetricsUnroutedAndRateLimited: 404s count under the "unmatched"
// route, and a request the rate limit refuses counts as rate-limited and
// as a 429, once.
func TestMetricsUnroutedAndRateLimited(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := quietServer(t, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 2 }, NewMetrics(reg))
	codes := []int{}
	for range 3 {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/no/such/path/1234", nil))
		codes = append(codes, rec.Code)
	}
	if codes[0] != 404 || codes[1] != 404 || codes[2] != 429 {
		t.Fatalf("codes = %v, want 404 404 429", codes)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"muster_api_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 2},
		{"muster_api_http_requests_total", map[string]string{"route": "unmatched", "method": "GET", "code": "429"}, 1},
		{"muster_api_http_request_duration_seconds", map[string]string{"route": "unmatched", "method": "GET"}, 3},
		{"muster_api_rate_limited_requests_total", nil, 1},
	} {
		if got := sample(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// TestMetricsCodesAndPanics: a route's codes are counted under its
// pattern, including one outside the cached set, and a handler that
// panics counts as the 500 the outer layer answers.
func TestMetricsCodesAndPanics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	s := quietServer(t, nil, m)
	code := 200
	h := s.outer(m.instrument("GET", "/things/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code == 0 {
			panic("boom")
		}
		w.WriteHeader(code)
	})))
	for _, c := range []int{200, 200, 418, 0} {
		code = c
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/things/7", nil))
	}
	for c, want := range map[string]float64{"200": 2, "418": 1, "500": 1} {
		if got := sample(t, reg, "muster_api_http_requests_total",
			map[string]string{"route": "/things/{id}", "method": "GET", "code": c}); got != want {
			t.Errorf("code %s: %v, want %v", c, got, want)
		}
	}
}

type fakeBlocker struct{ blocked bool }

func (f *fakeBlocker) Blocked(string, time.Time) (bool, time.Time) { return f.blocked, time.Time{} }
func (f *fakeBlocker) Failed(string, time.Time)                    {}

// TestMetricsCountBlocks: failures and refused-while-blocked attempts are
// counted as they pass through the block; a nil Metrics leaves it alone.
func TestMetricsCountBlocks(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	f := &fakeBlocker{}
	b := m.countBlocks(f)
	b.Failed("10.0.0.1", time.Time{})
	b.Failed("10.0.0.1", time.Time{})
	if blocked, _ := b.Blocked("10.0.0.1", time.Time{}); blocked {
		t.Fatal("not blocked yet")
	}
	f.blocked = true
	if blocked, _ := b.Blocked("10.0.0.1", time.Time{}); !blocked {
		t.Fatal("the decision must pass through")
	}
	if got := sample(t, reg, "muster_api_login_failures_total", nil); got != 2 {
		t.Errorf("failures = %v, want 2", got)
	}
	if got := sample(t, reg, "muster_api_login_blocked_total", nil); got != 1 {
		t.Errorf("blocked = %v, want 1", got)
	}
	var none *Metrics
	if none.countBlocks(f) != loginBlocker(f) {
		t.Error("a nil Metrics must not wrap the blocker")
	}
}
