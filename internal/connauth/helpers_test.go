package connauth

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// clock is a settable clock for Transport.Now and TokenCache.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	// A whole second, so that HTTP dates (second resolution) are exact.
	return &clock{now: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sleeper records the waits asked of Transport.Sleep and advances the clock
// instead of sleeping.
type sleeper struct {
	mu    sync.Mutex
	clock *clock
	waits []time.Duration
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	if s.clock != nil {
		s.clock.Advance(d)
	}
	return nil
}

func (s *sleeper) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// testTransport is NewTransport's transport with a fake clock and sleeper.
func testTransport(t *testing.T, r Retry) (*Transport, *clock, *sleeper) {
	t.Helper()
	tr, err := NewTransport(TransportConfig{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	sl := &sleeper{clock: clk}
	tr.Retry, tr.Now, tr.Sleep = r, clk.Now, sl.Sleep
	return tr, clk, sl
}

func get(url string) func(ctx context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
