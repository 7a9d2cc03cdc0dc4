package ninjaone

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// benchPage builds a devices-detailed answer of n devices, each a copy of
// the first recorded device (a Windows workstation with its expanded
// references, processors and volumes: about 3 KB) with its own id, name,
// serial and MAC.
func benchPage(tb testing.TB, n int) []byte {
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
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		r := strings.Replace(tmpl, `"id":101`, fmt.Sprintf(`"id":%d`, 101+i), 1)
		r = strings.ReplaceAll(r, "WS-RECEP-01", fmt.Sprintf("WS-%07d", i))
		r = strings.ReplaceAll(r, "7XK2QH3", fmt.Sprintf("SN%07d", i))
		r = strings.Replace(r, "00:15:5D:01:22:AB", fmt.Sprintf("00:15:5D:%02X:%02X:%02X", byte(i>>16), byte(i>>8), byte(i)), 1)
		b.WriteString(r)
	}
	b.WriteByte(']')
	return b.Bytes()
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
	cpu0 := cpuTime()
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
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/n, "cpu-ns/record")
}

// cpuTime is the process's user and system CPU time (garbage collection
// on other threads included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestBenchPageDecodes(t *testing.T) {
	devs, err := decodePage(bytes.NewReader(benchPage(t, 50)), DefaultMaxBody)
	if err != nil || len(devs) != 50 || devs[49].ID != 150 || devs[49].System.SerialNumber != "SN0000049" {
		t.Fatalf("%d devices, %v", len(devs), err)
	}
}
