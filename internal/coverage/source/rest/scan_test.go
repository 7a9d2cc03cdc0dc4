package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// recordPaths are the record paths the scanner tests and fuzzing use.
var recordPaths = []string{"id", "a.b", "l.0", "l.x", "k.v", "n", `d\.e`}

type scanned struct {
	page    values
	records []values
}

func scan(t testing.TB, data []byte) (*scanned, *trie, error) {
	var pt, rt trie
	if err := pt.addRecords("items"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"meta.total", "next"} {
		if _, err := pt.add(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range recordPaths {
		if _, err := rt.add(p); err != nil {
			t.Fatal(err)
		}
	}
	out := &scanned{page: newValues(len(pt.names))}
	rv := newValues(len(rt.names))
	sc := scanner{b: data, page: &out.page, rec: &rt, recVals: &rv}
	sc.onRecord = func(int) error {
		c := newValues(len(rt.names))
		for i := range rv.vals {
			c.vals[i] = slices.Clone(rv.vals[i])
			c.obj[i] = rv.obj[i]
		}
		out.records = append(out.records, c)
		return nil
	}
	err := sc.document(&pt.root)
	return out, &rt, err
}

func TestScanValues(t *testing.T) {
	doc := `{"meta":{"total":2,"other":[1,{"x":null}]},"items":[
	  {"id":"r1","a":{"b":"x\u00e9\ud83d\ude00"},"l":[{"x":"l0"},{"x":["l1a","l1b"]},"s"],"k.v":"whole","n":12.5e-1,"d.e":true},
	  {"id":7,"a":[{"b":"b1"},{"b":"b2"}],"l":["first"],"k":{"v":"split"},"n":null,"a2":"ignored"}
	],"next":"c2"}`
	got, _, err := scan(t, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.records) != 2 {
		t.Fatalf("%d records", len(got.records))
	}
	want := [][]string{
		{"r1", "xé😀", "", "l0 l1a l1b", "whole", "12.5e-1", "true"},
		{"7", "b1 b2", "first", "", "split", "", ""},
	}
	for i, r := range got.records {
		for slot, p := range recordPaths {
			if g := strings.Join(r.vals[slot], " "); g != want[i][slot] {
				t.Errorf("record %d, %s: %q, want %q", i+1, p, g, want[i][slot])
			}
		}
	}
	if got.records[0].obj[2] != "x" {
		t.Errorf("l.0 reached an object; obj %q", got.records[0].obj[2])
	}
	if strings.Join(got.page.vals[0], "") != "2" || strings.Join(got.page.vals[1], "") != "c2" {
		t.Errorf("page values %v", got.page.vals)
	}
}

func TestScanErrors(t *testing.T) {
	for doc, want := range map[string]string{
		``:                                   "ends early",
		`{"items":[{"id":1}`:                 "ends early",
		`{"items":[{"id":"a\q"}]}`:           "invalid escape",
		`{"items":[{"id":"a` + "\n" + `"}]}`: "control character",
		`{"x":[01]}`:                         "expected a comma",
		`{"items":[1.]}`:                     "no digit after the decimal point",
		`{"items":[tru]}`:                    "invalid literal",
		`{"items":[]} x`:                     "more data after the JSON value",
		`{"items":[{"id":1}],}`:              "expected a key",
		strings.Repeat("[", 600):             "nested more than 512",
		`{"items":[[1]]}`:                    "record 1 is an array, not an object",
		`{"a":{"items":[]}}`:                 "", // not an error for the scanner: no records
	} {
		_, _, err := scan(t, []byte(doc))
		switch {
		case want == "" && err != nil:
			t.Errorf("%.40q: %v", doc, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%.40q: err = %v, want %q", doc, err, want)
		}
	}
}

// reference extracts a path's values from a document decoded by
// encoding/json, by the rules the scanner follows.
func reference(v any, segs []string, out []string, obj *bool) []string {
	if len(segs) == 0 {
		switch x := v.(type) {
		case string:
			if x != "" {
				out = append(out, x)
			}
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, strconv.FormatBool(x))
		case []any:
			for _, e := range x {
				out = reference(e, nil, out, obj)
			}
		case map[string]any:
			*obj = true
		}
		return out
	}
	switch x := v.(type) {
	case map[string]any:
		if c, ok := x[segs[0]]; ok {
			out = reference(c, segs[1:], out, obj)
		}
	case []any:
		for i, e := range x {
			out = reference(e, segs, out, obj)
			if segs[0] == strconv.Itoa(i) {
				out = reference(e, segs[1:], out, obj)
			}
		}
	}
	return out
}

// hasDuplicateKeys reports whether an object in the document repeats a key
// (encoding/json keeps the last; the scanner sees both).
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type level struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return false // the end, or invalid JSON (checked elsewhere)
		}
		top := (*level)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true
				}
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return true
			}
			top.keys[k] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &level{})
			continue
		case json.Delim(']'), json.Delim('}'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}

func depth(data []byte) int {
	d, m := 0, 0
	in, esc := false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case !in && (c == '{' || c == '['):
			d++
			m = max(m, d)
		case !in && (c == '}' || c == ']'):
			d--
		}
	}
	return m
}

// FuzzScan checks the page decoder against encoding/json: it accepts
// exactly the valid documents, never panics, and extracts the values the
// reference extraction finds.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		`{"meta":{"total":2},"items":[{"id":"r1","a":{"b":"x"},"l":[{"x":"l0"},"s"],"k.v":"w","n":1}],"next":null}`,
		`{"items":[{"id":"\ud800\u0041","a":[{"b":[1,[2,true]]}],"l":[[["deep"]]],"k":{"v":{"z":1}}}]}`,
		`{"items":[{"id":"\u00e9\ufffd","d.e":"x","l":{"0":"zero","x":"ex"}}]}`,
		`{"items":null}`, `[]`, `{"items":[{}]}`, `{"items":[{"id":"a","id":"b"}]}`,
		"{\"items\":[{\"id\":\"\xff\xfe\"}]}", `{"items":[{"id":-0.5E+3}]}`, `{"items":[1,2]}`, `{"items":[{"id":1}`, `<html>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, rt, err := scan(t, data)
		var se *syntaxError
		isSyntax := errors.As(err, &se) || errors.Is(err, errTruncated)
		valid := json.Valid(data)
		if isSyntax && valid && !strings.Contains(err.Error(), "nested more than") {
			t.Fatalf("valid JSON refused: %v", err)
		}
		if !isSyntax && !valid && !strings.Contains(fmt.Sprint(err), "record ") && !strings.Contains(fmt.Sprint(err), "records:") {
			t.Fatalf("invalid JSON accepted (err %v)", err)
		}
		if err != nil || !valid || depth(data) > 400 || hasDuplicateKeys(data) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		top, _ := doc.(map[string]any)
		items, _ := top["items"].([]any)
		if len(items) != len(got.records) {
			t.Fatalf("%d records, encoding/json sees %d", len(got.records), len(items))
		}
		for i, it := range items {
			for slot, p := range rt.names {
				segs, _ := parsePath(p)
				var obj bool
				want := reference(it, segs, nil, &obj)
				if len(segs) > 1 && !strings.Contains(p, `\`) {
					want = reference(it, []string{p}, want, &obj)
				}
				g := got.records[i].vals[slot]
				slices.Sort(g)
				slices.Sort(want)
				if !slices.Equal(g, want) || obj != (got.records[i].obj[slot] != "") {
					t.Fatalf("record %d, %s: %q (object %v), encoding/json: %q (object %v)", i, p, g, got.records[i].obj[slot] != "", want, obj)
				}
			}
		}
	})
}
