package history

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are applied in order, each once, in one transaction with the
// version bump. Every table is prefixed coverage_ so that the history can
// share a PostgreSQL database with muster's manager store. Times are Unix
// nanoseconds (UTC); run ids in gap rows are plain numbers, not foreign
// keys, so that a gap keeps its first run after Prune drops that run.
var migrations = []string{
	// 1: runs, what they saw, and the gaps they opened and closed.
	`CREATE TABLE coverage_runs (
		id {{id}},
		started_at BIGINT NOT NULL,
		duration_seconds {{float}} NOT NULL,
		window_seconds {{float}} NOT NULL,
		exit_code INTEGER NOT NULL,
		devices INTEGER NOT NULL,
		findings INTEGER NOT NULL,
		summary TEXT NOT NULL);
	CREATE TABLE coverage_run_counts (
		run_id BIGINT NOT NULL,
		kind TEXT NOT NULL,
		n INTEGER NOT NULL,
		PRIMARY KEY (run_id, kind));
	CREATE TABLE coverage_run_requirements (
		run_id BIGINT NOT NULL,
		idx INTEGER NOT NULL,
		scope TEXT NOT NULL,
		must_have TEXT NOT NULL,
		filter_text TEXT NOT NULL,
		in_scope INTEGER NOT NULL,
		covered INTEGER NOT NULL,
		ratio {{float}} NOT NULL,
		skipped TEXT NOT NULL,
		PRIMARY KEY (run_id, idx));
	CREATE TABLE coverage_run_sources (
		run_id BIGINT NOT NULL,
		name TEXT NOT NULL,
		kind TEXT NOT NULL,
		status TEXT NOT NULL,
		reason TEXT NOT NULL,
		records INTEGER NOT NULL,
		devices INTEGER NOT NULL,
		unidentified INTEGER NOT NULL,
		fetch_seconds {{float}} NOT NULL,
		PRIMARY KEY (run_id, name));
	CREATE TABLE coverage_run_findings (
		run_id BIGINT NOT NULL,
		key TEXT NOT NULL,
		kind TEXT NOT NULL,
		device TEXT NOT NULL,
		name TEXT NOT NULL,
		sources TEXT NOT NULL,
		message TEXT NOT NULL,
		evidence TEXT,
		PRIMARY KEY (run_id, key));
	CREATE TABLE coverage_gaps (
		key TEXT PRIMARY KEY,
		kind TEXT NOT NULL,
		device TEXT NOT NULL,
		name TEXT NOT NULL,
		sources TEXT NOT NULL,
		message TEXT NOT NULL,
		first_run BIGINT NOT NULL,
		first_at BIGINT NOT NULL,
		last_run BIGINT NOT NULL,
		last_at BIGINT NOT NULL,
		closed_run BIGINT,
		closed_at BIGINT);
	CREATE INDEX coverage_gaps_closed ON coverage_gaps (closed_run);
	CREATE TABLE coverage_gap_periods (
		key TEXT NOT NULL,
		first_run BIGINT NOT NULL,
		first_at BIGINT NOT NULL,
		last_run BIGINT NOT NULL,
		last_at BIGINT NOT NULL,
		closed_run BIGINT NOT NULL,
		closed_at BIGINT NOT NULL,
		PRIMARY KEY (key, first_run));
	CREATE INDEX coverage_gap_periods_closed ON coverage_gap_periods (closed_run)`,
}

// migrate brings the schema to the newest version. It holds the write lock
// throughout, so two processes opening a new history at once do not race.
func (s *Store) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.exec(ctx, tx,
			`CREATE TABLE IF NOT EXISTS coverage_schema (version INTEGER PRIMARY KEY)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRowContext(ctx,
			`SELECT COALESCE(MAX(version), 0) FROM coverage_schema`).Scan(&current); err != nil {
			return err
		}
		if current > len(migrations) {
			return fmt.Errorf("the history's schema version %d is newer than this muster's (%d): upgrade muster",
				current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			for _, stmt := range strings.Split(s.d.ddl(migrations[v-1]), ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if err := s.exec(ctx, tx, stmt); err != nil {
					return fmt.Errorf("migration %d: %w", v, err)
				}
			}
			if err := s.exec(ctx, tx, `INSERT INTO coverage_schema (version) VALUES (?)`, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// SchemaVersion reports the version of the history's database schema.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM coverage_schema`).Scan(&v)
	return v, err
}
