package crowdstrike

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
)

// readAt is when the recorded answers "arrived".
var readAt = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

// recordedDevices reads testdata/devices-v2.json, an answer of
// POST /devices/entities/devices/v2 shaped as the Hosts documentation shows.
func recordedDevices(t testing.TB) []device {
	t.Helper()
	b, err := os.ReadFile("testdata/devices-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var env envelope[device]
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env.Resources
}

// recordedRaw is the recorded hosts as Falcon sent them.
func recordedRaw(t testing.TB) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/devices-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	return env.Resources
}

// wantRecorded is what the recorded hosts map to.
func wantRecorded(source string, at time.Time, request string) map[string]coverage.Record {
	return map[string]coverage.Record{
		"4f1c8e2a9b7d4c3e8a6f5b2d1e0c9a87": {
			Source: source, ID: "4f1c8e2a9b7d4c3e8a6f5b2d1e0c9a87", Hostname: "WIN-APP01", Serial: "8QK2HX3",
			MACs: []string{"f8-bc-12-a4-5e-01"}, IPs: []string{"10.20.1.15", "203.0.113.24"}, OS: "Windows Server 2022",
			Groups: []string{"0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f50", "1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a61", "FalconGroupingTags/Production", "SensorGroupingTags/dc-east"},
			State:  "normal", Healthy: true, LastSeen: time.Date(2026, 12, 7, 11, 55, 41, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"status": "normal", "reduced_functionality_mode": "no", "last_seen": "2026-12-07T11:55:41Z",
				"first_seen": "2024-03-04T09:10:02Z", "platform_name": "Windows", "os_version": "Windows Server 2022",
				"product_type_desc": "Server", "agent_version": "7.18.18710.0", "mac_address": "f8-bc-12-a4-5e-01",
				"local_ip": "10.20.1.15", "external_ip": "203.0.113.24", "machine_domain": "corp.example"}),
			ReadAt: at, Request: request,
		},
		"7b3d2e1f0a9c48d6b5e4f3a2c1d0e9f8": {
			Source: source, ID: "7b3d2e1f0a9c48d6b5e4f3a2c1d0e9f8", Hostname: "mbp-bob", Serial: "C02FK1ABMD6T",
			MACs: []string{"3c-22-fb-9d-10-aa"}, IPs: []string{"192.168.1.34", "198.51.100.7"}, OS: "Mac Sonoma (14)",
			State: "contained", Healthy: false, LastSeen: time.Date(2026, 12, 7, 11, 40, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"status": "contained", "reduced_functionality_mode": "no", "last_seen": "2026-12-07T11:40:00Z",
				"first_seen": "2025-01-20T14:03:55Z", "platform_name": "Mac", "os_version": "Sonoma (14)",
				"product_type_desc": "Workstation", "agent_version": "7.17.18605.0", "mac_address": "3c-22-fb-9d-10-aa",
				"local_ip": "192.168.1.34", "external_ip": "198.51.100.7"}),
			ReadAt: at, Request: request,
		},
		"a0b1c2d3e4f5461788990a1b2c3d4e5f": {
			Source: source, ID: "a0b1c2d3e4f5461788990a1b2c3d4e5f", Hostname: "web-03.corp.example",
			Serial: "VMware-42 1a 6b 2c 3d 4e 5f 60-71 82 93 a4 b5 c6 d7 e8",
			MACs:   []string{"00-50-56-9a-3b-c4"}, IPs: []string{"10.20.3.7", "203.0.113.24"}, OS: "Linux RHEL 9.2",
			Groups: []string{"0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f50", "FalconGroupingTags/Production"},
			State:  "reduced_functionality", Healthy: false, LastSeen: time.Date(2026, 12, 7, 10, 2, 17, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"status": "normal", "reduced_functionality_mode": "yes", "last_seen": "2026-12-07T10:02:17Z",
				"first_seen": "2023-08-09T07:00:00Z", "platform_name": "Linux", "os_version": "RHEL 9.2",
				"product_type_desc": "Server", "agent_version": "7.14.16703.0", "mac_address": "00-50-56-9a-3b-c4",
				"local_ip": "10.20.3.7", "external_ip": "203.0.113.24"}),
			ReadAt: at, Request: request,
		},
		"c4d5e6f7a8b94c0d1e2f3a4b5c6d7e8f": {
			Source: source, ID: "c4d5e6f7a8b94c0d1e2f3a4b5c6d7e8f", Hostname: "LAPTOP-OLD7",
			IPs: []string{"10.30.8.19"}, OS: "Windows 10",
			State: "stale", Healthy: false, LastSeen: time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC),
			Fields: coverage.FieldsOf(map[string]string{"status": "normal", "last_seen": "2026-11-20T08:15:00Z",
				"first_seen": "2022-11-15T12:00:00Z", "platform_name": "Windows", "os_version": "Windows 10",
				"product_type_desc": "Workstation", "agent_version": "7.10.17706.0",
				"local_ip": "10.30.8.19", "external_ip": "10.30.8.19"}),
			ReadAt: at, Request: request,
		},
	}
}

