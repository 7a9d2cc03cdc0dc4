package agentql

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRender(t *testing.T) {
	now := testNow.Unix()
	tests := []struct {
		q          string
		sqlite, pg string
		args       []any
	}{
		{"name=a", "(name = ? COLLATE NOCASE)",
			`(lower(CAST(name AS TEXT) COLLATE "C") = lower(CAST($3 AS TEXT) COLLATE "C"))`, []any{"a"}},
		{"id<5;name~x", "((id < ?) AND (name LIKE ?))",
			`((id < $3) AND (lower(CAST(name AS TEXT) COLLATE "C") LIKE lower(CAST($4 AS TEXT) COLLATE "C") ESCAPE ''))`,
			[]any{int64(5), "%x%"}},
		{"id>1.5", "(id > ?)", "(CAST(id AS DOUBLE PRECISION) > $3)", []any{1.5}},
		{"id~1", "(CAST(id AS TEXT) LIKE ?)",
			`(lower(CAST(id AS TEXT) COLLATE "C") LIKE lower(CAST($3 AS TEXT) COLLATE "C") ESCAPE '')`, []any{"%1%"}},
		{"group=g1,group!=g2", `(((',' || "group" || ',') LIKE ?) OR (NOT (',' || "group" || ',') LIKE ?))`,
			`((lower(CAST((',' || "group" || ',') AS TEXT) COLLATE "C") LIKE lower(CAST($3 AS TEXT) COLLATE "C") ESCAPE '') OR ` +
				`(NOT lower(CAST((',' || "group" || ',') AS TEXT) COLLATE "C") LIKE lower(CAST($4 AS TEXT) COLLATE "C") ESCAPE ''))`,
			[]any{"%,g1,%", "%,g2,%"}},
		{"lastKeepAlive<1h", "(last_keepalive IS NOT NULL AND last_keepalive > ? AND id != 0)",
			"(last_keepalive IS NOT NULL AND last_keepalive > $3 AND id != 0)", []any{now - 3600}},
		{"dateAdd=2021-07-04", "(date_add IS NOT NULL AND date_add = ? AND id != 0)",
			"(date_add IS NOT NULL AND date_add = $3 AND id != 0)", []any{int64(1625356800)}},
		{"ip=null", "(coalesce(ip, register_ip) IS NULL)", "(coalesce(ip, register_ip) IS NULL)", nil},
		{"id=x", "(1=0)", "(1=0)", nil},
		{"id!=x", "(id IS NOT NULL)", "(id IS NOT NULL)", nil},
		{"version=wazuhv4.1.0", "(version = ? COLLATE NOCASE)",
			`(lower(CAST(version AS TEXT) COLLATE "C") = lower(CAST($3 AS TEXT) COLLATE "C"))`, []any{"wazuh v4.1.0"}},
	}
	for _, tt := range tests {
		n, err := Parse(tt.q, AgentSchema)
		if err != nil {
			t.Fatal(err)
		}
		sql, args, err := Render(n, AgentSchema, SQLite, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if sql != tt.sqlite || !cmp.Equal(args, tt.args) {
			t.Errorf("SQLite %q:\n got %s %v\nwant %s %v", tt.q, sql, args, tt.sqlite, tt.args)
		}
		sql, args, err = Render(n, AgentSchema, Postgres(2), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if sql != tt.pg || !cmp.Equal(args, tt.args) {
			t.Errorf("PostgreSQL %q:\n got %s %v\nwant %s %v", tt.q, sql, args, tt.pg, tt.args)
		}
	}
}

// TestRenderNeverInterpolates: hostile values only ever reach the arguments.
func TestRenderNeverInterpolates(t *testing.T) {
	for _, q := range []string{
		"name=x' OR 1=1--", `name~zz" OR ""="`, "os.name=zz' OR '1'='1",
		"group=zz%' OR '%'='", "name=zz\\' OR 1=1 //", "version=zzv'1", "name=zz?", "name=zz$1",
	} {
		n, err := Parse(q, AgentSchema)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		for _, d := range []Dialect{SQLite, Postgres(0)} {
			sql, args, err := Render(n, AgentSchema, d, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(sql, "zz") || strings.Contains(sql, "'1'") || len(args) != 1 {
				t.Errorf("%q rendered %s %v", q, sql, args)
			}
			if !d.Numbered && strings.Count(sql, "?") != len(args) {
				t.Errorf("%q: placeholders in %s do not match %d args", q, sql, len(args))
			}
		}
	}
}

func TestRenderNilAndWhere(t *testing.T) {
	sql, args, err := Render(nil, AgentSchema, SQLite, testNow)
	if sql != "(1=1)" || args != nil || err != nil {
		t.Errorf("Render(nil) = %q %v %v", sql, args, err)
	}
	if _, _, err := Render(Cond{"lastKeepAlive", OpLt, "1d"}, AgentSchema, SQLite, time.Time{}); err == nil {
		t.Error("relative date rendered without a clock")
	}
	if _, _, err := Render(Cond{"lastKeepAlive", OpLt, "2021-01-01"}, AgentSchema, SQLite, time.Time{}); err != nil {
		t.Error(err)
	}
	w := NewWhere(Postgres(1), testNow)
	w.Add("id = ANY(" + w.Arg([]int{1, 2}) + ")")
	if err := w.AddNode(Equals("status", "active", "pending"), AgentSchema); err != nil {
		t.Fatal(err)
	}
	if err := w.AddSearch(Search{Term: "x"}, NewSchema([]Field{{Name: "name", Column: "name"}})); err != nil {
		t.Fatal(err)
	}
	got, args := w.SQL()
	want := `(id = ANY($2)) AND ((lower(CAST(connection_status AS TEXT) COLLATE "C") = lower(CAST($3 AS TEXT) COLLATE "C")) OR ` +
		`(lower(CAST(connection_status AS TEXT) COLLATE "C") = lower(CAST($4 AS TEXT) COLLATE "C"))) AND ` +
		`(((name IS NOT NULL AND lower(CAST(name AS TEXT) COLLATE "C") LIKE lower(CAST($5 AS TEXT) COLLATE "C") ESCAPE '')))`
	if got != want || len(args) != 4 {
		t.Errorf("Where:\n got %s %v\nwant %s", got, args, want)
	}
}
