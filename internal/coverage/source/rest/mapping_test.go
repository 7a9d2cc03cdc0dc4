package rest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"

	"github.com/muster-project/muster/internal/testclock"
)

// mapAll decodes one answer of a realistic in-house CMDB and maps its records.
func mapAll(t *testing.T, cfg string, page string) ([]coverage.Record, error) {
	t.Helper()
	s, err := build(t, "name: cmdb\nkind: rest\nurl: https://cmdb.example/api/hosts\n"+cfg, t.TempDir(), testclock.New(t0))
	if err != nil {
		t.Fatal(err)
	}
	vals := newValues(len(s.page.names))
	rv := newValues(len(s.m.rec.names))
	var out []coverage.Record
	sc := scanner{b: []byte(page), page: &vals, rec: &s.m.rec, recVals: &rv}
	sc.onRecord = func(i int) error {
		r, err := s.m.build(&rv, "record "+strconv.Itoa(i+1), t0, "GET https://cmdb.example/api/hosts")
		out = append(out, r)
		return err
	}
	if err := s.decode(&sc); err != nil {
		return nil, err
	}
	return out, nil
}

const cmdbPage = `{"count": 3, "results": [
 {"uuid": "6f1c", "fqdn": "web-1.corp.example", "asset": {"serial": "CZC123"}, "nics": [{"mac": "00:50:56:aa:bb:01", "addrs": "10.1.0.5/24, fe80::1/64"}],
  "platform": "Debian 12", "labels": "prod; web", "agent": {"status": "Healthy", "last_checkin": 1796547600}},
 {"uuid": "70aa", "fqdn": "db-1", "nics": [], "platform": "", "labels": [], "agent": {"status": "degraded", "last_checkin": 1796450000}},
 {"uuid": 912, "fqdn": "old-1", "agent": {"status": null, "last_checkin": 0}}
]}`

const cmdbFields = "records: results\nfields:\n  id: uuid\n  hostname: fqdn\n  serial: asset.serial\n  mac: nics.mac\n  ip: nics.addrs\n  os: platform\n  groups: labels\n  state: agent.status\n  last_seen: agent.last_checkin\ntime_format: unix\n"

func TestMappingStateHealth(t *testing.T) {
	recs, err := mapAll(t, cmdbFields+"healthy: [healthy]\n", cmdbPage)
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.ID != "6f1c" || r.Hostname != "web-1.corp.example" || r.Serial != "CZC123" || strings.Join(r.MACs, ",") != "00:50:56:aa:bb:01" ||
		strings.Join(r.IPs, ",") != "10.1.0.5,fe80::1" || strings.Join(r.Groups, ",") != "prod,web" || r.OS != "Debian 12" ||
		r.State != "Healthy" || !r.Healthy || !r.LastSeen.Equal(time.Unix(1796547600, 0)) || r.Source != "cmdb" {
		t.Errorf("record %+v", r)
	}
	if r.Fields.Map()["agent.status"] != "Healthy" || r.Fields.Map()["nics.addrs"] != "10.1.0.5/24, fe80::1/64" {
		t.Errorf("fields %v", r.Fields.Map())
	}
	if recs[1].State != "degraded" || recs[1].Healthy || len(recs[1].Groups) != 0 {
		t.Errorf("degraded %+v", recs[1])
	}
	if recs[2].ID != "912" || recs[2].State != StateUnknown || recs[2].Healthy || !recs[2].LastSeen.IsZero() {
		t.Errorf("no state %+v", recs[2])
	}
}

func TestMappingRequireFresh(t *testing.T) {
	// readAt is t0 (2026-12-07 09:00 UTC); the window is 24 h.
	page := `{"results":[{"uuid":"a","fqdn":"a","agent":{"status":"online","last_checkin":"2026-12-07T08:00:00Z"}},
	  {"uuid":"b","fqdn":"b","agent":{"status":"online","last_checkin":"2026-12-01T08:00:00.5+02:00"}}]}`
	recs, err := mapAll(t, "records: results\nfields: {id: uuid, hostname: fqdn, state: agent.status, last_seen: agent.last_checkin}\nrequire_fresh: true\n", page)
	if err != nil {
		t.Fatal(err)
	}
	if !recs[0].Healthy || recs[1].Healthy || recs[1].State != "online" || recs[1].LastSeen.Hour() != 6 {
		t.Errorf("records %+v", recs)
	}
}

func TestMappingFreshnessOnly(t *testing.T) {
	page := `[{"id":"a","name":"a","seen":"07.12.2026 08:00"},{"id":"b","name":"b","seen":"01.12.2026 08:00"},{"id":"c","name":"c","seen":""}]`
	recs, err := mapAll(t, "fields: {id: id, hostname: name, last_seen: seen}\ntime_format: \"02.01.2006 15:04\"\n", page)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		state   string
		healthy bool
	}{{StateSeen, true}, {StateStale, false}, {StateNeverSeen, false}} {
		if recs[i].State != want.state || recs[i].Healthy != want.healthy {
			t.Errorf("record %d: %s/%v, want %s/%v", i, recs[i].State, recs[i].Healthy, want.state, want.healthy)
		}
	}
}

func TestMappingListed(t *testing.T) {
	recs, err := mapAll(t, "fields: {id: id, serial: sn}\n", `[{"id":1,"sn":"X1"},{"id":true,"sn":["X2","X3"]}]`)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].State != "listed" || !recs[0].Healthy || recs[1].ID != "true" || recs[1].Serial != "X2" || recs[1].Fields.Map()["sn"] != "X2, X3" {
		t.Errorf("records %+v", recs)
	}
}

func TestMappingErrors(t *testing.T) {
	for page, want := range map[string]string{
		`[{"id":["a","b"],"name":"x"}]`:              "fields.id (id) gives 2 values (a, b); point it at one value",
		`[{"id":"a","name":{"first":"x"}}]`:          "fields.hostname: name holds an object, not a value; map a value inside it, e.g. name.first",
		`[{"id":"a","name":"x","seen":"yesterday"}]`: `fields.last_seen (seen) "yesterday" is not an RFC 3339 time`,
		`{"id":"a"}`: "the answer is an object, not an array of records; set records:",
	} {
		_, err := mapAll(t, "fields: {id: id, hostname: name, last_seen: seen}\n", page)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", page, err, want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		v, format string
		want      time.Time
		bad       bool
	}{
		{"2026-12-07T08:00:00Z", "", time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), false},
		{"0001-01-01T00:00:00Z", "", time.Time{}, false},
		{"1796547600", "unix", time.Unix(1796547600, 0).UTC(), false},
		{"1796547600123", "unix_ms", time.UnixMilli(1796547600123).UTC(), false},
		{"0", "unix", time.Time{}, false},
		{"1e300", "unix", time.Time{}, true},
		{"-5", "unix", time.Time{}, true},
		{"2026-12-07 08:00:00", "2006-01-02 15:04:05", time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC), false},
		{"12/07/2026", "", time.Time{}, true},
	} {
		got, err := parseTime(tc.v, tc.format)
		if (err != nil) != tc.bad || !got.Equal(tc.want) {
			t.Errorf("parseTime(%q, %q) = %v, %v", tc.v, tc.format, got, err)
		}
	}
}
