package sqlstore_test

import (
	"testing"

	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/storetest"
)

func TestAgentsSQLite(t *testing.T) {
	storetest.AgentStore(t, func(t *testing.T) core.AgentStore { return openSQLite(t) })
}

func TestAgentsPostgres(t *testing.T) {
	storetest.AgentStore(t, func(t *testing.T) core.AgentStore { return openPostgres(t) })
}
