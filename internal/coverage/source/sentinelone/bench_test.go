package sentinelone

import (
	"bytes"
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
