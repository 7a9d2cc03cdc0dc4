package sentinelone

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
)

var env24h = coverage.Env{Window: 24 * time.Hour}

func recordedAgents(t testing.TB) []apiAgent {
	t.Helper()
	raw, err := os.ReadFile("testdata/agents.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodePage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p.Data
}

func TestMapRecordedAgent(t *testing.T) {
	a := recordedAgents(t)[0]
	got := mapAgent("s1", a, start, "GET https://c.example/web/api/v2.1/agents?limit=1000", env24h)
	want := coverage.Record{
		Source: "s1", ID: "1657613730168123595", Hostname: "FIN-LT-0042", Serial: "5CG1234XYZ",
		MACs:     []string{"3c:a9:f4:12:34:56", "8c:ec:4b:aa:bb:cc"},
		IPs:      []string{"10.20.30.41"},
		OS:       "Windows 11 Enterprise 22631",
		Groups:   []string{"Headquarters", "Laptops"},
		State:    StateActive,
		Healthy:  true,
		LastSeen: time.Date(2026, 5, 4, 11, 58, 12, 405110000, time.UTC),
		ReadAt:   start,
		Request:  "GET https://c.example/web/api/v2.1/agents?limit=1000",
		Fields: coverage.FieldsOf(map[string]string{
			"id": "1657613730168123595", "uuid": "f431b0a1a8744d2a8a92fc88fa3c13bc", "computerName": "FIN-LT-0042",
			"serialNumber": "5CG1234XYZ", "lastActiveDate": "2026-05-04T11:58:12.405110Z", "networkStatus": "connected",
			"operationalState": "na", "agentVersion": "23.4.2.14", "lastIpToMgmt": "10.20.30.41", "externalIp": "198.51.100.23",
			"osName": "Windows 11 Enterprise", "osType": "windows", "osRevision": "22631", "accountName": "Example Corp",
			"siteId": "1475482421366727779", "siteName": "Headquarters", "groupName": "Laptops", "isActive": "true",
			"infected": "false", "isDecommissioned": "false", "isUninstalled": "false", "isPendingUninstall": "false",
		}),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mapAgent (-want +got):\n%s", diff)
	}
}

func TestMapOthersRecorded(t *testing.T) {
	ag := recordedAgents(t)
	dec := mapAgent("s1", ag[1], start, "", env24h)
	if dec.State != StateDecommissioned || dec.Healthy || dec.OS != "Windows Server 2016 14393" || len(dec.IPs) != 1 {
		t.Errorf("decommissioned agent: %+v", dec)
	}
	mac := mapAgent("s1", ag[2], start, "", env24h)
	if mac.State != StateContained || mac.Healthy || mac.Fields.Map()["infected"] != "true" || mac.OS != "macOS 14.4.1 (23E224)" {
		t.Errorf("quarantined mac: %+v", mac)
	}
	if diff := cmp.Diff([]string{"192.168.7.20"}, mac.IPs); diff != "" {
		t.Errorf("lastIpToMgmt repeats an interface address, listed once: %s", diff)
	}
	lin := mapAgent("s1", ag[3], start, "", env24h)
	if lin.State != "auto_partially_disabled" || lin.Healthy || lin.Serial != "" {
		t.Errorf("disabled linux agent: %+v", lin)
	}
	if diff := cmp.Diff([]string{"10.9.0.7", "172.17.0.1"}, lin.IPs); diff != "" {
		t.Errorf("IPs: %s", diff)
	}
	if diff := cmp.Diff([]string{"52:54:00:9a:bc:de", "02:42:ac:11:00:01"}, lin.MACs); diff != "" {
		t.Errorf("MACs: %s", diff)
	}
}

func TestMapStates(t *testing.T) {
	yes, no := true, false
	recent := "2026-05-04T11:00:00.000000Z"
	base := func() apiAgent {
		return apiAgent{ID: "1", IsActive: &yes, IsDecommissioned: &no, IsUninstalled: &no, IsPendingUninstall: &no,
			NetworkStatus: "connected", OperationalState: "na", LastActiveDate: recent}
	}
	cases := []struct {
		name    string
		edit    func(a *apiAgent)
		state   string
		healthy bool
	}{
		{"active", func(a *apiAgent) {}, StateActive, true},
		{"operationalState missing", func(a *apiAgent) { a.OperationalState = "" }, StateActive, true},
		{"decommissioned wins", func(a *apiAgent) { a.IsDecommissioned = &yes; a.NetworkStatus = "disconnected" }, StateDecommissioned, false},
		{"uninstalled", func(a *apiAgent) { a.IsUninstalled = &yes }, StateUninstalled, false},
		{"pending uninstall", func(a *apiAgent) { a.IsPendingUninstall = &yes }, StatePendingUninstall, false},
		{"network quarantine", func(a *apiAgent) { a.NetworkStatus = "disconnected" }, StateContained, false},
		{"fully disabled", func(a *apiAgent) { a.OperationalState = "fully_disabled" }, "fully_disabled", false},
		{"disabled error", func(a *apiAgent) { a.OperationalState = "disabled_error" }, "disabled_error", false},
		{"inactive", func(a *apiAgent) { a.IsActive = &no }, StateInactive, false},
		{"isActive missing", func(a *apiAgent) { a.IsActive = nil }, StateInactive, false},
		{"stale", func(a *apiAgent) { a.LastActiveDate = "2026-05-01T11:00:00Z" }, StateStale, false},
		{"never active", func(a *apiAgent) { a.LastActiveDate = "" }, StateStale, false},
		{"unparsable date", func(a *apiAgent) { a.LastActiveDate = "yesterday" }, StateStale, false},
		{"connecting", func(a *apiAgent) { a.NetworkStatus = "connecting" }, StateConnecting, false},
		{"disconnecting", func(a *apiAgent) { a.NetworkStatus = "disconnecting" }, StateDisconnecting, false},
		{"unknown network status", func(a *apiAgent) { a.NetworkStatus = "rebooting" }, "rebooting", false},
		{"no network status", func(a *apiAgent) { a.NetworkStatus = "" }, "unknown", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := base()
			tc.edit(&a)
			r := mapAgent("s1", a, start, "", env24h)
			if r.State != tc.state || r.Healthy != tc.healthy {
				t.Errorf("State %q Healthy %v, want %q %v", r.State, r.Healthy, tc.state, tc.healthy)
			}
		})
	}
}

