package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestTokenCache(t *testing.T) {
	t0 := time.Unix(exampleNBF, 0)
	cl := exampleClaims // expires at t0+900
	t.Run("hit until exp", func(t *testing.T) {
		c := NewTokenCache(10)
		c.Put("tok", cl)
		if got, ok := c.Get("tok", t0); !ok || got.Subject != "wazuh" {
			t.Fatalf("Get after Put = %+v, %v", got, ok)
		}
		if _, ok := c.Get("tok", time.Unix(exampleEXP, 0).Add(-time.Nanosecond)); !ok {
			t.Error("miss just before exp")
		}
		if _, ok := c.Get("tok", time.Unix(exampleEXP, 0)); ok {
			t.Error("hit at exactly exp")
		}
		if c.Len() != 0 {
			t.Errorf("expired entry kept: Len = %d", c.Len())
		}
		if _, ok := c.Get("other", t0); ok {
			t.Error("hit for a token never stored")
		}
	})
	t.Run("put after expiry is ignored", func(t *testing.T) {
		c := NewTokenCache(10)
		c.Get("x", time.Unix(exampleEXP, 0)) // the cache has now seen exp
		c.Put("tok", cl)
		if c.Len() != 0 {
			t.Error("an entry already past exp was stored")
		}
	})
	t.Run("clear", func(t *testing.T) {
		c := NewTokenCache(10)
		c.Put("tok", cl)
		c.Clear()
		if _, ok := c.Get("tok", t0); ok {
			t.Error("hit after Clear")
		}
	})
	t.Run("put epoch", func(t *testing.T) {
		c := NewTokenCache(10)
		e := c.Epoch()
		c.Clear() // key rotated while the token was being verified
		c.PutEpoch(e, "stale", cl)
		c.PutEpoch(c.Epoch(), "fresh", cl)
		if _, ok := c.Get("stale", t0); ok {
			t.Error("token verified before Clear was cached")
		}
		if _, ok := c.Get("fresh", t0); !ok {
			t.Error("token verified after Clear was not cached")
		}
	})
	t.Run("bounded", func(t *testing.T) {
		for _, max := range []int{1, 5, 16, 100} {
			c := NewTokenCache(max)
			for i := range 10 * max {
				c.Put(fmt.Sprint("tok", i), cl)
			}
			if n := c.Len(); n > max || n == 0 {
				t.Errorf("max %d: Len = %d", max, n)
			}
			if _, ok := c.Get(fmt.Sprint("tok", 10*max-1), t0); !ok {
				t.Errorf("max %d: the newest entry was evicted", max)
			}
		}
	})
	t.Run("evicts expired first", func(t *testing.T) {
		c := NewTokenCache(1)
		short := cl
		short.Expires = exampleNBF + 1
		c.Put("old", short)
		c.Get("x", time.Unix(exampleNBF+5, 0))
		c.Put("new", cl)
		if _, ok := c.Get("new", time.Unix(exampleNBF+5, 0)); !ok || c.Len() != 1 {
			t.Error("new entry not stored in place of the expired one")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		c := NewTokenCache(0)
		c.Put("tok", cl)
		if _, ok := c.Get("tok", t0); ok {
			t.Error("disabled cache returned a hit")
		}
		c.Clear()
	})
	t.Run("returned roles are a copy", func(t *testing.T) {
		c := NewTokenCache(10)
		in := cl
		in.RBACRoles = []int{1, 2}
		c.Put("tok", in)
		in.RBACRoles[0] = 99
		got, _ := c.Get("tok", t0)
		got.RBACRoles[1] = 99
		again, _ := c.Get("tok", t0)
		if again.RBACRoles[0] != 1 || again.RBACRoles[1] != 2 {
			t.Errorf("cached roles changed: %v", again.RBACRoles)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		c := NewTokenCache(64)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 500 {
					tok := fmt.Sprint("tok", (g*31+i)%100)
					c.Put(tok, cl)
					c.Get(tok, t0.Add(time.Duration(i)*time.Second))
					if i%97 == 0 {
						c.Clear()
					}
				}
			})
		}
		wg.Wait()
		if c.Len() > 64 {
			t.Errorf("Len = %d > 64", c.Len())
		}
	})
}
