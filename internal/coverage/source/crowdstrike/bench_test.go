package crowdstrike

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// detailsPage builds an answer of POST /devices/entities/devices/v2 with n
// hosts, each a copy of the first recorded host (a full Windows server
// record of about 4 KB) with its own id, name, serial and MAC.
func detailsPage(tb testing.TB, n int) []byte {
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
	tmpl := string(env.Resources[0])
	var b bytes.Buffer
	b.WriteString(`{"meta":{"query_time":0.41,"powered_by":"device-api","trace_id":"bench"},"errors":[],"resources":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		r := strings.Replace(tmpl, "4f1c8e2a9b7d4c3e8a6f5b2d1e0c9a87", fmt.Sprintf("%032x", i+1), 1)
		r = strings.Replace(r, `"WIN-APP01"`, fmt.Sprintf(`"WIN-APP%05d"`, i), 1)
		r = strings.Replace(r, `"8QK2HX3"`, fmt.Sprintf(`"SN%07d"`, i), 1)
		r = strings.ReplaceAll(r, "f8-bc-12-a4-5e-01", fmt.Sprintf("f8-bc-12-%02x-%02x-%02x", byte(i>>16), byte(i>>8), byte(i)))
		b.WriteString(r)
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
	cpu0 := cpuTime()
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
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/record")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
