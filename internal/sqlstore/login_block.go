package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// Failed logins per client address, shared by every node on the store
// (auth.LoginAttemptStore): a window opens at an address's first failure
// and lasts block_time; a failure after it ended opens a new one. Times are
// Unix nanoseconds of the caller's clock.

// LoginFailed counts a failed login of key at now in one statement, so
// nodes failing the same address at once all count.
func (s *Store) LoginFailed(ctx context.Context, key string, now time.Time, window time.Duration) error {
	n, cutoff := now.UnixNano(), now.Add(-window).UnixNano()
	// Ended windows go first (an indexed range, empty most of the time),
	// so the table holds only the addresses of the last block_time.
	if _, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM login_failures WHERE first_failure <= ?`), cutoff); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO login_failures (client, first_failure, attempts) VALUES (?, ?, 1)
		ON CONFLICT (client) DO UPDATE SET
		attempts = CASE WHEN login_failures.first_failure <= ? THEN 1 ELSE login_failures.attempts + 1 END,
		first_failure = CASE WHEN login_failures.first_failure <= ? THEN excluded.first_failure
			ELSE login_failures.first_failure END`), key, n, cutoff, cutoff)
	return err
}

// LoginFailures returns key's window still open at now.
func (s *Store) LoginFailures(ctx context.Context, key string, now time.Time, window time.Duration) (time.Time, int, bool, error) {
	var first, attempts int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT first_failure, attempts FROM login_failures
		WHERE client = ? AND first_failure > ?`), key, now.Add(-window).UnixNano()).Scan(&first, &attempts)
	if err == sql.ErrNoRows {
		return time.Time{}, 0, false, nil
	}
	if err != nil {
		return time.Time{}, 0, false, err
	}
	return time.Unix(0, first), int(attempts), true, nil
}
