// Package sqlstore implements muster's Store interfaces over database/sql:
// embedded SQLite (modernc.org/sqlite, pure Go) by default and PostgreSQL
// (pgx) when several manager nodes share one fleet. SQL is written by hand
// with '?' placeholders; a small dialect rewrites what differs.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	_ "modernc.org/sqlite"             // SQLite driver "sqlite"
)

// Store is the database behind a muster node.
type Store struct {
	db    *sql.DB
	d     dialect
	stmts sync.Map // query -> *sql.Stmt: statements of hot paths, prepared once (agent.go)

	obs observers // optional latency observer (observe.go)
}

type dialect struct {
	name     string
	postgres bool
}

// Open connects to the database and applies pending migrations. driver is
// "sqlite" (dsn is a file path) or "postgres" (dsn is a connection string).
func Open(ctx context.Context, driver, dsn string) (*Store, error) {
	var (
		db  *sql.DB
		err error
		d   dialect
	)
	switch driver {
	case "sqlite":
		d = dialect{name: "sqlite"}
		db, err = sql.Open("sqlite", sqliteDSN(dsn))
		if err == nil {
			// One writer at a time is SQLite's rule; readers run beside it in WAL mode.
			db.SetMaxOpenConns(8)
		}
	case "postgres":
		d = dialect{name: "postgres", postgres: true}
		db, err = sql.Open("pgx", dsn)
		if err == nil {
			db.SetMaxOpenConns(16)
		}
	default:
		return nil, fmt.Errorf("unknown database driver %q (use sqlite or postgres)", driver)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, d: d}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", driver, err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", driver, err)
	}
	return s, nil
}

func sqliteDSN(path string) string {
	if strings.HasPrefix(path, "file:") {
		return path
	}
	// temp_store(MEMORY) keeps statement journals off disk: every INSERT
	// into agent fires a trigger and opens one, and as a temporary file it
	// cost a third of an enrollment's store time in pwrite calls.
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)&_txlock=immediate"
}

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the handle for benchmarks and tools in this module.
func (s *Store) DB() *sql.DB { return s.db }

// q rewrites '?' placeholders into PostgreSQL's $n form.
func (d dialect) q(query string) string {
	if !d.postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505") ||
		strings.Contains(s, "duplicate key value")
}

// inTx runs fn in a transaction, committing only when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	defer s.observe("transaction", time.Now())
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, rerr)
			}
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
