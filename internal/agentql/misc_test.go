package agentql

import (
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSort(t *testing.T) {
	got, err := ParseSort("-version,id", AgentFields)
	want := []SortField{{"version", true}, {"id", true}}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("ParseSort = %v, %v", got, err)
	}
	if got, _ := ParseSort("+os.name,os.major", AgentFields); !cmp.Equal(got, []SortField{{"os.name", false}, {"os.major", false}}) {
		t.Errorf("ascending: %v", got)
	}
	if got, err := ParseSort("", AgentFields); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	_, err = ParseSort("-wrong", AgentFields)
	var e *Error
	wantMsg := "Not a valid sort field: Allowed sort fields: configSum, dateAdd, disconnection_time, group, group_config_status, " +
		"id, ip, lastKeepAlive, manager, mergedSum, name, node_name, os.arch, os.build, os.codename, os.major, os.minor, " +
		"os.name, os.platform, os.uname, os.version, registerIP, status, status_code, version. Fields: wrong"
	if !errors.As(err, &e) || e.Code != 1403 || e.Msg != wantMsg || e.Remediation != "Please, use only allowed sort fields" {
		t.Errorf("bad sort error: %+v", err)
	}
	for _, s := range []string{"internal_key", " id", "id,", "os"} {
		if _, err := ParseSort(s, AgentFields); err == nil {
			t.Errorf("ParseSort(%q) accepted", s)
		}
	}
	_, err = ParseSortList("+noexist,id", UserSortFields)
	if !errors.As(err, &e) || e.Code != 1403 || e.Msg != "Not a valid sort field" ||
		e.Remediation != "Please, use only allowed sort fields: Allowed sort fields: id, username. Wrong fields: noexist" {
		t.Errorf("list sort error: %+v", err)
	}
}

func TestOrderBy(t *testing.T) {
	sorts, _ := ParseSort("-version,os.version,name", AgentFields)
	got, err := OrderBy(sorts, AgentSchema, SQLite)
	if want := "version_key DESC, CAST(os_major AS INTEGER) DESC, CAST(os_minor AS INTEGER) DESC, name DESC"; err != nil || got != want {
		t.Errorf("SQLite ORDER BY %q, %v", got, err)
	}
	sorts, _ = ParseSort("group,id", AgentFields)
	got, _ = OrderBy(sorts, AgentSchema, Postgres(0))
	if want := `"group" COLLATE "C" ASC NULLS FIRST, id ASC NULLS FIRST`; got != want {
		t.Errorf("PostgreSQL ORDER BY %q", got)
	}
	if _, err := OrderBy([]SortField{{Field: "internal_key"}}, AgentSchema, SQLite); err == nil {
		t.Error("unknown sort field accepted")
	}
}

// TestSortByVersion reproduces Wazuh's asserted order of sort=-version,id
// (agents.md §3.4) on the whole result, through the version key column.
func TestSortByVersion(t *testing.T) {
	db := openAgents(t, testAgents())
	for _, tt := range []struct{ sort, want string }{
		{"-version,id", "004,003,002,001,000,008,007,006,005,010,009,012,011"},
		{"version,id", "011,012,009,010,005,006,007,008,000,001,002,003,004"},
	} {
		sorts, err := ParseSort(tt.sort, AgentFields)
		if err != nil {
			t.Fatal(err)
		}
		order, _ := OrderBy(sorts, AgentSchema, SQLite)
		rs, err := db.Query("SELECT printf('%03d', id) FROM agent ORDER BY " + order)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rs.Next() {
			var id string
			rs.Scan(&id)
			got = append(got, id)
		}
		rs.Close()
		if diff := cmp.Diff(list(tt.want), got); diff != "" {
			t.Errorf("sort=%s (-want +got):\n%s", tt.sort, diff)
		}
	}
}

func TestParseSelect(t *testing.T) {
	got, err := ParseSelect("os.platform,name,os.platform", AgentFields)
	if err != nil || !cmp.Equal(got, []string{"os.platform", "name"}) {
		t.Errorf("ParseSelect = %v, %v", got, err)
	}
	_, err = ParseSelect("param_test,os,name", AgentFields)
	var e *Error
	if !errors.As(err, &e) || e.Code != 1724 || e.Extra[len(e.Extra)-len("Fields: param_test, os"):] != "Fields: param_test, os" ||
		e.Remediation != "Please, use only allowed select fields" {
		t.Errorf("select error: %+v", err)
	}
	if got, err := ParseSelectList("username,policy.actions", []string{"id", "username"}); err != nil || len(got) != 2 {
		t.Errorf("ParseSelectList = %v, %v", got, err)
	}
	_, err = ParseSelectList("nope", []string{"id"})
	if !errors.As(err, &e) || e.Msg != "Not a valid select field: nope" {
		t.Errorf("list select error: %+v", err)
	}
}

