package coverage

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes the report as one JSON document (docs/coverage.md, "JSON
// schema"). It is streamed: one line per device and per finding, so that a
// report of a million devices is never held in memory twice.
func WriteJSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	fields := []struct {
		name string
		list any // a slice written element by element, or nil
		v    any
	}{
		{"schema_version", nil, r.Schema}, {"started_at", nil, r.StartedAt}, {"duration_seconds", nil, r.Duration},
		{"window_seconds", nil, r.Window}, {"exit_code", nil, r.ExitCode}, {"summary", nil, r.Summary},
		{"sources", nil, nonNil(r.Sources)}, {"requirements", nil, nonNil(r.Requirements)}, {"breaches", nil, nonNil(r.Breaches)},
		{"notes", nil, nonNil(r.Notes)}, {"matrix", nil, nonNil(r.Matrix)}, {"trend", nil, r.Trend},
		{"findings", r.Findings, nil}, {"devices", r.Devices, nil},
	}
	bw.WriteString("{")
	for i, f := range fields {
		if f.name == "trend" && len(r.Trend) == 0 {
			continue
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n" + strconv.Quote(f.name) + ":")
		var err error
		switch l := f.list.(type) {
		case []Finding:
			err = writeList(bw, len(l), func(o *jsonOut, i int) { o.finding(&l[i]) })
		case []Device:
			err = writeList(bw, len(l), func(o *jsonOut, i int) { o.device(&l[i]) })
		default:
			err = enc.Encode(f.v)
		}
		if err != nil {
			return err
		}
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// writeList writes n elements, each on its own line as Encode ends it.
func writeList(bw *bufio.Writer, n int, write func(o *jsonOut, i int)) error {
	o := &jsonOut{b: make([]byte, 0, 64<<10)}
	o.b = append(o.b, '[')
	for i := range n {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '\n')
		write(o, i)
		o.b = append(o.b, '\n')
		if o.err != nil {
			return o.err
		}
		if len(o.b) >= 32<<10 {
			if _, err := bw.Write(o.b); err != nil {
				return err
			}
			o.b = o.b[:0]
		}
	}
	o.b = append(o.b, ']')
	_, err := bw.Write(o.b)
	return err
}

// nonNil keeps empty lists as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// WriteTable writes what a person needs first: sources, requirements and
// findings, each finding with the records that prove it.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	p("SOURCE\tKIND\tSTATUS\tRECORDS\tDEVICES\tUNIDENTIFIED\tFETCH\n")
	for _, s := range r.Sources {
		status := s.Status
		if s.Reason != "" {
			status += ": " + clean(s.Reason)
		}
		p("%s\t%s\t%s\t%d\t%d\t%d\t%.1fs\n", s.Name, s.Kind, status, s.Records, s.Devices, s.Unidentified, s.FetchSeconds)
	}
	p("\n")
	if len(r.Requirements) > 0 {
		p("REQUIREMENT\tSCOPE\tMUST HAVE\tCOVERED\tIN SCOPE\tRATIO\n")
		for _, q := range r.Requirements {
			ratio := fmt.Sprintf("%.1f%%", 100*q.Ratio)
			if q.Skipped != "" {
				ratio = "skipped: " + q.Skipped
			}
			scope := strings.Join(q.Scope, ",")
			if q.Filter != "" {
				scope += " (" + q.Filter + ")"
			}
			p("R%d\t%s\t%s\t%d\t%d\t%s\n", q.Index+1, scope, strings.Join(q.MustHave, ","), q.Covered, q.InScope, ratio)
		}
		p("\n")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "%d devices; findings: %s\n", r.Summary.Devices, counts(r.Summary.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(w, "\n%s  %s  %s\n  %s\n", strings.ToUpper(f.Kind), f.Device, clean(f.Name), clean(f.Text()))
		for _, e := range f.Evidence {
			seen := "never seen"
			if !e.LastSeen.IsZero() {
				seen = "last seen " + e.LastSeen.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "    %s %s: %s, %s (read %s by %s)\n", e.Source, clean(e.ID), clean(e.State), seen,
				e.ReadAt.UTC().Format(time.RFC3339), clean(e.Request))
		}
	}
	for _, b := range r.Breaches {
		fmt.Fprintf(w, "\nover the limit: %s %d > %s\n", b.Kind, b.Count, b.Limit)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range FindingKinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// csvHeader is one row per finding and evidence record.
var csvHeader = []string{"kind", "key", "device", "name", "requirement", "message", "source", "record_id", "hostname",
	"state", "healthy", "last_seen", "read_at", "request"}

// WriteCSV writes one row per finding and evidence record, for spreadsheets.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, f := range r.Findings {
		req := ""
		if f.Requirement != nil {
			req = fmt.Sprintf("R%d", *f.Requirement+1)
		}
		for _, e := range f.Evidence {
			seen := ""
			if !e.LastSeen.IsZero() {
				seen = e.LastSeen.UTC().Format(time.RFC3339)
			}
			row := []string{f.Kind, f.Key, f.Device, f.Name, req, f.Text(), e.Source, e.ID, e.Hostname,
				e.State, fmt.Sprint(e.Healthy), seen, e.ReadAt.UTC().Format(time.RFC3339), e.Request}
			for i := range row {
				row[i] = csvSafe(row[i])
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from running a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// clean keeps one value on one line of the terminal, without control characters.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}
