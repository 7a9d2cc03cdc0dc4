package history

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// Run is one recorded coverage run.
type Run struct {
	ID        int64     `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Duration  float64   `json:"duration_seconds"`
	Window    float64   `json:"window_seconds"`
	ExitCode  int       `json:"exit_code"`
	Devices   int       `json:"devices"`
	// Findings counts the run's findings per kind; every kind of
	// coverage.FindingKinds is present.
	Findings     map[string]int               `json:"findings"`
	Requirements []coverage.RequirementResult `json:"requirements"` // by index
	Sources      []coverage.SourceStatus      `json:"sources"`      // by name
	Breaches     []coverage.Breach            `json:"breaches"`
}

// Ratios is the run's coverage per requirement, in index order; -1 for a
// requirement that was skipped.
func (r Run) Ratios() []float64 {
	out := make([]float64, len(r.Requirements))
	for i, req := range r.Requirements {
		out[i] = req.Ratio
		if req.Skipped != "" {
			out[i] = -1
		}
	}
	return out
}

// Runs returns the newest limit runs (all of them when limit <= 0), newest
// first. Runs are ordered by recording order, their ids.
func (s *Store) Runs(ctx context.Context, limit int) ([]Run, error) {
	runs, err := s.runsWhere(ctx, "", limit)
	if err != nil {
		return nil, fmt.Errorf("coverage history: list runs: %w", err)
	}
	return runs, nil
}

// Trend returns the coverage of the last limit runs (all when limit <= 0),
// oldest first, in the form a Report carries it.
func (s *Store) Trend(ctx context.Context, limit int) ([]coverage.TrendPoint, error) {
	runs, err := s.runsWhere(ctx, "", limit)
	if err != nil {
		return nil, fmt.Errorf("coverage history: read the trend: %w", err)
	}
	out := make([]coverage.TrendPoint, len(runs))
	for i, r := range runs {
		out[len(runs)-1-i] = coverage.TrendPoint{At: r.StartedAt, Ratios: r.Ratios(), Findings: r.Findings}
	}
	return out, nil
}

// runsWhere loads runs matching cond (a WHERE clause body, or ""), newest
// first, with their sources, counts and requirements.
func (s *Store) runsWhere(ctx context.Context, cond string, limit int, args ...any) ([]Run, error) {
	q := `SELECT id, started_at, duration_seconds, window_seconds, exit_code, devices, summary FROM coverage_runs`
	if cond != "" {
		q += " WHERE " + cond
	}
	q += " ORDER BY id DESC"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var runs []Run
	byID := map[int64]*Run{}
	for rows.Next() {
		var (
			r   Run
			at  int64
			sum string
		)
		if err := rows.Scan(&r.ID, &at, &r.Duration, &r.Window, &r.ExitCode, &r.Devices, &sum); err != nil {
			return nil, err
		}
		r.StartedAt = time.Unix(0, at).UTC()
		var rs runSummary
		if err := json.Unmarshal([]byte(sum), &rs); err != nil {
			return nil, fmt.Errorf("run %d: its stored summary is not valid: %w", r.ID, err)
		}
		r.Breaches = rs.Breaches
		if r.Breaches == nil {
			r.Breaches = []coverage.Breach{}
		}
		r.Findings = map[string]int{}
		for _, k := range coverage.FindingKinds {
			r.Findings[k] = 0
		}
		r.Requirements = []coverage.RequirementResult{}
		r.Sources = []coverage.SourceStatus{}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for i := range runs {
		byID[runs[i].ID] = &runs[i]
	}
	if err := s.loadChildren(ctx, byID); err != nil {
		return nil, err
	}
	return runs, nil
}

// loadChildren fills the sources, counts and requirements of runs, a
// bounded number of ids per query.
func (s *Store) loadChildren(ctx context.Context, byID map[int64]*Run) error {
	ids := make([]any, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		chunk := ids[:n]
		ids = ids[n:]
		in := "run_id IN (" + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
		if err := s.loadCounts(ctx, in, chunk, byID); err != nil {
			return err
		}
		if err := s.loadSources(ctx, in, chunk, byID); err != nil {
			return err
		}
		if err := s.loadRequirements(ctx, in, chunk, byID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadCounts(ctx context.Context, in string, ids []any, byID map[int64]*Run) error {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT run_id, kind, n FROM coverage_run_counts WHERE `+in), ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			kind string
			n    int
		)
		if err := rows.Scan(&id, &kind, &n); err != nil {
			return err
		}
		byID[id].Findings[kind] = n
	}
	return rows.Err()
}

func (s *Store) loadSources(ctx context.Context, in string, ids []any, byID map[int64]*Run) error {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT run_id, name, kind, status, reason, records, devices,
		unidentified, fetch_seconds FROM coverage_run_sources WHERE `+in+` ORDER BY run_id, name`), ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			src coverage.SourceStatus
		)
		if err := rows.Scan(&id, &src.Name, &src.Kind, &src.Status, &src.Reason, &src.Records, &src.Devices,
			&src.Unidentified, &src.FetchSeconds); err != nil {
			return err
		}
		byID[id].Sources = append(byID[id].Sources, src)
	}
	return rows.Err()
}

func (s *Store) loadRequirements(ctx context.Context, in string, ids []any, byID map[int64]*Run) error {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT run_id, idx, scope, must_have, filter_text, in_scope,
		covered, ratio, skipped FROM coverage_run_requirements WHERE `+in+` ORDER BY run_id, idx`), ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id          int64
			req         coverage.RequirementResult
			scope, must string
		)
		if err := rows.Scan(&id, &req.Index, &scope, &must, &req.Filter, &req.InScope, &req.Covered,
			&req.Ratio, &req.Skipped); err != nil {
			return err
		}
		if req.Scope, err = decodeList(scope); err != nil {
			return err
		}
		if req.MustHave, err = decodeList(must); err != nil {
			return err
		}
		byID[id].Requirements = append(byID[id].Requirements, req)
	}
	return rows.Err()
}
