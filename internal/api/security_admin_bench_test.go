package api_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/muster-project/muster/internal/api"
	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
)

// BenchmarkListUsers measures an authenticated GET /security/users?limit=500
// (500 users in the store) in-process, with the default RBAC objects and
// with 200 more roles holding 2,000 more policies, all held by the caller.
// The target: the second keeps at least 80% of the first's
// throughput. Run: go test ./internal/api -run '^$' -bench ListUsers
func BenchmarkListUsers(b *testing.B) {
	for _, big := range []bool{false, true} {
		name := "defaults"
		if big {
			name = "200roles_2000policies"
		}
		b.Run(name, func(b *testing.B) {
			h, tok := benchServer(b, big)
			req := httptest.NewRequest("GET", "/security/users?limit=500", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.RemoteAddr = "192.0.2.1:1234"
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
		})
	}
}

// benchServer builds a manager on SQLite with 500 users (the caller,
// "bench", holds role 1 and, with big, 200 roles of 10 policies each) and
// returns its handler and a token of the caller.
func benchServer(b *testing.B, big bool) (http.Handler, string) {
	ctx := context.Background()
	store, err := sqlstore.Open(ctx, "sqlite", b.TempDir()+"/muster.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	seed := core.NewSecurity(core.SecurityOptions{Store: store, Log: log})
	if err := seed.Start(ctx, core.InitialPasswords{}); err != nil {
		b.Fatal(err)
	}
	hash, err := auth.HashPassword("Passw0rd!x")
	if err != nil {
		b.Fatal(err)
	}
	err = store.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
		for i := 0; i < 500; i++ {
			if _, err := tx.InsertUser(core.User{ID: 100 + i, Username: fmt.Sprintf("user%03d", i), Password: hash}); err != nil {
				return err
			}
		}
		if err := tx.InsertLink(core.UserRolesTable, core.Link{From: 100, To: 1}); err != nil {
			return err
		}
		if !big {
			return nil
		}
		for r := 0; r < 200; r++ {
			if _, err := tx.InsertRole(core.Role{ID: 100 + r, Name: fmt.Sprintf("role%03d", r)}); err != nil {
				return err
			}
			if err := tx.InsertLink(core.UserRolesTable, core.Link{From: 100, To: 100 + r, Level: r + 1}); err != nil {
				return err
			}
			for p := 0; p < 10; p++ {
				id := 100 + r*10 + p
				body := benchPolicy(id)
				if _, err := tx.InsertPolicy(core.Policy{ID: id, Name: fmt.Sprintf("policy%04d", id), Body: []byte(body)}); err != nil {
					return err
				}
				if err := tx.InsertLink(core.RolePoliciesTable, core.Link{From: 100 + r, To: id, Level: p}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// A second service loads the store as it now is.
	sec := core.NewSecurity(core.SecurityOptions{Store: store, Log: log})
	if err := sec.Start(ctx, core.InitialPasswords{}); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.API.Access.MaxRequestPerMinute = 0
	srv := api.New(api.Options{Config: cfg, Security: sec, Log: log, Hostname: "bench"})
	req := httptest.NewRequest("POST", "/security/user/authenticate?raw=true", nil)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("user000:Passw0rd!x")))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != 200 {
		b.Fatalf("login: %d %s", w.Code, w.Body)
	}
	return srv, w.Body.String()
}

// benchPolicy varies actions, resource types and effects the way real
// policies do; a quarter of them allow or deny security:read on users
// that do not exist, so both cases list the same 500 users.
func benchPolicy(id int) string {
	switch id % 4 {
	case 0:
		effect := "allow"
		if id%8 == 0 {
			effect = "deny"
		}
		return fmt.Sprintf(`{"actions": ["security:read"], "resources": ["user:id:%d"], "effect": "%s"}`, 10000+id, effect)
	case 1:
		return fmt.Sprintf(`{"actions": ["agent:read", "agent:restart"], "resources": ["agent:id:%03d", "agent:group:g%d"], "effect": "allow"}`, id, id)
	case 2:
		return fmt.Sprintf(`{"actions": ["group:read"], "resources": ["group:id:g%d"], "effect": "allow"}`, id)
	}
	return fmt.Sprintf(`{"actions": ["cluster:read"], "resources": ["node:id:n%d"], "effect": "deny"}`, id)
}
