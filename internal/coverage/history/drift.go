package history

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// ErrNoRuns is returned by Drift when the history holds no run yet.
var ErrNoRuns = errors.New("coverage history: no run recorded yet: run muster coverage with a history configured first")

// Gap is one finding key's gap: its open period, or the period that closed.
type Gap struct {
	Key       string    `json:"key"`
	Kind      string    `json:"kind"`
	Device    string    `json:"device"`
	Name      string    `json:"name"`
	Sources   []string  `json:"sources"`
	Message   string    `json:"message"`
	FirstRun  int64     `json:"first_run"`
	FirstSeen time.Time `json:"first_seen"`
	LastRun   int64     `json:"last_run"`
	LastSeen  time.Time `json:"last_seen"`
	ClosedRun int64     `json:"closed_run,omitempty"` // 0 while open
	ClosedAt  time.Time `json:"closed_at,omitzero"`
	// Age is how long the gap has been open: to the latest run's start
	// while open, to the closing run's start once closed.
	Age        time.Duration `json:"-"`
	AgeSeconds float64       `json:"age_seconds"`
}

// RequirementDrift is one requirement's coverage in the two runs compared.
type RequirementDrift struct {
	Index    int      `json:"index"`
	Scope    []string `json:"scope"`
	MustHave []string `json:"must_have"`
	Before   float64  `json:"before"` // -1 when skipped, or when the earlier run had no such requirement
	After    float64  `json:"after"`  // -1 when skipped
}

// Drift is what changed between an earlier run (Since) and the latest one.
type Drift struct {
	LatestRun int64              `json:"latest_run"`
	LatestAt  time.Time          `json:"latest_at"`
	SinceRun  int64              `json:"since_run"` // 0 when the latest run is the first
	SinceAt   time.Time          `json:"since_at,omitzero"`
	Coverage  []RequirementDrift `json:"coverage"`
	Opened    []Gap              `json:"opened"` // open now, not open at Since
	Closed    []Gap              `json:"closed"` // open at Since, closed now
	Open      []Gap              `json:"open"`   // every gap open now, oldest first
}

// Drift compares the latest run with run since, or with the run before it
// when since is 0. It returns ErrNoRuns when nothing is recorded.
func (s *Store) Drift(ctx context.Context, since int64) (Drift, error) {
	d, err := s.drift(ctx, since)
	if err != nil && !errors.Is(err, ErrNoRuns) {
		err = fmt.Errorf("coverage history: drift: %w", err)
	}
	return d, err
}

func (s *Store) drift(ctx context.Context, since int64) (Drift, error) {
	var latest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(id) FROM coverage_runs`).Scan(&latest); err != nil {
		return Drift{}, err
	}
	if !latest.Valid {
		return Drift{}, ErrNoRuns
	}
	if since >= latest.Int64 {
		return Drift{}, fmt.Errorf("run %d is not earlier than the latest run %d: choose an earlier run", since, latest.Int64)
	}
	if since == 0 {
		var prev sql.NullInt64
		if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT MAX(id) FROM coverage_runs WHERE id < ?`),
			latest.Int64).Scan(&prev); err != nil {
			return Drift{}, err
		}
		since = prev.Int64
	}
	runs, err := s.runsWhere(ctx, "id IN (?, ?)", 0, latest.Int64, since)
	if err != nil {
		return Drift{}, err
	}
	if since != 0 && len(runs) != 2 {
		return Drift{}, fmt.Errorf("run %d is not in the history (it may have been pruned): pick one from the runs list", since)
	}
	d := Drift{LatestRun: runs[0].ID, LatestAt: runs[0].StartedAt, SinceRun: since,
		Opened: []Gap{}, Closed: []Gap{}, Open: []Gap{}}
	var before []coverage.RequirementResult
	if since != 0 {
		d.SinceAt, before = runs[1].StartedAt, runs[1].Requirements
	}
	d.Coverage = compareCoverage(before, runs[0].Requirements)
	if err := s.classify(ctx, &d); err != nil {
		return Drift{}, err
	}
	return d, nil
}

// classify sorts the gaps that matter into Opened, Closed and Open. A gap
// was open at run S when one of its periods began at or before S and had
// not closed by S.
func (s *Store) classify(ctx context.Context, d *Drift) error {
	wasOpen := map[string]bool{}
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT key FROM coverage_gap_periods
		WHERE first_run <= ? AND closed_run > ?`), d.SinceRun, d.SinceRun)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		wasOpen[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	gaps, err := s.gapsWhere(ctx, `closed_run IS NULL OR closed_run > ?`, d.SinceRun)
	if err != nil {
		return err
	}
	for _, g := range gaps {
		openAtSince := wasOpen[g.Key] || (d.SinceRun != 0 && g.FirstRun <= d.SinceRun)
		end := d.LatestAt
		if g.ClosedRun != 0 {
			end = g.ClosedAt
		}
		g.Age = max(end.Sub(g.FirstSeen), 0)
		g.AgeSeconds = g.Age.Seconds()
		switch {
		case g.ClosedRun == 0:
			d.Open = append(d.Open, g)
			if !openAtSince {
				d.Opened = append(d.Opened, g)
			}
		case openAtSince:
			d.Closed = append(d.Closed, g)
		}
	}
	byKind := func(a, b Gap) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.Key, b.Key))
	}
	slices.SortFunc(d.Opened, byKind)
	slices.SortFunc(d.Closed, byKind)
	slices.SortFunc(d.Open, func(a, b Gap) int {
		return cmp.Or(cmp.Compare(a.FirstRun, b.FirstRun), byKind(a, b))
	})
	return nil
}

// kindRank orders kinds as reports do; unknown kinds go last.
func kindRank(kind string) int {
	if i := slices.Index(coverage.FindingKinds, kind); i >= 0 {
		return i
	}
	return len(coverage.FindingKinds)
}

// gapsWhere loads the current period of the gaps matching cond.
func (s *Store) gapsWhere(ctx context.Context, cond string, args ...any) ([]Gap, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT key, kind, device, name, sources, message,
		first_run, first_at, last_run, last_at, closed_run, closed_at FROM coverage_gaps WHERE `+cond), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Gap
	for rows.Next() {
		var (
			g                 Gap
			srcs              string
			firstAt, lastAt   int64
			closedRun, closed sql.NullInt64
		)
		if err := rows.Scan(&g.Key, &g.Kind, &g.Device, &g.Name, &srcs, &g.Message,
			&g.FirstRun, &firstAt, &g.LastRun, &lastAt, &closedRun, &closed); err != nil {
			return nil, err
		}
		if g.Sources, err = decodeList(srcs); err != nil {
			return nil, err
		}
		g.FirstSeen, g.LastSeen = time.Unix(0, firstAt).UTC(), time.Unix(0, lastAt).UTC()
		if closedRun.Valid {
			g.ClosedRun, g.ClosedAt = closedRun.Int64, time.Unix(0, closed.Int64).UTC()
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// compareCoverage pairs each requirement of the latest run with the same
// index in the earlier one.
func compareCoverage(before, after []coverage.RequirementResult) []RequirementDrift {
	ratio := func(r coverage.RequirementResult) float64 {
		if r.Skipped != "" {
			return -1
		}
		return r.Ratio
	}
	out := []RequirementDrift{}
	for _, a := range after {
		rd := RequirementDrift{Index: a.Index, Scope: a.Scope, MustHave: a.MustHave, Before: -1, After: ratio(a)}
		for _, b := range before {
			if b.Index == a.Index {
				rd.Before = ratio(b)
			}
		}
		out = append(out, rd)
	}
	return out
}
