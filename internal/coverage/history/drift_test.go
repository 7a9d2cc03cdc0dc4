package history_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
)

var both = []string{"inv", "wazuh"}

func TestThreeRuns(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		ctx := context.Background()
		if _, err := s.Drift(ctx, 0); !errors.Is(err, history.ErrNoRuns) {
			t.Fatalf("drift of an empty history: %v, want ErrNoRuns", err)
		}
		a := finding(coverage.KindMissingAgent, "d1", "inv", "wazuh")
		b := finding(coverage.KindOrphan, "d2", "wazuh")
		c := finding(coverage.KindSilentFailure, "d3", "inv", "wazuh")
		dup := finding(coverage.KindDuplicate, "d4", "wazuh")
		r1 := record(t, s, withCoverage(report(0, both, a, b), 0.8))

		d := drift(t, s, 0)
		if d.SinceRun != 0 || d.LatestRun != r1 {
			t.Fatalf("first drift compares %d -> %d, want 0 -> %d", d.SinceRun, d.LatestRun, r1)
		}
		if diff := cmp.Diff([]string{a.Key, b.Key}, keys(d.Opened)); diff != "" {
			t.Errorf("first run opened (-want +got):\n%s", diff)
		}

		r2 := record(t, s, withCoverage(report(time.Hour, both, a, c), 0.9))
		d = drift(t, s, 0)
		if diff := cmp.Diff([]string{c.Key}, keys(d.Opened)); diff != "" {
			t.Errorf("run 2 opened (-want +got):\n%s", diff)
		}
		gb := byKey(t, d.Closed, b.Key)
		if gb.ClosedRun != r2 || !gb.ClosedAt.Equal(t0.Add(time.Hour)) || gb.FirstRun != r1 || gb.LastRun != r1 ||
			gb.Age != time.Hour {
			t.Errorf("closed gap b = %+v, want closed by run %d after 1h open", gb, r2)
		}

		r3 := record(t, s, withCoverage(report(3*time.Hour+20*time.Minute, both, a, c, dup), 0.7))
		d = drift(t, s, 0)
		if d.SinceRun != r2 || d.LatestRun != r3 || !d.SinceAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("drift compares %d -> %d, want %d -> %d", d.SinceRun, d.LatestRun, r2, r3)
		}
		if diff := cmp.Diff([]string{dup.Key}, keys(d.Opened)); diff != "" {
			t.Errorf("run 3 opened (-want +got):\n%s", diff)
		}
		if len(d.Closed) != 0 {
			t.Errorf("run 3 closed %v, want none", keys(d.Closed))
		}
		if diff := cmp.Diff([]string{a.Key, c.Key, dup.Key}, keys(d.Open)); diff != "" {
			t.Errorf("open gaps, oldest first (-want +got):\n%s", diff)
		}
		ga := byKey(t, d.Open, a.Key)
		want := history.Gap{Key: a.Key, Kind: a.Kind, Device: "d1", Name: "host-d1", Sources: both,
			Message: a.Message, FirstRun: r1, FirstSeen: t0, LastRun: r3, LastSeen: t0.Add(200 * time.Minute),
			Age: 200 * time.Minute, AgeSeconds: 12000}
		if diff := cmp.Diff(want, ga); diff != "" {
			t.Errorf("gap a (-want +got):\n%s", diff)
		}
		if gc := byKey(t, d.Open, c.Key); gc.FirstRun != r2 || gc.LastRun != r3 || gc.Age != 140*time.Minute {
			t.Errorf("gap c = %+v, want first seen in run %d, last in %d, 2h20m old", gc, r2, r3)
		}
		wantCov := []history.RequirementDrift{{Index: 0, Scope: []string{"inv"}, MustHave: []string{"wazuh"},
			Before: 0.9, After: 0.7}}
		if diff := cmp.Diff(wantCov, d.Coverage); diff != "" {
			t.Errorf("coverage (-want +got):\n%s", diff)
		}

		// Against run 1: c and dup are new, b closed since.
		d = drift(t, s, r1)
		if diff := cmp.Diff([]string{c.Key, dup.Key}, keys(d.Opened)); diff != "" {
			t.Errorf("opened since run 1 (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{b.Key}, keys(d.Closed)); diff != "" {
			t.Errorf("closed since run 1 (-want +got):\n%s", diff)
		}
		if d.Coverage[0].Before != 0.8 {
			t.Errorf("coverage before = %v, want run 1's 0.8", d.Coverage[0].Before)
		}
		for _, since := range []int64{r3, r3 + 5, -1} {
			if _, err := s.Drift(ctx, since); err == nil {
				t.Errorf("drift since %d: no error", since)
			}
		}

		runs, err := s.Runs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := []int64{runs[0].ID, runs[1].ID, runs[2].ID}; !cmp.Equal(got, []int64{r3, r2, r1}) || len(runs) != 3 {
			t.Errorf("runs = %v, want newest first %v", got, []int64{r3, r2, r1})
		}
		if runs[0].Findings[coverage.KindDuplicate] != 1 || runs[0].Findings[coverage.KindOrphan] != 0 ||
			runs[0].ExitCode != 1 || runs[0].Devices != 9 || len(runs[0].Sources) != 2 {
			t.Errorf("latest run = %+v", runs[0])
		}
		if runs, _ := s.Runs(ctx, 2); len(runs) != 2 || runs[0].ID != r3 {
			t.Errorf("Runs(2) = %d runs", len(runs))
		}
		trend, err := s.Trend(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(trend) != 2 || !trend[0].At.Equal(t0.Add(time.Hour)) || !cmp.Equal(trend[1].Ratios, []float64{0.7}) ||
			trend[0].Findings[coverage.KindSilentFailure] != 1 {
			t.Errorf("trend = %+v, want runs 2 and 3, oldest first", trend)
		}
	})
}

