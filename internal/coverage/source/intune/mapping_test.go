package intune

import (
	"bytes"
	"fmt"
	"github.com/muster-project/muster/internal/coverage/walkbench"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
)

// TestMapRecordedPage maps a beta page shaped as the managedDevice resource
// page documents it, with the values Intune really sends for "never"
// (0001-01-01T00:00:00Z), "no address" (000000000000, "" or null) and
// offsets other than Z.
func TestMapRecordedPage(t *testing.T) {
	body, err := os.ReadFile("testdata/managedDevices.json")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := decodePage(bytes.NewReader(body), DefaultMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	if pg.NextLink != "" || len(pg.Value) != 6 {
		t.Fatalf("next %q, %d devices", pg.NextLink, len(pg.Value))
	}
	readAt := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	env := coverage.Env{Window: 24 * time.Hour}
	type brief struct {
		Host, Serial, OS, State string
		MACs, Groups            []string
		Healthy                 bool
		LastSeen                time.Time
	}
	var got []brief
	for i := range pg.Value {
		r, err := mapDevice("intune", &pg.Value[i], readAt, "GET x", env.Fresh)
		if err != nil {
			t.Fatal(err)
		}
		if r.Source != "intune" || r.ID != pg.Value[i].ID || r.ReadAt != readAt || r.Request != "GET x" {
			t.Errorf("record %d: %+v", i, r)
		}
		got = append(got, brief{r.Hostname, r.Serial, r.OS, r.State, r.MACs, r.Groups, r.Healthy, r.LastSeen})
	}
	want := []brief{
		// noncompliant, but its agent syncs: compliance is policy, not health
		{"LAPTOP-7QK2M1", "5CG1234XYZ", "Windows 10.0.22631.3447", StateSynced, []string{"F8E43B7A9C01"}, []string{"Finance laptops"}, true,
			time.Date(2026, 3, 2, 9, 41, 17, 123456700, time.UTC)},
		{"Anna's iPhone", "F17XK2ABHG7F", "iOS 17.4.1", StateStale, nil, nil, false, time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC)},
		{"MAC-DESIGN-04", "C02XG1ABJGH5", "macOS 14.4.1 (23E224)", "retirePending", []string{"a4:83:e7:12:34:56", "A483E7123457"}, []string{"Design"}, false,
			time.Date(2026, 3, 2, 11, 59, 0, 0, time.UTC)},
		{"KIOSK-LOBBY", "R58N123ABCD", "Android 14", StateNeverSynced, []string{"5C:E8:83:AA:BB:CC"}, []string{"Kiosks"}, false, time.Time{}},
		{"SRV-OLD-02", "VMware-56 4d 12 34", "Windows 10.0.17763.5576", StateStale, []string{"005056A1B2C3"}, []string{"Servers"}, false,
			time.Date(2025, 12, 24, 17, 30, 0, 0, time.UTC)},
		{"LAPTOP-WIPED", "PF2ABCDE", "Windows 10.0.19045.4170", "wipePending", []string{"F8E43B7A9C02"}, []string{"Finance laptops"}, false,
			time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("records (-want +got):\n%s", d)
	}
}

func TestMapFields(t *testing.T) {
	d := apiDevice{ID: "x", DeviceName: "pc", ComplianceState: "noncompliant", ManagementAgent: "eas",
		WiFiMacAddress: "000000000000", LastSyncDateTime: "2026-03-02T11:00:00Z", ManagedDeviceOwnerType: "personal"}
	r, err := mapDevice("s", &d, start, "GET y", coverage.Env{}.Fresh)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"deviceName": "pc", "complianceState": "noncompliant", "managementAgent": "eas",
		"wiFiMacAddress": "000000000000", "lastSyncDateTime": "2026-03-02T11:00:00Z", "managedDeviceOwnerType": "personal"}
	if d := cmp.Diff(want, r.Fields.Map()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
	if r.MACs != nil || r.State != StateSynced || !r.Healthy {
		t.Errorf("record %+v", r)
	}
}

func TestMapWindow(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		ago    time.Duration
		want   string
	}{
		{time.Hour, 59 * time.Minute, StateSynced},
		{time.Hour, 61 * time.Minute, StateStale},
		{0, 23 * time.Hour, StateSynced}, // the default window, 24 h
		{0, 25 * time.Hour, StateStale},
		{8 * time.Hour, -time.Minute, StateSynced}, // a clock a little ahead
	} {
		d := apiDevice{ID: "x", LastSyncDateTime: start.Add(-tc.ago).Format(time.RFC3339Nano)}
		r, err := mapDevice("s", &d, start, "", coverage.Env{Window: tc.window}.Fresh)
		if err != nil || r.State != tc.want || r.Healthy != (tc.want == StateSynced) {
			t.Errorf("window %v, synced %v ago: %s %v (%v), want %s", tc.window, tc.ago, r.State, r.Healthy, err, tc.want)
		}
	}
}

func TestGraphTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{"", time.Time{}, false},
		{"0001-01-01T00:00:00Z", time.Time{}, false},
		{"0001-01-01T00:00:00.0000000Z", time.Time{}, false},
		{"2026-03-02T09:41:17.1234567Z", time.Date(2026, 3, 2, 9, 41, 17, 123456700, time.UTC), false},
		{"2017-01-01T00:02:49.3205976-08:00", time.Date(2017, 1, 1, 8, 2, 49, 320597600, time.UTC), false},
		{"2026-03-02 09:41", time.Time{}, true},
		{"yesterday", time.Time{}, true},
	} {
		got, err := graphTime(tc.in)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("%q: %v, %v; want %v (bad %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

// page builds a page of n devices as Graph sends it.
func benchPage(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices","value":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%08x-34c3-4f6b-9a1e-%012x","deviceName":"DESKTOP-%05d","serialNumber":"PF3K%06d","wiFiMacAddress":"3c22fb%06x","ethernetMacAddress":null,"operatingSystem":"Windows","osVersion":"10.0.22631.3447","lastSyncDateTime":"2026-03-02T0%d:41:17.1234567Z","complianceState":"compliant","managementAgent":"mdm","azureADDeviceId":"%08x-aaaa-4bbb-8ccc-%012x","managedDeviceOwnerType":"company","deviceCategoryDisplayName":"Laptops"}`,
			i, i, i, i, i, i%10, i, i)
	}
	b.WriteString(`],"@odata.nextLink":"https://graph.microsoft.com/v1.0/deviceManagement/managedDevices?$top=1000&$skiptoken=RFNwdAIAAQAAAC"}`)
	return []byte(b.String())
}

// BenchmarkDecodeAndMap decodes and maps a page of 10,000 devices; it
// reports the cost per record, wall and CPU (the target: under 10,000 ns,
// i.e. 1 s per 100,000 devices). Run: go test -run '^$' -bench DecodeAndMap ./internal/coverage/source/intune/
func BenchmarkDecodeAndMap(b *testing.B) {
	const n = 10_000
	body := benchPage(n)
	env := coverage.Env{Window: 24 * time.Hour}
	readAt := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpu0 := walkbench.CPUTime()
	for b.Loop() {
		pg, err := decodePage(bytes.NewReader(body), DefaultMaxBody)
		if err != nil || len(pg.Value) != n {
			b.Fatalf("%d devices, %v", len(pg.Value), err)
		}
		for i := range pg.Value {
			if _, err := mapDevice("intune", &pg.Value[i], readAt, "GET x", env.Fresh); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	// the process's CPU time (GC included), which a busy machine does not inflate
	b.ReportMetric(float64((walkbench.CPUTime()-cpu0).Nanoseconds())/float64(b.N*n), "cpu-ns/record")
}
