package latency

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	var w Window
	for i := 1; i <= 100; i++ {
		w.Observe(time.Duration(i) * time.Millisecond)
	}
	p50, p99, mx, n := w.Take()
	near := func(got, want time.Duration) bool { return got >= want && got <= want+want/20 } // bucket upper bounds: within 5%
	if !near(p50, 50*time.Millisecond) || !near(p99, 99*time.Millisecond) || mx != 100*time.Millisecond || n != 100 {
		t.Errorf("p50 %v p99 %v max %v n %d", p50, p99, mx, n)
	}
	if p50, p99, mx, n := w.Take(); p50 != 0 || p99 != 0 || mx != 0 || n != 0 {
		t.Errorf("a new window is not empty: %v %v %v %d", p50, p99, mx, n)
	}
	w.Observe(300 * time.Nanosecond) // below a microsecond: the first bucket, capped by the maximum
	if p50, _, mx, _ := w.Take(); p50 != 300*time.Nanosecond || mx != 300*time.Nanosecond {
		t.Errorf("sub-microsecond: p50 %v max %v", p50, mx)
	}
}