func TestUnavailableSourceNeitherOpensNorCloses(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		a := finding(coverage.KindMissingAgent, "d1", "inv", "wazuh") // absent while wazuh is down
		h := finding(coverage.KindOrphan, "d5", "wazuh")              // present while wazuh is down
		b := finding(coverage.KindStaleEverywhere, "d2", "inv")       // present, inv is fine
		f := finding(coverage.KindDuplicate, "d3", "inv")             // absent, inv is fine: closes
		g := finding(coverage.KindOrphan, "d4", "edr")                // edr leaves the configuration
		e := finding(coverage.KindOrphan, "d6", "wazuh")              // new while wazuh is down
		r1 := record(t, s, report(0, []string{"edr", "inv", "wazuh"}, a, h, b, f, g))
		r2 := record(t, s, withCoverage(report(time.Hour, []string{"inv", "wazuh:down"}, h, b, e), -1))

		d := drift(t, s, 0)
		if len(d.Opened) != 0 {
			t.Errorf("a run with wazuh down opened %v", keys(d.Opened))
		}
		if diff := cmp.Diff([]string{f.Key}, keys(d.Closed)); diff != "" {
			t.Errorf("closed (-want +got):\n%s", diff)
		}
		want := map[string]int64{a.Key: r1, h.Key: r1, b.Key: r2, g.Key: r1} // key -> last run
		if len(d.Open) != len(want) {
			t.Errorf("open = %v, want %d gaps", keys(d.Open), len(want))
		}
		for k, last := range want {
			if g := byKey(t, d.Open, k); g.LastRun != last || g.FirstRun != r1 {
				t.Errorf("gap %s: first %d last %d, want first %d last %d", k, g.FirstRun, g.LastRun, r1, last)
			}
		}
		if d.Coverage[0].After != -1 {
			t.Errorf("skipped requirement's coverage = %v, want -1", d.Coverage[0].After)
		}
		if runs, _ := s.Runs(context.Background(), 1); runs[0].Findings[coverage.KindOrphan] != 2 {
			t.Errorf("the run's own findings are kept: orphans = %d, want 2", runs[0].Findings[coverage.KindOrphan])
		}

		// wazuh is back and a is gone: now it closes.
		r3 := record(t, s, report(2*time.Hour, []string{"inv", "wazuh"}, h, b))
		d = drift(t, s, 0)
		if diff := cmp.Diff([]string{a.Key}, keys(d.Closed)); diff != "" {
			t.Errorf("closed once wazuh is back (-want +got):\n%s", diff)
		}
		if g := byKey(t, d.Closed, a.Key); g.ClosedRun != r3 || g.LastRun != r1 {
			t.Errorf("gap a closed by %d last seen %d, want %d and %d", g.ClosedRun, g.LastRun, r3, r1)
		}
		if byKey(t, d.Open, h.Key).LastRun != r3 {
			t.Errorf("gap h was not refreshed once wazuh is back")
		}
	})
}

func TestReopenedGapStartsANewPeriod(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		a := finding(coverage.KindMissingAgent, "d1", "inv", "wazuh")
		r1 := record(t, s, report(0, both, a))
		r2 := record(t, s, report(time.Hour, both))
		r3 := record(t, s, report(2*time.Hour, both, a))

		d := drift(t, s, 0)
		g := byKey(t, d.Opened, a.Key)
		if g.FirstRun != r3 || !g.FirstSeen.Equal(t0.Add(2*time.Hour)) || g.ClosedRun != 0 {
			t.Errorf("reopened gap = %+v, want a new period from run %d", g, r3)
		}
		if n := history.Count(t, s, "coverage_gap_periods"); n != 1 {
			t.Errorf("%d closed periods kept, want 1", n)
		}
		// Open at run 1 and open now: against run 1 nothing drifted.
		d = drift(t, s, r1)
		if len(d.Opened)+len(d.Closed) != 0 || len(d.Open) != 1 {
			t.Errorf("since run 1: opened %v closed %v, want none", keys(d.Opened), keys(d.Closed))
		}
		// Closed at run 2: against it, the gap opened again.
		if d = drift(t, s, r2); len(d.Opened) != 1 {
			t.Errorf("since run 2: opened %v, want a", keys(d.Opened))
		}
		record(t, s, report(3*time.Hour, both))
		if d = drift(t, s, r1); len(d.Closed) != 1 || d.Closed[0].FirstRun != r3 {
			t.Errorf("since run 1 after the second close: closed %+v, want a's period from run %d", d.Closed, r3)
		}
	})
}
