// Package htmlreport writes the result of a `muster coverage` run as one
// self-contained HTML page: inline CSS and SVG charts, no scripts and no
// outside resources, so it can be mailed, archived or opened offline, and
// read by someone who has never used muster.
package htmlreport

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

//go:embed report.html.tmpl
var pageTemplate string

//go:embed style.css
var styleSheet string

// tmpl is parsed once; a parse error is a programming error caught by every test.
var tmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"css":     func() template.CSS { return template.CSS(styleSheet) },
	"time":    fmtTime,
	"gap":     fmtGap,
	"title":   kindTitle,
	"join":    func(s []string) string { return strings.Join(s, ", ") },
	"reqName": func(i *int) string { return "R" + strconv.Itoa(*i+1) },
	"add":     func(a, b float64) float64 { return a + b },
	"sub":     func(a, b float64) float64 { return a - b },
	"half":    func(a, b float64) float64 { return (a + b) / 2 },
}).Parse(pageTemplate))

// Write renders r as one HTML page to w. Every value from the sources is
// escaped as text: host names and vendor fields are untrusted.
func Write(w io.Writer, r *coverage.Report) error {
	if r == nil {
		return errors.New("htmlreport: no report to write (the coverage run returned nothing)")
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := tmpl.Execute(bw, buildPage(r)); err != nil {
		return fmt.Errorf("htmlreport: writing the page: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("htmlreport: writing the page: %w", err)
	}
	return nil
}

// fmtGap says how long the agent was silent while the device was alive.
func fmtGap(s float64) string {
	if s < 0 {
		return "the agent was never seen"
	}
	return fmtSeconds(s) + " between the agent's last report and the device's last sign of life"
}
