package scan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/scan"
)

// ago formats a timestamp d before the fixture's reference time, as Wazuh does.
func ago(d time.Duration) string { return fixtureT0.Add(-d).Format("2006-01-02T15:04:05+00:00") }

func agent(id, name, ip, status string, fields ...any) map[string]any {
	a := map[string]any{"id": id, "name": name, "ip": ip, "status": status, "status_code": 0}
	for i := 0; i+1 < len(fields); i += 2 {
		a[fields[i].(string)] = fields[i+1]
	}
	return a
}

// Each rule of docs/scanner.md, one agent at a time.
func TestClassificationRules(t *testing.T) {
	manager := agent("000", "mgr", "127.0.0.1", "active", "lastKeepAlive", "9999-12-31T23:59:59+00:00", "version", "Wazuh v4.14.7")
	cases := []struct {
		name     string
		agent    map[string]any
		class    scan.Class
		findings []scan.Finding
		bucket   string
	}{
		{"fresh keepalive", agent("001", "a", "10.0.0.1", "active", "lastKeepAlive", ago(59*time.Second), "version", "Wazuh v4.14.7"),
			"active", []scan.Finding{}, ""},
		{"silent past 3 × notify_time", agent("001", "a", "10.0.0.1", "active", "lastKeepAlive", ago(61*time.Second)),
			"stale", []scan.Finding{"stale"}, ""},
		{"active without keepalive", agent("001", "a", "10.0.0.1", "active"), "stale", []scan.Finding{"stale"}, ""},
		{"pending briefly", agent("001", "a", "10.0.0.1", "pending", "lastKeepAlive", ago(5*time.Second)),
			"pending", []scan.Finding{}, ""},
		{"pending stuck", agent("001", "a", "10.0.0.1", "pending", "lastKeepAlive", ago(10*time.Minute)),
			"pending", []scan.Finding{"pending"}, ""},
		{"pending, registration age", agent("001", "a", "10.0.0.1", "pending", "dateAdd", ago(2*time.Hour)),
			"pending", []scan.Finding{"pending"}, ""},
		{"disconnected recently", agent("001", "a", "10.0.0.1", "disconnected", "lastKeepAlive", ago(20*time.Minute), "status_code", 4),
			"disconnected", []scan.Finding{"disconnected"}, "<1d"},
		{"disconnected two days", agent("001", "a", "10.0.0.1", "disconnected", "lastKeepAlive", ago(50*time.Hour)),
			"disconnected", []scan.Finding{"disconnected"}, "1d-3d"},
		{"disconnected, only disconnection_time", agent("001", "a", "10.0.0.1", "disconnected", "disconnection_time", ago(40*24*time.Hour)),
			"disconnected", []scan.Finding{"disconnected"}, ">=30d"},
		{"never connected, within grace", agent("001", "a", "any", "never_connected", "dateAdd", ago(23*time.Hour)),
			"never_connected", []scan.Finding{}, "<1d"},
		{"never connected, past grace", agent("001", "a", "any", "never_connected", "dateAdd", ago(25*time.Hour), "group_config_status", "not synced"),
			"never_connected", []scan.Finding{"never_connected"}, "1d-3d"},
		{"outdated and not synced", agent("001", "a", "10.0.0.1", "active", "lastKeepAlive", ago(time.Second),
			"version", "Wazuh v4.13.1", "group_config_status", "not synced"),
			"active", []scan.Finding{"outdated", "config_not_synced"}, ""},
		{"newer than the manager is not outdated", agent("001", "a", "10.0.0.1", "active", "lastKeepAlive", ago(time.Second), "version", "Wazuh v4.15.0"),
			"active", []scan.Finding{}, ""},
		{"unknown status", agent("001", "a", "10.0.0.1", "rebooting"), "unknown", []scan.Finding{"unknown_status"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeManager([]map[string]any{manager, tc.agent})
			f.version = "v4.14.7"
			r, err := scan.Run(context.Background(), startFake(t, f), scan.Options{Now: f.now, AllAgents: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Agents) != 1 {
				t.Fatalf("rows: %+v", r.Agents)
			}
			a := r.Agents[0]
			if a.Class != tc.class || a.Bucket != tc.bucket || !cmp.Equal(a.Findings, tc.findings) {
				t.Errorf("got class %s bucket %q findings %v; want %s %q %v", a.Class, a.Bucket, a.Findings, tc.class, tc.bucket, tc.findings)
			}
		})
	}
}

// Names and IPs shared by several agents are findings of every agent
// involved; "any" and networks are not counted.
func TestDuplicates(t *testing.T) {
	ka := ago(time.Second)
	f := newFakeManager([]map[string]any{
		agent("001", "web", "10.0.0.1", "active", "lastKeepAlive", ka),
		agent("002", "db", "10.0.0.1", "active", "lastKeepAlive", ka),
		agent("003", "web", "10.0.0.3", "disconnected", "lastKeepAlive", ago(48*time.Hour)),
		agent("004", "new-1", "any", "never_connected", "dateAdd", ka),
		agent("005", "new-2", "any", "never_connected", "dateAdd", ka),
		agent("006", "kiosk", "10.0.6.0/24", "never_connected", "dateAdd", ka),
		agent("007", "kiosk2", "10.0.6.0/24", "never_connected", "dateAdd", ka),
	})
	r, err := scan.Run(context.Background(), startFake(t, f), scan.Options{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	want := []scan.Duplicate{{"name", "web", []string{"001", "003"}}, {"ip", "10.0.0.1", []string{"001", "002"}}}
	if d := cmp.Diff(want, r.Duplicates); d != "" {
		t.Errorf("duplicates (-want +got):\n%s", d)
	}
	if r.Findings["duplicate_name"] != 2 || r.Findings["duplicate_ip"] != 2 || r.Healthy != 4 {
		t.Errorf("findings %v healthy %d", r.Findings, r.Healthy)
	}
}

func TestVersionsAndAges(t *testing.T) {
	for in, want := range map[string]scan.Version{"Wazuh v4.14.7": {4, 14, 7}, "v4.9": {4, 9, 0}, "4.13.1": {4, 13, 1}, "": {}, "TestVersion": {}} {
		if got := scan.ParseVersion(in); got != want {
			t.Errorf("ParseVersion(%q) = %v", in, got)
		}
	}
	if !scan.ParseVersion("4.9.2").Less(scan.ParseVersion("4.14.0")) {
		t.Error("4.9.2 must be older than 4.14.0 (numeric, not text order)")
	}
	for d, want := range map[time.Duration]string{45 * time.Second: "45s", 12 * time.Minute: "12m", 90 * time.Second: "1m30s",
		3*time.Hour + 20*time.Minute: "3h20m", 50 * time.Hour: "50h", 72 * time.Hour: "3d", 100 * time.Hour: "4d4h", -1: "?"} {
		if got := scan.FormatAge(d); got != want {
			t.Errorf("FormatAge(%v) = %q, want %q", d, got, want)
		}
	}
	got := scan.BucketLabels([]time.Duration{time.Hour, 24 * time.Hour})
	if fmt.Sprint(got) != "[<1h 1h-1d >=1d]" {
		t.Errorf("labels %v", got)
	}
}

func TestThresholds(t *testing.T) {
	th := scan.DefaultThresholds()
	for _, spec := range []string{"disconnected=5", "outdated=10%", "duplicate_ip=off", "stale=0%"} {
		if err := th.Set(spec); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"disconnected", "nosuch=1", "stale=-3", "stale=120%", "stale=x"} {
		if err := th.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
	r := &scan.Report{Total: 100, Findings: map[scan.Finding]int{"disconnected": 6, "outdated": 10, "duplicate_ip": 50, "stale": 1}}
	got := th.Evaluate(r)
	want := []scan.Breach{{"stale", 1, "0", 0}, {"disconnected", 6, "5", 5}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("breaches (-want +got):\n%s", d)
	}
	all := scan.Thresholds{}
	if err := all.Set("all=off"); err != nil || len(all.Evaluate(r)) != 0 {
		t.Errorf("all=off: %v %v", err, all.Evaluate(r))
	}
}

func TestParseAgeAndBuckets(t *testing.T) {
	for in, want := range map[string]time.Duration{"90s": 90 * time.Second, "30d": 720 * time.Hour, "1.5d": 36 * time.Hour, "72h": 72 * time.Hour} {
		if got, err := scan.ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "x", "-1h", "d"} {
		if _, err := scan.ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
	if b, err := scan.ParseBuckets("1h, 1d,30d"); err != nil || len(b) != 3 || b[1] != 24*time.Hour {
		t.Errorf("buckets %v %v", b, err)
	}
	for _, bad := range []string{"2d,1d", "", "0s"} {
		if _, err := scan.ParseBuckets(bad); err == nil {
			t.Errorf("ParseBuckets(%q) accepted", bad)
		}
	}
}

func TestProgressOnATerminal(t *testing.T) {
	var b strings.Builder
	report, done := scan.Progress(&b, true)
	report(5000, 100001)
	report(10000, 100001)
	done()
	if got := b.String(); got != "\rscanning: 5000/100001 agents\rscanning: 10000/100001 agents\r\033[K" {
		t.Errorf("progress %q", got)
	}
	b.Reset()
	report, done = scan.Progress(&b, false)
	report(1, 2) // a log gets a line only every few seconds
	done()
	if b.Len() != 0 {
		t.Errorf("non-terminal progress %q", b.String())
	}
}
