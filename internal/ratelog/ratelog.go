// Package ratelog caps warnings about refused input: a flood of bad
// connections or messages must not become a flood of log lines.
package ratelog

import (
	"log/slog"
	"sync/atomic"
	"time"
)

// PerSecond is how many warnings a Limiter logs in one second.
const PerSecond = 20

// Limiter counts warnings in the current second. The zero value is ready
// and it is safe for concurrent use.
type Limiter struct {
	second     atomic.Int64
	count      atomic.Int64
	suppressed atomic.Int64
}

// Warn logs at warning level unless this second's budget is spent; the
// number of lines left out is reported with the next one logged.
func (l *Limiter) Warn(log *slog.Logger, msg string, args ...any) {
	now := time.Now().Unix()
	if old := l.second.Load(); old != now && l.second.CompareAndSwap(old, now) {
		l.count.Store(0)
	}
	if l.count.Add(1) > PerSecond {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	log.Warn(msg, args...)
}
