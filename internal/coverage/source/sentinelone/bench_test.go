package sentinelone

import (
	"bytes"
	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"testing"
)

// BenchmarkDecodeAndMap decodes and maps a page of 10,000 realistic agents
// (each the size of a real Get Agents element) and reports ns per agent.
//
//	go test -run '^$' -bench DecodeAndMap ./internal/coverage/source/sentinelone/
func BenchmarkDecodeAndMap(b *testing.B) {
	agents, err := buildAgents(10_000)
	if err != nil {
		b.Fatal(err)
	}
	var page bytes.Buffer
	page.WriteString(`{"data":[`)
	for i, a := range agents {
		if i > 0 {
			page.WriteByte(',')
		}
		page.Write(a)
	}
	page.WriteString(`],"errors":null,"pagination":{"nextCursor":null,"totalItems":10000}}`)
	raw := page.Bytes()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p, err := decodePage(raw)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range p.Data {
			r := mapAgent("s1", a, start, "GET x", env24h)
			if r.ID == "" {
				b.Fatal("no id")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(agents)), "ns/record")
}

// BenchmarkWalk100k reads 100,000 agents, 500 a page, through Fetch: the
// api-token-details check, then the agents pages over loopback HTTP
// following nextCursor, against the test server enforcing 10 requests in
// any second on the test clock (the transport's pauses advance that clock
// instead of waiting). The server copies agents encoded once. It reports
// the process's CPU per record for the walk (cpu-ns/record), the server's
// share on its own (server-ns/record: the walk's requests sent again by a
// plain client that reads each answer and discards it), the difference as
// the connector's own CPU per 100,000 records (own-s/100k, and own-min-s/100k for the least disturbed walk: decoding,
// mapping, requests and the garbage they make) and the 429s the walk
// caused, which must be 0.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./internal/coverage/source/sentinelone/
func BenchmarkWalk100k(b *testing.B) {
	const n = 100_000
	agents, err := buildAgents(n)
	if err != nil {
		b.Fatal(err)
	}
	f := newFake(b, 0)
	f.agents, f.perSecond, f.wantLimit = agents, 10, 500
	walkbench.Run(b, f.srv, walkbench.Walk{Records: n,
		Open: func() coverage.Source { return open(b, f, "page_size: 500\n").src },
		Limited: func() int {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.limited
		},
		Pace: func(on bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.perSecond, f.recent = 0, nil; on {
				f.perSecond = 10
			}
		}})
}
