package scan

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Progress returns a page callback that reports on w: rewriting one line on a
// terminal, or a line every few seconds otherwise (logs stay short). Done ends
// the line.
func Progress(w io.Writer, terminal bool) (report func(done, total int), done func()) {
	var mu sync.Mutex
	var last time.Time
	shown := false
	report = func(n, total int) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case terminal:
			fmt.Fprintf(w, "\rscanning: %d/%d agents", n, total)
			shown = true
		case time.Since(last) >= 5*time.Second && !last.IsZero():
			fmt.Fprintf(w, "scanning: %d/%d agents\n", n, total)
			last = time.Now()
		case last.IsZero():
			last = time.Now()
		}
	}
	done = func() {
		mu.Lock()
		defer mu.Unlock()
		if shown {
			fmt.Fprint(w, "\r\033[K")
			shown = false
		}
		last = time.Time{}
	}
	return report, done
}

// ParseAge reads a duration in Go's syntax ("90m", "72h") or in days ("30d", "1.5d").
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 90s, 15m, 72h or 30d", s)
	}
	return d, nil
}

// ParseBuckets reads ascending bucket bounds such as "24h,72h,30d".
func ParseBuckets(s string) ([]time.Duration, error) {
	var out []time.Duration
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		d, err := ParseAge(part)
		if err != nil {
			return nil, err
		}
		if d <= 0 || (len(out) > 0 && d <= out[len(out)-1]) {
			return nil, fmt.Errorf("bucket bounds must be positive and ascending: %q", s)
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no bucket bounds in %q", s)
	}
	return out, nil
}
