package jamf

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
)

// examplePage is a computers-inventory answer in the documented shape
// (get_v1-computers-inventory, sections GENERAL, HARDWARE, OPERATING_SYSTEM),
// with the unrequested sections null as Jamf sends them.
const examplePage = `{
  "totalCount": 4,
  "results": [
    {"id": "1", "udid": "123E4567-E89B-12D3-A456-426614174000",
     "general": {"name": "Boalime", "lastIpAddress": "247.185.82.186", "lastReportedIp": "192.168.1.14",
       "jamfBinaryVersion": "9.27", "platform": "Mac", "barcode1": "5 12345 678900", "barcode2": "5 12345 678900",
       "assetTag": "304822", "remoteManagement": {"managed": true, "managementUsername": "rootname"},
       "supervised": true, "mdmCapable": {"capable": true, "capableUsers": ["admin"]},
       "reportDate": "2026-12-07T05:04:13Z", "lastContactTime": "2026-12-07T06:04:13.123Z",
       "lastCloudBackupDate": null, "lastEnrolledDate": "2025-10-31T18:04:13Z",
       "site": {"id": "1", "name": "Eau Claire"}, "extensionAttributes": []},
     "hardware": {"make": "Apple", "model": "MacBook Air (M1, 2020)", "serialNumber": "5e3cc8bf6c",
       "macAddress": "6A:2C:4B:B7:65:B5", "altMacAddress": "82:45:58:44:dc:01", "appleSilicon": true},
     "operatingSystem": {"name": "macOS", "version": "14.4.1", "build": "23E224", "fileVault2Status": "ALL_ENCRYPTED"},
     "userAndLocation": null, "purchasing": null},
    {"id": "2", "udid": "223E4567-E89B-12D3-A456-426614174000",
     "general": {"name": "old-mini", "remoteManagement": {"managed": true}, "mdmCapable": {"capable": false},
       "reportDate": "2026-10-01T00:00:00Z", "lastContactTime": "2026-10-02T00:00:00Z",
       "site": {"id": "-1", "name": "None"}},
     "hardware": {"serialNumber": "C07ZZ0001", "macAddress": "00:11:22:33:44:55", "altMacAddress": "00:11:22:33:44:55"},
     "operatingSystem": {"name": "macOS", "version": "12.7.4"}},
    {"id": "3", "udid": null,
     "general": {"name": " lab-07 ", "lastReportedIp": "10.0.0.7", "remoteManagement": {"managed": false},
       "reportDate": "2026-12-07T06:00:00Z", "lastContactTime": "2026-12-07T06:00:00Z", "site": null},
     "hardware": {"serialNumber": "", "macAddress": null}, "operatingSystem": null},
    {"id": "4", "general": {"name": "never", "remoteManagement": {"managed": true},
       "reportDate": "2026-12-06T00:00:00Z", "lastContactTime": null}, "hardware": null, "operatingSystem": {"name": "macOS"}}
  ]
}`

var readAt = time.Date(2026, 12, 7, 6, 20, 40, 0, time.UTC)

const req = "GET https://acme.jamfcloud.com/api/v3/computers-inventory?page=0"

