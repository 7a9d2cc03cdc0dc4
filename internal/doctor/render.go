package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

var marks = map[Status]string{OK: "[ ok ]", Warn: "[warn]", Fail: "[FAIL]", Skip: "[skip]"}

// WriteText writes the report for people: one line per step, and the
// evidence and fix of any step that did not simply pass.
func WriteText(w io.Writer, r *Report, verbose bool) error {
	fmt.Fprintf(w, "muster doctor: %s as %s\n", r.URL, orDefault(r.User, "(no user)"))
	for _, s := range r.Steps {
		fmt.Fprintf(w, "%s %-11s %s", marks[s.Status], s.Name, s.Summary)
		if s.ElapsedMS >= 1 {
			fmt.Fprintf(w, " (%.0f ms)", s.ElapsedMS)
		}
		fmt.Fprintln(w)
		detail := verbose || s.Status == Fail || s.Status == Warn
		if c := s.Certificate; c != nil && (detail || s.Name == "tls") {
			fmt.Fprintf(w, "       certificate: subject %s\n", c.Subject)
			fmt.Fprintf(w, "                    issuer  %s\n", c.Issuer)
			fmt.Fprintf(w, "                    names   %s\n", strings.Join(c.Names, ", "))
			fmt.Fprintf(w, "                    valid   %s to %s\n", c.NotBefore.Format("2006-01-02 15:04Z"), c.NotAfter.Format("2006-01-02 15:04Z"))
			fmt.Fprintf(w, "                    SHA-256 %s\n", c.SHA256)
		}
		if detail {
			for _, e := range s.Evidence {
				if e != "" {
					fmt.Fprintln(w, "       evidence:", e)
				}
			}
		}
		if s.Fix != "" && s.Status != OK {
			fmt.Fprintln(w, "       fix:", s.Fix)
		}
	}
	var err error
	if r.OK {
		_, err = fmt.Fprintln(w, "result: every step passed (exit 0)")
	} else {
		_, err = fmt.Fprintf(w, "result: the first problem is at step %q; later steps were not run (exit 1)\n", r.FirstFailure)
	}
	return err
}
