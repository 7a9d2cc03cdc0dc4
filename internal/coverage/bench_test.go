package coverage

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// fleet builds records for n devices across four sources the way real
// inventories overlap: the agent source knows 97% of them (by host name),
// the RMM 90% (host name and MAC), the CMDB every one (serial, MAC, name),
// the MDM 60% (serial only); some agents are disconnected, some duplicated.
func fleet(n int) map[string][]Record {
	sets := map[string][]Record{}
	for i := range n {
		host := fmt.Sprintf("host-%07d", i)
		mac := fmt.Sprintf("00:1b:%02x:%02x:%02x:%02x", byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
		sn := fmt.Sprintf("SN%08d", i)
		seen := time.Duration(i%50) * time.Minute
		if i%100 < 97 {
			r := rec(fmt.Sprintf("%06d", i), host, i%20 != 0, seen, func(r *Record) {
				r.IPs = []string{fmt.Sprintf("10.%d.%d.%d", byte(i>>16), byte(i>>8), byte(i))}
				r.Fields = FieldsOf(map[string]string{"status": "active", "name": host})
			})
			sets["wazuh"] = append(sets["wazuh"], r)
			if i%500 == 0 {
				r.ID += "-dup"
				sets["wazuh"] = append(sets["wazuh"], r)
			}
		}
		if i%10 != 0 {
			sets["rmm"] = append(sets["rmm"], rec("node//"+sn, host+".corp.example", true, 0, macs(mac)))
		}
		sets["cmdb"] = append(sets["cmdb"], rec(fmt.Sprintf("row %d", i+2), host, true, -1, serial(sn), macs(mac)))
		if i%10 < 6 {
			sets["mdm"] = append(sets["mdm"], rec("dev-"+sn, "", true, seen, serial(sn)))
		}
	}
	return sets
}

const fourSources = `
sources:
  - {name: wazuh, kind: memory, set: wazuh}
  - {name: rmm, kind: memory, set: rmm}
  - {name: cmdb, kind: memory, set: cmdb}
  - {name: mdm, kind: memory, set: mdm}
require:
  - {scope: [rmm, cmdb, mdm], must_have: [wazuh]}
  - {scope: [cmdb], must_have: [rmm]}
`

// BenchmarkReconcile measures the engine alone (the sources answer from
// memory): go test -run '^$' -bench Reconcile -benchmem ./internal/coverage/
func BenchmarkReconcile(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("short")
			}
			prefix := fmt.Sprintf("bench%d-", n)
			p := plan(b, prefix, fourSources, fleet(n))
			b.ResetTimer()
			for b.Loop() {
				r := p.Run(context.Background(), RunOptions{})
				if r.Summary.Devices < n {
					b.Fatalf("%d devices, want at least %d", r.Summary.Devices, n)
				}
			}
		})
	}
}

// BenchmarkWriteJSON measures writing a run's JSON report (devices and
// findings with their evidence), the report held in memory:
// go test -run '^$' -bench WriteJSON -benchmem ./internal/coverage/
func BenchmarkWriteJSON(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) {
			p := plan(b, fmt.Sprintf("json%d-", n), fourSources, fleet(n))
			r := p.Run(context.Background(), RunOptions{})
			var size int64
			b.ResetTimer()
			for b.Loop() {
				cw := &countWriter{}
				if err := WriteJSON(cw, r); err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			b.ReportMetric(float64(size)/1e6, "MB/report")
		})
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
