package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

// openStore opens a store for one test and closes it after.
func openStore(t *testing.T, driver, dsn string) *sqlstore.Store {
	s, err := sqlstore.Open(context.Background(), driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openSQLite(t *testing.T) *sqlstore.Store {
	return openStore(t, "sqlite", filepath.Join(t.TempDir(), "m.db"))
}

func openPostgres(t *testing.T) *sqlstore.Store {
	return openStore(t, "postgres", storetest.PostgresDSN(t))
}

func TestSecuritySQLite(t *testing.T) {
	storetest.SecurityStore(t, func(t *testing.T) core.SecurityStore { return openSQLite(t) })
}

func TestSecurityPostgres(t *testing.T) {
	storetest.SecurityStore(t, func(t *testing.T) core.SecurityStore { return openPostgres(t) })
}

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