func TestMapping(t *testing.T) {
	p, err := decodePage(strings.NewReader(examplePage), DefaultMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	env := coverage.Env{Window: 24 * time.Hour}
	var got []coverage.Record
	for i := range p.Results {
		got = append(got, mapComputer("jamf", &p.Results[i], env, readAt, req))
	}
	rec := func(r coverage.Record) coverage.Record {
		r.Source, r.ReadAt, r.Request = "jamf", readAt, req
		return r
	}
	want := []coverage.Record{
		rec(coverage.Record{ID: "1", Hostname: "Boalime", Serial: "5e3cc8bf6c",
			MACs: []string{"6A:2C:4B:B7:65:B5", "82:45:58:44:dc:01"}, IPs: []string{"192.168.1.14", "247.185.82.186"},
			OS: "macOS 14.4.1", Groups: []string{"Eau Claire"}, State: StateManaged, Healthy: true,
			LastSeen: time.Date(2026, 12, 7, 6, 4, 13, 123e6, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"id": "1", "udid": "123E4567-E89B-12D3-A456-426614174000", "general.name": "Boalime",
				"general.lastContactTime": "2026-12-07T06:04:13.123Z", "general.reportDate": "2026-12-07T05:04:13Z",
				"general.lastReportedIp": "192.168.1.14", "general.lastIpAddress": "247.185.82.186",
				"general.site.name": "Eau Claire", "hardware.serialNumber": "5e3cc8bf6c",
				"hardware.macAddress": "6A:2C:4B:B7:65:B5", "hardware.altMacAddress": "82:45:58:44:dc:01",
				"operatingSystem.name": "macOS", "operatingSystem.version": "14.4.1",
				"general.remoteManagement.managed": "true", "general.mdmCapable.capable": "true"})}),
		rec(coverage.Record{ID: "2", Hostname: "old-mini", Serial: "C07ZZ0001", MACs: []string{"00:11:22:33:44:55"},
			OS: "macOS 12.7.4", State: StateStale, LastSeen: time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"id": "2", "udid": "223E4567-E89B-12D3-A456-426614174000", "general.name": "old-mini",
				"general.lastContactTime": "2026-10-02T00:00:00Z", "general.reportDate": "2026-10-01T00:00:00Z",
				"general.site.name": "None", "hardware.serialNumber": "C07ZZ0001",
				"hardware.macAddress": "00:11:22:33:44:55", "hardware.altMacAddress": "00:11:22:33:44:55",
				"operatingSystem.name": "macOS", "operatingSystem.version": "12.7.4",
				"general.remoteManagement.managed": "true", "general.mdmCapable.capable": "false"})}),
		rec(coverage.Record{ID: "3", Hostname: "lab-07", IPs: []string{"10.0.0.7"}, State: StateUnmanaged,
			LastSeen: time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"id": "3", "general.name": " lab-07 ", "general.lastContactTime": "2026-12-07T06:00:00Z",
				"general.reportDate": "2026-12-07T06:00:00Z", "general.lastReportedIp": "10.0.0.7",
				"general.remoteManagement.managed": "false"})}),
		// no lastContactTime: the last inventory report stands in; a day and 6 h ago is outside the window
		rec(coverage.Record{ID: "4", Hostname: "never", OS: "macOS", State: StateStale,
			LastSeen: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"id": "4", "general.name": "never", "general.reportDate": "2026-12-06T00:00:00Z",
				"operatingSystem.name": "macOS", "general.remoteManagement.managed": "true"})}),
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestHealthFollowsTheWindow(t *testing.T) {
	managed := true
	c := computer{ID: "9"}
	c.General.RemoteManagement.Managed = &managed
	c.General.LastContactTime = readAt.Add(-2 * time.Hour).Format(time.RFC3339)
	if r := mapComputer("j", &c, coverage.Env{Window: time.Hour}, readAt, req); r.Healthy || r.State != StateStale {
		t.Errorf("1 h window: %s %v", r.State, r.Healthy)
	}
	if r := mapComputer("j", &c, coverage.Env{Window: 3 * time.Hour}, readAt, req); !r.Healthy || r.State != StateManaged {
		t.Errorf("3 h window: %s %v", r.State, r.Healthy)
	}
	c.General.LastContactTime = "yesterday" // not a time: never seen
	if r := mapComputer("j", &c, coverage.Env{Window: 3 * time.Hour}, readAt, req); r.Healthy || !r.LastSeen.IsZero() || r.Fields.Map()["general.lastContactTime"] != "yesterday" {
		t.Errorf("bad time: %+v", r)
	}
}

// FuzzDecodePage feeds arbitrary answers to the page decoder and the
// mapping: neither may panic, and a decoded page maps to records with ids.
func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(examplePage))
	f.Add([]byte(`{"totalCount":1,"results":[` + string(genComputer(3, t0)) + `]}`))
	f.Add([]byte(`{"totalCount":1,"results":[{"id":7,"general":{"site":{"id":-1}}}]}`))
	f.Add([]byte(`{"totalCount":2,"results":[{"id":"1","general":{"remoteManagement":{"managed":"yes"}}}]}`))
	f.Add([]byte(`<html>`))
	f.Add([]byte(`{"totalCount":2,"results":[{"id":"1"`))
	f.Add([]byte(`{"totalCount":-1}`))
	f.Add([]byte(` `))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decodePage(bytes.NewReader(data), 1<<20)
		if err != nil {
			if p != nil {
				t.Fatal("a page and an error")
			}
			return
		}
		if p.TotalCount == nil || *p.TotalCount < 0 {
			t.Fatalf("decoded a page without a valid totalCount: %s", data)
		}
		for i := range p.Results {
			r := mapComputer("f", &p.Results[i], coverage.Env{}, readAt, req)
			if r.ID != string(p.Results[i].ID) || r.State == "" || (r.Healthy && r.State != StateManaged) {
				t.Fatalf("record %+v", r)
			}
		}
	})
}

// BenchmarkDecodeAndMap decodes and maps a page of 10,000 computers in the
// shape genComputer gives (about 3 KB each, the three sections read).
func BenchmarkDecodeAndMap(b *testing.B) {
	const n = 10000
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `{"totalCount":%d,"results":[`, n)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(genComputer(i+1, t0))
	}
	buf.WriteString("]}")
	data := buf.Bytes()
	env := coverage.Env{Window: 24 * time.Hour}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		p, err := decodePage(bytes.NewReader(data), DefaultMaxBody)
		if err != nil || len(p.Results) != n {
			b.Fatal(err)
		}
		out := make([]coverage.Record, 0, n)
		for i := range p.Results {
			out = append(out, mapComputer("jamf", &p.Results[i], env, t0, req))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
}
