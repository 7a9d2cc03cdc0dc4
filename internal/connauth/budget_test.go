package connauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestBudgetSpacesRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	for _, c := range []struct {
		rate  Rate
		n     int
		want  time.Duration // when the last request went
		waits int
	}{
		{Rate{N: 3, Per: time.Minute}, 7, 120 * time.Second, 6},        // no burst below 10: one every 20 s
		{Rate{N: 20, Per: time.Minute}, 4, 2 * 3157894737, 2},          // a burst of 2, then one every 60/19 s
		{Rate{N: 100, Per: 10 * time.Second}, 10, 0, 0},                // within the burst of 10
		{Rate{N: 100, Per: 10 * time.Second}, 101, 91 * 109890110, 91}, // then one every 10/91 s
	} {
		tr, clk, sl := testTransport(t, DefaultRetry)
		tr.Budget = c.rate
		start := clk.Now()
		var sent []time.Time
		for range c.n {
			resp, err := tr.Do(t.Context(), true, get(srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			sent = append(sent, clk.Now())
		}
		if got := clk.Now().Sub(start); got != c.want || len(sl.Waits()) != c.waits {
			t.Errorf("%d requests at %s: the last went at %s after %d waits, want %s after %d", c.n, c.rate, got, len(sl.Waits()), c.want, c.waits)
		}
		// However the requests fall, no window of Per holds more than N.
		for i := range sent {
			j := i
			for j < len(sent) && sent[j].Sub(sent[i]) < c.rate.Per {
				j++
			}
			if j-i > c.rate.N {
				t.Errorf("%s: %d requests within %s from request %d", c.rate, j-i, c.rate.Per, i)
				break
			}
		}
	}
}

func TestBudgetString(t *testing.T) {
	if s := (Rate{N: 100, Per: time.Minute}).String(); s != "100 per 1m0s" {
		t.Fatal(s)
	}
	if s := (Rate{}).String(); s != "unlimited" {
		t.Fatal(s)
	}
}

// One 429 pauses the source: the request that comes next waits out the
// Retry-After even though it never saw the 429 itself.
func TestRateLimitPausesEveryRequest(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	tr, clk, sl := testTransport(t, DefaultRetry)
	var advanced bool
	tr.Sleep = func(ctx context.Context, d time.Duration) error { advanced = true; return nil } // the clock stands still
	resp, err := tr.Do(t.Context(), true, get(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !advanced {
		t.Fatal("the 429 was not waited out")
	}
	tr.Sleep = sl.Sleep
	resp, err = tr.Do(t.Context(), true, get(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w := sl.Waits(); len(w) != 1 || w[0] != 7*time.Second {
		t.Fatalf("the next request waited %v, want the 7s pause", w)
	}
	_ = clk
	if tr.RateLimited() != 1 || tr.RetryCount() != 1 {
		t.Fatalf("RateLimited %d RetryCount %d, want 1 and 1", tr.RateLimited(), tr.RetryCount())
	}
}

// A success saying that no request remains in the window pauses until its reset.
func TestRemainingZeroPausesUntilReset(t *testing.T) {
	tr, clk, sl := testTransport(t, DefaultRetry)
	reset := clk.Now().Add(30 * time.Second).Unix()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	}))
	defer srv.Close()
	for range 2 {
		resp, err := tr.Do(t.Context(), true, get(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if w := sl.Waits(); len(w) != 1 || w[0] != 30*time.Second {
		t.Fatalf("waits %v, want one of 30s before the second request", w)
	}
	if tr.RateLimited() != 0 {
		t.Fatal("no 429 was answered")
	}
}
