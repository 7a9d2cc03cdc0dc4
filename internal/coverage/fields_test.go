package coverage

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

// TestFieldsAreTheMapsJSON: the held form is byte for byte what
// encoding/json writes for the same map, so reports did not change.
func TestFieldsAreTheMapsJSON(t *testing.T) {
	m := map[string]string{"status": "active", "name": `<web&"01">`, "os.name": "Ubuntu", "z": "\u2028é\x01", "empty": ""}
	want, _ := json.Marshal(m)
	if got := FieldsOf(m); got.JSON() != string(want) {
		t.Errorf("FieldsOf = %s, want %s", got, want)
	}
	if got := FieldsOf(m).Map(); !maps.Equal(got, m) {
		t.Errorf("Map = %v, want %v", got, m)
	}
	if FieldsOf(nil) != "" || Fields("").Map() != nil {
		t.Error("no fields must be the empty string and a nil map")
	}
}

func TestFieldsBuilderSetReplacesAndResets(t *testing.T) {
	var b FieldsBuilder
	b.Set("b", "1")
	b.SetNonEmpty("a", "")
	b.Set("a", "2")
	b.Set("b", "3")
	if got := b.Build(); got.JSON() != `{"a":"2","b":"3"}` {
		t.Errorf("Build = %s", got)
	}
	if got := b.Build(); got != "" {
		t.Errorf("a second Build = %q, want none", got)
	}
	for i := range 40 { // past the inline array
		b.Set(string(rune('A'+i)), "v")
	}
	if n := len(b.Build().Map()); n != 40 {
		t.Errorf("%d fields, want 40", n)
	}
	if v, ok := FieldsOf(map[string]string{"k": "v"}).Get("k"); !ok || v != "v" {
		t.Errorf("Get = %q %v", v, ok)
	}
}

// TestFieldsInAReport: omitted when empty, an object when set, read back.
func TestFieldsInAReport(t *testing.T) {
	out, _ := json.Marshal(Record{ID: "1"})
	var raw map[string]any
	_ = json.Unmarshal(out, &raw)
	if _, ok := raw["fields"]; ok {
		t.Errorf("empty fields written: %s", out)
	}
	r := Record{ID: "1", Fields: FieldsOf(map[string]string{"a": "b"})}
	out, _ = json.Marshal(Evidence{&r})
	var back struct{ Fields Fields }
	if err := json.Unmarshal(out, &back); err != nil || back.Fields != r.Fields {
		t.Errorf("evidence %s read back as %q (%v)", out, back.Fields, err)
	}
}

func FuzzFieldsOf(f *testing.F) {
	f.Add("name", "web-01", "ip", "10.0.0.1")
	f.Add("a<b", "\xff\xfe", "", "\u2029")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		m := map[string]string{k1: v1, k2: v2}
		want, _ := json.Marshal(m)
		got := FieldsOf(m)
		if got.JSON() != string(want) {
			t.Fatalf("FieldsOf = %s, want %s", got, want)
		}
		if !json.Valid([]byte(got.JSON())) {
			t.Fatalf("invalid JSON %q", got)
		}
		if back := got.Map(); !maps.Equal(back, map[string]string(json2map(want))) {
			t.Fatalf("Map = %q, want the map of %s", back, want)
		}
	})
}

// json2map reads what encoding/json wrote for a map (invalid UTF-8 comes
// back replaced, as Map gives it).
func json2map(b []byte) map[string]string {
	var m map[string]string
	_ = json.Unmarshal(b, &m)
	return m
}

// TestFieldsShareTheirNames: records naming the same fields hold the names
// once, and a full shape table falls back to the JSON text, which reads
// and writes the same.
func TestFieldsShareTheirNames(t *testing.T) {
	a := FieldsOf(map[string]string{"hostname": "web-01", "lastKeepAlive": "2026-12-07T10:00:00Z"})
	b := FieldsOf(map[string]string{"hostname": "web-02", "lastKeepAlive": "2026-12-07T10:00:01Z"})
	if strings.Contains(string(a), "hostname") || a[0] != compactTag || a[:2] != b[:2] {
		t.Errorf("not held by shape: %q, %q", a, b)
	}
	var builder FieldsBuilder
	var last Fields
	for i := range maxShapes + 2 {
		builder.Set("k", "v")
		builder.Set(strings.Repeat("x", i+1), `<"q">`)
		last = builder.Build()
	}
	want := `{"k":"v","` + strings.Repeat("x", maxShapes+2) + `":"\u003c\"q\"\u003e"}`
	if last[0] != '{' || last.JSON() != want {
		t.Errorf("past the table: %.40q..., JSON %.60s...", last, last.JSON())
	}
	if v, ok := last.Get("k"); !ok || v != "v" {
		t.Errorf("Get past the table = %q %v", v, ok)
	}
	if a.JSON() != `{"hostname":"web-01","lastKeepAlive":"2026-12-07T10:00:00Z"}` {
		t.Errorf("JSON = %s", a.JSON())
	}
}
