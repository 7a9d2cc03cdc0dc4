package coverage

import (
	"fmt"
	"strings"

	"github.com/muster-project/muster/internal/scan"
)

// Thresholds map finding kinds to the most findings of that kind a run may
// have before its exit code is 1. They read like `muster scan --max`:
// a count, a share of all devices ("2%"), or off.
type Thresholds map[string]scan.Limit

// DefaultThresholds allow no finding at all.
func DefaultThresholds() Thresholds {
	t := Thresholds{}
	for _, k := range FindingKinds {
		t[k] = scan.Limit{}
	}
	return t
}

// Set parses one "kind=limit" spec; the kind "all" sets every kind.
func (t Thresholds) Set(spec string) error {
	kind, val, ok := strings.Cut(strings.TrimSpace(spec), "=")
	if !ok {
		return fmt.Errorf("%q: write it as KIND=LIMIT, e.g. missing_agent=5, silent_failure=1%% or duplicate=off", spec)
	}
	kind = strings.TrimSpace(kind)
	lim, err := scan.ParseLimit(strings.TrimSpace(val))
	if err != nil {
		return fmt.Errorf("%q: %w", spec, err)
	}
	if kind == "all" {
		for _, k := range FindingKinds {
			t[k] = lim
		}
		return nil
	}
	for _, k := range FindingKinds {
		if k == kind {
			t[k] = lim
			return nil
		}
	}
	return fmt.Errorf("%q: unknown finding kind %q; use one of %s, or all", spec, kind, strings.Join(FindingKinds, ", "))
}

// evaluate returns the kinds over their limits, in report order.
func (t Thresholds) evaluate(counts map[string]int, devices int) []Breach {
	out := []Breach{}
	for _, k := range FindingKinds {
		lim := t[k]
		if n, max := counts[k], lim.Max(devices); n > max {
			out = append(out, Breach{Kind: k, Count: n, Limit: lim.String(), Max: max})
		}
	}
	return out
}
