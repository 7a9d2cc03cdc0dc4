package rest

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/muster-project/muster/internal/coverage"
	"github.com/muster-project/muster/internal/coverage/source/file"
)

// States when no state field is mapped.
const (
	StateSeen      = "seen"       // last_seen within the window: healthy
	StateStale     = "stale"      // last_seen before the window
	StateNeverSeen = "never_seen" // no last_seen value
	StateUnknown   = "unknown"    // a state field is mapped but the record has no value
)

// mapper turns one record's values into a coverage.Record. It is pure:
// everything it needs is in it and its arguments.
type mapper struct {
	source       string
	rec          trie
	slot         [numFields]int // -1: not mapped
	healthy      map[string]bool
	requireFresh bool
	timeFormat   string
	env          coverage.Env
}

func newMapper(cfg *Config, env coverage.Env) (*mapper, error) {
	m := &mapper{source: cfg.Name, env: env}
	if m.source == "" {
		m.source = "rest"
	}
	for i := range m.slot {
		m.slot[i] = -1
	}
	if len(cfg.Fields) == 0 {
		return nil, errors.New("fields is not set; map muster's fields to dotted paths in a record, e.g. fields: {id: id, hostname: name, mac: interfaces.mac, state: status}")
	}
	for _, k := range slices.Sorted(mapKeys(cfg.Fields)) {
		f := slices.Index(fieldNames[:], k)
		if f < 0 {
			return nil, fmt.Errorf("fields: %q is not a field muster reads; give %s", k, strings.Join(fieldNames[:], ", "))
		}
		p := cfg.Fields[k]
		if p == "" {
			return nil, fmt.Errorf("fields.%s is empty; give the dotted path of the record's %s, or remove it", k, k)
		}
		slot, err := m.rec.add(p)
		if err != nil {
			return nil, pathError("fields."+k, p, err)
		}
		m.slot[f] = slot
	}
	if m.slot[fID] < 0 {
		return nil, errors.New("fields.id is not set; give the path of the record's unique id in the API (e.g. id, uuid, device_id)")
	}
	if m.slot[fHostname] < 0 && m.slot[fSerial] < 0 && m.slot[fMAC] < 0 {
		return nil, errors.New("fields: map at least one of hostname, serial or mac: without them no record can be matched to another source's")
	}
	if err := checkTimeFormat(cfg.TimeFormat); err != nil {
		return nil, err
	}
	m.timeFormat = cfg.TimeFormat
	if cfg.TimeFormat != "" && m.slot[fLastSeen] < 0 {
		return nil, errors.New("time_format applies to fields.last_seen, which is not mapped; map it or remove time_format")
	}
	switch {
	case m.slot[fState] < 0 && len(cfg.Healthy) > 0:
		return nil, errors.New("healthy lists state values, but fields.state is not mapped; map it (e.g. state: status) or remove healthy")
	case m.slot[fState] < 0 && cfg.RequireFresh:
		return nil, errors.New("require_fresh applies with fields.state; without a state field health already is last_seen within the window: remove require_fresh")
	case cfg.RequireFresh && m.slot[fLastSeen] < 0:
		return nil, errors.New("require_fresh needs fields.last_seen (the record's last check-in); map it or remove require_fresh")
	}
	m.requireFresh = cfg.RequireFresh
	healthy := cfg.Healthy
	if len(healthy) == 0 {
		healthy = file.DefaultHealthy
	}
	m.healthy = map[string]bool{}
	for i, h := range healthy {
		if strings.TrimSpace(h) == "" {
			return nil, fmt.Errorf("healthy[%d] is empty; give the state values that mean the agent works, e.g. [online, active]", i)
		}
		m.healthy[strings.ToLower(strings.TrimSpace(h))] = true
	}
	return m, nil
}

// build maps one record's values, read at readAt by request.
func (m *mapper) build(v *values, where string, readAt time.Time, request string) (coverage.Record, error) {
	for f := range numFields {
		if slot := m.slot[f]; slot >= 0 && v.obj[slot] != "" {
			p := m.rec.names[slot]
			return coverage.Record{}, fmt.Errorf("%s: fields.%s: %s holds an object, not a value; map a value inside it, e.g. %s.%s",
				where, fieldNames[f], p, p, v.obj[slot])
		}
	}
	ids := v.vals[m.slot[fID]]
	switch len(ids) {
	case 0:
		return coverage.Record{}, fmt.Errorf("%s has no id: fields.id (%s) is missing, null or empty", where, m.rec.names[m.slot[fID]])
	case 1:
	default:
		return coverage.Record{}, fmt.Errorf("%s: fields.id (%s) gives %d values (%s); point it at one value", where, m.rec.names[m.slot[fID]], len(ids), strings.Join(ids, ", "))
	}
	rec := coverage.Record{Source: m.source, ID: ids[0], ReadAt: readAt, Request: request,
		Hostname: m.one(v, fHostname), Serial: m.one(v, fSerial), OS: m.one(v, fOS)}
	rec.MACs = m.split(v, fMAC, true)
	rec.IPs = stripPrefixLen(m.split(v, fIP, true))
	rec.Groups = m.split(v, fGroups, false)
	var fields coverage.FieldsBuilder
	for f := range numFields {
		if slot := m.slot[f]; slot >= 0 && len(v.vals[slot]) > 0 {
			if len(v.vals[slot]) == 1 {
				fields.Set(m.rec.names[slot], v.vals[slot][0])
			} else {
				fields.Set(m.rec.names[slot], strings.Join(v.vals[slot], ", "))
			}
		}
	}
	rec.Fields = fields.Build()
	if ls := m.one(v, fLastSeen); ls != "" {
		t, err := parseTime(ls, m.timeFormat)
		if err != nil {
			return coverage.Record{}, fmt.Errorf("%s (id %s): fields.last_seen (%s) %q is not %s; set time_format: to the API's form (unix, unix_ms, or a Go layout such as \"2006-01-02 15:04:05\")",
				where, rec.ID, m.rec.names[m.slot[fLastSeen]], ls, expectedTime(m.timeFormat))
		}
		rec.LastSeen = t
	}
	switch {
	case m.slot[fState] >= 0:
		rec.State = m.one(v, fState)
		if rec.State == "" {
			rec.State = StateUnknown
		}
		rec.Healthy = m.healthy[strings.ToLower(rec.State)]
		if m.requireFresh && !m.env.Fresh(rec.LastSeen, readAt) {
			rec.Healthy = false
		}
	case m.slot[fLastSeen] >= 0:
		switch {
		case rec.LastSeen.IsZero():
			rec.State = StateNeverSeen
		case m.env.Fresh(rec.LastSeen, readAt):
			rec.State, rec.Healthy = StateSeen, true
		default:
			rec.State = StateStale
		}
	default:
		rec.State, rec.Healthy = file.StateListed, true
	}
	return rec, nil
}

