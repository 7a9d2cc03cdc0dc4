package pyjson

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// AppendString against Python's json.dumps (ensure_ascii) and Go's decoder.
func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		`a"b\c`:     `"a\"b\\c"`,
		"tab\there": `"tab\there"`,
		"\b\f\n\r":  `"\b\f\n\r"`,
		"é€😀":       `"\u00e9\u20ac\ud83d\ude00"`,
		"\x01\x7f":  `"\u0001\u007f"`,
		"<a&b>/":    `"<a&b>/"`,
		"":          `""`,
	} {
		got := string(AppendString(nil, in))
		if got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || back != in {
			t.Errorf("%q does not decode back: %q %v", in, back, err)
		}
	}
	if got := string(AppendString(nil, "a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("invalid UTF-8: %s", got)
	}
}

func TestAppendFloat(t *testing.T) {
	// Expected strings are CPython's repr() of the same doubles.
	cases := map[float64]string{
		0: "0.0", 1: "1.0", -1.5: "-1.5", 1e16: "1e+16",
		9999999999999998: "9999999999999998.0", 1e-4: "0.0001", 1e-5: "1e-05", 123456.789e3: "123456789.0",
		5e-324: "5e-324", 1.7976931348623157e308: "1.7976931348623157e+308",
		0.30000000000000004: "0.30000000000000004", 1e100: "1e+100", 2.5e-100: "2.5e-100", -0.00012: "-0.00012",
		math.Inf(1): "Infinity", math.Inf(-1): "-Infinity",
	}
	for f, want := range cases {
		if got := string(AppendFloat(nil, f)); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	if got := string(AppendFloat(nil, math.Copysign(0, -1))); got != "-0.0" {
		t.Errorf("AppendFloat(-0) = %s", got)
	}
	if got := string(AppendFloat(nil, math.NaN())); got != "NaN" {
		t.Errorf("AppendFloat(NaN) = %s", got)
	}
}

// Parse and Dumps round-trip as json.dumps(json.loads(...)) does.
func TestParseDumps(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":1,"a":[true,false,null],"c":{"d":"e"}}`: `{"b": 1, "a": [true, false, null], "c": {"d": "e"}}`,
		`{"a":1,"b":2,"a":3}`:                         `{"a": 3, "b": 2}`,
		`[1.0, 1.50, 2E3, -0, -0.0, 1e16, 1e15, 123456789012345678, 0.0001, 0.00001, 1.5e-7, 12345678901234567.0]`: `[1.0, 1.5, 2000.0, 0, -0.0, 1e+16, 1000000000000000.0, 123456789012345678, 0.0001, 1e-05, 1.5e-07, 1.2345678901234568e+16]`,
		`[1e400, -1e400, 5e-324]`:              `[Infinity, -Infinity, 5e-324]`,
		`"ñ\u00e9\ud83d\ude00\"\\\n\t\u0001/"`: `"\u00f1\u00e9\ud83d\ude00\"\\\n\t\u0001/"`,
		`"<>&\u007f"`:                          `"<>&\u007f"`, // json.dumps escapes DEL too
	} {
		v, err := Parse([]byte(in), 0)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := string(v.Dumps()); got != want {
			t.Errorf("%s:\n got %s\nwant %s", in, got, want)
		}
	}
	for _, bad := range []string{`{"a":1} x`, `{"a":}`, ``, `[1,]`} {
		if _, err := Parse([]byte(bad), 0); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseIntDigits(t *testing.T) {
	long := "1" + strings.Repeat("0", 4300)
	if _, err := Parse([]byte(long), 4300); err == nil {
		t.Error("a 4301-digit integer accepted with a limit of 4300")
	}
	if _, err := Parse([]byte("-"+strings.Repeat("9", 4300)), 4300); err != nil {
		t.Errorf("a 4300-digit integer refused: %v", err)
	}
	if v, err := Parse([]byte(long), 0); err != nil || string(v.Dumps()) != long {
		t.Errorf("no limit: %v", err)
	}
	if _, err := Parse([]byte(long+".5"), 4300); err != nil {
		t.Errorf("a long float refused: %v", err)
	}
}
