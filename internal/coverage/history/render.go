package history

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/muster-project/muster/internal/coverage"
)

// JSONVersion is the version of the shape WriteJSON writes (see the package
// documentation).
const JSONVersion = 1

// jsonHistory is WriteJSON's document.
type jsonHistory struct {
	Version int   `json:"schema_version"`
	Runs    []Run `json:"runs"`
	Drift   Drift `json:"drift"`
}

// WriteJSON writes runs and drift as one JSON document, indented.
func WriteJSON(w io.Writer, d Drift, runs []Run) error {
	runs = append([]Run{}, runs...) // normalised below without touching the caller's
	for i := range runs {
		r := &runs[i]
		if r.Findings == nil {
			r.Findings = map[string]int{}
		}
		if r.Requirements == nil {
			r.Requirements = []coverage.RequirementResult{}
		}
		if r.Sources == nil {
			r.Sources = []coverage.SourceStatus{}
		}
		if r.Breaches == nil {
			r.Breaches = []coverage.Breach{}
		}
	}
	for _, l := range []*[]Gap{&d.Opened, &d.Closed, &d.Open} {
		if *l == nil {
			*l = []Gap{}
		}
	}
	if d.Coverage == nil {
		d.Coverage = []RequirementDrift{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonHistory{Version: JSONVersion, Runs: runs, Drift: d})
}

// WriteTable writes runs (as given, usually newest first), then the
// coverage compared, then the gaps opened, closed and still open.
func WriteTable(w io.Writer, d Drift, runs []Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("RUNS (%d)\n", len(runs))
	if len(runs) > 0 {
		p("ID\tSTARTED (UTC)\tEXIT\tDEVICES\tCOVERAGE\tFINDINGS\tSOURCES\n")
	}
	for _, r := range runs {
		p("%d\t%s\t%d\t%d\t%s\t%s\t%s\n", r.ID, stamp(r.StartedAt), r.ExitCode, r.Devices,
			ratios(r.Ratios()), findingCounts(r.Findings), sourceStates(r.Sources))
	}
	if d.LatestRun == 0 {
		return tw.Flush()
	}
	// since names the earlier side of the comparison.
	since := fmt.Sprintf("since run %d", d.SinceRun)
	if d.SinceRun == 0 {
		since = fmt.Sprintf("in run %d (the first recorded run)", d.LatestRun)
	}
	if d.SinceRun == 0 {
		p("\nCOVERAGE of run %d (the first recorded run)\n", d.LatestRun)
	} else {
		p("\nCOVERAGE from run %d to run %d\n", d.SinceRun, d.LatestRun)
	}
	if len(d.Coverage) > 0 {
		p("REQ\tSCOPE\tMUST HAVE\tBEFORE\tAFTER\tCHANGE\n")
	}
	for _, c := range d.Coverage {
		p("R%d\t%s\t%s\t%s\t%s\t%s\n", c.Index+1, cell(strings.Join(c.Scope, ",")),
			cell(strings.Join(c.MustHave, ",")), percent(c.Before), percent(c.After), change(c.Before, c.After))
	}
	gapList(p, "OPENED "+since, d.Opened, "MESSAGE", func(g Gap) string { return cell(g.Message) })
	if d.SinceRun != 0 { // nothing was open before the first run
		gapList(p, "CLOSED "+since, d.Closed, "OPEN FOR\tCLOSED (UTC)", func(g Gap) string {
			return ShortAge(g.Age) + "\t" + stamp(g.ClosedAt)
		})
	}
	gapList(p, "OPEN", d.Open, "FIRST SEEN (UTC)\tLAST SEEN (UTC)\tAGE\tMESSAGE", func(g Gap) string {
		return stamp(g.FirstSeen) + "\t" + stamp(g.LastSeen) + "\t" + ShortAge(g.Age) + "\t" + cell(g.Message)
	})
	return tw.Flush()
}

// gapList writes one titled list of gaps with extra columns at the end.
func gapList(p func(string, ...any), title string, gaps []Gap, extra string, cols func(Gap) string) {
	if len(gaps) == 0 {
		p("\n%s: none\n", title)
		return
	}
	p("\n%s (%d)\n", title, len(gaps))
	p("KIND\tNAME\tDEVICE\tSOURCES\t%s\n", extra)
	for _, g := range gaps {
		p("%s\t%s\t%s\t%s\t%s\n", cell(g.Kind), cell(g.Name), cell(g.Device),
			cell(strings.Join(g.Sources, ",")), cols(g))
	}
}

// ShortAge writes a duration in its two largest units: 45s, 5m12s, 3h20m, 2d4h.
func ShortAge(d time.Duration) string {
	if d < time.Second {
		return "0s"
	}
	s := int64(d / time.Second)
	days, hours, mins, secs := s/86400, s%86400/3600, s%3600/60, s%60
	two := func(a int64, au string, b int64, bu string) string {
		if b == 0 {
			return fmt.Sprintf("%d%s", a, au)
		}
		return fmt.Sprintf("%d%s%d%s", a, au, b, bu)
	}
	switch {
	case days > 0:
		return two(days, "d", hours, "h")
	case hours > 0:
		return two(hours, "h", mins, "m")
	case mins > 0:
		return two(mins, "m", secs, "s")
	}
	return fmt.Sprintf("%ds", secs)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func percent(r float64) string {
	if r < 0 {
		return "skipped"
	}
	return fmt.Sprintf("%.1f%%", r*100)
}

// change is the move in percentage points, when both sides were evaluated.
func change(before, after float64) string {
	if before < 0 || after < 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f", (after-before)*100)
}

func ratios(rs []float64) string {
	if len(rs) == 0 {
		return "-"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("R%d %s", i+1, percent(r))
	}
	return strings.Join(parts, " ")
}

// findingCounts writes the kinds that have findings, in report order.
func findingCounts(m map[string]int) string {
	var parts []string
	for _, k := range coverage.FindingKinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func sourceStates(srcs []coverage.SourceStatus) string {
	ok := 0
	var down []string
	for _, s := range srcs {
		if s.Status == coverage.SourceOK {
			ok++
		} else {
			down = append(down, cell(s.Name))
		}
	}
	out := fmt.Sprintf("%d/%d ok", ok, len(srcs))
	if len(down) > 0 {
		out += " (unavailable: " + strings.Join(down, ",") + ")"
	}
	return out
}

// cell keeps text from a source on one line and free of terminal control
// sequences: names and messages come from vendors' APIs.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ' '
		}
		return r
	}, s)
}
