package file

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/muster-project/muster/internal/coverage"
)

// readCSV reads a CSV export: a header row, then one record per row.
func (s *Source) readCSV(ctx context.Context, in io.Reader, progress coverage.Progress) ([]coverage.Record, error) {
	br := bufio.NewReaderSize(in, 1<<16)
	if _, err := sniff(br, s.path, "csv"); err != nil {
		return nil, err
	}
	cr := csv.NewReader(br)
	cr.Comma = s.comma
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	hdr, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty; a CSV export needs a header row naming its columns", s.path)
	}
	if err != nil {
		return nil, s.csvError(err)
	}
	header := make([]string, len(hdr))
	for i, h := range hdr {
		header[i] = strings.TrimSpace(h)
	}
	headerLine, _ := cr.FieldPos(0)
	idx, err := s.resolveHeader(header)
	if err != nil {
		return nil, err
	}
	tp := newTimeParser(s.timeFormat)
	var out []coverage.Record
	var r row
	for f := range numFields {
		if idx[f] >= 0 {
			r.cols[f] = header[idx[f]]
		}
	}
	var sb strings.Builder
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, s.csvError(err)
		}
		if blank(rec) {
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s line %d has %d fields, the header (line %d) has %d; a value holding the delimiter %s must be quoted, and every row needs every column",
				s.path, line, len(rec), headerLine, len(header), delimName(s.comma))
		}
		// Keep the used values in one string: the reader's line string, which
		// every field of the row points into, can then be freed.
		total := 0
		for f := range numFields {
			if idx[f] >= 0 {
				total += len(strings.TrimSpace(rec[idx[f]]))
			}
		}
		sb.Reset()
		sb.Grow(total)
		var ends [numFields]int
		for f := range numFields {
			if idx[f] >= 0 {
				sb.WriteString(strings.TrimSpace(rec[idx[f]]))
			}
			ends[f] = sb.Len()
		}
		kept := sb.String()
		start := 0
		for f := range numFields {
			r.vals[f] = kept[start:ends[f]]
			start = ends[f]
		}
		rec2, err := s.build(&r, "line "+strconv.Itoa(line), tp)
		if err != nil {
			return nil, fmt.Errorf("%s %w", s.path, err)
		}
		out = append(out, rec2)
		if len(out)%progressEvery == 0 {
			progress(len(out), -1)
		}
	}
	return out, nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

func (s *Source) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		hint := ""
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			hint = `; a quote inside a value must be doubled ("") and the value itself quoted`
		}
		return fmt.Errorf("%s line %d, column %d: %v%s", s.path, pe.Line, pe.Column, pe.Err, hint)
	}
	if errors.Is(err, errTooLarge) {
		return err
	}
	return fmt.Errorf("reading %s: %v", s.path, err)
}

// resolveHeader finds each mapped field's column in the header: -1 when the
// field is not mapped, or is a preset's column this export lacks.
func (s *Source) resolveHeader(header []string) ([numFields]int, error) {
	var idx [numFields]int
	presetFound := false
	for f := range numFields {
		idx[f] = -1
		c := s.cols[f]
		for _, name := range c.names {
			if i := slices.IndexFunc(header, func(h string) bool { return strings.EqualFold(h, strings.TrimSpace(name)) }); i >= 0 {
				idx[f] = i
				break
			}
		}
		switch {
		case idx[f] >= 0 && !c.explicit:
			presetFound = true
		case idx[f] < 0 && c.explicit:
			return idx, fmt.Errorf("%s: column %q (columns: %s) is not in the header; the header has %s%s",
				s.path, c.names[0], f, listColumns(header), s.delimiterHint(header))
		}
	}
	if s.preset != "" && !presetFound && !s.anyExplicit() {
		return idx, fmt.Errorf("%s does not look like a %s export: none of the preset's columns is in the header; the header has %s%s",
			s.path, s.preset, listColumns(header), s.delimiterHint(header))
	}
	if idx[fHostname] < 0 && idx[fSerial] < 0 && idx[fMAC] < 0 {
		return idx, fmt.Errorf("%s: the header has none of the columns for hostname, serial or mac (%s), so no record could be matched; the header has %s%s",
			s.path, strings.Join(s.identifierColumns(), ", "), listColumns(header), s.delimiterHint(header))
	}
	return idx, nil
}

func (s *Source) anyExplicit() bool {
	for _, c := range s.cols {
		if c.explicit {
			return true
		}
	}
	return false
}

func (s *Source) identifierColumns() []string {
	var out []string
	for _, f := range []field{fHostname, fSerial, fMAC} {
		for _, n := range s.cols[f].names {
			out = append(out, strconv.Quote(n))
		}
	}
	return out
}

// delimiterHint explains a header read as one column that holds another
// likely delimiter.
func (s *Source) delimiterHint(header []string) string {
	if len(header) != 1 {
		return ""
	}
	for _, d := range []rune{';', '\t', ',', '|'} {
		if d != s.comma && strings.ContainsRune(header[0], d) {
			return fmt.Sprintf("; the header is a single column holding %s: the delimiter is probably %s, not %s; set delimiter: %s",
				delimName(d), delimName(d), delimName(s.comma), delimYAML(d))
		}
	}
	return ""
}

func delimName(r rune) string {
	switch r {
	case '\t':
		return "a tab"
	case ',':
		return "a comma (,)"
	case ';':
		return "a semicolon (;)"
	case '|':
		return "a pipe (|)"
	}
	return strconv.QuoteRune(r)
}

func delimYAML(r rune) string {
	if r == '\t' {
		return `"\t"`
	}
	return strconv.Quote(string(r))
}

// listColumns quotes a header's columns for an error, at most 40 of them.
func listColumns(header []string) string {
	const max = 40
	var b strings.Builder
	for i, h := range header {
		if i == max {
			fmt.Fprintf(&b, " and %d more", len(header)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(h))
	}
	if len(header) == 0 {
		return "no columns"
	}
	return b.String()
}