func TestMapWindowFromEnv(t *testing.T) {
	yes := true
	a := apiAgent{ID: "1", IsActive: &yes, NetworkStatus: "connected", LastActiveDate: "2026-05-02T12:00:00Z"}
	if r := mapAgent("s1", a, start, "", coverage.Env{Window: 72 * time.Hour}); !r.Healthy {
		t.Errorf("seen 48 h ago with a 72 h window: %s, want healthy", r.State)
	}
	if r := mapAgent("s1", a, start, "", coverage.Env{Window: time.Hour}); r.Healthy || r.State != StateStale {
		t.Errorf("seen 48 h ago with a 1 h window: %s healthy %v", r.State, r.Healthy)
	}
}

func TestMapOSFallbacks(t *testing.T) {
	for _, tc := range []struct{ name, rev, typ, want string }{
		{"Windows 10 Pro", "19045", "windows", "Windows 10 Pro 19045"},
		{"Linux", "", "linux", "Linux"},
		{"", "", "macos", "macos"},
		{"Ubuntu 22.04", "22.04", "linux", "Ubuntu 22.04"},
	} {
		if got := osString(apiAgent{OSName: tc.name, OSRevision: tc.rev, OSType: tc.typ}); got != tc.want {
			t.Errorf("osString(%q, %q, %q) = %q, want %q", tc.name, tc.rev, tc.typ, got, tc.want)
		}
	}
}

// FuzzDecodePage feeds pages to the decoder and the mapping: neither may
// panic, and a page that decodes maps to records with ids.
func FuzzDecodePage(f *testing.F) {
	raw, err := os.ReadFile("testdata/agents.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"data":[],"pagination":{"nextCursor":null,"totalItems":0}}`))
	f.Add([]byte(`{"data":[{"id":"1","networkInterfaces":"eth0"}],"pagination":{}}`))
	f.Add([]byte(`{"data":[{"id":"1","networkInterfaces":[{"physical":7,"inet":"x"}]}],"pagination":{}}`))
	f.Add([]byte(`{"errors":[{"code":4010010,"detail":null,"title":"Authentication Failed"}]}`))
	f.Add([]byte(`<!DOCTYPE html><html></html>`))
	f.Add(raw[:len(raw)/2])
	f.Add([]byte(`{"data":[{"id":"1","lastActiveDate":"2026-13-45T99:99:99Z","isActive":null}],"pagination":{"nextCursor":"x","totalItems":-4}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := decodePage(b)
		if err != nil {
			if p != nil {
				t.Fatal("an error with a page")
			}
			return
		}
		for _, a := range p.Data {
			r := mapAgent("s1", a, start, "GET x", env24h)
			if r.ID == "" || r.State == "" {
				t.Fatalf("record without id or state: %+v", r)
			}
			if r.Healthy && r.State != StateActive {
				t.Fatalf("healthy in state %q", r.State)
			}
			if strings.TrimSpace(r.Hostname) != r.Hostname {
				t.Fatalf("hostname not trimmed: %q", r.Hostname)
			}
		}
	})
}
