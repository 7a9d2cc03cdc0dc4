package api

import (
	"encoding/json"
	"testing"
)

func TestEncodeMatchesPython(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{Object{{"a", 1}, {"b", []any{"x", true, nil}}}, `{"a": 1, "b": ["x", true, null]}`},
		{Object{{"s", "é\"\\\n<>&\u2028😀"}}, `{"s": "\u00e9\"\\\n<>&\u2028\ud83d\ude00"}`},
		{json.RawMessage(`{"actions":["agent:read"],"effect": "allow"}`), `{"actions": ["agent:read"], "effect": "allow"}`},
		{map[string]any{"k": "ñ", "n": 1.5}, `{"k": "\u00f1", "n": 1.5}`},
		{data{Data: Object{{"x", "y:z"}}}, `{"data": {"x": "y:z"}, "error": 0}`},
		{[]any{}, `[]`},
		{Object{}, `{}`},
	}
	for _, c := range cases {
		got, err := encode(c.v, false)
		if err != nil || string(got) != c.want {
			t.Errorf("encode(%#v)\n got %s (%v)\nwant %s", c.v, got, err, c.want)
		}
	}
	got, _ := encode(Object{{"a", Object{{"b", []any{1, 2}}}}, {"c", []any{}}}, true)
	want := "{\n   \"a\": {\n      \"b\": [\n         1,\n         2\n      ]\n   },\n   \"c\": []\n}"
	if string(got) != want {
		t.Errorf("pretty\n got %s\nwant %s", got, want)
	}
}

func BenchmarkEncodeNested(b *testing.B) {
	pol := json.RawMessage(`{"actions": ["agent:read", "agent:delete", "agent:modify_group"], "resources": ["agent:id:*", "agent:group:*"], "effect": "allow"}`)
	var pols []any
	for i := 0; i < 23; i++ {
		pols = append(pols, Object{{"id", i}, {"name", "agents_all_agents"}, {"policy", pol}})
	}
	v := data{Data: Object{{"affected_items", []any{Object{{"id", 1}, {"username", "wazuh"},
		{"roles", []any{Object{{"id", 1}, {"name", "administrator"}, {"policies", pols}}}}}}}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		encode(v, false)
	}
}

func TestParseQueryKeepsSemicolons(t *testing.T) {
	q := parseQuery("q=id=1;username=wazuh&pretty=true&x=a%3Bb&&select=id,name&bad=%zz")
	if q.Get("q") != "id=1;username=wazuh" || q.Get("pretty") != "true" || q.Get("x") != "a;b" ||
		q.Get("select") != "id,name" || q.Get("bad") != "%zz" {
		t.Fatalf("%v", q)
	}
}
