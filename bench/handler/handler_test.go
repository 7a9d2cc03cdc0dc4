package handler

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/muster-project/muster/internal/apitest"
	"github.com/muster-project/muster/internal/config"
)

// env starts a manager on a fresh SQLite store with the rate limit off and
// returns its handler and an administrator token.
func env(b *testing.B) (http.Handler, string) {
	b.Helper()
	e := apitest.Start(b, func(c *config.Config) {
		c.API.Access.MaxRequestPerMinute = 0
		c.API.Access.MaxLoginAttempts = 1_000_000
	})
	tok, err := e.Security.Login(context.Background(), "wazuh", "wazuh")
	if err != nil {
		b.Fatal(err)
	}
	return e.Server.Config.Handler, tok
}

func benchGet(b *testing.B, path string) {
	h, tok := env(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
			}
		}
	})
}

// BenchmarkGetUsersMe is one authenticated GET /security/users/me (about
// 4.2 kB of nested JSON for the administrator).
func BenchmarkGetUsersMe(b *testing.B) { benchGet(b, "/security/users/me") }

// BenchmarkGetRoot is one authenticated GET / (a small flat body).
func BenchmarkGetRoot(b *testing.B) { benchGet(b, "/") }
