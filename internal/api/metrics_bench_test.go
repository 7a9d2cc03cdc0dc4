package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/muster-project/muster/internal/config"
)

// BenchmarkRequestMetrics compares one request through the outer layers
// and a trivial route handler with and without the metrics middleware: the
// difference is the middleware's cost (its allocations should be zero once
// the route's code counter is cached).
func BenchmarkRequestMetrics(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	for _, tc := range []struct {
		name string
		m    *Metrics
	}{{"without", nil}, {"with", NewMetrics(prometheus.NewRegistry())}} {
		b.Run(tc.name, func(b *testing.B) {
			s := quietServer(b, nil, tc.m)
			h := s.outer(tc.m.instrument(http.MethodGet, "/agents/{agent_id}", handler))
			req := httptest.NewRequest(http.MethodGet, "/agents/001", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkServerMetrics is the same through the whole server (router,
// rate limit, CORS) on an unrouted path, which needs no credentials.
func BenchmarkServerMetrics(b *testing.B) {
	for _, tc := range []struct {
		name string
		m    *Metrics
	}{{"without", nil}, {"with", NewMetrics(prometheus.NewRegistry())}} {
		b.Run(tc.name, func(b *testing.B) {
			s := quietServer(b, func(c *config.Config) { c.API.Access.MaxRequestPerMinute = 0 }, tc.m)
			req := httptest.NewRequest(http.MethodGet, "/no/such/path", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, req)
				if w.Code != http.StatusNotFound {
					b.Fatalf("code %d", w.Code)
				}
			}
		})
	}
}
