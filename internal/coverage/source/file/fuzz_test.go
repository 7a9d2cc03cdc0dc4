package file

import (
	"bytes"
	"context"
	"io"
	"testing"
	"unicode/utf8"

	"github.com/muster-project/muster/internal/coverage"
)

// fuzzSource maps every field, so every mapping path is exercised.
func fuzzSource(format string) *Source {
	s := &Source{name: "fz", path: "fuzz." + format, format: format, comma: ',', maxBytes: DefaultMaxBytes, stateMapped: true,
		healthy: map[string]bool{"active": true}}
	for f, name := range []string{"id", "host", "serial", "mac", "ip", "os", "groups", "seen", "state"} {
		s.cols[f] = column{names: []string{name}}
	}
	s.cols[fMAC].names = append(s.cols[fMAC].names, "nics.mac")
	return s
}

func checkRecords(t *testing.T, recs []coverage.Record) {
	t.Helper()
	for _, r := range recs {
		if r.ID == "" {
			t.Fatalf("record without an ID: %+v", r)
		}
		for _, v := range append(append(append([]string{}, r.MACs...), r.IPs...), r.Groups...) {
			if v == "" {
				t.Fatalf("empty value in %+v", r)
			}
		}
	}
}

func FuzzCSV(f *testing.F) {
	for _, seed := range []string{
		"host,serial,mac\nweb,S1,00:11:22:33:44:55\n",
		"\xef\xbb\xbfid;host\n1;a\n",
		"host,seen,state\n\"a\nb\",2025-11-27,active\n,,\nc,1764237600,down\n",
		"host,mac\nx,\"a|b;c d\"\ny\n",
		"<html>",
		"host\n\"unterminated\n",
	} {
		f.Add([]byte(seed), byte(','))
	}
	f.Fuzz(func(t *testing.T, data []byte, delim byte) {
		s := fuzzSource("csv")
		if r, err := parseDelimiter(string(rune(delim))); err == nil && delim < utf8.RuneSelf {
			s.comma = r
		}
		recs, err := s.readCSV(context.Background(), bytes.NewReader(data), func(int, int) {})
		if err == nil {
			checkRecords(t, recs)
		}
	})
}

func FuzzJSON(f *testing.F) {
	for _, seed := range []string{
		`[{"host": "a", "mac": ["00:11:22:33:44:55"], "seen": 1764237600}]`,
		`{"data": {"devices": [{"host": "b", "nics": [{"mac": "x"}]}]}}`,
		"{\"host\": \"a\"}\n{\"host\": \"b\"}\n",
		`{"host": "solo", "state": {"value": "active"}}`,
		`[{"host": "a"}, {"host": "b`,
		`[1, "x", null]`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, nested bool) {
		s := fuzzSource("json")
		if nested {
			s.records = []string{"data", "devices"}
		}
		reopen := func() (io.Reader, error) { return bytes.NewReader(data), nil }
		recs, err := s.readJSON(context.Background(), bytes.NewReader(data), reopen, func(int, int) {})
		if err == nil {
			checkRecords(t, recs)
		}
	})
}
