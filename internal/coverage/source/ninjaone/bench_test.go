package ninjaone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// benchDevices builds n devices-detailed devices, each a copy of the first
// recorded device (a Windows workstation with its expanded references,
// processors and volumes: about 3 KB, compact as the API sends it) with its
// own id (101 on), name, serial and MAC.
func benchDevices(tb testing.TB, n int) []string {
	tb.Helper()
	raw, err := os.ReadFile("testdata/devices-detailed.json")
	if err != nil {
		tb.Fatal(err)
	}
	var all []json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		tb.Fatal(err)
	}
	var compact bytes.Buffer // the API answers compact JSON
	if err := json.Compact(&compact, all[0]); err != nil {
		tb.Fatal(err)
	}
	tmpl := compact.String()
	out := make([]string, n)
	for i := range n {
		r := strings.Replace(tmpl, `"id":101`, fmt.Sprintf(`"id":%d`, 101+i), 1)
		r = strings.ReplaceAll(r, "WS-RECEP-01", fmt.Sprintf("WS-%07d", i))
		r = strings.ReplaceAll(r, "7XK2QH3", fmt.Sprintf("SN%07d", i))
		r = strings.Replace(r, "00:15:5D:01:22:AB", fmt.Sprintf("00:15:5D:%02X:%02X:%02X", byte(i>>16), byte(i>>8), byte(i)), 1)
		out[i] = r
	}
	return out
}

// benchPage builds a devices-detailed answer of n of benchDevices' devices.
func benchPage(tb testing.TB, n int) []byte {
	tb.Helper()
	return []byte("[" + strings.Join(benchDevices(tb, n), ",") + "]")
}

// BenchmarkDecodeMap decodes and maps 10,000 detailed devices as Fetch
// reads them: ten pages of PageSize (1000) devices, each read from its body
// and mapped; it reports the cost per record (wall and CPU, garbage
// collection included).
//
//	go test -run '^$' -bench DecodeMap -benchmem ./internal/coverage/source/ninjaone/
func BenchmarkDecodeMap(b *testing.B) {
	const pages = 10
	page := benchPage(b, PageSize)
	env := coverage.Env{Window: 24 * time.Hour}
	b.SetBytes(int64(pages * len(page)))
	var buf bytes.Buffer
	cpu0 := walkbench.CPUTime()
	for b.Loop() {
		var recs []coverage.Record
		for range pages {
			devs, err := decodePageSized(bytes.NewReader(page), DefaultMaxBody, int64(len(page)), &buf)
			if err != nil {
				b.Fatal(err)
			}
			recs = mapDevices(recs, "n", devs, epoch0, "GET x", env)
		}
		if len(recs) != pages*PageSize {
			b.Fatalf("%d records", len(recs))
		}
	}
	n := float64(b.N * pages * PageSize)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64((walkbench.CPUTime()-cpu0).Nanoseconds())/n, "cpu-ns/record")
}

func TestBenchPageDecodes(t *testing.T) {
	devs, err := decodePage(bytes.NewReader(benchPage(t, 50)), DefaultMaxBody)
	if err != nil || len(devs) != 50 || devs[49].ID != 150 || devs[49].System.SerialNumber != "SN0000049" {
		t.Fatalf("%d devices, %v", len(devs), err)
	}
}

// BenchmarkWalk100k reads 100,000 detailed devices, 500 a page, through
// Fetch: the client-credentials token, then the devices-detailed pages over
// loopback HTTP following after=<last id>, against the test server allowing
// 40 requests in any sliding minute on the test clock (the stand-in limit
// of TestBudgetKeepsAFullWalkUnderTheLimit; the transport's pauses advance
// that clock instead of waiting). The server copies devices encoded once.
// It reports the process's CPU per record for the walk (cpu-ns/record), the
// server's share on its own (server-ns/record: the walk's requests sent
// again by a plain client that reads each answer and discards it), the
// difference as the connector's own CPU per 100,000 records (own-s/100k,
// and own-min-s/100k for the least disturbed walk: decoding, mapping,
// requests and the garbage they make) and the 429s the walk caused, which
// must be 0.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./internal/coverage/source/ninjaone/
func BenchmarkWalk100k(b *testing.B) {
	const n = 100_000
	f := newFake(b, 0)
	for i, d := range benchDevices(b, n) {
		f.ids = append(f.ids, 101+i)
		f.devices[101+i] = d
	}
	f.limitPerMin, f.wantPageSize = 40, 500
	walkbench.Run(b, f.srv, walkbench.Walk{Records: n,
		Open: func() coverage.Source {
			s := f.source("")
			s.pageSize = 500
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
			if f.limitPerMin, f.window = 0, nil; on {
				f.limitPerMin = 40
			}
		}})
}
