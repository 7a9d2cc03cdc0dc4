package scan

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limit is the most agents a finding may count before the scan fails.
type Limit struct {
	Off     bool    // never fails
	Count   int     // absolute limit, used when Percent is 0
	Percent float64 // limit as a share of all agents, when > 0
}

// Max returns the largest allowed count for a fleet of total agents.
func (l Limit) Max(total int) int {
	switch {
	case l.Off:
		return math.MaxInt
	case l.Percent > 0:
		return int(math.Floor(l.Percent / 100 * float64(total)))
	}
	return l.Count
}

func (l Limit) String() string {
	switch {
	case l.Off:
		return "off"
	case l.Percent > 0:
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.Count)
}

// Thresholds map each finding to its limit; findings not in the map use 0.
type Thresholds map[Finding]Limit

// DefaultThresholds allow no finding at all: any finding makes the exit code 1.
func DefaultThresholds() Thresholds {
	t := Thresholds{}
	for _, f := range Findings {
		t[f] = Limit{}
	}
	return t
}

// Set parses one "finding=limit" spec: a count ("5"), a share of all agents
// ("2.5%") or "off"; the finding "all" sets every finding.
func (t Thresholds) Set(spec string) error {
	name, val, ok := strings.Cut(strings.TrimSpace(spec), "=")
	if !ok {
		return fmt.Errorf("threshold %q: write it as FINDING=LIMIT, e.g. disconnected=5, outdated=10%% or duplicate_ip=off", spec)
	}
	lim, err := ParseLimit(strings.TrimSpace(val))
	if err != nil {
		return fmt.Errorf("threshold %q: %w", spec, err)
	}
	name = strings.TrimSpace(name)
	if name == "all" {
		for _, f := range Findings {
			t[f] = lim
		}
		return nil
	}
	for _, f := range Findings {
		if string(f) == name {
			t[f] = lim
			return nil
		}
	}
	names := make([]string, len(Findings))
	for i, f := range Findings {
		names[i] = string(f)
	}
	return fmt.Errorf("threshold %q: unknown finding %q; use one of %s, or all", spec, name, strings.Join(names, ", "))
}

// ParseLimit reads a limit: a count ("5"), a share ("2.5%") or "off".
func ParseLimit(v string) (Limit, error) {
	switch {
	case strings.EqualFold(v, "off") || v == "-1":
		return Limit{Off: true}, nil
	case strings.HasSuffix(v, "%"):
		p, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
		if err != nil || p < 0 || p > 100 {
			return Limit{}, fmt.Errorf("%q is not a percentage between 0%% and 100%%", v)
		}
		if p == 0 {
			return Limit{}, nil
		}
		return Limit{Percent: p}, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return Limit{}, fmt.Errorf("%q is not a count (0 or more), a percentage (5%%) or off", v)
	}
	return Limit{Count: n}, nil
}

// Breach is a finding whose count is over its limit.
type Breach struct {
	Finding Finding `json:"finding"`
	Agents  int     `json:"agents"`
	Limit   string  `json:"limit"`
	Max     int     `json:"max"`
}

func (b Breach) String() string {
	if strings.HasSuffix(b.Limit, "%") {
		return fmt.Sprintf("%s %d > %s (%d agents)", b.Finding, b.Agents, b.Limit, b.Max)
	}
	return fmt.Sprintf("%s %d > %d", b.Finding, b.Agents, b.Max)
}

// Evaluate returns the findings of r over their limits, in report order.
func (t Thresholds) Evaluate(r *Report) []Breach {
	out := []Breach{}
	for _, f := range Findings {
		lim := t[f]
		if n, max := r.Findings[f], lim.Max(r.Total); n > max {
			out = append(out, Breach{Finding: f, Agents: n, Limit: lim.String(), Max: max})
		}
	}
	return out
}

// containsFold reports whether sub occurs in s, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
