package agentql

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// openPostgres loads rows into a fresh schema of the PostgreSQL named by
// MUSTER_TEST_POSTGRES (a connection string); the test is skipped without it.
func openPostgres(t *testing.T, rows []agentRow) *sql.DB {
	dsn := os.Getenv("MUSTER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MUSTER_TEST_POSTGRES not set")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	schema := fmt.Sprintf("agentql_test_%d", os.Getpid())
	ddl := strings.NewReplacer("INTEGER", "BIGINT").Replace(agentDDL)
	for _, stmt := range []string{"DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema,
		"SET search_path TO " + schema, ddl} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	t.Cleanup(func() {
		db.Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE")
		db.Close()
	})
	quoted := make([]string, len(agentColumns))
	marks := make([]string, len(agentColumns))
	for i, c := range agentColumns {
		quoted[i], marks[i] = `"`+c+`"`, fmt.Sprintf("$%d", i+1)
	}
	ins := "INSERT INTO agent (" + strings.Join(quoted, ",") + ") VALUES (" + strings.Join(marks, ",") + ")"
	for _, r := range rows {
		args := make([]any, len(agentColumns))
		for i, c := range agentColumns {
			args[i] = r[c]
		}
		if _, err := db.Exec(ins, args...); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// TestPostgresAgreesWithSQLite renders random queries, searches and sorts
// for both dialects and expects the same rows in the same order.
func TestPostgresAgreesWithSQLite(t *testing.T) {
	rows := oddAgents()
	pg := openPostgres(t, rows)
	lite := openAgents(t, rows)
	g := newGen(2, rows)
	for i := 0; i < 400; i++ {
		q := g.expr(0)
		n, err := Parse(q, AgentSchema)
		if err != nil {
			continue
		}
		w1, a1, _ := Render(n, AgentSchema, SQLite, testNow)
		w2, a2, err := Render(n, AgentSchema, Postgres(0), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ids(t, lite, w1, a1), ids(t, pg, w2, a2)); diff != "" {
			t.Fatalf("q=%s\nPG %s %v\n(-sqlite +pg):\n%s", q, w2, a2, diff)
		}
		sr := ParseSearch(g.value(g.names[g.r.IntN(len(g.names))]))
		s1, b1, _ := RenderSearch(sr, AgentSchema, SQLite)
		s2, b2, _ := RenderSearch(sr, AgentSchema, Postgres(0))
		if diff := cmp.Diff(ids(t, lite, s1, b1), ids(t, pg, s2, b2)); diff != "" {
			t.Fatalf("search=%q (-sqlite +pg):\n%s", sr.Term, diff)
		}
	}
	for _, f := range AgentFields {
		for _, dir := range []string{"", "-"} {
			sorts, _ := ParseSort(dir+f+",id", AgentFields)
			o1, _ := OrderBy(sorts, AgentSchema, SQLite)
			o2, _ := OrderBy(sorts, AgentSchema, Postgres(0))
			if f == "os.version" {
				continue // non-numeric os_major casts to 0 on SQLite, NULL on PostgreSQL
			}
			if diff := cmp.Diff(ordered(t, lite, o1), ordered(t, pg, o2)); diff != "" {
				t.Errorf("sort=%s%s (-sqlite +pg):\n%s", dir, f, diff)
			}
		}
	}
}

func ordered(t *testing.T, db *sql.DB, order string) []int64 {
	t.Helper()
	rs, err := db.Query("SELECT id FROM agent ORDER BY " + order)
	if err != nil {
		t.Fatalf("ORDER BY %s: %v", order, err)
	}
	defer rs.Close()
	var out []int64
	for rs.Next() {
		var id int64
		rs.Scan(&id)
		out = append(out, id)
	}
	return out
}
