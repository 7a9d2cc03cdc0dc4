package file

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
)

// row is one record's raw values, by field, as the file holds them.
type row struct {
	vals  [numFields]string   // "" when the field is not mapped or empty
	multi [numFields][]string // JSON: the values of a list, for mac/ip/groups
	cols  [numFields]string   // the column each value came from
}

// build maps one row to a record. It is pure: everything it needs is in its
// arguments. where names the record in errors ("line 5", "item 3"), and is
// its ID when the row has no id value.
func (s *Source) build(r *row, where string, tp *timeParser) (coverage.Record, error) {
	rec := coverage.Record{
		ID:       r.vals[fID],
		Hostname: r.vals[fHostname],
		Serial:   r.vals[fSerial],
		OS:       r.vals[fOS],
	}
	if rec.ID == "" {
		rec.ID = where
		if s.format == "csv" {
			rec.ID = "row " + strings.TrimPrefix(where, "line ")
		}
	}
	var fields coverage.FieldsBuilder
	for f := range numFields {
		switch {
		case len(r.multi[f]) > 0:
			fields.Set(r.cols[f], strings.Join(r.multi[f], ", "))
		case r.vals[f] != "":
			fields.Set(r.cols[f], r.vals[f])
		}
	}
	rec.Fields = fields.Build()
	rec.MACs = r.values(fMAC, true)
	rec.IPs = stripPrefixLen(r.values(fIP, true))
	rec.Groups = r.values(fGroups, false)
	if v := r.vals[fLastSeen]; v != "" {
		t, err := tp.parse(v)
		if err != nil {
			return rec, fmt.Errorf("%s: last_seen %q (column %q) is not a time this source can read; expected %s; set time_format: to the export's layout (a Go layout such as \"02.01.2006 15:04\", or unix, unix_ms)",
				where, v, r.cols[fLastSeen], tp.expected())
		}
		rec.LastSeen = t
	}
	switch {
	case !s.stateMapped:
		rec.State, rec.Healthy = StateListed, true
	default:
		rec.State = r.vals[fState]
		rec.Healthy = s.healthy[strings.ToLower(rec.State)]
	}
	return rec, nil
}

// values splits a multi-valued field: on , ; | always, and on whitespace
// too for MAC and IP addresses (group names may hold spaces).
func (r *row) values(f field, spaces bool) []string {
	if len(r.multi[f]) > 0 {
		var out []string
		for _, v := range r.multi[f] {
			out = appendSplit(out, v, spaces)
		}
		return out
	}
	if r.vals[f] == "" {
		return nil
	}
	return appendSplit(nil, r.vals[f], spaces)
}

func appendSplit(out []string, s string, spaces bool) []string {
	start := -1
	for i := 0; i <= len(s); i++ {
		sep := i == len(s)
		if !sep {
			switch c := s[i]; c {
			case ',', ';', '|', '\n', '\r':
				sep = true
			case ' ', '\t':
				sep = spaces
			}
		}
		switch {
		case sep && start >= 0:
			if v := strings.TrimSpace(s[start:i]); v != "" {
				out = append(out, v)
			}
			start = -1
		case !sep && start < 0:
			start = i
		}
	}
	return out
}

// stripPrefixLen turns interface addresses such as 10.1.0.5/24 (NetBox
// writes them so) into the address.
func stripPrefixLen(ips []string) []string {
	for i, ip := range ips {
		if j := strings.IndexByte(ip, '/'); j > 0 {
			if p, err := netip.ParsePrefix(ip); err == nil {
				ips[i] = p.Addr().String()
			}
		}
	}
	return ips
}

// neverSeen are last_seen values meaning never or unknown (a zero LastSeen).
var neverSeen = map[string]bool{"never": true, "-": true, "n/a": true, "na": true, "none": true, "null": true, "0": true,
	"0000-00-00": true, "0000-00-00 00:00:00": true, "0001-01-01t00:00:00z": true, "0001-01-01 00:00:00": true}

