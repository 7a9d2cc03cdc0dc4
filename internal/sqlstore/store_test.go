package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

func openSQLite(t *testing.T) core.SecurityStore {
	s, err := sqlstore.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) core.SecurityStore {
	s, err := sqlstore.Open(context.Background(), "postgres", storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSecuritySQLite(t *testing.T)   { storetest.SecurityStore(t, openSQLite) }
func TestSecurityPostgres(t *testing.T) { storetest.SecurityStore(t, openPostgres) }

func TestMigrationsAreIdempotent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.db")
	for i := 0; i < 2; i++ {
		s, err := sqlstore.Open(context.Background(), "sqlite", p)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}

func TestUnknownDriver(t *testing.T) {
	if _, err := sqlstore.Open(context.Background(), "mysql", "x"); err == nil {
		t.Fatal("unknown driver accepted")
	}
}
