package remoted

import (
	"sync/atomic"
	"time"
)

// warnsPerSecond caps warnings about refused input: a flood of bad
// messages must not turn into a flood of log lines.
const warnsPerSecond = 20

// warnLimiter counts warnings in the current second.
type warnLimiter struct {
	second     atomic.Int64
	count      atomic.Int64
	suppressed atomic.Int64
}

// warn logs at warning level unless the per-second budget is spent; the
// number of lines left out is reported with the next one logged.
func (s *Server) warn(msg string, args ...any) {
	l := &s.warns
	now := time.Now().Unix()
	if old := l.second.Load(); old != now && l.second.CompareAndSwap(old, now) {
		l.count.Store(0)
	}
	if l.count.Add(1) > warnsPerSecond {
		l.suppressed.Add(1)
		return
	}
	if n := l.suppressed.Swap(0); n > 0 {
		args = append(args, "suppressed", n)
	}
	s.log.Warn(msg, args...)
}
