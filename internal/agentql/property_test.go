package agentql

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// oddAgents adds rows with awkward values to the test environment.
func oddAgents() []agentRow {
	rows := testAgents()
	odd := []agentRow{
		{"name": "ÁGENT-ñ", "os_major": "", "version": "Wazuh v4.9.0", "group": "G1,default", "ip": "10.0.0.1"},
		{"name": "", "os_major": "9", "version": "wazuh v10.0.0-rc1", "group": "", "register_ip": "10.0.0.0/8"},
		{"name": "a_b%c", "os_major": "abc", "version": "", "group": "web_01,web-01", "manager_host": "WAZUH"},
		{"name": "O'Brien \"q\"", "os_major": "-5", "os_name": "ubuntu", "status_code": int64(3), "group": "default"},
		{"name": "wazuh-agent1", "os_name": "Windows", "date_add": day(2021, 7, 4) + 30, "last_keepalive": int64(0)},
	}
	for i, r := range odd {
		r["id"] = int64(100 + i)
		if r["date_add"] == nil {
			r["date_add"] = day(2024, 2, 29) + int64(i)
		}
		r["connection_status"] = []string{"active", "pending", "disconnected"}[i%3]
		r["group_config_status"] = "synced"
		if v, ok := r["version"].(string); ok {
			r["version_key"] = VersionKey(v)
		}
		rows = append(rows, r)
	}
	return rows
}

// genQuery builds a random q string over the agent fields.
type genQuery struct {
	r      *rand.Rand
	values map[string][]string
	names  []string
}

func newGen(seed uint64, rows []agentRow) *genQuery {
	g := &genQuery{r: rand.New(rand.NewPCG(seed, 7)), values: map[string][]string{}, names: AgentSchema.Names()}
	for _, r := range rows {
		for _, name := range g.names {
			v, _ := rowGetter(r)(name)
			if s := fmt.Sprint(v); v != nil && validValue(s) {
				g.values[name] = append(g.values[name], s)
			}
		}
	}
	return g
}

func validValue(s string) bool {
	c, ok := scanClause("f="+s, 0)
	return ok && c.end == len(s)+2 && c.value == s
}

func (g *genQuery) value(field string) string {
	f, _ := AgentSchema.Field(field)
	switch g.r.IntN(10) {
	case 0:
		return "null"
	case 1:
		if f.Kind == KindDate {
			return []string{"1d", "60", "2h30m", "2021-07-04", "2021-07-04 00:00:30", "2025-11-25T11:59:00Z"}[g.r.IntN(6)]
		}
		return []string{"5", "-1", "1.5", "1e2", "007", "0"}[g.r.IntN(6)]
	case 2, 3:
		const alphabet = "aAbBzZ019_%-. 'ñÁ\"gG,"
		n := 1 + g.r.IntN(4)
		var b strings.Builder
		for range n {
			b.WriteRune([]rune(alphabet)[g.r.IntN(len([]rune(alphabet)))])
		}
		if s := b.String(); validValue(s) {
			return s
		}
		return "x"
	}
	if f.Kind == KindDate {
		return []string{"1d", "3d", "1", "2021-07-05"}[g.r.IntN(4)]
	}
	vs := g.values[field]
	if len(vs) == 0 {
		return "x"
	}
	v := vs[g.r.IntN(len(vs))]
	switch g.r.IntN(4) {
	case 0:
		v = strings.ToUpper(v)
	case 1:
		if rs := []rune(v); len(rs) > 2 {
			v = string(rs[1 : len(rs)-1])
		}
	}
	if !validValue(v) {
		return "x"
	}
	return v
}

func (g *genQuery) expr(depth int) string {
	n := 1 + g.r.IntN(3)
	parts := make([]string, n)
	for i := range parts {
		if depth < 3 && g.r.IntN(4) == 0 {
			parts[i] = "(" + g.expr(depth+1) + ")"
			continue
		}
		field := g.names[g.r.IntN(len(g.names))]
		ops := []string{"=", "!=", "<", ">", "~"}
		if field == "group" {
			ops = []string{"=", "!=", "~"}
		}
		parts[i] = field + ops[g.r.IntN(len(ops))] + g.value(field)
	}
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString([]string{";", ","}[g.r.IntN(2)])
		}
		b.WriteString(p)
	}
	return b.String()
}

// TestMatchAgreesWithSQLite: for random queries, Match accepts exactly the
// rows SQLite returns for the rendered SQL.
func TestMatchAgreesWithSQLite(t *testing.T) {
	rows := oddAgents()
	db := openAgents(t, rows)
	g := newGen(1, rows)
	parsed, partial := 0, 0
	for i := 0; i < 600; i++ {
		q := g.expr(0)
		n, err := Parse(q, AgentSchema)
		if err != nil {
			continue
		}
		parsed++
		where, args, err := Render(n, AgentSchema, SQLite, testNow)
		if err != nil {
			t.Fatalf("Render(%q): %v", q, err)
		}
		got := ids(t, db, where, args)
		if len(got) > 0 && len(got) < len(rows) {
			partial++
		}
		if diff := cmp.Diff(got, matchIDs(t, n, rows)); diff != "" {
			t.Fatalf("q=%s\nSQL %s %v\n(-sql +match):\n%s", q, where, args, diff)
		}
		sr := ParseSearch(g.value(g.names[g.r.IntN(len(g.names))]))
		where, args, err = RenderSearch(sr, AgentSchema, SQLite)
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
			t.Fatalf("search=%q\n(-sql +match):\n%s", sr.Term, diff)
		}
	}
	t.Logf("%d parsed, %d partial", parsed, partial)
	if parsed < 300 || partial < 100 {
		t.Errorf("weak generator: %d of 600 queries parsed, %d selected some but not all rows", parsed, partial)
	}
}
