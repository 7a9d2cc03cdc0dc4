package crowdstrike

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/coverage"
)

// benchHosts builds n hosts, each a copy of the first recorded host (a full
// Windows server record of about 4 KB, compact as the API sends it) with its
// own id, name, serial and MAC, the id first.
func benchHosts(tb testing.TB, n int) (ids []string, hosts []json.RawMessage) {
	tb.Helper()
	raw, err := os.ReadFile("testdata/devices-v2.json")
	if err != nil {
		tb.Fatal(err)
	}
	var env struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		tb.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.Resources[0]); err != nil {
		tb.Fatal(err)
	}
	tmpl := compact.String()
	for i := range n {
		id := fmt.Sprintf("%032x", i+1)
		r := strings.Replace(tmpl, "4f1c8e2a9b7d4c3e8a6f5b2d1e0c9a87", id, 1)
		r = strings.Replace(r, `"WIN-APP01"`, fmt.Sprintf(`"WIN-APP%05d"`, i), 1)
		r = strings.Replace(r, `"8QK2HX3"`, fmt.Sprintf(`"SN%07d"`, i), 1)
		r = strings.ReplaceAll(r, "f8-bc-12-a4-5e-01", fmt.Sprintf("f8-bc-12-%02x-%02x-%02x", byte(i>>16), byte(i>>8), byte(i)))
		ids, hosts = append(ids, id), append(hosts, json.RawMessage(r))
	}
	return ids, hosts
}

// detailsPage builds an answer of POST /devices/entities/devices/v2 with n
// of benchHosts' hosts.
func detailsPage(tb testing.TB, n int) []byte {
	tb.Helper()
	_, hosts := benchHosts(tb, n)
	var b bytes.Buffer
	b.WriteString(`{"meta":{"query_time":0.41,"powered_by":"device-api","trace_id":"bench"},"errors":[],"resources":[`)
	for i, h := range hosts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(h)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkDecodeMap decodes and maps a page of 10,000 hosts, as Fetch does
// with each details answer.
//
//	go test -run '^$' -bench DecodeMap -benchmem ./internal/coverage/source/crowdstrike/
func BenchmarkDecodeMap(b *testing.B) {
	const n = 10_000
	page := detailsPage(b, n)
	env := coverage.Env{Window: 24 * 3600e9}
	b.SetBytes(int64(len(page)))
	cpu0 := walkbench.CPUTime()
	for b.Loop() {
		lr := &io.LimitedReader{R: bytes.NewReader(page), N: DefaultMaxBody + 1}
		var ans envelope[device]
		if err := decodeDetailsAnswer(bufio.NewReaderSize(lr, 64<<10), lr, int64(len(page)), DefaultMaxBody, "POST x", &ans); err != nil {
			b.Fatal(err)
		}
		recs := mapDevices("cs", ans.Resources, readAt, "POST x", env)
		if len(recs) != n {
			b.Fatalf("%d records", len(recs))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	// The process's CPU time (GC included) is the figure that matters on a
	// busy machine, where wall time also counts waiting for a core.
	b.ReportMetric(float64((walkbench.CPUTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/record")
}

// BenchmarkWalk100k reads 100,000 hosts, 500 ids a scroll page and 500 hosts
// a details call, through Fetch: OAuth2 token, scroll and details requests
// over loopback HTTP against the test server enforcing Falcon's 6,000
// requests per sliding minute on the test clock (the transport's pauses
// advance that clock instead of waiting). It reports the process's CPU per
// record for the walk (cpu-ns/record), the server's share on its own
// (server-ns/record: the walk's requests sent again by a plain client that
// reads each answer and discards it; the server copies pre-built hosts
// rather than encoding them), the difference as the connector's own CPU per
// 100,000 records (own-s/100k, and own-min-s/100k for the least disturbed walk: its decoding, mapping, requests and the
// garbage they make) and the 429s the walk caused, which must be 0.
//
//	go test -run '^$' -bench Walk100k -benchtime 3x ./internal/coverage/source/crowdstrike/
func BenchmarkWalk100k(b *testing.B) {
	const n = 100_000
	ids, hosts := benchHosts(b, n)
	f := newFake(b, 0)
	f.ids = ids
	for i, id := range ids {
		f.hosts[id] = hosts[i]
	}
	f.wantLimit, f.copyPages = 500, true
	limit := f.limitPerMin
	walkbench.Run(b, f.srv, walkbench.Walk{Records: n,
		Open: func() coverage.Source {
			src := open(b, f, "")
			src.pageSize, src.batch = 500, 500
			return src
		},
		Limited: func() int {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.limited
		},
		Pace: func(on bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.limitPerMin, f.window = 1<<30, nil; on {
				f.limitPerMin = limit
			}
		}})
}
