package sqlstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

func openAgentsSQLite(t *testing.T) core.AgentStore {
	s, err := sqlstore.Open(context.Background(), "sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openAgentsPostgres(t *testing.T) core.AgentStore {
	s, err := sqlstore.Open(context.Background(), "postgres", storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAgentsSQLite(t *testing.T)   { storetest.AgentStore(t, openAgentsSQLite) }
func TestAgentsPostgres(t *testing.T) { storetest.AgentStore(t, openAgentsPostgres) }
