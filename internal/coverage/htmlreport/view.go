package htmlreport

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// Caps keep the file small enough to open for 100k devices; the JSON
// output always has everything.
const (
	maxDevices         = 3000
	maxFindingsPerKind = 1000
	openFindingGroup   = 20 // a kind with at most this many findings starts unfolded
)

// page is everything the template shows, computed once so the template stays plain.
type page struct {
	R               *coverage.Report
	Started, Window string
	Took            string
	Covered         bool
	ExitText        string
	Stats           []stat
	Kinds           []group
	Sources         []coverage.SourceStatus
	Reqs            []reqRow
	Matrix          matrix
	RatioChart      *chart
	FindingChart    *chart
	TrendLeftOut    int
	Devices         []deviceRow
	DevicesLeftOut  int
}

// stat is one figure in the summary strip.
type stat struct {
	Label, Value string
	Bad          bool
}

// group is the findings of one kind.
type group struct {
	Kind, Title, Help string
	Count             int // from the summary, or the findings when the summary lacks it
	Items             []coverage.Finding
	LeftOut           int
	Open              bool
}

// reqRow is one requirement as a sentence with its bar.
type reqRow struct {
	Name, Label, Filter string
	coverage.RequirementResult
	Pct   string
	Width float64
	Short bool // below 100%
}

// matrix is the source × source overlap table.
type matrix struct {
	Names []string
	Rows  []matrixRow
}

type matrixRow struct {
	Name  string
	Cells []cell
}

// cell is one overlap count; Shade 0..5 is its share of the row's own devices.
type cell struct {
	N       int
	Missing bool
	Diag    bool
	Shade   int
	Title   string
}

// deviceRow is one device in the devices table.
type deviceRow struct {
	Name, ID string
	Sources  string
	Records  int
	Joins    []string
}

// buildPage turns a report into what the template shows.
func buildPage(r *coverage.Report) *page {
	p := &page{R: r, Started: fmtTime(r.StartedAt), Window: fmtSeconds(r.Window), Took: fmtSeconds(r.Duration),
		Covered: r.ExitCode == 0, Sources: r.Sources}
	p.ExitText = exitText(r)
	p.Stats = stats(r)
	p.Kinds = groups(r)
	for _, q := range r.Requirements {
		row := reqRow{Name: "R" + strconv.Itoa(q.Index+1), Label: reqLabel(q), Filter: q.Filter, RequirementResult: q,
			Pct: fmtPct(q.Ratio), Width: clampPct(q.Ratio), Short: q.Ratio < 1}
		p.Reqs = append(p.Reqs, row)
	}
	p.Matrix = buildMatrix(r.Matrix)
	p.RatioChart, p.FindingChart, p.TrendLeftOut = trendCharts(r)
	p.Devices, p.DevicesLeftOut = devices(r.Devices)
	return p
}

// exitText says what the exit code means, with the report's own reasons.
func exitText(r *coverage.Report) string {
	if r.ExitCode == 0 {
		return "Exit code 0: no finding kind is over its limit."
	}
	var why []string
	if n := len(r.Breaches); n > 0 {
		why = append(why, plural(n, "limit", "limits")+" breached")
	}
	down := 0
	for _, s := range r.Sources {
		if s.Status != coverage.SourceOK {
			down++
		}
	}
	if down > 0 {
		why = append(why, plural(down, "source", "sources")+" unavailable")
	}
	if len(why) == 0 {
		why = append(why, "see the notes at the end")
	}
	return fmt.Sprintf("Exit code %d: %s.", r.ExitCode, strings.Join(why, ", "))
}

func stats(r *coverage.Report) []stat {
	ok, total := 0, 0
	for _, s := range r.Sources {
		total++
		if s.Status == coverage.SourceOK {
			ok++
		}
	}
	findings := 0
	for _, n := range r.Summary.Findings {
		findings += n
	}
	return []stat{
		{Label: "devices", Value: strconv.Itoa(r.Summary.Devices)},
		{Label: "sources ok", Value: fmt.Sprintf("%d of %d", ok, total), Bad: ok < total},
		{Label: "findings", Value: strconv.Itoa(findings), Bad: findings > 0},
		{Label: "limits breached", Value: strconv.Itoa(len(r.Breaches)), Bad: len(r.Breaches) > 0},
	}
}

// groups sorts the findings by kind in report order; unknown kinds come last
// so that nothing the engine reports is dropped.
func groups(r *coverage.Report) []group {
	byKind := map[string][]coverage.Finding{}
	order := slices.Clone(coverage.FindingKinds)
	for _, f := range r.Findings {
		if _, seen := byKind[f.Kind]; !seen && !slices.Contains(order, f.Kind) {
			order = append(order, f.Kind)
		}
		byKind[f.Kind] = append(byKind[f.Kind], f)
	}
	var out []group
	for _, k := range order {
		items := byKind[k]
		g := group{Kind: k, Title: kindTitle(k), Help: kindHelp[k], Count: max(r.Summary.Findings[k], len(items))}
		if len(items) > maxFindingsPerKind {
			g.LeftOut = len(items) - maxFindingsPerKind
			items = items[:maxFindingsPerKind]
		}
		g.Items, g.Open = items, len(items) <= openFindingGroup
		if g.Help == "" {
			g.Help = "A finding kind this page does not describe yet; see each message."
		}
		out = append(out, g)
	}
	return out
}

// reqLabel says a requirement in words: which devices must be in which sources.
func reqLabel(q coverage.RequirementResult) string {
	scope := "every device"
	if len(q.Scope) > 0 {
		scope = "devices known to " + strings.Join(q.Scope, " or ")
	}
	return scope + " must be healthy in " + strings.Join(q.MustHave, " and ")
}

func buildMatrix(rows []coverage.MatrixRow) matrix {
	m := matrix{}
	for _, r := range rows {
		m.Names = append(m.Names, r.Source)
	}
	for i, r := range rows {
		row := matrixRow{Name: r.Source}
		own := 0
		if i < len(r.Both) {
			own = r.Both[i]
		}
		for j := range rows {
			c := cell{Diag: i == j}
			if j >= len(r.Both) {
				c.Missing = true
				row.Cells = append(row.Cells, c)
				continue
			}
			c.N = r.Both[j]
			if own > 0 {
				c.Shade = int(math.Ceil(5 * math.Min(float64(c.N)/float64(own), 1)))
			}
			if c.Diag {
				c.Title = fmt.Sprintf("%s knows %d devices", r.Source, c.N)
			} else {
				c.Title = fmt.Sprintf("%d devices known to both %s and %s", c.N, r.Source, rows[j].Source)
			}
			row.Cells = append(row.Cells, c)
		}
		m.Rows = append(m.Rows, row)
	}
	return m
}

func devices(ds []coverage.Device) ([]deviceRow, int) {
	left := 0
	if len(ds) > maxDevices {
		left = len(ds) - maxDevices
		ds = ds[:maxDevices]
	}
	out := make([]deviceRow, 0, len(ds))
	for _, d := range ds {
		var srcs []string
		for _, rec := range d.Records {
			if !slices.Contains(srcs, rec.Source) {
				srcs = append(srcs, rec.Source)
			}
		}
		slices.Sort(srcs)
		row := deviceRow{Name: d.Name, ID: d.ID, Sources: strings.Join(srcs, ", "), Records: len(d.Records)}
		for _, j := range d.Joins {
			row.Joins = append(row.Joins, fmt.Sprintf("%s %s (%s)", j.By, j.Value, strings.Join(j.Refs(), ", ")))
		}
		out = append(out, row)
	}
	return out, left
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
