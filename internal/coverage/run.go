package coverage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// RunOptions tune one run.
type RunOptions struct {
	Now func() time.Time // nil means time.Now
	// Progress is told of each source's advance (done of total records,
	// total -1 when unknown) and, with done = -1, that it finished.
	Progress func(source string, done, total int)
	// Limits override the config's max: per finding kind; nil keeps them.
	Limits Thresholds
}

// Exit codes, as `muster scan` has them.
const (
	ExitCovered    = 0 // no finding over its limit
	ExitOverLimit  = 1 // a finding kind over its limit
	ExitIncomplete = 2 // the run could not be made, or a source could not be read
)

// Run fetches every source concurrently and reconciles what they hold. A
// source that fails is marked unavailable with the reason, and no finding
// that rests on it is made; the run's exit code is then 2.
func (p *Plan) Run(ctx context.Context, o RunOptions) *Report {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	r := &Report{Schema: SchemaVersion, StartedAt: start.UTC(), Window: p.Window.Seconds(),
		Sources: make([]SourceStatus, len(p.Sources)), Notes: []string{}}
	records := make([][]Record, len(p.Sources))
	var wg sync.WaitGroup
	for i, s := range p.Sources {
		r.Sources[i] = SourceStatus{Name: s.Name, Kind: s.Kind}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := now()
			progress := func(done, total int) {
				if o.Progress != nil {
					o.Progress(s.Name, done, total)
				}
			}
			recs, err := fetch(ctx, s, progress)
			st := &r.Sources[i]
			st.FetchSeconds = now().Sub(t0).Seconds()
			if err != nil {
				st.Status, st.Reason = SourceUnavailable, reason(ctx, err)
			} else {
				st.Status, st.Records = SourceOK, len(recs)
				records[i] = recs
			}
			progress(-1, st.Records)
		}()
	}
	wg.Wait()
	p.reconcile(r, records)

	r.Summary = Summary{Devices: len(r.Devices), Findings: map[string]int{}}
	for _, k := range FindingKinds {
		r.Summary.Findings[k] = 0
	}
	for _, f := range r.Findings {
		r.Summary.Findings[f.Kind]++
	}
	limits := p.Limits
	if o.Limits != nil {
		limits = o.Limits
	}
	r.Breaches = limits.evaluate(r.Summary.Findings, len(r.Devices))
	if len(r.Breaches) > 0 {
		r.ExitCode = ExitOverLimit
	}
	for _, s := range r.Sources {
		if s.Status != SourceOK {
			r.ExitCode = ExitIncomplete
			r.Notes = append(r.Notes, fmt.Sprintf("source %s is unavailable: no finding rests on its inventory, and the requirements that need it were skipped", s.Name))
		}
	}
	r.Duration = now().Sub(start).Seconds()
	return r
}

// fetch reads one source, stamping each record with the source's name and
// refusing a connector's panic or a record without an id as a failure.
func fetch(ctx context.Context, s PlannedSource, progress Progress) (recs []Record, err error) {
	defer func() {
		if v := recover(); v != nil {
			recs, err = nil, fmt.Errorf("the %s connector failed unexpectedly: %v (please report this)", s.Kind, v)
		}
	}()
	recs, err = s.Fetch(ctx, progress)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		recs[i].Source = s.Name
		if recs[i].ID == "" {
			return nil, fmt.Errorf("record %d has no id (a connector bug; please report it)", i+1)
		}
	}
	return recs, nil
}

// reason is a failure as one line for the report.
func reason(ctx context.Context, err error) string {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return "timed out: " + oneLine(err.Error())
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
