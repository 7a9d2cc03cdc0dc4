package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// decode builds the generic value encoding/json would (numbers as
// json.Number), through the scanner's typed readers.
func decode(s *Scanner) (any, error) {
	switch s.Peek() {
	case Object:
		m := map[string]any{}
		err := s.Object(func(key []byte) error {
			k := string(key)
			v, err := decode(s)
			m[k] = v
			return err
		})
		return m, err
	case Array:
		a := []any{}
		err := s.Array(func(int) error {
			v, err := decode(s)
			a = append(a, v)
			return err
		})
		return a, err
	case String:
		return s.Str()
	case Number:
		n, err := s.Number()
		return json.Number(n), err
	case Bool:
		return s.Bool()
	case Null:
		_, err := s.Null()
		return nil, err
	}
	return nil, s.Skip() // the error for what is there
}

func decodeDoc(b []byte) (any, error) {
	s := New(b)
	v, err := decode(s)
	if err == nil {
		err = s.End()
	}
	return v, err
}

func stdDecode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("more data")
	}
	return v, nil
}

func TestValues(t *testing.T) {
	for _, doc := range []string{
		`{"a":1,"b":[true,false,null],"c":{"d":"e"},"f":-0.5e+10}`,
		` [ ] `, `{}`, `"plain"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"`,
		`"lone \ud800 surrogate"`, `"bad pair \ud800\u0041"`, "\"invalid \xff utf-8\"",
		`{"k\u00e9y":"v","key":"w","key":"last"}`, `0`, `-0`, `1E5`, `123456789012345678901234567890`,
		`"a long string with no escape at all, longer than eight bytes: 0123456789abcdef"`,
	} {
		got, err := decodeDoc([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		want, err := stdDecode([]byte(doc))
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", doc, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", doc, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	for doc, want := range map[string]string{
		``:                       "unexpected end of the input at byte 0",
		`{"a":1`:                 "unexpected end of the input at byte 6",
		`{"a":1,}`:               `expected a key in quotes, found '}' at byte 7`,
		`{"a" 1}`:                `expected ':' after an object key, found '1' at byte 5`,
		`[1 2]`:                  `expected ',' or ']' in an array, found '2' at byte 3`,
		`{"a":1 "b":2}`:          `expected ',' or '}' in an object, found '"' at byte 7`,
		`[01]`:                   `expected ',' or ']' in an array, found '1' at byte 2`,
		`[1.]`:                   "no digit after the decimal point",
		`[1e]`:                   "no digit in the exponent",
		`[-]`:                    "invalid number",
		`[tru]`:                  "invalid literal (expected true)",
		`[nul`:                   "unexpected end of the input",
		"[\"a\tb\"]":             "control character in a string",
		`["\x"]`:                 "invalid escape in a string",
		`["\u12g4"]`:             `invalid \u escape`,
		`{} {}`:                  "data after the JSON value at byte 3",
		`[}`:                     "expected a value",
		strings.Repeat("[", 600): "nested more than 512 levels deep",
		`{"a":` + strings.Repeat(`{"b":`, 600) + "1": "nested more than 512 levels deep",
	} {
		_, err := decodeDoc([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: error %v, want %q", doc, err, want)
		}
		// Skip must find the same fault.
		s := New([]byte(doc))
		err2 := s.Skip()
		if err2 == nil {
			err2 = s.End()
		}
		if err2 == nil || !strings.Contains(err2.Error(), want) {
			t.Errorf("%.40q: Skip: %v, want %q", doc, err2, want)
		}
	}
}

func TestEOFIsMarked(t *testing.T) {
	var e *Error
	_, err := decodeDoc([]byte(`{"a":"b`))
	if !errors.As(err, &e) || !e.EOF {
		t.Fatalf("%v: want an EOF error", err)
	}
	_, err = decodeDoc([]byte(`{"a":x}`))
	if !errors.As(err, &e) || e.EOF || e.Offset != 5 {
		t.Fatalf("%v: want a syntax error at byte 5", err)
	}
}

func TestZeroCopy(t *testing.T) {
	doc := []byte(`{"plain":"abc","esc":"a\nb"}`)
	s := New(doc)
	var plain, esc []byte
	err := s.Object(func(key []byte) error {
		v, err := s.StringBytes()
		switch string(key) {
		case "plain":
			plain = v
		case "esc":
			esc = v
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if &plain[0] != &doc[10] {
		t.Error("a plain string was copied")
	}
	if string(esc) != "a\nb" || &esc[0] == &doc[22] {
		t.Errorf("escaped string %q", esc)
	}
}

func TestSkipRawAndMaxDepth(t *testing.T) {
	s := New([]byte(` {"a":[1,{"b":null}]} , `))
	raw, err := s.SkipRaw()
	if err != nil || string(raw) != `{"a":[1,{"b":null}]}` {
		t.Fatalf("%q %v", raw, err)
	}
	s = New([]byte(`[[[1]]]`))
	s.MaxDepth = 2
	if err := s.Skip(); err == nil || !strings.Contains(err.Error(), "nested more than 2") {
		t.Fatalf("MaxDepth 2: %v", err)
	}
	s = New([]byte(`[[1]]`))
	s.MaxDepth = 2
	if err := s.Skip(); err != nil {
		t.Fatalf("MaxDepth 2, depth 2: %v", err)
	}
	// Depth counts the containers a reader is inside.
	s = New([]byte(`[[[1]]]`))
	s.MaxDepth = 2
	err = s.Array(func(int) error { return s.Skip() })
	if err == nil {
		t.Fatal("a skip inside Array was not bounded by the depth already used")
	}
}

func TestTypeChecks(t *testing.T) {
	s := New([]byte(`{"a":1}`))
	if _, err := s.Str(); err == nil || !strings.Contains(err.Error(), "expected a string") {
		t.Errorf("Str on an object: %v", err)
	}
	if k := New([]byte(` -1`)).Peek(); k != Number || k.String() != "number" {
		t.Errorf("Peek: %v", k)
	}
	if ok, err := New([]byte(`1`)).Null(); ok || err != nil {
		t.Errorf("Null on a number: %v %v", ok, err)
	}
	if !Valid([]byte(` {"a":[1,2]} `)) || Valid([]byte(`{"a":[1,2]`)) {
		t.Error("Valid")
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,false,null],"c":{"d":"e\u00e9"}}`, `[1.5e3,-0,"x\\y"]`,
		`"\ud83d\ude00"`, `{"a":}`, `[01]`, "\"\xff\"", `{"a":"b"}x`, `[[[[]]]]`, `  `, `{"\u0061":1,"a":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeDoc(b)
		valid := json.Valid(b)
		var e *Error
		deep := err != nil && errors.As(err, &e) && strings.Contains(e.Msg, "nested more than")
		switch {
		case deep:
			// stricter than encoding/json (10,000 levels) on purpose
		case (err == nil) != valid:
			t.Fatalf("%q: scanner error %v, encoding/json valid %v", b, err, valid)
		case err == nil:
			want, stdErr := stdDecode(b)
			if stdErr != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: got %#v, encoding/json %#v (%v)", b, got, want, stdErr)
			}
		}
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("%q: error %v is not a *Error", b, err)
		}
		// Skip agrees with the full read, and SkipRaw returns the value's bytes.
		s := New(b)
		raw, serr := s.SkipRaw()
		if serr == nil {
			serr = s.End()
		}
		if (serr == nil) != (err == nil) {
			t.Fatalf("%q: Skip %v, full read %v", b, serr, err)
		}
		if serr == nil && !bytes.Equal(bytes.TrimSpace(b), raw) {
			t.Fatalf("%q: SkipRaw %q", b, raw)
		}
	})
}
