package history_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
)

func TestRecordIsAllOrNothing(t *testing.T) {
	errInjected := errors.New("injected failure")
	cases := []struct {
		stage  string
		cancel bool // cancel the context at stage instead of failing there
	}{
		{stage: "sources"}, {stage: "requirements"}, {stage: "findings"}, {stage: "gaps"}, {stage: "commit"},
		{stage: "findings", cancel: true}, {stage: "gaps", cancel: true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/cancel=%v", tc.stage, tc.cancel), func(t *testing.T) {
			conformance(t, func(t *testing.T, s *history.Store) {
				a := finding(coverage.KindMissingAgent, "d1", "inv", "wazuh")
				b := finding(coverage.KindOrphan, "d2", "wazuh")
				record(t, s, withCoverage(report(0, both, a), 0.5))
				before, driftBefore := counts(t, s), drift(t, s, 0)

				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				history.SetFail(s, func(stage string) error {
					if stage != tc.stage {
						return nil
					}
					if tc.cancel {
						cancel()
						return nil
					}
					return errInjected
				})
				// b would open, a would close: neither may happen.
				_, err := s.Record(ctx, withCoverage(report(time.Hour, both, b), 1))
				if err == nil {
					t.Fatal("Record succeeded through the failure")
				}
				if !tc.cancel && !errors.Is(err, errInjected) {
					t.Errorf("error %v does not wrap the injected failure", err)
				}
				if diff := cmp.Diff(before, counts(t, s)); diff != "" {
					t.Errorf("rows left by the failed run (-before +after):\n%s", diff)
				}
				if diff := cmp.Diff(driftBefore, drift(t, s, 0)); diff != "" {
					t.Errorf("drift changed by the failed run (-before +after):\n%s", diff)
				}
				// The store still works and the next run applies in full.
				history.SetFail(s, nil)
				id := record(t, s, report(2*time.Hour, both, b))
				d := drift(t, s, 0)
				if !cmp.Equal(keys(d.Opened), []string{b.Key}) || !cmp.Equal(keys(d.Closed), []string{a.Key}) ||
					d.LatestRun != id {
					t.Errorf("after recovery: opened %v closed %v", keys(d.Opened), keys(d.Closed))
				}
			})
		})
	}
}

func TestConcurrentRecord(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		const n = 8
		common := finding(coverage.KindMissingAgent, "common", "inv", "wazuh")
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				own := finding(coverage.KindOrphan, fmt.Sprintf("u%d", i), "wazuh")
				_, err := s.Record(context.Background(), report(time.Duration(i)*time.Minute, both, common, own))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		runs, err := s.Runs(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != n {
			t.Fatalf("%d runs stored, want %d", len(runs), n)
		}
		// Runs were applied one at a time in id order: each run's own gap
		// opened with it and was closed by the next run.
		next := map[int64]int64{}
		for i := 1; i < n; i++ {
			next[runs[i].ID] = runs[i-1].ID
		}
		gaps := history.AllGaps(t, s)
		if len(gaps) != n+1 {
			t.Fatalf("%d gaps, want %d", len(gaps), n+1)
		}
		for key, g := range gaps {
			switch {
			case key == common.Key:
				if g.FirstRun != runs[n-1].ID || g.LastRun != runs[0].ID || g.ClosedRun != 0 {
					t.Errorf("common gap %+v, want open from run %d to %d", g, runs[n-1].ID, runs[0].ID)
				}
			case g.FirstRun != g.LastRun || g.ClosedRun != next[g.FirstRun]:
				t.Errorf("gap %s: first %d last %d closed %d, want closed by the next run %d",
					key, g.FirstRun, g.LastRun, g.ClosedRun, next[g.FirstRun])
			}
		}
	})
}

func TestRecordRejectsBadReports(t *testing.T) {
	dup := finding(coverage.KindOrphan, "d1", "wazuh")
	cases := []struct {
		name string
		r    *coverage.Report
	}{
		{"nil", nil},
		{"no start", &coverage.Report{}},
		{"duplicate key", report(0, both, dup, dup)},
		{"empty key", report(0, both, coverage.Finding{Kind: coverage.KindOrphan, Device: "d"})},
		{"duplicate source", report(0, []string{"inv", "inv"})},
		{"NaN ratio", withCoverage(report(0, both), math.NaN())},
		{"infinite duration", func() *coverage.Report { r := report(0, both); r.Duration = math.Inf(1); return r }()},
	}
	conformance(t, func(t *testing.T, s *history.Store) {
		for _, tc := range cases {
			if _, err := s.Record(context.Background(), tc.r); err == nil {
				t.Errorf("%s: accepted", tc.name)
			}
		}
		if n := history.Count(t, s, "coverage_runs"); n != 0 {
			t.Errorf("%d runs stored from bad reports", n)
		}
	})
}

func TestTextIsStoredCleanly(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		f := finding(coverage.KindOrphan, "d\x00\xff1", "wazuh")
		f.Message = "bad \xfe bytes\x00 here"
		record(t, s, report(0, both, f))
		g := drift(t, s, 0).Open[0]
		if g.Device != "d\uFFFD\uFFFD1" || g.Message != "bad \uFFFD bytes\uFFFD here" {
			t.Errorf("stored device %q message %q", g.Device, g.Message)
		}
		// The same raw key finds the same gap again.
		record(t, s, report(time.Hour, both, f))
		if d := drift(t, s, 0); len(d.Opened) != 0 || len(d.Open) != 1 {
			t.Errorf("second run: opened %v open %v", keys(d.Opened), keys(d.Open))
		}
	})
}
