package coverage

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sameAsEncodingJSON fails unless the hand-written device and finding are
// byte for byte what encoding/json writes for them.
func sameAsEncodingJSON(t *testing.T, d *Device, f *Finding) {
	t.Helper()
	for _, c := range []struct {
		v     any
		write func(o *jsonOut)
	}{{d, func(o *jsonOut) { o.device(d) }}, {f, func(o *jsonOut) { o.finding(f) }}} {
		want, wantErr := json.Marshal(c.v)
		var o jsonOut
		c.write(&o)
		if (wantErr != nil) != (o.err != nil) {
			t.Fatalf("error %v, encoding/json %v", o.err, wantErr)
		}
		if wantErr == nil && !bytes.Equal(o.b, want) {
			t.Fatalf("wrote\n%s\nencoding/json writes\n%s", o.b, want)
		}
	}
}

func trickyReport(s string, at time.Time, gap float64) (*Device, *Finding) {
	var fb FieldsBuilder
	fb.Set("name", s)
	fb.Set(s, "v")
	r1 := &Record{Source: "wazuh", ID: s, Hostname: s, Serial: s, MACs: []string{s, "00:1b:00:00:00:01"},
		IPs: []string{"10.0.0.1"}, OS: s, Groups: []string{s}, State: s, Healthy: true, LastSeen: at,
		Fields: fb.Build(), ReadAt: at.Add(time.Second), Request: "GET https://h:55000/agents?q=" + s}
	r2 := &Record{Source: "cmdb", ID: "row 2", State: "listed", ReadAt: at, Fields: FieldsOf(map[string]string{"a": s})}
	d := &Device{ID: "host:" + s, Name: s, Records: []*Record{r1, r2},
		Joins: []Join{{By: ByHostname, Value: s, Records: []*Record{r1, r2}, IPs: []string{s}}, {By: ByMAC, Value: "m", Records: []*Record{r2}}}}
	req := 1
	f := &Finding{Key: "silent_failure|" + s, Kind: KindSilentFailure, Device: d.ID, Name: s, Sources: []string{"cmdb", s},
		Message: s + " saw it", Evidence: []Evidence{{r1}, {r2}}, Requirement: &req,
		Silent: &Silent{AliveSource: s, AliveState: s, AliveAt: at, AgentSource: "wazuh", AgentState: s, AgentSeen: at, GapSeconds: gap}}
	return d, f
}

func TestJSONWriterMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 53, 30, 123456789, time.FixedZone("", 3600))
	for _, s := range []string{"web-01", `<a href="x">&amp;</a>`, "back\\slash \"q\"", "\xff\xfeinvalid", "\u2028\u2029 é ✓",
		"ctl\x00\x01\x1f\t\n", ""} {
		for _, gap := range []float64{-1, 0, 6340.5, 1e-7, 2.5e21, -3e-9, 1e20} {
			d, f := trickyReport(s, at, gap)
			sameAsEncodingJSON(t, d, f)
		}
	}
	// Zero and missing values: nil lists are null, zero times and empty
	// fields are left out, as the struct tags say.
	d := &Device{ID: "x", Records: []*Record{{Source: "s", ID: "1"}}}
	f := &Finding{Key: "k", Kind: KindOrphan, Evidence: []Evidence{{&Record{ID: "1"}}}}
	sameAsEncodingJSON(t, d, f)
	sameAsEncodingJSON(t, &Device{}, &Finding{Silent: &Silent{GapSeconds: -1}})
	// Findings whose words and detail are made from their evidence when read.
	at2 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	alive := &Record{Source: "rmm", ID: "n1", State: "online", Healthy: true, LastSeen: at2, ReadAt: at2}
	agent := &Record{Source: "wazuh", ID: "001", State: "disconnected", LastSeen: at2.Add(-3 * time.Hour), ReadAt: at2}
	silent := &Finding{Key: "s", Kind: KindSilentFailure, Sources: []string{"rmm", "wazuh"}, Evidence: []Evidence{{alive}, {agent}}}
	missing := &Finding{Key: "m", Kind: KindMissingAgent, Sources: []string{"cmdb", "rmm", "wazuh"}, Evidence: []Evidence{{alive}}}
	sameAsEncodingJSON(t, d, silent)
	sameAsEncodingJSON(t, d, missing)
	if got := silent.Text(); got != "rmm saw this machine alive (online) at 2026-12-07T09:00:00Z, but its wazuh agent is disconnected: it was last seen 3h earlier, at 2026-12-07T06:00:00Z" {
		t.Errorf("silent_failure text %q", got)
	}
	if s := silent.SilentDetail(); s == nil || s.GapSeconds != 3*3600 || s.AgentSource != "wazuh" {
		t.Errorf("silent_failure detail %+v", s)
	}
	if got := missing.Text(); got != "cmdb and rmm know this machine, but wazuh has no record of it" {
		t.Errorf("missing_agent text %q", got)
	}
	// A time encoding/json cannot write is an error, not a broken report.
	late := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	d, f = trickyReport("x", late, 1)
	sameAsEncodingJSON(t, d, f)
	if err := WriteJSON(&bytes.Buffer{}, &Report{Devices: []Device{*d}}); err == nil {
		t.Error("a year past 9999 was written")
	}
}

// TestWriteJSONLines: one device or finding per line, the document valid.
func TestWriteJSONLines(t *testing.T) {
	d, f := trickyReport("web-01", time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), 1)
	var b bytes.Buffer
	if err := WriteJSON(&b, &Report{Devices: []Device{*d, *d}, Findings: []Finding{*f}}); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b.Bytes()) {
		t.Fatalf("invalid JSON:\n%s", b.Bytes())
	}
	want, _ := json.Marshal(d)
	if !strings.Contains(b.String(), "\"devices\":[\n"+string(want)+"\n,\n"+string(want)+"\n]") {
		t.Errorf("devices not one per line:\n%s", b.String())
	}
}

func FuzzJSONWriter(f *testing.F) {
	f.Add("web-01", int64(1765100000), 1.5)
	f.Add("<\xff\u2028>", int64(-62135596800), -1e-7)
	f.Fuzz(func(t *testing.T, s string, sec int64, gap float64) {
		if gap != gap || gap > 1e300 || gap < -1e300 { // gaps are differences of times: never NaN or infinite
			return
		}
		d, fd := trickyReport(s, time.Unix(sec%(1<<40), 0), gap)
		sameAsEncodingJSON(t, d, fd)
	})
}
