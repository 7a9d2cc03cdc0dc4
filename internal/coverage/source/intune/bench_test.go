package intune

import (
	"encoding/json"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/walkbench"
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
	walkbench.Run(b, f.srv, walkbench.Walk{Records: n,
		Open: func() coverage.Source { return open(b, f, "page_size: 500\n") },
		Limited: func() int {
			_, _, limited, _ := f.counts()
			return limited
		},
		Pace: func(on bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.limit, f.hits = 0, nil; on {
				f.limit = 2000
			}
		}})
}