// defaultLayouts are the time forms tried when time_format is not set, after
// unix seconds and milliseconds. Fractional seconds are accepted after the
// seconds of every layout; a time without a zone is UTC.
var defaultLayouts = []string{
	time.RFC3339,          // 2006-01-02T15:04:05Z07:00
	"2006-01-02T15:04:05", // RFC 3339 without a zone
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006/01/02 15:04:05",
	"2006/01/02 15:04",
	"2006/01/02",
	"1/2/2006 3:04:05 PM", // US exports: month first
	"1/2/2006 3:04 PM",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
	time.RFC1123Z,
	time.RFC1123,
	time.UnixDate,
	time.ANSIC,
}

// timeParser reads last_seen values; it remembers the layout that worked
// last, as one export writes every time the same way. Not safe for
// concurrent use: each fetch makes its own.
type timeParser struct {
	format string // time_format, or "" for defaults
	last   int
}

func newTimeParser(format string) *timeParser { return &timeParser{format: format} }

var errBadTime = errors.New("unreadable time")

func (p *timeParser) parse(v string) (time.Time, error) {
	if neverSeen[strings.ToLower(v)] {
		return time.Time{}, nil
	}
	switch p.format {
	case "unix":
		return parseUnix(v, false)
	case "unix_ms":
		return parseUnix(v, true)
	case "":
	default:
		t, err := time.ParseInLocation(p.format, v, time.UTC)
		if err != nil {
			return time.Time{}, errBadTime
		}
		return t.UTC(), nil
	}
	if isNumber(v) {
		digits := len(v)
		if i := strings.IndexByte(v, '.'); i >= 0 {
			digits = i
		}
		switch {
		case digits <= 11:
			return parseUnix(v, false)
		case digits <= 14:
			return parseUnix(v, true)
		}
		return time.Time{}, errBadTime
	}
	if t, err := time.ParseInLocation(defaultLayouts[p.last], v, time.UTC); err == nil {
		return t.UTC(), nil
	}
	for i, l := range defaultLayouts {
		if t, err := time.ParseInLocation(l, v, time.UTC); err == nil {
			p.last = i
			return t.UTC(), nil
		}
	}
	return time.Time{}, errBadTime
}

func (p *timeParser) expected() string {
	switch p.format {
	case "":
		return "RFC 3339 (2006-01-02T15:04:05Z, with or without the zone), 2006-01-02 15:04:05, 2006-01-02, 1/2/2006 3:04:05 PM (month first), RFC 1123, or unix seconds or milliseconds"
	case "unix":
		return "unix seconds (time_format: unix)"
	case "unix_ms":
		return "unix milliseconds (time_format: unix_ms)"
	}
	return fmt.Sprintf("the layout %q (time_format)", p.format)
}

func isNumber(v string) bool {
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return len(v) > 0
}

func parseUnix(v string, ms bool) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return time.Time{}, errBadTime
	}
	if ms {
		f /= 1000
	}
	if f == 0 {
		return time.Time{}, nil
	}
	if f > 1<<37 { // beyond year 6000: not a timestamp
		return time.Time{}, errBadTime
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// checkTimeFormat refuses a time_format that is no layout.
func checkTimeFormat(tf string) error {
	switch tf {
	case "", "unix", "unix_ms":
		return nil
	}
	if !strings.Contains(tf, "2006") && !strings.Contains(tf, "06") {
		return fmt.Errorf("time_format %q has no year; give a Go layout such as \"2006-01-02 15:04:05\" or \"02.01.2006\", or unix, unix_ms", tf)
	}
	ref := time.Date(2025, 11, 28, 13, 14, 15, 0, time.UTC)
	if _, err := time.Parse(tf, ref.Format(tf)); err != nil {
		return fmt.Errorf("time_format %q is not a Go layout (e.g. \"2006-01-02 15:04:05\"): %v", tf, err)
	}
	return nil
}
