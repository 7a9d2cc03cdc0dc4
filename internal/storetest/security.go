package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/muster-project/muster/internal/core"
)

// SecurityStore runs the conformance suite for core.SecurityStore against
// stores made by open (a fresh, empty store each call).
func SecurityStore(t *testing.T, open func(t *testing.T) core.SecurityStore) {
	ctx := context.Background()
	t.Run("empty", func(t *testing.T) {
		s := open(t)
		d, err := s.LoadSecurity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Users)+len(d.Roles)+len(d.Policies)+len(d.Rules) != 0 || d.SigningKey != "" {
			t.Fatalf("new store not empty: %+v", d)
		}
		if d.Config != core.DefaultSecurityConfig() {
			t.Fatalf("config %+v", d.Config)
		}
	})
	t.Run("ids as Wazuh allocates them", func(t *testing.T) {
		s := open(t)
		var got []int
		err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			for _, u := range []core.User{{ID: 1, Username: "wazuh"}, {Username: "alice"}, {Username: "bob"}} {
				id, err := tx.InsertUser(u)
				if err != nil {
					return err
				}
				got = append(got, id)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != 1 || got[1] != 100 || got[2] != 101 {
			t.Fatalf("ids %v, want [1 100 101]", got)
		}
	})
	t.Run("a failed transaction writes nothing", func(t *testing.T) {
		s := open(t)
		v0, _ := s.SecurityVersion(ctx)
		boom := errors.New("boom")
		err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			if _, err := tx.InsertUser(core.User{Username: "alice"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err %v", err)
		}
		d, _ := s.LoadSecurity(ctx)
		v1, _ := s.SecurityVersion(ctx)
		if len(d.Users) != 0 || v1 != v0 {
			t.Fatalf("rolled-back write is visible: users %v, version %d→%d", d.Users, v0, v1)
		}
	})
	t.Run("conflicts and not found", func(t *testing.T) {
		s := open(t)
		err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			if _, err := tx.InsertRole(core.Role{Name: "r"}); err != nil {
				return err
			}
			_, err := tx.InsertRole(core.Role{Name: "r"})
			return err
		})
		if !errors.Is(err, core.ErrConflict) {
			t.Fatalf("duplicate name: %v", err)
		}
		err = s.UpdateSecurity(ctx, func(tx core.SecurityTx) error { return tx.DeleteUser(42) })
		if !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		err = s.UpdateSecurity(ctx, func(tx core.SecurityTx) error { return tx.DeleteLink(core.UserRolesTable, 1, 2) })
		if !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("missing link: %v", err)
		}
	})
	t.Run("links keep levels, cascade on delete", func(t *testing.T) {
		s := open(t)
		err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			uid, _ := tx.InsertUser(core.User{Username: "alice", Password: "x"})
			r1, _ := tx.InsertRole(core.Role{Name: "a"})
			r2, _ := tx.InsertRole(core.Role{Name: "b"})
			if err := tx.InsertLink(core.UserRolesTable, core.Link{From: uid, To: r1, Level: 1}); err != nil {
				return err
			}
			if err := tx.InsertLink(core.UserRolesTable, core.Link{From: uid, To: r2, Level: 0}); err != nil {
				return err
			}
			return tx.UpdateLinkLevel(core.UserRolesTable, uid, r1, 5)
		})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := s.LoadSecurity(ctx)
		// A statement that fails ends the transaction (PostgreSQL's rule).
		err = s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			return tx.InsertLink(core.UserRolesTable, core.Link{From: d.Users[0].ID, To: d.Roles[1].ID})
		})
		if !errors.Is(err, core.ErrConflict) {
			t.Fatalf("duplicate link: %v", err)
		}
		if len(d.UserRoles) != 2 || d.UserRoles[0].Level != 5 || d.UserRoles[1].Level != 0 {
			t.Fatalf("links %+v", d.UserRoles)
		}
		if err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error { return tx.DeleteRole(d.Roles[0].ID) }); err != nil {
			t.Fatal(err)
		}
		d, _ = s.LoadSecurity(ctx)
		if len(d.UserRoles) != 1 {
			t.Fatalf("link to a deleted role survived: %+v", d.UserRoles)
		}
	})
	t.Run("links with explicit ids, then without", func(t *testing.T) {
		// Seeded and imported links carry their ids; the next link made
		// without one must not take an id already used.
		s := open(t)
		err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			uid, _ := tx.InsertUser(core.User{Username: "alice", Password: "x"})
			r1, _ := tx.InsertRole(core.Role{Name: "a"})
			r2, _ := tx.InsertRole(core.Role{Name: "b"})
			if err := tx.InsertLink(core.UserRolesTable, core.Link{ID: 1, From: uid, To: r1}); err != nil {
				return err
			}
			return tx.InsertLink(core.UserRolesTable, core.Link{ID: 7, From: uid, To: r2})
		})
		if err != nil {
			t.Fatal(err)
		}
		err = s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			uid, _ := tx.InsertUser(core.User{Username: "bobby", Password: "x"})
			r, _ := tx.InsertRole(core.Role{Name: "c"})
			return tx.InsertLink(core.UserRolesTable, core.Link{From: uid, To: r})
		})
		if err != nil {
			t.Fatalf("a link without an id after seeded ones: %v", err)
		}
		d, _ := s.LoadSecurity(ctx)
		if len(d.UserRoles) != 3 || d.UserRoles[2].ID <= 7 {
			t.Fatalf("links %+v", d.UserRoles)
		}
	})
	t.Run("revocations, config, key, version", func(t *testing.T) {
		s := open(t)
		v0, _ := s.SecurityVersion(ctx)
		err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
			return errors.Join(
				tx.RevokeUser(7, core.Revocation{NbfInvalidUntil: 10, IsValidUntil: 100}),
				tx.RevokeUser(7, core.Revocation{NbfInvalidUntil: 20, IsValidUntil: 200}),
				tx.RevokeRole(3, core.Revocation{NbfInvalidUntil: 5, IsValidUntil: 50}),
				tx.RevokeRunAs(core.Revocation{NbfInvalidUntil: 1, IsValidUntil: 2}),
				tx.RevokeRunAs(core.Revocation{NbfInvalidUntil: 3, IsValidUntil: 400}),
				tx.SetConfig(core.SecurityConfig{AuthTokenExpTimeout: 60, RBACMode: "black"}),
				tx.SetSigningKey("PEM"),
			)
		})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := s.LoadSecurity(ctx)
		if d.UserRevoked[7].NbfInvalidUntil != 20 || d.RoleRevoked[3].IsValidUntil != 50 ||
			d.RunAsRevoked == nil || d.RunAsRevoked.NbfInvalidUntil != 3 {
			t.Fatalf("revocations %+v %+v %+v", d.UserRevoked, d.RoleRevoked, d.RunAsRevoked)
		}
		if d.Config.AuthTokenExpTimeout != 60 || d.Config.RBACMode != "black" || d.SigningKey != "PEM" || d.Version != v0+1 {
			t.Fatalf("config %+v key %q version %d (was %d)", d.Config, d.SigningKey, d.Version, v0)
		}
		if err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error { return tx.PurgeRevocations(60) }); err != nil {
			t.Fatal(err)
		}
		d, _ = s.LoadSecurity(ctx)
		if _, ok := d.RoleRevoked[3]; ok || len(d.UserRevoked) != 1 {
			t.Fatalf("purge: %+v %+v", d.UserRevoked, d.RoleRevoked)
		}
		if err := s.UpdateSecurity(ctx, func(tx core.SecurityTx) error { return tx.ClearRevocations() }); err != nil {
			t.Fatal(err)
		}
		d, _ = s.LoadSecurity(ctx)
		if len(d.UserRevoked)+len(d.RoleRevoked) != 0 || d.RunAsRevoked != nil {
			t.Fatal("clear left rows")
		}
	})
	t.Run("revocation seq and issue records", func(t *testing.T) {
		s := open(t)
		write := func(fn func(tx core.SecurityTx) error) int64 {
			t.Helper()
			if err := s.UpdateSecurity(ctx, fn); err != nil {
				t.Fatal(err)
			}
			v, err := s.SecurityVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		v1 := write(func(tx core.SecurityTx) error {
			// The seq given is ignored: the store stamps the write's version.
			return errors.Join(tx.RevokeUser(7, core.Revocation{NbfInvalidUntil: 10, IsValidUntil: 100, Seq: 999}),
				tx.RevokeRunAs(core.Revocation{NbfInvalidUntil: 10, IsValidUntil: 100}),
				tx.RecordIssue("aa", 4, 50), tx.RecordIssue("bb", 5, 500))
		})
		v2 := write(func(tx core.SecurityTx) error {
			return errors.Join(tx.RevokeRole(3, core.Revocation{NbfInvalidUntil: 10, IsValidUntil: 100}),
				tx.RecordIssue("bb", 6, 500))
		})
		d, err := s.LoadSecurity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d.UserRevoked[7].Seq != v1 || d.RunAsRevoked == nil || d.RunAsRevoked.Seq != v1 || d.RoleRevoked[3].Seq != v2 || v2 != v1+1 {
			t.Fatalf("seqs %+v %+v %+v, versions %d %d", d.UserRevoked, d.RunAsRevoked, d.RoleRevoked, v1, v2)
		}
		if len(d.IssuedTokens) != 2 || d.IssuedTokens["aa"] != 4 || d.IssuedTokens["bb"] != 6 {
			t.Fatalf("issue records %v", d.IssuedTokens)
		}
		write(func(tx core.SecurityTx) error { return tx.PurgeRevocations(60) })
		d, _ = s.LoadSecurity(ctx)
		if _, ok := d.IssuedTokens["aa"]; ok || d.IssuedTokens["bb"] != 6 {
			t.Fatalf("purge: issue records %v", d.IssuedTokens)
		}
		write(func(tx core.SecurityTx) error { return tx.ClearRevocations() })
		d, _ = s.LoadSecurity(ctx)
		if len(d.IssuedTokens) != 0 {
			t.Fatalf("clear left issue records %v", d.IssuedTokens)
		}
	})
	t.Run("concurrent writes stamp distinct versions", func(t *testing.T) {
		// Two nodes revoking at once must not share a seq: a snapshot holding
		// only one of the rows would otherwise count as having seen both.
		s := open(t)
		const n = 8
		errs := make(chan error, n)
		for i := range n {
			go func() {
				errs <- s.UpdateSecurity(ctx, func(tx core.SecurityTx) error {
					return tx.RevokeRole(100+i, core.Revocation{NbfInvalidUntil: 1, IsValidUntil: 2})
				})
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		d, _ := s.LoadSecurity(ctx)
		seen := map[int64]bool{}
		for id, r := range d.RoleRevoked {
			if seen[r.Seq] || r.Seq <= 0 || r.Seq > d.Version {
				t.Fatalf("role %d: seq %d repeated or outside 1..%d: %+v", id, r.Seq, d.Version, d.RoleRevoked)
			}
			seen[r.Seq] = true
		}
		if len(seen) != n {
			t.Fatalf("%d rows: %+v", len(seen), d.RoleRevoked)
		}
	})
}
