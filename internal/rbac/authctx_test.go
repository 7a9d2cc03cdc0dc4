package rbac

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const baseContext = `{"username": "elastic", "user_name": "admin", "roles": ["c", "a", "b"],
	"nested": {"deep": {"team": "blue"}}, "n": 5, "flag": true, "none": null, "objs": [{"k": "v"}],
	"lists": [[2], [1]]}`

func TestMatchRule(t *testing.T) {
	tests := []struct {
		name, rule string
		ctx        string // baseContext when empty
		want       bool
	}{
		// MATCH: objects key by key, leaves by equality, list inclusion or regex.
		{"MATCH scalar", `{"MATCH": {"username": "elastic"}}`, "", true},
		{"MATCH scalar negative", `{"MATCH": {"username": "other"}}`, "", false},
		{"MATCH missing key", `{"MATCH": {"absent": "elastic"}}`, "", false},
		{"MATCH list subset", `{"MATCH": {"roles": ["b", "a"]}}`, "", true},
		{"MATCH list not subset", `{"MATCH": {"roles": ["a", "z"]}}`, "", false},
		{"MATCH string in list", `{"MATCH": {"roles": "b"}}`, "", true},
		{"MATCH list against scalar", `{"MATCH": {"username": ["elastic"]}}`, "", false},
		{"MATCH repeated element counts twice", `{"MATCH": {"roles": ["a", "a"]}}`, "", true},
		{"MATCH nested object", `{"MATCH": {"nested": {"deep": {"team": "blue"}}}}`, "", true},
		{"MATCH does not descend", `{"MATCH": {"team": "blue"}}`, "", false},
		{"MATCH int equals float", `{"MATCH": {"n": 5.0}}`, "", true},
		{"MATCH true equals 1", `{"MATCH": {"flag": 1}}`, "", true},
		{"MATCH number is not string", `{"MATCH": {"n": "5"}}`, "", false},
		{"MATCH lists of lists are sorted", `{"MATCH": {"lists": [[1], [2]]}}`, "", true},
		{"MATCH empty object matches a scalar", `{"MATCH": {"n": {}}}`, "", true},
		{"MATCH empty object matches an object", `{"MATCH": {"nested": {}}}`, "", true},
		{"MATCH object against scalar", `{"MATCH": {"n": {"x": 1}}}`, "", false},
		{"MATCH null context stands for the root", `{"MATCH": {"none": {"username": "elastic"}}}`, "", true},
		{"MATCH several keys all needed", `{"MATCH": {"username": "elastic", "user_name": "x"}}`, "", false},
		// MATCH$: exact set.
		{"MATCH$ exact set", `{"MATCH$": {"roles": ["b", "c", "a"]}}`, "", true},
		{"MATCH$ subset fails", `{"MATCH$": {"roles": ["a", "b"]}}`, "", false},
		{"MATCH$ scalar", `{"MATCH$": {"username": "elastic"}}`, "", true},
		// Regular expressions r'...': two characters dropped at each end, anchored at the start.
		{"regex value", `{"MATCH": {"username": "r'^ela'"}}`, "", true},
		{"regex value negative", `{"MATCH": {"username": "r'^xyz'"}}`, "", false},
		{"regex anchored at start", `{"MATCH": {"username": "r'stic'"}}`, "", false},
		{"regex drops the last character", `{"MATCH": {"username": "r'^elastic$'"}}`, `{"username": "elasticsearch"}`, true},
		{"regex in list", `{"MATCH": {"roles": ["r'^[ab]x'"]}}`, "", true},
		{"regex in list negative", `{"MATCH": {"roles": ["r'^[xy]x'"]}}`, "", false},
		{"regex key", `{"MATCH": {"r'^user'": "admin"}}`, "", true},
		{"regex key matching two keys overshoots", `{"MATCH": {"r'^user'": "r'.*'"}}`, "", false},
		{"invalid regex is a literal", `{"MATCH": {"username": "r'(el'"}}`, `{"username": "r'(el'"}`, true},
		// FIND / FIND$: MATCH at every level.
		{"FIND descends", `{"FIND": {"team": "blue"}}`, "", true},
		{"FIND negative", `{"FIND": {"team": "red"}}`, "", false},
		{"FIND into objects in lists", `{"FIND": {"k": "v"}}`, "", true},
		{"FIND top level", `{"FIND": {"username": "elastic"}}`, "", true},
		{"FIND$ exact", `{"FIND$": {"roles": ["a", "b", "c"]}}`, "", true},
		{"FIND$ subset fails", `{"FIND$": {"roles": ["a"]}}`, "", false},
		{"FIND subset", `{"FIND": {"roles": ["a"]}}`, "", true},
		// Logical operators.
		{"AND all", `{"AND": [{"MATCH": {"username": "elastic"}}, {"FIND": {"team": "blue"}}]}`, "", true},
		{"AND one false", `{"AND": [{"MATCH": {"username": "elastic"}}, {"FIND": {"team": "red"}}]}`, "", false},
		{"AND object operand", `{"AND": {"MATCH": {"username": "elastic"}}}`, "", true},
		{"AND two-key object never holds", `{"AND": {"MATCH": {"username": "elastic"}, "FIND": {"team": "blue"}}}`, "", false},
		{"AND empty list", `{"AND": []}`, "", true},
		{"AND empty string", `{"AND": ""}`, "", true},
		{"AND string", `{"AND": "ab"}`, "", false},
		{"OR one", `{"OR": [{"MATCH": {"username": "x"}}, {"MATCH": {"user_name": "admin"}}]}`, "", true},
		{"OR none", `{"OR": [{"MATCH": {"username": "x"}}, {"MATCH": {"user_name": "x"}}]}`, "", false},
		{"OR scalar", `{"OR": 5}`, "", false},
		{"NOT false", `{"NOT": [{"MATCH": {"username": "other"}}]}`, "", true},
		{"NOT true", `{"NOT": [{"MATCH": {"username": "elastic"}}]}`, "", false},
		{"NOT partial", `{"NOT": [{"MATCH": {"username": "elastic"}}, {"MATCH": {"n": 6}}]}`, "", true},
		{"NOT empty", `{"NOT": []}`, "", false},
		{"NOT object", `{"NOT": {"MATCH": {"n": 6}}}`, "", true},
		{"falls through to the next key", `{"OR": [{"MATCH": {"n": 6}}], "MATCH": {"n": 5}}`, "", true},
		{"NOT always decides", `{"NOT": [{"MATCH": {"n": 5}}], "MATCH": {"n": 5}}`, "", false},
		{"unknown keys ignored", `{"FOO": 1, "match": {"n": 5}}`, "", false},
		{"unknown key then function", `{"FOO": 1, "MATCH": {"n": 5}}`, "", true},
		{"nested logic", `{"AND": [{"OR": [{"MATCH": {"username": "x"}}, {"FIND": {"team": "blue"}}]}, {"NOT": {"MATCH": {"n": 6}}}]}`, "", true},
		{"duplicate keys keep the last value", `{"MATCH": {"n": 6}, "MATCH": {"n": 5}}`, "", true},
		{"empty rule", `{}`, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == "" {
				ctx = baseContext
			}
			got, err := MatchRule(json.RawMessage(tc.rule), json.RawMessage(ctx))
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMatchRuleErrors(t *testing.T) {
	var ee *EvalError
	for _, tc := range []struct{ name, rule, ctx string }{
		{"regex on a number", `{"MATCH": {"n": "r'5'"}}`, baseContext},
		{"regex on an object", `{"MATCH": {"nested": "r'x'"}}`, baseContext},
		{"unorderable context list", `{"MATCH": {"mixed": [1]}}`, `{"mixed": [1, "a"]}`},
		{"FIND meets an unorderable list", `{"FIND": {"k": "v"}}`, `{"objs": [3, {"k": "v"}]}`},
		{"unorderable rule list", `{"MATCH": {"roles": [{"a": 1}, {"b": 2}]}}`, baseContext},
		{"sub-rule not an object", `{"AND": ["x"]}`, baseContext},
		{"len of a number", `{"AND": 5}`, baseContext},
	} {
		if _, err := MatchRule(json.RawMessage(tc.rule), json.RawMessage(tc.ctx)); !errors.As(err, &ee) {
			t.Errorf("%s: want *EvalError, got %v", tc.name, err)
		}
	}
	for _, bad := range [][2]string{{`[1]`, `{}`}, {`{"MATCH"`, `{}`}, {`{}`, `"x"`}, {`{} {}`, `{}`}} {
		if _, err := MatchRule(json.RawMessage(bad[0]), json.RawMessage(bad[1])); !errors.Is(err, ErrRuleSyntax) {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

// nestedContext puts {"x": 1} under depth levels of {"a": ...}.
func nestedContext(depth int) string {
	return strings.Repeat(`{"a": `, depth) + `{"x": 1}` + strings.Repeat(`}`, depth)
}

func TestFindDepthLimit(t *testing.T) {
	rule := json.RawMessage(`{"FIND": {"x": 1}}`)
	if ok, err := MatchRule(rule, json.RawMessage(nestedContext(8))); !ok || err != nil {
		t.Errorf("depth 8: %v %v", ok, err)
	}
	if _, err := MatchRule(rule, json.RawMessage(nestedContext(9))); !errors.Is(err, ErrRuleTooDeep) {
		t.Errorf("depth 9: %v", err)
	}
	deep := strings.Repeat(`{"NOT": `, 2000) + `{}` + strings.Repeat(`}`, 2000)
	if _, err := MatchRule(json.RawMessage(deep), json.RawMessage(`{}`)); !errors.Is(err, ErrRuleTooDeep) {
		t.Errorf("deep rule: %v", err)
	}
}

func TestRolesForContext(t *testing.T) {
	elastic := json.RawMessage(`{"FIND": {"username": "elastic"}}`)
	roles := []RoleWithRules{
		{ID: 5, Rules: []SecurityRule{{ID: 101, Rule: json.RawMessage(`{"MATCH": {"username": "nobody"}}`)}, {ID: 100, Rule: elastic}}},
		{ID: 1, Rules: []SecurityRule{{ID: 1, Rule: elastic}}},
		{ID: 3, Rules: []SecurityRule{{ID: 102, Rule: json.RawMessage(`{"MATCH": {"username": "nobody"}}`)}}},
		{ID: 4},
		{ID: 7, Rules: []SecurityRule{{ID: 103, Rule: json.RawMessage(`{"FIND": {"zz": 1}}`)}, {ID: 104, Rule: elastic}}},
		{ID: 8, Rules: []SecurityRule{{ID: 105, Rule: elastic}}},
	}
	ctx := json.RawMessage(`{"username": "elastic", "d": ` + nestedContext(9) + `}`)
	tests := []struct {
		user int
		want []int
	}{
		{user: 1, want: []int{5, 8}},                 // default rule 1 ignored; role 7 skipped (too deep)
		{user: WazuhWUIUserID, want: []int{1, 5, 8}}, // wazuh-wui also gets default rules, ascending role ids
	}
	for _, tc := range tests {
		got, err := RolesForContext(roles, tc.user, ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("user %d (-want +got):\n%s", tc.user, diff)
		}
	}
	if got, _ := RolesForContext(roles, 2, json.RawMessage(`{"other": 1}`)); len(got) != 0 || got == nil {
		t.Errorf("no match must be an empty list: %#v", got)
	}
	bad := append(roles, RoleWithRules{ID: 9, Rules: []SecurityRule{{ID: 106, Rule: json.RawMessage(`{"MATCH": {"username": "r'e'", "d": "r'x'"}}`)}}})
	var ee *EvalError
	if _, err := RolesForContext(bad, 1, json.RawMessage(`{"username": "x", "d": 1}`)); !errors.As(err, &ee) {
		t.Errorf("evaluation error must fail the login: %v", err)
	}
	// The factory rules make wazuh-wui an administrator for the dashboard contexts, and nobody else.
	fr, _ := loadFactory(t)
	var rr []RoleWithRules
	for _, r := range fr {
		role := RoleWithRules{ID: r.ID}
		for _, rule := range r.Rules {
			role.Rules = append(role.Rules, SecurityRule{ID: rule.ID, Rule: rule.Rule})
		}
		rr = append(rr, role)
	}
	for _, c := range []string{`{"username": "elastic"}`, `{"user_name": "admin"}`} {
		if got, _ := RolesForContext(rr, 2, json.RawMessage(c)); !cmp.Equal(got, []int{1}) {
			t.Errorf("wazuh-wui %s: %v", c, got)
		}
		if got, _ := RolesForContext(rr, 1, json.RawMessage(c)); len(got) != 0 {
			t.Errorf("wazuh %s: %v", c, got)
		}
	}
}
