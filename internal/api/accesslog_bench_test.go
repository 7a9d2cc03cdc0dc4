package api

import (
	"context"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/logfile"
)

// gatedFile is a log file whose writes wait while the gate is shut, so the
// writer goroutines stay parked while the request path is timed.
type gatedFile struct {
	*os.File
	gate *atomic.Pointer[chan struct{}]
}

func (f gatedFile) Write(b []byte) (int, error) {
	<-*f.gate.Load()
	return f.File.Write(b)
}

// BenchmarkAccessLog measures what a request pays for its access log lines
// (both formats, so two lines a request).
//
//   - path: the request path alone. The writers are parked (their disk
//     waits) while the requests are timed and drained off the clock, so
//     nothing is dropped and no formatting runs meanwhile: ns/op and
//     allocs/op are the request's own.
//   - sustained: the writers run beside the requests (drained off the clock
//     before their queues fill), sharing the CPUs; the B/op and allocs/op
//     include the writers' formatting.
//   - overloaded: the writers fall behind; dropped/op says how many of the
//     two lines a request were dropped.
func BenchmarkAccessLog(b *testing.B) {
	r := httptest.NewRequest("POST", "/security/users?pretty=true&limit=10", nil)
	rec := &recorder{status: 200, user: "wazuh", ctxSum: "abc123",
		body: map[string]any{"username": "bob", "password": "Secret-1!", "roles": []any{"a", "b"}}}
	const window = 1 << 14
	run := func(b *testing.B, flushEvery int, gated bool) {
		var gate atomic.Pointer[chan struct{}]
		open := make(chan struct{})
		close(open)
		gate.Store(&open)
		l, err := openAccessLog(b.TempDir(), "plain,json", "info", 0, time.Now, nil, func(c *logfile.Config) {
			if gated {
				c.QueueLen = window + 1
				c.Open = func(p string) (logfile.File, error) {
					f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
					return gatedFile{f, &gate}, err
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		drain := func() {
			l.plain.Flush(context.Background())
			l.json.Flush(context.Background())
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if flushEvery > 0 && i%flushEvery == 0 {
				b.StopTimer()
				if gated && i > 0 {
					close(*gate.Load())
				}
				drain()
				if gated {
					shut := make(chan struct{})
					gate.Store(&shut)
				}
				b.StartTimer()
			}
			l.Request(r, rec, "192.0.2.1", 1500*time.Microsecond)
		}
		b.StopTimer()
		if gated && b.N > 0 {
			close(*gate.Load())
		}
		drain()
		var dropped uint64
		for _, s := range l.Stats() {
			dropped += s.Dropped
		}
		b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
	}
	b.Run("path", func(b *testing.B) { run(b, window, true) })
	b.Run("sustained", func(b *testing.B) { run(b, 1024, false) })
	b.Run("overloaded", func(b *testing.B) { run(b, 0, false) })
}
