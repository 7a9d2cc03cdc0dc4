package file

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/muster-project/muster/internal/coverage"
)

// fetchSample reads a testdata file with a preset.
func fetchSample(t *testing.T, file, preset string) []coverage.Record {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	s, err := build(t, "name: p\nkind: file\npath: "+file+"\npreset: "+preset+"\n", dir)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	recs, err := s.Fetch(context.Background(), nil)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return recs
}

var ignoreRead = cmpopts.IgnoreFields(coverage.Record{}, "Source", "ReadAt", "Request", "Fields")

// TestPresets: each preset reads a sample of the export it follows.
func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		file, preset string
		want         []coverage.Record
	}{
		{"servicenow.csv", "servicenow", []coverage.Record{
			{ID: "0c43b0f5c6112275019abd2bb3dcd78f", Hostname: "web-01", Serial: "VMW-4211", MACs: []string{"00:50:56:aa:bb:01"},
				IPs: []string{"10.0.0.11"}, OS: "Linux Red Hat", State: StateListed, Healthy: true},
			{ID: "1d54c1a6d7223386120bce3cc4edf89a", Hostname: "DB-02.corp.example", Serial: "VMW-4212",
				MACs: []string{"00:50:56:aa:bb:02", "00:50:56:aa:bb:03"}, IPs: []string{"10.0.0.12"}, OS: "Windows 2019 Standard",
				State: StateListed, Healthy: true},
		}},
		{"intune.json", "intune", []coverage.Record{
			{ID: "705c034c-034c-705c-4c03-5c704c035c70", Hostname: "LAPTOP-7Q2", Serial: "PF3ABCDE", MACs: []string{"a4:83:e7:11:22:33"},
				OS: "Windows", LastSeen: time.Date(2025, 11, 27, 8, 15, 0, 0, time.UTC), State: StateListed, Healthy: true},
			{ID: "815d145d-145d-815d-5d14-6d815d146d81", Hostname: "iPhone", OS: "iOS", State: StateListed, Healthy: true},
		}},
		{"intune-report.csv", "intune-report", []coverage.Record{
			{ID: "705c034c-034c-705c-4c03-5c704c035c70", Hostname: "LAPTOP-7Q2", Serial: "PF3ABCDE", OS: "Windows",
				LastSeen: time.Date(2025, 11, 27, 8, 15, 0, 0, time.UTC), State: StateListed, Healthy: true},
		}},
		{"jamf.csv", "jamf", []coverage.Record{
			{ID: "12", Hostname: "mac-alice", Serial: "C02K2ND8CMF1", MACs: []string{"12:34:56:78:9A:BC"}, IPs: []string{"192.168.1.20"},
				OS: "macOS 14.6.1", LastSeen: time.Date(2025, 11, 27, 22, 1, 9, 0, time.UTC), State: StateListed, Healthy: true},
			{ID: "13", Hostname: "mac-bob", Serial: "C02K2ND8CMF2", MACs: []string{"12:34:56:78:9A:BD"}, IPs: []string{"192.168.1.21"},
				OS: "macOS 15.1", State: StateListed, Healthy: true},
		}},
		{"jamf.json", "jamf", []coverage.Record{
			{ID: "12", Hostname: "mac-alice", Serial: "C02K2ND8CMF1", MACs: []string{"12:34:56:78:9A:BC"}, OS: "Mac OS X 10.15.7",
				State: StateListed, Healthy: true},
		}},
		{"netbox.json", "netbox", []coverage.Record{
			{ID: "5", Hostname: "server-01", Serial: "SRV0001", IPs: []string{"10.1.0.5"}, OS: "Ubuntu 24.04",
				Groups: []string{"prod", "web tier"}, State: "active", Healthy: true},
			{ID: "6", Hostname: "server-02", State: "offline"},
		}},
		{"netbox.csv", "netbox", []coverage.Record{
			{ID: "5", Hostname: "server-01", Serial: "SRV0001", OS: "Ubuntu 24.04", Groups: []string{"prod", "web tier"}, State: "active", Healthy: true},
			{ID: "6", Hostname: "server-02", State: "offline"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			recs := fetchSample(t, tc.file, tc.preset)
			if d := cmp.Diff(tc.want, recs, ignoreRead); d != "" {
				t.Errorf("records (-want +got):\n%s", d)
			}
			for _, r := range recs {
				if r.Source != "p" || !r.ReadAt.Equal(testNow) || len(r.Fields.Map()) == 0 {
					t.Errorf("%s: source %q read_at %v fields %v", r.ID, r.Source, r.ReadAt, r.Fields.Map())
				}
			}
		})
	}
}

func TestPresetFieldsAreRawNames(t *testing.T) {
	recs := fetchSample(t, "jamf.csv", "jamf")
	want := map[string]string{"JSS Computer ID": "12", "Computer Name": "mac-alice", "Serial Number": "C02K2ND8CMF1",
		"MAC Address": "12:34:56:78:9A:BC", "IP Address": "192.168.1.20", "Operating System": "macOS 14.6.1", "Last Check-in": "2025-11-27 22:01:09"}
	if d := cmp.Diff(want, recs[0].Fields.Map()); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

// TestPresetOverride: columns: replaces one field of a preset, and must exist.
func TestPresetOverride(t *testing.T) {
	recs := mustFetch(t, "a.csv", "sys_id,name,u_fqdn\n1,web,web.example\n", "preset: servicenow\ncolumns: {hostname: u_fqdn}\n")
	if recs[0].Hostname != "web.example" || recs[0].ID != "1" {
		t.Errorf("record %+v", recs[0])
	}
	_, err := fetch(t, "a.csv", "sys_id,name\n1,web\n", "preset: servicenow\ncolumns: {hostname: u_fqdn}\n")
	wantErr(t, err, `column "u_fqdn" (columns: hostname) is not in the header`)
}

func TestPresetNames(t *testing.T) {
	if got := PresetNames(); !slices.Equal(got, []string{"intune", "intune-report", "jamf", "netbox", "servicenow"}) {
		t.Errorf("presets %v", got)
	}
	for _, p := range Presets() {
		for k := range p.Columns {
			if _, ok := fieldByName(k); !ok {
				t.Errorf("preset %s maps unknown field %q", p.Name, k)
			}
		}
	}
}
