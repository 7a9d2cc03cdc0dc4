package htmlreport

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// timeLayout is how every instant is shown: UTC, to the second, so that
// readers in different zones compare the same text.
const timeLayout = "2006-01-02 15:04:05 UTC"

// fmtTime shows t in UTC, or "never" for the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(timeLayout)
}

// fmtSeconds shows a length of time in seconds the way people say it:
// "3h20m", "2d4h", "45s". Negative means "never" in the report's model.
func fmtSeconds(s float64) string {
	if s < 0 || math.IsNaN(s) {
		return "never"
	}
	if math.IsInf(s, 1) || s > 1e12 {
		return "forever"
	}
	if s < 10 && s != math.Trunc(s) {
		return fmt.Sprintf("%.1fs", s)
	}
	d := time.Duration(math.Round(s)) * time.Second
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	sec := (d - m*time.Minute) / time.Second
	// Two units are enough to read; more would be noise.
	parts := []struct {
		n    time.Duration
		unit string
	}{{days, "d"}, {h, "h"}, {m, "m"}, {sec, "s"}}
	var b strings.Builder
	shown := 0
	for _, p := range parts {
		if shown == 0 && p.n == 0 {
			continue
		}
		if shown == 2 {
			break
		}
		if p.n != 0 {
			fmt.Fprintf(&b, "%d%s", p.n, p.unit)
		}
		shown++
	}
	if b.Len() == 0 {
		return "0s"
	}
	return b.String()
}

// fmtPct shows a ratio (0..1) as a percentage with one decimal, never
// rounding a shortfall up to 100%.
func fmtPct(r float64) string {
	if math.IsNaN(r) || r < 0 {
		return "n/a"
	}
	p := math.Floor(r*1000) / 10
	if p == math.Trunc(p) {
		return fmt.Sprintf("%.0f%%", p)
	}
	return fmt.Sprintf("%.1f%%", p)
}

// clampPct is a ratio as a bar width in percent, within 0..100.
func clampPct(r float64) float64 {
	if math.IsNaN(r) || r < 0 {
		return 0
	}
	if r > 1 {
		return 100
	}
	return math.Floor(r*1000) / 10 // as fmtPct: a shortfall never looks full
}

// kindTitle is a finding kind in words, for headings.
func kindTitle(kind string) string {
	if t, ok := kindTitles[kind]; ok {
		return t
	}
	t := strings.ReplaceAll(kind, "_", " ")
	if t == "" {
		return "(no kind)"
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

var kindTitles = map[string]string{
	"missing_agent":     "Missing agent",
	"silent_failure":    "Silent failure",
	"orphan":            "Orphan",
	"duplicate":         "Duplicate",
	"stale_everywhere":  "Stale everywhere",
	"identity_conflict": "Identity conflict",
	"unidentified":      "Unidentified record",
}

// kindHelp explains each finding kind to someone who has never used muster.
var kindHelp = map[string]string{
	"missing_agent": "A device that a requirement covers has no record in a source it must be in: " +
		"the agent was never installed there, or was removed.",
	"silent_failure": "One source saw the device alive recently, but its agent in another source is " +
		"unhealthy or stopped reporting: the machine looks covered but is not.",
	"orphan": "Only one source knows this device. Often an agent left behind by a retired machine, " +
		"or a machine the other tools have never seen.",
	"duplicate": "One source holds several records for the same machine (for example after a " +
		"reinstall); the extra copy inflates counts and hides a stale agent.",
	"stale_everywhere": "No source has seen the device alive within the window: it is probably gone " +
		"but still counted in the inventories.",
	"identity_conflict": "The records' identifiers disagree (for example the same host name with " +
		"different serial numbers), so they were not joined automatically.",
	"unidentified": "A record has no host name, serial number or MAC address, so it cannot be " +
		"matched with anything.",
}
