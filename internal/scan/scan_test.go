package scan_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/scan"
)

// The fixture's 40 agents at its reference time, classified by hand.
func TestRunFixture(t *testing.T) {
	f := newFakeManager(loadFixture(t))
	c := startFake(t, f)
	var progress []int
	r, err := scan.Run(context.Background(), c, scan.Options{PageSize: 7, Now: f.now,
		Progress: func(done, total int) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	wantClasses := map[scan.Class]int{"active": 25, "stale": 0, "pending": 3, "disconnected": 7, "never_connected": 5, "unknown": 0}
	if d := cmp.Diff(wantClasses, r.Classes); d != "" {
		t.Errorf("classes (-want +got):\n%s", d)
	}
	wantFindings := map[scan.Finding]int{"stale": 0, "pending": 2, "disconnected": 7, "never_connected": 0,
		"outdated": 8, "config_not_synced": 1, "duplicate_name": 0, "duplicate_ip": 0, "unknown_status": 0}
	if d := cmp.Diff(wantFindings, r.Findings); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	if r.Total != 40 || r.Healthy != 27 {
		t.Errorf("total %d healthy %d, want 40 and 27", r.Total, r.Healthy)
	}
	wantDisc := []scan.BucketCount{{"<1d", 2}, {"1d-3d", 1}, {"3d-30d", 2}, {">=30d", 2}}
	if d := cmp.Diff(wantDisc, r.Disconnected); d != "" {
		t.Errorf("disconnected buckets (-want +got):\n%s", d)
	}
	if r.NeverConnected[0].Agents != 5 {
		t.Errorf("never connected buckets: %+v", r.NeverConnected)
	}
	// Keyset pages of 7 over 41 records (000 included): 6 pages.
	if got := f.agentCalls.Load(); got != 6 {
		t.Errorf("GET /agents calls = %d, want 6", got)
	}
	if len(progress) != 6 || progress[5] != 41 {
		t.Errorf("progress = %v", progress)
	}
	if r.Logins != 1 || f.logins.Load() != 1 {
		t.Errorf("logins: client %d, server %d", r.Logins, f.logins.Load())
	}
	// Settings fell back to documented defaults and said so.
	s := r.Settings
	if s.DisconnectionTime.Seconds != 900 || s.NotifyTime.Seconds != 20 || s.StaleAfter.Seconds != 60 {
		t.Errorf("settings: %+v", s)
	}
	if !strings.Contains(s.VersionSource, "404") || len(r.Notes) < 2 {
		t.Errorf("fallbacks not reported: %q %q", s.VersionSource, r.Notes)
	}
	if r.ExitCode != 1 || len(r.Breaches) != 4 {
		t.Errorf("exit %d breaches %v", r.ExitCode, r.Breaches)
	}
	row := findRow(r, "024")
	if row == nil || row.Class != "disconnected" || row.Bucket != ">=30d" || row.Reason != "no keepalive: timed out" ||
		!cmp.Equal(row.Findings, []scan.Finding{"disconnected", "outdated"}) {
		t.Errorf("agent 024: %+v", row)
	}
	if findRow(r, "001") != nil || findRow(r, "000") != nil {
		t.Error("healthy agents and the manager must not be listed")
	}
}

func findRow(r *scan.Report, id string) *scan.AgentRow {
	for i := range r.Agents {
		if r.Agents[i].ID == id {
			return &r.Agents[i]
		}
	}
	return nil
}

// The manager's own settings win over the defaults; its clock is the reference.
func TestRunReadsManagerSettings(t *testing.T) {
	f := newFakeManager(loadFixture(t))
	f.version, f.disconnect = "v4.12.0", "10m"
	c := startFake(t, f)
	local := func() time.Time { return fixtureT0.Add(-5 * time.Minute) } // this machine is 5 minutes behind
	r, err := scan.Run(context.Background(), c, scan.Options{Now: local})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Settings
	if s.ManagerVersion != "v4.12.0" || s.VersionSource != "GET /manager/info" ||
		s.DisconnectionTime.Seconds != 600 || s.DisconnectionTime.Source != "GET /manager/configuration" ||
		s.NotifyTime.Seconds != 10 || s.StaleAfter.Seconds != 30 {
		t.Errorf("settings: %+v", s)
	}
	if s.ClockSkew != 300 || !strings.Contains(strings.Join(r.Notes, " "), "ahead") {
		t.Errorf("skew %v notes %q", s.ClockSkew, r.Notes)
	}
	// Against 4.12.0 only 024 (4.7.5) and 016 (4.9.2) are behind.
	if r.Findings["outdated"] != 2 {
		t.Errorf("outdated = %d", r.Findings["outdated"])
	}
	// Stale after 30 s: active agents silent 31–56 s are stale now.
	if r.Classes["stale"] == 0 {
		t.Error("no stale agent with a 30 s threshold")
	}
}

// A manager that rejects the field selection is scanned with whole records.
func TestRunSelectFallback(t *testing.T) {
	f := newFakeManager(loadFixture(t))
	f.rejectSel = true
	c := startFake(t, f)
	r, err := scan.Run(context.Background(), c, scan.Options{Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 40 || !strings.Contains(strings.Join(r.Notes, " "), "field selection") {
		t.Errorf("total %d notes %q", r.Total, r.Notes)
	}
}

// Errors end the scan with exit code 2 and a hint; a walk cut short says how far it got.
func TestRunFailsWithExitCode2(t *testing.T) {
	f := newFakeManager(loadFixture(t))
	f.failFrom = 3
	c := startFake(t, f)
	_, err := scan.Run(context.Background(), c, scan.Options{PageSize: 10, Now: f.now})
	var se *scan.Error
	if !errors.As(err, &se) || se.ExitCode() != 2 || se.Seen != 20 ||
		!strings.Contains(err.Error(), "after 20 of them") || !strings.Contains(err.Error(), "muster doctor") {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := scan.Run(ctx, c, scan.Options{Now: f.now}); !errors.As(err, &se) || se.Stage != "settings" {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestWatchReusesTheToken(t *testing.T) {
	f := newFakeManager(loadFixture(t))
	c := startFake(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	scan.Watch(ctx, c, scan.Options{Now: f.now}, time.Millisecond, func(r *scan.Report, err error) {
		if err != nil {
			t.Error(err)
		}
		if runs++; runs == 3 {
			cancel()
		}
	})
	if runs != 3 || f.logins.Load() != 1 || c.Logins() != 1 {
		t.Fatalf("runs %d, logins %d/%d", runs, f.logins.Load(), c.Logins())
	}
}
