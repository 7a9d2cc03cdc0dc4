package history

import (
	"context"
	"database/sql"
	"sort"

	"github.com/muster-project/muster/internal/coverage"
)

// gapState is what applyGaps needs to know of a stored gap.
type gapState struct {
	sources   []string
	firstRun  int64
	firstAt   int64
	lastRun   int64
	lastAt    int64
	closedRun sql.NullInt64
	closedAt  sql.NullInt64
}

// applyGaps brings coverage_gaps up to date with run id (see the package
// documentation): findings open, refresh or reopen their gap unless a source
// they name was unavailable; open gaps absent from the run close only when
// every source they name was ok in it.
func (s *Store) applyGaps(ctx context.Context, tx *sql.Tx, id int64, r *coverage.Report) error {
	at := r.StartedAt.UnixNano()
	status := map[string]string{}
	for _, src := range r.Sources {
		status[clean(src.Name)] = src.Status
	}
	gaps, err := s.loadGapStates(ctx, tx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range r.Findings {
		key := clean(f.Key)
		seen[key] = true
		if anyUnavailable(f.Sources, status) {
			continue // a failed source neither opens nor confirms a gap
		}
		g, ok := gaps[key]
		fields := []any{clean(f.Kind), clean(f.Device), clean(f.Name), encodeList(f.Sources), clean(f.Text())}
		switch {
		case !ok:
			err = s.exec(ctx, tx, `INSERT INTO coverage_gaps
				(kind, device, name, sources, message, key, first_run, first_at, last_run, last_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(fields, key, id, at, id, at)...)
		case g.closedRun.Valid:
			// Reopened: the closed period is kept, a new one starts now.
			err = s.exec(ctx, tx, `INSERT INTO coverage_gap_periods
				(key, first_run, first_at, last_run, last_at, closed_run, closed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				key, g.firstRun, g.firstAt, g.lastRun, g.lastAt, g.closedRun.Int64, g.closedAt.Int64)
			if err == nil {
				err = s.exec(ctx, tx, `UPDATE coverage_gaps SET kind = ?, device = ?, name = ?, sources = ?,
					message = ?, first_run = ?, first_at = ?, last_run = ?, last_at = ?,
					closed_run = NULL, closed_at = NULL WHERE key = ?`, append(fields, id, at, id, at, key)...)
			}
		default:
			err = s.exec(ctx, tx, `UPDATE coverage_gaps SET kind = ?, device = ?, name = ?, sources = ?,
				message = ?, last_run = ?, last_at = ? WHERE key = ?`, append(fields, id, at, key)...)
		}
		if err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(gaps))
	for k := range gaps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		g := gaps[key]
		if g.closedRun.Valid || seen[key] || !allOK(g.sources, status) {
			continue
		}
		if err := s.exec(ctx, tx, `UPDATE coverage_gaps SET closed_run = ?, closed_at = ? WHERE key = ?`,
			id, at, key); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadGapStates(ctx context.Context, tx *sql.Tx) (map[string]gapState, error) {
	rows, err := tx.QueryContext(ctx, `SELECT key, sources, first_run, first_at, last_run, last_at,
		closed_run, closed_at FROM coverage_gaps`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]gapState{}
	for rows.Next() {
		var (
			key, srcs string
			g         gapState
		)
		if err := rows.Scan(&key, &srcs, &g.firstRun, &g.firstAt, &g.lastRun, &g.lastAt,
			&g.closedRun, &g.closedAt); err != nil {
			return nil, err
		}
		if g.sources, err = decodeList(srcs); err != nil {
			return nil, err
		}
		out[key] = g
	}
	return out, rows.Err()
}

// anyUnavailable reports whether a source the finding names failed in this
// run. A name the run does not list is not counted as failed.
func anyUnavailable(sources []string, status map[string]string) bool {
	for _, n := range sources {
		if st, ok := status[clean(n)]; ok && st != coverage.SourceOK {
			return true
		}
	}
	return false
}

// allOK reports whether every source a gap names was read fine in this run;
// a source the run does not list (removed from the configuration) is not.
func allOK(sources []string, status map[string]string) bool {
	for _, n := range sources {
		if status[n] != coverage.SourceOK {
			return false
		}
	}
	return true
}
