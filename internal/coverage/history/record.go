package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// maxEvidence bounds the evidence kept per finding: the report has all of
// it, the history keeps what fits for a later look.
const maxEvidence = 4 << 10

// Record stores one run in a single transaction: the run, its sources, its
// findings, and the gaps it opens, refreshes and closes (see the package
// documentation for the rule on unavailable sources). Either all of it is
// stored or none of it. It returns the new run's id.
func (s *Store) Record(ctx context.Context, r *coverage.Report) (int64, error) {
	if err := validate(r); err != nil {
		return 0, fmt.Errorf("coverage history: %w", err)
	}
	var id int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if id, err = s.insertRun(ctx, tx, r); err != nil {
			return fmt.Errorf("run: %w", err)
		}
		steps := []struct {
			name string
			fn   func(context.Context, *sql.Tx, int64, *coverage.Report) error
		}{
			{"sources", s.insertSources},
			{"requirements", s.insertRequirements},
			{"findings", s.insertFindings},
			{"gaps", s.applyGaps},
		}
		for _, st := range steps {
			if err := s.step(st.name); err != nil {
				return err
			}
			if err := st.fn(ctx, tx, id, r); err != nil {
				return fmt.Errorf("%s: %w", st.name, err)
			}
		}
		return s.step("commit")
	})
	if err != nil {
		return 0, fmt.Errorf("coverage history: record the run (nothing of it was stored): %w", err)
	}
	return id, nil
}

// step lets tests fail a Record between two of its stages.
func (s *Store) step(stage string) error {
	if s.fail == nil {
		return nil
	}
	return s.fail(stage)
}

// validate rejects reports the history cannot store faithfully.
func validate(r *coverage.Report) error {
	if r == nil {
		return errors.New("no report to record")
	}
	if r.StartedAt.IsZero() {
		return errors.New("the report has no started_at: set it before recording the run")
	}
	if y := r.StartedAt.Year(); y < 1678 || y > 2261 {
		return fmt.Errorf("the report's started_at %s is out of range", r.StartedAt)
	}
	names := map[string]bool{}
	for _, src := range r.Sources {
		if names[src.Name] {
			return fmt.Errorf("the report lists source %q twice: source names must be unique", src.Name)
		}
		names[src.Name] = true
	}
	keys := map[string]bool{}
	for _, f := range r.Findings {
		if f.Key == "" {
			return fmt.Errorf("a %s finding for device %q has no key: every finding needs its stable key", f.Kind, f.Device)
		}
		if k := clean(f.Key); keys[k] {
			return fmt.Errorf("the report has two findings with key %q: finding keys must be unique", f.Key)
		} else {
			keys[k] = true
		}
	}
	nums := []float64{r.Duration, r.Window}
	for _, src := range r.Sources {
		nums = append(nums, src.FetchSeconds)
	}
	for _, req := range r.Requirements {
		nums = append(nums, req.Ratio)
	}
	for _, n := range nums {
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return errors.New("the report holds a duration or ratio that is not a finite number")
		}
	}
	return nil
}

// runSummary is the compact JSON kept with each run.
type runSummary struct {
	Schema   int               `json:"schema_version"`
	Summary  coverage.Summary  `json:"summary"`
	Breaches []coverage.Breach `json:"breaches,omitempty"`
	Notes    []string          `json:"notes,omitempty"`
}

func (s *Store) insertRun(ctx context.Context, tx *sql.Tx, r *coverage.Report) (int64, error) {
	sum := runSummary{Schema: r.Schema, Summary: r.Summary, Breaches: r.Breaches, Notes: r.Notes}
	if sum.Summary.Findings == nil {
		sum.Summary.Findings = countKinds(r.Findings)
	}
	js, err := json.Marshal(sum)
	if err != nil {
		return 0, err
	}
	devices := r.Summary.Devices
	if devices == 0 {
		devices = len(r.Devices)
	}
	var id int64
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO coverage_runs
		(started_at, duration_seconds, window_seconds, exit_code, devices, findings, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		r.StartedAt.UnixNano(), r.Duration, r.Window, r.ExitCode, devices, len(r.Findings),
		clean(string(js))).Scan(&id)
	if err != nil {
		return 0, err
	}
	for kind, n := range sum.Summary.Findings {
		if err := s.exec(ctx, tx, `INSERT INTO coverage_run_counts (run_id, kind, n) VALUES (?, ?, ?)`,
			id, clean(kind), n); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func countKinds(fs []coverage.Finding) map[string]int {
	m := map[string]int{}
	for _, f := range fs {
		m[f.Kind]++
	}
	return m
}

func (s *Store) insertSources(ctx context.Context, tx *sql.Tx, id int64, r *coverage.Report) error {
	for _, src := range r.Sources {
		if err := s.exec(ctx, tx, `INSERT INTO coverage_run_sources
			(run_id, name, kind, status, reason, records, devices, unidentified, fetch_seconds)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, clean(src.Name), clean(src.Kind), clean(src.Status), clean(src.Reason),
			src.Records, src.Devices, src.Unidentified, src.FetchSeconds); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insertRequirements(ctx context.Context, tx *sql.Tx, id int64, r *coverage.Report) error {
	for _, req := range r.Requirements {
		if err := s.exec(ctx, tx, `INSERT INTO coverage_run_requirements
			(run_id, idx, scope, must_have, filter_text, in_scope, covered, ratio, skipped)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, req.Index, encodeList(req.Scope), encodeList(req.MustHave), clean(req.Filter),
			req.InScope, req.Covered, req.Ratio, clean(req.Skipped)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insertFindings(ctx context.Context, tx *sql.Tx, id int64, r *coverage.Report) error {
	stmt, err := tx.PrepareContext(ctx, s.d.q(`INSERT INTO coverage_run_findings
		(run_id, key, kind, device, name, sources, message, evidence) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, f := range r.Findings {
		if _, err := stmt.ExecContext(ctx, id, clean(f.Key), clean(f.Kind), clean(f.Device), clean(f.Name),
			encodeList(f.Sources), clean(f.Text()), boundedEvidence(f.Evidence)); err != nil {
			return err
		}
	}
	return nil
}

// boundedEvidence encodes the leading evidence records that fit in
// maxEvidence bytes, or nil when there is none or the first does not fit.
func boundedEvidence(ev []coverage.Evidence) any {
	var parts []string
	size := 2
	for _, e := range ev {
		js, err := json.Marshal(e)
		if err != nil || size+len(js)+1 > maxEvidence {
			break
		}
		parts = append(parts, string(js))
		size += len(js) + 1
	}
	if len(parts) == 0 {
		return nil
	}
	return clean("[" + strings.Join(parts, ",") + "]")
}

// encodeList stores a list of names as a JSON array.
func encodeList(l []string) string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = clean(v)
	}
	js, _ := json.Marshal(out) // a []string always encodes
	return string(js)
}

// decodeList reads what encodeList wrote.
func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("a stored list is not valid: %w", err)
	}
	if l == nil {
		l = []string{}
	}
	return l, nil
}

// clean makes text storable in both databases: PostgreSQL refuses NUL bytes
// and invalid UTF-8, and a vendor's API may hand us either.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}