func TestVersions(t *testing.T) {
	vs := []string{"Wazuh v4.14.7", "Wazuh v4.9.0", "", "Wazuh v10.0.0", "Wazuh v4.14.0-rc1", "v4.2.5", "garbage"}
	sort.Slice(vs, func(i, j int) bool { return CompareVersions(vs[i], vs[j]) < 0 })
	if want := []string{"", "garbage", "v4.2.5", "Wazuh v4.9.0", "Wazuh v4.14.0-rc1", "Wazuh v4.14.7", "Wazuh v10.0.0"}; !cmp.Equal(vs, want) {
		t.Errorf("order %q", vs)
	}
	if k := VersionKey("Wazuh v4.9.0"); k != "0000000004.0000000009.0000000000" {
		t.Errorf("VersionKey = %q", k)
	}
	for in, want := range map[string]string{
		"4.9.2": "wazuh v4.9.2", "v4.9.2": "wazuh v4.9.2", "V4.9.2": "wazuh v4.9.2", "Wazuh 4.9.2": "Wazuh v4.9.2",
		"Wazuh v4.9.2": "Wazuh v4.9.2", "TestVersion": "TestVersion", "4.9": "4.9",
	} {
		if got := NormalizeVersionFilter(in); got != want {
			t.Errorf("NormalizeVersionFilter(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"wazuhv4": "wazuh v4", "vv": "v v", "vvv": "v vv", "Wazuh v4": "Wazuh v4", "4v": "4v"} {
		if got := spaceBeforeV(in); got != want {
			t.Errorf("spaceBeforeV(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOlderThan(t *testing.T) {
	if n, err := OlderThan("0s"); n != nil || err != nil {
		t.Errorf("0s: %v %v", n, err)
	}
	if n, err := OlderThan("0d"); n == nil || err != nil {
		t.Errorf("0d must still filter: %v %v", n, err)
	}
	var e *Error
	if _, err := OlderThan("bad_time"); !errors.As(err, &e) || e.Code != 1411 {
		t.Errorf("bad time frame: %v", err)
	}
}

// TestSecurityLists covers Match over in-memory security items and
// Wazuh's in-memory search.
func TestSecurityLists(t *testing.T) {
	users := []map[string]any{
		{"id": 1, "username": "wazuh", "allow_run_as": true, "roles": []any{1}},
		{"id": 2, "username": "wazuh-wui", "allow_run_as": true, "roles": []any{1, 5}},
		{"id": 100, "username": "Alice", "allow_run_as": false, "roles": []any{}},
	}
	policies := []map[string]any{
		{"id": 1, "name": "agents_all", "policy": map[string]any{"actions": []any{"agent:read", "agent:delete"}, "effect": "allow"}},
		{"id": 2, "name": "users_read", "policy": map[string]any{"actions": []any{"security:read"}, "effect": "deny"}},
	}
	run := func(q string, s *Schema, items []map[string]any) []any {
		t.Helper()
		n, err := Parse(q, s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", q, err)
		}
		var out []any
		for _, it := range items {
			ok, err := MatchMap(n, s, it, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				out = append(out, it["id"])
			}
		}
		return out
	}
	for _, tt := range []struct {
		q     string
		s     *Schema
		items []map[string]any
		want  []any
	}{
		{"username=WAZUH", UserSchema, users, []any{1}},
		{"username~wazuh", UserSchema, users, []any{1, 2}},
		{"id>99", UserSchema, users, []any{100}},
		{"allow_run_as=false", UserSchema, users, []any{100}},
		{"allow_run_as=true;id!=1", UserSchema, users, []any{2}},
		{"roles=5", UserSchema, users, []any{2}},
		{"roles>0", UserSchema, users, []any{1, 2}},
		{"unknown=x", UserSchema, users, nil},
		{"policy.actions~delete", PolicySchema, policies, []any{1}},
		{"policy.effect=deny,name=agents_all", PolicySchema, policies, []any{1, 2}},
	} {
		if got := run(tt.q, tt.s, tt.items); !cmp.Equal(got, tt.want) {
			t.Errorf("q=%s: got %v, want %v", tt.q, got, tt.want)
		}
	}
	if _, err := Parse("allow_run_as<true", UserSchema); err == nil {
		t.Error("boolean < accepted")
	}
	for _, tt := range []struct {
		search string
		item   any
		want   bool
	}{
		{"WUI", users[1], true},
		{"-wui", users[1], false},
		{"delete", policies[0], true},
		{"true", users[0], false}, // Python's str(True) is "True"
		{"True", users[0], false}, // the term is lower-cased, the boolean's text is not
		{"100", users[2], true},
	} {
		if got := SearchItem(ParseSearch(tt.search), tt.item); got != tt.want {
			t.Errorf("SearchItem(%q) = %v", tt.search, got)
		}
	}
}

func TestLike(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"%abc%", "xxABCxx", true}, {"a_c", "aÑc", true}, {"a_c", "ac", false}, {"%", "", true},
		{"ñ", "Ñ", false}, {"%a%b%", "zzAzzBzz", true}, {"%a%b", "ab_", false}, {"_%_", "ab", true},
	} {
		if got := like(tt.p, tt.s); got != tt.want {
			t.Errorf("like(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}
