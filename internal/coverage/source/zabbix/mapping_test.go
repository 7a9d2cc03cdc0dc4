package zabbix

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
)

var readAt = time.Date(2026, 12, 7, 6, 20, 40, 0, time.UTC)

const req = "POST http://127.0.0.1:57080/api_jsonrpc.php host.get"

// recordedHosts decodes testdata/, recorded from the real Zabbix 6.0.14.
func recordedHosts(t testing.TB) ([]apiHost, []apiItem) {
	t.Helper()
	var hosts []apiHost
	var items []apiItem
	for _, h := range recorded(t, "testdata/host.get.json") {
		var v apiHost
		if err := json.Unmarshal(h, &v); err != nil {
			t.Fatal(err)
		}
		hosts = append(hosts, v)
	}
	for _, it := range recorded(t, "testdata/item.get.json") {
		var v apiItem
		if err := json.Unmarshal(it, &v); err != nil {
			t.Fatal(err)
		}
		items = append(items, v)
	}
	return hosts, items
}

// wantRecorded is what the recorded answers must map to.
func wantRecorded(source string, at time.Time, request string) map[string]coverage.Record {
	rec := func(r coverage.Record) coverage.Record {
		r.Source, r.ReadAt, r.Request = source, at, request
		return r
	}
	return map[string]coverage.Record{
		"10560": rec(coverage.Record{ID: "10560", Hostname: "probe-inv", Serial: "SN123",
			MACs: []string{"aa:bb:cc:dd:ee:ff", "11:22:33:44:55:66"}, IPs: []string{"127.0.0.1", "127.0.0.2"},
			OS: "Debian 12", Groups: []string{"probe-grp"}, State: StateDisabled, Healthy: false,
			Fields: coverage.FieldsOf(map[string]string{"status": "1", "inventory.name": "inv-name", "available": "0",
				"errors_from": "0", "disable_until": "0", "interface": "127.0.0.1:10059"})}),
		"10561": rec(coverage.Record{ID: "10561", Hostname: "probe-up", IPs: []string{"127.0.0.1"},
			Groups: []string{"probe-grp"}, State: StateAvailable, Healthy: true,
			LastSeen: time.Unix(1796624439, 0).UTC(),
			Fields: coverage.FieldsOf(map[string]string{"status": "0", "available": "1", "errors_from": "0", "disable_until": "0",
				"interface": "127.0.0.1:10050", "lastclock": "1796624439", "lastvalue": "1"})}),
		"10562": rec(coverage.Record{ID: "10562", Hostname: "probe-down", IPs: []string{"127.0.0.1"},
			Groups: []string{"probe-grp"}, State: StateUnavailable, Healthy: false,
			Fields: coverage.FieldsOf(map[string]string{"status": "0", "available": "2", "errors_from": "1796624390",
				"disable_until": "1796624440", "interface": "127.0.0.1:10061", "lastclock": "0", "lastvalue": "0",
				"error": "Get value from agent failed: cannot connect to [[127.0.0.1]:10061]: [111] Connection refused"})}),
		"10563": rec(coverage.Record{ID: "10563", Hostname: "probe-snmp",
			MACs: []string{"00:11:22:33:44:55", "00:11:22:33:44:56", "00:11:22:33:44:57"},
			IPs:  []string{"127.0.0.3"}, Groups: []string{"Linux servers", "probe-grp"},
			State: StateNoAgentInterface, Healthy: false, Fields: coverage.FieldsOf(map[string]string{"status": "0"})}),
		"10564": rec(coverage.Record{ID: "10564", Hostname: "probe-new", Groups: []string{"probe-grp"},
			State: StateUnknown, Healthy: false,
			Fields: coverage.FieldsOf(map[string]string{"status": "0", "available": "0", "errors_from": "0", "disable_until": "0",
				"interface": "new.example:10050"})}),
	}
}

func TestMapRecorded(t *testing.T) {
	hosts, items := recordedHosts(t)
	got := mapHosts("zbx", hosts, items, readAt, req)
	want := wantRecorded("zbx", readAt, req)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for _, r := range got {
		t.Run(r.Hostname, func(t *testing.T) {
			if d := cmp.Diff(want[r.ID], r); d != "" {
				t.Errorf("record %s (-want +got):\n%s", r.ID, d)
			}
		})
	}
}

