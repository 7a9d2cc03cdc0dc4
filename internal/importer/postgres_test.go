package importer

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-project/muster/internal/config"
	"github.com/muster-project/muster/internal/core"
	"github.com/muster-project/muster/internal/sqlstore"
	"github.com/muster-project/muster/internal/storetest"
)

// storeCounts is what a store holds: users, agents (000 included) and the
// agent ids, for comparing two imports.
func storeCounts(t *testing.T, driver, dsn string) (int, int) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sec, err := st.LoadSecurity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, total, err := st.ListAgents(ctx, core.AgentListQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return len(sec.Users), total
}

func stagingSchemas(t *testing.T, dsn string) int {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'muster_import_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportIntoPostgres: with the servers' PostgreSQL database as the
// target, the import fills that database (what the SQLite import holds),
// writes the data directory's files and a muster.yaml naming the database,
// refuses a second import unless forced, and leaves nothing behind.
func TestImportIntoPostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	sqliteDir, _, _ := importFixture(t)
	wantUsers, wantAgents := storeCounts(t, "sqlite", filepath.Join(sqliteDir, "muster.db"))

	db := config.Database{Driver: "postgres", DSN: dsn}
	target := filepath.Join(t.TempDir(), "data")
	var out bytes.Buffer
	if _, err := Run(context.Background(), Options{From: fixtureDir(t), DataDir: target, Database: db, Out: &out}); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	if users, agents := storeCounts(t, "postgres", dsn); users != wantUsers || agents != wantAgents {
		t.Errorf("PostgreSQL holds %d users and %d agents, the SQLite import %d and %d", users, agents, wantUsers, wantAgents)
	}
	// A node starting on it: its start-up setup runs over the moved tables,
	// and the counts the triggers keep are those of the agents.
	st, err := sqlstore.Open(context.Background(), "postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.InitAgents(context.Background()); err != nil {
		t.Fatalf("start-up setup on the imported store: %v", err)
	}
	counts, total, err := st.CountAgents(context.Background(), core.AgentCountQuery{Fields: []string{"status"}})
	st.Close()
	if err != nil || total == 0 || len(counts) == 0 {
		t.Errorf("agent counts on the imported store: %v %d %v", counts, total, err)
	}
	if _, err := os.Stat(filepath.Join(target, "muster.db")); !os.IsNotExist(err) {
		t.Errorf("an SQLite file was written beside the PostgreSQL import: %v", err)
	}
	cfg, err := config.Load(filepath.Join(target, ConfigName))
	if err != nil || cfg.Database.Driver != "postgres" || cfg.Database.DSN != dsn {
		t.Errorf("muster.yaml's database: %+v, %v", cfg.Database, err)
	}
	if strings.Contains(out.String(), dsn) {
		t.Errorf("the dsn was printed:\n%s", out.String())
	}
	if n := stagingSchemas(t, dsn); n != 0 {
		t.Errorf("%d staging schemas left", n)
	}

	// Again: refused without --force, the store untouched; replaced with it.
	again := filepath.Join(t.TempDir(), "data")
	_, err = Run(context.Background(), Options{From: fixtureDir(t), DataDir: again, Database: db})
	if err == nil || !strings.Contains(err.Error(), "already holds a muster database") {
		t.Fatalf("a second import: %v", err)
	}
	if _, err := Run(context.Background(), Options{From: fixtureDir(t), DataDir: again, Database: db, Force: true}); err != nil {
		t.Fatalf("a forced import: %v", err)
	}
	if users, agents := storeCounts(t, "postgres", dsn); users != wantUsers || agents != wantAgents {
		t.Errorf("after the forced import: %d users and %d agents", users, agents)
	}
}

// TestImportIntoPostgresAllOrNothing: an import that fails while writing
// leaves the database as it was, without its staging schema.
func TestImportIntoPostgresAllOrNothing(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	p := &Plan{RBAC: &RBAC{Users: []core.User{{ID: 100, Username: "a", Password: "x"}, {ID: 100, Username: "b", Password: "y"}}}}
	err := p.writePostgres(context.Background(), dsn, false)
	if err == nil || !strings.Contains(err.Error(), "user 100") {
		t.Fatalf("a plan with a duplicate user id: %v", err)
	}
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var has bool
	if err := conn.QueryRow(`SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&has); err != nil || has {
		t.Errorf("the failed import left tables in the store (%v)", err)
	}
	if n := stagingSchemas(t, dsn); n != 0 {
		t.Errorf("%d staging schemas left", n)
	}
}

func TestWithSearchPath(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h:5432/db?sslmode=disable": "postgres://u:p@h:5432/db?search_path=s1&sslmode=disable",
		"host=h dbname=db":                         "host=h dbname=db search_path=s1",
	} {
		if got, err := withSearchPath(in, "s1"); err != nil || got != want {
			t.Errorf("withSearchPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := withSearchPath("postgres://u:secret@h:bad port/db", "s"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a malformed dsn: %v", err)
	}
}
