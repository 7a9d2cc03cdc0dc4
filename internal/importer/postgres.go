package importer

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/muster-project/muster/internal/sqlstore"
)

// migrationLock is the advisory lock muster's migrations take (sqlstore):
// holding it, the import's swap cannot interleave with a node migrating.
const migrationLock = 7305896421

// writePostgres fills the PostgreSQL database dsn names as the SQLite
// import fills its staged file: everything is written into a new schema of
// that database, then moved into the connection's schema in one
// transaction, so the store is either untouched or complete. A store that
// already holds muster's tables is refused unless force (its tables are
// then replaced in that same transaction).
func (p *Plan) writePostgres(ctx context.Context, dsn string, force bool) (err error) {
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer admin.Close()
	var target string
	if err := admin.QueryRowContext(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&target); err != nil {
		return fmt.Errorf("connect to the PostgreSQL store: %w", err)
	}
	if target == "" {
		return errors.New("the PostgreSQL connection has no schema to import into: check search_path in the dsn")
	}
	if err := checkEmpty(ctx, admin, target, force); err != nil {
		return err
	}
	b := make([]byte, 8)
	rand.Read(b)
	stage := "muster_import_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+stage); err != nil {
		return fmt.Errorf("create the staging schema: %w", err)
	}
	defer func() {
		if err != nil { // nothing of a failed import stays behind
			admin.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+stage+" CASCADE")
		}
	}()
	staged, err := withSearchPath(dsn, stage)
	if err != nil {
		return err
	}
	store, err := sqlstore.Open(ctx, "postgres", staged)
	if err != nil {
		return fmt.Errorf("open the staging schema: %w", err)
	}
	if err := p.writeStore(ctx, store); err != nil {
		store.Close()
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	return swapSchema(ctx, admin, stage, target, force)
}

// checkEmpty refuses a schema that already holds muster's tables, unless force.
func checkEmpty(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, schema string, force bool) error {
	var has bool
	if err := q.QueryRowContext(ctx, `SELECT to_regclass(quote_ident($1) || '.schema_migrations') IS NOT NULL`,
		schema).Scan(&has); err != nil {
		return err
	}
	if has && !force {
		return fmt.Errorf("the PostgreSQL store (schema %s) already holds a muster database: refusing to import over it (use --force to replace it, with every node stopped)", schema)
	}
	return nil
}

// swapSchema moves the staged tables and functions into target, replacing
// target's own when force, in one transaction, and drops the staging schema.
func swapSchema(ctx context.Context, db *sql.DB, stage, target string, force bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	if err := checkEmpty(ctx, tx, target, force); err != nil { // again, under the lock
		return err
	}
	tables, err := names(ctx, tx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, stage)
	if err != nil {
		return err
	}
	funcs, err := names(ctx, tx, `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 ORDER BY 1`, stage)
	if err != nil {
		return err
	}
	st, tg := quoteIdent(stage), quoteIdent(target)
	var stmts []string
	for _, t := range tables {
		stmts = append(stmts, "DROP TABLE IF EXISTS "+tg+"."+quoteIdent(t)+" CASCADE")
	}
	for _, f := range funcs {
		stmts = append(stmts, "DROP FUNCTION IF EXISTS "+tg+"."+f+" CASCADE")
	}
	for _, t := range tables {
		stmts = append(stmts, "ALTER TABLE "+st+"."+quoteIdent(t)+" SET SCHEMA "+tg)
	}
	for _, f := range funcs {
		stmts = append(stmts, "ALTER FUNCTION "+st+"."+f+" SET SCHEMA "+tg)
	}
	stmts = append(stmts, "DROP SCHEMA "+st) // empty now: RESTRICT proves it
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("move the imported store into place (%s): %w", s, err)
		}
	}
	return tx.Commit()
}

func names(ctx context.Context, tx *sql.Tx, query, schema string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, schema)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// withSearchPath points a connection string at one schema.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil { // not err: it would repeat the dsn, password included
			return "", errors.New("the PostgreSQL dsn is not a valid URL")
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " search_path=" + schema, nil
}
