package sqlstore_test

import (
	"path/filepath"
	"testing"

	"github.com/muster-project/muster/internal/auth"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/storetest"
)

func TestLoginAttemptsSQLite(t *testing.T) {
	storetest.LoginAttempts(t, func(t *testing.T) (auth.LoginAttemptStore, auth.LoginAttemptStore) {
		p := filepath.Join(t.TempDir(), "m.db")
		return openStore(t, "sqlite", p), openStore(t, "sqlite", p)
	})
}

func TestLoginAttemptsPostgres(t *testing.T) {
	storetest.LoginAttempts(t, func(t *testing.T) (auth.LoginAttemptStore, auth.LoginAttemptStore) {
		dsn := storetest.PostgresDSN(t)
		return openStore(t, "postgres", dsn), openStore(t, "postgres", dsn)
	})
}

func TestSecurityNotificationsPostgres(t *testing.T) {
	storetest.SecurityNotifications(t, func(t *testing.T) (core.SecurityStore, core.SecurityStore) {
		dsn := storetest.PostgresDSN(t)
		return openStore(t, "postgres", dsn), openStore(t, "postgres", dsn)
	})
}

func TestNoSecurityNotificationsSQLite(t *testing.T) {
	storetest.NoSecurityNotifications(t, openSQLite(t))
}