func TestMapRecorded(t *testing.T) {
	devs := recordedDevices(t)
	env := coverage.Env{Window: 24 * time.Hour}
	recs := mapDevices("cs", devs, readAt, "POST https://api.crowdstrike.com/devices/entities/devices/v2 (4 ids)", env)
	want := wantRecorded("cs", readAt, "POST https://api.crowdstrike.com/devices/entities/devices/v2 (4 ids)")
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for _, r := range recs {
		if d := cmp.Diff(want[r.ID], r); d != "" {
			t.Errorf("record %s (-want +got):\n%s", r.ID, d)
		}
	}
}

func TestMapStates(t *testing.T) {
	fresh := "2026-12-07T11:59:00Z"
	old := "2026-12-01T00:00:00Z"
	tests := []struct {
		status, rfm, lastSeen string
		state                 string
		healthy               bool
	}{
		{"normal", "no", fresh, "normal", true},
		{"normal", "", fresh, "normal", true},
		{"Normal", "No", fresh, "normal", true},
		{"normal", "yes", fresh, "reduced_functionality", false},
		{"normal", "no", old, "stale", false},
		{"normal", "no", "", "stale", false},
		{"normal", "no", "not a time", "stale", false},
		{"containment_pending", "no", fresh, "containment_pending", false},
		{"contained", "yes", fresh, "contained", false},
		{"lift_containment_pending", "no", old, "lift_containment_pending", false},
		{"", "no", fresh, "unknown", false},
		{"some_new_status", "no", fresh, "some_new_status", false},
	}
	env := coverage.Env{Window: time.Hour}
	for _, tc := range tests {
		d := device{DeviceID: "x", Status: fstr(tc.status), RFM: fstr(tc.rfm), LastSeen: fstr(tc.lastSeen)}
		r := mapDevice("cs", &d, readAt, "q", env)
		if r.State != tc.state || r.Healthy != tc.healthy {
			t.Errorf("status %q rfm %q last_seen %q: state %q healthy %v; want %q %v", tc.status, tc.rfm, tc.lastSeen, r.State, r.Healthy, tc.state, tc.healthy)
		}
	}
}

func TestOSName(t *testing.T) {
	for _, tc := range [][3]string{
		{"Windows", "Windows 11", "Windows 11"},
		{"Mac", "Sonoma (14)", "Mac Sonoma (14)"},
		{"Linux", "Ubuntu 22.04", "Linux Ubuntu 22.04"},
		{"Linux", "", "Linux"},
		{"", "Debian 12", "Debian 12"},
		{"", "", ""},
	} {
		if got := osName(tc[0], tc[1]); got != tc[2] {
			t.Errorf("osName(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// TestTolerantFields: numbers and booleans where Falcon documents strings
// are read as text, null as empty; an object where a string belongs is an
// error naming the field.
func TestTolerantFields(t *testing.T) {
	var env envelope[device]
	ok := `{"meta":{},"resources":[{"device_id":"d1","hostname":null,"serial_number":12345,"status":"normal","reduced_functionality_mode":false,"groups":"g1","tags":["t1",null,""],"local_ip":"10.0.0.1"}],"errors":null}`
	if err := json.Unmarshal([]byte(ok), &env); err != nil {
		t.Fatal(err)
	}
	d := env.Resources[0]
	if d.Hostname != "" || d.SerialNumber != "12345" || d.RFM != "false" || len(d.Groups) != 1 || len(d.Tags) != 1 {
		t.Errorf("decoded %+v", d)
	}
	bad := `{"resources":[{"device_id":"d1","hostname":{"name":"x"}}]}`
	err := json.Unmarshal([]byte(bad), &env)
	if err == nil || !strings.Contains(err.Error(), "hostname") {
		t.Errorf("err = %v, want one naming hostname", err)
	}
	escaped := `{"resources":[{"device_id":"d\u0031","hostname":"a\"b"}]}`
	if err := json.Unmarshal([]byte(escaped), &env); err != nil || env.Resources[0].DeviceID != "d1" || env.Resources[0].Hostname != `a"b` {
		t.Errorf("escapes: %v %+v", err, env.Resources)
	}
}
