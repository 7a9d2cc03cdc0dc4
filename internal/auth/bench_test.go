package auth

import (
	"fmt"
	"testing"
	"time"
)

func BenchmarkSign(b *testing.B) {
	kp := wazuhKeys(b)
	for b.Loop() {
		if _, err := Sign(kp.Private, exampleClaims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	kp := wazuhKeys(b)
	tok, err := Sign(kp.Private, exampleClaims)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(exampleNBF+1, 0)
	for b.Loop() {
		if _, err := Verify(kp.Public, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPasswordScrypt(b *testing.B) {
	v := loadWerkzeugVectors(b)[0]
	for b.Loop() {
		if !CheckPassword(v.Hash, v.Password) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkHashAuthContext(b *testing.B) {
	body := []byte(`{"groups": ["web-team", "ops"], "department": "audit", "level": 3.5, "name": "J\u00fcrgen"}`)
	for b.Loop() {
		if _, err := HashAuthContext(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTokenCacheGet(b *testing.B) {
	c := NewTokenCache(4096)
	toks := make([]string, 1024)
	for i := range toks {
		toks[i] = fmt.Sprintf("eyJhbGciOiJFUzUxMiIsInR5cCI6IkpXVCJ9.token-%d.%0200d", i, i)
		c.Put(toks[i], exampleClaims)
	}
	now := time.Unix(exampleNBF+1, 0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(toks[i%len(toks)], now); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}

func BenchmarkRateLimiterAllow(b *testing.B) {
	l := NewRateLimiter(1 << 30)
	ips := make([]string, 1024)
	for i := range ips {
		ips[i] = fmt.Sprint("10.0.", i/256, ".", i%256)
	}
	now := time.Unix(exampleNBF, 0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(ips[i%len(ips)], now)
			i++
		}
	})
}
