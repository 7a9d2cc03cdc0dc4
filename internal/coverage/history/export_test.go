package history

import (
	"context"
	"testing"
)

// SetFail makes Record call f between its stages; a non-nil error aborts it.
func SetFail(s *Store, f func(stage string) error) { s.fail = f }

// Tables lists every table of the schema.
var Tables = []string{"coverage_runs", "coverage_run_counts", "coverage_run_requirements",
	"coverage_run_sources", "coverage_run_findings", "coverage_gaps", "coverage_gap_periods"}

// Count returns the number of rows in table.
func Count(t testing.TB, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// AllGaps returns the current period of every stored gap.
func AllGaps(t testing.TB, s *Store) map[string]Gap {
	t.Helper()
	gaps, err := s.gapsWhere(context.Background(), "1 = 1")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Gap{}
	for _, g := range gaps {
		out[g.Key] = g
	}
	return out
}

// Exec runs a statement on the store's database.
func Exec(t testing.TB, s *Store, q string, args ...any) {
	t.Helper()
	if _, err := s.db.ExecContext(context.Background(), s.d.q(q), args...); err != nil {
		t.Fatal(err)
	}
}
