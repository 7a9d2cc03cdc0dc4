package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/muster-project/muster/internal/core"
)

// securityChannel is the PostgreSQL notification channel security writes
// announce their new security version on (see UpdateSecurity).
const securityChannel = "muster_security"

// listenPing is how long a LISTEN connection may stay silent before it is
// checked with a query, so a connection that died without a word (a cut
// network path) is noticed and replaced.
const listenPing = 2 * time.Second

// ListenSecurity holds one connection of the pool for LISTEN until ctx ends
// or the connection fails (see core.SecurityNotifier). SQLite has no
// notifications: it returns core.ErrNotifyUnsupported at once.
func (s *Store) ListenSecurity(ctx context.Context, ready func(), changed func(version int64)) error {
	if !s.d.postgres {
		return core.ErrNotifyUnsupported
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer conn.Close()
	var cause error
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			cause = core.ErrNotifyUnsupported
			return cause
		}
		cause = listen(ctx, sc, ready, changed)
		// The connection still listens (or is broken): never hand it back
		// to the pool.
		return fmt.Errorf("%w: %w", driver.ErrBadConn, cause)
	})
	if cause != nil {
		return cause
	}
	return err
}

func listen(ctx context.Context, sc *stdlib.Conn, ready func(), changed func(int64)) error {
	pc := sc.Conn()
	if _, err := pc.Exec(ctx, "LISTEN "+securityChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	ready()
	for {
		wait, cancel := context.WithTimeout(ctx, listenPing)
		n, err := pc.WaitForNotification(wait)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("listen: %w", err)
			}
			ping, cancel := context.WithTimeout(ctx, listenPing)
			_, err := pc.Exec(ping, "SELECT 1")
			cancel()
			if err != nil {
				return fmt.Errorf("listen: connection check: %w", err)
			}
			continue
		}
		v, err := strconv.ParseInt(n.Payload, 10, 64)
		if err != nil {
			v = -1 // not ours to parse: have the caller look at the store
		}
		changed(v)
	}
}

// notifySecurity announces, inside the writing transaction, the security
// version it commits: PostgreSQL delivers it to every listener at commit
// and drops it on rollback.
func (t *secTx) notifySecurity() error {
	if !t.d.postgres {
		return nil
	}
	_, err := t.tx.ExecContext(t.ctx, `SELECT pg_notify($1, $2)`, securityChannel, strconv.FormatInt(t.version, 10))
	return err
}