// one is a single-valued field: its first value.
func (m *mapper) one(v *values, f field) string {
	if slot := m.slot[f]; slot >= 0 && len(v.vals[slot]) > 0 {
		return strings.TrimSpace(v.vals[slot][0])
	}
	return ""
}

// split reads a multi-valued field: each value is split on , ; | and, for
// MAC and IP addresses, on whitespace too (group names may hold spaces).
func (m *mapper) split(v *values, f field, spaces bool) []string {
	slot := m.slot[f]
	if slot < 0 {
		return nil
	}
	var out []string
	for _, s := range v.vals[slot] {
		out = appendSplit(out, s, spaces)
	}
	return out
}

func appendSplit(out []string, s string, spaces bool) []string {
	start := -1
	for i := 0; i <= len(s); i++ {
		sep := i == len(s)
		if !sep {
			switch s[i] {
			case ',', ';', '|', '\n', '\r':
				sep = true
			case ' ', '\t':
				sep = spaces
			}
		}
		switch {
		case sep && start >= 0:
			if t := strings.TrimSpace(s[start:i]); t != "" {
				out = append(out, t)
			}
			start = -1
		case !sep && start < 0:
			start = i
		}
	}
	return out
}

// stripPrefixLen turns interface addresses such as 10.1.0.5/24 into the address.
func stripPrefixLen(ips []string) []string {
	for i, ip := range ips {
		if strings.IndexByte(ip, '/') > 0 {
			if p, err := netip.ParsePrefix(ip); err == nil {
				ips[i] = p.Addr().String()
			}
		}
	}
	return ips
}

var errBadTime = errors.New("unreadable time")

// parseTime reads a last_seen value: RFC 3339 by default (fractional seconds
// allowed), unix seconds, unix milliseconds, or a Go layout (UTC when it has
// no zone). 0 as a unix time means never.
func parseTime(v, format string) (time.Time, error) {
	switch format {
	case "", "rfc3339":
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, errBadTime
		}
		if t.Year() <= 1 {
			return time.Time{}, nil // 0001-01-01T00:00:00Z: Go's and .NET's "never"
		}
		return t.UTC(), nil
	case "unix", "unix_ms":
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 && n < 1<<37*1000 { // exact, without float rounding
			if format == "unix_ms" {
				return time.UnixMilli(n).UTC(), nil
			}
			if n <= 1<<37 {
				return time.Unix(n, 0).UTC(), nil
			}
			return time.Time{}, errBadTime
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
			return time.Time{}, errBadTime
		}
		if format == "unix_ms" {
			f /= 1000
		}
		if f == 0 {
			return time.Time{}, nil
		}
		if f > 1<<37 { // beyond the year 6000: not seconds
			return time.Time{}, errBadTime
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	t, err := time.ParseInLocation(format, v, time.UTC)
	if err != nil {
		return time.Time{}, errBadTime
	}
	return t.UTC(), nil
}

func expectedTime(format string) string {
	switch format {
	case "", "rfc3339":
		return "an RFC 3339 time (2006-01-02T15:04:05Z)"
	case "unix":
		return "unix seconds"
	case "unix_ms":
		return "unix milliseconds"
	}
	return fmt.Sprintf("in the layout %q", format)
}

// checkTimeFormat refuses a time_format that is no layout.
func checkTimeFormat(tf string) error {
	switch tf {
	case "", "rfc3339", "unix", "unix_ms":
		return nil
	}
	if !strings.Contains(tf, "2006") && !strings.Contains(tf, "06") {
		return fmt.Errorf("time_format %q has no year; give rfc3339 (the default), unix, unix_ms or a Go layout such as \"2006-01-02 15:04:05\"", tf)
	}
	ref := time.Date(2025, 11, 28, 13, 14, 15, 0, time.UTC)
	if _, err := time.Parse(tf, ref.Format(tf)); err != nil {
		return fmt.Errorf("time_format %q is not a Go layout (e.g. \"2006-01-02 15:04:05\"): %v", tf, err)
	}
	return nil
}
