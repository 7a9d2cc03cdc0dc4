package history

import (
	"context"
	"database/sql"
	"fmt"
)

// Prune keeps the newest keepRuns runs and removes the rest with what only
// they explain: their sources, findings, counts and requirements, gap
// periods closed before the oldest kept run, and gaps no kept run speaks of
// (closed before it, or still open but last seen before it). An open gap that a kept run still saw
// keeps its first_seen even when the run that opened it is gone. It returns
// the number of runs removed.
func (s *Store) Prune(ctx context.Context, keepRuns int) (int, error) {
	if keepRuns < 1 {
		return 0, fmt.Errorf("coverage history: prune must keep at least one run (got %d)", keepRuns)
	}
	var removed int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var oldest sql.NullInt64
		// The oldest run kept is the keepRuns-th newest.
		err := tx.QueryRowContext(ctx, s.d.q(`SELECT MIN(id) FROM (SELECT id FROM coverage_runs
			ORDER BY id DESC LIMIT ?) kept`), keepRuns).Scan(&oldest)
		if err != nil || !oldest.Valid {
			return err
		}
		res, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM coverage_runs WHERE id < ?`), oldest.Int64)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		removed = int(n)
		for _, q := range []string{
			`DELETE FROM coverage_run_counts WHERE run_id < ?`,
			`DELETE FROM coverage_run_sources WHERE run_id < ?`,
			`DELETE FROM coverage_run_requirements WHERE run_id < ?`,
			`DELETE FROM coverage_run_findings WHERE run_id < ?`,
			`DELETE FROM coverage_gap_periods WHERE closed_run < ?`,
		} {
			if err := s.exec(ctx, tx, q, oldest.Int64); err != nil {
				return err
			}
		}
		return s.exec(ctx, tx, `DELETE FROM coverage_gaps
			WHERE closed_run < ? OR (closed_run IS NULL AND last_run < ?)`, oldest.Int64, oldest.Int64)
	})
	if err != nil {
		return 0, fmt.Errorf("coverage history: prune: %w", err)
	}
	return removed, nil
}
