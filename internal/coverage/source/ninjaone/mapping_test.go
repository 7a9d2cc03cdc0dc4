package ninjaone

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
)

// readPage decodes testdata/devices-detailed.json: five devices as
// /v2/devices-detailed answers them (a Windows workstation with every
// expanded reference, an offline Mac, a Linux VM whose serial is only in
// biosSerialNumber, an SNMP printer without os or system, a server waiting
// for approval).
func readPage(t testing.TB) []apiDevice {
	t.Helper()
	raw, err := os.ReadFile("testdata/devices-detailed.json")
	if err != nil {
		t.Fatal(err)
	}
	devs, err := decodePage(bytes.NewReader(raw), DefaultMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	return devs
}

func TestMapRealisticPage(t *testing.T) {
	devs := readPage(t)
	readAt := epoch0
	const req = "GET https://app.ninjarmm.com/v2/devices-detailed?pageSize=1000"
	recs := mapDevices(nil, "ninja", devs, readAt, req, coverage.Env{Window: 24 * time.Hour})
	if len(recs) != 5 {
		t.Fatalf("%d records", len(recs))
	}
	want := coverage.Record{
		Source:   "ninja",
		ID:       "101",
		Hostname: "WS-RECEP-01",
		Serial:   "7XK2QH3",
		MACs:     []string{"00:15:5D:01:22:AB", "0A:00:27:00:00:11"},
		IPs:      []string{"10.20.1.45", "fe80::1c2d:3e4f:5a6b:7c8d"},
		OS:       "Windows 11 Professional Edition",
		Groups:   []string{"org 12", "location 34", "Contoso Ltd", "Head Office", "front-office", "windows11"},
		State:    StateOnline,
		Healthy:  true,
		LastSeen: time.Unix(1796644800, 513_000_000).UTC(),
		Fields: coverage.FieldsOf(map[string]string{
			"systemName": "WS-RECEP-01", "nodeClass": "WINDOWS_WORKSTATION", "approvalStatus": "APPROVED",
			"offline": "false", "lastContact": "1796644800.513", "system.serialNumber": "7XK2QH3",
			"os.name": "Windows 11 Professional Edition",
		}),
		ReadAt:  readAt,
		Request: req,
	}
	if d := cmp.Diff(want, recs[0]); d != "" {
		t.Errorf("record 101 (-want +got):\n%s", d)
	}

	mac := recs[1]
	if mac.State != StateOffline || mac.Healthy || mac.Serial != "C02FK3ZXMD6T" || mac.OS != "macOS Sequoia" ||
		!mac.LastSeen.Equal(time.Unix(1796300000, 0)) || mac.Fields.Map()["offline"] != "true" {
		t.Errorf("offline Mac: %+v", mac)
	}
	vm := recs[2]
	if vm.State != StateStale || vm.Healthy || vm.Hostname != "db01.example.net" || vm.Serial != "VM-4421-88" ||
		vm.Fields.Map()["dnsName"] != "db01.example.net" || vm.Fields.Map()["system.biosSerialNumber"] != "VM-4421-88" ||
		!cmp.Equal(vm.IPs, []string{"172.16.0.10"}) || !cmp.Equal(vm.Groups, []string{"org 14", "location 52"}) {
		t.Errorf("stale Linux VM: %+v", vm)
	}
	printer := recs[3]
	if printer.State != StateOnline || !printer.Healthy || printer.Hostname != "HP LaserJet 2nd floor" ||
		printer.Serial != "" || printer.OS != "" || printer.MACs != nil || printer.Fields.Map()["nodeClass"] != "NMS_PRINTER" ||
		printer.Fields.Map()["displayName"] != "HP LaserJet 2nd floor" {
		t.Errorf("printer: %+v", printer)
	}
	pending := recs[4]
	if pending.State != StatePending || pending.Healthy || pending.Serial != "VMware-42 1a 2b 3c" {
		t.Errorf("pending server: %+v", pending)
	}
}

func TestMapStates(t *testing.T) {
	yes, no := true, false
	seen := epoch0.Add(-time.Hour)
	env := coverage.Env{Window: 2 * time.Hour}
	cases := []struct {
		name    string
		d       apiDevice
		state   string
		healthy bool
	}{
		{"online", apiDevice{Offline: &no, LastContact: float64(seen.Unix())}, StateOnline, true},
		{"offline", apiDevice{Offline: &yes, LastContact: float64(seen.Unix())}, StateOffline, false},
		{"stale", apiDevice{Offline: &no, LastContact: float64(epoch0.Add(-3 * time.Hour).Unix())}, StateStale, false},
		{"never seen", apiDevice{Offline: &no}, StateStale, false},
		{"no offline field", apiDevice{LastContact: float64(seen.Unix())}, StateOnline, true},
		{"approved", apiDevice{ApprovalStatus: "APPROVED", Offline: &no, LastContact: float64(seen.Unix())}, StateOnline, true},
		{"pending", apiDevice{ApprovalStatus: "PENDING", Offline: &no, LastContact: float64(seen.Unix())}, StatePending, false},
		{"staged", apiDevice{ApprovalStatus: "STAGED", Offline: &no, LastContact: float64(seen.Unix())}, StateStaged, false},
		{"decommissioned", apiDevice{ApprovalStatus: "DECOMMISSIONED", Offline: &yes}, StateDecommissioned, false},
		{"milliseconds", apiDevice{Offline: &no, LastContact: float64(seen.UnixMilli())}, StateOnline, true},
	}
	for _, c := range cases {
		c.d.ID = 1
		r := mapDevice("n", &c.d, epoch0, "GET x", env)
		if r.State != c.state || r.Healthy != c.healthy {
			t.Errorf("%s: state %q healthy %v, want %q %v", c.name, r.State, r.Healthy, c.state, c.healthy)
		}
	}
}

func TestEpoch(t *testing.T) {
	cases := []struct {
		in   float64
		want time.Time
	}{
		{1796644800, time.Unix(1796644800, 0)},
		{1796644800.25, time.Unix(1796644800, 250_000_000)},
		{1796644800250, time.Unix(1796644800, 250_000_000)},
		{0, time.Time{}},
		{-5, time.Time{}},
		{math.NaN(), time.Time{}},
		{math.Inf(1), time.Time{}},
		{1e300, time.Time{}},
	}
	for _, c := range cases {
		if got := epoch(c.in); !got.Equal(c.want) || got.IsZero() != c.want.IsZero() {
			t.Errorf("epoch(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestDecodeToleratesNullsAndUnknownFields(t *testing.T) {
	page := `[{"id":3,"offline":null,"system":null,"os":null,"ipAddresses":null,"macAddresses":null,` +
		`"lastContact":null,"references":{"organization":null},"futureField":{"x":[1,2,{"y":"z"}]}}]`
	devs, err := decodePage(strings.NewReader(page), DefaultMaxBody)
	if err != nil || len(devs) != 1 {
		t.Fatalf("%d devices, %v", len(devs), err)
	}
	r := mapDevice("n", &devs[0], epoch0, "GET x", coverage.Env{})
	if r.ID != "3" || r.State != StateStale || r.Healthy || r.Fields.Map()["offline"] != "" {
		t.Errorf("record %+v", r)
	}
}
