package auth

import (
	"testing"
	"time"
)

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                  "192.0.2.7",
		"2001:db8:1:2:aaaa::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff:1:2:3":    "2001:db8:1:2::/64",
		"2001:db8:1:3::1":            "2001:db8:1:3::/64",
		"::ffff:192.0.2.7":           "192.0.2.7",
		"fe80::1%eth0":               "fe80::/64",
		"not an address":             "not an address",
		"2001:db8:1:2:aaaa::1:2:3:4": "2001:db8:1:2:aaaa::1:2:3:4", // invalid: kept as it came
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// Fresh addresses from one IPv6 /64 do not escape a block or a rate limit.
func TestIPv6NetworkSharesBlockAndLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewLoginBlocker(3, time.Minute)
	for _, ip := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"} {
		b.Failed(ip, now)
	}
	if blocked, _ := b.Blocked("2001:db8::ffff", now); !blocked {
		t.Error("a fourth address of the same /64 is not blocked")
	}
	if blocked, _ := b.Blocked("2001:db8:0:1::1", now); blocked {
		t.Error("another /64 is blocked")
	}
	l := NewRateLimiter(2)
	l.Allow("2001:db8::1", now)
	l.Allow("2001:db8::2", now)
	if ok, _ := l.Allow("2001:db8::3", now); ok {
		t.Error("a third address of the same /64 passed a limit of 2 per minute")
	}
	if ok, _ := l.Allow("192.0.2.1", now); !ok {
		t.Error("an IPv4 client was limited by an IPv6 network's requests")
	}
}
