package auth

import (
	"fmt"
	"testing"
	"time"
)

func TestLoginBlocker(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const ip = "192.0.2.1"

	t.Run("limit reached blocks later requests until first failure plus block time", func(t *testing.T) {
		b := NewLoginBlocker(3, 300*time.Second)
		for i := range 2 {
			now := at(time.Duration(i) * 10 * time.Second)
			if blocked, _ := b.Blocked(ip, now); blocked {
				t.Fatalf("blocked before failure %d", i+1)
			}
			b.Failed(ip, now)
		}
		// Third request passes the gate, fails (401), and reaches the limit.
		if blocked, _ := b.Blocked(ip, at(100*time.Second)); blocked {
			t.Fatal("the request reaching the limit must still get through the gate")
		}
		b.Failed(ip, at(100*time.Second))
		blocked, until := b.Blocked(ip, at(100*time.Second))
		if !blocked || !until.Equal(at(300*time.Second)) {
			t.Fatalf("after the limit: blocked=%v until=%v, want true until %v", blocked, until, at(300*time.Second))
		}
		if blocked, _ := b.Blocked(ip, at(300*time.Second-time.Millisecond)); !blocked {
			t.Error("unblocked before block_time after the first failure")
		}
		if blocked, _ := b.Blocked("198.51.100.7", at(200*time.Second)); blocked {
			t.Error("another address is blocked")
		}
		if blocked, _ := b.Blocked(ip, at(300*time.Second)); blocked {
			t.Error("still blocked at first failure + block_time")
		}
		if b.Len() != 0 {
			t.Errorf("entry kept after its window: Len = %d", b.Len())
		}
	})

	t.Run("window starts at first failure and is not extended", func(t *testing.T) {
		b := NewLoginBlocker(3, 300*time.Second)
		b.Failed(ip, at(0))
		b.Failed(ip, at(299*time.Second))
		// The window of the first failure ended: this failure starts a new one.
		b.Failed(ip, at(300*time.Second))
		b.Failed(ip, at(301*time.Second))
		if blocked, _ := b.Blocked(ip, at(302*time.Second)); blocked {
			t.Error("failures of an ended window were counted")
		}
		b.Failed(ip, at(302*time.Second))
		blocked, until := b.Blocked(ip, at(302*time.Second))
		if !blocked || !until.Equal(at(600*time.Second)) {
			t.Errorf("blocked=%v until=%v, want true until %v", blocked, until, at(600*time.Second))
		}
	})

	t.Run("Failed alone expires old entries", func(t *testing.T) {
		b := NewLoginBlocker(2, time.Minute)
		b.Failed(ip, at(0))
		b.Failed(ip, at(time.Minute))
		if blocked, _ := b.Blocked(ip, at(time.Minute)); blocked {
			t.Error("a failure from an ended window was counted")
		}
	})

	for _, max := range []int{0, 1} {
		t.Run(fmt.Sprint("max ", max, " blocks after the first failure"), func(t *testing.T) {
			b := NewLoginBlocker(max, time.Minute)
			if blocked, _ := b.Blocked(ip, at(0)); blocked {
				t.Fatal("blocked before any failure")
			}
			b.Failed(ip, at(0))
			if blocked, _ := b.Blocked(ip, at(time.Second)); !blocked {
				t.Error("not blocked after the first failure")
			}
		})
	}

	t.Run("bounded, oldest forgotten", func(t *testing.T) {
		b := NewLoginBlocker(1, time.Hour)
		b.maxEntries = 3
		for i := range 5 {
			b.Failed(fmt.Sprint("10.0.0.", i), at(time.Duration(i)*time.Second))
		}
		if b.Len() != 3 {
			t.Fatalf("Len = %d, want 3", b.Len())
		}
		for i, want := range []bool{false, false, true, true, true} {
			if blocked, _ := b.Blocked(fmt.Sprint("10.0.0.", i), at(10*time.Second)); blocked != want {
				t.Errorf("10.0.0.%d blocked = %v, want %v", i, blocked, want)
			}
		}
	})

	t.Run("clock going backwards keeps order", func(t *testing.T) {
		b := NewLoginBlocker(1, time.Minute)
		b.Failed("a", at(30*time.Second))
		b.Failed("b", at(10*time.Second))
		if blocked, _ := b.Blocked("a", at(75*time.Second)); !blocked {
			t.Error("a forgotten before its window ended")
		}
		if blocked, _ := b.Blocked("b", at(75*time.Second)); blocked {
			t.Error("b still blocked after its window ended")
		}
	})
}
