package auth

import (
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const ip = "192.0.2.1"

	t.Run("window semantics", func(t *testing.T) {
		l := NewRateLimiter(3)
		steps := []struct {
			at    time.Duration
			ok    bool
			retry time.Duration
		}{
			{0, true, 0},
			{10 * time.Second, true, 0},
			{20 * time.Second, true, 0},
			{20 * time.Second, false, 40 * time.Second},
			{30*time.Second + 500*time.Millisecond, false, 30 * time.Second}, // ceil of 29.5 s
			{59*time.Second + 900*time.Millisecond, false, time.Second},      // ceil of 0.1 s
			{60 * time.Second, false, time.Second},                           // the 60th second is still in the window
			{60*time.Second + time.Nanosecond, true, 0},                      // new window
			{61 * time.Second, true, 0},                                      //
			{62 * time.Second, true, 0},                                      // third of the new window
			{63 * time.Second, false, 58 * time.Second},                      // ceil of 57 s + 1 ns
			{120*time.Second + time.Nanosecond, false, time.Second},          // end of window is inclusive
			{120*time.Second + 2*time.Nanosecond, true, 0},                   // next window
		}
		for i, s := range steps {
			ok, retry := l.Allow(ip, at(s.at))
			if ok != s.ok || retry != s.retry {
				t.Errorf("step %d at %v: Allow = %v, %v; want %v, %v", i, s.at, ok, retry, s.ok, s.retry)
			}
		}
	})

	t.Run("per client", func(t *testing.T) {
		l := NewRateLimiter(1)
		if ok, _ := l.Allow("a", at(0)); !ok {
			t.Fatal("first request of a refused")
		}
		if ok, _ := l.Allow("a", at(time.Second)); ok {
			t.Error("second request of a allowed")
		}
		if ok, _ := l.Allow("b", at(time.Second)); !ok {
			t.Error("b is limited by a's requests")
		}
	})

	t.Run("rejected requests do not extend the window", func(t *testing.T) {
		l := NewRateLimiter(1)
		l.Allow(ip, at(0))
		for s := 1; s <= 60; s++ {
			if ok, _ := l.Allow(ip, at(time.Duration(s)*time.Second)); ok {
				t.Fatalf("allowed at %ds", s)
			}
		}
		if ok, _ := l.Allow(ip, at(61*time.Second)); !ok {
			t.Error("refused after the window ended despite earlier rejections")
		}
	})

	t.Run("zero disables", func(t *testing.T) {
		for _, n := range []int{0, -1} {
			l := NewRateLimiter(n)
			for i := range 1000 {
				if ok, _ := l.Allow(ip, at(0)); !ok {
					t.Fatalf("limit %d: request %d refused", n, i)
				}
			}
			if l.Len() != 0 {
				t.Errorf("limit %d: disabled limiter keeps state", n)
			}
		}
	})

	t.Run("bounded", func(t *testing.T) {
		l := NewRateLimiter(5)
		for i := range l.shards {
			l.shards[i].max = 2
		}
		for i := range 1000 {
			l.Allow(fmt.Sprint("10.0.", i/256, ".", i%256), at(0))
		}
		if n := l.Len(); n > 2*rateShards {
			t.Errorf("Len = %d, want at most %d", n, 2*rateShards)
		}
	})

	t.Run("ended windows are swept", func(t *testing.T) {
		l := NewRateLimiter(5)
		for i := range 200 {
			l.Allow(fmt.Sprint("10.1.0.", i), at(0))
		}
		// One request per shard after the windows ended sweeps each shard.
		later := at(61 * time.Second)
		done := map[uint64]bool{}
		for i := 0; len(done) < rateShards && i < 100_000; i++ {
			ip := fmt.Sprint("10.2.", i/256, ".", i%256)
			if sh := maphash.String(l.seed, ip) % rateShards; !done[sh] {
				done[sh] = true
				l.Allow(ip, later)
			}
		}
		if n := l.Len(); n != rateShards {
			t.Errorf("Len = %d after every window ended, want only the %d new clients", n, rateShards)
		}
		for i := range l.shards {
			for ip, e := range l.shards[i].windows {
				if later.After(e.start.Add(rateWindow)) {
					t.Errorf("stale window of %s kept", ip)
				}
			}
		}
	})
}
