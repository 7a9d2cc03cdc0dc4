package agentql

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWazuhExamples runs the queries Wazuh's integration tests assert
// (agents.md §3.3, §10) on SQLite and through Match.
func TestWazuhExamples(t *testing.T) {
	rows := testAgents()
	db := openAgents(t, rows)
	older, err := OlderThan("1d")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    string
		node Node // used instead of q when set
		want string
	}{
		{"group and keepalive", "group=group2;lastKeepAlive<1d", nil, "002,005,006,008"},
		{"mixed", "id<5;id!=2;manager~waz;(os.major=16,os.major=24)", nil, "000,001,003,004"},
		{"nested", "id!=001;(status=active;(group=group1,group=group2))", nil, "002,005,006,007,008"},
		{"double nested", "(status=never_connected,(id<4;(group=group1,group=group2)))", nil, "001,002,011,012"},
		{"absolute dates", "dateAdd>2021-07-03 00:00:00;dateAdd<2021-07-05 00:00:00", nil, "009"},
		{"date only", "dateAdd=2021-07-04", nil, "009"},
		{"group filter", "", Equals("group", "group1"), "001,005,007,008,009"},
		{"group not", "group!=group1", nil, "002,003,004,006,010"},
		{"group like", "group~group", nil, "001,002,003,005,006,007,008,009,010"},
		{"older than", "", older, "009,010,011,012"},
		{"no group", "id!=000;group=null", nil, "011,012"},
		{"outdated", "version!=Wazuh v4.14.7", nil, "005,006,007,008,009,010"},
		{"version spacing", "version=wazuhv3.9.2", nil, "009,010"},
		{"version param X.Y.Z", "", Equals("version", NormalizeVersionFilter("3.9.2")), "009,010"},
		{"version param vX.Y.Z", "", Equals("version", NormalizeVersionFilter("v3.9.2")), "009,010"},
		{"version param wazuh", "", Equals("version", NormalizeVersionFilter("Wazuh 3.9.2")), "009,010"},
		{"version unknown", "", Equals("version", NormalizeVersionFilter("TestVersion")), ""},
		{"status list", "", Equals("status", "disconnected", "never_connected"), "009,010,011,012"},
		{"status all", "", Equals("status", "all"), "000,001,002,003,004,005,006,007,008,009,010,011,012"},
		{"case insensitive", "status=DiScoNNected", nil, "009,010"},
		{"id numeric", "id=002", nil, "002"},
		{"id text", "id=abc", nil, ""},
		{"id below text", "id<abc;id<2", nil, "000,001"},
		{"id like", "id~1", nil, "001,010,011,012"},
		{"text order", "os.major>14;id<3", nil, "000,001,002"},
		{"text order quirk", "os.major<9;os.major>17", nil, "000,005,006,007,008,009,010"},
		{"ip falls back", "ip=any", nil, "011,012"},
		{"null", "ip=null", nil, ""},
		{"not null means null", "version!=null", nil, "011,012"},
		{"all dropped", "status=all;id=3", nil, "003"},
		{"newer than", "lastKeepAlive<1d", nil, "001,002,003,004,005,006,007,008"},
		{"keepalive equal", "lastKeepAlive=1d", nil, "001,002,003,004,005,006,007,008"},
		{"older via not", "lastKeepAlive!=1d", nil, "009,010"},
		{"seconds", "lastKeepAlive>3600", nil, "009,010"},
		{"sum frame", "lastKeepAlive>1d2h", nil, "009,010"},
		{"disconnection int", "disconnection_time>0", nil, "009,010"},
		{"like wildcard", "name~agent_1", nil, "011"},
		{"injection value", "name=x' OR 1=1--", nil, ""},
		{"quotes literal", `name=wazuh-agent1"`, nil, ""},
		{"and before or", "id=1;id=2,id=3", nil, "003"},
		{"parens", "id=1;(id=2,id=1)", nil, "001"},
		{"deep balanced", "(((id=1;name~agent));id<5)", nil, "001"},
		{"only all", "name=all", nil, "000,001,002,003,004,005,006,007,008,009,010,011,012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.node
			if tt.q != "" {
				var err error
				if n, err = Parse(tt.q, AgentSchema); err != nil {
					t.Fatalf("Parse(%q): %v", tt.q, err)
				}
			}
			where, args, err := Render(n, AgentSchema, SQLite, testNow)
			if err != nil {
				t.Fatal(err)
			}
			want := list(tt.want)
			if diff := cmp.Diff(want, ids(t, db, where, args)); diff != "" {
				t.Errorf("SQL %s %v (-want +got):\n%s", where, args, diff)
			}
			if diff := cmp.Diff(want, matchIDs(t, n, rows)); diff != "" {
				t.Errorf("Match (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOrCannotEscape checks the fix of Wazuh's unbracketed q: a top-level
// OR stays inside the conditions it is AND-ed with.
func TestOrCannotEscape(t *testing.T) {
	db := openAgents(t, testAgents())
	w := NewWhere(SQLite, testNow)
	w.Add("id IN (" + w.Arg(1) + ")") // agents_list=001
	if err := w.AddNode(Equals("status", "active"), AgentSchema); err != nil {
		t.Fatal(err)
	}
	q, err := Parse("id=1,id=2", AgentSchema)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddNode(q, AgentSchema); err != nil {
		t.Fatal(err)
	}
	if err := w.AddSearch(ParseSearch("wazuh"), AgentSchema); err != nil {
		t.Fatal(err)
	}
	where, args := w.SQL()
	if got := ids(t, db, where, args); !cmp.Equal(got, []string{"001"}) {
		t.Errorf("got %v, want [001] (WHERE %s)", got, where)
	}
}

func TestSearchSQL(t *testing.T) {
	rows := testAgents()
	db := openAgents(t, rows)
	tests := []struct {
		search string
		want   string
	}{
		{"wazuh-agent6", "006"},
		{"wazuh-agent6' or 'wazuh'='wazuh", ""},
		{"WAZUH-AGENT1", "001,010,011,012"},
		{"-wazuh-agent1", "000,002,003,004,005,006,007,008,009"},
		{"006", "006"},
		{"never_conn", "011,012"},
		{"group3", "003,006,007,010"},
		{"-ubuntu", "011,012"},
		{"00001eef", ""}, // agent 1's internal_key ends so, but it is not searched
	}
	for _, tt := range tests {
		sr := ParseSearch(tt.search)
		where, args, err := RenderSearch(sr, AgentSchema, SQLite)
		if err != nil {
			t.Fatal(err)
		}
		got := ids(t, db, where, args)
		var matched []string
		for _, r := range rows {
			ok, err := MatchSearch(sr, AgentSchema, rowGetter(r))
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				matched = append(matched, fmt.Sprintf("%03d", r["id"]))
			}
		}
		if diff := cmp.Diff(got, matched); diff != "" {
			t.Errorf("search %q: SQL and MatchSearch differ (-sql +match):\n%s", tt.search, diff)
		}
		if tt.search == "006" {
			// Other columns hold digits too (dates): id 6 must be among the rows.
			if !slices.Contains(got, "006") {
				t.Errorf("search 006: %v", got)
			}
			continue
		}
		if diff := cmp.Diff(list(tt.want), got); diff != "" {
			t.Errorf("search %q (-want +got):\n%s", tt.search, diff)
		}
	}
}
