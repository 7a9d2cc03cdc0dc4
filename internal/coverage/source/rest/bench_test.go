package rest

import (
	"encoding/json"
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
