package rest

import (
	"encoding/json"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/coverage"

	"github.com/muster-project/muster/internal/testclock"
)

// BenchmarkDecodeMap decodes and maps one page of 10,000 realistic records
// (the fake API's devices: nested hardware, two interfaces, tags, free text)
// and reports the cost per record: go test -bench DecodeMap -run XXX ./internal/coverage/source/rest/
func BenchmarkDecodeMap(b *testing.B) {
	const n = 10000
	items := make([]map[string]any, n)
	for i := range items {
		items[i] = device(i+1, t0)
	}
	body, err := json.Marshal(map[string]any{"data": map[string]any{"items": items}, "meta": map[string]any{"total": n}})
	if err != nil {
		b.Fatal(err)
	}
	f := &fakeAPI{t: nil, style: "offset", size: 100, auth: "none"}
	doc := "name: inv\nkind: rest\nurl: https://inv.example/devices\n" + f.styleYAML() + fieldsYAML
	s, err := build(&testing.T{}, doc, b.TempDir(), testclock.New(t0))
	if err != nil {
		b.Fatal(err)
	}
	vals := newValues(len(s.page.names))
	rv := newValues(len(s.m.rec.names))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		out := make([]coverage.Record, 0, n)
		vals.reset()
		sc := scanner{b: body, page: &vals, rec: &s.m.rec, recVals: &rv}
		sc.onRecord = func(i int) error {
			r, err := s.m.build(&rv, "record", t0, "GET https://inv.example/devices?limit=100&offset=0")
			out = append(out, r)
			return err
		}
		if err := s.decode(&sc); err != nil {
			b.Fatal(err)
		}
		if len(out) != n {
			b.Fatalf("%d records", len(out))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkWalk100k reads 100,000 devices, 500 a page (offset paging, the
// configured fields of fieldsYAML), through Fetch: the OAuth2 client
// credentials token, then the pages over loopback HTTP, against the test
// server allowing 10 requests in any second on the test clock (the stand-in
// limit of TestBudgetStaysUnderLimit, with the default budget; the
// transport's pauses advance that clock instead of waiting). The server
// copies devices encoded once. It reports the process's CPU per record for
// the walk (cpu-ns/record), the server's share on its own
// (server-ns/record: the walk's requests sent again by a plain client that
// reads each answer and discards it), the difference as the connector's own
// CPU per 100,000 records (own-s/100k, and own-min-s/100k for the least disturbed walk: decoding, mapping, requests and the
// garbage they make) and the 429s the walk caused, which must be 0.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./internal/coverage/source/rest/
func BenchmarkWalk100k(b *testing.B) {
	const n = 100_000
	f := newFake(b, 0, "offset")
	for i := range n {
		d := device(i+1, t0)
		raw, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		f.devices, f.encoded = append(f.devices, d), append(f.encoded, raw)
	}
	f.size, f.perSecond, f.auth = 500, 10, "oauth2"
	walkbench.Run(b, f.srv, walkbench.Walk{Records: n,
		Open: func() coverage.Source {
			dir := b.TempDir()
			doc := strings.Replace(f.config(b, dir, ""), "rate_limit: 1000/s\n", "", 1)
			s, err := build(b, doc, dir, f.clock)
			if err != nil {
				b.Fatal(err)
			}
			return s
		},
		Limited: func() int {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.limited
		},
		Pace: func(on bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.perSecond, f.hits = 0, nil; on {
				f.perSecond = 10
			}
		}})
}
