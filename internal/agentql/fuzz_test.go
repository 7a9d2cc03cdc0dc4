package agentql

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse: Parse never panics; whatever parses renders for both dialects,
// runs on SQLite, selects exactly the rows Match accepts, and prints back to
// a q that parses to the same tree. The input also serves as a search term.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"name=a", "id<5;id!=2;manager~waz;(os.major=16,os.major=24)", "(status=never_connected,(id<4;(group=group1,group=group2)))",
		"dateAdd>2021-07-03 00:00:00;dateAdd<2021-07-05 00:00:00", "lastKeepAlive<1d2h", "name=[a,b](c)", "name=x' OR 1=1--",
		"group!=null", "id=1;name=all,id=2", "name=<", "os.name~%_", "version=wazuhv4.1", "id>1e3", "(((id=1;id=2));id=3)",
		"name=a)", ";DROP", "name=\x00", "id=٣", "-wazuh",
	} {
		f.Add(s)
	}
	rows := oddAgents()
	db := openAgents(f, rows)
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q, AgentSchema)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) returned a non-*Error: %v", q, err)
			}
		} else {
			if _, _, err := Render(n, AgentSchema, Postgres(3), testNow); err != nil {
				t.Fatalf("Render PostgreSQL (%q): %v", q, err)
			}
			where, args, err := Render(n, AgentSchema, SQLite, testNow)
			if err != nil {
				t.Fatalf("Render(%q): %v", q, err)
			}
			if diff := cmp.Diff(ids(t, db, where, args), matchIDs(t, n, rows)); diff != "" {
				t.Fatalf("q=%q\nSQL %s %v\n(-sql +match):\n%s", q, where, args, diff)
			}
			if n != nil {
				again, err := Parse(n.String(), AgentSchema)
				if err != nil || again.String() != n.String() {
					t.Fatalf("q=%q printed as %q, which parses to %v, %v", q, n.String(), again, err)
				}
			}
		}
		if !utf8.ValidString(q) || strings.ContainsRune(q, 0) || len(q) > MaxQueryLength {
			return
		}
		sr := ParseSearch(q)
		where, args, err := RenderSearch(sr, AgentSchema, SQLite)
		if err != nil {
			t.Fatal(err)
		}
		var matched []string
		for _, r := range rows {
			if ok, _ := MatchSearch(sr, AgentSchema, rowGetter(r)); ok {
				matched = append(matched, fmt.Sprintf("%03d", r["id"]))
			}
		}
		if diff := cmp.Diff(ids(t, db, where, args), matched); diff != "" {
			t.Fatalf("search=%q\n(-sql +match):\n%s", q, diff)
		}
	})
}
