package sentinelone

import (
	"bytes"
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"
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

// BenchmarkWalk100k reads 100,000 agents, 500 a page, from the test server
// enforcing 10 requests in any second on the test clock, and reports the
// process's CPU per record (the server's share included: its pages are
// copied, not encoded) and the 429s the walk caused, which must be 0.
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
	b.ResetTimer()
	var cpu time.Duration
	for range b.N {
		s := open(b, f, "page_size: 500\n")
		runtime.GC() // the agents' setup is not the walk's
		before := cpuTime()
		recs, err := s.src.Fetch(context.Background(), nil)
		cpu += cpuTime() - before
		if err != nil || len(recs) != n {
			b.Fatalf("%d records, %v", len(recs), err)
		}
		if f.limited != 0 {
			b.Fatalf("the walk caused %d 429s", f.limited)
		}
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "cpu-ns/record")
	b.ReportMetric(float64(f.limited), "429s")
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
