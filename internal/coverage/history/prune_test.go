package history_test

import (
	"context"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
)

func TestPrune(t *testing.T) {
	conformance(t, func(t *testing.T, s *history.Store) {
		ctx := context.Background()
		x := finding(coverage.KindMissingAgent, "x", "inv", "wazuh") // in every run
		y := finding(coverage.KindOrphan, "y", "wazuh")              // run 1, closed by run 2
		z := finding(coverage.KindOrphan, "z", "wazuh")              // runs 1-2, closed by run 3
		w := finding(coverage.KindOrphan, "w", "edr")                // run 1, edr down since
		srcs := []string{"edr:down", "inv", "wazuh"}
		ids := []int64{
			record(t, s, report(0, []string{"edr", "inv", "wazuh"}, x, y, z, w)),
			record(t, s, report(time.Hour, srcs, x, z)),
			record(t, s, report(2*time.Hour, srcs, x)),
			record(t, s, report(3*time.Hour, srcs, x)),
			record(t, s, report(4*time.Hour, srcs, x)),
		}
		if _, err := s.Prune(ctx, 0); err == nil {
			t.Error("Prune(0) accepted")
		}
		removed, err := s.Prune(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		if removed != 2 {
			t.Errorf("removed %d runs, want 2", removed)
		}
		runs, _ := s.Runs(ctx, 0)
		if len(runs) != 3 || runs[2].ID != ids[2] {
			t.Errorf("kept %d runs, oldest %d, want 3 from %d", len(runs), runs[len(runs)-1].ID, ids[2])
		}
		gaps := history.AllGaps(t, s)
		if g, ok := gaps[x.Key]; !ok || g.FirstRun != ids[0] || !g.FirstSeen.Equal(t0) {
			t.Errorf("open gap x = %+v, want it kept with its first seen in pruned run %d", g, ids[0])
		}
		if _, ok := gaps[y.Key]; ok {
			t.Error("gap y, closed before the oldest kept run, survived")
		}
		if g, ok := gaps[z.Key]; !ok || g.ClosedRun != ids[2] {
			t.Errorf("gap z, closed by a kept run, = %+v", g)
		}
		if _, ok := gaps[w.Key]; ok {
			t.Error("gap w, last seen in a pruned run, survived")
		}
		if n := history.Count(t, s, "coverage_run_findings"); n != 3 {
			t.Errorf("%d finding rows kept, want the 3 of the kept runs", n)
		}
		if n := history.Count(t, s, "coverage_run_sources"); n != 9 {
			t.Errorf("%d source rows kept, want 9", n)
		}
		if removed, err := s.Prune(ctx, 10); err != nil || removed != 0 {
			t.Errorf("Prune(10) removed %d, %v", removed, err)
		}
		// Drift still works across the pruned boundary, and not into it.
		if d := drift(t, s, 0); len(d.Open) != 1 || d.Open[0].Age != 4*time.Hour {
			t.Errorf("drift after prune: open %+v", d.Open)
		}
		if _, err := s.Drift(ctx, ids[0]); err == nil {
			t.Error("drift since a pruned run: no error")
		}
	})
}
