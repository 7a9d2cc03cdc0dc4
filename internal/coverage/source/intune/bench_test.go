package intune

import (
	"context"
	"encoding/json"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"runtime"
	"testing"
	"time"
)

// BenchmarkWalk100k reads 100,000 managed devices, 500 a page ($top=500),
// through Fetch: the client-credentials token, then the pages over loopback
// HTTP following @odata.nextLink, against the test server enforcing Intune's
// 2,000 requests per 20 s on the test clock (the transport's pauses advance
// that clock instead of waiting). The server copies devices encoded once (as
// Graph lists them with the source's $select). It reports the process's CPU
// per record for the walk (cpu-ns/record), the server's share on its own
// (server-ns/record: the walk's requests sent again by a plain client that
// reads each answer and discards it), the difference as the connector's own
// CPU per 100,000 records (own-s/100k, and own-min-s/100k for the least disturbed walk: decoding, mapping, requests and the
// garbage they make) and the 429s the walk caused, which must be 0.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./internal/coverage/source/intune/
func BenchmarkWalk100k(b *testing.B) {
	const n = 100_000
	f := newFake(b, 0)
	for _, d := range makeDevices(n, start) {
		raw, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		f.encoded = append(f.encoded, raw)
	}
	f.wantTop = 500
	f.limit, f.window, f.retryAfter = 2000, 20*time.Second, true
	rec := walkbench.Record(f.srv)
	var wall, walk, server time.Duration
	best := time.Duration(1 << 62) // the least disturbed walk's own CPU
	for range b.N {
		src := open(b, f, "page_size: 500\n")
		rec.Start()
		runtime.GC() // the devices' setup is not the walk's
		before, t0 := walkbench.CPUTime(), time.Now()
		recs, err := src.Fetch(context.Background(), nil)
		own := walkbench.CPUTime() - before
		walk, wall = walk+own, wall+time.Since(t0)
		if err != nil || len(recs) != n {
			b.Fatalf("%d records, %v", len(recs), err)
		}
		if _, _, limited, _ := f.counts(); limited != 0 {
			b.Fatalf("the walk caused %d 429s", limited)
		}
		recs = nil
		f.mu.Lock()
		f.limit = 0 // the replay is not paced
		f.mu.Unlock()
		srv := rec.Replay(b)
		server, best = server+srv, min(best, own-srv)
		f.mu.Lock()
		f.limit, f.hits = 2000, nil
		f.mu.Unlock()
	}
	walkbench.Report(b, n, wall, walk, server, best)
	_, _, limited, _ := f.counts()
	b.ReportMetric(float64(limited), "429s")
}
