package sqlstore_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

func TestGroupFilesSQLite(t *testing.T) {
	storetest.GroupFiles(t, func(t *testing.T) storetest.GroupStore { return openSQLite(t) })
}

func TestGroupFilesPostgres(t *testing.T) {
	storetest.GroupFiles(t, func(t *testing.T) storetest.GroupStore { return openPostgres(t) })
}

// Nodes starting together on a new store all migrate it: none fails.
func TestConcurrentMigrations(t *testing.T) {
	run := func(t *testing.T, driver, dsn string) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := sqlstore.Open(context.Background(), driver, dsn)
				if err == nil {
					_, _, err = s.GroupState(context.Background())
					s.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("node %d: %v", i, err)
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) { run(t, "sqlite", filepath.Join(t.TempDir(), "m.db")) })
	t.Run("postgres", func(t *testing.T) { run(t, "postgres", storetest.PostgresDSN(t)) })
}
