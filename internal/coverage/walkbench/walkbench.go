// Package walkbench measures a connector's own CPU over a whole walk in
// the connectors' benchmarks: a recorder in front of the test server keeps
// the walk's requests, a plain client replays them to measure the server's
// share, and the difference is the connector's.
package walkbench

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// Recorder sits in front of a test server's handler and keeps the requests
// of one walk, so that a plain client can send them again and the server's
// share of a walk's CPU can be measured on its own.
type Recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []recordedRequest
}

type recordedRequest struct {
	method, url string
	header      http.Header
	body        []byte
}

// Record puts a recorder in front of srv's handler.
func Record(srv *httptest.Server) *Recorder {
	rc := &Recorder{next: srv.Config.Handler}
	srv.Config.Handler = rc
	return rc
}

// Start forgets the requests recorded so far.
func (rc *Recorder) Start() {
	rc.mu.Lock()
	rc.reqs = nil
	rc.mu.Unlock()
}

func (rc *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recordedRequest{r.Method, "http://" + r.Host + r.URL.RequestURI(), r.Header.Clone(), body})
	rc.mu.Unlock()
	rc.next.ServeHTTP(w, r)
}

// Replay sends the recorded requests again, one at a time, with a plain
// client that reads each answer and discards it, and returns the process's
// CPU for that: the server's work plus the bare HTTP exchange.
func (rc *Recorder) Replay(b *testing.B) time.Duration {
	rc.mu.Lock()
	reqs := rc.reqs
	rc.reqs = nil
	rc.mu.Unlock()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	runtime.GC()
	refused := 0
	before := CPUTime()
	for _, q := range reqs {
		var body io.Reader
		if len(q.body) > 0 {
			body = bytes.NewReader(q.body)
		}
		r, err := http.NewRequest(q.method, q.url, body)
		if err != nil {
			b.Fatal(err)
		}
		r.Header = q.header
		resp, err := c.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			refused++ // a login or logout the walk's state made valid only once
		}
	}
	cpu := CPUTime() - before
	if refused > 3 {
		b.Fatalf("replay: %d of %d requests refused", refused, len(reqs))
	}
	return cpu
}

// Report reports a walk benchmark's figures: the walks' wall time and
// the process's CPU per record, the server's share per record measured by Replay, and their
// difference per 100,000 records, the connector's own CPU: the mean, and the
// least of the walks (own-min), the figure least disturbed by other work on
// a shared machine.
func Report(b *testing.B, n int, wall, walk, server, best time.Duration) {
	per := float64(b.N * n)
	b.ReportMetric(float64(best.Nanoseconds())/float64(n)*100_000/1e9, "own-min-s/100k")
	b.ReportMetric(float64(wall.Nanoseconds())/per, "ns/record")
	b.ReportMetric(float64(walk.Nanoseconds())/per, "cpu-ns/record")
	b.ReportMetric(float64(server.Nanoseconds())/per, "server-ns/record")
	b.ReportMetric(float64((walk-server).Nanoseconds())/per*100_000/1e9, "own-s/100k")
}

// CPUTime is the process's user and system CPU so far (garbage collection
// on other threads included).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Walk is one connector's whole-walk benchmark, as Run drives it.
type Walk struct {
	Records int                    // the records each walk must return
	Open    func() coverage.Source // a fresh source for each walk (not measured)
	Limited func() int             // the 429s the test server has answered so far
	// Pace turns the test server's rate limit on, with a fresh window, or
	// off: the replay is not paced.
	Pace func(on bool)
}

// Run walks b.N times through srv, each walk checked (every record, no
// 429), then replays its requests to measure the server's share, and
// reports the figures (see Report) and the 429s.
func Run(b *testing.B, srv *httptest.Server, w Walk) {
	rec := Record(srv)
	var wall, walk, server time.Duration
	best := time.Duration(1 << 62) // the least disturbed walk's own CPU
	for range b.N {
		src := w.Open()
		rec.Start()
		runtime.GC() // the fixture's setup is not the walk's
		before, t0 := CPUTime(), time.Now()
		recs, err := src.Fetch(context.Background(), nil)
		own := CPUTime() - before
		walk, wall = walk+own, wall+time.Since(t0)
		if err != nil || len(recs) != w.Records {
			b.Fatalf("%d records, %v", len(recs), err)
		}
		if n := w.Limited(); n != 0 {
			b.Fatalf("the walk caused %d 429s", n)
		}
		recs = nil
		w.Pace(false)
		srv := rec.Replay(b)
		server, best = server+srv, min(best, own-srv)
		w.Pace(true)
	}
	Report(b, w.Records, wall, walk, server, best)
	b.ReportMetric(float64(w.Limited()), "429s")
}
