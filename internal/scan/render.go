package scan

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats are the output formats Write accepts.
var Formats = []string{"table", "json", "csv", "prometheus"}

// Write renders r in format; rows caps the table's agent list (0 means all).
func Write(w io.Writer, r *Report, format string, rows int) error {
	switch format {
	case "table", "":
		return WriteTable(w, r, rows)
	case "json":
		return WriteJSON(w, r)
	case "csv":
		return WriteCSV(w, r)
	case "prometheus":
		return WritePrometheus(w, Metrics(r, false))
	}
	return fmt.Errorf("unknown output format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// WriteJSON writes the report as indented JSON, one line per agent. The agent
// list is streamed rather than marshalled in one piece, so a report of a big
// fleet is not held in memory twice.
func WriteJSON(w io.Writer, r *Report) error {
	head := *r
	head.Agents = nil
	b, err := json.MarshalIndent(&head, "", "  ")
	if err != nil {
		return err
	}
	const tail = `"agents": null` + "\n}"
	if !bytes.HasSuffix(b, []byte(tail)) {
		return fmt.Errorf("scan: the report's JSON does not end with its agent list")
	}
	bw := bufio.NewWriter(w)
	bw.Write(b[:len(b)-len(tail)])
	bw.WriteString(`"agents": [`)
	for i := range r.Agents {
		row, err := json.Marshal(&r.Agents[i])
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(row)
	}
	if len(r.Agents) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	return bw.Flush()
}

// Summary is the report on one line.
func Summary(r *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d agents: %d healthy", r.Total, r.Healthy)
	for _, f := range Findings {
		if n := r.Findings[f]; n > 0 {
			fmt.Fprintf(&b, ", %d %s", n, strings.ReplaceAll(string(f), "_", " "))
		}
	}
	if len(r.Breaches) == 0 {
		b.WriteString("; no threshold exceeded (exit 0)")
		return b.String()
	}
	parts := make([]string, len(r.Breaches))
	for i, br := range r.Breaches {
		parts[i] = br.String()
	}
	fmt.Fprintf(&b, "; over threshold: %s (exit 1)", strings.Join(parts, ", "))
	return b.String()
}

// WriteTable renders the report for people.
func WriteTable(w io.Writer, r *Report, rows int) error {
	s := r.Settings
	fmt.Fprintf(w, "muster scan of %s at %s: %d agents in %.1fs, %d login(s)\n", r.URL,
		r.StartedAt.Format("2006-01-02 15:04:05Z07:00"), r.Total, r.Duration, r.Logins)
	fmt.Fprintf(w, "manager %s (%s), API %s\n", orDash(s.ManagerVersion), s.VersionSource, orDash(s.APIVersion))
	for _, st := range []struct {
		name string
		s    Setting
	}{{"notify_time", s.NotifyTime}, {"stale after", s.StaleAfter},
		{"agents_disconnection_time", s.DisconnectionTime}, {"never-connected grace", s.NeverConnected}} {
		fmt.Fprintf(w, "  %-26s %-6s %s\n", st.name, FormatAge(st.s.Duration()), st.s.Source)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CLASS\tAGENTS\t")
	for _, c := range Classes {
		fmt.Fprintf(tw, "%s\t%d\t\n", c, r.Classes[c])
		switch c {
		case ClassDisconnected:
			for _, bc := range r.Disconnected {
				fmt.Fprintf(tw, "  silent %s\t%d\t\n", bc.Bucket, bc.Agents)
			}
		case ClassNeverConnected:
			for _, bc := range r.NeverConnected {
				fmt.Fprintf(tw, "  registered %s ago\t%d\t\n", bc.Bucket, bc.Agents)
			}
		}
	}
	fmt.Fprintln(tw, "\t\t")
	fmt.Fprintln(tw, "FINDING\tAGENTS\tLIMIT")
	over := map[Finding]bool{}
	for _, b := range r.Breaches {
		over[b.Finding] = true
	}
	for _, f := range Findings {
		mark := ""
		if over[f] {
			mark = "  << over"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s%s\n", f, r.Findings[f], limitText(r, f), mark)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Agents) > 0 {
		writeAgentTable(w, r, rows)
	}
	writeDuplicates(w, r.Duplicates)
	for _, n := range r.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintln(w)
	_, err := fmt.Fprintln(w, "summary:", Summary(r))
	return err
}

// limitText shows the limit a finding was held to.
func limitText(r *Report, f Finding) string {
	for _, b := range r.Breaches {
		if b.Finding == f {
			return b.Limit
		}
	}
	return "ok"
}

func writeAgentTable(w io.Writer, r *Report, rows int) {
	list := r.Agents
	fmt.Fprintln(w)
	if rows > 0 && len(list) > rows {
		fmt.Fprintf(w, "AGENTS (first %d of %d; --rows 0 shows all, --output json or csv lists every one)\n", rows, len(list))
		list = list[:rows]
	} else {
		fmt.Fprintf(w, "AGENTS (%d)\n", len(list))
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tIP\tCLASS\tAGE\tVERSION\tFINDINGS\tREASON")
	for _, a := range list {
		age := "-"
		if a.AgeSeconds >= 0 {
			age = FormatAge(secondsDur(a.AgeSeconds))
		}
		fs := make([]string, len(a.Findings))
		for i, f := range a.Findings {
			fs[i] = string(f)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, clean(a.Name), clean(a.IP), a.Class, age,
			orDash(strings.TrimPrefix(a.Version, "Wazuh ")), orDash(strings.Join(fs, ",")), a.Reason)
	}
	tw.Flush()
}

func writeDuplicates(w io.Writer, ds []Duplicate) {
	if len(ds) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "DUPLICATES")
	for _, d := range ds {
		ids := d.IDs
		more := ""
		if len(ids) > 10 {
			more = fmt.Sprintf(" and %d more", len(ids)-10)
			ids = ids[:10]
		}
		fmt.Fprintf(w, "  %s %q: agents %s%s\n", d.Kind, d.Value, strings.Join(ids, ", "), more)
	}
}

// csvHeader names the CSV columns.
var csvHeader = []string{"id", "name", "ip", "status", "class", "findings", "age_seconds", "age_bucket",
	"version", "status_code", "reason", "node", "groups"}

// WriteCSV writes one row per listed agent.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, a := range r.Agents {
		fs := make([]string, len(a.Findings))
		for i, f := range a.Findings {
			fs[i] = string(f)
		}
		rec := []string{a.ID, a.Name, a.IP, a.Status, string(a.Class), strings.Join(fs, ";"),
			strconv.FormatInt(a.AgeSeconds, 10), a.Bucket, a.Version, strconv.Itoa(a.StatusCode), a.Reason, a.Node, a.Groups}
		for i := range rec {
			rec[i] = csvSafe(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// clean keeps control characters from a hostile server out of the terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
