package agentql

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("(", n) + "id=1" + strings.Repeat(")", n) }
	tests := []struct {
		q    string
		want string // canonical form of the tree, "<nil>" for no filter
		code int    // expected error code instead
	}{
		{q: "", want: "<nil>"},
		{q: "name=a", want: "name=a"},
		{q: "name!=a", want: "name!=a"},
		{q: "id<5", want: "id<5"},
		{q: "id>5", want: "id>5"},
		{q: "name~ag", want: "name~ag"},
		{q: "os.name=Ubuntu", want: "os.name=Ubuntu"},
		{q: "id=1;id=2,id=3", want: "id=1;id=2,id=3"},
		{q: "id=1,id=2;id=3", want: "id=1,id=2;id=3"},
		{q: "id=1;(id=2,id=3)", want: "id=1;(id=2,id=3)"},
		{q: "(id=1)", want: "id=1"},
		{q: "((id=1;id=2))", want: "id=1;id=2"},
		{q: "(id=1,id=2);id=3", want: "(id=1,id=2);id=3"},
		{q: "(status=never_connected,(id<4;(group=group1,group=group2)))",
			want: "status=never_connected,id<4;(group=group1,group=group2)"},
		{q: "(((id=1;id=2));id=3)", want: "id=1;id=2;id=3"},
		{q: "name=a b", want: "name=a b"},
		{q: "name= a", want: "name= a"},
		{q: "name=[a,b]", want: "name=[a,b]"},
		{q: "name=[a,b];id=1", want: "name=[a,b];id=1"},
		{q: "name=(x)[a,b]", want: "name=(x)[a,b]"},
		{q: "name=f(x);id=1", want: "name=f(x);id=1"},
		{q: "name=f([a,b])", want: "name=f([a,b])"},
		{q: "name=a[b]c", want: "name=a[b]c"},
		{q: "name=<", want: "name=<"},
		{q: "name=>", want: "name=>"},
		{q: "name=x' OR 1=1--", want: "name=x' OR 1=1--"},
		{q: `name=a"b'c`, want: `name=a"b'c`},
		{q: "name=%_%", want: "name=%_%"},
		{q: "name=ñandú;os.name=日本語", want: "name=ñandú;os.name=日本語"},
		{q: "name=$HOME{x}@host:8080/a?b\\c", want: "name=$HOME{x}@host:8080/a?b\\c"},
		{q: "lastKeepAlive<7d", want: "lastKeepAlive<7d"},
		{q: "dateAdd>2021-07-03 00:00:00", want: "dateAdd>2021-07-03 00:00:00"},
		{q: "dateAdd<2021-07-03T10:20:30.123456Z", want: "dateAdd<2021-07-03T10:20:30.123456Z"},
		{q: "lastKeepAlive=null", want: "lastKeepAlive=null"},
		{q: "group!=null", want: "group!=null"},
		{q: "name=all", want: "<nil>"},
		{q: "(name=all)", want: "<nil>"},
		{q: "name=all,", want: "<nil>"},
		{q: "name=all;id=1", want: "id=1"},
		{q: "id=1;name=all,id=2", want: "id=1;id=2"},
		{q: "(name=all),id=2", want: "id=2"},
		{q: "id=1,(name=all;id=2)", want: "id=1,id=2"},
		{q: deep(MaxDepth), want: "id=1"},

		{q: " ", code: 1407},
		{q: "name=", code: 1407},
		{q: "=x", code: 1407},
		{q: "name", code: 1407},
		{q: "name=(x)", code: 1407},
		{q: "name=a&b", code: 1407},
		{q: "name=a*", code: 1407},
		{q: "name=a;", code: 1407},
		{q: "name=a,", code: 1407},
		{q: "name=a;;name=b", code: 1407},
		{q: ";DROP TABLE agent", code: 1407},
		{q: "name=x;DROP TABLE agent", code: 1407},
		{q: "name=x[a,b]", code: 1407},
		{q: "name=a)", code: 1407},
		{q: "(name=a", code: 1407},
		{q: "name=a),name=b", code: 1407},
		{q: "(name=a;name=b", code: 1407},
		{q: "name=a)(id=1", code: 1407},
		{q: "id=1,name=all", code: 1407},
		{q: "(id=1;name=all),id=2", code: 1407},
		{q: "name=a\x00", code: 1407},
		{q: "name=\xff", code: 1407},
		{q: "name=a\nb", code: 1407},
		{q: deep(MaxDepth + 1), code: 1407},
		{q: strings.Repeat("id=1;", MaxQueryLength/5) + "id=1", code: 1407},
		{q: "internal_key=x", code: 1408},
		{q: "os=x", code: 1408},
		{q: "group=default;lastKeepAe<1d", code: 1408},
		{q: "ñ=1", code: 1408},
		{q: "bad=1&x", code: 1408},
		{q: "name==x", code: 1409},
		{q: "name<=x", code: 1409},
		{q: "name=<x", code: 1409},
		{q: "name!x", code: 1409},
		{q: "name~=x", code: 1409},
		{q: "group<whatever", code: 1409},
		{q: "group>x", code: 1409},
		{q: "lastKeepAlive<abc", code: 1412},
		{q: "dateAdd>2021-13-01", code: 1412},
		{q: "dateAdd>2021-07-03abc", code: 1412},
		{q: "dateAdd>2021-07-03 25:00:00", code: 1412},
		{q: "lastKeepAlive<7dabc", code: 1411},
		{q: "lastKeepAlive<1d2x", code: 1411},
	}
	for _, tt := range tests {
		n, err := Parse(tt.q, AgentSchema)
		if tt.code != 0 {
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Errorf("Parse(%q) = %v, %v; want error %d", tt.q, n, err, tt.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.q, err)
			continue
		}
		got := "<nil>"
		if n != nil {
			got = n.String()
		}
		if got != tt.want {
			t.Errorf("Parse(%q) = %s, want %s", tt.q, got, tt.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		q, msg string
	}{
		{"internal_key=test", "Field does not exist: Available fields: configSum, dateAdd, disconnection_time, group, " +
			"group_config_status, id, ip, lastKeepAlive, manager, mergedSum, name, node_name, os.arch, os.build, " +
			"os.codename, os.major, os.minor, os.name, os.platform, os.uname, os.version, registerIP, status, " +
			"status_code, version. Field: internal_key"},
		{"name==x", "Invalid query operator: Valid operators: =, !=, <, >, ~. Used operator: =="},
		{"group<whatever", "Invalid query operator: Valid operators for 'group' field: =, !=, ~. Used operator: <"},
		{"name=a&b", "Query does not match expected format: name=a&b"},
		{"lastKeepAlive<x", "Date filter not valid. Valid formats are YYYY-MM-DD HH:mm:ss, YYYY-MM-DDTHH:mm:ssZ or YYYY-MM-DD: x"},
		{"lastKeepAlive<7dx", "TimeFrame is not valid: 7dx"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.q, AgentSchema)
		if err == nil || err.Error() != tt.msg {
			t.Errorf("Parse(%q) error %q, want %q", tt.q, err, tt.msg)
		}
	}
	long := strings.Repeat("x", 1000) + "&"
	_, err := Parse("name="+long, AgentSchema)
	if e, ok := err.(*Error); !ok || len(e.Msg) > 400 {
		t.Errorf("long query error not shortened: %v", err)
	}
}

// TestTokenizerPattern checks clause splitting against the pattern Wazuh scans with.
func TestTokenizerPattern(t *testing.T) {
	tests := []struct {
		q                string
		opens            int
		field, op, value string
		closes           int
		sep              byte
	}{
		{"((name=a));", 2, "name", "=", "a", 2, ';'},
		{"name=<x", 0, "name", "=<", "x", 0, 0},
		{"name=<", 0, "name", "=", "<", 0, 0},
		{"name!=[a,b],", 0, "name", "!=", "[a,b]", 0, ','},
		{"name=[a]b]c", 0, "name", "=", "[a]b]c", 0, 0},
		{"name=x[a,b]", 0, "name", "=", "x[a", 0, ','},
		{"name=(a)b(c)(d))", 0, "name", "=", "(a)b(c)(d)", 1, 0},
		{"name=([a,b])x", 0, "name", "=", "([a,b])x", 0, 0},
		{"name=a$b", 0, "name", "=", "a$b", 0, 0},
	}
	for _, tt := range tests {
		c, ok := scanClause(tt.q, 0)
		if !ok || c.opens != tt.opens || c.field != tt.field || c.op != tt.op || c.value != tt.value ||
			c.closes != tt.closes || c.sep != tt.sep {
			t.Errorf("scanClause(%q) = %+v, %v", tt.q, c, ok)
		}
	}
}
