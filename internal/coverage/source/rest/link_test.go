package rest

import (
	"strings"
	"testing"
)

func TestNextLink(t *testing.T) {
	for _, tc := range []struct {
		fields []string
		want   string
		bad    bool
	}{
		// GitHub's example, from "Using pagination in the REST API"
		{[]string{`<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", <https://api.github.com/repositories/1300192/issues?page=4>; rel="next", <https://api.github.com/repositories/1300192/issues?page=515>; rel="last", <https://api.github.com/repositories/1300192/issues?page=1>; rel="first"`},
			"https://api.github.com/repositories/1300192/issues?page=4", false},
		{[]string{`</a?x=1,2>; rel=prev`, `</b>; title="a, b; c"; REL="Next last"`}, "/b", false}, // commas inside <> and quotes; case
		{[]string{`<http://e/x>; rel="nextpage"`}, "", false},
		{[]string{`<http://e/x>; rel="prev"; rel="next"`}, "", false}, // only the first rel counts
		{[]string{`<http://e/x>; rel="next\"s"`}, "", false},
		{nil, "", false},
		{[]string{`http://e/x; rel=next`}, "", true},
		{[]string{`<http://e/x; rel=next`}, "", true},
		{[]string{`<http://e/x> rel=next`}, "", true},
		{[]string{`<http://e/x>; rel="next`}, "", true},
	} {
		got, err := nextLink(tc.fields)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("nextLink(%q) = %q, %v", tc.fields, got, err)
		}
	}
}

func FuzzNextLink(f *testing.F) {
	for _, s := range []string{`<https://h/p?page=2>; rel="next"`, `</b>; title="a, b"; rel="prev next"`, `<x>;rel=next,<y>`, `<`, `<a>;;`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got, err := nextLink([]string{h})
		if err == nil && got != "" && !strings.Contains(h, "<"+got) && !strings.Contains(h, got+">") {
			t.Fatalf("%q: target %q is not a <reference> of the header", h, got)
		}
	})
}

func TestParsePath(t *testing.T) {
	for p, want := range map[string]string{"a.b.c": "a|b|c", `@odata\.nextLink`: "@odata.nextLink", "x.0.y": "x|0|y", `a\\.b`: `a\|b`} {
		segs, err := parsePath(p)
		if err != nil || strings.Join(segs, "|") != want {
			t.Errorf("parsePath(%q) = %q, %v", p, segs, err)
		}
	}
	for _, p := range []string{"", ".a", "a.", "a..b", " a"} {
		if _, err := parsePath(p); err == nil {
			t.Errorf("parsePath(%q) accepted", p)
		}
	}
}
