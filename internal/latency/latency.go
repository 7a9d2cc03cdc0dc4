// Package latency collects latencies in windows and reports their
// percentiles, for the progress and stats lines of the agent daemons and
// the simulator.
package latency

import (
	"math"
	"sync"
	"time"
)

// Window collects latencies until Take starts a new window. It is safe for
// concurrent use; the zero value is ready.
type Window struct {
	mu sync.Mutex
	h  hist
}

// Observe records one latency.
func (w *Window) Observe(d time.Duration) {
	w.mu.Lock()
	w.h.add(d)
	w.mu.Unlock()
}

// Take returns the median, the 99th percentile and the maximum of the
// window, and how many latencies it holds, and starts a new window.
func (w *Window) Take() (p50, p99, max time.Duration, n int64) {
	w.mu.Lock()
	h := w.h
	w.h = hist{}
	w.mu.Unlock()
	return h.quantile(0.5), h.quantile(0.99), h.max, h.n
}

// hist is a log-scale histogram: 16 buckets per power of two of
// microseconds, so quantiles are within about 4%.
type hist struct {
	counts [40 * 16]int64
	n      int64
	max    time.Duration
}

func (h *hist) add(d time.Duration) {
	b := 0
	if us := float64(d) / float64(time.Microsecond); us >= 1 {
		b = min(int(math.Log2(us)*16), len(h.counts)-1)
	}
	h.counts[b]++
	h.n++
	h.max = max(h.max, d)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return min(time.Duration(math.Exp2(float64(i+1)/16)*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}
