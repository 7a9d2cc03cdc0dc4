package meshcentral

import (
	"slices"
	"testing"
	"time"
)

func f64(v float64) *float64 { return &v }

func TestMapDevice(t *testing.T) {
	readAt := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	net := &apiNetInfo{NetIf2: map[string][]apiInterface{
		"lo":   {{MAC: zeroMAC, Address: "127.0.0.1"}, {MAC: zeroMAC, Address: "::1"}},
		"eth1": {{MAC: "aa:bb:cc:00:00:02", Address: "2001:db8::5"}},
		"eth0": {{MAC: "aa:bb:cc:00:00:01", Address: "192.0.2.4"}, {MAC: "aa:bb:cc:00:00:01", Address: "fe80::1%2"}},
	}}
	for _, tc := range []struct {
		name     string
		d        device
		state    string
		healthy  bool
		lastSeen time.Time
		host     string
		macs     []string
		ips      []string
	}{
		{"online agent", device{node: apiNode{ID: "node//a", Name: "shown", RName: "real", Conn: f64(1), IP: "198.51.100.7"}, net: net},
			StateOnline, true, readAt, "real", []string{"aa:bb:cc:00:00:01", "aa:bb:cc:00:00:02"}, []string{"198.51.100.7", "192.0.2.4", "2001:db8::5"}},
		{"relay only is not the agent", device{node: apiNode{ID: "node//b", Name: "b", Conn: f64(8)},
			last: &apiLastConnect{Time: f64(1700000000000)}},
			StateOffline, false, time.UnixMilli(1700000000000), "b", nil, nil},
		{"agent and AMT", device{node: apiNode{ID: "node//c", Name: "c", Conn: f64(5)}}, StateOnline, true, readAt, "c", nil, nil},
		{"offline, no lastconnect data", device{node: apiNode{ID: "node//d", Name: "d", IP: "127.0.0.1"},
			last: &apiLastConnect{NoInfo: true, Result: "No data"}, net: &apiNetInfo{NoInfo: true}},
			StateOffline, false, time.Time{}, "d", nil, nil},
		{"offline, zero time", device{node: apiNode{ID: "node//e", Name: "e"}, last: &apiLastConnect{Time: f64(0)}},
			StateOffline, false, time.Time{}, "e", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.d.meshID, tc.d.group = "mesh//g", "grp"
			r := mapDevice("src", tc.d, readAt, "req")
			if r.State != tc.state || r.Healthy != tc.healthy || !r.LastSeen.Equal(tc.lastSeen) || r.Hostname != tc.host {
				t.Errorf("got state %s healthy %v last seen %v host %q", r.State, r.Healthy, r.LastSeen, r.Hostname)
			}
			if !slices.Equal(r.MACs, tc.macs) || !slices.Equal(r.IPs, tc.ips) {
				t.Errorf("MACs %v IPs %v, want %v %v", r.MACs, r.IPs, tc.macs, tc.ips)
			}
			if r.ID != tc.d.node.ID || r.Source != "src" || r.Request != "req" || !r.ReadAt.Equal(readAt) ||
				!slices.Equal(r.Groups, []string{"grp"}) || r.Fields.Map()["meshid"] != "mesh//g" || r.Fields.Map()["_id"] != tc.d.node.ID {
				t.Errorf("record %+v", r)
			}
		})
	}
}

func TestMapDeviceFields(t *testing.T) {
	d := device{node: apiNode{ID: "node//x", Name: "x", OSDesc: "Linux", Conn: f64(0), Pwr: f64(0)},
		last: &apiLastConnect{Time: f64(1796609352671), Addr: "10.0.0.1:5000"},
		net:  &apiNetInfo{NetIf2: map[string][]apiInterface{"e": {{MAC: "02:00:00:00:00:01"}}}}}
	r := mapDevice("s", d, time.Now(), "q")
	want := map[string]string{"_id": "node//x", "meshid": "", "name": "x", "osdesc": "Linux", "conn": "0", "pwr": "0",
		"lastconnect.time": "1796609352671", "lastconnect.addr": "10.0.0.1:5000", "netif2.mac": "02:00:00:00:00:01"}
	for k, v := range want {
		if r.Fields.Map()[k] != v {
			t.Errorf("field %s = %q, want %q (all: %v)", k, r.Fields.Map()[k], v, r.Fields.Map())
		}
	}
	if r.State != StateOffline || r.Groups != nil {
		t.Errorf("conn 0 must be offline; no group given: %+v", r)
	}
}

func TestAddIP(t *testing.T) {
	var ips []string
	for _, a := range []string{"", "junk", "127.0.0.1", "::1", "fe80::1%eth0", "0.0.0.0", "::ffff:192.0.2.1", "192.0.2.1", "224.0.0.1", " 10.1.2.3 "} {
		ips = addIP(ips, a)
	}
	if !slices.Equal(ips, []string{"192.0.2.1", "10.1.2.3"}) {
		t.Errorf("got %v", ips)
	}
}
