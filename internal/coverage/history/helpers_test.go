package history_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/history"
	"github.com/muster-project/muster/internal/storetest"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// backend opens a fresh store for one test.
type backend struct {
	name string
	open func(t *testing.T) *history.Store
}

var backends = []backend{
	{"sqlite", func(t *testing.T) *history.Store { return openAt(t, filepath.Join(t.TempDir(), "history.db")) }},
	// PostgresDSN skips the test, naming MUSTER_TEST_POSTGRES, when it is unset.
	{"postgres", func(t *testing.T) *history.Store { return openAt(t, storetest.PostgresDSN(t)) }},
}

// conformance runs fn on every backend.
func conformance(t *testing.T, fn func(t *testing.T, s *history.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

func openAt(t *testing.T, target string) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// report builds a run at t0+after. Sources are "name" (ok) or "name:down".
func report(after time.Duration, sources []string, findings ...coverage.Finding) *coverage.Report {
	r := &coverage.Report{Schema: coverage.SchemaVersion, StartedAt: t0.Add(after), Duration: 1.5, Window: 86400,
		Findings: findings}
	for _, s := range sources {
		name, down := strings.CutSuffix(s, ":down")
		st := coverage.SourceStatus{Name: name, Kind: "test", Status: coverage.SourceOK, Records: 10, Devices: 9}
		if down {
			st.Status, st.Reason, st.Records, st.Devices = coverage.SourceUnavailable, "connection refused", 0, 0
		}
		r.Sources = append(r.Sources, st)
	}
	r.Summary.Devices = 9
	if len(findings) > 0 {
		r.ExitCode = 1
	}
	return r
}

// withCoverage sets requirement 0's ratio (-1: skipped).
func withCoverage(r *coverage.Report, ratio float64) *coverage.Report {
	req := coverage.RequirementResult{Index: 0, Scope: []string{"inv"}, MustHave: []string{"wazuh"},
		InScope: 10, Covered: int(ratio * 10), Ratio: ratio}
	if ratio < 0 {
		req.Ratio, req.Covered, req.Skipped = 0, 0, "source wazuh is unavailable"
	}
	r.Requirements = []coverage.RequirementResult{req}
	return r
}

// finding builds a finding whose key is its kind, device and sources.
func finding(kind, device string, sources ...string) coverage.Finding {
	return coverage.Finding{
		Key: kind + "|" + device + "|" + strings.Join(sources, ","), Kind: kind, Device: device,
		Name: "host-" + device, Sources: sources, Message: kind + " on " + device,
		Evidence: []coverage.Evidence{{Record: &coverage.Record{Source: sources[0], ID: "r-" + device, State: "active",
			ReadAt: t0, Request: "GET /agents"}}},
	}
}

func record(t *testing.T, s *history.Store, r *coverage.Report) int64 {
	t.Helper()
	id, err := s.Record(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func drift(t *testing.T, s *history.Store, since int64) history.Drift {
	t.Helper()
	d, err := s.Drift(context.Background(), since)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// keys lists the keys of gaps, in order.
func keys(gaps []history.Gap) []string {
	out := []string{}
	for _, g := range gaps {
		out = append(out, g.Key)
	}
	return out
}

// byKey finds a gap in a list.
func byKey(t *testing.T, gaps []history.Gap, key string) history.Gap {
	t.Helper()
	for _, g := range gaps {
		if g.Key == key {
			return g
		}
	}
	t.Fatalf("gap %q not in %v", key, keys(gaps))
	return history.Gap{}
}

// counts snapshots the row count of every table.
func counts(t *testing.T, s *history.Store) map[string]int {
	out := map[string]int{}
	for _, tb := range history.Tables {
		out[tb] = history.Count(t, s, tb)
	}
	return out
}
