package scan_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/scan"
)

// syntheticPages pre-encodes n agents (plus 000) as keyset pages of size
// limit, with the fields the scanner selects; one agent in ten is
// disconnected, one in fifty outdated.
func syntheticPages(b testing.TB, n, limit int) [][]byte {
	b.Helper()
	var pages [][]byte
	for start := 0; start <= n; start += limit {
		items := make([]map[string]any, 0, limit)
		for id := start; id < start+limit && id <= n; id++ {
			a := map[string]any{"id": fmt.Sprintf("%03d", id), "name": fmt.Sprintf("host-%06d", id),
				"ip": fmt.Sprintf("10.%d.%d.%d", id>>16, (id>>8)&255, id&255), "status": "active", "status_code": 0,
				"version": "Wazuh v4.14.7", "node_name": "node01", "dateAdd": ago(90 * 24 * time.Hour),
				"lastKeepAlive": ago(time.Duration(id%50) * time.Second), "group": []string{"default"},
				"group_config_status": "synced"}
			if id%10 == 3 {
				a["status"], a["status_code"], a["lastKeepAlive"] = "disconnected", 4, ago(time.Duration(id)*time.Minute)
				a["disconnection_time"] = a["lastKeepAlive"]
			}
			if id%50 == 7 {
				a["version"] = "Wazuh v4.12.0"
			}
			items = append(items, a)
		}
		body, err := json.Marshal(affected(items, n+1-start))
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, body)
	}
	return pages
}

// BenchmarkScan100k measures the client side of scanning 100,000 agents
// (decoding, classification, report) against a server that answers from
// memory. MiB-report is the heap the last report holds once the scan is over.
func BenchmarkScan100k(b *testing.B) {
	const n, limit = 100000, scan.DefaultPageSize
	f := newFakeManager(nil)
	f.pages = syntheticPages(b, n, limit)
	c := startFake(b, f)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	var r *scan.Report
	for b.Loop() {
		var err error
		r, err = scan.Run(context.Background(), c, scan.Options{Now: f.now})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if r.Total != n || c.Logins() != 1 {
		b.Fatalf("total %d logins %d", r.Total, c.Logins())
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(r)
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "MiB-report")
	b.ReportMetric(float64(c.Logins()), "logins")
}
