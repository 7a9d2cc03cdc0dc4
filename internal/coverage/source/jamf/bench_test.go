package jamf

import (
	"encoding/json"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"testing"
)

// BenchmarkWalk100k reads 100,000 computers, 500 a page, through Fetch: the
// bearer-token login, then the computers-inventory pages over loopback HTTP,
// against the test server refusing more than 60 requests in any minute on
// the test clock (the stand-in limit of TestFullWalkWithinTheLimit; the
// transport's pauses advance that clock instead of waiting). The server
// copies computers encoded once (about 3 KB each, the GENERAL, HARDWARE and
// OPERATING_SYSTEM sections). It reports the process's CPU per record for
// the walk (cpu-ns/record), the server's share on its own (server-ns/record:
// the walk's requests sent again by a plain client that reads each answer
// and discards it), the difference as the connector's own CPU per 100,000
// records (own-s/100k, and own-min-s/100k for the least disturbed walk: decoding, mapping, requests and the garbage they
// make) and the 429s the walk caused, which must be 0.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./internal/coverage/source/jamf/
func BenchmarkWalk100k(b *testing.B) {
	const n = 100_000
	f := newFake(b, 0)
	f.computers = make([]json.RawMessage, n)
	for i := range n {
		f.computers[i] = genComputer(i+1, t0)
	}
	f.pageSize, f.perMinute = 500, 60
	walkbench.Run(b, f.srv, walkbench.Walk{Records: n,
		Open: func() coverage.Source { return open(b, f, "page_size: 500\n") },
		Limited: func() int {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.limited
		},
		Pace: func(on bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.perMinute, f.hits = 0, nil; on {
				f.perMinute = 60
			}
		}})
}