func TestMapCases(t *testing.T) {
	agent := func(avail string) apiInterface {
		return apiInterface{Type: "1", Main: "1", IP: "10.0.0.1", Port: "10050", Available: avail}
	}
	tests := []struct {
		name      string
		host      apiHost
		pings     []apiItem
		state     string
		healthy   bool
		lastSeen  time.Time
		wantField map[string]string
	}{
		{name: "available", host: apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{agent("1")}},
			state: StateAvailable, healthy: true},
		{name: "unavailable", host: apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{agent("2")}},
			state: StateUnavailable},
		{name: "unknown", host: apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{agent("0")}},
			state: StateUnknown},
		{name: "a future availability code", host: apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{agent("7")}},
			state: StateUnknown, wantField: map[string]string{"available": "7"}},
		{name: "disabled but available", host: apiHost{HostID: "1", Status: "1", Interfaces: []apiInterface{agent("1")}},
			state: StateDisabled},
		{name: "an odd status is not healthy", host: apiHost{HostID: "1", Status: "3", Interfaces: []apiInterface{agent("1")}},
			state: StateAvailable},
		{name: "no interfaces", host: apiHost{HostID: "1", Status: "0"}, state: StateNoAgentInterface},
		{name: "main agent interface wins",
			host: apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{
				{Type: "1", Main: "0", IP: "10.0.0.2", Port: "1", Available: "2"}, agent("1")}},
			state: StateAvailable, healthy: true, wantField: map[string]string{"interface": "10.0.0.1:10050"}},
		{name: "a non-main agent interface is a fallback",
			host:  apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{{Type: "1", Main: "0", IP: "::1", Port: "5", Available: "2", Error: "down"}}},
			state: StateUnavailable, wantField: map[string]string{"interface": "[::1]:5", "error": "down"}},
		{name: "the latest of two pings",
			host:  apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{agent("1")}},
			pings: []apiItem{{ItemID: "a", HostID: "1", LastClock: "100"}, {ItemID: "b", HostID: "1", LastClock: "200"}, {ItemID: "c", HostID: "2", LastClock: "900"}},
			state: StateAvailable, healthy: true, lastSeen: time.Unix(200, 0).UTC(), wantField: map[string]string{"lastclock": "200"}},
		{name: "a garbled lastclock is kept raw, not a time",
			host:  apiHost{HostID: "1", Status: "0", Interfaces: []apiInterface{agent("1")}},
			pings: []apiItem{{ItemID: "a", HostID: "1", LastClock: "soon"}},
			state: StateAvailable, healthy: true, wantField: map[string]string{"lastclock": "soon"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := mapHosts("s", []apiHost{tc.host}, tc.pings, readAt, req)
			if len(recs) != 1 {
				t.Fatalf("got %d records", len(recs))
			}
			r := recs[0]
			if r.State != tc.state || r.Healthy != tc.healthy || !r.LastSeen.Equal(tc.lastSeen) {
				t.Errorf("state %q healthy %v last seen %v; want %q %v %v", r.State, r.Healthy, r.LastSeen, tc.state, tc.healthy, tc.lastSeen)
			}
			for k, v := range tc.wantField {
				if r.Fields.Map()[k] != v {
					t.Errorf("Fields[%s] = %q, want %q", k, r.Fields.Map()[k], v)
				}
			}
		})
	}
}

func TestSplitMACs(t *testing.T) {
	tests := map[string][]string{
		"":                        nil,
		" , ;\n":                  nil,
		"aa:bb:cc:dd:ee:ff":       {"aa:bb:cc:dd:ee:ff"},
		"a, b;c\td\r\ne  f":       {"a", "b", "c", "d", "e", "f"},
		"00-11-22-33-44-55,;,x y": {"00-11-22-33-44-55", "x", "y"},
	}
	for in, want := range tests {
		if got := splitMACs(in); !cmp.Equal(got, want) {
			t.Errorf("splitMACs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInventoryShapes(t *testing.T) {
	tests := []struct {
		in      string
		want    apiInventory
		wantErr bool
	}{
		{in: `[]`},
		{in: `null`},
		{in: `{"serialno_a":"S1","os":"Linux"}`, want: apiInventory{SerialNoA: "S1", OS: "Linux"}},
		{in: `[1]`, wantErr: true},
		{in: `"x"`, wantErr: true},
	}
	for _, tc := range tests {
		var got apiInventory
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

// FuzzMapHosts feeds arbitrary host.get and item.get results through the
// decoder and the mapping: errors are fine, panics are not.
func FuzzMapHosts(f *testing.F) {
	f.Add([]byte(`[{"hostid":"1","status":"0","inventory":[],"interfaces":[{"type":"1","main":"1","available":"1"}]}]`), []byte(`[{"itemid":"1","hostid":"1","lastclock":"5"}]`))
	f.Add([]byte(`[{"hostid":"1","inventory":{"macaddress_a":";;,"},"groups":[{"name":""}]}]`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, hostsJSON, itemsJSON []byte) {
		var hosts []apiHost
		var items []apiItem
		if json.Unmarshal(hostsJSON, &hosts) != nil || json.Unmarshal(itemsJSON, &items) != nil {
			return
		}
		recs := mapHosts("s", hosts, items, readAt, req)
		if len(recs) != len(hosts) {
			t.Fatalf("%d hosts gave %d records", len(hosts), len(recs))
		}
		for _, r := range recs {
			if r.State == "" {
				t.Fatalf("record %q has no state", r.ID)
			}
			if r.Healthy && r.State != StateAvailable {
				t.Fatalf("healthy record in state %q", r.State)
			}
		}
	})
}
